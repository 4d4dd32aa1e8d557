"""Inbound messages are stepped in batches: one run takes every waiting conversation, and a
message that cannot be processed neither rolls back nor holds up the others."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select, update

from grievance import jobs
from grievance.models import Case, Message
from grievance.queue import RQQueue
from grievance.runtime import Runtime
from grievance.services import conversations
from tests.conftest import Phone
from tests.support.held_queue import HeldQueue
from tests.support.staff import handler


def _phones(phone: Phone, n: int) -> list[Phone]:
    return [Phone(phone.client, phone.fake, f"+97798413{i:05d}") for i in range(n)]


def _hold(runtime: Runtime) -> tuple[object, HeldQueue]:
    real, held = runtime.queue, HeldQueue()
    runtime.queue = held
    return real, held


def test_one_run_answers_every_worker_waiting_in_a_burst(phone: Phone, runtime: Runtime) -> None:
    workers = _phones(phone, conversations.BATCH + 7)
    real, held = _hold(runtime)
    for worker in workers:
        worker.post(worker.params("hello I need help"))
    # Sixty webhooks queued one run, not sixty jobs.
    assert held.jobs == [("process_waiting", ())]
    runtime.queue = real  # type: ignore[assignment]
    assert jobs.process_waiting(runtime=runtime) == len(workers)
    for worker in workers:
        replies = worker.replies()
        assert len(replies) == 1
        assert "Do you want to report" in replies[0]


def test_a_message_that_fails_is_retried_then_set_aside_and_the_others_go_on(
    app: Flask, phone: Phone, runtime: Runtime
) -> None:
    broken, *others = _phones(phone, 4)
    real, _ = _hold(runtime)
    for worker in [broken, *others]:
        worker.post(worker.params("hello I need help"))
    # A body that cannot be decrypted (a key removed too early, say) fails every attempt.
    with runtime.sessions() as session:
        bad = session.scalars(select(Message.id).order_by(Message.id)).first()
        session.execute(update(Message).where(Message.id == bad).values(body_encrypted=b"x"))
        session.commit()
    runtime.queue = real  # type: ignore[assignment]

    jobs.process_waiting(runtime=runtime)
    # The batch was not rolled back for one message: the others were answered.
    for worker in others:
        assert "Do you want to report" in worker.replies()[0]
    assert broken.replies() == []

    for _ in range(2, conversations.MAX_ATTEMPTS + 1):
        jobs.process_waiting(runtime=runtime)
    with runtime.sessions() as session:
        message = session.get(Message, bad)
        assert message is not None
        assert message.attempts == conversations.MAX_ATTEMPTS
        assert message.processed_at is None  # kept, for an operator to look at
    # Not dropped: it lands on a case with a person requested, where a handler reads it
    # (this one cannot be decrypted, and the case page says so instead of failing).
    with runtime.sessions() as session:
        message = session.get(Message, bad)
        assert message is not None
        case = session.get(Case, message.case_id)
        assert case is not None
        assert case.handover_requested_at is not None
    page = handler(app, runtime).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "cannot be read" in page
    assert "could not process a message" in page
    # Set aside, it no longer holds the worker's later messages.
    assert jobs.process_waiting(runtime=runtime) == 0
    reply = broken.send("hello, anyone there?")
    assert len(reply) == 1
    assert "a case handler will read it" in reply[0]  # added to the case a person has


def test_a_worker_whose_earlier_message_fails_is_not_answered_out_of_order(
    phone: Phone, runtime: Runtime
) -> None:
    real, _ = _hold(runtime)
    phone.post(phone.params("hello I need help"))
    with runtime.sessions() as session:
        first = session.scalars(select(Message.id)).one()
        session.execute(update(Message).where(Message.id == first).values(body_encrypted=b"x"))
        session.commit()
    phone.post(phone.params("1"))
    runtime.queue = real  # type: ignore[assignment]
    jobs.process_waiting(runtime=runtime)
    # "1" is not taken as the answer to a question the worker never got.
    assert phone.replies() == []
    with runtime.sessions() as session:
        waiting = session.scalars(
            select(Message.attempts).where(Message.processed_at.is_(None)).order_by(Message.id)
        ).all()
    assert waiting == [1, 0]


def test_an_rq_run_on_postgresql_answers_every_worker_before_it_ends(
    phone: Phone, runtime: Runtime, redis_url: str
) -> None:
    """In an RQ worker on PostgreSQL a batch's replies go out on a thread of their own while
    the next batch is stepped; the run still ends only once every reply is out, in order."""
    if runtime.settings.is_sqlite:
        pytest.skip("SQLite sends a batch's replies inline (one writer at a time)")
    workers = _phones(phone, 2 * conversations.BATCH + 7)
    queue = RQQueue(redis_url)
    runtime.queue = queue  # type: ignore[assignment]
    try:
        for worker in workers:
            worker.post(worker.params("hello I need help"))
        first = workers[0]
        first.post(first.params("1"))  # a second message: answered after the first one's reply
        assert jobs.process_waiting(runtime=runtime) == len(workers)
    finally:
        queue.redis.flushdb()  # the wake-up key and jobs nobody ran: no other test's business
    for worker in workers[1:]:
        replies = worker.replies()
        assert len(replies) == 1
        assert "Do you want to report" in replies[0]
    first_replies = first.replies()
    assert len(first_replies) == 2
    assert "Do you want to report" in first_replies[0]
    assert "What is the problem about?" in first_replies[1]
