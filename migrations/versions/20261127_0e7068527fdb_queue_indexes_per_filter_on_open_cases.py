"""queue indexes per filter on open cases

Revision ID: 0e7068527fdb
Revises: 06715a88f684
Create Date: 2026-11-27 17:36:34.887334

Indexes only (on open cases: about a third of the table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '0e7068527fdb'
down_revision = '06715a88f684'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open_queue_category', ['category', 'severity', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))
        batch_op.create_index('ix_cases_open_queue_site', ['site_id', 'severity', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))
        batch_op.create_index('ix_cases_open_queue_supplier', ['supplier_id', 'severity', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_queue_supplier', postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))
        batch_op.drop_index('ix_cases_open_queue_site', postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))
        batch_op.drop_index('ix_cases_open_queue_category', postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))

