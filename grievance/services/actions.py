"""One unit of work for every action on a case, from every door: the handlers' pages, the
supplier portal and the JSON API.

The caller gives the service function itself (``triage.acknowledge``,
``remediation.submit_plan``), how to find the case as its user may see it, and what to read
back for its answer. The runner loads both, runs the action, commits, reads the answer in the
same session, and only then delivers what the action left: messages to the worker, prompts
and emails. Anything raised rolls the whole action back and reaches the caller unchanged:
:class:`~grievance.services.triage.TriageError` (a refused action: shown on the page, 409 in
the API) and :class:`~grievance.services.errors.NotFound` (404, mapped in
``grievance/web/errors.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from grievance.models import REPLY, Case, User
from grievance.models.cases import StatusError
from grievance.services import remediation
from grievance.services.errors import NotFound
from grievance.services.outbox import enqueue_delivery
from grievance.services.triage import Outcome, TriageError

if TYPE_CHECKING:
    from grievance.runtime import Runtime

ActionOutcome = TypeVar("ActionOutcome", bound=Outcome)
V = TypeVar("V")
Finder = Callable[[Session, User], Case]


def _none(db: Session, case: Case) -> None:
    return None


def run(
    runtime: Runtime,
    user_id: int,
    find: Finder,
    action: Callable[..., ActionOutcome],
    view: Callable[[Session, Case], V] = _none,  # type: ignore[assignment]
    **kwargs: Any,
) -> tuple[ActionOutcome, V]:
    """``action(db, runtime, case, user, **kwargs)`` in one transaction; then ``view`` of the
    committed case, and the deliveries. Returns (the action's outcome, the view)."""
    with runtime.sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFound
        case = find(db, user)
        try:
            outcome = action(db, runtime, case, user, **kwargs)
        except StatusError as exc:
            db.rollback()
            raise TriageError(str(exc)) from None  # refused, in words, like any action
        except Exception:
            db.rollback()
            raise
        db.commit()
        shown = view(db, case)
    deliver(runtime, action, outcome)
    return outcome, shown


def deliver(runtime: Runtime, action: Callable[..., Any], outcome: Outcome) -> None:
    """What an action left, after its commit. A remediation step tells the worker with a
    notice (and may leave prompts and emails); triage and handlers' messages are replies."""
    if action.__module__ == remediation.__name__:
        remediation.after_commit(runtime, outcome)
        return
    for outbox_id in outcome.outbox_ids:
        enqueue_delivery(runtime, outbox_id, REPLY)
