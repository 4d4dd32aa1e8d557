"""The webhook's signature check: one HMAC for a genuine request, the twilio library's full
check (the URL with and without its port) for the rest, and nothing else passes."""

from __future__ import annotations

from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from grievance.channels.twilio import SignatureValidator

TOKEN = "12345678901234567890123456789012"
URL = "https://grievance.example.org/twilio/messaging"
FORM = MultiDict([("From", "+9779800000001"), ("Body", "हाँ"), ("MessageSid", "SM" + "a" * 32)])


def signed(url: str, form: MultiDict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def test_a_genuine_request_passes() -> None:
    assert SignatureValidator(TOKEN).is_valid(URL, FORM, signed(URL, FORM))


def test_a_signature_over_the_url_with_its_port_passes_as_the_library_allows() -> None:
    with_port = "https://grievance.example.org:443/twilio/messaging"
    assert SignatureValidator(TOKEN).is_valid(URL, FORM, signed(with_port, FORM))


def test_anything_else_fails() -> None:
    check = SignatureValidator(TOKEN)
    assert not check.is_valid(URL, FORM, None)
    assert not check.is_valid(URL, FORM, "")
    assert not check.is_valid(URL, FORM, signed(URL, FORM, token="x" * 32))
    other = MultiDict([*FORM.items(multi=True), ("Body", "no")])
    assert not check.is_valid(URL, other, signed(URL, FORM))
    assert not check.is_valid(URL + "?x=1", FORM, signed(URL, FORM))
    assert not check.is_valid(URL, FORM, signed(URL, FORM)[:-2] + "ab")
