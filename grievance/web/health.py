"""``GET /healthz``: is the mechanism up, and is anything piling up or failing?

200 when the database and (if configured) Redis answer; 503 otherwise. The
body also gives the queue depth, the age of the oldest outbound message still
waiting to be sent, and how many messages to workers with an open case failed:
numbers for a monitor to alert on, never any personal data.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select, text

from grievance.clock import utcnow
from grievance.models import OutboxItem
from grievance.runtime import Runtime
from grievance.services.deliveries import count_failed

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Check each dependency and report backlog figures, without internals."""
    runtime: Runtime = current_app.extensions["grievance"]
    checks: dict[str, Any] = {"channel": runtime.channel_name}
    try:
        with runtime.sessions() as session:
            session.execute(text("SELECT 1"))
            checks["database"] = "ok"
            oldest = session.scalar(
                select(func.min(OutboxItem.created_at)).where(
                    OutboxItem.status.in_(("pending", "sending"))
                )
            )
            checks["oldest_pending_outbox_seconds"] = (
                round((utcnow() - oldest).total_seconds()) if oldest else 0
            )
            checks["failed_deliveries"] = count_failed(session)
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
    if depth is not None:
        try:
            checks["queue_depth"] = depth()
        except Exception as exc:
            checks["queue_depth"] = f"error: {type(exc).__name__}"
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503
