"""supplied_file: the files shipping lines and terminals send through the API (``POST
/api/v1/shipping-data``), each with who sent it, when, its name, SHA-256 and size, and its
ingest report. Before this revision a line's data reached the node only through the operator's
command line, run under the line's name (a carrier review: "we cannot send our own events").

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 04:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'supplied_file',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('organisation_id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('format', sa.String(length=32), nullable=False),
        sa.Column('accepted', sa.Integer(), nullable=False),
        sa.Column('added', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('flags', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('supplied_file', schema=None) as batch_op:
        batch_op.create_index('ix_supplied_file_org', ['organisation_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('supplied_file', schema=None) as batch_op:
        batch_op.drop_index('ix_supplied_file_org')
    op.drop_table('supplied_file')
