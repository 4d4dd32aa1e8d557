"""A worker and a case handler talk after the report, in a real browser (Debian's Chromium).

A real ``grievance serve`` runs on a fresh instance directory (conftest's ``live_server``); a
handler is created with the ``grievance`` CLI and signs in with TOTP. The worker writes on the
phone simulator (the console channel, through the real inbox, flows and outbox):

1. The worker reports in English and gets a 12-digit case code.
2. The worker writes again: the line says the message is added to the report (no new report,
   no consent text again).
3. The handler's queue flags the case "worker replied (1 unread)"; the "Worker replied" filter
   narrows the queue to it (another worker's case, without a reply, is left out).
4. The case page says there are new messages from the worker and shows their words on the
   timeline; opening the case marked them read (no banner on reloading, no flag in the queue).
5. The canned replies show their meaning in English; the handler asks "are you safe now?"; the
   worker answers "2, I need help now": the case is P0, "the worker asked for a person", and
   the timeline says the worker answered "are you safe now?": needs help now.
6. The handler writes free text; the worker receives exactly that text; a person has written,
   so the request for a person is answered.

axe-core finds no WCAG 2.1 A/AA violation on the queue (with the flags and the filter) and on
the case page (with both banners and the whole dialogue); no page logs a console error.

With GRIEVANCE_SCREENSHOTS=1 the run also writes ``docs/screenshots/dialogue-queue.png`` and
``docs/screenshots/dialogue-case.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from grievance.services.triage import CANNED_REPLIES
from tests.web.conftest import Server, SimPhone, replies, say
from tests.web.support import (
    DESKTOP,
    PHONE,
    axe_violations,
    expect_queue,
    fixed_part,
    from_line,
    new_context,
    queue_row,
    screenshot_dir,
    send,
    severity_badge,
    signed_in_handler,
    watched,
)

pytestmark = pytest.mark.browser

HANDLER = "dialogue.handler@example.org"
HANDLER_PASSWORD = "seven quiet herons at dusk"

WORKPLACE = "Golden Thread Garments, Gazipur"
STORY = "The agent took 3000 dollars for the job and kept my passport."
FOLLOW_UP = "They paid back only half. The agent still has my passport."
SAFETY_ANSWER = "2, I need help now"
FREE_TEXT = "We are calling you in 10 minutes."

OTHER_WORKPLACE = "Blue River Poultry, Johor"  # another worker's case, who never writes again

CODE = re.compile(r"\b\d{4} \d{4} \d{4}\b")


# -- the people ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def handler_state(browser: Browser, live_server: Server) -> dict[str, Any]:
    """This module's handler, signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, live_server, HANDLER, HANDLER_PASSWORD)


@pytest.fixture
def handler(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in handler's tab at a desktop size; fails on any console error."""
    context = new_context(browser, live_server, storage_state=handler_state)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert not errors, f"console or CSP errors on the handler's pages: {errors}"
    finally:
        context.close()


@pytest.fixture
def checker(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The handler's tab for axe-core, which is injected as an inline script: the CSP rightly
    refuses it, so this context alone bypasses the CSP, only to run the checker."""
    context = new_context(browser, live_server, storage_state=handler_state, bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, live_server: Server) -> Iterator[Page]:
    """The worker's phone: the simulator in its own browser context; fails on console errors."""
    context = new_context(browser, live_server, viewport=PHONE)
    errors: list[str] = []
    try:
        page = watched(context, errors)
        response = page.goto("/simulator")
        assert response is not None
        assert response.status == 200, live_server.describe()
        yield page
        assert not errors, f"console or CSP errors on the simulator: {errors}"
    finally:
        context.close()


@pytest.fixture(scope="module")
def other_case(live_server: Server) -> str:
    """Another worker's case, reported through the simulator's JSON API; they never write again."""
    worker = SimPhone(live_server, "dialogue-other-phone")
    for message, reply in (
        ("hello", "intake.promise"),
        ("1", "intake.choose_category"),
        ("5", "intake.ask_workplace"),
        (OTHER_WORKPLACE, "intake.ask_what_happened"),
        ("The cutting machine has no guard.", "intake.ask_danger_now"),
        ("2", "intake.ask_updates"),
        ("1", "intake.ask_full_updates"),
        ("2", "intake.case_opened"),
    ):
        worker.send(message)
        worker.replies_until(fixed_part("en", reply))
    return OTHER_WORKPLACE


# -- the handler's pages -------------------------------------------------------------------


def replied_flag(row: Locator) -> Locator:
    return row.locator(".flag-replied")


def person_flag(row: Locator) -> Locator:
    return row.locator(".flag-person")


def unread_banner(page: Page) -> Locator:
    return page.get_by_role("status").filter(has_text=re.compile(r"new messages? from the worker"))


def person_banner(page: Page) -> Locator:
    return page.get_by_role("status").filter(has_text="The worker asked for a person")


def timeline(page: Page) -> Locator:
    return page.locator("ol.timeline")


def messaging(page: Page) -> Locator:
    return page.locator("fieldset").filter(has_text="Message the worker")


def flash_ok(page: Page) -> Locator:
    return page.locator("p.flash.ok")


def open_queue(page: Page) -> None:
    page.goto("/cases")
    expect_queue(page)


def settled(page: Page) -> None:
    """Wait until htmx has swapped the queue in and settled."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")


# -- the dialogue ----------------------------------------------------------------------------


def test_worker_writes_to_their_case_and_the_handler_answers(
    handler: Page, phone: Page, checker: Page, other_case: str, tmp_path: Path
) -> None:
    problems: dict[str, list[str]] = {}
    shots = screenshot_dir(tmp_path)
    consent = say("intake.promise")

    # 1. The worker reports and gets a case code.
    send(phone, "hello", consent)
    send(phone, "1", fixed_part("en", "intake.choose_category"))
    send(phone, "2", say("intake.ask_workplace"))  # 2: recruitment fees
    send(phone, WORKPLACE, say("intake.ask_what_happened"))
    send(phone, STORY, say("intake.ask_danger_now"))
    send(phone, "2", say("intake.ask_updates"))  # not in danger
    send(phone, "1", say("intake.ask_full_updates"))
    send(phone, "2", fixed_part("en", "intake.case_opened"))  # content-free news
    expect(replies(phone).last).to_contain_text(CODE)

    # 2. The worker writes again: it goes to the report, no new report starts.
    send(phone, FOLLOW_UP, say("followup.received"))
    acknowledgement = replies(phone).last
    expect(acknowledgement).to_have_text(say("followup.received"))
    expect(acknowledgement).not_to_contain_text(say("intake.continue_question"))
    expect(replies(phone).filter(has_text=consent)).to_have_count(1)  # the intake's only

    # 3. The queue flags the case; the "Worker replied" filter narrows the queue to it.
    open_queue(handler)
    row = queue_row(handler, WORKPLACE)
    expect(row).to_have_count(1)
    expect(replied_flag(row)).to_have_text("worker replied (1 unread)")
    other = queue_row(handler, other_case)
    expect(other).to_have_count(1)
    expect(replied_flag(other)).to_have_count(0)

    replied = handler.get_by_role("checkbox", name="Worker replied")
    expect(replied).not_to_be_checked()
    replied.check()
    expect(handler).to_have_url(re.compile(r"[?&]replied=1(&|$)"))
    settled(handler)
    expect(queue_row(handler, other_case)).to_have_count(0)
    expect(queue_row(handler, WORKPLACE)).to_have_count(1)
    rows = handler.locator("table.queue tbody tr")
    expect(rows.filter(has_not=handler.locator(".flag-replied"))).to_have_count(0)
    expect(replied).to_be_checked()
    assert handler.viewport_size == DESKTOP
    handler.screenshot(path=str(shots / "dialogue-queue.png"), full_page=True)

    checker.goto("/cases?replied=1")
    expect_queue(checker)
    expect(replied_flag(queue_row(checker, WORKPLACE))).to_be_visible()
    problems["/cases?replied=1 (a worker replied)"] = axe_violations(checker)

    # 4. The case page: new messages from the worker, their words on the timeline.
    link = queue_row(handler, WORKPLACE).get_by_role("link", name=re.compile(r"^#\d+$"))
    case_id = int(link.inner_text().lstrip("#"))
    case_path = f"/cases/{case_id}"
    link.click()
    expect(handler).to_have_url(re.compile(rf"{case_path}$"))
    expect(handler.get_by_role("heading", level=1)).to_contain_text(f"Case #{case_id}")
    expect(unread_banner(handler)).to_have_count(1)
    expect(unread_banner(handler)).to_contain_text("1 new message from the worker")
    expect(timeline(handler).locator("li.t-in").filter(has_text=FOLLOW_UP)).to_have_count(1)

    handler.reload()
    expect(handler.get_by_role("heading", level=1)).to_contain_text(f"Case #{case_id}")
    expect(timeline(handler).locator("li.t-in").filter(has_text=FOLLOW_UP)).to_have_count(1)
    expect(unread_banner(handler)).to_have_count(0)

    open_queue(handler)
    expect(queue_row(handler, WORKPLACE)).to_have_count(1)
    expect(replied_flag(queue_row(handler, WORKPLACE))).to_have_count(0)

    # 5. Canned replies in English words; the handler asks "are you safe now?".
    handler.goto(case_path)
    form = messaging(handler)
    meanings = form.locator(".canned-meaning")
    expect(meanings).to_have_count(len(CANNED_REPLIES))
    for key in CANNED_REPLIES:
        expect(meanings.filter(has_text=say(key))).to_have_count(1)
    are_you_safe = say("handler.are_you_safe")
    canned = form.get_by_role("radio", name=re.compile("^" + re.escape(are_you_safe)))
    expect(canned).to_have_count(1)
    canned.check()
    handler.get_by_role("button", name="Send", exact=True).click()
    expect(handler).to_have_url(re.compile(rf"{case_path}$"))
    expect(flash_ok(handler)).to_have_text("Message queued for the worker.")
    expect(from_line(phone, are_you_safe)).to_have_count(1)

    send(phone, SAFETY_ANSWER, say("intake.urgent"))

    # The same handler in the checker's tab reads the case first (both banners are up).
    checker.goto(case_path)
    expect(person_banner(checker)).to_have_count(1)
    expect(unread_banner(checker)).to_have_count(1)
    problems[f"{case_path} (P0, a person asked for)"] = axe_violations(checker)

    handler.reload()
    expect(severity_badge(handler)).to_have_text("P0")
    expect(person_banner(handler)).to_have_count(1)
    expect(timeline(handler)).to_contain_text(
        'The worker answered "are you safe now?": needs help now'
    )
    open_queue(handler)
    expect(person_flag(queue_row(handler, WORKPLACE))).to_have_count(1)
    checker.goto("/cases")
    expect_queue(checker)
    expect(person_flag(queue_row(checker, WORKPLACE))).to_be_visible()
    problems["/cases (a person asked for)"] = axe_violations(checker)

    # 6. Free text, sent as written; a person has written, so the request is answered.
    handler.goto(case_path)
    expect(handler.get_by_role("radio", name="Free text:")).to_be_checked()
    handler.get_by_label("Free text", exact=True).fill(FREE_TEXT)
    handler.get_by_role("button", name="Send", exact=True).click()
    expect(handler).to_have_url(re.compile(rf"{case_path}$"))
    expect(flash_ok(handler)).to_have_text("Message queued for the worker.")
    expect(from_line(phone, FREE_TEXT)).to_have_count(1)
    expect(replies(phone).last).to_have_text(FREE_TEXT)
    expect(person_banner(handler)).to_have_count(0)
    outgoing = timeline(handler).locator("li.t-out")
    expect(outgoing.filter(has_text=are_you_safe)).to_have_count(1)
    expect(outgoing.filter(has_text=FREE_TEXT)).to_have_count(1)
    handler.screenshot(path=str(shots / "dialogue-case.png"), full_page=True)

    open_queue(handler)
    expect(person_flag(queue_row(handler, WORKPLACE))).to_have_count(0)

    checker.goto(case_path)
    expect(severity_badge(checker)).to_have_text("P0")
    problems[f"{case_path} (after the dialogue)"] = axe_violations(checker)

    # Nothing on the phone ever started a new report.
    expect(replies(phone).filter(has_text=consent)).to_have_count(1)
    for name in ("dialogue-queue.png", "dialogue-case.png"):
        assert (shots / name).stat().st_size > 10_000, name
    found = [f"{where}: {v}" for where, violations in problems.items() for v in violations]
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)
