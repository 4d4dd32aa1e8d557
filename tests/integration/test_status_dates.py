"""STATUS answers give days the worker's way and never hide that a stage is late."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from grievance.clock import utcnow
from grievance.models import Case
from grievance.runtime import Runtime
from tests.conftest import Phone
from tests.support.cases import the_case
from tests.support.intake import report
from tests.support.period import day_month


def test_a_stage_on_time_gives_its_day(phone: Phone, runtime: Runtime) -> None:
    code = report(phone)
    case = the_case(runtime)
    assert case.due_at is not None
    text = "\n".join(phone.send(f"STATUS {code}"))
    assert text.startswith(f"Your report of {day_month(case.created_at)}: received.")
    assert text.endswith(f"Next step expected by {day_month(case.due_at)}.")
    assert "-" not in text  # no ISO dates


def test_a_late_stage_says_it_is_late_and_keeps_its_day(phone: Phone, runtime: Runtime) -> None:
    code = report(phone)
    was_due = utcnow() - timedelta(days=3)
    with runtime.sessions() as session:
        session.execute(update(Case).values(due_at=was_due))
        session.commit()
    replies = phone.send(f"STATUS {code}")
    text = "\n".join(replies)
    assert f"Late: this step was due {day_month(was_due)}." in text
    assert "Next step expected" not in text
    (late,) = [line for line in text.splitlines() if line.startswith("Late:")]
    assert day_month(utcnow()) not in late  # not quietly moved to today
