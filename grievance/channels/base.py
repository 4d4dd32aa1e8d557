"""The Channel protocol: how a message leaves the system and how media comes in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """One message to send. ``to`` is a decrypted address and must never be logged."""

    to: str
    body: str
    channel: str  # "sms" | "whatsapp" | "console"
    from_address: str | None = None
    status_callback: str | None = None
    # An approved WhatsApp template sent instead of ``body`` (which then only
    # shows what the template says, for channels without templates).
    content_sid: str | None = None
    # The template's variables as Twilio takes them: JSON like {"1": "54", "2": "3.9"}.
    content_variables: str | None = None
    # The template's name in GRIEVANCE_WHATSAPP_TEMPLATES, recorded on the message.
    template: str | None = None

    def __repr__(self) -> str:  # keep the address and body out of tracebacks and logs
        return f"OutboundMessage(channel={self.channel!r}, chars={len(self.body)})"


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_sid: str
    status: str


class DeliveryError(Exception):
    """A send that failed; ``retryable`` says whether trying again may help.

    The message is written for operators and never contains the address or body:
    providers echo phone numbers in their errors.
    """

    def __init__(
        self, reason: str, *, retryable: bool, code: str | None = None, opted_out: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.opted_out = opted_out


class MediaError(Exception):
    """A media file that could not be fetched; the message names no person.

    ``retryable`` is False when trying again cannot help (a refused host, a file
    too large, a 4xx answer): the attachment is then given up, not retried forever.
    """

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Channel(Protocol):
    """Sends messages and fetches inbound media for one provider."""

    name: str

    def send(self, message: OutboundMessage) -> SendResult:
        """Hand ``message`` to the provider; raise :class:`DeliveryError` on failure."""
        ...

    def fetch_media(self, url: str, max_bytes: int) -> tuple[bytes, str]:
        """Download one inbound media file: (data, content type)."""
        ...

    def delete_message(self, provider_sid: str) -> bool:
        """Delete the provider's copy of a message and its media; False if it was already gone."""
        ...
