"""The reports page (``/reports``) in a real browser (Debian's Chromium), as a handler uses it.

A real ``grievance serve`` runs on a fresh instance directory (conftest's ``live_server``),
filled by ``grievance demo`` (200 made-up cases over the last six months). The demo's handler
signs in with the printed password and a code from its printed TOTP secret. The handler
changes the report through the form; the table, the chart and the CSV must agree, and no
count from 1 to 9 may ever be shown.

With GRIEVANCE_SCREENSHOTS=1 the run also rewrites ``docs/screenshots/reports.png``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from grievance.clock import utcnow
from tests.web.conftest import Server
from tests.web.support import (
    DESKTOP,
    SCREENSHOTS,
    axe_violations,
    demo_account,
    new_context,
    signed_in_state,
)

pytestmark = pytest.mark.browser

DEMO_HANDLER = "handler@demo.example"
HIDDEN = ("<10", "–")  # the page's k is 10 by default: "<10" small, "–" hidden beside one


def month(back: int) -> str:
    """``YYYY-MM`` of the month ``back`` months before the current one (UTC, as the server)."""
    today = utcnow().date()
    index = today.year * 12 + today.month - 1 - back
    return f"{date(index // 12, index % 12 + 1, 1):%Y-%m}"


# Four whole months inside the demo's six, not the page's default period.
FROM, TO = month(4), month(1)


def quarter_bounds(first: str, last: str) -> tuple[str, str]:
    """The months of a period widened to whole quarters, as published reports read it."""
    start = (int(first[5:]) - 1) // 3 * 3 + 1
    stop = (int(last[5:]) - 1) // 3 * 3 + 3
    return f"{first[:4]}-{start:02d}", f"{last[:4]}-{stop:02d}"


@pytest.fixture(scope="module")
def demo(live_server: Server) -> dict[str, str]:
    """``grievance demo`` on the server's instance; the handler's password and TOTP secret."""
    return demo_account(live_server, DEMO_HANDLER)


@pytest.fixture(scope="module")
def handler_state(browser: Browser, live_server: Server, demo: dict[str, str]) -> dict[str, Any]:
    """The demo handler signed in once (password, then a TOTP code): the cookies."""
    return signed_in_state(browser, live_server, DEMO_HANDLER, demo)


def watched(context: BrowserContext, errors: list[str]) -> Page:
    """A new tab whose script errors and console errors (CSP reports among them) are kept."""
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    return page


@pytest.fixture
def handler(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in handler's tab at a desktop size; fails on any console error."""
    context = new_context(browser, live_server, storage_state=handler_state)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert not errors, f"console or CSP errors on /reports: {errors}"
    finally:
        context.close()


# -- the page --------------------------------------------------------------------------


def report_table(page: Page) -> Locator:
    """The counts table, named by its caption."""
    return page.get_by_role("table", name=re.compile(r"^Cases received by "))


def chart(page: Page) -> Locator:
    return page.locator("figure.report img")


def cells(page: Page) -> list[list[str]]:
    """The counts table as text, row by row: header, body rows, totals."""
    rows: list[list[str]] = report_table(page).evaluate(
        "t => [...t.rows].map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return rows


def expect_chart_loaded(page: Page) -> None:
    """The chart <img> has finished loading and decoded to an image with a width."""
    page.wait_for_function(
        "() => { const i = document.querySelector('figure.report img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )


def open_report_by_site(page: Page) -> None:
    """Open /reports as it first shows, then ask for cases by site over FROM..TO via the form."""
    page.goto("/reports")
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(report_table(page)).to_have_accessible_name("Cases received by category and month")
    expect_chart_loaded(page)
    page.get_by_label("Cases by", exact=True).select_option(label="Site")
    page.get_by_label("From (month)", exact=True).fill(FROM)
    page.get_by_label("To (month)", exact=True).fill(TO)
    wanted = re.compile(rf"/reports/chart\.svg\?view=live&by=site&from={FROM}&to={TO}$")
    with page.expect_response(lambda r: bool(wanted.search(r.url))) as drawn:
        page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/reports\?view=live&by=site&from={FROM}&to={TO}$"))
    response = drawn.value
    assert response.status == 200, response.status
    assert (response.header_value("content-type") or "").startswith("image/svg+xml")
    assert "Cases per month, by site" in response.text()


# -- 1. the form -------------------------------------------------------------------------


def test_a_handler_reports_cases_by_site_for_a_period(handler: Page) -> None:
    open_report_by_site(handler)
    table = report_table(handler)
    expect(table).to_have_accessible_name("Cases received by site and month")
    expect(handler.get_by_label("Cases by", exact=True)).to_have_value("site")
    expect(handler.get_by_label("From (month)", exact=True)).to_have_value(FROM)
    expect(handler.get_by_label("To (month)", exact=True)).to_have_value(TO)
    expect(handler.get_by_label("Figures", exact=True)).to_have_value("live")
    expect(chart(handler)).to_have_attribute(
        "src", f"/reports/chart.svg?view=live&by=site&from={FROM}&to={TO}"
    )
    expect(chart(handler)).to_have_accessible_name(re.compile(rf", {FROM} to {TO};"))
    expect_chart_loaded(handler)

    rows = cells(handler)
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    first, last = int(FROM[-2:]), int(TO[-2:])
    assert header[0] == "Site"
    assert header[-1] == "Total"
    assert len(header) == 2 + (last - first) % 12 + 1, header
    assert header[1] == FROM
    assert header[-2] == TO
    assert len(body) >= 2, rows  # the demo's cases come from several sites
    assert totals[0] == "Total"
    small = [
        value
        for row in [*body, totals]
        for value in row[1:]
        if value not in HIDDEN and 1 <= int(value) <= 9  # int() fails on anything else
    ]
    assert not small, f"counts under 10 shown: {small}\n{rows}"
    assert any(value in HIDDEN for row in body for value in row[1:]), rows  # suppression ran

    # Nor in the case counts of the measures below it.
    handled = handler.get_by_role("table", name="How cases were handled")
    counted = handled.locator("tbody td.num").all_inner_texts()
    assert counted, "no measures of how cases were handled"
    assert not [n for n in counted if n != "<10" and 1 <= int(n) <= 9], counted


# -- 2. the CSV ------------------------------------------------------------------------


def test_the_csv_link_downloads_the_published_table_as_shown(handler: Page, tmp_path: Path) -> None:
    """Live figures never leave as a file: on the live view the link says it downloads the
    published quarters; switched to them, the page shows exactly what the CSV holds."""
    open_report_by_site(handler)
    expect(
        handler.get_by_role("link", name="Download the published quarters of this period as CSV")
    ).to_be_visible()
    handler.get_by_label("Figures", exact=True).select_option(
        label="Published quarters (what buyers see)"
    )
    handler.get_by_role("button", name="Show").click()
    first, last = quarter_bounds(FROM, TO)
    expect(handler).to_have_url(
        re.compile(rf"/reports\?view=published&by=site&from={FROM}&to={TO}$")
    )
    expect(handler.get_by_text("Published quarters,", exact=False)).to_be_visible()
    link = handler.get_by_role("link", name="Download this table as CSV")
    expect(link).to_have_attribute(
        "href", f"/reports/export.csv?view=published&by=site&from={first}&to={last}"
    )
    with handler.expect_download() as started:
        link.click()
    download = started.value
    assert download.failure() is None, download.failure()
    assert download.suggested_filename == f"cases-by-site-{first}-{last}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    exported = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"), newline="")))
    assert exported == cells(handler)


# -- 3. axe-core -----------------------------------------------------------------------


def test_axe_finds_no_wcag_violations_on_reports(
    browser: Browser, live_server: Server, handler_state: dict[str, Any]
) -> None:
    # axe is injected as an inline script, which the CSP rightly refuses; this context
    # alone bypasses the CSP, only to run the checker.
    context = new_context(browser, live_server, storage_state=handler_state, bypass_csp=True)
    errors: list[str] = []
    try:
        page = watched(context, errors)
        page.goto("/reports")
        expect(report_table(page)).to_be_visible()
        expect_chart_loaded(page)
        found = [f"/reports: {v}" for v in axe_violations(page)]
        open_report_by_site(page)
        expect_chart_loaded(page)
        found += [f"/reports?by=site: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not found, "axe-core WCAG 2.1 A/AA violations on /reports:\n" + "\n".join(found)
    assert not errors, f"console errors on /reports: {errors}"


# -- 4. the screenshot for the docs ------------------------------------------------------


def test_screenshot_for_the_docs(handler: Page, tmp_path: Path) -> None:
    # The docs' copy changes only when asked: a test run must not leave the work tree dirty.
    target = SCREENSHOTS if os.environ.get("GRIEVANCE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    assert handler.viewport_size == DESKTOP
    open_report_by_site(handler)
    expect_chart_loaded(handler)
    handler.screenshot(path=str(target / "reports.png"), full_page=True)
    assert (target / "reports.png").stat().st_size > 10_000
