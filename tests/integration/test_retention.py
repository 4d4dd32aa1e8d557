"""Retention: a closed case keeps its record but loses the worker's words and contact;
copies at Twilio are deleted once we have what we need."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from grievance.models import Attachment, Case, Contact, Conversation, Message
from grievance.runtime import Runtime
from grievance.services import retention
from grievance.services.sweeper import sweep
from tests.conftest import Phone, environment
from tests.support.cases import close_case
from tests.support.cli import grievance
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import report
from tests.support.retention import age

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def the_case_id(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalars(select(Case.id)).one()


def bodies_left(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return (
            session.scalar(
                select(func.count(Message.id)).where(Message.body_encrypted.is_not(None))
            )
            or 0
        )


def test_a_closed_case_past_retention_keeps_its_record_but_not_the_worker(
    phone: Phone, runtime: Runtime
) -> None:
    report(phone)
    case_id = the_case_id(runtime)
    close_case(runtime, case_id)
    assert retention.run(runtime).cases == 0  # closed today: nothing is due yet
    assert bodies_left(runtime) > 0
    age(runtime, closed_days=181, quiet_days=181)
    result = retention.run(runtime)
    assert (result.cases, result.contacts) == (1, 1)
    assert bodies_left(runtime) == 0
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.category, case.severity, case.workplace) == (
            "FL-FEE",
            "P1",
            "Sunrise Garments, Penang",
        )
        assert case.description_encrypted is None
        assert case.purged_at is not None
        assert case.contact_id is None
        assert session.scalar(select(func.count(Contact.id))) == 0
        assert session.scalar(select(func.count(Conversation.id))) == 0
    again = retention.run(runtime)
    assert (again.cases, again.contacts, again.messages) == (0, 0, 0)
    # The worker who writes again starts afresh, as someone new.
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    assert "confidential" in phone.send("hello")[0]


def test_open_cases_and_recent_contacts_are_kept(phone: Phone, runtime: Runtime) -> None:
    report(phone)
    age(runtime, quiet_days=400)  # quiet for long, but the case is still open
    before = bodies_left(runtime)
    result = retention.run(runtime)
    assert (result.cases, result.contacts, result.messages) == (0, 0, 0)
    assert bodies_left(runtime) == before


def test_a_contact_who_never_opened_a_case_is_erased_after_a_quiet_month(
    phone: Phone, runtime: Runtime
) -> None:
    phone.send("hello")
    age(runtime, quiet_days=29)
    assert retention.run(runtime).contacts == 0
    age(runtime, quiet_days=31)
    assert retention.run(runtime).contacts == 1
    assert bodies_left(runtime) == 0


def test_attachments_of_a_purged_case_are_erased(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    url = fake_twilio.add_media("photo1", b"\xff\xd8 a photo", "image/jpeg")
    phone.send("hello I need help")
    phone.send("1")
    phone.send("2")
    phone.send("Sunrise Garments, Penang")
    phone.send("photo", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    with runtime.sessions() as session:
        attachment = session.scalars(select(Attachment)).one()
        assert attachment.data_encrypted is not None
        session.execute(update(Attachment).values(case_id=None))  # even one not linked to the case
        session.commit()
    phone.send("2")
    phone.send("1")
    phone.send("2")  # news, content-free
    case_id = the_case_id(runtime)
    close_case(runtime, case_id)
    age(runtime, closed_days=200, quiet_days=200)
    assert retention.run(runtime).attachments == 1
    with runtime.sessions() as session:
        attachment = session.scalars(select(Attachment)).one()
        assert (attachment.data_encrypted, attachment.status) == (None, "purged")


def test_messages_are_deleted_at_twilio_once_processed(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    phone.send("hello I need help")
    phone.send("1")
    assert sweep(runtime, grace=timedelta(0)).provider_deletions == 0  # kept for an hour
    runtime.settings = runtime.settings.with_overrides(twilio_delete_after_minutes=0)
    report_ = sweep(runtime, grace=timedelta(0))
    outbound = [m["Sid"] for m in fake_twilio.messages]
    # Inbound ones now; outbound ones only once Twilio reported a final status.
    assert report_.provider_deletions == 2
    assert sorted(fake_twilio.deleted) == sorted(phone.sids)
    for sid in outbound:
        phone.post(
            {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32},
            path="/twilio/status",
        )
    sweep(runtime, grace=timedelta(0))
    assert sorted(fake_twilio.deleted) == sorted(phone.sids + outbound)
    assert sweep(runtime, grace=timedelta(0)).provider_deletions == 0  # each once


def test_retention_run_command(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    env = environment(sqlite_url, tmp_path / "instance", fake_twilio)
    result = grievance("retention", "run", env=env)
    assert result.returncode == 0, result.stderr
    assert "0 closed cases purged, 0 contacts erased" in result.stdout
