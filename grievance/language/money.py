"""Read a country and an amount of money from a worker's own words.

"Nepal", "नेपाल", "from bangladesh" name a country; "150000 rupees", "1.5 lakh",
"रु १,५०,०००", "RM 3000", "15 juta rupiah" name an amount and its currency. The names come
from the Unicode CLDR through Babel (country and currency names in every language the line
speaks), so no list of names is kept here beyond a few informal words CLDR does not hold
("rs", "lakh", "juta"). A guess that fails is no answer: the worker's words are kept and a
handler reads them. Pure: no database, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies
from rapidfuzz import fuzz, process

from grievance.language.digits import to_ascii_digits

# Informal words for a currency that CLDR's names and symbols miss, by ISO code.
_CURRENCY_WORDS = {
    "rs": ("NPR", "INR", "PKR", "LKR"),
    "rupiya": ("NPR", "INR", "PKR"),
    "rupaiya": ("NPR", "INR", "PKR"),
    "rupees": ("NPR", "INR", "PKR", "LKR"),
    "rupee": ("NPR", "INR", "PKR", "LKR"),
    "रु": ("NPR", "INR"),
    "रू": ("NPR", "INR"),
    "रुपैयाँ": ("NPR",),
    "रुपया": ("NPR", "INR"),
    "रुपये": ("INR", "NPR"),
    "روپے": ("PKR", "INR"),
    "tk": ("BDT",),
    "taka": ("BDT",),
    "টাকা": ("BDT",),
    "rm": ("MYR",),
    "ringgit": ("MYR",),
    "rp": ("IDR",),
    "rupiah": ("IDR",),
    "kyat": ("MMK",),
    "ks": ("MMK",),
    "ကျပ်": ("MMK",),
    "baht": ("THB",),
    "บาท": ("THB",),
    "peso": ("PHP",),
    "pesos": ("PHP",),
    "dong": ("VND",),
    "đồng": ("VND",),
    "birr": ("ETB",),
    "ብር": ("ETB",),
    "riel": ("KHR",),
    "kip": ("LAK",),
    "$": ("USD",),
    "usd": ("USD",),
    "dollar": ("USD",),
    "dollars": ("USD",),
    "dolares": ("USD",),
    "dólares": ("USD",),
    "dolar": ("USD",),
}
# Words that multiply the number before them ("1.5 lakh", "15 juta", "20k").
_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "hazar": 1_000,
    "hajar": 1_000,
    "हजार": 1_000,
    "ribu": 1_000,
    "lakh": 100_000,
    "lakhs": 100_000,
    "lac": 100_000,
    "लाख": 100_000,
    "লাখ": 100_000,
    "million": 1_000_000,
    "juta": 1_000_000,
    "crore": 10_000_000,
    "करोड": 10_000_000,
}
# Where a language's speakers usually come from: a currency word shared by several
# countries ("rupees") is read as this country's unless the worker named another.
_HOME = {
    "ne": "NP", "hi": "IN", "ur": "PK", "bn": "BD", "si": "LK", "ta": "LK", "my": "MM",
    "th": "TH", "lo": "LA", "km": "KH", "vi": "VN", "am": "ET", "id": "ID", "ms": "MY",
    "tl": "PH",
}  # fmt: skip
_NUMBER = re.compile(r"\d[\d,.\u00a0 ']*")
_WORD = re.compile(r"[^\s\d,.;:!?()]+")
_COUNTRY_MATCH = 88  # rapidfuzz score a misspelt country name must reach


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


def _base(language: str) -> str:
    return language.split("-")[0]


@cache
def _country_names(language: str) -> dict[str, str]:
    """Country names, folded, in ``language`` and English, to ISO codes."""
    names: dict[str, str] = {}
    for tag in ("en", _base(language)):
        try:
            territories = Locale.parse(tag).territories
        except (UnknownLocaleError, ValueError):
            continue
        for code, name in territories.items():
            if len(code) == 2 and code.isalpha() and code not in ("EU", "EZ", "UN", "ZZ", "QO"):
                names.setdefault(_fold(name), code)
    return names


def read_country(text: str, language: str) -> str | None:
    """The ISO code of the country the words name, or None ("Nepal", "नेपाल", "nepall")."""
    words = _fold(re.sub(r"[0-9.,;:!?()]", " ", to_ascii_digits(text)))
    if not words:
        return None
    names = _country_names(language)
    if words in names:
        return names[words]
    # "from nepal", "in Bangladesh, Dhaka": a name among the words.
    for size in (3, 2, 1):
        tokens = words.split()
        for i in range(len(tokens) - size + 1):
            found = names.get(" ".join(tokens[i : i + size]))
            if found:
                return found
    best = process.extractOne(words, list(names), scorer=fuzz.ratio, score_cutoff=_COUNTRY_MATCH)
    return names[best[0]] if best else None


@cache
def _currency_words(language: str) -> dict[str, tuple[str, ...]]:
    """Folded currency names, plural names' last words and symbols, to ISO codes."""
    words: dict[str, list[str]] = {}

    def add(word: str, code: str) -> None:
        folded = _fold(word)
        if folded and not folded.isdigit():
            words.setdefault(folded, [])
            if code not in words[folded]:
                words[folded].append(code)

    for tag in ("en", _base(language)):
        try:
            locale = Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
        for code, name in locale.currencies.items():
            add(name, code)
            add(name.split()[-1], code)
        for code, symbol in locale.currency_symbols.items():
            if symbol != code and len(symbol) <= 4:
                add(symbol, code)
    for word, codes in _CURRENCY_WORDS.items():
        for code in codes:
            add(word, code)
    return {word: tuple(codes) for word, codes in words.items()}


def _number(raw: str) -> Decimal | None:
    """'1,50,000' -> 150000; '150.000' -> 150000; '1.5' -> 1.5; '3,000.50' -> 3000.50."""
    digits = raw.strip().replace("\u00a0", " ").replace("'", "").replace(" ", "")
    digits = digits.rstrip(",.")
    if not digits:
        return None
    marks = [ch for ch in digits if ch in ",."]
    if marks:
        last = max(digits.rfind(","), digits.rfind("."))
        tail = digits[last + 1 :]
        if len(set(marks)) == 2 or (len(marks) == 1 and len(tail) != 3):
            # the last mark is a decimal point: "3,000.50", "1.5", "2,5"
            whole = re.sub(r"[,.]", "", digits[:last])
            digits = f"{whole}.{tail}" if tail else whole
        else:
            digits = re.sub(r"[,.]", "", digits)  # grouping only: "150,000", "1,50,000"
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


def read_amount(
    text: str, language: str, country: str | None = None
) -> tuple[Decimal | None, str | None]:
    """(amount, ISO currency) in the words, each None when they do not say.

    A currency word that several countries share is read as the currency of ``country``
    (where the worker was recruited), else of the language's usual home, else the first.
    """
    plain = to_ascii_digits(text)
    amount: Decimal | None = None
    match = _NUMBER.search(plain)
    if match is not None:
        amount = _number(match.group())
        after = _WORD.findall(plain[match.end() :])
        glued = re.match(r"\d+(k)\b", plain[match.start() :], re.IGNORECASE)
        factor = _MULTIPLIERS.get(_fold(after[0])) if after else None
        if glued and amount is not None:
            factor = factor or 1_000
        if amount is not None and factor:
            amount *= factor
    known = _currency_words(language)
    candidates: tuple[str, ...] = ()
    for word in [*_WORD.findall(plain), *re.findall(r"[$€£¥₹৳₨฿₫]", plain)]:
        codes = known.get(_fold(word))
        if codes:
            candidates = codes
            break
    if amount is not None and amount == amount.to_integral_value():
        amount = amount.quantize(Decimal(1))
    return amount, _pick(candidates, [country, _HOME.get(_base(language))])


def _pick(candidates: tuple[str, ...], countries: Iterable[str | None]) -> str | None:
    if not candidates:
        return None
    for country in countries:
        if country:
            for code in get_territory_currencies(country):
                if code in candidates:
                    return code
    return candidates[0]
