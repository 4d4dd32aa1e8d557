"""The remediation loop through the JSON API: a supplier token plans and remedies, a handler
token reviews, verifies and closes, the worker confirms through signed webhooks."""

from __future__ import annotations

import io
from datetime import timedelta

from flask.testing import FlaskClient

from grievance.clock import utcnow
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.api import api, token_for
from tests.support.cases import the_case
from tests.support.intake import report
from tests.support.remediation import NOTICE, PDF, SUMMARY, orgs


def upload(client: FlaskClient, token: str, path: str, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1{path}",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_the_loop_through_the_api(client: FlaskClient, runtime: Runtime, phone: Phone) -> None:
    report(phone)
    case_id = the_case(runtime).id
    ids = orgs(runtime)
    staff = token_for(runtime, "h@example.org", "handler")
    second = token_for(runtime, "h2@example.org", "handler")
    supplier = token_for(runtime, "a2@example.org", "supplier", "Sunrise Garments")
    other = token_for(runtime, "b2@example.org", "supplier", "Other Supplier")

    api(client, staff, "POST", f"/cases/{case_id}/acknowledge")
    api(client, staff, "POST", f"/cases/{case_id}/categorise", {"category": "FL-FEE"})
    referred = api(
        client,
        staff,
        "POST",
        f"/cases/{case_id}/supplier",
        {"supplier_id": ids["a"], "site_id": ids["site"], "summary": SUMMARY},
    )
    assert referred.json["status"] == "with_supplier"
    phone.replies()

    # Tokens are kept to their side: a handler's cannot use the portal, a supplier's not the queue.
    assert api(client, staff, "GET", "/supplier/cases").status_code == 404
    assert api(client, supplier, "GET", "/cases").status_code == 404
    listing = api(client, supplier, "GET", "/supplier/cases").json["cases"]
    assert [c["id"] for c in listing] == [case_id]
    assert listing[0]["summary"] == SUMMARY
    assert "language" not in listing[0]
    assert api(client, other, "GET", f"/supplier/cases/{case_id}").status_code == 404

    started = api(client, supplier, "POST", f"/supplier/cases/{case_id}/plan", {}).json
    plan = started["plan"]
    assert plan["status"] == "draft"
    assert plan["playbook"] == "FL-FEE"
    assert len(plan["steps"]) >= 4
    assert api(client, other, "POST", f"/supplier/cases/{case_id}/plan/submit").status_code == 404
    api(client, supplier, "POST", f"/supplier/cases/{case_id}/plan/submit")
    returned = api(
        client,
        staff,
        "POST",
        f"/cases/{case_id}/plan/review",
        {"accept": False, "comment": "Add the agency contract change as a step."},
    ).json
    assert returned["plan"]["status"] == "returned"
    assert returned["plan"]["comments"][-1]["text"] == "Add the agency contract change as a step."
    due = (utcnow().date() + timedelta(days=20)).isoformat()
    step = {
        "description": "Amend the agency contract to ban fees charged to workers.",
        "owner": "Compliance manager",
        "due_on": due,
    }
    bad = api(
        client, supplier, "POST", f"/supplier/cases/{case_id}/plan/steps", step | {"due_on": "soon"}
    )
    assert bad.status_code == 400
    assert bad.json["error"] == "due_on: a date like 2026-12-31"
    added = api(client, supplier, "POST", f"/supplier/cases/{case_id}/plan/steps", step).json
    step_ids = [s["id"] for s in added["plan"]["steps"]]
    api(client, supplier, "POST", f"/supplier/cases/{case_id}/plan/submit")
    accepted = api(client, staff, "POST", f"/cases/{case_id}/plan/review", {"accept": True}).json
    assert accepted["status"] == "remediation_in_progress"
    assert phone.replies() == [NOTICE]

    for step_id in step_ids:
        assert (
            upload(
                client,
                other,
                f"/supplier/cases/{case_id}/plan/steps/{step_id}/evidence",
                PDF,
                "x.pdf",
            ).status_code
            == 404
        )
        response = upload(
            client,
            supplier,
            f"/supplier/cases/{case_id}/plan/steps/{step_id}/evidence",
            PDF,
            "bank.pdf",
        )
        assert response.status_code == 200, response.json
        api(
            client,
            supplier,
            "POST",
            f"/supplier/cases/{case_id}/plan/steps/{step_id}/status",
            {"status": "done"},
        )
    done = api(client, supplier, "POST", f"/supplier/cases/{case_id}/plan/complete").json
    assert done["plan"]["status"] == "completed"
    evidence_id = done["plan"]["steps"][0]["evidence"][0]["id"]
    download = client.get(
        f"/api/v1/cases/{case_id}/evidence/{evidence_id}",
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    verified = api(client, staff, "POST", f"/cases/{case_id}/plan/verify", {"accept": True}).json
    assert verified["status"] == "awaiting_worker"
    assert "Is it solved for you?" in phone.replies()[0]
    phone.send("3")  # talk to a person: back to the handler
    remedy = api(client, staff, "GET", f"/cases/{case_id}/remedy").json
    assert (remedy["status"], remedy["worker_answer"]) == ("in_triage", "person")

    closing = {
        "outcome": "resolved",
        "remedy_types": ["restitution", "guarantee_of_non_repetition"],
        "reason": "Fees repaid in full; the agency contract bans fees.",
    }
    pending = api(client, staff, "POST", f"/cases/{case_id}/close", closing).json
    assert pending["close_pending_review"] is True
    assert pending["status"] == "in_triage"
    refused = api(client, staff, "POST", f"/cases/{case_id}/close-review", {"approve": True})
    assert refused.status_code == 409
    closed = api(client, second, "POST", f"/cases/{case_id}/close-review", {"approve": True}).json
    assert (closed["status"], closed["outcome"]) == ("closed", "resolved")
    assert closed["remedy_types"] == ["restitution", "guarantee_of_non_repetition"]
    assert "is now closed" in phone.replies()[0]
    phone.send("4")
    assert api(client, staff, "GET", f"/cases/{case_id}/remedy").json["satisfaction"] == 4
