"""Logging: one format, and the loggers that would print personal data kept quiet."""

from __future__ import annotations

import logging
import re

# Anything that looks like a phone number: + and 7 or more digits, spaces and dashes allowed.
_PHONE = re.compile(r"(?:whatsapp:)?\+?\d[\d \-]{6,}\d")


class RedactingFilter(logging.Filter):
    """Last line of defence: mask phone-number-like runs in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PHONE.sub("[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr with the redacting filter; twilio's HTTP client only from WARNING."""
    root = logging.getLogger()
    if not any(getattr(h, "_grievance", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        handler._grievance = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failure with its type and stack but not its message, which may quote personal data."""
    import traceback

    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s", what, type(exc).__name__)
    logger.debug("%s: %s\n%s", what, type(exc).__name__, stack)
