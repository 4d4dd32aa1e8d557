"""voice calls: the state of a call, its status events, and missed-call callbacks

Revision ID: b3d5f7a9c1e2
Revises: c6a2e8f4b0d3
Create Date: 2026-12-06 23:10:00

Three new tables. The previous release's code, still running during a rolling deploy,
has no voice webhook and never reads them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "b3d5f7a9c1e2"
down_revision = "c6a2e8f4b0d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=40), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("our_number", sa.String(length=32), nullable=True),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("silent", sa.Integer(), nullable=False),
        sa.Column("prompt_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("code_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_voice_calls_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_voice_calls_case_id_cases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_voice_calls_call_sid")),
    )
    op.create_index(op.f("ix_voice_calls_contact_id"), "voice_calls", ["contact_id"])
    op.create_table(
        "voice_call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_call_events")),
        sa.UniqueConstraint(
            "call_sid", "status", name=op.f("uq_voice_call_events_call_sid")
        ),
    )
    op.create_table(
        "voice_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("our_number", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("call_sid", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_voice_callbacks_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_callbacks")),
    )
    op.create_index(op.f("ix_voice_callbacks_contact_id"), "voice_callbacks", ["contact_id"])
    op.create_index(
        "ix_voice_callbacks_status_due", "voice_callbacks", ["status", "due_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_voice_callbacks_status_due", table_name="voice_callbacks")
    op.drop_index(op.f("ix_voice_callbacks_contact_id"), table_name="voice_callbacks")
    op.drop_table("voice_callbacks")
    op.drop_table("voice_call_events")
    op.drop_index(op.f("ix_voice_calls_contact_id"), table_name="voice_calls")
    op.drop_table("voice_calls")
