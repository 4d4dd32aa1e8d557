"""Exports that take a while: written by a job batch by batch, with progress a page (and the
CLI) can show, then kept encrypted for a day.

The admin case export has one row per case and no personal data: no contact, no code, no
words of the worker or of handlers (summaries and reasons are free text and stay in the
mechanism), no day finer than the month of receipt. What is left is the case's handling:
category, severity, stage, site, supplier, corridor, times and outcome.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grievance import csvsafe
from grievance.clock import utcnow
from grievance.models import Case, CaseEvent, Export, Organisation, Site, User
from grievance.reports.aggregates import month_of
from grievance.reports.outcomes import PRE_TRIAGE, hours_sql
from grievance.runtime import Runtime
from grievance.services.errors import NotFound

KINDS = {"cases": "Cases, one row each, without personal data"}
BATCH = 2000
KEEP_FOR = timedelta(days=1)
COLUMNS = (
    "case",
    "received_month",
    "channel",
    "language",
    "category",
    "reported_category",
    "severity",
    "status",
    "site",
    "site_country",
    "supplier",
    "origin_country",
    "forced_labour_indicators",
    "hours_to_acknowledge",
    "hours_to_triage",
    "days_to_close",
    "escalated_overdue",
    "outcome",
    "remedy_types",
    "worker_answer",
    "satisfaction",
    "reopened",
)


class ExportError(ValueError):
    """An export that cannot be made as asked; the message says why."""


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime(first.year, first.month, 1, tzinfo=UTC)
    year, month = (last.year + 1, 1) if last.month == 12 else (last.year, last.month + 1)
    return start, datetime(year, month, 1, tzinfo=UTC)


def request_export(session: Session, user: User, kind: str, first: date, last: date) -> Export:
    """Record an export to be made (the caller enqueues ``run_export`` after the commit)."""
    if kind not in KINDS:
        raise ExportError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")
    if kind == "cases" and user.role != "admin":
        raise ExportError("only admins export cases")
    export = Export(
        user_id=user.id,
        kind=kind,
        params={"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"},
    )
    session.add(export)
    session.flush()
    return export


def _number(value: float | Decimal | None) -> str:
    return "" if value is None else f"{float(value):.1f}"


def case_rows(
    session: Session, first: date, last: date, progress: Callable[[int, int], None] | None = None
) -> Iterator[list[str]]:
    """The rows of the case export, oldest case first, read in keyset batches."""
    start, end = _bounds(first, last)
    in_period = (Case.created_at >= start, Case.created_at < end)
    total = session.scalar(select(func.count(Case.id)).where(*in_period)) or 0
    sites = {
        i: (name, country or "")
        for i, name, country in session.execute(select(Site.id, Site.name, Site.country))
    }
    suppliers = dict(session.execute(select(Organisation.id, Organisation.name)).all())
    done, after = 0, 0
    if progress is not None:
        progress(0, total)
    moved = CaseEvent.data["to"].as_string()
    columns = (
        Case.id,
        month_of(session, Case.created_at),
        Case.channel,
        Case.language,
        Case.category,
        Case.reported_category,
        Case.severity,
        Case.status,
        Case.site_id,
        Case.supplier_id,
        Case.origin_country,
        Case.indicators,
        hours_sql(session, Case.created_at, Case.acknowledged_at),
        hours_sql(session, Case.created_at, Case.closed_at),
        Case.outcome,
        Case.remedy_types,
        Case.worker_answer,
        Case.satisfaction,
        Case.reopened,
    )
    while True:
        batch = session.execute(
            select(*columns).where(*in_period, Case.id > after).order_by(Case.id).limit(BATCH)
        ).all()
        if not batch:
            return
        ids = [row[0] for row in batch]
        triaged = dict(
            session.execute(
                select(
                    CaseEvent.case_id, func.min(hours_sql(session, Case.created_at, CaseEvent.at))
                )
                .join(Case, Case.id == CaseEvent.case_id)
                .where(
                    CaseEvent.case_id.between(ids[0], ids[-1]),
                    CaseEvent.kind == "status",
                    moved.not_in(PRE_TRIAGE),
                    *in_period,
                )
                .group_by(CaseEvent.case_id)
            ).all()
        )
        late = set(
            session.scalars(
                select(CaseEvent.case_id).where(
                    CaseEvent.case_id.between(ids[0], ids[-1]), CaseEvent.kind == "escalated"
                )
            )
        )
        for (
            case_id,
            month,
            channel,
            language,
            category,
            reported,
            severity,
            status,
            site_id,
            supplier_id,
            origin,
            indicators,
            ack_hours,
            close_hours,
            outcome,
            remedies,
            answer,
            satisfaction,
            reopened,
        ) in batch:
            site_name, site_country = sites.get(site_id or 0, ("", ""))
            yield [
                str(case_id),
                month,
                channel,
                language,
                category or "",
                reported or "",
                severity,
                status,
                site_name,
                site_country,
                suppliers.get(supplier_id, "") if supplier_id else "",
                origin or "",
                str(len(indicators or [])),
                _number(ack_hours),
                _number(triaged.get(case_id)),
                _number(close_hours / 24 if close_hours is not None else None),
                "yes" if case_id in late else "no",
                outcome or "",
                " ".join(remedies or []),
                answer or "",
                str(satisfaction or ""),
                str(reopened),
            ]
        done += len(batch)
        after = ids[-1]
        if progress is not None:
            progress(done, total)


def write_cases(
    session: Session,
    out: io.TextIOBase | io.StringIO,
    first: date,
    last: date,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the case export as CSV to ``out``; returns the number of cases."""
    writer = csvsafe.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in case_rows(session, first, last, progress):
        writer.writerow(row)
        count += 1
    return count


def run_export(runtime: Runtime, export_id: int) -> str:
    """Make an export, saving its progress after each batch; returns its status."""
    with runtime.sessions() as session:
        export = session.get(Export, export_id)
        if export is None or export.status not in ("queued", "running"):
            return export.status if export is not None else "missing"
        export.status = "running"
        session.commit()
        first, last = (date.fromisoformat(export.params[name] + "-01") for name in ("from", "to"))

    out = io.StringIO()
    try:
        with runtime.sessions() as session:

            def progress(done: int, total: int) -> None:
                # Saved in the reading session, each batch its own transaction: a page
                # polling the export sees it move, and SQLite's one writer is never blocked.
                session.execute(
                    update(Export).where(Export.id == export_id).values(done=done, total=total)
                )
                session.commit()

            write_cases(session, out, first, last, progress)
    except Exception as exc:
        with runtime.sessions() as session:
            session.execute(
                update(Export)
                .where(Export.id == export_id)
                .values(status="failed", error=type(exc).__name__, finished_at=utcnow())
            )
            session.commit()
        raise
    with runtime.sessions() as session:
        export = session.get(Export, export_id)
        assert export is not None
        export.content_encrypted = runtime.protector.encrypt(out.getvalue())
        export.filename = f"cases-{first:%Y-%m}-{last:%Y-%m}.csv"
        export.status = "done"
        export.finished_at = utcnow()
        session.commit()
    return "done"


def content(runtime: Runtime, export: Export) -> bytes:
    """The finished export's file."""
    if export.content_encrypted is None:
        raise NotFound(export.id)
    return runtime.protector.decrypt_bytes(export.content_encrypted)


def forget_old(session: Session, now: datetime | None = None) -> int:
    """Erase exports older than a day (the file only; the row says it existed)."""
    cutoff = (now or utcnow()) - KEEP_FOR
    result = session.execute(
        update(Export)
        .where(Export.created_at <= cutoff, Export.content_encrypted.is_not(None))
        .values(content_encrypted=None, status="expired")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
