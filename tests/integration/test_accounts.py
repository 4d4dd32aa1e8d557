"""Accounts from the command line and in the web: argon2id, TOTP with recovery codes, per-account
throttling, sessions, CSRF, deny by default and the security headers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.auth import accounts
from grievance.models import AuditEvent, User
from grievance.runtime import Runtime
from tests.conftest import environment
from tests.support.accounts import browser, csrf, enrol, make_user, sign_in_password
from tests.support.cli import grievance
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import PASSWORD


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return browser(app)


def test_a_handler_enrols_totp_and_reaches_the_queue(web: FlaskClient, runtime: Runtime) -> None:
    make_user(runtime, "Handler@Example.org", "handler")
    response = sign_in_password(web, "handler@example.org")
    assert response.headers["Location"] == "/login/setup"  # no way around the second factor
    assert web.get("/cases").headers["Location"].startswith("/login")
    secret, codes = enrol(web)
    assert len(codes) == 10
    assert web.get("/cases").status_code == 200
    cookie = web.get_cookie("__Host-grievance")
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    with runtime.sessions() as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$")
        assert user.totp_secret_encrypted
        assert secret.encode() not in user.totp_secret_encrypted
        assert secret not in repr(user.recovery_codes)


def test_totp_codes_work_once_and_recovery_codes_once(app: Flask, runtime: Runtime) -> None:
    make_user(runtime, "h@example.org", "handler")
    first = browser(app)
    sign_in_password(first, "h@example.org")
    _secret, codes = enrol(first)
    # Another browser, the same code as just used: refused; a recovery code: accepted once.
    second = browser(app)
    assert sign_in_password(second, "h@example.org").headers["Location"] == "/login/code"
    token = csrf(second, "/login/code")
    used = first.enrolment_code  # type: ignore[attr-defined]  # the very code enrolment took
    assert second.post("/login/code", data={"code": used, "csrf_token": token}).status_code == 401
    ok = second.post("/login/code", data={"code": codes[0].upper(), "csrf_token": token})
    assert ok.status_code == 302
    third = browser(app)
    sign_in_password(third, "h@example.org")
    token = csrf(third, "/login/code")
    assert (
        third.post("/login/code", data={"code": codes[0], "csrf_token": token}).status_code == 401
    )


def test_throttling_locks_one_account_not_everyone(
    web: FlaskClient, app: Flask, runtime: Runtime
) -> None:
    make_user(runtime, "a@example.org", "admin")
    make_user(runtime, "b@example.org", "admin")
    for _ in range(accounts.FREE_ATTEMPTS):
        assert sign_in_password(web, "a@example.org", "wrong password").status_code == 401
    locked = sign_in_password(web, "a@example.org")
    assert locked.status_code == 401
    assert "sign-in pauses for a few minutes" in locked.get_data(as_text=True)
    other = browser(app)
    assert sign_in_password(other, "b@example.org").headers["Location"] == "/login/setup"
    unknown = sign_in_password(other, "nobody@example.org")
    # The same words for an unknown email as for a locked account: no hint which exists.
    assert unknown.status_code == 401
    assert _alert(unknown.get_data(as_text=True)) == _alert(locked.get_data(as_text=True))


def _alert(page: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)<', page, re.S)
    assert match, page
    return " ".join(match.group(1).split())


def test_one_time_password_must_be_replaced_first(web: FlaskClient, runtime: Runtime) -> None:
    with runtime.sessions() as session:
        org = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        accounts.create_user(session, "s@example.org", "supplier", PASSWORD, org.name)
        session.commit()
    assert sign_in_password(web, "s@example.org").headers["Location"] == "/supplier/cases"
    assert web.get("/cases").headers["Location"] == "/account/password"
    token = csrf(web, "/account/password")
    short = web.post(
        "/account/password", data={"new_password": "short", "confirm": "short", "csrf_token": token}
    )
    assert "at least 8 characters" in short.get_data(as_text=True)
    new = "a much longer passphrase"
    web.post("/account/password", data={"new_password": new, "confirm": new, "csrf_token": token})
    assert web.get("/cases").status_code == 404  # a supplier has no business in the queue


def test_sessions_end_when_idle(web: FlaskClient, runtime: Runtime) -> None:
    make_user(runtime, "s@example.org", "supplier", "Sunrise Garments")
    sign_in_password(web, "s@example.org")
    assert web.get("/account/password").status_code == 200
    with web.session_transaction() as session:
        session["seen"] = int(time.time()) - 31 * 60
    assert web.get("/account/password").headers["Location"].startswith("/login")


def test_every_page_but_the_public_ones_needs_a_sign_in(app: Flask, web: FlaskClient) -> None:
    public = {"static", "health.healthz", "webhooks.messaging", "webhooks.status", "api.openapi"}
    for rule in app.url_map.iter_rules():
        # The rules of procedure are public by law (LkSG §8(2)); see test_procedure.py.
        if rule.endpoint in public or rule.endpoint.startswith(
            ("auth.", "simulator.", "procedure.")
        ):
            continue
        path = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        method = "GET" if "GET" in methods else sorted(methods)[0]
        response = web.open(path, method=method)
        if rule.endpoint.startswith("api."):
            assert response.status_code == 401, rule.rule  # the API wants a bearer token
            continue
        if rule.endpoint.startswith("voice."):
            # Twilio's voice webhooks want its signature; the recorded and draft prompts
            # <Play> fetches are public files (none here).
            public_file = "/audio/" in rule.rule or "/drafts/" in rule.rule
            assert response.status_code == (404 if public_file else 403), rule.rule
            continue
        assert response.status_code in (302, 400), (rule.rule, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login")


def test_forms_need_the_csrf_token(web: FlaskClient, runtime: Runtime) -> None:
    make_user(runtime, "a@example.org", "admin")
    response = web.post("/login", data={"email": "a@example.org", "password": PASSWORD})
    assert response.status_code == 400


def test_security_headers_on_every_response(web: FlaskClient) -> None:
    for path in ("/login", "/healthz", "/nowhere"):
        headers = web.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert web.get("/login").headers["Cache-Control"] == "no-store"


def test_viewing_a_case_is_audited(web: FlaskClient, runtime: Runtime, phone) -> None:  # type: ignore[no-untyped-def]
    from tests.support.intake import report

    report(phone)
    make_user(runtime, "h@example.org", "handler")
    sign_in_password(web, "h@example.org")
    enrol(web)
    page = web.get("/cases").get_data(as_text=True)
    case_id = int(re.search(r'href="/cases/(\d+)"', page).group(1))
    detail = web.get(f"/cases/{case_id}")
    assert detail.status_code == 200
    assert detail.headers["Cache-Control"] == "no-store"
    assert phone.number not in detail.get_data(as_text=True)
    with runtime.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        # The report was a new P1 case, but nobody on staff existed yet to alert.
        assert actions == ["mfa_enrolled", "login", "queue_viewed", "case_viewed"]


def test_account_commands(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    env = environment(sqlite_url, tmp_path / "instance", fake_twilio)
    assert (
        grievance("orgs", "create", "Sunrise Garments", "--kind", "supplier", env=env).returncode
        == 0
    )
    made = grievance(
        "users",
        "create",
        "s@example.org",
        "--role",
        "supplier",
        "--org",
        "Sunrise Garments",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "one-time password" in made.stdout
    missing = grievance("users", "create", "x@example.org", "--role", "supplier", env=env)
    assert missing.returncode != 0
    assert "needs --org" in missing.stderr
    piped = grievance(
        "users",
        "create",
        "h@example.org",
        "--role",
        "handler",
        "--password-stdin",
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert piped.returncode == 0
    assert "one-time password" not in piped.stdout
    token = grievance("tokens", "create", "h@example.org", env=env).stdout.strip().splitlines()[-1]
    assert token.startswith("gr_")
    from grievance.config import Settings
    from grievance.runtime import build_runtime

    runtime = build_runtime(Settings.from_env(env))
    try:
        with runtime.sessions() as session:
            user = accounts.user_for_token(session, token)
            assert user is not None
            assert user.email == "h@example.org"
            assert accounts.user_for_token(session, token + "x") is None
    finally:
        runtime.close()


def test_the_site_s_address_leads_to_sign_in_or_home_and_errors_look_like_the_site(
    app: Flask, runtime: Runtime
) -> None:
    stranger = browser(app)
    assert stranger.get("/").headers["Location"].startswith("/login")
    missing = stranger.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
    page = missing.get_data(as_text=True)
    assert "<h1>Not found</h1>" in page
    assert 'href="/static/app.css' in page  # the site's layout, not a bare line of text
    make_user(runtime, "s@example.org", "supplier", "Sunrise")
    supplier = browser(app)
    sign_in_password(supplier, "s@example.org")
    assert supplier.get("/").headers["Location"] == "/supplier/cases"


def test_a_supplier_who_changes_the_password_lands_at_home(app: Flask, runtime: Runtime) -> None:
    make_user(runtime, "s@example.org", "supplier", "Sunrise")
    supplier = browser(app)
    sign_in_password(supplier, "s@example.org")
    token = csrf(supplier, "/account/password")
    changed = supplier.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "confirm": "another long passphrase",
            "csrf_token": token,
        },
    )
    assert changed.headers["Location"] == "/supplier/cases"  # not the handlers' queue (404)
    assert supplier.get("/supplier/cases").status_code == 200


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_sign_in(
    app: Flask,
) -> None:
    response = browser(app).get("/cases?status=open", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")
