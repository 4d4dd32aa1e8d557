"""The OpenAPI 3.1 document of ``/api/v1``, written by hand next to the views it describes.

schemathesis checks the views against it in the tests, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from grievance.models.cases import DEFAULT_SEVERITY, INDICATORS, SEVERITIES, STATUSES
from grievance.services.triage import CANNED_REPLIES

_DATE = {"type": "string", "format": "date-time"}
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
    return {"type": "object", "required": required, "properties": properties}


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
                }
            },
            "schemas": {"Case": CASE, "CaseDetail": CASE_DETAIL},
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
                "Message the worker: a canned reply, or free text sent as written",
                {
                    "oneOf": [
                        _body(["canned"], canned={"enum": list(CANNED_REPLIES)}),
                        _body(["text"], text={"type": "string", "minLength": 1, "maxLength": 1000}),
                    ]
                },
            ),
            "/api/v1/cases/{case_id}/referrals": _action(
                "Attach a referral from the directory",
                _body(
                    ["referral_id"],
                    referral_id=_ID,
                    tell_worker={"type": "boolean"},
                ),
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
        },
    }
