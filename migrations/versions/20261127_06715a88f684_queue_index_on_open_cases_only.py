"""queue index on open cases only

Revision ID: 06715a88f684
Revises: 0d928df58f92
Create Date: 2026-11-27 17:31:27.758521

Indexes only. The statuses in the predicate must match OPEN_STATUSES and the
queue's WHERE clause exactly, or neither database will use the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '06715a88f684'
down_revision = '0d928df58f92'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_queue_due'))
        batch_op.create_index('ix_cases_open_queue', ['severity', 'due_at', 'id'], unique=False, postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_open_queue', postgresql_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"), sqlite_where=sa.text("status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', 'remediation_in_progress', 'awaiting_worker')"))
        batch_op.create_index(batch_op.f('ix_cases_queue_due'), ['status', 'severity', 'due_at', 'id'], unique=False)

