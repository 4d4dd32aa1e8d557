"""Reports in the JSON API, for admin, handler and buyer tokens: the published quarters,
as ``/reports`` shows them (a buyer's only for its linked suppliers), with the same audit.
Staff tokens may ask for ``view=live``.

Every count is a string as published: a number, ``"<10"`` for a small one, ``"–"`` for one
hidden to protect another.
"""

from __future__ import annotations

from typing import Any

from flask import g

from grievance.reports import aggregates
from grievance.web.api import bp
from grievance.web.openapi import answers, api_view
from grievance.web.reports import report_for
from grievance.web.schemas import Counts, CountsQuery, Handling, PeriodQuery


@bp.get("/reports/counts")
@api_view(query=CountsQuery, resp=answers(Counts, 400, 403), tags=["reports"])
def report_counts() -> dict[str, Any]:
    """Cases received per month by a dimension, small cells suppressed

    Over the published quarters of ``from`` to ``to`` (``YYYY-MM``); a buyer's: its
    suppliers' cases; staff may ask for ``view=live``."""
    report = report_for(g.api_user_id)
    k = report.k
    table = report.table
    return dict(
        view=report.view,
        dimension=report.dimension,
        label=aggregates.DIMENSIONS[report.dimension],
        first=f"{report.first:%Y-%m}",
        last=f"{report.last:%Y-%m}",
        k=k,
        months=report.months,
        rows=[
            {"name": name, "cells": [c.shown(k) for c in row], "total": total.shown(k)}
            for name, row, total in zip(report.rows, table.cells, table.row_totals, strict=False)
        ],
        column_totals=[c.shown(k) for c in table.column_totals],
        total=table.total.shown(k),
        pending=report.pending.label if report.pending else None,
    )


@bp.get("/reports/handling")
@api_view(query=PeriodQuery, resp=answers(Handling, 400, 403), tags=["reports"])
def report_handling() -> dict[str, Any]:
    """How the cases received were handled, per published quarter and by month

    Or over the live period, for staff asking for ``view=live``."""
    report = report_for(g.api_user_id, True)
    k = report.k
    return dict(
        view=report.view,
        first=f"{report.first:%Y-%m}",
        last=f"{report.last:%Y-%m}",
        k=k,
        periods=[
            {
                "period": period,
                "measures": [
                    {
                        "label": f.label,
                        "cases": int(f.cases) if f.cases.isdigit() else None,
                        "value": f.value,
                    }
                    for f in figures
                ],
            }
            for period, figures in report.handling
        ],
        months=report.months,
        cases_received=[c.shown(k) for c in report.table.column_totals],
        trend=[{"label": label, "values": values} for label, values in report.trend],
        pending=report.pending.label if report.pending else None,
    )
