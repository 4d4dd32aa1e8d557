"""The sweeper: finds work left behind and enqueues it again. Nothing is lost, nothing runs twice.

Inbound messages still unprocessed a while after arrival (Redis was down, a
worker died), outbox rows due for a retry, media not yet fetched, and
conversations whose timers are due. Every job it enqueues is idempotent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from grievance.clock import utcnow
from grievance.models import INBOUND, Attachment, Conversation, Message, OutboxItem
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=30)  # leave fresh work to the job that was enqueued for it
STUCK_SENDING = timedelta(minutes=10)
BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    """How much left-behind work a sweep found."""

    inbound: int
    outbox: int
    media: int
    timers: int
    unknown: int

    @property
    def total(self) -> int:
        """All jobs enqueued."""
        return self.inbound + self.outbox + self.media + self.timers


def sweep(runtime: Runtime, grace: timedelta = GRACE) -> SweepReport:
    """Enqueue every job that should have run by now and did not."""
    now = utcnow()
    with runtime.sessions() as session:
        contacts = session.scalars(
            select(Message.contact_id)
            .where(
                Message.direction == INBOUND,
                Message.processed_at.is_(None),
                Message.created_at <= now - grace,
                Message.contact_id.is_not(None),
            )
            .group_by(Message.contact_id)
            .limit(BATCH)
        ).all()
        first_messages = [
            session.scalar(
                select(Message.id)
                .where(
                    Message.contact_id == contact_id,
                    Message.processed_at.is_(None),
                    Message.direction == INBOUND,
                )
                .order_by(Message.id)
                .limit(1)
            )
            for contact_id in contacts
        ]
        outbox = session.scalars(
            select(OutboxItem.id)
            .where(
                OutboxItem.status == "pending",
                ((OutboxItem.next_attempt_at.is_(None)) & (OutboxItem.created_at <= now - grace))
                | (OutboxItem.next_attempt_at <= now),
            )
            .order_by(OutboxItem.id)
            .limit(BATCH)
        ).all()
        # A send that started long ago and never finished may have reached the
        # provider: mark it unknown for a person to check rather than risk a duplicate.
        unknown = session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "sending", OutboxItem.claimed_at <= now - STUCK_SENDING)
            .values(
                status="unknown",
                last_error="interrupted while sending; not retried to avoid a duplicate",
            )
        ).rowcount
        media = session.scalars(
            select(Attachment.id)
            .join(Message, Message.id == Attachment.message_id)
            .where(Attachment.status == "pending", Message.created_at <= now - grace)
            .limit(BATCH)
        ).all()
        timers = session.scalars(
            select(Conversation.id)
            .where(Conversation.wake_at <= now)
            .order_by(Conversation.wake_at)
            .limit(BATCH)
        ).all()
        session.commit()
    for message_id in first_messages:
        if message_id is not None:
            runtime.queue.enqueue("process_inbound", message_id)
    for outbox_id in outbox:
        runtime.queue.enqueue("deliver", outbox_id)
    for attachment_id in media:
        runtime.queue.enqueue("fetch_media", attachment_id)
    for conversation_id in timers:
        runtime.queue.enqueue("process_timers", conversation_id)
    report = SweepReport(len(first_messages), len(outbox), len(media), len(timers), unknown or 0)
    if report.total or report.unknown:
        log.info(
            "sweep: %s inbound, %s outbox, %s media, %s timers re-enqueued; %s sends marked unknown",
            report.inbound,
            report.outbox,
            report.media,
            report.timers,
            report.unknown,
        )
    return report
