"""The Worker Wellbeing pulse's first steps: a site with its survey word, workers' phones that
join by sending it, and the admin's wellbeing forms posted with their CSRF token."""

from __future__ import annotations

from itertools import count

from flask.testing import FlaskClient

from grievance.models import Site
from grievance.runtime import Runtime
from grievance.services import wellbeing
from tests.conftest import Phone
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import token_of

WORD = "WELL-4821"
_numbers = count(1)


def a_site(runtime: Runtime, name: str = "Penang plant 2") -> int:
    from grievance.auth import accounts

    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, f"Supplier of {name}", "supplier")
        site = Site(supplier_id=supplier.id, name=name, country="MY")
        session.add(site)
        session.commit()
        return site.id


def with_word(runtime: Runtime, site_id: int) -> None:
    """Give the site the survey word WELL-4821 (as the admin's form would)."""
    with runtime.sessions() as session:
        site = session.get(Site, site_id)
        assert site is not None
        site.pulse_keyword = wellbeing.normalize_keyword(WORD)
        session.commit()


def post(client: FlaskClient, path: str, **form: object) -> str:
    token = token_of(client, "/wellbeing")
    response = client.post(path, data={"csrf_token": token, **form}, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def workers(client: FlaskClient, fake: FakeTwilio, n: int) -> list[Phone]:
    return [Phone(client, fake, f"+97798{next(_numbers):08d}") for _ in range(n)]


def joined(phones: list[Phone]) -> None:
    for phone in phones:
        replies = phone.send(WORD.lower())
        assert replies == [
            "Thank you. We will ask you a few anonymous questions about work from time to time. "
            "Send STOP to stop all messages."
        ]
