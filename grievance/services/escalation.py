"""Time frames enforced: overdue cases are escalated by email, and patterns at a site raise alerts.

A case past its stage's due time is escalated once per stage, to its assignee and
every admin; when the supplier owes the plan or the remediation, to its users too.
Each run sends each person one digest listing their newly overdue cases (numbers
and links, nothing else), never one email per case: one sweep once sent 29. Three
or more cases of one category from one site within 30 days raise a site
alert on the queue: a pattern there is a risk to other workers too.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from grievance.auth.accounts import audit
from grievance.clock import utcnow
from grievance.models import Case, CaseEvent, Site, SiteAlert, User
from grievance.models.cases import OPEN_STATUSES
from grievance.runtime import Runtime
from grievance.services.mails import enqueue_mails, queue_mail

log = logging.getLogger(__name__)

SIMILAR_CASES = 3
ALERT_WINDOW = timedelta(days=30)
BATCH = 500
# Stages where the supplier owes something: it hears too when they are overdue.
SUPPLIER_DUE = {
    "with_supplier": "the remediation plan",
    "remediation_in_progress": "the remediation",
}


def escalate_overdue(runtime: Runtime, now: datetime | None = None) -> int:
    """Mark every open case past its due time not yet escalated in this stage, and send each
    person one digest of their cases.

    A case goes to the admins and its assignee; a case whose supplier owes the plan or the
    remediation also goes to that supplier's users, who see only their own organisation's
    cases. The digests are written to the mail outbox in the same transaction as
    ``escalated_at`` and sent after the commit: a mail server that fails on one of them
    delays that one, and never makes the others go again. Returns how many cases were
    escalated to staff.
    """
    now = now or utcnow()
    with runtime.sessions() as db:
        cases = db.scalars(
            select(Case)
            .where(
                Case.status.in_(OPEN_STATUSES),
                Case.due_at < now,
                or_(Case.escalated_at.is_(None), Case.escalated_at < Case.stage_started_at),
            )
            .order_by(Case.severity, Case.due_at, Case.id)
            .limit(BATCH)
        ).all()
        admins = set(db.scalars(select(User.email).where(User.role == "admin", User.active)))
        staff: dict[str, list[Case]] = defaultdict(list)
        suppliers: dict[str, list[Case]] = defaultdict(list)
        escalated = 0
        for case in cases:
            recipients = admins | _assignee(db, case)
            for email in recipients:
                staff[email].append(case)
            for email in _supplier_users(db, case):
                suppliers[email].append(case)
            _mark_escalated(db, case, len(recipients), now)
            escalated += 1 if recipients else 0
        base = runtime.settings.public_base_url
        mail_ids = [
            *(_staff_digest(db, email, listed, base) for email, listed in sorted(staff.items())),
            *(
                _supplier_digest(db, email, listed, base)
                for email, listed in sorted(suppliers.items())
            ),
        ]
        db.commit()
    enqueue_mails(runtime, [mail_id for mail_id in mail_ids if mail_id is not None])
    if cases:
        log.info("escalated %s overdue cases in %s digests", len(cases), len(mail_ids))
    return escalated


def _assignee(db: Session, case: Case) -> set[str]:
    assignee = db.get(User, case.assignee_id) if case.assignee_id else None
    return {assignee.email} if assignee is not None and assignee.active else set()


def _supplier_users(db: Session, case: Case) -> list[str]:
    """The supplier's users, when the supplier owes the plan or the remediation."""
    if case.status not in SUPPLIER_DUE or case.supplier_id is None:
        return []
    return list(
        db.scalars(
            select(User.email).where(
                User.organisation_id == case.supplier_id, User.role == "supplier", User.active
            )
        )
    )


def _mark_escalated(db: Session, case: Case, recipients: int, now: datetime) -> None:
    """The per-case bookkeeping: escalated once per stage, on the timeline and audited."""
    case.escalated_at = now
    db.add(
        CaseEvent(
            case_id=case.id,
            kind="escalated",
            actor="system",
            data={"to": recipients, "stage": case.status},
        )
    )
    audit(db, None, "escalated", case.id, f"{recipients} recipients")


def _staff_digest(db: Session, email: str, cases: list[Case], base: str) -> int | None:
    """One email listing a person's newly overdue cases: numbers and links, nothing else."""
    if len(cases) == 1:
        subject = f"Case #{cases[0].id} is overdue"
    else:
        subject = f"{len(cases)} cases are overdue"
    lines = [f"Case #{case.id}: {base}/cases/{case.id}" for case in cases]
    body = "Past the time frame of their stage:\n" + "\n".join(lines) + "\n"
    return queue_mail(db, [email], subject, body)


def _supplier_digest(db: Session, email: str, cases: list[Case], base: str) -> int | None:
    """One email to a supplier's user listing their organisation's overdue cases."""
    if len(cases) == 1:
        subject = f"Case #{cases[0].id}: {SUPPLIER_DUE[cases[0].status]} is overdue"
    else:
        subject = f"{len(cases)} cases: the remediation plan or the remediation is overdue"
    lines = [
        f"Case #{case.id}: {SUPPLIER_DUE[case.status]} - {base}/supplier/cases/{case.id}"
        for case in cases
    ]
    body = "Overdue:\n" + "\n".join(lines) + "\n"
    return queue_mail(db, [email], subject, body)


def raise_site_alerts(runtime: Runtime, now: datetime | None = None) -> list[SiteAlert]:
    """New alerts for sites with 3 or more cases of one category in the last 30 days."""
    now = now or utcnow()
    since = now - ALERT_WINDOW
    raised = []
    with runtime.sessions() as db:
        groups = db.execute(
            select(Case.site_id, Case.category, func.count(Case.id))
            .where(Case.site_id.is_not(None), Case.category.is_not(None), Case.created_at >= since)
            .group_by(Case.site_id, Case.category)
            .having(func.count(Case.id) >= SIMILAR_CASES)
        ).all()
        for site_id, category, count in groups:
            recent = db.scalar(
                select(SiteAlert.id).where(
                    SiteAlert.site_id == site_id,
                    SiteAlert.category == category,
                    SiteAlert.raised_at >= since,
                )
            )
            if recent is None:
                alert = SiteAlert(site_id=site_id, category=category, cases=count, raised_at=now)
                db.add(alert)
                raised.append(alert)
                audit(
                    db,
                    None,
                    "site_alert",
                    None,
                    f"site={site_id} category={category} cases={count}",
                )
        db.commit()
    return raised


def active_alerts(db, now: datetime | None = None) -> list[tuple[SiteAlert, Site]]:  # type: ignore[no-untyped-def]
    """Alerts of the last 30 days, newest first, with their sites."""
    since = (now or utcnow()) - ALERT_WINDOW
    rows = db.execute(
        select(SiteAlert, Site)
        .join(Site, Site.id == SiteAlert.site_id)
        .where(SiteAlert.raised_at >= since, SiteAlert.closed_at.is_(None))
        .order_by(SiteAlert.raised_at.desc())
    )
    return [(alert, site) for alert, site in rows]
