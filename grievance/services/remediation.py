"""Remediation: the supplier's plan and its review, completion, the worker's confirmation, closing.

The loop (docs/domain.md): a case referred to a supplier gets a plan, started from
the category's playbook; the supplier submits it by the "plan" time frame; the
handler accepts it or sends it back with a comment. The supplier works through
the steps, attaching evidence, and reports the plan complete; the handler
verifies it against the evidence and asks the worker "1 solved, 2 not solved,
3 talk to a person". A dispute, a request for a person, three unanswered
attempts, or a worker who cannot be reached sends the case back to the
handler, and such a case is closed as resolved only with a second reviewer.
Closing needs a remedy type and a reason; the worker gets a closing message
and a 1-5 question, and retaliation check-ins 30 and 90 days later.

Every function checks the rules, records a timeline event and an audit entry,
and changes the case in the caller's transaction. Suppliers may act only on
their own organisation's cases: the check is here, not only in the web layer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance import playbooks, sla
from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.models import (
    NOTICE,
    Case,
    CaseEvent,
    Contact,
    Evidence,
    Organisation,
    PlanComment,
    RemediationPlan,
    RemediationStep,
    User,
    WorkerPrompt,
)
from grievance.models.cases import not_merged
from grievance.models.remediation import (
    MERGED,
    OUTCOMES,
    REMEDY_TYPES,
    STEP_STATUSES,
    current_plan,
)
from grievance.runtime import Runtime
from grievance.services import duplicates, visibility
from grievance.services.cases import change_status
from grievance.services.errors import NotFound
from grievance.services.mails import enqueue_mails, queue_mail
from grievance.services.outbox import enqueue_delivery
from grievance.services.triage import (
    HANDLER_ROLES,
    SECOND_REVIEW,
    Outcome,
    TriageError,
    move_out_of_scope,
)

log = logging.getLogger(__name__)
# Catalog keys the host sends (APPEAL's answers); `grievance flows check` makes sure they exist.
MESSAGE_KEYS = ("appeal.reopened", "appeal.none", "appeal.too_late")
MAX_TEXT = 2000
MAX_STEPS = 30
CHECKINS = (("checkin_30", timedelta(days=30)), ("checkin_90", timedelta(days=90)))
# Evidence: documents and photos a supplier would have, by extension, with the file's
# first bytes where a format has them (a renamed executable is refused).
EVIDENCE_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "webp": ("image/webp", (b"RIFF",)),
    "csv": ("text/csv", ()),
    "txt": ("text/plain", ()),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}
# The worker's answers (and silences) that send the case back to the handler, after which
# closing it as resolved needs a second reviewer.
SECOND_LOOK = ("disputed", "person", "no_answer", "unreached")


class RemediationError(TriageError):
    """An action that breaks a rule of the remediation loop; the message says why."""


@dataclass
class Result(Outcome):
    """What an action left to do after the commit: messages, prompts to send, and emails to
    staff (ids in the mail outbox, written in the action's transaction)."""

    prompts: bool = False
    mails: list[int] = field(default_factory=list)


# -- helpers ------------------------------------------------------------------


def _event(session: Session, case: Case, actor: User | None, kind: str, **data: object) -> None:
    who = f"user:{actor.id}" if actor is not None else "system"
    session.add(CaseEvent(case_id=case.id, kind=kind, actor=who, data=data))
    detail = ",".join(f"{k}={v}" for k, v in data.items() if v is not None and k != "comment")
    audit(session, actor, kind, case.id, detail or None)


def _text(value: str | None, name: str, shortest: int = 1, longest: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if len(value) < shortest:
        raise RemediationError(
            f"{name} is required" if shortest <= 1 else f"{name}: at least {shortest} characters"
        )
    if len(value) > longest:
        raise RemediationError(f"{name}: at most {longest} characters")
    return value


def _move(
    session: Session, runtime: Runtime, case: Case, actor: User | None, status: str
) -> list[int]:
    previous = case.status
    outbox_id = change_status(
        session, runtime, case, status, f"user:{actor.id}" if actor else "system"
    )
    audit(session, actor, "status", case.id, f"{previous}->{status}")
    return [outbox_id] if outbox_id is not None else []


def plan_of(session: Session, case: Case) -> RemediationPlan | None:
    """The case's current plan: its supplier's, never one archived by a re-referral."""
    return session.scalar(current_plan(case.id))


def archived_plans(session: Session, runtime: Runtime, case: Case) -> list[dict[str, object]]:
    """Plans archived by re-referrals, oldest first, as staff see them, with their supplier."""
    views = []
    for plan in session.scalars(
        select(RemediationPlan)
        .where(RemediationPlan.case_id == case.id, RemediationPlan.archived_at.is_not(None))
        .order_by(RemediationPlan.archived_at)
    ):
        view = plan_view(session, runtime, case, plan)
        if view is not None:
            supplier = session.get(Organisation, plan.supplier_id)
            views.append(view | {"supplier_name": supplier.name if supplier else "A supplier"})
    return views


def steps_of(session: Session, plan: RemediationPlan) -> list[RemediationStep]:
    return list(
        session.scalars(
            select(RemediationStep)
            .where(RemediationStep.plan_id == plan.id)
            .order_by(RemediationStep.position, RemediationStep.id)
        )
    )


def _supplier_plan(session: Session, case: Case, actor: User) -> RemediationPlan:
    """The case's plan, for a user of the case's supplier; anything else looks like nothing."""
    _own(case, actor)
    plan = plan_of(session, case)
    if plan is None:
        raise RemediationError("there is no plan yet; start one")
    return plan


def _own(case: Case, actor: User) -> None:
    if not visibility.acts_for(case, actor):
        raise NotFound(case.id)  # the web layers answer 404, as for a case that does not exist


def _handler(actor: User) -> None:
    if actor.role not in HANDLER_ROLES:
        raise NotFound(actor.id)


def _step(session: Session, plan: RemediationPlan, step_id: int) -> RemediationStep:
    step = session.get(RemediationStep, step_id) if 0 < step_id < 2**31 else None
    if step is None or step.plan_id != plan.id:
        raise NotFound(step_id)
    return step


def _editable(plan: RemediationPlan) -> None:
    if plan.status not in ("draft", "returned"):
        raise RemediationError(
            f"the plan is {plan.status}; steps can be changed only before it is submitted "
            "or after the case handler sends it back"
        )


def _date(value: str | date | None, name: str = "due date") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise RemediationError(f"{name}: write a date like 2026-12-31") from None


def _mail(session: Session, emails: list[str], case: Case, what: str, link: str) -> list[int]:
    """An email to staff, in the mail outbox: the case id, what is due and a link, nothing else."""
    subject = f"Case #{case.id}: {what}"
    mail_id = queue_mail(session, emails, subject, f"{subject}.\n{link}\n")
    return [mail_id] if mail_id is not None else []


def supplier_mail(session: Session, runtime: Runtime, case: Case, what: str) -> list[int]:
    """An email to the case's supplier's users."""
    emails = session.scalars(
        select(User.email).where(
            User.organisation_id == case.supplier_id, User.role == "supplier", User.active
        )
    ).all()
    return _mail(
        session,
        list(emails),
        case,
        what,
        f"{runtime.settings.public_base_url}/supplier/cases/{case.id}",
    )


def handler_mail(session: Session, runtime: Runtime, case: Case, what: str) -> list[int]:
    """An email to the assignee, or to every handler when nobody has the case."""
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    if assignee is not None and assignee.active:
        emails: list[str] = [assignee.email]
    else:
        emails = list(
            session.scalars(select(User.email).where(User.role == "handler", User.active))
        )
    return _mail(session, emails, case, what, f"{runtime.settings.public_base_url}/cases/{case.id}")


# -- the supplier's side ------------------------------------------------------


def start_plan(
    session: Session, runtime: Runtime, case: Case, actor: User, from_playbook: bool = True
) -> Result:
    """Start the case's plan, with the category's playbook steps to adapt (or none)."""
    _own(case, actor)
    if case.status != "with_supplier":
        raise RemediationError("a plan is started while the case is with the supplier")
    if plan_of(session, case) is not None:
        raise RemediationError("this case already has a plan")
    due = case.due_at.date() if case.due_at else None
    plan = RemediationPlan(case_id=case.id, supplier_id=actor.organisation_id, due_on=due)
    book = playbooks.load().get(case.category or "") if from_playbook else None
    plan.playbook = book.category if book else None
    session.add(plan)
    session.flush()
    today = utcnow().date()
    for position, suggested in enumerate(book.steps if book else ()):
        session.add(
            RemediationStep(
                plan_id=plan.id,
                position=position,
                description=suggested.description,
                owner=suggested.owner,
                due_on=today + timedelta(days=suggested.days),
                evidence_hint=suggested.evidence,
            )
        )
    _event(session, case, actor, "plan_started", playbook=plan.playbook)
    return Result([])


def add_step(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    description: str,
    owner: str,
    due_on: str | date,
) -> Result:
    plan = _supplier_plan(session, case, actor)
    _editable(plan)
    count = session.scalar(
        select(func.count(RemediationStep.id)).where(RemediationStep.plan_id == plan.id)
    )
    if (count or 0) >= MAX_STEPS:
        raise RemediationError(f"a plan has at most {MAX_STEPS} steps")
    last = session.scalar(
        select(func.max(RemediationStep.position)).where(RemediationStep.plan_id == plan.id)
    )
    step = RemediationStep(
        plan_id=plan.id,
        position=(last if last is not None else -1) + 1,
        description=_text(description, "description", 10),
        owner=_text(owner, "owner", 2, 200),
        due_on=_due(due_on),
    )
    session.add(step)
    session.flush()
    _event(session, case, actor, "step_added", step=step.id)
    return Result([])


def _due(value: str | date) -> date:
    due = _date(value)
    if due < utcnow().date():
        raise RemediationError("due date: the date has passed; choose today or later")
    if due > utcnow().date() + timedelta(days=730):
        raise RemediationError("due date: at most two years ahead")
    return due


def update_step(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    step_id: int,
    description: str,
    owner: str,
    due_on: str | date,
) -> Result:
    plan = _supplier_plan(session, case, actor)
    _editable(plan)
    step = _step(session, plan, step_id)
    step.description = _text(description, "description", 10)
    step.owner = _text(owner, "owner", 2, 200)
    step.due_on = _due(due_on)
    _event(session, case, actor, "step_changed", step=step.id)
    return Result([])


def remove_step(
    session: Session, runtime: Runtime, case: Case, actor: User, step_id: int
) -> Result:
    plan = _supplier_plan(session, case, actor)
    _editable(plan)
    step = _step(session, plan, step_id)
    session.delete(step)
    _event(session, case, actor, "step_removed", step=step_id)
    return Result([])


def submit_plan(session: Session, runtime: Runtime, case: Case, actor: User) -> Result:
    """Send the plan to the case handler for review."""
    plan = _supplier_plan(session, case, actor)
    _editable(plan)
    steps = steps_of(session, plan)
    if not steps:
        raise RemediationError("add at least one step before submitting the plan")
    plan.status, plan.submitted_at = "submitted", utcnow()
    _event(session, case, actor, "plan_submitted", steps=len(steps))
    return Result([], mails=handler_mail(session, runtime, case, "a remediation plan to review"))


def set_step_status(
    session: Session, runtime: Runtime, case: Case, actor: User, step_id: int, status: str
) -> Result:
    """Mark a step of an accepted plan planned, in progress or done (done needs evidence)."""
    plan = _supplier_plan(session, case, actor)
    if plan.status != "accepted":
        raise RemediationError("steps are worked on once the case handler has accepted the plan")
    if status not in STEP_STATUSES:
        raise RemediationError(f"status: one of {', '.join(STEP_STATUSES)}")
    step = _step(session, plan, step_id)
    if status == "done" and not _has_evidence(session, step):
        raise RemediationError("attach evidence to the step before marking it done")
    step.status = status
    step.done_at = utcnow() if status == "done" else None
    _event(session, case, actor, "step_status", step=step.id, status=status)
    return Result([])


def _has_evidence(session: Session, step: RemediationStep) -> bool:
    found = session.scalar(select(Evidence.id).where(Evidence.step_id == step.id).limit(1))
    return found is not None


_SAFE_NAME = re.compile(r"[^\w.\- ]+")


def add_evidence(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    step_id: int,
    filename: str,
    data: bytes,
) -> Result:
    """Attach a file to a step: checked for size and type, stored encrypted."""
    plan = _supplier_plan(session, case, actor)
    if plan.status not in ("accepted", "completed"):
        raise RemediationError("evidence is added once the case handler has accepted the plan")
    step = _step(session, plan, step_id)
    if not (filename or "").strip() and not data:
        raise RemediationError("evidence: no file was chosen; choose one, then upload")
    name = _SAFE_NAME.sub("_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in EVIDENCE_TYPES:
        raise RemediationError(
            f"evidence: {', '.join(sorted(EVIDENCE_TYPES))} files only (this one is "
            f"{extension or 'without an extension'})"
        )
    limit = runtime.settings.evidence_max_bytes
    if not data:
        raise RemediationError("evidence: the file is empty")
    if len(data) > limit:
        raise RemediationError(f"evidence: at most {limit // (1024 * 1024)} MB per file")
    content_type, magics = EVIDENCE_TYPES[extension]
    if magics and not any(data.startswith(m) for m in magics):
        raise RemediationError(f"evidence: the file is not a real .{extension} file")
    if not magics and b"\x00" in data[:4096]:
        raise RemediationError(f"evidence: the file is not a text .{extension} file")
    evidence = Evidence(
        step_id=step.id,
        filename=name[-200:],
        content_type=content_type,
        size=len(data),
        data_encrypted=runtime.protector.encrypt(data),
        uploaded_by=actor.id,
    )
    session.add(evidence)
    session.flush()
    _event(
        session, case, actor, "evidence_added", step=step.id, evidence=evidence.id, size=len(data)
    )
    return Result([])


def complete_plan(session: Session, runtime: Runtime, case: Case, actor: User) -> Result:
    """Report every step done, for the handler to verify."""
    plan = _supplier_plan(session, case, actor)
    if plan.status != "accepted":
        raise RemediationError("only an accepted plan can be reported complete")
    open_steps = [s for s in steps_of(session, plan) if s.status != "done"]
    if open_steps:
        raise RemediationError(f"{len(open_steps)} step(s) are not done yet")
    plan.status, plan.completed_at = "completed", utcnow()
    _event(session, case, actor, "plan_completed")
    return Result([], mails=handler_mail(session, runtime, case, "remediation to verify"))


def comment(session: Session, runtime: Runtime, case: Case, actor: User, text: str) -> Result:
    """A comment on the plan from either side; the other side gets an email."""
    if actor.role == "supplier":
        plan = _supplier_plan(session, case, actor)
        side, mails = "supplier", handler_mail(session, runtime, case, "a comment on the plan")
    else:
        _handler(actor)
        current = plan_of(session, case)
        if current is None:
            raise RemediationError("there is no plan to comment on yet")
        plan = current
        side, mails = "handler", supplier_mail(session, runtime, case, "a comment on your plan")
    session.add(
        PlanComment(
            plan_id=plan.id,
            author_id=actor.id,
            side=side,
            text_encrypted=runtime.protector.encrypt(_text(text, "comment")),
        )
    )
    _event(session, case, actor, "plan_comment", side=side)
    return Result([], mails=mails)


# -- the handler's side -------------------------------------------------------


def review_plan(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    accept: bool,
    comment_text: str = "",
) -> Result:
    """Accept the submitted plan (remediation starts) or send it back with what to change."""
    _handler(actor)
    plan = plan_of(session, case)
    if plan is None or plan.status != "submitted":
        raise RemediationError("there is no submitted plan to review")
    if accept:
        plan.status, plan.accepted_at = "accepted", utcnow()
        if comment_text.strip():
            comment(session, runtime, case, actor, comment_text)
        _event(session, case, actor, "plan_accepted")
        outbox = _move(session, runtime, case, actor, "remediation_in_progress")
        return Result(outbox, mails=supplier_mail(session, runtime, case, "your plan was accepted"))
    reason = _text(comment_text, "what the supplier should change", 10)
    plan.status, plan.returns = "returned", plan.returns + 1
    comment(session, runtime, case, actor, reason)
    _event(session, case, actor, "plan_returned", returns=plan.returns)
    return Result([], mails=supplier_mail(session, runtime, case, "your plan was sent back"))


def verify_plan(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    accept: bool,
    comment_text: str = "",
) -> Result:
    """Check the completed plan against its evidence; if it holds, ask the worker."""
    _handler(actor)
    plan = plan_of(session, case)
    if plan is None or plan.status != "completed":
        raise RemediationError("there is no completed plan to verify")
    if not accept:
        plan.status = "accepted"
        comment(session, runtime, case, actor, _text(comment_text, "what is missing", 10))
        _event(session, case, actor, "plan_not_verified")
        return Result(
            [], mails=supplier_mail(session, runtime, case, "remediation is not complete yet")
        )
    plan.status, plan.verified_at = "verified", utcnow()
    _event(session, case, actor, "plan_verified")
    return propose_to_worker(session, runtime, case, actor)


def propose_to_worker(session: Session, runtime: Runtime, case: Case, actor: User) -> Result:
    """Ask the worker whether the problem is solved: after the supplier's plan is verified, or
    for a case no supplier had to fix (the question then says the case handler thinks so)."""
    _handler(actor)
    if case.status not in ("remediation_in_progress", "in_triage", "with_supplier"):
        raise RemediationError(
            f"case #{case.id} is {case.status.replace('_', ' ')}; the remedy is proposed to the "
            "worker from remediation or triage"
        )
    plan = plan_of(session, case)
    if plan is not None and plan.status != "verified":
        raise RemediationError("verify the supplier's plan against its evidence first")
    if plan is None and case.supplier_id is not None:
        raise RemediationError(
            "the supplier has no plan yet: the worker can be asked once a plan is verified"
        )
    case.worker_answer = None
    # The worker hears the question itself, not a separate "there is an update".
    _move_quietly(session, runtime, case, actor, "awaiting_worker")
    _prompt(session, case, "confirm", utcnow())
    _event(session, case, actor, "remedy_proposed")
    return Result([], prompts=True)


def may_propose(session: Session, case: Case) -> bool:
    """Whether "ask the worker whether it is solved" can be offered for ``case`` now."""
    if case.status not in ("remediation_in_progress", "in_triage", "with_supplier"):
        return False
    plan = plan_of(session, case)
    if plan is None:
        return case.supplier_id is None
    return plan.status == "verified"


def _move_quietly(
    session: Session, runtime: Runtime, case: Case, actor: User | None, status: str
) -> None:
    previous = case.status
    change_status(
        session, runtime, case, status, f"user:{actor.id}" if actor else "system", notify=False
    )
    audit(session, actor, "status", case.id, f"{previous}->{status}")


def _prompt(session: Session, case: Case, kind: str, due: datetime) -> None:
    # A question not yet sent is replaced, never asked twice.
    for old in session.scalars(
        select(WorkerPrompt).where(
            WorkerPrompt.case_id == case.id,
            WorkerPrompt.kind == kind,
            WorkerPrompt.sent_at.is_(None),
            WorkerPrompt.skipped.is_(None),
        )
    ):
        session.delete(old)
    session.add(WorkerPrompt(case_id=case.id, kind=kind, due_at=due))


def return_to_supplier(
    session: Session, runtime: Runtime, case: Case, actor: User, comment_text: str
) -> Result:
    """After a dispute: the supplier revises its plan (the case is with the supplier again)."""
    _handler(actor)
    plan = plan_of(session, case)
    if plan is None:
        raise RemediationError("there is no plan to send back; refer the case to the supplier")
    if case.status not in ("in_triage", "awaiting_worker", "remediation_in_progress"):
        raise RemediationError(f"case #{case.id} is {case.status.replace('_', ' ')}")
    reason = _text(comment_text, "what the supplier should do further", 10)
    plan.status, plan.returns = "returned", plan.returns + 1
    comment(session, runtime, case, actor, reason)
    _event(session, case, actor, "plan_reopened", returns=plan.returns)
    outbox = _move(session, runtime, case, actor, "with_supplier")
    return Result(
        outbox, mails=supplier_mail(session, runtime, case, "further remediation is needed")
    )


def close(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    outcome: str,
    remedy_types: list[str],
    reason: str,
) -> Result:
    """Close the case (or, where a second reviewer is needed, ask for one)."""
    _handler(actor)
    if case.status not in ("resolved", "in_triage", "awaiting_worker", "remediation_in_progress"):
        raise RemediationError(
            f"case #{case.id} is {case.status.replace('_', ' ')}; it cannot be closed from here"
        )
    if outcome not in OUTCOMES:
        raise RemediationError(f"outcome: one of {', '.join(OUTCOMES)}")
    remedies = list(dict.fromkeys(remedy_types))
    unknown = [r for r in remedies if r not in REMEDY_TYPES]
    if unknown:
        raise RemediationError(f"remedy types: {', '.join(REMEDY_TYPES)}")
    if outcome == "resolved" and not remedies:
        raise RemediationError("say which remedy was given (at least one remedy type)")
    why = _text(reason, "the reason for closing", 10)
    if case.pending_close:
        raise RemediationError("a closing of this case is already waiting for a second reviewer")
    second_person = outcome == "not_resolved" and case.severity in SECOND_REVIEW
    if second_person or (outcome == "resolved" and case.worker_answer != "confirmed"):
        if not second_person and case.worker_answer is None:
            raise RemediationError(
                "ask the worker first: a case is closed as resolved with the worker's "
                "confirmation, or after a second reviewer looks at an unanswered or disputed one"
            )
        case.pending_close = {
            "by": actor.id,
            "outcome": outcome,
            "remedy_types": remedies,
            "reason": why,
        }
        _event(
            session,
            case,
            actor,
            "close_requested",
            outcome=outcome,
            worker_answer=case.worker_answer,
        )
        return Result([])
    return _close(session, runtime, case, actor, outcome, remedies, why)


def review_close(
    session: Session, runtime: Runtime, case: Case, actor: User, approve: bool
) -> Result:
    """A second handler approves or rejects a closing that needs one: a disputed or unanswered
    case as resolved, or a P0 or P1 case as not resolved, out of scope or merged into another."""
    _handler(actor)
    pending = case.pending_close
    if not pending:
        raise RemediationError("no closing is waiting for review")
    if pending.get("by") == actor.id:
        raise RemediationError("a second person must review this; you asked for it")
    case.pending_close = None
    if not approve:
        _event(session, case, actor, "close_review_rejected", outcome=pending.get("outcome"))
        return Result([])
    if pending.get("outcome") == MERGED:
        return Result(duplicates.approved(session, runtime, case, actor, pending).outbox_ids)
    if pending.get("outcome") == "out_of_scope":
        reason = str(pending["reason"])
        _event(session, case, actor, "closed", outcome="out_of_scope", reviewed=True)
        return Result(move_out_of_scope(session, runtime, case, actor, reason))
    remedies = [str(r) for r in pending.get("remedy_types") or []]  # type: ignore[attr-defined]
    return _close(
        session,
        runtime,
        case,
        actor,
        str(pending["outcome"]),
        remedies,
        str(pending["reason"]),
        reviewed=True,
    )


def _close(
    session: Session,
    runtime: Runtime,
    case: Case,
    actor: User,
    outcome: str,
    remedies: list[str],
    reason: str,
    reviewed: bool = False,
) -> Result:
    case.outcome, case.remedy_types, case.close_reason = outcome, remedies, reason
    case.pending_close = None
    _event(
        session,
        case,
        actor,
        "closed",
        outcome=outcome,
        remedy_types=",".join(remedies) or None,
        reviewed=reviewed or None,
    )
    # One message for the stage: the closing message, with its satisfaction question.
    _move_quietly(session, runtime, case, actor, "closed")
    now = utcnow()
    _prompt(session, case, "satisfaction", now)
    for kind, after in CHECKINS:
        _prompt(session, case, kind, now + after)
    mails = supplier_mail(session, runtime, case, "the case is closed") if case.supplier_id else []
    return Result([], prompts=True, mails=mails)


# -- the worker's side --------------------------------------------------------


def record_answer(
    session: Session, runtime: Runtime, contact: Contact, prompt_id: int, answer: str
) -> Case | None:
    """Apply the worker's answer to a prompt; returns the case it was about.

    The prompt must be about one of this contact's cases: a conversation state
    names the prompt, but it is never trusted to reach another worker's case.
    """
    prompt = session.get(WorkerPrompt, prompt_id) if 0 < prompt_id < 2**31 else None
    case = session.get(Case, prompt.case_id) if prompt else None
    if prompt is None or case is None or case.contact_id != contact.id:
        return None
    if prompt.answered_at is not None:
        return case  # answered already (a repeated message)
    prompt.answered_at, prompt.answer = utcnow(), answer[:16]
    if prompt.kind == "satisfaction":
        if answer.isdigit() and 1 <= int(answer) <= 5:
            case.satisfaction = int(answer)
            _event(session, case, None, "worker_satisfaction", score=case.satisfaction)
        return case
    if prompt.kind.startswith("checkin"):
        _event(session, case, None, "retaliation_checkin", answer=answer, question=prompt.kind)
        return case
    worker_answered(session, runtime, case, answer)  # the remedy question
    return case


def worker_answered(session: Session, runtime: Runtime, case: Case, answer: str) -> None:
    """The worker's word on the remedy: confirmed resolves it; anything else goes back."""
    kinds = {"solved": "confirmed", "not_solved": "disputed", "person": "person"}
    result = kinds.get(answer, answer)
    if result not in ("confirmed", *SECOND_LOOK):
        result = "person"  # an answer we cannot read: a person looks at it
    case.worker_answer = result
    _event(session, case, None, "worker_answer", answer=result)
    if case.status == "awaiting_worker":
        resolved = result == "confirmed"
        _move_quietly(session, runtime, case, None, "resolved" if resolved else "in_triage")


def appeal(session: Session, runtime: Runtime, contact: Contact) -> tuple[str, Case | None]:
    """APPEAL: reopen the contact's latest closed case within the window.

    Returns ("reopened" | "too_late" | "none", the case).
    """
    case = session.scalar(
        select(Case)
        .where(
            Case.contact_id == contact.id,
            Case.status.in_(("closed", "resolved", "out_of_scope", "referred")),
            # A merged duplicate is never reopened on its own: its primary is appealed.
            not_merged(),
        )
        .order_by(Case.closed_at.desc().nulls_last(), Case.id.desc())
        .limit(1)
    )
    if case is None:
        return "none", None
    window = timedelta(days=runtime.settings.appeal_days)
    if case.closed_at is not None and case.closed_at < utcnow() - window:
        _event(session, case, None, "appeal_too_late")
        return "too_late", case
    case.reopened += 1
    case.outcome, case.pending_close = None, None
    case.closed_at = None
    # Check-ins of the closed case are not owed any more; the worker is heard again now.
    for prompt in session.scalars(
        select(WorkerPrompt).where(WorkerPrompt.case_id == case.id, WorkerPrompt.sent_at.is_(None))
    ):
        session.delete(prompt)
    _event(session, case, None, "appealed", times=case.reopened)
    _move_quietly(session, runtime, case, None, "in_triage")
    case.due_at = sla.due_at(
        "in_triage", case.severity, case.stage_started_at or utcnow(), runtime.settings.sla_frames
    )
    return "reopened", case


# -- reading ------------------------------------------------------------------


def plan_view(
    session: Session, runtime: Runtime, case: Case, plan: RemediationPlan | None = None
) -> dict[str, object] | None:
    """The plan as both sides see it: steps with their evidence, comments, the playbook.

    Nothing in it comes from the worker: its supplier may read all of it. ``plan`` is the
    current plan unless an archived one is given (staff only).
    """
    plan = plan or plan_of(session, case)
    if plan is None:
        return None
    steps = steps_of(session, plan)
    evidence: dict[int, list[Evidence]] = {s.id: [] for s in steps}
    if steps:
        for item in session.scalars(
            select(Evidence).where(Evidence.step_id.in_(list(evidence))).order_by(Evidence.id)
        ):
            evidence[item.step_id].append(item)
    comments = session.scalars(
        select(PlanComment).where(PlanComment.plan_id == plan.id).order_by(PlanComment.id)
    ).all()
    book = playbooks.load().get(plan.playbook or "")
    return {
        "plan": plan,
        "playbook": book,
        "steps": [
            {
                "step": step,
                "evidence": [
                    {"id": e.id, "filename": e.filename, "size": e.size, "on": e.at.date()}
                    for e in evidence[step.id]
                ],
            }
            for step in steps
        ],
        "comments": [
            {"side": c.side, "on": c.at.date(), "text": runtime.protector.decrypt(c.text_encrypted)}
            for c in comments
        ],
    }


def evidence_file(
    session: Session, case: Case, evidence_id: int, staff: bool = False
) -> Evidence | None:
    """An evidence file of this case's current plan (staff: of any of its plans, archived ones
    too), or None, which the caller answers with 404."""
    item = session.get(Evidence, evidence_id) if 0 < evidence_id < 2**31 else None
    if item is None:
        return None
    step = session.get(RemediationStep, item.step_id)
    plan = session.get(RemediationPlan, step.plan_id) if step else None
    if plan is None or plan.case_id != case.id:
        return None
    return item if staff or plan.archived_at is None else None


def after_commit(runtime: Runtime, result: Outcome) -> None:
    """Deliver the notices, send due prompts and emails an action left, after its commit."""
    for outbox_id in result.outbox_ids:
        enqueue_delivery(runtime, outbox_id, NOTICE)
    if isinstance(result, Result):
        if result.prompts:
            runtime.queue.enqueue("send_prompts")
        enqueue_mails(runtime, result.mails)
