"""The baseline of scripts/bench_webhook.py: a bare Flask app that only answers an empty TwiML.

Same framework, same server (gunicorn -w 2), same request bodies and the same
path as the real webhook, but no signature check, no database and no queue:
``gunicorn --pythonpath scripts "bare_app:create_app()"``.
"""

from __future__ import annotations

from flask import Flask, Response

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def create_app() -> Flask:
    """A Flask app with POST /twilio/messaging answering ``<Response />`` and GET /healthz."""
    app = Flask(__name__)

    @app.post("/twilio/messaging")
    def messaging() -> Response:
        return Response(EMPTY_TWIML, status=200, mimetype="application/xml")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status": "ok"}', mimetype="application/json")

    return app
