"""Duplicate cases, through signed webhooks and the handlers' pages, on SQLite and PostgreSQL:
the same worker's similar case within 30 days is suggested (not another worker's, not one
opened 31 days apart), handlers link and unlink cases, a merge keeps both histories and the
worker's old code still answers STATUS, and suppliers and buyers never see any of it."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import (
    INBOUND,
    OUTBOUND,
    AuditEvent,
    Case,
    CaseLink,
    CaseMerge,
    Message,
    User,
)
from grievance.models.accounts import buyer_suppliers
from grievance.reports.outcomes import outcome_measures
from grievance.runtime import Runtime
from grievance.services import triage
from tests.conftest import Phone
from tests.support.accounts import browser, make_user
from tests.support.api import api, token_for
from tests.support.intake import CODE, report
from tests.support.staff import act, handler, sign_in, token_of


def second_report(phone: Phone) -> str:
    """The same worker reports again (fees, not in danger, no news); the new code."""
    phone.send("MENU")
    assert "What is the problem about" in phone.send("1")[0]
    assert "Where do you work" in phone.send("2")[0]
    assert "What happened" in phone.send("Sunrise Garments, Penang")[0]
    assert "danger" in phone.send("They took my passport and the fees again")[0]
    assert "news" in phone.send("2")[0]
    match = CODE.search(" ".join(phone.send("2")))
    assert match
    return match.group(1)


def case_ids(runtime: Runtime) -> list[int]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Case.id).order_by(Case.id)))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def suggested(page: str) -> list[int]:
    return [int(x) for x in re.findall(r"Possible duplicate of case #(\d+)", text_of(page))]


def marked_in_queue(page: str) -> list[int]:
    """The queue rows that carry the "possible duplicate" marker."""
    return [
        int(case_id)
        for case_id, row in re.findall(r'<a id="case-link-(\d+)"(.*?)</td>', page, re.S)
        if "possible duplicate" in row
    ]


def test_the_same_workers_similar_case_within_30_days_is_suggested_and_no_other(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    second_report(phone)
    stranger = Phone(phone.client, phone.fake, "+9779800000011")
    report(stranger)  # the same problem, from another worker
    first, second, other = case_ids(runtime)
    staff = handler(app, runtime)
    assert suggested(staff.get(f"/cases/{second}").get_data(as_text=True)) == [first]
    page = staff.get(f"/cases/{first}").get_data(as_text=True)
    assert suggested(page) == [second]
    assert suggested(staff.get(f"/cases/{other}").get_data(as_text=True)) == []
    assert sorted(marked_in_queue(staff.get("/cases").get_data(as_text=True))) == [first, second]
    assert phone.number not in page

    # Opened 31 days apart: not suggested, before or after.
    with runtime.sessions() as session:
        later = session.scalar(select(Case.created_at).where(Case.id == second))
        assert later is not None
        session.execute(
            update(Case).where(Case.id == first).values(created_at=later - timedelta(days=31))
        )
        session.commit()
    assert suggested(staff.get(f"/cases/{second}").get_data(as_text=True)) == []
    assert suggested(staff.get(f"/cases/{first}").get_data(as_text=True)) == []
    assert marked_in_queue(staff.get("/cases").get_data(as_text=True)) == []


def test_handlers_link_and_unlink_cases_from_either_page_and_each_step_is_audited(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    second_report(phone)
    first, second = case_ids(runtime)
    staff = handler(app, runtime)
    page = act(staff, second, "links", other=first, kind="duplicate")
    assert "Cases linked; both pages show the link." in page
    assert f"Linked as a duplicate: case #{first}" in text_of(page)
    assert suggested(page) == []  # decided: no longer suggested
    other_page = staff.get(f"/cases/{first}").get_data(as_text=True)
    assert f"Linked as a duplicate: case #{second}" in text_of(other_page)
    assert f"Linked to case #{second} as a duplicate" in text_of(other_page)  # the timeline
    refused = act(staff, first, "links", other=second, kind="duplicate")
    assert "already linked" in refused

    page = act(staff, first, f"links/{second}/delete")
    assert "Link removed." in page
    assert "Linked as a duplicate" not in text_of(page)
    assert f"The link to case #{second} was removed" in text_of(page)
    assert "Linked as a duplicate" not in text_of(
        staff.get(f"/cases/{second}").get_data(as_text=True)
    )
    assert suggested(page) == [second]  # the question is open again
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(CaseLink.id))) == 0
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.case_id)
            .where(AuditEvent.action.in_(("case_linked", "case_unlinked")))
            .order_by(AuditEvent.id)
        ).all()
    assert sorted(audited) == sorted(
        [
            ("case_linked", second),
            ("case_linked", first),
            ("case_unlinked", first),
            ("case_unlinked", second),
        ]
    )


def test_a_merge_keeps_both_histories_and_the_old_code_answers_with_the_primary(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    code = second_report(phone)
    phone.send("and the agent shouted at me today")  # lands on the second case, unread
    first, second = case_ids(runtime)
    with runtime.sessions() as session:
        words = session.scalars(
            select(Message.id).where(Message.case_id == second, Message.direction == INBOUND)
        ).all()
        sent_before = session.scalar(
            select(func.count(Message.id)).where(Message.direction == OUTBOUND)
        )
    one = handler(app, runtime, "one@example.org")
    two = handler(app, runtime, "two@example.org")

    # Both are P1 (fees): merging closes the duplicate, so a second person decides.
    page = act(one, second, "merge", into=first)
    assert "Not merged yet: a second handler must approve it" in page
    assert "Merging waits for a second reviewer" in page
    refused = act(one, second, "close-review", decision="approve")
    assert "a second person must review this" in refused
    page = act(two, second, "close-review", decision="approve")
    assert "Review recorded." in page
    assert f"Merged into case #{first}" in text_of(page)

    with runtime.sessions() as session:
        duplicate = session.get(Case, second)
        primary = session.get(Case, first)
        assert duplicate is not None
        assert primary is not None
        assert (duplicate.status, duplicate.outcome, duplicate.due_at) == ("closed", "merged", None)
        assert duplicate.close_reason.startswith(f"Merged into case #{first}")  # type: ignore[union-attr]
        assert primary.status == "received"
        merge = session.get(CaseMerge, second)
        assert merge is not None
        assert merge.primary_id == first
        # Nothing moved and nothing was deleted.
        assert session.scalars(
            select(Message.id).where(Message.case_id == second, Message.direction == INBOUND)
        ).all() == list(words)
        # The worker was not sent anything about the merge.
        assert (
            session.scalar(select(func.count(Message.id)).where(Message.direction == OUTBOUND))
            == sent_before
        )
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.case_id).where(
                AuditEvent.action.in_(("merge_requested", "merged_into", "merged_from"))
            )
        ).all()
    assert sorted(audited) == sorted(
        [("merge_requested", second), ("merged_into", second), ("merged_from", first)]
    )

    # The report figures count the worker's problem once.
    with runtime.sessions() as session:
        today = utcnow().date()
        (received, *_) = outcome_measures(session, today, today, 1)
    assert (received.label, received.n) == ("Cases received", 1)

    # The API's view of the merged case says how it ended.
    token = token_for(runtime, "api@example.org", "handler")
    answer = api(phone.client, token, "GET", f"/cases/{second}/remedy")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["status"], answer.json["outcome"]) == ("closed", "merged")

    primary_page = text_of(one.get(f"/cases/{first}").get_data(as_text=True))
    assert f"On case #{second} (merged): Worker and the agent shouted at me today" in primary_page
    assert f"Case #{second} was merged into this case" in primary_page
    assert f"Merged into this case: #{second}" in primary_page
    assert "Possible duplicate" not in primary_page

    # The worker's code for the duplicate still works: the primary's stage, their report's day.
    (answer, *_) = phone.send(f"STATUS {code}")
    assert "received. A case handler will look at it soon." in answer
    # What the worker writes now goes to the open primary.
    phone.send("they paid back half")
    with runtime.sessions() as session:
        latest = session.scalars(
            select(Message).where(Message.direction == INBOUND).order_by(Message.id.desc())
        ).first()
        assert latest is not None
        assert latest.case_id == first


def test_a_merge_is_refused_with_the_reason_when_the_rules_do_not_allow_it(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    second_report(phone)
    stranger = Phone(phone.client, phone.fake, "+9779800000012")
    report(stranger)
    first, second, other = case_ids(runtime)
    staff = handler(app, runtime)
    page = act(staff, other, "merge", into=first)
    assert "only the same worker&#39;s cases can be merged" in page
    page = act(staff, second, "merge", into=second)
    assert "cannot be linked to or merged into itself" in page
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        user = session.scalars(select(User).limit(1)).one()
        case = session.get(Case, second)
        assert case is not None
        triage.categorise(session, runtime, case, user, "FL-FEE", [])
        triage.refer_to_supplier(
            session, runtime, case, user, supplier.id, None, "Fees deducted from wages, reported."
        )
        session.commit()
    page = act(staff, second, "merge", into=first)
    assert "is referred to a supplier" in page
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CaseMerge)) == 0
        assert session.get(Case, second).status == "with_supplier"  # type: ignore[union-attr]


def test_suppliers_and_buyers_never_see_duplicates_and_cannot_reach_the_new_forms(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    second_report(phone)
    first, second = case_ids(runtime)
    staff = handler(app, runtime)
    act(staff, first, "links", other=second, kind="related")
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        buyer = accounts.create_organisation(session, "Brand", "buyer")
        session.execute(buyer_suppliers.insert().values(buyer_id=buyer.id, supplier_id=supplier.id))
        user = session.scalars(select(User).limit(1)).one()
        case = session.get(Case, first)
        assert case is not None
        triage.categorise(session, runtime, case, user, "FL-FEE", [])
        triage.refer_to_supplier(
            session, runtime, case, user, supplier.id, None, "Fees deducted from wages, reported."
        )
        session.commit()
    admin = handler(app, runtime, "admin@example.org", role="admin")
    for role, client in {"handler": staff, "admin": admin}.items():
        page = client.get(f"/cases/{first}").get_data(as_text=True)
        assert f"case #{second}" in text_of(page), role
    # Admins see cases, so they reach the new forms as handlers do.
    assert "Link removed." in act(admin, second, f"links/{first}/delete")
    assert "Cases linked" in act(admin, second, "links", other=first, kind="related")
    assert "Not merged yet" in act(admin, second, "merge", into=first)  # P1: two people
    others = {}
    for role, org in (("supplier", "Sunrise Garments"), ("buyer", "Brand")):
        make_user(runtime, f"{role}@example.org", role, org)
        others[role] = sign_in(app, f"{role}@example.org")
    forms = (
        f"/cases/{first}/links",
        f"/cases/{first}/links/{second}/delete",
        f"/cases/{second}/merge",
    )
    for role, client in others.items():
        listing = client.get("/supplier/cases").get_data(as_text=True)
        assert f"/supplier/cases/{first}" in listing, role
        page = client.get(f"/supplier/cases/{first}").get_data(as_text=True)
        for word in ("uplicate", "elated", "erged", f"#{second}", "Linked"):
            assert word not in page, (role, word)
        token = token_of(client, "/account/password")
        for form in forms:
            data = {"csrf_token": token, "other": str(second), "into": str(first)}
            assert client.post(form, data=data).status_code == 404, (role, form)
    for form in forms:
        assert browser(app).post(form).status_code in (302, 400), form  # no sign-in
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(CaseLink.id))) == 1  # the handler's link stays
        assert session.scalar(select(func.count()).select_from(CaseMerge)) == 0
