"""Count SMS segments the way carriers and Twilio do.

GSM-7 carries 160 characters in one segment and 153 per segment when split;
characters of the extension table (``^{}\\[~]|€`` and form feed) take two
septets. One character outside GSM-7 turns the whole message into UCS-2: 70
code units in one segment, 67 per segment when split. UCS-2 counts UTF-16
code units, so an emoji outside the BMP costs two.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


@dataclass(frozen=True)
class SegmentCount:
    """How a message will be split: its encoding, units used, and segments."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` fits the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Return the encoding and number of SMS segments ``text`` needs."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0)
    return SegmentCount(encoding, units, -(-units // multi))


def keep_gsm7(value: str, template: str) -> str:
    """``value``, to be filled into ``template``, without the accents that would turn a GSM-7
    message into UCS-2 ("7 días" into a Spanish SMS written as "7 dias"): twice the segments
    for one letter. Left as it is when the template is UCS-2 anyway or nothing would help."""
    if not is_gsm7(template) or is_gsm7(value):
        return value
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch)
    )
    return plain if is_gsm7(plain) else value
