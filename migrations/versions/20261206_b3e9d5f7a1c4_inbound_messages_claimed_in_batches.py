"""inbound messages are claimed in batches: an attempt counter, and an index of what waits

Revision ID: b3e9d5f7a1c4
Revises: a7c4e2f9d1b3
Create Date: 2026-12-06 23:20:00

``messages.attempts`` counts how often processing an inbound message failed; after a few
it is set aside, so one message that cannot be processed never holds up a batch. The
partial index finds the inbound messages still waiting without reading the rest. The
previous release's code, still running during a rolling deploy, never reads either: its
per-message jobs keep working beside the batches.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3e9d5f7a1c4"
down_revision = "a7c4e2f9d1b3"
branch_labels = None
depends_on = None

WAITING = sa.text("processed_at IS NULL AND direction = 'in'")


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index(
        "ix_messages_inbound_waiting",
        "messages",
        ["contact_id", "id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_inbound_waiting", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attempts")
