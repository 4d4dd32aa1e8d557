"""a worker reaches a person: person requests, unread worker messages, call requests

Revision ID: 978386ba388d
Revises: ac717fd7b1a6
Create Date: 2026-12-06 04:17:12.904514

A migration must work with the previous release's code still running: add
columns as nullable or with a server default, backfill in a later release, and
drop only what no running release reads.

New columns have server defaults (nothing unread, no attention needed, codes
issued), so cases written by the previous release read as they did. The queue
indexes gain the `requested` stage and the attention column; the previous
release's queries still use them (their leading columns are unchanged).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db

revision = '978386ba388d'
down_revision = 'ac717fd7b1a6'
branch_labels = None
depends_on = None

OLD_OPEN = sa.text(
    "status IN ('received', 'acknowledged', 'in_triage', 'with_supplier', "
    "'remediation_in_progress', 'awaiting_worker')"
)
NEW_OPEN = sa.text(
    "status IN ('requested', 'received', 'acknowledged', 'in_triage', 'with_supplier', "
    "'remediation_in_progress', 'awaiting_worker')"
)
WAITING = sa.text("attention = 0")
QUEUES = (("", ()), ("_category", ("category",)), ("_site", ("site_id",)), ("_supplier", ("supplier_id",)))


def upgrade() -> None:
    op.create_table('call_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('time_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('number_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('reveals', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_call_requests_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_requests'))
    )
    with op.batch_alter_table('call_requests', schema=None) as batch_op:
        batch_op.create_index('ix_call_requests_case', ['case_id', 'id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handover_requested_at', grievance.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unread_worker_messages', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_worker_message_at', grievance.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attention', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('code_issued', sa.Boolean(), server_default=sa.true(), nullable=False))
        for suffix, prefix in QUEUES:
            name = f'ix_cases_open_queue{suffix}'
            batch_op.drop_index(name, postgresql_where=OLD_OPEN, sqlite_where=OLD_OPEN)
            batch_op.create_index(name, [*prefix, 'severity', 'attention', 'due_at', 'id'], unique=False, postgresql_where=NEW_OPEN, sqlite_where=NEW_OPEN)
        batch_op.create_index('ix_cases_waiting', ['status', 'id'], unique=False, postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_waiting', postgresql_where=WAITING, sqlite_where=WAITING)
        for suffix, prefix in QUEUES:
            name = f'ix_cases_open_queue{suffix}'
            batch_op.drop_index(name, postgresql_where=NEW_OPEN, sqlite_where=NEW_OPEN)
            batch_op.create_index(name, [*prefix, 'severity', 'due_at', 'id'], unique=False, postgresql_where=OLD_OPEN, sqlite_where=OLD_OPEN)
        batch_op.drop_column('code_issued')
        batch_op.drop_column('attention')
        batch_op.drop_column('last_worker_message_at')
        batch_op.drop_column('unread_worker_messages')
        batch_op.drop_column('handover_requested_at')

    with op.batch_alter_table('call_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_call_requests_case')

    op.drop_table('call_requests')
