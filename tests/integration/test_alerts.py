"""Immediate alerts, through the signed webhook and a local SMTP server, on SQLite and
PostgreSQL: a new P1 or P0 case alerts every admin and handler on duty, a request for a person
the assignee (or everyone), a worker's words on an assigned case the assignee only. Each email
holds a case number, a fixed phrase and a link; none is sent twice for the same case and
reason, after a retried job, a sweep or an escalation run."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.auth import accounts
from grievance.mail import SmtpMailer
from grievance.models import AuditEvent, Case, OutboxMail, StaffAlert, User
from grievance.runtime import Runtime
from grievance.services import alerts, escalation, mails, sweeper
from tests.conftest import Phone
from tests.support.accounts import browser, make_user, sign_in_password
from tests.support.intake import report
from tests.support.smtp import Mailbox, Received, mailbox
from tests.support.staff import PASSWORD, act, handler

BASE = "https://grievance.example.org"
# What the worker wrote in tests.support.intake.report, and what follows here.
WORDS = ("Sunrise", "Penang", "agent", "3000", "half", "help")


@pytest.fixture
def box(runtime: Runtime) -> Iterator[Mailbox]:
    with mailbox() as received:
        runtime.mailer = SmtpMailer(received.url, "grievance@example.org")
        yield received


@pytest.fixture
def staff(app: Flask, runtime: Runtime) -> FlaskClient:
    """A handler signed in, an admin, a second handler, and people who must never hear:
    a handler no longer active and a supplier's user."""
    client = handler(app, runtime, "h@example.org")
    with runtime.sessions() as session:
        accounts.create_user(session, "admin@example.org", "admin", PASSWORD)
        accounts.create_user(session, "other@example.org", "handler", PASSWORD)
        gone = accounts.create_user(session, "gone@example.org", "handler", PASSWORD)
        gone.active = False
        supplier = accounts.create_organisation(session, "Sunrise", "supplier")
        accounts.create_user(session, "s@example.org", "supplier", PASSWORD, supplier.name)
        session.commit()
    return client


ON_DUTY = ["admin@example.org", "h@example.org", "other@example.org"]


def only_the_case(mail: Received, case_id: int, phone: Phone) -> None:
    """The email names the case and links to it; nothing else a worker gave."""
    text = f"{mail.subject}\n{mail.body}"
    assert f"#{case_id}" in mail.subject
    assert f"{BASE}/cases/{case_id}" in mail.body
    rest = text.replace(f"{BASE}/cases/{case_id}", "").replace(f"#{case_id}", "")
    assert not re.search(r"\d{2,}", rest.replace("P0", "").replace("P1", "")), text
    assert phone.address.removeprefix("whatsapp:").lstrip("+") not in text
    for word in WORDS:
        assert word.lower() not in text.lower(), word


def case_of(runtime: Runtime) -> Case:
    with runtime.sessions() as session:
        return session.scalars(select(Case).order_by(Case.id.desc())).first()  # type: ignore[return-value]


def user_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        found = session.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return found


def test_a_new_p1_case_alerts_everyone_on_duty_once(
    runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    report(phone)  # recruitment fees: P1
    case = case_of(runtime)
    assert case.severity == "P1"
    (mail,) = box.received
    assert mail.to == ON_DUTY  # not the inactive handler, not the supplier
    assert mail.subject == f"Case #{case.id}: a new P1 case"
    only_the_case(mail, case.id, phone)

    # A job that runs again, a lost send job found by the sweeper, the send job twice, and
    # the overdue sweep: none of them makes another alert.
    with runtime.sessions() as session:
        again = alerts.case_opened(session, runtime, session.get(Case, case.id))  # type: ignore[arg-type]
        session.commit()
        assert again == []
        mail_id = session.scalars(select(OutboxMail.id)).one()
    assert mails.send(runtime, mail_id) == "sent"
    sweeper.sweep(runtime)
    escalation.escalate_overdue(runtime)
    assert len(box.received) == 1
    with runtime.sessions() as session:
        assert session.scalars(select(StaffAlert.reason)).all() == ["new_p1"]

    # A P2 report alerts nobody: the queue shows it.
    phone.send("MENU")
    for answer in ("1", "7", "Sunrise Garments", "The canteen is dirty", "2", "1", "2"):
        phone.send(answer)
    assert case_of(runtime).severity == "P2"
    assert len(box.received) == 1


def test_danger_alerts_everyone_once_however_the_case_became_p0(
    runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    report(phone, danger="1")  # "are you in danger now?" yes: P0 before the code is given
    case = case_of(runtime)
    assert case.severity == "P0"
    # The urgent alert, and not a second one when the report then completes the case.
    (mail,) = box.received
    assert mail.to == ON_DUTY
    assert mail.subject == f"URGENT - case #{case.id}: the worker may be in danger now (P0)"
    only_the_case(mail, case.id, phone)

    # While nobody has answered, asking for a person is covered by the danger alert.
    phone.send("HELP")
    phone.send("yes")
    assert len(box.received) == 1


def test_a_request_for_a_person_goes_to_the_assignee_or_everyone(
    runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    assert "Do you want a person to write to you here?" in phone.send("HELP")[-1]
    phone.send("ok")
    case = case_of(runtime)
    (mail,) = box.received
    assert mail.to == ON_DUTY  # nobody has the case
    assert mail.subject == f"Case #{case.id}: the worker asked for a person"
    only_the_case(mail, case.id, phone)

    # Asked again before anyone answered: one alert.
    phone.send("HELP")
    phone.send("ok")
    assert len(box.received) == 1

    # A handler takes the case and writes; the next request goes to them alone.
    act(staff, case.id, "assign", assignee=str(user_id(runtime, "h@example.org")))
    act(staff, case.id, "message", canned="", text="We will call you in an hour.")
    phone.send("HELP")
    phone.send("ok")
    assert len(box.received) == 2
    assert box.received[-1].to == ["h@example.org"]
    only_the_case(box.received[-1], case.id, phone)


def test_a_workers_words_on_an_assigned_case_alert_the_assignee_until_read(
    runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    report(phone)
    case = case_of(runtime)
    box.clear()  # the new P1 alert

    # Nobody has the case: the queue's "worker replied" shows it, no email.
    phone.send("They paid back only half")
    assert box.received == []

    act(staff, case.id, "assign", assignee=str(user_id(runtime, "other@example.org")))
    phone.send("The agent says the rest next month")
    phone.send("and three of us paid the same agent")
    (mail,) = box.received  # one alert for the words since the case was last read
    assert mail.to == ["other@example.org"]
    assert mail.subject == f"Case #{case.id}: the worker wrote"
    only_the_case(mail, case.id, phone)

    # Opening the case reads the words; the next words alert again.
    staff.get(f"/cases/{case.id}")
    phone.send("help please")
    assert len(box.received) == 2
    assert box.received[-1].to == ["other@example.org"]
    assert box.received[-1].subject == f"Case #{case.id}: the worker wrote"


def test_words_on_a_case_whose_assignee_left_alert_nobody_and_record_nothing(
    runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    report(phone)
    case = case_of(runtime)
    act(staff, case.id, "assign", assignee=str(user_id(runtime, "other@example.org")))
    with runtime.sessions() as session:
        gone = session.get(User, user_id(runtime, "other@example.org"))
        assert gone is not None
        gone.active = False
        session.commit()
    box.clear()
    phone.send("They paid back only half")
    assert box.received == []  # the queue's "worker replied" shows it
    with runtime.sessions() as session:
        assert session.scalars(select(StaffAlert.reason)).all() == ["new_p1"]


# -- the browser's notifications (GET /alerts/pending, static/notify.js) -----------------------


def pending(client: FlaskClient, after: int | None = None) -> dict[str, object]:
    """What a browser's poll is answered, after checking it carries nothing a worker gave."""
    response = client.get("/alerts/pending" + ("" if after is None else f"?after={after}"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    for word in WORDS:
        assert word.lower() not in text.lower(), word
    data: dict[str, object] = response.get_json()
    for alert in data["alerts"]:  # type: ignore[attr-defined]
        assert set(alert) == {"id", "case", "title", "url"}
        assert alert["url"] == f"/cases/{alert['case']}"
    return data


def audit_actions(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_browser_is_shown_the_handler_s_own_new_alerts_and_nothing_of_the_worker(
    app: Flask, runtime: Runtime, box: Mailbox, staff: FlaskClient, phone: Phone
) -> None:
    second = handler(app, runtime, "second@example.org")
    admin = handler(app, runtime, "boss@example.org", role="admin")
    # A browser asking for the first time learns where to start, and is shown no past alert.
    start = pending(staff)
    assert start == {"last": 0, "alerts": []}
    before = audit_actions(runtime)
    assert pending(staff, 0) == {"last": 0, "alerts": []}
    assert audit_actions(runtime) == before  # an empty poll writes nothing
    for odd in ("-1", "²", "9" * 5000, "x"):  # read as a first ask, never an error
        assert staff.get(f"/alerts/pending?after={odd}").get_json() == start

    report(phone)  # a new P1 case: everyone on duty
    case = case_of(runtime)
    shown = pending(staff, 0)
    (alert,) = shown["alerts"]  # type: ignore[misc]
    assert alert["case"] == case.id
    assert alert["title"] == f"Case #{case.id}: P1 case"
    assert pending(admin, 0)["alerts"] == shown["alerts"]
    assert pending(staff, shown["last"]) == {"last": shown["last"], "alerts": []}  # type: ignore[arg-type]
    with runtime.sessions() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "alert_notified")
        ).all()
        assert [(a.case_id, a.detail) for a in audited] == [(case.id, "reason=new_p1")] * 2

    # A worker's words on a case assigned to the second handler: theirs alone.
    act(staff, case.id, "assign", assignee=str(user_id(runtime, "second@example.org")))
    last = int(shown["last"])  # type: ignore[call-overload]
    phone.send("The agent says the rest next month")
    assert box.received[-1].to == ["second@example.org"]  # the email, for comparison
    assert pending(staff, last)["alerts"] == []
    assert pending(admin, last)["alerts"] == []
    (reply,) = pending(second, last)["alerts"]  # type: ignore[misc]
    assert reply["title"] == f"Case #{case.id}: worker replied"
    # Seen to before the browser asked (the assignee opened the case): not shown, passed over.
    second.get(f"/cases/{case.id}")
    phone.send("and three of us paid the same agent")
    second.get(f"/cases/{case.id}")
    later = pending(second, int(reply["id"]))
    assert later["alerts"] == []
    assert int(later["last"]) > int(reply["id"])  # type: ignore[call-overload]


def test_only_handlers_and_admins_may_ask_for_alerts(app: Flask, runtime: Runtime) -> None:
    stranger = browser(app)
    assert stranger.get("/alerts/pending").headers["Location"].startswith("/login")
    for role in ("supplier", "buyer"):
        make_user(runtime, f"{role}@example.org", role, f"The {role}")
        client = browser(app)
        sign_in_password(client, f"{role}@example.org")
        assert client.get("/alerts/pending").status_code == 404, role  # no hint it exists
    for role in ("handler", "admin"):
        staff = handler(app, runtime, f"{role}@example.org", role)
        assert staff.get("/alerts/pending").is_json, role
