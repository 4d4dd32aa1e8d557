"""What tests look up in the demo data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import Organisation


def first_supplier(session: Session) -> Organisation:
    """The demo's first supplier organisation."""
    supplier = session.scalars(
        select(Organisation).where(Organisation.kind == "supplier").order_by(Organisation.id)
    ).first()
    assert supplier is not None, "the demo creates suppliers"
    return supplier
