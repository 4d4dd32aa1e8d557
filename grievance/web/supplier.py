"""The supplier portal, ``/supplier/...``, and buyers' read-only view of their suppliers' cases.

A supplier user sees only its own organisation's cases, and of each only what
a handler wrote for it: the redacted summary, category, severity, site, and
dates to the day. Never the worker's words, attachments, language or exact
times. A buyer sees the same summaries for the suppliers linked to it. Any
other case id answers 404, exactly like a case that does not exist.

Remediation plans, steps and evidence follow with the rest of issue 6.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.models import Case, Organisation, Site, User
from grievance.models.accounts import buyer_suppliers
from grievance.runtime import Runtime
from grievance.web.security import roles_required

bp = Blueprint("supplier", __name__, url_prefix="/supplier")
# Stages in which a case is the supplier's business: referred to it, or since.
SUPPLIER_STAGES = (
    "with_supplier",
    "remediation_in_progress",
    "awaiting_worker",
    "resolved",
    "closed",
)
PAGE = 100


def _runtime() -> Runtime:
    runtime: Runtime = current_app.extensions["grievance"]
    return runtime


def _visible_suppliers(db: Session, user: User) -> list[int]:
    """The supplier organisations whose cases this user may read."""
    if user.role == "supplier" and user.organisation_id is not None:
        return [user.organisation_id]
    if user.role == "buyer" and user.organisation_id is not None:
        return list(
            db.scalars(
                select(buyer_suppliers.c.supplier_id).where(
                    buyer_suppliers.c.buyer_id == user.organisation_id
                )
            )
        )
    return []


def _visible(db: Session, user: User):  # type: ignore[no-untyped-def]
    return select(Case).where(
        Case.supplier_id.in_(_visible_suppliers(db, user)), Case.status.in_(SUPPLIER_STAGES)
    )


@bp.get("/cases")
@roles_required("supplier", "buyer")
def cases() -> ResponseReturnValue:
    """The organisation's cases, most urgent first."""
    with _runtime().sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        rows = db.scalars(
            _visible(db, user).order_by(Case.severity, Case.due_at, Case.id).limit(PAGE)
        ).all()
        accounts.audit(db, user, "supplier_cases_viewed", None, f"{len(rows)} cases")
        db.commit()
        return render_template("supplier/cases.html", cases=[_summary(db, c) for c in rows])


@bp.get("/cases/<int:case_id>")
@roles_required("supplier", "buyer")
def case(case_id: int) -> ResponseReturnValue:
    """One case as the supplier (or buyer) may see it; any other id is a 404."""
    with _runtime().sessions() as db:
        user = db.get(User, current_user.user_id)
        assert user is not None
        found = db.scalar(_visible(db, user).where(Case.id == case_id)) if case_id < 2**31 else None
        if found is None:
            abort(404)
        accounts.audit(db, user, "supplier_case_viewed", found.id)
        db.commit()
        return render_template("supplier/case.html", case=_summary(db, found))


def _summary(db: Session, case: Case) -> dict[str, object]:
    """Only what a supplier may see: no words, no language, dates to the day."""
    site = db.get(Site, case.site_id) if case.site_id else None
    supplier = db.get(Organisation, case.supplier_id) if case.supplier_id else None
    return {
        "id": case.id,
        "status": case.status,
        "category": case.category,
        "severity": case.severity,
        "site": site.name if site else None,
        "supplier": supplier.name if supplier else None,
        "summary": case.supplier_summary,
        "received": case.created_at.date().isoformat(),
        "due": case.due_at.date().isoformat() if case.due_at else None,
    }
