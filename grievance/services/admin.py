"""Administration: accounts, organisations, sites and buyers' suppliers, one definition for the
admin pages and the command line.

Every change is audited (who, what, which account or organisation by id; never a password,
a link or anything from a case). ``actor`` is the admin signed in to the pages, or None for
the command line, whose entries say so. Each function changes the caller's session; the
caller commits, then sends the emails it was given (:func:`grievance.services.mails.enqueue_mails`).

Invitations: the admin never sees a password. Inviting a user, or resetting their password,
emails them a one-time link (only its SHA-256 is stored, and the email's body is erased from
the outbox once sent) that expires after ``GRIEVANCE_INVITE_HOURS``; opening it lets them
choose a password, after which the sign-in they already know follows (with an authenticator
for admins and handlers).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.auth import accounts
from grievance.auth.accounts import AccountError
from grievance.clock import utcnow
from grievance.models import Invitation, Organisation, Site, User
from grievance.models.accounts import buyer_suppliers
from grievance.runtime import Runtime
from grievance.services.mails import queue_mail

INVITE = "invite"
RESET = "reset"
TOKEN_PREFIX = "gi_"
# What a link that cannot be used says, in words for the person who clicked it.
LINK_USED = (
    "This link has already been used. Sign in with your password, or ask an admin for a new link."
)
LINK_EXPIRED = "This link has expired or was replaced by a newer one. Ask an admin for a new link."
LINK_UNKNOWN = (
    "This link does not work. Copy the whole link from the email, or ask an admin for a new one."
)


@contextmanager
def _unique(message: str) -> Iterator[None]:
    """Two admins doing the same at once: the database's unique constraint refuses the second,
    which is told in words like any other refusal (the caller rolls back), never a 500."""
    try:
        yield
    except IntegrityError:
        raise AccountError(message) from None


def _by(actor: User | None) -> str:
    return "" if actor is not None else " (command line)"


def _audit(session: Session, actor: User | None, action: str, detail: str) -> None:
    accounts.audit(session, actor, action, None, detail + _by(actor))


# -- users -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """One line of the users' list: nothing secret."""

    id: int
    email: str
    role: str
    organisation: str | None
    active: bool
    second_factor: bool
    last_sign_in: datetime | None
    invited: bool  # a link is out and no password has been set with it yet


def list_users(session: Session) -> list[UserRow]:
    """Every user, by email."""
    return _rows(session, select(User).order_by(User.email))


def user_row(session: Session, user_id: int) -> UserRow | None:
    """One user's line, or None."""
    rows = _rows(session, select(User).where(User.id == user_id))
    return rows[0] if rows else None


def _rows(session: Session, users: Select[User]) -> list[UserRow]:
    """The lines of ``users``, with their organisation and whether an invitation is out."""
    names = dict(session.execute(select(Organisation.id, Organisation.name)).tuples().all())
    waiting = set(
        session.scalars(
            select(Invitation.user_id).where(
                Invitation.used_at.is_(None),
                Invitation.purpose == INVITE,
                Invitation.expires_at > utcnow(),
            )
        )
    )
    return [
        UserRow(
            id=user.id,
            email=user.email,
            role=user.role,
            organisation=names.get(user.organisation_id or 0),
            active=user.active,
            second_factor=user.totp_enabled_at is not None,
            last_sign_in=user.last_login_at,
            invited=user.id in waiting and user.last_login_at is None,
        )
        for user in session.scalars(users).all()
    ]


def find_user(session: Session, email: str) -> User:
    """The user with this email, or an error that says how to see who exists."""
    user = session.scalar(select(User).where(User.email == accounts.normalize_email(email)))
    if user is None:
        raise AccountError(f"no user {email.strip()}; `grievance users list` shows who exists")
    return user


def invite_user(
    runtime: Runtime,
    session: Session,
    actor: User | None,
    email: str,
    role: str,
    organisation: str | None = None,
) -> tuple[User, int | None]:
    """A new user who chooses their own password through an emailed link; the user and the
    email's id (to enqueue after the commit). Nobody ever sees a password."""
    # A password nobody knows: the account cannot be signed in to until the link is used.
    with _unique(f"a user {email.strip().lower()} already exists"):
        user = accounts.create_user(
            session,
            email,
            role,
            accounts.generate_password() + accounts.generate_password(),
            organisation or None,
            must_change_password=False,
        )
    mail_id = _send_link(runtime, session, actor, user, INVITE)
    _audit(session, actor, "user_invited", f"user={user.id} role={role}")
    return user, mail_id


def reset_password(
    runtime: Runtime, session: Session, actor: User | None, user: User
) -> int | None:
    """Email the user a link to choose a new password. The old one stops working at once and
    their sessions and tokens end: a reset is asked for when a password may be known to
    someone else."""
    if not user.active:
        raise AccountError(f"{user.email} is deactivated; activate the account first")
    user.password_hash = accounts.hash_password(
        accounts.generate_password() + accounts.generate_password()
    )
    accounts.end_access(session, user)
    # Someone who never signed in gets an invitation again, and the list still shows them invited.
    mail_id = _send_link(
        runtime, session, actor, user, INVITE if user.last_login_at is None else RESET
    )
    _audit(session, actor, "password_reset_sent", f"user={user.id}")
    return mail_id


def _send_link(
    runtime: Runtime, session: Session, actor: User | None, user: User, purpose: str
) -> int | None:
    """A fresh one-time link for ``user`` (older ones stop working), emailed to them."""
    now = utcnow()
    for older in session.scalars(
        select(Invitation).where(
            Invitation.user_id == user.id, Invitation.used_at.is_(None), Invitation.expires_at > now
        )
    ):
        older.expires_at = now
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    hours = runtime.settings.invite_hours
    session.add(
        Invitation(
            user_id=user.id,
            token_hash=_token_hash(token),
            purpose=purpose,
            created_by=actor.id if actor is not None else None,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    link = f"{runtime.settings.public_base_url}/invitation?token={token}"
    if purpose == INVITE:
        subject = "You are invited to the grievance line's staff pages"
        opening = f"An admin has given you an account ({user.role}) on the grievance line."
    else:
        subject = "Choose a new password for the grievance line"
        opening = "An admin has reset your password on the grievance line."
    body = (
        f"{opening}\n\n"
        f"Open this link to choose your password. It works once, for {hours} hours:\n"
        f"{link}\n\n"
        "If you did not expect this email, do nothing: without the link nobody can use it.\n"
    )
    return queue_mail(session, [user.email], subject, body, secret=True)


def link_for(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The usable invitation behind ``token``, or an error that says, in words, why not."""
    now = now or utcnow()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise AccountError(LINK_UNKNOWN)
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token)).with_for_update()
    )
    if invitation is None:
        raise AccountError(LINK_UNKNOWN)
    if invitation.used_at is not None:
        raise AccountError(LINK_USED)
    if invitation.expires_at <= now:
        raise AccountError(LINK_EXPIRED)
    user = session.get(User, invitation.user_id)
    if user is None or not user.active:
        raise AccountError(LINK_UNKNOWN)
    return invitation


def accept_invitation(session: Session, token: str, password: str) -> User:
    """Set the password with a one-time link; the link is used up. Sign-in follows as usual."""
    invitation = link_for(session, token)
    user = session.get(User, invitation.user_id)
    assert user is not None  # link_for checked
    accounts.set_password(session, user, password)
    user.failed_logins = 0
    user.locked_until = None
    invitation.used_at = utcnow()
    accounts.audit(session, user, "invitation_used", None, f"{invitation.purpose}")
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _not_last_admin(session: Session, user: User, change: str) -> None:
    """Refuse to leave the line without an active admin: nobody could then fix anything."""
    if user.role != "admin" or not user.active:
        return
    admins = session.scalar(
        select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))
    )
    if (admins or 0) <= 1:
        raise AccountError(
            f"{user.email} is the only active admin; {change} would lock everyone out"
        )


def set_active(session: Session, actor: User | None, user: User, active: bool) -> None:
    """Deactivate (no sign-in, no token, sessions end at once) or activate again."""
    if active == user.active:
        return
    if active:
        user.active = True
        _audit(session, actor, "user_activated", f"user={user.id}")
        return
    _not_last_admin(session, user, "deactivating them")
    accounts.deactivate(session, user)
    _audit(session, actor, "user_deactivated", f"user={user.id}")


def change_role(
    session: Session, actor: User | None, user: User, role: str, organisation: str | None
) -> None:
    """A new role (and organisation for a supplier or buyer); sessions and tokens end."""
    if role != "admin":
        _not_last_admin(session, user, "changing their role")
    accounts.set_role(session, user, role, organisation or None)
    _audit(session, actor, "role_changed", f"user={user.id} role={role}")


def reset_second_factor(session: Session, actor: User | None, user: User) -> None:
    """Forget the authenticator (a lost phone): the next sign-in enrols a new one."""
    accounts.reset_mfa(session, user)
    _audit(session, actor, "mfa_reset", f"user={user.id}")


def sign_out_everywhere(session: Session, actor: User | None, user: User) -> int:
    """End every session and revoke every API token of ``user``; how many tokens."""
    accounts.end_sessions(user)
    revoked = accounts.revoke_tokens(session, user)
    _audit(session, actor, "signed_out_everywhere", f"user={user.id} tokens={revoked}")
    return revoked


# -- organisations and buyers' suppliers ---------------------------------------------------


@dataclass(frozen=True)
class OrgRow:
    """One organisation with what hangs on it."""

    id: int
    name: str
    kind: str
    users: int
    sites: int
    suppliers: tuple[str, ...]  # a buyer's linked suppliers
    buyers: tuple[str, ...]  # a supplier's buyers


def list_organisations(session: Session) -> list[OrgRow]:
    """Every organisation, suppliers and buyers, by name."""
    orgs = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    names = {org.id: org.name for org in orgs}
    users = dict(
        session.execute(
            select(User.organisation_id, func.count(User.id)).group_by(User.organisation_id)
        )
        .tuples()
        .all()
    )
    sites = dict(
        session.execute(select(Site.supplier_id, func.count(Site.id)).group_by(Site.supplier_id))
        .tuples()
        .all()
    )
    links = session.execute(select(buyer_suppliers.c.buyer_id, buyer_suppliers.c.supplier_id)).all()
    return [
        OrgRow(
            id=org.id,
            name=org.name,
            kind=org.kind,
            users=users.get(org.id, 0),
            sites=sites.get(org.id, 0),
            suppliers=tuple(sorted(names[s] for b, s in links if b == org.id)),
            buyers=tuple(sorted(names[b] for b, s in links if s == org.id)),
        )
        for org in orgs
    ]


def find_organisation(session: Session, name: str, kind: str | None = None) -> Organisation:
    """The organisation called ``name`` (of ``kind``, when given), or an error in words."""
    org = session.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if org is None:
        raise AccountError(f"no organisation named {name.strip()!r}")
    if kind is not None and org.kind != kind:
        raise AccountError(f"{org.name!r} is a {org.kind}, not a {kind}")
    return org


def create_organisation(session: Session, actor: User | None, name: str, kind: str) -> Organisation:
    """A supplier or buyer organisation."""
    with _unique(f"an organisation named {name.strip()!r} already exists"):
        org = accounts.create_organisation(session, name[:200], kind)
    _audit(session, actor, "organisation_created", f"organisation={org.id} kind={kind}")
    return org


def link_buyer(session: Session, actor: User | None, buyer: str, supplier: str) -> bool:
    """Let a buyer see a supplier's cases (read-only summaries) and figures; False if it
    already could."""
    buyer_org = find_organisation(session, buyer, "buyer")
    supplier_org = find_organisation(session, supplier, "supplier")
    if _linked(session, buyer_org.id, supplier_org.id):
        return False
    with _unique(f"{buyer_org.name} already sees {supplier_org.name}"):
        session.execute(
            insert(buyer_suppliers).values(buyer_id=buyer_org.id, supplier_id=supplier_org.id)
        )
    _audit(session, actor, "buyer_linked", f"buyer={buyer_org.id} supplier={supplier_org.id}")
    return True


def unlink_buyer(session: Session, actor: User | None, buyer: str, supplier: str) -> bool:
    """The buyer no longer sees this supplier; False if it did not."""
    buyer_org = find_organisation(session, buyer, "buyer")
    supplier_org = find_organisation(session, supplier, "supplier")
    if not _linked(session, buyer_org.id, supplier_org.id):
        return False
    session.execute(
        delete(buyer_suppliers).where(
            buyer_suppliers.c.buyer_id == buyer_org.id,
            buyer_suppliers.c.supplier_id == supplier_org.id,
        )
    )
    _audit(session, actor, "buyer_unlinked", f"buyer={buyer_org.id} supplier={supplier_org.id}")
    return True


def _linked(session: Session, buyer_id: int, supplier_id: int) -> bool:
    return (
        session.scalar(
            select(buyer_suppliers.c.buyer_id).where(
                buyer_suppliers.c.buyer_id == buyer_id,
                buyer_suppliers.c.supplier_id == supplier_id,
            )
        )
        is not None
    )


# -- sites ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteRow:
    """One workplace of a supplier."""

    id: int
    name: str
    supplier: str
    country: str | None


def list_sites(session: Session) -> list[SiteRow]:
    """Every site, by supplier and name."""
    rows = session.execute(
        select(Site, Organisation.name)
        .join(Organisation, Organisation.id == Site.supplier_id)
        .order_by(Organisation.name, Site.name)
    ).tuples()
    return [SiteRow(site.id, site.name, supplier, site.country) for site, supplier in rows]


def create_site(
    session: Session, actor: User | None, supplier: str, name: str, country: str
) -> Site:
    """A workplace of a supplier, in a country (a two-letter code such as MY)."""
    name = " ".join(name.split())
    code = country.strip().upper()
    if not name:
        raise AccountError("a site needs a name")
    if len(name) > 200:
        raise AccountError("a site's name has at most 200 characters")
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise AccountError("the country is a two-letter code, like MY or TH")
    org = find_organisation(session, supplier, "supplier")
    taken = session.scalar(select(Site.id).where(Site.supplier_id == org.id, Site.name == name))
    if taken is not None:
        raise AccountError(f"{org.name} already has a site named {name!r}")
    site = Site(supplier_id=org.id, name=name, country=code)
    session.add(site)
    session.flush()
    _audit(session, actor, "site_created", f"site={site.id} supplier={org.id}")
    return site
