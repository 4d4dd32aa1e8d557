"""Guess a worker's language from a short message, or say honestly that we cannot.

This is script evidence: a message in Burmese letters is Burmese when Burmese
is the only deployment language written that way. Text in a script shared by
several candidates (Devanagari for Nepali and Hindi) or in Latin letters
(English, Malay, romanized Nepali) is only claimed when a word list agrees;
otherwise the answer is ``None`` and the flow asks the worker.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# ISO 15924 script of each language the project knows how to serve.
SCRIPT_OF = {
    "en": "Latn", "es": "Latn", "id": "Latn", "ms": "Latn", "tl": "Latn", "vi": "Latn",
    "ne": "Deva", "hi": "Deva", "bn": "Beng", "ur": "Arab", "ar": "Arab",
    "my": "Mymr", "km": "Khmr", "th": "Thai",
}  # fmt: skip

_RANGES = (
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0x1000, 0x109F, "Mymr"),
    (0xA9E0, 0xA9FF, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"),
    (0x1780, 0x17FF, "Khmr"),
    (0x19E0, 0x19FF, "Khmr"),
    (0x0E00, 0x0E7F, "Thai"),
)

# Short, common English words: enough to tell "hi I need help" from "malai sahayog chahiyo".
_ENGLISH = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "but",
        "can",
        "do",
        "for",
        "from",
        "have",
        "help",
        "hello",
        "hi",
        "how",
        "i",
        "im",
        "i'm",
        "is",
        "it",
        "me",
        "my",
        "need",
        "no",
        "not",
        "of",
        "on",
        "please",
        "problem",
        "report",
        "the",
        "there",
        "they",
        "this",
        "to",
        "want",
        "was",
        "we",
        "what",
        "when",
        "where",
        "who",
        "why",
        "with",
        "work",
        "yes",
        "you",
        "your",
    ]
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True)
class Detection:
    """A detected language (BCP-47) and how sure we are; ``language`` is None when unsure."""

    language: str | None
    confidence: float
    script: str | None = None


def script_of_char(ch: str) -> str | None:
    """The ISO 15924 script of one character, or None for digits, spaces and symbols."""
    code = ord(ch)
    for low, high, script in _RANGES:
        if low <= code <= high:
            return script
    if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
        return "Latn"
    return None


def dominant_script(text: str) -> tuple[str | None, float]:
    """The script most letters of ``text`` are written in, and its share of letters."""
    counts = Counter(s for s in map(script_of_char, text) if s is not None)
    if not counts:
        return None, 0.0
    script, n = counts.most_common(1)[0]
    return script, n / sum(counts.values())


def detect(
    text: str,
    candidates: Sequence[str] | None = None,
    prior: str | None = None,
) -> Detection:
    """Detect the language of ``text`` among ``candidates``; None when not confident."""
    pool = list(candidates) if candidates is not None else list(SCRIPT_OF)
    script, share = dominant_script(text)
    if script is None or share < 0.6:
        return Detection(None, 0.0, script)
    same_script = [lang for lang in pool if SCRIPT_OF.get(lang) == script]
    if prior in same_script:
        return Detection(prior, round(0.6 + 0.35 * share, 2), script)
    if script != "Latn":
        if len(same_script) == 1:
            return Detection(same_script[0], round(0.5 + 0.45 * share, 2), script)
        return Detection(None, 0.3, script)
    if "en" in same_script:
        words = [w.lower() for w in _WORD.findall(text)]
        if words:
            english = sum(w in _ENGLISH for w in words) / len(words)
            if english >= 0.5 and len(words) >= 1:
                return Detection("en", round(0.5 + 0.4 * english, 2), script)
    return Detection(None, 0.2, script)
