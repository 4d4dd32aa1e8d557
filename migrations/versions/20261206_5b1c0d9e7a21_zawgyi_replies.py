"""zawgyi replies: the Burmese encoding a worker's phone uses

Revision ID: 5b1c0d9e7a21
Revises: 978386ba388d
Create Date: 2026-12-06 08:10:00

A migration must work with the previous release's code still running: the new
column is nullable, and NULL means Unicode, which is what the previous release
sent to everyone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5b1c0d9e7a21"
down_revision = "978386ba388d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("script", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("script")
