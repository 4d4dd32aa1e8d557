"""Dates and time frames the worker's way: CLDR's words, the year only when it differs, native
digits where a catalog asks, and never an accent that doubles an SMS's cost."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from grievance.language import load_catalogs
from grievance.language.catalog import duration_words, render
from grievance.language.dates import format_day
from grievance.language.segments import count_segments, keep_gsm7

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 6)


def test_english_writes_the_day_first_and_the_year_only_when_it_differs() -> None:
    assert format_day("2026-12-09", "en_001", today=TODAY) == "9 Dec"
    assert format_day("2027-01-09", "en_001", today=TODAY) == "9 Jan 2027"
    assert format_day("2025-12-30", "en_001", today=TODAY) == "30 Dec 2025"


@pytest.mark.parametrize(
    ("locale", "native", "expected"),
    [
        ("hi", False, "9 दिस॰"),
        ("ne", True, "डिसेम्बर ९"),
        ("ar", True, "٩ ديسمبر"),
        ("my", True, "ဒီ ၉"),
        ("es", False, "9 dic"),
    ],
)
def test_other_languages_use_their_own_month_names_and_digits(
    locale: str, native: bool, expected: str
) -> None:
    assert format_day("2026-12-09", locale, native, TODAY) == expected


def test_what_is_not_a_date_is_left_alone() -> None:
    assert format_day("soon", "en_001", today=TODAY) == "soon"
    assert format_day("2026-13-40", "en_001", today=TODAY) == "2026-13-40"


def test_a_catalog_renders_date_parameters_in_its_locale() -> None:
    catalogs = load_catalogs(ROOT / "locales", ["en", "ne"])
    english = render(catalogs["en"], "status.due", {"date": "2026-12-09"}, "sms", TODAY)
    assert english == "Next step expected by 9 Dec."
    late = render(catalogs["en"], "status.late", {"date": "2026-12-01"}, "sms", TODAY)
    assert late == "Late: this step was due 1 Dec."
    nepali = replace(catalogs["ne"], digits="native")
    assert "डिसेम्बर ९" in render(nepali, "status.due", {"date": "2026-12-09"}, "sms", TODAY)


def test_time_frames_are_pluralized_by_cldr() -> None:
    catalogs = load_catalogs(ROOT / "locales", ["en", "ne", "es"])
    english = catalogs["en"]
    assert duration_words(english, 1, "h") == "1 hour"
    assert duration_words(english, 24, "h") == "24 hours"
    assert duration_words(english, 3, "wd") == "3 working days"  # the catalog's own words
    assert duration_words(catalogs["ne"], 7, "d") == "7 दिन"
    assert duration_words(catalogs["es"], 7, "d") == "7 días"


def test_an_accent_filled_into_a_gsm7_message_is_dropped_when_it_would_cost_a_segment() -> None:
    template = "Respondemos en {standard}. " + "x" * 120
    value = keep_gsm7("7 días", template)
    assert value == "7 dias"
    assert count_segments(template.format(standard=value)).segments == 1
    assert count_segments(template.format(standard="7 días")).segments == 3
    # A message that is UCS-2 anyway keeps its accents, and other scripts are untouched.
    assert keep_gsm7("7 días", "Aquí en {standard}") == "7 días"
    assert keep_gsm7("7 दिन", "{standard}") == "7 दिन"
