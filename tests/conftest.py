"""Shared fixtures: settings, databases (SQLite and the real PostgreSQL), Redis, fake Twilio.

Under CI=true a missing PostgreSQL or Redis fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from grievance.app import create_app
from grievance.config import Settings
from grievance.runtime import Runtime, build_runtime
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, FakeTwilioServer
from tests.support.signing import signature

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get(
    "GRIEVANCE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# One database per test run, so two runs on one machine never drop each other's.
PG_TEST_DB = os.environ.get("GRIEVANCE_TEST_PG_DB", f"grievance_test_{os.getpid()}")
REDIS_TEST_URL = os.environ.get("GRIEVANCE_TEST_REDIS", "redis://127.0.0.1:6379/13")
PUBLIC_URL = "https://grievance.example.org"
SMS_NUMBER = "+15005550006"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
DATA_KEY = Fernet.generate_key().decode()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--regen-golden",
        action="store_true",
        help="rewrite the expected output of tests/flows/*.yaml",
    )


def unavailable(what: str, why: str) -> None:
    """Skip on a developer machine, fail under CI: CI must test against the real servers."""
    message = f"{what} is not available ({why})"
    if IN_CI:
        pytest.fail(message + "; CI=true requires it", pytrace=False)
    pytest.skip(message)


# -- databases ------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    from grievance.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh test database on the machine's PostgreSQL, migrated to head, dropped at the end."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from grievance.migrate import upgrade

    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{PG_TEST_DB}"'))
        admin.dispose()
    except OperationalError as exc:
        unavailable("PostgreSQL", type(exc).__name__)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_TEST_DB
    upgrade(url)
    yield url
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    import grievance.models  # noqa: F401
    from grievance.db import Base

    engine = create_engine(url)
    with engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses the database runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "grievance.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A SQLite database only (tests of SQLite-specific behaviour)."""
    path = tmp_path / "grievance.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis, on a database number the tests own (flushed per use)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable("Redis", type(exc).__name__)
    client.flushdb()
    return REDIS_TEST_URL


# -- Twilio -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def _twilio_server() -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as fake:
        yield fake


@pytest.fixture
def fake_twilio(_twilio_server: FakeTwilio) -> FakeTwilio:
    """The local Twilio-compatible server, emptied for this test."""
    _twilio_server.reset()
    return _twilio_server


HEALTH_TOKEN = "test-monitor-token"


def environment(
    database_url: str, instance: Path, fake: FakeTwilio | None, **extra: str
) -> dict[str, str]:
    """The environment a deployment would have, pointed at test servers."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "GRIEVANCE_DATA_KEY": DATA_KEY,
        "GRIEVANCE_INSTANCE_PATH": str(instance),
        "PUBLIC_BASE_URL": PUBLIC_URL,
        "GRIEVANCE_LANGUAGES": "en,ne,my",
        "GRIEVANCE_INLINE_JOBS": "sync",
        "GRIEVANCE_CODE_HASH_N": "1024",
        # Pacing has its own tests; elsewhere it would only make tests wait.
        "GRIEVANCE_SMS_RATE": "0",
        "GRIEVANCE_WHATSAPP_RATE": "0",
        "GRIEVANCE_HEALTH_TOKEN": HEALTH_TOKEN,
    }
    if fake is not None:
        env |= {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_SMS_FROM": SMS_NUMBER,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_NUMBER,
            "TWILIO_API_BASE_URL": fake.base_url,
        }
    return env | extra


@pytest.fixture
def settings(database_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Settings:
    """Settings of a Twilio deployment with in-line jobs, on each database."""
    return Settings.from_env(environment(database_url, tmp_path / "instance", fake_twilio))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The runtime built from ``settings``."""
    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    """The Flask app on ``runtime``."""
    flask_app = create_app(runtime=runtime)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


# -- a worker's phone ----------------------------------------------------------------


@dataclass
class Phone:
    """A worker's phone writing to the line through a signed Twilio webhook."""

    client: FlaskClient
    fake: FakeTwilio
    number: str
    channel: str = "sms"
    to: str = SMS_NUMBER
    seen: int = 0
    sids: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        """The From of this phone, as Twilio sends it."""
        return f"whatsapp:{self.number}" if self.channel == "whatsapp" else self.number

    def params(self, body: str, **extra: str) -> dict[str, str]:
        """The form Twilio would post for ``body`` from this phone."""
        sid = "SM" + uuid.uuid4().hex
        self.sids.append(sid)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.address,
            "To": WHATSAPP_NUMBER if self.channel == "whatsapp" else self.to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        if self.channel == "whatsapp":
            params |= {"ProfileName": "Canary Profile", "WaId": self.number.lstrip("+")}
        else:
            params |= {"FromCity": "KATHMANDU", "FromCountry": "NP"}
        return params | extra

    def post(self, params: dict[str, str], path: str = "/twilio/messaging"):  # type: ignore[no-untyped-def]
        """Post ``params`` signed as Twilio signs them."""
        sig = signature(AUTH_TOKEN, PUBLIC_URL + path, params)
        return self.client.post(path, data=params, headers={"X-Twilio-Signature": sig})

    def send(self, body: str, **extra: str) -> list[str]:
        """Send a message and return the replies it caused."""
        response = self.post(self.params(body, **extra))
        assert response.status_code == 200, response.data
        return self.replies()

    def replies(self) -> list[str]:
        """Replies received since the last call."""
        bodies = self.fake.bodies_to(self.address)
        new, self.seen = bodies[self.seen :], len(bodies)
        return new


@pytest.fixture
def phone(client: FlaskClient, fake_twilio: FakeTwilio) -> Phone:
    """A Nepali worker's phone on SMS (a canary number that must never be stored in clear)."""
    return Phone(client, fake_twilio, "+9779841315926")
