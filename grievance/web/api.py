"""The JSON API, ``/api/v1``: what the handlers' UI does, with the same rules, for bearer tokens.

Tokens come from ``grievance tokens create EMAIL`` and carry the user's role:
admins and handlers use ``/api/v1/cases``; suppliers and buyers use
``/api/v1/supplier/cases`` (see api_remediation.py), and nothing else. Every case read and change is audited like
in the UI. The OpenAPI 3.1 document is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.models import Case, Organisation, Site, User
from grievance.runtime import Runtime
from grievance.services import actions, case_queue, handler_messages, triage
from grievance.services import cases as cases_service
from grievance.web.cases import worker_words
from grievance.web.openapi import CASE_ID, ApiError, answers, api_view, document
from grievance.web.schemas import (
    Approval,
    Assign,
    CaseDetail,
    CasePage,
    Categorise,
    CodeLookup,
    Note,
    QueueQuery,
    Reason,
    Referral,
    ReferToSupplier,
    SetSeverity,
    WorkerMessage,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
HANDLERS = ("admin", "handler")
# The supplier portal's routes: suppliers write, buyers read (the views check which).
SUPPLIER_SIDE = ("supplier", "buyer")
REPORT_READERS = ("admin", "handler", "buyer")


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> ResponseReturnValue:
    response = jsonify(error=exc.message)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="grievance"'
    return response, exc.status


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == "api.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "send Authorization: Bearer <token> (create one with `grievance tokens create`)"
        )
    with _runtime().sessions() as db:
        user = accounts.user_for_token(db, token.strip())
        db.commit()
        if user is None:
            raise ApiError(401, "this token is not valid or was revoked")
        roles = (
            SUPPLIER_SIDE
            if request.path.startswith("/api/v1/supplier/")
            else REPORT_READERS
            if request.path.startswith("/api/v1/reports/")
            else HANDLERS
        )
        if user.role not in roles:
            raise ApiError(404, "not found")
        g.api_user_id = user.id


def _me(db: Session) -> User:
    user = db.get(User, g.api_user_id)
    assert user is not None
    return user


def _case_json(db: Session, case: Case, full: bool = False) -> dict[str, Any]:
    supplier = db.get(Organisation, case.supplier_id) if case.supplier_id else None
    site = db.get(Site, case.site_id) if case.site_id else None
    data: dict[str, Any] = {
        "id": case.id,
        "status": case.status,
        "category": case.category,
        "severity": case.severity,
        "supplier": supplier.name if supplier else None,
        "site": site.name if site else None,
        "language": case.language,
        "created_at": case.created_at.isoformat(),
        "due_at": case.due_at.isoformat() if case.due_at else None,
        "handover_requested": case.handover_requested_at is not None,
        "unread_worker_messages": case.unread_worker_messages,
        "last_worker_message_at": case.last_worker_message_at.isoformat()
        if case.last_worker_message_at
        else None,
    }
    if full:
        assignee = db.get(User, case.assignee_id) if case.assignee_id else None
        data |= {
            "reported_category": case.reported_category,
            "indicators": list(case.indicators or []),
            "assignee": assignee.email if assignee else None,
            "workplace": worker_words(case.workplace),
            "acknowledged_at": case.acknowledged_at.isoformat() if case.acknowledged_at else None,
            "pending_severity": (case.pending_severity or {}).get("severity"),
            "closed_at": case.closed_at.isoformat() if case.closed_at else None,
        }
    return data


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(document(_runtime().settings.public_base_url, bp))


@bp.get("/cases")
@api_view(query=QueueQuery, resp=answers(CasePage, 400), tags=["cases"])
def list_cases(query: QueueQuery) -> dict[str, Any]:
    """The queue, most urgent first

    Same order, filters and keyset pages as the queue in the browser."""
    f = case_queue.QueueFilter(
        status=query.status,
        category=query.category,
        severity=query.severity,
        site_id=query.site,
        supplier_id=query.supplier,
        language=query.language,
        assignee_id=g.api_user_id if query.mine else query.assignee,
        unassigned=query.unassigned,
        overdue=query.overdue,
        query=query.q or "",
    )
    limit = case_queue.PAGE_SIZE if query.limit is None else query.limit
    with _runtime().sessions() as db:
        page = case_queue.page(db, f, query.after, limit)
        accounts.audit(db, _me(db), "api_queue_read", None, f"{page.total} cases")
        db.commit()
        return {
            "cases": [_case_json(db, c) for c in page.cases],
            "total": page.total,
            "next": page.next_cursor,
        }


@bp.post("/cases/by-code")
@api_view(json=CodeLookup, resp=answers(CaseDetail, 400), tags=["cases"])
def case_by_code(json: CodeLookup) -> dict[str, Any]:
    """The case whose code a worker reads out

    Only the code's keyed hash is stored; this is the one way from a code to its case. The
    code travels in the body, never in a URL; the search is audited, the code is not kept.
    404 names what to check (a mistyped digit, a wrong length, or no such case)."""
    with _runtime().sessions() as db:
        try:
            case = cases_service.find_by_code(db, _runtime(), _me(db), json.code)
        except cases_service.CodeSearchError as exc:
            db.commit()  # the search's audit row
            raise ApiError(404, f"no case found: {exc}") from None
        db.commit()
        return _case_json(db, case, full=True)


@bp.get(f"/cases/{CASE_ID}")
@api_view(resp=answers(CaseDetail), tags=["cases"])
def get_case(case_id: int) -> dict[str, Any]:
    """One case

    No worker words: those stay in the browser, where each reading is audited."""
    with _runtime().sessions() as db:
        case = _any_case(db, case_id)
        accounts.audit(db, _me(db), "api_case_read", case.id)
        db.commit()
        return _case_json(db, case, full=True)


def _act(case_id: int, action: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """A triage action (the service function itself) through the one action runner; the case
    as JSON afterwards. A refused action is 409."""
    try:
        _, shown = actions.run(
            _runtime(),
            g.api_user_id,
            lambda db, user: _any_case(db, case_id),
            action,
            lambda db, case: _case_json(db, case, full=True),
            **kwargs,
        )
    except triage.TriageError as exc:
        raise ApiError(409, str(exc)) from None
    result: dict[str, Any] = shown
    return result


def _any_case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise ApiError(404, "not found")
    return case


# A triage action answers the case afterwards; its body was checked against its model.
ACTION = answers(CaseDetail, 400, 409)


@bp.post(f"/cases/{CASE_ID}/acknowledge")
@api_view(resp=ACTION, tags=["cases"])
def acknowledge(case_id: int) -> dict[str, Any]:
    """Acknowledge (the worker is told)"""
    return _act(case_id, triage.acknowledge)


@bp.post(f"/cases/{CASE_ID}/assign")
@api_view(json=Assign, resp=ACTION, tags=["cases"])
def assign(case_id: int, json: Assign) -> dict[str, Any]:
    """Assign to a handler, or to nobody"""
    return _act(case_id, triage.assign, assignee_id=json.assignee_id)


@bp.post(f"/cases/{CASE_ID}/categorise")
@api_view(json=Categorise, resp=ACTION, tags=["cases"])
def categorise(case_id: int, json: Categorise) -> dict[str, Any]:
    """Category and forced-labour indicators"""
    return _act(
        case_id, triage.categorise, category=json.category, indicators=list(json.indicators)
    )


@bp.post(f"/cases/{CASE_ID}/severity")
@api_view(json=SetSeverity, resp=ACTION, tags=["cases"])
def severity(case_id: int, json: SetSeverity) -> dict[str, Any]:
    """Set the severity

    Lowering a P0 or P1 needs a reason and waits for a second reviewer."""
    return _act(case_id, triage.set_severity, severity=json.severity, reason=json.reason)


@bp.post(f"/cases/{CASE_ID}/severity-review")
@api_view(json=Approval, resp=ACTION, tags=["cases"])
def severity_review(case_id: int, json: Approval) -> dict[str, Any]:
    """Approve or reject a pending lowering

    By another person than the one who asked."""
    return _act(case_id, triage.review_severity, approve=json.approve)


@bp.post(f"/cases/{CASE_ID}/notes")
@api_view(json=Note, resp=ACTION, tags=["cases"])
def note(case_id: int, json: Note) -> dict[str, Any]:
    """Add an internal note"""
    return _act(case_id, triage.add_note, text=json.text)


@bp.post(f"/cases/{CASE_ID}/messages")
@api_view(json=WorkerMessage, resp=ACTION, tags=["cases"])
def message(case_id: int, json: WorkerMessage) -> dict[str, Any]:
    """Message the worker

    A canned reply by its key, or free text sent as written. Canned questions, and free
    text with question: true, wait for the worker's answer, which lands on the case as the
    answer to it."""
    return _act(
        case_id,
        handler_messages.message_worker,
        key=json.canned,
        text=json.text,
        question=json.question,
    )


@bp.post(f"/cases/{CASE_ID}/referrals")
@api_view(json=Referral, resp=ACTION, tags=["cases"])
def referral(case_id: int, json: Referral) -> dict[str, Any]:
    """Attach a referral from the directory

    ``referral`` names an entry (its id in the contacts file, or ``db-<n>``);
    ``referral_id`` is the number of one added in the browser."""
    return _act(case_id, triage.attach_referral, referral=json.ref, tell_worker=json.tell_worker)


@bp.post(f"/cases/{CASE_ID}/supplier")
@api_view(json=ReferToSupplier, resp=ACTION, tags=["cases"])
def supplier(case_id: int, json: ReferToSupplier) -> dict[str, Any]:
    """Refer to the supplier with a summary that identifies nobody"""
    return _act(
        case_id,
        triage.refer_to_supplier,
        supplier_id=json.supplier_id,
        site_id=json.site_id,
        supplier_summary=json.summary,
    )


@bp.post(f"/cases/{CASE_ID}/out-of-scope")
@api_view(json=Reason, resp=ACTION, tags=["cases"])
def out_of_scope(case_id: int, json: Reason) -> dict[str, Any]:
    """Close as out of scope, with a reason"""
    return _act(case_id, triage.close_out_of_scope, reason=json.reason)
