"""A handler plays a caller's spoken story on the case page, in a real browser.

A real ``grievance serve`` runs with Twilio credentials against the Twilio-compatible test
server. A worker calls (signed voice webhooks, posted to the live server), chooses English,
reports a safety problem and speaks the workplace and the story; the recordings are fetched
from the test server, stored encrypted and deleted there. The handler signs in with TOTP,
opens the case and plays the story in the page's audio player (the browser decodes what
the audited endpoint serves); axe-core finds no WCAG 2.1 A/AA violation on the page.
"""

from __future__ import annotations

import io
import wave
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, FakeTwilioServer
from tests.support.signing import signature
from tests.web.conftest import Server, wait_until
from tests.web.support import (
    PUBLIC,
    axe_violations,
    expect_queue,
    new_context,
    signed_in_handler,
    twilio_serve,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "voice.handler@example.org"
HANDLER_PASSWORD = "four grey geese over the river"
CALLER = "+9779841000733"  # a Nepali mobile number, made up
LINE = "+15005550009"
CALL_SID = "CA" + "7" * 32


def story_wav() -> bytes:
    """Half a second of telephone audio (8 kHz, 16-bit mono): what Twilio serves."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 4000)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    """This module's own Twilio-compatible server."""
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture(scope="module")
def twilio_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeTwilio) -> Iterator[Server]:
    """``grievance serve`` with Twilio credentials, PUBLIC_BASE_URL being ``PUBLIC``."""
    with twilio_serve(tmp_path_factory.mktemp("serve-voice") / "instance", fake, LINE) as server:
        yield server


@pytest.fixture(scope="module")
def handler_state(browser: Browser, twilio_server: Server) -> dict[str, Any]:
    """A handler created with the CLI and signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, twilio_server, HANDLER, HANDLER_PASSWORD)


class Call:
    """The worker's call, through signed voice webhooks to the live server."""

    def __init__(self, server: Server, fake: FakeTwilio) -> None:
        self.server, self.fake = server, fake
        self.last: ET.Element | None = None

    def post(self, url: str, **params: str) -> ET.Element:
        form = {"CallSid": CALL_SID, "AccountSid": ACCOUNT_SID, "From": CALLER, "To": LINE}
        form |= params
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sig = signature(AUTH_TOKEN, url, form)
        response = self.server.post(path, data=form, headers={"X-Twilio-Signature": sig})
        assert response.status_code == 200, response.text
        self.last = ET.fromstring(response.content)  # noqa: S314 - the line's own answer
        return self.last

    def action(self, tag: str) -> str:
        assert self.last is not None
        found = self.last.find(tag)
        assert found is not None, ET.tostring(self.last, encoding="unicode")
        return found.get("action", "")

    def press(self, digits: str) -> ET.Element:
        return self.post(self.action("Gather"), Digits=digits)

    def speak(self, data: bytes) -> ET.Element:
        sid, url = self.fake.add_recording(data)
        return self.post(self.action("Record"), RecordingSid=sid, RecordingUrl=url)


def test_a_handler_plays_the_callers_story_on_the_case_page(
    browser: Browser, twilio_server: Server, fake: FakeTwilio, handler_state: dict[str, Any]
) -> None:
    call = Call(twilio_server, fake)
    call.post(f"{PUBLIC}/twilio/voice")
    call.press("1")  # English
    call.press("1")  # report
    call.press("1")  # yes
    call.press("5")  # danger to health or safety
    call.speak(story_wav())  # the workplace
    call.speak(story_wav())  # the story
    call.press("2")  # not in danger now
    final = call.press("2")  # no news
    assert "Your case code is" in " ".join(e.text or "" for e in final.iter("Say"))
    wait_until(
        lambda: len(fake.deleted_recordings) == 2,
        lambda: f"both recordings fetched and deleted at Twilio\n{twilio_server.describe()}",
    )

    context = new_context(browser, twilio_server, storage_state=handler_state)
    errors: list[str] = []
    try:
        page: Page = watched(context, errors)
        page.goto("/cases")
        expect_queue(page)
        link = page.get_by_role("link", name="#1")
        link.click()
        players = page.locator("audio")
        expect(players).to_have_count(2)
        expect(players.first).to_have_attribute("aria-label", "Recording 1")
        played = page.evaluate(
            """async () => {
                const audio = document.querySelector('audio');
                audio.muted = true;
                await audio.play();
                return {duration: audio.duration, error: audio.error && audio.error.code};
            }"""
        )
        assert played["error"] is None
        assert 0.4 < played["duration"] < 0.6
        assert not errors, f"console or CSP errors on the case page: {errors}"
    finally:
        context.close()

    checker = new_context(browser, twilio_server, storage_state=handler_state, bypass_csp=True)
    try:
        page = checker.new_page()
        page.goto("/cases/1")
        expect(page.locator("audio")).to_have_count(2)
        assert axe_violations(page) == []
    finally:
        checker.close()
