"""/dashboard, "What waits": open cases by stage, severity, supplier and handler, overdue and due
soon, each a way into the queue; plans waiting for review. Handlers and admins only."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select, update

from grievance.auth import accounts
from grievance.models import Case, RemediationPlan, User
from grievance.runtime import Runtime
from tests.support.cases import make_cases, queue_ids
from tests.support.staff import PASSWORD, handler, sign_in


def _row(page: str, caption: str, label: str) -> list[str]:
    """The figures (open, overdue, due soon) of ``label``'s row in the table ``caption``."""
    table = page.split(f">{caption}</caption>")[1].split("</table>")[0]
    row = re.search(rf">{re.escape(label)}(?:</a>)?</th>(.*?)</tr>", table, re.S)
    assert row, (label, table)
    return re.findall(r'<td class="num">(?:<strong>)?(\d+)', row.group(1))


def test_what_waits_counts_and_links_into_the_queue(app: Flask, runtime: Runtime) -> None:
    me = handler(app, runtime)
    late, soon, later = make_cases(
        runtime, [("P1", "Factory A", -3), ("P2", "Factory B", 5), ("P2", "Factory C", 24 * 9)]
    )
    with runtime.sessions() as session:
        supplier = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        mine = session.scalars(select(User).where(User.email == "h@example.org")).one()
        session.execute(
            update(Case).where(Case.id == late).values(supplier_id=supplier.id, assignee_id=mine.id)
        )
        session.add(RemediationPlan(case_id=late, supplier_id=supplier.id, status="submitted"))
        session.commit()

    page = me.get("/dashboard").get_data(as_text=True)
    assert "3 open cases" in page
    assert "1 overdue" in page
    assert _row(page, "By severity", "P1") == ["1", "1", "0"]
    assert _row(page, "By severity", "P2") == ["2", "0", "1"]
    assert _row(page, "By supplier", "Sunrise Garments") == ["1", "1", "0"]
    assert _row(page, "By supplier", "No supplier yet") == ["2", "0", "1"]
    assert _row(page, "By handler", "h@example.org") == ["1", "1", "0"]
    assert _row(page, "By handler", "Unassigned") == ["2", "0", "1"]
    # The plan on the handler's own case, first in the list.
    plans = page.split('id="plans-h"')[1].split("</section>")[0]
    assert f"#{late}" in plans
    assert "yours" in plans

    # Each count opens those cases in the queue.
    supplier_link = re.search(r'href="(/cases\?supplier=\d+)">Sunrise Garments', page)
    assert supplier_link
    assert queue_ids(
        me.get(supplier_link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    ) == [late]
    unassigned = me.get("/cases?assignee=none").get_data(as_text=True)
    assert sorted(queue_ids(unassigned)) == sorted([soon, later])


def test_only_handlers_and_admins_see_it(app: Flask, runtime: Runtime) -> None:
    with runtime.sessions() as session:
        accounts.create_organisation(session, "Sunrise Garments", "supplier")
        accounts.create_user(
            session, "s@example.org", "supplier", PASSWORD, "Sunrise Garments",
            must_change_password=False,
        )  # fmt: skip
        session.commit()
    supplier = sign_in(app, "s@example.org")
    assert supplier.get("/dashboard").status_code in (403, 404)
    anonymous = app.test_client()
    response = anonymous.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
