"""A worker reports a grievance end to end: signed webhook in, replies out through Twilio's API."""

from __future__ import annotations

from sqlalchemy import select

from grievance import casecode
from grievance.models import Case, CaseEvent, Message
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.intake import report


def test_worker_reports_and_gets_a_working_code(phone: Phone, runtime: Runtime) -> None:
    code = report(phone)
    assert casecode.normalize(code) is not None
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.reported_category == "FL-FEE"
        assert case.category == "FL-FEE"
        assert case.severity == "P1"
        assert case.language == "en"
        assert case.workplace == "Sunrise Garments, Penang"
        assert (
            runtime.protector.decrypt(case.description_encrypted or b"")
            == "The agent took 3000 dollars for this job"
        )
        assert case.wants_updates is True
        assert case.full_updates is False  # news, content-free (the default answer)
        assert case.code_hash == runtime.protector.code_hash(casecode.normalize(code) or "")
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
        assert kinds == ["received"]  # a P1 case, but nobody on staff yet to alert
        linked = session.scalars(
            select(Message.id).where(Message.case_id == case.id, Message.direction == "in")
        ).all()
        assert len(linked) == 8  # every message of the intake belongs to the case
    # STATUS with the code works, from this phone and from any other phone.
    assert "received" in phone.send(f"STATUS {code}")[0]
    other = Phone(phone.client, phone.fake, "+9779800000001")
    assert "received" in other.send(f"status {code.replace(' ', '-')}")[0]


def test_danger_now_makes_the_case_p0(phone: Phone, runtime: Runtime) -> None:
    report(phone, danger="1")
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()  # the urgent case, completed by the report
        assert case.severity == "P0"
        assert case.in_danger is True
        assert case.handover_requested_at is not None  # a person is requested at once
        assert case.code_issued


def test_code_message_body_is_erased_after_sending(phone: Phone, runtime: Runtime) -> None:
    code = report(phone)
    digits = casecode.normalize(code)
    assert digits
    with runtime.sessions() as session:
        for message in session.scalars(select(Message).where(Message.direction == "out")):
            if message.body_encrypted is not None:
                body = runtime.protector.decrypt(message.body_encrypted)
                assert code not in body
        sensitive = session.scalars(select(Message).where(Message.sensitive.is_(True))).one()
        assert sensitive.body_encrypted is None
        assert sensitive.delivery_status == "queued"
