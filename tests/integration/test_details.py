"""The questions after the code, through the real line: who a problem affects, and in fees
reports who recruited the worker, where and what they paid. Each answer lands on the case
at once; the words are encrypted and erased with the case; "many" raises the severity."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.clock import utcnow
from grievance.models import CaseEvent, CaseRecruitment, WorkerPrompt
from grievance.runtime import Runtime
from grievance.services import recruitment
from grievance.services.prompts import send_due_prompts
from tests.conftest import Phone
from tests.support.cases import newest_case
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import fees_report, report
from tests.support.privacy import all_rows_text


def ask(runtime: Runtime, phone: Phone) -> str:
    """Send the questions a little after the code, as the sweep does; the first one."""
    assert send_due_prompts(runtime) == 0  # not yet: the code stands alone first
    sent = send_due_prompts(runtime, utcnow() + recruitment.DETAILS_DELAY + timedelta(seconds=1))
    assert sent == 1
    (question,) = phone.replies()
    return question


def recruitment_row(runtime: Runtime, case_id: int) -> CaseRecruitment | None:
    with runtime.sessions() as session:
        row = session.scalars(
            select(CaseRecruitment).where(CaseRecruitment.case_id == case_id)
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def test_a_fees_report_traces_the_recruiter_and_what_the_worker_paid(
    runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone)
    case = newest_case(runtime)
    assert case.severity == "P1"
    question = ask(runtime, phone)
    assert "who does this happen to?" in question
    assert "1 Only me" in question
    assert "4 Someone else, who agreed I report it" in question
    assert "0" in question  # how to skip

    assert "Who recruited you" in phone.send("me and a few others")[0]
    assert "In which country" in phone.send("Global Manpower Pvt Ltd, Kathmandu")[0]
    assert "How much did you pay" in phone.send("nepal")[0]
    assert phone.send("I paid rs 1,50,000 and they took my passport")[0] == (
        "Thank you. This is added to your report."
    )

    case = newest_case(runtime)
    assert (case.affected, case.on_behalf, case.severity) == ("few", False, "P1")
    row = recruitment_row(runtime, case.id)
    assert row is not None
    assert (row.country, row.fee_amount, row.fee_currency) == ("NP", Decimal("150000"), "NPR")
    assert recruitment.worker_words(runtime, row) == {
        "agency": "Global Manpower Pvt Ltd, Kathmandu",
        "recruited_in": "nepal",
        "fee": "I paid rs 1,50,000 and they took my passport",
    }
    # The worker's words are never stored in clear, nor kept in the conversation's state.
    assert "Global Manpower" not in all_rows_text(runtime)


def test_every_question_can_be_skipped_and_many_raises_the_severity(
    runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone, category="8")  # housing: P2, no recruitment questions
    case = newest_case(runtime)
    assert case.severity == "P2"
    ask(runtime, phone)
    assert phone.send("3")[0] == "Thank you. This is added to your report."
    case = newest_case(runtime)
    assert (case.affected, case.severity) == ("many", "P1")
    with runtime.sessions() as session:
        kinds = session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "affected" in kinds

    phone2 = Phone(phone.client, phone.fake, "+9779800000002")
    fees_report(phone2)
    second = newest_case(runtime)
    ask(runtime, phone2)
    assert "Who recruited you" in phone2.send("0")[0]
    assert "In which country" in phone2.send("0")[0]
    assert "How much did you pay" in phone2.send("0")[0]
    assert phone2.send("0")[0] == "Thank you. This is added to your report."
    second = newest_case(runtime)
    assert (second.affected, second.on_behalf, second.severity) == (None, False, "P1")
    assert recruitment_row(runtime, second.id) is None  # nothing said, nothing stored


def test_a_report_for_someone_else_is_marked_and_news_goes_to_the_sender(
    runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone, category="8")
    ask(runtime, phone)
    assert phone.send("4")[0] == "Thank you. This is added to your report."
    case = newest_case(runtime)
    assert case.on_behalf
    assert case.affected is None
    assert case.contact_id is not None  # status news goes to the sender, who has the code


def test_a_silent_worker_is_asked_once_and_words_at_the_menu_reach_the_case(
    runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone, category="8")
    case = newest_case(runtime)
    ask(runtime, phone)
    assert send_due_prompts(runtime, utcnow() + timedelta(days=1)) == 0  # asked once only
    with runtime.sessions() as session:
        prompt = session.scalars(
            select(WorkerPrompt).where(
                WorkerPrompt.case_id == case.id, WorkerPrompt.kind == "details"
            )
        ).one()
        assert prompt.sent_at is not None
    # Words that name no option are not lost: they land on the case, unread, for a person.
    assert phone.send("the manager also took our phones") == [
        "Thank you. This is added to your report."
    ]
    assert newest_case(runtime).unread_worker_messages == 1


def test_on_whatsapp_past_the_window_the_questions_are_not_sent_as_a_notice(
    runtime: Runtime, client: FlaskClient, fake_twilio: FakeTwilio
) -> None:
    """Held up past WhatsApp's 24 hours (busy with another report, say), the optional
    questions are dropped rather than sent as a template that reads "there is an update on
    your report"."""
    from sqlalchemy import update

    from grievance.models import Contact

    whatsapp = Phone(client, fake_twilio, "+9779800000123", channel="whatsapp")
    report(whatsapp)
    case = newest_case(runtime)
    with runtime.sessions() as session:
        session.execute(update(Contact).values(last_inbound_at=utcnow() - timedelta(hours=25)))
        session.commit()
    sent_before = len(fake_twilio.messages)
    assert send_due_prompts(runtime, utcnow() + timedelta(hours=26)) == 0
    assert len(fake_twilio.messages) == sent_before
    with runtime.sessions() as session:
        prompt = session.scalars(
            select(WorkerPrompt).where(
                WorkerPrompt.case_id == case.id, WorkerPrompt.kind == "details"
            )
        ).one()
        assert (prompt.sent_at, prompt.skipped) == (None, "outside_window")
