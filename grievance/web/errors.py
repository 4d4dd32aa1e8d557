"""Errors mapped to HTTP in one place; no page ever shows internals or personal data."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from grievance.logs import log_failure

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        return _error(413, "request too large")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        # Only the type: exception texts can carry phone numbers or message bodies.
        log_failure(log, f"unhandled error on {request.method} {request.path}", exc)
        return _error(500, "internal error; it has been logged")


def _error(status: int, message: str) -> ResponseReturnValue:
    if request.path.startswith("/twilio/"):
        return "", status
    if request.accept_mimetypes.best == "application/json" or request.path.startswith(
        ("/api/", "/simulator/")
    ):
        return jsonify(error=message), status
    return f"{status}: {message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
