"""Admin pages: the directory of organisations (the contacts file's entries and those added
here, each marked for its uses), and the audit log."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from grievance.auth import accounts
from grievance.contacts import KINDS, PHONE, USES
from grievance.models import AuditEvent, ReferralOrg, User
from grievance.runtime import Runtime
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
        problem = "An organisation needs a name and how to reach it."
    elif country is not None and (len(country) != 2 or not country.isalpha()):
        problem = "The country is a two-letter code, like MY or NP."
    elif any(len(n) != 2 or not n.isalpha() for n in nationals):
        problem = "Whose citizens it serves: two-letter codes, like NP MM."
    elif phone and not PHONE.match(phone):
        problem = (
            "The phone number has digits, spaces, dashes and an optional +, like +60 3-2020 1898."
        )
    elif not phone and set(uses) - {"referrals"}:
        problem = "Give a phone number: workers are given the number to call."
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
    flash(f"Added {name}.", "ok")
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
