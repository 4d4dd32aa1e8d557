"""Burmese in the legacy Zawgyi encoding: detect it and convert it to Unicode.

Many phones in Myanmar still type Zawgyi, which reuses Unicode's Myanmar code
points for different letters: without conversion, keywords, yes/no words and
stored reports would be garbled. Google's myanmar-tools model says how likely a
text is Zawgyi; python-myanmar converts it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import myanmar.converter  # type: ignore[import-untyped]
from myanmartools import ZawgyiDetector  # type: ignore[import-untyped]

# Above this probability the text is treated as Zawgyi (the detector is very
# sure either way on real sentences; short ambiguous strings stay as they are).
THRESHOLD = 0.95


@cache
def _detector() -> Any:
    return ZawgyiDetector()


def has_myanmar(text: str) -> bool:
    """True when ``text`` has characters of the Myanmar block."""
    return any("\u1000" <= ch <= "\u109f" for ch in text)


def zawgyi_probability(text: str) -> float:
    """How likely ``text`` is Zawgyi-encoded Burmese (0 when it has no Burmese letters)."""
    if not has_myanmar(text):
        return 0.0
    return float(_detector().get_zawgyi_probability(text))


def to_unicode(text: str) -> tuple[str, bool]:
    """``text`` in Unicode, and whether it was converted from Zawgyi."""
    if zawgyi_probability(text) < THRESHOLD:
        return text, False
    return str(myanmar.converter.convert(text, "zawgyi", "unicode")), True


def to_zawgyi(text: str) -> str:
    """``text`` (Unicode) with its Burmese written in Zawgyi, for a worker whose phone types
    and shows Zawgyi; other scripts, digits and codes are left as they are."""
    if not has_myanmar(text):
        return text
    return str(myanmar.converter.convert(text, "unicode", "zawgyi"))


def script_of(text: str, converted: bool) -> str | None:
    """What a worker's message says about the Burmese encoding their phone uses: "zawgyi"
    when it was converted from Zawgyi, "unicode" when it has Burmese letters in Unicode, or
    None when it says nothing (no Burmese letters)."""
    if converted:
        return "zawgyi"
    return "unicode" if has_myanmar(text) else None
