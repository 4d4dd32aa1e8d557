"""A worker's phone calling the line: signed Twilio Voice webhooks, TwiML read as XML."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask.testing import FlaskClient

from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.support.signing import signature

VOICE_NUMBER = "+15005550009"
# A tiny WAV file: what Twilio serves for a recording.
WAV = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00@\x1f\x00\x00\x01\x00\x08\x00data\x00\x00\x00\x00"


def said(root: ET.Element) -> list[str]:
    """Every sentence a TwiML answer says, in order (inside <Gather> too)."""
    return [(e.text or "").strip() for e in root.iter("Say")]


def spoken(root: ET.Element) -> str:
    """Everything said, as one text."""
    return " ".join(said(root))


@dataclass
class Caller:
    """One call from ``number`` to the line; each method answers the last TwiML."""

    client: FlaskClient
    fake: FakeTwilio
    number: str
    base_url: str
    to: str = VOICE_NUMBER
    call_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    last: ET.Element | None = None
    answers: list[ET.Element] = field(default_factory=list)

    def post(self, url: str, **params: str) -> ET.Element:
        """Post ``params`` to ``url`` (absolute, as TwiML names it) signed as Twilio signs."""
        form = {
            "CallSid": self.call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.number,
            "To": self.to,
            "Direction": "inbound",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
            "FromCity": "KATHMANDU",
            "CallerName": "Canary Caller",
        } | params
        sig = signature(AUTH_TOKEN, url, form)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data=form, headers={"X-Twilio-Signature": sig})
        assert response.status_code == 200, (response.status_code, response.data)
        assert response.mimetype == "application/xml"
        self.last = ET.fromstring(response.data)  # noqa: S314 - our own answer, not untrusted input
        self.answers.append(self.last)
        return self.last

    def call(self) -> ET.Element:
        """Ring the line."""
        return self.post(f"{self.base_url}/twilio/voice", CallStatus="ringing")

    def _verb(self, tag: str) -> ET.Element:
        assert self.last is not None
        found = self.last.find(tag)
        assert found is not None, f"no <{tag}> in {ET.tostring(self.last, encoding='unicode')}"
        return found

    def press(self, digits: str) -> ET.Element:
        """Press keys at the question asked."""
        gather = self._verb("Gather")
        assert gather.get("input") == "dtmf"
        return self.post(gather.get("action", ""), Digits=digits)

    def silent(self) -> ET.Element:
        """Press nothing: Twilio goes on to the <Redirect> after the question."""
        return self.post(self._verb("Redirect").text or "")

    def speak(self, data: bytes = WAV) -> ET.Element:
        """Speak after the beep: Twilio posts the recording to <Record>'s action."""
        record = self._verb("Record")
        assert record.get("transcribe") in (None, "false")
        sid, url = self.fake.add_recording(data)
        return self.post(
            record.get("action", ""), RecordingSid=sid, RecordingUrl=url, RecordingDuration="7"
        )

    def status(self, state: str) -> int:
        """Twilio's status callback for this call."""
        url = f"{self.base_url}/twilio/voice/status"
        form = {"CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "CallStatus": state}
        sig = signature(AUTH_TOKEN, url, form)
        return self.client.post(
            "/twilio/voice/status", data=form, headers={"X-Twilio-Signature": sig}
        ).status_code
