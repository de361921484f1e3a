"""Recorded inspection outcomes of container trips (and simulated ground truth for demos).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:20.384042
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('trip_outcome',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('container_number', sa.String(length=64), nullable=False),
    sa.Column('document_ref', sa.String(length=128), nullable=False),
    sa.Column('voyage', sa.String(length=64), nullable=False),
    sa.Column('inspected', sa.Boolean(), nullable=False),
    sa.Column('seizure', sa.Boolean(), nullable=False),
    sa.Column('source_kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trip_outcome')),
    sa.UniqueConstraint('container_number', 'document_ref', 'voyage', 'source_kind', name=op.f('uq_trip_outcome_container_number'))
    )


def downgrade() -> None:
    op.drop_table('trip_outcome')
