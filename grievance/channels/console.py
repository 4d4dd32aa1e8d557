"""The console channel: development without Twilio. Messages go to a mailbox and the terminal."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import defaultdict, deque
from typing import TextIO

from grievance.channels.base import MediaError, OutboundMessage, SendResult


def simulator_address(phone_id: str, channel: str) -> str:
    """The console address of a simulated phone (the web simulator's or ``grievance
    simulate``'s); never a real number."""
    return f"whatsapp:sim-{phone_id}" if channel == "whatsapp" else f"sim:{phone_id}"


class ConsoleChannel:
    """Keeps sent messages per address for the phone simulator; optionally echoes them."""

    name = "console"

    def __init__(self, echo: TextIO | None = None, keep: int = 200) -> None:
        self._echo = echo
        self._keep = keep
        self._lock = threading.Lock()
        self._boxes: dict[str, deque[tuple[int, str]]] = defaultdict(
            lambda: deque(maxlen=self._keep)
        )
        # Numbers keep rising across restarts, so an open simulator tab keeps working.
        self._ids = itertools.count(int(time.time() * 1000))

    def send(self, message: OutboundMessage) -> SendResult:
        """Put the message in the recipient's mailbox."""
        with self._lock:
            number = next(self._ids)
            self._boxes[message.to].append((number, message.body))
        if self._echo is not None:
            print(f"[console → {message.to}] {message.body}", file=self._echo, flush=True)
        return SendResult(provider_sid=f"CONSOLE{number:016d}", status="delivered")

    def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """The console channel has no media server."""
        raise MediaError("the console channel cannot fetch media", retryable=False)

    def delete_message(self, provider_sid: str) -> bool:
        """The console keeps nothing beyond its in-memory mailboxes."""
        return False

    def mailbox(self, address: str, after: int = 0) -> list[tuple[int, str]]:
        """Messages sent to ``address`` with a sequence number above ``after``."""
        with self._lock:
            return [(n, body) for n, body in self._boxes.get(address, ()) if n > after]


def stdout_console() -> ConsoleChannel:
    """A console channel that prints what it sends (``grievance serve``)."""
    return ConsoleChannel(echo=sys.stdout)
