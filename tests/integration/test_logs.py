"""Logs carry request and job ids and never a phone number; failed jobs keep no personal data."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from grievance import jobs
from grievance.logs import JobFailed, JsonFormatter, RedactingFilter
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.fake_twilio import FakeTwilio

NUMBER = "+9779841315926"


def test_every_response_names_its_request_id(client: FlaskClient) -> None:
    fresh = client.get("/healthz").headers["X-Request-Id"]
    assert len(fresh) == 16
    assert (
        client.get("/healthz", headers={"X-Request-Id": "proxy-id-1234"}).headers["X-Request-Id"]
        == "proxy-id-1234"
    )
    odd = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"]
    assert odd != "<script>"


def test_a_failing_job_leaves_only_its_error_type(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(_runtime: Runtime, _message_id: int) -> int:
        raise ValueError(f"The 'To' number {NUMBER} is not a valid phone number")

    monkeypatch.setattr("grievance.services.conversations.process_inbound", explode)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(JobFailed) as failure:
        jobs.process_inbound(1, runtime=runtime)
    assert str(failure.value) == "process_inbound failed: ValueError"
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__
    assert NUMBER not in caplog.text
    assert "ValueError" in caplog.text


def test_log_lines_carry_ids_and_mask_numbers(phone: Phone) -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "to %s", (NUMBER,), None)
    assert RedactingFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "to [redacted]"
    assert set(line) >= {"request_id", "job_id", "level", "logger", "time"}


def test_a_real_send_leaves_no_twilio_request_in_the_logs(
    phone: Phone, fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture
) -> None:
    """The twilio library's HTTP client logs each request's form, the worker's number and
    the text included, at INFO: a deployment at DEBUG must still never write it."""
    from grievance.logs import configure_logging

    root = logging.getLogger()
    level = root.level
    try:
        configure_logging("DEBUG")
        caplog.set_level(logging.DEBUG)
        phone.send("hello")  # the reply goes out through the twilio client
        assert fake_twilio.bodies_to(phone.number)  # it really was sent
        quoted = [r for r in caplog.records if r.name.startswith("twilio")]
        assert all(r.levelno >= logging.WARNING for r in quoted), [r.getMessage() for r in quoted]
        assert phone.number not in caplog.text
    finally:
        root.setLevel(level)
