"""No route answers 5xx to a hostile request: every rule of the URL map, asked with ids past
any column's range, months past any calendar, junk query strings, and JSON nested 200,000 deep,
by a signed-in admin, a bearer token and an anonymous visitor. A 5xx is a bug; so is a crash
that rolls back what the request should have recorded."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.app import create_app
from grievance.auth import accounts
from grievance.config import Settings
from grievance.demo import create_demo
from grievance.models import User
from grievance.runtime import Runtime, build_runtime
from tests.conftest import environment
from tests.support.staff import handler, token_of

# Values for each URL variable: ids that exist, past PostgreSQL's integer, past int64.
IDS = ("1", "2147483648", "99999999999999999999")
TEXTS = ("x", "%00", "9" * 40)
QUERY = (
    "?from=99999999999999999999-01&to=-1-1&page=99999999999999999999&by=%00"
    "&limit=99999999999999999999&status=nonsense&q=%27%20OR%201%3D1&next=//evil.example"
)
DEEP_JSON = "[" * 200_000 + "]" * 200_000


def urls(app: Flask) -> list[tuple[str, str]]:
    """(method, url) for every rule, every value of its variables, with and without junk."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        names = sorted(rule.arguments)
        choices = [IDS if f"<int:{name}>" in rule.rule else TEXTS for name in names]
        for values in itertools.product(*choices):
            path = rule.rule
            for name, value in zip(names, values, strict=True):
                path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
            for method in sorted((rule.methods or set()) & {"GET", "POST"}):
                found += [(method, path), (method, path + QUERY)]
    return found


def ask(client: FlaskClient, method: str, url: str, **extra: object) -> int:
    if method == "GET":
        return client.get(url, **extra).status_code  # type: ignore[arg-type]
    return client.post(url, **extra).status_code  # type: ignore[arg-type]


@pytest.fixture
def staff(app: Flask, runtime: Runtime) -> FlaskClient:
    create_demo(runtime, cases=12)
    return handler(app, runtime, "fuzz-admin@example.org", role="admin")


def test_no_route_answers_5xx_to_a_signed_in_admin(
    app: Flask, runtime: Runtime, staff: FlaskClient
) -> None:
    token = token_of(staff, "/cases")
    failures, answered = [], 0
    for method, url in urls(app):
        if url.startswith(("/logout", "/login")):
            continue  # the sign-in steps would sign the admin out; a stranger tries them below
        form = {"csrf_token": token, "code": "9" * 40, "status": "x", "note": "\x00" * 3}
        status = ask(staff, method, url, data=form) if method == "POST" else ask(staff, method, url)
        answered += status < 400
        if status >= 500:
            failures.append((status, method, url))
    assert failures == []
    assert staff.get("/cases").status_code == 200  # still signed in: the run reached every view
    assert answered > 50  # and many of them answered as they would a real request


def test_no_route_answers_5xx_to_a_token_or_a_stranger(
    app: Flask, runtime: Runtime, staff: FlaskClient
) -> None:
    with runtime.sessions() as session:
        admin = session.scalars(select(User).where(User.email == "fuzz-admin@example.org")).one()
        bearer = accounts.create_token(session, admin)
        session.commit()
    api, stranger = app.test_client(), app.test_client()
    headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
    failures = []
    for method, url in urls(app):
        if url.startswith("/api/"):
            status = ask(
                api, method, url, headers=headers, data=DEEP_JSON if method == "POST" else None
            )
            if status >= 500:
                failures.append((status, "token", method, url))
        status = ask(stranger, method, url)
        if status >= 500:
            failures.append((status, "stranger", method, url))
    assert failures == []


def test_the_simulator_refuses_json_nested_too_deeply(sqlite_url: str, tmp_path: Path) -> None:
    runtime = build_runtime(Settings.from_env(environment(sqlite_url, tmp_path / "i", None)))
    try:
        client = create_app(runtime=runtime).test_client()
        deep = client.post(
            "/simulator/messages", data=DEEP_JSON, headers={"Content-Type": "application/json"}
        )
        assert deep.status_code == 400
        fine = client.post("/simulator/messages", json={"phone": "abcdefgh1234", "text": "hi"})
        assert fine.status_code < 300  # the simulator itself still works
    finally:
        runtime.close()
