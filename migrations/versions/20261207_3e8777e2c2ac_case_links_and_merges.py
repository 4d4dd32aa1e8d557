"""case links and merges: handlers link two cases, or merge a duplicate into its primary

Revision ID: 3e8777e2c2ac
Revises: e4b8c2d6f0a9
Create Date: 2026-12-07 02:30:00

Two new tables; no existing table changes. The previous release's code, still running
during a rolling deploy, never reads them: it shows a merged duplicate as a closed case
and answers STATUS with its own "closed" stage until it is replaced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "3e8777e2c2ac"
down_revision = "e4b8c2d6f0a9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_links_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["cases.id"],
            name=op.f("fk_case_links_other_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_case_links_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_links")),
        sa.UniqueConstraint("case_id", "other_id", name=op.f("uq_case_links_case_id")),
    )
    op.create_index(op.f("ix_case_links_other_id"), "case_links", ["other_id"], unique=False)
    op.create_table(
        "case_merges",
        sa.Column("duplicate_id", sa.Integer(), nullable=False),
        sa.Column("primary_id", sa.Integer(), nullable=False),
        sa.Column("merged_by", sa.Integer(), nullable=True),
        sa.Column("merged_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_id"],
            ["cases.id"],
            name=op.f("fk_case_merges_duplicate_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["primary_id"],
            ["cases.id"],
            name=op.f("fk_case_merges_primary_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_by"],
            ["users.id"],
            name=op.f("fk_case_merges_merged_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("duplicate_id", name=op.f("pk_case_merges")),
    )
    op.create_index(op.f("ix_case_merges_primary_id"), "case_merges", ["primary_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_merges_primary_id"), table_name="case_merges")
    op.drop_table("case_merges")
    op.drop_index(op.f("ix_case_links_other_id"), table_name="case_links")
    op.drop_table("case_links")
