"""`create_demo`: a deployment someone can try, with data at every stage and no phone numbers."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import func, select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.demo import STATUS_WEIGHTS, DemoDataExistsError, create_demo
from grievance.models import (
    AuditEvent,
    Case,
    CaseEvent,
    Contact,
    Message,
    Organisation,
    OutboxItem,
    ReferralOrg,
    Site,
    User,
)
from grievance.models.accounts import ROLES, buyer_suppliers
from grievance.models.cases import DEFAULT_SEVERITY, INDICATORS, OPEN_STATUSES, STATUSES
from grievance.runtime import Runtime, build_runtime
from tests.conftest import environment

# Depends on today's date: CI runs this module again under a shifted clock.
pytestmark = pytest.mark.clock

PHONE_NUMBER = re.compile(r"\+?\d[\d\s-]{7,}\d")


def counts(runtime: Runtime) -> tuple[int, ...]:
    with runtime.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Organisation, Site, User, ReferralOrg, Case, CaseEvent, AuditEvent)
        )


def test_the_demo_fills_a_deployment_with_cases_at_every_stage(runtime: Runtime) -> None:
    now = utcnow()
    started = time.perf_counter()
    report = create_demo(runtime, now=now)
    elapsed = time.perf_counter() - started
    print(f"create_demo: {elapsed:.2f}s on {runtime.db.dialect.name}")
    assert (report.cases, report.organisations, report.users) == (200, 4, 4)
    assert 4 <= report.referrals <= 6

    with runtime.sessions() as session:
        cases = session.scalars(select(Case)).all()
        assert len(cases) == 200
        assert {c.category for c in cases if c.status != "requested"} == set(DEFAULT_SEVERITY)
        assert {c.status for c in cases} == set(STATUSES)
        # A request for a person before any report: nothing known yet, waiting on a person.
        requested = [c for c in cases if c.status == "requested"]
        assert all(c.category is None and c.handover_requested_at for c in requested)
        assert all(c.attention == 0 and not c.code_issued for c in requested)
        # Some workers wrote after their report, and nobody has read it yet.
        replied = [c for c in cases if c.unread_worker_messages]
        assert replied
        assert all(c.attention == 0 and c.last_worker_message_at for c in replied)
        assert {c.language for c in cases} == set(runtime.settings.languages)
        assert {c.channel for c in cases} == {"sms", "whatsapp"}
        assert sum(c.status in OPEN_STATUSES for c in cases) > 80
        # Forced labour is the most common kind of report.
        assert sum(c.category.startswith("FL-") for c in cases if c.category) > 40
        assert len({c.code_hash for c in cases}) == 200

        # Over the last six months, so monthly reports have something to show.
        assert min(c.created_at for c in cases) >= now - timedelta(days=180)
        assert max(c.updated_at for c in cases) <= now
        assert len({(c.created_at.year, c.created_at.month) for c in cases}) >= 6

        # Time frames as the real lifecycle leaves them; some are overdue.
        for case in cases:
            assert (case.severity == "P0") == case.in_danger
            if case.status == "requested":
                assert case.severity == "P2"  # until a handler knows what it is about
            elif not case.in_danger:
                assert case.severity in (DEFAULT_SEVERITY[case.category], "P1")
            assert (case.acknowledged_at is None) == (case.status in ("requested", "received"))
            if case.status in OPEN_STATUSES:
                assert case.closed_at is None
                assert case.due_at is not None
                assert case.stage_started_at is not None
                assert case.due_at > case.stage_started_at >= case.created_at
            else:
                assert case.closed_at is not None
                assert case.due_at is None
            if case.status in ("received", "acknowledged", "in_triage"):
                assert case.stage_started_at == case.created_at  # triage runs from receipt
            assert set(case.indicators) <= set(INDICATORS)
            assert len(case.indicators) <= 3
            if case.indicators:
                assert case.category in ("FL-MOV", "FL-FEE", "FL-DEBT")
            if case.status in ("with_supplier", "remediation_in_progress", "closed"):
                assert case.supplier_id is not None
                assert case.summary
                assert case.supplier_summary
            if case.status == "requested":  # a person asked for: no report yet
                assert case.workplace is None
                assert case.description_encrypted is None
                assert (case.flow_id, case.flow_version) == ("help", 1)
            else:
                assert case.workplace
                assert (case.flow_id, case.flow_version) == ("intake", 1)
        overdue = [c for c in cases if c.due_at is not None and c.due_at < now]
        assert 5 <= len(overdue) < 100
        assert any(c.severity == "P0" for c in cases)
        assert sum(c.supplier_id is not None for c in cases) > 100
        assert any(c.supplier_id is None for c in cases)

        # Worker's words, encrypted, in English and naming no number.
        for case in cases:
            if case.status == "requested":
                continue
            assert case.description_encrypted is not None
            words = runtime.protector.decrypt(case.description_encrypted)
            assert words
            assert words.isascii()
            assert not PHONE_NUMBER.search(words)
        # A timeline for each case, starting with its receipt.
        kinds = session.execute(select(CaseEvent.case_id, CaseEvent.kind)).all()
        assert {case_id for case_id, kind in kinds if kind == "received"} == {c.id for c in cases}
        assert sum(kind == "status" for _, kind in kinds) > 400


def test_suppliers_sites_buyer_and_referrals(runtime: Runtime) -> None:
    create_demo(runtime, cases=20)
    with runtime.sessions() as session:
        suppliers = session.scalars(
            select(Organisation).where(Organisation.kind == "supplier").order_by(Organisation.id)
        ).all()
        assert len(suppliers) >= 2
        for supplier in suppliers:
            sites = session.scalars(select(Site).where(Site.supplier_id == supplier.id)).all()
            assert 2 <= len(sites) <= 3
            assert {s.country for s in sites} <= {"MY", "TH"}
        (buyer,) = session.scalars(select(Organisation).where(Organisation.kind == "buyer")).all()
        linked = session.scalars(
            select(buyer_suppliers.c.supplier_id).where(buyer_suppliers.c.buyer_id == buyer.id)
        ).all()
        assert set(linked) == {suppliers[0].id, suppliers[1].id}
        referrals = session.scalars(select(ReferralOrg)).all()
        assert 4 <= len(referrals) <= 6
        for referral in referrals:
            assert referral.active
            assert referral.languages
            assert referral.country
            assert "example.org" in referral.how_to_reach


def test_one_user_per_role_signs_in_with_the_printed_password(runtime: Runtime) -> None:
    report = create_demo(runtime, cases=5)
    assert set(report.totp_secrets) == {"admin@demo.example", "handler@demo.example"}
    printed = "\n".join(report.lines())
    assert report.password in printed
    for email, secret in report.totp_secrets.items():
        assert email in printed
        assert secret in printed
    with runtime.sessions() as session:
        users = session.scalars(select(User)).all()
        assert sorted(u.role for u in users) == sorted(ROLES)
        supplier = session.scalar(select(Organisation).where(Organisation.kind == "supplier"))
        for user in users:
            signed = accounts.check_password(session, user.email, report.password).user
            assert signed is not None
            assert signed.id == user.id
            assert user.must_change_password is False
            if user.role in ("admin", "handler"):
                code = pyotp.TOTP(report.totp_secrets[user.email]).now()
                assert accounts.verify_totp(user, runtime.protector, code)
            else:
                assert user.totp_secret_encrypted is None
        by_role = {u.role: u for u in users}
        assert supplier is not None
        assert by_role["supplier"].organisation_id == supplier.id
        assert by_role["buyer"].organisation_id is not None
        assert accounts.check_password(session, "admin@demo.example", "wrong password").user is None


def test_running_it_twice_adds_nothing(runtime: Runtime) -> None:
    create_demo(runtime, cases=10)
    before = counts(runtime)
    with pytest.raises(DemoDataExistsError, match="demo data already exists"):
        create_demo(runtime, cases=10)
    assert counts(runtime) == before


def test_the_demo_creates_no_phone_numbers_and_sends_nothing(runtime: Runtime) -> None:
    create_demo(runtime, cases=40)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(Case.id)).where(Case.contact_id.is_not(None))) == 0
        for model in (Contact, OutboxItem):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        # The workers' follow-up words on the timeline come from no phone, and nothing is sent.
        assert session.scalar(select(func.count()).where(Message.direction != "in")) == 0
        assert session.scalar(select(func.count()).where(Message.contact_id.is_not(None))) == 0


def test_the_same_seed_gives_the_same_cases(sqlite_url: str, tmp_path: Path) -> None:
    now = utcnow()
    seen = []
    for run in ("a", "b"):
        url = sqlite_url.replace("grievance.db", f"{run}.db")
        Path(url.removeprefix("sqlite:///")).write_bytes(
            Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
        )
        runtime = build_runtime(Settings.from_env(environment(url, tmp_path / run, None)))
        try:
            report = create_demo(runtime, cases=30, seed=11, now=now)
            with runtime.sessions() as session:
                seen.append(
                    session.execute(
                        select(
                            Case.status,
                            Case.category,
                            Case.severity,
                            Case.language,
                            Case.created_at,
                            Case.due_at,
                            Case.workplace,
                            Case.summary,
                        ).order_by(Case.id)
                    ).all()
                )
            seen.append(report.password)
        finally:
            runtime.close()
    first, password_a, second, password_b = seen
    assert first == second
    assert password_a != password_b  # secrets never come from the seed


def test_the_demo_covers_every_status_and_refuses_a_negative_count(runtime: Runtime) -> None:
    assert set(STATUS_WEIGHTS) == set(STATUSES)
    with pytest.raises(ValueError, match="negative"):
        create_demo(runtime, cases=-1)
    assert counts(runtime)[0] == 0


def test_remedied_cases_have_plans_evidence_and_the_workers_answer(runtime: Runtime) -> None:
    from grievance.models import Evidence, RemediationPlan, RemediationStep

    create_demo(runtime)
    with runtime.sessions() as session:
        plans = {p.case_id: p for p in session.scalars(select(RemediationPlan))}
        for case in session.scalars(
            select(Case).where(Case.status.in_(("awaiting_worker", "closed")))
        ):
            if case.category == "INFO":
                continue
            plan = plans[case.id]
            assert plan.status == "verified"
            steps = session.scalars(
                select(RemediationStep).where(RemediationStep.plan_id == plan.id)
            ).all()
            assert steps
            assert all(s.status == "done" for s in steps)
            for step in steps:  # done means evidence, in the demo as in the rules
                assert (
                    session.scalar(
                        select(func.count(Evidence.id)).where(Evidence.step_id == step.id)
                    )
                    == 1
                )
        closed = session.scalars(select(Case).where(Case.status == "closed")).all()
        assert all(c.outcome == "resolved" and c.remedy_types for c in closed)
        assert {c.satisfaction for c in closed} - {None} <= {1, 2, 3, 4, 5}
        assert any(c.satisfaction for c in closed)
