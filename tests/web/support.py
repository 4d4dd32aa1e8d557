"""What the browser tests share: the line's words from the catalogs, the ``grievance`` CLI on
the live server's instance, signing staff in (password, then TOTP), the phone simulator's
messages, the handler's queue and case pages, axe-core, and where screenshots go."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import pyotp
import yaml
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

from grievance.config import PROJECT_ROOT
from tests.conftest import Phone
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.support.signing import signature
from tests.web.conftest import (
    TIMEOUT_MS,
    WAIT,
    Server,
    mine,
    replies,
    run_server,
    server_environment,
    wait_until,
)

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 420, "height": 860}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The address Twilio is told to call (a proxy in front of the server would forward it).
# Plain http because the browsers talk plain http to 127.0.0.1: an https address would
# make the session cookie Secure and the CSRF check strict about the Referer.
PUBLIC = "http://grievance.example.org"


@contextmanager
def twilio_serve(instance: Path, fake: FakeTwilio, line: str, **extra: str) -> Iterator[Server]:
    """``grievance serve`` with Twilio credentials, sending from ``line`` through ``fake``;
    webhooks are signed over ``PUBLIC``. Pacing is off (it has tests of its own)."""
    with run_server(
        instance,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_SMS_FROM=line,
        TWILIO_API_BASE_URL=fake.base_url,
        PUBLIC_BASE_URL=PUBLIC,
        GRIEVANCE_LANGUAGES="en,ne,my",
        GRIEVANCE_SMS_RATE="0",
        **extra,
    ) as server:
        server.wait_for_output("channel: Twilio")
        yield server


# -- the line's words, from the catalogs ------------------------------------------------


@cache
def catalog(language: str) -> dict[str, Any]:
    """A catalog's messages, so the tests follow wording changes in locales/*.yaml."""
    path = PROJECT_ROOT / "locales" / f"{language}.yaml"
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["messages"])


def text(language: str, key: str, channel: str = "sms") -> str:
    """The text of ``key`` as a worker on ``channel`` reads it."""
    value = catalog(language)[key]
    return str(value[channel] if isinstance(value, dict) else value)


def fixed_part(language: str, key: str) -> str:
    """The text of ``key`` up to its first {placeholder} (a case code differs every time)."""
    return text(language, key).split("{", 1)[0].strip()


# -- operator commands -----------------------------------------------------------------


def grievance(server: Server, *args: str, stdin: str | None = None) -> str:
    """Run the ``grievance`` CLI on the server's instance (same SQLite, same keys); its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "grievance.cli", *args],
        cwd=server.instance.parent,
        env=server_environment(server.instance),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=WAIT * 3,
        check=False,
    )
    assert result.returncode == 0, (
        f"grievance {' '.join(args)} exited with {result.returncode}\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result.stdout


# -- signing in ---------------------------------------------------------------------


def new_context(
    browser: Browser, server: Server, viewport: dict[str, int] = DESKTOP, **options: Any
) -> BrowserContext:
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(
        base_url=server.base_url, viewport=viewport, locale="en-GB", **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def enrol_totp(page: Page) -> pyotp.TOTP:
    """Set up two-step sign-in as a handler does: type the key shown into an app, confirm a code."""
    expect(page).to_have_url(re.compile(r"/login/setup$"))
    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    shown = page.locator("#secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown  # grouped in fours
    app = pyotp.TOTP(shown.replace(" ", ""))
    page.get_by_label("The six-digit code the app now shows").fill(app.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    texts = codes.all_inner_texts()
    assert len(set(texts)) == 10, texts
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", t.strip()) for t in texts), (
        texts
    )
    page.get_by_role("link", name="I have kept them; continue").click()
    return app


def expect_queue(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/cases(\?.*)?$"))
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()


def demo_account(server: Server, email: str) -> dict[str, str]:
    """``grievance demo`` on the server's instance; ``email``'s password and TOTP secret."""
    out = grievance(server, "demo")
    password = re.search(r"^Password of all \d+: (\S+)$", out, re.MULTILINE)
    secret = re.search(rf"^\s+{re.escape(email)}: ([A-Z2-7]+)$", out, re.MULTILINE)
    assert password, out
    assert secret, out
    return {"password": password.group(1), "secret": secret.group(1)}


def signed_in_state(
    browser: Browser, server: Server, email: str, account: dict[str, str]
) -> dict[str, Any]:
    """Sign a staff member in once (password, then a TOTP code); the cookies to reuse."""
    context = new_context(browser, server)
    try:
        page = context.new_page()
        sign_in_with_password(page, email, account["password"])
        expect(page).to_have_url(re.compile(r"/login/code$"))
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(account["secret"]).now())
        page.get_by_role("button", name="Continue").click()
        expect_queue(page)
        return context.storage_state()
    finally:
        context.close()


def signed_in_handler(
    browser: Browser, server: Server, email: str, password: str
) -> dict[str, Any]:
    """A handler created with the CLI (own password, via --password-stdin) and signed in
    once with TOTP: the browser state (cookies) to open tabs with."""
    out = grievance(
        server, "users", "create", email, "--role", "handler", "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    assert "one-time password" not in out, out
    context = new_context(browser, server)
    try:
        page = context.new_page()
        sign_in_with_password(page, email, password)
        enrol_totp(page)
        expect_queue(page)
        return context.storage_state()
    finally:
        context.close()


# -- the worker's phone --------------------------------------------------------------


def send(phone: Page, message: str, reply: str) -> None:
    """Type ``message`` on the phone and wait for the line's next reply, which contains ``reply``."""
    before = replies(phone).count()
    box = phone.get_by_label("Message")
    box.fill(message)
    box.press("Enter")
    expect(mine(phone).last).to_have_text(message)
    expect(replies(phone)).to_have_count(before + 1)
    expect(replies(phone).nth(before)).to_contain_text(reply)


def from_line(phone: Page, message: str) -> Locator:
    """The line's messages on the phone that are exactly ``message``."""
    return replies(phone).filter(has_text=re.compile("^" + re.escape(message) + "$"))


# -- the handler's pages -----------------------------------------------------------------


def queue_row(page: Page, workplace: str) -> Locator:
    return page.locator("table.queue tbody tr").filter(has_text=workplace)


def open_case(page: Page, workplace: str) -> int:
    """From the queue, open the case reported from ``workplace``; its number."""
    page.goto("/cases")
    expect_queue(page)
    row = queue_row(page, workplace)
    expect(row).to_have_count(1)
    link = row.get_by_role("link", name=re.compile(r"^#\d+$"))
    case_id = int(link.inner_text().lstrip("#"))
    link.click()
    expect(page).to_have_url(re.compile(rf"/cases/{case_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case #{case_id}")
    return case_id


def fact(page: Page, name: str) -> Locator:
    """The value of a fact on the case page (the <dd> after <dt>name</dt>)."""
    return page.locator(
        f"xpath=//dl[@class='facts']/dt[normalize-space(.)='{name}']/following-sibling::dd[1]"
    )


def severity_badge(page: Page) -> Locator:
    return page.get_by_role("heading", level=1).locator(".badge")


# -- axe-core -----------------------------------------------------------------------


def axe_violations(page: Page, under_csp: bool = False) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is.

    ``under_csp``: the page keeps the app's Content-Security-Policy (no ``bypass_csp``), so
    axe-core is run through the DevTools protocol, which the policy does not govern, rather
    than as a script tag it would block.
    """
    if under_csp:
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    else:
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    assert results["passes"], "axe-core checked nothing"
    found = []
    for violation in results["violations"]:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return found


# -- screenshots and watched tabs -------------------------------------------------------


def screenshot_dir(tmp_path: Path) -> Path:
    """The docs' folder only when asked: a test run must not leave the work tree dirty."""
    target = SCREENSHOTS if os.environ.get("GRIEVANCE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    return target


def watched(context: BrowserContext, errors: list[str]) -> Page:
    """A new tab whose script errors and console errors (CSP reports among them) are kept."""
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console {msg.type}: {msg.text} at {msg.location.get('url')}")

    page.on("console", console)
    return page


# -- the worker's phone, on Twilio ---------------------------------------------------------


class Worker:
    """A worker's phone writing to the live server through signed Twilio webhooks.

    Reuses conftest's :class:`Phone` for the form Twilio posts, signs it with twilio's
    RequestValidator over ``PUBLIC`` (the address Twilio calls) and posts it to the live
    server; the server's replies are read from the fake Twilio server, where they arrive
    asynchronously.
    """

    def __init__(self, server: Server, fake: FakeTwilio, number: str) -> None:
        self.phone = Phone(None, fake, number)  # type: ignore[arg-type]  # only its form
        self.server = server
        self.fake = fake

    def send(self, body: str) -> None:
        params = self.phone.params(body)
        path = "/twilio/messaging"
        sig = signature(AUTH_TOKEN, PUBLIC + path, params)
        response = self.server.post(path, data=params, headers={"X-Twilio-Signature": sig})
        assert response.status_code == 200, response.text
        assert "<Response" in response.text

    def _new(self) -> list[str]:
        return self.fake.bodies_to(self.phone.address)[self.phone.seen :]

    def receives(self, parts: list[str]) -> list[str]:
        """Wait for the line's next message(s) to the phone; together they hold every part.

        One question may come as more than one SMS, so the messages since the last call are
        read together; they are consumed and returned.
        """

        def arrived() -> list[str] | None:
            new = self._new()
            joined = "\n".join(new)
            return new if new and all(p in joined for p in parts) else None

        messages: list[str] = wait_until(
            arrived,
            lambda: (
                f"a message to the worker containing {parts!r}; got {self._new()!r}\n"
                f"{self.server.describe()}"
            ),
        )
        self.phone.seen += len(messages)
        return messages

    def says_and_hears(self, body: str, parts: list[str]) -> list[str]:
        self.send(body)
        return self.receives(parts)
