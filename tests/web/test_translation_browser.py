"""A handler who reads no Burmese handles a Burmese worker, in a real browser.

A real ``grievance serve`` runs with ``GRIEVANCE_TRANSLATION_URL`` pointing at the
LibreTranslate-compatible server these tests start (tests/support/fake_libretranslate.py):

1. A worker reports in Burmese on the phone simulator.
2. The case page shows the worker's words as written and, beside them, their machine
   translation into English, marked as machine translation.
3. The handler writes a reply in English: the next page shows the Burmese translation that
   would be sent and its back-translation into English; nothing has reached the worker.
4. The handler confirms; the worker's phone receives the Burmese text only.

axe-core finds no WCAG 2.1 A/AA violation on the case page and on the preview.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.fake_libretranslate import FakeLibreTranslate, FakeLibreTranslateServer
from tests.web.conftest import Server, SimPhone, run_server
from tests.web.support import (
    axe_violations,
    new_context,
    open_case,
    screenshot_dir,
    signed_in_handler,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "translation.handler@example.org"
PASSWORD = "eleven amber kites over water"
# A danger report typed in Burmese from its first message (tests/flows/danger_first_message_my.yaml).
STORY = "ကူညီပါ အန္တရာယ်ရှိနေတယ် အခန်းထဲမှာ ပိတ်ထားတယ်"
REPORT = [STORY, "1", "1", "1", "ရန်ကုန် အိမ်", "1", "2"]
WORKPLACE = "ရန်ကုန် အိမ်"
STORY_EN = "Help, I am in danger, they locked me in the room"
REPLY = "We will call you tomorrow morning."
REPLY_MY = "မနက်ဖြန် မနက် ဖုန်းဆက်ပါမယ်"
REPLY_BACK = "We will phone you tomorrow morning."


@pytest.fixture(scope="module")
def libretranslate() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslateServer() as server:
        yield server.app


@pytest.fixture(scope="module")
def translating_server(
    tmp_path_factory: pytest.TempPathFactory, libretranslate: FakeLibreTranslate
) -> Iterator[Server]:
    """``grievance serve`` with machine translation through the test server."""
    with run_server(
        tmp_path_factory.mktemp("serve") / "instance",
        GRIEVANCE_DETAILS_DELAY="off",
        GRIEVANCE_TRANSLATION_URL=libretranslate.url,
    ) as server:
        yield server


def test_a_burmese_report_is_read_and_answered_in_english(
    browser: Browser,
    translating_server: Server,
    libretranslate: FakeLibreTranslate,
    tmp_path: Path,
) -> None:
    libretranslate.phrase("my", "en", STORY, STORY_EN)
    libretranslate.phrase("en", "my", REPLY, REPLY_MY)
    libretranslate.phrase("my", "en", REPLY_MY, REPLY_BACK)
    phone = SimPhone(translating_server, "burmese-translation")
    for text in REPORT:
        phone.send(text)
        phone.replies_until("")
    state = signed_in_handler(browser, translating_server, HANDLER, PASSWORD)
    context = new_context(browser, translating_server, storage_state=state)
    errors: list[str] = []
    page = watched(context, errors)
    try:
        open_case(page, WORKPLACE)
        words = page.locator("blockquote.words")
        expect(words).to_have_text(STORY)
        translated = page.locator(".words-translated")
        expect(translated).to_contain_text("Machine translation into English, may be wrong")
        expect(translated).to_contain_text(STORY_EN)
        assert axe_violations(page, under_csp=True) == []
        page.screenshot(path=str(screenshot_dir(tmp_path) / "case-machine-translation.png"))

        # The reply, in English: first the preview, and nothing is sent.
        page.get_by_label("Free text", exact=True).fill(REPLY)
        page.get_by_role("button", name=re.compile(r"^Send \(free text")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Check your reply")
        expect(page.locator("#translated-reply")).to_have_text(REPLY_MY)
        expect(page.locator("#back-translation")).to_have_text(REPLY_BACK)
        assert axe_violations(page, under_csp=True) == []
        page.screenshot(path=str(screenshot_dir(tmp_path) / "reply-back-translation.png"))
        assert not any(REPLY_MY in m for m in phone_messages(phone))

        # Confirmed: the worker gets the Burmese text.
        page.get_by_role("button", name=re.compile(r"^Send the .* translation")).click()
        expect(page.get_by_role("status").filter(has_text="Message queued")).to_be_visible()
        received = phone.replies_until(REPLY_MY)
        assert REPLY not in received
        assert REPLY_BACK not in received
        expect(page.locator(".timeline")).to_contain_text(
            f"What the handler wrote, before machine translation: {REPLY}"
        )
        assert not errors, errors
    finally:
        context.close()


def phone_messages(phone: SimPhone) -> list[str]:
    """The line's messages the phone has now (without waiting for one)."""
    response = phone.server.get(
        "/simulator/messages",
        params={"phone": phone.phone_id, "channel": phone.channel, "after": phone.last},
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json()["messages"]]
