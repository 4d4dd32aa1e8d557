"""Recruitment agencies, and what a worker said about who recruited them and what they paid.

The worker's words (the agency's name as they wrote it, where, how much) are encrypted and
erased by retention with the rest of the case. What a handler decides from them stays: the
agency record the case is linked to, the country and the amount read from the words. Those
are the programme's own records and what the reports by agency count.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, LargeBinary, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

# The categories whose intake asks who recruited the worker.
RECRUITMENT_CATEGORIES = ("FL-FEE", "FL-DEBT")
# How many workers a problem affects, as the worker said after the code.
AFFECTED = ("me", "few", "many")


class Agency(Base):
    """A recruitment agency or agent, as handlers name it. A merged agency points to the one
    it was merged into and is no longer offered; its cases count under the survivor."""

    __tablename__ = "recruitment_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # ISO country where it recruits (the worker's country of origin, usually).
    country: Mapped[str | None] = mapped_column(String(2))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("recruitment_agencies.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseRecruitment(Base):
    """Who recruited the worker of one case, where, and what they paid."""

    __tablename__ = "case_recruitment"
    __table_args__ = (Index("ix_case_recruitment_agency", "agency_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    # {"agency": ..., "country": ..., "fee": ...}: the worker's own words, as JSON, encrypted.
    words_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    country: Mapped[str | None] = mapped_column(String(2))
    fee_amount: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("recruitment_agencies.id", ondelete="SET NULL")
    )
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgencyAlert(Base):
    """Three or more fee or debt cases linked to one agency: a recruiter's pattern."""

    __tablename__ = "agency_alerts"
    __table_args__ = (Index("ix_agency_alerts_agency", "agency_id", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("recruitment_agencies.id", ondelete="CASCADE")
    )
    cases: Mapped[int]
    suppliers: Mapped[int]
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
