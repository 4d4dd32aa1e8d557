"""GET /healthz: 200 only when the database and (if configured) Redis answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from grievance.app import create_app
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.models import Message, OutboxItem
from grievance.runtime import Runtime, build_runtime
from grievance.services.conversations import MAX_ATTEMPTS
from tests.conftest import HEALTH_TOKEN, Phone, environment
from tests.support.fake_twilio import Failure, FakeTwilio
from tests.support.held_queue import HeldQueue
from tests.support.intake import report

MONITOR = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


def test_a_stranger_learns_only_whether_the_line_is_up(client: FlaskClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": HEALTH_TOKEN}):
        response = client.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json == {"status": "ok"}


def test_healthy(client: FlaskClient) -> None:
    response = client.get("/healthz", headers=MONITOR)
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "checks": {
            "channel": "twilio",
            "database": "ok",
            "failed_deliveries": 0,
            "oldest_pending_outbox_seconds": 0,
            "oldest_waiting_inbound_seconds": 0,
            "inbound_set_aside": 0,
            "queue_depth": 0,
        },
    }


def test_backlog_and_failures_show_in_the_figures(
    client: FlaskClient, phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio
) -> None:
    report(phone)  # an open case
    fake_twilio.misbehave((60, Failure(503, None, "unavailable")))
    phone.send("STATUS")  # the reply waits for a retry
    with runtime.sessions() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "pending")
            .values(created_at=utcnow() - timedelta(minutes=20))
        )
        session.commit()
    checks = client.get("/healthz", headers=MONITOR).json["checks"]
    assert checks["oldest_pending_outbox_seconds"] >= 20 * 60
    # Retrying for more than 15 minutes to a worker with an open case counts as failing.
    assert checks["failed_deliveries"] == 1


def test_inbound_messages_waiting_or_set_aside_show_in_the_figures(
    client: FlaskClient, phone: Phone, runtime: Runtime
) -> None:
    real, runtime.queue = runtime.queue, HeldQueue()  # type: ignore[assignment]
    phone.post(phone.params("hello I need help"))
    phone.post(phone.params("hello?"))
    runtime.queue = real
    with runtime.sessions() as session:
        first, second = session.scalars(select(Message.id).order_by(Message.id))
        session.execute(
            update(Message)
            .where(Message.id == first)
            .values(attempts=MAX_ATTEMPTS, created_at=utcnow() - timedelta(hours=2))
        )
        session.execute(
            update(Message)
            .where(Message.id == second)
            .values(created_at=utcnow() - timedelta(minutes=3))
        )
        session.commit()
    checks = client.get("/healthz", headers=MONITOR).json["checks"]
    assert checks["inbound_set_aside"] == 1
    assert 3 * 60 <= checks["oldest_waiting_inbound_seconds"] < 2 * 3600


def health(env: dict[str, str]) -> TestResponse:
    """GET /healthz on an app built from ``env``."""
    runtime = build_runtime(Settings.from_env(env))
    try:
        return create_app(runtime=runtime).test_client().get("/healthz", headers=MONITOR)
    finally:
        runtime.close()


def test_redis_down_is_503(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    response = health(
        environment(sqlite_url, tmp_path / "i", fake_twilio, REDIS_URL="redis://127.0.0.1:1/0")
    )
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["redis"].startswith("error: ")


def test_database_down_is_503(tmp_path: Path) -> None:
    response = health(
        environment("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path / "i", None)
    )
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "error: OperationalError"


def test_without_twilio_the_webhook_is_absent_and_the_simulator_present(
    sqlite_url: str, tmp_path: Path
) -> None:
    runtime = build_runtime(Settings.from_env(environment(sqlite_url, tmp_path / "i", None)))
    try:
        client = create_app(runtime=runtime).test_client()
        assert client.post("/twilio/messaging", data={"From": "+1"}).status_code == 404
        assert client.get("/simulator").status_code == 200
    finally:
        runtime.close()


def test_with_twilio_the_simulator_is_absent(client: FlaskClient) -> None:
    assert client.get("/simulator").status_code == 404
    assert (
        client.post("/simulator/messages", json={"phone": "abcdefgh1234", "text": "hi"}).status_code
        == 404
    )


def test_the_simulator_answers_only_this_machine_unless_opened(
    sqlite_url: str, tmp_path: Path
) -> None:
    for opened, remote, expected in [
        ("false", "127.0.0.1", 200),
        ("false", "::1", 200),
        ("false", "203.0.113.7", 404),  # a demo server on a public address
        ("true", "203.0.113.7", 200),
    ]:
        env = environment(sqlite_url, tmp_path / opened, None, GRIEVANCE_SIMULATOR_OPEN=opened)
        runtime = build_runtime(Settings.from_env(env))
        try:
            client = create_app(runtime=runtime).test_client()
            page = client.get("/simulator", environ_base={"REMOTE_ADDR": remote})
            sent = client.post(
                "/simulator/messages",
                json={"phone": "abcdefgh1234", "text": "hi"},
                environ_base={"REMOTE_ADDR": remote},
            )
            assert (page.status_code, sent.status_code < 300) == (expected, expected == 200)
        finally:
            runtime.close()
