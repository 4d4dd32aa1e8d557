"""Email to staff (escalations): SMTP in production, the console by default.

Emails to staff carry a case number and a link, never case content: mailboxes
are forwarded, synced to phones and read over shoulders.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections import deque
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


class Mailer(Protocol):
    """Sends one plain-text email."""

    def send(self, to: list[str], subject: str, body: str) -> None:
        """Send ``body`` to every address of ``to``."""
        ...


class ConsoleMailer:
    """Writes emails to the log (the development default); keeps the last ones for inspection."""

    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[tuple[list[str], str, str]] = deque(maxlen=keep)

    def send(self, to: list[str], subject: str, body: str) -> None:
        """Log the email instead of sending it."""
        self.sent.append((list(to), subject, body))
        log.info("email to %s recipients (console backend): %s\n%s", len(to), subject, body)


class SmtpMailer:
    """Sends through an SMTP server: ``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://...:465``."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "GRIEVANCE_SMTP_URL looks like smtp://user:password@host:587 or smtps://...:465"
            )
        self._ssl = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._ssl else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._starttls = not self._ssl and "starttls=0" not in parts.query
        self._sender = sender
        self._timeout = timeout

    def send(self, to: list[str], subject: str, body: str) -> None:
        """Send one message to all recipients, who do not see each other's addresses."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = "undisclosed-recipients:;"
        message["Subject"] = subject
        message.set_content(body)
        context = ssl.create_default_context()
        if self._ssl:
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            server = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with server:
            if self._starttls:
                server.starttls(context=context)
            if self._user:
                server.login(self._user, self._password or "")
            server.send_message(message, from_addr=self._sender, to_addrs=to)
