"""Exchange: sharing groups and members, shared STIX objects (one row per version, server-assigned seq)
with TLP:RED recipients, federation peers, carrier subscriptions and notifications; organisation.client_of.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 17:32:44.178027
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.create_index('ix_container_trip_carrier_id', ['carrier_code', 'id'], unique=False)
        batch_op.create_index('ix_container_trip_terminal_id', ['terminal_code', 'id'], unique=False)
    op.create_table('peer',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('api_root', sa.Text(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=200), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('cursors', sa.JSON(), nullable=False),
    sa.Column('last_pull_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_peer'))
    )
    op.create_table('shared_object',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('stix_id', sa.String(length=100), nullable=False),
    sa.Column('modified', sa.String(length=32), nullable=False),
    sa.Column('stix_type', sa.String(length=64), nullable=False),
    sa.Column('spec_version', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('tlp', sa.String(length=16), nullable=False),
    sa.Column('owner_org', sa.String(length=64), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=True),
    sa.Column('handling_code', sa.String(length=200), nullable=False),
    sa.Column('reliability', sa.String(length=1), nullable=False),
    sa.Column('credibility', sa.String(length=1), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.Column('object', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('date_added', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_shared_object')),
    sa.UniqueConstraint('stix_id', 'modified', name=op.f('uq_shared_object_stix_id'))
    )
    with op.batch_alter_table('shared_object', schema=None) as batch_op:
        batch_op.create_index('ix_shared_object_group_seq', ['group_id', 'seq'], unique=False)
        batch_op.create_index('ix_shared_object_owner_seq', ['owner_org', 'seq'], unique=False)
        batch_op.create_index('ix_shared_object_stix_id', ['stix_id', 'seq'], unique=False)
        batch_op.create_index('ix_shared_object_tlp_seq', ['tlp', 'seq'], unique=False)

    op.create_table('sharing_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('owner_org', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_group'))
    )
    op.create_table('subscription',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('callback_url', sa.Text(), nullable=False),
    sa.Column('secret', sa.Text(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscription.id'], name=op.f('fk_notification_subscription_id_subscription')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_subscription_id'), ['subscription_id'], unique=False)

    op.create_table('shared_object_recipient',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['shared_object.seq'], name=op.f('fk_shared_object_recipient_seq_shared_object')),
    sa.PrimaryKeyConstraint('seq', 'organisation_id', 'username', name=op.f('pk_shared_object_recipient'))
    )
    with op.batch_alter_table('shared_object_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_object_recipient_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('sharing_group_member',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['sharing_group.id'], name=op.f('fk_sharing_group_member_group_id_sharing_group')),
    sa.PrimaryKeyConstraint('group_id', 'organisation_id', name=op.f('pk_sharing_group_member'))
    )
    with op.batch_alter_table('sharing_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharing_group_member_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_of', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_index('ix_container_trip_terminal_id')
        batch_op.drop_index('ix_container_trip_carrier_id')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('client_of')

    with op.batch_alter_table('sharing_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharing_group_member_organisation_id'))

    op.drop_table('sharing_group_member')
    with op.batch_alter_table('shared_object_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_object_recipient_organisation_id'))

    op.drop_table('shared_object_recipient')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_subscription_id'))
        batch_op.drop_index('ix_notification_due')

    op.drop_table('notification')
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_organisation_id'))

    op.drop_table('subscription')
    op.drop_table('sharing_group')
    with op.batch_alter_table('shared_object', schema=None) as batch_op:
        batch_op.drop_index('ix_shared_object_tlp_seq')
        batch_op.drop_index('ix_shared_object_stix_id')
        batch_op.drop_index('ix_shared_object_owner_seq')
        batch_op.drop_index('ix_shared_object_group_seq')

    op.drop_table('shared_object')
    op.drop_table('peer')
