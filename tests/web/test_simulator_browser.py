"""The phone simulator in a real browser (Debian's Chromium), used the way a worker writes.

Chromium comes from the distribution (``apt-get install chromium``): Playwright's own
browser download is not used. Without it the tests skip, except under CI=true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import SCREENSHOT_DIR, TIMEOUT_MS, Server, mine, replies, say

pytestmark = pytest.mark.browser

SCREENSHOT = SCREENSHOT_DIR / "simulator.png"
DEVANAGARI = re.compile("[\u0900-\u097f]")


@pytest.fixture
def page(browser: Browser, live_server: Server) -> Iterator[Page]:
    """A fresh phone-sized browser tab (new storage: a new simulated phone) on the simulator."""
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 420, "height": 860}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        response = tab.goto("/simulator")
        assert response is not None
        assert response.status == 200, (
            f"GET /simulator: {response.status}\n{live_server.describe()}"
        )
        yield tab
        assert not errors, f"JavaScript errors on the page: {errors}"
    finally:
        context.close()


def test_worker_reports_changes_language_and_starts_over(page: Page) -> None:
    message = page.get_by_label("Message")
    send = page.get_by_role("button", name="Send")
    expect(message).to_be_visible()

    message.fill("hi I need help")
    send.click()
    expect(mine(page).last).to_have_text("hi I need help")
    expect(message).to_have_value("")
    first = replies(page).first
    expect(first).to_contain_text(say("intake.promise"))
    expect(first).to_contain_text(say("intake.continue_question"))

    message.fill("1")
    send.click()
    menu = replies(page).filter(has_text=say("intake.choose_category"))
    expect(menu).to_have_count(1)
    expect(menu).to_contain_text("1 " + say("category.movement_documents"))
    expect(menu).to_contain_text("9 " + say("category.something_else"))

    message.fill("LANGUAGE")
    send.click()
    languages = replies(page).filter(has_text=say("common.choose_language"))
    expect(languages).to_have_count(1)
    expect(languages).to_contain_text("2 नेपाली")

    message.fill("2")
    send.click()
    expect(replies(page).filter(has_text="नेपालीमा")).to_have_count(1)
    nepali = replies(page).last
    expect(nepali).to_have_text(DEVANAGARI)
    assert not re.search("[A-Za-z]{4,}", nepali.inner_text()), nepali.inner_text()
    # Each reply is shown once, however the polling and the send raced.
    texts = replies(page).all_inner_texts()
    assert len(texts) == len(set(texts)), texts
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.get_by_role("button", name="New phone").click()
    expect(page.get_by_role("log", name="Conversation").locator(".bubble")).to_have_count(0)
    expect(message).to_be_focused()

    # The new phone is a stranger to the line: it hears the confidentiality text again, in English.
    message.fill("hi")
    send.click()
    expect(replies(page).first).to_contain_text(say("intake.promise"))


def test_keyboard_only(page: Page) -> None:
    message = page.get_by_label("Message")
    expect(message).to_be_focused()
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()

    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    expect(mine(page)).to_have_text(["hello"])
    expect(replies(page).first).to_contain_text(say("intake.promise"))

    # Enter on an empty message sends nothing.
    expect(message).to_have_value("")
    message.press("Enter")
    expect(mine(page)).to_have_count(1)

    # Tab reaches the Send button and the New phone button.
    message.press("Tab")
    expect(page.get_by_role("button", name="Send")).to_be_focused()
    page.get_by_role("button", name="New phone").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("log", name="Conversation").locator(".bubble")).to_have_count(0)
