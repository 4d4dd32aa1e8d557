"""The published rules of procedure: a version per language, kept whenever the page changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime


class ProcedureVersion(Base):
    """A published version of the rules of procedure in one language: a new row whenever the
    page's content (its catalog texts and the configured time frames) changes."""

    __tablename__ = "procedure_versions"
    __table_args__ = (UniqueConstraint("language", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
