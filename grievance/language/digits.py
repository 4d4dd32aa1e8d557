"""Native digits: menu answers and case codes work in every script.

Unicode gives every decimal digit (Devanagari ०, Burmese ၀, Bengali ০, Khmer ០,
Thai ๐, Arabic-Indic ٠, Eastern Arabic-Indic ۰, fullwidth ０, ...) a decimal
value, so one table-free conversion covers every script a keypad can type.
"""

from __future__ import annotations

import unicodedata


def to_ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit in ``text`` by its ASCII digit."""
    out = []
    for ch in text:
        if ch.isdecimal() and not ch.isascii():
            out.append(str(unicodedata.decimal(ch)))
        else:
            out.append(ch)
    return "".join(out)


def only_digits(text: str, ignore: str = " -.\u00a0") -> str | None:
    """Return the ASCII digits of ``text`` if it holds nothing but digits and ``ignore``."""
    converted = to_ascii_digits(text.strip())
    kept = [ch for ch in converted if ch not in ignore]
    if kept and all(ch.isascii() and ch.isdigit() for ch in kept):
        return "".join(kept)
    return None
