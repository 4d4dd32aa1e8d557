"""The fault rig: PostgreSQL, a redis-server of our own, real `grievance worker` processes,
the Twilio-compatible server, and the webhook through the Flask app.

``GRIEVANCE_FAULTS=long`` runs the issue's full durations (Redis down for 60 s,
Twilio failing for 30 s per phase); the default short run scales them down so
CI stays fast. See docs/delivery.md, "Fault tests".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from grievance.app import create_app
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.models import INBOUND, Case, Contact, Message, OutboxItem
from grievance.runtime import Runtime, build_runtime
from tests.conftest import Phone, _truncate_postgres, environment, unavailable
from tests.support.fake_twilio import FakeTwilio

LONG = os.environ.get("GRIEVANCE_FAULTS", "short") == "long"
REDIS_OUTAGE = 60.0 if LONG else 4.0
TWILIO_PHASE = 30.0 if LONG else 3.0
SETTLE_TIMEOUT = 300.0 if LONG else 90.0

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, condition: Callable[[], bool], timeout: float = SETTLE_TIMEOUT) -> None:
    """Poll until ``condition`` holds; a liveness wait, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class RedisServer:
    """A redis-server on its own port and directory, which tests may stop, restart and flush."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server", "not installed")
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until("redis-server to answer", self.answers, timeout=10)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stop hard, like a crash: without persistence its data is gone too."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis.from_url(self.url)


@dataclass
class Rig:
    """Everything a fault test drives."""

    env: dict[str, str]
    runtime: Runtime
    client: FlaskClient
    fake: FakeTwilio
    redis: RedisServer
    logs: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    responses: list[tuple[int, bytes]] = field(default_factory=list)

    def start_worker(self, **extra: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"worker-{uuid.uuid4().hex[:8]}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "grievance.cli", "worker"],
            env=os.environ | self.env | extra,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def stop_workers(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.workers.clear()

    def phone(self, number: str | None = None) -> Phone:
        number = number or "+97798" + str(uuid.uuid4().int)[:8]
        return RecordingPhone(self.client, self.fake, number, rig=self)

    def open_cases(self, count: int) -> list[int]:
        """Cases for the first ``count`` contacts, written as a finished intake would leave them."""
        ids = []
        with self.runtime.sessions() as session:
            contacts = session.scalars(select(Contact).order_by(Contact.id).limit(count)).all()
            for contact in contacts:
                case = Case(
                    contact_id=contact.id,
                    code_hash=uuid.uuid4().hex,
                    code_key_id=self.runtime.protector.code_key_ids[0],
                    severity="P2",
                    language="en",
                    channel=contact.channel,
                    flow_id="intake",
                    flow_version=1,
                    created_at=utcnow(),
                    wants_updates=True,  # the worker asked for news at intake
                )
                session.add(case)
                session.flush()
                ids.append(case.id)
            session.commit()
        return ids

    def backlog(self) -> tuple[int, int]:
        """(inbound messages not yet processed, outbound messages not yet sent)."""
        with self.runtime.sessions() as session:
            inbound = session.scalar(
                select(func.count(Message.id)).where(
                    Message.direction == INBOUND, Message.processed_at.is_(None)
                )
            )
            outbound = session.scalar(
                select(func.count(OutboxItem.id)).where(
                    OutboxItem.status.in_(("pending", "sending"))
                )
            )
            return inbound or 0, outbound or 0

    def settle(self) -> None:
        """Wait until everything accepted has been processed and sent."""
        wait_until("every message processed and sent", lambda: self.backlog() == (0, 0))

    def ledger(self) -> Ledger:
        with self.runtime.sessions() as session:
            statuses = dict(
                session.execute(
                    select(OutboxItem.status, func.count(OutboxItem.id)).group_by(OutboxItem.status)
                ).all()
            )
            sids = set(
                session.scalars(
                    select(Message.provider_sid).where(
                        Message.direction == "out", Message.provider_sid.is_not(None)
                    )
                )
            )
            inbound = session.scalar(
                select(func.count(Message.id)).where(Message.direction == INBOUND)
            )
        created = [m["Sid"] for m in self.fake.messages]
        return Ledger(statuses, sids, created, inbound or 0)


@dataclass
class Ledger:
    """What the database says was sent against what Twilio received."""

    outbox: dict[str, int]
    recorded_sids: set[str]
    created_sids: list[str]
    inbound: int

    @property
    def sent(self) -> int:
        return self.outbox.get("sent", 0)

    @property
    def duplicates(self) -> int:
        """Creates at Twilio beyond one per sent message."""
        return len(self.created_sids) - self.sent

    def assert_nothing_lost(self, max_duplicates: int = 0) -> None:
        assert set(self.outbox) == {"sent"}, f"outbox rows not sent: {self.outbox}"
        assert self.recorded_sids <= set(self.created_sids), "a recorded send Twilio never got"
        assert 0 <= self.duplicates <= max_duplicates, f"{self.duplicates} duplicate sends"


class RecordingPhone(Phone):
    """A phone whose webhook responses the rig keeps (for the canary scan)."""

    def __init__(self, *args: object, rig: Rig, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.rig = rig

    def post(self, params: dict[str, str], path: str = "/twilio/messaging"):  # type: ignore[no-untyped-def]
        response = super().post(params, path)
        self.rig.responses.append((response.status_code, response.data))
        return response

    def deliver(self, body: str) -> int:
        """Post one message; the status code the webhook answered."""
        return int(self.post(self.params(body)).status_code)


@pytest.fixture
def rig(postgres_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Rig]:
    _truncate_postgres(postgres_url)
    server = RedisServer(tmp_path)
    server.start()
    logs = tmp_path / "logs"
    logs.mkdir()
    env = environment(
        postgres_url,
        tmp_path / "instance",
        fake_twilio,
        REDIS_URL=server.url,
        GRIEVANCE_SWEEP_INTERVAL="1",
        GRIEVANCE_SWEEP_GRACE="2",
        GRIEVANCE_STUCK_SEND_SECONDS="4",
        GRIEVANCE_SEND_RETRY_BASE="0.2",
        GRIEVANCE_SEND_RETRY_MAX="2",
        GRIEVANCE_TWILIO_TIMEOUT="1",
        GRIEVANCE_LOG_LEVEL="DEBUG",
    )
    runtime = build_runtime(Settings.from_env(env))
    client = create_app(runtime=runtime).test_client()
    rig = Rig(env, runtime, client, fake_twilio, server, logs)
    try:
        yield rig
    finally:
        rig.stop_workers()
        server.stop()
        runtime.close()
