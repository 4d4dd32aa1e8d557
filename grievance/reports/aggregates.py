"""Counts of cases per month by a dimension (category, severity, site, supplier, language,
corridor, recruitment agency),
for a period and, for buyers, only their linked suppliers. Months are the finest time bin.
The counts go through :func:`grievance.reports.suppression.suppress` before anyone sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from grievance import csvsafe
from grievance.models import Agency, Case, CaseRecruitment, Organisation, Site
from grievance.models.cases import not_merged

if TYPE_CHECKING:
    from grievance.reports.suppression import Table

DIMENSIONS = {
    "category": "Category",
    "severity": "Severity",
    "site": "Site",
    "supplier": "Supplier",
    "language": "Language",
    "corridor": "Corridor (origin to site country)",
    "agency": "Recruitment agency",
}
NOT_KNOWN = "not known"


@dataclass(frozen=True)
class Counts:
    """Rows (values of the dimension) by columns (months, ``YYYY-MM``)."""

    dimension: str
    rows: list[str]
    months: list[str]
    counts: list[list[int]]


def months_between(first: date, last: date) -> list[str]:
    """Every ``YYYY-MM`` from ``first``'s month to ``last``'s, in order."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_of(session: Session, moment: Any) -> ColumnElement[str]:
    """``YYYY-MM`` of a timestamp column (UTC), computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM")
    return func.strftime("%Y-%m", moment)


def monthly_counts(
    session: Session,
    dimension: str,
    first: date,
    last: date,
    suppliers: Sequence[int] | None = None,
) -> Counts:
    """Cases received per month from ``first`` to ``last`` (whole months), by ``dimension``.

    ``suppliers`` limits the cases to those suppliers' (a buyer's view); None is every case.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
    months = months_between(first, last)
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    end_year, end_month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    end = datetime(end_year, end_month, 1, tzinfo=UTC)
    month = month_of(session, Case.created_at)
    label: ColumnElement[str | None] | ColumnElement[str] | InstrumentedAttribute[str]
    if dimension == "site":
        label = Site.name
    elif dimension == "supplier":
        label = Organisation.name
    elif dimension == "agency":
        label = Agency.name  # a merged agency's cases point to the one it was merged into
    elif dimension == "corridor":
        # "NP → MY"; either end unknown reads "?" (the worker did not say, no site yet).
        label = func.coalesce(Case.origin_country, "?") + " → " + func.coalesce(Site.country, "?")
    else:
        label = getattr(Case, dimension)
    query = select(label, month, func.count(Case.id)).select_from(Case)
    if dimension in ("site", "corridor"):
        query = query.outerjoin(Site, Site.id == Case.site_id)
    elif dimension == "supplier":
        query = query.outerjoin(Organisation, Organisation.id == Case.supplier_id)
    elif dimension == "agency":
        query = query.outerjoin(CaseRecruitment, CaseRecruitment.case_id == Case.id).outerjoin(
            Agency, Agency.id == CaseRecruitment.agency_id
        )
    # A duplicate merged into another case is one problem, counted on its primary.
    query = query.where(Case.created_at >= start, Case.created_at < end, not_merged()).group_by(
        label, month
    )
    if suppliers is not None:
        query = query.where(Case.supplier_id.in_(list(suppliers)))
    table: dict[str, dict[str, int]] = {}
    for value, bucket, count in session.execute(query):
        if value == "? → ?":
            value = None
        table.setdefault(value or NOT_KNOWN, {})[bucket] = int(count)
    rows = sorted(table, key=lambda v: (v == NOT_KNOWN, v))
    return Counts(
        dimension=dimension,
        rows=rows,
        months=months,
        counts=[[table[row].get(m, 0) for m in months] for row in rows],
    )


def write_csv(
    out: TextIO, dimension: str, rows: Sequence[str], months: Sequence[str], table: Table
) -> None:
    """A table as published: every cell as :class:`Table` shows it, totals included."""
    k = table.k
    writer = csvsafe.writer(out)
    writer.writerow([DIMENSIONS[dimension], *months, "Total"])
    for name, row, total in zip(rows, table.cells, table.row_totals, strict=False):
        writer.writerow([name, *(cell.shown(k) for cell in row), total.shown(k)])
    writer.writerow(
        ["Total", *(cell.shown(k) for cell in table.column_totals), table.total.shown(k)]
    )
