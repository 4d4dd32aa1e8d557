"""The remediation loop through the web: the supplier plans and remedies, the handler reviews
and verifies, the worker (through signed webhooks and the Twilio-compatible server) confirms
or disputes, the case closes, and check-ins and appeals follow."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import (
    Case,
    CaseEvent,
    Evidence,
    Organisation,
    PlanComment,
    RemediationPlan,
    RemediationStep,
    WorkerPrompt,
)
from grievance.runtime import Runtime
from grievance.services.prompts import send_due_prompts
from tests.conftest import Phone
from tests.support.cases import the_case
from tests.support.intake import report
from tests.support.period import day_month
from tests.support.remediation import NOTICE, PDF, SUMMARY, orgs
from tests.support.staff import PASSWORD, act, handler, sign_in, token_of
from tests.support.timers import time_out

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def referred_case(app: Flask, runtime: Runtime, phone: Phone) -> tuple[int, FlaskClient]:
    """A worker's FL-FEE report, triaged and referred to supplier A."""
    report(phone)
    ids = orgs(runtime)
    case_id = the_case(runtime).id
    staff = handler(app, runtime)
    act(staff, case_id, "acknowledge")
    act(staff, case_id, "categorise", category="FL-FEE", indicators=[])
    act(staff, case_id, "supplier", supplier=ids["a"], site=ids["site"], summary=SUMMARY)
    assert the_case(runtime).status == "with_supplier"
    phone.replies()
    return case_id, staff


def post(client: FlaskClient, case_id: int, path: str, **form: Any) -> tuple[int, str]:
    """Post a supplier-portal form with the page's CSRF token; follow the redirect."""
    token = token_of(client, "/supplier/cases")
    response = client.post(
        f"/supplier/cases/{case_id}/{path}",
        data={"csrf_token": token, **form},
        follow_redirects=True,
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


def steps(runtime: Runtime, case_id: int) -> list[RemediationStep]:
    with runtime.sessions() as session:
        plan = session.scalars(
            select(RemediationPlan).where(
                RemediationPlan.case_id == case_id, RemediationPlan.archived_at.is_(None)
            )
        ).one()
        return list(
            session.scalars(
                select(RemediationStep)
                .where(RemediationStep.plan_id == plan.id)
                .order_by(RemediationStep.position)
            )
        )


def plan_status(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        return session.scalars(
            select(RemediationPlan.status).where(
                RemediationPlan.case_id == case_id, RemediationPlan.archived_at.is_(None)
            )
        ).one()


def remedy_done(app: Flask, runtime: Runtime, case_id: int, staff: FlaskClient) -> FlaskClient:
    """Supplier A plans from the playbook, the handler accepts, the supplier completes with evidence."""
    supplier = sign_in(app, "a@example.org")
    post(supplier, case_id, "plan", playbook="yes")
    post(supplier, case_id, "plan/submit")
    act(staff, case_id, "plan/review", decision="accept", comment="")
    for step in steps(runtime, case_id):
        post(supplier, case_id, f"plan/steps/{step.id}/evidence", file=(_io(PDF), "receipt.pdf"))
        post(supplier, case_id, f"plan/steps/{step.id}/status", status="done")
    post(supplier, case_id, "plan/complete")
    assert plan_status(runtime, case_id) == "completed"
    return supplier


def _io(data: bytes):  # type: ignore[no-untyped-def]
    import io

    return io.BytesIO(data)


def test_the_whole_loop_from_plan_to_closing_with_the_worker_confirming(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    supplier = sign_in(app, "a@example.org")

    # The supplier starts from the FL-FEE playbook: suggested steps with due dates and evidence.
    status, page = post(supplier, case_id, "plan", playbook="yes")
    assert status == 200
    assert "repay" in page.lower()
    playbook_steps = steps(runtime, case_id)
    assert len(playbook_steps) >= 4
    assert all(s.due_on > utcnow().date() for s in playbook_steps)

    # Submitted, sent back once with what to change, revised, resubmitted and accepted.
    post(supplier, case_id, "plan/submit")
    assert plan_status(runtime, case_id) == "submitted"
    page = act(staff, case_id, "plan/review", decision="return", comment="")
    assert "what the supplier should change" in page
    assert plan_status(runtime, case_id) == "submitted"
    act(
        staff,
        case_id,
        "plan/review",
        decision="return",
        comment="Repay within 30 days, not 90; add the agency contract change.",
    )
    assert plan_status(runtime, case_id) == "returned"
    _, page = post(supplier, case_id, "plan")  # a second plan is refused
    assert "already has a plan" in page
    page = supplier.get(f"/supplier/cases/{case_id}").get_data(as_text=True)
    assert "Repay within 30 days, not 90" in page  # the handler's comment reaches the supplier
    due = (utcnow().date() + timedelta(days=20)).isoformat()
    post(
        supplier,
        case_id,
        "plan/steps",
        description="Amend the agency contract to ban all fees charged to workers.",
        owner="Compliance manager",
        due_on=due,
    )
    post(supplier, case_id, "plan/submit")
    assert phone.replies() == []  # plan reviews are between handler and supplier
    act(staff, case_id, "plan/review", decision="accept", comment="")
    assert plan_status(runtime, case_id) == "accepted"
    assert the_case(runtime).status == "remediation_in_progress"
    assert phone.replies() == [NOTICE]

    # Done needs evidence; evidence is checked, stored encrypted and served as a download.
    first = steps(runtime, case_id)[0]
    _, page = post(supplier, case_id, f"plan/steps/{first.id}/status", status="done")
    assert "attach evidence" in page
    _, page = post(
        supplier, case_id, f"plan/steps/{first.id}/evidence", file=(_io(b"MZ\x90\x00"), "x.pdf")
    )
    assert "not a real .pdf" in page
    _, page = post(
        supplier, case_id, f"plan/steps/{first.id}/evidence", file=(_io(b"MZ"), "tool.exe")
    )
    assert "files only" in page
    _, page = post(supplier, case_id, f"plan/steps/{first.id}/evidence", file=(_io(b""), ""))
    assert "no file was chosen" in page  # what a browser sends when nothing was picked
    for step in steps(runtime, case_id):
        post(supplier, case_id, f"plan/steps/{step.id}/evidence", file=(_io(PDF), "receipt.pdf"))
        post(supplier, case_id, f"plan/steps/{step.id}/status", status="done")
    with runtime.sessions() as session:
        stored = session.scalars(select(Evidence)).first()
        assert stored is not None
        assert PDF not in stored.data_encrypted
        evidence_id = stored.id
    download = staff.get(f"/cases/{case_id}/evidence/{evidence_id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download.mimetype == "application/octet-stream"
    post(supplier, case_id, "plan/complete")

    # The handler verifies; the worker is asked, in their language, and confirms.
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    assert the_case(runtime).status == "awaiting_worker"
    asked = phone.replies()
    assert len(asked) == 1
    assert "the company says the problem is fixed" in asked[0]
    assert "1 Solved" in asked[0]
    assert "2 Not solved" in asked[0]
    assert "3 Talk to a person" in asked[0]
    assert phone.send("1") == [
        "Thank you. We will close your report. If the problem comes back, send APPEAL."
    ]
    done = the_case(runtime)
    assert (done.status, done.worker_answer) == ("resolved", "confirmed")

    # Closing needs a remedy type and a reason; the worker gets the closing message and 1-5.
    page = act(staff, case_id, "close", outcome="resolved", reason="Fees repaid to all workers.")
    assert "at least one remedy type" in page
    act(
        staff,
        case_id,
        "close",
        outcome="resolved",
        remedy_types=["restitution", "guarantee_of_non_repetition"],
        reason="Fees repaid to all 41 workers; agency contract amended.",
    )
    closed = the_case(runtime)
    assert closed.status == "closed"
    assert closed.remedy_types == ["restitution", "guarantee_of_non_repetition"]
    closing = phone.replies()
    assert len(closing) == 1
    assert "is now closed" in closing[0]
    assert "APPEAL within 90 days" in closing[0]
    assert "How well did we handle your report?" in closing[0]
    assert "5 Very well" in closing[0]
    assert phone.send("5") == ["Thank you for your answer."]
    assert the_case(runtime).satisfaction == 5

    # 30 days on: the retaliation check-in; a "yes" opens a linked RET case at P1.
    with runtime.sessions() as session:
        session.execute(
            update(WorkerPrompt)
            .where(WorkerPrompt.kind == "checkin_30")
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
        session.commit()
    assert send_due_prompts(runtime) == 1
    checkin = phone.replies()
    assert "Has anyone treated you badly because of your report?" in checkin[0]
    assert "Reply 1 for yes or 2 for no" in checkin[0]  # numbered like every yes/no question
    opened = phone.send("1")
    assert "We opened a new report about this" in opened[0]
    assert re.search(r"\d{4} \d{4} \d{4}", opened[0])
    with runtime.sessions() as session:
        ret = session.scalars(select(Case).where(Case.linked_case_id == case_id)).one()
        assert (ret.category, ret.severity, ret.status) == ("RET", "P1", "received")
        assert ret.site_id is not None
        assert ret.supplier_id is None  # never handed to the supplier without a handler deciding

    # APPEAL reopens the closed case within the window.
    assert phone.send("APPEAL") == [
        f"Your report of {day_month(closed.created_at.date())} is open again. "
        "A case handler will look at it soon."
    ]
    reopened = the_case_by_id(runtime, case_id)
    assert (reopened.status, reopened.reopened) == ("in_triage", 1)


def the_case_by_id(runtime: Runtime, case_id: int) -> Case:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def test_a_dispute_goes_back_to_the_handler_and_closing_it_resolved_needs_a_second_reviewer(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    phone.replies()
    assert phone.send("2") == [
        "Thank you for telling us. A case handler will look at your report again."
    ]
    case = the_case_by_id(runtime, case_id)
    assert (case.status, case.worker_answer) == ("in_triage", "disputed")

    close = {
        "outcome": "resolved",
        "remedy_types": ["restitution"],
        "reason": "Supplier shows bank transfers for every worker.",
    }
    act(staff, case_id, "close", **close)
    assert the_case_by_id(runtime, case_id).status == "in_triage"  # waits for a second person
    assert the_case_by_id(runtime, case_id).pending_close is not None
    page = act(staff, case_id, "close-review", decision="approve")
    assert "a second person must review this" in page
    second = handler(app, runtime, "h2@example.org")
    act(second, case_id, "close-review", decision="approve")
    case = the_case_by_id(runtime, case_id)
    assert (case.status, case.outcome) == ("closed", "resolved")


def test_a_dispute_can_send_the_case_back_to_the_supplier(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    supplier = remedy_done(app, runtime, case_id, staff)
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    phone.replies()
    phone.send("2")
    act(staff, case_id, "plan/reopen", comment="The worker says two workers were not repaid.")
    assert the_case_by_id(runtime, case_id).status == "with_supplier"
    assert plan_status(runtime, case_id) == "returned"
    page = supplier.get(f"/supplier/cases/{case_id}").get_data(as_text=True)
    assert "two workers were not repaid" in page
    assert "Add a step" in page


def test_three_unanswered_asks_return_the_case_to_the_handler(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    assert phone.replies() == [NOTICE]  # remediation started
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    asks = phone.replies()
    for _ in range(3):
        time_out(runtime)
        asks += phone.replies()
    assert len(asks) == 3
    assert all("Is it solved for you?" in ask for ask in asks)
    case = the_case_by_id(runtime, case_id)
    assert (case.status, case.worker_answer) == ("in_triage", "no_answer")
    page = act(
        staff,
        case_id,
        "close",
        outcome="resolved",
        remedy_types=["restitution"],
        reason="Repayment evidenced by bank statements.",
    )
    assert "Closing waits for a second reviewer" in page


def test_a_worker_who_cannot_be_reached_is_not_messaged_and_the_timeline_says_so(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    phone.send("STOP")
    phone.replies()
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    assert phone.replies() == []
    case = the_case_by_id(runtime, case_id)
    assert (case.status, case.worker_answer) == ("in_triage", "unreached")
    page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "The worker could not be asked (opted out)" in page
    # STATUS still works for a worker who comes back.
    phone.send("START")
    assert "a case handler is looking into it" in phone.send("STATUS")[0]


def test_a_question_waits_while_the_worker_is_writing_a_report(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    phone.send("MENU")  # a new report, half written (words alone would go to the open case)
    phone.replies()
    act(staff, case_id, "plan/verify", decision="accept", comment="")
    assert phone.replies() == []  # not cut into the report
    with runtime.sessions() as session:
        prompt = session.scalars(select(WorkerPrompt).where(WorkerPrompt.kind == "confirm")).one()
        assert prompt.sent_at is None
        assert prompt.due_at > utcnow()


def test_supplier_b_can_touch_nothing_of_supplier_a(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    supplier_a = remedy_done(app, runtime, case_id, staff)
    post(supplier_a, case_id, "plan/comments", comment="All repaid, see receipts.")
    with runtime.sessions() as session:
        step_ids = [s.id for s in session.scalars(select(RemediationStep))]
        evidence_ids = [e.id for e in session.scalars(select(Evidence))]
        before = _snapshot(session)
    b = sign_in(app, "b@example.org")
    due = (utcnow().date() + timedelta(days=5)).isoformat()
    assert b.get(f"/supplier/cases/{case_id}").status_code == 404
    attempts = [
        ("plan", {"playbook": "yes"}),
        (
            "plan/steps",
            {"description": "A step from another supplier", "owner": "x", "due_on": due},
        ),
        ("plan/submit", {}),
        ("plan/complete", {}),
        ("plan/comments", {"comment": "hello"}),
    ]
    for step_id in step_ids:
        attempts += [
            (
                f"plan/steps/{step_id}",
                {"description": "changed by B!!", "owner": "B", "due_on": due},
            ),
            (f"plan/steps/{step_id}/remove", {}),
            (f"plan/steps/{step_id}/status", {"status": "planned"}),
            (f"plan/steps/{step_id}/evidence", {"file": (_io(PDF), "b.pdf")}),
        ]
    for path, form in attempts:
        status, _ = post(b, case_id, path, **form)
        assert status == 404, path
    for evidence_id in evidence_ids:
        assert b.get(f"/supplier/cases/{case_id}/evidence/{evidence_id}").status_code == 404
    # A's own ids under another case id are not found either.
    status, _ = post(supplier_a, case_id + 1000, f"plan/steps/{step_ids[0]}/status", status="done")
    assert status == 404
    with runtime.sessions() as session:
        assert _snapshot(session) == before


def _snapshot(session: Any) -> tuple[object, ...]:
    return (
        [(p.status, p.returns) for p in session.scalars(select(RemediationPlan))],
        [
            (s.id, s.description, s.owner, s.due_on, s.status)
            for s in session.scalars(select(RemediationStep))
        ],
        len(session.scalars(select(Evidence)).all()),
        len(session.scalars(select(PlanComment)).all()),
        len(session.scalars(select(CaseEvent)).all()),
    )


def test_evidence_size_is_limited(app: Flask, runtime: Runtime, phone: Phone) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    supplier = sign_in(app, "a@example.org")
    post(supplier, case_id, "plan", playbook="yes")
    post(supplier, case_id, "plan/submit")
    act(staff, case_id, "plan/review", decision="accept", comment="")
    step = steps(runtime, case_id)[0]
    big = PDF + b"0" * runtime.settings.evidence_max_bytes
    _, page = post(supplier, case_id, f"plan/steps/{step.id}/evidence", file=(_io(big), "big.pdf"))
    assert "at most 10 MB per file" in page
    with runtime.sessions() as session:
        assert session.scalars(select(Evidence)).all() == []


def test_buyers_read_the_plan_but_cannot_change_it(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    with runtime.sessions() as session:
        buyer = accounts.create_organisation(session, "Brand", "buyer")
        from grievance.models.accounts import buyer_suppliers

        supplier_id = session.get(Case, case_id).supplier_id
        session.execute(buyer_suppliers.insert().values(buyer_id=buyer.id, supplier_id=supplier_id))
        accounts.create_user(
            session, "buyer@example.org", "buyer", PASSWORD, buyer.name, must_change_password=False
        )
        session.commit()
    client = sign_in(app, "buyer@example.org")
    page = client.get(f"/supplier/cases/{case_id}").get_data(as_text=True)
    assert "Remediation plan" in page
    assert "receipt.pdf" in page
    assert "Add a step" not in page
    assert "Upload" not in page
    status, _ = post(client, case_id, "plan/comments", comment="buyer comment")
    assert status == 404


def test_appeal_after_the_window_is_refused_kindly(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    case_id = the_case(runtime).id
    with runtime.sessions() as session:
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(status="closed", closed_at=utcnow() - timedelta(days=91))
        )
        session.commit()
    phone.replies()
    assert phone.send("APPEAL") == [
        "Your report was closed more than 90 days ago, so it cannot be reopened. "
        "To make a new report, send MENU."
    ]
    assert the_case(runtime).status == "closed"


def test_staff_hear_by_email_with_only_the_case_id_and_a_link(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    mailer = runtime.mailer
    supplier = sign_in(app, "a@example.org")
    post(supplier, case_id, "plan", playbook="yes")
    mailer.sent.clear()  # type: ignore[attr-defined]
    post(supplier, case_id, "plan/submit")
    (to, subject, body) = mailer.sent[-1]  # type: ignore[attr-defined]
    assert to == ["h@example.org"]  # nobody is assigned: the handlers hear
    assert subject == f"Case #{case_id}: a remediation plan to review"
    assert (
        body
        == f"Case #{case_id}: a remediation plan to review.\n{runtime.settings.public_base_url}/cases/{case_id}\n"
    )
    act(staff, case_id, "plan/review", decision="return", comment="Repay within 30 days, not 90.")
    (to, subject, body) = mailer.sent[-1]  # type: ignore[attr-defined]
    assert to == ["a@example.org"]
    assert "Repay" not in body  # the comment stays behind the sign-in
    assert body.endswith(f"/supplier/cases/{case_id}\n")


def test_evidence_files_are_erased_with_the_workers_data_after_retention(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    from grievance.services import retention

    case_id, staff = referred_case(app, runtime, phone)
    remedy_done(app, runtime, case_id, staff)
    with runtime.sessions() as session:
        assert session.scalars(select(Evidence)).all() != []
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(status="closed", closed_at=utcnow() - timedelta(days=181))
        )
        session.commit()
    planned = len(steps(runtime, case_id))
    report = retention.run(runtime)
    assert report.evidence == planned
    with runtime.sessions() as session:
        assert session.scalars(select(Evidence)).all() == []
        assert len(session.scalars(select(RemediationStep)).all()) == planned
    assert plan_status(runtime, case_id) == "completed"  # the record of what was done stays


def test_a_worker_who_chose_full_news_reads_the_news_itself(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone, full_updates="1")
    case = the_case(runtime)
    assert case.full_updates
    staff = handler(app, runtime)
    phone.replies()
    act(staff, case.id, "acknowledge")
    (news,) = phone.replies()
    day = day_month(case.created_at.date())
    assert news.startswith(f"Your report of {day}: a case handler has it. Next step expected by ")


def test_stage_news_is_content_free_by_default_and_absent_when_declined(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    staff = handler(app, runtime)
    phone.replies()
    act(staff, the_case(runtime).id, "acknowledge")
    assert phone.replies() == [NOTICE]
    with runtime.sessions() as session:
        session.execute(update(Case).values(wants_updates=False))
        session.commit()
    page = act(staff, the_case(runtime).id, "categorise", category="WAGE", indicators=[])
    act(staff, the_case(runtime).id, "supplier", supplier=orgs(runtime)["a"], summary=SUMMARY)
    assert phone.replies() == []
    page = staff.get(f"/cases/{the_case(runtime).id}").get_data(as_text=True)
    assert "The worker was not told of this stage: they declined news" in page


def test_a_new_supplier_starts_fresh_and_never_sees_the_old_supplier_s_plan(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    case_id, staff = referred_case(app, runtime, phone)
    supplier_a = remedy_done(app, runtime, case_id, staff)
    post(supplier_a, case_id, "plan/comments", comment="Payroll files for March attached.")
    with runtime.sessions() as session:
        evidence_ids = [e.id for e in session.scalars(select(Evidence))]
        b_id = session.scalars(
            select(Organisation.id).where(Organisation.name == "Other Supplier")
        ).one()
    assert evidence_ids

    # The handler refers the case to supplier B instead.
    act(staff, case_id, "supplier", supplier=b_id, site="", summary=SUMMARY)
    b = sign_in(app, "b@example.org")
    page = b.get(f"/supplier/cases/{case_id}").get_data(as_text=True)
    assert SUMMARY in page
    assert "Payroll files for March" not in page  # A's comment
    assert "receipt.pdf" not in page  # A's evidence
    for evidence_id in evidence_ids:
        assert b.get(f"/supplier/cases/{case_id}/evidence/{evidence_id}").status_code == 404
    # B starts its own plan; A's steps are not in it.
    post(b, case_id, "plan", playbook="no")
    assert steps(runtime, case_id) == []
    assert sign_in(app, "a@example.org").get(f"/supplier/cases/{case_id}").status_code == 404

    # Staff still read A's archived plan, and download its evidence.
    staff_page = staff.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Earlier plans" in staff_page
    assert "Sunrise Garments, archived" in staff_page
    assert "The plan of Sunrise Garments was archived" in staff_page
    download = staff.get(f"/cases/{case_id}/evidence/{evidence_ids[0]}")
    assert download.status_code == 200
    assert download.data == PDF
