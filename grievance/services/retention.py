"""Retention: personal data is erased when its purpose has ended.

- A closed case keeps its record (category, severity, dates, the handler's
  summary, its timeline of events) for reporting, but the worker's own words,
  attachments, the supplier's evidence files (receipts and payroll extracts name
  workers) and, once none of their cases needs it, their contact are erased
  ``retention_closed_days`` after closing.
- A contact who never opened a case (a question, an abandoned intake) is erased
  ``retention_no_case_days`` after their last message.
- Twilio keeps every message body and media file until it is deleted there: each
  message is deleted at Twilio ``twilio_delete_after_minutes`` after we have
  processed it (inbound, media downloaded) or after its final delivery status
  (outbound).

``grievance retention run`` runs the first two; workers run it once a day.
The sweeper enqueues the Twilio deletions as they fall due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from grievance.channels.base import DeliveryError
from grievance.channels.voice import VoiceChannel
from grievance.clock import utcnow
from grievance.db import affected
from grievance.models import (
    INBOUND,
    OUTBOUND,
    Attachment,
    Case,
    CaseRecruitment,
    CodeAttempt,
    Contact,
    Conversation,
    Evidence,
    Message,
    RemediationPlan,
    RemediationStep,
    Translation,
    WellbeingMember,
)
from grievance.models.cases import OPEN_STATUSES
from grievance.runtime import Runtime
from grievance.services import exports

log = logging.getLogger(__name__)

BATCH = 500
FINAL_STATUSES = ("delivered", "undelivered", "failed", "read", "cancelled")
# An outbound message with no final status after this long is deleted at Twilio anyway.
OUTBOUND_SETTLED_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class RetentionReport:
    """What one retention run erased."""

    cases: int
    contacts: int
    messages: int
    attachments: int
    evidence: int = 0

    def __str__(self) -> str:
        return (
            f"{self.cases} closed cases purged, {self.contacts} contacts erased, "
            f"{self.messages} message bodies, {self.attachments} attachments and "
            f"{self.evidence} evidence files erased"
        )


def run(runtime: Runtime, now: datetime | None = None) -> RetentionReport:
    """Erase what has passed its retention period. Idempotent; safe to run at any time."""
    now = now or utcnow()
    settings = runtime.settings
    closed_before = now - timedelta(days=settings.retention_closed_days)
    idle_before = now - timedelta(days=settings.retention_no_case_days)
    cases = contacts = messages = attachments = evidence = 0
    with runtime.sessions() as session:
        due = session.scalars(
            select(Case)
            .where(
                Case.status.not_in(OPEN_STATUSES),
                Case.closed_at <= closed_before,
                Case.purged_at.is_(None),
            )
            .limit(BATCH)
        ).all()
        for case in due:
            messages += _erase_messages(session, Message.case_id == case.id)
            attachments += _erase_attachments(session, Attachment.case_id == case.id)
            evidence += _erase_evidence(session, case.id)
            case.description_encrypted = None
            # Translations of the worker's words go with the words.
            session.execute(delete(Translation).where(Translation.case_id == case.id))
            session.execute(
                update(CaseRecruitment)
                .where(CaseRecruitment.case_id == case.id)
                .values(words_encrypted=None)
            )
            case.purged_at = now
            cases += 1
        session.flush()
        for contact in _contacts_to_erase(session, idle_before):
            messages += _erase_messages(session, Message.contact_id == contact.id)
            attachments += _erase_attachments(
                session,
                Attachment.message_id.in_(
                    select(Message.id).where(Message.contact_id == contact.id)
                ),
            )
            session.execute(
                update(Case).where(Case.contact_id == contact.id).values(contact_id=None)
            )
            session.execute(
                update(Message).where(Message.contact_id == contact.id).values(contact_id=None)
            )
            session.execute(delete(Conversation).where(Conversation.contact_id == contact.id))
            session.execute(delete(CodeAttempt).where(CodeAttempt.contact_id == contact.id))
            session.delete(contact)
            contacts += 1
        exports.forget_old(session, now)
        session.commit()
    report = RetentionReport(cases, contacts, messages, attachments, evidence)
    log.info("retention: %s", report)
    return report


def _erase_messages(session: Session, which: ColumnElement[bool]) -> int:
    session.execute(
        delete(Translation)
        .where(Translation.message_id.in_(select(Message.id).where(which)))
        .execution_options(synchronize_session=False)
    )
    erased = affected(
        session.execute(
            update(Message)
            .where(which, Message.body_encrypted.is_not(None))
            .values(body_encrypted=None)
            .execution_options(synchronize_session=False)
        )
    )
    session.execute(
        update(Message).where(which).values(fields={}).execution_options(synchronize_session=False)
    )
    return erased


def _erase_evidence(session: Session, case_id: int) -> int:
    """The supplier's evidence files of the case's plan; the plan's steps and dates stay."""
    steps = (
        select(RemediationStep.id)
        .join(RemediationPlan, RemediationPlan.id == RemediationStep.plan_id)
        .where(RemediationPlan.case_id == case_id)
    )
    return affected(
        session.execute(
            delete(Evidence)
            .where(Evidence.step_id.in_(steps))
            .execution_options(synchronize_session=False)
        )
    )


def _erase_attachments(session: Session, which: ColumnElement[bool]) -> int:
    return affected(
        session.execute(
            update(Attachment)
            .where(which, Attachment.status != "purged")
            .values(data_encrypted=None, source_url=None, status="purged")
            .execution_options(synchronize_session=False)
        )
    )


def _contacts_to_erase(session: Session, idle_before: datetime) -> list[Contact]:
    """Contacts quiet for long enough whose cases, if they had any, are all purged, and who
    are not (or no longer: STOP) members of a site's wellbeing pulse."""
    needed = exists().where(Case.contact_id == Contact.id, Case.purged_at.is_(None)) | (
        exists().where(WellbeingMember.contact_id == Contact.id) & ~Contact.opted_out
    )
    idle = or_(
        Contact.last_inbound_at <= idle_before,
        Contact.last_inbound_at.is_(None) & (Contact.created_at <= idle_before),
    )
    return list(session.scalars(select(Contact).where(~needed, idle).limit(BATCH)))


def due_at_provider(session: Session, runtime: Runtime, now: datetime | None = None) -> list[int]:
    """Messages whose copy at the provider should now be deleted (ids, oldest first)."""
    minutes = runtime.settings.twilio_delete_after_minutes
    if minutes < 0:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(minutes=minutes)
    media_pending = exists().where(
        Attachment.message_id == Message.id, Attachment.status == "pending"
    )
    inbound_done = (
        (Message.direction == INBOUND)
        & Message.processed_at.is_not(None)
        & (Message.processed_at <= cutoff)
        & ~media_pending
    )
    outbound_done = (Message.direction == OUTBOUND) & (
        (Message.delivery_status.in_(FINAL_STATUSES) & (Message.created_at <= cutoff))
        | (Message.created_at <= now - OUTBOUND_SETTLED_AFTER)
    )
    return list(
        session.scalars(
            select(Message.id)
            .where(
                Message.provider_sid.is_not(None),
                Message.provider_deleted_at.is_(None),
                inbound_done | outbound_done,
            )
            .order_by(Message.id)
            .limit(BATCH)
        )
    )


def delete_at_provider(runtime: Runtime, message_id: int) -> bool:
    """Delete one message (and its media) at the provider. Idempotent; False if nothing to do."""
    with runtime.sessions() as session:
        message = session.get(Message, message_id)
        if message is None or message.provider_sid is None or message.provider_deleted_at:
            return False
        sid = message.provider_sid
        # A call's answer: keys pressed are no message at Twilio; a recording is deleted
        # by its own sid (usually already, right after it was fetched).
        recording = (message.fields or {}).get("RecordingSid")
        voice = message.channel == "voice"
    try:
        if not voice:
            runtime.channel.delete_message(sid)
        elif recording and isinstance(runtime.channel, VoiceChannel):
            runtime.channel.delete_recording(recording)
    except DeliveryError as exc:
        log.info(
            "message %s: deletion at the provider failed (%s); retried later",
            message_id,
            exc.reason,
        )
        return False
    with runtime.sessions() as session:
        session.execute(
            update(Message).where(Message.id == message_id).values(provider_deleted_at=utcnow())
        )
        session.commit()
    return True
