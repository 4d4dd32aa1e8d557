"""The whole intake through a real `grievance worker` process on Redis, then the worker
writing again after the code, and danger words acted on at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grievance.app import create_app
from grievance.config import Settings
from grievance.models import Case
from grievance.runtime import build_runtime
from tests.conftest import Phone, environment
from tests.support.fake_twilio import FakeTwilio

pytestmark = pytest.mark.redis


def wait_for_replies(phone: Phone, count: int, timeout: float = 20.0) -> list[str]:
    """Replies arrive asynchronously from the worker process."""
    deadline = time.monotonic() + timeout
    replies: list[str] = []
    while time.monotonic() < deadline:
        replies += phone.replies()
        if len(replies) >= count:
            return replies
        time.sleep(0.05)
    raise AssertionError(f"expected {count} replies, got {replies}")


def test_intake_through_an_rq_worker_process(
    postgres_url: str, redis_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_url)
    env = environment(postgres_url, tmp_path / "instance", fake_twilio, REDIS_URL=redis_url)
    settings = Settings.from_env(env)
    runtime = build_runtime(settings)
    client: FlaskClient = create_app(runtime=runtime).test_client()
    phone = Phone(client, fake_twilio, "+9779841315926")
    worker = subprocess.Popen(
        [sys.executable, "-m", "grievance.cli", "worker"],
        env=os.environ | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def say(text: str, expect: int) -> list[str]:
            response = phone.post(phone.params(text))
            assert response.status_code == 200
            return wait_for_replies(phone, expect)

        assert "confidential" in say("hi, I need help", 1)[0]
        say("1", 1)
        say("3", 1)
        say("Harbour Fish Processing, Songkhla", 1)
        say("They keep half my pay every month", 1)
        say("2", 1)
        final = say("2", 1)
        assert re.search(r"\d{4} \d{4} \d{4}", final[0])
        with runtime.sessions() as session:
            assert session.scalar(select(func.count(Case.id))) == 1
            case = session.scalars(select(Case)).one()
            assert case.reported_category == "FL-DEBT"
            assert case.wants_updates is False

        # After the code: words reach the case, danger words are asked about and acted on.
        assert "added to your report" in say("They paid back only half", 1)[0]
        asked = say("they locked us in the hostel tonight", 1)
        assert "in danger right now" in asked[0]
        assert "urgent" in say("1", 1)[0]
        with runtime.sessions() as session:
            case = session.scalars(select(Case)).one()  # still one case, now P0
            assert (case.severity, case.unread_worker_messages) == ("P0", 3)
            assert case.handover_requested_at is not None
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=20)
        runtime.close()
    assert b"+9779841315926" not in output
    assert b"9841315926" not in output


def test_a_scheduled_job_is_never_due_before_its_time(redis_url: str) -> None:
    """RQ scores a scheduled job in whole seconds, truncated: the queue rounds up instead, so
    a paced reply never runs before its slot."""
    import redis
    from rq import Queue

    from grievance.queue import QUEUE_NAME, RQQueue

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    queue = RQQueue(redis_url)
    for tenths in (1, 4, 9, 15):
        asked = time.time() + tenths / 10
        queue.enqueue_in(timedelta(seconds=tenths / 10), "sweep")
        scores = client.zrange(
            Queue(QUEUE_NAME, connection=client).scheduled_job_registry.key, 0, -1, withscores=True
        )
        assert max(score for _, score in scores) >= asked
        client.flushdb()
