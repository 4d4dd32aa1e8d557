"""A handler finds a worker's second report of one problem and merges it, in a real browser
(Debian's Chromium), against a real ``grievance serve`` (conftest's ``live_server``).

1. One worker reports a machine without a guard, then reports it again (two P2 cases).
2. The queue marks both rows "possible duplicate".
3. The second case's page suggests it as a possible duplicate of the first, with the first's
   category, stage and day.
4. The handler merges it into the first: the first's page shows the second's messages on its
   timeline, marked with their case; the second's page says it is merged into the first and
   is closed; the queue shows the first alone, with no marker.

axe-core finds no WCAG 2.1 A/AA violation on the case page with the suggestion, the primary
with the merged history, and the merged duplicate; no page logs a console error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server, SimPhone
from tests.web.support import (
    axe_violations,
    expect_queue,
    fact,
    fixed_part,
    new_context,
    open_case,
    queue_row,
    signed_in_handler,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "duplicates.handler@example.org"
HANDLER_PASSWORD = "nine amber kites over water"

FIRST_PLACE = "Blue River Poultry, Johor"
SECOND_PLACE = "the poultry farm near Kluang"
FIRST_STORY = "The cutting machine has no guard."
SECOND_STORY = "Nobody fixed the machine guard, someone cut a finger."


@pytest.fixture(scope="module")
def handler_state(browser: Browser, live_server: Server) -> dict[str, Any]:
    """This module's handler, signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, live_server, HANDLER, HANDLER_PASSWORD)


@pytest.fixture
def handler(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in handler's tab; fails on any console or CSP error."""
    context = new_context(browser, live_server, storage_state=handler_state)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert not errors, f"console or CSP errors on the handler's pages: {errors}"
    finally:
        context.close()


@pytest.fixture
def checker(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The handler's tab for axe-core (injected as a script, so this context bypasses the CSP)."""
    context = new_context(browser, live_server, storage_state=handler_state, bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def report(worker: SimPhone, first: str, workplace: str, story: str) -> None:
    """A health and safety report (P2), not in danger, content-free news."""
    for message, reply in (
        (first, "intake.promise"),
        ("1", "intake.choose_category"),
        ("5", "intake.ask_workplace"),
        (workplace, "intake.ask_what_happened"),
        (story, "intake.ask_danger_now"),
        ("2", "intake.ask_updates"),
        ("1", "intake.ask_full_updates"),
        ("2", "intake.case_opened"),
    ):
        worker.send(message)
        worker.replies_until(fixed_part("en", reply))


def test_a_handler_sees_a_possible_duplicate_and_merges_it(
    handler: Page, checker: Page, live_server: Server
) -> None:
    problems: dict[str, list[str]] = {}
    worker = SimPhone(live_server, "duplicates-phone")
    report(worker, "hello", FIRST_PLACE, FIRST_STORY)
    report(worker, "MENU", SECOND_PLACE, SECOND_STORY)

    # 2. The queue marks both.
    handler.goto("/cases")
    expect_queue(handler)
    for place in (FIRST_PLACE, SECOND_PLACE):
        expect(queue_row(handler, place).locator(".flag-duplicate")).to_have_text(
            "possible duplicate"
        )

    # 3. The second case suggests the first.
    first = open_case(handler, FIRST_PLACE)
    second = open_case(handler, SECOND_PLACE)
    suggestion = handler.locator(f"#suggestion-{first}")
    expect(suggestion).to_contain_text(f"Possible duplicate of case #{first}")
    expect(suggestion).to_contain_text("Health and safety")
    expect(suggestion).to_contain_text("received")
    checker.goto(f"/cases/{second}")
    expect(checker.locator(f"#suggestion-{first}")).to_be_visible()
    problems[f"/cases/{second} (a possible duplicate)"] = axe_violations(checker)

    # 4. Merge it into the first: the first's page carries the second's history.
    suggestion.get_by_role("button", name=f"Merge this case into #{first}").click()
    expect(handler).to_have_url(re.compile(rf"/cases/{first}$"))
    expect(handler.locator("p.flash.ok")).to_have_text(
        f"Case #{second} is merged into this case: its history shows below."
    )
    merged_words = handler.locator("ol.timeline li.t-in").filter(has_text=SECOND_STORY)
    expect(merged_words.first).to_contain_text(f"On case #{second} (merged)")
    expect(handler.locator("#merged-from")).to_contain_text(f"#{second}")
    expect(handler.locator(".suggestions")).to_have_count(0)
    checker.goto(f"/cases/{first}")
    expect(checker.locator("#merged-from")).to_be_visible()
    problems[f"/cases/{first} (the primary, with the merged history)"] = axe_violations(checker)

    handler.goto(f"/cases/{second}")
    expect(handler.locator("#merged-banner")).to_contain_text(f"Merged into case #{first}")
    expect(fact(handler, "Stage")).to_have_text("closed")
    expect(fact(handler, "Merged into")).to_have_text(f"#{first}")
    checker.goto(f"/cases/{second}")
    expect(checker.locator("#merged-banner")).to_be_visible()
    problems[f"/cases/{second} (merged)"] = axe_violations(checker)

    handler.goto("/cases")
    expect_queue(handler)
    expect(queue_row(handler, SECOND_PLACE)).to_have_count(0)
    expect(queue_row(handler, FIRST_PLACE).locator(".flag-duplicate")).to_have_count(0)

    found = [f"{where}: {v}" for where, violations in problems.items() for v in violations]
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)
