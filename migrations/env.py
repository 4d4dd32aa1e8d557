"""Alembic environment: the URL comes from grievance (code) or DATABASE_URL (the alembic CLI)."""

from __future__ import annotations

import os

from alembic import context

import grievance.models  # noqa: F401 - registers every table on Base.metadata
from grievance.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL, or run `grievance db upgrade`.")
    return str(url)


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the database; batch mode lets SQLite alter tables."""
    engine = make_engine(_url())
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode alters a SQLite table by copying it, dropping the old one and renaming
            # the copy. With foreign keys enforced, that drop runs the ON DELETE actions of
            # every table pointing at it: a case's contact set to null, conversations deleted.
            # So enforcement is off while migrating (the pragma only takes effect outside a
            # transaction), and the links are checked before the migration commits.
            # On the driver's connection: SQLAlchemy would first emit BEGIN (grievance/db.py).
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
