"""Nothing is lost: work left behind by a dead worker or an unreachable Redis is picked up again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from grievance.clock import utcnow
from grievance.models import Conversation, Message
from grievance.queue import RQQueue
from grievance.runtime import Runtime
from grievance.services.sweeper import sweep
from tests.conftest import Phone
from tests.support.held_queue import HeldQueue


def age_everything(runtime: Runtime, by: timedelta = timedelta(minutes=5)) -> None:
    with runtime.sessions() as session:
        session.execute(update(Message).values(created_at=utcnow() - by))
        session.commit()


def test_messages_stored_while_redis_was_down_are_processed_later(
    phone: Phone, runtime: Runtime
) -> None:
    working = runtime.queue
    runtime.queue = RQQueue("redis://127.0.0.1:1/0")  # nothing listens: every enqueue fails
    response = phone.post(phone.params("hello I need help"))
    assert response.status_code == 200  # the worker's message is safe in the database
    assert phone.replies() == []
    runtime.queue = working
    assert sweep(runtime).inbound == 0  # too fresh: its own job may still be coming
    age_everything(runtime)
    report = sweep(runtime)
    assert report.inbound == 1
    assert "confidential" in phone.replies()[0]
    assert sweep(runtime).total == 0  # and nothing twice


def test_a_dead_worker_does_not_lose_a_reply(phone: Phone, runtime: Runtime) -> None:
    working = runtime.queue
    runtime.queue = HeldQueue()  # jobs vanish, as with a worker killed mid-run
    phone.post(phone.params("hello I need help"))
    phone.post(phone.params("1"))
    runtime.queue = working
    age_everything(runtime)
    sweep(runtime)
    replies = phone.replies()
    assert "confidential" in replies[0]
    assert "What is the problem about" in replies[-1]


def test_an_abandoned_report_expires_and_is_offered_again(phone: Phone, runtime: Runtime) -> None:
    phone.send("hello I need help")
    phone.send("1")
    phone.send("3")
    with runtime.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.flow_id == "intake"
        assert conversation.wake_at is not None
        state = dict(conversation.state)
        run = dict(state["run"])
        run["expires_at"] = (utcnow() - timedelta(minutes=1)).isoformat()
        state["run"] = run
        conversation.state = state
        conversation.wake_at = utcnow() - timedelta(minutes=1)
        session.commit()
    assert sweep(runtime).timers == 1
    assert phone.replies() == []  # expiry is silent: a late message could expose the worker
    with runtime.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.state["run"] is None
        assert conversation.state["draft"]["node"] == "workplace"
        assert conversation.wake_at is None
    assert "You started a report before" in phone.send("hi")[0]
    assert "Where do you work" in phone.send("1")[0]
