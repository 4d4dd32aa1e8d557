"""Hypothesis strategies shared by the fuzz tests: what workers (and attackers) type."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from hypothesis import strategies as st

from grievance import casecode
from grievance.language import Catalog, load_catalogs

ROOT = Path(__file__).resolve().parents[2]
ALL_CATALOGS: dict[str, Catalog] = load_catalogs(ROOT / "locales")
ALL_LANGUAGES = tuple(sorted(ALL_CATALOGS))

# Zero digit of the decimal scripts a worker's keypad may type.
DIGIT_ZEROS = {
    "ascii": 0x30,
    "devanagari": 0x966,
    "bengali": 0x9E6,
    "myanmar": 0x1040,
    "myanmar_shan": 0x1090,
    "thai": 0xE50,
    "khmer": 0x17E0,
    "arabic_indic": 0x660,
    "extended_arabic_indic": 0x6F0,
    "fullwidth": 0xFF10,
}
# Invisible or direction characters phones and keyboards insert.
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2066", "\u2069", "\ufeff", "\xa0"]
EDGE_NOISE = ["", " ", "  ", "!", ".", "?", "!!", "\n", "\t", "🙏", "...", "*", '"', "\u3000"]
ZAWGYI_BURMESE = "\u1019\u1002\u1064\u101c\u102c\u1015\u102b \u1000\u103c\u107d\u1014\u1039\u1031\u1010\u102c\u1037\u103a\u1000\u102d\u102f \u1000\u1030\u100a\u102e\u1015\u102b"
ODD_TEXTS = [
    "",
    " ",
    "\x00",
    "\x00\x07\x1b",
    "\r\n",
    "\u202e1\u202c",
    "🙏🙏",
    "👍🏽",
    "1\u20e3",
    "①",
    "½",
    "²",
    "Ⅳ",
    "１２",
    "0",
    "00",
    "01",
    "-1",
    "1.",
    "1 2",
    "1,2",
    "+1",
    "one",
    "{code}",
    "{0}",
    "%s",
    "{{",
    "}",
    "\\N{BELL}",
    "<Response/>",
    "' OR 1=1 --",
    "\ufffd\ufffd",
    ZAWGYI_BURMESE,
    "e\u0301",  # NFD é
    "\u0939\u094b",  # हो
]


def native(number: str, script: str) -> str:
    """``number``'s ASCII digits written in ``script``."""
    zero = DIGIT_ZEROS[script]
    return "".join(chr(zero + int(ch)) if ch.isdigit() else ch for ch in number)


def catalog_words(kind: str, languages: Iterable[str] = ALL_LANGUAGES) -> list[str]:
    """Keywords of ``kind`` ("stop", "help", ...), or "yes"/"no" words, of ``languages``."""
    words: list[str] = []
    for lang in languages:
        catalog = ALL_CATALOGS[lang]
        if kind in ("yes", "no"):
            words += getattr(catalog, kind)
        else:
            words += catalog.keywords.get(kind, ())
    return sorted(set(words))


KEYWORD_KINDS = sorted({k for c in ALL_CATALOGS.values() for k in c.keywords})
ALL_WORDS = sorted(
    {w for kind in [*KEYWORD_KINDS, "yes", "no"] for w in catalog_words(kind)}
    | {c.name for c in ALL_CATALOGS.values()}
    | set(ALL_LANGUAGES)
)
MENU_LABELS = sorted(
    {
        t.sms
        for c in ALL_CATALOGS.values()
        for key, t in c.messages.items()
        if key.startswith(("category.", "draft.option", "help.option"))
    }
)

scripts = st.sampled_from(sorted(DIGIT_ZEROS))
separators = st.sampled_from(["", " ", "-", ".", "\xa0", "  ", " - "])


@st.composite
def numbers(draw: st.DrawFn, max_value: int = 15) -> str:
    """A small number (a menu answer) in any script, maybe with leading zeros or padding."""
    value = str(draw(st.integers(min_value=0, max_value=max_value)))
    if draw(st.booleans()):
        value = "0" * draw(st.integers(1, 2)) + value
    return draw(st.sampled_from(EDGE_NOISE[:3])) + native(value, draw(scripts))


@st.composite
def case_codes(draw: st.DrawFn, valid: bool | None = None) -> str:
    """A 12-digit case code (valid check digit or not) grouped and written in any script."""
    body = "".join(str(d) for d in draw(st.lists(st.integers(0, 9), min_size=11, max_size=11)))
    good = draw(st.booleans()) if valid is None else valid
    check = casecode.check_digit(body)
    last = check if good else str((int(check) + draw(st.integers(1, 9))) % 10)
    digits = body + last
    sep = draw(separators)
    grouped = sep.join(digits[i : i + 4] for i in range(0, 12, 4))
    return native(grouped, draw(scripts))


@st.composite
def decorated(draw: st.DrawFn, words: list[str]) -> str:
    """A catalog word as typed: any case, NFC or NFD, with punctuation and invisibles around."""
    word = draw(st.sampled_from(words))
    word = draw(
        st.sampled_from(
            [word, word.upper(), word.lower(), word.title(), unicodedata.normalize("NFD", word)]
        )
    )
    before = draw(st.sampled_from(EDGE_NOISE + INVISIBLE))
    after = draw(st.sampled_from(EDGE_NOISE + INVISIBLE))
    return before + word + after


def long_texts(lengths: list[int]) -> st.SearchStrategy[str]:
    """Texts of exactly the given lengths (limits and their neighbours) in several scripts."""
    return st.builds(
        lambda n, ch: (ch * n)[:n],
        st.sampled_from(lengths),
        st.sampled_from(["x", "é", "म", "မ", "ع", "🙏", "ab ", "\u0301"]),
    )


# What a worker types, from plausible to hostile.
worker_texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]), max_size=10),
    st.sampled_from(ALL_WORDS),
    decorated(ALL_WORDS),
    st.sampled_from(MENU_LABELS),
    numbers(),
    case_codes(),
    st.builds(lambda w, c: f"{w} {c}", decorated(catalog_words("status")), case_codes()),
    st.builds(lambda w, rest: f"{w} {rest}", st.sampled_from(ALL_WORDS), st.text(max_size=30)),
    st.sampled_from(ODD_TEXTS),
    long_texts([1, 2, 3, 199, 200, 201, 1599, 1600, 1601, 5000]),
)
media_kinds = st.lists(st.sampled_from(["image", "audio", "video", "document"]), max_size=3)
