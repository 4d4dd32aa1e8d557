"""Let time pass for a worker's conversation without waiting for it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from grievance.clock import utcnow
from grievance.models import Conversation
from grievance.runtime import Runtime
from grievance.services import conversations


def time_out(runtime: Runtime) -> None:
    """Let the worker's current wait run out (as the silence its timeout names would)."""
    with runtime.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
        state = dict(conversation.state)
        run = dict(state["run"])
        run["timeout_at"] = (utcnow() - timedelta(seconds=1)).isoformat()
        state["run"] = run
        conversation.state = state
        session.commit()
        conversation_id = conversation.id
    assert conversations.process_timers(runtime, conversation_id)
