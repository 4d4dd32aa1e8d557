"""A local SMTP server (aiosmtpd) for tests of staff emails: what each address received."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_on_a_free_port(handler: object) -> Iterator[int]:
    """A local SMTP server (aiosmtpd) answering with ``handler``; its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class Received:
    """One email as the server took it: its envelope recipients, subject and body."""

    to: list[str]
    subject: str
    body: str


@dataclass
class Mailbox:
    """Every email a test's SMTP server accepted, in order."""

    port: int = 0
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?starttls=0"

    def to(self, address: str) -> list[Received]:
        """The emails ``address`` received."""
        return [mail for mail in self.received if address in mail.to]

    def clear(self) -> None:
        self.received.clear()


@contextmanager
def mailbox() -> Iterator[Mailbox]:
    """A local SMTP server that accepts everything and keeps it in a :class:`Mailbox`."""
    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed: Message = email.message_from_bytes(envelope.content)
            payload = parsed.get_payload(decode=True)
            body = payload.decode() if isinstance(payload, bytes) else str(payload)
            box.received.append(Received(sorted(envelope.rcpt_tos), str(parsed["Subject"]), body))
            return "250 OK"

    with smtp_on_a_free_port(Handler()) as port:
        box.port = port
        yield box
