"""What waits: open cases by stage, severity, supplier and handler, with how many are overdue or
due soon, and the remediation plans waiting for a handler's review. Counts only, from a few
grouped queries: nothing a worker said is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from grievance.models import Case, Organisation, RemediationPlan, RemediationStep, User
from grievance.models.cases import OPEN_STATUSES

# "Due soon": the stage's time frame ends within this.
SOON = timedelta(hours=24)
# A supplier's remediation steps are listed from this long before they are due.
STEP_SOON = timedelta(days=7)


@dataclass(frozen=True)
class Row:
    """One line of a table: what it counts, and how to open those cases in the queue."""

    label: str
    key: str | int | None
    total: int
    overdue: int
    due_soon: int


@dataclass(frozen=True)
class PlanToReview:
    case_id: int
    severity: str
    supplier: str | None
    submitted_at: datetime | None
    returns: int
    mine: bool


@dataclass(frozen=True)
class Waiting:
    by_stage: list[Row]
    by_severity: list[Row]
    by_supplier: list[Row]
    by_handler: list[Row]
    plans: list[PlanToReview]

    @property
    def total(self) -> int:
        return sum(row.total for row in self.by_stage)

    @property
    def overdue(self) -> int:
        return sum(row.overdue for row in self.by_stage)

    @property
    def due_soon(self) -> int:
        return sum(row.due_soon for row in self.by_stage)


def waiting(session: Session, now: datetime, me: int | None = None) -> Waiting:
    """The dashboard's figures at ``now``; ``me`` marks the plans on the viewer's own cases."""
    overdue = func.sum(case((Case.due_at < now, 1), else_=0))
    soon = func.sum(case(((Case.due_at >= now) & (Case.due_at < now + SOON), 1), else_=0))
    counts = (func.count(Case.id), overdue, soon)
    open_cases = Case.status.in_(OPEN_STATUSES)

    def grouped(*key: Any, join: Any = None, on: Any = None) -> list[tuple[Any, ...]]:
        query = select(*key, *counts).select_from(Case)
        if join is not None:
            query = query.outerjoin(join, on)
        return [tuple(row) for row in session.execute(query.where(open_cases).group_by(*key))]

    stage_order = {status: i for i, status in enumerate(OPEN_STATUSES)}
    by_stage = sorted(
        (
            Row(status, status, n, late or 0, near or 0)
            for status, n, late, near in grouped(Case.status)
        ),
        key=lambda row: stage_order.get(str(row.key), 99),
    )
    by_severity = sorted(
        (
            Row(severity, severity, n, late or 0, near or 0)
            for severity, n, late, near in grouped(Case.severity)
        ),
        key=lambda row: row.label,
    )
    suppliers = grouped(
        Case.supplier_id,
        Organisation.name,
        join=Organisation,
        on=Organisation.id == Case.supplier_id,
    )
    by_supplier = sorted(
        (
            Row(name or "No supplier yet", supplier_id, n, late or 0, near or 0)
            for supplier_id, name, n, late, near in suppliers
        ),
        key=lambda row: (row.key is None, -row.overdue, -row.total, row.label),
    )
    handlers = grouped(Case.assignee_id, User.email, join=User, on=User.id == Case.assignee_id)
    by_handler = sorted(
        (
            Row(email or "Unassigned", assignee_id, n, late or 0, near or 0)
            for assignee_id, email, n, late, near in handlers
        ),
        key=lambda row: (row.key is not None, -row.overdue, -row.total, row.label),
    )
    plans = [
        PlanToReview(case_id, severity, name, submitted_at, returns or 0, assignee == me)
        for case_id, severity, name, submitted_at, returns, assignee in session.execute(
            select(
                Case.id,
                Case.severity,
                Organisation.name,
                RemediationPlan.submitted_at,
                RemediationPlan.returns,
                Case.assignee_id,
            )
            .join(Case, Case.id == RemediationPlan.case_id)
            .outerjoin(Organisation, Organisation.id == RemediationPlan.supplier_id)
            .where(RemediationPlan.status == "submitted", RemediationPlan.archived_at.is_(None))
            .order_by(RemediationPlan.submitted_at, Case.id)
            .limit(200)
        )
    ]
    plans.sort(key=lambda plan: not plan.mine)  # the viewer's own first, oldest first
    return Waiting(by_stage, by_severity, by_supplier, by_handler, plans)


@dataclass(frozen=True)
class StepDue:
    case_id: int
    description: str
    owner: str
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class SupplierWaiting:
    """What a supplier's people have to do: steps due soon or late, plans sent back."""

    steps: list[StepDue]
    returned: list[tuple[int, int]]  # (case id, times sent back)


def for_supplier(session: Session, cases: Select[Case], today: date) -> SupplierWaiting:
    """The steps not done that are due within ``STEP_SOON`` or late, and the plans sent back,
    on ``cases`` (the query of the cases this supplier or buyer may read)."""
    case_ids = cases.with_only_columns(Case.id).scalar_subquery()
    live = RemediationPlan.archived_at.is_(None) & RemediationPlan.case_id.in_(case_ids)
    steps = [
        StepDue(case_id, description, owner, due_on, due_on < today)
        for case_id, description, owner, due_on in session.execute(
            select(
                RemediationPlan.case_id,
                RemediationStep.description,
                RemediationStep.owner,
                RemediationStep.due_on,
            )
            .join(RemediationPlan, RemediationPlan.id == RemediationStep.plan_id)
            .where(
                live,
                RemediationPlan.status.in_(("accepted", "submitted", "returned", "draft")),
                RemediationStep.status != "done",
                RemediationStep.due_on <= today + STEP_SOON,
            )
            .order_by(RemediationStep.due_on, RemediationPlan.case_id, RemediationStep.position)
            .limit(200)
        )
    ]
    returned = [
        (case_id, returns)
        for case_id, returns in session.execute(
            select(RemediationPlan.case_id, RemediationPlan.returns)
            .where(live, RemediationPlan.status == "returned")
            .order_by(RemediationPlan.case_id)
        )
    ]
    return SupplierWaiting(steps, returned)
