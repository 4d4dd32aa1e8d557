"""Report periods computed from the clock the demo was made with, never fixed months.

``grievance demo`` spreads its cases over the 180 days before ``now``; a test
that asks for fixed months passes only while the calendar agrees. These
helpers give the months the demo's cases fall in, whatever the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from grievance.demo import HISTORY
from grievance.reports.aggregates import months_between


def month(day: date | datetime) -> str:
    """``YYYY-MM`` of ``day``."""
    return f"{day.year:04d}-{day.month:02d}"


def previous_month(day: date | datetime) -> str:
    """The whole month before ``day``'s month."""
    return month(date(day.year, day.month, 1) - timedelta(days=1))


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` to ``last`` (``YYYY-MM``)."""

    first: str
    last: str

    @property
    def months(self) -> list[str]:
        """Every month of the period, in order."""
        return months_between(
            date.fromisoformat(f"{self.first}-01"), date.fromisoformat(f"{self.last}-01")
        )

    @property
    def query(self) -> str:
        """The period as report query parameters."""
        return f"from={self.first}&to={self.last}"


def demo_period(now: datetime) -> Period:
    """Every month in which a demo made at ``now`` has cases: all of them fall inside."""
    return Period(month(now - HISTORY), month(now))


def long_period(now: datetime) -> Period:
    """About a year ending at ``now``'s month: the demo's months and as many before them."""
    return Period(month(now - 2 * HISTORY), month(now))


def day_month(day: date | datetime, today: date | None = None) -> str:
    """A day as an English message writes it: "9 Dec", or "9 Dec 2027" in another year."""
    today = today or date.today()
    text = f"{day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def published(period: Period, today: date) -> Period:
    """The quarters of ``period`` published by ``today``, as whole months: what a buyer, a
    download and the effectiveness report get for it. Fails when none is published."""
    from grievance.reports import releases

    first = date.fromisoformat(f"{period.first}-01")
    last = date.fromisoformat(f"{period.last}-01")
    quarters = [q for q in releases.quarters_between(first, last) if q.published_on <= today]
    assert quarters, f"no quarter of {period} is published on {today}"
    return Period(month(quarters[0].first), month(quarters[-1].last))


def first_day(period: Period) -> datetime:
    """The first moment of the period (UTC)."""
    from datetime import UTC

    return datetime.fromisoformat(f"{period.first}-01").replace(tzinfo=UTC)


def end(period: Period) -> datetime:
    """The first moment after the period (UTC)."""
    last = first_day(Period(period.last, period.last))
    return (last + timedelta(days=32)).replace(day=1)


def cases_in(session: Any, period: Period, supplier_id: int | None = None) -> int:
    """How many cases were received in ``period`` (at one supplier, when given)."""
    from sqlalchemy import func, select

    from grievance.models import Case

    query = select(func.count(Case.id)).where(
        Case.created_at >= first_day(period), Case.created_at < end(period)
    )
    if supplier_id is not None:
        query = query.where(Case.supplier_id == supplier_id)
    return int(session.scalar(query) or 0)
