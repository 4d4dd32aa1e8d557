"""Sentences filled on a call, played from recorded pieces.

A recorded prompt says one fixed sentence. A sentence filled on the call ("Your report of 9
December: a case handler has it.") cannot be recorded whole, and in a language without a
Twilio voice (Nepali, Burmese, Sinhala, Amharic...) nothing can read it either. So it is
cut into pieces that can each be recorded once:

- the sentence's own words between its parameters, ``<key>.part<i>`` (the i-th stretch of
  words of the message's voice wording, counted from 1);
- a parameter that is itself a catalog message (a case's stage, a menu option's label): that
  message's recording;
- a number (a key pressed, a day, a year, a digit of the case code): ``voice.number.<n>``;
- a month: ``voice.month.<m>``, 1 to 12; a date is its day, month and (another year's)
  year, in the order the language says them (CLDR, through Babel).

A sentence is played from its pieces only when every piece has a recording; otherwise it is
read whole, as before. Stretches of punctuation alone ("", ": ") are not pieces. Pure: what
is recorded is for the caller to ask.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from grievance.language.dates import is_date_param, spoken_day

NUMBER = "voice.number"
MONTH = "voice.month"
# Numbers a call can say from recordings: a key, a digit of a code, a day of the month.
NUMBERS = range(0, 32)


@dataclass(frozen=True)
class Piece:
    """One recording of a filled sentence: its name, and the words it says (read aloud
    where it is not recorded, and what a draft is made from)."""

    name: str
    text: str


def parts(key: str, template: str) -> list[Piece | str]:
    """The message's voice wording as pieces of words and parameter names, in order."""
    found: list[Piece | str] = []
    stretch = 0
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if literal:
            stretch += 1
            if any(ch.isalnum() for ch in literal):
                found.append(Piece(f"{key}.part{stretch}", literal.strip()))
        if name is not None:
            found.append(name)
    return found


def fixed_parts(key: str, template: str) -> list[Piece]:
    """The pieces of words of a message with parameters: what is recorded for it."""
    return [item for item in parts(key, template) if isinstance(item, Piece)]


def compose(key: str, template: str, values: Mapping[str, Sequence[Piece]]) -> list[Piece] | None:
    """Message ``key`` (its voice wording ``template``) filled with ``values``, as the pieces
    to play in turn; None when a parameter has no pieces (words that change from call to
    call: read the sentence whole)."""
    played: list[Piece] = []
    for item in parts(key, template):
        if isinstance(item, Piece):
            played.append(item)
            continue
        value = values.get(item)
        if value is None:
            return None
        played += value
    return played


def number(n: int) -> list[Piece]:
    """A number said from its recording."""
    return [Piece(f"{NUMBER}.{n}", str(n))]


def month(m: int, name: str) -> list[Piece]:
    """A month said from its recording; ``name`` is the language's word for it."""
    return [Piece(f"{MONTH}.{m}", name)]


def day(value: str, locale: str, month_names: Mapping[int, str], today: date | None) -> list[Piece]:
    """An ISO day as its pieces (day, month, another year's year) in the locale's order;
    nothing when ``value`` is not a date."""
    said = spoken_day(value, locale, today)
    if said is None:
        return []
    pieces: list[Piece] = []
    for part, n in said:
        pieces += month(n, month_names.get(n, str(n))) if part == "month" else number(n)
    return pieces


def value(name: str, text: str, *, key: str | None = None) -> list[Piece] | None:
    """A parameter's pieces when they do not depend on the language: a catalog message
    (``key``) said from its recording, or a small number. None otherwise (dates need the
    language: :func:`day`)."""
    if key is not None:
        return [Piece(key, text)]
    if text.isdigit() and int(text) in NUMBERS and not is_date_param(name):
        return number(int(text))
    return None


def years(today: date) -> list[int]:
    """The years a date on a call may carry besides this one: last year's and next year's
    days (a stage late since December, a step due in January)."""
    return [today.year - 1, today.year + 1, today.year + 2]
