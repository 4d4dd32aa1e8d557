"""staff alerts: one per case and reason while it waits; cases found by when they changed

Revision ID: a7c4e2f9d1b3
Revises: d4f6a8c0e2b7
Create Date: 2026-12-06 20:40:00

A new table and an index. The previous release's code, still running during a rolling
deploy, never reads the table (its danger and person emails simply go without a row), and
the index on ``cases.updated_at`` changes nothing it does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "a7c4e2f9d1b3"
down_revision = "d4f6a8c0e2b7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_staff_alerts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_alerts")),
    )
    op.create_index(
        "ux_staff_alerts_waiting",
        "staff_alerts",
        ["case_id", "reason"],
        unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
        sqlite_where=sa.text("cleared_at IS NULL"),
    )
    op.create_index(op.f("ix_cases_updated_at"), "cases", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_updated_at"), table_name="cases")
    op.drop_index("ux_staff_alerts_waiting", table_name="staff_alerts")
    op.drop_table("staff_alerts")
