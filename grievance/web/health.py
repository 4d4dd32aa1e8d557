"""``GET /healthz``: is the mechanism up, and is anything piling up or failing?

200 when the database and (if configured) Redis answer; 503 otherwise. Anyone gets
``{"status": ...}`` and nothing more. A monitor that sends ``GRIEVANCE_HEALTH_TOKEN`` as a
bearer token also gets the checks: each dependency, the queue depth, the age of the oldest
outbound message still waiting, and how many messages to workers with an open case failed;
the age of the oldest inbound message waiting to be processed, and how many inbound messages
failed so often that they were set aside.
They are numbers, never personal data, but they say how busy the line is and whether it is
failing, which is nobody else's business.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.models import INBOUND, Message, OutboxItem
from grievance.runtime import Runtime
from grievance.services.conversations import MAX_ATTEMPTS
from grievance.services.deliveries import count_failed

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Check each dependency; report backlog figures to the monitor only."""
    runtime: Runtime = current_app.extensions["grievance"]
    detail = _monitor(runtime)
    checks: dict[str, Any] = {"channel": runtime.channel_name}
    try:
        with runtime.sessions() as session:
            session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            if detail:  # a stranger learns only whether the line is up: nothing is counted
                checks |= _figures(session)
    except Exception as exc:
        checks.setdefault("database", f"error: {type(exc).__name__}")
    healthy = checks["database"] == "ok"
    depth = getattr(runtime.queue, "depth", None)
    if runtime.settings.redis_url:
        try:
            runtime.queue.redis.ping()  # type: ignore[attr-defined]
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
            healthy, depth = False, None
    if depth is not None and detail:
        try:
            checks["queue_depth"] = depth()
        except Exception as exc:
            checks["queue_depth"] = f"error: {type(exc).__name__}"
    status = "ok" if healthy else "error"
    body = {"status": status, "checks": checks} if detail else {"status": status}
    return jsonify(body), 200 if healthy else 503


def _figures(session: Session) -> dict[str, Any]:
    oldest = session.scalar(
        select(func.min(OutboxItem.created_at)).where(OutboxItem.status.in_(("pending", "sending")))
    )
    waiting = (
        Message.direction == INBOUND,
        Message.processed_at.is_(None),
        Message.attempts < MAX_ATTEMPTS,
    )
    oldest_inbound = session.scalar(select(func.min(Message.created_at)).where(*waiting))
    return {
        "oldest_pending_outbox_seconds": _age(oldest),
        "failed_deliveries": count_failed(session),
        "oldest_waiting_inbound_seconds": _age(oldest_inbound),
        # Inbound messages that failed MAX_ATTEMPTS times: kept, unanswered, for an operator.
        "inbound_set_aside": session.scalar(
            select(func.count(Message.id)).where(
                Message.direction == INBOUND,
                Message.processed_at.is_(None),
                Message.attempts >= MAX_ATTEMPTS,
            )
        ),
    }


def _age(moment: datetime | None) -> int:
    return round((utcnow() - moment).total_seconds()) if moment else 0


def _monitor(runtime: Runtime) -> bool:
    """True when the request carries the configured monitoring token."""
    expected = runtime.settings.health_token
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme == "Bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
