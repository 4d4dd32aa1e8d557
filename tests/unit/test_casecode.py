"""A case code typed into a message is masked before the message is kept; other numbers stay."""

from __future__ import annotations

import pytest

from grievance import casecode


@pytest.mark.parametrize(
    "text",
    [
        "STATUS 3422 6239 5091",
        "status 3422-6239-5091 please",
        "342262395091",
        "स्थिति ३४२२ ६२३९ ५०९१",  # the Nepali keyword with Devanagari digits
        "STATUS 3422 6239 5O91",  # a letter O for a zero
        "STATUS 3422 6239 5092",  # mistyped: it still shows most of the code
    ],
)
def test_a_code_in_a_message_is_masked(text: str) -> None:
    masked = casecode.mask_codes(text)
    assert casecode.CODE_MASK in masked
    assert sum(ch.isdigit() for ch in masked) == 0


@pytest.mark.parametrize(
    "text",
    [
        "salary 1200 not paid since 2024",
        "call me 012.345.6789",  # a phone number: 10 digits
        "+977 984 123 4567",
        "worked 12 hours, 7 days",
        "call my brother +91 98765 43210",  # twelve digits, but a phone number
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert casecode.mask_codes(text) == text
