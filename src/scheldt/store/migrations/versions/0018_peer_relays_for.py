"""peer.relays_for: the other organisations whose objects a peer may relay. A peer used to be
believed whenever an object's created_by_ref named an organisation known here, so a partner
node could write versions (a revocation, say) under a third agency's name; now it speaks for its
own organisation and for those it is explicitly allowed to relay for.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 19:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relays_for', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.drop_column('relays_for')
