"""Reading a country and an amount from a worker's own words, in their language."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grievance.language.money import read_amount, read_country


@pytest.mark.parametrize(
    ("words", "language", "country", "expected"),
    [
        ("150000 rupees", "ne", None, (Decimal(150000), "NPR")),
        ("I paid rs 1,50,000", "ne", None, (Decimal(150000), "NPR")),  # Indian grouping
        ("रु १,५०,०००", "ne", None, (Decimal(150000), "NPR")),  # Devanagari digits
        ("१.५ लाख रुपैयाँ", "ne", None, (Decimal(150000), "NPR")),
        ("Rs 80000", "hi", None, (Decimal(80000), "INR")),
        ("Rs 80000", "ur", None, (Decimal(80000), "PKR")),
        ("Rs 80000", "en", "NP", (Decimal(80000), "NPR")),  # recruited in Nepal
        ("২ লাখ টাকা", "bn", None, (Decimal(200000), "BDT")),
        ("3,000.50 taka", "bn", None, (Decimal("3000.50"), "BDT")),
        ("RM 3000", "ms", None, (Decimal(3000), "MYR")),
        ("15 juta rupiah", "id", None, (Decimal(15000000), "IDR")),
        ("150.000 dolares", "es", None, (Decimal(150000), "USD")),
        ("1500000 ကျပ်", "my", None, (Decimal(1500000), "MMK")),
        ("I paid 2000 dollars", "en", None, (Decimal(2000), "USD")),
        ("$2,500", "en", None, (Decimal(2500), "USD")),
        ("20k", "en", None, (Decimal(20000), None)),  # no currency said: none guessed
        ("a lot of money", "en", None, (None, None)),
    ],
)
def test_amounts_in_the_words_workers_write(
    words: str, language: str, country: str | None, expected: tuple[Decimal | None, str | None]
) -> None:
    assert read_amount(words, language, country) == expected


@pytest.mark.parametrize(
    ("words", "language", "expected"),
    [
        ("Nepal", "en", "NP"),
        ("nepal", "ne", "NP"),
        ("नेपाल", "ne", "NP"),
        ("from bangladesh", "bn", "BD"),
        ("বাংলাদেশ", "bn", "BD"),
        ("nepall", "en", "NP"),  # a typo
        ("မြန်မာ", "my", "MM"),
        ("भारत", "hi", "IN"),
        ("in my village", "en", None),
        ("0", "en", None),
    ],
)
def test_countries_by_their_names_in_the_workers_language(
    words: str, language: str, expected: str | None
) -> None:
    assert read_country(words, language) == expected
