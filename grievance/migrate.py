"""Alembic, driven from code so ``grievance db upgrade`` and ``grievance serve`` need no ini file."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from grievance.config import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` using the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Revert migrations down to ``revision``."""
    command.downgrade(alembic_config(database_url), revision)
