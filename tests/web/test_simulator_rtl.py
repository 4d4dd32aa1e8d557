"""Right-to-left languages read right to left in the simulator, and codes keep their order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import TIMEOUT_MS, Server, replies, run_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rtl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    instance = tmp_path_factory.mktemp("serve-rtl") / "instance"
    with run_server(instance, GRIEVANCE_LANGUAGES="en,ar,ur") as server:
        yield server


@pytest.fixture
def rtl_page(browser: Browser, rtl_server: Server) -> Iterator[Page]:
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(
        base_url=rtl_server.base_url, viewport={"width": 420, "height": 860}
    )
    tab = context.new_page()
    try:
        tab.goto("/simulator")
        yield tab
    finally:
        context.close()


def direction(page: Page, index: int) -> str:
    return str(replies(page).nth(index).evaluate("e => getComputedStyle(e).direction"))


def test_arabic_replies_read_right_to_left(rtl_page: Page) -> None:
    message = rtl_page.get_by_label("Message")
    message.fill("أحتاج مساعدة، صاحب العمل أخذ جوازي")
    message.press("Enter")
    first = replies(rtl_page).first
    expect(first).to_contain_text("هذا")  # answered in Arabic, detected from the message
    assert direction(rtl_page, 0) == "rtl"
    my_bubble = rtl_page.locator(".bubble.me").first
    assert my_bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"


def test_english_replies_stay_left_to_right(rtl_page: Page) -> None:
    message = rtl_page.get_by_label("Message")
    message.fill("hi I need help")
    message.press("Enter")
    expect(replies(rtl_page).first).to_contain_text("confidential")
    assert direction(rtl_page, 0) == "ltr"
