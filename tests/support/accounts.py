"""Signing in step by step as a browser does, through Flask's test client: users made
directly in the database, the sign-in page's CSRF token, the password, and enrolling TOTP."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.auth import accounts
from grievance.models import Organisation
from grievance.runtime import Runtime
from tests.support.staff import PASSWORD


def make_user(runtime: Runtime, email: str, role: str, org: str | None = None) -> None:
    with runtime.sessions() as session:
        if org and session.scalar(select(Organisation).where(Organisation.name == org)) is None:
            accounts.create_organisation(session, org, role)
        accounts.create_user(session, email, role, PASSWORD, org, must_change_password=False)
        session.commit()


def browser(app: Flask) -> FlaskClient:
    """A browser on https, as the deployment is served (Secure cookies)."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def sign_in_password(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Enrol TOTP from the setup page; returns the secret and the recovery codes shown."""
    page = client.get("/login/setup").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'<code id="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.enrolment_code = pyotp.TOTP(secret).now()  # type: ignore[attr-defined]
    done = client.post("/login/setup", data={"code": client.enrolment_code, "csrf_token": token})  # type: ignore[attr-defined]
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    return secret, codes
