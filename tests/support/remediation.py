"""The remediation loop's fixed parts: an evidence PDF, the handler's summary for the supplier,
the worker's update notice, and two suppliers with a site and a user each."""

from __future__ import annotations

from grievance.auth import accounts
from grievance.models import Site
from grievance.runtime import Runtime
from tests.support.staff import PASSWORD

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SUMMARY = "A worker reports paying recruitment fees to an agency in the home country."
NOTICE = "There is an update on your report. Reply STATUS to read it."


def orgs(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        a = accounts.create_organisation(session, "Sunrise Garments", "supplier")
        b = accounts.create_organisation(session, "Other Supplier", "supplier")
        site = Site(supplier_id=a.id, name="Penang plant 2", country="MY")
        session.add(site)
        session.flush()
        for email, org in (("a@example.org", a.name), ("b@example.org", b.name)):
            accounts.create_user(
                session, email, "supplier", PASSWORD, org, must_change_password=False
            )
        session.commit()
        return {"a": a.id, "b": b.id, "site": site.id}
