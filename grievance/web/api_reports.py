"""Reports in the JSON API, for admin, handler and buyer tokens: the same suppressed
figures as ``/reports`` (a buyer's only for its linked suppliers), with the same audit.

Every count is a string as published: a number, ``"<10"`` for a small one, ``"–"`` for one
hidden to protect another.
"""

from __future__ import annotations

from flask import g, jsonify
from flask.typing import ResponseReturnValue

from grievance.reports import aggregates
from grievance.web.api import bp
from grievance.web.reports import report_for


@bp.get("/reports/counts")
def report_counts() -> ResponseReturnValue:
    """Cases received per month by ``by``, from ``from`` to ``to`` (``YYYY-MM``)."""
    counts, table, first, last, _, _ = report_for(g.api_user_id)
    k = table.k
    return jsonify(
        dimension=counts.dimension,
        label=aggregates.DIMENSIONS[counts.dimension],
        first=f"{first:%Y-%m}",
        last=f"{last:%Y-%m}",
        k=k,
        months=counts.months,
        rows=[
            {"name": name, "cells": [c.shown(k) for c in row], "total": total.shown(k)}
            for name, row, total in zip(counts.rows, table.cells, table.row_totals, strict=False)
        ],
        column_totals=[c.shown(k) for c in table.column_totals],
        total=table.total.shown(k),
    )


@bp.get("/reports/handling")
def report_handling() -> ResponseReturnValue:
    """How the cases received from ``from`` to ``to`` were handled, overall and by month."""
    _, table, first, last, measures, (months, trend) = report_for(g.api_user_id, True)
    k = table.k
    return jsonify(
        first=f"{first:%Y-%m}",
        last=f"{last:%Y-%m}",
        k=k,
        measures=[
            {"label": m.label, "cases": m.n if m.n >= k or m.n == 0 else None, "value": m.value}
            for m in measures
        ],
        months=months,
        cases_received=[c.shown(k) for c in table.column_totals],
        trend=[{"label": label, "values": values} for label, values in trend],
    )
