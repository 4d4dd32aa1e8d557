"""The effectiveness report (page and PDF), the admin case export with its progress (web and
CLI), and the corridor and triage figures of /reports."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import insert, select

from grievance.auth import accounts
from grievance.cli import main
from grievance.clock import utcnow
from grievance.demo import create_demo
from grievance.models import Case, Contact, Export, Organisation, Site
from grievance.models.accounts import buyer_suppliers
from grievance.runtime import Runtime
from grievance.services.exports import COLUMNS
from tests.conftest import environment
from tests.support.cases import case_row
from tests.support.demo import first_supplier
from tests.support.period import (
    Period,
    cases_in,
    demo_period,
    long_period,
    published,
)
from tests.support.staff import PASSWORD, act, handler, sign_in, token_of

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock


def quarter_months(period: Period) -> Period:
    """The period widened to whole quarters, as the effectiveness report reads it."""
    first_month = (int(period.first[5:]) - 1) // 3 * 3 + 1
    last_month = (int(period.last[5:]) - 1) // 3 * 3 + 3
    return Period(f"{period.first[:4]}-{first_month:02d}", f"{period.last[:4]}-{last_month:02d}")


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_effectiveness_report_answers_the_framework_without_identifying_anyone(
    app: Flask, runtime: Runtime
) -> None:
    now = utcnow()
    # Enough cases that a published quarter has categories of 10 or more (the examples'
    # rule) whatever the date: the demo's 200 are fewer in its oldest months.
    create_demo(runtime, now=now, cases=500)
    period = long_period(now)
    staff = handler(app, runtime)
    page = staff.get(f"/reports/effectiveness?{period.query}").get_data(as_text=True)
    text = text_of(page)
    for heading in (
        "1. How workers can raise a complaint (C6.2)",
        "2. What was raised",
        "3. How cases were handled (C6.4)",
        "4. Outcomes and remedy",
        "5. Trust and protection from retaliation (C6.3)",
        "6. Patterns and lessons (C6.5)",
        "7. Review (LkSG §8(5))",
    ):
        assert heading in text
    assert "Nepali" in text or "नेपाली" in text
    assert "draft translation, not yet reviewed" in text
    # The report covers the published quarters only, quarter by quarter.
    files = published(period, now.date())
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in files.months})
    assert f"{quarters[0]} to {quarters[-1]}" in text
    # How cases ended adds up to the cases received: in no quarter is exactly one of them
    # hidden, or it could be worked out from the others.
    from grievance.reports.releases import ENDINGS

    flat = re.sub(r">\s+<", "><", page)
    endings = {
        label: [html.unescape(v) for v in re.findall(r'<td class="num">([^<]*)</td>', cells)]
        for label, cells in re.findall(
            r'<tr><th scope="row">([^<]+)</th>((?:<td class="num">[^<]*</td>)+)</tr>', flat
        )
        if html.unescape(label) in ENDINGS.values()
    }
    assert endings, "the demo's cases have endings"
    for column in range(len(quarters)):
        hidden = sum(values[column] in ("<10", "–") for values in endings.values())
        assert hidden != 1, endings
    # No count between 1 and k-1 in any table cell.
    for cell in re.findall(r'<td class="num">([^<]*)</td>', page):
        assert cell in ("&lt;10", "–", "0") or int(cell) >= 10, cell
    # Examples: summaries for suppliers, never a site or supplier name, never the worker's words.
    with runtime.sessions() as session:
        sites = session.scalars(select(Site.name)).all()
        suppliers = session.scalars(
            select(Organisation.name).where(Organisation.kind == "supplier")
        ).all()
        summaries = {s for s in session.scalars(select(Case.supplier_summary)) if s}
        descriptions = [
            runtime.protector.decrypt(c)
            for c in session.scalars(select(Case.description_encrypted))
            if c
        ]
    examples = re.findall(r"<blockquote>(.*?)</blockquote>", page, re.S)
    assert examples, "the demo has closed, resolved cases in common categories"
    for example in examples:
        shown = html.unescape(example).rstrip("…")
        assert any(summary.startswith(shown) for summary in summaries)
        assert not any(name in shown for name in [*sites, *suppliers])
        assert not any(d and d in shown for d in descriptions)

    pdf = staff.get(f"/reports/effectiveness.pdf?{period.query}")
    assert pdf.mimetype == "application/pdf"
    whole = quarter_months(period)
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="effectiveness-{whole.first}-{whole.last}.pdf"'
    )
    # Bold headings come out of pypdf as UTF-16 code units: drop the NULs between letters.
    pdf_text = " ".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages
    ).replace("\x00", "")
    assert "7. Review (LkSG §8(5))" in pdf_text
    assert "Sign out" not in pdf_text  # the site's navigation is not printed


def test_buyers_read_only_their_suppliers_in_the_report(app: Flask, runtime: Runtime) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    with runtime.sessions() as session:
        supplier = first_supplier(session)
        buyer = accounts.create_organisation(session, "Only One Supplier Brand", "buyer")
        session.execute(insert(buyer_suppliers).values(buyer_id=buyer.id, supplier_id=supplier.id))
        accounts.create_user(
            session, "b@example.org", "buyer", PASSWORD, buyer.name, must_change_password=False
        )
        accounts.create_user(
            session,
            "s@example.org",
            "supplier",
            PASSWORD,
            supplier.name,
            must_change_password=False,
        )
        files = published(long_period(now), now.date())
        theirs = cases_in(session, files, supplier.id)
        session.commit()
    client = sign_in(app, "b@example.org")
    page = client.get(f"/reports/effectiveness?{long_period(now).query}").get_data(as_text=True)
    assert "Messages received from workers" not in page  # messages are not a supplier's
    # The first table (cases by category) ends with the total, its last cell the period's.
    total = re.search(
        r'<tr><th scope="row">Total</th>(?:<td class="num">[^<]*</td>)*<td class="num">([^<]+)</td></tr>',
        re.sub(r">\s+<", "><", page),
    )
    assert total is not None
    assert total.group(1) in (str(theirs), "&lt;10", "–")
    assert client.get("/reports/exports").status_code == 404
    assert sign_in(app, "s@example.org").get("/reports/effectiveness").status_code == 404


def test_the_admin_case_export_has_progress_and_no_personal_data(
    app: Flask, runtime: Runtime
) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    admin = handler(app, runtime, "admin@example.org", role="admin")
    period = long_period(now)
    response = admin.post(
        "/reports/exports",
        data={
            "csrf_token": token_of(admin, "/reports/exports"),
            "kind": "cases",
            "from": period.first,
            "to": period.last,
        },
    )
    assert response.status_code == 303
    page = admin.get("/reports/exports").get_data(as_text=True)
    with runtime.sessions() as session:
        export = session.scalars(select(Export)).one()
        total = len(session.scalars(select(Case.id)).all())
        assert (export.status, export.done, export.total) == ("done", total, total)
    assert f"done: {total} cases" in page
    download = admin.get(f"/reports/exports/{export.id}")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == total + 1
    assert all(re.fullmatch(r"\d{4}-\d{2}", row[1]) for row in rows[1:])  # months, not days
    body = download.get_data(as_text=True)
    with runtime.sessions() as session:
        site_names = set(session.scalars(select(Site.name)))
        for case in session.scalars(select(Case)):
            for text in (case.summary, case.supplier_summary, case.workplace, case.close_reason):
                # (a worker's workplace text may be part of a site's name, exported as such)
                if text and not any(text in name for name in site_names):
                    assert text not in body
        for contact in session.scalars(select(Contact)):
            if contact.address_encrypted:
                assert runtime.protector.decrypt(contact.address_encrypted) not in body
    # Only its owner downloads it; handlers cannot export cases at all.
    other = handler(app, runtime, "admin2@example.org", role="admin")
    assert other.get(f"/reports/exports/{export.id}").status_code == 404
    staff = handler(app, runtime)
    assert staff.get("/reports/exports").status_code == 404


def test_the_cli_exports_with_a_progress_bar(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    everything, demo = long_period(now), demo_period(now)
    out = tmp_path / "cases.csv"
    env = environment(database_url, tmp_path / "instance", None)
    result = CliRunner().invoke(
        main,
        ["reports", "export", "--from", everything.first, "--to", everything.last, "-o", str(out)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    with runtime.sessions() as session:
        total = len(session.scalars(select(Case.id)).all())
    assert "exporting cases" in result.output
    assert f"exporting cases: 0/{total} cases" in result.output
    assert f"exporting cases: {total}/{total} cases" in result.output
    assert f"{total} cases written to {out}" in result.output
    assert len(out.read_text().splitlines()) == total + 1
    counts = tmp_path / "counts.csv"
    result = CliRunner().invoke(
        main,
        ["reports", "export", "--kind", "counts", "--by", "corridor", "--from", demo.first,
         "--to", demo.last, "-o", str(counts)],
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = list(csv.reader(counts.open()))
    assert table[0][0] == "Corridor (origin to site country)"


def test_corridor_and_time_to_triage_are_reported(app: Flask, runtime: Runtime) -> None:
    now = utcnow()
    create_demo(runtime, now=now)
    staff = handler(app, runtime)
    with runtime.sessions() as session:
        case_ids = session.scalars(
            select(Case.id).where(Case.status == "received").order_by(Case.id).limit(12)
        ).all()
        site = session.scalars(select(Site).where(Site.country == "MY")).first()
        assert site is not None
        for case_id in case_ids:
            session.get(Case, case_id).site_id = site.id  # type: ignore[union-attr]
        session.commit()
    for case_id in case_ids:
        act(staff, case_id, "categorise", category="FL-FEE", indicators=[], origin="NP")
    page = staff.get(f"/reports?by=corridor&{demo_period(now).query}").get_data(as_text=True)
    assert "NP \u2192 MY" in page
    assert "Time to triage (to the first decision on the case)" in page
    assert "Month by month" in page
    with runtime.sessions() as session:
        assert {session.get(Case, i).origin_country for i in case_ids} == {"NP"}  # type: ignore[union-attr]


def test_one_small_ending_cannot_be_worked_out_from_the_others(runtime: Runtime) -> None:
    """25 resolved, 12 still open and 3 withdrawn: with 40 published, "<10" alone would be 3."""
    from datetime import UTC, datetime

    from sqlalchemy import insert as sql_insert

    from grievance.reports import releases

    when = datetime(2026, 10, 5, tzinfo=UTC)
    rows = [("closed", "resolved")] * 25 + [("in_triage", None)] * 12 + [("withdrawn", None)] * 3
    with runtime.sessions() as session:
        session.execute(
            sql_insert(Case),
            [
                case_row(
                    when,
                    status=status,
                    outcome=outcome,
                    closed_at=when if status == "closed" else None,
                )
                for status, outcome in rows
            ],
        )
        session.commit()
        content = releases.build(
            session, releases.Audience(releases.STAFF, None), releases.Quarter(2026, 4), 10
        )
    endings = content["tables"]["ending"]
    shown = dict(zip(endings["rows"], endings["row_totals"], strict=True))
    assert endings["total"] == "40"
    assert shown["Withdrawn by the worker"] == "<10"
    hidden = [label for label, value in shown.items() if value in ("<10", "–")]
    assert len(hidden) >= 2, shown  # another ending is hidden with it
    assert "Closed, resolved" in hidden or "Still open when published" in hidden


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A second local HTTP server that records every request and answers with a stylesheet
    that would pull a local file and another URL into the PDF."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'@import url("file:///etc/passwd"); body { background: url("/secret.png") }'
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], asked
    finally:
        server.shutdown()
        server.server_close()


def test_the_pdf_fetches_nothing_a_request_points_it_at(
    app: Flask, runtime: Runtime, listener: tuple[int, list[str]]
) -> None:
    port, asked = listener
    create_demo(runtime, cases=12)
    staff = handler(app, runtime)
    # The Host header named the listener: the PDF used to resolve its stylesheet there.
    cookie = staff.get_cookie("__Host-grievance")
    assert cookie is not None
    staff.set_cookie("__Host-grievance", cookie.value, domain="127.0.0.1")
    pdf = staff.get(
        "/reports/effectiveness.pdf",
        base_url=f"https://127.0.0.1:{port}",
        environ_overrides={"wsgi.url_scheme": "http"},  # as a plain-http proxy would pass it
    )
    assert asked == []  # not one request reached the other server
    assert pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Sign out" not in text.replace("\x00", "")  # the app's own print stylesheet applied


def test_the_pdf_fetcher_serves_static_files_and_refuses_everything_else(
    runtime: Runtime, listener: tuple[int, list[str]], tmp_path: Path
) -> None:
    from grievance.web.pdf import render_pdf

    port, asked = listener
    static = tmp_path / "static"
    static.mkdir()
    (static / "print.css").write_text("h1 { color: rgb(1, 2, 3) }")
    (tmp_path / "private.txt").write_text("not for the PDF")
    base = runtime.settings.public_base_url.rstrip("/")
    page = f"""<html><head>
      <link rel="stylesheet" href="/static/print.css">
      <link rel="stylesheet" href="/static/../private.txt">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/internal">
      <link rel="stylesheet" href="file://{tmp_path}/private.txt">
      <style>@import url("http://127.0.0.1:{port}/imported");</style>
      </head><body><h1>Report</h1><img src="http://127.0.0.1:{port}/pixel.png">
      <img src="{base}/static/missing.png"></body></html>"""
    pdf = render_pdf(runtime, page, str(static))
    assert pdf.startswith(b"%PDF")
    assert asked == []


def test_a_category_rises_from_the_first_quarter_with_cases(runtime: Runtime) -> None:
    """Wages go from 10 to 25 cases and health and safety from 12 to 14: wages rise. The
    empty quarter before the line was used does not make every category "rise"."""
    from datetime import UTC, datetime

    from grievance.reports import effectiveness, releases

    latest = releases.latest_published(utcnow().date())
    middle = (
        releases.Quarter(latest.year - 1, 4)
        if latest.number == 1
        else (releases.Quarter(latest.year, latest.number - 1))
    )
    empty = (
        releases.Quarter(middle.year - 1, 4)
        if middle.number == 1
        else (releases.Quarter(middle.year, middle.number - 1))
    )
    counts = {(middle, "WAGE"): 10, (middle, "OSH"): 12, (latest, "WAGE"): 25, (latest, "OSH"): 14}
    with runtime.sessions() as session:
        rows = []
        for (quarter, category), n in counts.items():
            when = datetime.combine(quarter.first, datetime.min.time(), tzinfo=UTC).replace(day=3)
            rows += [case_row(when, category=category) for _ in range(n)]
        session.execute(insert(Case), rows)
        session.commit()
        period = releases.period(
            session, releases.Audience(releases.STAFF, None), empty.first, latest.last, 10,
            utcnow().date(),
        )  # fmt: skip
        report = effectiveness.build(session, runtime, period)
    assert report.quarters == [empty.label, middle.label, latest.label]
    assert report.rising == ["Wages"]
    by_category = dict(report.categories)
    assert by_category["Wages"] == ["0", "10", "25", "35"]
    assert by_category["Health and safety"] == ["0", "12", "14", "26"]
