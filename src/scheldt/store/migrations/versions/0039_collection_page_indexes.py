"""Indexes a collection's TAXII page reads, one per way a requester may see a version
(:func:`scheldt.store.exchange._branch_page`): a sharing group's versions by TLP and by
originator, the community's (no group) by TLP and by originator, each in seq order, and a
requester's TLP:RED recipient rows of one collection in seq order (``place``: a copy of the
version's group id, "" for the community).

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0039'
down_revision = '0038'
branch_labels = None
depends_on = None

_IN_GROUP = sa.text("group_id IS NOT NULL")
_COMMUNITY = sa.text("group_id IS NULL")


def upgrade() -> None:
    op.create_index('ix_shared_object_group_tlp_seq', 'shared_object', ['group_id', 'tlp', 'seq'],
                    postgresql_where=_IN_GROUP, sqlite_where=_IN_GROUP)
    op.create_index('ix_shared_object_group_owner_seq', 'shared_object', ['group_id', 'owner_org', 'seq'],
                    postgresql_where=_IN_GROUP, sqlite_where=_IN_GROUP)
    op.create_index('ix_shared_object_community_tlp_seq', 'shared_object', ['tlp', 'seq'],
                    postgresql_where=_COMMUNITY, sqlite_where=_COMMUNITY)
    op.create_index('ix_shared_object_community_owner_seq', 'shared_object', ['owner_org', 'seq'],
                    postgresql_where=_COMMUNITY, sqlite_where=_COMMUNITY)
    with op.batch_alter_table('shared_object_recipient', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sa.String(length=64), nullable=False, server_default=''))
    op.execute("UPDATE shared_object_recipient SET place = coalesce((SELECT group_id FROM shared_object "
               "WHERE shared_object.seq = shared_object_recipient.seq), '')")
    op.create_index('ix_shared_object_recipient_named', 'shared_object_recipient',
                    ['organisation_id', 'username', 'place', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_shared_object_recipient_named', table_name='shared_object_recipient')
    with op.batch_alter_table('shared_object_recipient', schema=None) as batch_op:
        batch_op.drop_column('place')
    op.drop_index('ix_shared_object_community_owner_seq', table_name='shared_object')
    op.drop_index('ix_shared_object_community_tlp_seq', table_name='shared_object')
    op.drop_index('ix_shared_object_group_owner_seq', table_name='shared_object')
    op.drop_index('ix_shared_object_group_tlp_seq', table_name='shared_object')
