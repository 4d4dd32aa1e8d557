"""The worker's side of a case after the report: what they write lands on their case, a
request for a person becomes something a handler sees, possible danger acts at once, and a
call is arranged on a number only a handler on the case can reveal.

Every function works in the caller's transaction. Emails to staff are written to the mail
outbox in that transaction and come back as ids to enqueue after the commit (a mail server
that is down delays an email, never the change); they carry the case number and a link,
nothing a worker wrote.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.orm import Session

from grievance import contacts as contact_list
from grievance import sla
from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.conversation import CallRequest as CallRequestEffect
from grievance.conversation import Urgent
from grievance.models import (
    INBOUND,
    Attachment,
    CallRequest,
    Case,
    CaseEvent,
    Contact,
    Message,
    Site,
    User,
)
from grievance.models.cases import OPEN_STATUSES, not_merged
from grievance.runtime import Runtime
from grievance.services import alerts, assignments, directory
from grievance.services.cases import new_case, primary_of
from grievance.services.errors import NotFound
from grievance.services.triage import TriageError

log = logging.getLogger(__name__)

WORKER = "worker"


def _recent_first(case: type[Case]) -> tuple[ColumnElement[datetime], ColumnElement[int]]:
    # The case the worker last wrote to, else the newest.
    return (func.coalesce(case.last_worker_message_at, case.created_at).desc(), case.id.desc())


def _open_cases(contact_id: int) -> Select[Case]:
    return (
        select(Case)
        .where(Case.contact_id == contact_id, Case.status.in_(OPEN_STATUSES))
        .order_by(*_recent_first(Case))
    )


def _recently_closed(contact_id: int, since: datetime) -> Select[Case]:
    return (
        select(Case)
        .where(
            Case.contact_id == contact_id,
            Case.status.not_in(OPEN_STATUSES),
            Case.closed_at >= since,
            not_merged(),
        )
        .order_by(Case.closed_at.desc(), Case.id.desc())
    )


def appeal_window_start(runtime: Runtime, now: datetime | None = None) -> datetime:
    """Cases closed since then still take the worker's words (and APPEAL)."""
    return (now or utcnow()) - timedelta(days=runtime.settings.appeal_days)


def open_case_of(session: Session, contact_id: int) -> Case | None:
    """The contact's open case they were last active on, if any."""
    return session.scalars(_open_cases(contact_id).limit(1)).first()


def has_open_case(session: Session, contact_id: int) -> bool:
    """True when the contact has a case in an open stage."""
    return open_case_of(session, contact_id) is not None


def person_requested(session: Session, contact_id: int) -> bool:
    """True while the worker's request for a person waits: no handler has written since."""
    case = open_case_of(session, contact_id)
    return case is not None and case.handover_requested_at is not None


def has_active_case(session: Session, runtime: Runtime, contact_id: int) -> bool:
    """True when what the contact writes goes to a case: open, or closed within the window."""
    return has_open_case(session, contact_id) or (
        session.scalars(_recently_closed(contact_id, appeal_window_start(runtime)).limit(1)).first()
        is not None
    )


def target_case(
    session: Session, runtime: Runtime, contact: Contact, case_id: int | None = None
) -> Case | None:
    """The case a worker's words go to.

    The case a handler asked about (only if it is this worker's: a conversation's state is
    never trusted to reach another's case), else the open case they were last active on,
    else the one closed most recently within the appeal window.
    """
    if case_id is not None and 0 < case_id < 2**31:
        asked = session.get(Case, case_id)
        if asked is not None and asked.contact_id == contact.id:
            # A case merged since the question was asked: the answer goes where it is handled.
            return primary_of(session, asked) or asked
    found = open_case_of(session, contact.id)
    if found is None:
        found = session.scalars(
            _recently_closed(contact.id, appeal_window_start(runtime)).limit(1)
        ).first()
    return found


def _attention(case: Case) -> None:
    case.attention = 0 if case.needs_attention() else 1


def _event(session: Session, case: Case, kind: str, **data: object) -> None:
    session.add(CaseEvent(case_id=case.id, kind=kind, actor=WORKER, data=data))


def _message_ids(refs: tuple[int | str, ...]) -> list[int]:
    return [int(ref) for ref in refs if str(ref).isdigit() and 0 < int(ref) < 2**31]


def attach(session: Session, case: Case, contact: Contact, refs: tuple[int | str, ...]) -> int:
    """Put the worker's messages (and their media) that belong to no case yet on ``case``.

    Returns how many landed; each counts as unread until a handler opens the case.
    """
    ids = _message_ids(refs)
    if not ids:
        return 0
    new = list(
        session.scalars(
            select(Message.id).where(
                Message.id.in_(ids),
                Message.contact_id == contact.id,
                Message.direction == INBOUND,
                Message.case_id.is_(None),
            )
        )
    )
    if not new:
        return 0
    session.execute(update(Message).where(Message.id.in_(new)).values(case_id=case.id))
    session.execute(
        update(Attachment).where(Attachment.message_id.in_(new)).values(case_id=case.id)
    )
    case.unread_worker_messages = (case.unread_worker_messages or 0) + len(new)
    case.last_worker_message_at = utcnow()
    _attention(case)
    return len(new)


def land_messages(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    refs: tuple[int | str, ...],
    case_id: int | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> tuple[Case | None, list[int]]:
    """The worker wrote to their case (or answered a handler's ``question``): the messages go
    on its timeline, unread, and the handler the case is assigned to is alerted. The case
    (None when the worker has none to write to) and the emails to enqueue after the commit."""
    case = target_case(session, runtime, contact, case_id)
    if case is None:
        return None, []
    landed = attach(session, case, contact, refs)
    if question is not None:
        _event(session, case, "worker_answered", question=question, answer=answer)
        case.last_worker_message_at = utcnow()
        if answer is not None and landed == 0:
            # A bare "1" already on the case still tells the handler something new.
            case.unread_worker_messages = (case.unread_worker_messages or 0) + 1
        _attention(case)
    if case.assignee_id is None or not (landed or question is not None):
        return case, []
    return case, alerts.alert(session, runtime, case, "reply")


def request_person(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    reason: str,
    refs: tuple[int | str, ...],
    language: str | None = None,
    description: str | None = None,
) -> tuple[Case, list[int]]:
    """The worker asked for a person: flag their open case, or open one in the ``requested``
    stage (category unknown, no code yet). Something a person sees always exists before any
    reply promises a person."""
    now = utcnow()
    case = open_case_of(session, contact.id)
    if case is None:
        latest = session.scalars(
            select(Case).where(Case.contact_id == contact.id).order_by(Case.id.desc()).limit(1)
        ).first()
        case, _ = new_case(
            session,
            runtime,
            contact,
            status="requested",
            severity="P2",
            language=language or contact.language or runtime.engine.default_language,
            flow="help",
            description=description,
            code_issued=False,
        )
        if latest is not None:
            case.linked_case_id = latest.id
            case.site_id = latest.site_id
        _event(session, case, "requested", reason=reason)
        assignments.apply_rules(session, runtime, case)
    if case.handover_requested_at is None:
        case.handover_requested_at = now
    _event(session, case, "handover_requested", reason=reason)
    attach(session, case, contact, refs)
    _attention(case)
    log.info("case %s: the worker asked for a person (%s)", case.id, reason)
    return case, alerts.alert(session, runtime, case, "person")


def raise_urgent(
    session: Session, runtime: Runtime, contact: Contact, effect: Urgent
) -> tuple[Case, list[int]]:
    """The worker may be in danger now: their open case becomes P0 (or a P0 case opens with
    what they wrote so far), a person is requested, and staff are alerted at once."""
    now = utcnow()
    case = open_case_of(session, contact.id)
    in_danger = effect.reason == "in_danger"
    if case is None:
        case, _ = new_case(
            session,
            runtime,
            contact,
            status="received",
            severity="P0",
            language=effect.language,
            flow="danger",
            category=effect.category,
            description=effect.description,
            in_danger=True,
            code_issued=False,
        )
        _event(
            session,
            case,
            "received",
            reported_category=effect.category,
            severity="P0",
            in_danger=True,
            channel=contact.channel,
            language=effect.language,
        )
        assignments.apply_rules(session, runtime, case)
    elif case.severity != "P0":
        previous, case.severity = case.severity, "P0"
        case.in_danger = case.in_danger or in_danger
        if case.stage_started_at is not None:
            case.due_at = sla.due_at(
                case.status, "P0", case.stage_started_at, runtime.settings.sla_frames
            )
        session.add(
            CaseEvent(
                case_id=case.id,
                kind="severity",
                actor=WORKER,
                data={"severity_from": previous, "severity": "P0"},
            )
        )
    _event(session, case, "danger", reason=effect.reason)
    if case.handover_requested_at is None:
        case.handover_requested_at = now
    attach(session, case, contact, effect.message_refs)
    _attention(case)
    log.warning("case %s: the worker may be in danger now (%s)", case.id, effect.reason)
    return case, alerts.alert(session, runtime, case, "danger")


def record_call_request(
    session: Session, runtime: Runtime, contact: Contact, effect: CallRequestEffect
) -> Case | None:
    """The worker wants a call at a safe time, perhaps on another number: kept encrypted."""
    case = target_case(session, runtime, contact, effect.case)
    if case is None:
        return None
    protect = runtime.protector.encrypt
    session.add(
        CallRequest(
            case_id=case.id,
            time_encrypted=protect(effect.time) if effect.time else None,
            number_encrypted=protect(effect.number) if effect.number else None,
        )
    )
    _event(session, case, "call_requested", other_number=effect.number is not None)
    if case.handover_requested_at is None:
        case.handover_requested_at = utcnow()
    _attention(case)
    return case


def call_requests(session: Session, runtime: Runtime, case: Case) -> list[dict[str, object]]:
    """The case's call requests as a handler sees them: when, and whether another number was
    given. Never the number itself (see :func:`reveal_call_number`)."""
    rows = session.scalars(
        select(CallRequest).where(CallRequest.case_id == case.id).order_by(CallRequest.id)
    )
    return [
        {
            "id": row.id,
            "at": row.at,
            "time": runtime.protector.decrypt(row.time_encrypted) if row.time_encrypted else None,
            "other_number": row.number_encrypted is not None,
            "reveals": row.reveals,
        }
        for row in rows
    ]


def reveal_call_number(
    session: Session, runtime: Runtime, case: Case, request_id: int, actor: User
) -> str:
    """The number to call, for the handler the case is assigned to (or an admin); audited."""
    request = session.get(CallRequest, request_id) if 0 < request_id < 2**31 else None
    if request is None or request.case_id != case.id:
        raise NotFound(request_id)
    if actor.role != "admin" and case.assignee_id != actor.id:
        raise TriageError("assign the case to yourself to see the number to call")
    if request.number_encrypted is not None:
        number = runtime.protector.decrypt(request.number_encrypted)
    else:
        contact = session.get(Contact, case.contact_id) if case.contact_id else None
        if contact is None or contact.address_encrypted is None:
            raise TriageError("the worker's number was erased (retention)")
        number = runtime.protector.decrypt(contact.address_encrypted).removeprefix("whatsapp:")
    request.reveals += 1
    audit(session, actor, "call_number_revealed", case.id, f"request={request.id}")
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="call_number_revealed",
            actor=f"user:{actor.id}",
            data={"request": request.id},
        )
    )
    return number


def mark_read(session: Session, case: Case) -> None:
    """A handler opened the case: the worker's messages on it are read, and an alert that
    the worker wrote is seen to."""
    alerts.read(session, case)
    if case.unread_worker_messages:
        case.unread_worker_messages = 0
        _attention(case)


def person_answered(session: Session, case: Case) -> None:
    """A handler wrote to the worker: a request for a person (or a danger alert) is answered."""
    alerts.answered(session, case)
    if case.handover_requested_at is not None:
        case.handover_requested_at = None
        _attention(case)


def move_message(
    session: Session, case: Case, message_id: int, target_id: int, actor: User
) -> Case:
    """Move a worker's message (and its media) to another case of the same worker."""
    message = session.get(Message, message_id) if 0 < message_id < 2**31 else None
    if message is None or message.case_id != case.id or message.direction != INBOUND:
        raise TriageError("choose one of the worker's messages on this case")
    target = session.get(Case, target_id) if 0 < target_id < 2**31 else None
    if target is None or target.contact_id is None or target.contact_id != case.contact_id:
        raise TriageError("a message can move only to another case of the same worker")
    if target.id == case.id:
        raise TriageError("the message is on this case already")
    message.case_id = target.id
    session.execute(
        update(Attachment).where(Attachment.message_id == message.id).values(case_id=target.id)
    )
    target.unread_worker_messages = (target.unread_worker_messages or 0) + 1
    _attention(target)
    for on, kind in ((case, "message_moved_out"), (target, "message_moved_in")):
        session.add(
            CaseEvent(
                case_id=on.id,
                kind=kind,
                actor=f"user:{actor.id}",
                data={"to": target.id} if on is case else {"from": case.id},
            )
        )
    audit(session, actor, "message_moved", case.id, f"to={target.id}")
    return target


def other_cases(session: Session, case: Case) -> list[Case]:
    """The same worker's other cases, for moving a message between them."""
    if case.contact_id is None:
        return []
    return list(
        session.scalars(
            select(Case)
            .where(Case.contact_id == case.contact_id, Case.id != case.id)
            .order_by(Case.id.desc())
            .limit(20)
        )
    )


def _worker_place(session: Session, contact: Contact) -> tuple[str | None, str | None]:
    """(nationality, country of the workplace) from the worker's open case, when known."""
    case = open_case_of(session, contact.id)
    nationality = case.origin_country if case is not None else None
    site = session.get(Site, case.site_id) if case is not None and case.site_id else None
    return nationality, site.country if site else None


def emergency_contacts(
    session: Session, runtime: Runtime, contact: Contact, language: str
) -> list[contact_list.HelpContact]:
    """The directory's emergency entries for this worker, theirs first, at most a few."""
    nationality, country = _worker_place(session, contact)
    return contact_list.for_worker(
        directory.entries(session, runtime), language, nationality, country
    )


def work_country(session: Session, runtime: Runtime, contact: Contact) -> str | None:
    """The country the worker works in: their case's site's, else the one the line serves."""
    return _worker_place(session, contact)[1] or runtime.settings.country


def help_contacts(
    session: Session, runtime: Runtime, contact: Contact
) -> list[contact_list.HelpContact]:
    """Organisations that serve this worker (RIGHTS, who to call), emergency or not: theirs
    (language, nationality) first, at most a few, as each costs SMS segments."""
    nationality, _ = _worker_place(session, contact)
    chosen = contact_list.for_worker(
        directory.entries(session, runtime),
        contact.language,
        nationality,
        work_country(session, runtime, contact),
        emergency_only=False,
    )
    return chosen[: contact_list.MAX_FOR_WORKER]
