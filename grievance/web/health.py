"""``GET /healthz``: 200 only when the database and, if configured, Redis answer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Check each dependency and say which one failed, without internals."""
    runtime = current_app.extensions["grievance"]
    checks: dict[str, Any] = {}
    try:
        with runtime.db.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.settings.redis_url:
        try:
            runtime.queue.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    checks["channel"] = runtime.channel_name
    healthy = all(v == "ok" for k, v in checks.items() if k != "channel")
    return jsonify(status="ok" if healthy else "error", checks=checks), 200 if healthy else 503
