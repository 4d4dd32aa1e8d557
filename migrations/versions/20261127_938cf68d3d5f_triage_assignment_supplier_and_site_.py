"""triage: assignment, supplier and site, indicators, SLA due, notes, referral directory

Revision ID: 938cf68d3d5f
Revises: babc770dff55
Create Date: 2026-11-27 16:54:48.641401

Nullable columns, a JSON column with a server default, and new tables: the
previous release keeps running while this one is deployed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db



revision = '938cf68d3d5f'
down_revision = 'babc770dff55'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_orgs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('how_to_reach', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_orgs'))
    )
    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index('ix_case_notes_case', ['case_id', 'id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('supplier_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('indicators', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('acknowledged_at', grievance.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('stage_started_at', grievance.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('due_at', grievance.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('supplier_summary', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pending_severity', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_due_at'), ['due_at'], unique=False)
        batch_op.create_index('ix_cases_queue_due', ['status', 'severity', 'due_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_cases_site_id_sites'), 'sites', ['site_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_cases_assignee_id_users'), 'users', ['assignee_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_cases_supplier_id_organisations'), 'organisations', ['supplier_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_supplier_id_organisations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_assignee_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_cases_site_id_sites'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_cases_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_cases_site_id'))
        batch_op.drop_index('ix_cases_queue_due')
        batch_op.drop_index(batch_op.f('ix_cases_due_at'))
        batch_op.drop_index(batch_op.f('ix_cases_assignee_id'))
        batch_op.drop_column('pending_severity')
        batch_op.drop_column('close_reason')
        batch_op.drop_column('supplier_summary')
        batch_op.drop_column('summary')
        batch_op.drop_column('due_at')
        batch_op.drop_column('stage_started_at')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('indicators')
        batch_op.drop_column('site_id')
        batch_op.drop_column('supplier_id')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_case_notes_case')

    op.drop_table('case_notes')
    op.drop_table('referral_orgs')
