"""Browser notifications of immediate alerts in a real browser (Debian's Chromium): a handler
has the queue open in two browsers. Neither is asked for permission on load; both show
"Turn on browser notifications", and axe-core finds no WCAG 2.1 A/AA violation with it. In
one the handler allows notifications and presses the button; then a worker writes that they
are in danger now (a P0 case). That browser shows a notification with the case number, "P0
case" and the case's link, nothing else; the other, never allowed, shows none and never asks
the server for alerts. The notifications are observed by wrapping ``window.Notification`` in
an init script that records each one. Every wait is for a condition, never a time.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Request, expect

from tests.web.conftest import Server, SimPhone, wait_until
from tests.web.support import (
    axe_violations,
    expect_queue,
    new_context,
    signed_in_handler,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "notify.handler@example.org"
HANDLER_PASSWORD = "seven kites above the river"
DANGER = "help me, they beat me and locked me in the room"

# Records every notification the page creates and every request for permission, then does
# what the browser would have done: observing the browser, not replacing the page's code.
RECORD = """
(() => {
  const Real = window.Notification;
  window.shownNotifications = [];
  window.permissionRequests = 0;
  if (!Real) { return; }
  function Recording(title, options) {
    window.shownNotifications.push({ title: title, body: (options || {}).body || "" });
    return new Real(title, options);
  }
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  Recording.requestPermission = (...args) => {
    window.permissionRequests += 1;
    return Real.requestPermission(...args);
  };
  Recording.prototype = Real.prototype;
  window.Notification = Recording;
})();
"""


def test_a_p0_case_shows_a_notification_only_in_the_browser_that_allowed_it(
    browser: Browser, live_server: Server
) -> None:
    state = signed_in_handler(browser, live_server, HANDLER, HANDLER_PASSWORD)
    allowed = new_context(browser, live_server, storage_state=state)
    refused = new_context(browser, live_server, storage_state=state)
    errors: list[str] = []
    asked_refused: list[str] = []
    try:
        for context in (allowed, refused):
            context.add_init_script(RECORD)
        page = watched(allowed, errors)
        other = watched(refused, errors)

        def alerts_request(request: Request) -> None:
            if "/alerts/pending" in request.url:
                asked_refused.append(request.url)

        other.on("request", alerts_request)
        for tab in (page, other):
            tab.goto("/cases")
            expect_queue(tab)
            button = tab.get_by_role("button", name="Turn on browser notifications")
            expect(button).to_be_visible()
            assert tab.evaluate("window.permissionRequests") == 0  # never asked on load
        # No bypass_csp for axe-core: the button's script runs under the app's own policy.
        assert axe_violations(other, under_csp=True) == []

        allowed.grant_permissions(["notifications"])
        button = page.get_by_role("button", name="Turn on browser notifications")
        with page.expect_response(lambda r: "/alerts/pending" in r.url) as first:
            button.click()
        assert first.value.json()["alerts"] == []  # a new browser starts now, not in the past
        expect(button).to_be_hidden()
        assert page.evaluate("window.permissionRequests") == 1

        phone = SimPhone(live_server, "notify-phone")
        phone.send(DANGER)
        phone.replies_until("Are you in danger right now?")
        phone.send("1")
        phone.replies_until("We will treat your report as urgent.")

        shown: list[dict[str, Any]] = wait_until(
            lambda: page.evaluate("window.shownNotifications"),
            lambda: f"a notification\n{live_server.describe()}",
        )
        (note,) = shown
        title = re.fullmatch(r"Case #(\d+): P0 case", note["title"])
        assert title, note
        case_id = int(title.group(1))
        assert note["body"] == f"{live_server.base_url}/cases/{case_id}"  # the link, nothing else

        # The browser without permission has the case in its queue (its own poll brought it),
        # but showed nothing, asked the server for no alert, and kept nothing.
        expect(other.locator(f"#case-link-{case_id}")).to_be_visible()
        assert other.evaluate("window.shownNotifications") == []
        assert asked_refused == []
        assert other.evaluate("window.localStorage.length") == 0
        assert errors == []
    finally:
        allowed.close()
        refused.close()
