"""remediation plans, evidence, comments and worker prompts

Revision ID: 796d025a3df2
Revises: 0e7068527fdb
Create Date: 2026-11-27 19:15:58.965429

New tables, and nullable or server-defaulted columns on cases: the previous
release keeps running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db



revision = '796d025a3df2'
down_revision = '0e7068527fdb'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('remediation_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('playbook', sa.String(length=16), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('returns', sa.Integer(), nullable=False),
    sa.Column('created_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('verified_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_remediation_plans_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['organisations.id'], name=op.f('fk_remediation_plans_supplier_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remediation_plans')),
    sa.UniqueConstraint('case_id', name=op.f('uq_remediation_plans_case_id'))
    )
    with op.batch_alter_table('remediation_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remediation_plans_supplier_id'), ['supplier_id'], unique=False)

    op.create_table('worker_prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.String(length=16), nullable=True),
    sa.Column('skipped', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_worker_prompts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_prompts'))
    )
    with op.batch_alter_table('worker_prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_prompts_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_worker_prompts_due', ['sent_at', 'due_at'], unique=False)

    op.create_table('plan_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('text_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_plan_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['remediation_plans.id'], name=op.f('fk_plan_comments_plan_id_remediation_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_comments'))
    )
    with op.batch_alter_table('plan_comments', schema=None) as batch_op:
        batch_op.create_index('ix_plan_comments_plan', ['plan_id', 'id'], unique=False)

    op.create_table('remediation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('evidence_hint', sa.Text(), nullable=True),
    sa.Column('done_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['remediation_plans.id'], name=op.f('fk_remediation_steps_plan_id_remediation_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remediation_steps'))
    )
    with op.batch_alter_table('remediation_steps', schema=None) as batch_op:
        batch_op.create_index('ix_remediation_steps_plan', ['plan_id', 'position'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['step_id'], ['remediation_steps.id'], name=op.f('fk_evidence_step_id_remediation_steps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_evidence_uploaded_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_step_id'), ['step_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_answer', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('full_updates', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('remedy_types', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('pending_close', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reopened', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('linked_case_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_linked_case_id_cases'), 'cases', ['linked_case_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_linked_case_id_cases'), type_='foreignkey')
        batch_op.drop_column('linked_case_id')
        batch_op.drop_column('reopened')
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('pending_close')
        batch_op.drop_column('remedy_types')
        batch_op.drop_column('outcome')
        batch_op.drop_column('worker_answer')
        batch_op.drop_column('full_updates')

    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_step_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('remediation_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_remediation_steps_plan')

    op.drop_table('remediation_steps')
    with op.batch_alter_table('plan_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_comments_plan')

    op.drop_table('plan_comments')
    with op.batch_alter_table('worker_prompts', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_prompts_due')
        batch_op.drop_index(batch_op.f('ix_worker_prompts_case_id'))

    op.drop_table('worker_prompts')
    with op.batch_alter_table('remediation_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remediation_plans_supplier_id'))

    op.drop_table('remediation_plans')
