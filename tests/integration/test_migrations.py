"""Migrations: the models equal `upgrade head`, and every revision goes up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

import grievance.models  # noqa: F401
from grievance.db import Base
from grievance.migrate import alembic_config, downgrade, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    yield url
    upgrade(url)  # leave the shared test database migrated for the tests after this one


def test_models_match_upgrade_head(empty_database: str) -> None:
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], "models and migrations differ; run `alembic revision --autogenerate`"


def test_every_revision_goes_up_and_down(empty_database: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    revisions = list(reversed(list(script.walk_revisions())))
    assert revisions, "no migrations"
    for revision in revisions:
        upgrade(empty_database, revision.revision)
        downgrade(empty_database, revision.down_revision or "base")
        upgrade(empty_database, revision.revision)
    downgrade(empty_database, "base")
    engine = create_engine(empty_database)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
    upgrade(empty_database)


def insert_row(connection: Any, table_name: str, **values: Any) -> None:
    """A row as the release before would have written it: ``values``, and a plain value for
    every other column that needs one (reflected, so the test follows the schema of that day)."""
    from datetime import UTC, datetime

    from sqlalchemy import Boolean, DateTime, Integer, MetaData, Table

    table = Table(table_name, MetaData(), autoload_with=connection)
    for column in table.columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        kind = column.type
        values[column.name] = (
            False
            if isinstance(kind, Boolean)
            else datetime(2026, 12, 1, 10, tzinfo=UTC)
            if isinstance(kind, DateTime)
            else 0
            if isinstance(kind, Integer)
            else "[]"
            if "JSON" in type(kind).__name__.upper()
            else "x"
        )
    connection.execute(table.insert().values(**values))


def test_plans_and_tokens_survive_the_migrations_that_change_them(empty_database: str) -> None:
    """Rows written by the release before survive the upgrade and mean what they meant: a plan
    stays its case's current plan (one per case is still enforced), and a token keeps working
    without an expiry until it is revoked."""
    from sqlalchemy.exc import IntegrityError

    upgrade(empty_database, "5b1c0d9e7a21")  # the release before the mail outbox
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        insert_row(connection, "organisations", id=1, name="Sunrise", kind="supplier")
        insert_row(connection, "cases", id=1, code_hash="h", status="with_supplier")
        insert_row(connection, "remediation_plans", id=1, case_id=1, supplier_id=1)
        insert_row(connection, "users", id=1, email="h@example.org", role="handler")
        insert_row(connection, "api_tokens", id=1, user_id=1, token_hash="abc", name="cli")
    engine.dispose()
    upgrade(empty_database)
    engine = create_engine(empty_database)
    with engine.connect() as connection:
        plan = connection.execute(text("SELECT case_id, archived_at FROM remediation_plans")).one()
        assert tuple(plan) == (1, None)  # still the case's current plan
        token = connection.execute(text("SELECT revoked_at, expires_at FROM api_tokens")).one()
        assert tuple(token) == (None, None)  # still live: revoke it to end it
        connection.rollback()
        with pytest.raises(IntegrityError), connection.begin():
            insert_row(connection, "remediation_plans", id=2, case_id=1, supplier_id=1)
    engine.dispose()


def _plain_value(column: Any, connection: Any) -> Any:
    """A value the column accepts, pointing at an existing row where it is a foreign key."""
    from datetime import UTC, date, datetime

    from sqlalchemy import (
        Boolean,
        Date,
        DateTime,
        Float,
        Integer,
        LargeBinary,
        Numeric,
        select,
    )

    for key in column.foreign_keys:
        target = key.column
        if target.table is column.table:
            return None  # a row pointing at itself: left empty where it may be
        return connection.scalar(select(target).limit(1))
    kind = column.type
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, DateTime):
        return datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2026, 12, 1)
    if isinstance(kind, Integer):
        return 7
    if isinstance(kind, (Float, Numeric)):
        return 2.5
    if isinstance(kind, LargeBinary):
        return b"\x00sealed"
    if "JSON" in type(kind).__name__.upper():
        return ["kept"]
    length = getattr(kind, "length", None) or 40
    return f"{column.table.name}.{column.name}"[:length]


def _fill_empty_tables(connection: Any) -> None:
    """One row in every table that has none, every column set (a nullable one too, so a
    migration that drops or rewrites it is seen), in the order foreign keys need."""
    from sqlalchemy import MetaData, func, select

    metadata = MetaData()
    metadata.reflect(connection)
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        if connection.scalar(select(func.count()).select_from(table)):
            continue
        values = {}
        for column in table.columns:
            value = _plain_value(column, connection)
            if value is None and not column.nullable:
                value = 1 if column.primary_key else value
            values[column.name] = value
        connection.execute(table.insert().values(**values))


def _rows(connection: Any) -> dict[str, list[dict[str, Any]]]:
    from sqlalchemy import MetaData, select

    metadata = MetaData()
    metadata.reflect(connection)
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in metadata.sorted_tables
        if table.name != "alembic_version"
    }


def _same(before: Any, after: Any) -> bool:
    """Equal, reading a date-time without its zone (SQLite keeps none) as UTC."""
    from datetime import UTC, datetime

    if isinstance(before, datetime) and isinstance(after, datetime):
        return before.replace(tzinfo=before.tzinfo or UTC) == after.replace(
            tzinfo=after.tzinfo or UTC
        )
    return bool(before == after)


def test_every_migration_keeps_the_rows_it_finds(empty_database: str) -> None:
    """Each revision in turn is upgraded to with a row in every table, every column set: the
    rows are all still there after it, with the same value in every column that is left."""
    script = ScriptDirectory.from_config(alembic_config(empty_database))
    revisions = list(reversed(list(script.walk_revisions())))
    engine = create_engine(empty_database)
    before: dict[str, list[dict[str, Any]]] = {}
    try:
        for revision in revisions:
            upgrade(empty_database, revision.revision)
            with engine.begin() as connection:
                after = _rows(connection)
                for table, rows in before.items():
                    assert table in after, f"{revision.revision} dropped the table {table}"
                    assert len(after[table]) == len(rows), f"{revision.revision}: rows of {table}"
                    for old, new in zip(rows, after[table], strict=True):
                        changed = [
                            name for name in old if name in new and not _same(old[name], new[name])
                        ]
                        assert not changed, (
                            f"{revision.revision} changed {table}.{', '.join(changed)}: "
                            f"{[old[n] for n in changed]} -> {[new[n] for n in changed]}"
                        )
                _fill_empty_tables(connection)
                before = _rows(connection)
    finally:
        engine.dispose()
    assert before.keys() == set(Base.metadata.tables)
