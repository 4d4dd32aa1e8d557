"""Case handlers triage in the web queue: order, filters, search, pages; the case page with the
worker's words and the timeline; acknowledge, categorise, severity review, notes, messages,
referral to the supplier, out of scope. The worker hears about every stage in their language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import Case, Site, User
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.cases import make_cases, queue_ids, the_case
from tests.support.fake_twilio import FakeTwilio
from tests.support.intake import report
from tests.support.staff import PASSWORD, act, handler, token_of


def test_the_queue_puts_the_most_urgent_first_and_filters(app: Flask, runtime: Runtime) -> None:
    p3, p0, p1_late, p1_soon = make_cases(
        runtime,
        [
            ("P3", "Blue Farm", 100),
            ("P0", "Sunrise Garments", 1),
            ("P1", "Sunrise Garments", 48),
            ("P1", "Hill Estate", -2),
        ],
    )
    client = handler(app, runtime)
    page = client.get("/cases").get_data(as_text=True)
    assert queue_ids(page) == [p0, p1_soon, p1_late, p3]
    assert "overdue" in page  # the P1 due two hours ago
    assert "4 cases: P0 1, P1 2, P3 1" in page
    assert queue_ids(client.get("/cases?severity=P1").get_data(as_text=True)) == [p1_soon, p1_late]
    assert queue_ids(client.get("/cases?overdue=1").get_data(as_text=True)) == [p1_soon]
    assert queue_ids(client.get("/cases?q=sunrise").get_data(as_text=True)) == [p0, p1_late]
    assert queue_ids(client.get(f"/cases?q=%23{p3}").get_data(as_text=True)) == [p3]
    # htmx asks for the table alone
    partial = client.get("/cases?severity=P0", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<form" not in partial
    assert queue_ids(partial) == [p0]


def test_pages_follow_each_other_without_gaps_or_repeats(app: Flask, runtime: Runtime) -> None:
    ids = make_cases(runtime, [("P2", f"Site {i}", i) for i in range(57)])
    client = handler(app, runtime)
    first = client.get("/cases").get_data(as_text=True)
    link = re.search(r'href="(/cases\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(link).get_data(as_text=True)
    assert queue_ids(first) + queue_ids(second) == ids
    assert not re.search(r'href="[^"]*after=', second)  # no link to a third page


def test_a_handler_triages_a_report_and_the_worker_hears_each_stage(
    app: Flask, runtime: Runtime, phone: Phone, fake_twilio: FakeTwilio
) -> None:
    code = report(phone)
    case = the_case(runtime)
    client = handler(app, runtime)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The agent took 3000 dollars for this job" in page  # the worker's own words
    assert code not in page  # the case code is the worker's alone
    assert code.replace(" ", "") not in page
    assert phone.number not in page
    assert phone.number[1:] not in page
    assert 'lang="en"' in page

    phone.replies()
    page = act(client, case.id, "acknowledge")
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    assert "acknowledged" in page

    page = act(client, case.id, "categorise", category="FL-FEE", indicators=["deception", "debt"])
    assert the_case(runtime).severity == "P1"
    assert the_case(runtime).status == "in_triage"

    page = act(client, case.id, "message", canned="handler.ask_more")
    assert phone.replies() == [
        "Thank you for your report. Can you tell us more about what happened? Reply to this message."
    ]
    act(client, case.id, "message", canned="", text="We will call the agency this week.")
    assert phone.replies() == ["We will call the agency this week."]

    act(client, case.id, "notes", text="Agency licence checked: expired.")
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise Garments Sdn Bhd", "supplier")
        site = Site(supplier_id=supplier.id, name="Penang plant 2", country="MY")
        session.add(site)
        session.commit()
        supplier_id, site_id = supplier.id, site.id
    page = act(client, case.id, "supplier", supplier=supplier_id, site=site_id, summary="short")
    assert "write a summary for the supplier" in page
    page = act(
        client,
        case.id,
        "supplier",
        supplier=supplier_id,
        site=site_id,
        summary="A worker reports paying recruitment fees to an agency in the home country.",
    )
    done = the_case(runtime)
    assert done.status == "with_supplier"
    assert done.due_at is not None
    assert done.due_at - utcnow() > timedelta(days=6)
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    assert "Agency licence checked: expired." in page  # the note, in the timeline
    assert "Referred to Sunrise Garments Sdn Bhd, site Penang plant 2" in page  # in words


def test_lowering_a_p1_needs_a_second_reviewer(app: Flask, runtime: Runtime, phone: Phone) -> None:
    report(phone)  # FL-FEE: P1
    case = the_case(runtime)
    first = handler(app, runtime, "first@example.org")
    second = handler(app, runtime, "second@example.org")
    page = act(first, case.id, "severity", severity="P3", reason="the fee was refunded already")
    assert the_case(runtime).severity == "P1"
    assert "Severity review waiting" in page
    page = act(first, case.id, "severity-review", decision="approve")
    assert "a second person must review this" in page
    assert the_case(runtime).severity == "P1"
    act(second, case.id, "severity-review", decision="approve")
    assert the_case(runtime).severity == "P3"


def test_out_of_scope_needs_a_reason_and_tells_the_worker(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    report(phone)
    case = the_case(runtime)
    client = handler(app, runtime)
    assert "give the reason" in act(client, case.id, "out-of-scope", reason="no")
    phone.replies()
    act(client, case.id, "out-of-scope", reason="A question about a visa; referred to the embassy.")
    assert the_case(runtime).status == "received"  # a P1 report waits for a second person
    assert phone.replies() == []
    act(handler(app, runtime, "second@example.org"), case.id, "close-review", decision="approve")
    assert the_case(runtime).status == "out_of_scope"
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]
    assert "closed: we cannot handle this" in phone.send("STATUS")[0]


def test_attachments_are_downloads_for_handlers_only(
    app: Flask, runtime: Runtime, phone: Phone, fake_twilio: FakeTwilio
) -> None:
    url = fake_twilio.add_media("p1", b"<html><script>alert(1)</script>", "image/jpeg")
    phone.send("hello I need help")
    phone.send("1")
    phone.send("2")
    phone.send("Sunrise Garments, Penang")
    phone.send("photo", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    phone.send("2")
    phone.send("1")
    phone.send("2")  # news, content-free
    case = the_case(runtime)
    client = handler(app, runtime)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    link = re.search(r'href="(/cases/\d+/attachments/\d+)"', page).group(1)
    response = client.get(link)
    assert response.data == b"<html><script>alert(1)</script>"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/octet-stream"
    with runtime.sessions() as session:
        accounts.create_organisation(session, "Sunrise", "supplier")
        accounts.create_user(
            session, "s@example.org", "supplier", PASSWORD, "Sunrise", must_change_password=False
        )
        session.commit()
    supplier = app.test_client()
    supplier.environ_base["wsgi.url_scheme"] = "https"
    supplier.post(
        "/login",
        data={
            "email": "s@example.org",
            "password": PASSWORD,
            "csrf_token": token_of(supplier, "/login"),
        },
    )
    assert supplier.get(link).status_code == 404
    assert supplier.get(f"/cases/{case.id}").status_code == 404


def test_canned_replies_go_in_the_workers_language(
    app: Flask, runtime: Runtime, phone: Phone, fake_twilio: FakeTwilio
) -> None:
    report(phone)
    phone.send("LANGUAGE")
    phone.send("2")  # नेपाली in the menu of en, ne, my
    case = the_case(runtime)
    client = handler(app, runtime)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    nepali = runtime.catalogs["ne"].messages["handler.ask_more"].sms
    assert nepali in page  # the handler sees what will be sent
    phone.replies()
    act(client, case.id, "message", canned="handler.ask_more")
    assert phone.replies() == [nepali]


def test_a_number_the_worker_typed_is_hidden_on_the_case_page(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    phone.send("hello I need help")
    phone.send("1")
    phone.send("2")
    phone.send("Sunrise Garments, Penang")
    phone.send("The agent took my passport. Call me on +977 984 131 5926 after 6pm")
    phone.send("2")
    phone.send("1")
    phone.send("2")  # news, content-free
    page = handler(app, runtime).get(f"/cases/{the_case(runtime).id}").get_data(as_text=True)
    assert "The agent took my passport. Call me on [phone number hidden] after 6pm" in page
    assert "984 131 5926" not in page


def test_a_number_typed_as_the_workplace_is_hidden_in_the_queue_and_the_api(
    app: Flask, runtime: Runtime
) -> None:
    (case_id,) = make_cases(runtime, [("P1", "Plant 2, boss +60 12 345 6789", 5)])
    client = handler(app, runtime)
    for path in ("/cases", f"/cases/{case_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "Plant 2, boss [phone number hidden]" in page
        assert "345 6789" not in page
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == "h@example.org")).one()
        token = accounts.create_token(session, user)
        session.commit()
    answer = client.get(f"/api/v1/cases/{case_id}", headers={"Authorization": f"Bearer {token}"})
    assert answer.json["workplace"] == "Plant 2, boss [phone number hidden]"


def status_of(runtime: Runtime, case_id: int) -> str:
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


@pytest.mark.parametrize(
    ("action", "form", "closed_as"),
    [
        ("out-of-scope", {"reason": "Not about work: a family dispute at home."}, "out_of_scope"),
        (
            "close",
            {"outcome": "not_resolved", "reason": "The supplier left the programme."},
            "closed",
        ),
    ],
)
def test_one_handler_alone_cannot_make_a_p0_case_disappear(
    app: Flask, runtime: Runtime, action: str, form: dict[str, str], closed_as: str
) -> None:
    p0, p2 = make_cases(runtime, [("P0", "Al Khaleej", 5), ("P2", "Al Khaleej", 5)])
    first = handler(app, runtime, "first@example.org")
    second = handler(app, runtime, "second@example.org")
    for case_id, category in ((p0, "FL-MOV"), (p2, "HRS")):  # the P0 stays P0, HRS is P2
        act(first, case_id, "acknowledge")
        act(first, case_id, "categorise", category=category, indicators=[])
    page = act(first, p0, action, **form)
    assert status_of(runtime, p0) == "in_triage"  # still open: it waits
    assert "Closing waits for a second reviewer" in page
    assert "Not closed yet: a second handler must approve it" in page  # says which happened
    # The one who asked cannot approve it.
    act(first, p0, "close-review", decision="approve")
    assert status_of(runtime, p0) == "in_triage"
    page = act(second, p0, "close-review", decision="approve")
    assert status_of(runtime, p0) == closed_as
    # A P2 case closes at once, as before.
    act(first, p2, action, **form)
    assert status_of(runtime, p2) == closed_as


def test_an_approval_that_comes_after_the_case_closed_another_way_changes_nothing(
    app: Flask, runtime: Runtime
) -> None:
    from grievance.services import cases as case_service

    (p0,) = make_cases(runtime, [("P0", "Al Khaleej", 5)])
    first = handler(app, runtime, "first@example.org")
    second = handler(app, runtime, "second@example.org")
    act(first, p0, "acknowledge")
    act(first, p0, "categorise", category="FL-MOV", indicators=[])
    act(first, p0, "out-of-scope", reason="Not about work: a family dispute at home.")
    case_service.update_status(runtime, p0, "withdrawn", "worker")  # meanwhile
    page = act(second, p0, "close-review", decision="approve")
    assert status_of(runtime, p0) == "withdrawn"
    assert "reopen it first" in page


def test_a_move_the_lifecycle_forbids_changes_nothing(app: Flask, runtime: Runtime) -> None:
    from grievance.models import CaseEvent
    from grievance.models.cases import StatusError
    from grievance.services import cases as case_service

    (case_id,) = make_cases(runtime, [("P2", "Harbour Fish", 5)])
    with pytest.raises(StatusError, match="from received to closed"):
        case_service.update_status(runtime, case_id, "closed", "handler:1")
    with runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert (case.status, case.closed_at) == ("received", None)
        assert session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).all() == []
