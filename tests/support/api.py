"""The JSON API as a client calls it: a bearer token for a new user, and requests with it."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.auth import accounts
from grievance.models import Organisation
from grievance.runtime import Runtime
from tests.support.staff import PASSWORD


def token_for(runtime: Runtime, email: str, role: str, org: str | None = None) -> str:
    with runtime.sessions() as session:
        if org and session.scalar(select(Organisation).where(Organisation.name == org)) is None:
            accounts.create_organisation(session, org, role)
        user = accounts.create_user(session, email, role, PASSWORD, org, must_change_password=False)
        token = accounts.create_token(session, user)
        session.commit()
        return token


def api(client: FlaskClient, token: str, method: str, path: str, json: object | None = None):  # type: ignore[no-untyped-def]
    return client.open(
        f"/api/v1{path}", method=method, json=json, headers={"Authorization": f"Bearer {token}"}
    )
