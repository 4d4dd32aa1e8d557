"""``/reports``: cases per month by category, severity, site, supplier, language or corridor, with
small cells suppressed, as a table, an SVG chart and CSV.

Admins and handlers see every case; a buyer sees only its linked suppliers'. Every
figure shown (table, chart, CSV) is the suppressed one: a cell under k reads "<k", a
cell hidden to protect another reads "–", and the chart draws only the month totals
that are shown. Months are the finest time bin. Views and exports are audited.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance import csvsafe
from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import Export, User
from grievance.reports import aggregates, effectiveness, outcomes, releases
from grievance.reports.suppression import Table, suppress
from grievance.runtime import Runtime
from grievance.services import directory
from grievance.services import exports as export_service
from grievance.services.visibility import visible_suppliers
from grievance.web.pdf import render_pdf
from grievance.web.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = ("admin", "handler", "buyer")
STAFF = ("admin", "handler")
DEFAULT_MONTHS = 6
LIVE, PUBLISHED = "live", "published"


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _period(strict: bool = False, default: tuple[date, date] | None = None) -> tuple[date, date]:
    """The ``from`` and ``to`` months asked for (``YYYY-MM``), by default ``default`` or the
    last six. ``strict`` (the API): a parameter given empty is an error, as its schema says,
    not the default an empty form field means in the browser."""
    today = utcnow().date()

    def month(name: str, default: date) -> date:
        if name not in request.args:
            return default
        text = request.args[name].strip()
        return parse_month(name, text) if text or strict else default

    if default is None:
        back = today.month - (DEFAULT_MONTHS - 1)  # this month and the five before it
        default = (
            date(today.year + (back - 1) // 12, (back - 1) % 12 + 1, 1),
            today.replace(day=1),
        )
    first, last = month("from", default[0]), month("to", default[1])
    if first > last:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month > 35:
        abort(400, "a report covers at most 36 months")
    return first, last


def _published_period(strict: bool = False, quarters: int = 2) -> tuple[date, date]:
    """The period asked for, widened to whole quarters; by default the last ``quarters``
    published ones."""
    latest = releases.latest_published(utcnow().date())
    earliest = latest
    for _ in range(quarters - 1):
        earliest = (
            releases.Quarter(earliest.year - 1, 4)
            if earliest.number == 1
            else (releases.Quarter(earliest.year, earliest.number - 1))
        )
    first, last = _period(strict, (earliest.first, latest.last))
    return releases.Quarter.of(first).first, releases.Quarter.of(last).last


def parse_month(name: str, text: str) -> date:
    """``YYYY-MM`` as the first day of that month; anything else is a 400 that says how."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        abort(400, f"{name}: a month like 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


@dataclass(frozen=True)
class Figure:
    """One handling figure as shown: over how many cases, and the figure."""

    label: str
    cases: str
    value: str


@dataclass(frozen=True)
class ReportView:
    """A report as one reader may see it.

    ``view`` is ``published`` (whole quarters read from their frozen releases: what every
    buyer, CSV and API reader gets) or ``live`` (any months, computed now: staff only, on
    the page).
    """

    view: str
    dimension: str
    rows: list[str]
    months: list[str]
    table: Table
    first: date
    last: date
    handling: list[tuple[str, list[Figure]]]  # (period, figures): one period, or a quarter each
    trend: list[tuple[str, list[str]]]  # (label, one figure a month)
    pending: releases.Quarter | None = None  # the first quarter asked for not yet published

    @property
    def k(self) -> int:
        return self.table.k


def report_for(user_id: int, with_outcomes: bool = False) -> ReportView:
    """:func:`_report` for an API token's user: published, unless staff ask for ``live``."""
    return _report(with_outcomes, user_id, default_view=PUBLISHED)


def _report(
    with_outcomes: bool = False,
    user_id: int | None = None,
    default_view: str = PUBLISHED,
    files: bool = False,
) -> ReportView:
    """The report the request asks for (``by``, ``from``, ``to``, ``view``), as the user may
    see it: the signed-in user's, or ``user_id``'s (the API's token). ``files``: a download,
    which is always the published quarters."""
    dimension = request.args.get("by", "category")
    if dimension not in aggregates.DIMENSIONS:
        abort(400, f"by: one of {', '.join(aggregates.DIMENSIONS)}")
    view = PUBLISHED if files else request.args.get("view", default_view)
    if view not in (LIVE, PUBLISHED):
        abort(400, f"view: {PUBLISHED} or {LIVE}")
    strict = user_id is not None
    k = _runtime().settings.report_min_cell
    with _runtime().sessions() as db:
        user = db.get(User, user_id if user_id is not None else current_user.user_id)
        assert user is not None
        if view == LIVE and user.role not in STAFF:
            abort(403, "live figures are for staff; the published quarters are for everyone")
        suppliers = visible_suppliers(db, user) if user.role == "buyer" else None
        if view == LIVE:
            first, last = _period(strict)
            report = _live(db, dimension, first, last, k, with_outcomes)
        else:
            first, last = _published_period(strict)
            audience = releases.audience(user, suppliers or [])
            published = releases.period(db, audience, first, last, k, utcnow().date())
            rows, table = published.table(dimension)
            report = ReportView(
                view=PUBLISHED,
                dimension=dimension,
                rows=rows,
                months=published.months,
                table=table,
                first=first,
                last=last,
                handling=[
                    (quarter, [Figure(**m) for m in measures])
                    for quarter, measures in published.measures()
                ],
                trend=published.trend(),
                pending=published.pending,
            )
        accounts.audit(
            db, user, "report_viewed", None, f"{view},by={dimension},{first:%Y-%m}..{last:%Y-%m}"
        )
        db.commit()
    return report


def _live(
    db: Session, dimension: str, first: date, last: date, k: int, with_outcomes: bool
) -> ReportView:
    """Any months, every case, computed now: for staff, who read every case anyway."""
    counts = aggregates.monthly_counts(db, dimension, first, last)
    handling: list[tuple[str, list[Figure]]] = []
    trend: list[tuple[str, list[str]]] = []
    if with_outcomes:
        measures, (_, trend) = outcomes.handling(db, first, last, k)
        figures = [
            Figure(m.label, str(m.n) if m.n >= k or m.n == 0 else f"<{k}", m.value)
            for m in measures
        ]
        handling = [(f"{first:%Y-%m} to {last:%Y-%m}", figures)]
    return ReportView(
        view=LIVE,
        dimension=dimension,
        rows=counts.rows,
        months=counts.months,
        table=suppress(counts.counts or [[0] * len(counts.months)], k),
        first=first,
        last=last,
        handling=handling,
        trend=trend,
    )


def _page_view() -> str:
    """Staff open the page on live figures; buyers on the published quarters."""
    return LIVE if current_user.role in STAFF else PUBLISHED


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """The report page: the table, the chart of shown month totals, the CSV link."""
    report = _report(with_outcomes=True, default_view=_page_view())
    staff = current_user.role in STAFF
    return render_template(
        "reports/index.html",
        report=report,
        given=_contacts_given(report) if staff else None,
        table=report.table,
        dimensions=aggregates.DIMENSIONS,
        first=f"{report.first:%Y-%m}",
        last=f"{report.last:%Y-%m}",
        query=urlencode(
            {
                "view": report.view,
                "by": report.dimension,
                "from": f"{report.first:%Y-%m}",
                "to": f"{report.last:%Y-%m}",
            }
        ),
        staff=staff,
        delay=releases.RELEASE_DELAY_DAYS,
    )


def _contacts_given(report: ReportView) -> tuple[list[str], Table] | None:
    """How often workers were given each organisation's details, by month (staff only),
    suppressed like every count; None when none were given in the period."""
    with _runtime().sessions() as db:
        given = directory.given_counts(db, report.first, report.last)
    names = sorted({name for name, _ in given})
    if not names:
        return None
    counts = [[given.get((name, month), 0) for month in report.months] for name in names]
    return names, suppress(counts, _runtime().settings.report_min_cell)


@bp.get("/chart.svg")
@roles_required(*READERS)
def chart() -> ResponseReturnValue:
    """Cases per month, stacked by the chosen dimension (category, site...): one series per
    row of the table, with exactly the counts the table shows (a hidden cell is a gap)."""
    import pygal

    report = _report(default_view=_page_view())
    config = pygal.Config(
        js=[],
        disable_xml_declaration=False,
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        width=800,
        height=320 + 20 * ((len(report.rows) + 2) // 3),
    )
    bars = pygal.StackedBar(
        config, title=f"Cases per month, by {aggregates.DIMENSIONS[report.dimension].lower()}"
    )
    bars.x_labels = report.months
    for name, row in zip(report.rows, report.table.cells, strict=False):
        bars.add(name, [None if cell.hidden else cell.value for cell in row])
    return svg_response(bars)


def svg_response(chart: Any) -> Response:
    """A pygal chart as a static SVG image: no script, and a CSP that allows only its styles."""
    response = Response(_without_scripts(chart.render_tree()), mimetype="image/svg+xml")
    # The SVG styles itself; as an image it can run nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _without_scripts(tree: Any) -> bytes:
    """pygal always writes its tooltip configuration as a <script>: a static chart needs none."""
    from pygal.etree import etree  # ElementTree, or lxml when installed: whichever pygal uses

    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    svg: bytes = etree.tostring(tree, encoding="utf-8", xml_declaration=True)
    return svg


@bp.get("/export.csv")
@roles_required(*READERS)
def export() -> ResponseReturnValue:
    """The table of the published quarters as CSV: a file leaves, so it never holds live
    figures."""
    report = _report(files=True)
    out = io.StringIO()
    aggregates.write_csv(out, report.dimension, report.rows, report.months, report.table)
    name = f"cases-by-{report.dimension}-{report.first:%Y-%m}-{report.last:%Y-%m}.csv"
    return csv_response(out, name)


@bp.get("/handling.csv")
@roles_required(*READERS)
def handling_export() -> ResponseReturnValue:
    """How the cases of the published quarters were handled, quarter by quarter and month
    by month."""
    report = _report(with_outcomes=True, files=True)
    k = report.k
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(
        [
            "Measure",
            *(f"{period} {part}" for period, _ in report.handling for part in ("cases", "figure")),
        ]
    )
    for i, label in enumerate(
        figure.label for figure in (report.handling[0][1] if report.handling else [])
    ):
        writer.writerow(
            [
                label,
                *(
                    v
                    for _, figures in report.handling
                    for v in (figures[i].cases, figures[i].value)
                ),
            ]
        )
    writer.writerow([])
    writer.writerow(["Month by month", *report.months])
    writer.writerow(["Cases received", *(c.shown(k) for c in report.table.column_totals)])
    for label, values in report.trend:
        writer.writerow([label, *values])
    return csv_response(out, f"handling-{report.first:%Y-%m}-{report.last:%Y-%m}.csv")


def csv_response(out: io.StringIO, name: str) -> Response:
    """A CSV download."""
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- the effectiveness report -------------------------------------------------------


def _effectiveness() -> tuple[effectiveness.Report, str]:
    """The report over the published quarters asked for, by default the last four."""
    first, last = _published_period(quarters=4)
    runtime = _runtime()
    with runtime.sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        scope = visible_suppliers(db, user) if user.role == "buyer" else None
        audience = releases.audience(user, scope or [])
        k = runtime.settings.report_min_cell
        period = releases.period(db, audience, first, last, k, utcnow().date())
        report = effectiveness.build(db, runtime, period, scope, (first, last))
        accounts.audit(db, user, "effectiveness_report", None, f"{first:%Y-%m}..{last:%Y-%m}")
        db.commit()
    return report, f"from={first:%Y-%m}&to={last:%Y-%m}"


@bp.get("/effectiveness")
@roles_required(*READERS)
def effectiveness_page() -> ResponseReturnValue:
    """The effectiveness report as a printable page."""
    report, query = _effectiveness()
    return render_template("reports/effectiveness.html", report=report, query=query, pdf=False)


@bp.get("/effectiveness.pdf")
@roles_required(*READERS)
def effectiveness_pdf() -> ResponseReturnValue:
    """The same report as PDF (WeasyPrint renders the printable page)."""
    report, _ = _effectiveness()
    html = render_template("reports/effectiveness.html", report=report, query="", pdf=True)
    try:
        import weasyprint  # noqa: F401
    except OSError:  # Pango is missing: the page itself still prints
        abort(503, "PDF needs the Pango library (apt-get install libpango-1.0-0); print the page")
    pdf = render_pdf(_runtime(), html, current_app.static_folder or "")
    name = f"effectiveness-{report.first_month}-{report.last_month}.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- long exports with progress -------------------------------------------------------


@bp.get("/exports")
@roles_required("admin")
def exports_page() -> ResponseReturnValue:
    """The admin's exports, newest first, with their progress."""
    with _runtime().sessions() as db:
        items = db.scalars(
            select(Export)
            .where(Export.user_id == current_user.user_id)
            .order_by(Export.id.desc())
            .limit(20)
        ).all()
        return render_template(
            "reports/exports.html",
            items=items,
            kinds=export_service.KINDS,
            running=any(item.status in ("queued", "running") for item in items),
            today=f"{utcnow():%Y-%m}",
        )


@bp.post("/exports")
@roles_required("admin")
def exports_start() -> ResponseReturnValue:
    """Start an export; its page shows the progress."""
    first, last = _period_from(request.form)
    runtime = _runtime()
    with runtime.sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        try:
            export = export_service.request_export(
                db, user, request.form.get("kind", ""), first, last
            )
        except export_service.ExportError as exc:
            abort(400, str(exc))
        accounts.audit(
            db, user, "export_requested", None, f"{export.kind},{first:%Y-%m}..{last:%Y-%m}"
        )
        db.commit()
        export_id = export.id
    runtime.queue.enqueue("run_export", export_id, bulk=True)
    return redirect(url_for("reports.exports_page"), code=303)


@bp.get("/exports/<int:export_id>")
@roles_required("admin")
def export_download(export_id: int) -> ResponseReturnValue:
    """Download a finished export (its owner only)."""
    runtime = _runtime()
    with runtime.sessions() as db:
        export = db.get(Export, export_id)
        if export is None or export.user_id != current_user.user_id or export.status != "done":
            abort(404)
        data = export_service.content(runtime, export)
        user = db.get(User, current_user.user_id)
        accounts.audit(db, user, "export_downloaded", None, f"{export.kind} #{export.id}")
        db.commit()
        return Response(
            data,
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{export.filename}"',
                "X-Content-Type-Options": "nosniff",
            },
        )


def _period_from(form: Any) -> tuple[date, date]:
    def month(name: str) -> date:
        return parse_month(name, str(form.get(name, "")))

    first, last = month("from"), month("to")
    return (first, last) if first <= last else (last, first)
