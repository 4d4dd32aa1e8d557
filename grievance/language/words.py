"""Reading what workers type: yes and no in any deployment language, a number at the start
of a sentence, watched phrases (danger, retaliation), a phone number, and whether a
message is a story rather than an answer. Pure and table-driven; the tables come from the
catalogs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from grievance.language.digits import to_ascii_digits

# Scripts written without spaces between words: a phrase matches anywhere in the text.
# Elsewhere it must start a word; it may run on, because endings and postpositions are
# written onto words ("खतरामा", in danger; "locked"): catalogs list stems.
_UNSPACED = ("THAI", "LAO", "MYANMAR", "KHMER", "CJK", "HIRAGANA", "KATAKANA")
# A message this long (in words, or characters for unspaced scripts) that answers no
# question is part of the worker's story, not a failed answer.
STORY_WORDS = 5
STORY_CHARS = 30
# What may follow the number of an answer before the words: spaces and punctuation of many
# scripts (Arabic comma, Devanagari danda, Burmese section mark, ideographic comma).
_SEPARATORS = " \t\u00a0,.;:)-\u060c\u061b\u0964\u0965\u104a\u104b\u3001\uff0c"
_PHONE = re.compile(r"\+?[\d][\d\s().\-]{5,}\d")


def fold(text: str) -> str:
    """Text as compared: NFC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _wordlike(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def _unspaced(phrase: str) -> bool:
    for ch in phrase:
        if _wordlike(ch):
            name = unicodedata.name(ch, "")
            return any(name.startswith(script) for script in _UNSPACED)
    return False


def _is_edge_noise(ch: str) -> bool:
    # Punctuation, symbols and spaces; never letters or combining marks (the
    # vowel signs of Devanagari and Burmese are marks, and "हो" must stay "हो").
    return unicodedata.category(ch)[0] in "PSZC"


def strip_edges(text: str) -> str:
    """``text`` without punctuation, symbols and spaces at either end; an answer that is
    only symbols ("👍", "?") is kept as it is, trimmed."""
    start, end = 0, len(text)
    while start < end and _is_edge_noise(text[start]):
        start += 1
    while end > start and _is_edge_noise(text[end - 1]):
        end -= 1
    return text[start:end] or text.strip()


def contains_phrase(text: str, phrase: str) -> bool:
    """True when folded ``text`` holds folded ``phrase`` at the start of a word (or anywhere,
    in a script written without spaces)."""
    if not phrase:
        return False
    if _unspaced(phrase):
        return phrase in text
    start = text.find(phrase)
    while start != -1:
        if start == 0 or not _wordlike(text[start - 1]):
            return True
        start = text.find(phrase, start + 1)
    return False


@dataclass(frozen=True)
class PhraseList:
    """Phrases of one kind from several catalogs, folded and indexed once.

    Every message is matched against every catalog's phrases, so matching is by index:
    at each word start of the text, only the phrases that begin with its first two
    characters are tried; phrases of scripts without spaces are searched only when the
    text holds a character of theirs.
    """

    phrases: tuple[str, ...]
    _by_start: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _unspaced: tuple[str, ...] = field(default=(), repr=False)
    _unspaced_chars: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def of(cls, lists: Iterable[Iterable[str]]) -> PhraseList:
        """Every phrase of ``lists``, folded, longest first, without repeats."""
        folded = {fold(p) for words in lists for p in words if fold(p)}
        phrases = tuple(sorted(folded, key=lambda p: (-len(p), p)))
        by_start: dict[str, list[str]] = {}
        unspaced = []
        for phrase in phrases:
            if _unspaced(phrase):
                unspaced.append(phrase)
            else:
                by_start.setdefault(phrase[:2], []).append(phrase)
        return cls(
            phrases,
            {key: tuple(found) for key, found in by_start.items()},
            tuple(unspaced),
            frozenset(ch for phrase in unspaced for ch in phrase if _wordlike(ch)),
        )

    def match(self, text: str) -> str | None:
        """A phrase found in ``text`` (at the start of a word, or anywhere for scripts
        without spaces), or None."""
        folded = fold(text)
        previous_wordlike = False
        for i, ch in enumerate(folded):
            wordlike = _wordlike(ch)
            if wordlike and not previous_wordlike:
                for key in (folded[i : i + 2], ch):
                    for phrase in self._by_start.get(key, ()):
                        if folded.startswith(phrase, i):
                            return phrase
            previous_wordlike = wordlike
        if self._unspaced and not self._unspaced_chars.isdisjoint(folded):
            return next((p for p in self._unspaced if p in folded), None)
        return None


# A yes/no word from a catalog the line does not serve counts only if it is this long:
# "y", "s" or "n" of a language nobody chose is too thin to act on.
FAR_WORD = 2


@dataclass(frozen=True)
class YesNo:
    """Yes and no words in three tiers: the worker's own language; then any language of
    the deployment where the word means one thing only ("si", "ya", "हाँ", "ho"); then any
    language the project has a catalog for, for words of two letters or more ("haan" on a
    line that serves only English and Nepali). A word that means yes in one language and no
    in another is settled by the worker's language, or not at all."""

    own: Mapping[str, Mapping[str, str]]
    shared: Mapping[str, str]
    far: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        words: Mapping[str, tuple[Iterable[str], Iterable[str]]],
        deployed: Iterable[str] | None = None,
    ) -> YesNo:
        """``words`` maps a language to its (yes words, no words); ``deployed`` (default:
        all of them) are the languages the line serves."""
        serving = set(words) if deployed is None else set(deployed)
        own: dict[str, dict[str, str]] = {}
        meanings: dict[str, set[str]] = {}
        far_meanings: dict[str, set[str]] = {}
        for language, (yes, no) in words.items():
            table = own.setdefault(language, {})
            for answer, listed in (("yes", yes), ("no", no)):
                for word in listed:
                    folded = fold(word)
                    table.setdefault(folded, answer)
                    far_meanings.setdefault(folded, set()).add(answer)
                    if language in serving:
                        meanings.setdefault(folded, set()).add(answer)
        shared = {w: next(iter(m)) for w, m in meanings.items() if len(m) == 1}
        far = {
            w: next(iter(m))
            for w, m in far_meanings.items()
            if len(m) == 1 and w not in meanings and len(w) >= FAR_WORD
        }
        return cls(own, shared, far)

    def meaning(self, word: str, language: str | None) -> str | None:
        """What folded ``word`` answers for a worker writing ``language``."""
        return (
            self.own.get(language or "", {}).get(word)
            or self.shared.get(word)
            or self.far.get(word)
        )

    def collisions(self) -> dict[str, tuple[set[str], set[str]]]:
        """Words that are yes in some catalogs and no in others: word → (yes-languages,
        no-languages)."""
        found: dict[str, tuple[set[str], set[str]]] = {}
        for language, table in self.own.items():
            for word, answer in table.items():
                yes, no = found.setdefault(word, (set(), set()))
                (yes if answer == "yes" else no).add(language)
        return {w: (y, n) for w, (y, n) in found.items() if y and n}

    def answer(self, text: str, language: str | None, clear_no: bool = False) -> str | None:
        """Yes, no or None for ``text``: 1 or 2, a yes/no word, or a sentence that starts
        with one ("yes, they took it", "2 no").

        With ``clear_no`` a "no" counts only as the whole answer: "no idea" or "لا أعرف" (I
        don't know) starts with a no-word but is not "no, I am not in danger".
        """
        core = strip_edges(to_ascii_digits(text))
        number = core if core.isdigit() else leading_number(text)
        if number in ("1", "2"):
            return "yes" if number == "1" else "no"
        whole = fold(strip_edges(text))
        first = fold(strip_edges(re.split(r"[\s,.!?;:\u060c]+", text.strip(), maxsplit=1)[0]))
        for candidate in dict.fromkeys((whole, first)):
            if not candidate:
                continue
            found = self.meaning(candidate, language)
            if found == "no" and clear_no and candidate != whole:
                return None
            if found:
                return found
        return None

    def is_bare(self, text: str) -> bool:
        """True when ``text`` is only a yes/no word of any deployment language."""
        whole = fold(strip_edges(text))
        return any(whole in table for table in self.own.values())


def leading_number(text: str) -> str | None:
    """The number (one or two digits, any script) a sentence starts with: "2, I need help",
    "٢، أحتاج مساعدة", "၂။ ကူညီပါ". Not "2nd" or "20kg": a letter right after is a word."""
    converted = to_ascii_digits(text).lstrip()
    end = 0
    while end < len(converted) and converted[end].isascii() and converted[end].isdigit():
        end += 1
    if not 1 <= end <= 2 or end == len(converted) or _wordlike(converted[end]):
        return None
    return converted[:end] if converted[end:].strip(_SEPARATORS) else None


def bare_number(text: str) -> bool:
    """True when ``text`` is only a short number, like a menu answer ("2", "٣.")."""
    stripped = to_ascii_digits(text).strip(" .)-\u00a0")
    return stripped.isascii() and stripped.isdigit() and len(stripped) <= 2


def phone_number(text: str) -> str | None:
    """The phone number in ``text`` (7 to 15 digits, any script, + kept), or None."""
    match = _PHONE.search(to_ascii_digits(text))
    if match is None:
        return None
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if raw.startswith("+") else "") + digits


def story_like(text: str) -> bool:
    """True when ``text`` reads as something the worker is telling, not a short answer."""
    words = [w for w in text.split() if any(_wordlike(ch) for ch in w)]
    if len(words) >= STORY_WORDS:
        return True
    letters = sum(1 for ch in text if _wordlike(ch))
    return letters >= STORY_CHARS and _unspaced(text)


def excerpt(text: str, length: int = 40) -> str:
    """The start of ``text`` for showing it back, cut at a word where possible."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    cut = flat[:length]
    if " " in cut[length // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"
