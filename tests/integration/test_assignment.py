"""Assignment and working faster in the handlers' queue: who has each case (a column, filters,
the workload), assignment by hand and by rules in turn, bulk actions on selected cases, saved
views and macros. Every new page and form for every role; every change audited per case."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from grievance.assignment_rules import load_rules
from grievance.models import AuditEvent, Case, CaseEvent, ReferralOrg, User
from grievance.runtime import Runtime
from grievance.services import bulk as bulk_service
from tests.conftest import Phone
from tests.integration.test_concurrency import run_together
from tests.support.accounts import browser, make_user, sign_in_password
from tests.support.api import api, token_for
from tests.support.cases import make_cases, queue_ids, the_case
from tests.support.intake import fees_report
from tests.support.staff import act, handler, token_of

PAGES = ["/cases/workload"]
FORMS = ["/cases/bulk", "/cases/views", "/cases/views/1/delete", "/cases/1/macro"]
WORKING_ON_IT = "We are working on your report. We will write again when there is news."


def user_id(runtime: Runtime, email: str) -> int:
    with runtime.sessions() as session:
        found = session.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return found


def bulk(client: FlaskClient, ids: list[int], action: str, **form: object) -> str:
    """Tick ``ids`` in the queue and press the action's button; the queue shown after."""
    token = token_of(client, "/cases")
    response = client.post(
        "/cases/bulk",
        data={"csrf_token": token, "case": [str(i) for i in ids], "action": action, **form},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/cases")
    return client.get(response.headers["Location"]).get_data(as_text=True)


def assignees(runtime: Runtime) -> dict[int, int | None]:
    with runtime.sessions() as session:
        return dict(session.execute(select(Case.id, Case.assignee_id)).all())


def audited(runtime: Runtime, action: str) -> list[tuple[int | None, str | None]]:
    with runtime.sessions() as session:
        return list(
            session.execute(
                select(AuditEvent.case_id, AuditEvent.detail)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.id)
            ).all()
        )


def test_only_handlers_and_admins_reach_the_new_pages_and_forms(
    app: Flask, runtime: Runtime
) -> None:
    (case_id,) = make_cases(runtime, [("P2", "Blue Farm", 10)])
    staff = {
        "handler": handler(app, runtime, "h@example.org"),
        "admin": handler(app, runtime, "a@example.org", role="admin"),
    }
    others = {}
    for role in ("supplier", "buyer"):
        make_user(runtime, f"{role}@example.org", role, f"{role.title()} Org")
        others[role] = browser(app)
        assert sign_in_password(others[role], f"{role}@example.org").status_code == 302
    for role, client in staff.items():
        assert client.get("/cases/workload").status_code == 200, role
    for page in PAGES:
        assert browser(app).get(page).headers["Location"].startswith("/login"), page
    for role, client in others.items():
        token = token_of(client, "/account/password")
        for page in PAGES:
            assert client.get(page).status_code == 404, (role, page)
        for form in FORMS:
            refused = client.post(
                form,
                data={
                    "csrf_token": token,
                    "case": str(case_id),
                    "action": "assign",
                    "assignee": "none",
                    "name": "x",
                    "macro": "wages-working",
                },
            )
            assert refused.status_code == 404, (role, form)
    for form in FORMS:
        assert browser(app).post(form).status_code in (302, 400), form  # no sign-in
    # Nothing the refused requests asked for happened.
    assert the_case(runtime).assignee_id is None
    assert the_case(runtime).category is None
    assert audited(runtime, "view_saved") == []


def test_the_queue_shows_who_has_each_case_and_filters_by_it(app: Flask, runtime: Runtime) -> None:
    mine, theirs, nobodys = make_cases(
        runtime, [("P1", "Blue Farm", 5), ("P2", "Hill Estate", 10), ("P3", "Sea Port", 20)]
    )
    client = handler(app, runtime, "me@example.org")
    other = handler(app, runtime, "other@example.org")
    me_id, other_id = user_id(runtime, "me@example.org"), user_id(runtime, "other@example.org")

    page = act(client, mine, "assign", assignee="me")  # "Assign to me" on the case page
    assert "Assign to me" not in page  # it is theirs now
    bulk(other, [theirs], "assign", assignee="me")  # from the queue

    page = client.get("/cases").get_data(as_text=True)
    assert queue_ids(page) == [mine, theirs, nobodys]
    assert re.search(rf'case-link-{mine}".*?<td data-label="Assigned to">me</td>', page, re.S)
    assert re.search(
        rf'case-link-{theirs}".*?<td data-label="Assigned to">other@example.org</td>', page, re.S
    )
    assert re.search(rf'case-link-{nobodys}".*?Assigned to"><span class="muted">nobody', page, re.S)
    assert queue_ids(client.get("/cases?assignee=me").get_data(as_text=True)) == [mine]
    assert queue_ids(client.get("/cases?mine=1").get_data(as_text=True)) == [mine]
    assert queue_ids(client.get(f"/cases?assignee={other_id}").get_data(as_text=True)) == [theirs]
    assert queue_ids(client.get("/cases?assignee=none").get_data(as_text=True)) == [nobodys]

    # The API filters the same way.
    token = token_for(runtime, "robot@example.org", "handler")
    listed = api(client, token, "GET", f"/cases?assignee={other_id}").get_json()
    assert [c["id"] for c in listed["cases"]] == [theirs]
    listed = api(client, token, "GET", "/cases?unassigned=true").get_json()
    assert [c["id"] for c in listed["cases"]] == [nobodys]

    # The workload: open cases per handler by severity, each a link to those cases.
    workload = client.get("/cases/workload").get_data(as_text=True)
    assert re.search(
        rf"me@example.org</th>\s*<td>0</td><td>"
        rf'<a href="/cases\?assignee={me_id}&amp;severity=P1"[^>]*>1</a>',
        workload,
    ), workload
    assert 'href="/cases?assignee=none&amp;severity=P3"' in workload
    assert (
        '<tfoot><tr><th scope="row">All handlers</th><td>0</td><td>1</td><td>1</td><td>1</td><td>3</td>'
        in workload
    )

    # Both assignments are on each case's timeline and in the audit log, by who did them.
    assert audited(runtime, "assigned") == [(mine, f"to={me_id}"), (theirs, f"to={other_id}")]
    assert "Assigned to other@example.org" in client.get(f"/cases/{theirs}").get_data(as_text=True)


def use_rules(runtime: Runtime, tmp_path: Path, text: str) -> None:
    path = tmp_path / "assignment.yaml"
    path.write_text(text, encoding="utf-8")
    runtime.settings = runtime.settings.with_overrides(assignment_rules=load_rules(path))


RULES = """\
spec_version: 1
rules:
  - name: fees-team
    when:
      categories: [FL-FEE, WAGE]
    handlers: [ana@example.org, gone@example.org, ben@example.org, cai@example.org]
  - name: duty
    handlers: [duty@example.org]
"""


def test_rules_take_turns_among_active_handlers_and_never_undo_a_person(
    app: Flask, runtime: Runtime, tmp_path: Path
) -> None:
    use_rules(runtime, tmp_path, RULES)
    lead = handler(app, runtime, "lead@example.org")
    for email in ("ana@example.org", "ben@example.org", "cai@example.org", "duty@example.org"):
        make_user(runtime, email, "handler")
    make_user(runtime, "gone@example.org", "handler")
    with runtime.sessions() as session:
        session.scalars(select(User).where(User.email == "gone@example.org")).one().active = False
        session.commit()
    ana, ben, cai, duty = (
        user_id(runtime, f"{n}@example.org") for n in ("ana", "ben", "cai", "duty")
    )
    ids = make_cases(runtime, [("P2", f"Site {i}", 10 + i) for i in range(5)])

    # A person assigns the last one first: the rules leave it with them.
    act(lead, ids[4], "assign", assignee=str(duty))
    page = bulk(lead, ids, "categorise", category="WAGE")
    assert "Categorised: 5 cases" in page
    # In turn, the deactivated handler skipped, round and round.
    assert assignees(runtime) == {ids[0]: ana, ids[1]: ben, ids[2]: cai, ids[3]: ana, ids[4]: duty}

    # Categorised again under a category of no team: the next rule that matches takes it.
    act(lead, ids[0], "categorise", category="OSH")
    assert assignees(runtime)[ids[0]] == duty
    # The same rule still first: the case keeps its handler, no turn is spent.
    act(lead, ids[1], "categorise", category="FL-FEE")
    assert assignees(runtime)[ids[1]] == ben

    # Unassigned by a person: the rules may give it again at the next categorising.
    act(lead, ids[4], "assign", assignee="")
    act(lead, ids[4], "categorise", category="WAGE")
    assert assignees(runtime)[ids[4]] == ben  # after ana (ids[3]): ben's turn

    rule_rows = [d for _, d in audited(runtime, "assigned") if d and "rule=" in d]
    assert rule_rows[:4] == [
        f"to={ana},rule=fees-team",
        f"to={ben},rule=fees-team",
        f"to={cai},rule=fees-team",
        f"to={ana},rule=fees-team",
    ]
    with runtime.sessions() as session:
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == ids[0], CaseEvent.kind == "assigned")
        ).first()
        assert event is not None
        assert event.actor == "rule:fees-team"
    page = lead.get(f"/cases/{ids[0]}").get_data(as_text=True)
    assert "Assigned to ana@example.org by the rule fees-team" in page
    assert "(by the rule duty)" in page  # the facts: the rule that has it now
    assert "assignment rule fees-team" in page


def test_a_new_report_is_assigned_by_the_rules_when_it_opens(
    app: Flask, runtime: Runtime, tmp_path: Path, phone: Phone
) -> None:
    use_rules(runtime, tmp_path, RULES.replace("[FL-FEE, WAGE]", "[FL-FEE]"))
    make_user(runtime, "ana@example.org", "handler")
    fees_report(phone)  # the worker chose recruitment fees
    case = the_case(runtime)
    assert case.assignee_id == user_id(runtime, "ana@example.org")
    assert case.assignment_rule == "fees-team"
    assert audited(runtime, "assigned") == [(case.id, f"to={case.assignee_id},rule=fees-team")]


def test_bulk_actions_are_done_case_by_case_each_with_its_rules(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone)
    worker_case = the_case(runtime).id
    others = make_cases(runtime, [("P1", "Hill Estate", 5), ("P3", "Sea Port", 20)])
    client = handler(app, runtime, "h@example.org")
    with runtime.sessions() as session:
        session.add(ReferralOrg(name="Legal Aid KL", how_to_reach="Ask for the migrant desk"))
        session.commit()
        ref = f"db-{session.scalar(select(ReferralOrg.id))}"
    everyone = [worker_case, *others]

    phone.replies()
    page = bulk(client, [worker_case], "acknowledge")
    assert "Acknowledged (each worker is told): 1 case" in page
    assert phone.replies() == ["There is an update on your report. Reply STATUS to read it."]

    # Acknowledging again is refused for that case alone, with the reason; the others are done.
    page = bulk(client, everyone, "acknowledge")
    assert (
        f"Case #{worker_case} was left as it was: case #{worker_case} is already acknowledged"
        in page
    )
    assert f"Acknowledged (each worker is told): 2 cases (#{others[0]}, #{others[1]})" in page

    # A category raises severities to its default and never lowers one (P1 stays P1).
    bulk(client, everyone, "categorise", category="WAGE")
    with runtime.sessions() as session:
        rows = {c.id: c for c in session.scalars(select(Case))}
        assert {rows[i].category for i in everyone} == {"WAGE"}
        assert rows[others[0]].severity == "P1"
        assert rows[others[1]].severity == "P2"

    page = bulk(client, everyone, "referral", referral=ref)
    assert "Referral recorded on: 3 cases" in page
    page = bulk(client, everyone, "referral", referral="nobody-of-ours")
    assert "Referral recorded on" not in page
    assert page.count("choose an organisation from the referral directory") == 3

    # Refusals beyond the first ten are counted, not listed (they travel in the cookie).
    many = make_cases(runtime, [("P3", f"Farm {i}", 30) for i in range(12)])
    page = bulk(client, many, "referral", referral="nobody-of-ours")
    assert page.count("choose an organisation from the referral directory") == 10
    assert "2 more cases were left as they were." in page

    # Nothing selected, or an action that cannot be done in bulk: nothing is done.
    assert "Nothing was done: select at least one case" in bulk(client, [], "acknowledge")
    assert "Nothing was done: choose an action" in bulk(client, everyone, "close")

    # Each case's change is in the audit log on its own, and the bulk request once.
    assert sorted(c for c, _ in audited(runtime, "categorised")) == sorted(everyone)
    assert sorted(c for c, _ in audited(runtime, "referral_attached")) == sorted(everyone)
    assert [d for _, d in audited(runtime, "bulk_action")][:2] == [
        "action=acknowledge,done=1,refused=0",
        "action=acknowledge,done=2,refused=1",
    ]
    # The queue shown afterwards keeps the handler's filters, and nothing else.
    token = token_of(client, "/cases")
    response = client.post(
        "/cases/bulk",
        data={
            "csrf_token": token,
            "case": str(others[1]),
            "action": "assign",
            "assignee": "me",
            "back": "https://evil.example/cases?severity=P3&after=x&seen=1",
        },
    )
    assert response.headers["Location"] == "/cases?severity=P3"


def test_a_macro_categorises_acknowledges_and_replies_in_one_click(
    app: Flask, runtime: Runtime, phone: Phone
) -> None:
    fees_report(phone)
    case = the_case(runtime)
    client = handler(app, runtime)
    phone.replies()
    page = act(client, case.id, "macro", macro="wages-working")
    assert "Macro applied" in page
    after = the_case(runtime)
    assert after.category == "WAGE"
    assert after.status == "in_triage"
    assert after.acknowledged_at is not None
    assert phone.replies() == [
        "There is an update on your report. Reply STATUS to read it.",
        WORKING_ON_IT,
    ]
    assert {"categorised", "status", "message_sent"} <= {
        row.action for row in _audit_rows(runtime, case.id)
    }
    assert "choose a macro from the list" in act(client, case.id, "macro", macro="nope")


def _audit_rows(runtime: Runtime, case_id: int) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)))


def test_saved_views_belong_to_their_handler(app: Flask, runtime: Runtime) -> None:
    p1, _ = make_cases(runtime, [("P1", "Blue Farm", 5), ("P3", "Sea Port", 20)])
    mine = handler(app, runtime, "me@example.org")
    theirs = handler(app, runtime, "them@example.org")
    token = token_of(mine, "/cases")
    saved = mine.post(
        "/cases/views",
        data={
            "csrf_token": token,
            "name": "Urgent, nobody has",
            "query": "severity=P1&assignee=none&q=Blue+Farm&after=P1.1.2.3&seen=9&evil=1",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/cases?severity=P1&assignee=none"
    page = mine.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Saved the view Urgent, nobody has." in page
    assert '<a href="/cases?severity=P1&amp;assignee=none">Urgent, nobody has</a>' in page
    assert queue_ids(page) == [p1]
    assert "Urgent, nobody has" not in theirs.get("/cases").get_data(as_text=True)

    view_id = int(re.search(r"/cases/views/(\d+)/delete", page).group(1))
    token = token_of(theirs, "/cases")
    refused = theirs.post(f"/cases/views/{view_id}/delete", data={"csrf_token": token})
    assert "Not deleted: that view no longer exists" in theirs.get(
        refused.headers["Location"]
    ).get_data(as_text=True)
    token = token_of(mine, "/cases")
    mine.post(f"/cases/views/{view_id}/delete", data={"csrf_token": token})
    assert "Urgent, nobody has" not in mine.get("/cases").get_data(as_text=True)
    assert [d for _, d in audited(runtime, "view_saved")] == [f"view={view_id}"]
    assert [d for _, d in audited(runtime, "view_deleted")] == [f"view={view_id}"]


def test_cases_categorised_at_the_same_moment_take_different_turns(
    runtime: Runtime, tmp_path: Path
) -> None:
    if runtime.settings.is_sqlite:
        pytest.skip("SQLite writes one transaction at a time: turns cannot race there")
    use_rules(runtime, tmp_path, RULES)
    for email in ("ana@example.org", "ben@example.org", "cai@example.org", "lead@example.org"):
        make_user(runtime, email, "handler")
    lead = user_id(runtime, "lead@example.org")
    ids = make_cases(runtime, [("P2", f"Site {i}", 10 + i) for i in range(6)])

    def categorise(case_id: int) -> Callable[[], object]:
        return lambda: bulk_service.run_bulk(
            runtime, lead, [case_id], "categorise", category="WAGE"
        )

    results = run_together([categorise(i) for i in ids])
    assert all(r.done and not r.refused for r in results)  # type: ignore[attr-defined]
    given = Counter(assignees(runtime).values())
    names = {user_id(runtime, f"{n}@example.org"): n for n in ("ana", "ben", "cai")}
    assert {names[k]: v for k, v in given.items()} == {"ana": 2, "ben": 2, "cai": 2}
