"""Macros on a case: categorise, acknowledge and send a canned reply in one action.

Each step is the ordinary service (``triage.categorise``, ``triage.acknowledge``,
``handler_messages.message_worker``) with its own rules, timeline event and audit entry, in
one transaction: if the reply cannot reach the worker, nothing of the macro is kept.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grievance import macros
from grievance.models import Case, User
from grievance.runtime import Runtime
from grievance.services import handler_messages, triage
from grievance.services.triage import Outcome, TriageError


def available() -> list[macros.Macro]:
    """The deployment's macros, in the file's order."""
    return list(macros.load().values())


def apply_macro(
    session: Session, runtime: Runtime, case: Case, actor: User, macro_id: str
) -> Outcome:
    """Run the macro ``macro_id`` on ``case``: its category (the indicators found so far are
    kept), an acknowledgement if the worker was not told yet, then its canned reply."""
    macro = macros.load().get(macro_id)
    if macro is None:
        raise TriageError("choose a macro from the list")
    outbox_ids = list(
        triage.categorise(
            session, runtime, case, actor, category=macro.category, indicators=case.indicators
        ).outbox_ids
    )
    if case.status in ("requested", "received"):
        outbox_ids += triage.acknowledge(session, runtime, case, actor).outbox_ids
    outbox_ids += handler_messages.message_worker(
        session, runtime, case, actor, key=macro.reply
    ).outbox_ids
    return Outcome(outbox_ids)
