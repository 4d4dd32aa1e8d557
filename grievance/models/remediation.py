"""Remediation: a supplier's plan for a case, its steps and evidence, the comments on it,
and the questions the mechanism puts to the worker (confirmation, satisfaction, check-ins)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

# A plan is drafted by the supplier, submitted, and accepted or returned by the handler;
# once accepted its steps are worked through, and the handler verifies them as complete.
PLAN_STATUSES = ("draft", "submitted", "returned", "accepted", "completed", "verified")
STEP_STATUSES = ("planned", "in_progress", "done")
# UNGP commentary to principle 25: the forms remedy takes.
REMEDY_TYPES = (
    "apology",
    "restitution",
    "rehabilitation",
    "compensation",
    "sanction",
    "guarantee_of_non_repetition",
)
REMEDY_LABELS = {
    "apology": "apology",
    "restitution": "restitution (fees repaid, back pay)",
    "rehabilitation": "rehabilitation",
    "compensation": "compensation",
    "sanction": "sanction",
    "guarantee_of_non_repetition": "guarantee of non-repetition",
}
OUTCOMES = ("resolved", "not_resolved")
# A duplicate merged into another case is closed with this outcome (services/duplicates.py);
# never one a handler chooses when closing, so not in OUTCOMES.
MERGED = "merged"
CASE_OUTCOMES = (*OUTCOMES, MERGED)
# What the mechanism asks a worker after a case moves, and when.
# "details": the optional questions a minute after the code (flows/details.yaml).
PROMPT_KINDS = ("confirm", "satisfaction", "checkin_30", "checkin_90", "details")
# The worker's answer to "is it solved?"; all but "confirmed" send the case back to the handler.
WORKER_ANSWERS = ("confirmed", "disputed", "person", "no_answer", "unreached")


class RemediationPlan(Base):
    """What a supplier will do to remedy a case; revised until accepted.

    A plan belongs to its supplier. A case has one current plan; when it is referred to another
    supplier the current plan is archived (``archived_at``), visible to staff only, and the new
    supplier starts fresh.
    """

    __tablename__ = "remediation_plans"
    __table_args__ = (
        Index(
            "uq_remediation_plans_current",
            "case_id",
            unique=True,
            sqlite_where=text("archived_at IS NULL"),
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # The category whose playbook the plan started from.
    playbook: Mapped[str | None] = mapped_column(String(16))
    # When the plan must be submitted (the "plan" time frame from the referral).
    due_on: Mapped[date | None] = mapped_column(Date)
    # How many times the handler sent it back.
    returns: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def current_plan(case_id: int) -> Select[RemediationPlan]:
    """The query for a case's current plan (the one not archived by a re-referral)."""
    return select(RemediationPlan).where(
        RemediationPlan.case_id == case_id, RemediationPlan.archived_at.is_(None)
    )


class RemediationStep(Base):
    """One thing the supplier will do, by whom and by when, and the evidence that it was done."""

    __tablename__ = "remediation_steps"
    __table_args__ = (Index("ix_remediation_steps_plan", "plan_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("remediation_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    # What the playbook says proves it done; a hint for the supplier.
    evidence_hint: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Evidence(Base):
    """A file proving a step done: stored encrypted, served only as a download."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(
        ForeignKey("remediation_steps.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanComment(Base):
    """A comment between handler and supplier on a plan; encrypted like handlers' notes."""

    __tablename__ = "plan_comments"
    __table_args__ = (Index("ix_plan_comments_plan", "plan_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("remediation_plans.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # "handler" or "supplier": which side wrote it, kept when the author is deleted.
    side: Mapped[str] = mapped_column(String(16))
    text_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkerPrompt(Base):
    """A question the mechanism owes a worker about a case, written with the change that
    causes it and sent when due (and when the worker is not in the middle of a report)."""

    __tablename__ = "worker_prompts"
    __table_args__ = (Index("ix_worker_prompts_due", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(String(16))
    # Set instead of sending when the worker cannot be reached (opted out, no contact).
    skipped: Mapped[str | None] = mapped_column(String(32))
