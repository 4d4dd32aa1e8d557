"""Machine translations of workers' words (and handlers' own words beside their translated
replies), cached encrypted for staff. Never sent to a worker, never shown to suppliers or
buyers; erased with the words they translate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

# Where a translation's text came from: a translation service, or the handler who wrote the
# reply (their words, kept beside the machine translation that was sent).
MACHINE, HANDLER = "machine", "handler"


class Translation(Base):
    """One text of a case in one target language: a message (once per message and language),
    or the worker's description (``message_id`` empty; ``source_hash`` tells when it grew)."""

    __tablename__ = "translations"
    __table_args__ = (
        Index("ux_translations_message_target", "message_id", "target", unique=True),
        Index("ix_translations_case_target", "case_id", "target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16))
    # A keyed hash of the source text (crypto.DataProtector.text_hashes): a description that
    # changed is translated again; the hash reveals nothing of short texts without the key.
    source_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16), default=MACHINE)
    text_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
