"""Watchlist entries (CSV and FollowTheMoney lists) for party screening.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 15:40:46.293018
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('watchlist_entry',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('list_name', sa.String(length=128), nullable=False),
    sa.Column('entry_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('country', sa.String(length=64), nullable=False),
    sa.Column('fact_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_entry')),
    sa.UniqueConstraint('list_name', 'entry_id', 'supplied_by', name=op.f('uq_watchlist_entry_list_name'))
    )


def downgrade() -> None:
    op.drop_table('watchlist_entry')
