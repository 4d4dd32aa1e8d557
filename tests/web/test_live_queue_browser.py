"""The live queue in a real browser (Debian's Chromium): a handler has the queue open, with a
search half typed, while a worker reports recruitment fees (a P1 case) through signed Twilio
webhooks. Without a reload, the new case appears in the table, marked "new" and highlighted;
the page title counts it, "(1) Cases"; the counts say so; the half-typed search and its focus
are untouched. The staff on duty are alerted by email at once (the console mailer's log: the
case number and a link only). axe-core finds no WCAG 2.1 A/AA violation on the updated
queue, and the page logs no console error. Every wait is for a condition, never a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import SMS_NUMBER
from tests.support.fake_twilio import FakeTwilio, FakeTwilioServer
from tests.web.conftest import Server, wait_until
from tests.web.support import (
    DESKTOP,
    Worker,
    axe_violations,
    expect_queue,
    new_context,
    queue_row,
    signed_in_handler,
    twilio_serve,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "live.handler@example.org"
HANDLER_PASSWORD = "nine lanterns over the harbour"
WORKER_NUMBER = "+60123000417"  # a Malaysian mobile number, made up
WORKPLACE = "Sunrise Garments, Penang"
STORY = "The agent took 3000 dollars for this job"
HALF_TYPED = "Sunr"
CODE = re.compile(r"\b\d{4} \d{4} \d{4}\b")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture(scope="module")
def twilio_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeTwilio) -> Iterator[Server]:
    """``grievance serve`` in Twilio mode, sending through this module's fake Twilio."""
    instance = tmp_path_factory.mktemp("serve-live") / "instance"
    with twilio_serve(instance, fake, SMS_NUMBER, GRIEVANCE_DETAILS_DELAY="off") as server:
        yield server


@pytest.fixture(scope="module")
def handler_state(browser: Browser, twilio_server: Server) -> dict[str, Any]:
    """A handler created with the CLI and signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, twilio_server, HANDLER, HANDLER_PASSWORD)


def report_fees(worker: Worker) -> str:
    """The English intake of tests/support/intake.py, over Twilio; the case code."""
    worker.says_and_hears("hello I need help", ["confidential"])
    worker.says_and_hears("1", ["1 Passport or ID kept"])
    worker.says_and_hears("2", ["Where do you work"])  # recruitment fees: P1
    worker.says_and_hears(WORKPLACE, ["What happened"])
    worker.says_and_hears(STORY, ["danger"])
    worker.says_and_hears("2", ["news"])
    worker.says_and_hears("1", ["also say what the news is"])
    (final,) = worker.says_and_hears("2", ["code"])[-1:]
    match = CODE.search(final)
    assert match, final
    return match.group(0)


def test_a_new_case_appears_highlighted_in_the_open_queue_without_a_reload(
    browser: Browser, twilio_server: Server, fake: FakeTwilio, handler_state: dict[str, Any]
) -> None:
    context = new_context(browser, twilio_server, storage_state=handler_state, viewport=DESKTOP)
    errors: list[str] = []
    try:
        page: Page = watched(context, errors)
        page.goto("/cases")
        expect_queue(page)
        expect(page).to_have_title("Cases · grievance")
        expect(page.get_by_text("No cases match.")).to_be_visible()
        # A reload would lose this; the live queue must not need one.
        page.evaluate("window.openedOnce = true")
        search = page.get_by_label("Case number or workplace")
        search.click()
        search.press_sequentially(HALF_TYPED)  # typed, not submitted

        report_fees(Worker(twilio_server, fake, WORKER_NUMBER))

        row = queue_row(page, WORKPLACE)
        expect(row).to_have_count(1)  # the poll brought it, within the expect's bound
        expect(row).to_have_class(re.compile(r"\bchanged\b"))
        expect(row.locator(".flag-new")).to_have_text("new")
        expect(row.get_by_role("cell").nth(1)).to_have_text("P1")
        expect(page).to_have_title("(1) Cases · grievance")
        expect(page.locator("#counts")).to_contain_text(
            "1 new or changed since this page was opened"
        )
        assert page.evaluate("window.openedOnce") is True  # no reload
        expect(search).to_have_value(HALF_TYPED)
        expect(search).to_be_focused()
        assert "q=" not in page.url  # nothing was submitted for the handler

        # Staff on duty were alerted at once: the case number and a link, nothing more.
        case_id = int(row.get_by_role("link", name=re.compile(r"^#\d+$")).inner_text()[1:])
        wait_until(
            lambda: (
                f"Case #{case_id}: a new P1 case" in twilio_server.stderr
                or f"Case #{case_id}: a new P1 case" in twilio_server.stdout
            ),
            lambda: f"the alert's email in the log\n{twilio_server.describe()}",
        )
        log = twilio_server.stdout + twilio_server.stderr
        assert "Sunrise" not in log[log.index(f"Case #{case_id}: a new P1 case") :][:300]

        assert errors == []  # htmx polled under the app's own CSP
        # No bypass_csp for axe-core: it would hide whether the polling breaks the policy.
        assert axe_violations(page, under_csp=True) == []

        # A filter swaps the table and pushes its URL, and the polls follow the new filter;
        # htmx keeps no copy of the page (workplaces are a worker's words) in localStorage,
        # which outlives the session on a shared computer.
        page.get_by_label("Severity", exact=True).select_option("P0")
        expect(page).to_have_url(re.compile(r"severity=P0"))
        expect(page.get_by_text("No cases match.")).to_be_visible()
        expect(page.locator("#live")).to_have_attribute("hx-get", re.compile(r"severity=P0"))
        assert page.evaluate("window.localStorage.length") == 0
        page.go_back()  # no copy to restore: the whole page is loaded again
        expect(page).not_to_have_url(re.compile(r"severity=P0"))
        expect_queue(page)
        expect(queue_row(page, WORKPLACE)).to_have_count(1)
    finally:
        context.close()
