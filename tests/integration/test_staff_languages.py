"""Staff pages in the staff's language: the user's choice on /account, else the browser's
Accept-Language among English, Malay and Thai, else English; a choice per user, audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grievance.models import AuditEvent, Case, User
from grievance.runtime import Runtime
from tests.support.cases import make_cases
from tests.support.staff import handler, token_of

RECEIVED = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)


def _lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', page)
    assert match, page[:300]
    return match.group(1)


def _choose(client: FlaskClient, locale: str) -> int:
    token = token_of(client, "/account")
    return client.post(
        "/account", data={"locale": locale, "time_zone": "", "csrf_token": token}
    ).status_code


def _case(runtime: Runtime) -> int:
    (case_id,) = make_cases(runtime, [("P2", "Factory A", 24)])
    with runtime.sessions() as session:
        session.execute(update(Case).where(Case.id == case_id).values(created_at=RECEIVED))
        session.commit()
    return case_id


def test_a_handler_who_chose_malay_sees_the_queue_and_the_case_in_malay(
    app: Flask, runtime: Runtime
) -> None:
    case_id = _case(runtime)
    me = handler(app, runtime)
    english = me.get("/cases").get_data(as_text=True)
    assert _lang(english) == "en"
    assert "<h1>Cases</h1>" in english

    assert _choose(me, "ms") == 200
    queue = me.get("/cases").get_data(as_text=True)
    assert _lang(queue) == "ms"
    assert "<h1>Kes</h1>" in queue
    assert "Kes terbuka" in queue
    assert "Tahap keterukan" in queue
    assert ">Log keluar (h@example.org)<" in queue  # the navigation, with its placeholder

    page = me.get(f"/cases/{case_id}").get_data(as_text=True)
    assert _lang(page) == "ms"
    assert "Kes #" in page
    assert "Garis masa" in page
    assert "Tindakan" in page
    # Dates follow the page's language (CLDR's Malay month), still in the reader's zone.
    assert "<dt>Diterima</dt><dd><time" in page
    assert "6 Dis 2026, 22:30 UTC" in page
    # Codes that are data stay as they are.
    assert "P2" in page

    with runtime.sessions() as session:
        events = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "locale_changed")
        ).all()
        zones = session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "time_zone_changed")
        ).all()
    assert events == ["ms"]
    assert zones == []  # the same form, but the time zone did not change


def test_the_account_page_saves_in_the_new_language_at_once(app: Flask, runtime: Runtime) -> None:
    me = handler(app, runtime)
    token = token_of(me, "/account")
    saved = me.post("/account", data={"locale": "th", "time_zone": "", "csrf_token": token})
    page = saved.get_data(as_text=True)
    assert _lang(page) == "th"
    assert "บัญชีของคุณ" in page  # "Your account"


def test_without_a_choice_the_browser_decides(app: Flask, runtime: Runtime) -> None:
    me = handler(app, runtime)
    thai = me.get("/cases", headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"})
    page = thai.get_data(as_text=True)
    assert _lang(page) == "th"
    assert "<h1>คดี</h1>" in page
    # A language without a catalog falls through to the next the browser accepts, then English.
    assert _lang(me.get("/cases", headers={"Accept-Language": "de, ms;q=0.5"}).text) == "ms"
    assert _lang(me.get("/cases", headers={"Accept-Language": "de"}).text) == "en"
    # Before anyone signs in, too.
    login = app.test_client().get("/login", headers={"Accept-Language": "ms"})
    assert "<h1>Log masuk</h1>" in login.get_data(as_text=True)


def test_a_choice_outweighs_the_browser(app: Flask, runtime: Runtime) -> None:
    me = handler(app, runtime)
    assert _choose(me, "en") == 200
    page = me.get("/cases", headers={"Accept-Language": "th"}).get_data(as_text=True)
    assert _lang(page) == "en"
    assert "<h1>Cases</h1>" in page


def test_an_unknown_choice_falls_back_to_english(app: Flask, runtime: Runtime) -> None:
    me = handler(app, runtime)
    assert _choose(me, "xx") == 400  # the form refuses it
    # A choice stored by an older release or by hand, for a language without a catalog: the
    # user is read again on every request, so the next page already shows it.
    with runtime.sessions() as session:
        session.execute(update(User).where(User.email == "h@example.org").values(locale="de"))
        session.commit()
    page = me.get("/cases").get_data(as_text=True)
    assert _lang(page) == "en"
    assert "<h1>Cases</h1>" in page
    account = me.get("/account").get_data(as_text=True)
    assert ">Language of these pages<" in account
    assert re.search(r'<option value="" selected>The browser', account)


def test_the_choice_is_per_user(app: Flask, runtime: Runtime) -> None:
    malay = handler(app, runtime, email="ms@example.org")
    thai = handler(app, runtime, email="th@example.org")
    other = handler(app, runtime, email="en@example.org")
    assert _choose(malay, "ms") == 200
    assert _choose(thai, "th") == 200
    assert "<h1>Kes</h1>" in malay.get("/cases").get_data(as_text=True)
    assert "<h1>คดี</h1>" in thai.get("/cases").get_data(as_text=True)
    assert "<h1>Cases</h1>" in other.get("/cases").get_data(as_text=True)
