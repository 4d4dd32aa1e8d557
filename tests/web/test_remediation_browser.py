"""The remediation loop end to end, in a real browser, with the worker on (fake) Twilio SMS.

A real ``grievance serve`` runs in Twilio mode: a Nepali worker reports recruitment fees
through signed webhooks (``POST /twilio/messaging``), and every message the line sends
reaches the Twilio-compatible server of ``tests/support/fake_twilio.py``. The handler
(Chromium, TOTP) triages and refers the case; the supplier (its own browser context) plans
from the playbook, revises the plan once after the handler sends it back, uploads evidence
for every step and reports it complete; the handler verifies; the worker confirms "solved";
the handler closes the case. Each message to the worker is checked against the Nepali
catalog, and axe-core checks the supplier's plan page and the handler's remedy section.

With GRIEVANCE_SCREENSHOTS=1 the run also rewrites ``docs/screenshots/supplier-plan.png``
and ``docs/screenshots/remedy.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from grievance.playbooks import load as load_playbooks
from tests.conftest import SMS_NUMBER
from tests.support.fake_twilio import FakeTwilio, FakeTwilioServer
from tests.web.conftest import Server
from tests.web.support import (
    DESKTOP,
    SCREENSHOTS,
    Worker,
    axe_violations,
    grievance,
    new_context,
    open_case,
    sign_in_with_password,
    signed_in_handler,
    text,
    twilio_serve,
)

pytestmark = pytest.mark.browser

HANDLER = "remedy.handler@example.org"
HANDLER_PASSWORD = "seven lamps of patient review"
SUPPLIER = "Sunrise Garments Sdn Bhd"
SUPPLIER_USER = "compliance@sunrise.example.org"
SUPPLIER_PASSWORD = "a ledger of honest receipts"
WORKER_NUMBER = "+9779841000417"  # a Nepali mobile number, made up
WORKPLACE = "Sunrise Garments, Penang"
# The worker writes in Nepali; the line recognises the language from the first message.
GREETING = "नमस्ते, मलाई मद्दत चाहिन्छ"
WORDS = "एजेन्टले यो कामका लागि ३००० डलर लियो।"
SUMMARY = "A worker reports paying recruitment fees to an agency in the home country."
SEND_BACK = "Repay within 30 days, not 90; add the change to the agency contract."
NEW_STEP = "Amend the agency contract to ban every fee charged to workers."
REASON = "Fees repaid to every affected worker; the agency contract now bans fees."
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# -- the line's words, in Nepali -----------------------------------------------------------


def nepali(key: str) -> list[str]:
    """The fixed parts of the Nepali text of ``key`` (what lies between its {placeholders}).

    Fails at once if the Nepali catalog lacks the key or only repeats the English text: the
    worker must read their own language.
    """
    try:
        ne = text("ne", key)
    except KeyError:
        pytest.fail(f"locales/ne.yaml has no {key!r}", pytrace=False)
    assert ne != text("en", key), f"{key} in ne.yaml is the English text"
    return [part.strip() for part in re.split(r"\{[^}]*\}", ne) if part.strip()]


def menu(*labels: str) -> list[str]:
    """The numbered options a menu question lists under its text, in Nepali."""
    return [f"{n} {text('ne', label)}" for n, label in enumerate(labels, 1)]


# -- a live server in Twilio mode ----------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    """This module's own Twilio-compatible server (no other test shares its messages)."""
    with FakeTwilioServer() as server:
        yield server


@pytest.fixture(scope="module")
def twilio_server(tmp_path_factory: pytest.TempPathFactory, fake: FakeTwilio) -> Iterator[Server]:
    """``grievance serve`` with Twilio credentials, sending through the fake Twilio server.

    PUBLIC_BASE_URL is ``PUBLIC``, the address webhooks are signed over.
    """
    instance = tmp_path_factory.mktemp("serve-twilio") / "instance"
    with twilio_serve(instance, fake, SMS_NUMBER) as server:
        yield server


@pytest.fixture(scope="module")
def worker(twilio_server: Server, fake: FakeTwilio) -> Worker:
    return Worker(twilio_server, fake, WORKER_NUMBER)


@pytest.fixture(scope="module")
def handler_state(browser: Browser, twilio_server: Server) -> dict[str, Any]:
    """A handler created with the CLI and signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, twilio_server, HANDLER, HANDLER_PASSWORD)


@pytest.fixture(scope="module")
def supplier_user(twilio_server: Server) -> str:
    """A supplier organisation and its user (password only: TOTP is not required of them)."""
    out = grievance(twilio_server, "orgs", "create", SUPPLIER, "--kind", "supplier")
    assert SUPPLIER in out, out
    grievance(
        twilio_server,
        "users",
        "create",
        SUPPLIER_USER,
        "--role",
        "supplier",
        "--org",
        SUPPLIER,
        "--password-stdin",
        stdin=SUPPLIER_PASSWORD + "\n",
    )
    return SUPPLIER_USER


def watch(page: Page, errors: list[str]) -> None:
    """Collect script errors and CSP refusals on ``page``."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )


@pytest.fixture
def pages(
    browser: Browser, twilio_server: Server, handler_state: dict[str, Any], supplier_user: str
) -> Iterator[tuple[Page, Page]]:
    """The handler's tab and the supplier's tab, in separate browser contexts."""
    errors: list[str] = []
    contexts: list[BrowserContext] = []
    try:
        contexts.append(new_context(browser, twilio_server, storage_state=handler_state))
        contexts.append(new_context(browser, twilio_server))
        handler, supplier = (context.new_page() for context in contexts)
        for page in (handler, supplier):
            watch(page, errors)
        sign_in_with_password(supplier, supplier_user, SUPPLIER_PASSWORD)
        expect(supplier).to_have_url(re.compile(r"/supplier/cases$"))
        expect(supplier.get_by_role("heading", name="Cases referred to you")).to_be_visible()
        yield handler, supplier
        assert not errors, f"script or CSP errors on the pages: {errors}"
    finally:
        for context in contexts:
            context.close()


# -- on the pages ----------------------------------------------------------------------------


def submit(page: Page, button: Locator) -> None:
    """Click a form's button and wait for the page the POST redirects to."""
    with page.expect_navigation():
        button.click()


def fact(page: Page, name: str) -> Locator:
    """The value of a fact on a case page (the <dd> after <dt>name</dt>)."""
    term = page.locator("dl.facts > dt").filter(has_text=re.compile(rf"^{re.escape(name)}$"))
    return term.locator("xpath=following-sibling::dd[1]")


def flash(page: Page, message: str) -> None:
    expect(page.locator("p.flash.ok")).to_have_text(message)


def plan_section(page: Page) -> Locator:
    return page.get_by_role("region", name=re.compile(r"^Remediation plan\b"))


def plan_status(page: Page, status: str) -> None:
    expect(plan_section(page).get_by_role("heading", level=2).locator(".badge")).to_have_text(
        status
    )


def step_rows(page: Page) -> Locator:
    return page.locator("table.steps tbody tr[id^='step-']")


def remedy(page: Page) -> Locator:
    return page.get_by_role("region", name="Remedy", exact=True)


def axe_problems(browser: Browser, server: Server, state: dict[str, Any], path: str) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on ``path``, signed in with ``state``.

    axe is injected as an inline script, which the app's CSP rightly refuses; this context
    alone bypasses the CSP, only to run the checker.
    """
    context = new_context(browser, server, storage_state=state, bypass_csp=True)
    try:
        page = context.new_page()
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        expect(plan_section(page)).to_be_visible()
        # Open every <details> (the playbook, "Change step n"): axe skips what is hidden.
        page.locator("details").evaluate_all("all => all.forEach(d => { d.open = true; })")
        return [f"{path}: {v}" for v in axe_violations(page)]
    finally:
        context.close()


# -- the loop ---------------------------------------------------------------------------------


def test_remediation_loop_with_a_nepali_worker_on_twilio(
    browser: Browser,
    twilio_server: Server,
    worker: Worker,
    pages: tuple[Page, Page],
    handler_state: dict[str, Any],
    tmp_path: Path,
) -> None:
    handler, supplier = pages
    problems: list[str] = []
    shots = SCREENSHOTS if os.environ.get("GRIEVANCE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    notice = nepali("notice.update")

    # 1. The worker reports recruitment fees, in Nepali, through signed webhooks.
    worker.says_and_hears(GREETING, nepali("intake.promise"))
    categories = worker.says_and_hears("1", nepali("intake.choose_category"))
    fees = f"2 {text('ne', 'category.recruitment_fees')}"
    assert fees in "\n".join(categories).splitlines(), categories
    worker.says_and_hears("2", nepali("intake.ask_workplace"))
    worker.says_and_hears(WORKPLACE, nepali("intake.ask_what_happened"))
    worker.says_and_hears(WORDS, nepali("intake.ask_danger_now"))
    worker.says_and_hears("2", nepali("intake.ask_updates"))
    worker.says_and_hears("1", nepali("intake.ask_full_updates"))
    opened = worker.says_and_hears("2", nepali("intake.case_opened"))  # news, content-free
    assert re.search(r"\d{4} \d{4} \d{4}", opened[-1]), opened

    # 2. The handler acknowledges, categorises FL-FEE and refers the case with a summary.
    case_id = open_case(handler, WORKPLACE)
    expect(fact(handler, "Language")).to_have_text("Nepali")
    expect(fact(handler, "Category")).to_have_text("Forced labour: recruitment fees")
    submit(
        handler,
        handler.get_by_role("button", name="Acknowledge (the worker is told a person has it)"),
    )
    flash(handler, "Acknowledged; the worker is told.")
    worker.receives(notice)

    handler.get_by_label("Category", exact=True).select_option("FL-FEE")
    submit(handler, handler.get_by_role("button", name="Save category"))
    flash(handler, "Category saved.")
    expect(fact(handler, "Stage")).to_have_text("in triage")

    handler.get_by_label("Refer to supplier", exact=True).select_option(label=SUPPLIER)
    handler.get_by_label(re.compile("^Summary for the supplier")).fill(SUMMARY)
    submit(handler, handler.get_by_role("button", name="Refer to supplier"))
    flash(handler, "Referred to the supplier; the worker is told.")
    expect(fact(handler, "Stage")).to_have_text("with supplier")
    worker.receives(notice)

    # 3. The supplier starts the plan from the FL-FEE playbook and submits it.
    supplier_case = f"/supplier/cases/{case_id}"
    supplier.goto("/supplier/cases")
    supplier.get_by_role("link", name=f"#{case_id}", exact=True).click()
    expect(supplier).to_have_url(re.compile(rf"{supplier_case}$"))
    expect(supplier.locator("p.words")).to_have_text(SUMMARY)
    assert WORDS not in supplier.content()  # the worker's words stay with the handlers
    submit(supplier, supplier.get_by_role("button", name="Start from the playbook"))
    flash(supplier, "Plan started: adapt the steps, then submit it.")
    plan_status(supplier, "draft")
    playbook = load_playbooks()["FL-FEE"]
    expect(step_rows(supplier)).to_have_count(len(playbook.steps))
    for row, suggested in zip(step_rows(supplier).all(), playbook.steps, strict=True):
        expect(row.locator("td").nth(1)).to_contain_text(suggested.description)
        expect(row.locator("td").nth(2)).to_have_text(suggested.owner)
    submit(supplier, supplier.get_by_role("button", name="Submit the plan for review"))
    flash(supplier, "Plan submitted; the case handler will review it.")
    plan_status(supplier, "submitted")

    # 4. The handler sends it back once with what to change ...
    handler.reload()
    plan_status(handler, "submitted")
    review = remedy(handler)
    review.get_by_label(re.compile(r"^Review of the plan")).fill(SEND_BACK)
    submit(handler, review.get_by_role("button", name="Send plan back"))
    flash(handler, "Review recorded; the supplier is told by email.")
    plan_status(handler, "returned")

    # ... the supplier reads why, adds a step and resubmits ...
    supplier.reload()
    plan_status(supplier, "returned")
    comments = plan_section(supplier).locator("ol.comments li")
    expect(comments).to_have_count(1)
    expect(comments.first).to_contain_text(SEND_BACK)
    expect(comments.first.locator(".who")).to_have_text("Case handler")
    problems += axe_problems(
        browser, twilio_server, supplier.context.storage_state(), supplier_case
    )
    add = supplier.get_by_role("group", name="Add a step")
    add.get_by_label("Description", exact=True).fill(NEW_STEP)
    add.get_by_label(re.compile(r"^Owner")).fill("Compliance manager")
    add.get_by_label("Due date", exact=True).fill((date.today() + timedelta(days=20)).isoformat())
    submit(supplier, add.get_by_role("button", name="Add step"))
    flash(supplier, "Step added.")
    steps = len(playbook.steps) + 1
    expect(step_rows(supplier)).to_have_count(steps)
    expect(step_rows(supplier).last.locator("td").nth(1)).to_have_text(NEW_STEP)
    submit(supplier, supplier.get_by_role("button", name="Submit the plan for review"))
    plan_status(supplier, "submitted")

    # ... and the handler accepts: remediation starts and the worker hears of it.
    handler.reload()
    expect(fact(handler, "Sent back")).to_have_text("1 time")
    submit(handler, remedy(handler).get_by_role("button", name="Accept plan"))
    plan_status(handler, "accepted")
    expect(fact(handler, "Stage")).to_have_text("remediation in progress")
    # The only message since the referral's: reviewing the plan stays off the worker's phone.
    assert len(worker.receives(notice)) == 1

    # 5. The supplier uploads evidence for every step, marks each done, reports complete.
    supplier.reload()
    plan_status(supplier, "accepted")
    for n in range(1, steps + 1):
        row, work = step_rows(supplier).nth(n - 1), supplier.locator("tr.work-row").nth(n - 1)
        name = f"receipt-{n}.pdf"
        work.get_by_label(re.compile(rf"^Evidence for step {n} ")).set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": PDF}
        )
        submit(supplier, work.get_by_role("button", name="Upload"))
        flash(supplier, "Evidence uploaded; it is stored encrypted.")
        expect(row.get_by_role("link", name=name, exact=True)).to_be_visible()
        work.get_by_label(f"Status of step {n}", exact=True).select_option("done")
        submit(supplier, work.get_by_role("button", name="Save status"))
        flash(supplier, "Step status saved.")
        expect(row.locator(".state")).to_have_text("done")
    problems += axe_problems(
        browser, twilio_server, supplier.context.storage_state(), supplier_case
    )
    supplier.screenshot(path=str(shots / "supplier-plan.png"), full_page=True)
    submit(supplier, supplier.get_by_role("button", name="Report the plan complete"))
    flash(supplier, "Reported complete; the case handler will verify it.")
    plan_status(supplier, "completed")

    # 6. The handler checks the evidence and verifies; the worker is asked and says "solved".
    handler.reload()
    plan_status(handler, "completed")
    evidence = plan_section(handler).get_by_role("link", name="receipt-1.pdf", exact=True)
    download = handler.request.get(str(evidence.get_attribute("href")))
    assert download.status == 200
    assert download.body() == PDF
    problems += axe_problems(browser, twilio_server, handler_state, f"/cases/{case_id}")
    # The plan and the remedy section below it, as one picture.
    top, bottom = handler.evaluate(
        """() => {
          const box = (e) => e.getBoundingClientRect();
          const plan = document.querySelector('section.plan');
          const remedy = document.getElementById('remedy-h').closest('section');
          return [box(plan).top + window.scrollY, box(remedy).bottom + window.scrollY];
        }"""
    )
    width = DESKTOP["width"]
    handler.screenshot(
        path=str(shots / "remedy.png"),
        full_page=True,
        clip={"x": 0, "y": top, "width": width, "height": bottom - top},
    )
    submit(handler, remedy(handler).get_by_role("button", name="Verified: ask the worker"))
    flash(handler, "Verification recorded.")
    plan_status(handler, "verified")
    expect(fact(handler, "Stage")).to_have_text("awaiting worker")
    worker.receives(
        nepali("confirm.ask")
        + menu("confirm.option_solved", "confirm.option_not_solved", "confirm.option_person")
    )
    worker.says_and_hears("1", nepali("confirm.thanks_solved"))
    handler.reload()
    expect(fact(handler, "Worker's answer")).to_have_text("confirmed")
    expect(fact(handler, "Stage")).to_have_text("resolved")

    # 7. The handler closes with remedy types and a reason; the worker hears, and rates it.
    closing = remedy(handler)
    expect(closing.get_by_label("Resolved", exact=True)).to_be_checked()
    closing.get_by_label("restitution (fees repaid, back pay)", exact=True).check()
    closing.get_by_label("guarantee of non-repetition", exact=True).check()
    closing.get_by_label("Reason for closing", exact=True).fill(REASON)
    submit(handler, closing.get_by_role("button", name="Close case"))
    flash(handler, "Closed; the worker is told and asked how well we handled it.")
    expect(fact(handler, "Stage")).to_have_text("closed")
    expect(fact(handler, "Outcome")).to_have_text(
        "resolved: restitution (fees repaid, back pay), guarantee of non-repetition"
    )
    expect(fact(handler, "Reason closed")).to_have_text(REASON)
    worker.receives(
        nepali("closing.closed")
        + nepali("closing.ask_satisfaction")
        + menu(*(f"closing.score_{n}" for n in range(1, 6)))
    )
    worker.says_and_hears("5", nepali("closing.thanks"))
    handler.reload()
    expect(fact(handler, "Worker's answer")).to_have_text("confirmed; satisfaction 5/5")

    assert not problems, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(problems)
    for shot in ("supplier-plan.png", "remedy.png"):
        assert (shots / shot).stat().st_size > 10_000, shot
