"""The mail outbox: every email to staff is a row written with the change that caused it.

One policy everywhere: a service writes the email in its own transaction
(:func:`queue_mail`), the caller enqueues it after the commit
(:func:`enqueue_mails`), and :func:`send` delivers it once. A change that rolls
back takes its emails with it; an email that fails is retried with backoff and
never makes another one go twice. The sweeper picks up rows whose job was lost.

Staff emails carry a case number and a link, never case content: mailboxes are
forwarded, synced to phones and read over shoulders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.db import affected
from grievance.models import OutboxMail
from grievance.runtime import Runtime
from grievance.services.outbox import backoff

log = logging.getLogger(__name__)

# An email about an overdue case or a worker in danger is still worth sending after an hour
# of a mail server being down; after a day, the queue and the next escalation say it better.
MAIL_MAX_AGE = timedelta(days=1)
# Retries back off up to ten minutes apart: a mail server is down for minutes, not seconds.
MAIL_MAX_DELAY = 600.0


ERASED = "(erased: this email held a one-time link)"


def queue_mail(
    session: Session, to: Iterable[str], subject: str, body: str, *, secret: bool = False
) -> int | None:
    """Write one email in the caller's transaction; its id, or None when nobody is to get it.
    A ``secret`` body (a one-time link) is erased once the email is sent or given up."""
    recipients = sorted(set(to))
    if not recipients:
        return None
    mail = OutboxMail(recipients=recipients, subject=subject[:200], body=body, erase_body=secret)
    session.add(mail)
    session.flush()
    return mail.id


def enqueue_mails(runtime: Runtime, mail_ids: Sequence[int]) -> None:
    """After the commit: one send job per email."""
    for mail_id in mail_ids:
        runtime.queue.enqueue("send_mail", mail_id)


def send(runtime: Runtime, mail_id: int) -> str:
    """Send one email if nobody else has; returns its status afterwards.

    Claimed with an atomic update from 'pending', so a duplicate job does nothing.
    A failure schedules a retry; an email older than :data:`MAIL_MAX_AGE` is given up.
    """
    now = utcnow()
    with runtime.sessions() as session:
        claimed = affected(
            session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == mail_id, OutboxMail.status == "pending")
                .where((OutboxMail.next_attempt_at.is_(None)) | (OutboxMail.next_attempt_at <= now))
                .values(status="sending", claimed_at=now, attempts=OutboxMail.attempts + 1)
            )
        )
        session.commit()
        mail = session.get(OutboxMail, mail_id)
        if mail is None:
            return "missing"
        if not claimed:
            return mail.status
        try:
            runtime.mailer.send(list(mail.recipients), mail.subject, mail.body)
        except Exception as exc:  # smtplib and socket errors of every kind
            return _failed(session, mail, type(exc).__name__)
        mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
        _erase_if_secret(mail)
        session.commit()
        return "sent"


def _erase_if_secret(mail: OutboxMail) -> None:
    """A one-time link leaves the database once its email is out (or given up): only the
    mailbox keeps it, and the link's hash is all the app needs to accept it."""
    if mail.erase_body:
        mail.body = ERASED


def _failed(session: Session, mail: OutboxMail, error: str) -> str:
    now = utcnow()
    mail.last_error = error[:200]
    if now - mail.created_at >= MAIL_MAX_AGE:
        mail.status = "failed"
        _erase_if_secret(mail)
        log.error(
            "gave up an email to staff after %s attempts (%s); the case queue still shows it",
            mail.attempts,
            error,
        )
    else:
        mail.status = "pending"
        mail.next_attempt_at = now + backoff(mail.attempts, base=30.0, cap=MAIL_MAX_DELAY)
        log.warning("could not send an email to staff (%s); retrying", error)
    session.commit()
    return mail.status


def retry_due(runtime: Runtime, session: Session, grace: timedelta, stuck: timedelta) -> int:
    """For the sweeper: give back sends that never finished, enqueue emails due. How many."""
    now = utcnow()
    session.execute(
        update(OutboxMail)
        .where(OutboxMail.status == "sending", OutboxMail.claimed_at <= now - stuck)
        .values(status="pending", next_attempt_at=None, claimed_at=None)
    )
    due = session.scalars(
        select(OutboxMail.id)
        .where(
            OutboxMail.status == "pending",
            ((OutboxMail.next_attempt_at.is_(None)) & (OutboxMail.created_at <= now - grace))
            | (OutboxMail.next_attempt_at <= now),
        )
        .order_by(OutboxMail.id)
        .limit(500)
    ).all()
    session.commit()
    enqueue_mails(runtime, due)
    return len(due)
