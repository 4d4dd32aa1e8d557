"""Twilio retries and bursts: one stored message per MessageSid, and a worker's messages in order."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from grievance import jobs
from grievance.models import Message
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.held_queue import HeldQueue


def run_together(functions: list[Callable[[], object]]) -> list[object]:
    """Start every function at the same moment on its own thread; return their results."""
    barrier = threading.Barrier(len(functions))
    results: list[object] = [None] * len(functions)
    errors: list[BaseException] = []

    def run(i: int, fn: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_ten_concurrent_deliveries_of_one_message_sid(
    app: Flask, phone: Phone, runtime: Runtime
) -> None:
    params = phone.params("hello I need help")

    def deliver() -> int:
        return Phone(app.test_client(), phone.fake, phone.number).post(params).status_code

    statuses = run_together([deliver] * 10)
    assert statuses == [200] * 10
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 1
    replies = phone.replies()
    assert len(replies) == 1  # the confidentiality text and the question, once
    assert "confidential" in replies[0]
    assert "Do you want to report" in replies[0]


def test_two_messages_arriving_together_are_processed_in_order(
    phone: Phone, runtime: Runtime
) -> None:
    real_queue = runtime.queue
    held = HeldQueue()
    runtime.queue = held
    phone.post(phone.params("hello I need help"))
    phone.post(phone.params("1"))
    # A burst of messages queues one run, which takes whatever waits.
    assert held.jobs == [("process_waiting", ())]
    runtime.queue = real_queue
    # Two runs at once (the webhook's and the sweeper's): one claims the conversation and
    # steps both messages in arrival order, the other finds it taken or done.
    processed = run_together(
        [
            lambda: jobs.process_waiting(runtime=runtime),
            lambda: jobs.process_waiting(runtime=runtime),
        ]
    )
    assert sorted(processed) == [0, 1]  # type: ignore[type-var]
    replies = phone.replies()
    assert len(replies) == 2
    assert "confidential" in replies[0]
    assert "Do you want to report" in replies[0]
    assert "What is the problem about" in replies[1]


def test_jobs_of_the_previous_release_still_process_in_order(
    phone: Phone, runtime: Runtime
) -> None:
    # During a rolling deploy, per-message jobs queued by the previous release still run.
    real_queue = runtime.queue
    runtime.queue = HeldQueue()
    phone.post(phone.params("hello I need help"))
    phone.post(phone.params("1"))
    runtime.queue = real_queue
    with runtime.sessions() as session:
        first, second = session.scalars(
            select(Message.id).where(Message.direction == "in").order_by(Message.id)
        )
    processed = run_together(
        [
            lambda: jobs.process_inbound(second, runtime=runtime),
            lambda: jobs.process_inbound(first, runtime=runtime),
        ]
    )
    assert sorted(processed) == [0, 2]  # type: ignore[type-var]
    replies = phone.replies()
    assert len(replies) == 2
    assert "Do you want to report" in replies[0]
    assert "What is the problem about" in replies[1]
