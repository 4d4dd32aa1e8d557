"""The outbox: every outbound message is a row written with the change that caused it.

``deliver`` claims a row atomically, sends it once, stores the provider's id,
and schedules retries with backoff for temporary failures. A row whose send
may or may not have reached the provider (the process died mid-send) is marked
``unknown`` rather than sent twice.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import case, null, select, update
from sqlalchemy.orm import Session

from grievance.channels.base import DeliveryError, OutboundMessage
from grievance.clock import utcnow
from grievance.models import OUTBOUND, Contact, Message, OutboxItem
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BASE_DELAY = 2.0
MAX_DELAY = 300.0
# Keys that may reach a contact who opted out: the confirmations themselves.
ALWAYS_ALLOWED = frozenset({"stop.confirmed", "start.confirmed"})
# Provider statuses in the order they happen; a callback never moves a message backwards.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}


def queue_message(
    session: Session,
    runtime: Runtime,
    contact: Contact,
    body: str,
    *,
    catalog_key: str | None = None,
    case_id: int | None = None,
    sensitive: bool = False,
) -> OutboxItem | None:
    """Write an outbound message and its outbox row in the caller's transaction.

    Returns None (and writes nothing) when the contact has opted out.
    """
    if contact.opted_out and catalog_key not in ALWAYS_ALLOWED:
        return None
    message = Message(
        direction=OUTBOUND,
        contact_id=contact.id,
        case_id=case_id,
        channel=contact.channel,
        body_encrypted=runtime.protector.encrypt(body),
        catalog_key=catalog_key,
        sensitive=sensitive,
        delivery_status="pending",
    )
    session.add(message)
    session.flush()
    item = OutboxItem(message_id=message.id)
    session.add(item)
    session.flush()
    return item


def backoff(attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with full jitter: up to 2 s, 4 s, 8 s ... capped at 5 minutes."""
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=(rng or random).uniform(ceiling / 2, ceiling))


def deliver(runtime: Runtime, outbox_id: int) -> str:
    """Send one outbox row if nobody else has; returns the row's status afterwards."""
    now = utcnow()
    outbox, messages, contacts = OutboxItem.__table__, Message.__table__, Contact.__table__
    with runtime.db.begin() as connection:
        claimed = connection.execute(
            update(outbox)
            .where(
                outbox.c.id == outbox_id,
                outbox.c.status == "pending",
                (outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now),
            )
            .values(status="sending", attempts=outbox.c.attempts + 1, claimed_at=now)
            .returning(outbox.c.attempts)
        ).scalar()
        if claimed is None:
            status = connection.execute(
                select(outbox.c.status).where(outbox.c.id == outbox_id)
            ).scalar()
            return status or "missing"
        row = connection.execute(
            select(
                messages.c.id,
                messages.c.body_encrypted,
                messages.c.catalog_key,
                contacts.c.address_encrypted,
                contacts.c.channel,
                contacts.c.our_address,
                contacts.c.opted_out,
            )
            .select_from(outbox.join(messages, messages.c.id == outbox.c.message_id))
            .outerjoin(contacts, contacts.c.id == messages.c.contact_id)
            .where(outbox.c.id == outbox_id)
        ).one()
    attempts = int(claimed)
    if row.address_encrypted is None or row.body_encrypted is None:
        return _settle(runtime, outbox_id, "failed", "no address or body left (purged)")
    if row.opted_out and row.catalog_key not in ALWAYS_ALLOWED:
        return _settle(runtime, outbox_id, "cancelled", "the worker opted out before it was sent")
    outbound = OutboundMessage(
        to=runtime.protector.decrypt(row.address_encrypted),
        body=runtime.protector.decrypt(row.body_encrypted),
        channel=row.channel,
        from_address=row.our_address,
        status_callback=runtime.status_callback_url(),
    )
    try:
        result = runtime.channel.send(outbound)
    except DeliveryError as exc:
        return _failed(runtime, outbox_id, attempts, exc)
    with runtime.db.begin() as connection:
        connection.execute(
            update(outbox)
            .where(outbox.c.id == outbox_id)
            .values(status="sent", sent_at=utcnow(), last_error=None)
        )
        connection.execute(
            update(messages)
            .where(messages.c.id == row.id)
            .values(
                provider_sid=result.provider_sid,
                delivery_status=_later_sql(messages.c.delivery_status, result.status),
                # A message that showed a case code keeps no body: the code lives on only as a slow hash.
                body_encrypted=case(
                    (messages.c.sensitive, null()), else_=messages.c.body_encrypted
                ),
            )
        )
    return "sent"


def _settle(runtime: Runtime, outbox_id: int, status: str, reason: str) -> str:
    with runtime.sessions() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        return _finish(session, item, session.get(Message, item.message_id), status, reason)


def _later_sql(current: Any, new: str) -> Any:
    """SQL for: ``new`` unless the stored status is already further along."""
    rank = STATUS_RANK.get(new, -1)
    ahead = [status for status, r in STATUS_RANK.items() if r > rank]
    return case((current.in_(ahead), current), else_=new)


def _failed(runtime: Runtime, outbox_id: int, attempts: int, exc: DeliveryError) -> str:
    with runtime.sessions() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        message = session.get(Message, item.message_id)
        if exc.opted_out and message is not None and message.contact_id:
            contact = session.get(Contact, message.contact_id)
            if contact is not None and not contact.opted_out:
                contact.opted_out = True
                contact.opted_out_at = utcnow()
        if exc.retryable and attempts < MAX_ATTEMPTS:
            delay = backoff(attempts)
            item.status = "pending"
            item.next_attempt_at = utcnow() + delay
            item.last_error = exc.reason[:200]
            session.commit()
            log.info(
                "outbox %s: attempt %s failed (%s); retrying in %.0fs",
                outbox_id,
                attempts,
                exc.reason,
                delay.total_seconds(),
            )
            runtime.queue.enqueue_in(delay, "deliver", outbox_id)
            return "pending"
        if message is not None:
            message.error_code = exc.code
        log.warning("outbox %s: giving up after %s attempts (%s)", outbox_id, attempts, exc.reason)
        return _finish(session, item, message, "failed", exc.reason)


def _finish(
    session: Session, item: OutboxItem, message: Message | None, status: str, reason: str
) -> str:
    item.status = status
    item.last_error = reason[:200]
    if message is not None:
        message.delivery_status = "failed" if status == "failed" else status
        if message.sensitive:
            message.body_encrypted = None
    session.commit()
    return status


def _later(current: str | None, new: str) -> str:
    if current is None or current not in STATUS_RANK:
        return new
    return new if STATUS_RANK.get(new, -1) >= STATUS_RANK[current] else current


def record_status(runtime: Runtime, provider_sid: str, status: str, error_code: str | None) -> bool:
    """Apply a delivery status callback; duplicates and out-of-order callbacks change nothing."""
    status = status.lower()
    if status not in STATUS_RANK:
        return False
    with runtime.sessions() as session:
        message = session.scalar(
            select(Message).where(
                Message.provider_sid == provider_sid, Message.direction == OUTBOUND
            )
        )
        if message is None:
            return False
        newer = _later(message.delivery_status, status)
        changed = newer != message.delivery_status
        message.delivery_status = newer
        if error_code and newer == status:
            message.error_code = error_code[:10]
        session.commit()
        return changed
