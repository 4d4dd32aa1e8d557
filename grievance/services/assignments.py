"""Who has which case: assignment by the rules (``grievance.assignment_rules``), in turn among
the handlers a rule names, and the workload of open cases per handler and severity.

A rule assigns only a case nobody has, or one a rule assigned before: a person's choice
(``triage.assign``) is never undone by a rule. Each assignment is a timeline event and an
audit entry, by ``rule:<name>`` with no user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.assignment_rules import CaseFacts, Rule, matching
from grievance.auth.accounts import audit
from grievance.models import AssignmentTurn, Case, CaseEvent, Organisation, Site, User
from grievance.models.cases import OPEN_STATUSES, SEVERITIES
from grievance.runtime import Runtime

log = logging.getLogger(__name__)
HANDLER_ROLES = ("admin", "handler")


def facts_of(session: Session, case: Case) -> CaseFacts:
    """What the rules look at for ``case``: language, category, supplier and site names."""
    supplier = session.get(Organisation, case.supplier_id) if case.supplier_id else None
    site = session.get(Site, case.site_id) if case.site_id else None
    return CaseFacts(
        language=case.language,
        category=case.category or case.reported_category,
        supplier=supplier.name if supplier else None,
        site=site.name if site else None,
    )


def apply_rules(session: Session, runtime: Runtime, case: Case) -> User | None:
    """Assign ``case`` by the first rule that matches and names an active handler; the handler,
    or None when no rule applies, the case was assigned by a person, or the rule that
    assigned it still matches first (it keeps its handler, turns are not spent again)."""
    rules = runtime.settings.assignment_rules
    if not rules or (case.assignee_id is not None and case.assignment_rule is None):
        return None
    for rule in matching(rules, facts_of(session, case)):
        if rule.name == case.assignment_rule and case.assignee_id is not None:
            return None
        handler = _next_in_turn(session, rule)
        if handler is None:
            continue  # nobody of this rule can take cases now: the next rule may
        case.assignee_id, case.assignment_rule = handler.id, rule.name
        data: dict[str, object] = {"to": handler.id, "rule": rule.name}
        session.add(
            CaseEvent(case_id=case.id, kind="assigned", actor=f"rule:{rule.name}", data=data)
        )
        audit(session, None, "assigned", case.id, f"to={handler.id},rule={rule.name}")
        return handler
    return None


def _next_in_turn(session: Session, rule: Rule) -> User | None:
    """The rule's next active handler after the one who had its last case (round-robin)."""
    users = {
        user.email.lower(): user
        for user in session.scalars(
            select(User).where(
                func.lower(User.email).in_(rule.handlers),
                User.active,
                User.role.in_(HANDLER_ROLES),
            )
        )
    }
    turn_order = [users[email] for email in rule.handlers if email in users]
    missing = [email for email in rule.handlers if email not in users]
    if missing:
        log.warning(
            "assignment rule %s: %d listed handler(s) are not active handlers",
            rule.name,
            len(missing),
        )
    if not turn_order:
        return None
    turn = _turn(session, rule.name)
    ids = [user.id for user in turn_order]
    after = ids.index(turn.last_user_id) + 1 if turn.last_user_id in ids else 0
    chosen = turn_order[after % len(turn_order)]
    turn.last_user_id = chosen.id
    return chosen


def _turn(session: Session, rule: str) -> AssignmentTurn:
    """The rule's turn row, locked on PostgreSQL so two cases at once take different turns."""
    postgres = session.get_bind().dialect.name == "postgresql"
    # populate_existing: a row this session read before is read again under the lock.
    turn = session.get(AssignmentTurn, rule, with_for_update=postgres, populate_existing=True)
    if turn is not None:
        return turn
    try:
        with session.begin_nested():
            session.add(AssignmentTurn(rule=rule, last_user_id=None))
            session.flush()
    except IntegrityError:
        pass  # another transaction made it first: lock theirs
    turn = session.get(AssignmentTurn, rule, with_for_update=postgres, populate_existing=True)
    assert turn is not None
    return turn


@dataclass
class Workload:
    """Open cases per handler and severity, and those nobody has."""

    rows: list[tuple[User, dict[str, int]]] = field(default_factory=list)
    unassigned: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def workload(session: Session) -> Workload:
    """Open cases per active handler (every one listed, idle ones too) by severity."""
    counts: dict[int | None, dict[str, int]] = {}
    for assignee_id, severity, n in session.execute(
        select(Case.assignee_id, Case.severity, func.count())
        .where(Case.status.in_(OPEN_STATUSES))
        .group_by(Case.assignee_id, Case.severity)
    ):
        counts.setdefault(assignee_id, {})[severity] = int(n)
    handlers = session.scalars(
        select(User)
        .where((User.active & User.role.in_(HANDLER_ROLES)) | User.id.in_([i for i in counts if i]))
        .order_by(User.email)
    ).all()
    result = Workload()
    for user in handlers:
        result.rows.append((user, counts.get(user.id, {})))
    result.unassigned = counts.get(None, {})
    for per in counts.values():
        for severity, n in per.items():
            result.totals[severity] = result.totals.get(severity, 0) + n
    result.totals = {s: result.totals.get(s, 0) for s in SEVERITIES}
    return result
