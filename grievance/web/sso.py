"""Optional single sign-on with OpenID Connect (Authlib): the organisation's identity provider
says who someone is; this application still says what they may do.

Only an existing, active account is signed in, found by the verified email address in the ID
token; nobody is created by signing in (an administrator invites people). The account's own
second factor is still asked when it has one, and enrolment still applies where the role
requires it: the identity provider replaces the password, not the rest of sign-in. Authlib
checks the ID token: its signature against the provider's published keys, issuer, audience,
expiry and nonce; the state parameter binds the answer to the browser that asked.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, abort, current_app, render_template, request, session
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import User
from grievance.runtime import Runtime
from grievance.web import auth

log = logging.getLogger(__name__)
bp = Blueprint("sso", __name__)
PROVIDER = "idp"


def install(app: Flask, runtime: Runtime) -> None:
    """Register the identity provider and the pages when single sign-on is configured."""
    oidc = runtime.settings.oidc
    if oidc is None:
        return
    app.register_blueprint(bp)
    oauth = OAuth(app)  # one per app: the registry holds the provider's client and metadata
    oauth.register(
        PROVIDER,
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        server_metadata_url=f"{oidc.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email", "timeout": 10},
    )
    app.extensions["grievance_sso"] = oauth
    app.jinja_env.globals["sso_label"] = oidc.label


def _client() -> Any:
    return current_app.extensions["grievance_sso"].create_client(PROVIDER)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _callback_url(runtime: Runtime) -> str:
    """Where the provider sends the browser back: registered with it, so never from the Host."""
    return f"{runtime.settings.public_base_url}/login/sso/callback"


def _refused(why: str) -> ResponseReturnValue:
    session.clear()
    return render_template("auth/login.html", error=why), 401


@bp.get("/login/sso")
def start() -> ResponseReturnValue:
    """Off to the identity provider."""
    runtime = _runtime()
    if runtime.settings.oidc is None:
        abort(404)
    target = request.args.get("next")
    session.clear()
    session["next"] = target
    client = _client()
    try:
        return client.authorize_redirect(_callback_url(runtime))  # type: ignore[no-any-return]
    except Exception as exc:  # the provider's discovery document could not be read
        log.warning("single sign-on could not start (%s)", type(exc).__name__)
        return _refused("Single sign-on is not available right now. Sign in with your password.")


@bp.get("/login/sso/callback")
def callback() -> ResponseReturnValue:
    """The provider's answer: a code, exchanged for an ID token, which names the account."""
    runtime = _runtime()
    if runtime.settings.oidc is None:
        abort(404)
    client = _client()
    try:
        token = client.authorize_access_token()
    except Exception as exc:  # a wrong state, a refused code, a token that does not verify
        log.warning("single sign-on did not complete (%s)", type(exc).__name__)
        return _refused("Single sign-on did not complete. Try again, or use your password.")
    claims = token.get("userinfo") or {}
    email = claims.get("email")
    if not isinstance(email, str) or claims.get("email_verified") is not True:
        return _refused("Your identity provider did not give a verified email address.")
    with runtime.sessions() as db:
        try:
            address = accounts.normalize_email(email)
        except accounts.AccountError:
            return _refused("Your identity provider gave an email address this line cannot use.")
        user = db.scalar(select(User).where(User.email == address))
        if user is None or not user.active:
            log.info("single sign-on for an address with no active account")
            return _refused(
                "No active account here uses the address your identity provider gave. "
                "Ask an administrator to invite you."
            )
        if accounts.is_locked(user, utcnow()):
            return _refused("This account is locked for a few minutes after failed sign-ins.")
        target = session.get("next")
        session.clear()
        session["pending"] = {
            "uid": user.id,
            "v": user.session_version,
            "at": time.time(),
            "f": user.failed_logins,
            "m": "single sign-on",
        }
        session["next"] = target
        return auth.continue_sign_in(db, user, runtime, target, method="single sign-on")
