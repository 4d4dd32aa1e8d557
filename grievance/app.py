"""The application factory: ``create_app()`` wires settings, runtime, blueprints and CLI."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from grievance.channels.base import Channel
from grievance.config import Settings
from grievance.db import MAX_ID
from grievance.logs import configure_logging
from grievance.runtime import Runtime, build_runtime, install

MAX_REQUEST_BYTES = 1024 * 1024  # Twilio's largest webhook is a few KiB; 1 MiB is generous


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route. A number past :data:`MAX_ID` names no row, so it becomes 0,
    which no row has: the view answers 404 as for any unknown id, and the database never sees
    a number its columns cannot hold. (Refusing the match instead would turn some 404s into
    405s, for paths another method of the same route would take.)"""

    def to_python(self, value: str) -> int:
        """The id, or 0 for one no column can hold."""
        number = int(value)
        return number if number <= MAX_ID else 0


class BoundedJSON(DefaultJSONProvider):
    """JSON bodies that nest too deeply for the parser are malformed input (400), not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse, turning the parser's RecursionError into the ValueError Flask answers 400 to."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    channel: Channel | None = None,
) -> Flask:
    """Build the Flask app; nothing is read from the environment before this is called."""
    if runtime is None:
        settings = settings or Settings.from_env()
        configure_logging(settings.log_level, settings.log_format)
        runtime = build_runtime(settings, channel)
    install(runtime)
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.url_map.converters["int"] = IdConverter  # before any route is added
    app.json = BoundedJSON(app)
    app.config.update(
        SECRET_KEY=runtime.settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.extensions["grievance"] = runtime

    from grievance.web import (  # noqa: F401 - api_remediation and api_reports add routes to api.bp
        admin,
        api,
        api_remediation,
        api_reports,
        auth,
        cases,
        dashboard,
        errors,
        fonts,
        health,
        i18n,
        labels,
        procedure,
        reports,
        security,
        simulator,
        sso,
        supplier,
        times,
        voice,
        webhooks,
        wellbeing,
    )

    app.register_blueprint(webhooks.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    sso.install(app, runtime)  # its pages exist only when single sign-on is configured
    app.register_blueprint(cases.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(supplier.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(wellbeing.bp)
    app.register_blueprint(wellbeing.moved)
    app.register_blueprint(procedure.bp)
    i18n.install(app)  # staff pages in the reader's language, before the filters that use it
    app.jinja_env.globals["zip"] = zip
    app.jinja_env.filters.update(labels.FILTERS)
    app.jinja_env.filters.update(times.FILTERS)  # times in the reader's zone (web/times.py)
    # The fonts of the line's own scripts, preloaded on every page (web/fonts.py).
    app.jinja_env.globals["preload_fonts"] = fonts.preloads(runtime.settings.languages)
    # Browser notifications ask for new alerts as often as the live queue asks for changes.
    app.jinja_env.globals["alert_poll_seconds"] = cases.POLL_SECONDS
    if runtime.channel_name == "console":
        app.register_blueprint(simulator.bp)
    security.install(app, runtime)
    # Signed by Twilio, driven by a test page on the console channel only.
    security.csrf.exempt(webhooks.bp)
    security.csrf.exempt(voice.bp)  # signed by Twilio, like the messaging webhook
    security.csrf.exempt(simulator.bp)
    security.csrf.exempt(api.bp)  # bearer tokens, never cookies
    errors.register(app)

    logging.getLogger(__name__).debug("app created with the %s channel", runtime.channel_name)
    return app
