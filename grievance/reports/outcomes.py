"""How cases were handled, for the cases received in a period: times to acknowledge and to
close, and rates (confirmed by the worker, reopened, satisfaction, retaliation check-ins).

A figure over fewer than k cases is not shown ("fewer than k"): a median of three
resolution times, or "1 of 2 workers said yes", would describe people, not a mechanism.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseEvent, Site, SiteAlert, WorkerPrompt
from grievance.models.cases import not_merged


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


def _percent(part: int, whole: int, k: int) -> str:
    """A share without its counts (the month-by-month trend, whose months' totals may be
    hidden in the counts table): only the percentage, or that its part is small."""
    if 0 < part < k:
        return f"<{k} cases"
    if 0 < whole - part < k:
        return f"all but <{k}"
    return f"{part / whole:.0%}"


def _share(part: int, whole: int, k: int) -> str:
    """A share, unless its part or the rest is a small count: then only that it is small."""
    if 0 < part < k:
        return f"fewer than {k} of {whole}"
    if 0 < whole - part < k:
        return f"all but fewer than {k} of {whole}"
    return f"{part / whole:.0%} ({part} of {whole})"


@dataclass(frozen=True)
class _Collected:
    """The cases received in a period, with what the figures need of each."""

    # id, month (YYYY-MM), status, outcome, worker_answer, satisfaction, reopened, and
    # hours from the report to acknowledgement and to closing (None when not yet).
    rows: list[
        Row[
            int, str, str, str | None, str | None, int | None, int, float | Decimal, float | Decimal
        ]
    ]
    triaged: dict[int, float]  # case id -> hours from the report to leaving triage
    late: set[int]  # cases with a stage escalated as overdue
    checkins: list[tuple[int, str | None]]  # (case id, answer)
    alerts: int


PRE_TRIAGE = ("received", "acknowledged", "in_triage")


def _period(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    end_year, end_month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return start, datetime(end_year, end_month, 1, tzinfo=UTC)


def hours_sql(session: Session, since: Any, until: Any) -> ColumnElement[float | Decimal]:
    """Hours from ``since`` to ``until``, computed by the database: a report over a hundred
    thousand cases should not parse a hundred thousand timestamps in Python."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", until - since) / 3600.0
    return (func.julianday(until) - func.julianday(since)) * 24.0


def _collect(
    session: Session, first: date, last: date, suppliers: Sequence[int] | None
) -> _Collected:
    from grievance.reports.aggregates import month_of

    start, end = _period(first, last)
    # A duplicate merged into another case is one problem, counted on its primary.
    in_period = [Case.created_at >= start, Case.created_at < end, not_merged()]
    if suppliers is not None:
        in_period.append(Case.supplier_id.in_(list(suppliers)))
    rows = list(
        session.execute(
            select(
                Case.id,
                month_of(session, Case.created_at).label("month"),
                Case.status,
                Case.outcome,
                Case.worker_answer,
                Case.satisfaction,
                Case.reopened,
                hours_sql(session, Case.created_at, Case.acknowledged_at).label("ack_hours"),
                hours_sql(session, Case.created_at, Case.closed_at).label("close_hours"),
            ).where(*in_period)
        ).all()
    )
    # Triage ends when the case first moves past received/acknowledged/in_triage.
    moved = CaseEvent.data["to"].as_string()
    triaged: dict[int, float] = {
        case_id: float(hours)
        for case_id, hours in session.execute(
            select(CaseEvent.case_id, func.min(hours_sql(session, Case.created_at, CaseEvent.at)))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "status", moved.not_in(PRE_TRIAGE), *in_period)
            .group_by(CaseEvent.case_id)
        )
        if hours is not None
    }
    late = set(
        session.scalars(
            select(CaseEvent.case_id)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "escalated", *in_period)
        )
    )
    checkins = [
        (case_id, answer)
        for case_id, answer in session.execute(
            select(WorkerPrompt.case_id, WorkerPrompt.answer)
            .join(Case, Case.id == WorkerPrompt.case_id)
            .where(
                WorkerPrompt.kind.in_(("checkin_30", "checkin_90")),
                WorkerPrompt.answered_at.is_not(None),
                *in_period,
            )
        )
    ]
    alerts_query = select(func.count(SiteAlert.id)).where(
        SiteAlert.raised_at >= start, SiteAlert.raised_at < end
    )
    if suppliers is not None:
        alerts_query = alerts_query.join(Site, Site.id == SiteAlert.site_id).where(
            Site.supplier_id.in_(list(suppliers))
        )
    return _Collected(rows, triaged, late, checkins, session.scalar(alerts_query) or 0)


def _measures(
    data: _Collected, k: int, share: Callable[[int, int, int], str] | None = None
) -> list[tuple[str, int, Callable[[], str]]]:
    share_of = share or _share
    rows = data.rows
    # One pass, unpacking each row once: a year of a large mechanism is 100,000 rows.
    acknowledged: list[float] = []
    triaged: list[float] = []
    to_close: list[float] = []
    scores: list[int] = []
    closed = resolved = confirmed = reopened = on_time = 0
    for case_id, _, status, outcome, answer, satisfaction, again, ack, close in rows:
        if ack is not None:
            acknowledged.append(float(ack))
        hours = data.triaged.get(case_id)
        if hours is not None:
            triaged.append(hours)
        if status == "closed":
            closed += 1
            if close is not None:
                to_close.append(float(close))
            if outcome == "resolved":
                resolved += 1
                confirmed += answer == "confirmed"
        if satisfaction:
            scores.append(satisfaction)
        reopened += again > 0
        on_time += case_id not in data.late
    yes = sum(answer == "yes" for _, answer in data.checkins)
    return [
        ("Cases received", len(rows), lambda: str(len(rows))),
        ("Time to acknowledge", len(acknowledged), lambda: _hours(acknowledged)),
        (
            "Time to triage (to the first decision on the case)",
            len(triaged),
            lambda: _hours(triaged),
        ),
        ("Every stage within its time frame", len(rows), lambda: share_of(on_time, len(rows), k)),
        ("Time from report to closing", len(to_close), lambda: _hours(to_close)),
        ("Closed as resolved", closed, lambda: share_of(resolved, closed, k)),
        (
            "Resolved with the worker's confirmation",
            resolved,
            lambda: share_of(confirmed, resolved, k),
        ),
        ("Reopened on appeal", len(rows), lambda: share_of(reopened, len(rows), k)),
        (
            "Satisfaction (1-5)",
            len(scores),
            lambda: (
                f"mean {statistics.fmean(scores):.1f}; 4 or 5: "
                + share_of(sum(s >= 4 for s in scores), len(scores), k)
            ),
        ),
        (
            "Retaliation check-ins answered \u201cyes\u201d",
            len(data.checkins),
            lambda: share_of(yes, len(data.checkins), k),
        ),
    ]


def outcome_measures(
    session: Session,
    first: date,
    last: date,
    k: int,
    suppliers: Sequence[int] | None = None,
    data: _Collected | None = None,
) -> list[Measure]:
    """The handling figures for cases received from ``first``'s month to ``last``'s."""
    data = data or _collect(session, first, last, suppliers)
    shown = [
        Measure(label, n, compute() if n >= k else f"fewer than {k} cases")
        for label, n, compute in _measures(data, k)
    ]
    # Site alerts describe sites, not workers: their number is shown as it is.
    return [
        *shown,
        Measure(
            "Site alerts raised (3 or more similar cases at one site in 30 days)",
            len(data.rows),
            str(data.alerts),
        ),
    ]


def handling(
    session: Session, first: date, last: date, k: int, suppliers: Sequence[int] | None = None
) -> tuple[list[Measure], tuple[list[str], list[tuple[str, list[str]]]]]:
    """:func:`outcome_measures` and :func:`monthly_trend` from one reading of the cases."""
    data = _collect(session, first, last, suppliers)
    return (
        outcome_measures(session, first, last, k, suppliers, data),
        monthly_trend(session, first, last, k, suppliers, data),
    )


# The handling figures followed month by month (the trend table). The cases received per
# month are the counts table's column totals, shown as suppressed there.
TREND_LABELS = (
    "Time to acknowledge",
    "Time to triage (to the first decision on the case)",
    "Every stage within its time frame",
    "Closed as resolved",
    "Resolved with the worker's confirmation",
)


def monthly_trend(
    session: Session,
    first: date,
    last: date,
    k: int,
    suppliers: Sequence[int] | None = None,
    data: _Collected | None = None,
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The main handling figures per month of receipt: (months, [(label, one figure a month)]).

    Each month is judged on its own: a figure over fewer than k cases reads "<k".
    """
    from grievance.reports.aggregates import months_between

    data = data or _collect(session, first, last, suppliers)
    months = months_between(first, last)
    # Each case's month, then every part split by it in one pass.
    parts = {m: _Collected([], {}, set(), [], 0) for m in months}
    month_of_case: dict[int, str] = {}
    for row in data.rows:
        month_of_case[row[0]] = row[1]
        parts.setdefault(row[1], _Collected([], {}, set(), [], 0)).rows.append(row)
    for case_id, hours in data.triaged.items():
        parts[month_of_case[case_id]].triaged[case_id] = hours
    for case_id in data.late:
        if case_id in month_of_case:
            parts[month_of_case[case_id]].late.add(case_id)
    for checkin in data.checkins:
        parts[month_of_case[checkin[0]]].checkins.append(checkin)
    columns = []
    for month in months:
        part = parts[month]
        figures = {label: (n, compute) for label, n, compute in _measures(part, k, _percent)}
        columns.append(
            [
                figures[label][1]() if figures[label][0] >= k else f"<{k} cases"
                for label in TREND_LABELS
            ]
        )
    return months, [
        (label, [column[i] for column in columns]) for i, label in enumerate(TREND_LABELS)
    ]
