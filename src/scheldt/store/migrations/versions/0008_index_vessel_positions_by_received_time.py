"""Index vessel positions by received time (new positions re-score the trips aboard).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 16:32:09.617525
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('vessel_position', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vessel_position_received_at'), ['received_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vessel_position', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vessel_position_received_at'))

