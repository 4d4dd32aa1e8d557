"""Segments, native digits, detection and catalogs."""

from __future__ import annotations

import pytest

from grievance.language import count_segments, detect, only_digits, to_ascii_digits


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("a" * 159 + "é", "GSM-7", 1),  # é is in GSM-7
        ("a" * 69 + "ñ", "GSM-7", 1),
        ("a" * 69 + "ę", "UCS-2", 1),  # one character outside GSM-7 turns it all into UCS-2
        ("a" * 70 + "ę", "UCS-2", 2),
        ("न" * 67 * 2, "UCS-2", 2),
        ("न" * (67 * 2 + 1), "UCS-2", 3),
        ("😀" * 35, "UCS-2", 1),  # an emoji outside the BMP is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_segments_are_counted_like_twilio(text: str, encoding: str, segments: int) -> None:
    count = count_segments(text)
    assert (count.encoding, count.segments) == (encoding, segments)


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("१२३", "123"),
        ("၁၂၃", "123"),
        ("০১২", "012"),
        ("០១២", "012"),
        ("๑๒๓", "123"),
        ("٤٥٦", "456"),
        ("۷۸۹", "789"),
        ("１２", "12"),
    ],
)
def test_native_digits(typed: str, digits: str) -> None:
    assert to_ascii_digits(typed) == digits
    assert only_digits(f" {typed} ") == digits


def test_only_digits_rejects_words() -> None:
    assert only_digits("12a") is None
    assert only_digits("") is None
    assert only_digits("1234 5678-9012") == "123456789012"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("नमस्ते मलाई मद्दत चाहियो", "ne"),
        ("ကျွန်တော့်ကို ကူညီပါ", "my"),
        ("hi I need help please", "en"),
        ("malai sahayog chahiyo", None),  # romanized Nepali is not English: ask
        ("12345", None),
        ("", None),
        ("🙏", None),
    ],
)
def test_detection_is_confident_or_silent(text: str, expected: str | None) -> None:
    assert detect(text, ["en", "ne", "my"]).language == expected


def test_detection_does_not_guess_between_languages_sharing_a_script() -> None:
    unsure = detect("नमस्ते", ["en", "ne", "hi"])  # "hello" in both Nepali and Hindi
    assert unsure.language is None
    assert unsure.alternatives == ("ne", "hi")  # a narrow question, not the whole menu
    assert detect("नमस्ते", ["en", "ne", "hi"], prior="hi").language == "hi"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मलाई मद्दत चाहियो", "ne"),
        ("मुझे मदद चाहिए", "hi"),
        ("مجھے مدد چاہیے", "ur"),
        ("أحتاج مساعدة", "ar"),
        ("saya tak boleh keluar", "ms"),
        ("saya tidak bisa keluar", "id"),
        ("tôi cần giúp đỡ", "vi"),
        ("hola necesito ayuda", "es"),
    ],
)
def test_languages_sharing_a_script_are_told_apart(text: str, expected: str) -> None:
    candidates = ["en", "ne", "hi", "ur", "ar", "ms", "id", "vi", "es", "tl"]
    assert detect(text, candidates).language == expected


def test_romanized_south_asian_text_is_not_english() -> None:
    found = detect("malai sahayog chahiyo", ["en", "ne", "hi", "my"])
    assert found.language is None
    assert found.alternatives == ("ne", "hi")


UNICODE_BURMESE = "မင်္ဂလာပါ ကျွန်တော့်ကို ကူညီပါ"
ZAWGYI_BURMESE = "\u1019\u1002\u1064\u101c\u102c\u1015\u102b \u1000\u103c\u107d\u1014\u1039\u1031\u1010\u102c\u1037\u103a\u1000\u102d\u102f \u1000\u1030\u100a\u102e\u1015\u102b"  # the greeting typed in Zawgyi


def test_zawgyi_is_converted_and_unicode_left_alone() -> None:
    from grievance.language.zawgyi import to_unicode

    assert to_unicode(ZAWGYI_BURMESE) == (UNICODE_BURMESE, True)
    assert to_unicode(UNICODE_BURMESE) == (UNICODE_BURMESE, False)
    assert to_unicode("hello 123") == ("hello 123", False)
    assert to_unicode("") == ("", False)


def test_a_prior_holds_for_short_messages_unless_the_words_say_otherwise() -> None:
    assert detect("हो", ["ne", "hi"], prior="ne").language == "ne"
    assert detect("ठीक है", ["ne", "hi"], prior="ne").language != "ne"
