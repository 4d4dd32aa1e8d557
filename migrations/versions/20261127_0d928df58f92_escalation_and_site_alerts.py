"""escalation and site alerts

Revision ID: 0d928df58f92
Revises: 938cf68d3d5f
Create Date: 2026-11-27 17:23:40.505956

A nullable column and a new table: the previous release keeps running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db



revision = '0d928df58f92'
down_revision = '938cf68d3d5f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('site_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('raised_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_alerts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_alerts'))
    )
    with op.batch_alter_table('site_alerts', schema=None) as batch_op:
        batch_op.create_index('ix_site_alerts_site_category', ['site_id', 'category', 'raised_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('escalated_at', grievance.db.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')

    with op.batch_alter_table('site_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_site_alerts_site_category')

    op.drop_table('site_alerts')
