"""A scripted channel for tests: records sends and fails on demand."""

from __future__ import annotations

import itertools
import threading
from collections import deque

from grievance.channels.base import DeliveryError, OutboundMessage, SendResult


class FakeChannel:
    """Records every message; ``fail_next`` queues errors to raise instead of sending."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self._failures: deque[DeliveryError] = deque()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def fail_next(self, *errors: DeliveryError) -> None:
        """Raise these errors, one per send, before sending normally again."""
        self._failures.extend(errors)

    def send(self, message: OutboundMessage) -> SendResult:
        """Record ``message`` or raise the next scripted failure."""
        with self._lock:
            if self._failures:
                raise self._failures.popleft()
            self.sent.append(message)
            return SendResult(provider_sid=f"SMFAKE{next(self._ids):026d}", status="queued")

    def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """Return media registered in ``media``."""
        return self.media[url]
