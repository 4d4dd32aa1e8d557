"""assignment rules' turns, the rule that assigned a case, and handlers' saved queue views

Revision ID: b3e9d2a7c5f1
Revises: b3d9f1a7c5e2
Create Date: 2026-12-07 00:00:00

Two new tables and a nullable column. The previous release's code, still running during a
rolling deploy, never reads them: it assigns by hand only, and a case it assigns keeps a
stale rule name, which the rules then treat as assigned by that rule (they may give it to
the next handler in turn when it is categorised).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "b3e9d2a7c5f1"
down_revision = "b3d9f1a7c5e2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("assignment_rule", sa.String(length=64), nullable=True))
    op.create_table(
        "assignment_turns",
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("last_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["last_user_id"],
            ["users.id"],
            name=op.f("fk_assignment_turns_last_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_assignment_turns")),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_views_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_saved_views_user_id")),
    )


def downgrade() -> None:
    op.drop_table("saved_views")
    op.drop_table("assignment_turns")
    op.drop_column("cases", "assignment_rule")
