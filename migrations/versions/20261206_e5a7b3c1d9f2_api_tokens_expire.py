"""api tokens expire

Revision ID: e5a7b3c1d9f2
Revises: d81f4c2a9e60
Create Date: 2026-12-06 12:00:00

A nullable column: tokens made before it never expire until revoked (``grievance tokens
revoke``); every new token gets an expiry. The previous release ignores the column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db

revision = "e5a7b3c1d9f2"
down_revision = "d81f4c2a9e60"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("expires_at", grievance.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
