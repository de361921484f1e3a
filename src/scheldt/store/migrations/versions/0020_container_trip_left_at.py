"""container_trip.left_at: when a trip's box left the port after discharge (gate-out or onward
load, UTC). The risk queue and the shift plan leave such trips out by default: an officer
cannot scan a box that has gone. Rows indexed before are filled by `scheldt db upgrade` from
the facts of the assessment each shows (``resummarise_trips``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.add_column(sa.Column('left_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_column('left_at')
