"""The staff pages in Malay, in a real browser: a handler chooses Malay on /account, then reads
the queue and a case page in Malay, with ``<html lang="ms">``, and axe-core finds no WCAG 2.1
A/AA violation on any of them (a wrong page language is one)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server, SimPhone
from tests.web.support import (
    axe_violations,
    fixed_part,
    new_context,
    queue_row,
    signed_in_handler,
)

pytestmark = pytest.mark.browser

EMAIL = "pengendali@example.org"
PASSWORD = "correct horse battery staple"
WORKPLACE = "Lakeview Plastics, Penang"


def _report(server: Server) -> None:
    """One case from a worker's phone, through the simulator's JSON API."""
    worker = SimPhone(server, "malay-staff-phone-0001")
    for message, reply in (
        ("hello", "intake.promise"),
        ("1", "intake.choose_category"),
        ("5", "intake.ask_workplace"),
        (WORKPLACE, "intake.ask_what_happened"),
        ("The guard on the cutting machine is broken.", "intake.ask_danger_now"),
        ("2", "intake.ask_updates"),
        ("1", "intake.ask_full_updates"),
        ("2", "intake.case_opened"),
    ):
        worker.send(message)
        worker.replies_until(fixed_part("en", reply))


def _in_malay(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "ms")
    expect(page.get_by_role("navigation", name="Utama")).to_be_visible()
    expect(page.get_by_role("button", name=f"Log keluar ({EMAIL})")).to_be_visible()


def test_the_staff_pages_in_malay(browser: Browser, live_server: Server) -> None:
    state = signed_in_handler(browser, live_server, EMAIL, PASSWORD)
    _report(live_server)
    # The browser asks for English (en-GB): the choice on /account is what makes it Malay.
    # axe is injected as an inline script, which the app's CSP rightly refuses; this context
    # alone bypasses the CSP, only to run the checker.
    context = new_context(browser, live_server, storage_state=state, bypass_csp=True)
    problems: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        page.goto("/account")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_label("Language of these pages").select_option("ms")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Akaun anda")).to_be_visible()
        _in_malay(page)
        expect(page.get_by_label("Bahasa halaman ini")).to_have_value("ms")
        problems["/account"] = axe_violations(page)

        page.goto("/cases")
        expect(page.get_by_role("heading", name="Kes", exact=True)).to_be_visible()
        _in_malay(page)
        expect(page.get_by_label("Tahap keterukan", exact=True)).to_be_visible()
        expect(page.get_by_role("columnheader", name="Tempat kerja")).to_be_visible()
        expect(page.locator("#counts")).to_have_text(re.compile(r"^1 kes: P\d 1$"))
        problems["/cases"] = axe_violations(page)

        row = queue_row(page, WORKPLACE)
        expect(row).to_have_count(1)
        link = row.get_by_role("link", name=re.compile(r"^#\d+$"))
        case_id = int(link.inner_text().lstrip("#"))
        # The count of ticked cases is written by static/shortcuts.js, in Malay too.
        row.get_by_role("checkbox", name=f"Pilih kes #{case_id}").check()
        expect(page.locator("#bulk-count")).to_have_text("1 kes dipilih.")
        link.click()
        expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"Kes #{case_id}")
        _in_malay(page)
        expect(page.get_by_role("heading", name="Garis masa")).to_be_visible()
        expect(page.get_by_role("button", name="Tambah nota")).to_be_visible()
        # The worker's own words keep their language: only the page around them changed.
        expect(page.locator("blockquote.words")).to_have_attribute("lang", "en")
        problems[f"/cases/{case_id}"] = axe_violations(page)

        page.goto("/dashboard")
        expect(page.get_by_role("heading", name="Apa yang menunggu")).to_be_visible()
        _in_malay(page)
        problems["/dashboard"] = axe_violations(page)
    finally:
        context.close()
    report = [f"{url}: {v}" for url, found in problems.items() for v in found]
    assert not report, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(report)
