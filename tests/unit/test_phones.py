"""Phone numbers in a worker's words are hidden however they are typed; amounts, hours, dates
and case codes' neighbours stay readable."""

from __future__ import annotations

import pytest

from grievance.language.phones import hide_phone_numbers

MASK = "[phone number hidden]"


@pytest.mark.parametrize(
    "number",
    [
        "012.345.6789",  # Malaysia, dotted
        "(012) 345.6789",  # Malaysia, parentheses and a dot
        "+60 12-345 6789",
        "081 234 5678",  # Thailand
        "+974 5512 3456",  # Qatar
        "050 123 4567",  # United Arab Emirates
        "+966 50 123 4567",  # Saudi Arabia
        "9841-234-567",  # Nepal
        "(+977) 984.123.4567",
        "01712-345678",  # Bangladesh
        "09 450 123 456",  # Myanmar
        "+95 9 450 123 456",
        "98765 43210",  # India
        "0300 1234567",  # Pakistan
        "077 123 4567",  # Sri Lanka
        "0812-3456-7890",  # Indonesia
        "0917 123 4567",  # Philippines
        "091 234 56 78",  # Vietnam
        "012 345 678",  # Cambodia
        "९८४१२३४५६७",  # Nepal, in Devanagari digits
        "০১৭১২৩৪৫৬৭৮",  # Bangladesh, in Bengali digits
    ],
)
def test_a_number_in_any_corridor_s_style_is_hidden(number: str) -> None:
    text = f"please call {number} after 8pm"
    assert hide_phone_numbers(text, MASK) == f"please call {MASK} after 8pm"


@pytest.mark.parametrize(
    "text",
    [
        "salary 12000 ringgit not paid for 3 months",
        "paid 450000 rupees to the agent in 2024",
        "we work 12 hours 7 days a week",
        "since 15.08.2026 no pay",
        "room 1204, block 7",
    ],
)
def test_amounts_hours_and_dates_stay_readable(text: str) -> None:
    assert hide_phone_numbers(text, MASK) == text


def test_two_numbers_are_both_hidden_and_the_words_between_kept() -> None:
    text = "me 012.345.6789 or my sister (+977) 984.123.4567, thanks"
    assert hide_phone_numbers(text, MASK) == f"me {MASK} or my sister {MASK}, thanks"
