"""The JSON API: bearer tokens, the same rules as the UI, requests checked against the document's
models (test_api_contract.py runs schemathesis against the whole document)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.models import Case
from grievance.runtime import Runtime
from tests.conftest import PUBLIC_URL, Phone
from tests.support.api import api, token_for
from tests.support.cases import make_cases
from tests.support.intake import report


def test_tokens_are_required_and_carry_the_role(client: FlaskClient, runtime: Runtime) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases").json == {
        "error": "send Authorization: Bearer <token> (create one with `grievance tokens create`)"
    }
    assert api(client, "gr_nonsense", "GET", "/cases").status_code == 401
    supplier = token_for(runtime, "s@example.org", "supplier", "Sunrise")
    assert api(client, supplier, "GET", "/cases").status_code == 404
    assert "Set-Cookie" not in api(client, supplier, "GET", "/cases").headers


def test_the_document_is_public_and_names_this_line(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    assert served.json["servers"] == [{"url": PUBLIC_URL}]
    assert "/api/v1/cases/{case_id}/plan/review" in served.json["paths"]


def test_the_queue_and_a_case_as_json(client: FlaskClient, runtime: Runtime) -> None:
    low, urgent = make_cases(runtime, [("P3", "Blue Farm", 50), ("P0", "Sunrise Garments", 1)])
    token = token_for(runtime, "h@example.org", "handler")
    listing = api(client, token, "GET", "/cases").json
    assert [c["id"] for c in listing["cases"]] == [urgent, low]
    assert listing["total"] == 2
    assert listing["next"] is None
    assert set(listing["cases"][0]) == {
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
    }
    page = api(client, token, "GET", "/cases?limit=1").json
    assert [c["id"] for c in page["cases"]] == [urgent]
    rest = api(client, token, "GET", f"/cases?limit=1&after={page['next']}").json
    assert [c["id"] for c in rest["cases"]] == [low]
    assert api(client, token, "GET", "/cases?severity=P3").json["total"] == 1
    assert api(client, token, "GET", "/cases?limit=0").status_code == 400
    detail = api(client, token, "GET", f"/cases/{urgent}").json
    assert detail["severity"] == "P0"
    assert detail["workplace"] == "Sunrise Garments"
    assert api(client, token, "GET", "/cases/999999").status_code == 404


def test_actions_follow_the_same_rules_as_the_ui(
    client: FlaskClient, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    with runtime.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    token = token_for(runtime, "h@example.org", "handler")
    phone.replies()
    assert (
        api(client, token, "POST", f"/cases/{case_id}/acknowledge").json["status"] == "acknowledged"
    )
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    again = api(client, token, "POST", f"/cases/{case_id}/acknowledge")
    assert again.status_code == 409
    assert "already acknowledged" in again.json["error"]
    result = api(
        client,
        token,
        "POST",
        f"/cases/{case_id}/categorise",
        {"category": "WAGE", "indicators": ["wages", "debt"]},
    )
    assert result.json["severity"] == "P1"
    assert result.json["indicators"] == ["debt", "wages"]
    assert (
        api(
            client, token, "POST", f"/cases/{case_id}/messages", {"canned": "handler.working_on_it"}
        ).status_code
        == 200
    )
    assert phone.replies() == [
        "We are working on your report. We will write again when there is news."
    ]
    lowered = api(
        client,
        token,
        "POST",
        f"/cases/{case_id}/severity",
        {"severity": "P3", "reason": "paid back"},
    )
    assert lowered.json["pending_severity"] == "P3"
    assert lowered.json["severity"] == "P1"
    assert api(client, token, "POST", f"/cases/{case_id}/notes", "not an object").status_code == 400


def test_a_request_that_breaks_the_document_is_a_400_that_says_why(
    client: FlaskClient, runtime: Runtime, phone: Phone
) -> None:
    """The models that generate the document also check each request, before any rule of
    the service: what the document refuses is 400, in words, and changes nothing."""
    report(phone)
    with runtime.sessions() as session:
        case_id = session.scalars(select(Case.id)).one()
    token = token_for(runtime, "h@example.org", "handler")
    phone.replies()

    def refused(path: str, body: object) -> str:
        answer = api(client, token, "POST", f"/cases/{case_id}/{path}", body)
        assert answer.status_code == 400, answer.json
        return str(answer.json["error"])

    assert (
        refused("severity", {"severity": "P9"})
        == "severity: Input should be 'P0', 'P1', 'P2' or 'P3'"
    )
    assert refused("messages", {"canned": "handler.ask_more", "text": "hello"}) == (
        "send either canned (a reply key) or text"
    )
    assert refused("messages", {}) == "send either canned (a reply key) or text"
    assert refused("notes", {"text": "x", "txet": "y"}) == "txet: unknown field (a typo?)"
    assert refused("assign", {"assignee_id": "7"}) == "assignee_id: Input should be a valid integer"
    # Documented as at least 20 characters; the service used to answer 409 for it.
    assert refused("supplier", {"supplier_id": 1, "summary": "too short"}).startswith(
        "summary: String should have at least 20 characters"
    )
    assert refused("notes", "not an object").startswith("Input should be")
    assert api(client, token, "GET", "/cases?limit=500").status_code == 400
    assert "limit" in api(client, token, "GET", "/cases?limit=500").json["error"]
    assert api(client, token, "GET", f"/cases/{case_id}").json["severity"] == "P1"
    assert phone.replies() == []


@pytest.mark.clock
def test_reports_as_json_are_suppressed_and_scoped(client: FlaskClient, runtime: Runtime) -> None:
    from grievance.clock import utcnow
    from grievance.demo import create_demo
    from tests.support.period import demo_period, published

    now = utcnow()
    create_demo(runtime, now=now)
    period = demo_period(now)
    staff = token_for(runtime, "r@example.org", "handler")
    auth = {"Authorization": f"Bearer {staff}"}
    counts = client.get(f"/api/v1/reports/counts?by=category&{period.query}", headers=auth)
    assert counts.status_code == 200
    body = counts.get_json()
    # The API gives the published quarters, even to staff, unless they ask for live figures.
    assert body["view"] == "published"
    assert body["months"] == published(period, now.date()).months
    assert body["pending"] is not None  # this quarter is not published yet
    shown = [cell for row in body["rows"] for cell in (*row["cells"], row["total"])]
    assert "<10" in shown
    assert all(v in ("<10", "–", "0") or int(v) >= 10 for v in shown)
    live = client.get(f"/api/v1/reports/counts?by=category&view=live&{period.query}", headers=auth)
    assert live.get_json()["months"] == period.months
    handling = client.get(f"/api/v1/reports/handling?{period.query}", headers=auth).get_json()
    quarters = [p["period"] for p in handling["periods"]]
    assert all(re.fullmatch(r"\d{4}-Q[1-4]", q) for q in quarters), quarters
    labels = [m["label"] for m in handling["periods"][0]["measures"]]
    assert "Time to triage (to the first decision on the case)" in labels
    buyer = token_for(runtime, "brand@example.org", "buyer", "Some Brand")
    assert (
        client.get(
            "/api/v1/reports/counts?view=live", headers={"Authorization": f"Bearer {buyer}"}
        ).status_code
        == 403
    )
    bad = client.get("/api/v1/reports/counts?by=nonsense", headers=auth)
    assert bad.status_code == 400
    supplier = token_for(runtime, "s@example.org", "supplier", "Sunrise")
    assert (
        client.get(
            "/api/v1/reports/counts", headers={"Authorization": f"Bearer {supplier}"}
        ).status_code
        == 404
    )
