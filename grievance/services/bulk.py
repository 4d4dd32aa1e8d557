"""Actions on many cases at once, from the queue: each case is its own action.

Every selected case goes through the one action runner (``services.actions.run``) with the
same service function a single case uses, so each is audited on its own, keeps every rule
(a P0 or P1 is never lowered or closed by one person: no bulk action does either), and one
refused case leaves the others done. Only the actions below can be run in bulk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from grievance.auth.accounts import audit
from grievance.models import Case, User
from grievance.runtime import Runtime
from grievance.services import actions, macros, triage
from grievance.services.errors import NotFound
from grievance.services.triage import TriageError


def categorise(
    session: Session, runtime: Runtime, case: Case, actor: User, category: str
) -> triage.Outcome:
    """The category, keeping the forced-labour indicators a handler found on each case."""
    return triage.categorise(session, runtime, case, actor, category, list(case.indicators))


ACTIONS: dict[str, Callable[..., triage.Outcome]] = {
    "assign": triage.assign,
    "categorise": categorise,
    "acknowledge": triage.acknowledge,
    "referral": triage.attach_referral,
    "macro": macros.apply_macro,
}
# At most this many cases in one request (a queue page shows 50).
MAX_CASES = 100


@dataclass
class BulkResult:
    """Which cases the action was done on, and why it was refused on the others."""

    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def run_bulk(
    runtime: Runtime, user_id: int, case_ids: list[int], action: str, **kwargs: Any
) -> BulkResult:
    """Run ``action`` on each case of ``case_ids`` in its own transaction; what happened."""
    if action not in ACTIONS:
        raise TriageError("choose an action to apply to the selected cases")
    ids = list(dict.fromkeys(case_ids))
    if not ids:
        raise TriageError("select at least one case")
    if len(ids) > MAX_CASES:
        raise TriageError(f"select at most {MAX_CASES} cases at a time")
    result = BulkResult()
    for case_id in ids:
        try:
            actions.run(runtime, user_id, _finder(case_id), ACTIONS[action], **kwargs)
        except TriageError as exc:
            result.refused.append((case_id, str(exc)))
        except NotFound:
            result.refused.append((case_id, "no such case"))
        else:
            result.done.append(case_id)
    with runtime.sessions() as db:
        audit(
            db,
            db.get(User, user_id),
            "bulk_action",
            None,
            f"action={action},done={len(result.done)},refused={len(result.refused)}",
        )
        db.commit()
    return result


def _finder(case_id: int) -> Callable[[Session, User], Case]:
    def find(db: Session, user: User) -> Case:
        postgres = db.get_bind().dialect.name == "postgresql"
        case = db.get(Case, case_id, with_for_update=postgres)
        if case is None:
            raise NotFound
        return case

    return find
