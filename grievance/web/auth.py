"""Sign-in: password, then TOTP (or enrolment with a QR code and recovery codes), then the queue.

A password alone never signs anyone in when a second factor is required: it
only opens a five-minute window to give the code. A session is created fresh
(cleared) at the moment sign-in completes, so nothing from before survives it.
"""

from __future__ import annotations

import time

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, refresh
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup

from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.models import User
from grievance.runtime import Runtime
from grievance.services import admin
from grievance.web import i18n, times
from grievance.web.security import Principal, safe_next

bp = Blueprint("auth", __name__)
PENDING_SECONDS = 300
# Wrong codes after which a pending sign-in ends and the password is asked again. They count
# in the database (the account's throttle), not in the cookie, so replaying an older cookie
# gains nothing.
PENDING_CODE_ATTEMPTS = 3


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _pending_user(db) -> User | None:  # type: ignore[no-untyped-def]
    pending = session.get("pending") or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user: User | None = db.get(User, pending.get("uid"))
    if user is None or not user.active or user.session_version != pending.get("v"):
        return None
    return user


def _no_pending() -> ResponseReturnValue:
    """Back to the password. Only a POST changes the session: a link to this page (a GET)
    never signs anyone out."""
    if request.method == "POST":
        session.clear()
    return redirect(url_for("auth.login"))


def _complete(db, user: User, target: str | None, method: str = "password") -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    """Sign in for real: a fresh session, the failure count reset, an audit entry."""
    session.clear()
    accounts.signed_in(user)
    accounts.audit(db, user, "login", detail=None if method == "password" else method)
    db.commit()
    login_user(Principal(user))
    now = int(time.time())
    session.permanent = True
    session["iat"] = session["seen"] = now
    return redirect(safe_next(target))


def continue_sign_in(  # type: ignore[no-untyped-def]
    db, user: User, runtime: Runtime, target: str | None, method: str = "password"
) -> ResponseReturnValue:
    """After the password (or the identity provider): the second factor, its enrolment where
    the role requires one, or the queue."""
    if user.totp_enabled_at is not None:
        return redirect(url_for("auth.second_factor"))
    if accounts.mfa_required(user, runtime.settings.mfa_all_roles):
        return redirect(url_for("auth.mfa_setup"))
    return _complete(db, user, target, method)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    error = None
    if request.method == "POST":
        runtime = _runtime()
        with runtime.sessions() as db:
            result = accounts.check_password(
                db, request.form.get("email", ""), request.form.get("password", "")
            )
            db.commit()
            if result.user is not None:
                user = result.user
                target = request.args.get("next")
                session.clear()
                session["pending"] = {
                    "uid": user.id,
                    "v": user.session_version,
                    "at": time.time(),
                    "f": user.failed_logins,  # where this sign-in's wrong codes start counting
                }
                session["next"] = target
                return continue_sign_in(db, user, runtime, target)
            error = result.reason
    return render_template("auth/login.html", error=error), 401 if error else 200


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    """The six-digit code from the authenticator app, or a recovery code."""
    runtime = _runtime()
    error = None
    with runtime.sessions() as db:
        pending = _pending_user(db)
        if pending is None:
            return _no_pending()
        if request.method == "POST":
            user, accepted = accounts.check_second_factor(
                db, pending.id, runtime.protector, request.form.get("code", "")
            )
            if user is not None and accepted:
                method = session["pending"].get("m", "password")
                return _complete(db, user, session.get("next"), method)
            db.commit()
            wrong = (user.failed_logins if user else 0) - session["pending"].get("f", 0)
            if user is None or wrong >= PENDING_CODE_ATTEMPTS or accounts.is_locked(user, utcnow()):
                session.clear()
                ended = gettext("Too many wrong codes. Sign in again, in a few minutes.")
                return render_template("auth/login.html", error=ended), 401
            error = gettext("That code did not work. Use the newest code, or a recovery code.")
    return render_template("auth/code.html", error=error), 401 if error else 200


@bp.route("/login/setup", methods=["GET", "POST"])
def mfa_setup() -> ResponseReturnValue:
    """Enrol an authenticator app: scan the QR code, confirm one code, keep the recovery codes."""
    runtime = _runtime()
    error = None
    with runtime.sessions() as db:
        user = _pending_user(db)
        if user is None or user.totp_enabled_at is not None:
            return _no_pending()
        if "totp_setup" not in session:
            session["totp_setup"] = runtime.protector.encrypt(accounts.new_totp_secret()).decode()
        secret = runtime.protector.decrypt(session["totp_setup"].encode())
        if request.method == "POST":
            step = accounts.totp_step(secret, request.form.get("code", ""), None, utcnow())
            if step is not None:
                codes = accounts.enable_totp(user, runtime.protector, secret)
                user.totp_last_step = step
                accounts.audit(db, user, "mfa_enrolled")
                target = session.get("next")
                _complete(db, user, target, session["pending"].get("m", "password"))
                return render_template(
                    "auth/recovery_codes.html", codes=codes, next=safe_next(target)
                )
            error = gettext(
                "That code did not match. Check the phone's clock and try the newest code."
            )
        uri = accounts.provisioning_uri(secret, user.email)
        qr = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
        # Only path data: the URI is encoded as QR modules, no text of it reaches the markup.
        svg = Markup(qr.to_string(encoding="unicode"))  # noqa: S704
    return render_template(
        "auth/setup.html", qr=svg, secret=_grouped(secret), error=error
    ), 401 if error else 200


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: this browser, and every copy of its cookie. Sessions live in signed cookies,
    so signing out ends every session of the user (their other devices sign in again)."""
    if current_user.is_authenticated:
        with _runtime().sessions() as db:
            user = db.get(User, current_user.user_id)
            if user is not None:
                accounts.end_sessions(user)
                accounts.audit(db, user, "logout")
            db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> ResponseReturnValue:
    """One's own settings: the language pages are in, and the time zone they show times in.
    Each change is audited, as the time zone always was."""
    runtime = _runtime()
    message = None
    with runtime.sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None

        def page(**extra: object) -> str:
            return render_template(
                "auth/account.html",
                zones=times.zone_names(),
                current=user.time_zone,
                current_locale=i18n.chosen(user.locale),
                default=runtime.settings.time_zone,
                **extra,
            )

        if request.method == "POST":
            zone = request.form.get("time_zone", "").strip()
            language = request.form.get("locale", "").strip()
            if zone and zone not in times.zone_names():
                return page(error=gettext("Choose a time zone from the list.")), 400
            if language and language not in i18n.LANGUAGES:
                return page(error=gettext("Choose a language from the list.")), 400
            # One form holds both choices: each is recorded when it changes, so the audit log
            # says which one someone changed.
            if "time_zone" in request.form and (zone or None) != user.time_zone:
                user.time_zone = zone or None
                accounts.audit(db, user, "time_zone_changed", detail=zone or "the line's default")
            if "locale" in request.form and (language or None) != user.locale:
                user.locale = language or None
                accounts.audit(db, user, "locale_changed", detail=language or "the browser's")
            db.commit()
            # This very response is in the new language: the selector reads the choice from
            # the request's Principal, and Flask-Babel forgets the locale it had picked.
            current_user.locale = user.locale
            current_user.time_zone = user.time_zone
            g.pop("time_zone", None)
            refresh()
            message = gettext(
                "Saved: times are now shown in %(zone)s.", zone=zone or runtime.settings.time_zone
            )
        return page(message=message)


@bp.route("/account/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Replace a one-time password, or change one's password."""
    error = None
    forced = current_user.must_change_password
    if request.method == "POST":
        new, again = request.form.get("new_password", ""), request.form.get("confirm", "")
        with _runtime().sessions() as db:
            user = db.get(User, current_user.user_id)
            assert user is not None
            if (
                not forced
                and accounts.check_password(
                    db, user.email, request.form.get("current_password", "")
                ).user
                is None
            ):
                error = gettext("The current password is not right.")
            elif new != again:
                error = gettext("The two new passwords are not the same.")
            else:
                try:
                    accounts.set_password(db, user, new)
                except accounts.AccountError as exc:
                    error = f"{str(exc)[0].upper()}{str(exc)[1:]}."
            if error is None:
                accounts.audit(db, user, "password_changed")
                db.commit()
                login_user(Principal(user))  # the new session version; other sessions end
                session["iat"] = session["seen"] = int(time.time())
                return redirect(safe_next(None))  # the role's home: suppliers have no queue
            db.commit()
    return render_template("auth/password.html", error=error, forced=forced), 400 if error else 200


@bp.route("/invitation", methods=["GET", "POST"])
def invitation() -> ResponseReturnValue:
    """Choose a password with the one-time link an admin had emailed (an invitation or a
    reset). The token travels in the query string, which the access log never records, and
    then in the form; opening the link uses nothing up (mail scanners open links), only
    choosing the password does. Sign-in follows as usual, with an authenticator for staff."""
    token = request.values.get("token", "")
    error = None
    with _runtime().sessions() as db:
        try:
            link = admin.link_for(db, token)
        except accounts.AccountError as exc:
            return render_template("auth/invitation.html", problem=str(exc)), 410
        user = db.get(User, link.user_id)
        email = user.email if user is not None else ""
        if request.method == "POST":
            new, again = request.form.get("new_password", ""), request.form.get("confirm", "")
            if new != again:
                error = gettext("The two passwords are not the same.")
            else:
                try:
                    admin.accept_invitation(db, token, new)
                except accounts.AccountError as exc:
                    said = str(exc)  # the password policy's words, or a link used meanwhile
                    error = f"{said[0].upper()}{said[1:]}" + ("" if said.endswith(".") else ".")
            if error is None:
                db.commit()
                logout_user()  # whoever was signed in on this browser is not the invited user
                session.clear()
                return render_template("auth/invitation.html", done=True, email=email)
            db.rollback()
    return render_template(
        "auth/invitation.html", token=token, email=email, error=error
    ), 400 if error else 200


@bp.get("/")
def root() -> ResponseReturnValue:
    """The site's address: the signed-in user's home (a stranger is sent to sign in first)."""
    return redirect(safe_next(None))


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
