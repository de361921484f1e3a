"""shared_withdrawal: who withdrew an item this node's organisation shared, when and why. The
item page of a withdrawn item said only "withdrawn by its originator": the originating agency's
officers could not see which colleague withdrew it, or why, without the audit log (which only
administrators read). Items withdrawn before have no row; their pages say so.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'shared_withdrawal',
        sa.Column('stix_id', sa.String(length=100), nullable=False),
        sa.Column('organisation_id', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('stix_id'),
    )


def downgrade() -> None:
    op.drop_table('shared_withdrawal')
