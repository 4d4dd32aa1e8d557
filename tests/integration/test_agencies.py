"""Agencies traced across cases: handlers link what workers wrote to one agency record, merge
two spellings of one agency, and see it across suppliers; three fee cases raise an alert;
a supplier sees the agency on its own cases only; retention erases the worker's words."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from grievance.clock import utcnow
from grievance.models import Agency, AgencyAlert, Case, CaseRecruitment
from grievance.runtime import Runtime
from grievance.services import recruitment, retention
from grievance.services.prompts import send_due_prompts
from tests.conftest import Phone
from tests.support.cases import close_case, newest_case
from tests.support.intake import fees_report
from tests.support.retention import age
from tests.support.staff import act, handler, sign_in
from tests.support.suppliers import setup


def test_three_fee_cases_at_two_suppliers_are_one_agency_and_raise_an_alert(
    app: Flask, runtime: Runtime
) -> None:
    ids = setup(runtime)  # FL-FEE cases: one at supplier A, one at B, one not referred yet
    client = handler(app, runtime, "agencies@example.org")
    page = act(client, ids["a"], "agency", agency="Everest Manpower", country="np")
    assert "Linked to the recruitment agency." in page
    assert 'id="linked-agency"><a href="/agencies#agency-' in page
    # The second handler types the name differently: the list offers it, the case joins it.
    act(client, ids["b"], "agency", agency="  everest   manpower ", fee_amount="150,000",
        fee_currency="npr")  # fmt: skip
    # The third, a fee case not referred yet, is typed as a new agency, then merged.
    act(client, ids["a_unreferred"], "categorise", category="FL-FEE")
    act(client, ids["a_unreferred"], "agency", agency="Everest Man Power Pvt")
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(Agency.id))) == 2
        everest, typo = session.scalars(select(Agency).order_by(Agency.id)).all()
        b = session.scalars(
            select(CaseRecruitment).where(CaseRecruitment.case_id == ids["b"])
        ).one()
        assert (b.fee_amount, b.fee_currency) == (150000, "NPR")
    assert recruitment.raise_agency_alerts(runtime) == []  # two cases only, so far

    listing = client.get("/agencies").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', listing).group(1)  # type: ignore[union-attr]
    merged = client.post(
        "/agencies/merge", data={"csrf_token": token, "source": typo.id, "target": everest.id}
    )
    assert merged.status_code == 303
    listing = client.get("/agencies").get_data(as_text=True)
    row = re.search(rf'<tr id="agency-{everest.id}">(.*?)</tr>', listing, re.S).group(1)  # type: ignore[union-attr]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[:5] == ["Everest Manpower", "NP", "3", "3", "2"]  # 3 fee cases, 2 suppliers
    assert "150,000 NPR" in cells[5]
    assert f'id="agency-{typo.id}"' not in listing  # merged away

    (alert,) = recruitment.raise_agency_alerts(runtime)
    assert (alert.cases, alert.suppliers) == (3, 2)
    assert recruitment.raise_agency_alerts(runtime) == []  # one alert a month, not one a sweep
    queue = client.get("/cases").get_data(as_text=True)
    assert "Everest Manpower: 3 fee or debt cases</a> at 2 suppliers" in queue
    # Not every case is a pattern: an old alert lapses from the queue after 30 days.
    later = utcnow() + timedelta(days=31)
    with runtime.sessions() as session:
        assert recruitment.active_agency_alerts(session, later) == []
        assert session.scalar(select(func.count(AgencyAlert.id))) == 1


def test_a_supplier_sees_the_agency_on_its_own_cases_only(app: Flask, runtime: Runtime) -> None:
    ids = setup(runtime)
    client = handler(app, runtime, "agencies@example.org")
    act(client, ids["a"], "agency", agency="Everest Manpower")
    act(client, ids["b"], "agency", agency="Golden Link Recruiters")
    a = sign_in(app, "a@example.org")
    page = a.get(f"/supplier/cases/{ids['a']}").get_data(as_text=True)
    assert "Everest Manpower" in page
    assert "Golden Link" not in page
    assert a.get(f"/supplier/cases/{ids['b']}").status_code == 404
    assert "Golden Link" not in a.get("/supplier/cases").get_data(as_text=True)
    assert a.get("/agencies").status_code == 404  # the list across suppliers is for staff


def test_a_refused_link_says_why_and_changes_nothing(app: Flask, runtime: Runtime) -> None:
    ids = setup(runtime)
    client = handler(app, runtime, "agencies@example.org")
    assert "name the agency" in act(client, ids["a"], "agency", agency=" ")
    assert "two-letter code" in act(client, ids["a"], "agency", agency="Everest", country="Nepal")
    assert "the fee is a number" in act(
        client, ids["a"], "agency", agency="Everest", fee_amount="lots"
    )
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(Agency.id))) == 0
        assert session.scalar(select(func.count(CaseRecruitment.id))) == 0


def test_retention_erases_what_the_worker_wrote_but_keeps_the_agency_link(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone)
    case = newest_case(runtime)
    send_due_prompts(runtime, utcnow() + recruitment.DETAILS_DELAY + timedelta(seconds=1))
    phone.send("1")
    phone.send("Everest Manpower")
    phone.send("Nepal")
    phone.send("200000 rupees")
    client = handler(app, runtime, "agencies@example.org")
    page = act(client, case.id, "agency", agency="Everest Manpower")
    assert '<q lang="en" dir="ltr">200000 rupees</q>' in page
    close_case(runtime, case.id)
    age(runtime, closed_days=181, quiet_days=181)
    assert retention.run(runtime).cases == 1
    with runtime.sessions() as session:
        row = session.scalars(
            select(CaseRecruitment).where(CaseRecruitment.case_id == case.id)
        ).one()
        assert row.words_encrypted is None
        # The programme's own record stays: the agency, the country, the amount.
        assert (row.country, row.fee_amount, row.fee_currency) == ("NP", 200000, "NPR")
        assert session.get(Agency, row.agency_id).name == "Everest Manpower"  # type: ignore[union-attr]
        assert session.get(Case, case.id).purged_at is not None  # type: ignore[union-attr]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "erased by retention" in page
    assert "200000 rupees" not in page
