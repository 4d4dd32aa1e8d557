"""Delivery: retries with backoff for temporary failures, terminal failures recorded, never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from grievance import jobs
from grievance.clock import utcnow
from grievance.models import Contact, Message, OutboxItem
from grievance.runtime import Runtime
from grievance.services.outbox import backoff
from grievance.services.sweeper import sweep
from tests.conftest import Phone
from tests.support.fake_twilio import Failure, FakeTwilio


def outbox_rows(runtime: Runtime) -> list[OutboxItem]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def make_due(runtime: Runtime) -> None:
    """Pretend the backoff delay has passed."""
    with runtime.sessions() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "pending")
            .values(
                next_attempt_at=utcnow() - timedelta(seconds=1),
                created_at=utcnow() - timedelta(minutes=5),
            )
        )
        session.commit()


def test_temporary_failures_are_retried_until_sent(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(
        Failure(429, 20429, "Too many requests"), Failure(503, None, "unavailable")
    )
    assert phone.send("hello I need help") == []
    (row,) = outbox_rows(runtime)
    assert (row.status, row.last_error) == ("pending", "too many concurrent requests")
    make_due(runtime)
    sweep(runtime)
    (row,) = outbox_rows(runtime)
    assert (row.status, row.last_error) == ("pending", "Twilio answered HTTP 503")
    make_due(runtime)
    sweep(runtime)
    (row,) = outbox_rows(runtime)
    assert (row.status, row.attempts) == ("sent", 3)
    make_due(runtime)
    sweep(runtime)
    replies = phone.replies()
    assert len(replies) == 1  # sent once, however often it was tried
    assert "confidential" in replies[0]


def test_terminal_failure_is_recorded_in_words(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(
        Failure(400, 21211, f"The 'To' number {phone.number} is not a valid phone number.")
    )
    phone.send("hello I need help")
    rows = outbox_rows(runtime)
    assert rows[0].status == "failed"
    assert rows[0].last_error == "invalid 'To' number"
    assert rows[0].attempts == 1
    with runtime.sessions() as session:
        message = session.get(Message, rows[0].message_id)
        assert message is not None
        assert message.error_code == "21211"
        assert message.delivery_status == "failed"


REMINDER = (
    "You stopped our messages, but your message reached us. Send START to hear from us again."
)


def test_twilio_opt_out_error_marks_the_contact(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(Failure(400, 21610, "Attempt to send to unsubscribed recipient"))
    phone.send("hello I need help")
    with runtime.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.opted_out
    # Nothing more is written for this worker until START, but the once-a-day reminder of
    # START (a STOP word Twilio does not know still blocks nothing at Twilio).
    assert phone.send("1") == [REMINDER]
    assert phone.send("2") == []
    assert "Welcome back" in phone.send("START")[0]


def test_a_duplicate_deliver_job_sends_nothing(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    phone.send("hello I need help")
    sent_before = len(fake_twilio.messages)
    for row in outbox_rows(runtime):
        assert jobs.deliver(row.id, runtime=runtime) == "sent"
    assert len(fake_twilio.messages) == sent_before


def test_stop_then_a_reminder_a_day_until_start(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    phone.send("hello I need help")
    assert "no more messages" in phone.send("STOP")[0]
    assert phone.send("hello?") == [REMINDER]
    assert phone.send("STATUS") == []  # no keyword but START while stopped; reminded already
    assert "Welcome back" in phone.send("START")[0]
    assert phone.send("MENU")


def test_backoff_grows_and_is_capped() -> None:
    delays = [backoff(n).total_seconds() for n in range(1, 12)]
    assert delays[0] <= 2
    assert 8 <= delays[3] <= 16
    assert max(delays) <= 300


def test_unreachable_twilio_is_retried(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    settings = runtime.settings.with_overrides(
        twilio_api_base_url="http://127.0.0.1:9"
    )  # nothing listens there
    from grievance.runtime import build_channel

    real = runtime.channel
    runtime.channel = build_channel(settings)
    phone.send("hello I need help")
    assert {r.status for r in outbox_rows(runtime)} == {"pending"}
    assert all("unreachable" in (r.last_error or "") for r in outbox_rows(runtime))
    runtime.channel = real
    make_due(runtime)
    sweep(runtime)
    assert {r.status for r in outbox_rows(runtime)} == {"sent"}
    assert len(phone.replies()) == 1


def test_a_deliver_job_that_runs_before_its_row_is_due_comes_back_then(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    """A scheduler may start a job before its time (RQ keeps whole seconds); the row must not
    wait for the sweeper."""
    fake_twilio.fail_next(Failure(503, None, "unavailable"))
    phone.send("hello I need help")  # the reply failed once: pending, with a backoff
    (row,) = outbox_rows(runtime)
    assert row.status == "pending"
    assert row.next_attempt_at is not None
    assert row.next_attempt_at > utcnow()
    runtime.queue.delayed.clear()  # type: ignore[attr-defined]
    assert jobs.deliver(row.id, runtime=runtime) == "early"
    ((delay, job, args),) = runtime.queue.delayed  # type: ignore[attr-defined]
    assert (job, args) == ("deliver", (row.id,))
    assert timedelta(0) < delay <= row.next_attempt_at - utcnow() + timedelta(seconds=1)
    assert phone.replies() == []  # nothing sent early
