"""Web security in one place: deny by default, sessions with idle and absolute limits, CSRF,
and the headers every response carries.

Deny by default as SecureDrop does: a ``before_request`` lets through only the
endpoints listed as public; everything else needs a complete sign-in
(password and, where required, TOTP). Flask-Talisman is unmaintained, so the
headers are set here and tested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from flask_login import LoginManager, UserMixin, current_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from grievance.models import User
from grievance.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])

# Endpoints anyone may reach. Twilio's webhooks are protected by their signature,
# the API by bearer tokens, the simulator exists only on the console channel.
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "health.healthz",
        "webhooks.messaging",
        "webhooks.status",
        "auth.login",
        "auth.second_factor",
        "auth.mfa_setup",
        "auth.logout",
        "auth.invitation",
        "sso.start",
        "sso.callback",
    }
)
# The voice blueprint: Twilio's signed webhooks, and the recorded prompts <Play> fetches.
PUBLIC_BLUEPRINTS = frozenset({"simulator", "api", "procedure", "voice"})
# Twilio's webhooks: signed requests from a machine, never a person's browser. No session
# is read or written for them and the sign-in checks do not apply: on the busiest path of
# the line, each of those costs as much as the signature check.
MACHINE_BLUEPRINTS = frozenset({"webhooks", "voice"})
MACHINE_PATH = "/twilio/"  # where both blueprints' routes live


class _SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions, except for Twilio's requests (which carry none)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # By path: Flask opens the session before it matches the URL to a blueprint.
        if request.path.startswith(MACHINE_PATH):
            return self.make_null_session(app)
        return super().open_session(app, request)


# Reachable while a one-time password must still be replaced.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout", "static"})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

# Sent by requests a page makes on its own (htmx polling); they do not extend the session.
BACKGROUND_HEADER = "X-Background"

csrf = CSRFProtect()
login_manager = LoginManager()


class Principal(UserMixin):
    """The signed-in user as the web layer sees them (no secrets)."""

    def __init__(self, user: User) -> None:
        self.user_id = user.id
        self.email = user.email
        self.role = user.role
        self.organisation_id = user.organisation_id
        self.must_change_password = user.must_change_password
        self.session_version = user.session_version
        self.time_zone = user.time_zone
        self.locale = user.locale

    def get_id(self) -> str:
        # The version ends every session when the password changes or the user signs out everywhere.
        return f"{self.user_id}:{self.session_version}"


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@login_manager.user_loader
def _load(identity: str) -> Principal | None:
    try:
        user_id, version = (int(x) for x in identity.split(":"))
    except ValueError:
        return None
    with _runtime().sessions() as db:
        user = db.get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            return None
        return Principal(user)


UPLOAD_ENDPOINTS = frozenset({"supplier.step_evidence", "api.supplier_evidence"})


def install(app: Flask, runtime: Runtime) -> None:
    """Sessions, CSRF, deny-by-default and security headers on ``app``."""
    settings = runtime.settings
    secure = settings.public_base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="__Host-grievance" if secure else "grievance_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_REFRESH_EACH_REQUEST=True,
        PERMANENT_SESSION_LIFETIME=settings.session_max_hours * 3600,
        WTF_CSRF_TIME_LIMIT=settings.session_max_hours * 3600,
        WTF_CSRF_SSL_STRICT=secure,
        # A request for any other Host is refused (400): nothing the app builds from the
        # request's host (redirects, the CSRF referrer check) can be pointed elsewhere.
        TRUSTED_HOSTS=[
            urlsplit(settings.public_base_url).hostname or "localhost",
            "localhost",
            "127.0.0.1",
            "::1",
            *settings.trusted_hosts,
        ],
    )
    if settings.trusted_proxies:
        # Behind a TLS-terminating proxy: the scheme, host and client address it forwards.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]

    @app.before_request
    def _upload_limit() -> None:
        # Evidence files may be larger than any other request: the limit is raised for
        # those views only, before CSRF protection reads the form.
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = settings.evidence_max_bytes + 64 * 1024

    app.session_interface = _SessionInterface()
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are bound by version and timeouts instead
    login_manager.login_view = "auth.login"
    idle = settings.session_idle_minutes * 60
    absolute = settings.session_max_hours * 3600

    @app.before_request
    def deny_by_default() -> BaseResponse | None:
        endpoint = request.endpoint
        if endpoint is None or request.blueprint in MACHINE_BLUEPRINTS:
            return None  # a 404 or 405 follows; Twilio signs its requests
        now = int(time.time())
        if current_user.is_authenticated:
            started, seen = session.get("iat", 0), session.get("seen", 0)
            if now - seen > idle or now - started > absolute:
                logout_user()
                session.clear()
                if endpoint not in PUBLIC_ENDPOINTS:
                    return _to_sign_in()
            elif request.headers.get(BACKGROUND_HEADER) != "true":
                # A page refreshing itself (the live queue) is not the person at the screen:
                # an unattended queue still signs out after the idle time.
                session["seen"] = now
        if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS:
            return None
        if not current_user.is_authenticated:
            return _to_sign_in()
        if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("auth.password"))
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        if request.blueprint == "webhooks":
            # An empty TwiML for Twilio's HTTP client: no browser ever renders it.
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response
        # A response that set a stricter policy of its own keeps it: evidence downloads
        # (a sandbox) and charts (styles only).
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Same-origin only: other sites never learn a case URL, and the app's own forms carry
        # the Referer that CSRF protection checks on https (no-referrer failed every POST).
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if secure:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint not in ("static", "health.healthz") or current_user.is_authenticated:
            # Nothing a signed-in person sees may stay in a shared computer's cache.
            response.headers["Cache-Control"] = "no-store"
        return response


def _local(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?")


def _to_sign_in() -> BaseResponse:
    """Off to the sign-in page. An htmx request (the queue refreshing a table) is told to send
    the whole page there (``HX-Redirect``) instead of swapping the sign-in form into the table."""
    target = url_for("auth.login", next=_local(request.full_path))
    if request.headers.get("HX-Request") == "true":
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a local path, or the role's home page."""
    home = (
        "supplier.cases"
        if current_user.is_authenticated and current_user.role in ("supplier", "buyer")
        else "cases.queue"
    )
    return _local(target) or url_for(home)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Only these roles may use the view; others get 404 (no hint that it exists)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
