"""Administration in the browser: users invited by email, roles, deactivation, resets, signing
out everywhere, organisations, buyers' suppliers and sites; every page for every role; and
the same through the command line. Every change is audited without secrets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import AuditEvent, Invitation, OutboxMail, User
from grievance.runtime import Runtime
from grievance.services import admin, mails
from grievance.services.visibility import visible_suppliers
from tests.conftest import environment
from tests.support.accounts import browser, make_user, sign_in_password
from tests.support.admin import last_link, post_form, user_id
from tests.support.cli import grievance
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import PASSWORD, handler, token_of

NEW_PASSWORD = "a new password of my own"
PAGES = ["/admin/users", "/admin/organisations", "/admin/sites", "/admin/users/1"]
FORMS = [
    "/admin/users",
    "/admin/users/1/role",
    "/admin/users/1/active",
    "/admin/users/1/reset-mfa",
    "/admin/users/1/reset-password",
    "/admin/users/1/sign-out",
    "/admin/organisations",
    "/admin/organisations/links",
    "/admin/sites",
]


def _member(app: Flask, runtime: Runtime, email: str, role: str) -> FlaskClient:
    """A supplier or buyer signed in with a password (no second factor for them)."""
    make_user(runtime, email, role, f"{role.title()} Org")
    client = browser(app)
    assert sign_in_password(client, email).status_code == 302
    return client


def test_only_admins_reach_the_admin_pages(app: Flask, runtime: Runtime) -> None:
    admin_client = handler(app, runtime, "admin@example.org", role="admin")
    others = {
        "handler": handler(app, runtime, "h@example.org"),
        "supplier": _member(app, runtime, "s@example.org", "supplier"),
        "buyer": _member(app, runtime, "b@example.org", "buyer"),
    }
    for page in PAGES:
        assert admin_client.get(page).status_code == 200, page
        assert browser(app).get(page).headers["Location"].startswith("/login"), page
    for role, client in others.items():
        token = token_of(client, "/account/password")
        for page in PAGES:
            assert client.get(page).status_code == 404, (role, page)
        for action in FORMS:
            refused = client.post(action, data={"csrf_token": token, "email": "x@example.org"})
            assert refused.status_code == 404, (role, action)
    for action in FORMS:
        assert browser(app).post(action).status_code in (302, 400), action  # no sign-in
    with runtime.sessions() as session:
        assert session.scalar(select(User).where(User.email == "x@example.org")) is None
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/users"' in page  # the admin's navigation
    assert 'href="/admin/users"' not in others["handler"].get("/cases").get_data(as_text=True)


def test_an_invited_handler_chooses_a_password_with_a_one_time_link(
    app: Flask, runtime: Runtime
) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    page = post_form(staff, "/admin/users", "/admin/users", email="New@Example.org", role="handler")
    assert "Invited new@example.org" in page
    assert "invited, no password yet" in page
    link = last_link(runtime, "new@example.org")
    token = link.split("=", 1)[1]
    with runtime.sessions() as session:
        # Only the hash is kept: not in the invitation, and the email's body is erased.
        assert token not in str(session.scalars(select(Invitation.token_hash)).all())
        assert all(token not in m.body for m in session.scalars(select(OutboxMail)))
    # Nobody can sign in before the link is used: there is no password anyone knows.
    assert sign_in_password(browser(app), "new@example.org").status_code == 401

    invited = browser(app)
    form = invited.get(link)
    assert form.status_code == 200
    assert "new@example.org" in form.get_data(as_text=True)
    assert invited.get(link).status_code == 200  # opening it again uses nothing up
    csrf = token_of(invited, link)
    differ = invited.post(
        "/invitation",
        data={"csrf_token": csrf, "token": token, "new_password": NEW_PASSWORD, "confirm": "x"},
    )
    assert "not the same" in differ.get_data(as_text=True)
    short = invited.post(
        "/invitation",
        data={"csrf_token": csrf, "token": token, "new_password": "short", "confirm": "short"},
    )
    assert "at least 8 characters" in short.get_data(as_text=True)
    done = invited.post(
        "/invitation",
        data={
            "csrf_token": csrf,
            "token": token,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert "Your password is set" in done.get_data(as_text=True)
    used = invited.get(link)
    assert used.status_code == 410
    assert "already been used" in used.get_data(as_text=True)
    # The sign-in that follows asks a handler to set up an authenticator first.
    signing_in = browser(app)
    response = sign_in_password(signing_in, "new@example.org", NEW_PASSWORD)
    assert response.headers["Location"].endswith("/login/setup")


def test_a_link_expires_and_a_newer_one_replaces_it(app: Flask, runtime: Runtime) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    post_form(staff, "/admin/users", "/admin/users", email="late@example.org", role="handler")
    first = last_link(runtime, "late@example.org")
    with runtime.sessions() as session:
        invitation = session.scalars(select(Invitation)).one()
        assert invitation.expires_at - invitation.created_at == timedelta(hours=72)
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        session.commit()
    expired = browser(app).get(first)
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    assert "does not work" in browser(app).get("/invitation?token=gi_nonsense").get_data(
        as_text=True
    )
    page = post_form(
        staff,
        "/admin/users",
        f"/admin/users/{user_id(runtime, 'late@example.org')}/reset-password",
    )
    assert "gets an email with a link" in page
    second = last_link(runtime, "late@example.org")
    assert browser(app).get(second).status_code == 200
    post_form(
        staff,
        "/admin/users",
        f"/admin/users/{user_id(runtime, 'late@example.org')}/reset-password",
    )
    assert browser(app).get(second).status_code == 410  # replaced by the newest link


def test_the_link_lasts_as_long_as_the_operator_configured(runtime: Runtime) -> None:
    runtime.settings = runtime.settings.with_overrides(invite_hours=2)  # GRIEVANCE_INVITE_HOURS=2
    with runtime.sessions() as session:
        user, _ = admin.invite_user(runtime, session, None, "x@example.org", "handler")
        invitation = session.scalars(select(Invitation).where(Invitation.user_id == user.id)).one()
        assert invitation.expires_at - invitation.created_at == timedelta(hours=2)
        body = session.scalars(select(OutboxMail.body)).one()
        assert "It works once, for 2 hours" in body


def test_a_password_reset_ends_the_old_password_sessions_and_tokens(
    app: Flask, runtime: Runtime
) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    member = _member(app, runtime, "s@example.org", "supplier")
    token = _token(runtime, "s@example.org")
    uid = user_id(runtime, "s@example.org")
    page = post_form(staff, f"/admin/users/{uid}", f"/admin/users/{uid}/reset-password")
    assert "s@example.org gets an email" in page
    assert PASSWORD not in page
    assert member.get("/supplier/cases").status_code == 302  # signed out
    assert sign_in_password(browser(app), "s@example.org").status_code == 401
    assert _api(app, token) == 401
    _accept(app, last_link(runtime, "s@example.org"))
    assert sign_in_password(browser(app), "s@example.org", NEW_PASSWORD).status_code == 302


def test_deactivate_sign_out_role_and_authenticator_from_the_user_page(
    app: Flask, runtime: Runtime
) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    them = handler(app, runtime, "h@example.org")
    uid = user_id(runtime, "h@example.org")
    user_page = f"/admin/users/{uid}"
    token = _token(runtime, "h@example.org")

    page = post_form(staff, user_page, f"/admin/users/{uid}/sign-out")
    assert "signed out everywhere; 1 API token revoked." in page
    assert them.get("/cases").status_code == 302
    assert _api(app, token) == 401

    token = _token(runtime, "h@example.org")
    page = post_form(staff, user_page, f"/admin/users/{uid}/active", active="0")
    assert "h@example.org is deactivated" in page
    assert sign_in_password(browser(app), "h@example.org").status_code == 401
    assert _api(app, token) == 401
    assert "deactivated" in staff.get("/admin/users").get_data(as_text=True)
    page = post_form(staff, user_page, f"/admin/users/{uid}/active", active="1")
    assert "h@example.org is active" in page
    assert sign_in_password(browser(app), "h@example.org").status_code == 302

    page = post_form(staff, user_page, f"/admin/users/{uid}/reset-mfa")
    assert "Two-step sign-in reset" in page
    assert (
        sign_in_password(browser(app), "h@example.org").headers["Location"].endswith("/login/setup")
    )

    page = post_form(staff, user_page, f"/admin/users/{uid}/role", role="buyer", organisation="")
    assert "a buyer belongs to a buyer organisation" in page.lower()
    post_form(staff, "/admin/organisations", "/admin/organisations", name="Brand", kind="buyer")
    page = post_form(
        staff, user_page, f"/admin/users/{uid}/role", role="buyer", organisation="Brand"
    )
    assert "h@example.org is now buyer" in page

    # The line always keeps an admin who can sign in.
    me = user_id(runtime, "admin@example.org")
    page = post_form(staff, f"/admin/users/{me}", f"/admin/users/{me}/active", active="0")
    assert "only active admin" in page
    page = post_form(staff, f"/admin/users/{me}", f"/admin/users/{me}/role", role="handler")
    assert "only active admin" in page

    with runtime.sessions() as session:
        audited = session.scalars(select(AuditEvent).where(AuditEvent.user_id == 1)).all()
        actions = {event.action for event in audited}
        assert {
            "signed_out_everywhere",
            "user_deactivated",
            "user_activated",
            "mfa_reset",
            "role_changed",
            "organisation_created",
        } <= actions
        assert all("@" not in (event.detail or "") for event in audited)


def test_bad_invitations_are_refused_with_a_reason(app: Flask, runtime: Runtime) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    for form, said in [
        ({"email": "not an address", "role": "handler"}, "is not an email address"),
        ({"email": "s@example.org", "role": "supplier"}, "needs an organisation"),
        ({"email": "s@example.org", "role": "owner"}, "role must be one of"),
        ({"email": "admin@example.org", "role": "admin"}, "already exists"),
    ]:
        page = post_form(staff, "/admin/users", "/admin/users", **form)
        assert said in page, (form, said)
    assert len(runtime.mailer.sent) == 0  # type: ignore[attr-defined]


def test_an_invited_supplier_reaches_their_portal(app: Flask, runtime: Runtime) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    post_form(staff, "/admin/organisations", "/admin/organisations", name="Hill", kind="supplier")
    page = post_form(
        staff,
        "/admin/users",
        "/admin/users",
        email="owner@example.org",
        role="supplier",
        organisation="Hill",
    )
    assert "Invited owner@example.org" in page
    _accept(app, last_link(runtime, "owner@example.org"))
    client = browser(app)
    response = sign_in_password(client, "owner@example.org", NEW_PASSWORD)
    assert response.headers["Location"].endswith("/supplier/cases")
    assert client.get("/supplier/cases").status_code == 200


def test_an_email_with_a_link_is_erased_even_when_it_is_given_up(runtime: Runtime) -> None:
    class Down:
        def send(self, to: list[str], subject: str, body: str) -> None:
            raise ConnectionRefusedError

    runtime.mailer = Down()
    with runtime.sessions() as session:
        _, mail_id = admin.invite_user(runtime, session, None, "x@example.org", "handler")
        session.commit()
    assert mail_id is not None
    assert mails.send(runtime, mail_id) == "pending"  # retried later, the link kept until then
    with runtime.sessions() as session:
        mail = session.get(OutboxMail, mail_id)
        assert mail is not None
        assert "/invitation?token=gi_" in mail.body
        mail.created_at = utcnow() - mails.MAIL_MAX_AGE
        mail.next_attempt_at = None
        session.commit()
    assert mails.send(runtime, mail_id) == "failed"
    with runtime.sessions() as session:
        mail = session.get(OutboxMail, mail_id)
        assert mail is not None
        assert mail.body == mails.ERASED


def test_organisations_buyers_suppliers_and_sites(app: Flask, runtime: Runtime) -> None:
    staff = handler(app, runtime, "admin@example.org", role="admin")
    add = "/admin/organisations"
    assert "Added Sunrise Garments (supplier)" in post_form(
        staff, add, add, name="Sunrise Garments", kind="supplier"
    )
    assert "already exists" in post_form(staff, add, add, name="Sunrise Garments", kind="buyer")
    assert "The kind must be one of" in post_form(staff, add, add, name="X", kind="brand")
    assert "needs a name" in post_form(staff, add, add, name="  ", kind="buyer")
    post_form(staff, add, add, name="Brand", kind="buyer")
    links = "/admin/organisations/links"
    page = post_form(staff, add, links, buyer="Brand", supplier="Sunrise Garments", action="link")
    assert "Brand now sees Sunrise Garments" in page
    wrong = post_form(staff, add, links, buyer="Sunrise Garments", supplier="Brand")
    assert "is a supplier, not a buyer" in wrong
    make_user(runtime, "b@example.org", "buyer", "Brand")
    with runtime.sessions() as session:
        buyer = session.scalars(select(User).where(User.email == "b@example.org")).one()
        supplier_id = admin.find_organisation(session, "Sunrise Garments").id
        assert visible_suppliers(session, buyer) == [supplier_id]
    post_form(staff, add, links, buyer="Brand", supplier="Sunrise Garments", action="unlink")
    with runtime.sessions() as session:
        buyer = session.scalars(select(User).where(User.email == "b@example.org")).one()
        assert visible_suppliers(session, buyer) == []

    sites = "/admin/sites"
    page = post_form(
        staff, sites, sites, supplier="Sunrise Garments", name="Shah Alam", country="my"
    )
    assert "Added the site Shah Alam" in page
    assert "<td>Shah Alam</td><td>Sunrise Garments</td><td>MY</td>" in page
    assert "two-letter code" in post_form(
        staff, sites, sites, supplier="Sunrise Garments", name="Klang", country="Malaysia"
    )
    assert "already has a site" in post_form(
        staff, sites, sites, supplier="Sunrise Garments", name="Shah Alam", country="MY"
    )
    assert "not a supplier" in post_form(
        staff, sites, sites, supplier="Brand", name="Y", country="MY"
    )
    assert "No organisation named" in post_form(
        staff, sites, sites, supplier="Nobody", name="Y", country="MY"
    )


def test_the_command_line_does_the_same(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    env = environment(sqlite_url, tmp_path / "instance", fake_twilio)

    def ok(*args: str) -> str:
        done = grievance(*args, env=env)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    ok("orgs", "create", "Sunrise Garments", "--kind", "supplier")
    ok("orgs", "create", "Brand", "--kind", "buyer")
    assert "Brand now sees Sunrise Garments" in ok("buyers", "link", "Brand", "Sunrise Garments")
    assert "already saw" in ok("buyers", "link", "Brand", "Sunrise Garments")
    listed = ok("orgs", "list").splitlines()
    assert "Brand\tbuyer\t0 user(s)\t-\tSunrise Garments" in listed
    assert "created site 'Shah Alam' of Sunrise Garments in MY" in ok(
        "sites", "create", "Shah Alam", "--supplier", "Sunrise Garments", "--country", "my"
    )
    assert ok("sites", "list").split("\t")[1:] == ["Shah Alam", "Sunrise Garments", "MY\n"]
    bad = grievance("sites", "create", "X", "--supplier", "Brand", "--country", "MY", env=env)
    assert bad.returncode != 0
    assert "not a supplier" in bad.stderr

    invited = grievance("users", "invite", "S@example.org", "--role", "supplier",
                        "--org", "Sunrise Garments", env=env)  # fmt: skip
    assert invited.returncode == 0, invited.stderr
    assert "invited supplier s@example.org" in invited.stdout
    assert "gi_" not in invited.stdout  # nothing secret on the terminal
    assert "/invitation?token=gi_" in invited.stderr  # the console mailer's email, in the log
    assert "s@example.org\tsupplier\tSunrise Garments\tinvited\t" in ok("users", "list")
    again = grievance("users", "invite", "s@example.org", "--role", "supplier", env=env)
    assert again.returncode != 0
    assert "needs --org" in again.stderr
    reset = grievance("users", "reset-password", "s@example.org", env=env)
    assert reset.returncode == 0
    assert "gi_" not in reset.stdout
    assert "signed out everywhere, 0 token(s) revoked" in ok("users", "sign-out", "s@example.org")
    missing = grievance("users", "sign-out", "nobody@example.org", env=env)
    assert missing.returncode != 0
    assert "grievance users list" in missing.stderr

    from grievance.config import Settings
    from grievance.runtime import build_runtime

    runtime = build_runtime(Settings.from_env(env))
    try:
        with runtime.sessions() as session:
            events = session.scalars(select(AuditEvent)).all()
            assert {
                "organisation_created",
                "buyer_linked",
                "site_created",
                "user_invited",
                "password_reset_sent",
                "signed_out_everywhere",
            } <= {e.action for e in events}
            assert all(
                (e.detail or "").endswith("(command line)") and e.user_id is None for e in events
            )
            assert all("gi_" not in m.body for m in session.scalars(select(OutboxMail)))
    finally:
        runtime.close()


def _accept(app: Flask, link: str) -> None:
    client = browser(app)
    csrf = token_of(client, link)
    done = client.post(
        "/invitation",
        data={
            "csrf_token": csrf,
            "token": link.split("=", 1)[1],
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert "Your password is set" in done.get_data(as_text=True)


def _token(runtime: Runtime, email: str) -> str:
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        made = accounts.create_token(session, user, "test")
        session.commit()
        return made


def _api(app: Flask, token: str) -> int:
    path = "/api/v1/cases"
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"}).status_code


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
