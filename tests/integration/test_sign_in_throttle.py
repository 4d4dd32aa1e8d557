"""One throttle per account for passwords and second-factor codes: wrong codes lock the account
like wrong passwords, a pending sign-in ends after a few of them, the lock never overflows,
every refusal reads and costs the same, parallel attempts are counted one by one on PostgreSQL,
a code is accepted once however many browsers send it at the same moment, and a link to a
sign-in page never signs anyone out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from grievance.app import create_app
from grievance.auth import accounts
from grievance.clock import utcnow
from grievance.config import Settings
from grievance.models import ApiToken, AuditEvent, User
from grievance.runtime import Runtime, build_runtime
from tests.conftest import _truncate_postgres, environment
from tests.support.accounts import browser, csrf, enrol, make_user, sign_in_password
from tests.support.fake_twilio import FakeTwilio
from tests.support.staff import PASSWORD

EMAIL = "h@example.org"


class CountingHasher(PasswordHasher):
    """The real argon2id hasher, counting its work: every refusal must cost one computation."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self._lock:
            self.calls.append("hash")
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.calls.append("verify")
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(accounts, "_hasher", counting)
    return counting


def enrolled(app: Flask, runtime: Runtime) -> str:
    """A handler with TOTP enrolled; returns the TOTP secret."""
    make_user(runtime, EMAIL, "handler")
    client = browser(app)
    sign_in_password(client, EMAIL)
    secret, _codes = enrol(client)
    return secret


def post_code(client: FlaskClient, code: str) -> Any:
    return client.post(
        "/login/code", data={"code": code, "csrf_token": csrf(client, "/login/code")}
    )


def user_row(runtime: Runtime) -> User:
    with runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == EMAIL)).one()
        session.expunge(user)
        return user


def unlock(runtime: Runtime) -> None:
    """The lock runs out (the clock is not moved: the lock is set to have ended)."""
    with runtime.sessions() as session:
        session.execute(update(User).values(locked_until=utcnow() - timedelta(seconds=1)))
        session.commit()


def test_wrong_codes_lock_the_account_like_wrong_passwords(app: Flask, runtime: Runtime) -> None:
    secret = enrolled(app, runtime)
    owner, attacker = browser(app), browser(app)
    # The owner has typed the password and is about to type the code.
    assert sign_in_password(owner, EMAIL).headers["Location"] == "/login/code"

    # Someone else with the password guesses codes: after three, the pending sign-in ends.
    assert sign_in_password(attacker, EMAIL).headers["Location"] == "/login/code"
    assert post_code(attacker, "000000").status_code == 401
    assert post_code(attacker, "000001").status_code == 401
    ended = post_code(attacker, "000002")
    assert ended.status_code == 401
    assert "Too many wrong codes" in ended.get_data(as_text=True)
    assert attacker.get("/login/code").headers["Location"] == "/login"
    # Two more wrong codes make five failures: the account locks, password and codes alike.
    sign_in_password(attacker, EMAIL)
    post_code(attacker, "000003")
    post_code(attacker, "000004")
    assert user_row(runtime).failed_logins == accounts.FREE_ATTEMPTS
    assert sign_in_password(attacker, EMAIL).status_code == 401  # the right password, refused
    # Even the right code, from the owner's sign-in that was pending before the lock.
    right = pyotp.TOTP(secret).at(utcnow().timestamp() + 30)
    assert post_code(owner, right).status_code != 302
    assert owner.get("/cases").headers["Location"].startswith("/login")

    # When the lock has run out, the owner signs in, and the count starts again.
    unlock(runtime)
    sign_in_password(owner, EMAIL)
    assert post_code(owner, right).headers["Location"] == "/cases"
    assert user_row(runtime).failed_logins == 0


def test_the_lock_never_overflows_however_many_failures(app: Flask, runtime: Runtime) -> None:
    web = browser(app)
    make_user(runtime, EMAIL, "handler")
    with runtime.sessions() as session:
        session.execute(update(User).values(failed_logins=10_000))
        session.commit()
    refused = sign_in_password(web, EMAIL, "wrong password")
    assert refused.status_code == 401  # not a 500 that rolls the count back
    user = user_row(runtime)
    assert user.failed_logins == 10_001
    assert user.locked_until is not None
    assert user.locked_until - utcnow() > accounts.LONGEST_LOCK - timedelta(minutes=1)
    assert sign_in_password(web, EMAIL).status_code == 401  # and the right one waits
    assert accounts.lock_for(10**9) == accounts.LONGEST_LOCK


def test_every_refusal_reads_the_same_and_costs_one_argon2_computation(
    app: Flask, runtime: Runtime, hasher: CountingHasher
) -> None:
    make_user(runtime, EMAIL, "handler")
    answers = {}
    for name, email, password in [
        ("unknown email", "nobody@example.org", PASSWORD),
        ("not an email", "nobody", PASSWORD),
        ("wrong password", EMAIL, "wrong password"),
    ]:
        hasher.calls.clear()
        response = sign_in_password(browser(app), email, password)
        assert response.status_code == 401
        assert len(hasher.calls) == 1, name
        answers[name] = response.get_data(as_text=True)
    with runtime.sessions() as session:
        session.execute(update(User).values(locked_until=utcnow() + timedelta(minutes=5)))
        session.commit()
    hasher.calls.clear()
    locked = sign_in_password(browser(app), EMAIL, PASSWORD)
    assert locked.status_code == 401
    assert hasher.calls == ["hash"]  # as much work as checking a password, none of it a check
    answers["locked, right password"] = locked.get_data(as_text=True)
    refusal = accounts.REFUSED.replace("'", "&#39;")
    assert all(refusal in page for page in answers.values())


def test_a_link_to_a_sign_in_step_never_signs_anyone_out(app: Flask, runtime: Runtime) -> None:
    make_user(runtime, EMAIL, "handler")
    client = browser(app)
    sign_in_password(client, EMAIL)
    enrol(client)
    assert client.get("/cases").status_code == 200
    for path in ("/login/code", "/login/setup"):
        assert client.get(path).status_code == 302  # nothing pending: back to sign-in ...
        assert client.get("/cases").status_code == 200  # ... and still signed in


# -- races, on the real PostgreSQL --------------------------------------------------------


@pytest.fixture
def pg(
    postgres_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> Iterator[tuple[Flask, Runtime]]:
    _truncate_postgres(postgres_url)
    settings = Settings.from_env(environment(postgres_url, tmp_path / "instance", fake_twilio))
    runtime = build_runtime(settings)
    app = create_app(runtime=runtime)
    app.testing = True
    try:
        yield app, runtime
    finally:
        runtime.close()


def all_at_once(attempts: list[Callable[[], Any]]) -> list[Any]:
    """Run every attempt in its own thread, released together."""
    start = threading.Barrier(len(attempts))
    results: list[Any] = [None] * len(attempts)

    def run(i: int) -> None:
        start.wait()
        results[i] = attempts[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.postgres
def test_parallel_wrong_passwords_are_counted_one_by_one(
    pg: tuple[Flask, Runtime], hasher: CountingHasher
) -> None:
    app, runtime = pg
    make_user(runtime, EMAIL, "handler")
    clients = [browser(app) for _ in range(30)]
    tokens = [csrf(client, "/login") for client in clients]
    hasher.calls.clear()
    responses = all_at_once(
        [
            lambda c=client, t=token: c.post(
                "/login", data={"email": EMAIL, "password": "wrong password", "csrf_token": t}
            )
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert [r.status_code for r in responses] == [401] * 30
    # Five passwords were checked; the other 25 met the lock and were not.
    assert hasher.calls.count("verify") == accounts.FREE_ATTEMPTS
    assert user_row(runtime).failed_logins == accounts.FREE_ATTEMPTS
    assert sign_in_password(browser(app), EMAIL).status_code == 401


@pytest.mark.postgres
@pytest.mark.parametrize("which", ["totp", "recovery"])
def test_one_code_signs_in_one_browser_however_many_send_it_at_once(
    pg: tuple[Flask, Runtime], which: str
) -> None:
    app, runtime = pg
    make_user(runtime, EMAIL, "handler")
    first = browser(app)
    sign_in_password(first, EMAIL)
    secret, recovery = enrol(first)
    code = pyotp.TOTP(secret).at(utcnow().timestamp() + 30) if which == "totp" else recovery[0]
    clients = [browser(app) for _ in range(5)]
    for client in clients:
        assert sign_in_password(client, EMAIL).headers["Location"] == "/login/code"
    tokens = [csrf(client, "/login/code") for client in clients]
    responses = all_at_once(
        [
            lambda c=client, t=token: c.post("/login/code", data={"code": code, "csrf_token": t})
            for client, token in zip(clients, tokens, strict=True)
        ]
    )
    assert sorted(r.status_code for r in responses) == [302, 401, 401, 401, 401]


def test_signing_out_ends_every_copy_of_the_session(app: Flask, runtime: Runtime) -> None:
    make_user(runtime, EMAIL, "handler")
    client = browser(app)
    sign_in_password(client, EMAIL)
    enrol(client)
    cookie = client.get_cookie("__Host-grievance")
    assert cookie is not None
    thief = browser(app)
    thief.set_cookie("__Host-grievance", cookie.value, secure=True, httponly=True)
    assert thief.get("/cases").status_code == 200  # a copy taken while signed in works ...
    token = csrf(client, "/cases")
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    assert thief.get("/cases").headers["Location"].startswith("/login")  # ... and ends with it


# -- revoking -------------------------------------------------------------------------------


def api_status(app: Flask, token: str) -> int:
    response = app.test_client().get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_tokens_expire_and_end_with_the_password_the_account_or_the_role(
    app: Flask, runtime: Runtime
) -> None:
    make_user(runtime, EMAIL, "handler")
    make_user(runtime, "admin@example.org", "admin")

    def token(email: str = EMAIL, days: int = accounts.TOKEN_DAYS) -> str:
        with runtime.sessions() as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            made = accounts.create_token(session, user, "test", days)
            session.commit()
            return made

    def change(what: Callable[[Any, User], None], email: str = EMAIL) -> None:
        with runtime.sessions() as session:
            what(session, session.scalars(select(User).where(User.email == email)).one())
            session.commit()

    # Expiry is on by default: a token past its day is refused.
    expiring = token(days=1)
    assert api_status(app, expiring) == 200
    with runtime.sessions() as session:
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert api_status(app, expiring) == 401
    with pytest.raises(accounts.AccountError):
        token(days=0)
    # A password change, a deactivation, a reset second factor or a new role ends every token.
    for what in (
        lambda s, u: accounts.set_password(s, u, "a brand new passphrase"),
        accounts.deactivate,
        accounts.reset_mfa,
        lambda s, u: accounts.set_role(s, u, "admin"),
    ):
        change(lambda s, u: setattr(u, "active", True))
        live = token()
        assert api_status(app, live) == 200
        change(what)
        assert api_status(app, live) == 401
    # Someone else's token is untouched by all that.
    assert api_status(app, token("admin@example.org")) == 200


def test_the_command_line_lists_and_revokes_users_and_tokens(
    sqlite_url: str, tmp_path: Path, fake_twilio: FakeTwilio
) -> None:
    from tests.support.cli import grievance

    env = environment(sqlite_url, tmp_path / "instance", fake_twilio)
    made = grievance(
        "users", "create", EMAIL, "--role", "handler", "--password-stdin", env=env, stdin=PASSWORD
    )
    assert made.returncode == 0, made.stderr
    first = grievance("tokens", "create", EMAIL, "--days", "30", env=env).stdout.splitlines()[-1]
    second = grievance("tokens", "create", EMAIL, env=env).stdout.splitlines()[-1]
    listed = grievance("tokens", "list", env=env).stdout.splitlines()
    assert len(listed) == 2
    assert all(EMAIL in line and "expires" in line for line in listed)
    assert grievance("tokens", "revoke", listed[0].split("\t")[0], env=env).returncode == 0
    assert "revoked" in grievance("tokens", "list", EMAIL, env=env).stdout.splitlines()[0]

    assert "\tactive\t" in grievance("users", "list", env=env).stdout
    assert grievance("users", "deactivate", EMAIL, env=env).returncode == 0
    assert "\tdeactivated\t" in grievance("users", "list", env=env).stdout
    assert "revoked" in grievance("tokens", "list", EMAIL, env=env).stdout.splitlines()[1]
    wrong = grievance("users", "set-role", EMAIL, "supplier", env=env)
    assert wrong.returncode != 0
    assert "--org" in wrong.stderr
    assert grievance("users", "reset-mfa", "nobody@example.org", env=env).returncode != 0

    runtime = build_runtime(Settings.from_env(env))
    try:
        with runtime.sessions() as session:
            assert accounts.user_for_token(session, first) is None
            assert accounts.user_for_token(session, second) is None
            actions = session.scalars(select(AuditEvent.action)).all()
            assert "user_deactivated" in actions
            assert "token_revoked" in actions
    finally:
        runtime.close()
