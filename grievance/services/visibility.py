"""What a supplier or a buyer may see of a case, defined once.

A supplier sees its own cases from the moment a handler refers one to it, and only the
handler's redacted summary: never the worker's words, language, workplace as written, or
exact times. A buyer sees the cases of the suppliers linked to it, the same way. Staff see
everything and do not use these rules. The portal pages, the JSON API, the pulse pages and
the reports all read them from here; acting on a case (a plan, a step) additionally needs
the supplier's own organisation (:func:`acts_for`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from grievance.models import Agency, Case, CaseRecruitment, Organisation, Site, User
from grievance.models.accounts import buyer_suppliers

# The stages in which a case is visible to its supplier (and that supplier's buyers).
SUPPLIER_STAGES = (
    "with_supplier",
    "remediation_in_progress",
    "awaiting_worker",
    "resolved",
    "closed",
)
# The portal's lists show at most this many cases, most urgent first.
PAGE = 100


def visible_suppliers(db: Session, user: User) -> list[int]:
    """The supplier organisations whose cases this user may read (none for staff: they
    read every case by other means)."""
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


def visible(db: Session, user: User) -> Select[Case]:
    """The cases a supplier or buyer may read, as a query to narrow further."""
    return select(Case).where(
        Case.supplier_id.in_(visible_suppliers(db, user)), Case.status.in_(SUPPLIER_STAGES)
    )


def acts_for(case: Case, user: User) -> bool:
    """Whether ``user`` is the supplier the case is referred to (and so may plan for it)."""
    return user.role == "supplier" and user.organisation_id == case.supplier_id


def summary_of(db: Session, case: Case) -> dict[str, Any]:
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
        # The agency a handler linked: named to this supplier on its own cases only.
        "agency": _agency_name(db, case),
        "received": case.created_at.date().isoformat(),
        "due": case.due_at.date().isoformat() if case.due_at else None,
    }


def _agency_name(db: Session, case: Case) -> str | None:
    agency_id = db.scalar(
        select(CaseRecruitment.agency_id).where(CaseRecruitment.case_id == case.id)
    )
    agency = db.get(Agency, agency_id) if agency_id is not None else None
    return agency.name if agency is not None else None
