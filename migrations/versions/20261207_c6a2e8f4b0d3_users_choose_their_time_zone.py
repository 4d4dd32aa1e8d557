"""users choose their time zone: staff pages show times where the reader is

Revision ID: c6a2e8f4b0d3
Revises: b3e9d2a7c5f1
Create Date: 2026-12-07 00:00:00

One nullable column; the previous release's code never reads it (it shows UTC).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c6a2e8f4b0d3"
down_revision = "b3e9d2a7c5f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("time_zone")
