"""The ``grievance`` command: serve, worker, db upgrade, flows check, simulate."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from grievance.config import PROJECT_ROOT, ConfigError, Settings
from grievance.logs import log_failure

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from grievance.conversation.loader import Problem
    from grievance.runtime import Runtime

log = logging.getLogger(__name__)


def _settings(**kwargs: object) -> Settings:
    try:
        return Settings.from_env(**kwargs)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _create_app() -> Flask:
    from grievance.app import create_app

    return create_app(_settings())


class _Commands(FlaskGroup):
    """Flask's command group, whose commands are all ours: listing them (``--help``) does not
    build the app, so help on a machine not yet configured is help, not a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)


@click.group(
    cls=_Commands, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """grievance: a grievance mechanism workers reach from any phone."""


# -- database -----------------------------------------------------------------


@main.group("db", cls=click.Group)
def db_group() -> None:
    """Database migrations."""


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return Settings.from_env(
            {"DATABASE_URL": url, "SECRET_KEY": "-", "GRIEVANCE_DATA_KEY": _dummy_key()}
        ).database_url
    instance = Path(os.environ.get("GRIEVANCE_INSTANCE_PATH") or PROJECT_ROOT / "instance")
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'grievance.db'}"


def _dummy_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply database migrations (safe to run on every release)."""
    from grievance.migrate import upgrade

    upgrade(_database_url(), revision)
    click.echo(f"database is at {revision}")


# -- organisations, users, tokens ------------------------------------------------------


def _accounts_session() -> Session:
    """A database session for account commands (no flows or Twilio needed)."""
    from grievance.db import make_engine, make_session_factory

    settings = _settings()
    return make_session_factory(make_engine(settings.database_url))()


@main.group("orgs", cls=click.Group)
def orgs_group() -> None:
    """Supplier and buyer organisations."""


def _admin_change(change: Callable[[Session], str]) -> None:
    """Run one administration change (a function of grievance.services.admin, audited there as
    the command line's), commit it and say what it did; a refusal is the command's error."""
    from grievance.auth.accounts import AccountError

    with _accounts_session() as session:
        try:
            done = change(session)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(done)


def _with_mail(change: Callable[[Runtime, Session], tuple[str, int | None]]) -> None:
    """Like :func:`_admin_change`, for a change that emails a one-time link: the email is sent
    after the commit (with the console mailer, to the log), and nothing secret is printed."""
    from grievance.auth.accounts import AccountError
    from grievance.logs import configure_logging
    from grievance.runtime import build_runtime
    from grievance.services.mails import enqueue_mails

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)  # the console mailer's email
    # Without Redis the email is sent before the command ends, not on a thread it would cut off.
    runtime = build_runtime(settings.with_overrides(inline_jobs="sync"))
    try:
        with runtime.sessions() as session:
            try:
                done, mail_id = change(runtime, session)
            except AccountError as exc:
                raise click.ClickException(str(exc)) from None
            session.commit()
        enqueue_mails(runtime, [mail_id] if mail_id else [])
        click.echo(done)
    finally:
        runtime.close()


@orgs_group.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(["supplier", "buyer"]), required=True)
def orgs_create(name: str, kind: str) -> None:
    """Create an organisation."""
    from grievance.services import admin

    def create(session: Session) -> str:
        org = admin.create_organisation(session, None, name, kind)
        return f"created {kind} organisation {org.name!r} (id {org.id})"

    _admin_change(create)


@orgs_group.command("list")
def orgs_list() -> None:
    """Every organisation: name, kind, users, sites, and a buyer's suppliers (a supplier's buyers)."""
    from grievance.services import admin

    with _accounts_session() as session:
        for org in admin.list_organisations(session):
            linked = org.suppliers if org.kind == "buyer" else org.buyers
            click.echo(
                "\t".join(
                    [
                        org.name,
                        org.kind,
                        f"{org.users} user(s)",
                        f"{org.sites} site(s)" if org.kind == "supplier" else "-",
                        ", ".join(linked) or "-",
                    ]
                )
            )


@main.group("buyers", cls=click.Group)
def buyers_group() -> None:
    """Which suppliers each buyer sees."""


@buyers_group.command("link")
@click.argument("buyer")
@click.argument("supplier")
def buyers_link(buyer: str, supplier: str) -> None:
    """Let BUYER see SUPPLIER's referred cases (summaries only) and figures."""
    from grievance.services import admin

    def link(session: Session) -> str:
        linked = admin.link_buyer(session, None, buyer, supplier)
        return f"{buyer} {'now sees' if linked else 'already saw'} {supplier}"

    _admin_change(link)


@buyers_group.command("unlink")
@click.argument("buyer")
@click.argument("supplier")
def buyers_unlink(buyer: str, supplier: str) -> None:
    """BUYER no longer sees SUPPLIER."""
    from grievance.services import admin

    def unlink(session: Session) -> str:
        done = admin.unlink_buyer(session, None, buyer, supplier)
        return f"{buyer} {'no longer sees' if done else 'did not see'} {supplier}"

    _admin_change(unlink)


@main.group("sites", cls=click.Group)
def sites_group() -> None:
    """Suppliers' workplaces."""


@sites_group.command("create")
@click.argument("name")
@click.option("--supplier", required=True, help="The supplier organisation's name.")
@click.option("--country", required=True, help="A two-letter code, like MY.")
def sites_create(name: str, supplier: str, country: str) -> None:
    """Create a site of a supplier."""
    from grievance.services import admin

    def create(session: Session) -> str:
        site = admin.create_site(session, None, supplier, name, country)
        return f"created site {site.name!r} of {supplier} in {site.country} (id {site.id})"

    _admin_change(create)


@sites_group.command("list")
def sites_list() -> None:
    """Every site: id, name, supplier, country."""
    from grievance.services import admin

    with _accounts_session() as session:
        for site in admin.list_sites(session):
            click.echo(f"{site.id}\t{site.name}\t{site.supplier}\t{site.country or '-'}")


@main.group("users", cls=click.Group)
def users_group() -> None:
    """People who sign in."""


ROLE_CHOICE = click.Choice(["admin", "handler", "supplier", "buyer"])


@users_group.command("invite")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option(
    "--org", "organisation", default=None, help="The organisation of a supplier or buyer user."
)
def users_invite(email: str, role: str, organisation: str | None) -> None:
    """Invite a user: they are emailed a one-time link to choose their password (with the
    console mailer, the email goes to the log). Nothing secret is printed."""
    from grievance.services import admin

    def invite(runtime: Runtime, session: Session) -> tuple[str, int | None]:
        user, mail_id = admin.invite_user(runtime, session, None, email, role, organisation)
        hours = runtime.settings.invite_hours
        return f"invited {role} {user.email} (id {user.id}); the link works for {hours} h", mail_id

    _with_mail(invite)


@users_group.command("reset-password")
@click.argument("email")
def users_reset_password(email: str) -> None:
    """The old password stops working; the user is emailed a link to choose a new one."""
    from grievance.services import admin

    def reset(runtime: Runtime, session: Session) -> tuple[str, int | None]:
        user = admin.find_user(session, email)
        mail_id = admin.reset_password(runtime, session, None, user)
        return f"emailed {user.email} a link to choose a new password", mail_id

    _with_mail(reset)


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option(
    "--org", "organisation", default=None, help="The organisation of a supplier or buyer user."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, role: str, organisation: str | None, password_stdin: bool) -> None:
    """Create a user; prints a one-time password (to be changed at first sign-in) unless one is
    read. `grievance users invite` emails a link instead, so nobody passes a password on."""
    from grievance.auth.accounts import AccountError, audit, create_user, generate_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else generate_password()
    with _accounts_session() as session:
        try:
            user = create_user(
                session,
                email,
                role,
                password,
                organisation,
                must_change_password=not password_stdin,
            )
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        audit(session, None, "user_created", None, f"user={user.id} role={role} (command line)")
        session.commit()
        click.echo(f"created {role} {user.email} (id {user.id})")
        if not password_stdin:
            click.echo(
                f"one-time password (shown once; to be changed at first sign-in): {password}"
            )


def _account_change(email: str, change: Callable[[Session, Any], str]) -> None:
    """Apply ``change(session, user)`` (a function of grievance.services.admin, which audits
    it as the command line's) to the user with ``email``, and say what it did."""
    _admin_change(lambda session: change(session, _user(session, email)))


@users_group.command("list")
def users_list() -> None:
    """Every user: email, role, organisation, state, two-step sign-in, last sign-in."""
    from grievance.services import admin

    with _accounts_session() as session:
        for user in admin.list_users(session):
            state = ("invited" if user.invited else "active") if user.active else "deactivated"
            click.echo(
                "\t".join(
                    [
                        user.email,
                        user.role,
                        user.organisation or "-",
                        state,
                        "totp" if user.second_factor else "no totp",
                        user.last_sign_in.date().isoformat() if user.last_sign_in else "never",
                    ]
                )
            )


@users_group.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Stop a user signing in or using a token; their sessions end at once."""
    from grievance.services import admin

    def deactivate(session: Session, user: Any) -> str:
        admin.set_active(session, None, user, False)
        return f"deactivated: {user.email}"

    _account_change(email, deactivate)


@users_group.command("activate")
@click.argument("email")
def users_activate(email: str) -> None:
    """Let a deactivated user sign in again (with the password they had)."""
    from grievance.services import admin

    def activate(session: Session, user: Any) -> str:
        admin.set_active(session, None, user, True)
        return f"activated: {user.email}"

    _account_change(email, activate)


@users_group.command("reset-mfa")
@click.argument("email")
def users_reset_mfa(email: str) -> None:
    """Forget a user's authenticator (a lost phone): the next sign-in enrols a new one."""
    from grievance.services import admin

    def reset(session: Session, user: Any) -> str:
        admin.reset_second_factor(session, None, user)
        return f"two-step sign-in reset for: {user.email}"

    _account_change(email, reset)


@users_group.command("sign-out")
@click.argument("email")
def users_sign_out(email: str) -> None:
    """End every session and revoke every API token of a user."""
    from grievance.services import admin

    def sign_out(session: Session, user: Any) -> str:
        tokens = admin.sign_out_everywhere(session, None, user)
        return f"signed out everywhere, {tokens} token(s) revoked: {user.email}"

    _account_change(email, sign_out)


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.option(
    "--org", "organisation", default=None, help="The organisation of a supplier or buyer."
)
def users_set_role(email: str, role: str, organisation: str | None) -> None:
    """Change a user's role; their sessions and tokens end."""
    from grievance.services import admin

    def set_role(session: Session, user: Any) -> str:
        admin.change_role(session, None, user, role, organisation)
        return f"now {role}: {user.email}"

    _account_change(email, set_role)


def _user(session: Any, email: str) -> Any:
    """The user with ``email``, or a ClickException that says how to find one."""
    from grievance.auth.accounts import AccountError
    from grievance.services import admin

    try:
        return admin.find_user(session, email)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


@main.group("tokens", cls=click.Group)
def tokens_group() -> None:
    """API tokens for /api/v1."""


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--days", default=90, show_default=True, help="How long it lasts (1 to 365).")
def tokens_create(email: str, name: str, days: int) -> None:
    """Create a bearer token for a user; the token is the last line printed, shown once."""
    from grievance.auth.accounts import AccountError, create_token

    with _accounts_session() as session:
        user = _user(session, email)
        try:
            token = create_token(session, user, name, days)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(
            f"token for {user.email} ({user.role}), valid {days} days; "
            "keep it secret, it is shown once:"
        )
        click.echo(token)


@tokens_group.command("list")
@click.argument("email", required=False)
def tokens_list(email: str | None) -> None:
    """Tokens (of one user, or everyone's): id, user, name, created, last used, state."""
    from sqlalchemy import select

    from grievance.clock import utcnow
    from grievance.models import ApiToken, User

    with _accounts_session() as session:
        query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
        if email:
            query = query.where(ApiToken.user_id == _user(session, email).id)
        now = utcnow()
        for token, owner in session.execute(query.order_by(ApiToken.id)).tuples():
            state = (
                f"revoked {token.revoked_at.date()}"
                if token.revoked_at
                else f"expired {token.expires_at.date()}"
                if token.expires_at and token.expires_at <= now
                else f"expires {token.expires_at.date()}"
                if token.expires_at
                else "never expires (made before expiry; revoke it)"
            )
            used = token.last_used_at.date().isoformat() if token.last_used_at else "never used"
            click.echo(
                f"{token.id}\t{owner}\t{token.name}\t{token.created_at.date()}\t{used}\t{state}"
            )


@tokens_group.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "email", default=None, help="Revoke every token of this user instead.")
def tokens_revoke(token_id: int | None, email: str | None) -> None:
    """Revoke one token (its id from `grievance tokens list`) or every token of a user."""
    from grievance.auth.accounts import audit, revoke_tokens
    from grievance.clock import utcnow
    from grievance.models import ApiToken

    if (token_id is None) == (email is None):
        raise click.UsageError("give a token id, or --user EMAIL")
    with _accounts_session() as session:
        if email is not None:
            user = _user(session, email)
            count = revoke_tokens(session, user)
            audit(session, None, "tokens_revoked", None, f"user={user.id} count={count}")
            session.commit()
            click.echo(f"revoked {count} token(s) of {user.email}")
            return
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}; `grievance tokens list` shows them")
        token.revoked_at = token.revoked_at or utcnow()
        audit(session, None, "token_revoked", None, f"token={token.id}")
        session.commit()
        click.echo(f"revoked token {token.id}")


@main.command("demo", with_appcontext=False)
@click.option("--cases", default=200, show_default=True, type=int)
@click.option("--seed", default=7, show_default=True, type=int)
def demo(cases: int, seed: int) -> None:
    """Fill an empty database with realistic demo organisations, sites, users and cases."""
    from grievance.demo import DemoDataExistsError, create_demo
    from grievance.migrate import upgrade
    from grievance.runtime import build_runtime

    settings = _settings(generate_missing_secrets=True)
    if settings.is_sqlite:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    runtime = build_runtime(settings)
    try:
        report = create_demo(runtime, cases=cases, seed=seed)
    except (DemoDataExistsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        runtime.close()
    for line in report.lines():
        click.echo(line)


def _first_admin(database_url: str) -> tuple[str, str] | None:
    """Create the first admin when there are no users; (email, one-time password)."""
    from grievance.auth.accounts import count_users, create_user, generate_password
    from grievance.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            if count_users(session):
                return None
            password = generate_password()
            user = create_user(session, "admin@localhost", "admin", password)
            session.commit()
            return user.email, password
    finally:
        engine.dispose()


# -- keys -----------------------------------------------------------------------


@main.group("keys", cls=click.Group)
def keys_group() -> None:
    """Data keys (GRIEVANCE_DATA_KEY)."""


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Rewrite encrypted and hashed data under the newest key (list it first, keep the old ones after)."""
    from grievance.runtime import build_runtime
    from grievance.services.keys import rotate_keys

    settings = _settings()
    if len(settings.data_keys) < 2:
        click.echo("only one data key is configured: nothing to rotate from")
    runtime = build_runtime(settings)
    try:
        report = rotate_keys(runtime)
    finally:
        runtime.close()
    click.echo(
        f"rewritten under the newest key: {report.contacts} contacts, {report.messages} messages, "
        f"{report.cases} case descriptions, {report.attachments} attachments, {report.notes} notes, "
        f"{report.evidence} evidence files, {report.comments} plan comments, "
        f"{report.totp_secrets} TOTP secrets, {report.translations} translations"
    )
    if report.pending_codes:
        click.echo(
            f"{report.pending_codes} case codes still use an older key (codes are hashes and move to the "
            "newest key when their worker next uses STATUS): keep the older keys listed for now"
        )
    else:
        click.echo(
            "no data depends on older keys any more: they can be removed from GRIEVANCE_DATA_KEY"
        )


# -- locales --------------------------------------------------------------------


@main.group("locales", cls=click.Group)
def locales_group() -> None:
    """Catalogs for translators: export to PO or CSV, import back."""


def _locales_dir() -> Path:
    return Path(os.environ.get("GRIEVANCE_LOCALES_DIR") or PROJECT_ROOT / "locales")


@locales_group.command("export")
@click.argument("language")
@click.option("--format", "fmt", type=click.Choice(["po", "csv"]), default="po", show_default=True)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option(
    "--source", default="en", show_default=True, help="The language translators translate from."
)
def locales_export(language: str, fmt: str, output: Path | None, source: str) -> None:
    """Write LANGUAGE's catalog against the source language, for a translation tool."""
    from grievance.language.catalog import Catalog, CatalogError, load_catalog
    from grievance.language.exchange import export_csv, export_po, translator_notes

    directory = _locales_dir()
    try:
        source_catalog = load_catalog(directory / f"{source}.yaml")
        path = directory / f"{language}.yaml"
        target = load_catalog(path) if path.exists() else Catalog(language=language, name=language)
    except (CatalogError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    notes = translator_notes(directory / f"{source}.yaml")
    text = (export_po if fmt == "po" else export_csv)(source_catalog, target, notes)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@main.group("voice", cls=click.Group)
def voice_group() -> None:
    """The phone line: what a call says in each language."""


@voice_group.command("prompts")
@click.option(
    "--languages",
    default=None,
    help="Comma-separated languages; default GRIEVANCE_LANGUAGES, else every catalog.",
)
@click.option(
    "--generate",
    is_flag=True,
    help="Make draft recordings with espeak-ng and sox where a prompt has none (or its "
    "draft is stale).",
)
@click.option("--details", is_flag=True, help="List the prompts of each kind by name.")
def voice_prompts(languages: str | None, generate: bool, details: bool) -> None:
    """Per language: prompts recorded by a person, played from a machine-made draft, read
    by a Twilio voice (<Say>), or neither; drafts of words since changed; and phone-menu
    sentences the catalog lacks (said in English)."""
    from grievance.config import voice_drafts_dir
    from grievance.conversation import load_flowset
    from grievance.language import CatalogError, load_catalogs
    from grievance.services import voice_prompts as prompts

    directory = _locales_dir()
    drafts_dir = voice_drafts_dir(os.environ)
    wanted = languages or os.environ.get("GRIEVANCE_LANGUAGES")
    langs = [x.strip() for x in wanted.split(",") if x.strip()] if wanted else None
    try:
        catalogs = load_catalogs(directory, [*(langs or []), "en"] if langs else None)
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from None
    chosen = langs or sorted(catalogs)
    flowset, _problems = load_flowset(
        Path(os.environ.get("GRIEVANCE_FLOWS_DIR") or PROJECT_ROOT / "flows")
    )
    # The options of the menus asked on calls, each recorded apart ("press N" follows).
    labels = prompts.voice_keys(flowset) if flowset is not None else []
    if generate:
        try:
            failed: dict[str, list[str]] = {}
            made = prompts.generate(
                catalogs, directory, drafts_dir, chosen, labels=labels, failed=failed
            )
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
        for language, keys in sorted(made.items()):
            click.echo(f"{language}: {len(keys)} draft recording(s) in {drafts_dir / language}")
        for language, keys in sorted(failed.items()):
            click.echo(
                f"{language}: espeak-ng could not say {len(keys)} prompt(s), left without a "
                f"draft: {', '.join(keys)}",
                err=True,
            )
    rows = [
        row
        for row in prompts.coverage(catalogs, directory, drafts_dir, labels=labels)
        if row.language in chosen
    ]
    click.echo("| language | recorded | drafts | <Say> | neither | stale drafts | not worded |")
    click.echo("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        click.echo(
            f"| {row.language} | {len(row.recorded)} | {len(row.drafts)} | {len(row.say)} "
            f"| {len(row.neither)} | {len(row.stale)} | {len(row.unworded)} |"
        )
    if details:
        for row in rows:
            for kind in ("recorded", "drafts", "say", "neither", "stale", "unworded"):
                keys = getattr(row, kind)
                if keys:
                    click.echo(f"{row.language} {kind}: {', '.join(keys)}")


@locales_group.command("import")
@click.argument("language")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--source", default="en", show_default=True)
def locales_import(language: str, file: Path, source: str) -> None:
    """Take translations from a PO or CSV FILE into LANGUAGE's catalog (which must exist)."""
    from grievance.language.catalog import CatalogError, load_catalog
    from grievance.language.exchange import ImportError_, apply_entries, check_entries, read_entries

    directory = _locales_dir()
    path = directory / f"{language}.yaml"
    if not path.exists():
        raise click.ClickException(
            f"{path} does not exist: create it with language, name, direction and reviewed: false, "
            "and messages: {{}}, then import"
        )
    try:
        found = read_entries(file)
        problems = check_entries(file, found, load_catalog(directory / f"{source}.yaml"))
    except (ImportError_, CatalogError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(problems)} problem(s); nothing was imported")
    changed = apply_entries(path, found)
    click.echo(
        f"{changed} message(s) updated in {path}; run `grievance flows check` before committing"
    )


# -- flows ----------------------------------------------------------------------


@main.group("flows", cls=click.Group)
def flows_group() -> None:
    """Conversation flows."""


@flows_group.command("check")
@click.option(
    "--segments",
    is_flag=True,
    help="Check the SMS cost targets (a whole intake, the first reply, needless UCS-2) and "
    "print the cost of every prompt per language.",
)
@click.option("--flows-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--locales-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option(
    "--languages",
    default=None,
    help="Comma-separated; default GRIEVANCE_LANGUAGES or every catalog.",
)
@click.option(
    "--contacts-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The help and emergency contacts; default GRIEVANCE_CONTACTS_FILE.",
)
@click.option(
    "--facts-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The country facts, one YAML file per country; default GRIEVANCE_FACTS_DIR, else "
    "the repository's facts/ (its commented example).",
)
def flows_check(
    segments: bool,
    flows_dir: Path | None,
    locales_dir: Path | None,
    languages: str | None,
    contacts_file: Path | None,
    facts_dir: Path | None,
) -> None:
    """Validate every flow, catalog, the contacts file and the country facts; print problems
    as file:line: message."""
    from grievance import macros, playbooks
    from grievance.assignment_rules import AssignmentRulesError, load_rules
    from grievance.config import DEFAULT_LANGUAGES
    from grievance.contacts import ContactsError, load_contacts
    from grievance.conversation import load_flowset
    from grievance.conversation.cost import (
        FIRST_REPLY_SEGMENTS,
        INTAKE_SEGMENTS,
        segment_problems,
    )
    from grievance.conversation.cost import table as cost_table
    from grievance.conversation.inspect import check, prompt_sizes
    from grievance.facts import FactsError, load_facts
    from grievance.language import CatalogError, load_catalogs
    from grievance.services import cases, outbox, procedure, remediation, triage, voice, wellbeing

    flows_dir = flows_dir or Path(os.environ.get("GRIEVANCE_FLOWS_DIR") or PROJECT_ROOT / "flows")
    locales_dir = locales_dir or Path(
        os.environ.get("GRIEVANCE_LOCALES_DIR") or PROJECT_ROOT / "locales"
    )
    wanted = languages or os.environ.get("GRIEVANCE_LANGUAGES")
    langs = [x.strip() for x in wanted.split(",") if x.strip()] if wanted else None
    flowset, found = load_flowset(flows_dir)
    # Problems of flows and catalogs are located objects; those of the playbooks, the
    # contacts and the facts come as `file:line: message` lines already.
    problems: list[Problem | str] = list(found)
    try:
        catalogs = load_catalogs(locales_dir, langs)
    except CatalogError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    # Without a deployment's languages every catalog is checked, and the language menu is
    # sized for the default deployment: no line offers 22 languages in one SMS menu.
    menu_languages = langs or [lang for lang in DEFAULT_LANGUAGES if lang in catalogs]
    langs = langs or list(catalogs)
    if flowset is not None:
        problems += check(
            flowset,
            catalogs,
            langs,
            (
                *cases.MESSAGE_KEYS,
                *outbox.MESSAGE_KEYS,
                *triage.MESSAGE_KEYS,
                *remediation.MESSAGE_KEYS,
                *wellbeing.MESSAGE_KEYS,
                *procedure.PAGE_KEYS,
            ),
            menu_languages,
            optional_keys=voice.MESSAGE_KEYS,
        )
    try:
        books = len(playbooks.load())
    except playbooks.PlaybookError as exc:
        books = 0
        problems += str(exc).splitlines()
    try:
        n_macros = len(macros.load())
    except macros.MacroError as exc:
        n_macros = 0
        problems += str(exc).splitlines()
    rules_file = os.environ.get("GRIEVANCE_ASSIGNMENT_FILE")
    try:
        n_rules = len(load_rules(Path(rules_file) if rules_file else None))
    except AssignmentRulesError as exc:
        n_rules = 0
        problems += exc.problems
    contacts_file = contacts_file or (
        Path(os.environ["GRIEVANCE_CONTACTS_FILE"])
        if os.environ.get("GRIEVANCE_CONTACTS_FILE")
        else None
    )
    try:
        helpers = len(load_contacts(contacts_file))
    except ContactsError as exc:
        helpers = 0
        problems += exc.problems
    facts_dir = facts_dir or Path(os.environ.get("GRIEVANCE_FACTS_DIR") or PROJECT_ROOT / "facts")
    try:
        countries = load_facts(facts_dir).countries
    except FactsError as exc:
        countries = []
        problems += exc.problems
    if segments and flowset is not None:
        # Pages and phone calls are no SMS: their characters cost no segments.
        intake_costs, cost_problems = segment_problems(
            flowset, catalogs, frozenset(procedure.PAGE_KEYS) | frozenset(voice.MESSAGE_KEYS)
        )
        problems += cost_problems
        for size in prompt_sizes(flowset, catalogs, langs, menu_languages):
            click.echo(
                f"{size.flow}.{size.node} [{size.language}] {size.segments} segment(s) {size.encoding}"
            )
        click.echo(
            f"\nA whole intake (targets: at most {INTAKE_SEGMENTS} segments, first reply at "
            f"most {FIRST_REPLY_SEGMENTS}):\n"
        )
        for row in cost_table(intake_costs):
            click.echo(row)
    for problem in sorted(set(problems), key=str):
        click.echo(str(problem), err=True)
    n_flows = len(flowset.flows) if flowset else 0
    if problems:
        click.echo(
            f"{len(set(problems))} problem(s) in {n_flows} flows and {len(catalogs)} catalogs",
            err=True,
        )
        sys.exit(1)
    click.echo(
        f"ok: {n_flows} flows, {len(catalogs)} catalogs ({', '.join(catalogs)}), "
        f"{books} remediation playbooks, {n_macros} macros, "
        + (f"{n_rules} assignment rules, " if n_rules else "no assignment rules, ")
        + (
            f"{helpers} help contacts"
            if helpers
            else "no help contacts (set GRIEVANCE_CONTACTS_FILE; workers are told none are listed)"
        )
        + (
            f", country facts for {', '.join(countries)}"
            if countries
            else ", no country facts (set GRIEVANCE_FACTS_DIR; RIGHTS says only what holds everywhere)"
        )
    )


# -- progress ---------------------------------------------------------------------


@contextlib.contextmanager
def _progress(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """Report (done, total) as a bar on a terminal, or as a line per step in a log."""
    if sys.stdout.isatty():
        with click.progressbar(length=1, label=label, show_pos=True) as bar:

            def update(done: int, total: int) -> None:
                bar.length = max(total, 1)
                bar.update(done - bar.pos)

            yield update
        return
    last = -1

    def line(done: int, total: int) -> None:
        nonlocal last
        if done != last:
            click.echo(f"{label}: {done}/{total} {unit}")
            last = done

    yield line


# -- reports ------------------------------------------------------------------------


@main.group("reports", cls=click.Group)
def reports_group() -> None:
    """Exports of reports (suppressed tables) and of cases (no personal data)."""


def _month(text: str) -> Any:
    from datetime import date

    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a month like 2026-11") from None


@reports_group.command("publish")
def reports_publish() -> None:
    """Publish the latest quarter that is due to staff and every buyer (workers do it daily).

    A published quarter is frozen: publishing again changes nothing."""
    from grievance.clock import utcnow
    from grievance.reports import releases
    from grievance.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        done = releases.publish(runtime)
        quarter = releases.latest_published(utcnow().date()).label
        if done:
            click.echo(f"published {quarter} to {len(done)} audience(s): " + ", ".join(done))
        else:
            click.echo(f"{quarter} was already published to every audience")
    finally:
        runtime.close()


@reports_group.command("export")
@click.option("--kind", type=click.Choice(["cases", "counts"]), default="cases", show_default=True)
@click.option("--from", "first", required=True, help="First month, like 2026-01.")
@click.option("--to", "last", required=True, help="Last month, like 2026-12.")
@click.option(
    "--by",
    type=click.Choice(
        ["category", "severity", "site", "supplier", "language", "corridor", "agency"]
    ),
    default="category",
    show_default=True,
    help="For --kind counts: the rows of the table.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), required=True)
def reports_export(kind: str, first: str, last: str, by: str, output: Path) -> None:
    """Write cases (one row each, no personal data) or a suppressed count table as CSV.

    The count table is the published quarters of the period (whole quarters, frozen when
    first published), like every report file."""
    from grievance.clock import utcnow
    from grievance.reports import aggregates, releases
    from grievance.runtime import build_runtime
    from grievance.services import exports

    start, end = _month(first), _month(last)
    if start > end:
        start, end = end, start
    runtime = build_runtime(_settings())
    try:
        with runtime.sessions() as session, output.open("w", newline="", encoding="utf-8") as out:
            if kind == "cases":
                with _progress("exporting cases", "cases") as progress:
                    count = exports.write_cases(session, out, start, end, progress)
                click.echo(f"{count} cases written to {output}")
                return
            k = runtime.settings.report_min_cell
            audience = releases.Audience(releases.STAFF, None)
            published = releases.period(session, audience, start, end, k, utcnow().date())
            session.commit()
            rows, table = published.table(by)
            aggregates.write_csv(out, by, rows, published.months, table)
            quarters = ", ".join(q.label for q in published.quarters) or "none published yet"
            click.echo(f"cases by {by}, {len(rows)} rows ({quarters}), written to {output}")
    finally:
        runtime.close()


# -- wellbeing pulse --------------------------------------------------------------


@main.group("wellbeing", cls=click.Group)
def wellbeing_group() -> None:
    """Worker Wellbeing pulse waves: send one to a site's members, read the results."""


def _site(session: Any, site: str) -> Any:
    from sqlalchemy import select

    from grievance.models import Site

    found = session.scalars(
        select(Site).where(Site.id == int(site))
        if site.isdigit()
        else select(Site).where(Site.name == site)
    ).all()
    if len(found) != 1:
        raise click.ClickException(
            f"no site {site!r}"
            if not found
            else f"{len(found)} sites are called {site!r}; use the id"
        )
    return found[0]


@wellbeing_group.command("send")
@click.argument("site")
@click.option("--wave", type=int, default=None, help="Carry on sending this wave (its number).")
def wellbeing_send(site: str, wave: int | None) -> None:
    """Send a new wave of the pulse to SITE's members (name or id), showing progress."""
    from sqlalchemy import select

    from grievance.models import WellbeingWave
    from grievance.runtime import build_runtime
    from grievance.services import waves
    from grievance.services import wellbeing as wellbeing_service

    runtime = build_runtime(_settings())
    try:
        with runtime.sessions() as session:
            found = _site(session, site)
            sending: WellbeingWave | None
            if wave is None:
                try:
                    sending = wellbeing_service.start_wave(session, found.id, None)
                except wellbeing_service.WellbeingError as exc:
                    raise click.ClickException(str(exc)) from None
                session.commit()
            else:
                sending = session.scalars(
                    select(WellbeingWave).where(
                        WellbeingWave.site_id == found.id, WellbeingWave.wave == wave
                    )
                ).one_or_none()
                if sending is None:
                    raise click.ClickException(f"{found.name} has no wave {wave}")
            wave_id, number, total = sending.id, sending.wave, sending.total
        click.echo(f"{found.name}: wave {number} to {total} members")
        with _progress("inviting", "workers") as progress:
            waves.send_wave(runtime, wave_id, progress)
        with runtime.sessions() as session:
            done = session.get(WellbeingWave, wave_id)
            assert done is not None
            click.echo(
                f"invited {done.invited}, not reachable {done.skipped}"
                + (
                    ""
                    if done.status == "sent"
                    else "; members in the middle of a report are asked later"
                )
            )
    finally:
        runtime.close()


@wellbeing_group.command("results")
@click.argument("site")
def wellbeing_results(site: str) -> None:
    """Print SITE's results per wave and area (figures over fewer than k workers withheld)."""
    from grievance.reports.wellbeing import site_trend
    from grievance.runtime import build_runtime

    runtime = build_runtime(_settings())
    try:
        with runtime.sessions() as session:
            found = _site(session, site)
            waves = site_trend(session, found.id, runtime.settings.pulse_min_cell)
    finally:
        runtime.close()
    if not waves:
        click.echo(f"{found.name}: no waves yet")
    for result in waves:
        rate = result.response_rate
        click.echo(
            f"wave {result.wave} ({result.month}): invited {result.invited}, answered "
            f"{result.small(result.responded)}"
            + (f" ({rate:.0%})" if rate is not None and result.responded >= result.k else "")
        )
        for area in result.areas:
            figures = (
                f"mean {area.mean:.2f}, {area.favourable:.0%} favourable"
                if area.mean is not None and area.favourable is not None
                else f"fewer than {result.k} answers"
            )
            click.echo(f"  {area.label}: n={result.small(area.n)}, {figures}")
        if result.site_score is not None:
            click.echo(f"  site score: {result.site_score:.2f}")


# The group's name before it was ``wellbeing``, for scripts and habits that still call it:
# the same commands, not listed in --help.
main.add_command(
    click.Group(
        "campaigns",
        commands=[wellbeing_send, wellbeing_results],
        help="The old name of `grievance wellbeing`.",
        hidden=True,
    )
)


# -- serve ----------------------------------------------------------------------


@main.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def serve(host: str, port: int, threads: int) -> None:
    """Run everything in one process: SQLite, in-process jobs, console channel unless Twilio is set."""
    import waitress

    from grievance.app import create_app
    from grievance.channels.console import stdout_console
    from grievance.logs import configure_logging
    from grievance.migrate import upgrade
    from grievance.runtime import build_runtime

    settings = _settings(generate_missing_secrets=True)
    configure_logging(settings.log_level, settings.log_format)
    for path in filter(None, settings.extra.get("generated", "").split(",")):
        click.echo(f"generated a new secret in {path} (keep it; back it up with the database)")
    if settings.is_sqlite:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    admin = _first_admin(settings.database_url)
    if settings.public_base_url == "http://localhost:5000" and port != 5000:
        settings = settings.with_overrides(public_base_url=f"http://{host}:{port}")
    if admin is not None:
        click.echo(
            f"created the first admin: {admin[0]} with the one-time password {admin[1]}\n"
            f"sign in at {settings.public_base_url}/login, set up two-step sign-in with an "
            "authenticator app, then choose your own password"
        )
    runtime = build_runtime(settings, None if settings.twilio_enabled else stdout_console())
    app = create_app(runtime=runtime)
    if runtime.channel_name == "console":
        click.echo("channel: console (no Twilio credentials set); replies are printed here")
        click.echo(f"phone simulator: http://{host}:{port}/simulator")
    else:
        click.echo(
            f"channel: Twilio; webhooks at {settings.public_base_url}/twilio/messaging and /twilio/status"
        )
    click.echo(
        f"jobs: {'RQ on ' + _safe_url(settings.redis_url) if settings.redis_url else 'in-process'}"
    )
    click.echo(f"database: {_safe_url(settings.database_url)}")
    if not settings.redis_url:
        _start_sweeper(runtime, settings.sweep_interval_seconds)
    waitress.serve(app, host=host, port=port, threads=threads, ident="grievance")


def _safe_url(url: str | None) -> str:
    from sqlalchemy.engine import make_url

    if not url:
        return ""
    if url.startswith("redis"):
        return url.split("@")[-1] if "@" in url else url
    return make_url(url).render_as_string(hide_password=True)


RETENTION_EVERY = 24 * 3600
ESCALATE_EVERY = 300


def _start_sweeper(runtime: Runtime, interval: int, redis: Any | None = None) -> threading.Thread:
    """Sweep every ``interval`` seconds, and run retention and publish the report quarter
    that is due once a day, in a daemon thread.

    With Redis, locks make one worker of many do each: the sweep lock expires
    just before the next sweep, the retention lock after a day.
    """
    from grievance.logs import job_context
    from grievance.reports import releases
    from grievance.services import escalation, recruitment, retention
    from grievance.services.sweeper import sweep

    def claim(name: str, seconds: int) -> bool:
        return redis is None or bool(redis.set(f"grievance:{name}", "1", nx=True, ex=seconds))

    def loop() -> None:
        last_retention = last_escalation = 0.0
        while True:
            time.sleep(interval)
            with job_context():
                try:
                    if claim("sweep", max(interval - 1, 1)):
                        sweep(runtime)
                    if time.monotonic() - last_escalation >= ESCALATE_EVERY:
                        last_escalation = time.monotonic()
                        if claim("escalate", ESCALATE_EVERY - 5):
                            escalation.escalate_overdue(runtime)
                            escalation.raise_site_alerts(runtime)
                            recruitment.raise_agency_alerts(runtime)
                    if time.monotonic() - last_retention >= RETENTION_EVERY or not last_retention:
                        last_retention = time.monotonic()
                        if claim("retention", RETENTION_EVERY - 60):
                            retention.run(runtime)
                            releases.publish(runtime)
                except Exception as exc:
                    log_failure(log, "sweep or retention", exc)

    thread = threading.Thread(target=loop, name="grievance-sweeper", daemon=True)
    thread.start()
    return thread


# -- retention and deliveries -------------------------------------------------------


@main.group("retention", cls=click.Group)
def retention_group() -> None:
    """Erasing personal data past its retention period."""


@retention_group.command("run")
def retention_run() -> None:
    """Erase what has passed its retention period now (workers also do this daily)."""
    from grievance.runtime import build_runtime
    from grievance.services import retention

    runtime = build_runtime(_settings())
    try:
        report = retention.run(runtime)
        with runtime.sessions() as session:
            due = retention.due_at_provider(session, runtime)
        deleted = sum(retention.delete_at_provider(runtime, message_id) for message_id in due)
    finally:
        runtime.close()
    click.echo(f"retention: {report}; {deleted} messages deleted at the provider")


@main.group("deliveries", cls=click.Group)
def deliveries_group() -> None:
    """Messages that did not reach workers."""


@deliveries_group.command("failed")
@click.option("--limit", default=50, show_default=True, type=int)
def deliveries_failed(limit: int) -> None:
    """List failed or undelivered messages to workers with an open case, with the reason."""
    from grievance.runtime import build_runtime
    from grievance.services.deliveries import failed_deliveries

    runtime = build_runtime(_settings())
    try:
        with runtime.sessions() as session:
            failures = failed_deliveries(session, limit)
    finally:
        runtime.close()
    if not failures:
        click.echo("no failed deliveries to workers with an open case")
    for f in failures:
        click.echo(
            f"case {f.case_id} ({f.case_status}) {f.at:%Y-%m-%d %H:%M} UTC "
            f"{f.channel} {f.status}: {f.reason}"
        )


# -- worker ---------------------------------------------------------------------


@main.command("worker", with_appcontext=False)
@click.option("--burst", is_flag=True, help="Quit when the queue is empty (tests, benchmarks).")
@click.option("--no-sweeper", is_flag=True, help="Do not run the periodic sweeper in this worker.")
@click.option(
    "--fork",
    is_flag=True,
    help="Fork a work horse per job (RQ's default) instead of running jobs in-process.",
)
def worker(burst: bool, no_sweeper: bool, fork: bool) -> None:
    """Run an RQ worker with the scheduler; needs REDIS_URL.

    Jobs run in the worker process by default: they are short and database-bound,
    and forking per job would cost more than the job itself and drop the
    connection pool every time.
    """
    from redis.exceptions import RedisError

    from grievance.logs import configure_logging
    from grievance.queue import RQQueue, worker_class
    from grievance.runtime import build_runtime, install

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException(
            "REDIS_URL is not set: without Redis, jobs run inside `grievance serve`."
        )
    configure_logging(settings.log_level, settings.log_format)
    runtime = build_runtime(settings)
    install(runtime)
    queue = runtime.queue
    assert isinstance(queue, RQQueue)
    if not no_sweeper and not burst:
        _start_sweeper(runtime, settings.sweep_interval_seconds, redis=queue.redis)
    worker_type = worker_class(fork)
    delay = 1.0
    while True:
        # RQ gives up when Redis goes away; the worker waits for it to come back.
        try:
            rq_worker = worker_type(queue.queues, connection=queue.redis)
            rq_worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
            return
        except RedisError as exc:
            log.warning("Redis unavailable (%s); retrying in %.0fs", type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


# -- simulate -------------------------------------------------------------------


@main.command("simulate", with_appcontext=False)
@click.option("--lang", default=None, help="Start with this language (skips the language menu).")
@click.option(
    "--whatsapp", is_flag=True, help="Behave like WhatsApp (richer prompts, media allowed)."
)
def simulate(lang: str | None, whatsapp: bool) -> None:
    """Chat with the flows in the terminal, through the real inbox and outbox."""
    from grievance.channels.console import ConsoleChannel, simulator_address
    from grievance.migrate import upgrade
    from grievance.runtime import build_runtime
    from grievance.services import inbox

    settings = _settings(generate_missing_secrets=True).with_overrides(
        inline_jobs="sync", redis_url=None
    )
    if lang is not None and lang not in settings.languages:
        raise click.ClickException(
            f"--lang {lang}: not one of GRIEVANCE_LANGUAGES ({', '.join(settings.languages)})"
        )
    if settings.is_sqlite:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    console = ConsoleChannel()
    runtime = build_runtime(settings, console)
    channel = "whatsapp" if whatsapp else "sms"
    address = simulator_address(secrets.token_hex(8), channel)
    if lang:
        inbox.preset_language(runtime, address, channel, lang)
    click.echo(f"simulated {channel} phone; type a message, Ctrl-D to quit")
    seen = 0
    while True:
        try:
            text = input("you> ")
        except EOFError:
            click.echo()
            break
        inbox.receive(
            runtime,
            inbox.InboundMessage(
                provider_sid="SM" + secrets.token_hex(16),
                address=address,
                channel=channel,
                body=text,
                our_address="simulator",
            ),
        )
        for number, body in console.mailbox(address, seen):
            seen = number
            click.echo("line> " + body.replace("\n", "\n      "))
    runtime.close()


if __name__ == "__main__":
    main()
