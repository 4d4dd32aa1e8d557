"""plans belong to their supplier: a re-referral archives the plan instead of handing it over

Revision ID: d81f4c2a9e60
Revises: c3a9e1f0b7d2
Create Date: 2026-12-06 11:40:00

One current plan per case (a partial unique index on case_id where archived_at is null)
instead of one plan per case. The previous release never archives, so while it still runs
every plan stays current, as it expects.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db

revision = "d81f4c2a9e60"
down_revision = "c3a9e1f0b7d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("remediation_plans") as batch:
        batch.add_column(
            sa.Column("archived_at", grievance.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch.drop_constraint("uq_remediation_plans_case_id", type_="unique")
        batch.create_index("ix_remediation_plans_case_id", ["case_id"], unique=False)
    op.create_index(
        "uq_remediation_plans_current",
        "remediation_plans",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("archived_at IS NULL"),
        postgresql_where=sa.text("archived_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_remediation_plans_current", table_name="remediation_plans")
    op.execute("DELETE FROM remediation_plans WHERE archived_at IS NOT NULL")
    with op.batch_alter_table("remediation_plans") as batch:
        batch.drop_index("ix_remediation_plans_case_id")
        batch.create_unique_constraint("uq_remediation_plans_case_id", ["case_id"])
        batch.drop_column("archived_at")
