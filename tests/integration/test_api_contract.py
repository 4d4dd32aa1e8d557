"""schemathesis against the generated OpenAPI document: every operation, with valid and
invalid input, on a fresh copy of a seeded database for each example.

Valid input must be accepted and answered as documented; input that breaks the document
must be refused with a 400 that says why (404 where the path names nothing), which is
stricter than schemathesis's own default (any 4xx).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import ChecksConfig
from sqlalchemy import select

from grievance.app import create_app
from grievance.auth import accounts
from grievance.config import Settings
from grievance.demo import BUYER, create_demo
from grievance.models import Case, Organisation, User
from grievance.runtime import Runtime, build_runtime
from grievance.services import remediation, triage
from grievance.web import api as api_views
from grievance.web import api_remediation, api_reports  # noqa: F401 - their views join api.bp
from grievance.web.openapi import document
from tests.conftest import environment
from tests.support.api import token_for
from tests.support.cases import make_cases
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import PASSWORD

# The same examples on every run, so that CI's verdict does not depend on luck; set
# GRIEVANCE_FUZZ_RANDOM=1 to explore new ones (what such a run finds becomes a fix and a
# test), and GRIEVANCE_FUZZ_EXAMPLES to ask for more per operation.
DERANDOMIZE = os.environ.get("GRIEVANCE_FUZZ_RANDOM") != "1"
EXAMPLES = int(os.environ.get("GRIEVANCE_FUZZ_EXAMPLES", "30"))

# Loaded from the generated document itself (schemathesis's lazy pytest fixtures do not
# work with pytest 9.2); each example then calls a fresh app through WSGI.
schema = schemathesis.openapi.from_dict(document("http://localhost", api_views.bp))
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# Input that breaks the document is refused with 400 (the models check it before any view
# runs), 404 where the path itself names nothing, 401 without the token; schemathesis
# alone would take any 4xx.
schema.config.checks = ChecksConfig.from_dict(
    {"negative_data_rejection": {"expected-statuses": ["400", "401", "404"]}}
)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=DERANDOMIZE,
)


@dataclass
class Seeded:
    """A database seeded once, and one app on it; before each example the database file
    is replaced by a fresh copy of the seed (connections closed first), so no example sees
    what another did (a case acknowledged, a plan submitted)."""

    seed: Path
    live: Path
    runtime: Runtime
    app: Flask
    token: str

    def call(self, case, **checks: object) -> None:  # type: ignore[no-untyped-def]
        self.runtime.close()
        shutil.copy(self.seed, self.live)
        case.operation.schema.app = self.app
        case.call_and_validate(
            headers={"Authorization": f"Bearer {self.token}"}, app=self.app, **checks
        )


def _seeded(
    sqlite_url: str, tmp_path: Path, fake: FakeTwilio, seed_with: Callable[[Runtime], str]
) -> Iterator[Seeded]:
    runtime = build_runtime(Settings.from_env(environment(sqlite_url, tmp_path / "i", fake)))
    token = seed_with(runtime)
    runtime.close()
    live = Path(sqlite_url.removeprefix("sqlite:///"))
    seed = tmp_path / "seed.db"
    shutil.copy(live, seed)
    yield Seeded(seed, live, runtime, create_app(runtime=runtime), token)
    runtime.close()


def _handler_world(runtime: Runtime) -> str:
    make_cases(runtime, [("P1", "Sunrise Garments", 5), ("P2", "Hill Estate", 30)])
    return token_for(runtime, "h@example.org", "handler")


def _supplier_world(runtime: Runtime) -> str:
    """A supplier's token, with one case referred to it and a plan started from the playbook."""
    (case_id,) = make_cases(runtime, [("P1", "Sunrise Garments", 5)])
    token = token_for(runtime, "s@example.org", "supplier", "Sunrise")
    with runtime.sessions() as session:
        staff = accounts.create_user(
            session, "h@example.org", "handler", PASSWORD, must_change_password=False
        )
        case = session.get(Case, case_id)
        supplier = session.scalar(select(Organisation).where(Organisation.name == "Sunrise"))
        triage.categorise(session, runtime, case, staff, "WAGE", [])
        triage.refer_to_supplier(
            session, runtime, case, staff, supplier.id, None, "Wages are paid late every month."
        )
        me = session.scalar(select(User).where(User.email == "s@example.org"))
        remediation.start_plan(session, runtime, case, me)
        session.commit()
    return token


def _buyer_world(runtime: Runtime) -> str:
    create_demo(runtime)
    return token_for(runtime, "b@example.org", "buyer", BUYER)


@pytest.fixture
def handler_world(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Seeded]:
    yield from _seeded(sqlite_url, tmp_path, fake_twilio, _handler_world)


@pytest.fixture
def supplier_world(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Seeded]:
    yield from _seeded(sqlite_url, tmp_path, fake_twilio, _supplier_world)


@pytest.fixture
def buyer_world(sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio) -> Iterator[Seeded]:
    yield from _seeded(sqlite_url, tmp_path, fake_twilio, _buyer_world)


@schema.exclude(path_regex="^/api/v1/(reports|supplier)/").parametrize()
@FUZZ
def test_the_case_api_keeps_to_its_document(case, handler_world: Seeded) -> None:  # type: ignore[no-untyped-def]
    handler_world.call(case)


@schema.include(path_regex="^/api/v1/supplier/").parametrize()
@FUZZ
def test_the_supplier_api_keeps_to_its_document(case, supplier_world: Seeded) -> None:  # type: ignore[no-untyped-def]
    supplier_world.call(case)


@schema.include(path_regex="^/api/v1/reports/").parametrize()
@settings(FUZZ, max_examples=max(5, EXAMPLES // 3))
def test_the_reports_api_keeps_to_its_document(case, buyer_world: Seeded) -> None:  # type: ignore[no-untyped-def]
    # A period of more than 36 months is refused (400, documented), which the document's
    # month pattern alone cannot say.
    buyer_world.call(case, excluded_checks=[positive_data_acceptance])


def test_the_document_is_generated_from_the_views_and_models() -> None:
    """Every API view is in the document, with the models that check its input."""
    doc = document("https://line.example.org", api_views.bp)
    app = Flask("probe")
    app.register_blueprint(api_views.bp)
    routes = {
        (re.sub(r"<(?:[^:>]*:)?([^>]+)>", r"{\1}", str(rule)), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert documented == routes
    assert all(path.startswith("/api/v1/") for path, _ in documented)
    assert doc["servers"] == [{"url": "https://line.example.org"}]
    refer = doc["paths"]["/api/v1/cases/{case_id}/supplier"]["post"]
    assert refer["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReferToSupplier"
    }
    summary = doc["components"]["schemas"]["ReferToSupplier"]["properties"]["summary"]
    assert summary["minLength"] == 20
    assert set(refer["responses"]) == {"200", "400", "401", "404", "409"}
    assert doc["components"]["securitySchemes"] == {"bearer": {"type": "http", "scheme": "bearer"}}
