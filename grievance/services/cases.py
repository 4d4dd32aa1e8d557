"""Cases: opening one from an intake, and telling a worker where their cases stand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance import casecode, sla
from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.conversation import OpenCase
from grievance.language.catalog import render
from grievance.models import (
    NOTICE,
    Attachment,
    AuditEvent,
    Case,
    CaseEvent,
    CaseMerge,
    CodeAttempt,
    Contact,
    Message,
    User,
)
from grievance.models.cases import (
    DEFAULT_SEVERITY,
    OPEN_STATUSES,
    STATUSES,
    check_move,
    not_merged,
)
from grievance.runtime import Runtime
from grievance.services import alerts, assignments
from grievance.services.outbox import NOTICE_KEY, enqueue_delivery, queue_message

# Catalog keys this module sends; `grievance flows check` makes sure every catalog has them.
MESSAGE_KEYS = (
    "status.none",
    "status.not_found",
    "status.rate_limited",
    "status.code_mistyped",
    "status.code_length",
    "status.report",
    "status.due",
    "status.late",
    *(f"status.stage.{s}" for s in STATUSES),
)

log = logging.getLogger(__name__)

WORKER = "worker"


@dataclass(frozen=True)
class Reply:
    """A message for the worker: a catalog key and its parameters."""

    key: str
    params: dict[str, str]
    # Parameters that are themselves catalog messages, rendered in the worker's language.
    keyed_params: dict[str, str] | None = None


def severity_for(category: str | None, in_danger: bool, unclear: bool = False) -> str:
    """DOMAIN's default severity: P0 when in danger now, else by category.

    A category the worker's answer could not be read for is P2 until a handler decides:
    it may be a passport held as much as a question.
    """
    if in_danger:
        return "P0"
    if category is None and unclear:
        return "P2"
    return DEFAULT_SEVERITY.get(category or "", "P3")


def new_case(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    *,
    status: str,
    severity: str,
    language: str,
    flow: str,
    flow_version: int = 1,
    category: str | None = None,
    description: str | None = None,
    in_danger: bool = False,
    code_issued: bool = True,
) -> tuple[Case, str]:
    """A new case of ``contact`` and its code, whose hash alone is kept.

    With ``code_issued=False`` the caller never shows the code: the worker's next report
    fills this case and issues a code then (:func:`issue_code`).
    """
    category = category if category in DEFAULT_SEVERITY else None
    now = utcnow()
    description = (description or "").strip()
    for _ in range(5):
        code = casecode.generate()
        case = Case(
            contact_id=contact.id,
            code_hash=runtime.protector.code_hash(code),
            code_key_id=runtime.protector.code_key_ids[0],
            status=status,
            reported_category=category,
            category=category,
            severity=severity,
            language=language,
            channel=contact.channel,
            description_encrypted=runtime.protector.encrypt(description) if description else None,
            in_danger=in_danger,
            flow_id=flow,
            flow_version=flow_version,
            created_at=now,
            stage_started_at=now,
            due_at=sla.due_at(status, severity, now, runtime.settings.sla_frames),
            code_issued=code_issued,
        )
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            return case, code
        except IntegrityError:
            continue  # a code collision: 1 in 10^11 per pair, but never give two cases one code
    raise RuntimeError("could not draw a unique case code")


def issue_code(session: Session, runtime: Runtime, case: Case) -> str:
    """A new code for ``case`` (shown once by the caller); the old hash is replaced."""
    for _ in range(5):
        code = casecode.generate()
        try:
            with session.begin_nested():
                case.code_hash = runtime.protector.code_hash(code)
                case.code_key_id = runtime.protector.code_key_ids[0]
                case.code_issued = True
                session.flush()
            return code
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique case code")


class Opened(NamedTuple):
    """A case a report opened, its code (shown once, then forgotten), and the alerts' emails
    to enqueue after the commit."""

    case: Case
    code: str
    mails: list[int]


def open_case(session: Session, runtime: Runtime, contact: Contact, effect: OpenCase) -> Opened:
    """Create a case from an intake; a P0 or P1 case alerts the staff on duty at once.

    A case the worker has no code for yet (a request for a person, an urgent case opened
    in the middle of this report) is filled by the report instead of getting a twin. A
    retaliation report is always a new case, linked to the worker's latest one.
    """
    category = effect.category if effect.category in DEFAULT_SEVERITY else None
    description = (effect.description or "").strip()
    severity = severity_for(category, effect.in_danger, effect.category_unclear)
    # A retaliation report is a case of its own, never merged into another.
    retaliation = effect.retaliation or category == "RET"
    pending = None if retaliation else _codeless_case(session, contact.id)
    if pending is not None:
        case = pending
        _fill(session, runtime, case, effect, category, description, severity)
        code = issue_code(session, runtime, case)
    else:
        case, code = new_case(
            session,
            runtime,
            contact,
            status="received",
            severity=severity,
            language=effect.language,
            flow=effect.flow,
            flow_version=effect.flow_version,
            category=category,
            description=description,
            in_danger=effect.in_danger,
        )
        case.reported_category = effect.category
        case.workplace = (effect.workplace or "").strip() or None
        case.wants_updates = effect.wants_updates
        case.full_updates = effect.wants_updates and effect.full_updates
        session.add(
            CaseEvent(
                case_id=case.id,
                kind="received",
                actor=WORKER,
                data={
                    "reported_category": effect.category,
                    "severity": case.severity,
                    "in_danger": effect.in_danger,
                    "channel": contact.channel,
                    "language": effect.language,
                },
            )
        )
    if effect.retaliation:
        _link_to_latest(session, case, contact.id)
    if effect.category_unclear:
        session.add(CaseEvent(case_id=case.id, kind="category_unclear", actor=WORKER, data={}))
    if effect.sms_fallback and contact.channel == "whatsapp":
        contact.sms_fallback = True
    message_ids = [int(ref) for ref in effect.message_refs if str(ref).isdigit()]
    if message_ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(message_ids), Message.case_id.is_(None))
            .values(case_id=case.id)
        )
        session.execute(
            update(Attachment)
            .where(Attachment.message_id.in_(message_ids), Attachment.case_id.is_(None))
            .values(case_id=case.id)
        )
    assignments.apply_rules(session, runtime, case)
    log.info("case %s opened (severity %s)", case.id, case.severity)
    return Opened(case, code, alerts.case_opened(session, runtime, case))


def _codeless_case(session: Session, contact_id: int) -> Case | None:
    return session.scalars(
        select(Case)
        .where(
            Case.contact_id == contact_id,
            Case.code_issued.is_(False),
            Case.status.in_(OPEN_STATUSES),
        )
        .order_by(Case.id.desc())
        .limit(1)
    ).first()


def _fill(
    session: Session,
    runtime: Runtime,
    case: Case,
    effect: OpenCase,
    category: str | None,
    description: str,
    severity: str,
) -> None:
    """The report completes a case opened before it (a person asked for, danger)."""
    if case.category is None and category is not None:
        case.category = category
    if case.reported_category is None:
        case.reported_category = effect.category
    case.workplace = (effect.workplace or "").strip() or case.workplace
    if description:
        before = (
            runtime.protector.decrypt(case.description_encrypted)
            if case.description_encrypted
            else ""
        )
        case.description_encrypted = runtime.protector.encrypt(_joined(before, description))
    case.in_danger = case.in_danger or effect.in_danger
    case.wants_updates = effect.wants_updates
    case.full_updates = effect.wants_updates and effect.full_updates
    if severity < case.severity:  # "P0" < "P1": only ever raised here
        case.severity = severity
    previous = case.status
    if previous == "requested":
        change_status(session, runtime, case, "received", WORKER, notify=False)
    elif case.stage_started_at is not None:
        case.due_at = sla.due_at(
            case.status, case.severity, case.stage_started_at, runtime.settings.sla_frames
        )
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="report_added",
            actor=WORKER,
            data={"reported_category": effect.category, "severity": case.severity},
        )
    )


def _joined(before: str, after: str) -> str:
    """The case's words so far and the report's, each said once: the report's story often
    starts with the words the urgent case was opened with."""
    if not before or after.startswith(before):
        return after
    if after in before:
        return before
    return f"{before}\n{after}"


def _link_to_latest(session: Session, case: Case, contact_id: int) -> None:
    """A retaliation report: linked to the worker's latest other case, with its site."""
    latest = session.scalars(
        select(Case)
        .where(Case.contact_id == contact_id, Case.id != case.id, not_merged())
        .order_by(func.coalesce(Case.closed_at, Case.created_at).desc(), Case.id.desc())
        .limit(1)
    ).first()
    if latest is None or case.linked_case_id is not None:
        return
    case.linked_case_id = latest.id
    case.site_id = latest.site_id
    session.add(
        CaseEvent(
            case_id=latest.id, kind="retaliation_reported", actor=WORKER, data={"case": case.id}
        )
    )


def primary_of(session: Session, case: Case) -> Case | None:
    """The case ``case`` was merged into (following a primary that was itself merged
    later), or None when it was never merged."""
    primary = None
    for _ in range(MAX_MERGE_CHAIN):
        into = session.scalar(select(CaseMerge.primary_id).where(CaseMerge.duplicate_id == case.id))
        if into is None:
            break
        found = session.get(Case, into)
        if found is None:
            break
        primary = case = found
    return primary


# Merges are refused into a merged case, so a chain grows only when a primary is merged
# later; a few steps are plenty, and the bound keeps a bad row from looping.
MAX_MERGE_CHAIN = 8


def has_case(session: Session, contact_id: int) -> bool:
    """True when the contact has a case, open or closed, that STATUS can report on."""
    return session.scalar(select(Case.id).where(Case.contact_id == contact_id).limit(1)) is not None


def _case_with_code(session: Session, runtime: Runtime, normalized: str) -> Case | None:
    """The case whose code is ``normalized`` (a well-formed code), under any data key; a code
    still stored under the scrypt hash of before is looked up that way only while such
    cases exist, and moved to the keyed hash of the newest key now that we hold the code."""
    protector = runtime.protector
    hashes = protector.code_hashes(normalized)
    case = session.scalar(select(Case).where(Case.code_hash.in_(hashes)))
    if case is None and _legacy_codes_remain(session):
        legacy = protector.legacy_code_hashes(normalized)
        case = session.scalar(select(Case).where(Case.code_hash.in_(legacy)))
    if case is not None and case.code_hash != hashes[0]:
        case.code_hash = hashes[0]
        case.code_key_id = protector.code_key_ids[0]
    return case


def _legacy_codes_remain(session: Session) -> bool:
    """Whether any case still holds a code hash from before the keyed hash (its key id has
    no ``m``: see DataProtector.code_key_ids)."""
    return (
        session.scalar(select(Case.id).where(~Case.code_key_id.startswith("m")).limit(1))
        is not None
    )


class CodeSearchError(ValueError):
    """A code a handler typed that finds no case, with what to check, in words."""


# The audit's word for a search whose well-formed code named no case: a guess, counted
# toward the staff member's hourly allowance like a worker's wrong STATUS codes.
NO_SUCH_CASE = "no such case"


def find_by_code(session: Session, runtime: Runtime, actor: User, text: str) -> Case:
    """The case whose code a worker read out to a handler (on the phone, at a site visit).

    Only the code's keyed hash is stored, so this is the one way from a code to its case.
    Every search is audited, never with the code. As for STATUS, a mistyped digit is named
    and costs nothing; a well-formed code that names no case is a guess, and more than
    ``wrong_codes_per_sender_per_hour`` of them lock the searcher out for the hour."""
    now = utcnow()
    problem = casecode.problem(text)
    if problem is not None:
        kind, digits = problem
        audit(session, actor, "case_code_searched", None, "mistyped")
        raise CodeSearchError(
            "one digit looks mistyped (or two are swapped): read it back to the worker"
            if kind == "mistyped"
            else f"a case code has {casecode.LENGTH} digits; this has {digits}"
        )
    normalized = casecode.normalize(text)
    if normalized is None:
        audit(session, actor, "case_code_searched", None, "no code")
        raise CodeSearchError(f"type the {casecode.LENGTH} digits of the case code")
    guesses = session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.user_id == actor.id,
            AuditEvent.action == "case_code_searched",
            AuditEvent.detail == NO_SUCH_CASE,
            AuditEvent.at > now - timedelta(hours=1),
        )
    )
    if (guesses or 0) >= runtime.settings.wrong_codes_per_sender_per_hour:
        audit(session, actor, "case_code_searched", None, "locked")
        raise CodeSearchError(
            "too many codes found no case in the last hour; try again later, or find the "
            "case by its number or workplace"
        )
    case = _case_with_code(session, runtime, normalized)
    if case is None:
        audit(session, actor, "case_code_searched", None, NO_SUCH_CASE)
        raise CodeSearchError("no case has this code: check it with the worker")
    audit(session, actor, "case_code_searched", case.id, "found")
    return case


def status_replies(
    session: Session, runtime: Runtime, contact: Contact, code: str | None
) -> list[Reply]:
    """What to tell a worker who sent STATUS, with or without a code."""
    now = utcnow()
    if code is None:
        # A merged duplicate is told as the case it was merged into, which is listed itself.
        cases = session.scalars(
            select(Case)
            .where(Case.contact_id == contact.id, not_merged())
            .order_by(Case.id.desc())
            .limit(3)
        ).all()
        if not cases:
            return [Reply("status.none", {})]
        return [reply for case in cases for reply in _report(runtime, case)]
    if _rate_limited(session, runtime, contact.id, now):
        return [Reply("status.rate_limited", {})]
    problem = casecode.problem(code)
    if problem is not None:
        # A typo the check digit catches is no guess at someone else's code: say what is
        # wrong, and do not count it toward the lock.
        kind, digits = problem
        return [Reply(f"status.code_{kind}", {"n": str(digits)})]
    normalized = casecode.normalize(code)
    case = _case_with_code(session, runtime, normalized) if normalized is not None else None
    session.add(CodeAttempt(contact_id=contact.id, at=now, succeeded=case is not None))
    if case is None:
        return [Reply("status.not_found", {})]
    session.add(CaseEvent(case_id=case.id, kind="status_checked", actor=WORKER, data={}))
    primary = primary_of(session, case)
    if primary is not None:
        # The code of a merged duplicate still works: its problem is handled on the primary,
        # so the worker hears that case's stage, under the date of the report they know.
        return _report(runtime, primary, reported=case.created_at)
    return _report(runtime, case)


def _rate_limited(session: Session, runtime: Runtime, contact_id: int, now: datetime) -> bool:
    """Whether this sender has guessed wrong too often this hour. Only the sender is ever
    locked, never every worker: a guessing campaign over many numbers (more wrong codes in a
    minute than ``wrong_codes_global_per_minute``, from anyone) halves each sender's allowance
    instead, so its numbers lock sooner while a worker with the right code still gets in."""
    settings = runtime.settings
    allowance = settings.wrong_codes_per_sender_per_hour
    overall = session.scalar(
        select(func.count(CodeAttempt.id)).where(
            CodeAttempt.succeeded.is_(False), CodeAttempt.at > now - timedelta(minutes=1)
        )
    )
    if (overall or 0) >= settings.wrong_codes_global_per_minute:
        allowance = max(1, allowance // 2)
    per_sender = session.scalar(
        select(func.count(CodeAttempt.id)).where(
            CodeAttempt.contact_id == contact_id,
            CodeAttempt.succeeded.is_(False),
            CodeAttempt.at > now - timedelta(hours=1),
        )
    )
    return (per_sender or 0) >= allowance


def _report(runtime: Runtime, case: Case, reported: datetime | None = None) -> list[Reply]:
    """The stage in words, what happens next, and by when (the day the stage is due).

    ``reported``: the day of the report the worker asked about, when that is another case's
    (a duplicate merged into ``case``)."""
    replies = [
        Reply(
            "status.report",
            {"date": (reported or case.created_at).date().isoformat()},
            {"stage": f"status.stage.{case.status}"},
        )
    ]
    if case.due_at is not None and case.status in OPEN_STATUSES:
        # A stage past its day says so, with the day it was due: never a date quietly moved.
        late = case.due_at < utcnow()
        replies.append(
            Reply("status.late" if late else "status.due", {"date": case.due_at.date().isoformat()})
        )
    return replies


# Stages a worker hears about; the others (triage steps) change nothing they can act on.
WORKER_VISIBLE = frozenset(
    {
        "acknowledged",
        "with_supplier",
        "remediation_in_progress",
        "awaiting_worker",
        "resolved",
        "closed",
        "referred",
        "out_of_scope",
    }
)


def change_status(
    session: Session,
    runtime: Runtime,
    case: Case,
    status: str,
    actor: str,
    notify: bool = True,
) -> int | None:
    """Move a case to ``status`` and tell the worker, in the caller's transaction.

    A worker who asked for news gets one content-free notice ("there is an
    update, reply STATUS") in their language, written to the outbox with the
    change itself; ``notify=False`` when the stage has its own message (the
    remedy question, the closing message). A worker who declined news is told
    nothing unasked, and the timeline says so. Returns the notice's outbox id.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if status == case.status:
        return None
    check_move(case.status, status)
    previous, case.status = case.status, status
    now = utcnow()
    if (
        sla.STAGE_CLOCK.get(status) != sla.STAGE_CLOCK.get(previous)
        or case.stage_started_at is None
    ):
        case.stage_started_at = now
    case.due_at = sla.due_at(
        status, case.severity, case.stage_started_at, runtime.settings.sla_frames
    )
    if status not in OPEN_STATUSES and case.closed_at is None:
        case.closed_at = now
    session.add(
        CaseEvent(
            case_id=case.id, kind="status", actor=actor, data={"from": previous, "to": status}
        )
    )
    if status not in WORKER_VISIBLE or not notify:
        return None
    if not case.wants_updates or case.contact_id is None:
        reason = "declined_updates" if case.contact_id else "no_contact"
        session.add(
            CaseEvent(
                case_id=case.id, kind="worker_not_told", actor="system", data={"reason": reason}
            )
        )
        return None
    outbox_id = notify_worker(session, runtime, case)
    if outbox_id is None:
        session.add(
            CaseEvent(
                case_id=case.id,
                kind="worker_not_told",
                actor="system",
                data={"reason": "unreachable"},
            )
        )
    return outbox_id


def notify_worker(session: Session, runtime: Runtime, case: Case) -> int | None:
    """Write the content-free update notice for the case's worker; None if it cannot reach them."""
    contact = session.get(Contact, case.contact_id) if case.contact_id else None
    if contact is None:
        return None
    language = contact.language or case.language
    catalog = runtime.catalogs.get(language) or runtime.catalogs[runtime.settings.languages[0]]
    key, text = NOTICE_KEY, render(catalog, NOTICE_KEY, {}, contact.channel)
    if case.full_updates:
        # The worker chose news that says what it is: the STATUS answer itself. Outside
        # WhatsApp's 24-hour window the outbox still sends the content-free template.
        parts = []
        for reply in _report(runtime, case):
            params = dict(reply.params)
            for name, message in (reply.keyed_params or {}).items():
                params[name] = render(catalog, message, {}, contact.channel)
            parts.append(render(catalog, reply.key, params, contact.channel))
        key, text = "status.report", " ".join(parts)
    item = queue_message(
        session,
        runtime,
        contact,
        text,
        catalog_key=key,
        case_id=case.id,
        priority=NOTICE,
    )
    return item.id if item is not None else None


def update_status(runtime: Runtime, case_id: int, status: str, actor: str) -> bool:
    """Change a case's status in its own transaction and send the worker's notice after the commit.

    Returns False when the case does not exist.
    """
    with runtime.sessions() as session:
        case = session.get(Case, case_id, with_for_update=not runtime.settings.is_sqlite)
        if case is None:
            return False
        outbox_id = change_status(session, runtime, case, status, actor)
        session.commit()
    if outbox_id is not None:
        enqueue_delivery(runtime, outbox_id, NOTICE)
    return True
