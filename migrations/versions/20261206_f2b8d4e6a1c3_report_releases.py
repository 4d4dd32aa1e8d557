"""report releases: a quarter's published report figures, frozen per audience

Revision ID: f2b8d4e6a1c3
Revises: e5a7b3c1d9f2
Create Date: 2026-12-06 14:00:00

A new table only. Releases are written on first publication, so an upgraded instance
publishes its past quarters from the cases as they stand when first read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "f2b8d4e6a1c3"
down_revision = "e5a7b3c1d9f2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_releases")),
        sa.UniqueConstraint("audience", "quarter", name=op.f("uq_report_releases_audience")),
    )


def downgrade() -> None:
    op.drop_table("report_releases")
