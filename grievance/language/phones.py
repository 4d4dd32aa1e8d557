"""Phone numbers in a worker's words, found wherever and however they are typed.

Workers write numbers in every national style: ``012.345.6789``, ``(012) 345.6789``,
``9841-234-567``, ``+95 9 450 123 456``, in native digits too. Staff pages never show one (a
handler who needs to talk offers a call, and the number given is revealed to the handler on the
case only). A pattern cannot know fifty numbering plans; Google's libphonenumber can, through
the ``phonenumbers`` port: its matcher finds numbers that are *valid* in one of the corridor
countries below, so a wage of 12000 or "7 days" stays readable. Any long run of digits with
spaces or dashes is hidden as well, whatever the plan says.
"""

from __future__ import annotations

from phonenumbers import Leniency, PhoneNumberMatcher

from grievance.language.digits import to_ascii_digits
from grievance.logs import PHONE_RUN

# Countries workers come from and work in, along the corridors the line serves: South and
# Southeast Asia, the Gulf and the Levant, East Africa, East Asia's labour importers.
REGIONS = (
    "MY", "SG", "TH", "ID", "PH", "VN", "KH", "LA", "MM", "NP", "BD", "IN", "PK", "LK",
    "QA", "AE", "SA", "KW", "OM", "BH", "JO", "LB", "ET", "KE", "UG", "TW", "HK", "KR", "JP",
)  # fmt: skip
# Fewer digits than this cannot be a phone number anywhere; the matcher is not run at all.
MIN_DIGITS = 7


def phone_spans(text: str) -> list[tuple[int, int]]:
    """Where phone numbers are in ``text``: sorted, merged (start, end) spans."""
    if sum(ch.isdecimal() for ch in text) < MIN_DIGITS:
        return []
    ascii_text = to_ascii_digits(text)  # one character for one: the spans fit ``text`` too
    spans = [m.span() for m in PHONE_RUN.finditer(ascii_text)]  # as the logs mask them
    for region in REGIONS:
        spans += [(m.start, m.end) for m in PhoneNumberMatcher(ascii_text, region, Leniency.VALID)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def hide_phone_numbers(text: str, mask: str) -> str:
    """``text`` with every phone number in it replaced by ``mask``."""
    for start, end in reversed(phone_spans(text)):
        text = text[:start] + mask + text[end:]
    return text
