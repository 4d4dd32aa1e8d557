"""The sweeper: finds work left behind and enqueues it again. Nothing is lost.

Inbound messages still unprocessed a while after arrival (Redis was down or
lost its data, a worker died), outbox rows and staff emails due for a retry,
media not yet fetched, and conversations whose timers are due. Every job it enqueues is
idempotent.

A send claimed long ago and never finished belongs to a worker that died
between claiming and recording it. Twilio may or may not have it; the sweeper
gives it back to be sent again, because a worker would rather get a message
twice than not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from grievance.clock import utcnow
from grievance.db import affected
from grievance.models import (
    INBOUND,
    Attachment,
    Conversation,
    Message,
    OutboxItem,
    RightsMessage,
    VoiceCallback,
    WellbeingWave,
    WorkerPrompt,
)
from grievance.runtime import Runtime
from grievance.services import mails, retention, voice
from grievance.services.conversations import MAX_ATTEMPTS
from grievance.services.outbox import enqueue_deliveries

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class SweepReport:
    """How much left-behind work a sweep found."""

    inbound: int
    outbox: int
    media: int
    timers: int
    resent: int
    provider_deletions: int = 0
    mails: int = 0

    @property
    def total(self) -> int:
        """All jobs enqueued."""
        return self.inbound + self.outbox + self.media + self.timers + self.mails


def sweep(runtime: Runtime, grace: timedelta | None = None) -> SweepReport:
    """Enqueue every job that should have run by now and did not.

    ``grace`` (default: the sweep_grace_seconds setting) leaves fresh work to
    the job that was enqueued for it.
    """
    now = utcnow()
    if grace is None:
        grace = timedelta(seconds=runtime.settings.sweep_grace_seconds)
    stuck = timedelta(seconds=runtime.settings.stuck_send_seconds)
    with runtime.sessions() as session:
        resent = affected(
            session.execute(
                update(OutboxItem)
                .where(OutboxItem.status == "sending", OutboxItem.claimed_at <= now - stuck)
                .values(
                    status="pending",
                    next_attempt_at=None,
                    claimed_at=None,
                    last_error="interrupted while sending; sent again (it may arrive twice)",
                )
            )
        )
        contacts = session.scalars(
            select(Message.contact_id)
            .where(
                Message.direction == INBOUND,
                Message.processed_at.is_(None),
                Message.created_at <= now - grace,
                Message.contact_id.is_not(None),
                Message.attempts < MAX_ATTEMPTS,
            )
            .group_by(Message.contact_id)
            .limit(BATCH)
        ).all()
        outbox = session.execute(
            select(OutboxItem.id, OutboxItem.priority)
            .where(
                OutboxItem.status == "pending",
                ((OutboxItem.next_attempt_at.is_(None)) & (OutboxItem.created_at <= now - grace))
                | (OutboxItem.next_attempt_at <= now),
            )
            .order_by(OutboxItem.id)
            .limit(BATCH)
        ).all()
        media_rows = session.execute(
            select(Attachment.id, Message.channel)
            .join(Message, Message.id == Attachment.message_id)
            .where(Attachment.status == "pending", Message.created_at <= now - grace)
            .limit(BATCH)
        ).all()
        media = [attachment_id for attachment_id, _ in media_rows]
        # A call's recording is also deleted at Twilio once fetched.
        recordings = {attachment_id for attachment_id, channel in media_rows if channel == "voice"}
        callbacks = session.scalars(
            select(VoiceCallback.id)
            .where(VoiceCallback.status == "pending", VoiceCallback.due_at <= now - grace)
            .limit(BATCH)
        ).all()
        timers = session.scalars(
            select(Conversation.id)
            .where(Conversation.wake_at <= now)
            .order_by(Conversation.wake_at)
            .limit(BATCH)
        ).all()
        provider_deletions = retention.due_at_provider(session, runtime, now)
        prompts_due = session.scalar(
            select(WorkerPrompt.id)
            .where(
                WorkerPrompt.sent_at.is_(None),
                WorkerPrompt.skipped.is_(None),
                WorkerPrompt.due_at <= now,
            )
            .limit(1)
        )
        # A wave whose sending job was lost (Redis down, a worker died) carries on.
        waves = session.scalars(
            select(WellbeingWave.id).where(
                WellbeingWave.status == "sending", WellbeingWave.created_at <= now - grace
            )
        ).all()
        rights = session.scalars(
            select(RightsMessage.id).where(
                RightsMessage.status == "sending", RightsMessage.created_at <= now - grace
            )
        ).all()
        session.commit()
    for wave_id in waves:
        runtime.queue.enqueue("send_wellbeing_wave", wave_id, bulk=True)
    for rights_id in rights:
        runtime.queue.enqueue("send_rights", rights_id, bulk=True)
    if contacts:
        # Not a wake-up: its key may be left from an enqueue Redis lost.
        runtime.queue.enqueue("process_waiting")
    for priority in sorted({priority for _, priority in outbox}):
        ids = [outbox_id for outbox_id, p in outbox if p == priority]
        enqueue_deliveries(runtime, ids, priority)
    for attachment_id in media:
        job = "fetch_recording" if attachment_id in recordings else "fetch_media"
        runtime.queue.enqueue(job, attachment_id)
    for callback_id in callbacks:
        runtime.queue.enqueue("place_callback", callback_id)
    # Calls whose end Twilio never reported forget what they kept to repeat.
    voice.forget_ended_calls(runtime)
    for conversation_id in timers:
        runtime.queue.enqueue("process_timers", conversation_id)
    for message_id in provider_deletions:
        runtime.queue.enqueue("forget_at_provider", message_id, bulk=True)
    if prompts_due is not None:
        runtime.queue.enqueue("send_prompts")
    with runtime.sessions() as session:
        staff_mails = mails.retry_due(runtime, session, grace, stuck)
    report = SweepReport(
        len(contacts),
        len(outbox),
        len(media),
        len(timers),
        resent or 0,
        len(provider_deletions),
        staff_mails,
    )
    if report.total or report.resent:
        log.info(
            "sweep: %s inbound, %s outbox, %s media, %s timers, %s emails re-enqueued; "
            "%s interrupted sends given back",
            report.inbound,
            report.outbox,
            report.media,
            report.timers,
            report.mails,
            report.resent,
        )
    return report
