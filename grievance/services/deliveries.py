"""Failed deliveries: messages that did not reach a worker who has an open case.

Handlers see this list so that a worker is never silently cut off: an
undelivered status update is followed up another way (a call by a trusted
organisation, a visit, the next message once the number works again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import OUTBOUND, Case, Message, OutboxItem
from grievance.models.cases import OPEN_STATUSES

# Still retrying after this long: shown, so a person knows before the retries end.
RETRYING_FOR = timedelta(minutes=15)

# Twilio error codes in words a case handler can act on.
REASONS = {
    "21211": "the phone number is not valid",
    "21408": "sending to this country is not enabled",
    "21610": "the worker replied STOP and receives nothing until they send START",
    "21614": "the number cannot receive SMS (a landline?)",
    "30003": "the phone is switched off or out of coverage",
    "30004": "the message was blocked (the number may block short codes or us)",
    "30005": "the number is unknown to the carrier or no longer exists",
    "30006": "the number cannot receive SMS (a landline, or the carrier does not route it)",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier gave no reason",
    "63016": "WhatsApp: outside the 24-hour window and no template could be sent",
    "63024": "WhatsApp: the number is not on WhatsApp",
}


@dataclass(frozen=True)
class FailedDelivery:
    """One message a worker with an open case did not get."""

    message_id: int
    case_id: int
    case_status: str
    channel: str
    status: str
    reason: str
    at: datetime


def reason_in_words(status: str, error_code: str | None, last_error: str | None) -> str:
    """Why a message did not arrive, for a person."""
    if error_code and error_code in REASONS:
        return REASONS[error_code]
    if status == "pending":
        return f"still retrying: {last_error or 'not sent yet'}"
    if last_error:
        return last_error
    if error_code:
        return f"error {error_code} from the provider"
    return "the carrier reported it undelivered without a reason"


def _failed(statement: Select[Any], open_case: Any) -> Select[Any]:
    """``statement`` over messages to workers with an open case that failed or still retry."""
    problem = or_(
        Message.delivery_status.in_(("failed", "undelivered")),
        OutboxItem.status == "failed",
        and_(OutboxItem.status == "pending", OutboxItem.created_at <= utcnow() - RETRYING_FOR),
    )
    return (
        statement.select_from(Message)
        .join(OutboxItem, OutboxItem.message_id == Message.id)
        .join(open_case, open_case.c.contact_id == Message.contact_id)
        .where(
            Message.direction == OUTBOUND,
            problem,
            or_(Message.case_id.is_(None), Message.case_id == open_case.c.id),
        )
    )


def _open_cases() -> Any:
    return (
        select(Case.id, Case.status, Case.contact_id)
        .where(Case.status.in_(OPEN_STATUSES), Case.contact_id.is_not(None))
        .subquery("open_case")
    )


def failed_deliveries(session: Session, limit: int = 200) -> list[FailedDelivery]:
    """Failed, undelivered or long-retrying messages to workers who have an open case, newest first."""
    open_case = _open_cases()
    columns = select(
        Message.id,
        func.coalesce(Message.case_id, open_case.c.id).label("case_id"),
        open_case.c.status,
        Message.channel,
        Message.delivery_status,
        Message.error_code,
        OutboxItem.status.label("outbox_status"),
        OutboxItem.last_error,
        Message.created_at,
    )
    rows = session.execute(
        _failed(columns, open_case).order_by(Message.id.desc()).limit(limit)
    ).all()
    seen: set[int] = set()
    failures = []
    for row in rows:
        if row.id in seen:  # a worker with two open cases: list the message once
            continue
        seen.add(row.id)
        status = "pending" if row.outbox_status == "pending" else (row.delivery_status or "failed")
        failures.append(
            FailedDelivery(
                message_id=row.id,
                case_id=row.case_id,
                case_status=row.status,
                channel=row.channel,
                status=status,
                reason=reason_in_words(status, row.error_code, row.last_error),
                at=row.created_at,
            )
        )
    return failures


def count_failed(session: Session) -> int:
    """How many messages :func:`failed_deliveries` would list (for /healthz), counted in SQL."""
    open_case = _open_cases()
    return session.scalar(_failed(select(func.count(distinct(Message.id))), open_case)) or 0
