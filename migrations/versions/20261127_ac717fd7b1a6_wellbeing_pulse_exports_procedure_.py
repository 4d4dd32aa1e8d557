"""wellbeing pulse, exports, procedure versions, corridor

Revision ID: ac717fd7b1a6
Revises: 796d025a3df2
Create Date: 2026-11-27 22:12:21.381018

New tables, and nullable columns on cases and sites: the previous release keeps running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import grievance.db



revision = 'ac717fd7b1a6'
down_revision = '796d025a3df2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('procedure_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('published_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_procedure_versions')),
    sa.UniqueConstraint('language', 'digest', name=op.f('uq_procedure_versions_language'))
    )
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('content_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.Column('created_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exports_user_id'), ['user_id'], unique=False)

    op.create_table('pulse_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('shared_at', grievance.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_pulse_campaigns_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_pulse_campaigns_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse_campaigns')),
    sa.UniqueConstraint('site_id', 'wave', name=op.f('uq_pulse_campaigns_site_id'))
    )
    with op.batch_alter_table('pulse_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_campaigns_site_id'), ['site_id'], unique=False)

    op.create_table('pulse_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', grievance.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_pulse_members_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_pulse_members_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse_members')),
    sa.UniqueConstraint('site_id', 'contact_id', name=op.f('uq_pulse_members_site_id'))
    )
    with op.batch_alter_table('pulse_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_members_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pulse_members_site_id'), ['site_id'], unique=False)

    op.create_table('pulse_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['pulse_campaigns.id'], name=op.f('fk_pulse_invites_campaign_id_pulse_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_pulse_invites_contact_id_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pulse_invites')),
    sa.UniqueConstraint('campaign_id', 'contact_id', name=op.f('uq_pulse_invites_campaign_id'))
    )
    with op.batch_alter_table('pulse_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_invites_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('pulse_responses',
    sa.Column('token', sa.String(length=43), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('said_more', sa.Boolean(), nullable=False),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['pulse_campaigns.id'], name=op.f('fk_pulse_responses_campaign_id_pulse_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_pulse_responses_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_pulse_responses'))
    )
    with op.batch_alter_table('pulse_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_responses_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_country', sa.String(length=2), nullable=True))

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pulse_keyword', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_sites_pulse_keyword'), ['pulse_keyword'])



def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_sites_pulse_keyword'), type_='unique')
        batch_op.drop_column('pulse_keyword')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('origin_country')

    with op.batch_alter_table('pulse_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_responses_campaign_id'))

    op.drop_table('pulse_responses')
    with op.batch_alter_table('pulse_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_invites_campaign_id'))

    op.drop_table('pulse_invites')
    with op.batch_alter_table('pulse_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_members_site_id'))
        batch_op.drop_index(batch_op.f('ix_pulse_members_contact_id'))

    op.drop_table('pulse_members')
    with op.batch_alter_table('pulse_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_campaigns_site_id'))

    op.drop_table('pulse_campaigns')
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_user_id'))

    op.drop_table('exports')
    op.drop_table('procedure_versions')
