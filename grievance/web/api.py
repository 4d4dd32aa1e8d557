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
from grievance.db import MAX_ID
from grievance.models import Case, Organisation, Site, User
from grievance.models.cases import DEFAULT_SEVERITY, SEVERITIES, STATUSES
from grievance.runtime import Runtime
from grievance.services import actions, case_queue, handler_messages, triage
from grievance.web.cases import worker_words
from grievance.web.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
HANDLERS = ("admin", "handler")
# The supplier portal's routes: suppliers write, buyers read (the views check which).
SUPPLIER_SIDE = ("supplier", "buyer")
REPORT_READERS = ("admin", "handler", "buyer")


class ApiError(Exception):
    """An error answered as JSON ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
    return jsonify(document(_runtime().settings.public_base_url))


def _int_arg(name: str, low: int = 1, high: int | None = MAX_ID) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < low or (high is not None and int(raw) > high):
        bound = f" between {low} and {high}" if high is not None else f" of at least {low}"
        raise ApiError(400, f"{name} must be a whole number{bound}")
    return int(raw)


def _choice_arg(name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in choices:
        raise ApiError(400, f"{name} is one of {', '.join(choices)}")
    return raw


def _flag_arg(name: str) -> bool:
    return _choice_arg(name, ("true", "false")) == "true"


def _text_arg(name: str, longest: int) -> str | None:
    raw = request.args.get(name)
    if raw is not None and len(raw) > longest:
        raise ApiError(400, f"{name} is at most {longest} characters")
    return raw


@bp.get("/cases")
def list_cases() -> ResponseReturnValue:
    """The queue: same order, filters and keyset pages as /cases."""
    f = case_queue.QueueFilter(
        status=_choice_arg("status", ("open", "all", *STATUSES)),
        category=_choice_arg("category", tuple(sorted(DEFAULT_SEVERITY))),
        severity=_choice_arg("severity", SEVERITIES),
        site_id=_int_arg("site"),
        supplier_id=_int_arg("supplier"),
        language=_text_arg("language", 16),
        assignee_id=g.api_user_id if _flag_arg("mine") else None,
        overdue=_flag_arg("overdue"),
        query=_text_arg("q", 200) or "",
    )
    limit = _int_arg("limit", 1, 200)
    limit = case_queue.PAGE_SIZE if limit is None else limit
    with _runtime().sessions() as db:
        page = case_queue.page(db, f, request.args.get("after"), limit)
        accounts.audit(db, _me(db), "api_queue_read", None, f"{page.total} cases")
        db.commit()
        return jsonify(
            cases=[_case_json(db, c) for c in page.cases], total=page.total, next=page.next_cursor
        )


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int) -> ResponseReturnValue:
    """One case (no worker words: those stay in the UI, where their reading is audited per view)."""
    with _runtime().sessions() as db:
        case = db.get(Case, case_id) if case_id <= MAX_ID else None
        if case is None:
            raise ApiError(404, "not found")
        accounts.audit(db, _me(db), "api_case_read", case.id)
        db.commit()
        return jsonify(_case_json(db, case, full=True))


def _body(*allowed: str) -> dict[str, Any]:
    """The JSON object sent; fields other than ``allowed`` are refused (a typo must not pass)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "send a JSON object")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown fields: {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return data


_MISSING = object()


def _field(
    data: dict[str, Any], name: str, kind: type, required: bool = True, nullable: bool = False
) -> Any:
    """``data[name]`` checked against the type the OpenAPI document declares."""
    value = data.get(name, _MISSING)
    if value is _MISSING:
        if required:
            raise ApiError(400, f"{name} is required")
        return None
    if value is None:
        if nullable:
            return None
        raise ApiError(400, f"{name} must not be null")
    if kind is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON does not tell 4232 from 4232.0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
            raise ApiError(400, f"{name} must be a positive integer")
        return value
    if not isinstance(value, kind):
        raise ApiError(400, f"{name} must be a {kind.__name__}")
    return value


def _act(case_id: int, action: Callable[..., Any], **kwargs: Any) -> ResponseReturnValue:
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
    return jsonify(shown)


def _any_case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id) if case_id <= MAX_ID else None
    if case is None:
        raise ApiError(404, "not found")
    return case


@bp.post("/cases/<int:case_id>/acknowledge")
def acknowledge(case_id: int) -> ResponseReturnValue:
    """Acknowledge; the worker is told."""
    return _act(case_id, triage.acknowledge)


@bp.post("/cases/<int:case_id>/assign")
def assign(case_id: int) -> ResponseReturnValue:
    """Assign to a handler (``assignee_id``), or to nobody (null)."""
    data = _body("assignee_id")
    return _act(
        case_id,
        triage.assign,
        assignee_id=_field(data, "assignee_id", int, required=False, nullable=True),
    )


@bp.post("/cases/<int:case_id>/categorise")
def categorise(case_id: int) -> ResponseReturnValue:
    """Category and forced-labour indicators."""
    data = _body("category", "indicators")
    indicators = _field(data, "indicators", list, required=False) or []
    if not all(isinstance(i, str) for i in indicators):
        raise ApiError(400, "indicators is a list of strings")
    return _act(
        case_id, triage.categorise, category=_field(data, "category", str), indicators=indicators
    )


@bp.post("/cases/<int:case_id>/severity")
def severity(case_id: int) -> ResponseReturnValue:
    """Set the severity; lowering a P0 or P1 waits for a second reviewer."""
    data = _body("severity", "reason")
    return _act(
        case_id,
        triage.set_severity,
        severity=_field(data, "severity", str),
        reason=_field(data, "reason", str, required=False) or "",
    )


@bp.post("/cases/<int:case_id>/severity-review")
def severity_review(case_id: int) -> ResponseReturnValue:
    """Approve or reject a pending lowering (another person than the one who asked)."""
    return _act(case_id, triage.review_severity, approve=_field(_body("approve"), "approve", bool))


@bp.post("/cases/<int:case_id>/notes")
def note(case_id: int) -> ResponseReturnValue:
    """Add an internal note."""
    return _act(case_id, triage.add_note, text=_field(_body("text"), "text", str))


@bp.post("/cases/<int:case_id>/messages")
def message(case_id: int) -> ResponseReturnValue:
    """Message the worker: a canned reply key, or free text sent as written (``question``:
    true waits for the worker's answer, which then lands on the case as the answer to it)."""
    data = _body("canned", "text", "question")
    key = _field(data, "canned", str, required=False)
    text = _field(data, "text", str, required=False)
    question = _field(data, "question", bool, required=False)
    if (key is None) == (text is None):
        raise ApiError(400, "send either canned (a reply key) or text")
    if question and key is not None:
        raise ApiError(
            400, "question is for free text; canned questions always wait for the answer"
        )
    return _act(
        case_id, handler_messages.message_worker, key=key, text=text, question=bool(question)
    )


@bp.post("/cases/<int:case_id>/referrals")
def referral(case_id: int) -> ResponseReturnValue:
    """Attach a referral from the directory: ``referral`` names an entry (its id in the
    contacts file, or ``db-<n>``); ``referral_id`` is the number of one added in the browser."""
    data = _body("referral", "referral_id", "tell_worker")
    ref = _field(data, "referral", str, required=False)
    if ref is None:
        if "referral_id" not in data:
            raise ApiError(400, "referral is required")
        ref = f"db-{_field(data, 'referral_id', int)}"
    return _act(
        case_id,
        triage.attach_referral,
        referral=ref,
        tell_worker=bool(_field(data, "tell_worker", bool, required=False)),
    )


@bp.post("/cases/<int:case_id>/supplier")
def supplier(case_id: int) -> ResponseReturnValue:
    """Refer to the supplier with a redacted summary."""
    data = _body("supplier_id", "site_id", "summary")
    return _act(
        case_id,
        triage.refer_to_supplier,
        supplier_id=_field(data, "supplier_id", int),
        site_id=_field(data, "site_id", int, required=False, nullable=True),
        supplier_summary=_field(data, "summary", str),
    )


@bp.post("/cases/<int:case_id>/out-of-scope")
def out_of_scope(case_id: int) -> ResponseReturnValue:
    """Close as out of scope with a reason."""
    return _act(case_id, triage.close_out_of_scope, reason=_field(_body("reason"), "reason", str))
