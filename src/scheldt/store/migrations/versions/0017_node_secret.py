"""node_secret: random values a node keeps to itself. The first is the namespace of the ids of
its local watchlist alerts: they were uuid5 over a public namespace and guessable facts
(agency, entry id, trip), so a partner could compute one and learn from TAXII Add Objects that
an object with that id exists here.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'node_secret',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_node_secret')),
    )


def downgrade() -> None:
    op.drop_table('node_secret')
