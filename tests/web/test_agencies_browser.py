"""Recruitment traced across cases, in a real browser (Debian's Chromium).

Two workers report recruitment fees through the phone simulator of a real ``grievance
serve``. A few seconds after each code (this server's GRIEVANCE_DETAILS_DELAY) the line asks
who recruited them, where and for how much; they answer in their own words, spelt
differently. A handler reads the words on each case page, links both cases to one agency
(the second by picking it from the list as they type), and finds it on the agencies page and
in the report by agency. The instance also holds ``grievance demo``'s 200 cases (with their
made-up agencies), so the report has enough cases to show: the new agency's two read "<10",
never a count from 1 to 9.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server, SimPhone, run_server
from tests.web.support import (
    axe_violations,
    fact,
    grievance,
    new_context,
    signed_in_handler,
    text,
)

pytestmark = pytest.mark.browser

HANDLER = "recruitment@example.org"
PASSWORD = "a lantern of quiet rivers"
WORKERS = (
    # (phone, workplace, recruiter as written, where, what they paid)
    ("fees-worker-0001", "Hill Garments, Shah Alam", "Everest Manpower Pvt Ltd", "Nepal",
     "rs 1,50,000"),
    ("fees-worker-0002", "Hill Garments dormitory", "everest manpower", "nepal",
     "2 lakh rupees"),
)  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that asks the questions after the code two seconds after it, and sweeps
    every second, so the test need not wait a minute."""
    with run_server(
        tmp_path_factory.mktemp("agencies") / "instance",
        GRIEVANCE_DETAILS_DELAY="2",
        GRIEVANCE_SWEEP_INTERVAL="1",
    ) as running:
        yield running


def fees_report_and_details(
    server: Server, phone_id: str, workplace: str, agency: str, where: str, paid: str
) -> None:
    """A fees report, then the worker's answers to the questions after the code."""
    worker = SimPhone(server, phone_id)
    steps = (
        ("hello", text("en", "intake.promise")),
        ("1", text("en", "intake.choose_category").split("{", 1)[0].strip()),
        ("2", text("en", "intake.ask_workplace")),
        (workplace, text("en", "intake.ask_what_happened")),
        ("I paid the agent for this job and I still owe", text("en", "intake.ask_danger_now")),
        ("2", text("en", "intake.ask_updates")),
        ("1", text("en", "intake.ask_full_updates")),
        ("2", "Your case code is"),
    )
    for message, reply in steps:
        worker.send(message)
        worker.replies_until(reply)
    # Nothing typed: the question comes by itself, a little after the code.
    worker.replies_until(text("en", "details.ask_affected"))
    for message, reply in (
        ("me and a few others", text("en", "details.ask_agency")),
        (agency, text("en", "details.ask_country")),
        (where, text("en", "details.ask_fee")),
        (paid, text("en", "details.thanks")),
    ):
        worker.send(message)
        worker.replies_until(reply)


@pytest.fixture(scope="module")
def reported(server: Server) -> None:
    grievance(server, "demo")
    for phone_id, workplace, agency, where, paid in WORKERS:
        fees_report_and_details(server, phone_id, workplace, agency, where, paid)


@pytest.fixture
def handler(browser: Browser, server: Server, reported: None) -> Iterator[Page]:
    state: dict[str, Any] = signed_in_handler(browser, server, HANDLER, PASSWORD)
    # bypass_csp: only so that axe-core can be injected; the pages are the same.
    context = new_context(browser, server, storage_state=state, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        assert not errors, errors
    finally:
        context.close()


def open_case_from(page: Page, workplace: str) -> int:
    page.goto(f"/cases?q={workplace}")
    row = page.locator("table.queue tbody tr").filter(has_text=workplace)
    expect(row).to_have_count(1)
    link = row.get_by_role("link", name=re.compile(r"^#\d+$"))
    case_id = int(link.inner_text().lstrip("#"))
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case #{case_id}")
    return case_id


def test_a_handler_links_two_workers_words_to_one_agency_and_reports_it(handler: Page) -> None:
    page = handler
    first = open_case_from(page, WORKERS[0][1])
    recruitment = page.get_by_role("region", name="Recruitment")
    expect(fact(page, "The worker wrote")).to_contain_text("Everest Manpower Pvt Ltd")
    expect(fact(page, "Recruited in")).to_have_text("NP")
    expect(fact(page, "Paid")).to_have_text("150,000 NPR")
    expect(fact(page, "Affects")).to_contain_text("the worker and a few others")
    expect(fact(page, "Agency")).to_have_text("not linked")
    recruitment.get_by_label(re.compile("^Agency: choose from the list")).fill("Everest Manpower")
    recruitment.get_by_role("button", name="Link agency").click()
    expect(page.get_by_role("status")).to_have_text("Linked to the recruitment agency.")
    expect(fact(page, "Agency")).to_have_text("Everest Manpower")
    assert axe_violations(page) == []

    second = open_case_from(page, WORKERS[1][1])
    assert second != first
    expect(fact(page, "The worker wrote")).to_contain_text("everest manpower")
    expect(fact(page, "Paid")).to_have_text("200,000 NPR")
    field = page.get_by_label(re.compile("^Agency: choose from the list"))
    # The agency the first handler created is offered as this handler types.
    expect(page.locator("#agency-names option[value='Everest Manpower']")).to_have_count(1)
    expect(field).to_have_attribute("list", "agency-names")
    field.fill("Everest Manpower")
    page.get_by_role("button", name="Link agency").click()
    expect(fact(page, "Agency")).to_have_text("Everest Manpower")

    page.get_by_role("link", name="Agencies").click()
    row = page.locator("table.queue tbody tr").filter(has_text="Everest Manpower")
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(["Everest Manpower", "NP", "2", "2", "0", "350,000 NPR"])
    assert axe_violations(page) == []

    page.goto("/reports")
    page.get_by_label("Cases by", exact=True).select_option(label="Recruitment agency")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports\?view=live&by=agency"))
    table = page.get_by_role("table", name=re.compile(r"^Cases received by recruitment agency"))
    everest = table.locator("tbody tr").filter(has_text="Everest Manpower")
    expect(everest).to_have_count(1)
    shown = [c.strip() for c in everest.locator("td").all_inner_texts()]
    # Two cases, both this month: too few to show. No cell may read 1 to 9.
    assert "<10" in shown, shown
    assert not any(re.fullmatch(r"[1-9]", c) for c in shown), shown
