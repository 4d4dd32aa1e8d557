"""Administration in a real browser: an admin invites a handler, who opens the emailed link,
chooses a password, sets up an authenticator and reaches the queue; the admin then
deactivates them, and neither their password nor their API token works any more. axe-core
checks every admin page and the invitation page on the way.

The server runs with the console mailer (no SMTP configured), so the invitation's email is
read from the server's log, as an operator without a mail server would read it.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.web.conftest import Server, wait_until
from tests.web.support import (
    axe_violations,
    enrol_totp,
    expect_queue,
    grievance,
    new_context,
    screenshot_dir,
    sign_in_with_password,
)

pytestmark = pytest.mark.browser

ADMIN = "programme.admin@example.org"
ADMIN_PASSWORD = "lanterns over the harbour"
HANDLER = "invited.handler@example.org"
HANDLER_PASSWORD = "a quiet river of tea"
LINK = re.compile(r"https?://[^\s/]+(/invitation\?token=gi_[\w-]+)")


def _no_violations(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], "\n".join(found)


def _link_in_log(server: Server) -> str:
    """The newest invitation's path, from the email the console mailer wrote to the log."""

    def found() -> str | None:
        links = LINK.findall(server.stderr)
        return str(links[-1]) if links else None

    link: str = wait_until(found, lambda: f"the invitation email in the log\n{server.describe()}")
    return link


def _api(server: Server, token: str) -> int:
    return server.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code


def test_an_admin_invites_a_handler_and_later_deactivates_them(
    browser: Browser, live_server: Server, tmp_path: Path
) -> None:
    shots = screenshot_dir(tmp_path)  # docs/screenshots with GRIEVANCE_SCREENSHOTS=1
    grievance(live_server, "users", "create", ADMIN, "--role", "admin", "--password-stdin",
              stdin=ADMIN_PASSWORD + "\n")  # fmt: skip
    # bypass_csp: only so that axe-core can be injected; the pages are the same.
    admin_context = new_context(browser, live_server, bypass_csp=True)
    handler_context = new_context(browser, live_server, bypass_csp=True)
    try:
        admin = admin_context.new_page()
        sign_in_with_password(admin, ADMIN, ADMIN_PASSWORD)
        enrol_totp(admin)
        expect_queue(admin)

        # Organisations and sites: a supplier with a workplace.
        admin.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Organisations"
        ).click()
        expect(admin.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()
        admin.get_by_label("Name").fill("Hill Garments Ltd")
        admin.get_by_label("Kind").select_option("supplier")
        admin.get_by_role("button", name="Add", exact=True).click()
        expect(admin.get_by_role("status")).to_have_text("Added Hill Garments Ltd (supplier).")
        _no_violations(admin)
        admin.get_by_role("navigation", name="Main").get_by_role("link", name="Sites").click()
        admin.get_by_label("Name").fill("Shah Alam factory")
        admin.get_by_label("Country (two letters, like MY or TH)").fill("M")
        admin.get_by_role("button", name="Add", exact=True).click()
        expect(admin.get_by_role("alert")).to_contain_text("two-letter code")
        admin.get_by_label("Name").fill("Shah Alam factory")
        admin.get_by_label("Country (two letters, like MY or TH)").fill("MY")
        admin.get_by_role("button", name="Add", exact=True).click()
        expect(admin.get_by_role("status")).to_have_text("Added the site Shah Alam factory.")
        expect(
            admin.get_by_role("row", name="Shah Alam factory Hill Garments Ltd MY")
        ).to_be_visible()
        _no_violations(admin)

        # The invitation.
        admin.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
        expect(admin.get_by_role("heading", name="Users", exact=True)).to_be_visible()
        admin.get_by_label("Email").fill(HANDLER)
        admin.get_by_label("Role").select_option("handler")
        admin.get_by_role("button", name="Send the invitation").click()
        expect(admin.get_by_role("status")).to_contain_text(f"Invited {HANDLER}")
        expect(admin.get_by_role("row", name=re.compile(re.escape(HANDLER)))).to_contain_text(
            "invited, no password yet"
        )
        _no_violations(admin)
        admin.screenshot(path=str(shots / "admin-users.png"), full_page=True)

        # The handler opens the emailed link, chooses a password, sets up an authenticator.
        link = _link_in_log(live_server)
        handler = handler_context.new_page()
        handler.goto(link)
        expect(handler.get_by_role("heading", name="Choose your password")).to_be_visible()
        expect(handler.get_by_text(HANDLER)).to_be_visible()
        _no_violations(handler)
        handler.screenshot(path=str(shots / "invitation.png"), full_page=True)
        handler.get_by_label("New password", exact=True).fill(HANDLER_PASSWORD)
        handler.get_by_label("New password again", exact=True).fill(HANDLER_PASSWORD)
        handler.get_by_role("button", name="Set password").click()
        expect(handler.get_by_role("status")).to_contain_text("Your password is set")
        handler.get_by_role("link", name="Sign in").click()
        sign_in_with_password(handler, HANDLER, HANDLER_PASSWORD)
        enrol_totp(handler)
        expect_queue(handler)
        # The link was used up.
        used = handler_context.new_page()
        used.goto(link)
        expect(used.get_by_role("alert")).to_contain_text("already been used")
        used.close()

        token = grievance(live_server, "tokens", "create", HANDLER).strip().splitlines()[-1]
        assert _api(live_server, token) == 200

        # The admin deactivates them.
        admin.reload()
        admin.get_by_role("link", name=HANDLER).click()
        expect(admin.get_by_role("heading", name=HANDLER)).to_be_visible()
        _no_violations(admin)
        admin.screenshot(path=str(shots / "admin-user.png"), full_page=True)
        admin.get_by_role("button", name="Deactivate").click()
        expect(admin.get_by_role("status")).to_have_text(f"{HANDLER} is deactivated.")

        handler.reload()
        expect(handler.get_by_role("heading", name="Sign in")).to_be_visible()
        sign_in_with_password(handler, HANDLER, HANDLER_PASSWORD)
        expect(handler.get_by_role("alert")).to_have_text(re.compile("^Wrong email or password"))
        assert _api(live_server, token) == 401
        assert urlsplit(handler.url).path == "/login"
    finally:
        admin_context.close()
        handler_context.close()
