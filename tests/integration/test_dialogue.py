"""A worker reaches a person, through signed webhooks and the handlers' pages, on SQLite and
PostgreSQL: words after the code land on the case unread, a handler's question waits for its
answer, a request for a person is a queue item, danger acts at once and alerts staff, a
retaliation told in words becomes a case, STOP and START keep the worker's report."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grievance.clock import utcnow
from grievance.config import Settings
from grievance.contacts import HelpContact
from grievance.models import (
    INBOUND,
    Attachment,
    AuditEvent,
    CallRequest,
    Case,
    Message,
    User,
    WorkerPrompt,
)
from grievance.runtime import Runtime, build_runtime
from grievance.services.prompts import send_due_prompts
from tests.conftest import Phone
from tests.support.api import api, token_for
from tests.support.cases import make_cases, queue_ids
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import CODE, report
from tests.support.privacy import all_rows_text
from tests.support.staff import act, handler
from tests.support.timers import time_out

ACK = "Your message is added to your report"
CONTACTS = (
    HelpContact("Police", "999", kind="police", emergency=True),
    HelpContact(
        "Embassy of Nepal", "+60 3-2020 1898", kind="embassy", emergency=True, languages=("ne",)
    ),
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The line of these tests lists emergency numbers (GRIEVANCE_CONTACTS_FILE)."""
    return settings.with_overrides(contacts=CONTACTS)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def cases_of(runtime: Runtime) -> list[Case]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def the_case(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def sent_mails(runtime: Runtime) -> list[tuple[list[str], str, str]]:
    return list(runtime.mailer.sent)  # type: ignore[attr-defined]


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_words_after_the_code_land_on_the_case_unread_and_go_first_in_the_queue(
    app: Flask, runtime: Runtime, phone: Phone, fake_twilio: FakeTwilio, client: FlaskClient
) -> None:
    report(phone)  # FL-FEE, P1
    (case,) = cases_of(runtime)
    # Another P1 case, due sooner: without the worker's words it would come first.
    (other,) = make_cases(runtime, [("P1", "Another factory", 1)])
    staff = handler(app, runtime)
    assert queue_ids(staff.get("/cases").get_data(as_text=True)) == [other, case.id]

    assert ACK in phone.send("They paid back only half. The agent says the rest next month.")[0]
    assert phone.send("I forgot to say, three of us paid the same agent") == []  # told once
    url = fake_twilio.add_media("payslip", b"\xff\xd8 a pay slip", "image/jpeg")
    assert phone.send("", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg") == []
    assert len(cases_of(runtime)) == 2  # no new report was started

    landed = the_case(runtime, case.id)
    assert landed.unread_worker_messages == 3
    assert landed.attention == 0
    assert landed.last_worker_message_at is not None
    with runtime.sessions() as session:
        attachment = session.scalars(select(Attachment)).one()
        assert attachment.case_id == case.id  # the photo is on the case, downloadable

    # The queue puts the worker who wrote first within the severity, flagged.
    queue = staff.get("/cases").get_data(as_text=True)
    assert queue_ids(queue) == [case.id, other]
    assert "worker replied (3 unread)" in queue
    assert queue_ids(staff.get("/cases?replied=1").get_data(as_text=True)) == [case.id]
    token = token_for(runtime, "api@example.org", "handler")
    listed = {c["id"]: c for c in api(client, token, "GET", "/cases").json["cases"]}
    assert listed[case.id]["unread_worker_messages"] == 3
    assert listed[case.id]["handover_requested"] is False
    assert listed[case.id]["last_worker_message_at"]
    assert "paid back" not in str(api(client, token, "GET", f"/cases/{case.id}").json)

    # The handler reads them; opening the case marks them read.
    page = text_of(staff.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "3 new messages from the worker" in page
    assert "They paid back only half" in page
    assert "three of us paid the same agent" in page
    assert the_case(runtime, case.id).unread_worker_messages == 0
    assert "worker replied" not in staff.get("/cases").get_data(as_text=True)
    assert queue_ids(staff.get("/cases").get_data(as_text=True)) == [other, case.id]

    # A new report still starts with MENU.
    assert "This line is confidential" in phone.send("MENU")[0]


def test_a_handler_question_waits_for_the_answer_and_help_now_acts_at_once(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    handler(app, runtime, "admin@example.org", role="admin")
    phone.replies()
    act(staff, case.id, "message", canned="handler.are_you_safe")
    assert phone.replies() == ["Are you safe now? Reply 1 if you are safe, 2 if you need help now."]
    runtime.mailer.sent.clear()  # type: ignore[attr-defined]

    replies = phone.send("2, I need help now")
    assert "We will treat your report as urgent" in replies[0]
    assert "If you need help now, call: Police 999" in replies[0]
    assert "Embassy of Nepal" not in replies[0]  # for Nepali speakers only

    urgent = the_case(runtime, case.id)
    assert urgent.severity == "P0"
    assert urgent.handover_requested_at is not None
    assert urgent.due_at is not None
    assert urgent.due_at - utcnow() <= timedelta(hours=1)  # the P0 time frame
    # Staff are alerted now: every admin and handler, with the case number and a link only.
    ((to, subject, body),) = sent_mails(runtime)
    assert sorted(to) == ["admin@example.org", "h@example.org"]
    assert subject == f"URGENT - case #{case.id}: the worker may be in danger now (P0)"
    assert f"/cases/{case.id}" in body
    assert "help" not in body.split("\n", 1)[1]  # nothing the worker wrote

    page = text_of(staff.get(f"/cases/{case.id}").get_data(as_text=True))
    assert 'The worker answered "are you safe now?": needs help now' in page
    assert "The worker asked for a person" in page

    # Any message from a handler answers the request for a person.
    act(staff, case.id, "message", canned="", text="We are calling you in 10 minutes.")
    assert phone.replies() == ["We are calling you in 10 minutes."]
    assert the_case(runtime, case.id).handover_requested_at is None


def test_a_handler_question_does_not_cut_into_a_report_being_written(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    phone.send("MENU")
    assert "What is the problem about" in phone.send("1")[0]  # a second report, at the category
    act(staff, case.id, "message", canned="", text="Which agency was it?", question="1")
    assert phone.replies() == ["Which agency was it?"]
    (answer,) = phone.send("Sagarmatha Manpower in Kathmandu")  # one SMS for one step
    assert answer.startswith("Thank you. A case handler will read your answer.")
    assert "What is the problem about" in answer  # the report goes on where it was
    with runtime.sessions() as session:
        landed = session.scalars(
            select(Message.case_id).where(Message.direction == INBOUND).order_by(Message.id.desc())
        ).first()
    assert landed == case.id
    page = text_of(staff.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "The worker answered the handler's question" in page
    assert "Sagarmatha Manpower" in page


def test_help_then_yes_with_no_case_is_a_queue_item_that_the_report_then_fills(
    app: Flask, runtime: Runtime, phone: Phone, client: FlaskClient
) -> None:
    staff = handler(app, runtime)
    assert "Do you want a person to write to you here?" in phone.send("HELP")[-1]
    assert phone.send("ok") == ["A case handler will write to you here soon."]
    (requested,) = cases_of(runtime)
    assert requested.status == "requested"
    assert requested.category is None
    assert requested.handover_requested_at is not None
    assert not requested.code_issued  # nothing to follow with a code yet
    queue = staff.get("/cases").get_data(as_text=True)
    assert requested.id in queue_ids(queue)
    assert "person requested" in queue
    token = token_for(runtime, "api@example.org", "handler")
    listed = api(client, token, "GET", "/cases?status=requested").json["cases"]
    assert [(c["id"], c["handover_requested"]) for c in listed] == [(requested.id, True)]
    assert any("asked for a person" in subject for _, subject, _ in sent_mails(runtime))

    # The worker goes on to make a report: it fills the same case, and gives the code then.
    assert "Do you want to report" in phone.send("MENU")[-1]  # in HELP's language
    code = finish_intake(phone)
    (filled,) = cases_of(runtime)
    assert filled.id == requested.id
    assert (filled.status, filled.category, filled.code_issued) == ("received", "FL-FEE", True)
    assert "received" in phone.send(f"STATUS {code}")[0]


def finish_intake(phone: Phone) -> str:
    """From the consent question to the code, in English (FL-FEE, not in danger, no news)."""
    assert "What is the problem about" in phone.send("1")[0]
    assert "Where do you work" in phone.send("2")[0]
    assert "What happened" in phone.send("Sunrise Garments, Penang")[0]
    assert "danger" in phone.send("The agent took 3000 dollars for this job")[0]
    assert "news" in phone.send("2")[0]
    match = CODE.search(" ".join(phone.send("2")))
    assert match
    return match.group(1)


OFFER = "Do you want a person to write to you here? Reply 1 for yes or 2 for no."
COMING = "A case handler will write to you here soon."


def test_asking_for_a_person_in_words_is_offered_one_and_asking_again_is_not_asked_twice(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    # The first message of someone with no case: no HELP keyword, just their words.
    assert phone.send("Hello, can someone call me please?") == [OFFER]
    assert phone.send("yes") == [COMING]
    (requested,) = cases_of(runtime)
    assert (requested.status, requested.code_issued) == ("requested", False)
    assert requested.handover_requested_at is not None
    staff = handler(app, runtime)
    assert "person requested" in staff.get("/cases").get_data(as_text=True)

    # Asked again before anyone wrote: the request stands, and the words reach the case.
    replies = phone.send("I want to talk to a real person")
    assert replies[0].startswith(COMING)
    assert OFFER not in " ".join(replies)
    assert len(cases_of(runtime)) == 1
    page = text_of(staff.get(f"/cases/{requested.id}").get_data(as_text=True))
    assert "I want to talk to a real person" in page
    assert "The worker asked for a person in their own words" in page
    # HELP too: what the line is, and that the person is coming; no second offer.
    help_replies = " ".join(phone.send("HELP"))
    assert "This is a confidential line" in help_replies
    assert COMING in help_replies
    assert OFFER not in help_replies

    # A handler writes: the request is answered, and a new one is offered again.
    act(staff, requested.id, "message", canned="", text="Hello, I am Mina. How can I help?")
    assert phone.replies() == ["Hello, I am Mina. How can I help?"]
    assert the_case(runtime, requested.id).handover_requested_at is None
    assert phone.send("can you call me tonight") == [OFFER]


def test_asking_for_a_person_in_the_middle_of_a_report_then_the_report_goes_on(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    # Romanized Nepali, at the workplace question: offered a person in Nepali, then back.
    assert "उजुरी गर्नुहुन्छ?" in phone.send("namaste malai sahayog chahiyo")[-1]
    assert "कुन समस्या?" in phone.send("ho")[0]
    assert "कहाँ काम गर्नुहुन्छ?" in phone.send("1")[0]
    (offer,) = phone.send("manche sanga kura garna chahanchu")
    assert offer.startswith("के तपाईं हाम्रो कर्मचारीसँग यहीँ कुरा गर्न चाहनुहुन्छ?")
    (reply,) = phone.send("ho")
    assert reply.startswith("केस हेर्ने कर्मचारीले चाँडै तपाईंलाई यहीँ लेख्नेछन्।")
    assert reply.endswith("कहाँ काम गर्नुहुन्छ? कम्पनी वा कारखानाको नाम र सहर लेख्नुहोस्।")
    (requested,) = cases_of(runtime)
    assert requested.handover_requested_at is not None
    # The request was not taken for the workplace; the report fills the same case.
    assert "तपाईं अहिले खतरामा" not in phone.send("Sunrise Garments, Penang")[0]
    (same,) = cases_of(runtime)
    assert same.id == requested.id


def test_a_no_to_the_offer_of_a_person_starts_a_report_that_keeps_the_words(
    runtime: Runtime, phone: Phone
) -> None:
    story = "The agent said he would call me and took 3000 dollars for this job"
    assert phone.send(story) == [OFFER]
    assert "Do you want to report?" in phone.send("2")[-1]  # no person, and no words dropped
    phone.send("1")
    phone.send("2")
    assert phone.send("Sunrise Garments, Penang")[0].startswith('You wrote: "The agent said')
    assert cases_of(runtime) == []  # nobody was asked for


def test_a_story_that_mentions_a_call_is_kept_when_the_offer_of_a_person_is_declined(
    runtime: Runtime, phone: Phone
) -> None:
    phone.send("hi")
    phone.send("1")
    phone.send("2")
    assert "What happened" in phone.send("Sunrise Garments, Penang")[0]
    story = "The agent took 3000 dollars and said he would call me when the visa is ready"
    assert phone.send(story) == [OFFER]
    assert "Are you in danger right now" in phone.send("2")[0]  # the story answered it
    phone.send("2")
    assert CODE.search(" ".join(phone.send("2")))
    (case,) = cases_of(runtime)
    assert case.handover_requested_at is None
    assert case.description_encrypted is not None
    assert story in runtime.protector.decrypt(case.description_encrypted)


def test_silence_after_the_offer_of_a_person_still_brings_one(
    runtime: Runtime, phone: Phone
) -> None:
    assert phone.send("they call me at night and i want to talk to someone") == [OFFER]
    time_out(runtime)  # an hour passes without an answer
    assert phone.replies() == [COMING]
    (requested,) = cases_of(runtime)
    assert requested.handover_requested_at is not None
    with runtime.sessions() as session:  # what they wrote is on it, for the person to read
        on_case = session.scalars(select(Message.case_id).where(Message.direction == INBOUND))
        assert list(on_case) == [requested.id]


def test_danger_in_the_first_message_makes_a_p0_case_at_once(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    handler(app, runtime)
    first = phone.send("please help me I am in danger, madam beat me and locked me in the room")
    assert first == ["Are you in danger right now? Reply 1 for yes or 2 for no."]
    assert cases_of(runtime) == []  # a word is a reason to ask, never a verdict
    replies = phone.send("1")
    assert "We will treat your report as urgent" in replies[0]
    assert "Police 999" in replies[0]
    (case,) = cases_of(runtime)  # at once, before any other question
    assert (case.severity, case.in_danger) == ("P0", True)
    assert case.handover_requested_at is not None
    words = runtime.protector.decrypt(case.description_encrypted)  # type: ignore[arg-type]
    assert "madam beat me and locked me in the room" in words
    assert any(subject.startswith("URGENT") for _, subject, _ in sent_mails(runtime))
    assert "Do you want to report?" in replies[-1]  # and they may tell us more


def test_an_unreadable_answer_to_the_danger_question_goes_to_a_person(
    runtime: Runtime, phone: Phone
) -> None:
    phone.send("hi")
    phone.send("1")
    phone.send("3")
    assert "Are you in danger right now" in phone.send("I am in danger")[0]
    assert (
        "Please reply 1 for yes or 2 for no" in phone.send("no idea")[0]
    )  # no clear no: asked again
    replies = phone.send("what")
    assert "We are not sure you are safe" in replies[0]
    (case,) = cases_of(runtime)
    assert case.severity == "P0"  # possible danger, never "not in danger"
    assert case.handover_requested_at is not None
    assert "Where do you work" in replies[-1]  # the report goes on


def closed_case(runtime: Runtime, phone: Phone) -> Case:
    report(phone)
    (case,) = cases_of(runtime)
    with runtime.sessions() as session:
        session.execute(
            update(Case).values(
                status="closed", closed_at=utcnow(), due_at=None, outcome="resolved"
            )
        )
        session.commit()
    phone.replies()
    return the_case(runtime, case.id)


def test_a_checkin_answered_in_words_opens_a_retaliation_case_carrying_them(
    runtime: Runtime, phone: Phone
) -> None:
    case = closed_case(runtime, phone)
    with runtime.sessions() as session:
        session.add(WorkerPrompt(case_id=case.id, kind="checkin_30", due_at=utcnow()))
        session.commit()
    assert send_due_prompts(runtime) == 1
    (question,) = phone.replies()
    assert "Reply 1 for yes or 2 for no" in question
    opened = phone.send("the supervisor shouts at me and says I will be sent home")
    assert "We opened a new report about this" in opened[0]
    ret = next(c for c in cases_of(runtime) if c.id != case.id)
    assert (ret.category, ret.severity, ret.linked_case_id) == ("RET", "P1", case.id)
    words = runtime.protector.decrypt(ret.description_encrypted)  # type: ignore[arg-type]
    assert "says I will be sent home" in words


def test_retaliation_told_after_closing_is_asked_about_and_becomes_a_linked_case(
    runtime: Runtime, phone: Phone
) -> None:
    case = closed_case(runtime, phone)
    asked = phone.send("because I complained they will not renew my contract")
    assert asked == [
        "Is someone treating you badly because you made a report? Reply 1 for yes or 2 for no."
    ]
    assert "We opened a new report about this" in phone.send("1")[0]
    ret = next(c for c in cases_of(runtime) if c.id != case.id)
    assert (ret.category, ret.severity, ret.linked_case_id) == ("RET", "P1", case.id)
    with runtime.sessions() as session:
        words = session.scalars(select(Message.case_id).where(Message.direction == INBOUND)).all()
    assert words[-2:] == [ret.id, ret.id]  # the words and the yes are on the new case


def test_stop_then_hello_then_start_keeps_the_report_and_answers_truthfully(
    runtime: Runtime, phone: Phone
) -> None:
    phone.send("hello")
    phone.send("1")  # consent; now at the category question
    stopped = phone.send("STOP")
    assert stopped == ["You will get no more messages from us. Send START to get messages again."]
    assert "Send START" in phone.send("hello")[0]  # one short reminder...
    assert phone.send("hello?") == []  # ... at most once a day
    (started,) = phone.send("START")
    assert started.startswith("Welcome back. Let us continue your report.")
    assert "What is the problem about" in started
    assert "Where do you work" in phone.send("2")[0]
    # A worker with an open report hears that it stays open.
    other = Phone(phone.client, phone.fake, "+9779800000002")
    report(other)
    assert "Your report stays open" in other.send("STOP")[0]


def test_categorising_a_received_case_acknowledges_it_and_tells_the_worker(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    phone.replies()
    act(staff, case.id, "categorise", category="FL-FEE", indicators=[])
    after = the_case(runtime, case.id)
    assert after.acknowledged_at is not None
    assert after.status == "in_triage"
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    page = text_of(staff.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "Stage: received → acknowledged" in page
    assert "Categorised as Forced labour: recruitment fees" in page


@pytest.mark.parametrize(
    "words",
    [
        "they paid back only half",
        # Asking for a person chooses option 3 at once: no second question about a person.
        "I want to talk to someone",
    ],
)
def test_the_remedy_question_fits_the_case_and_words_in_answer_reach_a_person(
    app: Flask, runtime: Runtime, phone: Phone, words: str
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    act(staff, case.id, "categorise", category="WAGE", indicators=[])
    with runtime.sessions() as session:  # the worker declined news: still asked
        session.execute(update(Case).values(wants_updates=False))
        session.commit()
    phone.replies()
    page = act(staff, case.id, "propose")
    assert "we think the problem is solved" in page
    send_due_prompts(runtime)
    (asked,) = phone.replies()
    assert "we think the problem is solved" in asked  # no company fixed it: no such claim
    assert "the company says" not in asked
    replies = phone.send(words)
    assert replies == ["A case handler will contact you soon."]  # words go to a person at once
    after = the_case(runtime, case.id)
    assert (after.status, after.worker_answer) == ("in_triage", "person")
    assert after.handover_requested_at is not None
    page = text_of(staff.get(f"/cases/{case.id}").get_data(as_text=True))
    assert words in page


def test_a_case_with_a_supplier_is_proposed_only_after_the_plan_is_verified(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    from grievance.auth import accounts

    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        session.commit()
        supplier_id = supplier.id
    act(staff, case.id, "categorise", category="FL-FEE", indicators=[])
    act(
        staff,
        case.id,
        "supplier",
        supplier=supplier_id,
        summary="A worker reports paying recruitment fees to an agency at home.",
    )
    page = act(staff, case.id, "propose")
    assert "the supplier has no plan yet" in page
    assert "Ask the worker whether it is solved" not in page
    assert the_case(runtime, case.id).status == "with_supplier"


def test_a_call_on_a_safer_number_is_revealed_only_to_the_handler_on_the_case(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    staff = handler(app, runtime)
    other = handler(app, runtime, "other@example.org")
    act(staff, case.id, "message", canned="handler.call_offer")
    phone.replies()
    assert "Shall we call this number?" in phone.send("after 8pm please")[0]
    safe = "+60 12-345 6789"
    assert phone.send(f"call my sister {safe}") == [
        "Thank you. A case handler will call you at the time you gave."
    ]
    with runtime.sessions() as session:
        request = session.scalars(select(CallRequest)).one()
        request_id = request.id
    for form in (safe, "60123456789", "0123456789"):
        assert form not in all_rows_text(runtime)  # encrypted, and never in the state
    page = staff.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "after 8pm please" in page
    assert "on another, safer number" in page
    # The number is nowhere in what the page shows (random tokens in attributes may hold any
    # four digits, so markup is left out of the comparison).
    shown = re.sub(r"<[^>]*>", " ", page).replace(str(request_id), "")
    assert "6789" not in shown

    def reveal(client: FlaskClient) -> str:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', client.get(f"/cases/{case.id}").get_data(True)
        ).group(1)  # type: ignore[union-attr]
        response = client.post(
            f"/cases/{case.id}/calls/{request_id}/reveal", data={"csrf_token": token}
        )
        return response.get_data(as_text=True)

    assert "+60123456789" not in reveal(other)  # not the handler on the case
    with runtime.sessions() as session:
        staff_id = session.scalar(select(User.id).where(User.email == "h@example.org"))
    act(staff, case.id, "assign", assignee=staff_id)
    shown = reveal(staff)
    assert "+60123456789" in shown
    with runtime.sessions() as session:
        audits = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "call_number_revealed")
        ).all()
        assert audits == ["call_number_revealed"]
        assert session.get(CallRequest, request_id).reveals == 1  # type: ignore[union-attr]


def test_a_message_moves_to_another_case_of_the_same_worker_only(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    phone.send("MENU")
    finish_intake(phone)
    first, second = cases_of(runtime)
    phone.send("this is about the first report: they paid back")
    with runtime.sessions() as session:
        message = session.scalars(
            select(Message).where(Message.direction == INBOUND).order_by(Message.id.desc())
        ).first()
        assert message is not None
        assert message.case_id == second.id  # the case the worker was last active on
        message_id = message.id
    staff = handler(app, runtime)
    act(staff, second.id, f"messages/{message_id}/move", to=first.id)
    with runtime.sessions() as session:
        assert session.get(Message, message_id).case_id == first.id  # type: ignore[union-attr]
    (stranger,) = make_cases(runtime, [("P3", "Elsewhere", 5)])
    page = act(staff, first.id, f"messages/{message_id}/move", to=stranger)
    assert "another case of the same worker" in page
    with runtime.sessions() as session:
        assert session.get(Message, message_id).case_id == first.id  # type: ignore[union-attr]


def test_a_number_typed_with_dots_or_parentheses_is_hidden_on_the_case_page(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    (case,) = cases_of(runtime)
    phone.send("my boss number is 012.345.6789 and the agent (012) 345.6789, salary 12000")
    page = handler(app, runtime).get(f"/cases/{case.id}").get_data(as_text=True)
    shown = html.unescape(re.sub(r"<[^>]*>", " ", page))
    assert "my boss number is [phone number hidden] and the agent [phone number hidden]" in shown
    assert "salary 12000" in shown  # an amount is not a number to hide
    assert "345" not in shown.replace(str(case.id), "")
