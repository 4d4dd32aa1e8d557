"""The handlers' queue as a query: filters, search, keyset pagination and counts.

Most urgent first: severity (P0 before P1, the strings sort that way), then the
cases whose worker is waiting on a person (asked for one, or wrote and nobody has
read it yet), then the due time of the current stage (cases without one last),
then the id. A page continues after the last row of the previous one (keyset), so
page 500 costs what page 1 costs, and the indexes ``ix_cases_open_queue*`` serve
the order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, text, union_all
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import Case
from grievance.models.cases import OPEN_STATUSES, SEVERITIES

PAGE_SIZE = 50
# Cases with no due time sort after every real one.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class QueueFilter:
    """What the handler asked to see."""

    status: str | None = None  # a status, "open" (default) or "all"
    category: str | None = None
    severity: str | None = None
    site_id: int | None = None
    supplier_id: int | None = None
    language: str | None = None
    assignee_id: int | None = None
    # Cases nobody has (``assignee_id`` is then ignored).
    unassigned: bool = False
    overdue: bool = False
    query: str = ""
    # A worker asked for a person; a worker wrote and nobody has read it (any stage:
    # a worker may write to a case closed within the appeal window).
    person_requested: bool = False
    worker_replied: bool = False


@dataclass
class QueuePage:
    """One page of the queue and how many cases match in all."""

    cases: list[Case]
    total: int
    next_cursor: str | None
    by_severity: dict[str, int] = field(default_factory=dict)
    # Severities with more than COUNT_CAP cases: shown as "1,000+".
    capped: set[str] = field(default_factory=set)


def _filtered(f: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status in (None, "", "open"):
        conditions.append(Case.status.in_(OPEN_STATUSES))
    elif f.status != "all":
        conditions.append(Case.status == f.status)
    for column, value in (
        (Case.category, f.category),
        (Case.severity, f.severity),
        (Case.site_id, f.site_id),
        (Case.supplier_id, f.supplier_id),
        (Case.language, f.language),
        (Case.assignee_id, None if f.unassigned else f.assignee_id),
    ):
        if value not in (None, ""):
            conditions.append(column == value)
    if f.unassigned:
        conditions.append(Case.assignee_id.is_(None))
    if f.overdue:
        conditions.append(Case.due_at < now)
    if f.person_requested:
        conditions.append(Case.handover_requested_at.is_not(None))
    if f.worker_replied:
        conditions.append(Case.unread_worker_messages > 0)
    query = f.query.strip()
    if query:
        digits = re.sub(r"[#\s]", "", query)
        if digits.isdigit():
            # A case number; one beyond the 32-bit ids matches nothing.
            conditions.append(Case.id == (int(digits) if int(digits) < 2**31 else 0))
        else:
            escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(Case.workplace.ilike(f"%{escaped}%", escape="\\"))
    return conditions


def _cursor(case: Case) -> str:
    """Where the next page starts, URL-safe: severity, attention, due time in microseconds, id."""
    due = int(case.due_at.timestamp() * 1_000_000) if case.due_at else ""
    return f"{case.severity}.{case.attention}.{due}.{case.id}"


def _after(cursor: str | None) -> ColumnElement[bool] | None:
    """The keyset condition for rows after ``cursor`` (``P1.0.1795000000000000.42``)."""
    if not cursor:
        return None
    try:
        severity, raw_attention, due, raw_id = cursor.split(".")
        case_id, attention = int(raw_id), int(raw_attention)
        due_at = datetime.fromtimestamp(int(due) / 1_000_000, UTC) if due else None
    except (ValueError, OverflowError, OSError):
        return None
    if severity not in ("P0", "P1", "P2", "P3") or attention not in (0, 1):
        return None
    due_key = func.coalesce(Case.due_at, NEVER)
    due_value = due_at or NEVER
    same = and_(Case.severity == severity, Case.attention == attention)
    return or_(
        Case.severity > severity,
        and_(Case.severity == severity, Case.attention > attention),
        and_(same, due_key > due_value),
        and_(same, due_key == due_value, Case.id > case_id),
    )


COUNT_CAP = 1_000


def waiting_on_closed(session: Session) -> int:
    """Closed cases whose worker wrote again (within the appeal window) and nobody has read
    it yet: the open queue does not list them, so the queue page points to them."""
    return int(
        session.scalar(
            select(func.count()).select_from(
                select(Case.id)
                .where(
                    Case.attention == 0,
                    Case.status.not_in(OPEN_STATUSES),
                    Case.unread_worker_messages > 0,
                )
                .limit(COUNT_CAP)
                .subquery()
            )
        )
        or 0
    )


def page_statement(
    f: QueueFilter, cursor: str | None = None, size: int = PAGE_SIZE
) -> Select[Case]:
    """The query of one page (``size`` + 1 rows, to know whether another follows)."""
    statement: Select[Case] = select(Case).where(*_filtered(f, utcnow()))
    after = _after(cursor)
    if after is not None:
        statement = statement.where(after)
    # Open cases always have a due time, so the plain order is the index's order on both
    # databases; other views may hold cases without one, which go last.
    open_only = f.status in (None, "", "open")
    due_order = Case.due_at.asc() if open_only else Case.due_at.asc().nulls_last()
    return statement.order_by(Case.severity, Case.attention, due_order, Case.id).limit(size + 1)


def page(
    session: Session, f: QueueFilter, cursor: str | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """The page of the queue after ``cursor``, with counts per severity (capped at 1,000 each)."""
    rows = list(session.scalars(page_statement(f, cursor, size)))
    more = len(rows) > size
    rows = rows[:size]
    counts = _capped_counts(session, _filtered(f, utcnow()))
    next_cursor = _cursor(rows[-1]) if more and rows else None
    capped = {severity for severity, n in counts.items() if n > COUNT_CAP}
    by_severity = {severity: min(n, COUNT_CAP) for severity, n in counts.items() if n}
    return QueuePage(rows, sum(by_severity.values()), next_cursor, by_severity, capped)


def count_statement(f: QueueFilter) -> Select[str, int]:
    """The capped counts per severity, as one query."""
    return _count_statement(_filtered(f, utcnow()))


def _count_statement(conditions: list[ColumnElement[bool]]) -> Select[str, int]:
    parts = [
        select(literal(severity).label("severity"), func.count().label("n")).select_from(
            select(Case.id)
            .where(*conditions, Case.severity == severity)
            .limit(COUNT_CAP + 1)
            .subquery()
        )
        for severity in SEVERITIES
    ]
    return union_all(*parts)  # type: ignore[return-value]


def _capped_counts(session: Session, conditions: list[ColumnElement[bool]]) -> dict[str, int]:
    """Cases per severity, counting at most COUNT_CAP + 1 of each: a queue of a million stays fast.

    On PostgreSQL a bitmap scan would collect every matching row before the
    LIMIT applies (it chose one for 166,000 open P3 cases, misjudging them as
    27); a plain index scan stops at the cap, so bitmap scans are off for this
    one statement.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_bitmapscan = off"))
    counts = {
        severity: int(n) for severity, n in session.execute(_count_statement(conditions)).all()
    }
    if postgres:
        session.execute(text("SET LOCAL enable_bitmapscan = on"))
    return counts


# -- the live queue --------------------------------------------------------------------
# A change is stamped when its transaction flushes and seen when it commits: a change stamped
# earlier than the latest one may still arrive a moment later. Changes this close to the
# latest are counted too, so that a late one is noticed (transactions here last milliseconds).
SETTLE = timedelta(seconds=10)
# The page title counts at most this many new or changed cases ("(99+) Cases").
FRESH_CAP = 99


@dataclass(frozen=True)
class Changes:
    """Where the cases stood when a page was drawn: the latest change, and how many changes
    were within :data:`SETTLE` of it. Equal stamps mean nothing changed in between."""

    latest: datetime | None
    recent: int

    @property
    def token(self) -> str:
        """The stamp for a URL: the latest change in microseconds, and the count."""
        return f"{micros(self.latest)}-{self.recent}"


def micros(when: datetime | None) -> int:
    """A time as whole microseconds since the epoch (0 for none), for a URL."""
    return int(when.timestamp() * 1_000_000) if when else 0


def from_micros(value: str | None) -> datetime | None:
    """The time :func:`micros` wrote, or None for anything else."""
    if not value or not value.isdigit() or len(value) > 17 or int(value) == 0:
        return None
    return datetime.fromtimestamp(int(value) / 1_000_000, UTC)


def changes(session: Session) -> Changes:
    """The stamp of the whole cases table, in two index lookups (``ix_cases_updated_at``):
    what a poll asks before it does any other work, so that an unchanged queue costs almost
    nothing however many cases there are."""
    latest = session.scalar(select(func.max(Case.updated_at)))
    if latest is None:
        return Changes(None, 0)
    # Capped: right after a bulk change (a migration, a retention run) thousands of rows are
    # recent, and counting them all on every poll for SETTLE seconds would cost more than
    # the rare late commit among them is worth.
    recent = session.scalar(
        select(func.count()).select_from(
            select(Case.id).where(Case.updated_at > latest - SETTLE).limit(COUNT_CAP).subquery()
        )
    )
    return Changes(latest, int(recent or 0))


def fresh(session: Session, f: QueueFilter, since: datetime) -> int:
    """How many cases the handler's view holds that were opened or changed after ``since``
    (at most FRESH_CAP + 1): the number in the page title."""
    recent = (
        select(Case.id)
        .where(*_filtered(f, utcnow()), Case.updated_at > since)
        .limit(FRESH_CAP + 1)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(recent)) or 0)
