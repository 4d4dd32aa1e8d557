"""Duplicate cases: the same worker's similar cases suggested to handlers, links between
cases, and merging a duplicate into its primary case.

A worker who hears nothing for a day writes again, or reports by SMS and again by
WhatsApp from the same number; each report opens a case, and two handlers may work one
problem twice, or tell the worker two different things. So a case page suggests the same
contact's cases opened within :data:`WINDOW` of it (before or after) with a similar problem:
a category in common (the handler's or the one the worker chose), or a case not yet
categorised, which may be anything. A handler decides: link the two (as duplicates, or as
related), or merge one into the other.

Merging keeps everything: the duplicate's messages, events, notes and attachments stay on
it, and the primary's page shows them too. The duplicate is closed (outcome "merged", no
message to the worker), what it still owed stops (its due time, its prompts, its alerts),
and what a person must still see moves to the primary (a request for a person, unread
messages, danger, a higher severity). The worker's code for it keeps working: STATUS
answers with the primary's stage (``services/cases.status_replies``).

Cases are matched by their contact, which is found by its keyed hash: no phone number is
read here. Only handlers and admins reach these functions (the check is here too, not
only in the web layer); suppliers and buyers never see a suggestion, a link or a merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseLink, CaseMerge, User, WorkerPrompt
from grievance.models.cases import LINK_KINDS, OPEN_STATUSES, TRANSITIONS
from grievance.models.remediation import MERGED
from grievance.runtime import Runtime
from grievance.services import alerts
from grievance.services.cases import change_status, primary_of
from grievance.services.triage import (
    HANDLER_ROLES,
    MAX_TEXT,
    SECOND_REVIEW,
    Outcome,
    TriageError,
    timeline_event,
    touch_due,
)

# How far apart two of a worker's cases may be opened and still be suggested as one.
WINDOW = timedelta(days=30)
DEFAULT_REASON = "the same problem, reported again"
# How many cases merged into one the primary's page gathers (a chain of merges included).
MAX_GATHERED = 50


class DuplicateError(TriageError):
    """A link or merge the rules refuse; the message says why, for the handler."""


def _handler(actor: User) -> None:
    if actor.role not in HANDLER_ROLES:
        raise DuplicateError("only handlers link and merge cases")


def _codes(case: Case) -> set[str]:
    return {code for code in (case.category, case.reported_category) if code}


def similar(a: Case, b: Case) -> bool:
    """Two cases of one worker that may be one problem: opened within :data:`WINDOW` of each
    other, and sharing a category (the handler's or the worker's choice), or one of them not
    categorised yet (a request for a person, an urgent case opened mid-report)."""
    if abs(a.created_at - b.created_at) > WINDOW:
        return False
    codes_a, codes_b = _codes(a), _codes(b)
    return not codes_a or not codes_b or bool(codes_a & codes_b)


@dataclass(frozen=True)
class _Settled:
    """What handlers already decided about some cases: linked pairs, merged duplicates."""

    pairs: frozenset[frozenset[int]]
    merged: frozenset[int]

    def open_question(self, a: int, b: int) -> bool:
        return frozenset((a, b)) not in self.pairs and not {a, b} & self.merged


def _settled(session: Session, ids: set[int]) -> _Settled:
    links = session.execute(
        select(CaseLink.case_id, CaseLink.other_id).where(
            or_(CaseLink.case_id.in_(ids), CaseLink.other_id.in_(ids))
        )
    ).all()
    merges = session.execute(
        select(CaseMerge.duplicate_id, CaseMerge.primary_id).where(
            or_(CaseMerge.duplicate_id.in_(ids), CaseMerge.primary_id.in_(ids))
        )
    ).all()
    return _Settled(
        pairs=frozenset(frozenset(row) for row in (*links, *merges)),
        merged=frozenset(duplicate for duplicate, _ in merges),
    )


def _suggested(session: Session, cases: Sequence[Case]) -> dict[int, list[Case]]:
    """For each of ``cases``, the cases suggested as its duplicates, oldest first.

    Three queries however many cases are asked about (a queue page asks about 50): the
    contacts' cases opened near them, then the links and merges among those."""
    shown = [case for case in cases if case.contact_id is not None]
    if not shown:
        return {}
    contacts = {case.contact_id for case in shown}
    near = session.scalars(
        select(Case)
        .where(
            Case.contact_id.in_(contacts),
            Case.created_at >= min(case.created_at for case in shown) - WINDOW,
            Case.created_at <= max(case.created_at for case in shown) + WINDOW,
        )
        .order_by(Case.created_at, Case.id)
    ).all()
    by_contact: dict[int, list[Case]] = {}
    for other in near:
        by_contact.setdefault(other.contact_id or 0, []).append(other)
    candidates = {
        case.id: [
            other
            for other in by_contact.get(case.contact_id or 0, [])
            if other.id != case.id and similar(case, other)
        ]
        for case in shown
    }
    ids = {other.id for others in candidates.values() for other in others}
    if not ids:
        return {}
    settled = _settled(session, ids | set(candidates))
    found = {
        case_id: [other for other in others if settled.open_question(case_id, other.id)]
        for case_id, others in candidates.items()
    }
    return {case_id: others for case_id, others in found.items() if others}


def suggestions(session: Session, case: Case) -> list[Case]:
    """The cases the case page suggests as possible duplicates of ``case``: the same worker's
    similar cases not yet linked to it or merged."""
    return _suggested(session, [case]).get(case.id, [])


def flagged(session: Session, cases: Sequence[Case]) -> set[int]:
    """Which of a queue page's cases have a possible duplicate (a marker in their row)."""
    return set(_suggested(session, cases))


@dataclass(frozen=True)
class Linked:
    """A case linked to the one shown, and how."""

    case: Case
    kind: str


def links_of(session: Session, case: Case) -> list[Linked]:
    """The cases linked to ``case``, by case number."""
    rows = session.execute(
        select(CaseLink.case_id, CaseLink.other_id, CaseLink.kind).where(
            or_(CaseLink.case_id == case.id, CaseLink.other_id == case.id)
        )
    ).all()
    others = {(b if a == case.id else a): kind for a, b, kind in rows}
    found = session.scalars(select(Case).where(Case.id.in_(others)).order_by(Case.id)).all()
    return [Linked(other, others[other.id]) for other in found]


def merged_into(session: Session, case: Case) -> Case | None:
    """The case ``case`` was merged into, if any (the last of a chain of merges)."""
    return primary_of(session, case)


def merged_from(session: Session, case: Case) -> list[Case]:
    """The cases merged into ``case``, and those merged into them before, by case number."""
    gathered: list[int] = []
    frontier = [case.id]
    while frontier and len(gathered) < MAX_GATHERED:
        frontier = list(
            session.scalars(
                select(CaseMerge.duplicate_id).where(CaseMerge.primary_id.in_(frontier))
            )
        )
        frontier = [i for i in frontier if i not in gathered and i != case.id]
        gathered.extend(frontier)
    if not gathered:
        return []
    return list(
        session.scalars(select(Case).where(Case.id.in_(gathered[:MAX_GATHERED])).order_by(Case.id))
    )


def _other(session: Session, case: Case, other_id: int | None, lock: bool = False) -> Case:
    """The other case of a link or merge; a merge locks it (PostgreSQL) as the web layer
    locks the case itself, so two handlers cannot merge two cases into each other at once."""
    lock = lock and session.get_bind().dialect.name == "postgresql"
    valid = other_id is not None and 0 < other_id < 2**31
    other = session.get(Case, other_id, with_for_update=lock) if valid else None
    if other is None:
        raise DuplicateError("choose a case by its number")
    if other.id == case.id:
        raise DuplicateError("a case cannot be linked to or merged into itself")
    return other


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def link(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    other_id: int | None,
    kind: str = "duplicate",
) -> Outcome:
    """Link ``case`` with another as duplicates or related cases: both pages show the link,
    and the pair is not suggested any more. Any two cases may be linked (a handler may see
    that two workers report one incident); only one worker's cases can be merged."""
    _handler(actor)
    if kind not in LINK_KINDS:
        raise DuplicateError(f"link as one of: {', '.join(LINK_KINDS)}")
    other = _other(session, case, other_id)
    low, high = _pair(case.id, other.id)
    existing = session.scalar(
        select(CaseLink).where(CaseLink.case_id == low, CaseLink.other_id == high)
    )
    if existing is not None:
        raise DuplicateError(f"case #{other.id} is already linked to this case")
    session.add(CaseLink(case_id=low, other_id=high, kind=kind, created_by=actor.id))
    for on, to in ((case, other), (other, case)):
        timeline_event(session, on, actor, "case_linked", other=to.id, link=kind)
    return Outcome([])


def unlink(
    session: Session, runtime: Runtime, case: Case, actor: User, other_id: int | None
) -> Outcome:
    """Remove the link between ``case`` and another; either case's page can do it. The
    timelines and the audit log keep that it was linked, by whom, and who removed it."""
    _handler(actor)
    other = _other(session, case, other_id)
    low, high = _pair(case.id, other.id)
    row = session.scalar(select(CaseLink).where(CaseLink.case_id == low, CaseLink.other_id == high))
    if row is None:
        raise DuplicateError(f"case #{other.id} is not linked to this case")
    session.delete(row)
    for on, to in ((case, other), (other, case)):
        timeline_event(session, on, actor, "case_unlinked", other=to.id, link=row.kind)
    return Outcome([])


def _check_merge(session: Session, duplicate: Case, primary: Case) -> None:
    """Refuse a merge the rules do not allow, saying why and what to do instead."""
    merged = primary_of(session, duplicate)
    if merged is not None:
        raise DuplicateError(f"case #{duplicate.id} is already merged into #{merged.id}")
    above = primary_of(session, primary)
    if above is not None:
        raise DuplicateError(
            f"case #{primary.id} is itself merged into #{above.id}: merge into #{above.id}"
        )
    if duplicate.contact_id is None or duplicate.contact_id != primary.contact_id:
        raise DuplicateError(
            "only the same worker's cases can be merged (their STATUS code must lead to the "
            "case that handles it); link the cases instead"
        )
    if duplicate.status not in OPEN_STATUSES:
        raise DuplicateError(
            f"case #{duplicate.id} is {duplicate.status.replace('_', ' ')}; only an open case "
            "can be merged into another"
        )
    if primary.status not in OPEN_STATUSES:
        raise DuplicateError(
            f"case #{primary.id} is {primary.status.replace('_', ' ')}: merge into an open "
            "case (or merge that case into this one)"
        )
    if duplicate.pending_close:
        raise DuplicateError(
            f"a closing of case #{duplicate.id} is waiting for a second reviewer: decide it first"
        )
    if duplicate.supplier_id is not None:
        raise DuplicateError(
            f"case #{duplicate.id} is referred to a supplier, who follows it and its plan: "
            f"merge case #{primary.id} into it instead, or close it when the plan is done"
        )
    if duplicate.linked_case_id == primary.id and "RET" in _codes(duplicate):
        raise DuplicateError(
            f"case #{duplicate.id} reports retaliation after case #{primary.id}: a retaliation "
            "report stays a case of its own (link them instead)"
        )


def merge(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    into: int | None,
    reason: str = "",
) -> Outcome:
    """Merge ``case`` (the duplicate) into the case ``into`` (the primary).

    Merging closes the duplicate, so a P0 or P1 duplicate waits for a second person, as
    closing it otherwise would: the request is the case's pending closing, approved or
    rejected in the same review (``remediation.review_close``)."""
    _handler(actor)
    primary = _other(session, case, into, lock=True)
    _check_merge(session, case, primary)
    why = (reason or "").strip()[:MAX_TEXT] or DEFAULT_REASON
    if case.severity in SECOND_REVIEW:
        case.pending_close = {
            "by": actor.id,
            "outcome": MERGED,
            "into": primary.id,
            "remedy_types": [],
            "reason": why,
        }
        timeline_event(session, case, actor, "merge_requested", into=primary.id)
        return Outcome([])
    merge_now(session, runtime, case, primary, actor, why)
    return Outcome([])


def approved(
    session: Session, runtime: Runtime, case: Case, actor: User, pending: dict[str, object]
) -> Outcome:
    """A second person approved merging ``case`` as another handler asked: merged now, if
    the rules still allow it (the primary may have closed while the request waited)."""
    _handler(actor)
    into = pending.get("into")
    primary = _other(session, case, into if isinstance(into, int) else None, lock=True)
    _check_merge(session, case, primary)
    merge_now(session, runtime, case, primary, actor, str(pending.get("reason") or ""), True)
    return Outcome([])


def merge_now(
    session: Session,
    runtime: Runtime,
    duplicate: Case,
    primary: Case,
    actor: User,
    reason: str,
    reviewed: bool = False,
) -> None:
    """The merge itself, in the caller's transaction (the rules checked by the caller)."""
    reason = reason or DEFAULT_REASON
    session.add(
        CaseMerge(
            duplicate_id=duplicate.id, primary_id=primary.id, merged_by=actor.id, reason=reason
        )
    )
    _carry(session, runtime, duplicate, primary, actor)
    duplicate.outcome = MERGED
    duplicate.close_reason = f"Merged into case #{primary.id}: {reason}"
    duplicate.pending_close = None
    # The lifecycle closes a case from triage on: a case still waiting there passes through
    # it, quietly (in triage is no stage a worker hears about).
    if "closed" not in TRANSITIONS.get(duplicate.status, frozenset()):
        change_status(session, runtime, duplicate, "in_triage", f"user:{actor.id}", notify=False)
    # No message to the worker: "closed" would read as the end of their problem, while it is
    # handled on the primary; their code for the duplicate answers with the primary's stage.
    change_status(session, runtime, duplicate, "closed", f"user:{actor.id}", notify=False)
    _stop(session, duplicate)
    timeline_event(
        session, duplicate, actor, "merged_into", other=primary.id, reviewed=reviewed or None
    )
    timeline_event(
        session, primary, actor, "merged_from", other=duplicate.id, reviewed=reviewed or None
    )


def _carry(session: Session, runtime: Runtime, duplicate: Case, primary: Case, actor: User) -> None:
    """What a person must still see moves to the primary: a more urgent severity (never a
    lower one), danger, a request for a person, and the worker's unread messages."""
    if duplicate.severity < primary.severity:  # "P0" < "P1"
        previous, primary.severity = primary.severity, duplicate.severity
        touch_due(runtime, primary)
        timeline_event(
            session,
            primary,
            actor,
            "severity",
            severity_from=previous,
            severity=primary.severity,
            merged=duplicate.id,
        )
    primary.in_danger = primary.in_danger or duplicate.in_danger
    if duplicate.handover_requested_at is not None:
        primary.handover_requested_at = min(
            filter(None, (primary.handover_requested_at, duplicate.handover_requested_at))
        )
    primary.unread_worker_messages = (primary.unread_worker_messages or 0) + (
        duplicate.unread_worker_messages or 0
    )
    if duplicate.last_worker_message_at is not None:
        primary.last_worker_message_at = max(
            filter(None, (primary.last_worker_message_at, duplicate.last_worker_message_at))
        )
    primary.attention = 0 if primary.needs_attention() else 1
    duplicate.handover_requested_at = None
    duplicate.unread_worker_messages = 0
    duplicate.attention = 1


def _stop(session: Session, duplicate: Case) -> None:
    """What the duplicate still owed stops: its due time (closing clears it), the questions
    not yet sent to the worker (kept, marked skipped), and staff alerts waiting on it."""
    duplicate.due_at = None
    for prompt in session.scalars(
        select(WorkerPrompt).where(
            WorkerPrompt.case_id == duplicate.id,
            WorkerPrompt.sent_at.is_(None),
            WorkerPrompt.skipped.is_(None),
        )
    ):
        prompt.skipped = MERGED
    alerts.answered(session, duplicate)
    alerts.read(session, duplicate)
