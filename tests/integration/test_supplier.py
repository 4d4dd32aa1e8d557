"""The supplier portal's isolation: a supplier sees only its own referred cases, and only the
handler's summary; a buyer sees its linked suppliers' cases; every other id is a 404."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from grievance.clock import utcnow
from grievance.models import RemediationPlan, RemediationStep
from grievance.runtime import Runtime
from tests.support.staff import handler, sign_in
from tests.support.suppliers import SUMMARY, setup


def test_a_supplier_sees_its_own_referred_cases_and_only_the_summary(
    app: Flask, runtime: Runtime
) -> None:
    ids = setup(runtime)
    a = sign_in(app, "a@example.org")
    listing = a.get("/supplier/cases").get_data(as_text=True)
    assert re.findall(r'href="/supplier/cases/(\d+)"', listing) == [str(ids["a"])]
    page = a.get(f"/supplier/cases/{ids['a']}").get_data(as_text=True)
    assert SUMMARY in page
    assert "Plant A1" in page
    assert "Forced labour: recruitment fees" in page  # the category in words, not FL-FEE
    assert "passport" not in page  # never the worker's words
    assert not re.search(r"\d\d:\d\d", page)  # dates to the day, never exact times
    assert "Factory A" not in page  # the worker's own naming of the workplace stays with handlers
    for other in (ids["b"], ids["a_unreferred"], 999999, 2**40):
        assert a.get(f"/supplier/cases/{other}").status_code == 404
    assert a.get("/cases").status_code == 404
    assert a.get(f"/cases/{ids['a']}").status_code == 404


def test_a_buyer_sees_its_suppliers_cases_only(app: Flask, runtime: Runtime) -> None:
    ids = setup(runtime)
    buyer = sign_in(app, "buyer@example.org")
    listing = buyer.get("/supplier/cases").get_data(as_text=True)
    assert re.findall(r'href="/supplier/cases/(\d+)"', listing) == [str(ids["a"])]
    assert buyer.get(f"/supplier/cases/{ids['b']}").status_code == 404


def test_handlers_do_not_use_the_portal(app: Flask, runtime: Runtime) -> None:
    ids = setup(runtime)
    staff = handler(app, runtime, "h2@example.org")  # fully signed in, with TOTP
    assert staff.get("/cases").status_code == 200
    assert staff.get("/supplier/cases").status_code == 404
    assert staff.get(f"/supplier/cases/{ids['a']}").status_code == 404


def test_a_bug_in_a_supplier_action_is_an_error_not_a_quiet_404(
    app: Flask, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a deliberate "not found or not yours" is a 404; a KeyError from a bug used to pass
    for one (it is a LookupError), hiding the bug from everyone."""
    from grievance.services import remediation
    from grievance.services.errors import NotFound
    from tests.support.staff import token_of

    ids = setup(runtime)
    a = sign_in(app, "a@example.org")

    def start_plan(*args: object, **kwargs: object) -> None:
        raise KeyError("playbook")

    monkeypatch.setattr(remediation, "start_plan", start_plan)
    token = token_of(a, f"/supplier/cases/{ids['a']}")
    broken = a.post(f"/supplier/cases/{ids['a']}/plan", data={"csrf_token": token})
    assert broken.status_code == 500

    def not_yours(*args: object, **kwargs: object) -> None:
        raise NotFound(ids["a"])

    monkeypatch.setattr(remediation, "start_plan", not_yours)
    hidden = a.post(f"/supplier/cases/{ids['a']}/plan", data={"csrf_token": token})
    assert hidden.status_code == 404


def test_a_supplier_sees_what_it_has_to_do(app: Flask, runtime: Runtime) -> None:
    ids = setup(runtime)
    today = utcnow().date()
    with runtime.sessions() as session:
        plan = RemediationPlan(case_id=ids["a"], supplier_id=ids["supplier_a"], status="returned")
        plan.returns = 2
        session.add(plan)
        session.flush()
        for position, (what, due_in, status) in enumerate(
            [
                ("Repay the recruitment fees", -2, "planned"),
                ("Return passports to workers", 3, "in_progress"),
                ("Audit the agency contracts", 30, "planned"),
                ("Post the hotline number", -5, "done"),
            ]
        ):
            session.add(
                RemediationStep(
                    plan_id=plan.id,
                    position=position,
                    description=what,
                    owner="HR manager",
                    due_on=today + timedelta(days=due_in),
                    status=status,
                )
            )
        session.commit()
    page = sign_in(app, "a@example.org").get("/supplier/cases").get_data(as_text=True)
    todo = page.split('id="steps-h"')[1].split("</section>")[0]
    assert "Repay the recruitment fees" in todo
    assert "late" in todo.split("Repay the recruitment fees")[1].split("</tr>")[0]
    assert "Return passports to workers" in todo
    assert "Audit the agency contracts" not in todo  # not due for a month
    assert "Post the hotline number" not in todo  # done
    returned = page.split('id="returned-h"')[1].split("</section>")[0]
    assert f"Case #{ids['a']}" in returned
    assert "sent back 2 times" in returned
    # Supplier B sees none of it.
    other = sign_in(app, "b@example.org").get("/supplier/cases").get_data(as_text=True)
    assert "Repay the recruitment fees" not in other
    assert 'id="returned-h"' not in other
