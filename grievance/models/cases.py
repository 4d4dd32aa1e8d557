"""Cases, their timeline, and the record of case-code attempts used for rate limiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

STATUSES = (
    "received",
    "acknowledged",
    "in_triage",
    "with_supplier",
    "remediation_in_progress",
    "awaiting_worker",
    "resolved",
    "closed",
    "referred",
    "out_of_scope",
    "withdrawn",
)
# Statuses in which a case is still being worked on (the first six, in lifecycle order).
OPEN_STATUSES = STATUSES[:6]
SEVERITIES = ("P0", "P1", "P2", "P3")
# DOMAIN.md: the default severity of each category a worker can choose at intake.
DEFAULT_SEVERITY = {
    "FL-MOV": "P1",
    "FL-FEE": "P1",
    "FL-DEBT": "P1",
    "VIO": "P1",
    "CHILD": "P1",
    "RET": "P1",
    "OSH": "P2",
    "HRS": "P2",
    "WAGE": "P2",
    "LIV": "P2",
    "ABUSE": "P2",
    "FOA": "P2",
    "EMP": "P3",
    "INFO": "P3",
}


class Case(Base):
    """A grievance. Anonymous: linked to a contact only until the contact is purged."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_queue", "status", "severity", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Which data key the code hash was made with; re-hashed under the newest on use.
    code_key_id: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), default="received")
    # What the worker chose at intake (a first guess) and what the handler decides.
    reported_category: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(2))
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    workplace: Mapped[str | None] = mapped_column(Text)
    description_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    in_danger: Mapped[bool] = mapped_column(default=False)
    wants_updates: Mapped[bool] = mapped_column(default=False)
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When retention erased the worker's words, attachments and contact from this case.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseEvent(Base):
    """One entry of a case's timeline: who did what, when and why. Append-only."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class CodeAttempt(Base):
    """A STATUS lookup with a code; wrong ones are rate limited per sender and globally."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_contact_at", "contact_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
