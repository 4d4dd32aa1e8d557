"""Time frames enforced: overdue cases are escalated by email, and patterns at a site raise alerts.

A case past its stage's due time is escalated once per stage: its assignee and
every admin get an email with the case number and a link, nothing else; when
the supplier owes the plan or the remediation, its users get one too. Three
or more cases of one category from one site within 30 days raise a site
alert on the queue: a pattern there is a risk to other workers too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select

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
    """Email about every open case past its due time not yet escalated in this stage.

    The emails are written to the mail outbox in the same transaction as ``escalated_at``
    and sent after the commit: a mail server that fails on one of them delays that one,
    and never makes the others go again. Returns how many cases were escalated to staff.
    """
    now = now or utcnow()
    sent = 0
    mail_ids: list[int] = []
    with runtime.sessions() as db:
        cases = db.scalars(
            select(Case)
            .where(
                Case.status.in_(OPEN_STATUSES),
                Case.due_at < now,
                or_(Case.escalated_at.is_(None), Case.escalated_at < Case.stage_started_at),
            )
            .order_by(Case.severity, Case.due_at)
            .limit(BATCH)
        ).all()
        admins = db.scalars(select(User.email).where(User.role == "admin", User.active)).all()
        base = runtime.settings.public_base_url
        for case in cases:
            recipients = set(admins)
            assignee = db.get(User, case.assignee_id) if case.assignee_id else None
            if assignee is not None and assignee.active:
                recipients.add(assignee.email)
            case.escalated_at = now
            db.add(
                CaseEvent(
                    case_id=case.id,
                    kind="escalated",
                    actor="system",
                    data={"to": len(recipients), "stage": case.status},
                )
            )
            audit(db, None, "escalated", case.id, f"{len(recipients)} recipients")
            staff = queue_mail(
                db,
                recipients,
                f"Case #{case.id} is overdue",
                f"Case #{case.id} is past the time frame of its stage.\n{base}/cases/{case.id}\n",
            )
            if staff is not None:
                mail_ids.append(staff)
                sent += 1
            if case.status in SUPPLIER_DUE and case.supplier_id is not None:
                suppliers = db.scalars(
                    select(User.email).where(
                        User.organisation_id == case.supplier_id,
                        User.role == "supplier",
                        User.active,
                    )
                )
                what = SUPPLIER_DUE[case.status]
                supplier = queue_mail(
                    db,
                    suppliers,
                    f"Case #{case.id}: {what} is overdue",
                    f"Case #{case.id}: {what} is overdue.\n{base}/supplier/cases/{case.id}\n",
                )
                mail_ids += [supplier] if supplier is not None else []
        db.commit()
    enqueue_mails(runtime, mail_ids)
    if sent:
        log.info("escalated %s overdue cases", sent)
    return sent


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
