"""one directory of contacts: browser entries marked for their uses; contacts given, counted

Revision ID: b3d5f7a9c2e4
Revises: a7c4e2f9b1d8
Create Date: 2026-12-06 18:00:00

Entries admins added before keep their meaning: staff referrals only (uses ["referrals"]),
with no phone until an admin adds one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b3d5f7a9c2e4"
down_revision = "a7c4e2f9b1d8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("referral_orgs", sa.Column("phone", sa.String(length=40), nullable=True))
    op.add_column(
        "referral_orgs",
        sa.Column("kind", sa.String(length=16), server_default="other", nullable=False),
    )
    op.add_column(
        "referral_orgs",
        sa.Column("uses", sa.JSON(), server_default='["referrals"]', nullable=False),
    )
    op.add_column(
        "referral_orgs", sa.Column("nationals", sa.JSON(), server_default="[]", nullable=False)
    )
    op.add_column("referral_orgs", sa.Column("hours", sa.String(length=200), nullable=True))
    op.create_table(
        "contacts_given",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("given_as", sa.String(length=16), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_given")),
    )
    op.create_index("ix_contacts_given_month", "contacts_given", ["month", "ref"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_contacts_given_month", table_name="contacts_given")
    op.drop_table("contacts_given")
    with op.batch_alter_table("referral_orgs") as batch:
        for column in ("hours", "nationals", "uses", "kind", "phone"):
            batch.drop_column(column)
