"""The live queue through Flask's test client, on SQLite and PostgreSQL: the open page polls
with its filters and page; nothing new costs a 204 and no audit entry; a new or changed case
comes back marked, counted in the title and audited; a change committed late is not missed;
polling never keeps a session alive."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from grievance.clock import utcnow
from grievance.models import AuditEvent, Case
from grievance.runtime import Runtime
from tests.support.cases import make_cases, queue_ids
from tests.support.staff import handler

POLL = {"HX-Request": "true", "X-Background": "true"}


def poll_url(page: str) -> str:
    match = re.search(r'<div id="live" hidden hx-get="([^"]+)"', page)
    assert match, page[:2000]
    return html.unescape(match.group(1))


def audited(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(
            session.scalar(select(func.count()).where(AuditEvent.action == "queue_viewed")) or 0
        )


def poll(client: FlaskClient, url: str) -> tuple[int, str]:
    response = client.get(url, headers=POLL)
    return response.status_code, response.get_data(as_text=True)


def test_the_open_queue_gets_new_cases_marked_and_counted(app: Flask, runtime: Runtime) -> None:
    first, second = make_cases(runtime, [("P1", "Hill Estate", 5), ("P3", "Blue Farm", 50)])
    client = handler(app, runtime)
    page = client.get("/cases?severity=P1").get_data(as_text=True)
    assert "<title>Cases · grievance</title>" in page
    assert 'class="flag flag-new"' not in page
    url = poll_url(page)
    assert "severity=P1" in url  # the filters the page shows
    views = audited(runtime)

    # Nothing changed: 204, nothing swapped, nothing audited.
    assert poll(client, url) == (204, "")
    assert audited(runtime) == views

    (new,) = make_cases(runtime, [("P1", "Sunrise Garments", 1)])
    status, table = poll(client, url)
    assert status == 200
    assert queue_ids(table) == [new, first]
    assert f'<a id="case-link-{new}"' in table
    assert re.search(
        rf'class="[^"]*changed[^"]*">\s*<td data-label="Case">'
        rf'<input[^>]*value="{new}"[^>]*>\s*<a id="case-link-{new}"',
        table,
    )
    assert '<strong class="flag flag-new">new</strong>' in table
    assert "<title>(1) Cases · grievance</title>" in table
    assert "1 new or changed since this page was opened" in table
    assert audited(runtime) == views + 1  # it showed something new: audited as a view

    # The next poll asks from there: nothing new again.
    url = poll_url(table)
    assert poll(client, url) == (204, "")

    # A change to a case outside the filter is looked at, but counts nothing new.
    with runtime.sessions() as session:
        session.execute(update(Case).where(Case.id == second).values(workplace="Blue Farm 2"))
        session.commit()
    status, table = poll(client, url)
    assert status == 200
    assert "<title>(1) Cases · grievance</title>" in table  # still the one new P1 case

    # A change to a shown case marks it "changed".
    url = poll_url(table)
    with runtime.sessions() as session:
        session.execute(
            update(Case).where(Case.id == first).values(severity="P1", workplace="Hill")
        )
        session.commit()
    status, table = poll(client, url)
    assert '<strong class="flag flag-new">changed</strong>' in table
    assert "<title>(2) Cases · grievance</title>" in table


def test_a_change_stamped_before_the_latest_but_committed_after_it_is_not_missed(
    app: Flask, runtime: Runtime
) -> None:
    older, _ = make_cases(runtime, [("P2", "Hill Estate", 5), ("P2", "Blue Farm", 5)])
    with runtime.sessions() as session:
        hour_ago = utcnow() - timedelta(hours=1)
        session.execute(update(Case).where(Case.id == older).values(updated_at=hour_ago))
        session.commit()
    client = handler(app, runtime)
    url = poll_url(client.get("/cases").get_data(as_text=True))
    with runtime.sessions() as session:
        latest = session.scalar(select(func.max(Case.updated_at)))
        # A transaction that flushed a moment before the latest change and commits now.
        session.execute(
            update(Case)
            .where(Case.id == older)
            .values(workplace="Hill Estate 2", updated_at=latest - timedelta(seconds=1))
        )
        session.commit()
    status, _ = poll(client, url)
    assert status == 200


def test_polling_never_keeps_an_unattended_session_alive(app: Flask, runtime: Runtime) -> None:
    make_cases(runtime, [("P2", "Hill Estate", 5)])
    client = handler(app, runtime)
    url = poll_url(client.get("/cases").get_data(as_text=True))
    idle = runtime.settings.session_idle_minutes * 60
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - idle + 60  # a minute before the idle limit
        before = session["seen"]
    assert poll(client, url)[0] == 204
    with client.session_transaction() as session:
        assert session["seen"] == before  # the poll was not the person at the screen
        session["seen"] = int(time.time()) - idle - 1
    # Past the idle time, the next poll sends the whole page to sign in (not into the table).
    response = client.get(url, headers=POLL)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")
