"""Privacy invariants: a canary number and the case code appear nowhere they must not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text

from grievance.app import create_app
from grievance.config import Settings
from grievance.runtime import Runtime, build_runtime
from tests.conftest import Phone, environment
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import report
from tests.support.privacy import all_rows_text

CANARY = "+9779841315926"
CANARY_FORMS = [CANARY, CANARY[1:], "9841315926", "984 131 5926"]


def assert_nowhere(haystack: str | bytes, needles: list[str], where: str) -> None:
    for needle in needles:
        probe = needle.encode() if isinstance(haystack, bytes) else needle
        assert probe not in haystack, f"{needle!r} found in {where}"


def test_canary_number_and_code_appear_nowhere(
    phone: Phone, runtime: Runtime, fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = report(phone)
    phone.send(f"STATUS {code}")
    digits = code.replace(" ", "")
    # The canary really went through the system: Twilio was asked to send to it.
    assert fake_twilio.bodies_to(CANARY)
    assert_nowhere(all_rows_text(runtime), [*CANARY_FORMS, digits, code], "the database")
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert_nowhere(logged, [*CANARY_FORMS, digits, code], "the logs")
    if runtime.settings.is_sqlite:
        path = Path(runtime.settings.database_url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                assert_nowhere(file.read_bytes(), [*CANARY_FORMS, digits], str(file.name))


def test_job_payloads_carry_ids_only(
    postgres_url: str, redis_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    import redis

    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_url)
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    settings = Settings.from_env(
        environment(postgres_url, tmp_path / "instance", fake_twilio, REDIS_URL=redis_url)
    )
    runtime = build_runtime(settings)
    try:
        client: FlaskClient = create_app(runtime=runtime).test_client()
        phone = Phone(client, fake_twilio, CANARY)
        phone.channel = "whatsapp"
        url = fake_twilio.add_media("voice", b"OggS fake voice note", "audio/ogg")
        phone.post(
            phone.params(
                "hi, my passport was taken",
                NumMedia="1",
                MediaUrl0=url,
                MediaContentType0="audio/ogg",
            )
        )
        keys = connection.keys("rq:job:*")
        assert keys, "the webhook enqueued no job"
        dump = b"".join(
            b"".join(str(v).encode() for v in connection.hgetall(key).values())
            if connection.type(key) == b"hash"
            else b""
            for key in keys
        )
        assert b"process_waiting" in dump
        assert_nowhere(dump, [*CANARY_FORMS, "passport", "fake voice"], "RQ job payloads")
    finally:
        connection.flushdb()
        runtime.close()


def test_phone_like_text_is_redacted_from_log_lines() -> None:
    from grievance.logs import RedactingFilter

    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "To number %s is invalid", (CANARY,), None
    )
    RedactingFilter().filter(record)
    assert CANARY not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_reprs_of_messages_hide_address_and_body() -> None:
    from grievance.channels.base import OutboundMessage
    from grievance.services.inbox import InboundMessage

    out = OutboundMessage(to=CANARY, body="your code is 1234", channel="sms")
    inbound = InboundMessage(provider_sid="SM1", address=CANARY, channel="sms", body="secret words")
    for thing in (out, inbound):
        assert CANARY not in repr(thing)
        assert "1234" not in repr(out)
        assert "secret" not in repr(inbound)


def test_sqlite_deletes_securely(sqlite_url: str, tmp_path: Path) -> None:
    runtime = build_runtime(Settings.from_env(environment(sqlite_url, tmp_path / "instance", None)))
    try:
        with runtime.db.connect() as connection:
            assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        runtime.close()


def test_a_case_code_the_worker_types_is_forgotten_once_read(
    phone: Phone, runtime: Runtime
) -> None:
    from grievance.models import Message
    from grievance.services.inbox import inbound_body

    code = report(phone)
    digits = code.replace(" ", "")
    for sent in (f"STATUS {code}", f"status {code.replace(' ', '-')}"):
        reply = phone.send(sent)
        assert any("Case" in text or "case" in text for text in reply)  # it was read and answered
    phone.send("STATUS")
    phone.send(digits)  # the two-step way: the code on its own
    with runtime.sessions() as session:
        bodies = [inbound_body(runtime, m) for m in session.scalars(select(Message))]
    assert all(digits not in body and code not in body for body in bodies)  # decrypted, even
    assert sum("[case code]" in body for body in bodies) == 3
