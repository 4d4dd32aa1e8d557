"""Fuzz the Twilio webhooks: signed, unsigned, forged and malformed requests.

Every example starts from an empty database and an empty fake Twilio server, then
posts through the Flask test client to the real app (SQLite, in-line jobs, replies
sent through the twilio client to ``tests/support/fake_twilio.py``). Properties:

* no request, however malformed, gets a 5xx;
* a correctly signed form with a valid MessageSid and a sender gets 200 and is stored
  exactly once; replaying it changes nothing; the worker gets at least one reply;
* a signed form without a valid MessageSid or sender gets 400 and stores nothing;
* a bad, missing or misplaced signature gets 403 and stores nothing, sends nothing;
* an oversized request gets 413 and stores nothing;
* a response is only ever the fixed empty TwiML or an empty body, so it cannot echo
  the phone number or the message; no log line quotes the phone number either;
* no job fails on what was stored, except media downloads the channel refuses;
* nothing stored in a text column holds a NUL character (PostgreSQL refuses those,
  so it would be a 5xx there);
* the status callback never gets a 5xx, applies known statuses only, never moves a
  message's status backwards, and stores at most 10 characters of error code.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pytest
from flask import request
from hypothesis import assume, given, note
from hypothesis import strategies as st
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from grievance.app import MAX_REQUEST_BYTES
from grievance.models import INBOUND, OUTBOUND, Message
from grievance.services.outbox import STATUS_RANK
from tests.conftest import PUBLIC_URL, SMS_NUMBER, WHATSAPP_NUMBER
from tests.fuzz.conftest import Line, fuzz_settings
from tests.fuzz.harness import (
    FAKE_MEDIA,
    MESSAGING,
    NOTHING,
    STATUS,
    TWIML,
    VALID_SID,
    as_read,
    check_no_nul,
    check_response,
    check_signed_inbound,
    count,
    expected_status,
    post,
    sign,
    snapshot,
    with_fake_media,
)
from tests.fuzz.strategies import ODD_TEXTS, worker_texts
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN

# -- strategies -------------------------------------------------------------------

hex32 = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=32)
valid_sids = st.builds(lambda prefix, digits: prefix + digits, st.sampled_from(["SM", "MM"]), hex32)
invalid_sids = st.one_of(
    st.text(max_size=40).filter(lambda s: not VALID_SID.fullmatch(s)),
    valid_sids.map(lambda s: s + "\n"),
    valid_sids.map(lambda s: " " + s),
    valid_sids.map(lambda s: s[:-1]),
    valid_sids.map(lambda s: s + "0"),
    st.just("SM" + "g" * 32),
    st.just("SM" + "\u0661" * 32),  # Arabic-Indic digits are decimal but not hex
)
# Control and format characters, NUL first: values no real Twilio request carries.
hostile = st.one_of(
    st.sampled_from(["\x00", "+1\x00", "\x00whatsapp:", "\r\n", "\u2028", "\ufeff", "\x1b[31m"]),
    st.text(alphabet=st.characters(categories=["Cc", "Cf"]), min_size=1, max_size=5),
)
digits = st.text(alphabet="0123456789", min_size=7, max_size=15)
phones = st.builds(lambda d: "+" + d, digits)
senders = st.one_of(
    phones,
    phones.map("whatsapp:".__add__),
    hostile,
    st.builds(lambda pad, p: pad + p + pad, st.sampled_from([" ", "\t", "\n", "\u3000"]), phones),
    st.text(max_size=30),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zs"]), max_size=5),
    st.sampled_from(["", "whatsapp:", "whatsapp:+", "+", "WHATSAPP:+15551234567", "messenger:123"]),
    st.integers(5_000, 20_000).map(lambda n: "+" + "9" * n),
)
external_ids = st.one_of(
    st.builds(lambda d: "US." + d, digits), st.text(max_size=20), st.just(" "), st.just("\x00")
)
num_media = st.one_of(
    st.integers(-3, 14).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=8),
    st.sampled_from(["", " 1 ", "1.0", "1e3", "0x1", "٣", "²", "1_0", "+2", "NaN", "9" * 5000]),
)
media_urls = st.one_of(
    st.just(FAKE_MEDIA),
    st.just("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"),
    st.sampled_from(["http://[", "http://[::1", "https://", "http://", "ftp://x", "javascript:1"]),
    st.builds(lambda t: "https://" + t, st.text(max_size=30)),
    st.builds(lambda t: "https://" + t, hostile),
    st.text(max_size=30),
)
content_types = st.one_of(
    st.sampled_from(["image/jpeg", "image/png", "audio/ogg", "video/mp4", "application/pdf"]),
    st.sampled_from(["image/png\n", "text/vcard; charset=utf-8", "", "/", "a/b/c", "x" * 300]),
    st.text(max_size=40),
    hostile,
)
bodies = st.one_of(
    worker_texts,
    st.text(),
    st.sampled_from(ODD_TEXTS),
    st.integers(10_000, 40_000).map(lambda n: "x" * n),
)
oversized = st.integers(MAX_REQUEST_BYTES + 1, MAX_REQUEST_BYTES + 50_000).map(lambda n: "b" * n)
KNOWN_EXTRAS = [
    "ProfileName",
    "WaId",
    "FromCity",
    "FromCountry",
    "Latitude",
    "Longitude",
    "ButtonPayload",
    "ButtonText",
    "MessageType",
    "MessagingServiceSid",
    "NumSegments",
    "ReferralNumMedia",
    "SmsStatus",
    "SmsMessageSid",
    "OriginalRepliedMessageSid",
    "ChannelMetadata",
]
extra_fields = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_EXTRAS), st.text(max_size=20)),
    st.one_of(st.text(max_size=60), hostile, st.integers(61, 2_000).map(lambda n: "v" * n)),
    max_size=6,
)
query_strings = st.one_of(
    st.just(""),
    st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), max_size=3).map(
        urlencode
    ),
)


@st.composite
def inbound_forms(draw: st.DrawFn, allow_oversized: bool = True) -> dict[str, str]:
    """A form Twilio could post (and many it never would), as a flat dict of strings."""
    form: dict[str, str] = {}
    form |= draw(extra_fields, label="extras")
    # Mostly forms the webhook accepts, so the storage and reply properties get exercised.
    roll = draw(st.integers(0, 9), label="sid kind")
    sid = draw(valid_sids if roll < 7 else invalid_sids if roll < 9 else st.none(), label="sid")
    if sid is not None:
        form["MessageSid"] = sid
    if draw(st.booleans(), label="SmsSid"):
        form["SmsSid"] = draw(st.one_of(st.just(sid or ""), valid_sids, invalid_sids))
    sender = draw(senders if draw(st.integers(0, 4)) else st.none(), label="From")
    if sender is not None:
        form["From"] = sender
    if sender is None or not sender.strip() or draw(st.integers(0, 9)) == 0:
        external = draw(st.one_of(external_ids, st.none()), label="ExternalUserId")
        if external is not None:
            form["ExternalUserId"] = external
    form["To"] = draw(
        st.sampled_from([SMS_NUMBER, WHATSAPP_NUMBER, "+15550001111", ""])
        | st.text(max_size=80)
        | hostile,
        label="To",
    )
    body = draw(st.one_of(bodies, st.none(), oversized if allow_oversized else st.nothing()))
    if body is not None:
        form["Body"] = body
    form["AccountSid"] = draw(st.sampled_from([ACCOUNT_SID, "", "AC" + "f" * 32]) | st.text())
    if draw(st.booleans(), label="media"):
        form["NumMedia"] = draw(num_media)
        for i, (url, ctype) in enumerate(
            draw(st.lists(st.tuples(media_urls, st.one_of(content_types, st.none())), max_size=12))
        ):
            form[f"MediaUrl{i}"] = url
            if ctype is not None:
                form[f"MediaContentType{i}"] = ctype
    return form


# -- inbound messages, signed -------------------------------------------------------------


@fuzz_settings(200)
@given(form=inbound_forms(), query=query_strings)
def test_signed_inbound_is_stored_once_and_answered(
    line: Line, caplog: pytest.LogCaptureFixture, form: dict[str, str], query: str
) -> None:
    line.wipe()
    caplog.clear()
    caplog.set_level(logging.INFO)
    form = with_fake_media(form, line.fake)
    path = MESSAGING + (f"?{query}" if query else "")
    note(f"expected {expected_status(form)}")
    check_signed_inbound(line.client, line.runtime, line.fake, form, path, lambda: caplog.records)


# -- inbound messages, not signed by Twilio ---------------------------------------------

FORGERIES = [
    "missing",
    "empty",
    "garbage",
    "wrong_token",
    "other_host",
    "http_scheme",
    "other_path",
    "tampered",
    "unsigned_query",
    "query_not_sent",
    "lowercase",
]


@fuzz_settings(150)
@given(
    form=inbound_forms(allow_oversized=False),
    how=st.sampled_from(FORGERIES),
    data=st.data(),
)
def test_badly_signed_inbound_is_refused_and_stores_nothing(
    line: Line,
    form: dict[str, str],
    how: str,
    data: st.DataObject,
) -> None:
    line.wipe()
    path, sent = MESSAGING, form
    sig: str | None = sign(form)
    if how == "missing":
        sig = None
    elif how == "empty":
        sig = ""
    elif how == "garbage":
        sig = data.draw(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126)))
    elif how == "wrong_token":
        sig = sign(form, token=data.draw(st.text(min_size=1).filter(lambda t: t != AUTH_TOKEN)))
    elif how == "other_host":
        sig = sign(form, base="https://evil.example.org")
    elif how == "http_scheme":
        sig = sign(form, base=PUBLIC_URL.replace("https://", "http://"))
    elif how == "other_path":
        sig = sign(form, STATUS)
    elif how == "tampered":
        key = data.draw(st.sampled_from([*sorted(form), "Body", "From", "NewField"]), label="key")
        value = data.draw(st.none() | st.text(max_size=20), label="value")
        sent = {k: v for k, v in form.items() if k != key}
        if value is not None:
            sent[key] = value
        assume(sign(sent) != sig)
    elif how == "unsigned_query":
        path = MESSAGING + "?" + data.draw(query_strings.filter(bool), label="query")
    elif how == "query_not_sent":
        sig = sign(form, MESSAGING + "?a=1")
    elif how == "lowercase":
        assume(sig.lower() != sig)
        sig = sig.lower()
    response = post(line.client, sent, path, sig)
    check_response(response, sent)
    assert response.status_code == 403
    assert snapshot(line.runtime, line.fake) == NOTHING


# -- raw garbage ---------------------------------------------------------------------------------

CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=bogus",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data; boundary=",
    "application/json",
    "text/plain",
    "text/xml",
    "application/octet-stream",
    "",
    ";;;",
]


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    """Bytes a broken proxy, a scanner or a fuzzer might send."""
    kind = draw(st.sampled_from(["binary", "pairs", "percent", "multipart", "json"]))
    if kind == "binary":
        return draw(st.binary(max_size=3000))
    if kind == "pairs":
        pairs = draw(
            st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=40)), max_size=8)
        )
        sep = draw(st.sampled_from([b"&", b";", b"&&", b"\n"]))
        return sep.join(k + draw(st.sampled_from([b"=", b"", b"=="])) + v for k, v in pairs)
    if kind == "percent":
        return b"".join(
            draw(
                st.lists(
                    st.sampled_from(
                        [
                            b"%",
                            b"%Z",
                            b"%0",
                            b"%00",
                            b"%E0%A4",
                            b"%FF",
                            b"+",
                            b"=",
                            b"&",
                            b"Body",
                            b"From",
                            b"MessageSid",
                        ]
                    ),
                    max_size=40,
                )
            )
        )
    if kind == "multipart":
        name = draw(st.sampled_from([b"Body", b"From", b"MessageSid", b"\x00", b'"']))
        value = draw(st.binary(max_size=200))
        ending = draw(st.sampled_from([b"--xyz--\r\n", b"", b"--xyz", b"--abc--"]))
        return (
            b'--xyz\r\nContent-Disposition: form-data; name="'
            + name
            + b'"\r\n\r\n'
            + value
            + b"\r\n"
            + ending
        )
    return draw(st.sampled_from([b"{}", b"[]", b'{"Body": "hi"}', b"null", b"{"]))


@fuzz_settings(250)
@given(
    method=st.sampled_from(
        ["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    ),
    path=st.sampled_from([MESSAGING, STATUS]),
    query=query_strings,
    content_type=st.sampled_from(CONTENT_TYPES)
    | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    body=raw_bodies(),
    signing=st.sampled_from(["none", "garbage", "as_parsed"]),
)
def test_raw_garbage_is_never_a_5xx(
    line: Line,
    method: str,
    path: str,
    query: str,
    content_type: str | None,
    body: bytes,
    signing: str,
) -> None:
    """Garbage bodies and odd content types; "as_parsed" signs whatever the app will parse,
    so the parsing after the signature check is fuzzed too."""
    line.wipe()
    full = path + (f"?{query}" if query else "")
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    parsed: MultiDict[str, str] | None = None
    if signing == "garbage":
        headers["X-Twilio-Signature"] = "AAAA" + str(len(body))
    elif signing == "as_parsed":
        with line.app.test_request_context(full, method=method, data=body, headers=headers):
            try:
                parsed = MultiDict(request.form)
            except HTTPException:
                parsed = None
        if parsed is not None:
            headers["X-Twilio-Signature"] = sign(parsed, full)
    response = line.client.open(full, method=method, data=body, headers=headers)
    assert response.status_code < 500, response.status_code
    assert response.data in (TWIML, b""), response.data[:200]
    stored = count(line.runtime, Message, Message.direction == INBOUND)
    if method == "OPTIONS":
        assert response.status_code == 200
    elif method != "POST":
        assert response.status_code == 405
    if parsed is None or method != "POST":
        assert stored == 0
        if method == "POST":
            assert response.status_code in (400, 403, 413), response.status_code
    elif path == MESSAGING:
        # Signed: judged on the form as parsed, like any signed request.
        flat = {key: parsed.get(key, "") for key in parsed}
        assert response.status_code == expected_status(flat)
        assert stored == (1 if response.status_code == 200 else 0)
    check_no_nul(line.runtime)


# -- delivery status callbacks ----------------------------------------------------------------


@pytest.fixture
def outbound_sid(line: Line) -> str:
    """The provider sid of one reply the line sent (the status callback's subject)."""
    form = {
        "MessageSid": "SM" + "1" * 32,
        "From": "+9779841315926",
        "To": SMS_NUMBER,
        "Body": "hello",
        "AccountSid": ACCOUNT_SID,
    }
    assert post(line.client, form, MESSAGING, sign(form)).status_code == 200
    with line.runtime.sessions() as session:
        sid = session.scalars(
            select(Message.provider_sid).where(Message.direction == OUTBOUND).order_by(Message.id)
        ).first()
    assert sid
    return sid


statuses = st.one_of(
    st.sampled_from(sorted(STATUS_RANK)),
    st.sampled_from(sorted(STATUS_RANK)).map(str.upper),
    st.sampled_from(["", " sent", "sent ", "SENT\n", "İ", "receiving", "received", "canceled"]),
    st.text(max_size=30),
)
error_codes = st.one_of(
    st.none(),
    st.sampled_from(["30003", "30008", "21610", "63016", "", "0"]),
    st.text(max_size=30),
    st.integers(11, 500).map(lambda n: "7" * n),
    st.text(alphabet=st.characters(categories=["Cc"]), min_size=1, max_size=3),
)


@fuzz_settings(200)
@given(
    which=st.sampled_from(["ours", "ours", "unknown", "invalid", "missing"]),
    unknown=valid_sids,
    invalid=invalid_sids,
    status=statuses,
    status_field=st.sampled_from(["MessageStatus", "SmsStatus", "both", "none"]),
    error=error_codes,
    extras=extra_fields,
    signed=st.sampled_from([True, True, True, False]),
)
def test_status_callback_never_fails_or_goes_backwards(
    line: Line,
    outbound_sid: str,
    which: str,
    unknown: str,
    invalid: str,
    status: str,
    status_field: str,
    error: str | None,
    extras: dict[str, str],
    signed: bool,
) -> None:
    with line.runtime.db.begin() as connection:
        connection.execute(
            update(Message.__table__)
            .where(Message.__table__.c.provider_sid == outbound_sid)
            .values(delivery_status="queued", error_code=None)
        )
    form = dict(extras)
    sid = {"ours": outbound_sid, "unknown": unknown, "invalid": invalid, "missing": None}[which]
    if sid is not None:
        form["MessageSid"] = sid
    if status_field in ("MessageStatus", "both"):
        form["MessageStatus"] = status
    if status_field in ("SmsStatus", "both"):
        form["SmsStatus"] = status
    if error is not None:
        form["ErrorCode"] = error
    response = post(line.client, form, STATUS, sign(form, STATUS) if signed else None)
    assert response.status_code < 500, response.status_code
    assert response.data == b""
    read = as_read(form)
    the_sid = read.get("MessageSid") or read.get("SmsSid") or ""
    the_status = read.get("MessageStatus") or read.get("SmsStatus") or ""
    if not signed:
        assert response.status_code == 403
    elif not VALID_SID.fullmatch(the_sid) or not the_status:
        assert response.status_code == 400
    else:
        assert response.status_code == 204
    with line.runtime.sessions() as session:
        message = session.scalars(select(Message).where(Message.provider_sid == outbound_sid)).one()
        assert message.delivery_status in STATUS_RANK
        assert STATUS_RANK[message.delivery_status] >= STATUS_RANK["queued"], "moved backwards"
        if message.delivery_status != "queued":
            assert signed
            assert the_sid == outbound_sid
            assert message.delivery_status == the_status.lower()
        assert message.error_code is None or len(message.error_code) <= 10
    check_no_nul(line.runtime)
