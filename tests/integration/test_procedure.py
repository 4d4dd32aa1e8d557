"""The public rules of procedure: one page per catalog language, written from configuration,
versioned and dated by its content, reachable without signing in and linked from HELP."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.app import create_app
from grievance.language import load_catalogs
from grievance.models import ProcedureVersion
from grievance.runtime import Runtime, build_runtime
from tests.conftest import PUBLIC_URL, SMS_NUMBER, WHATSAPP_NUMBER, Phone

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_every_language_has_its_page_with_the_configured_rules(
    client: FlaskClient, runtime: Runtime
) -> None:
    for language, catalog in runtime.catalogs.items():
        response = client.get(f"/procedure/{language}")
        assert response.status_code == 200, language
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}" dir="{catalog.direction}">' in page
        page = text_of(page)
        assert catalog.messages["procedure.title"].sms in page
        # The numbers workers write to, and this language's own keywords.
        assert SMS_NUMBER in page
        assert WHATSAPP_NUMBER.removeprefix("whatsapp:") in page
        assert catalog.keywords["appeal"][0] in page
        assert catalog.keywords["stop"][0] in page

    english = text_of(client.get("/procedure/en").get_data(as_text=True))
    today = date.today()
    assert f"Rules of procedure, version 1, in effect since {today.day} {today:%b}." in english
    # The default time frames (docs/domain.md), in words.
    assert (
        "within 1 hour if you or others are in danger now, 24 hours for forced labour, "
        "violence or retaliation, 3 working days for serious problems, 7 days for other problems"
    ) in english
    assert "send a plan to fix it: within 7 days for forced labour" in english
    assert "send APPEAL within 90 days" in english
    assert "We delete the copies kept by Twilio 60 minutes after" in english
    assert "deleted 180 days after your last report is closed" in english


def test_a_change_of_configuration_is_a_new_version(client: FlaskClient, runtime: Runtime) -> None:
    assert "version 1," in client.get("/procedure/en").get_data(as_text=True)
    assert "version 1," in client.get("/procedure/en").get_data(as_text=True)  # unchanged
    changed = build_runtime(
        runtime.settings.with_overrides(
            appeal_days=30,
            operator_name="Fair Labour Helpline",
            sla_frames={"triage": {"P1": "12h"}},
        )
    )
    try:
        other = create_app(runtime=changed).test_client()
        page = text_of(other.get("/procedure/en").get_data(as_text=True))
        assert "version 2," in page
        assert "send APPEAL within 30 days" in page
        assert "trained case handlers of Fair Labour Helpline" in page
        assert "12 hours for forced labour" in page
        # Each language has its own versions: Nepali was never published before.
        other.get("/procedure/ne")
    finally:
        changed.close()
    assert "version 1," in client.get("/procedure/en").get_data(as_text=True)  # the old content
    with runtime.sessions() as session:
        versions = session.execute(
            select(ProcedureVersion.language, ProcedureVersion.version).order_by(
                ProcedureVersion.language, ProcedureVersion.version
            )
        ).all()
    assert [tuple(v) for v in versions] == [("en", 1), ("en", 2), ("ne", 1)]


def test_the_page_is_public_and_unknown_languages_are_not_found(app: Flask) -> None:
    anonymous = app.test_client()
    assert anonymous.get("/procedure/en").status_code == 200
    assert anonymous.get("/procedure/xx").status_code == 404
    short = anonymous.get("/p/ne")
    assert short.status_code == 302
    assert short.headers["Location"].endswith("/procedure/ne")
    assert anonymous.get("/procedure").headers["Location"].endswith("/procedure/en")


def test_help_sends_the_short_link_in_the_workers_language_where_it_can_be_opened(
    phone: Phone,
) -> None:
    # On SMS (a basic phone cannot open a link, and it costs a segment) HELP names RULES.
    replies = phone.send("HELP")
    assert "http" not in "\n".join(replies)
    assert "RULES for our rules" in replies[0]
    # On WhatsApp the address follows, in the worker's language.
    phone = Phone(phone.client, phone.fake, phone.number, channel="whatsapp")
    assert f"Our rules: {PUBLIC_URL}/p/en" in phone.send("HELP")[0]
    catalogs = load_catalogs(runtime_locales(), ("ne",))
    phone.send("LANGUAGE")
    phone.send("2")  # नेपाली
    help_word = catalogs["ne"].keywords["help"][0]
    assert f"{PUBLIC_URL}/p/ne" in phone.send(help_word)[0]


def runtime_locales():  # type: ignore[no-untyped-def]
    from grievance.config import PROJECT_ROOT

    return PROJECT_ROOT / "locales"
