"""The case handlers' web UI in a real browser (Debian's Chromium), used as a handler works.

A real ``grievance serve`` runs on a fresh instance directory (conftest's ``live_server``).
Users and organisations are created with the ``grievance`` CLI against that instance, as an
operator would. Workers report through the phone simulator, which goes through the real
inbox, flows and outbox on the console channel, and the handler answers from the case page.

With GRIEVANCE_SCREENSHOTS=1 the run also rewrites ``docs/screenshots/queue.png`` and
``docs/screenshots/case.png``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server, SimPhone, replies
from tests.web.support import (
    DESKTOP,
    PHONE,
    SCREENSHOTS,
    axe_violations,
    enrol_totp,
    expect_queue,
    fact,
    fixed_part,
    from_line,
    grievance,
    new_context,
    open_case,
    queue_row,
    send,
    severity_badge,
    sign_in_with_password,
    signed_in_handler,
    text,
)

pytestmark = pytest.mark.browser

HANDLER = "triage@example.org"
HANDLER_PASSWORD = "correct horse battery staple"
SUPPLIER = "Hill Garments Ltd"


# -- operator commands -----------------------------------------------------------------


@pytest.fixture(scope="module")
def supplier(live_server: Server) -> str:
    """A supplier organisation cases can be referred to."""
    out = grievance(live_server, "orgs", "create", SUPPLIER, "--kind", "supplier")
    assert SUPPLIER in out, out
    return SUPPLIER


# -- signing in ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def handler_state(browser: Browser, live_server: Server) -> dict[str, Any]:
    """A handler signed in once with TOTP: the cookies."""
    return signed_in_handler(browser, live_server, HANDLER, HANDLER_PASSWORD)


@pytest.fixture
def handler(browser: Browser, live_server: Server, handler_state: dict[str, Any]) -> Iterator[Page]:
    """The signed-in handler's browser tab at a desktop size; fails on script or CSP errors."""
    context = new_context(browser, live_server, storage_state=handler_state)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    try:
        yield page
        assert not errors, f"script or CSP errors on the handler's pages: {errors}"
    finally:
        context.close()


# -- the worker's phone --------------------------------------------------------------


@pytest.fixture
def phone(browser: Browser, live_server: Server) -> Iterator[Page]:
    """The worker's phone: the simulator in its own browser context (not the handler's)."""
    context = new_context(browser, live_server, viewport=PHONE)
    page = context.new_page()
    try:
        response = page.goto("/simulator")
        assert response is not None
        assert response.status == 200, live_server.describe()
        yield page
    finally:
        context.close()


def report(
    phone: Page, language: str, greeting: str, category: str, workplace: str, words: str
) -> None:
    """Walk the intake on SMS: consent, category, workplace, words, not in danger, news."""
    send(phone, greeting, text(language, "intake.promise"))
    send(phone, "1", fixed_part(language, "intake.choose_category"))
    send(phone, category, text(language, "intake.ask_workplace"))
    send(phone, workplace, text(language, "intake.ask_what_happened"))
    send(phone, words, text(language, "intake.ask_danger_now"))
    send(phone, "2", text(language, "intake.ask_updates"))
    send(phone, "1", text(language, "intake.ask_full_updates"))
    # Content-free news; SMS: no question about an SMS fallback; the case opens at once.
    send(phone, "2", fixed_part(language, "intake.case_opened"))


# -- cases reported beforehand, for the queue ----------------------------------------

SEEDED = (
    # (category number, workplace, what happened, in danger?)
    ("1", "Riverside Apparel, Dhaka", "The manager keeps our passports in his office.", "2"),
    ("5", "Lakeview Plastics, Penang", "The guard on the cutting machine is broken.", "2"),
    ("8", "Sunrise Farms dormitory", "Twelve of us sleep in one room with no water.", "1"),
)


@pytest.fixture(scope="module")
def seeded_cases(live_server: Server) -> list[str]:
    """Three cases from three phones (P1, P2 and P0), reported through the simulator's JSON API."""
    for n, (category, workplace, words, danger) in enumerate(SEEDED):
        worker = SimPhone(live_server, f"seeded-phone-{n:04d}")
        for message, reply in (
            ("hello", "intake.promise"),
            ("1", "intake.choose_category"),
            (category, "intake.ask_workplace"),
            (workplace, "intake.ask_what_happened"),
            (words, "intake.ask_danger_now"),
            (danger, "intake.ask_updates"),
            ("1", "intake.ask_full_updates"),
            ("2", "intake.case_opened"),
        ):
            worker.send(message)
            worker.replies_until(fixed_part("en", reply))
    return [workplace for _, workplace, _, _ in SEEDED]


# -- 1. sign-in --------------------------------------------------------------------


def test_handler_signs_in_with_totp_replaces_one_time_password_and_signs_in_again(
    browser: Browser, live_server: Server
) -> None:
    email = "new.handler@example.org"
    out = grievance(live_server, "users", "create", email, "--role", "handler")
    found = re.search(r"one-time password[^:]*: (\S+)", out)
    assert found, out
    one_time = found.group(1)
    chosen = "a kettle of purple lanterns"

    context = new_context(browser, live_server)
    try:
        page = context.new_page()
        # Nothing but the sign-in page without signing in.
        page.goto("/cases")
        expect(page).to_have_url(re.compile(r"/login\?next=(%2F|/)cases$"))

        sign_in_with_password(page, email, one_time)
        app = enrol_totp(page)

        # Created without --password-stdin: the one-time password must be replaced first.
        expect(page).to_have_url(re.compile(r"/account/password$"))
        expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
        page.goto("/cases")  # no way round it
        expect(page).to_have_url(re.compile(r"/account/password$"))
        page.get_by_label("New password", exact=True).fill(chosen)
        page.get_by_label("New password again", exact=True).fill(chosen)
        page.get_by_role("button", name="Save").click()
        expect_queue(page)

        sign_out = page.get_by_role("button", name=f"Sign out ({email})")
        expect(sign_out).to_be_visible()
        sign_out.click()
        expect(page).to_have_url(re.compile(r"/login$"))
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.goto("/cases")
        expect(page).to_have_url(re.compile(r"/login\?next="))

        # The one-time password is gone.
        sign_in_with_password(page, email, one_time)
        expect(page.get_by_role("alert")).to_have_text(re.compile("^Wrong email or password"))

        # The chosen password and a fresh code from the app. The code just used to enrol
        # cannot be replayed within its 30-second step; the server also accepts the next
        # step (clock drift), so the app's next code is used instead of waiting.
        sign_in_with_password(page, email, chosen)
        expect(page).to_have_url(re.compile(r"/login/code$"))
        expect(page.get_by_role("heading", name="Authentication code")).to_be_visible()
        page.get_by_label("Code", exact=True).fill(app.at(time.time() + app.interval))
        page.get_by_role("button", name="Continue").click()
        expect_queue(page)
        expect(page.get_by_role("button", name=f"Sign out ({email})")).to_be_visible()
    finally:
        context.close()


# -- 2. triage ------------------------------------------------------------------------


def test_triage_from_intake_to_supplier(handler: Page, phone: Page, supplier: str) -> None:
    workplace = "Northgate Knitwear, Tiruppur"
    words = "We worked all month and the owner paid us nothing."
    report(phone, "en", "hello", "6", workplace, words)  # 6: wrong pay, a P2 category

    handler.goto("/cases")
    expect_queue(handler)
    row = queue_row(handler, workplace)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("P2")
    expect(row.locator("td").nth(2)).to_have_text("Received")
    expect(row.locator("td").nth(4)).to_have_text("Wages")
    expect(row.locator("td").nth(4)).to_have_attribute("title", "WAGE")
    expect(row.locator("td").nth(6)).to_have_text("English")

    case_id = open_case(handler, workplace)
    expect(handler.locator("blockquote.words")).to_have_text(words)
    expect(fact(handler, "Stage")).to_have_text("received")
    expect(fact(handler, "Workplace")).to_have_text(workplace)
    expect(severity_badge(handler)).to_have_text("P2")

    update = text("en", "notice.update")
    handler.get_by_role("button", name="Acknowledge (the worker is told a person has it)").click()
    expect(handler).to_have_url(re.compile(rf"/cases/{case_id}$"))
    expect(handler.locator("p.flash.ok")).to_have_text("Acknowledged; the worker is told.")
    expect(fact(handler, "Stage")).to_have_text("acknowledged")
    expect(from_line(phone, update)).to_have_count(1)

    handler.get_by_label("Category", exact=True).select_option("WAGE")
    handler.get_by_label("withholding of wages", exact=True).check()
    handler.get_by_label("debt bondage", exact=True).check()
    handler.get_by_role("button", name="Save category").click()
    expect(handler.locator("p.flash.ok")).to_have_text("Category saved.")
    expect(severity_badge(handler)).to_have_text("P1")  # two indicators make it P1
    indicators = fact(handler, "Indicators")
    expect(indicators).to_contain_text("withholding of wages")
    expect(indicators).to_contain_text("debt bondage")
    expect(fact(handler, "Stage")).to_have_text("in triage")

    handler.get_by_label("Refer to supplier", exact=True).select_option(label=supplier)
    handler.get_by_label(re.compile("^Summary for the supplier")).fill(
        "A worker reports that a month of wages was not paid at this site."
    )
    handler.get_by_role("button", name="Refer to supplier").click()
    expect(handler.locator("p.flash.ok")).to_have_text(
        "Referred to the supplier; the worker is told."
    )
    expect(fact(handler, "Stage")).to_have_text("with supplier")
    expect(fact(handler, "Supplier")).to_have_text(supplier)
    expect(from_line(phone, update)).to_have_count(2)

    handler.goto("/cases")
    row = queue_row(handler, workplace)
    expect(row.locator("td").nth(1)).to_have_text("P1")
    expect(row.locator("td").nth(2)).to_have_text("With supplier")


# -- 3. messages to the worker ----------------------------------------------------------


def test_handler_messages_a_nepali_worker(handler: Page, phone: Page) -> None:
    workplace = "Pokhara Knitwear, Pokhara"
    report(phone, "ne", "नमस्ते, मलाई मद्दत चाहिन्छ", "3", workplace, "मालिकले तलब रोकेको छ।")

    open_case(handler, workplace)
    expect(fact(handler, "Language")).to_have_text("Nepali")
    messaging = handler.locator("fieldset").filter(has_text="Message the worker")
    expect(messaging.locator("legend")).to_contain_text("in नेपाली (ne)")

    ask_more = text("ne", "handler.ask_more")
    meaning = text("en", "handler.ask_more")
    assert ask_more != meaning
    # Each canned reply shows what it means (for a handler who does not read Nepali) beside
    # the Nepali text that is sent; the question waits for the worker's answer.
    canned = messaging.get_by_role("radio", name=meaning)
    expect(canned).to_be_visible()
    option = messaging.locator("label.canned").filter(has_text=meaning)
    expect(option).to_contain_text(ask_more)
    expect(option).to_contain_text("(waits for the answer)")
    canned.check()
    handler.get_by_role("button", name="Send", exact=True).click()
    expect(handler.locator("p.flash.ok")).to_have_text("Message queued for the worker.")
    expect(from_line(phone, ask_more)).to_have_count(1)

    free = "भोलि बिहान १० बजे हामी फेरि लेख्नेछौं।"  # free text is sent exactly as written
    free_radio = handler.get_by_role("radio", name="Free text:")
    expect(free_radio).to_be_checked()  # the default again after sending
    handler.get_by_label("Free text", exact=True).fill(free)
    handler.get_by_role("button", name="Send", exact=True).click()
    expect(handler.locator("p.flash.ok")).to_have_text("Message queued for the worker.")
    expect(replies(phone).last).to_have_text(free)

    timeline = handler.locator("ol.timeline li.t-out")
    expect(timeline.filter(has_text=ask_more)).to_have_count(1)
    expect(timeline.filter(has_text=free)).to_have_count(1)


# -- 4. keyboard only ---------------------------------------------------------------


def focused(page: Page) -> dict[str, str]:
    """What has focus, and how its focus indicator is drawn."""
    result: dict[str, str] = page.evaluate(
        """() => {
          const e = document.activeElement;
          const s = getComputedStyle(e);
          return {tag: e.tagName, id: e.id, text: (e.innerText || e.value || '').trim().slice(0, 40),
                  outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth,
                  outlineColor: s.outlineColor};
        }"""
    )
    return result


def assert_focus_visible(page: Page) -> dict[str, str]:
    now = focused(page)
    assert now["tag"] != "BODY", "focus was lost to the page"
    assert now["outlineStyle"] != "none", f"no visible focus indicator on {now}"
    assert now["outlineWidth"] != "0px", f"no visible focus indicator on {now}"
    return now


def test_queue_by_keyboard_only(handler: Page, seeded_cases: list[str]) -> None:
    handler.goto("/cases")
    expect_queue(handler)
    keys = handler.keyboard

    keys.press("Tab")
    skip = handler.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert_focus_visible(handler)
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0, f"skip link off screen: {box}"
    assert box["y"] >= 0, f"skip link off screen: {box}"
    keys.press("Enter")
    expect(handler.locator("main")).to_be_focused()

    # First the case code a worker reads out on the phone, then the filters.
    keys.press("Tab")
    expect(handler.get_by_label("Case code a worker reads out")).to_be_focused()
    assert_focus_visible(handler)
    keys.press("Tab")
    expect(handler.get_by_role("button", name="Find")).to_be_focused()
    keys.press("Tab")
    expect(handler.get_by_label("Case number or workplace")).to_be_focused()
    assert_focus_visible(handler)
    keys.press("Tab")
    expect(handler.get_by_label("Stage", exact=True)).to_be_focused()
    keys.press("Tab")
    severity = handler.get_by_label("Severity", exact=True)
    expect(severity).to_be_focused()
    assert_focus_visible(handler)
    keys.press("ArrowDown")  # Any -> P0
    keys.press("ArrowDown")  # P0 -> P1
    expect(severity).to_have_value("P1")

    # Through the other filters to the Show button, and one step back.
    show = handler.get_by_role("button", name="Show")
    path = []
    for _ in range(12):
        keys.press("Tab")
        path.append(assert_focus_visible(handler))
        if path[-1]["tag"] == "BUTTON":
            break
    expect(show).to_be_focused()
    keys.press("Shift+Tab")
    expect(handler.get_by_label("Worker replied")).to_be_focused()
    assert_focus_visible(handler)
    keys.press("Tab")
    expect(show).to_be_focused()

    # Space submits; htmx swaps the table and puts the filter in the address.
    with handler.expect_response(lambda r: "/cases?" in r.url and "severity=P1" in r.url):
        keys.press("Space")
    expect(handler).to_have_url(re.compile(r"severity=P1"))
    handler.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    rows = handler.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    expect(
        handler.locator("table.queue tbody td:nth-child(2)").filter(has_not_text="P1")
    ).to_have_count(0)
    expect(show).to_be_focused()  # the swap did not throw focus away

    # The table's head selects every case on the page; each row starts with the box that
    # selects it, for the actions on selected cases.
    keys.press("Tab")
    expect(handler.get_by_label("Select every case on this page")).to_be_focused()
    keys.press("Tab")
    number = rows.first.get_by_role("link").inner_text()
    expect(handler.get_by_label(f"Select case {number}", exact=True)).to_be_focused()
    assert_focus_visible(handler)
    keys.press("Tab")
    first_case = rows.first.get_by_role("link")
    expect(first_case).to_be_focused()
    assert_focus_visible(handler)
    number = first_case.inner_text().lstrip("#")
    keys.press("Enter")
    expect(handler).to_have_url(re.compile(rf"/cases/{number}$"))
    expect(handler.get_by_role("heading", level=1)).to_contain_text(f"Case #{number}")
    expect(severity_badge(handler)).to_have_text("P1")


def test_a_handler_finds_a_case_by_the_code_a_worker_reads_out(
    handler: Page, live_server: Server
) -> None:
    """A worker on the phone reads out their code; the handler types it as heard, in
    groups, and lands on the case. A digit misheard is said so, on the queue."""
    worker = SimPhone(live_server, "reads-out-code-0001")
    heard: list[str] = []
    for message, reply in (
        ("hello", "intake.promise"),
        ("1", "intake.choose_category"),
        ("6", "intake.ask_workplace"),
        ("Riverside Mill, Penang", "intake.ask_what_happened"),
        ("no pay for two months", "intake.ask_danger_now"),
        ("2", "intake.ask_updates"),
        ("1", "intake.ask_full_updates"),
        ("2", "intake.case_opened"),
    ):
        worker.send(message)
        heard = worker.replies_until(fixed_part("en", reply))
    found = re.search(r"\d{4} \d{4} \d{4}", " ".join(heard))
    assert found, heard
    code = found.group(0)

    handler.goto("/cases")
    expect_queue(handler)
    field = handler.get_by_label("Case code a worker reads out")
    field.fill(code.replace(" ", "-"))
    field.press("Enter")
    expect(handler).to_have_url(re.compile(r"/cases/\d+$"))
    expect(fact(handler, "Workplace")).to_have_text("Riverside Mill, Penang")

    handler.goto("/cases")
    misheard = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
    handler.get_by_label("Case code a worker reads out").fill(misheard)
    handler.get_by_role("button", name="Find").click()
    expect_queue(handler)
    expect(handler.get_by_role("alert")).to_contain_text("one digit looks mistyped")


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""

    def luminance(colour: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"[\d.]+", colour)[:3])
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_focus_indicator_contrasts_with_the_page(handler: Page, seeded_cases: list[str]) -> None:
    handler.goto("/cases")
    expect_queue(handler)
    page_colour = handler.evaluate("() => getComputedStyle(document.body).backgroundColor")
    weak = []
    for _ in range(8):  # skip link, the header's links and sign-out button, the first filters
        handler.keyboard.press("Tab")
        now = assert_focus_visible(handler)
        ratio = contrast(now["outlineColor"], page_colour)
        if ratio < 3:
            weak.append(f"{now['tag']} {now['id'] or now['text']!r}: {ratio:.2f}:1")
    assert not weak, "focus indicators under 3:1 against the page:\n" + "\n".join(weak)


def test_filtering_announces_the_new_count(handler: Page, seeded_cases: list[str]) -> None:
    handler.goto("/cases")
    expect_queue(handler)
    live = handler.locator("[aria-live], [role=status]").filter(has_text=re.compile(r"\d+ cases?"))
    expect(live).to_have_count(1)
    live.evaluate("e => { e.dataset.before = 'yes'; }")
    handler.get_by_label("Severity", exact=True).select_option("P0")
    expect(handler).to_have_url(re.compile(r"severity=P0"))
    expect(live).to_have_text(re.compile(r"^1 case: P0 1$"))
    # A live region is announced when its content changes, not when it is inserted anew.
    assert live.evaluate("e => e.dataset.before") == "yes", (
        "the live region with the count was replaced, not updated"
    )


# -- 5. axe-core -----------------------------------------------------------------------


def test_axe_finds_no_wcag_violations(
    browser: Browser, live_server: Server, handler_state: dict[str, Any], seeded_cases: list[str]
) -> None:
    # axe is injected as an inline script, which the app's CSP (script-src 'self') rightly
    # refuses; this context alone bypasses the CSP, only to run the checker.
    context = new_context(browser, live_server, storage_state=handler_state, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto("/cases")
        expect_queue(page)
        expect(page.locator("table.queue tbody tr")).not_to_have_count(0)
        problems = {"/cases": axe_violations(page)}
        open_case(page, seeded_cases[0])
        problems[page.url.removeprefix(live_server.base_url)] = axe_violations(page)
        page.goto("/dashboard")
        expect(page.get_by_role("heading", name="What waits")).to_be_visible()
        expect(page.locator("table.figures caption", has_text="By stage")).to_be_visible()
        problems["/dashboard"] = axe_violations(page)
        page.goto("/account")
        expect(page.get_by_label("Show times in")).to_be_visible()
        problems["/account"] = axe_violations(page)
    finally:
        context.close()
    report_lines = [f"{url}: {v}" for url, found in problems.items() for v in found]
    assert not report_lines, "axe-core WCAG 2.1 A/AA violations:\n" + "\n".join(report_lines)


# -- 6. screenshots for the docs ---------------------------------------------------------


def test_screenshots_for_the_docs(handler: Page, seeded_cases: list[str], tmp_path: Path) -> None:
    # The docs' copies change only when asked (GRIEVANCE_SCREENSHOTS=1): a test run
    # must not leave the work tree dirty.
    target = SCREENSHOTS if os.environ.get("GRIEVANCE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    assert handler.viewport_size == DESKTOP
    handler.goto("/cases")
    expect_queue(handler)
    expect(handler.locator("table.queue tbody tr")).not_to_have_count(0)
    handler.screenshot(path=str(target / "queue.png"), full_page=True)

    open_case(handler, seeded_cases[0])
    expect(handler.locator("blockquote.words")).to_be_visible()
    handler.screenshot(path=str(target / "case.png"), full_page=True)
    for name in ("queue.png", "case.png"):
        assert (target / name).stat().st_size > 10_000, name
