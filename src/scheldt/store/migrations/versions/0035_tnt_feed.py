"""tnt_feed: DCSA Track & Trace 2.2 subscriptions that shipping lines and terminals make for this
node at their own publishers, each with its callback id, the user its events are sent as and
the shared secret that signs them (sealed). Before this revision a line whose publisher speaks
T&T 2.2 (subscriptions and signed callbacks) could not push to the node at all: only 3.0's
Event Consumer endpoint and file uploads were taken.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tnt_feed',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('organisation_id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('tnt_feed', schema=None) as batch_op:
        batch_op.create_index('ix_tnt_feed_org', ['organisation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tnt_feed', schema=None) as batch_op:
        batch_op.drop_index('ix_tnt_feed_org')
    op.drop_table('tnt_feed')
