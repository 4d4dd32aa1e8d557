"""How cases were handled, for the cases received in a period: times to acknowledge and to
close, and rates (confirmed by the worker, reopened, satisfaction, retaliation check-ins).

A figure over fewer than k cases is not shown ("fewer than k"): a median of three
resolution times, or "1 of 2 workers said yes", would describe people, not a mechanism.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseEvent, Site, SiteAlert, WorkerPrompt


@dataclass(frozen=True)
class Measure:
    """One line of the outcomes table: what, over how many cases, and the figure."""

    label: str
    n: int
    value: str


def _hours(values: list[float]) -> str:
    def show(hours: float) -> str:
        return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"

    median = statistics.median(values)
    p90 = (
        statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    )
    return f"median {show(median)}, p90 {show(p90)}"


def _share(part: int, whole: int, k: int) -> str:
    """A share, unless its part or the rest is a small count: then only that it is small."""
    if 0 < part < k:
        return f"fewer than {k} of {whole}"
    if 0 < whole - part < k:
        return f"all but fewer than {k} of {whole}"
    return f"{part / whole:.0%} ({part} of {whole})"


def outcome_measures(
    session: Session, first: date, last: date, k: int, suppliers: Sequence[int] | None = None
) -> list[Measure]:
    """The handling figures for cases received from ``first``'s month to ``last``'s."""
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    end_year, end_month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    end = datetime(end_year, end_month, 1, tzinfo=UTC)
    query = select(
        Case.id,
        Case.created_at,
        Case.acknowledged_at,
        Case.closed_at,
        Case.status,
        Case.outcome,
        Case.worker_answer,
        Case.satisfaction,
        Case.reopened,
    ).where(Case.created_at >= start, Case.created_at < end)
    if suppliers is not None:
        query = query.where(Case.supplier_id.in_(list(suppliers)))
    rows = session.execute(query).all()
    ids = [row.id for row in rows]

    def hours(since: datetime, until: datetime) -> float:
        return (until - since).total_seconds() / 3600

    acknowledged = [hours(r.created_at, r.acknowledged_at) for r in rows if r.acknowledged_at]
    closed = [r for r in rows if r.status == "closed"]
    resolved = [r for r in closed if r.outcome == "resolved"]
    to_close = [hours(r.created_at, r.closed_at) for r in closed if r.closed_at]
    confirmed = [r for r in resolved if r.worker_answer == "confirmed"]
    scores = [r.satisfaction for r in rows if r.satisfaction]
    checkins = (
        session.execute(
            select(WorkerPrompt.answer).where(
                WorkerPrompt.case_id.in_(ids),
                WorkerPrompt.kind.in_(("checkin_30", "checkin_90")),
                WorkerPrompt.answered_at.is_not(None),
            )
        )
        .scalars()
        .all()
        if ids
        else []
    )
    yes = sum(answer == "yes" for answer in checkins)
    # A case is within its time frames when no stage of it was ever escalated as overdue.
    late = (
        set(
            session.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.case_id.in_(ids), CaseEvent.kind == "escalated"
                )
            )
        )
        if ids
        else set()
    )
    alerts_query = select(func.count(SiteAlert.id)).where(
        SiteAlert.raised_at >= start, SiteAlert.raised_at < end
    )
    if suppliers is not None:
        alerts_query = alerts_query.join(Site, Site.id == SiteAlert.site_id).where(
            Site.supplier_id.in_(list(suppliers))
        )
    alerts = session.scalar(alerts_query) or 0
    measures = [
        ("Cases received", len(rows), lambda: str(len(rows))),
        ("Time to acknowledge", len(acknowledged), lambda: _hours(acknowledged)),
        (
            "Every stage within its time frame",
            len(rows),
            lambda: _share(len(rows) - len(late), len(rows), k),
        ),
        ("Time from report to closing", len(to_close), lambda: _hours(to_close)),
        ("Closed as resolved", len(closed), lambda: _share(len(resolved), len(closed), k)),
        (
            "Resolved with the worker's confirmation",
            len(resolved),
            lambda: _share(len(confirmed), len(resolved), k),
        ),
        (
            "Reopened on appeal",
            len(rows),
            lambda: _share(sum(r.reopened > 0 for r in rows), len(rows), k),
        ),
        (
            "Satisfaction (1-5)",
            len(scores),
            lambda: (
                f"mean {statistics.mean(scores):.1f}; 4 or 5: "
                + _share(sum(s >= 4 for s in scores), len(scores), k)
            ),
        ),
        (
            "Retaliation check-ins answered \u201cyes\u201d",
            len(checkins),
            lambda: _share(yes, len(checkins), k),
        ),
    ]
    shown = [
        Measure(label, n, compute() if n >= k else f"fewer than {k} cases")
        for label, n, compute in measures
    ]
    # Site alerts describe sites, not workers: their number is shown as it is.
    return [
        *shown,
        Measure(
            "Site alerts raised (3 or more similar cases at one site in 30 days)",
            len(rows),
            str(alerts),
        ),
    ]
