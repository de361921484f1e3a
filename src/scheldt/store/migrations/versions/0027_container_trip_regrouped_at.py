"""container_trip.regrouped_at: when scoring found that a trip's container's events no longer
make that trip (UTC). A gate-out without reference that arrived before its discharge first made
a trip of its own, and a retracted event could have decided a trip's key; once regrouped, such a
trip stayed open "in port" in the risk queue. Marked trips keep their id (bookmarks, audit
entries and carrier notices name it) and leave the lists; the mark is cleared if the events
make the trip again.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('regrouped_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_column('regrouped_at')
