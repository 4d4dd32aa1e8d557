"""What case handlers do to a case: assign, categorise, set severity, acknowledge, note,
message the worker, refer, close. Each action checks the rules in docs/domain.md, records a
timeline event and an audit entry, and changes the case in the caller's transaction.

Rules: two or more forced-labour indicators make a case at least P1; a
category raises the severity to its default, never lowers it; lowering a P0 or
P1 needs a second person to approve it; messages to the worker go through the
outbox in the worker's language, and the worker's number is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from grievance import sla
from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.language.catalog import render
from grievance.models import (
    REPLY,
    Case,
    CaseEvent,
    CaseNote,
    Contact,
    Organisation,
    Site,
    User,
)
from grievance.models.cases import DEFAULT_SEVERITY, INDICATORS, OPEN_STATUSES, SEVERITIES
from grievance.models.remediation import current_plan
from grievance.runtime import Runtime
from grievance.services import assignments, directory
from grievance.services.cases import change_status
from grievance.services.outbox import queue_message

CANNED_REPLIES = (
    "handler.ask_more",
    "handler.working_on_it",
    "handler.call_offer",
    "handler.evidence_received",
    "handler.are_you_safe",
)
# Canned replies that ask something: the worker's answer is awaited and goes to the case as
# the answer to it (flows/question.yaml, by kind).
QUESTIONS = {
    "handler.ask_more": "ask_more",
    "handler.call_offer": "call_offer",
    "handler.are_you_safe": "are_you_safe",
}
FREE_QUESTION = "free_text"
MESSAGE_KEYS = (*CANNED_REPLIES, "handler.referral")
HANDLER_ROLES = ("admin", "handler")
MAX_TEXT = 1000


class TriageError(ValueError):
    """An action that breaks a rule; the message says why, for the handler."""


@dataclass
class Outcome:
    """What an action left to do after the commit: outbox rows to deliver."""

    outbox_ids: list[int]


def timeline_event(session: Session, case: Case, actor: User, kind: str, **data: object) -> None:
    session.add(CaseEvent(case_id=case.id, kind=kind, actor=f"user:{actor.id}", data=data))
    audit(
        session,
        actor,
        kind,
        case.id,
        ",".join(f"{k}={v}" for k, v in data.items() if v is not None) or None,
    )


def touch_due(runtime: Runtime, case: Case) -> None:
    """The current stage's due time again, after its severity changed."""
    if case.stage_started_at is not None:
        case.due_at = sla.due_at(
            case.status, case.severity, case.stage_started_at, runtime.settings.sla_frames
        )


def _open(case: Case) -> None:
    if case.status not in OPEN_STATUSES:
        raise TriageError(f"case #{case.id} is {case.status.replace('_', ' ')}; reopen it first")


def assign(
    session: Session, runtime: Runtime, case: Case, actor: User, assignee_id: int | None
) -> Outcome:
    """Give the case to a handler (or to nobody)."""
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or not assignee.active or assignee.role not in HANDLER_ROLES:
            raise TriageError("cases can be assigned only to active handlers and admins")
    case.assignee_id = assignee_id
    # A person's choice: the assignment rules never change it (nobody: the rules may again).
    case.assignment_rule = None
    timeline_event(session, case, actor, "assigned", to=assignee_id)
    return Outcome([])


# Countries of origin a handler can record, for reports by migration corridor (origin to the
# site's country). A list, not free text: nothing else about the worker can be typed here.
ORIGIN_COUNTRIES = {
    "AF": "Afghanistan",
    "BD": "Bangladesh",
    "KH": "Cambodia",
    "ET": "Ethiopia",
    "GH": "Ghana",
    "IN": "India",
    "ID": "Indonesia",
    "KE": "Kenya",
    "LA": "Laos",
    "MM": "Myanmar",
    "NP": "Nepal",
    "NG": "Nigeria",
    "PK": "Pakistan",
    "PH": "Philippines",
    "LK": "Sri Lanka",
    "SD": "Sudan",
    "TH": "Thailand",
    "UG": "Uganda",
    "UZ": "Uzbekistan",
    "VN": "Viet Nam",
}


def categorise(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    category: str,
    indicators: list[str],
    origin: str | None = None,
) -> Outcome:
    """Set the category, the forced-labour indicators and (when the worker said it) the
    country they came from; the severity rises to what the indicators require."""
    _open(case)
    if category not in DEFAULT_SEVERITY:
        raise TriageError(f"unknown category {category!r}")
    if origin and origin not in ORIGIN_COUNTRIES:
        raise TriageError(f"unknown country of origin {origin!r}")
    if origin is not None:
        case.origin_country = origin or None
    unknown = [i for i in indicators if i not in INDICATORS]
    if unknown:
        raise TriageError(f"unknown indicators: {', '.join(unknown)}")
    case.category = category
    case.indicators = sorted(set(indicators))
    floor = DEFAULT_SEVERITY[category]
    if len(case.indicators) >= 2:
        floor = min(floor, "P1")  # "P0" < "P1" < ...: the more urgent of the two
    raised = None
    if floor < case.severity:
        raised, case.severity = case.severity, floor
        touch_due(runtime, case)
    timeline_event(
        session,
        case,
        actor,
        "categorised",
        category=category,
        indicators=len(case.indicators),
        severity_from=raised,
        severity=case.severity,
    )
    outbox_ids = []
    if case.status in ("requested", "received"):
        # Categorising is a person taking the case: the worker is told (acknowledged).
        case.acknowledged_at = case.acknowledged_at or utcnow()
        outbox_ids += _move(session, runtime, case, actor, "acknowledged")
    if case.status == "acknowledged":
        outbox_ids += _move(session, runtime, case, actor, "in_triage")
    assignments.apply_rules(session, runtime, case)
    return Outcome(outbox_ids)


# Severities whose lowering, closing as out of scope or closing as not resolved needs a
# second person: one handler alone never makes a possible forced-labour case disappear.
SECOND_REVIEW = ("P0", "P1")


def set_severity(
    session: Session, runtime: Runtime, case: Case, actor: User, severity: str, reason: str
) -> Outcome:
    """Raise at once; lowering a P0 or P1 waits for a second reviewer."""
    _open(case)
    if severity not in SEVERITIES:
        raise TriageError(f"severity is one of {', '.join(SEVERITIES)}")
    if severity == case.severity:
        return Outcome([])
    reason = reason.strip()[:MAX_TEXT]
    lowering = severity > case.severity
    if lowering and case.severity in SECOND_REVIEW:
        if not reason:
            raise TriageError("say why the severity should be lowered")
        case.pending_severity = {"severity": severity, "by": actor.id, "reason": reason}
        timeline_event(session, case, actor, "severity_review_requested", to=severity)
        return Outcome([])
    previous, case.severity = case.severity, severity
    case.pending_severity = None
    touch_due(runtime, case)
    timeline_event(session, case, actor, "severity", severity_from=previous, severity=severity)
    return Outcome([])


def review_severity(
    session: Session, runtime: Runtime, case: Case, actor: User, approve: bool
) -> Outcome:
    """A second handler approves or rejects a pending lowering of a P0 or P1."""
    pending = case.pending_severity
    if not pending:
        raise TriageError("no change of severity is waiting for review")
    if pending.get("by") == actor.id:
        raise TriageError("a second person must review this; you asked for it")
    case.pending_severity = None
    if not approve:
        timeline_event(session, case, actor, "severity_review_rejected")
        return Outcome([])
    previous, case.severity = case.severity, str(pending["severity"])
    touch_due(runtime, case)
    timeline_event(
        session,
        case,
        actor,
        "severity",
        severity_from=previous,
        severity=case.severity,
        reviewed=True,
    )
    return Outcome([])


def acknowledge(session: Session, runtime: Runtime, case: Case, actor: User) -> Outcome:
    """Tell the worker a person has their case."""
    if case.status not in ("requested", "received"):
        raise TriageError(f"case #{case.id} is already {case.status.replace('_', ' ')}")
    case.acknowledged_at = utcnow()
    return Outcome(_move(session, runtime, case, actor, "acknowledged"))


def add_note(session: Session, runtime: Runtime, case: Case, actor: User, text: str) -> Outcome:
    """An internal note, encrypted; suppliers and buyers never see notes."""
    text = text.strip()
    if not text:
        raise TriageError("the note is empty")
    session.add(
        CaseNote(
            case_id=case.id,
            author_id=actor.id,
            text_encrypted=runtime.protector.encrypt(text[:5000]),
        )
    )
    timeline_event(session, case, actor, "note")
    return Outcome([])


def attach_referral(
    session: Session, runtime: Runtime, case: Case, actor: User, referral: str, tell_worker: bool
) -> Outcome:
    """Record a referral to an entry of the directory marked for referrals (``referral`` is
    its ref); optionally send its details to the worker, which is counted."""
    found = directory.find(session, runtime, referral)
    if found is None or not found.used_for("referrals"):
        raise TriageError("choose an organisation from the referral directory")
    timeline_event(session, case, actor, "referral_attached", referral=found.ref, name=found.name)
    if not tell_worker:
        return Outcome([])
    contact = reachable_contact(session, case)
    catalog = (
        runtime.catalogs.get(contact.language or case.language)
        or runtime.catalogs[runtime.settings.languages[0]]
    )
    body = render(
        catalog,
        "handler.referral",
        {"name": found.name, "how": directory.how_to_reach(found)},
        contact.channel,
    )
    item = queue_message(
        session,
        runtime,
        contact,
        body,
        catalog_key="handler.referral",
        case_id=case.id,
        priority=REPLY,
    )
    if item is None:
        raise TriageError("the worker sent STOP: nothing reaches them until they send START")
    directory.record_given(session, [found], "referral")
    return Outcome([item.id])


def refer_to_supplier(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    supplier_id: int,
    site_id: int | None,
    supplier_summary: str,
) -> Outcome:
    """Hand the case to the supplier for remediation, with a summary that identifies nobody."""
    _open(case)
    supplier = session.get(Organisation, supplier_id)
    if supplier is None or supplier.kind != "supplier":
        raise TriageError("choose a supplier organisation")
    if site_id is not None:
        site = session.get(Site, site_id)
        if site is None or site.supplier_id != supplier.id:
            raise TriageError("that site does not belong to this supplier")
    summary = supplier_summary.strip()
    if len(summary) < 20:
        raise TriageError(
            "write a summary for the supplier (at least 20 characters) that names no worker "
            "and quotes nothing the worker wrote"
        )
    if case.category is None:
        raise TriageError("categorise the case before referring it to the supplier")
    if case.supplier_id is not None and case.supplier_id != supplier.id:
        _archive_plan(session, case, actor)
    case.supplier_id, case.site_id = supplier.id, site_id
    case.supplier_summary = summary[: MAX_TEXT * 4]
    timeline_event(session, case, actor, "referred_to_supplier", supplier=supplier.id, site=site_id)
    assignments.apply_rules(session, runtime, case)
    return Outcome(_move(session, runtime, case, actor, "with_supplier"))


def _archive_plan(session: Session, case: Case, actor: User) -> None:
    """The case goes to another supplier: the current plan, with its steps, evidence and
    comments, stays with the supplier that wrote it, archived for staff to read; the new
    supplier starts fresh and never sees it."""
    plan = session.scalar(current_plan(case.id))
    if plan is not None:
        plan.archived_at = utcnow()
        timeline_event(session, case, actor, "plan_archived", supplier=plan.supplier_id)


def close_out_of_scope(
    session: Session, runtime: Runtime, case: Case, actor: User, reason: str
) -> Outcome:
    """Close a case the mechanism cannot handle, saying why (the worker is told the stage).
    A P0 or P1 case waits for a second person, as lowering its severity does."""
    _open(case)
    reason = reason.strip()
    if len(reason) < 10:
        raise TriageError("give the reason the case is out of scope (at least 10 characters)")
    if case.severity in SECOND_REVIEW:
        if case.pending_close:
            raise TriageError("a closing of this case is already waiting for a second reviewer")
        case.pending_close = {
            "by": actor.id,
            "outcome": "out_of_scope",
            "remedy_types": [],
            "reason": reason[:MAX_TEXT],
        }
        timeline_event(session, case, actor, "close_requested", outcome="out_of_scope")
        return Outcome([])
    return Outcome(move_out_of_scope(session, runtime, case, actor, reason))


def move_out_of_scope(
    session: Session, runtime: Runtime, case: Case, actor: User, reason: str
) -> list[int]:
    """Close as out of scope now (the worker is told); the outbox ids to deliver. A case
    closed some other way while the request waited for its reviewer stays as it is."""
    _open(case)
    case.close_reason = reason[:MAX_TEXT]
    case.pending_close = None
    return _move(session, runtime, case, actor, "out_of_scope")


def _move(session: Session, runtime: Runtime, case: Case, actor: User, status: str) -> list[int]:
    previous = case.status
    outbox_id = change_status(session, runtime, case, status, f"user:{actor.id}")
    audit(session, actor, "status", case.id, f"{previous}->{status}")
    return [outbox_id] if outbox_id is not None else []


def reachable_contact(session: Session, case: Case) -> Contact:
    contact = session.get(Contact, case.contact_id) if case.contact_id else None
    if contact is None or contact.address_encrypted is None:
        raise TriageError("the worker's contact was erased (retention); no message can reach them")
    return contact
