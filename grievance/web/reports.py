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
from datetime import date
from typing import Any

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

from grievance import csvsafe
from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import Export, User
from grievance.reports import aggregates, effectiveness, outcomes
from grievance.reports.suppression import Table, suppress
from grievance.runtime import Runtime
from grievance.services import exports as export_service
from grievance.web.pdf import render_pdf
from grievance.web.security import roles_required
from grievance.web.supplier import visible_suppliers

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = ("admin", "handler", "buyer")
DEFAULT_MONTHS = 6


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _period(strict: bool = False) -> tuple[date, date]:
    """The ``from`` and ``to`` months asked for (``YYYY-MM``), by default the last six.
    ``strict`` (the API): a parameter given empty is an error, as its schema says, not the
    default an empty form field means in the browser."""
    today = utcnow().date()

    def month(name: str, default: date) -> date:
        if name not in request.args:
            return default
        text = request.args[name].strip()
        return parse_month(name, text) if text or strict else default

    back = today.month - (DEFAULT_MONTHS - 1)  # this month and the five before it
    default_first = date(today.year + (back - 1) // 12, (back - 1) % 12 + 1, 1)
    first, last = month("from", default_first), month("to", today.replace(day=1))
    if first > last:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month > 35:
        abort(400, "a report covers at most 36 months")
    return first, last


def parse_month(name: str, text: str) -> date:
    """``YYYY-MM`` as the first day of that month; anything else is a 400 that says how."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        abort(400, f"{name}: a month like 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


Trend = tuple[list[str], list[tuple[str, list[str]]]]


def report_for(
    user_id: int, with_outcomes: bool = False
) -> tuple[aggregates.Counts, Table, date, date, list[outcomes.Measure], Trend]:
    """:func:`_report` for an API token's user."""
    return _report(with_outcomes, user_id)


def _report(
    with_outcomes: bool = False, user_id: int | None = None
) -> tuple[aggregates.Counts, Table, date, date, list[outcomes.Measure], Trend]:
    """The report the request asks for (``by``, ``from``, ``to``), as the user may see it:
    the signed-in user's, or ``user_id``'s (the API's token)."""
    dimension = request.args.get("by", "category")
    if dimension not in aggregates.DIMENSIONS:
        abort(400, f"by: one of {', '.join(aggregates.DIMENSIONS)}")
    first, last = _period(strict=user_id is not None)
    with _runtime().sessions() as db:
        user = db.get(User, user_id if user_id is not None else current_user.user_id)
        assert user is not None
        scope = visible_suppliers(db, user) if user.role == "buyer" else None
        counts = aggregates.monthly_counts(db, dimension, first, last, scope)
        k = _runtime().settings.report_min_cell
        measures: list[outcomes.Measure] = []
        trend: Trend = ([], [])
        if with_outcomes:
            measures, trend = outcomes.handling(db, first, last, k, scope)
        accounts.audit(
            db, user, "report_viewed", None, f"by={dimension},{first:%Y-%m}..{last:%Y-%m}"
        )
        db.commit()
    table = suppress(counts.counts or [[0] * len(counts.months)], k)
    return counts, table, first, last, measures, trend


@bp.get("")
@roles_required(*READERS)
def index() -> ResponseReturnValue:
    """The report page: the table, the chart of shown month totals, the CSV link."""
    counts, table, first, last, measures, trend = _report(with_outcomes=True)
    return render_template(
        "reports/index.html",
        counts=counts,
        table=table,
        measures=measures,
        trend=trend[1],
        dimensions=aggregates.DIMENSIONS,
        first=f"{first:%Y-%m}",
        last=f"{last:%Y-%m}",
        query=request.query_string.decode(),
    )


@bp.get("/chart.svg")
@roles_required(*READERS)
def chart() -> ResponseReturnValue:
    """Cases per month, stacked by the chosen dimension (category, site...): one series per
    row of the table, with exactly the counts the table shows (a hidden cell is a gap)."""
    import pygal

    counts, table, _, _, _, _ = _report()
    config = pygal.Config(
        js=[],
        disable_xml_declaration=False,
        show_legend=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        width=800,
        height=320 + 20 * ((len(counts.rows) + 2) // 3),
    )
    bars = pygal.StackedBar(
        config, title=f"Cases per month, by {aggregates.DIMENSIONS[counts.dimension].lower()}"
    )
    bars.x_labels = counts.months
    for name, row in zip(counts.rows, table.cells, strict=False):
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
    """The same table as CSV, suppressed exactly as on the page."""
    counts, table, first, last, _, _ = _report()
    out = io.StringIO()
    aggregates.write_csv(out, counts, table)
    return csv_response(out, f"cases-by-{counts.dimension}-{first:%Y-%m}-{last:%Y-%m}.csv")


@bp.get("/handling.csv")
@roles_required(*READERS)
def handling_export() -> ResponseReturnValue:
    """How cases were handled, overall and month by month, as on the page."""
    _, table, first, last, measures, (months, trend) = _report(with_outcomes=True)
    k = table.k
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(["Measure", "Cases", "Figure"])
    for m in measures:
        writer.writerow([m.label, m.n if m.n >= k or m.n == 0 else f"<{k}", m.value])
    writer.writerow([])
    writer.writerow(["Month by month", *months])
    writer.writerow(["Cases received", *(c.shown(k) for c in table.column_totals)])
    for label, values in trend:
        writer.writerow([label, *values])
    return csv_response(out, f"handling-{first:%Y-%m}-{last:%Y-%m}.csv")


def csv_response(out: io.StringIO, name: str) -> Response:
    """A CSV download."""
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# -- the effectiveness report -------------------------------------------------------


def _year_period() -> tuple[date, date]:
    """The period of the effectiveness report: ``from``/``to`` months, by default the last
    twelve months up to this one."""
    today = utcnow().date()
    if "from" in request.args or "to" in request.args:
        return _period()
    back = today.month - 11
    first = date(today.year + (back - 1) // 12, (back - 1) % 12 + 1, 1)
    return first, today.replace(day=1)


def _effectiveness() -> tuple[effectiveness.Report, str]:
    first, last = _year_period()
    runtime = _runtime()
    with runtime.sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        scope = visible_suppliers(db, user) if user.role == "buyer" else None
        report = effectiveness.build(db, runtime, first, last, scope)
        accounts.audit(db, user, "effectiveness_report", None, f"{first:%Y-%m}..{last:%Y-%m}")
        db.commit()
    return report, f"from={report.first}&to={report.last}"


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
    name = f"effectiveness-{report.first}-{report.last}.pdf"
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
