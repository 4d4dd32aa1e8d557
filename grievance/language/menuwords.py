"""Menu answers in words: "passport", "पासपोर्ट", "gaji", "salario", "pasport".

A menu takes its number; this reads the rest. Each option's label, and the words a catalog
lists for it under ``menu_words``, choose it: first as the whole answer, then inside a
longer one ("they took my passport"), then with one typo ("pasport"). The worker's own
language is tried before every other catalog's. When more than one option fits, the
caller asks which one, showing only those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from grievance.language.catalog import Catalog
from grievance.language.words import contains_phrase, fold, strip_edges

# Shorter words choose an option only as the whole answer: "pay" inside "payment" is fine,
# but "fee" inside "feel" or "ok" inside "okra" is not.
CONTAINED = 4
# Words this long may carry one typo (a letter missing, extra, wrong or two swapped).
FUZZY = 5
# Key of a language in the language menu: its words are its names, in every script.
LANGUAGE = "language:"
ANY = ""  # words that belong to no one language (language names)


@dataclass(frozen=True)
class MenuWords:
    """The words of every option, folded, by option key and then by language."""

    words: Mapping[str, Mapping[str, frozenset[str]]]

    @classmethod
    def of(cls, catalogs: Iterable[Catalog], labels: Iterable[str]) -> MenuWords:
        """Index ``labels`` (option label keys) in ``catalogs``: each label's own text and its
        ``menu_words``; and each catalog's language by its name, code and aliases."""
        words: dict[str, dict[str, set[str]]] = {}

        def add(key: str, language: str, listed: Iterable[str]) -> None:
            table = words.setdefault(key, {}).setdefault(language, set())
            table.update(f for f in (fold(strip_edges(w)) for w in listed) if f)

        wanted = set(labels)
        for catalog in catalogs:
            for key in wanted:
                text = catalog.messages.get(key)
                add(key, catalog.language, [text.sms] if text else [])
                add(key, catalog.language, catalog.menu_words.get(key, ()))
            add(
                LANGUAGE + catalog.language, ANY, [catalog.name, catalog.language, *catalog.aliases]
            )
        return cls({k: {lang: frozenset(ws) for lang, ws in t.items()} for k, t in words.items()})

    def _tiers(self, keys: Sequence[str], language: str) -> list[dict[str, frozenset[str]]]:
        """The words of ``keys`` in the worker's language (and language names), then in all."""
        own = {k: self.words.get(k, {}).get(language, frozenset()) | self._any(k) for k in keys}
        every = {k: frozenset().union(*self.words.get(k, {}).values()) for k in keys}
        return [own, every]

    def _any(self, key: str) -> frozenset[str]:
        return self.words.get(key, {}).get(ANY, frozenset())

    def exact(self, text: str, keys: Sequence[str], language: str) -> list[str]:
        """The options whose label or words are the whole of ``text``."""
        answer = fold(strip_edges(text))
        if not answer:
            return []
        for tier in self._tiers(keys, language):
            found = [k for k in keys if answer in tier[k]]
            if found:
                return found
        return []

    def near(self, text: str, keys: Sequence[str], language: str) -> list[str]:
        """The options named inside ``text`` ("they took my passport"), or with one typo
        ("pasport"); the worker's language first."""
        folded = fold(text)
        if not folded:
            return []
        tiers = self._tiers(keys, language)
        for tier in tiers:
            found = _contained(folded, keys, tier)
            if found:
                return found
        tokens = [strip_edges(t) for t in folded.split()]
        tokens = [t for t in tokens if len(t) >= FUZZY]
        if not tokens:
            return []
        for tier in tiers:
            found = [
                k
                for k in keys
                if any(
                    OSA.distance(token, word, score_cutoff=1) <= 1
                    for word in tier[k]
                    if len(word) >= FUZZY and " " not in word
                    for token in tokens
                )
            ]
            if found:
                return found
        return []


def _contained(folded: str, keys: Sequence[str], tier: Mapping[str, frozenset[str]]) -> list[str]:
    """Options whose words occur in ``folded``; a word inside a longer word of another option
    ("very well" holds "well") counts for the longer one only."""
    hits: list[tuple[str, str]] = [
        (k, w) for k in keys for w in tier[k] if len(w) >= CONTAINED and contains_phrase(folded, w)
    ]
    kept = {
        k
        for k, w in hits
        if not any(other != k and w != longer and w in longer for other, longer in hits)
    }
    return [k for k in keys if k in kept]
