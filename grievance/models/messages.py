"""Messages in and out, their attachments, and the outbox that delivers them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

INBOUND = "in"
OUTBOUND = "out"

# Outbox priorities: a reply in a conversation, a notice about a case, a broadcast.
REPLY, NOTICE, BULK = 0, 1, 2


class Message(Base):
    """One message. Bodies are encrypted; only allowlisted provider fields are kept."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_contact_unprocessed", "contact_id", "processed_at", "id"),
        Index("ix_messages_case", "case_id", "id"),
        # The inbound messages still waiting to be processed (claimed in batches).
        Index(
            "ix_messages_inbound_waiting",
            "contact_id",
            "id",
            postgresql_where=text("processed_at IS NULL AND direction = 'in'"),
            sqlite_where=text("processed_at IS NULL AND direction = 'in'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    # Twilio's MessageSid: claimed once, so a redelivered webhook is ignored.
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    body_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Outbound only: the catalog key, so timelines and analytics need no body.
    catalog_key: Mapped[str | None] = mapped_column(String(100))
    # Outbound only: the body shows a case code and is erased once handed to the channel.
    sensitive: Mapped[bool] = mapped_column(default=False)
    # Outbound only: the approved WhatsApp template sent instead outside the 24-hour window.
    template_key: Mapped[str | None] = mapped_column(String(40))
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Inbound only: how often processing failed; set aside at MAX_ATTEMPTS (conversations).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # When the copy kept by the provider was deleted there (retention).
    provider_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryEvent(Base):
    """One delivery status of an outbound message, recorded once per (message, status)."""

    __tablename__ = "delivery_events"
    __table_args__ = (UniqueConstraint("message_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """A photo, voice note or document sent by a worker, stored encrypted."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    # Where the provider holds it until we fetch it; cleared after the download.
    source_url: Mapped[str | None] = mapped_column(Text)
    data_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    size: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class _Delivery:
    """What every outbox row holds about its sending: pending, sending (claimed), sent or
    failed; how often it was tried, when next, why it last failed."""

    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxItem(_Delivery, Base):
    """Delivery of one outbound message: written with the change that caused it, sent once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    # REPLY, NOTICE or BULK: replies to a worker mid-conversation go first.
    priority: Mapped[int] = mapped_column(SmallInteger, default=REPLY, server_default="0")
    # The pacing slot this row holds (services/outbox.py): set when a reply reserved a slot
    # that was not yet due, so it waits on the job schedule instead of in a sleeping worker,
    # and is sent at its time without reserving another.
    slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMail(_Delivery, Base):
    """One email to staff, written with the change that caused it and sent after its commit.

    Staff emails carry a case number and a link, never case content. A failed send is
    retried with backoff, like a message to a worker; one failure costs one email's delay,
    never another email's duplicate.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The body holds a secret (a one-time sign-in link): erased once sent or given up, so the
    # database never keeps a usable link.
    erase_body: Mapped[bool] = mapped_column(default=False, server_default=false())
