"""Assignment and working faster, in a real browser (Debian's Chromium): a handler ticks two
cases nobody has and assigns them to themself in one step; the queue then shows them as theirs
and the workload counts them. The keyboard shortcuts' help opens with "?", lists the keys,
closes with Escape, and the keys move through the queue and select cases. axe-core finds no
WCAG 2.1 A/AA violation on the queue, the help or the workload, under the app's own CSP, and
no page logs a script or CSP error. Every wait is for a condition, never a time.

With GRIEVANCE_SCREENSHOTS=1 the run also rewrites ``docs/screenshots/bulk-assign.png`` and
``docs/screenshots/shortcuts.png`` (a small ``grievance demo``: no real data).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server
from tests.web.support import (
    axe_violations,
    expect_queue,
    grievance,
    new_context,
    queue_row,
    screenshot_dir,
    signed_in_state,
    watched,
)

pytestmark = pytest.mark.browser

DEMO_HANDLER = "handler@demo.example"


@pytest.fixture(scope="module")
def handler_state(browser: Browser, live_server: Server) -> dict[str, Any]:
    """A small demo (its handler's password and TOTP secret), the handler signed in once."""
    out = grievance(live_server, "demo", "--cases", "24")
    password = re.search(r"^Password of all \d+: (\S+)$", out, re.MULTILINE)
    secret = re.search(rf"^\s+{re.escape(DEMO_HANDLER)}: ([A-Z2-7]+)$", out, re.MULTILINE)
    assert password, out
    assert secret, out
    account = {"password": password.group(1), "secret": secret.group(1)}
    return signed_in_state(browser, live_server, DEMO_HANDLER, account)


@pytest.fixture
def handler(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in handler's tab; fails on any script, console or CSP error."""
    context = new_context(browser, live_server, storage_state=handler_state)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert errors == [], errors
    finally:
        context.close()


def case_numbers(page: Page, count: int) -> list[str]:
    links = page.locator("table.queue tbody tr a[id^='case-link-']")
    expect(links.first).to_be_visible()
    return [links.nth(i).inner_text().lstrip("#") for i in range(count)]


def test_a_handler_assigns_two_cases_nobody_has_to_themself_at_once(
    handler: Page, tmp_path: Path
) -> None:
    handler.goto("/cases")
    expect_queue(handler)
    handler.get_by_label("Assigned to", exact=True).select_option(label="Nobody (unassigned)")
    expect(handler).to_have_url(re.compile(r"assignee=none"))
    first, second = case_numbers(handler, 2)
    for number in (first, second):
        row = handler.locator("table.queue tbody tr").filter(
            has=handler.get_by_role("link", name=f"#{number}", exact=True)
        )
        expect(row.get_by_role("cell").last).to_have_text("nobody")
        handler.get_by_label(f"Select case #{number}", exact=True).check()

    bulk = handler.get_by_role("form", name="With the selected cases")
    bulk.get_by_label("Assign to").select_option(label="Me")
    expect(bulk.get_by_role("status")).to_have_text("2 cases selected.")
    handler.screenshot(path=str(screenshot_dir(tmp_path) / "bulk-assign.png"))
    bulk.get_by_role("button", name="Assign selected").click()

    expect(handler.get_by_role("status").filter(has_text="Assigned: 2 cases")).to_have_text(
        f"Assigned: 2 cases (#{first}, #{second})."
    )
    # Back on the same view (cases nobody has): the two are no longer in it.
    expect(handler).to_have_url(re.compile(r"assignee=none"))
    for number in (first, second):
        expect(handler.get_by_role("link", name=f"#{number}", exact=True)).to_have_count(0)

    handler.get_by_label("Assigned to", exact=True).select_option(label="Me")
    expect(handler).to_have_url(re.compile(r"assignee=me"))
    for number in (first, second):
        row = handler.locator("table.queue tbody tr").filter(
            has=handler.get_by_role("link", name=f"#{number}", exact=True)
        )
        expect(row.get_by_role("cell").last).to_have_text("me")
    assert axe_violations(handler, under_csp=True) == []

    handler.get_by_role("navigation", name="Main").get_by_role("link", name="Workload").click()
    expect(handler.get_by_role("heading", name="Workload", level=1)).to_be_visible()
    mine = handler.get_by_role("row").filter(has_text=DEMO_HANDLER)
    expect(mine).to_have_count(1)
    assert axe_violations(handler, under_csp=True) == []


def test_the_shortcuts_help_opens_with_a_question_mark_and_the_keys_work(
    handler: Page, tmp_path: Path
) -> None:
    handler.goto("/cases")
    expect_queue(handler)
    help_dialog = handler.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_hidden()
    handler.locator("main").focus()
    handler.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.get_by_role("cell", name="Select or unselect the case")).to_be_visible()
    handler.screenshot(path=str(screenshot_dir(tmp_path) / "shortcuts.png"))
    assert axe_violations(handler, under_csp=True) == []
    handler.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    expect(handler.locator("main")).to_be_focused()  # back where the help was opened from
    opener = handler.get_by_role("button", name="Keyboard shortcuts (press ?)")

    # j to the first case, j to the second, x selects it, / goes to the search.
    handler.keyboard.press("j")
    first = handler.locator("table.queue tbody tr").first.locator("a[id^='case-link-']")
    expect(first).to_be_focused()
    handler.keyboard.press("j")
    second_row = handler.locator("table.queue tbody tr").nth(1)
    expect(second_row.locator("a[id^='case-link-']")).to_be_focused()
    handler.keyboard.press("x")
    expect(second_row.locator(".select-case")).to_be_checked()
    expect(second_row).to_have_class(re.compile(r"\bselected\b"))
    handler.keyboard.press("/")
    search = handler.get_by_label("Case number or workplace")
    expect(search).to_be_focused()
    search.press_sequentially("j?")  # typed into the field, not taken as shortcuts
    expect(search).to_have_value("j?")
    expect(help_dialog).to_be_hidden()

    # The help can turn the single keys off (kept in this browser): "j" then does nothing.
    handler.goto("/cases")
    expect_queue(handler)
    opener.click()
    help_dialog.get_by_label("Turn single-key shortcuts off").check()
    help_dialog.get_by_role("button", name="Close").click()
    handler.locator("main").focus()
    handler.keyboard.press("j")
    expect(handler.locator("main")).to_be_focused()

    # The case page has its own keys, listed in its own help.
    opener.click()
    help_dialog.get_by_label("Turn single-key shortcuts off").uncheck()
    help_dialog.get_by_role("button", name="Close").click()
    first.click()
    expect(handler).to_have_url(re.compile(r"/cases/\d+$"))
    handler.locator("main").focus()
    handler.keyboard.press("?")
    expect(help_dialog.get_by_role("cell", name="Back to the queue")).to_be_visible()
    assert axe_violations(handler, under_csp=True) == []
    handler.keyboard.press("Escape")
    handler.keyboard.press("a")
    expect(handler.get_by_label("Assign to", exact=True)).to_be_focused()
    handler.locator("main").focus()
    handler.keyboard.press("u")
    expect_queue(handler)
    expect(queue_row(handler, "")).not_to_have_count(0)
