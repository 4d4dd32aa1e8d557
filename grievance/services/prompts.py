"""Questions the mechanism owes workers: is the remedy solved, how satisfied are you,
has anyone treated you badly since. Each is a ``WorkerPrompt`` row written with the
change that causes it; this module sends the due ones by starting their flow.

A worker who cannot be reached (opted out, or contact erased) is not messaged:
the prompt is marked skipped, the timeline says the worker was not reached, and
an unreached remedy question sends the case back to the handler, who then needs
a second reviewer to close it as resolved. A worker who declined news at intake
declined notices of each stage, not their say: the remedy question and the
retaliation check-ins are still asked, and say nothing of what the report is
about. A worker in the middle of a report is asked 15 minutes later instead of
being cut off.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from grievance.clock import utcnow
from grievance.models import Case, CaseEvent, Contact, WorkerPrompt
from grievance.runtime import Runtime
from grievance.services import remediation
from grievance.services.conversations import deliver_now, start_flow
from grievance.services.mails import enqueue_mails
from grievance.services.outbox import in_window

log = logging.getLogger(__name__)

FLOWS = {
    "confirm": "confirm",
    "satisfaction": "closing",
    "checkin_30": "checkin",
    "checkin_90": "checkin",
    "details": "details",
}
BUSY_DELAY = timedelta(minutes=15)
BATCH = 100


def send_due_prompts(runtime: Runtime, now: datetime | None = None) -> int:
    """Send (or skip, or postpone) every prompt due by ``now``; returns how many were sent."""
    now = now or utcnow()
    with runtime.sessions() as session:
        due = list(
            session.scalars(
                select(WorkerPrompt.id)
                .where(
                    WorkerPrompt.sent_at.is_(None),
                    WorkerPrompt.skipped.is_(None),
                    WorkerPrompt.due_at <= now,
                )
                .order_by(WorkerPrompt.due_at)
                .limit(BATCH)
            )
        )
    sent = 0
    for prompt_id in due:
        try:
            sent += _send_one(runtime, prompt_id)
        except Exception as exc:
            log.warning("prompt %s not sent: %s", prompt_id, type(exc).__name__)
    return sent


def _send_one(runtime: Runtime, prompt_id: int) -> int:
    mails: list[int] = []
    with runtime.sessions() as session:
        prompt = session.get(WorkerPrompt, prompt_id)
        if prompt is None or prompt.sent_at is not None or prompt.skipped is not None:
            return 0
        case = session.get(Case, prompt.case_id)
        if case is None:
            return 0
        contact = session.get(Contact, case.contact_id) if case.contact_id else None
        reason = _unreachable(case, contact, prompt.kind)
        if reason is not None or contact is None:
            prompt.skipped = reason or "no_contact"
            session.add(
                CaseEvent(
                    case_id=case.id,
                    kind="worker_not_reached",
                    actor="system",
                    data={"question": prompt.kind, "reason": prompt.skipped},
                )
            )
            if prompt.kind == "confirm":
                remediation.worker_answered(session, runtime, case, "unreached")
                mails = remediation.handler_mail(
                    session, runtime, case, "the worker could not be asked; decide the next step"
                )
            session.commit()
            enqueue_mails(runtime, mails)
            return 0
        results: dict[str, object] = {
            "prompt": prompt.id,
            "case": case.id,
            "date": case.created_at.date().isoformat(),
            "appeal_days": str(runtime.settings.appeal_days),
        }
        if prompt.kind == "details":
            results["category"] = case.reported_category or case.category or ""
        if case.supplier_id is not None:
            results["supplier"] = "yes"  # "the company says it is fixed"
        outbox_ids = start_flow(runtime, session, contact, FLOWS[prompt.kind], results, case.id)
        if outbox_ids is None:
            prompt.due_at = utcnow() + BUSY_DELAY
            session.commit()
            return 0
        prompt.sent_at = utcnow()
        session.add(
            CaseEvent(
                case_id=case.id, kind="worker_asked", actor="system", data={"question": prompt.kind}
            )
        )
        session.commit()
    deliver_now(runtime, outbox_ids)
    return 1


def _unreachable(case: Case, contact: Contact | None, kind: str) -> str | None:
    if contact is None or contact.address_encrypted is None:
        return "no_contact"
    if contact.opted_out:
        return "opted_out"
    if (
        kind == "details"
        and contact.channel == "whatsapp"
        and not in_window(contact.last_inbound_at)
    ):
        # Optional questions are not worth a template that would read "there is an
        # update on your report": a worker held up past WhatsApp's window is not asked.
        return "outside_window"
    return None
