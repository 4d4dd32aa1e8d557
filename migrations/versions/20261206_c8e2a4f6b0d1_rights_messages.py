"""rights messages to a site's pulse members, and who was sent one

Revision ID: c8e2a4f6b0d1
Revises: b3d5f7a9c2e4
Create Date: 2026-12-06 18:30:00

New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "c8e2a4f6b0d1"
down_revision = "b3d5f7a9c2e4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rights_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("invited", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_rights_messages_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_rights_messages_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_messages")),
    )
    op.create_index(op.f("ix_rights_messages_site_id"), "rights_messages", ["site_id"], unique=False)
    op.create_table(
        "rights_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["rights_messages.id"],
            name=op.f("fk_rights_invites_campaign_id_rights_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_rights_invites_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_invites")),
        sa.UniqueConstraint(
            "campaign_id", "contact_id", name=op.f("uq_rights_invites_campaign_id")
        ),
    )
    op.create_index(
        op.f("ix_rights_invites_campaign_id"), "rights_invites", ["campaign_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rights_invites_campaign_id"), table_name="rights_invites")
    op.drop_table("rights_invites")
    op.drop_index(op.f("ix_rights_messages_site_id"), table_name="rights_messages")
    op.drop_table("rights_messages")
