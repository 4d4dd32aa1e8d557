"""A rights message to a site's members, on the pulse's machinery: only workers who joined
with the site's word get it, in paced batches with a progress count; a worker reads a topic
by its number days later, or writes to report; a worker in the middle of a report gets it
afterwards; an opted-out worker is not sent it; an admin can stop it."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.clock import utcnow
from grievance.models import Case, RightsInvite, RightsMessage
from grievance.runtime import Runtime
from grievance.services import waves
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import handler, token_of
from tests.support.wellbeing import a_site, joined, post, with_word, workers

PRINCIPLES = "Every worker is free to leave, pays nothing for a job and owes no work for a debt."


def the_message(runtime: Runtime) -> RightsMessage:
    with runtime.sessions() as session:
        found = session.scalars(select(RightsMessage).order_by(RightsMessage.id.desc())).first()
        assert found is not None
        return found


def test_members_get_the_rights_message_and_read_a_topic_by_its_number(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    reader, reporter, busy, stopped = workers(client, fake_twilio, 4)
    joined([reader, reporter, busy, stopped])
    (outsider,) = workers(client, fake_twilio, 1)
    outsider.send("hello")  # writes to the line, never joined the site: not a member
    outsider.send("2")
    outsider.replies()
    stopped.send("STOP")
    assert "confidential" in busy.send("hello I need help")[0]  # in the middle of a report
    admin = handler(app, runtime, "admin@example.org", role="admin")

    page = post(admin, "/wellbeing/rights", site=site_id)
    assert "The rights message is going out to 4 workers." in page
    for phone in (reader, reporter):
        (message,) = phone.replies()
        assert message.startswith(PRINCIPLES)
        assert "2 Paying for a job" in message
    assert outsider.replies() == []
    assert stopped.replies() == []
    assert busy.replies() == []  # their report is not cut into
    message = the_message(runtime)
    assert (message.status, message.total, message.invited, message.skipped) == (
        "sending",
        4,
        2,
        1,
    )
    # The same progress bar as a wave: 3 of 4 handled (2 sent, 1 not reachable), 1 busy.
    assert '<progress value="3" max="4"' in admin.get("/wellbeing").get_data(as_text=True)

    # Days later, a number opens that topic; no other question is waiting.
    (fees,) = reader.send("2")
    assert fees.startswith("No worker should pay for a job.")
    # Words are the start of a report, and nothing is lost.
    first = reporter.send("the agent took my passport and 3000 ringgit")
    assert any("Do you want to report" in r or "confidential" in r for r in first)

    busy.send("2")  # no report after all: the intake ends
    waves.send_batch(runtime, message.id, kind=waves.RIGHTS)
    (late,) = busy.replies()
    assert late.startswith(PRINCIPLES)
    message = the_message(runtime)
    assert (message.status, message.invited, message.skipped) == ("sent", 3, 1)
    with runtime.sessions() as session:
        assert sorted(session.scalars(select(RightsInvite.status)).all()) == [
            "sent",
            "sent",
            "sent",
            "skipped",
        ]
        assert session.scalars(select(Case)).all() == []  # reading rights opens no case


def test_each_message_reaches_a_worker_once_and_only_admins_send_it(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    (phone,) = workers(client, fake_twilio, 1)
    joined([phone])
    staff = handler(app, runtime, "h@example.org")
    token = token_of(staff, "/wellbeing")  # a real form post: refused for the role, not the token
    refused = staff.post("/wellbeing/rights", data={"site": site_id, "csrf_token": token})
    assert refused.status_code == 404
    assert phone.replies() == []
    admin = handler(app, runtime, "admin@example.org", role="admin")
    post(admin, "/wellbeing/rights", site=site_id)
    assert phone.replies()[0].startswith(PRINCIPLES)
    first = the_message(runtime)
    assert first.status == "sent"
    # Sending the same message again (a job run twice) reaches nobody twice.
    assert waves.send_batch(runtime, first.id, kind=waves.RIGHTS)
    assert phone.replies() == []
    # A later rights message reaches the worker again.
    assert "going out to 1 workers" in post(admin, "/wellbeing/rights", site=site_id)
    assert phone.replies()[0].startswith(PRINCIPLES)


def test_an_admin_stops_a_rights_message(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    phones = workers(client, fake_twilio, 3)
    joined(phones)
    admin = handler(app, runtime, "admin@example.org", role="admin")
    assert "nobody at this site" in post(admin, "/wellbeing/rights", site=a_site(runtime, "Empty"))
    with runtime.sessions() as session:
        session.add(RightsMessage(site_id=site_id, total=3))
        session.commit()
    message = the_message(runtime)
    page = post(admin, f"/wellbeing/rights/{message.id}/stop")
    assert "Stopped: 0 workers had been sent it." in page
    assert waves.send_batch(runtime, message.id, kind=waves.RIGHTS)
    assert all(phone.replies() == [] for phone in phones)
    staff = handler(app, runtime, "h@example.org")
    token = token_of(staff, "/wellbeing")
    refused = staff.post(f"/wellbeing/rights/{message.id}/stop", data={"csrf_token": token})
    assert refused.status_code == 404


def test_outside_the_whatsapp_window_the_rights_message_goes_as_its_own_template(
    app: Flask, runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    from sqlalchemy import update

    from grievance.models import Contact
    from tests.conftest import Phone

    runtime.settings = runtime.settings.with_overrides(
        whatsapp_templates={"rights_message": {"en": "HX" + "r" * 32}}
    )
    site_id = a_site(runtime)
    with_word(runtime, site_id)
    phone = Phone(client, fake_twilio, "+9779800000077", channel="whatsapp")
    joined([phone])
    with runtime.sessions() as session:
        session.execute(update(Contact).values(last_inbound_at=utcnow() - timedelta(hours=25)))
        session.commit()
    admin = handler(app, runtime, "admin@example.org", role="admin")
    post(admin, "/wellbeing/rights", site=site_id)
    sent = fake_twilio.messages[-1]
    # Not the content-free "update on your report" notice: the approved rights template.
    assert sent["ContentSid"] == "HX" + "r" * 32
    assert sent["To"] == "whatsapp:+9779800000077"
