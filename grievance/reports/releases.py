"""Published quarters: the report figures that leave the people who handle cases.

A table suppressed on its own hides its small counts from someone who holds that table.
Someone who may ask for any period holds many tables: cases over January to June and over
February to June differ by exactly January's cases, which January's own table hides as
"<10". So whatever an aggregate reader (a buyer, or anyone given a CSV or the effectiveness
report) can obtain is read from *releases*:

- **A release is one calendar quarter for one audience**: every case counted in it was
  received in that quarter, and the audience is either everyone's cases (``all``) or one
  buyer organisation's linked suppliers (``buyer:<id>``). A quarter is published
  :data:`RELEASE_DELAY_DAYS` days after it ends (time to triage its last cases).
- **A release is frozen at first publication.** Its figures are stored as shown ("12",
  "<10", "–") and never computed again: a case re-categorised next year, or a supplier
  linked later, does not produce a second version of the quarter to difference against.
- **Within a release every table is suppressed together**
  (:func:`grievance.reports.suppression.suppress_together`): the cases per month by
  category, severity, site, supplier, language, corridor and ending share their month
  totals and grand total, and an integer program holding all of them pins no small count.
- **A period is whole quarters, and anything over more than one quarter is computed from
  what the releases show**: a row's total over two quarters is their sum when both are
  shown and "–" otherwise; handling figures are given quarter by quarter.

Why that suffices: the releases of different quarters count disjoint sets of cases, so no
equation links a figure of one quarter to a figure of another; each quarter's tables are
safe together; and everything else an aggregate reader sees is a function of the
releases, so it tells nothing the releases do not. What this does not cover: two buyer
organisations pooling their releases, or a buyer with a staff member (docs/security.md).

Staff (admins and handlers) may also look at live figures on the report page, for any
period; they read every case anyway. Those never leave as a file.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import (
    INBOUND,
    Case,
    CaseEvent,
    Message,
    Organisation,
    ReportRelease,
    SiteAlert,
    User,
)
from grievance.models.accounts import buyer_suppliers
from grievance.models.cases import CATEGORY_LABELS, not_merged
from grievance.models.remediation import REMEDY_LABELS
from grievance.reports import aggregates, outcomes
from grievance.reports.suppression import (
    COMPLEMENTARY,
    PRIMARY,
    Cell,
    Table,
    suppress,
    suppress_together,
)
from grievance.runtime import Runtime

log = logging.getLogger(__name__)

RELEASE_DELAY_DAYS = 14
STAFF = "all"
ENDINGS = {
    "resolved": "Closed, resolved",
    "not_resolved": "Closed, not resolved",
    "referred": "Referred to another organisation",
    "out_of_scope": "Out of scope",
    "withdrawn": "Withdrawn by the worker",
    "open": "Still open when published",
}
# The tables of a release: the report dimensions, and how the cases had ended by then.
TABLES = {**aggregates.DIMENSIONS, "ending": "Ending"}


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, the unit of publication."""

    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, label: str) -> Quarter | None:
        match = re.fullmatch(r"(\d{4})-Q([1-4])", label.strip())
        return cls(int(match.group(1)), int(match.group(2))) if match else None

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first(self) -> date:
        """The first day of its first month."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last(self) -> date:
        """The first day of its last month (reports count whole months)."""
        return date(self.year, 3 * self.number, 1)

    @property
    def months(self) -> list[str]:
        return aggregates.months_between(self.first, self.last)

    def next(self) -> Quarter:
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    @property
    def published_on(self) -> date:
        return self.next().first + timedelta(days=RELEASE_DELAY_DAYS)


def quarters_between(first: date, last: date) -> list[Quarter]:
    """Every quarter with a month in ``first``..``last``, in order."""
    found, quarter = [], Quarter.of(first)
    while quarter <= Quarter.of(last):
        found.append(quarter)
        quarter = quarter.next()
    return found


def latest_published(today: date) -> Quarter:
    """The most recent quarter published by ``today``."""
    quarter = Quarter.of(today)
    while quarter.published_on > today:
        quarter = (
            Quarter(quarter.year - 1, 4)
            if quarter.number == 1
            else Quarter(quarter.year, quarter.number - 1)
        )
    return quarter


@dataclass(frozen=True)
class Audience:
    """Whose cases a release counts: ``all``, or one buyer's linked suppliers'."""

    key: str
    suppliers: list[int] | None


def audience(user: User, suppliers: list[int]) -> Audience:
    """A buyer's organisation (``suppliers`` its linked ones); everyone else who reads
    reports reads every case."""
    if user.role == "buyer":
        return Audience(f"buyer:{user.organisation_id}", suppliers)
    return Audience(STAFF, None)


def buyer_audiences(db: Session) -> list[Audience]:
    """Every buyer organisation, with the suppliers linked to it now."""
    linked: dict[int, list[int]] = {}
    for buyer_id, supplier_id in db.execute(
        select(buyer_suppliers.c.buyer_id, buyer_suppliers.c.supplier_id)
    ):
        linked.setdefault(buyer_id, []).append(supplier_id)
    buyers = db.scalars(
        select(Organisation.id).where(Organisation.kind == "buyer").order_by(Organisation.id)
    )
    return [Audience(f"buyer:{org_id}", sorted(linked.get(org_id, []))) for org_id in buyers]


def publish_due(db: Session, k: int, today: date) -> list[str]:
    """Publish the latest quarter due by ``today`` to staff and to every buyer organisation
    that has not read it yet, so that no reader waits for it to be built. Workers run this
    daily; ``grievance reports publish`` runs it by hand. Returns the audiences published to.
    """
    quarter = latest_published(today)
    done = set(
        db.scalars(select(ReportRelease.audience).where(ReportRelease.quarter == quarter.label))
    )
    published = []
    for audience in [Audience(STAFF, None), *buyer_audiences(db)]:
        if audience.key not in done:
            content = release(db, audience, quarter, k)
            if content["tables"]["category"]["total"] != "0":  # empty quarters are not kept
                published.append(f"{audience.key} {quarter.label}")
    return published


def publish(runtime: Runtime) -> list[str]:
    """:func:`publish_due` today, in its own transaction."""
    with runtime.sessions() as db:
        done = publish_due(db, runtime.settings.report_min_cell, utcnow().date())
        db.commit()
    if done:
        log.info("published %s", ", ".join(done))
    return done


def release(db: Session, audience: Audience, quarter: Quarter, k: int) -> dict[str, Any]:
    """The quarter as published to the audience: read if it was, else built and stored.

    Two first readers at once build it twice; the unique key keeps the first stored, and
    the other reads that one, so every reader of a quarter sees the same figures. A quarter
    without a case is not stored.
    """
    query = select(ReportRelease.content).where(
        ReportRelease.audience == audience.key, ReportRelease.quarter == quarter.label
    )
    stored = db.scalar(query)
    if stored is not None:
        return dict(stored)
    content = build(db, audience, quarter, k)
    if content["tables"]["category"]["total"] == "0":
        # No case: nothing to protect, and nothing worth a row (any year can be asked for).
        return content
    try:
        with db.begin_nested():
            db.add(ReportRelease(audience=audience.key, quarter=quarter.label, content=content))
    except IntegrityError:
        stored = db.scalar(query)
        assert stored is not None
        return dict(stored)
    return content


def build(db: Session, audience: Audience, quarter: Quarter, k: int) -> dict[str, Any]:
    """Everything published for the quarter, as shown: never a hidden count."""
    scope = audience.suppliers
    first, last = quarter.first, quarter.last
    counts = {
        dimension: aggregates.monthly_counts(db, dimension, first, last, scope)
        for dimension in aggregates.DIMENSIONS
    }
    counts["ending"] = _endings(db, first, last, scope)
    zero = [[0] * len(quarter.months)]
    tables = suppress_together([c.counts or zero for c in counts.values()], k)
    measures, (_, trend) = outcomes.handling(db, first, last, k, scope)
    content: dict[str, Any] = {
        "quarter": quarter.label,
        "k": k,
        "months": quarter.months,
        "tables": {
            name: _shown(c.rows, table, k)
            for (name, c), table in zip(counts.items(), tables, strict=True)
        },
        "measures": [
            {"label": m.label, "cases": _small(m.n, k), "value": m.value} for m in measures
        ],
        "trend": [[label, values] for label, values in trend],
        "remedies": _remedies(db, first, last, scope, k),
        "missed": _missed_stages(db, first, last, scope, k),
        "alerts": [],
        "contact": [],
    }
    if scope is None:  # messages and site alerts are not tied to a buyer's suppliers
        content["alerts"] = _alerts(db, first, last)
        content["contact"] = _contact(db, first, last, k)
    return content


def _small(count: int, k: int) -> str:
    return f"<{k}" if 0 < count < k else str(count)


def _shown(rows: list[str], table: Table, k: int) -> dict[str, Any]:
    return {
        "rows": rows,
        "cells": [[cell.shown(k) for cell in row] for row in table.cells[: len(rows)]],
        "row_totals": [cell.shown(k) for cell in table.row_totals[: len(rows)]],
        "column_totals": [cell.shown(k) for cell in table.column_totals],
        "total": table.total.shown(k),
    }


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return start, datetime(year, month, 1, tzinfo=UTC)


def _in_scope(first: date, last: date, scope: Sequence[int] | None) -> list[Any]:
    start, end = _window(first, last)
    # A duplicate merged into another case is one problem, counted on its primary.
    where = [Case.created_at >= start, Case.created_at < end, not_merged()]
    if scope is not None:
        where.append(Case.supplier_id.in_(list(scope)))
    return where


def _endings(
    db: Session, first: date, last: date, scope: Sequence[int] | None
) -> aggregates.Counts:
    """Cases per month by how they had ended when the quarter was published."""
    months = aggregates.months_between(first, last)
    month = aggregates.month_of(db, Case.created_at)
    counts: Counter[tuple[str, str]] = Counter()
    for bucket, status, outcome in db.execute(
        select(month, Case.status, Case.outcome).where(*_in_scope(first, last, scope))
    ):
        if status == "closed":
            key = outcome if outcome in ENDINGS else "not_resolved"
        else:
            key = status if status in ("referred", "out_of_scope", "withdrawn") else "open"
        counts[(ENDINGS[key], bucket)] += 1
    rows = [label for label in ENDINGS.values() if any(counts[(label, m)] for m in months)]
    return aggregates.Counts(
        dimension="ending",
        rows=rows,
        months=months,
        counts=[[counts[(row, m)] for m in months] for row in rows],
    )


def _remedies(
    db: Session, first: date, last: date, scope: Sequence[int] | None, k: int
) -> list[list[str]]:
    """Remedies given, by type. A case can have several, so no equation ties them to the
    cases received or to each other: each is shown, or "<k" when small."""
    given = Counter(
        remedy
        for remedies in db.scalars(select(Case.remedy_types).where(*_in_scope(first, last, scope)))
        for remedy in remedies or []
    )
    return [
        [label.capitalize(), _small(given.get(key, 0), k)] for key, label in REMEDY_LABELS.items()
    ]


def _missed_stages(
    db: Session, first: date, last: date, scope: Sequence[int] | None, k: int
) -> list[list[str]]:
    """Time frames missed, by stage: one row, suppressed as a table (its total is shown)."""
    stages = Counter(
        str(data.get("stage", "unknown"))
        for data in db.scalars(
            select(CaseEvent.data)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "escalated", *_in_scope(first, last, scope))
        )
    )
    names = sorted(stages, key=lambda name: (-stages[name], name))
    if not names:
        return []
    cells = suppress([[stages[name] for name in names]], k).cells[0]
    return [
        [name.replace("_", " "), cell.shown(k)] for name, cell in zip(names, cells, strict=True)
    ]


def _alerts(db: Session, first: date, last: date) -> list[list[str]]:
    """Site alerts raised, by category. They describe sites, not workers: shown as they are."""
    start, end = _window(first, last)
    raised = Counter(
        db.scalars(
            select(SiteAlert.category).where(
                SiteAlert.raised_at >= start, SiteAlert.raised_at < end
            )
        )
    )
    return [
        [CATEGORY_LABELS.get(category, category), str(n)]
        for category, n in sorted(raised.items(), key=lambda item: (-item[1], item[0]))
    ]


def _contact(db: Session, first: date, last: date, k: int) -> list[list[str]]:
    start, end = _window(first, last)
    inbound = [Message.direction == INBOUND, Message.created_at >= start, Message.created_at < end]
    messages = db.scalar(select(func.count(Message.id)).where(*inbound)) or 0
    phones = db.scalar(select(func.count(func.distinct(Message.contact_id))).where(*inbound)) or 0
    return [
        ["Messages received from workers", _small(messages, k)],
        ["Phones that wrote to the line", _small(phones, k)],
    ]


# -- a period of published quarters ---------------------------------------------------------


def cell(shown: str) -> Cell:
    """A published entry back as a :class:`Cell`: its count when shown, else its mark."""
    if shown.startswith("<"):
        return Cell(0, PRIMARY)
    if shown.isdigit():
        return Cell(int(shown))
    return Cell(0, COMPLEMENTARY)


def combined(parts: Sequence[Cell]) -> Cell:
    """A sum over quarters, as far as the quarters show it: the sum when every part is
    shown, one part's mark when the others are all zero, and "–" otherwise."""
    hidden = [part for part in parts if part.hidden]
    if not hidden:
        return Cell(sum(part.value for part in parts))
    if len(hidden) == 1 and all(part.value == 0 for part in parts if not part.hidden):
        return hidden[0]
    return Cell(0, COMPLEMENTARY)


@dataclass(frozen=True)
class Period:
    """The published quarters of a period, for one audience."""

    quarters: list[Quarter]
    releases: list[dict[str, Any]]
    k: int
    # The first quarter of the period not published yet, if any.
    pending: Quarter | None = None
    months: list[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "months", [m for r in self.releases for m in r["months"]])

    def table(self, name: str) -> tuple[list[str], Table]:
        """The rows and the table of one dimension over every published quarter."""
        parts = [_part(r, name) for r in self.releases]
        names = {row for part in parts for row in part["rows"]}
        if name == "ending":
            rows = [label for label in ENDINGS.values() if label in names]
        else:
            rows = sorted(names, key=lambda v: (v == aggregates.NOT_KNOWN, v))
        body: list[tuple[Cell, ...]] = []
        totals: list[Cell] = []
        for row in rows:
            cells: list[Cell] = []
            quarter_totals: list[Cell] = []
            for part, r in zip(parts, self.releases, strict=True):
                if row in part["rows"]:
                    i = part["rows"].index(row)
                    cells += [cell(s) for s in part["cells"][i]]
                    quarter_totals.append(cell(part["row_totals"][i]))
                else:  # no case of this row in that quarter
                    cells += [Cell(0)] * len(r["months"])
                    quarter_totals.append(Cell(0))
            body.append(tuple(cells))
            totals.append(combined(quarter_totals))
        column_totals = tuple(cell(s) for part in parts for s in part["column_totals"])
        total = combined([cell(part["total"]) for part in parts]) if parts else Cell(0)
        return rows, Table(self.k, tuple(body), tuple(totals), column_totals, total)

    def by_quarter(self, name: str) -> list[tuple[str, list[Cell]]]:
        """A table's rows with one figure a quarter (the row's total in that quarter), and
        a last row "Total" of the quarters' grand totals."""
        parts = [r["tables"][name] for r in self.releases]
        rows, _ = self.table(name)
        found = []
        for row in rows:
            found.append(
                (
                    row,
                    [
                        cell(part["row_totals"][part["rows"].index(row)])
                        if row in part["rows"]
                        else Cell(0)
                        for part in parts
                    ],
                )
            )
        found.append(("Total", [cell(part["total"]) for part in parts]))
        return found

    def quarter_rows(self, key: str) -> list[tuple[str, list[str]]]:
        """A list kept per quarter (remedies, missed stages, alerts, contact) as rows of
        labels by quarter; a label a quarter lacks reads "0"."""
        labels: list[str] = []
        for r in self.releases:
            labels += [label for label, _ in r[key] if label not in labels]
        return [
            (label, [dict(map(tuple, r[key])).get(label, "0") for r in self.releases])
            for label in labels
        ]

    def measures(self) -> list[tuple[str, list[dict[str, str]]]]:
        """The handling figures quarter by quarter: (quarter, [{label, cases, value}])."""
        return [(r["quarter"], r["measures"]) for r in self.releases]

    def trend(self) -> list[tuple[str, list[str]]]:
        """The month-by-month handling figures over every published month."""
        if not self.releases:
            return []
        labels = [label for label, _ in self.releases[0]["trend"]]
        return [
            (label, [v for r in self.releases for v in dict(r["trend"]).get(label, [])])
            for label in labels
        ]


def period(db: Session, audience: Audience, first: date, last: date, k: int, today: date) -> Period:
    """The quarters of ``first``..``last`` published by ``today``, for the audience."""
    wanted = quarters_between(first, last)
    published = [q for q in wanted if q.published_on <= today]
    pending = next((q for q in wanted if q.published_on > today), None)
    releases = [release(db, audience, q, k) for q in published]
    return Period(
        quarters=published,
        releases=releases,
        # The k a quarter was published with ("<10") stays its k.
        k=int(releases[0]["k"]) if releases else k,
        pending=pending,
    )


# A table a quarter was published without (released before the table existed).
NOT_PUBLISHED = "not published for this quarter"


def _part(release: dict[str, Any], name: str) -> dict[str, Any]:
    """One table of a release; a table it lacks is one row of unknown cells, with the month
    totals every table of the release shares."""
    tables = release["tables"]
    if name in tables:
        return dict(tables[name])
    shared = tables["category"]
    return {
        "rows": [NOT_PUBLISHED],
        "cells": [["–"] * len(release["months"])],
        "row_totals": ["–"],
        "column_totals": shared["column_totals"],
        "total": shared["total"],
    }
