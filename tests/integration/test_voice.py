"""The voice door: signed Twilio Voice webhooks walk the same flows as an SMS, by keypad and
spoken story; the code is said and sent by SMS only on request; STATUS by phone; nothing
heard; a person in and out of staffed hours; status callbacks; and the canary."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grievance.app import create_app
from grievance.config import PROJECT_ROOT, Settings
from grievance.models import Attachment, Case, Message, VoiceCall, VoiceCallEvent
from grievance.runtime import Runtime, build_runtime
from grievance.services import dialogue
from tests.conftest import PUBLIC_URL, environment
from tests.support.fake_twilio import AUTH_TOKEN, FakeTwilio
from tests.support.privacy import all_rows_text
from tests.support.signing import signature
from tests.support.voice import VOICE_NUMBER, WAV, Caller, said, spoken

CANARY = "+9779841315926"
CANARY_FORMS = [CANARY, CANARY[1:], "9841315926", "984 131 5926"]
STAFFED = "+15005550077"
SPOKEN_CODE = re.compile(r"(\d \d \d \d), (\d \d \d \d), (\d \d \d \d)\.")

# What a caller hears in each language at the steps the tests check.
WORDS = {
    "en": {"yes": "Press 1 for Yes.", "category": "What is the problem about?",
           "pressed": "You pressed 5", "record": "Speak after the beep",
           "danger": "danger right now", "code": "Your case code is",
           "sms": "sent your case code by SMS"},
    "ne": {"yes": "1 थिच्नुहोस्", "category": "समस्या केको बारेमा हो?",
           "pressed": "तपाईंले 5 थिच्नुभयो", "record": "बिप पछि बोल्नुहोस्",
           "danger": "खतरामा", "code": "केस कोड हो", "sms": "SMS मा पठायौं"},
    "my": {"yes": "1 ကို နှိပ်ပါ", "category": "ဘာပြဿနာလဲ",
           "pressed": "သင် 5 ကို နှိပ်ခဲ့တယ်", "record": "ဘိပ်သံ",
           "danger": "အန္တရာယ်", "code": "ကုဒ်နံပါတ်က", "sms": "SMS နဲ့ ပို့ပြီးပါပြီ"},
}  # fmt: skip
LANGUAGE_KEY = {"en": "1", "ne": "2", "my": "3"}


def voice_runtime(database_url: str, tmp_path: Path, fake: FakeTwilio, **extra: str) -> Runtime:
    """A Twilio deployment in en, ne, my with the voice settings ``extra``."""
    env = environment(database_url, tmp_path / "instance", fake, **extra)
    return build_runtime(Settings.from_env(env))


@pytest.fixture
def rt(database_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Runtime]:
    """A line whose staffed number answers around the clock."""
    runtime = voice_runtime(
        database_url,
        tmp_path,
        fake_twilio,
        GRIEVANCE_VOICE_STAFFED_NUMBER=STAFFED,
        GRIEVANCE_VOICE_STAFFED_HOURS="mon-sun 00:00-24:00",
        GRIEVANCE_VOICE_TIMEZONE="Asia/Kathmandu",
    )
    yield runtime
    runtime.close()


@pytest.fixture
def voice_client(rt: Runtime) -> FlaskClient:
    app: Flask = create_app(runtime=rt)
    app.testing = True
    return app.test_client()


def caller(client: FlaskClient, fake: FakeTwilio, number: str = CANARY) -> Caller:
    return Caller(client, fake, number, PUBLIC_URL)


def count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def report_by_voice(call: Caller, language: str) -> str:
    """Walk the intake by phone in ``language``; returns the case code as heard."""
    words = WORDS[language]
    menu = call.call()
    gather = menu.find("Gather")
    assert gather is not None
    # Each language is offered in its own words.
    options = said(menu)
    assert options[0] == "For English, press 1."
    assert "नेपाली" in options[1]
    assert "2" in options[1]
    assert "မြန်မာ" in options[2]
    assert "3" in options[2]
    menu = call.press(LANGUAGE_KEY[language])
    assert "2" in spoken(menu)  # the main menu, in the language chosen
    consent = call.press("1")
    assert words["yes"] in spoken(consent)
    assert consent.find("Gather") is not None
    category = call.press("1")
    assert words["category"] in spoken(category)
    assert len(said(category)) >= 10  # the question and one sentence per option
    workplace = call.press("5")
    assert words["pressed"] in spoken(workplace)
    assert words["record"] in spoken(workplace)
    record = workplace.find("Record")
    assert record is not None
    assert record.get("maxLength") == "120"
    assert record.get("finishOnKey") == "#"
    assert record.get("playBeep") == "true"
    assert record.get("transcribe") in (None, "false")
    story = call.speak()
    assert story.find("Record") is not None
    danger = call.speak()
    assert words["danger"] in spoken(danger)
    updates = call.press("2")
    assert updates.find("Gather") is not None
    final = call.press("2")
    text = spoken(final)
    assert words["code"] in text
    codes = SPOKEN_CODE.findall(text)
    assert len(codes) == 2
    assert codes[0] == codes[1]
    return " ".join("".join(group.split()) for group in codes[0])


@pytest.mark.parametrize("language", ["en", "ne", "my"])
def test_a_worker_reports_by_phone_in_their_language(
    language: str, voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    call = caller(voice_client, fake_twilio)
    code = report_by_voice(call, language)
    # Nothing is sent by SMS unless the caller asks for it.
    assert fake_twilio.bodies_to(CANARY) == []
    again = call.press("1")
    assert code.replace(" ", "") in spoken(again).replace(" ", "").replace(",", "")
    sent = call.press("2")
    assert WORDS[language]["sms"] in spoken(sent)
    assert sent.find("Hangup") is not None
    [sms] = fake_twilio.bodies_to(CANARY)
    assert code in sms
    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.category == "OSH"
        assert case.language == language
        attachments = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        # Both spoken answers are on the case, encrypted, and gone from Twilio.
        assert [a.status for a in attachments] == ["stored", "stored"]
        assert all(a.data_encrypted and WAV not in a.data_encrypted for a in attachments)
        assert rt.protector.decrypt_bytes(attachments[0].data_encrypted or b"") == WAV
    assert len(fake_twilio.deleted_recordings) == 2
    assert fake_twilio.recordings == {}


def test_the_code_is_heard_again_and_status_by_phone_uses_the_keypad(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    from grievance import casecode

    code = report_by_voice(caller(voice_client, fake_twilio), "en")
    # Another phone, calling about the case: press 2, then type the code.
    other = caller(voice_client, fake_twilio, "+9779800000001")
    other.call()
    other.press("1")
    asked = other.press("2")
    assert "12-digit case code" in spoken(asked)
    gather = asked.find("Gather")
    assert gather is not None
    assert gather.get("finishOnKey") == "#"
    heard = spoken(other.press(code.replace(" ", "") + "#"))
    assert "received" in heard
    # The code typed on the keypad is read, then forgotten.
    with rt.sessions() as session:
        bodies = [
            rt.protector.decrypt(m.body_encrypted)
            for m in session.scalars(select(Message).where(Message.channel == "voice"))
            if m.body_encrypted is not None
        ]
    assert bodies
    assert not any(code.replace(" ", "") in body for body in bodies)
    # A wrong code is answered as by SMS.
    third = caller(voice_client, fake_twilio, "+9779800000002")
    third.call()
    third.press("1")
    third.press("2")
    wrong = "12345678901" + casecode.check_digit("12345678901")
    assert "could not find" in spoken(third.press(wrong))


def test_wrong_codes_by_sms_lock_status_by_phone_too(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    from grievance import casecode

    number = "+9779800000003"
    sms_form = {"AccountSid": "AC" + "0" * 32, "From": number, "To": "+15005550006"}
    for i in range(rt.settings.wrong_codes_per_sender_per_hour):
        wrong = f"{i:011d}"
        body = f"STATUS {wrong}{casecode.check_digit(wrong)}"
        form = sms_form | {"MessageSid": f"SM{i:032x}", "Body": body, "NumMedia": "0"}
        sig = signature(AUTH_TOKEN, PUBLIC_URL + "/twilio/messaging", form)
        voice_client.post("/twilio/messaging", data=form, headers={"X-Twilio-Signature": sig})
    call = caller(voice_client, fake_twilio, number)
    call.call()
    call.press("1")
    call.press("2")
    last = "99999999999"
    assert "Too many wrong codes" in spoken(call.press(last + casecode.check_digit(last) + "#"))


def test_no_key_pressed_repeats_once_then_offers_a_person_or_a_call_back(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    call = caller(voice_client, fake_twilio)
    call.call()
    call.press("2")
    menu = call.press("1")  # Nepali: do you want to report?
    first = said(menu)
    again = call.silent()
    assert said(again)[0] == "कुनै नम्बर थिचेको सुनिएन।"
    assert said(again)[1:] == first  # the same question, once more
    offer = call.silent()
    assert "0 थिच्नुहोस्" in spoken(offer)
    assert "9 थिच्नुहोस्" in spoken(offer)
    # Nothing heard was no answer: no report, no "no".
    assert count(rt, Case) == 0
    when = call.press("9")
    assert "बिहानको लागि 1" in spoken(when)  # when is it safe to call you?
    done = call.press("2")
    assert done.find("Hangup") is not None
    from grievance.models import CallRequest

    with rt.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.status == "requested"
        assert case.handover_requested_at is not None
        [request] = session.scalars(select(CallRequest)).all()
        assert request.case_id == case.id
        assert rt.protector.decrypt(request.time_encrypted or b"").startswith("afternoon")


def test_press_0_in_staffed_hours_puts_the_call_through_showing_the_line(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    call = caller(voice_client, fake_twilio)
    call.call()
    call.press("1")
    call.press("1")  # consent asked
    answer = call.press("0")
    dial = answer.find("Dial")
    assert dial is not None
    number = dial.find("Number")
    assert number is not None
    assert number.text == STAFFED
    assert dial.get("callerId") == VOICE_NUMBER
    assert CANARY not in ET.tostring(answer, encoding="unicode")
    # 0 works from the very first question too.
    first = caller(voice_client, fake_twilio, "+9779800000011")
    first.call()
    assert first.press("0").find("Dial") is not None
    # Nobody picked up: a message is taken instead.
    dialed = call.post(f"{PUBLIC_URL}/twilio/voice/dialed", DialCallStatus="no-answer")
    assert dialed.find("Record") is not None


def test_press_0_outside_staffed_hours_leaves_a_message_for_a_person(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    runtime = voice_runtime(
        database_url,
        tmp_path,
        fake_twilio,
        GRIEVANCE_VOICE_STAFFED_NUMBER=STAFFED,
        GRIEVANCE_VOICE_STAFFED_HOURS="mon 00:00-00:01",
    )
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        call = caller(app.test_client(), fake_twilio)
        call.call()
        call.press("1")
        closed = call.press("0")  # at the main menu
        assert closed.find("Dial") is None
        assert "Leave a message" in spoken(closed)
        taken = call.speak()
        assert "will call you back" in spoken(taken)
        assert "When is it safe to call you?" in spoken(taken)
        assert "will call you back" in spoken(call.silent())  # no time chosen: any time
        with runtime.sessions() as session:
            case = session.scalars(select(Case)).one()
            assert case.status == "requested"
            assert case.handover_requested_at is not None
            stored = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
            assert [a.status for a in stored] == ["stored"]
    finally:
        runtime.close()


@pytest.mark.parametrize("language", ["en", "ne"])
def test_a_caller_chooses_the_hour_of_the_call_back(
    language: str, database_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    runtime = voice_runtime(
        database_url,
        tmp_path,
        fake_twilio,
        GRIEVANCE_VOICE_STAFFED_NUMBER=STAFFED,
        GRIEVANCE_VOICE_STAFFED_HOURS="mon 00:00-00:01",
        GRIEVANCE_VOICE_TIMEZONE="Asia/Kathmandu",
    )
    hear = {
        "en": ("To choose an hour, press 5.", "from 0 to 23", "at about 14 o'clock"),
        "ne": ("घण्टा छान्न 5 थिच्नुहोस्", "0 देखि 23 सम्म", "करिब 14 बजे"),
    }[language]
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        call = caller(app.test_client(), fake_twilio)
        call.call()
        call.press(LANGUAGE_KEY[language])
        call.press("0")  # a person, outside staffed hours: a message, then when to call
        when = call.speak()
        assert hear[0] in spoken(when)
        asked = call.press("5")
        assert hear[1] in spoken(asked)
        gather = asked.find("Gather")
        assert gather is not None
        assert gather.get("finishOnKey") == "#"
        # 25 is no hour: asked once more, nothing recorded yet.
        again = call.press("25#")
        assert hear[1] in spoken(again)
        assert again.find("Hangup") is None
        done = call.press("14#")
        assert hear[2] in spoken(done)
        assert done.find("Hangup") is not None
        with runtime.sessions() as session:
            case = session.scalars(select(Case)).one()
            [request] = dialogue.call_requests(session, runtime, case)
        # The handler sees the hour in the line's time zone.
        assert request["time"] == "about 14:00 Asia/Kathmandu (chosen on a call)"
    finally:
        runtime.close()


def test_an_hour_that_cannot_be_read_twice_leaves_the_call_back_at_any_time(
    database_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    runtime = voice_runtime(database_url, tmp_path, fake_twilio)
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        call = caller(app.test_client(), fake_twilio)
        call.call()
        call.press("1")
        call.press("0")
        call.speak()
        call.press("5")
        call.press("99#")
        ended = call.press("24")
        assert "will call you back" in spoken(ended)
        assert ended.find("Hangup") is not None
        with runtime.sessions() as session:
            case = session.scalars(select(Case)).one()
            [request] = dialogue.call_requests(session, runtime, case)
        assert request["time"] == "any time (chosen on a call)"
    finally:
        runtime.close()


def test_status_callbacks_are_recorded_once_and_the_end_forgets_the_code(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    call = caller(voice_client, fake_twilio)
    report_by_voice(call, "en")
    with rt.sessions() as session:
        assert session.scalars(select(VoiceCall)).one().code_encrypted is not None
    assert call.status("completed") == 204
    assert call.status("completed") == 204
    assert count(rt, VoiceCallEvent) == 1
    with rt.sessions() as session:
        ended = session.scalars(select(VoiceCall)).one()
        assert ended.code_encrypted is None
        assert ended.prompt_encrypted is None
    # An answer after the end is told goodbye, not a 5xx.
    assert (
        call.post(f"{PUBLIC_URL}/twilio/voice/answer?step=99", Digits="1").find("Hangup")
        is not None
    )


def test_bad_webhooks_get_4xx_or_a_spoken_answer_never_5xx(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    form = {"CallSid": "CA" + "1" * 32, "From": CANARY, "To": VOICE_NUMBER}
    assert voice_client.post("/twilio/voice", data=form).status_code == 403
    forged = signature("not-our-token", PUBLIC_URL + "/twilio/voice", form)
    assert (
        voice_client.post("/twilio/voice", data=form, headers={"X-Twilio-Signature": forged})
    ).status_code == 403
    bad_sid = form | {"CallSid": "not-a-sid"}
    sig = signature(AUTH_TOKEN, PUBLIC_URL + "/twilio/voice", bad_sid)
    assert (
        voice_client.post("/twilio/voice", data=bad_sid, headers={"X-Twilio-Signature": sig})
    ).status_code == 400
    call = caller(voice_client, fake_twilio)
    # A call the line never answered: told sorry.
    unknown = call.post(f"{PUBLIC_URL}/twilio/voice/answer?step=0", Digits="1")
    assert unknown.find("Hangup") is not None
    call.call()
    for digits in ("*", "99", "#", "\x00", "1" * 40):
        assert call.press(digits).find("Gather") is not None  # the menu again
    hidden = caller(voice_client, fake_twilio, "anonymous")
    assert "hides its number" in spoken(hidden.call())
    assert count(rt, Message) == 0


def test_canary_caller_appears_nowhere(
    voice_client: FlaskClient,
    rt: Runtime,
    fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    call = caller(voice_client, fake_twilio)
    code = report_by_voice(call, "ne")
    call.press("2")  # the code by SMS
    call.status("completed")
    digits = code.replace(" ", "")
    assert fake_twilio.bodies_to(CANARY)
    needles = [*CANARY_FORMS, digits, code]
    assert not any(n in all_rows_text(rt) for n in needles)
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert not any(n in logged for n in needles)
    # What the line answered Twilio (Twilio's request logs keep it) never names the caller.
    for answer in call.answers:
        assert not any(n in ET.tostring(answer, encoding="unicode") for n in CANARY_FORMS)
    # Recordings are gone from Twilio, and nothing was transcribed.
    assert fake_twilio.recordings == {}
    assert all(a.find(".//Record[@transcribe='true']") is None for a in call.answers)


MISSED = "+15005550010"


@pytest.fixture
def missed(database_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Runtime]:
    """A line with a missed-call number and a global cap of two callbacks an hour."""
    runtime = voice_runtime(
        database_url,
        tmp_path,
        fake_twilio,
        GRIEVANCE_MISSED_CALL_NUMBERS=f"+15005550011, {MISSED}",
        GRIEVANCE_VOICE_CALLBACKS_PER_HOUR="2",
    )
    yield runtime
    runtime.close()


def test_a_missed_call_is_rejected_and_called_back_within_limits(
    missed: Runtime, fake_twilio: FakeTwilio
) -> None:
    from grievance.models import Contact, VoiceCallback
    from grievance.runtime import run_job

    app = create_app(runtime=missed)
    app.testing = True
    client = app.test_client()
    worker = Caller(client, fake_twilio, CANARY, PUBLIC_URL, to=MISSED)
    rejected = worker.call()
    assert [child.tag for child in rejected] == ["Reject"]
    [placed] = fake_twilio.calls
    assert placed["To"] == CANARY
    assert placed["From"] == MISSED
    assert placed["Url"].startswith(f"{PUBLIC_URL}/twilio/voice/callback")
    # The worker picks up: the line's call runs the same phone menu.
    answered = Caller(client, fake_twilio, MISSED, PUBLIC_URL, to=CANARY, call_sid=placed["Sid"])
    menu = answered.post(placed["Url"])
    assert said(menu)[0] == "For English, press 1."
    assert "report a problem" in spoken(answered.press("1"))
    assert answered.status("in-progress") == 204
    # A second missed call within the hour is not called back again.
    Caller(client, fake_twilio, CANARY, PUBLIC_URL, to=MISSED).call()
    assert len(fake_twilio.calls) == 1
    # None to a number that opted out.
    with missed.sessions() as session:
        session.add(
            Contact(
                address_hash=missed.protector.address_hash("+9779800000005"),
                address_encrypted=missed.protector.encrypt("+9779800000005"),
                channel="sms",
                opted_out=True,
            )
        )
        session.commit()
    Caller(client, fake_twilio, "+9779800000005", PUBLIC_URL, to=MISSED).call()
    assert len(fake_twilio.calls) == 1
    # The global cap: a second number is called back, a third is not.
    Caller(client, fake_twilio, "+9779800000006", PUBLIC_URL, to=MISSED).call()
    Caller(client, fake_twilio, "+9779800000007", PUBLIC_URL, to=MISSED).call()
    assert [c["To"] for c in fake_twilio.calls] == [CANARY, "+9779800000006"]
    # A callback nobody answers is tried twice more, spaced out, then given up.
    second = fake_twilio.calls[1]
    for attempt in range(3):
        unanswered = Caller(
            client, fake_twilio, MISSED, PUBLIC_URL, call_sid=fake_twilio.calls[-1]["Sid"]
        )
        assert unanswered.status("no-answer") == 204
        queue = missed.queue
        delayed = list(getattr(queue, "delayed", []))
        getattr(queue, "delayed", []).clear()
        for _delay, job, args in delayed:
            run_job(missed, job, args)
        expected = 2 + min(attempt + 1, 2)
        assert len(fake_twilio.calls) == expected
    assert all(c["To"] == second["To"] for c in fake_twilio.calls[1:])
    with missed.sessions() as session:
        statuses = sorted(c.status for c in session.scalars(select(VoiceCallback)))
    assert statuses == ["answered", "given_up", "refused", "refused"]


def test_a_handler_plays_a_spoken_story_from_the_audited_endpoint(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    # The web side only: SQLite is enough (the intake runs on both databases above).
    from grievance.models import AuditEvent
    from tests.support.staff import handler

    rt = voice_runtime(sqlite_url, tmp_path, fake_twilio)
    app = create_app(runtime=rt)
    app.testing = True
    voice_client = app.test_client()
    report_by_voice(caller(voice_client, fake_twilio), "en")
    with rt.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    staff = handler(app, rt)
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "(on a call) spoke a recording" in page
    assert "(on a call) pressed 5" in page
    sources = re.findall(r'<audio controls preload="none" src="([^"]+)"', page)
    assert len(sources) == 2
    played = staff.get(sources[0])
    assert played.status_code == 200
    assert played.data == WAV
    assert played.mimetype.startswith("audio/")
    assert played.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in played.headers["Content-Security-Policy"]
    with rt.sessions() as session:
        kinds = session.scalars(select(AuditEvent.action)).all()
    assert "attachment_played" in kinds
    # Not for anyone signed out.
    assert voice_client.get(sources[0]).status_code in (302, 401, 403)
    rt.close()


def test_a_failure_of_the_line_is_spoken_not_an_application_error(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    call = caller(voice_client, fake_twilio)
    call.call()
    with rt.sessions() as session:
        broken = session.scalars(select(VoiceCall)).one()
        broken.prompt_encrypted = b"not a token"  # what the line kept to repeat is unreadable
        session.commit()
    sorry = call.silent()
    assert "something went wrong" in spoken(sorry)
    assert sorry.find("Hangup") is not None


def test_the_sweeper_takes_up_callbacks_and_calls_left_behind(
    missed: Runtime, fake_twilio: FakeTwilio
) -> None:
    from datetime import timedelta

    from grievance.clock import utcnow
    from grievance.models import Contact, VoiceCallback
    from grievance.services.sweeper import sweep

    long_ago = utcnow() - timedelta(hours=3)
    with missed.sessions() as session:
        contact = Contact(
            address_hash=missed.protector.address_hash(CANARY),
            address_encrypted=missed.protector.encrypt(CANARY),
            channel="sms",
        )
        session.add(contact)
        session.flush()
        # A retry whose delayed job was lost (a restart), and a call whose end never came.
        session.add(
            VoiceCallback(
                contact_id=contact.id,
                our_number=MISSED,
                status="pending",
                attempts=1,
                due_at=long_ago,
                created_at=long_ago,
            )
        )
        session.add(
            VoiceCall(
                call_sid="CA" + "5" * 32,
                contact_id=contact.id,
                stage="code",
                step=9,
                silent=0,
                code_encrypted=missed.protector.encrypt("123456789012"),
                created_at=long_ago,
            )
        )
        session.commit()
    sweep(missed, grace=timedelta(0))
    assert [c["To"] for c in fake_twilio.calls] == [CANARY]
    with missed.sessions() as session:
        left = session.scalars(select(VoiceCall).where(VoiceCall.call_sid == "CA" + "5" * 32)).one()
        assert left.code_encrypted is None
        assert left.stage == "done"


def test_voice_jobs_carry_ids_only(
    postgres_url: str, redis_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    import redis

    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_url)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    runtime = voice_runtime(
        postgres_url,
        tmp_path,
        fake_twilio,
        REDIS_URL=redis_url,
        GRIEVANCE_MISSED_CALL_NUMBERS=MISSED,
    )
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        client = app.test_client()
        call = caller(client, fake_twilio)
        call.call()
        for key in ("1", "1", "1", "5"):
            call.press(key)
        call.speak()  # a recording to fetch
        Caller(client, fake_twilio, CANARY, PUBLIC_URL, to=MISSED).call()  # a callback to place
        keys = connection.keys("rq:job:*")
        dump = b"".join(
            b"".join(str(v).encode() for v in connection.hgetall(key).values())
            if connection.type(key) == b"hash"
            else b""
            for key in keys
        )
        assert b"fetch_recording" in dump
        assert b"place_callback" in dump
        assert not any(form.encode() in dump for form in CANARY_FORMS)
        assert b"Recordings" not in dump  # the recording's URL stays in the database
    finally:
        connection.flushdb()
        runtime.close()


def test_beyond_nine_languages_nine_is_a_second_menu(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    languages = "en,ne,my,hi,bn,ur,id,ms,th,vi,km"
    runtime = voice_runtime(sqlite_url, tmp_path, fake_twilio, GRIEVANCE_LANGUAGES=languages)
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        call = caller(app.test_client(), fake_twilio)
        first = said(call.call())
        assert len(first) == 9  # eight languages and "more languages"
        assert first[-1] == "For more languages, press 9."
        second = said(call.press("9"))
        assert len(second) == 4  # th, vi, km and "more languages"
        third = said(call.press("9"))
        assert third == first  # back to the first page
        call.press("9")
        chosen = call.press("2")  # vi, on the second page
        assert chosen.find("Gather") is not None
        from grievance.models import Contact

        with runtime.sessions() as session:
            assert session.scalars(select(Contact.language)).one() == "vi"
    finally:
        runtime.close()


def test_a_worker_who_sent_stop_can_still_report_by_phone(
    voice_client: FlaskClient, rt: Runtime, fake_twilio: FakeTwilio
) -> None:
    from grievance.models import Contact

    with rt.sessions() as session:
        session.add(
            Contact(
                address_hash=rt.protector.address_hash(CANARY),
                address_encrypted=rt.protector.encrypt(CANARY),
                channel="sms",
                opted_out=True,
            )
        )
        session.commit()
    call = caller(voice_client, fake_twilio)
    report_by_voice(call, "my")
    # The code is not sent by SMS to a number that opted out: it is said again instead.
    again = call.press("2")
    assert SPOKEN_CODE.search(spoken(again))
    assert fake_twilio.bodies_to(CANARY) == []
    with rt.sessions() as session:
        assert session.scalars(select(Case)).one().channel == "voice"


def test_a_language_without_phone_wording_is_offered_in_its_own_name(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    # Every catalog has its phone-menu sentences now: take Khmer's away in a copy.
    locales = tmp_path / "locales"
    locales.mkdir()
    for name in ("en.yaml", "km.yaml"):
        lines = (PROJECT_ROOT / "locales" / name).read_text(encoding="utf-8").splitlines(True)
        kept = [line for line in lines if name == "en.yaml" or not line.startswith("  voice.")]
        (locales / name).write_text("".join(kept), encoding="utf-8")
    runtime = voice_runtime(
        sqlite_url,
        tmp_path,
        fake_twilio,
        GRIEVANCE_LANGUAGES="en,km",
        GRIEVANCE_LOCALES_DIR=str(locales),
    )
    try:
        app = create_app(runtime=runtime)
        app.testing = True
        options = said(caller(app.test_client(), fake_twilio).call())
        assert options[0] == "For English, press 1."
        assert options[1] == f"{runtime.catalogs['km'].name}: 2."
    finally:
        runtime.close()
