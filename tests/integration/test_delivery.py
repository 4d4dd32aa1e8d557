"""Delivery as a worker and a handler notice it: status callbacks, the WhatsApp window, pacing,
priorities, failed deliveries in words, interrupted sends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grievance import jobs
from grievance.clock import utcnow
from grievance.models import Case, Contact, DeliveryEvent, Message, OutboxItem
from grievance.pacing import LocalPacer, RedisPacer
from grievance.queue import InProcessQueue
from grievance.runtime import Runtime
from grievance.services import cases
from grievance.services.deliveries import failed_deliveries
from grievance.services.sweeper import sweep
from tests.conftest import Phone
from tests.support.fake_twilio import Failure, FakeTwilio
from tests.support.intake import report

TEMPLATE_SID = "HX" + "a1" * 16


def the_case(runtime: Runtime) -> Case:
    with runtime.sessions() as session:
        return session.scalars(select(Case)).one()


def last_outbound(runtime: Runtime) -> Message:
    with runtime.sessions() as session:
        return session.scalars(
            select(Message).where(Message.direction == "out").order_by(Message.id.desc())
        ).first()


def status_callback(phone: Phone, sid: str, status: str, code: str = "") -> int:
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code:
        params["ErrorCode"] = code
    return phone.post(params, path="/twilio/status").status_code


def test_status_callbacks_are_kept_once_each_and_never_move_back(
    phone: Phone, runtime: Runtime
) -> None:
    phone.send("hello I need help")
    message = last_outbound(runtime)
    sid = message.provider_sid
    assert sid is not None
    for status in ("sent", "delivered", "sent", "delivered", "queued"):
        assert status_callback(phone, sid, status) == 204
    with runtime.sessions() as session:
        events = session.scalars(
            select(DeliveryEvent.status)
            .where(DeliveryEvent.message_id == message.id)
            .order_by(DeliveryEvent.id)
        ).all()
        assert events == ["sent", "delivered", "queued"]  # each once, as they first came
        assert session.get(Message, message.id).delivery_status == "delivered"


def test_an_undelivered_update_reaches_the_handlers_list_in_words(
    phone: Phone, runtime: Runtime
) -> None:
    report(phone)
    assert failed_deliveries_now(runtime) == []
    case = the_case(runtime)
    cases.update_status(runtime, case.id, "acknowledged", "handler:1")
    notice = last_outbound(runtime)
    assert notice.catalog_key == "notice.update"
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    status_callback(phone, notice.provider_sid or "", "undelivered", "30003")
    (failure,) = failed_deliveries_now(runtime)
    assert (failure.case_id, failure.status) == (case.id, "undelivered")
    assert failure.reason == "the phone is switched off or out of coverage"


def failed_deliveries_now(runtime: Runtime) -> list:
    with runtime.sessions() as session:
        return failed_deliveries(session)


@pytest.fixture
def whatsapp(client: FlaskClient, fake_twilio: FakeTwilio) -> Phone:
    return Phone(client, fake_twilio, "+9779841315926", channel="whatsapp")


def outside_window(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        session.execute(update(Contact).values(last_inbound_at=utcnow() - timedelta(hours=25)))
        session.commit()


def test_outside_the_whatsapp_window_the_approved_template_goes(
    whatsapp: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    runtime.settings = runtime.settings.with_overrides(
        whatsapp_templates={"update": {"en": TEMPLATE_SID}}
    )
    report(whatsapp)
    outside_window(runtime)
    cases.update_status(runtime, the_case(runtime).id, "acknowledged", "handler:1")
    sent = fake_twilio.messages[-1]
    assert sent["ContentSid"] == TEMPLATE_SID
    assert "Body" not in sent  # a template carries no free text
    assert sent["From"].startswith("whatsapp:")
    assert last_outbound(runtime).template_key == "update"


def test_without_a_template_the_worker_who_allowed_sms_gets_one(
    whatsapp: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    report(whatsapp, sms_fallback="1")  # "yes, an SMS may reach me"
    with runtime.sessions() as session:
        assert session.scalars(select(Contact.sms_fallback)).one()
    outside_window(runtime)
    cases.update_status(runtime, the_case(runtime).id, "acknowledged", "handler:1")
    sent = fake_twilio.messages[-1]
    assert sent["To"] == whatsapp.number  # the plain number: an SMS
    assert sent["Body"].startswith("There is an update")
    assert last_outbound(runtime).channel == "sms"


def test_without_a_template_or_sms_the_failure_is_listed_for_handlers(
    whatsapp: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    report(whatsapp)
    sent_before = len(fake_twilio.messages)
    outside_window(runtime)
    cases.update_status(runtime, the_case(runtime).id, "acknowledged", "handler:1")
    assert len(fake_twilio.messages) == sent_before  # no free-form message outside the window
    (failure,) = failed_deliveries_now(runtime)
    assert "outside the WhatsApp 24-hour window" in failure.reason


def test_twilio_saying_the_window_closed_falls_back_to_the_template(
    whatsapp: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    runtime.settings = runtime.settings.with_overrides(
        whatsapp_templates={"update": {"en": TEMPLATE_SID}}
    )
    report(whatsapp)
    fake_twilio.fail_next(Failure(400, 63016, "Failed to send freeform message"))
    cases.update_status(runtime, the_case(runtime).id, "acknowledged", "handler:1")
    assert fake_twilio.messages[-1]["ContentSid"] == TEMPLATE_SID
    assert last_outbound(runtime).delivery_status == "queued"


def test_an_interrupted_send_is_sent_again_by_the_sweeper(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    report(phone)
    with runtime.sessions() as session:
        case = session.scalars(select(Case)).one()
        outbox_id = cases.change_status(session, runtime, case, "acknowledged", "handler:1")
        session.commit()
        # A worker claimed it and died before recording the result.
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == outbox_id)
            .values(status="sending", claimed_at=utcnow() - timedelta(minutes=5), attempts=1)
        )
        session.commit()
    phone.replies()
    assert sweep(runtime).resent == 1
    assert phone.replies() == []  # not straight away: the sweep after gives it to deliver
    sweep(runtime, grace=timedelta(0))
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]


def test_a_message_too_old_to_matter_is_given_up_and_listed(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    report(phone)
    fake_twilio.misbehave((600, Failure(500, None, "boom")))
    cases.update_status(runtime, the_case(runtime).id, "acknowledged", "handler:1")
    with runtime.sessions() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "pending")
            .values(created_at=utcnow() - timedelta(hours=13), next_attempt_at=None)
        )
        session.commit()
        (pending,) = session.scalars(select(OutboxItem.id).where(OutboxItem.status == "pending"))
    assert jobs.deliver(pending, runtime=runtime) == "failed"
    (failure,) = failed_deliveries_now(runtime)
    assert failure.reason == "Twilio answered HTTP 500"


def test_pacing_spaces_sends_per_sender_and_broadcasts_only_take_free_slots() -> None:
    now = [100.0]
    pacer = LocalPacer(clock=lambda: now[0])
    assert pacer.reserve("sms:+1", 2.0, 10) == (True, 0.0)
    assert pacer.reserve("sms:+1", 2.0, 10) == (True, 0.5)
    assert pacer.reserve("sms:+1", 2.0, 10) == (True, 1.0)
    assert pacer.reserve("sms:+2", 2.0, 10) == (True, 0.0)  # another sender has its own slots
    assert pacer.reserve("sms:+1", 2.0, 0.0) == (False, 1.5)  # a broadcast does not queue up
    now[0] += 1.5
    assert pacer.reserve("sms:+1", 2.0, 0.0) == (True, 0.0)


def test_the_pacing_schedule_is_shared_through_redis(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("grievance:pace:test-sender")
    first, second = RedisPacer(client), RedisPacer(client)  # two workers
    # One message every 1,000 s: the slots are so far apart that however slow the machine is
    # between two calls (up to 10 s here), the waits say which slot each call got.
    rate = 0.001
    try:
        assert first.reserve("test-sender", rate, 5000) == (True, 0.0)
        reserved, wait = second.reserve("test-sender", rate, 5000)
        assert reserved
        assert 990 <= wait <= 1000  # the second worker got the next slot, not its own first
        reserved, wait = first.reserve("test-sender", rate, 0.0)
        assert not reserved  # a broadcast does not queue behind both
        assert 1990 <= wait <= 2000
    finally:
        client.delete("grievance:pace:test-sender")


def test_in_process_jobs_run_broadcasts_after_everything_else() -> None:
    ran: list[tuple[str, tuple[int, ...]]] = []
    gate = __import__("threading").Event()

    def run(job: str, args: tuple[int, ...]) -> None:
        gate.wait(5)
        ran.append((job, args))

    queue = InProcessQueue(run, mode="thread")
    queue.enqueue("deliver", 0)  # occupies the thread until the gate opens
    queue.enqueue("deliver", 1, bulk=True)
    queue.enqueue("deliver", 2, bulk=True)
    queue.enqueue("deliver", 3)
    queue.enqueue("process_inbound", 4)
    gate.set()
    queue._queue.join()
    assert [args[0] for _, args in ran] == [0, 3, 4, 1, 2]


def test_a_reply_takes_its_senders_slot(phone: Phone, runtime: Runtime) -> None:
    runtime.settings = runtime.settings.with_overrides(sms_rate=0.5)  # one every 2 s
    assert "confidential" in phone.send("hello I need help")[0]
    reserved, wait = runtime.pacer.reserve("sms:" + phone.to, 0.5, 0.0)
    assert not reserved
    assert 1.0 < wait <= 2.0


def test_a_reply_holds_its_slot_on_the_schedule_never_in_a_sleeping_worker(
    phone: Phone, runtime: Runtime
) -> None:
    """One message every 50 s: the worker's second reply is due 50 s after the first. It
    reserves that slot and waits on the job schedule (no worker sleeps for it), then goes
    at its time without taking another slot, so the sender's rate holds."""
    runtime.settings = runtime.settings.with_overrides(sms_rate=0.02)
    sender = "sms:" + phone.to
    assert "confidential" in phone.send("hello I need help")[0]
    assert phone.send("1") == []  # the reply waits for its slot
    with runtime.sessions() as session:
        (waiting,) = session.scalars(select(OutboxItem).where(OutboxItem.status == "pending"))
        held_for = (waiting.slot_at - utcnow()).total_seconds() if waiting.slot_at else 0.0
        assert 30 < held_for <= 50
        assert waiting.next_attempt_at == waiting.slot_at
    ((delay, job, args),) = runtime.queue.delayed  # type: ignore[attr-defined]
    assert job in ("deliver", "deliver_batch")
    assert waiting.id in args
    assert abs(delay.total_seconds() - held_for) < 5
    # Two slots are taken: the first reply's and the one held; the next free is ~100 s on.
    reserved, wait = runtime.pacer.reserve(sender, 0.02, 0.0)
    assert not reserved
    assert 80 < wait <= 100

    # Its time comes (the schedule runs the job then): sent, and no other slot is taken.
    with runtime.sessions() as session:
        past = utcnow() - timedelta(seconds=1)
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == waiting.id)
            .values(next_attempt_at=past, slot_at=past)
        )
        session.commit()
    getattr(jobs, job)(*args, runtime=runtime)
    assert len(phone.replies()) == 1
    reserved, later = runtime.pacer.reserve(sender, 0.02, 0.0)
    assert not reserved
    assert later <= wait


def test_handlers_see_failed_deliveries_on_a_page(
    app: Flask, phone: Phone, runtime: Runtime
) -> None:
    from tests.support.staff import handler

    report(phone)
    case = the_case(runtime)
    cases.update_status(runtime, case.id, "acknowledged", "handler:1")
    status_callback(phone, last_outbound(runtime).provider_sid or "", "undelivered", "30005")
    page = handler(app, runtime).get("/deliveries/failed").get_data(as_text=True)
    assert f"#{case.id}" in page
    assert "the number is unknown to the carrier or no longer exists" in page
    assert phone.number not in page
    assert phone.number[1:] not in page
