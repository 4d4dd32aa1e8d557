"""``/dashboard``: what waits, for handlers and admins: open cases by stage, severity, supplier
and handler, overdue and due soon, each count a link into the queue; and the remediation plans
waiting for review."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import User
from grievance.runtime import Runtime
from grievance.services import dashboard
from grievance.web.security import roles_required

bp = Blueprint("dashboard", __name__)


@bp.get("/dashboard")
@roles_required("admin", "handler")
def index() -> ResponseReturnValue:
    runtime: Runtime = current_app.extensions["grievance"]
    with runtime.sessions() as db:
        me = db.get(User, current_user.user_id)
        figures = dashboard.waiting(db, utcnow(), me.id if me else None)
        accounts.audit(db, me, "dashboard_viewed", None, f"{figures.total} open cases")
        db.commit()
    return render_template(
        "dashboard.html", w=figures, soon_hours=int(dashboard.SOON.total_seconds() // 3600)
    )
