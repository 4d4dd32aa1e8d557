"""The supplier portal's cast: two suppliers with a referred case each, a case not yet
referred, a buyer linked to one supplier, and a user for each."""

from __future__ import annotations

from sqlalchemy import insert

from grievance.auth import accounts
from grievance.models import Case, Site
from grievance.models.accounts import buyer_suppliers
from grievance.runtime import Runtime
from grievance.services import triage
from tests.support.cases import make_cases
from tests.support.staff import PASSWORD

SUMMARY = "Workers report recruitment fees of about 4,000 MYR deducted from wages."


def setup(runtime: Runtime) -> dict[str, int]:
    """Suppliers A and B with a referred case each, a case of A not yet referred, a buyer of A."""
    ids = make_cases(
        runtime, [("P1", "Factory A", 5), ("P2", "Factory B", 5), ("P1", "Factory A", 5)]
    )
    with runtime.sessions() as session:
        a = accounts.create_organisation(session, "Supplier A", "supplier")
        b = accounts.create_organisation(session, "Supplier B", "supplier")
        buyer = accounts.create_organisation(session, "Buyer", "buyer")
        session.execute(insert(buyer_suppliers).values(buyer_id=buyer.id, supplier_id=a.id))
        site_a = Site(supplier_id=a.id, name="Plant A1")
        session.add(site_a)
        session.flush()
        staff = accounts.create_user(
            session, "h@example.org", "handler", PASSWORD, must_change_password=False
        )
        for email, role, org in (
            ("a@example.org", "supplier", a.name),
            ("b@example.org", "supplier", b.name),
            ("buyer@example.org", "buyer", buyer.name),
        ):
            accounts.create_user(session, email, role, PASSWORD, org, must_change_password=False)
        for case_id, supplier, site in ((ids[0], a.id, site_a.id), (ids[1], b.id, None)):
            case = session.get(Case, case_id)
            case.description_encrypted = runtime.protector.encrypt("my supervisor took my passport")
            triage.categorise(session, runtime, case, staff, "FL-FEE", [])
            triage.refer_to_supplier(session, runtime, case, staff, supplier, site, SUMMARY)
        session.commit()
        supplier_ids = {"supplier_a": a.id, "supplier_b": b.id}
    return {"a": ids[0], "b": ids[1], "a_unreferred": ids[2], **supplier_ids}
