"""Migrations: the models equal `upgrade head`, and every revision goes up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
