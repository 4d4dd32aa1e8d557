"""an outbox row holds the pacing slot it reserved

Revision ID: d4f6a8c0e2b7
Revises: d4f6a8c0e2b5
Create Date: 2026-12-06 20:30:00

One nullable column (plain ADD COLUMN: no table is recreated).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "d4f6a8c0e2b7"
down_revision = "d4f6a8c0e2b5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("slot_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("slot_at")
