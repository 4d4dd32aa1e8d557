"""Staff in the web UI through Flask's test client, on https as the deployment is served: a
handler or admin signed in with TOTP, a supplier signed in with a password, the CSRF token
of a page, and a case page's actions posted as its forms would."""

from __future__ import annotations

import re

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from grievance.auth import accounts
from grievance.runtime import Runtime

PASSWORD = "correct horse battery staple"


def handler(
    app: Flask, runtime: Runtime, email: str = "h@example.org", role: str = "handler"
) -> FlaskClient:
    """A signed-in handler (TOTP enrolled) in their own browser."""
    secret = accounts.new_totp_secret()
    with runtime.sessions() as session:
        user = accounts.create_user(session, email, role, PASSWORD, must_change_password=False)
        accounts.enable_totp(user, runtime.protector, secret)
        session.commit()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    token = token_of(client, "/login")
    assert (
        client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    token = token_of(client, "/login/code")
    done = client.post("/login/code", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 302
    return client


def token_of(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def act(client: FlaskClient, case_id: int, action: str, **form: object) -> str:
    """Post a case action as the page's form would; return the page shown afterwards."""
    token = token_of(client, f"/cases/{case_id}")
    response = client.post(f"/cases/{case_id}/{action}", data={"csrf_token": token, **form})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client.get(f"/cases/{case_id}").get_data(as_text=True)


def sign_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    token = token_of(client, "/login")
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    return client
