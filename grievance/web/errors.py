"""Errors mapped to HTTP in one place (no page ever shows internals or personal data), request ids."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from grievance import logs
from grievance.logs import log_failure, new_id
from grievance.services.errors import NotFound

log = logging.getLogger(__name__)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def register(app: Flask) -> None:
    """Install the error handlers and the request id on ``app``."""

    @app.before_request
    def tag_request() -> None:
        # A proxy's id is kept so its logs and ours line up; anything odd is replaced.
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else new_id()
        g.request_token = logs.request_id.set(g.request_id)

    @app.after_request
    def echo_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response

    @app.teardown_request
    def untag_request(_exc: BaseException | None) -> None:
        token = g.pop("request_token", None)
        if token is not None:
            logs.request_id.reset(token)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        return _error(413, "request too large")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        response = app.make_response(_error(exc.code or 500, exc.description or exc.name))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # RFC 9110
        return response

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> ResponseReturnValue:
        # Not found, or not the caller's: the same answer, so nothing leaks about what exists.
        return _error(404, "not found")

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
    try:
        page = render_template("error.html", status=status, message=message)
    except Exception:  # the error page must never fail: plain text is the fallback
        return f"{status}: {message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
    return page, status
