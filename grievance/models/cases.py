"""Cases, their timeline, and the record of case-code attempts used for rate limiting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import JSON

from grievance.clock import utcnow
from grievance.db import Base, UTCDateTime

STATUSES = (
    # A worker asked for a person before making any report: a queue item, category unknown.
    "requested",
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
# Statuses in which a case is still being worked on (the first seven, in lifecycle order).
OPEN_STATUSES = STATUSES[:7]
# Ways out of the line an open case can take at any stage.
_EXITS = frozenset({"out_of_scope", "referred", "withdrawn"})
# The lifecycle (docs/domain.md) as a table: the statuses each status may move to. Cases
# move forward through triage and remediation; a supplier's plan can go back to the
# supplier or to triage; the worker's answer resolves it or sends it back; an appeal
# reopens a closed, resolved, out-of-scope or referred case into triage. Withdrawn is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"received", "acknowledged", "in_triage"}) | _EXITS,
    "received": frozenset({"acknowledged", "in_triage", "with_supplier"}) | _EXITS,
    "acknowledged": frozenset({"in_triage", "with_supplier"}) | _EXITS,
    "in_triage": frozenset({"with_supplier", "awaiting_worker", "closed"}) | _EXITS,
    "with_supplier": frozenset({"remediation_in_progress", "in_triage"}) | _EXITS,
    "remediation_in_progress": frozenset(
        {"awaiting_worker", "with_supplier", "in_triage", "closed"}
    )
    | _EXITS,
    "awaiting_worker": frozenset(
        {"resolved", "in_triage", "with_supplier", "remediation_in_progress", "closed"}
    )
    | _EXITS,
    "resolved": frozenset({"closed", "in_triage"}),
    "closed": frozenset({"in_triage"}),
    "referred": frozenset({"in_triage"}),
    "out_of_scope": frozenset({"in_triage"}),
    "withdrawn": frozenset(),
}


class StatusError(ValueError):
    """A move the lifecycle does not allow; the message says which."""


def check_move(current: str, new: str) -> None:
    """Raise :class:`StatusError` unless a case may move from ``current`` to ``new``."""
    if new not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing: it is final"
        raise StatusError(
            f"a case cannot move from {current.replace('_', ' ')} to {new.replace('_', ' ')} "
            f"(from {current.replace('_', ' ')} it can move to {allowed.replace('_', ' ')})"
        )


_OPEN_SQL = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
# What each category code means, in words, for staff and for readers outside the mechanism.
CATEGORY_LABELS = {
    "FL-MOV": "Forced labour: passport or ID kept, movement restricted",
    "FL-FEE": "Forced labour: recruitment fees",
    "FL-DEBT": "Forced labour: debt, wages withheld",
    "VIO": "Violence and harassment",
    "CHILD": "Child labour",
    "RET": "Retaliation",
    "OSH": "Health and safety",
    "HRS": "Working hours",
    "WAGE": "Wages",
    "LIV": "Living conditions",
    "ABUSE": "Abuse",
    "FOA": "Freedom of association",
    "EMP": "Employment terms",
    "INFO": "Questions, out of scope",
    "OTHER": "Something else",
}
SEVERITIES = ("P0", "P1", "P2", "P3")
# docs/domain.md: the default severity of each category a worker can choose at intake.
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
    __table_args__ = (
        Index("ix_cases_queue", "status", "severity", "id"),
        # Cases whose worker waits on a person: few, found at once on every queue view.
        Index(
            "ix_cases_waiting",
            "status",
            "id",
            postgresql_where=text("attention = 0"),
            sqlite_where=text("attention = 0"),
        ),
        # The handlers' queue: open cases in queue order, so the first page and every
        # keyset page read 51 index entries however many cases there are.
        *(
            Index(
                f"ix_cases_open_queue{suffix}",
                *prefix,
                "severity",
                "attention",
                "due_at",
                "id",
                postgresql_where=text(_OPEN_SQL),
                sqlite_where=text(_OPEN_SQL),
            )
            # The same order within the filters handlers use most.
            for suffix, prefix in (
                ("", ()),
                ("_category", ("category",)),
                ("_site", ("site_id",)),
                ("_supplier", ("supplier_id",)),
            )
        ),
    )

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
    # The worker chose stage messages that say the news itself (readable by whoever sees the phone).
    full_updates: Mapped[bool] = mapped_column(default=False, server_default=false())
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set on every change (ORM or Core update): the live queue asks "anything since?" by it.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Triage: who has it, where it happened, what the handler found.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The assignment rule that gave the case its assignee (GRIEVANCE_ASSIGNMENT_FILE); None
    # when a person assigned it, which rules then never change.
    assignment_rule: Mapped[str | None] = mapped_column(String(64))
    supplier_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    # ILO forced-labour indicators the handler found (codes of INDICATORS).
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the current stage's clock started (triage runs from receipt).
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the overdue current stage was escalated (at most once per stage).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the current stage's time frame ends (None when the stage has none).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # The handler's summary, and the redacted one a supplier sees: never the worker's words.
    summary: Mapped[str | None] = mapped_column(Text)
    supplier_summary: Mapped[str | None] = mapped_column(Text)
    close_reason: Mapped[str | None] = mapped_column(Text)
    # A lowering of a P0/P1 waiting for a second reviewer: {"severity", "by", "reason"}.
    pending_severity: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # When retention erased the worker's words, attachments and contact from this case.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The worker's last word on the remedy (models.remediation.WORKER_ANSWERS).
    worker_answer: Mapped[str | None] = mapped_column(String(16))
    # How it was closed: outcome, the remedy types given, and a closing awaiting a second reviewer.
    outcome: Mapped[str | None] = mapped_column(String(16))
    remedy_types: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    pending_close: Mapped[dict[str, object] | None] = mapped_column(JSON)
    # The worker's 1-5 answer to the closing question.
    satisfaction: Mapped[int | None]
    reopened: Mapped[int] = mapped_column(default=0, server_default="0")
    # A case opened from another: a retaliation check-in answered "yes".
    # Where the worker came from (ISO country, recorded by a handler): with the site's
    # country it makes the migration corridor reports group by.
    origin_country: Mapped[str | None] = mapped_column(String(2))
    linked_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # The worker asked for a person and no handler has written to them since.
    handover_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Messages from the worker that landed on the case since a handler last opened it.
    unread_worker_messages: Mapped[int] = mapped_column(default=0, server_default="0")
    last_worker_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 0 when the worker is waiting on a person (asked for one, or wrote and nobody has
    # read it), else 1: the queue puts these first within each severity.
    attention: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    # False while the worker has not been given a code for this case (a request for a
    # person, an urgent case opened mid-report): their next report fills this case and
    # gives the code then.
    code_issued: Mapped[bool] = mapped_column(default=True, server_default=true())
    # How many workers the problem affects, as the worker said: "me", "few" or "many"
    # (models.recruitment.AFFECTED); None: not said. "many" raised the severity one level.
    affected: Mapped[str | None] = mapped_column(String(8))
    # Reported by the sender for someone else, with their agreement; news goes to the sender.
    on_behalf: Mapped[bool] = mapped_column(default=False, server_default=false())

    def needs_attention(self) -> bool:
        """True while the worker waits on a person: they asked for one, or wrote unread words."""
        return self.handover_requested_at is not None or self.unread_worker_messages > 0


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


# How a handler links two cases (services/duplicates.py): the same problem reported twice,
# or two problems that bear on each other.
LINK_KINDS = ("duplicate", "related")


class CaseLink(Base):
    """Two cases a handler linked: shown on both pages, removed by either. One row per pair,
    the lower case id first, so a pair cannot be linked twice the other way round."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("case_id", "other_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseMerge(Base):
    """A duplicate merged into its primary case. The duplicate keeps its row, messages and
    timeline (nothing moves or is deleted): it is closed, and the primary's page shows its
    history. A duplicate is merged once, so its id is the key."""

    __tablename__ = "case_merges"

    duplicate_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    primary_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    merged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)


def not_merged() -> ColumnElement[bool]:
    """Cases that were not merged into another. A merged duplicate is closed, and what the
    worker writes, asks or appeals belongs to its primary; reports count the problem once."""
    return Case.id.not_in(select(CaseMerge.duplicate_id))


class AssignmentTurn(Base):
    """Whose turn it is in an assignment rule's round-robin: the handler who had the last case."""

    __tablename__ = "assignment_turns"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CodeAttempt(Base):
    """A STATUS lookup with a code; wrong ones are rate limited per sender and globally."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_contact_at", "contact_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)


# The ILO's eleven indicators of forced labour, as handlers tick them.
INDICATORS = {
    "vulnerability": "abuse of vulnerability",
    "deception": "deception",
    "movement": "restriction of movement",
    "isolation": "isolation",
    "violence": "physical and sexual violence",
    "threats": "intimidation and threats",
    "documents": "retention of identity documents",
    "wages": "withholding of wages",
    "debt": "debt bondage",
    "conditions": "abusive working and living conditions",
    "overtime": "excessive overtime",
}


class CallRequest(Base):
    """The worker asked to be called at a safe time, perhaps on another, safer number.

    Both are encrypted; a handler on the case sees the number only by revealing it,
    and every reveal is audited. No number: the worker's own.
    """

    __tablename__ = "call_requests"
    __table_args__ = (Index("ix_call_requests_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    time_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    reveals: Mapped[int] = mapped_column(default=0, server_default="0")


class CaseNote(Base):
    """An internal note by a handler; encrypted, never shown to suppliers or buyers."""

    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralOrg(Base):
    """An organisation that helps, added by an admin in the browser: part of the one
    directory with the contacts file (services/directory.py), marked for its uses."""

    __tablename__ = "referral_orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    how_to_reach: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The number a worker can call (required to give the entry to workers).
    phone: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16), default="other", server_default="other")
    # grievance.contacts.USES; rows from before the one list are staff referrals only.
    uses: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["referrals"], server_default='["referrals"]'
    )
    nationals: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    hours: Mapped[str | None] = mapped_column(String(200))


class ContactGiven(Base):
    """An organisation's details were given to a worker: counted, never said to whom.

    No case, no contact, and the month only (a day or time could be matched to a message)."""

    __tablename__ = "contacts_given"
    __table_args__ = (Index("ix_contacts_given_month", "month", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    # "emergency" (danger), "rights" (who to call), "referral" (a handler sent it).
    given_as: Mapped[str] = mapped_column(String(16))
    month: Mapped[str] = mapped_column(String(7))


class SiteAlert(Base):
    """Three or more similar cases from one site within 30 days: a pattern, not an incident."""

    __tablename__ = "site_alerts"
    __table_args__ = (Index("ix_site_alerts_site_category", "site_id", "category", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))
    cases: Mapped[int]
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# Why staff were alerted about a case at once (services/alerts.py).
ALERT_REASONS = ("danger", "new_p1", "person", "reply")


class StaffAlert(Base):
    """An immediate alert about a case, by email and in the browser: one per case and reason
    while it waits.

    The partial unique index holds at most one alert per case and reason that nobody has
    seen to yet (``cleared_at`` is null): a retried job, a second danger message or a worker
    writing five times before a handler reads the case alert once. Seeing to it (a handler
    answers the worker, or opens the case) clears it, so the next one alerts again.
    """

    __tablename__ = "staff_alerts"
    __table_args__ = (
        Index(
            "ux_staff_alerts_waiting",
            "case_id",
            "reason",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
            sqlite_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    # How many staff the email went to.
    recipients: Mapped[int] = mapped_column(default=0)
    # Whom it is addressed to: the assignee alone, or (null) everyone on duty. The browser's
    # notifications (static/notify.js) show each handler the alerts their email showed them.
    # A plain number, no foreign key: users are deactivated, never deleted, and SQLite cannot
    # add a foreign key to an existing table without copying it.
    user_id: Mapped[int | None]
    mail_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
