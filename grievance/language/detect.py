"""Guess a worker's language from a short message, or say honestly that we cannot.

Evidence, strongest first:

1. **Script.** Burmese, Khmer, Thai and Bengali letters each belong to one
   deployment language; Devanagari (Nepali, Hindi), Arabic script (Arabic,
   Urdu) and Latin letters are shared.
2. **Marker words and letters** that tell apart languages sharing a script on
   short texts: Nepali ``छ``/``मलाई`` against Hindi ``है``/``मुझे``; Urdu's own
   letters (ٹ ڈ ڑ ں ے) against Arabic; Vietnamese diacritics; common words of
   Malay against Indonesian; romanized Nepali, Hindi, Urdu and Bengali, which
   is "not English" even when we cannot say which.
3. **langdetect** (made deterministic), restricted to the candidates.
4. **The prior**: a language the worker confirmed before wins unless the
   evidence points elsewhere.

The answer is ``None`` unless the evidence is strong; ``alternatives`` then
names the few languages it is between, so a flow can ask a narrow question
("नेपाली / हिन्दी?") instead of the full menu.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# ISO 15924 script of each language the project knows how to serve.
SCRIPT_OF = {
    "en": "Latn", "es": "Latn", "id": "Latn", "ms": "Latn", "tl": "Latn", "vi": "Latn",
    "ne": "Deva", "hi": "Deva", "bn": "Beng", "ur": "Arab", "ar": "Arab",
    "my": "Mymr", "km": "Khmr", "th": "Thai",
}  # fmt: skip
# Languages often typed in Latin letters by workers who cannot type their script.
ROMANIZED = ("ne", "hi", "ur", "bn")

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

# langdetect has no Malay profile; statistically Malay reads as Indonesian, and marker words decide.
_STATISTICAL_ALIAS = {"ms": "id"}


def _words(text: str) -> frozenset[str]:
    """A word list written as one space-separated string."""
    return frozenset(text.split())


_MARKERS: dict[str, frozenset[str]] = {
    "en": _words(
        "a an and are at be but can do for from have hello help hi how i i'm im is it me my "
        "need no not of on please problem report the there they this to want was we what when "
        "where who why with work yes you your"
    ),
    "es": _words(
        "ayuda de el es favor hola la las los me mi necesito no pago por que trabajo un una y"
    ),
    "id": _words("ada apa bantuan bisa dan dengan gaji ini itu kerja mau saya tidak tolong yang"),
    "ms": _words(
        "ada apa bantuan boleh dan dengan gaji ini itu kerja majikan nak saya tak tolong yang"
    ),
    "tl": _words("ako amo ang hindi ito kami ko mga namin ng po sa sahod trabaho tulong"),
    "ne": _words("गरेको गर्नु छ छैन पनि भयो मलाई मेरो हजुर हुन्छ हो"),
    "hi": _words("और का की के था नहीं भी मुझे मेरा मेरी है हैं"),
}
# Words that set Malay apart from Indonesian (and back), the commonest confusion in Latin script:
# standard spelling and vocabulary differences (bahwa/bahawa, karena/kerana, uang/wang, ...).
_ONLY = {
    "ms": _words(
        "antarabangsa awak bahawa bilik boleh doktor ejen hendaklah kahwin kebangsaan "
        "kerajaan kerana lelaki macam mahkamah mahu nak pasport pejabat peratus perkahwinan "
        "polis sahaja sebarang sesiapa sikit tak tiada wang"
    ),
    "id": _words(
        "agen bahwa bisa dokter gak gimana harus internasional kamar kantor karena libur mau "
        "mobil nasional nggak paspor pemerintah pengadilan perkawinan persen polisi tidak "
        "uang"
    ),
}
# Loanword endings: Indonesian -itas (kualitas) against Malay -iti (kualiti).
_SUFFIXES = {"id": ("itas",), "ms": ("iti",)}
_ROMANIZED_WORDS = _words(
    "amake amar ami chahiye chahiyo chaina chaiyo chha dorkar garnu hai hain hajur hay huncha "
    "hunchha kaam kaj kia kya madad malai mera meri mero mujhay mujhe nahi nahin paisa "
    "sahajjo sahayog taka"
)
_URDU_LETTERS = frozenset("ٹڈڑںےۓھ")
_VIETNAMESE = frozenset("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")

_lock = threading.Lock()
_factory: Any = None


@dataclass(frozen=True)
class Detection:
    """A detected language (BCP-47) and how sure we are; ``language`` is None when unsure."""

    language: str | None
    confidence: float
    script: str | None = None
    # When unsure: the few candidates it is between (for a narrow question).
    alternatives: tuple[str, ...] = field(default=())


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


def _langdetect(text: str, candidates: Sequence[str]) -> dict[str, float]:
    """langdetect's probabilities restricted to ``candidates`` and renormalised."""
    global _factory
    with _lock:
        if _factory is None:
            from langdetect import DetectorFactory  # type: ignore[import-untyped]
            from langdetect.detector_factory import init_factory  # type: ignore[import-untyped]

            DetectorFactory.seed = 0  # deterministic: the same message always gets the same answer
            init_factory()
            from langdetect import detector_factory

            _factory = detector_factory._factory
        profiles = {c: _STATISTICAL_ALIAS.get(c, c) for c in candidates}
        known = {c: p for c, p in profiles.items() if p in _factory.langlist}
        if not known:
            return {}
        detector = _factory.create()
        detector.append(text)
        try:
            detector.get_probabilities()
        except Exception:  # langdetect raises on text without features
            return {}
        # The full vector, not just the reported top: restrict it to our candidates.
        vector = dict(zip(_factory.langlist, detector.langprob or (), strict=False))
    scores = {c: vector.get(p, 0.0) for c, p in known.items()}
    total = sum(scores.values())
    return {c: p / total for c, p in scores.items()} if total > 0 else {}


def words_of(text: str) -> list[str]:
    """Lower-cased words: split on spaces, punctuation trimmed (vowel signs are kept)."""
    words = []
    for chunk in text.split():
        start, end = 0, len(chunk)
        while start < end and unicodedata.category(chunk[start])[0] in "PSN":
            start += 1
        while end > start and unicodedata.category(chunk[end - 1])[0] in "PSN":
            end -= 1
        if start < end:
            words.append(chunk[start:end].casefold())
    return words


def _marker_scores(words: list[str], candidates: Sequence[str]) -> Counter[str]:
    scores: Counter[str] = Counter()
    for lang in candidates:
        markers = _MARKERS.get(lang, frozenset())
        only = _ONLY.get(lang, frozenset())
        suffixes = _SUFFIXES.get(lang)
        scores[lang] = sum(w in markers for w in words) + 2 * sum(w in only for w in words)
        if suffixes:
            scores[lang] += 2 * sum(len(w) > 5 and w.endswith(suffixes) for w in words)
    return scores


def detect(
    text: str,
    candidates: Sequence[str] | None = None,
    prior: str | None = None,
) -> Detection:
    """Detect the language of ``text`` among ``candidates``; None (with alternatives) when not confident."""
    pool = list(candidates) if candidates is not None else list(SCRIPT_OF)
    script, share = dominant_script(text)
    if script is None or share < 0.6:
        return Detection(None, 0.0, script)
    same_script = [lang for lang in pool if SCRIPT_OF.get(lang) == script]
    words = words_of(text)
    if not same_script:
        if script == "Latn" and any(w in _ROMANIZED_WORDS for w in words):
            return Detection(None, 0.0, script, tuple(lang for lang in pool if lang in ROMANIZED))
        return Detection(None, 0.0, script)
    if prior in same_script and len(same_script) > 1 and len(words) <= 2:
        # "हो", "ok": too short to overrule what the worker chose before, unless its
        # words belong to another language of the script ("है" after choosing Nepali).
        short = _marker_scores(words, same_script)
        if short[prior] >= max(short.values()):
            return Detection(prior, 0.9, script)
    if len(same_script) == 1 and script != "Latn":
        return Detection(same_script[0], round(0.5 + 0.45 * share, 2), script)
    # Letters that only one language of the script uses.
    if script == "Arab" and "ur" in same_script and any(ch in _URDU_LETTERS for ch in text):
        return Detection("ur", 0.9, script)
    if (
        script == "Latn"
        and "vi" in same_script
        and any(ch in _VIETNAMESE for ch in text.casefold())
    ):
        return Detection("vi", 0.95, script)
    romanized = [lang for lang in pool if lang in ROMANIZED]
    if script == "Latn" and romanized and any(w in _ROMANIZED_WORDS for w in words):
        # Romanized Nepali, Hindi, Urdu or Bengali: certainly not English; ask which.
        return Detection(None, 0.0, script, tuple(romanized))
    markers = _marker_scores(words, same_script)
    marked = sum(markers.values())
    # Marker words that point one way only settle it: langdetect costs ~1 ms a call.
    decisive = marked >= 2 and max(markers.values()) == marked
    wants_statistics = (len(words) >= 2 or len(text) >= 12) and not decisive
    statistical = _langdetect(text, same_script) if wants_statistics else {}
    if statistical and marked:
        combined = {
            lang: 0.5 * statistical.get(lang, 0.0) + 0.5 * markers[lang] / marked
            for lang in same_script
        }
    elif statistical:
        combined = {lang: statistical.get(lang, 0.0) for lang in same_script}
    elif marked:
        combined = {lang: markers[lang] / marked for lang in same_script}
    else:
        return Detection(None, 0.0, script, tuple(same_script) if 1 < len(same_script) <= 3 else ())
    ranked = sorted(combined, key=lambda lang: combined[lang], reverse=True)
    best = ranked[0]
    # Confidence grows with evidence: more words, and words only this language uses.
    evidence = min(1.0, 0.4 + 0.2 * len(words) + 0.3 * min(markers[best], 2))
    confidence = round(combined[best] * evidence, 2)
    runner_up = combined[ranked[1]] if len(ranked) > 1 else 0.0
    if prior in same_script and combined.get(prior, 0.0) >= 0.3:
        return Detection(prior, max(confidence, 0.7), script)
    if confidence >= 0.5 and combined[best] - runner_up >= 0.25:
        return Detection(best, confidence, script)
    close = tuple(
        lang for lang in ranked if combined[lang] >= combined[best] - 0.25 and combined[lang] > 0
    )
    return Detection(None, confidence, script, close[:3] if 1 < len(close) <= 3 else ())
