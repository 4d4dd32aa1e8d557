"""The Worker Wellbeing pulse end to end: workers join by their site's survey word, an admin
sends a wave, workers answer through signed webhooks and the Twilio-compatible server, the
results show per area with small numbers withheld, and go back to the workers. Answers are
never linked to a contact, and what a worker writes at the end goes to a report only with
their consent."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.cli import main
from grievance.models import (
    Case,
    Contact,
    Conversation,
    Message,
    Site,
    WellbeingInvite,
    WellbeingMember,
    WellbeingResponse,
    WellbeingWave,
)
from grievance.runtime import Runtime
from grievance.services import waves, wellbeing
from tests.conftest import Phone, environment
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import handler, token_of
from tests.support.wellbeing import WORD, a_site, joined, post, with_word, workers

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def a_wave(
    app: Flask, runtime: Runtime, client: FlaskClient, fake: FakeTwilio, n: int
) -> tuple[FlaskClient, list[Phone]]:
    """A site with its survey word, ``n`` workers who joined, and a wave sent by an admin."""
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    phones = workers(client, fake, n)
    joined(phones)
    admin = handler(app, runtime, "admin@example.org", role="admin")
    post(admin, "/wellbeing", site=site_id)
    return admin, phones


def answer(phone: Phone, scores: list[str], last: str = "0") -> list[str]:
    """Start the survey from its invitation and answer every question; return the last replies."""
    assert "6 short questions" in phone.replies()[-1]
    assert phone.send("1")[-1].startswith("1/6.")
    for i, score in enumerate(scores[:-1], start=2):
        replies = phone.send(score)
        assert replies[-1].startswith(f"{i}/6."), replies
    assert "Anything else" in phone.send(scores[-1])[-1]
    return phone.send(last)


def the_wave(runtime: Runtime) -> WellbeingWave:
    with runtime.sessions() as session:
        return session.scalars(select(WellbeingWave).order_by(WellbeingWave.id.desc())).first()  # type: ignore[return-value]


def test_a_wave_runs_from_joining_to_shared_results(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    admin = handler(app, runtime, "admin@example.org", role="admin")
    page = post(admin, f"/wellbeing/sites/{site_id}/keyword", keyword=WORD)
    assert f"workers join by sending {WORD}" in page

    phones = workers(client, fake_twilio, 12)
    joined(phones)
    joined(phones[:1])  # joining twice is harmless
    with runtime.sessions() as session:
        assert (
            session.scalar(select(WellbeingMember.id).where(WellbeingMember.site_id != site_id))
            is None
        )
        assert len(session.scalars(select(WellbeingMember.id)).all()) == 12

    page = post(admin, "/wellbeing", site=site_id)
    assert "Done: 12 of 12 workers invited" in page
    # Safety 4 and 5, respect 3 and 0 (skipped), income 2 and 2: the same for everyone but two.
    for phone in phones[:10]:
        assert answer(phone, ["4", "5", "3", "0", "2", "2"]) == [
            "Thank you for your answers. We will share the results with everyone who took part."
        ]
    answer(phones[10], ["5", "5", "5", "5", "5", "5"])
    assert "1 Answer now" in phones[11].replies()[-1]  # invited, never answered

    wave = the_wave(runtime)
    page = re.sub(r">\s+<", "><", admin.get(f"/wellbeing/{wave.id}").get_data(as_text=True))
    assert "Answered: 11 of 12 invited (92%)" in page
    # Safety: ten workers at 4.5, one at 5 -> mean 4.55, all favourable.
    assert '<td class="num">11</td><td class="num">4.55</td><td class="num">100%</td>' in page
    # Respect: ten at 3 (the 0 counts for nothing), one at 5 -> 3.18, 1 of 11 favourable.
    assert '<td class="num">3.18</td><td class="num">9%</td>' in page
    # Income: ten at 2, one at 5 -> 2.27; site score (4.545 + 3.182 + 2.273) / 3 = 3.33.
    assert '<td class="num">2.27</td>' in page
    assert '<td class="num">3.33</td>' in page

    rows = list(
        csv.reader(
            io.StringIO(admin.get(f"/wellbeing/{wave.id}/results.csv").get_data(as_text=True))
        )
    )
    assert rows[0][:5] == ["Wave", "Month", "Invited", "Answered", "Area"]
    assert rows[1][2:] == ["12", "11", "Safety at work", "11", "4.55", "100%"]
    assert rows[4][4:7] == ["Site score", "", "3.33"]
    chart = admin.get(f"/wellbeing/{wave.id}/trend.svg")
    assert chart.mimetype == "image/svg+xml"
    assert "<script" not in chart.get_data(as_text=True)
    assert "Wellbeing at Penang plant 2, by wave" in chart.get_data(as_text=True)
    assert chart.headers["Content-Security-Policy"].startswith("default-src 'none'")

    page = post(admin, f"/wellbeing/{wave.id}/share")
    assert "Results sent to 12 workers." in page
    expected = (
        "Survey results: 11 workers answered. Feeling safe: 4.5 of 5. Feeling respected: "
        "3.2 of 5. Income and future: 2.3 of 5. Thank you for taking part."
    )
    for phone in phones:
        assert phone.replies()[-1] == expected
    assert "already shared" in post(admin, f"/wellbeing/{wave.id}/share")


def test_answers_are_not_linked_to_a_contact(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    _, phones = a_wave(app, runtime, client, fake_twilio, 2)
    answer(phones[0], ["1", "2", "3", "4", "5", "1"])
    answer(phones[1], ["5", "4", "3", "2", "1", "5"], last="They shout at us every day")
    assert phones[1].send("2")[-1].startswith("Thank you for your answers")

    with runtime.sessions() as session:
        responses = session.scalars(select(WellbeingResponse)).all()
        assert sorted(json.dumps(r.answers, sort_keys=True) for r in responses) == sorted(
            json.dumps(dict(zip(wellbeing_questions(), values, strict=True)), sort_keys=True)
            for values in ([1, 2, 3, 4, 5, 1], [5, 4, 3, 2, 1, 5])
        )
        assert [r.said_more for r in sorted(responses, key=lambda r: r.answers["safety_1"])] == [
            False,
            True,
        ]
        assert not any(r.reported for r in responses)
        # The answers and what the worker wrote are kept in no message and no conversation.
        inbound_after_invite = session.scalars(
            select(Message).where(Message.direction == "in", Message.body_encrypted.is_not(None))
        ).all()
        kept = [runtime.protector.decrypt(m.body_encrypted) for m in inbound_after_invite]  # type: ignore[arg-type]
        assert kept == [WORD.lower(), WORD.lower()]
        tokens = {r.token for r in responses}
        for conversation in session.scalars(select(Conversation)):
            state = json.dumps(conversation.state)
            assert not any(token in state for token in tokens)
            assert "shout" not in state
        assert session.scalar(select(Case.id)) is None


def wellbeing_questions() -> list[str]:
    from grievance.reports.wellbeing import QUESTIONS

    return list(QUESTIONS)


def test_something_written_at_the_end_becomes_a_report_only_with_consent(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    _, (phone,) = a_wave(app, runtime, client, fake_twilio, 1)
    replies = answer(phone, ["3"] * 6, last="The agent kept my passport")
    assert "confidential report" in replies[-1]
    # The intake starts as always: the language (never chosen by this worker), then consent.
    assert "Choose your language" in phone.send("1")[-1]
    assert phone.send("1")[-1].endswith("3 Who sees my message?\n4 Your rights")
    assert "Passport or ID kept" in phone.send("1")[-1]
    assert "Where do you work" in phone.send("1")[-1]
    # What happened is not asked again: the worker already said it, and sees it back.
    assert 'You wrote: "The agent kept my passport"' in phone.send("Penang")[-1]
    assert "danger" in phone.send("1")[-1]
    assert "news" in phone.send("2")[-1]
    assert "Your case code is" in phone.send("2")[-1]
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert runtime.protector.decrypt(case.description_encrypted) == "The agent kept my passport"  # type: ignore[arg-type]
        response = session.scalars(select(WellbeingResponse)).one()
        assert response.said_more
        assert response.reported
        assert response.answers == dict.fromkeys(wellbeing_questions(), 3)


def test_small_waves_are_withheld_and_not_shared(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    admin, phones = a_wave(app, runtime, client, fake_twilio, 3)
    for phone in phones:
        answer(phone, ["5"] * 6)
    wave = the_wave(runtime)
    page = admin.get(f"/wellbeing/{wave.id}").get_data(as_text=True)
    assert "Answered: &lt;10 of 3 invited." in page
    assert page.count("withheld: fewer than 10 workers") == 3
    assert "5.00" not in page
    assert "at least 10 answers" in post(admin, f"/wellbeing/{wave.id}/share")
    for phone in phones:
        assert not any("Survey results" in r for r in phone.replies())


def test_a_worker_writing_a_report_is_invited_after_it(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    busy, free = workers(client, fake_twilio, 2)
    joined([busy, free])
    assert "confidential" in busy.send("hello I need help")[0]  # mid-intake
    admin = handler(app, runtime, "admin@example.org", role="admin")
    page = post(admin, "/wellbeing", site=site_id)
    assert "Inviting: 1 of 2 workers" in page
    assert not any("6 short questions" in r for r in busy.replies())
    assert "6 short questions" in free.replies()[-1]
    (late,) = workers(client, fake_twilio, 1)
    joined([late])  # joins while the wave is out: the next wave asks them
    busy.send("2")  # no, not now: the intake ends
    waves.send_batch(runtime, the_wave(runtime).id)
    assert "6 short questions" in busy.replies()[-1]
    assert late.replies() == []
    with runtime.sessions() as session:
        statuses = session.scalars(select(WellbeingInvite.status)).all()
        assert sorted(statuses) == ["sent", "sent"]
    assert the_wave(runtime).status == "sent"


def test_survey_words_must_be_distinct_from_keywords_and_other_sites(
    app: Flask, runtime: Runtime
) -> None:
    first, second = a_site(runtime, "Plant A"), a_site(runtime, "Plant B")
    admin = handler(app, runtime, "admin@example.org", role="admin")
    assert "workers join by sending WELL-1" in post(
        admin, f"/wellbeing/sites/{first}/keyword", keyword="well-1"
    )
    assert "already the survey word of another site" in post(
        admin, f"/wellbeing/sites/{second}/keyword", keyword="WELL-1"
    )
    assert "already a keyword workers send" in post(
        admin, f"/wellbeing/sites/{second}/keyword", keyword="STATUS"
    )
    assert "4 to 32 letters" in post(admin, f"/wellbeing/sites/{second}/keyword", keyword="a b")
    with runtime.sessions() as session:
        assert session.get(Site, second).pulse_keyword is None  # type: ignore[union-attr]
        contacts = session.scalars(select(Contact)).all()
        assert contacts == []


def test_the_cli_sends_a_wave_with_progress_and_prints_results(
    app: Flask,
    runtime: Runtime,
    client: FlaskClient,
    fake_twilio: FakeTwilio,
    database_url: str,
    tmp_path: Path,
) -> None:
    site_id = a_site(runtime, "Plant C")
    with_word(runtime, site_id)
    phones = workers(client, fake_twilio, 3)
    joined(phones)
    env = environment(database_url, tmp_path / "instance", fake_twilio)
    result = CliRunner().invoke(main, ["wellbeing", "send", "Plant C"], env=env)
    assert result.exit_code == 0, result.output
    assert "Plant C: wave 1 to 3 members" in result.output
    assert "inviting: 3/3 workers" in result.output
    assert "invited 3, not reachable 0" in result.output
    for phone in phones:
        assert "6 short questions" in phone.replies()[-1]
    again = CliRunner().invoke(main, ["wellbeing", "send", "Plant C"], env=env)
    assert again.exit_code == 0  # the first wave is out: a second one may start
    assert "wave 2" in again.output
    results = CliRunner().invoke(main, ["wellbeing", "results", str(site_id)], env=env)
    assert "wave 1 (" in results.output
    assert "answered 0" in results.output
    assert "Safety at work: n=0, fewer than 10 answers" in results.output
    missing = CliRunner().invoke(main, ["wellbeing", "send", "Nowhere"], env=env)
    assert missing.exit_code != 0
    assert "no site 'Nowhere'" in missing.output
    # The group's old name runs the same commands, and is not offered in the help.
    old = CliRunner().invoke(main, ["campaigns", "results", str(site_id)], env=env)
    assert old.exit_code == 0, old.output
    assert old.output == results.output
    carry_on = CliRunner().invoke(main, ["campaigns", "send", "Plant C", "--wave", "2"], env=env)
    assert carry_on.exit_code == 0, carry_on.output
    assert "Plant C: wave 2 to 3 members" in carry_on.output
    listed = CliRunner().invoke(main, ["--help"], env=env).output
    assert "wellbeing" in listed
    assert "campaigns" not in listed


def test_an_admin_stops_a_wave_and_nobody_else_is_asked(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    busy, free = workers(client, fake_twilio, 2)
    joined([busy, free])
    assert "confidential" in busy.send("hello I need help")[0]  # mid-intake: not yet asked
    admin = handler(app, runtime, "admin@example.org", role="admin")
    post(admin, "/wellbeing", site=site_id)
    wave = the_wave(runtime)
    page = post(admin, f"/wellbeing/{wave.id}/stop")
    assert "Stopped: 1 workers had been invited." in page
    assert "Stopped: 1 of 2 workers invited" in page
    assert "Stop sending this wave" not in page
    busy.send("2")  # the report ends; the wave would have asked now
    waves.send_batch(runtime, wave.id)
    assert not any("6 short questions" in r for r in busy.replies())
    assert the_wave(runtime).status == "cancelled"


def test_members_busy_with_a_report_do_not_hold_up_the_rest(
    runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    busy, free = workers(client, fake_twilio, 2)
    joined([busy, free])  # the busy worker joined first: first in line
    assert "confidential" in busy.send("hello I need help")[0]
    with runtime.sessions() as session:
        wave_id = wellbeing.start_wave(session, site_id, None).id
        session.commit()
    waves.send_batch(runtime, wave_id, limit=1)  # tries the busy worker
    waves.send_batch(runtime, wave_id, limit=1)  # the next one, not the busy worker again
    assert "6 short questions" in free.replies()[-1]
    assert not any("6 short questions" in r for r in busy.replies())


def test_the_old_campaigns_addresses_redirect_to_the_same_wellbeing_page(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    joined(workers(client, fake_twilio, 1))
    admin = handler(app, runtime, "admin@example.org", role="admin")
    assert client.get("/campaigns").headers["Location"].startswith("/login")  # signed in first
    for old, new in (
        ("/campaigns", "/wellbeing"),
        ("/campaigns/7/results.csv", "/wellbeing/7/results.csv"),
        ("/campaigns/7/trend.svg?x=1", "/wellbeing/7/trend.svg?x=1"),
    ):
        response = admin.get(old)
        assert response.status_code == 308, old
        assert response.headers["Location"] == new
    # 308 keeps a POST a POST: a form posted to an old bookmark is posted again to the new
    # address, as a browser does (the test client would drop the body on the way).
    form = {"csrf_token": token_of(admin, "/wellbeing"), "site": site_id}
    response = admin.post("/campaigns", data=form)
    assert response.status_code == 308
    assert response.headers["Location"] == "/wellbeing"
    page = admin.post(response.headers["Location"], data=form, follow_redirects=True)
    assert page.request.path == f"/wellbeing/{the_wave(runtime).id}"
    assert "Done: 1 of 1 workers invited" in page.get_data(as_text=True)
