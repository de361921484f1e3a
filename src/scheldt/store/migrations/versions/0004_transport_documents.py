"""Transport documents (bookings, shipping instructions, bills of lading, arrival notices), one row per version, and their containers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:25:32.072186
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transport_document',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('document_type', sa.String(length=8), nullable=False),
    sa.Column('document_ref', sa.String(length=128), nullable=False),
    sa.Column('booking_ref', sa.String(length=128), nullable=False),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('to_order', sa.Boolean(), nullable=True),
    sa.Column('freight_payment', sa.String(length=16), nullable=False),
    sa.Column('carrier_code', sa.String(length=64), nullable=False),
    sa.Column('port_of_loading', sa.String(length=64), nullable=False),
    sa.Column('port_of_discharge', sa.String(length=64), nullable=False),
    sa.Column('vessel_imo', sa.String(length=64), nullable=False),
    sa.Column('vessel_name', sa.String(length=128), nullable=False),
    sa.Column('voyage', sa.String(length=64), nullable=False),
    sa.Column('parties', sa.JSON(), nullable=False),
    sa.Column('goods', sa.JSON(), nullable=False),
    sa.Column('containers', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transport_document')),
    sa.UniqueConstraint('supplied_by', 'document_type', 'document_ref', 'version_hash', name=op.f('uq_transport_document_supplied_by'))
    )
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.create_index('ix_transport_document_booking', ['booking_ref'], unique=False)
        batch_op.create_index('ix_transport_document_ref', ['document_ref'], unique=False)

    op.create_table('document_container',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('container_number', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['transport_document.id'], name=op.f('fk_document_container_document_id_transport_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id', 'container_number', name=op.f('pk_document_container'))
    )
    with op.batch_alter_table('document_container', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_container_container_number'), ['container_number'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document_container', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_container_container_number'))

    op.drop_table('document_container')
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.drop_index('ix_transport_document_ref')
        batch_op.drop_index('ix_transport_document_booking')

    op.drop_table('transport_document')
