"""Overdue cases are escalated by email (case number and link only), once per stage;
three similar cases from one site within 30 days raise a site alert on the queue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.mail import ConsoleMailer, SmtpMailer
from grievance.models import Case, OutboxMail, Site
from grievance.runtime import Runtime
from grievance.services import cases, escalation, mails, sweeper
from tests.support.cases import make_cases
from tests.support.smtp import free_port, mailbox, smtp_on_a_free_port
from tests.support.staff import PASSWORD, handler

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def overdue(runtime: Runtime, case_id: int) -> None:
    with runtime.sessions() as session:
        session.execute(
            update(Case).where(Case.id == case_id).values(due_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()


def test_an_overdue_case_is_escalated_once_per_stage(runtime: Runtime) -> None:
    (case_id,) = make_cases(runtime, [("P1", "Sunrise Garments", 5)])
    with runtime.sessions() as session:
        accounts.create_user(session, "admin@example.org", "admin", PASSWORD)
        owner = accounts.create_user(session, "h@example.org", "handler", PASSWORD)
        accounts.create_user(session, "other@example.org", "handler", PASSWORD)
        session.execute(update(Case).values(assignee_id=owner.id))
        session.commit()
    mailer = runtime.mailer
    assert isinstance(mailer, ConsoleMailer)
    assert escalation.escalate_overdue(runtime) == 0  # not due yet
    overdue(runtime, case_id)
    assert escalation.escalate_overdue(runtime) == 1
    # The assignee and the admins, not everyone: each their own digest of one case.
    assert [to for to, _, _ in mailer.sent] == [["admin@example.org"], ["h@example.org"]]
    for _, subject, body in mailer.sent:
        assert subject == f"Case #{case_id} is overdue"
        assert body == (
            "Past the time frame of their stage:\n"
            f"Case #{case_id}: https://grievance.example.org/cases/{case_id}\n"
        )
    assert escalation.escalate_overdue(runtime) == 0  # once per stage
    cases.update_status(runtime, case_id, "acknowledged", "handler:1")  # same triage clock
    assert escalation.escalate_overdue(runtime) == 0
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise", "supplier")
        accounts.create_user(session, "s@example.org", "supplier", PASSWORD, supplier.name)
        session.execute(update(Case).values(supplier_id=supplier.id))
        session.commit()
    cases.update_status(runtime, case_id, "with_supplier", "handler:1")  # a new stage, a new clock
    overdue(runtime, case_id)
    assert escalation.escalate_overdue(runtime) == 1
    # The supplier owes the plan: it hears too, with its own link and nothing more.
    (to, subject, body) = mailer.sent[-1]
    assert to == ["s@example.org"]
    assert subject == f"Case #{case_id}: the remediation plan is overdue"
    assert body.endswith(f"/supplier/cases/{case_id}\n")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[object]]]:
    received: list[object] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            received.append(envelope)
            return "250 OK"

    with smtp_on_a_free_port(Handler()) as port:
        yield port, received


def test_escalation_email_goes_through_smtp(smtp_server: tuple[int, list[object]]) -> None:
    port, received = smtp_server
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=0", "grievance@example.org")
    mailer.send(["a@example.org", "b@example.org"], "Case #7 is overdue", "Case #7 (P1) ...")
    (envelope,) = received
    assert sorted(envelope.rcpt_tos) == ["a@example.org", "b@example.org"]  # type: ignore[attr-defined]
    content = envelope.content.decode()  # type: ignore[attr-defined]
    assert "Subject: Case #7 is overdue" in content
    assert "a@example.org" not in content  # staff addresses are not shared with each other


@pytest.fixture
def flaky_smtp_server() -> Iterator[tuple[int, list[str], list[str]]]:
    """An SMTP server that refuses the second message it is given (451, try again later)
    and accepts every other; it lists the subjects accepted and refused."""
    accepted: list[str] = []
    refused: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            subject = next(
                line.removeprefix("Subject: ")
                for line in envelope.content.decode().splitlines()
                if line.startswith("Subject: ")
            )
            if len(accepted) + len(refused) == 1:
                refused.append(subject)
                return "451 4.3.0 Temporary failure, try again later"
            accepted.append(subject)
            return "250 OK"

    with smtp_on_a_free_port(Handler()) as port:
        yield port, accepted, refused


def test_one_failed_escalation_email_is_retried_alone_and_the_others_are_not_sent_again(
    runtime: Runtime, flaky_smtp_server: tuple[int, list[str], list[str]]
) -> None:
    port, accepted, refused = flaky_smtp_server
    runtime.mailer = SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=0", "grievance@example.org")
    ids = make_cases(runtime, [("P1", "Sunrise Garments", 5)] * 3)
    with runtime.sessions() as session:
        # Three handlers with a case each: three digests of one case.
        for n, case_id in enumerate(ids):
            owner = accounts.create_user(session, f"h{n}@example.org", "handler", PASSWORD)
            session.execute(update(Case).where(Case.id == case_id).values(assignee_id=owner.id))
        session.commit()
    for case_id in ids:
        overdue(runtime, case_id)

    assert escalation.escalate_overdue(runtime) == 3
    # The server refused one email; the other two went, and every case is marked escalated.
    assert len(refused) == 1
    assert len(accepted) == 2
    with runtime.sessions() as session:
        assert all(session.get(Case, case_id).escalated_at is not None for case_id in ids)
        mails = session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        assert [m.status for m in mails].count("sent") == 2
        (waiting,) = [m for m in mails if m.status == "pending"]
        assert waiting.subject == refused[0]
        assert waiting.attempts == 1
        assert waiting.last_error == "SMTPDataError"
        assert waiting.next_attempt_at is not None
        assert waiting.next_attempt_at > utcnow()

    # The next escalation run, five minutes later, sends nothing again.
    assert escalation.escalate_overdue(runtime) == 0
    assert len(accepted) == 2
    # A sweep before the retry is due leaves the email waiting ...
    sweeper.sweep(runtime, grace=timedelta(0))
    assert len(accepted) == 2
    # ... and once it is due, it goes, once.
    with runtime.sessions() as session:
        session.execute(
            update(OutboxMail)
            .where(OutboxMail.status == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert sweeper.sweep(runtime, grace=timedelta(0)).mails == 1
    assert sorted(accepted) == sorted(f"Case #{case_id} is overdue" for case_id in ids)
    sweeper.sweep(runtime, grace=timedelta(0))
    assert len(accepted) == 3


def test_an_email_that_cannot_be_sent_for_a_day_is_given_up_and_the_change_stands(
    runtime: Runtime,
) -> None:
    runtime.mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}?starttls=0", "g@example.org")
    (case_id,) = make_cases(runtime, [("P1", "Sunrise Garments", 5)])
    with runtime.sessions() as session:
        accounts.create_user(session, "admin@example.org", "admin", PASSWORD)
        session.commit()
    overdue(runtime, case_id)
    assert escalation.escalate_overdue(runtime) == 1  # nobody listens on that port
    with runtime.sessions() as session:
        assert session.get(Case, case_id).escalated_at is not None
        mail = session.scalars(select(OutboxMail)).one()
        assert (mail.status, mail.last_error) == ("pending", "ConnectionRefusedError")
        session.execute(
            update(OutboxMail).values(
                created_at=utcnow() - mails.MAIL_MAX_AGE, next_attempt_at=utcnow()
            )
        )
        session.commit()
    assert mails.send(runtime, mail.id) == "failed"
    assert mails.send(runtime, mail.id) == "failed"  # a duplicate job does nothing


def test_an_email_written_in_a_change_that_rolls_back_is_never_sent(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert (
            mails.queue_mail(session, ["a@example.org"], "Case #1 is overdue", "link") is not None
        )
        assert mails.queue_mail(session, [], "Case #2 is overdue", "link") is None  # nobody to tell
        session.rollback()
    with runtime.sessions() as session:
        assert session.scalars(select(OutboxMail)).all() == []


def test_three_similar_cases_at_a_site_raise_an_alert(app: Flask, runtime: Runtime) -> None:
    ids = make_cases(runtime, [("P1", "Penang plant 2", 5)] * 3 + [("P2", "Penang plant 2", 5)])
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise", "supplier")
        site = Site(supplier_id=supplier.id, name="Penang plant 2")
        session.add(site)
        session.flush()
        session.execute(
            update(Case).where(Case.id.in_(ids[:3])).values(site_id=site.id, category="FL-FEE")
        )
        session.execute(
            update(Case).where(Case.id == ids[3]).values(site_id=site.id, category="WAGE")
        )
        session.commit()
    (alert,) = escalation.raise_site_alerts(runtime)
    assert (alert.category, alert.cases) == ("FL-FEE", 3)
    assert escalation.raise_site_alerts(runtime) == []  # one alert per 30 days
    page = handler(app, runtime).get("/cases").get_data(as_text=True)
    assert "3 FL-FEE cases from Penang plant 2" in page


def test_one_sweep_sends_each_person_one_digest_of_their_overdue_cases(
    runtime: Runtime,
) -> None:
    ids = make_cases(runtime, [("P1", "Sunrise Garments", 5)] * 5)
    with runtime.sessions() as session:
        accounts.create_user(session, "admin@example.org", "admin", PASSWORD)
        mine = accounts.create_user(session, "h@example.org", "handler", PASSWORD)
        accounts.create_user(session, "other@example.org", "handler", PASSWORD)
        suppliers = []
        for name in ("Sunrise", "Moonrise"):
            organisation = accounts.create_organisation(session, name, "supplier")
            email = f"{name.lower()}@example.org"
            accounts.create_user(session, email, "supplier", PASSWORD, organisation.name)
            suppliers.append(organisation.id)
        session.execute(update(Case).where(Case.id.in_(ids[:2])).values(assignee_id=mine.id))
        for case_id, supplier_id in zip(ids[3:], suppliers, strict=True):
            session.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(status="with_supplier", supplier_id=supplier_id)
            )
        session.commit()
    for case_id in ids:
        overdue(runtime, case_id)

    with mailbox() as box:
        runtime.mailer = SmtpMailer(box.url, "grievance@example.org")
        assert escalation.escalate_overdue(runtime) == 5
        addresses = {address for mail in box.received for address in mail.to}
        by_person = {address: box.to(address) for address in addresses}
        # One email per person, never one per case; nobody gets anyone else's cases.
        assert {address: len(got) for address, got in by_person.items()} == {
            "admin@example.org": 1,
            "h@example.org": 1,
            "moonrise@example.org": 1,
            "sunrise@example.org": 1,
        }
        assert all(len(mail.to) == 1 for mail in box.received)
        (admin,) = by_person["admin@example.org"]
        assert admin.subject == "5 cases are overdue"
        assert sorted(int(n) for n in re.findall(r"/cases/(\d+)", admin.body)) == sorted(ids)
        (own,) = by_person["h@example.org"]
        assert own.subject == "2 cases are overdue"
        assert sorted(int(n) for n in re.findall(r"/cases/(\d+)", own.body)) == sorted(ids[:2])
        for address, case_id in (("sunrise@example.org", ids[3]), ("moonrise@example.org", ids[4])):
            (mail,) = by_person[address]
            assert mail.subject == f"Case #{case_id}: the remediation plan is overdue"
            assert re.findall(r"/supplier/cases/(\d+)", mail.body) == [str(case_id)]
            assert "/cases/" not in mail.body.replace("/supplier/cases/", "")
        for mail in box.received:  # numbers and links; nothing of what happened
            assert "Sunrise Garments" not in mail.body
        # The next sweep finds every case escalated in its stage already.
        assert escalation.escalate_overdue(runtime) == 0
        sweeper.sweep(runtime, grace=timedelta(0))
        assert len(box.received) == 4
    with runtime.sessions() as session:
        assert all(session.get(Case, case_id).escalated_at is not None for case_id in ids)
