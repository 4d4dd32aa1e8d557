"""Contacts: a worker's phone number or WhatsApp id, kept only as a keyed hash and ciphertext."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime


class Contact(Base):
    """Whoever writes to the line; never stores the number in clear."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    address_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    channel: Mapped[str] = mapped_column(String(16))
    # The business number or sender the worker wrote to: replies go out from it.
    our_address: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    language_confirmed: Mapped[bool] = mapped_column(default=False)
    # "zawgyi" when the worker's phone types Burmese in the legacy Zawgyi encoding: replies
    # go out in it too. Follows the worker's latest Burmese message; None: Unicode.
    script: Mapped[str | None] = mapped_column(String(16))
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # WhatsApp only: the worker agreed to an SMS when WhatsApp cannot reach them.
    sms_fallback: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handover_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Conversation(Base):
    """The engine's session for one contact, and when it next needs a timer."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), unique=True
    )
    flow_id: Mapped[str | None] = mapped_column(String(64))
    flow_version: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    wake_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
