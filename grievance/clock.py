"""The wall clock for dates that are stored or shown, so tests and the engine can be given a time.

(Web sessions measure their age in ``time.time()`` seconds, which no test needs to move.)
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)
