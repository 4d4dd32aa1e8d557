"""Making cases and contacts old enough for retention, without waiting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from grievance.clock import utcnow
from grievance.models import Case, Contact
from grievance.runtime import Runtime


def age(runtime: Runtime, *, closed_days: int = 0, quiet_days: int = 0) -> None:
    with runtime.sessions() as session:
        if closed_days:
            session.execute(update(Case).values(closed_at=utcnow() - timedelta(days=closed_days)))
        if quiet_days:
            then = utcnow() - timedelta(days=quiet_days)
            session.execute(update(Contact).values(last_inbound_at=then, created_at=then))
        session.commit()
