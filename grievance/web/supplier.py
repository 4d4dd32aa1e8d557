"""The supplier portal, ``/supplier/...``, and buyers' read-only view of their suppliers' cases.

A supplier user sees only its own organisation's cases, and of each only what
a handler wrote for it: the redacted summary, category, severity, site, and
dates to the day. Never the worker's words, attachments, language or exact
times. A buyer sees the same summaries for the suppliers linked to it. Any
other case id answers 404, exactly like a case that does not exist.

Suppliers write the remediation plan here: start it from the category's
playbook, edit the steps, submit it, then work through the steps with
evidence and report it complete. Buyers read the plan; only suppliers write.
Every write checks the case belongs to the user's organisation again in the
service (a 404 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import Case, User
from grievance.runtime import Runtime
from grievance.services import actions, dashboard, remediation
from grievance.services.triage import TriageError
from grievance.services.visibility import PAGE, summary_of, visible
from grievance.web.cases import download, evidence_name
from grievance.web.security import roles_required

bp = Blueprint("supplier", __name__, url_prefix="/supplier")
# Stages in which a case is the supplier's business: referred to it, or since.


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@bp.get("/cases")
@roles_required("supplier", "buyer")
def cases() -> ResponseReturnValue:
    """The organisation's cases, most urgent first."""
    with _runtime().sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        rows = db.scalars(
            visible(db, user).order_by(Case.severity, Case.due_at, Case.id).limit(PAGE)
        ).all()
        todo = dashboard.for_supplier(db, visible(db, user), utcnow().date())
        accounts.audit(db, user, "supplier_cases_viewed", None, f"{len(rows)} cases")
        db.commit()
        return render_template(
            "supplier/cases.html",
            cases=[summary_of(db, c) for c in rows],
            todo=todo,
            step_soon_days=dashboard.STEP_SOON.days,
        )


@bp.get("/cases/<int:case_id>")
@roles_required("supplier", "buyer")
def case(case_id: int) -> ResponseReturnValue:
    """One case as the supplier (or buyer) may see it; any other id is a 404."""
    with _runtime().sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        found = db.scalar(visible(db, user).where(Case.id == case_id)) if case_id < 2**31 else None
        if found is None:
            abort(404)
        accounts.audit(db, user, "supplier_case_viewed", found.id)
        db.commit()
        plan = remediation.plan_view(db, _runtime(), found)
        status = plan["plan"].status if plan else None  # type: ignore[attr-defined]
        supplier = user.role == "supplier"
        return render_template(
            "supplier/case.html",
            case=summary_of(db, found),
            remediation=plan,
            can_start=supplier and plan is None and found.status == "with_supplier",
            editable=supplier and status in ("draft", "returned"),
            working=supplier and status == "accepted",
            messages=get_flashed_messages(with_categories=True),
        )


def _visible_case(db: Session, user: User, case_id: int) -> Case:
    found = db.scalar(visible(db, user).where(Case.id == case_id)) if case_id < 2**31 else None
    if found is None:
        abort(404)
    return found


def _act(case_id: int, action: Callable[..., Any], done: Any, **kwargs: Any) -> ResponseReturnValue:
    """One supplier action (a remediation function) through the one action runner, on a case
    of the supplier's own; a refused action is shown, another's case is 404."""
    try:
        actions.run(
            _runtime(),
            current_user.user_id,
            lambda db, user: _visible_case(db, user, case_id),
            action,
            **kwargs,
        )
    except TriageError as exc:
        flash(str(exc), "error")
        return redirect(url_for("supplier.case", case_id=case_id)), 303
    flash(done, "ok")
    return redirect(url_for("supplier.case", case_id=case_id)), 303


@bp.post("/cases/<int:case_id>/plan")
@roles_required("supplier")
def plan_start(case_id: int) -> ResponseReturnValue:
    """Start the plan, from the playbook or empty."""
    return _act(
        case_id,
        remediation.start_plan,
        gettext("Plan started: adapt the steps, then submit it."),
        from_playbook=request.form.get("playbook") != "no",
    )


@bp.post("/cases/<int:case_id>/plan/steps")
@roles_required("supplier")
def step_add(case_id: int) -> ResponseReturnValue:
    return _act(case_id, remediation.add_step, gettext("Step added."), **_step_fields())


def _step_fields() -> dict[str, str]:
    return {
        "description": request.form.get("description", ""),
        "owner": request.form.get("owner", ""),
        "due_on": request.form.get("due_on", ""),
    }


@bp.post("/cases/<int:case_id>/plan/steps/<int:step_id>")
@roles_required("supplier")
def step_update(case_id: int, step_id: int) -> ResponseReturnValue:
    return _act(
        case_id, remediation.update_step, gettext("Step saved."), step_id=step_id, **_step_fields()
    )


@bp.post("/cases/<int:case_id>/plan/steps/<int:step_id>/remove")
@roles_required("supplier")
def step_remove(case_id: int, step_id: int) -> ResponseReturnValue:
    return _act(case_id, remediation.remove_step, gettext("Step removed."), step_id=step_id)


@bp.post("/cases/<int:case_id>/plan/steps/<int:step_id>/status")
@roles_required("supplier")
def step_status(case_id: int, step_id: int) -> ResponseReturnValue:
    return _act(
        case_id,
        remediation.set_step_status,
        gettext("Step status saved."),
        step_id=step_id,
        status=request.form.get("status", ""),
    )


@bp.post("/cases/<int:case_id>/plan/steps/<int:step_id>/evidence")
@roles_required("supplier")
def step_evidence(case_id: int, step_id: int) -> ResponseReturnValue:
    upload = request.files.get("file")
    limit = _runtime().settings.evidence_max_bytes
    data = upload.stream.read(limit + 1) if upload is not None else b""
    return _act(
        case_id,
        remediation.add_evidence,
        gettext("Evidence uploaded; it is stored encrypted."),
        step_id=step_id,
        filename=upload.filename or "" if upload is not None else "",
        data=data,
    )


@bp.post("/cases/<int:case_id>/plan/submit")
@roles_required("supplier")
def plan_submit(case_id: int) -> ResponseReturnValue:
    return _act(
        case_id,
        remediation.submit_plan,
        gettext("Plan submitted; the case handler will review it."),
    )


@bp.post("/cases/<int:case_id>/plan/complete")
@roles_required("supplier")
def plan_complete(case_id: int) -> ResponseReturnValue:
    return _act(
        case_id,
        remediation.complete_plan,
        gettext("Reported complete; the case handler will verify it."),
    )


@bp.post("/cases/<int:case_id>/plan/comments")
@roles_required("supplier")
def plan_comment(case_id: int) -> ResponseReturnValue:
    return _act(
        case_id,
        remediation.comment,
        gettext("Comment added."),
        text=request.form.get("comment", ""),
    )


@bp.get("/cases/<int:case_id>/evidence/<int:evidence_id>")
@roles_required("supplier", "buyer")
def evidence(case_id: int, evidence_id: int) -> ResponseReturnValue:
    """An evidence file of a visible case, as a download."""
    runtime = _runtime()
    with runtime.sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        case = _visible_case(db, user, case_id)
        item = remediation.evidence_file(db, case, evidence_id)
        if item is None:
            abort(404)
        accounts.audit(db, user, "evidence_downloaded", case.id, f"evidence={item.id}")
        db.commit()
        return download(runtime.protector.decrypt_bytes(item.data_encrypted), evidence_name(item))
