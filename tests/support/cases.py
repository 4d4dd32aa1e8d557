"""Case rows written straight into the database, for report tests that need many cases on
chosen days: far faster than intakes, and with only what reports read.

Also cases as an intake would leave them (for the queue), the case a test made, and the
case numbers a queue page links to."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from grievance.clock import utcnow
from grievance.models import Case
from grievance.runtime import Runtime


def case_row(when: datetime, **fields: Any) -> dict[str, Any]:
    """A row for ``insert(Case)`` received at ``when``: a triaged WAGE case, P2, in English,
    unless ``fields`` say otherwise."""
    return {
        "code_hash": secrets.token_hex(32),
        "code_key_id": "t",
        "status": "in_triage",
        "category": "WAGE",
        "severity": "P2",
        "language": "en",
        "channel": "sms",
        "flow_id": "intake",
        "flow_version": 2,
        "created_at": when,
        "updated_at": when,
        "indicators": [],
        "remedy_types": [],
        **fields,
    }


def the_case(runtime: Runtime) -> Case:
    """The one case in the database."""
    with runtime.sessions() as session:
        return session.scalars(select(Case)).one()


def make_cases(runtime: Runtime, specs: list[tuple[str, str, int]]) -> list[int]:
    """Cases (severity, workplace, hours until due) as an intake would leave them."""
    ids = []
    now = utcnow()
    with runtime.sessions() as session:
        for severity, workplace, due_in in specs:
            case = Case(
                code_hash=uuid.uuid4().hex,
                code_key_id="k",
                severity=severity,
                language="en",
                channel="sms",
                workplace=workplace,
                flow_id="intake",
                flow_version=1,
                stage_started_at=now,
                due_at=now + timedelta(hours=due_in),
            )
            session.add(case)
            session.flush()
            ids.append(case.id)
        session.commit()
    return ids


def queue_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/cases/(\d+)"', page)]


def newest_case(runtime: Runtime) -> Case:
    """The most recent case, detached from its session."""
    with runtime.sessions() as session:
        case = session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert case is not None
        session.expunge(case)
        return case


def close_case(runtime: Any, case_id: int, actor: str = "handler:1") -> None:
    """Close a newly received case the shortest way the lifecycle allows: into triage (which
    the worker is not told of), then closed (which they are)."""
    from grievance.services import cases

    for status in ("in_triage", "closed"):
        assert cases.update_status(runtime, case_id, status, actor)
