"""scanner_capacity_change: each change of a scanner's capacity per shift, when, from what to what.
A shift that ended before a change keeps the capacity it ran with (the ``was`` of the first
change after its end); the scanner's ``capacity_per_shift`` stays the current one. Changes made
before this revision are not known: their shifts read the current capacity, as before (a
figures review's finished shift read "6 of 3 slots taken" after a cut seven weeks later).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 23:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scanner_capacity_change',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scanner_id', sa.String(length=64), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('was', sa.Integer(), nullable=False),
        sa.Column('capacity', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['scanner_id'], ['scanner.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('scanner_capacity_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scanner_capacity_change_scanner_id'), ['scanner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scanner_capacity_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scanner_capacity_change_scanner_id'))
    op.drop_table('scanner_capacity_change')
