"""users choose their language: staff pages in English, Malay or Thai

Revision ID: e1f3a5c7b9d2
Revises: 3e8777e2c2ac
Create Date: 2026-12-07 02:30:00

One nullable column; the previous release's code never reads it (its pages are in English).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e1f3a5c7b9d2"
down_revision = "3e8777e2c2ac"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("locale")
