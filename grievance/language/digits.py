"""Native digits: menu answers and case codes work in every script.

Unicode gives every decimal digit (Devanagari ०, Burmese ၀, Bengali ০, Khmer ០,
Thai ๐, Arabic-Indic ٠, Eastern Arabic-Indic ۰, fullwidth ０, ...) a decimal
value, so one table-free conversion covers every script a keypad can type.
"""

from __future__ import annotations

import re
import unicodedata

# A keycap emoji is its digit followed by an optional variation selector and the enclosing
# keycap: "1️⃣" is "1" U+FE0F U+20E3, what a phone's emoji keyboard offers for a menu answer.
_KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")


def to_ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit in ``text`` by its ASCII digit, and a keycap
    emoji ("1️⃣") by its digit."""
    if "\u20e3" in text:
        text = _KEYCAP.sub(r"\1", text)
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
