"""The admin pages through Flask's test client: posting their forms with the page's CSRF
token, reading the page a change leads to, and the one-time link in the email sent."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.models import User
from grievance.runtime import Runtime
from tests.support.staff import token_of

LINK = re.compile(r"https?://\S+/invitation\?token=(gi_[\w-]+)")


def post_form(client: FlaskClient, page: str, action: str, /, **form: str) -> str:
    """Post ``form`` to ``action`` as the form on ``page`` would; the page shown afterwards
    (the redirect followed), where the outcome is said."""
    token = token_of(client, page)
    response = client.post(action, data={"csrf_token": token, **form})
    assert response.status_code == 303, (response.status_code, response.get_data(as_text=True))
    return client.get(urlsplit(response.headers["Location"]).path).get_data(as_text=True)


def last_link(runtime: Runtime, to: str) -> str:
    """The one-time link's path and query in the last email to ``to`` (the console mailer)."""
    sent = runtime.mailer.sent  # type: ignore[attr-defined]
    for recipients, _subject, body in reversed(sent):
        if to in recipients:
            match = LINK.search(body)
            assert match, body
            return f"/invitation?token={match.group(1)}"
    raise AssertionError(f"no email to {to}")


def user_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        return int(session.scalars(select(User.id).where(User.email == email)).one())
