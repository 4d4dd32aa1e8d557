"""GET /healthz: 200 only when the database and (if configured) Redis answer."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from grievance.app import create_app
from grievance.config import Settings
from grievance.runtime import build_runtime
from tests.conftest import environment
from tests.support.fake_twilio import FakeTwilio


def test_healthy(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "channel": "twilio"}}


def health(env: dict[str, str]) -> TestResponse:
    """GET /healthz on an app built from ``env``."""
    runtime = build_runtime(Settings.from_env(env))
    try:
        return create_app(runtime=runtime).test_client().get("/healthz")
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
