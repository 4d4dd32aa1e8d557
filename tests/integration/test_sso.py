"""Single sign-on with OpenID Connect, against a local provider over real HTTP: the provider
says who someone is, this application what they may do; every broken answer is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.app import create_app
from grievance.auth import accounts
from grievance.config import ConfigError, Settings
from grievance.models import AuditEvent, User
from grievance.runtime import Runtime, build_runtime
from tests.conftest import PUBLIC_URL, environment
from tests.support.fake_oidc import CLIENT_ID, CLIENT_SECRET, FakeOidc, FakeOidcServer
from tests.support.staff import PASSWORD


@pytest.fixture
def idp() -> Iterator[FakeOidc]:
    with FakeOidcServer() as provider:
        yield provider


def _env(sqlite_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return environment(sqlite_url, tmp_path / "instance", None, **extra)


@pytest.fixture
def runtime(sqlite_url: str, tmp_path: Path, idp: FakeOidc) -> Iterator[Runtime]:
    env = _env(
        sqlite_url,
        tmp_path,
        GRIEVANCE_OIDC_ISSUER=idp.base_url,
        GRIEVANCE_OIDC_CLIENT_ID=CLIENT_ID,
        GRIEVANCE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        GRIEVANCE_OIDC_LABEL="Example Corp",
    )
    rt = build_runtime(Settings.from_env(env))
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime=runtime)


def _user(runtime: Runtime, email: str, role: str, totp: str | None = None) -> None:
    with runtime.sessions() as session:
        org = None
        if role == "buyer":
            org = "Brand"
            accounts.create_organisation(session, org, role)
        user = accounts.create_user(session, email, role, PASSWORD, org, must_change_password=False)
        if totp:
            accounts.enable_totp(user, runtime.protector, totp)
        session.commit()


def _browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def _sso(client: FlaskClient) -> tuple[int, str]:
    """Click "Sign in with ...", let the provider answer, follow it back: (status, location or page)."""
    start = client.get("/login/sso")
    assert start.status_code == 302
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = urlsplit(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_URL  # the registered callback, not the Host
    answer = client.get(f"{back.path}?{back.query}")
    return answer.status_code, answer.headers.get("Location") or answer.get_data(as_text=True)


def test_the_login_page_offers_the_provider(app: Flask) -> None:
    page = _browser(app).get("/login").get_data(as_text=True)
    assert "Sign in with Example Corp" in page


def test_a_known_person_is_signed_in_with_their_role(
    app: Flask, runtime: Runtime, idp: FakeOidc
) -> None:
    _user(runtime, "buyer@example.org", "buyer")
    idp.person = {"email": "Buyer@Example.org", "email_verified": True}
    client = _browser(app)
    status, _ = _sso(client)
    assert status == 302
    assert client.get("/reports").status_code == 200  # the buyer's pages
    assert client.get("/cases").status_code in (302, 403, 404)  # and not a handler's
    with runtime.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).one()
        assert event.detail == "single sign-on"
    # The secret went to the provider, over the back channel only.
    assert idp.token_requests


def test_the_second_factor_is_still_asked(app: Flask, runtime: Runtime, idp: FakeOidc) -> None:
    secret = accounts.new_totp_secret()
    _user(runtime, "handler@example.org", "handler", totp=secret)
    client = _browser(app)
    status, where = _sso(client)
    assert (status, where) == (302, "/login/code")
    assert client.get("/cases").status_code == 302  # not signed in yet
    page = client.get("/login/code").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 302
    assert client.get("/cases").status_code == 200


@pytest.mark.parametrize(
    "person",
    [
        {"email": "stranger@example.org", "email_verified": True},  # no account here
        {"email": "handler@example.org", "email_verified": False},  # not verified
        {"email_verified": True},  # no address at all
    ],
)
def test_anyone_else_is_refused(
    app: Flask, runtime: Runtime, idp: FakeOidc, person: dict[str, object]
) -> None:
    _user(runtime, "handler@example.org", "handler", totp=accounts.new_totp_secret())
    idp.person = person
    client = _browser(app)
    status, page = _sso(client)
    assert status == 401
    assert 'role="alert"' in page
    assert client.get("/cases").status_code == 302


def test_a_deactivated_account_is_refused(app: Flask, runtime: Runtime, idp: FakeOidc) -> None:
    _user(runtime, "buyer@example.org", "buyer")
    idp.person = {"email": "buyer@example.org", "email_verified": True}
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == "buyer@example.org")).one()
        user.active = False
        session.commit()
    status, _ = _sso(_browser(app))
    assert status == 401


@pytest.mark.parametrize("fault", ["forged", "audience"])
def test_a_token_that_does_not_verify_is_refused(
    app: Flask, runtime: Runtime, idp: FakeOidc, fault: str
) -> None:
    _user(runtime, "buyer@example.org", "buyer")
    idp.person = {"email": "buyer@example.org", "email_verified": True}
    if fault == "forged":
        idp.forged = True  # signed by a key the provider never published
    else:
        idp.audience = "another-app"  # a token issued to someone else
    client = _browser(app)
    status, _ = _sso(client)
    assert status == 401
    assert client.get("/reports").status_code == 302


def test_an_answer_for_another_browser_is_refused(
    app: Flask, runtime: Runtime, idp: FakeOidc
) -> None:
    _user(runtime, "buyer@example.org", "buyer")
    idp.person = {"email": "buyer@example.org", "email_verified": True}
    victim, attacker = _browser(app), _browser(app)
    start = attacker.get("/login/sso")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    # The attacker's code and state, delivered to someone else's browser (login CSRF).
    assert victim.get(f"{back.path}?{back.query}").status_code == 401
    assert victim.get("/reports").status_code == 302


def test_without_configuration_there_is_no_single_sign_on(sqlite_url: str, tmp_path: Path) -> None:
    runtime = build_runtime(Settings.from_env(_env(sqlite_url, tmp_path)))
    try:
        client = _browser(create_app(runtime=runtime))
        assert "Sign in with" not in client.get("/login").get_data(as_text=True)
        assert client.get("/login/sso").status_code == 404
        assert client.get("/login/sso/callback?code=x&state=y").status_code == 404
    finally:
        runtime.close()


def test_half_a_configuration_says_what_is_missing(sqlite_url: str, tmp_path: Path) -> None:
    env = _env(sqlite_url, tmp_path, GRIEVANCE_OIDC_ISSUER="https://login.example.org")
    with pytest.raises(ConfigError, match="GRIEVANCE_OIDC_CLIENT_ID, GRIEVANCE_OIDC_CLIENT_SECRET"):
        Settings.from_env(env)
    env |= {"GRIEVANCE_OIDC_CLIENT_ID": "x", "GRIEVANCE_OIDC_CLIENT_SECRET": "y"}
    env["GRIEVANCE_OIDC_ISSUER"] = "http://login.example.org"
    with pytest.raises(ConfigError, match="https://"):
        Settings.from_env(env)
