"""tnt_feed.deleted_why: why a DCSA Track & Trace 2.2 feed was stopped (deleted by a user of its
organisation, stopped by the node's operator, or deleted when its user was disabled). Before
this revision a feed stopped by its user's disabling was listed only as "deleted", beside those
a line deleted itself; feeds stopped before it keep that word.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tnt_feed', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_why', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tnt_feed', schema=None) as batch_op:
        batch_op.drop_column('deleted_why')
