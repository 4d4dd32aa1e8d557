"""The one directory of organisations that help: the contacts file and the entries admins
add in the browser, each marked for what it may be used for (grievance.contacts.USES).

Everything that gives a worker a number or offers a handler a referral reads this list:
the danger reply (emergency), RIGHTS' "who to call", the /rights page and the rules of
procedure (workers), and the case page's referrals (referrals). Each time a worker is given
an entry's details, a ``ContactGiven`` row counts it by month, with no case and no contact:
a programme can count the referrals it made without anyone learning to whom.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.contacts import KINDS, USES, HelpContact
from grievance.models import ContactGiven, ReferralOrg
from grievance.runtime import Runtime

# Entries from the browser are known by this prefix and their row id.
ROW = "db-"


def entries(session: Session, runtime: Runtime) -> tuple[HelpContact, ...]:
    """The whole directory: the file's entries, then the browser's active ones."""
    rows = session.scalars(
        select(ReferralOrg).where(ReferralOrg.active).order_by(ReferralOrg.name, ReferralOrg.id)
    ).all()
    return (*runtime.settings.contacts, *(from_row(row) for row in rows))


def from_row(row: ReferralOrg) -> HelpContact:
    """A browser entry as a directory entry; without a phone it is for staff only."""
    uses = tuple(u for u in (row.uses or []) if u in USES) or ("referrals",)
    if not row.phone:
        uses = tuple(u for u in uses if u == "referrals") or ("referrals",)
    return HelpContact(
        name=row.name,
        phone=row.phone or "",
        kind=row.kind if row.kind in KINDS else "other",
        emergency="emergency" in uses,
        countries=(row.country,) if row.country else (),
        languages=tuple(row.languages or ()),
        nationals=tuple(row.nationals or ()),
        uses=uses,
        hours=row.hours or "",
        how=row.how_to_reach,
        key=f"{ROW}{row.id}",
    )


def find(session: Session, runtime: Runtime, ref: str) -> HelpContact | None:
    """The entry called ``ref`` (a file entry's id, or ``db-<row id>``), if it is listed."""
    return next((c for c in entries(session, runtime) if c.ref == ref), None)


def record_given(session: Session, given: Iterable[HelpContact], given_as: str) -> None:
    """Count that a worker was given these entries' details, this month. ``given_as``:
    "emergency" (danger), "rights" (who to call) or "referral" (a handler sent it)."""
    month = f"{utcnow():%Y-%m}"
    for contact in given:
        session.add(
            ContactGiven(ref=contact.ref, name=contact.name[:200], given_as=given_as, month=month)
        )


def given_counts(session: Session, first: date, last: date) -> dict[tuple[str, str], int]:
    """{(organisation name, month): times given} for the months from ``first`` to ``last``."""
    rows = session.execute(
        select(ContactGiven.name, ContactGiven.month, func.count(ContactGiven.id))
        .where(
            ContactGiven.month >= f"{first:%Y-%m}",
            ContactGiven.month <= f"{last:%Y-%m}",
        )
        .group_by(ContactGiven.name, ContactGiven.month)
    )
    return {(name, month): int(count) for name, month, count in rows}


def how_to_reach(contact: HelpContact) -> str:
    """The number (with its hours) and the staff's note on reaching it, for a worker."""
    number = contact.phone + (f" ({contact.hours})" if contact.hours and contact.phone else "")
    return "; ".join(part for part in (number, contact.how) if part)
