"""Admin pages: users, organisations and their sites, buyers' suppliers, the directory of
organisations that help (the contacts file's entries and those added here, each marked for
its uses), and the audit log."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.contacts import KINDS, PHONE, USES
from grievance.models import AuditEvent, ReferralOrg, User
from grievance.models.accounts import ORG_KINDS, ROLES
from grievance.runtime import Runtime
from grievance.services import admin
from grievance.services.mails import enqueue_mails
from grievance.web.security import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 100


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


@bp.get("/referrals")
@roles_required("admin")
def referrals() -> ResponseReturnValue:
    """The referral directory: unions, NGOs, legal aid, embassies."""
    with _runtime().sessions() as db:
        rows = db.scalars(
            select(ReferralOrg).order_by(ReferralOrg.active.desc(), ReferralOrg.name)
        ).all()
        return render_template(
            "admin/referrals.html",
            referrals=rows,
            file_entries=_runtime().settings.contacts,
            uses=USES,
            kinds=KINDS,
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/referrals")
@roles_required("admin")
def add_referral() -> ResponseReturnValue:
    """Add an organisation to the directory."""
    form = request.form
    name, how = form.get("name", "").strip(), form.get("how_to_reach", "").strip()
    country = form.get("country", "").strip().upper() or None
    languages = [
        x.strip() for x in form.get("languages", "").replace(",", " ").split() if x.strip()
    ]
    phone, hours = form.get("phone", "").strip(), form.get("hours", "").strip()
    uses = [u for u in USES if u in form.getlist("uses")] or ["referrals"]
    kind = form.get("kind", "other") if form.get("kind") in KINDS else "other"
    nationals = [x.upper() for x in form.get("nationals", "").replace(",", " ").split()]
    problem = None
    if not name or not how:
        problem = gettext("An organisation needs a name and how to reach it.")
    elif country is not None and (len(country) != 2 or not country.isalpha()):
        problem = gettext("The country is a two-letter code, like MY or NP.")
    elif any(len(n) != 2 or not n.isalpha() for n in nationals):
        problem = gettext("Whose citizens it serves: two-letter codes, like NP MM.")
    elif phone and not PHONE.match(phone):
        problem = gettext(
            "The phone number has digits, spaces, dashes and an optional +, like +60 3-2020 1898."
        )
    elif not phone and set(uses) - {"referrals"}:
        problem = gettext("Give a phone number: workers are given the number to call.")
    if problem is not None:
        flash(problem, "error")
        return redirect(url_for("admin.referrals")), 303
    with _runtime().sessions() as db:
        referral = ReferralOrg(
            name=name[:200],
            country=country,
            languages=languages[:20],
            how_to_reach=how[:2000],
            phone=phone or None,
            hours=hours[:200] or None,
            uses=uses,
            kind=kind,
            nationals=nationals[:20],
        )
        db.add(referral)
        db.flush()
        accounts.audit(
            db,
            db.get(User, current_user.user_id),
            "referral_added",
            None,
            f"referral={referral.id}",
        )
        db.commit()
    flash(gettext("Added %(name)s.", name=name), "ok")
    return redirect(url_for("admin.referrals")), 303


@bp.post("/referrals/<int:referral_id>/toggle")
@roles_required("admin")
def toggle_referral(referral_id: int) -> ResponseReturnValue:
    """Withdraw an organisation from the directory, or bring it back (cases keep their referrals)."""
    with _runtime().sessions() as db:
        referral = db.get(ReferralOrg, referral_id) if referral_id < 2**31 else None
        if referral is None:
            return redirect(url_for("admin.referrals")), 303
        referral.active = not referral.active
        accounts.audit(
            db,
            db.get(User, current_user.user_id),
            "referral_toggled",
            None,
            f"referral={referral.id}",
        )
        db.commit()
    return redirect(url_for("admin.referrals")), 303


@bp.get("/audit")
@roles_required("admin")
def audit() -> ResponseReturnValue:
    """The audit log, newest first; filter by case or user. It holds no content and no numbers."""
    case_id = request.args.get("case", "")
    before = request.args.get("before", "")
    with _runtime().sessions() as db:
        statement = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
        if case_id.isdigit() and int(case_id) < 2**31:
            statement = statement.where(AuditEvent.case_id == int(case_id))
        if before.isdigit() and int(before) < 2**63:
            statement = statement.where(AuditEvent.id < int(before))
        rows = db.execute(statement.order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE + 1)).all()
        more = len(rows) > AUDIT_PAGE
        rows = rows[:AUDIT_PAGE]
        accounts.audit(db, db.get(User, current_user.user_id), "audit_viewed")
        db.commit()
        return render_template(
            "admin/audit.html",
            rows=rows,
            case_id=case_id,
            next_before=rows[-1][0].id if more and rows else None,
        )


# -- users, organisations and sites -----------------------------------------------------
#
# Every change goes through grievance.services.admin (the command line uses the same
# functions) and is audited there. A change that cannot be done says why on the page.


def _actor(db: Session) -> User:
    user = db.get(User, current_user.user_id)
    assert user is not None  # the session's user exists: the loader checked
    return user


# The services word some refusals for the command line; the page names its own fields.
_FOR_THE_PAGE = (
    ("give --org NAME", "choose one"),
    ("--org", "an organisation"),
    ("--kind", "the kind"),
    ("--role", "the role"),
)


def _said(exc: accounts.AccountError) -> str:
    """An error message as a sentence on the page."""
    text = str(exc)
    for cli, page in _FOR_THE_PAGE:
        text = text.replace(cli, page)
    return f"{text[0].upper()}{text[1:]}" + ("" if text.endswith(".") else ".")


def _done(endpoint: str, user_id: int | None = None) -> ResponseReturnValue:
    """Back to the page (303: the browser asks it with GET)."""
    target = url_for(endpoint) if user_id is None else url_for(endpoint, user_id=user_id)
    return redirect(target), 303


@bp.get("/users")
@roles_required("admin")
def users() -> ResponseReturnValue:
    """Every account: role, organisation, whether active, second factor, last sign-in."""
    with _runtime().sessions() as db:
        return render_template(
            "admin/users.html",
            users=admin.list_users(db),
            roles=ROLES,
            organisations=admin.list_organisations(db),
            hours=_runtime().settings.invite_hours,
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/users")
@roles_required("admin")
def invite() -> ResponseReturnValue:
    """Invite someone: they get an email with a link to choose their password."""
    form = request.form
    runtime = _runtime()
    with runtime.sessions() as db:
        try:
            user, mail_id = admin.invite_user(
                runtime,
                db,
                _actor(db),
                form.get("email", ""),
                form.get("role", ""),
                form.get("organisation", "") if form.get("role") in ORG_KINDS else None,
            )
        except accounts.AccountError as exc:
            db.rollback()
            flash(_said(exc), "error")
            return _done("admin.users")
        email = user.email
        db.commit()
    enqueue_mails(runtime, [mail_id] if mail_id else [])
    flash(
        gettext(
            "Invited %(email)s: the link to choose a password is on its way by email.", email=email
        ),
        "ok",
    )
    return _done("admin.users")


@bp.get("/users/<int:user_id>")
@roles_required("admin")
def user_page(user_id: int) -> ResponseReturnValue:
    """One account and what an admin can do to it."""
    with _runtime().sessions() as db:
        row = admin.user_row(db, user_id)
        if row is None:
            abort(404)
        return render_template(
            "admin/user.html",
            user=row,
            roles=ROLES,
            organisations=admin.list_organisations(db),
            hours=_runtime().settings.invite_hours,
            messages=get_flashed_messages(with_categories=True),
        )


def _change_user(user_id: int, change: Callable[[Session, User, User], str]) -> ResponseReturnValue:
    """Apply ``change(db, actor, user)`` (which says what it did) and go back to the user."""
    with _runtime().sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        try:
            done = change(db, _actor(db), user)
        except accounts.AccountError as exc:
            db.rollback()
            flash(_said(exc), "error")
            return _done("admin.user_page", user_id=user_id)
        db.commit()
    flash(done, "ok")
    return _done("admin.user_page", user_id=user_id)


@bp.post("/users/<int:user_id>/role")
@roles_required("admin")
def set_role(user_id: int) -> ResponseReturnValue:
    """A new role (and organisation for suppliers and buyers); their sessions and tokens end."""
    role = request.form.get("role", "")
    organisation = request.form.get("organisation", "") if role in ORG_KINDS else None

    def change(db: Session, actor: User, user: User) -> str:
        admin.change_role(db, actor, user, role, organisation)
        return str(
            gettext("%(email)s is now %(role)s; they sign in again.", email=user.email, role=role)
        )

    return _change_user(user_id, change)


@bp.post("/users/<int:user_id>/active")
@roles_required("admin")
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate (no sign-in, no token from now on) or activate again."""
    active = request.form.get("active") == "1"

    def change(db: Session, actor: User, user: User) -> str:
        admin.set_active(db, actor, user, active)
        if active:
            return str(gettext("%(email)s is active.", email=user.email))
        return str(gettext("%(email)s is deactivated.", email=user.email))

    return _change_user(user_id, change)


@bp.post("/users/<int:user_id>/reset-mfa")
@roles_required("admin")
def reset_mfa(user_id: int) -> ResponseReturnValue:
    """Forget their authenticator (a lost phone): the next sign-in sets up a new one."""

    def change(db: Session, actor: User, user: User) -> str:
        admin.reset_second_factor(db, actor, user)
        return str(
            gettext(
                "Two-step sign-in reset for %(email)s: they set up a new authenticator.",
                email=user.email,
            )
        )

    return _change_user(user_id, change)


@bp.post("/users/<int:user_id>/sign-out")
@roles_required("admin")
def sign_out(user_id: int) -> ResponseReturnValue:
    """End every session and revoke every API token of the user."""

    def change(db: Session, actor: User, user: User) -> str:
        tokens = admin.sign_out_everywhere(db, actor, user)
        return str(
            ngettext(
                "%(email)s is signed out everywhere; %(num)d API token revoked.",
                "%(email)s is signed out everywhere; %(num)d API tokens revoked.",
                tokens,
                email=user.email,
            )
        )

    return _change_user(user_id, change)


@bp.post("/users/<int:user_id>/reset-password")
@roles_required("admin")
def reset_password(user_id: int) -> ResponseReturnValue:
    """Email a link to choose a new password; the old one stops working now."""
    runtime = _runtime()
    mails: list[int] = []

    def change(db: Session, actor: User, user: User) -> str:
        mail_id = admin.reset_password(runtime, db, actor, user)
        mails.extend([mail_id] if mail_id else [])
        return str(
            gettext(
                "%(email)s gets an email with a link to choose a new password.", email=user.email
            )
        )

    response = _change_user(user_id, change)
    enqueue_mails(runtime, mails)
    return response


@bp.get("/organisations")
@roles_required("admin")
def organisations() -> ResponseReturnValue:
    """Suppliers and buyers, and which suppliers each buyer sees."""
    with _runtime().sessions() as db:
        return render_template(
            "admin/organisations.html",
            organisations=admin.list_organisations(db),
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/organisations")
@roles_required("admin")
def add_organisation() -> ResponseReturnValue:
    """A new supplier or buyer."""
    with _runtime().sessions() as db:
        try:
            org = admin.create_organisation(
                db, _actor(db), request.form.get("name", ""), request.form.get("kind", "")
            )
        except accounts.AccountError as exc:
            db.rollback()
            flash(_said(exc), "error")
            return _done("admin.organisations")
        flash(gettext("Added %(name)s (%(kind)s).", name=org.name, kind=org.kind), "ok")
        db.commit()
    return _done("admin.organisations")


@bp.post("/organisations/links")
@roles_required("admin")
def buyer_link() -> ResponseReturnValue:
    """Link a buyer to a supplier it sources from, or undo the link."""
    buyer, supplier = request.form.get("buyer", ""), request.form.get("supplier", "")
    unlink = request.form.get("action") == "unlink"
    with _runtime().sessions() as db:
        try:
            if unlink:
                changed = admin.unlink_buyer(db, _actor(db), buyer, supplier)
            else:
                changed = admin.link_buyer(db, _actor(db), buyer, supplier)
        except accounts.AccountError as exc:
            db.rollback()
            flash(_said(exc), "error")
            return _done("admin.organisations")
        db.commit()
    if unlink:
        said = (
            gettext("%(buyer)s no longer sees %(supplier)s.", buyer=buyer, supplier=supplier)
            if changed
            else gettext("%(buyer)s did not see %(supplier)s.", buyer=buyer, supplier=supplier)
        )
    else:
        said = (
            gettext("%(buyer)s now sees %(supplier)s.", buyer=buyer, supplier=supplier)
            if changed
            else gettext("%(buyer)s already sees %(supplier)s.", buyer=buyer, supplier=supplier)
        )
    flash(said, "ok")
    return _done("admin.organisations")


@bp.get("/sites")
@roles_required("admin")
def sites() -> ResponseReturnValue:
    """Every supplier's sites (workplaces)."""
    with _runtime().sessions() as db:
        return render_template(
            "admin/sites.html",
            sites=admin.list_sites(db),
            suppliers=[o for o in admin.list_organisations(db) if o.kind == "supplier"],
            messages=get_flashed_messages(with_categories=True),
        )


@bp.post("/sites")
@roles_required("admin")
def add_site() -> ResponseReturnValue:
    """A new site of a supplier."""
    form = request.form
    with _runtime().sessions() as db:
        try:
            site = admin.create_site(
                db,
                _actor(db),
                form.get("supplier", ""),
                form.get("name", ""),
                form.get("country", ""),
            )
        except accounts.AccountError as exc:
            db.rollback()
            flash(_said(exc), "error")
            return _done("admin.sites")
        flash(gettext("Added the site %(name)s.", name=site.name), "ok")
        db.commit()
    return _done("admin.sites")
