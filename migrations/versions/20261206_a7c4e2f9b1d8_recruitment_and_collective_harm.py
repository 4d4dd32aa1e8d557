"""recruitment agencies, what workers paid them, and how many a problem affects

Revision ID: a7c4e2f9b1d8
Revises: f2b8d4e6a1c3
Create Date: 2026-12-06 17:00:00

New tables for agencies, a case's recruitment details and agency alerts; two nullable or
defaulted columns on cases. Existing cases keep "not said" for both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from grievance.db import UTCDateTime

revision = "a7c4e2f9b1d8"
down_revision = "f2b8d4e6a1c3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recruitment_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["recruitment_agencies.id"],
            name=op.f("fk_recruitment_agencies_merged_into_id_recruitment_agencies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recruitment_agencies")),
    )
    op.create_index(
        op.f("ix_recruitment_agencies_name"), "recruitment_agencies", ["name"], unique=False
    )
    op.create_table(
        "case_recruitment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("words_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("fee_amount", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("fee_currency", sa.String(length=3), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["recruitment_agencies.id"],
            name=op.f("fk_case_recruitment_agency_id_recruitment_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_recruitment_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_recruitment")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_recruitment_case_id")),
    )
    op.create_index(
        "ix_case_recruitment_agency", "case_recruitment", ["agency_id", "case_id"], unique=False
    )
    op.create_table(
        "agency_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("suppliers", sa.Integer(), nullable=False),
        sa.Column("raised_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["recruitment_agencies.id"],
            name=op.f("fk_agency_alerts_agency_id_recruitment_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_alerts")),
    )
    op.create_index(
        "ix_agency_alerts_agency", "agency_alerts", ["agency_id", "raised_at"], unique=False
    )
    # Plain ADD COLUMN, not a batch: on SQLite a batch would copy and drop the cases table,
    # and the drop would cascade to every row that refers to a case.
    op.add_column("cases", sa.Column("affected", sa.String(length=8), nullable=True))
    op.add_column(
        "cases", sa.Column("on_behalf", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("on_behalf")
        batch.drop_column("affected")
    op.drop_index("ix_agency_alerts_agency", table_name="agency_alerts")
    op.drop_table("agency_alerts")
    op.drop_index("ix_case_recruitment_agency", table_name="case_recruitment")
    op.drop_table("case_recruitment")
    op.drop_index(op.f("ix_recruitment_agencies_name"), table_name="recruitment_agencies")
    op.drop_table("recruitment_agencies")
