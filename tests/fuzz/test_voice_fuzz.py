"""Fuzz the voice webhooks: a call's requests in any order, with any keys, steps, recordings
and statuses, signed or not.

Properties:

* no request gets a 5xx;
* a signed request with a valid CallSid is answered with TwiML (a ``<Response>``), or a
  status callback with an empty 204;
* no answer names the caller's number, in any form;
* nothing stored in a text column holds a NUL character.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from hypothesis import given, note
from hypothesis import strategies as st

from tests.conftest import PUBLIC_URL
from tests.fuzz.conftest import Line, fuzz_settings
from tests.fuzz.harness import check_no_nul
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN
from tests.support.signing import signature

CALLER = "+9779841315926"
FORMS = (CALLER, CALLER[1:], "9841315926")
CALL_SID = "CA" + "a" * 32

keys = st.one_of(
    st.sampled_from(["1", "2", "3", "5", "9", "0", "#", "*", "", "123456789012#", "00"]),
    st.text(alphabet="0123456789*#", max_size=14),
    st.text(max_size=20),
)
steps = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["", "-1", "x", "9" * 30]))
recordings = st.one_of(
    st.none(),
    st.tuples(
        st.sampled_from(["RE" + "b" * 32, "RE1", "", "x" * 40]),
        st.sampled_from(
            [
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
                "ftp://x",
                "",
                "http://[",
            ]
        ),
    ),
)
actions = st.one_of(
    st.tuples(st.just("call"), st.sampled_from([CALLER, "anonymous", "", "+1", "+" + "9" * 20])),
    st.tuples(st.just("next"), keys),  # the question the last answer asked
    st.tuples(st.just("answer"), st.tuples(steps, keys, recordings)),
    st.tuples(st.just("silence"), steps),
    st.tuples(st.just("dialed"), st.sampled_from(["completed", "no-answer", "busy", "", "x"])),
    st.tuples(st.just("status"), st.sampled_from(["completed", "ringing", "in-progress", "", "Ω"])),
    st.tuples(st.just("unsigned"), st.sampled_from(["/twilio/voice", "/twilio/voice/answer"])),
)


def _post(line: Line, url: str, form: dict[str, str], signed: bool = True):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"X-Twilio-Signature": signature(AUTH_TOKEN, url, form)} if signed else {}
    return line.client.post(path, data=form, headers=headers)


@fuzz_settings(40)
@given(script=st.lists(actions, min_size=1, max_size=8))
def test_a_call_in_any_order_never_fails_and_never_names_the_caller(
    line: Line, script: list[tuple[str, object]]
) -> None:
    line.wipe()
    last: ET.Element | None = None
    base = {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": "+15005550009"}
    for kind, value in script:
        note(f"{kind} {value!r}")
        signed = True
        if kind == "call":
            url, form = f"{PUBLIC_URL}/twilio/voice", base | {"From": str(value)}
        elif kind == "next":
            gather = last.find("Gather") if last is not None else None
            record = last.find("Record") if last is not None else None
            target = gather if gather is not None else record
            if target is None:
                continue
            url, form = target.get("action", ""), base | {"Digits": str(value)}
        elif kind == "answer":
            step, digits, recording = value  # type: ignore[misc]
            url = f"{PUBLIC_URL}/twilio/voice/answer?step={step}"
            form = base | {"Digits": digits}
            if recording is not None:
                form |= {"RecordingSid": recording[0], "RecordingUrl": recording[1]}
        elif kind == "silence":
            url, form = f"{PUBLIC_URL}/twilio/voice/silence?step={value}", dict(base)
        elif kind == "dialed":
            url, form = f"{PUBLIC_URL}/twilio/voice/dialed", base | {"DialCallStatus": str(value)}
        elif kind == "status":
            url, form = f"{PUBLIC_URL}/twilio/voice/status", base | {"CallStatus": str(value)}
        else:
            url, form, signed = f"{PUBLIC_URL}{value}", dict(base), False
        response = _post(line, url, form, signed)
        assert response.status_code < 500, (kind, value, response.status_code)
        body = response.get_data(as_text=True)
        assert not any(number in body for number in FORMS), body
        if not signed:
            assert response.status_code == 403
            continue
        if kind == "status":
            assert response.status_code in (204, 400)
            continue
        assert response.status_code == 200, (kind, value, body)
        last = ET.fromstring(response.data)  # noqa: S314 - the line's own answer
        assert last.tag == "Response"
    check_no_nul(line.runtime)
