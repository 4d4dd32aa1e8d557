"""staff alerts say whom they are addressed to: the browser's notifications show each handler theirs

Revision ID: e4b8c2d6f0a9
Revises: b3d5f7a9c1e2
Create Date: 2026-12-07 02:30:00

One nullable number, no foreign key (users are never deleted): the assignee an alert went to
alone, or null for everyone on duty. Rows written before (and by the previous release's code
during a rolling deploy) read as everyone on duty; no browser is shown the older ones, since
a browser starts from the newest alert there is when it first asks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e4b8c2d6f0a9"
down_revision = "b3d5f7a9c1e2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff_alerts", sa.Column("user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_alerts") as batch:
        batch.drop_column("user_id")
