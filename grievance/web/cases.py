"""The case handlers' queue, ``/cases``, and a case's page, ``/cases/<id>``.

Work in progress (issue 5): the queue lists open cases, most severe first;
filters, SLA due times, keyset pagination and the case actions follow.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import case as when
from sqlalchemy import select

from grievance.auth import accounts
from grievance.models import Case, User
from grievance.models.cases import OPEN_STATUSES, SEVERITIES
from grievance.runtime import Runtime
from grievance.web.security import roles_required

bp = Blueprint("cases", __name__)
PAGE = 50


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@bp.get("/cases")
@roles_required("admin", "handler")
def queue() -> ResponseReturnValue:
    """Open cases, P0 first, oldest first within a severity."""
    rank = when(
        {s: i for i, s in enumerate(SEVERITIES)}, value=Case.severity, else_=len(SEVERITIES)
    )
    with _runtime().sessions() as db:
        cases = db.scalars(
            select(Case)
            .where(Case.status.in_(OPEN_STATUSES))
            .order_by(rank, Case.created_at, Case.id)
            .limit(PAGE)
        ).all()
    return render_template("cases/queue.html", cases=cases)


@bp.get("/cases/<int:case_id>")
@roles_required("admin", "handler")
def detail(case_id: int) -> ResponseReturnValue:
    """One case; every view is recorded in the audit log."""
    with _runtime().sessions() as db:
        case = db.get(Case, case_id)
        if case is None:
            abort(404)
        accounts.audit(db, db.get(User, current_user.user_id), "case_viewed", case_id)
        db.commit()
        return render_template("cases/detail.html", case=case)
