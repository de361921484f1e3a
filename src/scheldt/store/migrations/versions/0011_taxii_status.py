"""TAXII 2.1 server and federation: status resources of Add Objects requests, tombstones of deleted
object versions (a growing cursor peers read), node accounts (users partner nodes pull with), and
the local default sharing group of a peer's objects.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('taxii_status',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxii_status'))
    )
    op.create_table('shared_object_deletion',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('stix_id', sa.String(length=100), nullable=False),
    sa.Column('modified', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_object_deletion'))
    )
    with op.batch_alter_table('shared_object_deletion', schema=None) as batch_op:
        batch_op.create_index('ix_shared_object_deletion_seq', ['seq'], unique=False)
    op.create_table('node_account',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_node_account'))
    )
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_group', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.drop_column('default_group')
    op.drop_table('node_account')
    with op.batch_alter_table('shared_object_deletion', schema=None) as batch_op:
        batch_op.drop_index('ix_shared_object_deletion_seq')
    op.drop_table('shared_object_deletion')
    op.drop_table('taxii_status')
