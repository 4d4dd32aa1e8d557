"""delivery and retention: outbox priorities, delivery events, templates, purge marks

Revision ID: 8bf623b26ee9
Revises: 5477cdbd32ec
Create Date: 2026-11-27 16:18:33.690110

Only additions, with server defaults for the NOT NULL columns, so the previous
release keeps running while this one is deployed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db

revision = '8bf623b26ee9'
down_revision = '5477cdbd32ec'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('delivery_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error_code', sa.String(length=10), nullable=True),
    sa.Column('at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_delivery_events_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_events')),
    sa.UniqueConstraint('message_id', 'status', name=op.f('uq_delivery_events_message_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', grievance.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sms_fallback', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('provider_deleted_at', grievance.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('priority')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('provider_deleted_at')
        batch_op.drop_column('template_key')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('sms_fallback')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('purged_at')

    op.drop_table('delivery_events')
