"""The Worker Wellbeing pulse, the effectiveness report and the public rules of procedure in a
real browser (Debian's Chromium), as an admin and a worker use them.

A real ``grievance serve`` runs on a fresh instance directory (conftest's ``live_server``),
filled by ``grievance demo``: its first three sites have survey words and three waves of
answers each, but no members (the demo has no phone numbers). The demo admin signs in with
the printed password and a code from its printed TOTP secret.

1. The admin reads a demo site's latest wave: results per area with means, the trend over
   waves 1 to 3; axe-core finds no WCAG 2.1 A/AA violation on the wellbeing pages.
2. The effectiveness report shows its seven sections and downloads as a PDF (before 3, so
   that its screenshot shows the demo's data only).
3. The admin gives another site a survey word; two simulated phones join by sending it; the
   admin sends a wave, which the page follows to the end; both phones are invited, one
   answers all six questions; its results are withheld (fewer than 10 workers) and cannot
   be shared.
4. The rules of procedure are public: in Nepali (lang="ne"), in Arabic right to left, and
   each language links the others. This needs a server speaking every catalog's language.

With GRIEVANCE_SCREENSHOTS=1 the run also rewrites ``docs/screenshots/wellbeing.png``,
``docs/screenshots/effectiveness.png`` and ``docs/screenshots/procedure-ne.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Locator, Page, expect
from pypdf import PdfReader

from grievance.config import PROJECT_ROOT
from grievance.demo import DEMO_DOMAIN, SUPPLIERS
from tests.web.conftest import Server, SimPhone, run_server, say
from tests.web.support import (
    DESKTOP,
    PHONE,
    axe_violations,
    demo_account,
    expect_queue,
    new_context,
    screenshot_dir,
    signed_in_state,
    watched,
)

pytestmark = pytest.mark.browser

DEMO_ADMIN = f"admin@{DEMO_DOMAIN}"
SITES = [site.name for supplier in SUPPLIERS for site in supplier.sites]
# The demo gives the first three sites (in the order it creates them) a survey word.
DEMO_WORDS = dict(zip(SITES[:3], ("WELL-4821", "WELL-4822", "WELL-4823"), strict=True))
DEMO_SITE = SITES[0]
NEW_SITE = SITES[3]  # no survey word in the demo
NEW_WORD = "WELL-4900"
AREAS = ("Safety at work", "Respect", "Income security and progression")
QUESTIONS = ("safety_1", "safety_2", "respect_1", "respect_2", "income_1", "income_2")
SECTIONS = (
    "1. How workers can raise a complaint (C6.2)",
    "2. What was raised",
    "3. How cases were handled (C6.4)",
    "4. Outcomes and remedy",
    "5. Trust and protection from retaliation (C6.3)",
    "6. Patterns and lessons (C6.5)",
    "7. Review (LkSG §8(5))",
)
LOCALES = PROJECT_ROOT / "locales"
# Every catalog's language, the deployment's first (English) first.
LANGUAGES = ["en", *sorted(p.stem for p in LOCALES.glob("*.yaml") if p.stem != "en")]


# -- the demo admin ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(live_server: Server) -> dict[str, str]:
    """``grievance demo`` on the server's instance; the admin's password and TOTP secret."""
    return demo_account(live_server, DEMO_ADMIN)


@pytest.fixture(scope="module")
def admin_state(browser: Browser, live_server: Server, demo: dict[str, str]) -> dict[str, Any]:
    """The demo admin signed in once (password, then a TOTP code): the cookies."""
    return signed_in_state(browser, live_server, DEMO_ADMIN, demo)


@pytest.fixture
def admin(browser: Browser, live_server: Server, admin_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in admin's tab at a desktop size; fails on any console error."""
    context = new_context(browser, live_server, storage_state=admin_state)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert not errors, f"console or CSP errors on the admin's pages: {errors}"
    finally:
        context.close()


@pytest.fixture
def checker(browser: Browser, live_server: Server, admin_state: dict[str, Any]) -> Iterator[Page]:
    """The admin's tab for axe-core, which is injected as an inline script: the CSP rightly
    refuses it, so this context alone bypasses the CSP, only to run the checker."""
    context = new_context(browser, live_server, storage_state=admin_state, bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


# -- the wellbeing pages ------------------------------------------------------------------


def open_wellbeing(page: Page) -> None:
    """From the case queue, follow the "Wellbeing pulse" link of the main navigation."""
    page.goto("/cases")
    expect_queue(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Wellbeing pulse").click()
    expect(page).to_have_url(re.compile(r"/wellbeing$"))
    expect(page.get_by_role("heading", name="Worker Wellbeing pulse", level=1)).to_be_visible()


def site_row(page: Page, site: str) -> Locator:
    """A site's row in the sites table."""
    return (
        page.get_by_role("table", name="Sites", exact=True)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=site, exact=True))
    )


def send_wave_button(page: Page, site: str) -> Locator:
    return page.get_by_role("button", name=f"Send a wave to {site}", exact=True)


def open_latest_demo_wave(page: Page) -> None:
    """Open the demo site's third (latest) wave from the waves table."""
    row = (
        page.get_by_role("table", name="Waves", exact=True)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=DEMO_SITE, exact=True))
        .filter(has=page.get_by_role("link", name="Wave 3", exact=True))
    )
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(2)).to_have_text(re.compile(r"^done: \d+ invited$"))
    row.get_by_role("link", name="Wave 3", exact=True).click()
    expect(page).to_have_url(re.compile(r"/wellbeing/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{DEMO_SITE}: wave 3")


def results_table(page: Page, wave: int) -> Locator:
    return page.get_by_role("table", name=f"Results by area, wave {wave}", exact=True)


def trend_table(page: Page, site: str) -> Locator:
    return page.get_by_role("table", name=f"Trend across waves at {site}", exact=True)


def rows_of(table: Locator) -> list[list[str]]:
    """The body rows of a table as text, header cell first."""
    rows: list[list[str]] = table.evaluate(
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    return rows


def sending_status(page: Page) -> Locator:
    return page.get_by_role("region", name="Sending").get_by_role("status")


def share_button(page: Page) -> Locator:
    return page.get_by_role("button", name="Share the results with the workers")


# -- 1. a demo site's waves ----------------------------------------------------------------


def test_an_admin_reads_a_demo_sites_latest_wave(admin: Page, tmp_path: Path) -> None:
    open_wellbeing(admin)
    for site, word in DEMO_WORDS.items():
        expect(admin.get_by_label(f"Survey word for {site}", exact=True)).to_have_value(word)
        # No demo site has members, so no wave can be sent anywhere.
        expect(site_row(admin, site).get_by_role("cell").nth(2)).to_have_text("0")
        expect(send_wave_button(admin, site)).to_be_disabled()

    open_latest_demo_wave(admin)
    expect(sending_status(admin)).to_have_text(
        re.compile(r"^Done: \d+ of \d+ workers invited; 2 could not be reached\.$")
    )
    results = results_table(admin, 3)
    expect(results.locator("tbody tr")).to_have_count(3)
    body = rows_of(results)
    assert [row[0] for row in body] == list(AREAS), body
    for area, n, mean, favourable in body:
        assert int(n) >= 10, (area, body)
        assert re.fullmatch(r"[1-5]\.\d\d", mean), (area, body)
        assert re.fullmatch(r"\d{1,3}%", favourable), (area, body)
    expect(results.locator("tfoot")).to_contain_text(
        re.compile(r"mean of the areas\)\s*[1-5]\.\d\d")
    )
    reach = admin.get_by_role("table", name="Reach and drop-off per question", exact=True)
    expect(reach.locator("tbody tr")).to_have_count(6)

    trend = rows_of(trend_table(admin, DEMO_SITE))
    assert [row[0] for row in trend] == ["1", "2", "3"], trend
    for row in trend:
        # wave, month, invited, answered, three area means, site score
        assert len(row) == 8, row
        assert all(re.fullmatch(r"[1-5]\.\d\d", cell) for cell in row[4:]), trend
    # Every area has 10 answers or more and the demo never shared wave 3: sharing is offered.
    expect(share_button(admin)).to_be_enabled()

    target = screenshot_dir(tmp_path)
    assert admin.viewport_size == DESKTOP
    admin.screenshot(path=str(target / "wellbeing.png"), full_page=True)
    assert (target / "wellbeing.png").stat().st_size > 10_000


def test_axe_finds_no_wcag_violations_on_the_wellbeing_pages(checker: Page) -> None:
    open_wellbeing(checker)
    found = [f"/wellbeing: {v}" for v in axe_violations(checker)]
    open_latest_demo_wave(checker)
    found += [f"{checker.url}: {v}" for v in axe_violations(checker)]
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)


# -- 2. the effectiveness report -----------------------------------------------------------


def test_the_effectiveness_report_shows_its_sections_and_downloads_as_pdf(
    admin: Page, tmp_path: Path
) -> None:
    admin.goto("/reports/effectiveness")
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Effectiveness of the grievance mechanism, \d{4}-\d\d to \d{4}-\d\d$")
    )
    expect(admin.get_by_role("heading", level=2)).to_have_text(list(SECTIONS))
    expect(admin.get_by_role("heading", name="Worker Wellbeing pulse", level=3)).to_be_visible()

    # Before the download, so that the link is not shown focused.
    target = screenshot_dir(tmp_path)
    assert admin.viewport_size == DESKTOP
    admin.screenshot(path=str(target / "effectiveness.png"), full_page=True)
    assert (target / "effectiveness.png").stat().st_size > 10_000

    link = admin.get_by_role("link", name="Download as PDF")
    expect(link).to_have_attribute(
        "href", re.compile(r"^/reports/effectiveness\.pdf\?from=\d{4}-\d\d&to=\d{4}-\d\d$")
    )
    with admin.expect_download() as started:
        link.click()
    download = started.value
    assert download.failure() is None, download.failure()
    assert re.fullmatch(r"effectiveness-\d{4}-\d\d-\d{4}-\d\d\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-", saved.read_bytes()[:40]
    # Bold headings come out of pypdf as UTF-16 code units: drop the NULs between letters.
    words = " ".join(page.extract_text() for page in PdfReader(saved).pages).replace("\x00", "")
    missing = [heading for heading in SECTIONS if heading not in words]
    assert not missing, f"headings missing from the PDF: {missing}\n{words[:800]}"
    assert "Download as PDF" not in words  # the form is left out of the PDF


def test_axe_finds_no_wcag_violations_on_the_effectiveness_report(checker: Page) -> None:
    checker.goto("/reports/effectiveness")
    expect(checker.get_by_role("heading", level=2)).to_have_count(len(SECTIONS))
    found = axe_violations(checker)
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)


# -- 3. a new site's first wave ------------------------------------------------------------


def test_workers_join_a_new_sites_survey_and_answer_a_wave(
    admin: Page, live_server: Server
) -> None:
    open_wellbeing(admin)
    word = admin.get_by_label(f"Survey word for {NEW_SITE}", exact=True)
    expect(word).to_have_value("")
    expect(send_wave_button(admin, NEW_SITE)).to_be_disabled()

    # The admin types the word in lower case; it is kept and shown in capitals.
    word.fill(NEW_WORD.lower())
    site_row(admin, NEW_SITE).get_by_role("button", name="Save word").click()
    expect(admin).to_have_url(re.compile(r"/wellbeing$"))
    expect(admin.get_by_role("status")).to_have_text(
        f"{NEW_SITE}: workers join by sending {NEW_WORD}"
    )
    expect(word).to_have_value(NEW_WORD)
    expect(send_wave_button(admin, NEW_SITE)).to_be_disabled()  # nobody has joined yet

    # Two workers send the word from the poster, whatever its case.
    phones = [
        SimPhone(live_server, "wellbeing-worker-1"),
        SimPhone(live_server, "wellbeing-worker-2"),
    ]
    for phone, text in zip(phones, (NEW_WORD, f" {NEW_WORD.lower()} "), strict=True):
        phone.send(text)
        assert say("wellbeing.joined") in phone.replies_until(say("wellbeing.joined"))

    admin.reload()
    expect(site_row(admin, NEW_SITE).get_by_role("cell").nth(2)).to_have_text("2")
    send = send_wave_button(admin, NEW_SITE)
    expect(send).to_be_enabled()
    send.click()

    # The wave page follows the sending (it refreshes itself) until every invitation is out.
    expect(admin).to_have_url(re.compile(r"/wellbeing/\d+$"))
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"{NEW_SITE}: wave 1")
    expect(sending_status(admin)).to_have_text("Done: 2 of 2 workers invited.")
    progress = admin.get_by_role("region", name="Sending").get_by_role("progressbar")
    expect(progress).to_have_js_property("max", 2)
    expect(progress).to_have_js_property("position", 1)  # full
    expect(admin.locator('meta[http-equiv="refresh"]')).to_have_count(0)

    for phone in phones:
        invitation = phone.replies_until(say("wellbeing.invite"))
        offered = "\n".join(invitation)
        assert re.search(rf"^1\W+{say('wellbeing.option_start')}$", offered, re.MULTILINE), offered
        assert re.search(rf"^2\W+{say('wellbeing.option_later')}$", offered, re.MULTILINE), offered

    # One worker starts, answers the six questions and has nothing else to say.
    worker = phones[0]
    worker.send("1")
    for question, answer in zip(QUESTIONS, ("4", "3", "5", "2", "4", "3"), strict=True):
        asked = worker.replies_until(say(f"wellbeing.{question}"))
        assert any(say("wellbeing.scale") in text for text in asked), asked
        worker.send(answer)
    worker.replies_until(say("wellbeing.anything_else"))
    worker.send("0")
    worker.replies_until(say("wellbeing.thanks"))

    # One answer is far under 10: every figure is withheld and nothing can be shared.
    admin.reload()
    results = admin.get_by_role("region", name="Results")
    expect(results).to_contain_text("Answered: <10 of 2 invited.")
    body = rows_of(results_table(admin, 1))
    assert body == [[area, "<10", "withheld: fewer than 10 workers"] for area in AREAS], body
    expect(results_table(admin, 1).locator("tfoot")).to_contain_text("withheld")
    reach = rows_of(admin.get_by_role("table", name="Reach and drop-off per question"))
    assert all(row[1:] == ["<10", "<10"] for row in reach), reach
    expect(share_button(admin)).to_have_count(0)
    expect(results).to_contain_text(
        "Results can be shared with the workers once the wave is out and every area has at "
        "least 10 answers."
    )
    trend = rows_of(trend_table(admin, NEW_SITE))
    assert [row[0] for row in trend] == ["1"], trend
    assert trend[0][2:] == ["2", "<10", "<10", "<10", "<10", "–"], trend


# -- 4. the public rules of procedure ------------------------------------------------------


@cache
def locale(language: str) -> dict[str, Any]:
    """A catalog file: its name, direction and messages."""
    data: dict[str, Any] = yaml.safe_load(
        (LOCALES / f"{language}.yaml").read_text(encoding="utf-8")
    )
    return data


@pytest.fixture(scope="module")
def multilingual_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server speaking every catalog's language (the default speaks three)."""
    instance = tmp_path_factory.mktemp("serve-languages") / "instance"
    with run_server(instance, GRIEVANCE_LANGUAGES=",".join(LANGUAGES)) as server:
        yield server


@pytest.fixture
def visitor(browser: Browser, multilingual_server: Server) -> Iterator[Page]:
    """Anyone, signed out, on a phone; fails on any console error."""
    context = new_context(browser, multilingual_server, viewport=PHONE)
    errors: list[str] = []
    try:
        yield watched(context, errors)
        assert not errors, f"console or CSP errors on /procedure: {errors}"
    finally:
        context.close()


def expect_procedure(page: Page, language: str) -> None:
    """The rules in ``language``: its lang and direction, its title."""
    title = locale(language)["messages"]["procedure.title"]
    expect(page).to_have_url(re.compile(rf"/procedure/{language}$"))
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", locale(language)["direction"])
    expect(page).to_have_title(title)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def fits_the_phone(page: Page) -> bool:
    """Nothing on the page is wider than the phone: no sideways scrolling."""
    fits: bool = page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    return fits


def test_the_rules_of_procedure_are_public_in_every_language(visitor: Page, tmp_path: Path) -> None:
    response = visitor.goto("/procedure/ne")
    assert response is not None
    assert response.status == 200
    expect_procedure(visitor, "ne")
    expect(visitor.get_by_role("link", name="Sign in")).to_have_count(0)
    expect(visitor.locator("html")).to_have_attribute("dir", "ltr")
    assert fits_the_phone(visitor)

    others = visitor.get_by_role(
        "navigation", name=locale("ne")["messages"]["procedure.other_languages"]
    )
    links = others.get_by_role("link")
    expect(links).to_have_count(len(LANGUAGES))
    expect(links).to_have_text([locale(code)["name"] for code in LANGUAGES])
    for code in LANGUAGES:
        expect(others.locator(f'a[hreflang="{code}"]')).to_have_attribute(
            "href", f"/procedure/{code}"
        )
    expect(others.get_by_role("link", name=locale("ne")["name"])).to_have_attribute(
        "aria-current", "page"
    )

    target = screenshot_dir(tmp_path)
    assert visitor.viewport_size == PHONE
    visitor.screenshot(path=str(target / "procedure-ne.png"), full_page=True)
    assert (target / "procedure-ne.png").stat().st_size > 10_000

    # Arabic reads right to left.
    others.get_by_role("link", name=locale("ar")["name"], exact=True).click()
    expect_procedure(visitor, "ar")
    expect(visitor.locator("html")).to_have_attribute("dir", "rtl")
    assert fits_the_phone(visitor)
    # And English is one click away from there.
    visitor.get_by_role("link", name="English", exact=True).click()
    expect_procedure(visitor, "en")


def test_axe_finds_no_wcag_violations_on_the_procedure(
    browser: Browser, multilingual_server: Server
) -> None:
    context = new_context(browser, multilingual_server, viewport=PHONE, bypass_csp=True)
    found = []
    try:
        page = context.new_page()
        for language in ("ne", "ar"):
            page.goto(f"/procedure/{language}")
            expect_procedure(page, language)
            found += [f"/procedure/{language}: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)


def test_workers_rights_are_public_readable_on_a_phone_and_accessible(
    browser: Browser, multilingual_server: Server, tmp_path: Path
) -> None:
    """/rights/<language>: the texts RIGHTS sends, under the menu's topics, in the worker's
    language and direction, on a phone, with links to the same page in the other languages."""
    context = new_context(browser, multilingual_server, viewport=PHONE, bypass_csp=True)
    found = []
    try:
        page = context.new_page()
        for language in ("ne", "ar"):
            messages = locale(language)["messages"]
            response = page.goto(f"/rights/{language}")
            assert response is not None
            assert response.status == 200
            expect(page.locator("html")).to_have_attribute("lang", language)
            expect(page.locator("html")).to_have_attribute("dir", locale(language)["direction"])
            expect(page.get_by_role("heading", level=1)).to_have_text(messages["rights.page_title"])
            expect(page.get_by_role("heading", level=2)).to_contain_text(
                [
                    messages[f"rights.option_{topic}"]
                    for topic in ("documents", "fees", "debts", "hours")
                ]
            )
            expect(page.get_by_text(messages["rights.fees"])).to_be_visible()
            assert fits_the_phone(page)
            others = page.get_by_role("navigation", name=messages["procedure.other_languages"])
            expect(others.locator('a[hreflang="en"]')).to_have_attribute("href", "/rights/en")
            if language == "ne":
                target = screenshot_dir(tmp_path)
                page.screenshot(path=str(target / "rights-ne.png"), full_page=True)
            found += [f"/rights/{language}: {v}" for v in axe_violations(page)]
    finally:
        context.close()
    assert not found, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(found)
