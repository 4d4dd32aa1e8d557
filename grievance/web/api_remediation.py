"""The remediation loop in the JSON API: what the supplier portal and the handlers' Remedy
section do, for bearer tokens, with the same rules and the same audit.

Suppliers (and buyers, read-only) use ``/api/v1/supplier/...``; any case outside
their organisation answers 404, for reads and writes alike. Handlers use the
plan routes under ``/api/v1/cases/<id>/...``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, request
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.models import Case, User
from grievance.services import actions, remediation
from grievance.services import visibility as portal
from grievance.services.errors import NotFound
from grievance.services.triage import TriageError
from grievance.web.api import _case_json, _me, _runtime, bp
from grievance.web.cases import download, evidence_name
from grievance.web.openapi import CASE_ID, EVIDENCE_ID, STEP_ID, ApiError, answers, api_view
from grievance.web.schemas import (
    Approval,
    Close,
    CommentText,
    Decision,
    EvidenceUpload,
    Remedy,
    Reopen,
    StartPlan,
    StepFields,
    StepStatusChange,
    SupplierCase,
    SupplierCases,
)


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
    found = db.scalar(portal.visible(db, user).where(Case.id == case_id))
    if found is None:
        raise ApiError(404, "not found")
    return found


def _case_for(db: Session, user: User, case_id: int, supplier_side: bool) -> Case:
    """The case a supplier-side route may touch (its organisation's), or any case for handlers."""
    if supplier_side:
        return _visible(db, user, case_id)
    case = db.get(Case, case_id)
    if case is None:
        raise ApiError(404, "not found")
    return case


def _run(
    case_id: int, action: Callable[..., Any], supplier_side: bool, **kwargs: Any
) -> dict[str, Any]:
    """A remediation action (the service function itself) through the one action runner: on
    a supplier's own case, or any case for handlers; the case as JSON afterwards. A refused
    action is 409; another's case, or a step no row has, is 404."""
    if kwargs.get("step_id") == 0:  # the id converter's "no such row" (grievance/app.py)
        raise ApiError(404, "not found")

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
    result: dict[str, Any] = shown
    return result


# -- suppliers and buyers -------------------------------------------------------------

# A supplier's action answers the case as the supplier sees it; a handler's, with its remedy.
SUPPLIER_ACTION = answers(SupplierCase, 400, 409)
HANDLER_ACTION = answers(Remedy, 400, 409)
SUPPLIER = ["supplier"]
REMEDY = ["remediation"]


@bp.get("/supplier/cases")
@api_view(resp=answers(SupplierCases), tags=SUPPLIER)
def supplier_cases() -> dict[str, Any]:
    """The organisation's referred cases, most urgent first

    For supplier and buyer tokens; a buyer sees its suppliers' cases."""
    with _runtime().sessions() as db:
        user = _me(db)
        rows = db.scalars(
            portal.visible(db, user)
            .order_by(Case.severity, Case.due_at, Case.id)
            .limit(portal.PAGE)
        ).all()
        accounts.audit(db, user, "supplier_cases_viewed", None, f"{len(rows)} cases")
        db.commit()
        return {"cases": [portal.summary_of(db, c) for c in rows]}


@bp.get(f"/supplier/cases/{CASE_ID}")
@api_view(resp=answers(SupplierCase), tags=SUPPLIER)
def supplier_case(case_id: int) -> dict[str, Any]:
    """One case with its plan, as the supplier may see it"""
    with _runtime().sessions() as db:
        user = _me(db)
        case = _visible(db, user, case_id)
        accounts.audit(db, user, "supplier_case_viewed", case.id)
        db.commit()
        return _supplier_json(db, case)


@bp.post(f"/supplier/cases/{CASE_ID}/plan")
@api_view(json=StartPlan, resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_plan(case_id: int, json: StartPlan) -> dict[str, Any]:
    """Start the plan, from the category's playbook (or empty)"""
    return _run(case_id, remediation.start_plan, True, from_playbook=json.from_playbook)


def _step(json: StepFields) -> dict[str, Any]:
    return {"description": json.description, "owner": json.owner, "due_on": json.due_on}


@bp.post(f"/supplier/cases/{CASE_ID}/plan/steps")
@api_view(json=StepFields, resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_step_add(case_id: int, json: StepFields) -> dict[str, Any]:
    """Add a step

    While the plan is a draft or sent back."""
    return _run(case_id, remediation.add_step, True, **_step(json))


@bp.put(f"/supplier/cases/{CASE_ID}/plan/steps/{STEP_ID}")
@api_view(json=StepFields, resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_step_update(case_id: int, step_id: int, json: StepFields) -> dict[str, Any]:
    """Change a step

    While the plan is a draft or sent back."""
    return _run(case_id, remediation.update_step, True, step_id=step_id, **_step(json))


@bp.delete(f"/supplier/cases/{CASE_ID}/plan/steps/{STEP_ID}")
@api_view(resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_step_remove(case_id: int, step_id: int) -> dict[str, Any]:
    """Remove a step

    While the plan is a draft or sent back."""
    return _run(case_id, remediation.remove_step, True, step_id=step_id)


@bp.post(f"/supplier/cases/{CASE_ID}/plan/steps/{STEP_ID}/status")
@api_view(json=StepStatusChange, resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_step_status(case_id: int, step_id: int, json: StepStatusChange) -> dict[str, Any]:
    """Mark a step planned, in progress or done

    On the accepted plan; done needs evidence."""
    return _run(case_id, remediation.set_step_status, True, step_id=step_id, status=json.status)


@bp.post(f"/supplier/cases/{CASE_ID}/plan/steps/{STEP_ID}/evidence")
@api_view(form=EvidenceUpload, resp=answers(SupplierCase, 400, 409, 413), tags=SUPPLIER)
def supplier_evidence(case_id: int, step_id: int) -> dict[str, Any]:
    """Upload evidence

    PDF, image, CSV, XLSX, DOCX or TXT, as multipart/form-data in the field ``file``;
    stored encrypted."""
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


@bp.post(f"/supplier/cases/{CASE_ID}/plan/submit")
@api_view(resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_submit(case_id: int) -> dict[str, Any]:
    """Submit the plan for the case handler's review"""
    return _run(case_id, remediation.submit_plan, True)


@bp.post(f"/supplier/cases/{CASE_ID}/plan/complete")
@api_view(resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_complete(case_id: int) -> dict[str, Any]:
    """Report every step done, for the case handler to verify"""
    return _run(case_id, remediation.complete_plan, True)


@bp.post(f"/supplier/cases/{CASE_ID}/plan/comments")
@api_view(json=CommentText, resp=SUPPLIER_ACTION, tags=SUPPLIER)
def supplier_comment(case_id: int, json: CommentText) -> dict[str, Any]:
    """Comment to the case handler"""
    return _run(case_id, remediation.comment, True, text=json.text)


@bp.get(f"/supplier/cases/{CASE_ID}/evidence/{EVIDENCE_ID}")
@api_view(resp=answers(None), tags=SUPPLIER)
def supplier_evidence_file(case_id: int, evidence_id: int) -> Response:
    """An evidence file, as a download"""
    return _evidence(case_id, evidence_id, supplier_side=True)


def _evidence(case_id: int, evidence_id: int, supplier_side: bool) -> Response:
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


@bp.get(f"/cases/{CASE_ID}/remedy")
@api_view(resp=answers(Remedy), tags=REMEDY)
def remedy(case_id: int) -> dict[str, Any]:
    """The case with the worker's answer, the outcome and the plan"""
    with _runtime().sessions() as db:
        case = _case_for(db, _me(db), case_id, supplier_side=False)
        accounts.audit(db, _me(db), "case_viewed", case.id)
        db.commit()
        return remedy_json(db, case)


@bp.post(f"/cases/{CASE_ID}/plan/review")
@api_view(json=Decision, resp=HANDLER_ACTION, tags=REMEDY)
def plan_review(case_id: int, json: Decision) -> dict[str, Any]:
    """Accept the submitted plan, or send it back

    Sending it back needs a comment saying what to change."""
    return _run(
        case_id, remediation.review_plan, False, accept=json.accept, comment_text=json.comment
    )


@bp.post(f"/cases/{CASE_ID}/plan/verify")
@api_view(json=Decision, resp=HANDLER_ACTION, tags=REMEDY)
def plan_verify(case_id: int, json: Decision) -> dict[str, Any]:
    """Verify the completed plan against its evidence

    The worker is then asked whether the problem is solved."""
    return _run(
        case_id, remediation.verify_plan, False, accept=json.accept, comment_text=json.comment
    )


@bp.post(f"/cases/{CASE_ID}/plan/comments")
@api_view(json=CommentText, resp=HANDLER_ACTION, tags=REMEDY)
def plan_comment(case_id: int, json: CommentText) -> dict[str, Any]:
    """Comment to the supplier on its plan"""
    return _run(case_id, remediation.comment, False, text=json.text)


@bp.post(f"/cases/{CASE_ID}/plan/reopen")
@api_view(json=Reopen, resp=HANDLER_ACTION, tags=REMEDY)
def plan_reopen(case_id: int, json: Reopen) -> dict[str, Any]:
    """Send the case back to the supplier for further remediation"""
    return _run(case_id, remediation.return_to_supplier, False, comment_text=json.comment)


@bp.post(f"/cases/{CASE_ID}/propose")
@api_view(resp=HANDLER_ACTION, tags=REMEDY)
def propose(case_id: int) -> dict[str, Any]:
    """Ask the worker whether the problem is solved

    1 solved, 2 not solved, 3 talk to a person."""
    return _run(case_id, remediation.propose_to_worker, False)


@bp.post(f"/cases/{CASE_ID}/close")
@api_view(json=Close, resp=HANDLER_ACTION, tags=REMEDY)
def close(case_id: int, json: Close) -> dict[str, Any]:
    """Close with an outcome, remedy types and a reason

    A resolved closing without the worker's confirmation waits for a second reviewer."""
    return _run(
        case_id,
        remediation.close,
        False,
        outcome=json.outcome,
        remedy_types=list(json.remedy_types),
        reason=json.reason,
    )


@bp.post(f"/cases/{CASE_ID}/close-review")
@api_view(json=Approval, resp=HANDLER_ACTION, tags=REMEDY)
def close_review(case_id: int, json: Approval) -> dict[str, Any]:
    """A second reviewer approves or rejects a pending closing"""
    return _run(case_id, remediation.review_close, False, approve=json.approve)


@bp.get(f"/cases/{CASE_ID}/evidence/{EVIDENCE_ID}")
@api_view(resp=answers(None), tags=REMEDY)
def evidence_file(case_id: int, evidence_id: int) -> Response:
    """An evidence file, as a download"""
    return _evidence(case_id, evidence_id, supplier_side=False)
