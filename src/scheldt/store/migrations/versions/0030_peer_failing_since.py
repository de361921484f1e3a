"""peer.failing_since: when the pulls of a peer began to fail (UTC; NULL while they go well).
A peer whose pull failed was left alone by the schedule for a fixed minute, so a partner node
restarted for a few seconds (or started after this one) kept every change from it away for up to
a minute; the schedule now waits as long as the peer has been failing, from one pull interval up
to that minute (:func:`scheldt.jobs.kinds._peers_due`). A peer failing at the upgrade is
failing since its last pull.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True))
    # a peer failing at the upgrade has been failing since its last pull at least (an operator
    # review's peer down for days was said to fail since its first pull after the upgrade)
    peer = sa.table('peer', sa.column('last_error', sa.Text), sa.column('last_pull_at', sa.DateTime(timezone=True)),
                    sa.column('failing_since', sa.DateTime(timezone=True)))
    op.execute(peer.update().where(peer.c.last_error != '', peer.c.last_pull_at.is_not(None))
               .values(failing_since=peer.c.last_pull_at))


def downgrade() -> None:
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.drop_column('failing_since')
