"""Logging: one format with request and job ids, and no personal data at any level.

Phone numbers never reach a log line: code logs ids, not addresses, and a
filter masks anything that still looks like a number. Message bodies are
never logged. Exceptions are logged by type and stack, not by message,
because libraries quote their input in messages (Twilio's 400s repeat the
number).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

# Anything that looks like a phone number: + and 7 or more digits, spaces and dashes allowed,
# standing on its own (not the digits inside a job id such as 5f3a-6777678d).
# A run of 8 or more digits with spaces or dashes: a phone number, whatever its plan.
PHONE_RUN = re.compile(r"(?<![\w.-])(?:whatsapp:)?\+?\d[\d \-]{6,}\d(?![\w])")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_id", default=None)


def redact(text: str, mask: str = "[redacted]") -> str:
    """Mask phone-number-like runs."""
    return PHONE_RUN.sub(mask, text)


class RedactingFilter(logging.Filter):
    """Last line of defence: mask phone-number-like runs; add the request and job ids."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.request_id = request_id.get() or "-"
        record.job_id = job_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "job_id": getattr(record, "job_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s job=%(job_id)s] %(message)s"


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Log to stderr through the redacting filter; twilio's HTTP client only from WARNING."""
    root = logging.getLogger()
    if not any(getattr(h, "_grievance", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
        handler.addFilter(RedactingFilter())
        handler._grievance = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # It writes URLs and form parameters (phone numbers) at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def new_id() -> str:
    """A short random id for a request or job."""
    return uuid.uuid4().hex[:16]


@contextmanager
def job_context(current: str | None = None) -> Iterator[str]:
    """Tag every log line inside with a job id (RQ's, or a fresh one)."""
    token = job_id.set(current or new_id())
    try:
        yield job_id.get() or ""
    finally:
        job_id.reset(token)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failure with its type and stack but not its message, which may quote personal data."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s", what, type(exc).__name__)
    logger.debug("%s: %s\n%s", what, type(exc).__name__, stack)


class JobFailed(Exception):
    """What a failed job leaves in RQ's failed-job registry: the job and the error type only.

    The original exception is not chained: its message (and the messages of
    any exception it wraps) may quote a phone number or a message body.
    """
