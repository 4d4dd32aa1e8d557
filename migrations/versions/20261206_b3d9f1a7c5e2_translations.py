"""translations: machine translations of workers' words for staff, cached encrypted

Revision ID: b3d9f1a7c5e2
Revises: b3e9d5f7a1c4
Create Date: 2026-12-06 23:10:00

A new table only. The previous release's code, still running during a rolling deploy,
never reads it; its case pages show the words untranslated, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "b3d9f1a7c5e2"
down_revision = "b3e9d5f7a1c4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("text_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_translations_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_translations_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translations")),
    )
    op.create_index(
        "ux_translations_message_target", "translations", ["message_id", "target"], unique=True
    )
    op.create_index("ix_translations_case_target", "translations", ["case_id", "target"])


def downgrade() -> None:
    op.drop_index("ix_translations_case_target", table_name="translations")
    op.drop_index("ux_translations_message_target", table_name="translations")
    op.drop_table("translations")
