"""The remediation loop in the JSON API: what the supplier portal and the handlers' Remedy
section do, for bearer tokens, with the same rules and the same audit.

Suppliers (and buyers, read-only) use ``/api/v1/supplier/...``; any case outside
their organisation answers 404, for reads and writes alike. Handlers use the
plan routes under ``/api/v1/cases/<id>/...``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.db import MAX_ID
from grievance.models import Case, User
from grievance.services import actions, remediation
from grievance.services import visibility as portal
from grievance.services.errors import NotFound
from grievance.services.triage import TriageError
from grievance.web.api import ApiError, _body, _case_json, _field, _me, _runtime, bp
from grievance.web.cases import download, evidence_name


def plan_json(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """The plan as JSON: steps with evidence (names and sizes, never contents), comments."""
    if view is None:
        return None
    plan = view["plan"]

    def day(moment: Any) -> str | None:
        return moment.date().isoformat() if moment else None

    return {
        "status": plan.status,
        "playbook": plan.playbook,
        "due_on": plan.due_on.isoformat() if plan.due_on else None,
        "returns": plan.returns,
        "submitted_on": day(plan.submitted_at),
        "accepted_on": day(plan.accepted_at),
        "completed_on": day(plan.completed_at),
        "verified_on": day(plan.verified_at),
        "steps": [
            {
                "id": row["step"].id,
                "description": row["step"].description,
                "owner": row["step"].owner,
                "due_on": row["step"].due_on.isoformat(),
                "status": row["step"].status,
                "evidence_hint": row["step"].evidence_hint,
                "evidence": [
                    {
                        "id": e["id"],
                        "filename": e["filename"],
                        "size": e["size"],
                        "on": e["on"].isoformat(),
                    }
                    for e in row["evidence"]
                ],
            }
            for row in view["steps"]
        ],
        "comments": [
            {"side": c["side"], "on": c["on"].isoformat(), "text": c["text"]}
            for c in view["comments"]
        ],
    }


def remedy_json(db: Session, case: Case) -> dict[str, Any]:
    """A handler's view of a case with its remedy: the case detail, the worker's answer, the plan."""
    return _case_json(db, case, full=True) | {
        "worker_answer": case.worker_answer,
        "outcome": case.outcome,
        "remedy_types": list(case.remedy_types or []),
        "satisfaction": case.satisfaction,
        "reopened": case.reopened,
        "linked_case_id": case.linked_case_id,
        "close_pending_review": bool(case.pending_close),
        "plan": plan_json(remediation.plan_view(db, _runtime(), case)),
    }


def _supplier_json(db: Session, case: Case) -> dict[str, Any]:
    summary = portal.summary_of(db, case)
    return summary | {"plan": plan_json(remediation.plan_view(db, _runtime(), case))}


def _visible(db: Session, user: User, case_id: int) -> Case:
    found = (
        db.scalar(portal.visible(db, user).where(Case.id == case_id)) if case_id <= MAX_ID else None
    )
    if found is None:
        raise ApiError(404, "not found")
    return found


def _case_for(db: Session, user: User, case_id: int, supplier_side: bool) -> Case:
    """The case a supplier-side route may touch (its organisation's), or any case for handlers."""
    if supplier_side:
        return _visible(db, user, case_id)
    case = db.get(Case, case_id) if case_id <= MAX_ID else None
    if case is None:
        raise ApiError(404, "not found")
    return case


def _run(
    case_id: int, action: Callable[..., Any], supplier_side: bool, **kwargs: Any
) -> ResponseReturnValue:
    """A remediation action (the service function itself) through the one action runner: on
    a supplier's own case, or any case for handlers; the case as JSON afterwards. A refused
    action is 409; another's case is 404."""

    def view(db: Session, case: Case) -> Any:
        return _supplier_json(db, case) if supplier_side else remedy_json(db, case)

    try:
        _, shown = actions.run(
            _runtime(),
            g.api_user_id,
            lambda db, user: _case_for(db, user, case_id, supplier_side),
            action,
            view,
            **kwargs,
        )
    except NotFound:
        raise ApiError(404, "not found") from None
    except TriageError as exc:
        raise ApiError(409, str(exc)) from None
    return jsonify(shown)


# -- suppliers and buyers -------------------------------------------------------------


@bp.get("/supplier/cases")
def supplier_cases() -> ResponseReturnValue:
    """The organisation's cases (a buyer: its suppliers'), most urgent first."""
    with _runtime().sessions() as db:
        user = _me(db)
        rows = db.scalars(
            portal.visible(db, user)
            .order_by(Case.severity, Case.due_at, Case.id)
            .limit(portal.PAGE)
        ).all()
        accounts.audit(db, user, "supplier_cases_viewed", None, f"{len(rows)} cases")
        db.commit()
        return jsonify(cases=[portal.summary_of(db, c) for c in rows])


@bp.get("/supplier/cases/<int:case_id>")
def supplier_case(case_id: int) -> ResponseReturnValue:
    """One case with its plan, as the supplier may see it."""
    with _runtime().sessions() as db:
        user = _me(db)
        case = _visible(db, user, case_id)
        accounts.audit(db, user, "supplier_case_viewed", case.id)
        db.commit()
        return jsonify(_supplier_json(db, case))


@bp.post("/supplier/cases/<int:case_id>/plan")
def supplier_plan(case_id: int) -> ResponseReturnValue:
    """Start the plan, from the category's playbook unless ``from_playbook`` is false."""
    data = _body("from_playbook")
    from_playbook = _field(data, "from_playbook", bool, required=False)
    return _run(case_id, remediation.start_plan, True, from_playbook=from_playbook is not False)


def _step_body() -> dict[str, Any]:
    data = _body("description", "owner", "due_on")
    return {
        "description": _field(data, "description", str),
        "owner": _field(data, "owner", str),
        "due_on": _field(data, "due_on", str),
    }


@bp.post("/supplier/cases/<int:case_id>/plan/steps")
def supplier_step_add(case_id: int) -> ResponseReturnValue:
    """Add a step (while the plan is a draft or sent back)."""
    return _run(case_id, remediation.add_step, True, **_step_body())


@bp.put("/supplier/cases/<int:case_id>/plan/steps/<int:step_id>")
def supplier_step_update(case_id: int, step_id: int) -> ResponseReturnValue:
    """Change a step (while the plan is a draft or sent back)."""
    return _run(case_id, remediation.update_step, True, step_id=step_id, **_step_body())


@bp.delete("/supplier/cases/<int:case_id>/plan/steps/<int:step_id>")
def supplier_step_remove(case_id: int, step_id: int) -> ResponseReturnValue:
    """Remove a step (while the plan is a draft or sent back)."""
    return _run(case_id, remediation.remove_step, True, step_id=step_id)


@bp.post("/supplier/cases/<int:case_id>/plan/steps/<int:step_id>/status")
def supplier_step_status(case_id: int, step_id: int) -> ResponseReturnValue:
    """Mark a step of the accepted plan planned, in progress or done (done needs evidence)."""
    status = _field(_body("status"), "status", str)
    return _run(case_id, remediation.set_step_status, True, step_id=step_id, status=status)


@bp.post("/supplier/cases/<int:case_id>/plan/steps/<int:step_id>/evidence")
def supplier_evidence(case_id: int, step_id: int) -> ResponseReturnValue:
    """Upload an evidence file (multipart field ``file``)."""
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "send the file as multipart/form-data in the field `file`")
    limit = _runtime().settings.evidence_max_bytes
    data = upload.stream.read(limit + 1)
    return _run(
        case_id,
        remediation.add_evidence,
        True,
        step_id=step_id,
        filename=upload.filename or "",
        data=data,
    )


@bp.post("/supplier/cases/<int:case_id>/plan/submit")
def supplier_submit(case_id: int) -> ResponseReturnValue:
    """Submit the plan for the case handler's review."""
    return _run(case_id, remediation.submit_plan, True)


@bp.post("/supplier/cases/<int:case_id>/plan/complete")
def supplier_complete(case_id: int) -> ResponseReturnValue:
    """Report every step done, for the case handler to verify."""
    return _run(case_id, remediation.complete_plan, True)


@bp.post("/supplier/cases/<int:case_id>/plan/comments")
def supplier_comment(case_id: int) -> ResponseReturnValue:
    """A comment to the case handler."""
    return _run(case_id, remediation.comment, True, text=_field(_body("text"), "text", str))


@bp.get("/supplier/cases/<int:case_id>/evidence/<int:evidence_id>")
def supplier_evidence_file(case_id: int, evidence_id: int) -> ResponseReturnValue:
    """An evidence file, as a download."""
    return _evidence(case_id, evidence_id, supplier_side=True)


def _evidence(case_id: int, evidence_id: int, supplier_side: bool) -> ResponseReturnValue:
    runtime = _runtime()
    with runtime.sessions() as db:
        user = _me(db)
        case = _case_for(db, user, case_id, supplier_side)
        item = remediation.evidence_file(db, case, evidence_id, staff=not supplier_side)
        if item is None:
            raise ApiError(404, "not found")
        accounts.audit(db, user, "evidence_downloaded", case.id, f"evidence={item.id}")
        db.commit()
        return download(runtime.protector.decrypt_bytes(item.data_encrypted), evidence_name(item))


# -- handlers ----------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>/remedy")
def remedy(case_id: int) -> ResponseReturnValue:
    """The case with its remedy: the worker's answer, the outcome and the plan."""
    with _runtime().sessions() as db:
        case = db.get(Case, case_id) if case_id <= MAX_ID else None
        if case is None:
            raise ApiError(404, "not found")
        accounts.audit(db, _me(db), "case_viewed", case.id)
        db.commit()
        return jsonify(remedy_json(db, case))


def _decision() -> tuple[bool, str]:
    data = _body("accept", "comment")
    return _field(data, "accept", bool), _field(data, "comment", str, required=False) or ""


@bp.post("/cases/<int:case_id>/plan/review")
def plan_review(case_id: int) -> ResponseReturnValue:
    """Accept the submitted plan, or send it back with a comment saying what to change."""
    accept, comment = _decision()
    return _run(case_id, remediation.review_plan, False, accept=accept, comment_text=comment)


@bp.post("/cases/<int:case_id>/plan/verify")
def plan_verify(case_id: int) -> ResponseReturnValue:
    """Verify the completed plan against its evidence (the worker is then asked), or not yet."""
    accept, comment = _decision()
    return _run(case_id, remediation.verify_plan, False, accept=accept, comment_text=comment)


@bp.post("/cases/<int:case_id>/plan/comments")
def plan_comment(case_id: int) -> ResponseReturnValue:
    """A comment to the supplier on its plan."""
    return _run(case_id, remediation.comment, False, text=_field(_body("text"), "text", str))


@bp.post("/cases/<int:case_id>/plan/reopen")
def plan_reopen(case_id: int) -> ResponseReturnValue:
    """Send the case back to the supplier for further remediation."""
    comment = _field(_body("comment"), "comment", str)
    return _run(case_id, remediation.return_to_supplier, False, comment_text=comment)


@bp.post("/cases/<int:case_id>/propose")
def propose(case_id: int) -> ResponseReturnValue:
    """Ask the worker whether the problem is solved."""
    return _run(case_id, remediation.propose_to_worker, False)


@bp.post("/cases/<int:case_id>/close")
def close(case_id: int) -> ResponseReturnValue:
    """Close with an outcome, remedy types and a reason (or wait for a second reviewer)."""
    data = _body("outcome", "remedy_types", "reason")
    remedies = _field(data, "remedy_types", list, required=False) or []
    if not all(isinstance(r, str) for r in remedies):
        raise ApiError(400, "remedy_types is a list of strings")
    return _run(
        case_id,
        remediation.close,
        False,
        outcome=_field(data, "outcome", str),
        remedy_types=remedies,
        reason=_field(data, "reason", str),
    )


@bp.post("/cases/<int:case_id>/close-review")
def close_review(case_id: int) -> ResponseReturnValue:
    """A second reviewer approves or rejects closing a disputed or unanswered case as resolved."""
    return _run(
        case_id, remediation.review_close, False, approve=_field(_body("approve"), "approve", bool)
    )


@bp.get("/cases/<int:case_id>/evidence/<int:evidence_id>")
def evidence_file(case_id: int, evidence_id: int) -> ResponseReturnValue:
    """An evidence file, as a download."""
    return _evidence(case_id, evidence_id, supplier_side=False)
