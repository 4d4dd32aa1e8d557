"""Immediate alerts: what a worker does that staff must hear about now, by email.

Who hears what (README, "The case handlers' side"; docs/delivery.md):

| reason | when | to |
| --- | --- | --- |
| ``danger`` | a case becomes P0: the worker may be in danger now | every active admin and handler |
| ``new_p1`` | a report opens a P1 case (or completes one to P1) | every active admin and handler |
| ``person`` | the worker asks for a person | the assignee; nobody has the case: every admin and handler |
| ``reply`` | the worker writes on an assigned case | the assignee only (the queue shows the rest) |

Until rosters exist, "on duty" means every active admin and handler. Alerts come from what
workers do, which nobody on staff has seen yet; a change a handler makes is seen by that
handler, and the overdue digest (services/escalation.py) covers what waits too long.

Each alert is a ``StaffAlert`` row and an email in the mail outbox, both in the caller's
transaction: a job that fails and is retried rolls both back and writes them once. A case
has at most one waiting alert per reason (a partial unique index), and a more urgent waiting
alert covers a less urgent one (danger covers a person asked for, which covers a reply), so
a worker who writes five times before anyone reads the case alerts once. A handler writing to
the worker sees to ``danger`` and ``person``; opening the case sees to ``reply``; after that,
the next one alerts again. ``new_p1`` happens once in a case's life.

The email holds the case number, a fixed phrase for the reason and a link: never a worker's
words, name or number (mailboxes are forwarded, synced to phones and read over shoulders).

While a staff page is open, a handler who turned them on also sees each alert addressed to
them as a browser notification (``pending``; static/notify.js): the same three things, for
a notification shows on a locked screen and in the system's list of notifications. The row
keeps whom it was for (the assignee, or everyone on duty), so the browser shows each handler
what their email showed them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.models import Case, CaseEvent, StaffAlert, User
from grievance.runtime import Runtime
from grievance.services.mails import queue_mail

log = logging.getLogger(__name__)

STAFF_ROLES = ("admin", "handler")
# Most urgent first: a waiting alert covers the reasons after it.
RANK = ("danger", "person", "reply")
SUBJECTS = {
    "danger": "URGENT - case #{id}: the worker may be in danger now (P0)",
    "new_p1": "Case #{id}: a new P1 case",
    "person": "Case #{id}: the worker asked for a person",
    "reply": "Case #{id}: the worker wrote",
}
# What a browser notification says for each reason, after the case number.
PHRASES = {
    "danger": "P0 case",
    "new_p1": "P1 case",
    "person": "person requested",
    "reply": "worker replied",
}
# Alerts read per poll: a browser that was away for long catches up over a few polls.
PENDING_BATCH = 50
# Seeing to a case clears these alerts (see the module's docstring).
ANSWERED = ("danger", "person")
READ = ("reply",)


def _on_duty(session: Session) -> list[str]:
    """Every active admin and handler: who is on duty until rosters exist."""
    return list(session.scalars(select(User.email).where(User.role.in_(STAFF_ROLES), User.active)))


def _assignee(session: Session, case: Case) -> User | None:
    user = session.get(User, case.assignee_id) if case.assignee_id else None
    return user if user is not None and user.active and user.role in STAFF_ROLES else None


def _addressed(session: Session, case: Case, reason: str) -> tuple[list[str], int | None]:
    """The emails an alert goes to, and the one user it is for (None: everyone on duty)."""
    assignee = _assignee(session, case)
    if reason == "reply":
        return ([assignee.email], assignee.id) if assignee else ([], None)
    if reason == "person" and assignee:
        return [assignee.email], assignee.id
    return _on_duty(session), None


def recipients(session: Session, case: Case, reason: str) -> list[str]:
    """Who an alert of ``reason`` about ``case`` goes to (the table in the module docstring)."""
    return _addressed(session, case, reason)[0]


def _covered(session: Session, case: Case, reason: str) -> bool:
    """An alert of this reason, or a more urgent one, is still waiting for the case."""
    covering = RANK[: RANK.index(reason) + 1] if reason in RANK else (reason,)
    waiting = session.scalar(
        select(StaffAlert.id)
        .where(
            StaffAlert.case_id == case.id,
            StaffAlert.reason.in_(covering),
            StaffAlert.cleared_at.is_(None),
        )
        .limit(1)
    )
    return waiting is not None


def alert(session: Session, runtime: Runtime, case: Case, reason: str) -> list[int]:
    """Alert staff about ``case`` now, unless an alert covering it is still waiting.

    Returns the mail outbox ids to enqueue after the caller's commit (none when covered,
    or when there is nobody to tell; then nothing is recorded either).
    """
    if _covered(session, case, reason):
        return []
    emails, user_id = _addressed(session, case, reason)
    if not emails:
        return []  # nobody to tell (an assignee no longer active): the queue shows it
    subject = SUBJECTS[reason].format(id=case.id)
    link = f"{runtime.settings.public_base_url}/cases/{case.id}"
    row = StaffAlert(case_id=case.id, reason=reason, recipients=len(set(emails)), user_id=user_id)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return []  # another transaction wrote this very alert first
    mail_id = queue_mail(session, emails, subject, f"{subject}.\n{link}\n")
    row.mail_id = mail_id
    session.add(
        CaseEvent(
            case_id=case.id,
            kind="alerted",
            actor="system",
            data={"reason": reason, "to": row.recipients},
        )
    )
    audit(session, None, "alerted", case.id, f"reason={reason} recipients={row.recipients}")
    log.info("case %s: alert %s to %s staff", case.id, reason, row.recipients)
    return [mail_id] if mail_id is not None else []


def case_opened(session: Session, runtime: Runtime, case: Case) -> list[int]:
    """A report opened (or completed) ``case``: P0 and P1 cases alert everyone on duty."""
    if case.severity == "P0":
        return alert(session, runtime, case, "danger")
    if case.severity == "P1":
        return alert(session, runtime, case, "new_p1")
    return []


def _clear(session: Session, case: Case, reasons: tuple[str, ...]) -> None:
    session.execute(
        update(StaffAlert)
        .where(
            StaffAlert.case_id == case.id,
            StaffAlert.reason.in_(reasons),
            StaffAlert.cleared_at.is_(None),
        )
        .values(cleared_at=utcnow())
    )


def answered(session: Session, case: Case) -> None:
    """A handler wrote to the worker: a danger or person alert has been seen to."""
    _clear(session, case, ANSWERED)


def read(session: Session, case: Case) -> None:
    """A handler opened the case: the worker's words are read, a reply alert seen to."""
    _clear(session, case, READ)


@dataclass(frozen=True)
class Pending:
    """A browser's alerts: ``(alert id, case id, reason)`` to show, and the id to ask after."""

    alerts: list[tuple[int, int, str]]
    last: int


def pending(session: Session, user_id: int, after: int | None) -> Pending:
    """The alerts addressed to ``user_id`` after alert ``after`` that nobody has seen to yet.

    Without ``after`` (a browser asking for the first time) none, only where to start: a
    browser shows what happens while it is open, not the past. One range read on the primary
    key: the browser asks every 10 seconds, and almost always nothing is new. An alert
    already seen to (a handler answered, the assignee opened the case) is not shown: someone
    is on it.
    """
    if after is None:
        return Pending([], session.scalar(select(func.max(StaffAlert.id))) or 0)
    rows = session.execute(
        select(
            StaffAlert.id,
            StaffAlert.case_id,
            StaffAlert.reason,
            StaffAlert.user_id,
            StaffAlert.cleared_at,
        )
        .where(StaffAlert.id > after)
        .order_by(StaffAlert.id)
        .limit(PENDING_BATCH)
    ).all()
    # Every row read moves the browser on, shown or not: the next poll reads only newer ones.
    shown = [
        (id_, case_id, reason)
        for id_, case_id, reason, to, cleared in rows
        if cleared is None and to in (None, user_id)
    ]
    return Pending(shown, rows[-1][0] if rows else after)
