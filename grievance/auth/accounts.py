"""Users, organisations and tokens: creating them, checking passwords and second factors.

Choices (docs/security.md says why): argon2-cffi's argon2id with its RFC 9106
low-memory defaults; passwords of 8 to 256 characters with no composition
rules (NIST SP 800-63B, ASVS 2.1); pyotp for RFC 6238 TOTP, a code never
accepted twice; ten single-use recovery codes stored as SHA-256 (they are
random, about 59 bits each, so a slow hash adds nothing); one throttle per
account for passwords and second-factor codes together, with a lock that
doubles from one minute to an hour, never a global lock an attacker could use
to keep everyone out; the user's row locked while an attempt is checked, so
parallel attempts are counted one by one and a code is accepted once.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from grievance.clock import utcnow
from grievance.crypto import DataProtector
from grievance.models import ApiToken, AuditEvent, Organisation, User
from grievance.models.accounts import ORG_KINDS, ROLES

MIN_PASSWORD = 8
MAX_PASSWORD = 256
MFA_REQUIRED_ROLES = frozenset({"admin", "handler"})
FREE_ATTEMPTS = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
# The lock doubles at most this many times (2**6 minutes is past the longest lock): the
# multiplication stays small however many failures an attacker piles up.
MAX_DOUBLINGS = 6
# One answer for every refused sign-in, unknown email, wrong password or locked account alike,
# given in the same time: nothing tells an attacker which accounts exist or are locked.
REFUSED = "Wrong email or password. After several wrong tries, sign-in pauses for a few minutes."
RECOVERY_CODES = 10
ISSUER = "grievance"

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


class AccountError(ValueError):
    """A request about an account that cannot be done; the message says why, for the operator."""


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased; must look like an address."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError(f"{email!r} is not an email address")
    return email


def check_password_policy(password: str) -> None:
    """8 to 256 characters (after Unicode normalisation); any characters, no composition rules."""
    length = len(unicodedata.normalize("NFKC", password))
    if length < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if length > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The argon2id hash of a password that passes the policy."""
    check_password_policy(password)
    return _hasher.hash(unicodedata.normalize("NFKC", password))


def generate_password() -> str:
    """A one-time password for a new account: 16 characters, about 95 bits."""
    return secrets.token_urlsafe(12)


def create_organisation(session: Session, name: str, kind: str) -> Organisation:
    """A supplier or buyer organisation with a unique name."""
    name = name.strip()
    if kind not in ORG_KINDS:
        raise AccountError(f"--kind must be one of {', '.join(ORG_KINDS)}")
    if not name:
        raise AccountError("an organisation needs a name")
    if session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise AccountError(f"an organisation named {name!r} already exists")
    org = Organisation(name=name, kind=kind)
    session.add(org)
    session.flush()
    return org


def create_user(
    session: Session,
    email: str,
    role: str,
    password: str,
    organisation: str | None = None,
    *,
    must_change_password: bool = True,
) -> User:
    """A user; supplier and buyer users belong to an organisation of that kind."""
    email = normalize_email(email)
    if role not in ROLES:
        raise AccountError(f"--role must be one of {', '.join(ROLES)}")
    org_id = None
    if role in ("supplier", "buyer"):
        if not organisation:
            raise AccountError(f"a {role} user needs --org, the name of a {role} organisation")
        org = session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            raise AccountError(
                f"no organisation named {organisation!r}; create it with "
                f"`grievance orgs create {organisation!r} --kind {role}`"
            )
        if org.kind != role:
            raise AccountError(f"{organisation!r} is a {org.kind}, not a {role} organisation")
        org_id = org.id
    elif organisation:
        raise AccountError(f"{role} users do not belong to an organisation; leave out --org")
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise AccountError(f"a user {email} already exists")
    user = User(
        email=email,
        role=role,
        organisation_id=org_id,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def count_users(session: Session) -> int:
    """How many users exist (``serve`` creates the first admin when there are none)."""
    return session.scalar(select(func.count(User.id))) or 0


@dataclass(frozen=True)
class SignIn:
    """The outcome of a password check."""

    user: User | None
    reason: str = ""  # why not, in words safe to show (never whether the email exists)
    locked_until: datetime | None = None


def lock_for(failures: int) -> timedelta | None:
    """How long an account with this many failures in a row is locked (None: not yet)."""
    if failures < FREE_ATTEMPTS:
        return None
    lock: timedelta = FIRST_LOCK * 2 ** min(failures - FREE_ATTEMPTS, MAX_DOUBLINGS)
    return min(lock, LONGEST_LOCK)


def is_locked(user: User, now: datetime) -> bool:
    """Whether the account refuses every sign-in step for now."""
    return user.locked_until is not None and user.locked_until > now


def record_failure(user: User, now: datetime) -> None:
    """Count a wrong password or a wrong second-factor code: one throttle for both."""
    user.failed_logins += 1
    lock = lock_for(user.failed_logins)
    if lock is not None:
        user.locked_until = now + lock


def _locked_row(session: Session, where: ColumnElement[bool]) -> User | None:
    """The user row, locked until the caller's commit (PostgreSQL ``SELECT ... FOR UPDATE``), and
    read fresh: parallel attempts on one account are checked one after another, so none of
    them sees a count, a lock, a used TOTP step or a recovery code from before another one."""
    return session.scalar(
        select(User).where(where).with_for_update().execution_options(populate_existing=True)
    )


def check_password(
    session: Session, email: str, password: str, now: datetime | None = None
) -> SignIn:
    """Check a password, counting failures per account; the caller commits (ending the row
    lock). Every refusal gives :data:`REFUSED`, after one argon2 computation."""
    now = now or utcnow()
    try:
        email = normalize_email(email)
    except AccountError:
        _hasher.hash("timing-equaliser")
        return SignIn(None, REFUSED)
    user = _locked_row(session, User.email == email)
    if user is None or not user.active:
        _hasher.hash("timing-equaliser")  # as slow as a real check: no account probing by time
        return SignIn(None, REFUSED)
    if is_locked(user, now):
        _hasher.hash("timing-equaliser")  # a locked account answers as slowly as any other
        return SignIn(None, REFUSED, user.locked_until)
    try:
        _hasher.verify(user.password_hash, unicodedata.normalize("NFKC", password))
    except (VerificationError, InvalidHashError):
        record_failure(user, now)
        return SignIn(None, REFUSED)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(unicodedata.normalize("NFKC", password))
    return SignIn(user)


def check_second_factor(
    session: Session, user_id: int, protector: DataProtector, code: str, now: datetime | None = None
) -> tuple[User | None, bool]:
    """Check a TOTP or recovery code for a pending sign-in, under the same throttle as the
    password; the caller commits. Returns the user (None if gone or inactive) and whether the
    code was accepted. A locked account accepts no code, not even the right one."""
    now = now or utcnow()
    user = _locked_row(session, User.id == user_id)
    if user is None or not user.active:
        return None, False
    if not is_locked(user, now) and verify_totp(user, protector, code, now):
        return user, True
    if not is_locked(user, now):
        record_failure(user, now)
    return user, False


def signed_in(user: User, now: datetime | None = None) -> None:
    """Record a complete sign-in (password and, where required, second factor)."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now or utcnow()


def set_password(session: Session, user: User, password: str) -> None:
    """Change the password; end every other session and revoke every API token of this user
    (a token made with the old password must not outlive it)."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    end_access(session, user)


def end_access(session: Session, user: User) -> None:
    """Every session and every API token of ``user`` ends now: what a new password, a
    deactivation, a reset second factor or a new role must take away."""
    end_sessions(user)
    revoke_tokens(session, user)


def end_sessions(user: User) -> None:
    """End every session of this user, every copy of every cookie: the session carries the
    version it was signed in with, and a request with an older one is signed out."""
    user.session_version += 1


def mfa_required(user: User, optional_roles_require: bool = False) -> bool:
    """Admins and handlers must use TOTP; other roles when the deployment says so."""
    return user.role in MFA_REQUIRED_ROLES or optional_roles_require


# -- TOTP and recovery codes -------------------------------------------------------------


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def totp_step(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step ``code`` is valid for (this, the previous or the next), if not used before."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable_totp(user: User, protector: DataProtector, secret: str) -> list[str]:
    """Turn TOTP on with ``secret``; returns fresh recovery codes (shown once)."""
    user.totp_secret_encrypted = protector.encrypt(secret)
    user.totp_enabled_at = utcnow()
    return new_recovery_codes(user)


def verify_totp(
    user: User, protector: DataProtector, code: str, now: datetime | None = None
) -> bool:
    """Accept a current TOTP code once, or a recovery code (which is then used up)."""
    if user.totp_secret_encrypted is None:
        return False
    now = now or utcnow()
    secret = protector.decrypt(user.totp_secret_encrypted)
    step = totp_step(secret, code, user.totp_last_step, now)
    if step is not None:
        user.totp_last_step = step
        return True
    return use_recovery_code(user, code)


def new_recovery_codes(user: User) -> list[str]:
    """Ten fresh single-use codes, like ``k7qm-2x9d-vh4p``; only their hashes are kept."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = [
        "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]
    user.recovery_codes = [_code_hash(c) for c in codes]
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True (and the code is used up) when ``code`` is one of the user's recovery codes."""
    digest = _code_hash(code)
    remaining = list(user.recovery_codes or [])
    for stored in remaining:
        if secrets.compare_digest(stored, digest):
            remaining.remove(stored)
            user.recovery_codes = remaining
            return True
    return False


def _code_hash(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


# -- API tokens ---------------------------------------------------------------------


TOKEN_DAYS = 90
LONGEST_TOKEN_DAYS = 365


def create_token(session: Session, user: User, name: str = "cli", days: int = TOKEN_DAYS) -> str:
    """A new bearer token for ``user``, valid ``days`` days; only its hash is stored, the token
    is shown once."""
    if not 1 <= days <= LONGEST_TOKEN_DAYS:
        raise AccountError(f"a token lasts 1 to {LONGEST_TOKEN_DAYS} days")
    token = "gr_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            name=name[:100],
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return token


def revoke_tokens(session: Session, user: User) -> int:
    """Revoke every live token of ``user``; how many."""
    now = utcnow()
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
    return len(tokens)


def deactivate(session: Session, user: User) -> None:
    """The user can no longer sign in or use a token; their sessions end at once. Nothing they
    did is removed (the audit log keeps naming them)."""
    user.active = False
    end_access(session, user)


def reset_mfa(session: Session, user: User) -> None:
    """Forget the user's authenticator and recovery codes (a lost phone): their sessions and
    tokens end, and the next sign-in enrols a new authenticator."""
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = []
    end_access(session, user)


def set_role(session: Session, user: User, role: str, organisation: str | None = None) -> None:
    """Change the user's role (and organisation, for suppliers and buyers); their sessions and
    tokens end, as they carried the old role."""
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if role in ORG_KINDS:
        org = (
            session.scalar(select(Organisation).where(Organisation.name == organisation))
            if organisation
            else session.get(Organisation, user.organisation_id or 0)
        )
        if org is None or org.kind != role:
            raise AccountError(f"a {role} belongs to a {role} organisation: give --org NAME")
        user.organisation_id = org.id
    else:
        user.organisation_id = None
    user.role = role
    end_access(session, user)


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not token.startswith("gr_") or len(token) > 100:
        return None
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = utcnow()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- audit ----------------------------------------------------------------------------


def audit(
    session: Session,
    user: User | None,
    action: str,
    case_id: int | None = None,
    detail: str | None = None,
) -> None:
    """Append one audit event (who, what, which case); ``detail`` must hold no case content."""
    session.add(
        AuditEvent(
            user_id=user.id if user is not None else None,
            action=action[:40],
            case_id=case_id,
            detail=detail,
        )
    )
