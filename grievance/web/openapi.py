"""The OpenAPI 3.1 document of ``/api/v1``, written by hand next to the views it describes.

schemathesis checks the views against it in the tests, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from grievance.models.cases import DEFAULT_SEVERITY, INDICATORS, SEVERITIES, STATUSES
from grievance.models.remediation import (
    OUTCOMES,
    PLAN_STATUSES,
    REMEDY_TYPES,
    STEP_STATUSES,
    WORKER_ANSWERS,
)
from grievance.services.triage import CANNED_REPLIES

_DATE = {"type": "string", "format": "date-time"}


def _obj_schema(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date-time"}
_ERROR = {
    "description": "an error, in words",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}},
            }
        }
    },
}

CASE = {
    "type": "object",
    "required": [
        "id",
        "status",
        "category",
        "severity",
        "supplier",
        "site",
        "language",
        "created_at",
        "due_at",
        "handover_requested",
        "unread_worker_messages",
        "last_worker_message_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": list(STATUSES)},
        "category": {"type": ["string", "null"]},
        "severity": {"enum": list(SEVERITIES)},
        "supplier": {"type": ["string", "null"], "description": "the supplier organisation's name"},
        "site": {"type": ["string", "null"]},
        "language": {"type": "string", "description": "BCP-47"},
        "created_at": _DATE,
        "due_at": _NULLABLE_DATE,
        "handover_requested": {
            "type": "boolean",
            "description": "the worker asked for a person and no handler has written to them since",
        },
        "unread_worker_messages": {
            "type": "integer",
            "minimum": 0,
            "description": "messages from the worker since a handler last opened the case "
            "(their words are read in the web UI only, where each reading is audited)",
        },
        "last_worker_message_at": _NULLABLE_DATE,
    },
}
CASE_DETAIL = {
    "allOf": [
        {"$ref": "#/components/schemas/Case"},
        {
            "type": "object",
            "properties": {
                "reported_category": {"type": ["string", "null"]},
                "indicators": {"type": "array", "items": {"enum": list(INDICATORS)}},
                "assignee": {"type": ["string", "null"]},
                "workplace": {"type": ["string", "null"]},
                "acknowledged_at": _NULLABLE_DATE,
                "pending_severity": {"type": ["string", "null"]},
                "closed_at": _NULLABLE_DATE,
            },
        },
    ]
}


_DAY = {"type": "string", "format": "date"}
_NULLABLE_DAY = {"type": ["string", "null"], "format": "date"}
PLAN = {
    "type": ["object", "null"],
    "required": ["status", "playbook", "due_on", "returns", "steps", "comments"],
    "properties": {
        "status": {"enum": list(PLAN_STATUSES)},
        "playbook": {"type": ["string", "null"], "description": "the category it started from"},
        "due_on": _NULLABLE_DAY,
        "returns": {"type": "integer", "description": "times the handler sent it back"},
        "submitted_on": _NULLABLE_DAY,
        "accepted_on": _NULLABLE_DAY,
        "completed_on": _NULLABLE_DAY,
        "verified_on": _NULLABLE_DAY,
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "description", "owner", "due_on", "status", "evidence"],
                "properties": {
                    "id": {"type": "integer"},
                    "description": {"type": "string"},
                    "owner": {"type": "string"},
                    "due_on": _DAY,
                    "status": {"enum": list(STEP_STATUSES)},
                    "evidence_hint": {"type": ["string", "null"]},
                    "evidence": {
                        "type": "array",
                        "items": _obj_schema(
                            ["id", "filename", "size", "on"],
                            id={"type": "integer"},
                            filename={"type": "string"},
                            size={"type": "integer"},
                            on=_DAY,
                        ),
                    },
                },
            },
        },
        "comments": {
            "type": "array",
            "items": _obj_schema(
                ["side", "on", "text"],
                side={"enum": ["handler", "supplier"]},
                on=_DAY,
                text={"type": "string"},
            ),
        },
    },
}
SUPPLIER_CASE = _obj_schema(
    [
        "id",
        "status",
        "category",
        "severity",
        "site",
        "supplier",
        "summary",
        "agency",
        "received",
        "due",
    ],
    id={"type": "integer"},
    status={"enum": list(STATUSES)},
    category={"type": ["string", "null"]},
    severity={"enum": list(SEVERITIES)},
    site={"type": ["string", "null"]},
    supplier={"type": ["string", "null"]},
    summary={
        "type": ["string", "null"],
        "description": "the handler's summary; never the worker's words",
    },
    agency={
        "type": ["string", "null"],
        "description": "the recruitment agency a handler linked this case to, if any",
    },
    received=_DAY,
    due=_NULLABLE_DAY,
    plan={"$ref": "#/components/schemas/Plan"},
)
REMEDY = {
    "allOf": [
        {"$ref": "#/components/schemas/CaseDetail"},
        _obj_schema(
            ["worker_answer", "outcome", "remedy_types", "plan"],
            worker_answer={"enum": [*WORKER_ANSWERS, None]},
            outcome={"enum": [*OUTCOMES, None]},
            remedy_types={"type": "array", "items": {"enum": list(REMEDY_TYPES)}},
            satisfaction={"type": ["integer", "null"], "minimum": 1, "maximum": 5},
            reopened={"type": "integer"},
            linked_case_id={"type": ["integer", "null"]},
            close_pending_review={"type": "boolean"},
            plan={"$ref": "#/components/schemas/Plan"},
        ),
    ]
}


def _action(summary: str, body: dict[str, Any] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [{"$ref": "#/components/parameters/CaseId"}],
        "responses": {
            "200": {
                "description": "the case afterwards",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CaseDetail"}}
                },
            },
            "400": _ERROR,
            "401": _ERROR,
            "404": _ERROR,
            "409": {**_ERROR, "description": "the action breaks a rule (the message says which)"},
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return {"post": operation}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return _obj_schema(required, **properties)


def _body(required: list[str], **properties: Any) -> dict[str, Any]:
    """A request body: unknown fields are refused, so a typo is never silently ignored."""
    return {**_obj(required, **properties), "additionalProperties": False}


def document(server: str) -> dict[str, Any]:
    """The document, with ``server`` as its base URL."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "grievance API",
            "version": "1",
            "description": "Case handling for the grievance mechanism. Bearer tokens come from "
            "`grievance tokens create EMAIL`. Worker phone numbers are never part of any response.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "parameters": {
                "CaseId": {
                    "name": "case_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                },
                "StepId": {
                    "name": "step_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                },
            },
            "schemas": {
                "Case": CASE,
                "CaseDetail": CASE_DETAIL,
                "Plan": PLAN,
                "SupplierCase": SUPPLIER_CASE,
                "Remedy": REMEDY,
            },
        },
        "paths": {
            "/api/v1/cases": {
                "get": {
                    "summary": "The queue, most urgent first",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"enum": ["open", "all", *STATUSES]},
                        },
                        {
                            "name": "category",
                            "in": "query",
                            "schema": {"enum": sorted(DEFAULT_SEVERITY)},
                        },
                        {"name": "severity", "in": "query", "schema": {"enum": list(SEVERITIES)}},
                        {
                            "name": "supplier",
                            "in": "query",
                            "schema": _ID,
                        },
                        {
                            "name": "site",
                            "in": "query",
                            "schema": _ID,
                        },
                        {
                            "name": "language",
                            "in": "query",
                            "schema": {"type": "string", "maxLength": 16},
                        },
                        {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
                        {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {"type": "string", "maxLength": 200},
                        },
                        {
                            "name": "after",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "the `next` of the previous page",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "one page",
                            "content": {
                                "application/json": {
                                    "schema": _obj(
                                        ["cases", "total", "next"],
                                        cases={
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Case"},
                                        },
                                        total={"type": "integer"},
                                        next={"type": ["string", "null"]},
                                    )
                                }
                            },
                        },
                        "400": _ERROR,
                        "401": _ERROR,
                        "404": _ERROR,
                    },
                }
            },
            "/api/v1/cases/{case_id}": {
                "get": {
                    "summary": "One case",
                    "parameters": [{"$ref": "#/components/parameters/CaseId"}],
                    "responses": {
                        "200": {
                            "description": "the case",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/CaseDetail"}
                                }
                            },
                        },
                        "401": _ERROR,
                        "404": _ERROR,
                    },
                }
            },
            "/api/v1/cases/{case_id}/acknowledge": _action(
                "Acknowledge (the worker is told)", None
            ),
            "/api/v1/cases/{case_id}/assign": _action(
                "Assign to a handler, or to nobody",
                _body(
                    [],
                    assignee_id={"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
                ),
            ),
            "/api/v1/cases/{case_id}/categorise": _action(
                "Category and forced-labour indicators",
                _body(
                    ["category"],
                    category={"enum": sorted(DEFAULT_SEVERITY)},
                    indicators={"type": "array", "items": {"enum": list(INDICATORS)}},
                ),
            ),
            "/api/v1/cases/{case_id}/severity": _action(
                "Set the severity (lowering a P0/P1 waits for a second reviewer)",
                _body(["severity"], severity={"enum": list(SEVERITIES)}, reason={"type": "string"}),
            ),
            "/api/v1/cases/{case_id}/severity-review": _action(
                "Approve or reject a pending lowering",
                _body(["approve"], approve={"type": "boolean"}),
            ),
            "/api/v1/cases/{case_id}/notes": _action(
                "Add an internal note", _body(["text"], text={"type": "string", "minLength": 1})
            ),
            "/api/v1/cases/{case_id}/messages": _action(
                "Message the worker: a canned reply, or free text sent as written. Canned "
                "questions, and free text with question: true, wait for the worker's answer, "
                "which lands on the case as the answer to it.",
                {
                    "oneOf": [
                        _body(["canned"], canned={"enum": list(CANNED_REPLIES)}),
                        _body(
                            ["text"],
                            text={"type": "string", "minLength": 1, "maxLength": 1000},
                            question={"type": "boolean"},
                        ),
                    ]
                },
            ),
            "/api/v1/cases/{case_id}/referrals": _action(
                "Attach a referral from the directory",
                {
                    **_body(
                        [],
                        referral={
                            "type": "string",
                            "maxLength": 80,
                            "description": "the entry: its id in the contacts file, or db-<n>",
                        },
                        referral_id={
                            **_ID,
                            "description": "instead of referral: the number of an entry added "
                            "in the browser",
                        },
                        tell_worker={"type": "boolean"},
                    ),
                    # One of the two names the entry.
                    "anyOf": [{"required": ["referral"]}, {"required": ["referral_id"]}],
                },
            ),
            "/api/v1/cases/{case_id}/supplier": _action(
                "Refer to the supplier with a summary that identifies nobody",
                _body(
                    ["supplier_id", "summary"],
                    supplier_id=_ID,
                    site_id={"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1},
                    summary={"type": "string", "minLength": 20},
                ),
            ),
            "/api/v1/cases/{case_id}/out-of-scope": _action(
                "Close as out of scope",
                _body(["reason"], reason={"type": "string", "minLength": 10}),
            ),
            **_remediation_paths(),
            **_report_paths(),
        },
    }


def _report_paths() -> dict[str, Any]:
    """Suppressed report figures for admin, handler and buyer tokens."""
    from grievance.reports.aggregates import DIMENSIONS

    month = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
    maybe_month = {"type": "string", "pattern": "^([0-9]{4}-(0[1-9]|1[0-2]))?$"}
    period = [
        {
            "name": "from",
            "in": "query",
            "schema": maybe_month,
            "description": "first month, YYYY-MM, widened to its quarter (default: the "
            "quarter before the latest published)",
        },
        {
            "name": "to",
            "in": "query",
            "schema": maybe_month,
            "description": "last month, YYYY-MM, widened to its quarter (default: the latest "
            "published quarter); at most 36 months",
        },
        {
            "name": "view",
            "in": "query",
            "schema": {"type": "string", "enum": ["published", "live"]},
            "description": "published quarters (default), or live figures for any months "
            "(admin and handler tokens only)",
        },
    ]
    view = {"enum": ["published", "live"]}
    pending = {
        "type": ["string", "null"],
        "description": "the first quarter of the period not published yet, like 2026-Q4",
    }
    shown = {"type": "string", "description": "a count, '<10' when small, '–' when hidden"}
    strings = {"type": "array", "items": {"type": "string"}}
    counts = _obj_schema(
        [
            "view",
            "dimension",
            "label",
            "first",
            "last",
            "k",
            "months",
            "rows",
            "column_totals",
            "total",
            "pending",
        ],
        view=view,
        pending=pending,
        dimension={"enum": list(DIMENSIONS)},
        label={"type": "string"},
        first=month,
        last=month,
        k={"type": "integer"},
        months=strings,
        rows={
            "type": "array",
            "items": _obj_schema(
                ["name", "cells", "total"],
                name={"type": "string"},
                cells={"type": "array", "items": shown},
                total=shown,
            ),
        },
        column_totals={"type": "array", "items": shown},
        total=shown,
    )
    measures = {
        "type": "array",
        "items": _obj_schema(
            ["label", "cases", "value"],
            label={"type": "string"},
            cases={"type": ["integer", "null"], "description": "null when under k"},
            value={"type": "string"},
        ),
    }
    handling = _obj_schema(
        ["view", "first", "last", "k", "periods", "months", "cases_received", "trend", "pending"],
        view=view,
        pending=pending,
        first=month,
        last=month,
        k={"type": "integer"},
        periods={
            "type": "array",
            "items": _obj_schema(
                ["period", "measures"],
                period={
                    "type": "string",
                    "description": "a quarter, like 2026-Q3, or the live period",
                },
                measures=measures,
            ),
        },
        months=strings,
        cases_received={"type": "array", "items": shown},
        trend={
            "type": "array",
            "items": _obj_schema(["label", "values"], label={"type": "string"}, values=strings),
        },
    )

    def get(summary: str, schema: dict[str, Any], parameters: list[Any]) -> dict[str, Any]:
        return {
            "get": {
                "summary": summary,
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "the suppressed figures",
                        "content": {"application/json": {"schema": schema}},
                    },
                    "400": _ERROR,
                    "401": _ERROR,
                    "403": _ERROR,
                    "404": _ERROR,
                },
            }
        }

    return {
        "/api/v1/reports/counts": get(
            "Cases received per month by a dimension over the published quarters, small cells "
            "suppressed (a buyer's: its suppliers' cases)",
            counts,
            [{"name": "by", "in": "query", "schema": {"enum": list(DIMENSIONS)}}, *period],
        ),
        "/api/v1/reports/handling": get(
            "How the cases received were handled, per published quarter and by month",
            handling,
            period,
        ),
    }


def _answer(description: str, schema: str, *errors: str) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        },
        "401": _ERROR,
        "404": _ERROR,
    }
    for code in errors:
        responses[code] = (
            {**_ERROR, "description": "the action breaks a rule (the message says which)"}
            if code == "409"
            else _ERROR
        )
    return responses


def _op(
    summary: str,
    schema: str,
    body: dict[str, Any] | None = None,
    step: bool = False,
    multipart: bool = False,
) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [{"$ref": "#/components/parameters/CaseId"}]
    if step:
        parameters.append({"$ref": "#/components/parameters/StepId"})
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters,
        "responses": _answer("the case afterwards", schema, "400", "409"),
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if multipart:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _obj_schema(["file"], file={"type": "string", "format": "binary"})
                }
            },
        }
        operation["responses"]["413"] = _ERROR
    return operation


_FILE = {
    "200": {
        "description": "the file, as a download (Content-Disposition: attachment)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    "401": _ERROR,
    "404": _ERROR,
}
_EVIDENCE_ID = {
    "name": "evidence_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}


def _remediation_paths() -> dict[str, Any]:
    """Suppliers' and buyers' ``/supplier/...`` routes, and the handlers' plan routes."""
    step_body = _body(
        ["description", "owner", "due_on"],
        description={"type": "string", "minLength": 10, "maxLength": 2000},
        owner={"type": "string", "minLength": 2, "maxLength": 200},
        due_on={"type": "string", "format": "date"},
    )
    decision = _body(["accept"], accept={"type": "boolean"}, comment={"type": "string"})
    base = "/api/v1/supplier/cases/{case_id}"
    return {
        "/api/v1/supplier/cases": {
            "get": {
                "summary": "The organisation's referred cases (a buyer's: its suppliers'), for "
                "supplier and buyer tokens",
                "responses": {
                    "200": {
                        "description": "the cases",
                        "content": {
                            "application/json": {
                                "schema": _obj_schema(
                                    ["cases"],
                                    cases={
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/SupplierCase"},
                                    },
                                )
                            }
                        },
                    },
                    "401": _ERROR,
                    "404": _ERROR,
                },
            }
        },
        base: {
            "get": {
                "summary": "One case with its plan, as a supplier may see it",
                "parameters": [{"$ref": "#/components/parameters/CaseId"}],
                "responses": _answer("the case", "SupplierCase"),
            }
        },
        f"{base}/plan": {
            "post": _op(
                "Start the plan from the category's playbook (or empty)",
                "SupplierCase",
                _body([], from_playbook={"type": "boolean"}),
            )
        },
        f"{base}/plan/steps": {"post": _op("Add a step", "SupplierCase", step_body)},
        f"{base}/plan/steps/{{step_id}}": {
            "put": _op("Change a step", "SupplierCase", step_body, step=True),
            "delete": _op("Remove a step", "SupplierCase", step=True),
        },
        f"{base}/plan/steps/{{step_id}}/status": {
            "post": _op(
                "Mark a step planned, in progress or done (done needs evidence)",
                "SupplierCase",
                _body(["status"], status={"enum": list(STEP_STATUSES)}),
                step=True,
            )
        },
        f"{base}/plan/steps/{{step_id}}/evidence": {
            "post": _op(
                "Upload evidence (PDF, image, CSV, XLSX, DOCX, TXT; stored encrypted)",
                "SupplierCase",
                step=True,
                multipart=True,
            )
        },
        f"{base}/plan/submit": {"post": _op("Submit the plan for review", "SupplierCase")},
        f"{base}/plan/complete": {"post": _op("Report every step done", "SupplierCase")},
        f"{base}/plan/comments": {
            "post": _op(
                "Comment to the case handler",
                "SupplierCase",
                _body(["text"], text={"type": "string", "minLength": 1, "maxLength": 2000}),
            )
        },
        f"{base}/evidence/{{evidence_id}}": {
            "get": {
                "summary": "An evidence file",
                "parameters": [{"$ref": "#/components/parameters/CaseId"}, _EVIDENCE_ID],
                "responses": _FILE,
            }
        },
        "/api/v1/cases/{case_id}/remedy": {
            "get": {
                "summary": "The case with the worker's answer, the outcome and the plan",
                "parameters": [{"$ref": "#/components/parameters/CaseId"}],
                "responses": _answer("the case", "Remedy"),
            }
        },
        "/api/v1/cases/{case_id}/plan/review": {
            "post": _op(
                "Accept the submitted plan, or send it back (comment needed)", "Remedy", decision
            )
        },
        "/api/v1/cases/{case_id}/plan/verify": {
            "post": _op(
                "Verify the completed plan against its evidence (then the worker is asked)",
                "Remedy",
                decision,
            )
        },
        "/api/v1/cases/{case_id}/plan/comments": {
            "post": _op(
                "Comment to the supplier",
                "Remedy",
                _body(["text"], text={"type": "string", "minLength": 1, "maxLength": 2000}),
            )
        },
        "/api/v1/cases/{case_id}/plan/reopen": {
            "post": _op(
                "Send the case back to the supplier for further remediation",
                "Remedy",
                _body(["comment"], comment={"type": "string", "minLength": 10}),
            )
        },
        "/api/v1/cases/{case_id}/propose": {
            "post": _op("Ask the worker: 1 solved, 2 not solved, 3 talk to a person", "Remedy")
        },
        "/api/v1/cases/{case_id}/close": {
            "post": _op(
                "Close with an outcome, remedy types and a reason; a resolved closing without "
                "the worker's confirmation waits for a second reviewer",
                "Remedy",
                _body(
                    ["outcome", "reason"],
                    outcome={"enum": list(OUTCOMES)},
                    remedy_types={"type": "array", "items": {"enum": list(REMEDY_TYPES)}},
                    reason={"type": "string", "minLength": 10},
                ),
            )
        },
        "/api/v1/cases/{case_id}/close-review": {
            "post": _op(
                "A second reviewer approves or rejects a pending closing",
                "Remedy",
                _body(["approve"], approve={"type": "boolean"}),
            )
        },
        "/api/v1/cases/{case_id}/evidence/{evidence_id}": {
            "get": {
                "summary": "An evidence file",
                "parameters": [{"$ref": "#/components/parameters/CaseId"}, _EVIDENCE_ID],
                "responses": _FILE,
            }
        },
    }
