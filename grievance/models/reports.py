"""Long exports run as jobs with visible progress, and the published quarters of reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime


class Export(Base):
    """An export a user asked for: its progress while it runs, then the encrypted file."""

    __tablename__ = "exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # queued, running, done, failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str | None] = mapped_column(String(200))
    content_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReportRelease(Base):
    """A quarter's report figures as published to one audience, frozen at first publication.

    It holds only what was shown ("12", "<10", "–"), never a hidden count. Every report an
    aggregate reader can obtain is read from these, so that no two of them can be
    differenced into a count a table hides (see grievance.reports.releases).
    """

    __tablename__ = "report_releases"
    __table_args__ = (UniqueConstraint("audience", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "all" (staff: every case) or "buyer:<organisation id>" (its linked suppliers' cases).
    audience: Mapped[str] = mapped_column(String(40))
    quarter: Mapped[str] = mapped_column(String(7))  # 2026-Q3
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
