"""Dates the worker's way: "9 Dec" in English, "9 दिस॰" in Hindi, from CLDR through Babel.

Messages carry dates as ISO strings (``2026-12-09``) in parameters named ``date`` or ending
in ``_date``; a catalog renders them in its own locale when the message is sent. The year is
shown only when it is not this year. A catalog that asks for native digits (``digits:
native``) gets them: "९ डिसेम्बर". Pure except for today's date, which decides the year.
"""

from __future__ import annotations

import re
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from babel.units import format_unit

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The first decimal digit (zero) of each script a catalog may ask for, by CLDR numbering system.
_ZERO = {
    "deva": "\u0966",
    "beng": "\u09e6",
    "mymr": "\u1040",
    "khmr": "\u17e0",
    "thai": "\u0e50",
    "laoo": "\u0ed0",
    "arab": "\u0660",
    "arabext": "\u06f0",
    "tamldec": "\u0be6",
    "sinh": "\u0de6",
    "ethi": "",  # Ethiopic has no decimal digits: Latin digits stay
}


def is_date_param(name: str) -> bool:
    """Parameters that hold a date to render: ``date`` and ``*_date``."""
    return name == "date" or name.endswith("_date")


def locale_of(name: str) -> Locale | None:
    """The Babel locale for a catalog's ``locale`` (or language code), or None if unknown."""
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None


def _day_in(value: str, locale: str) -> tuple[date, Locale] | None:
    """``value`` as a day, and ``locale`` as Babel's; None when either cannot be read."""
    if not _ISO.match(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    where = locale_of(locale)
    return (day, where) if where is not None else None


def format_day(
    value: str, locale: str, native_digits: bool = False, today: date | None = None
) -> str:
    """``value`` (ISO) as a short day in ``locale``: "9 Dec", or "9 Dec 2027" in another year.
    Anything that is not an ISO date comes back unchanged."""
    parsed = _day_in(value, locale)
    if parsed is None:
        return value
    day, where = parsed
    today = today or date.today()
    skeleton = "MMMd" if day.year == today.year else "yMMMd"
    text = format_skeleton(skeleton, day, locale=where)
    return to_native_digits(text, where) if native_digits else text


def to_native_digits(text: str, locale: Locale) -> str:
    """ASCII digits in ``text`` written in the locale's native numbering system, if it has one."""
    system = locale.other_numbering_systems.get("native", locale.default_numbering_system)
    zero = _ZERO.get(system, "")
    if not zero:
        return text
    base = ord(zero)
    return "".join(chr(base + int(ch)) if "0" <= ch <= "9" else ch for ch in text)


_UNITS = {"h": "duration-hour", "d": "duration-day"}


def format_duration(amount: int, unit: str, locale: str, native_digits: bool = False) -> str | None:
    """``amount`` hours ("h") or days ("d") in ``locale``'s words, pluralized by CLDR ("1 hour",
    "24 घण्टा"); None for other units (working days) or an unknown locale."""
    where = locale_of(locale)
    if unit not in _UNITS or where is None:
        return None
    text = format_unit(amount, _UNITS[unit], locale=where, length="long")
    return to_native_digits(text, where) if native_digits else text


def spoken_day(value: str, locale: str, today: date | None = None) -> list[tuple[str, int]] | None:
    """``value`` (ISO) as the parts a voice says, in ``locale``'s order: ``("day", 9)``,
    ``("month", 12)``, and ``("year", 2027)`` when it is not this year's. A call in a language
    without a synthetic voice plays each part from a recording (a number, a month's name).
    None when ``value`` is not a date or the locale is unknown."""
    parsed = _day_in(value, locale)
    if parsed is None:
        return None
    day, where = parsed
    today = today or date.today()
    skeleton = "MMMMd" if day.year == today.year else "yMMMMd"
    pattern = where.datetime_skeletons.get(skeleton)
    text = re.sub(r"'[^']*'", "", pattern.pattern if pattern is not None else "d MMMM y")
    values = {"d": ("day", day.day), "M": ("month", day.month), "y": ("year", day.year)}
    order = sorted(
        (text.index(letter), part)
        for letter, part in values.items()
        if letter in text and (letter != "y" or skeleton.startswith("y"))
    )
    return [part for _, part in order]
