"""Track & Trace events: equipment, transport, shipment, IoT and reefer events as received.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 13:10:59.797267
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shipping_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('fact_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=False),
    sa.Column('classifier', sa.String(length=16), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('container_number', sa.String(length=64), nullable=False),
    sa.Column('booking_ref', sa.String(length=64), nullable=False),
    sa.Column('transport_document_ref', sa.String(length=64), nullable=False),
    sa.Column('unlocode', sa.String(length=64), nullable=False),
    sa.Column('facility_code', sa.String(length=64), nullable=False),
    sa.Column('vessel_imo', sa.String(length=64), nullable=False),
    sa.Column('vessel_name', sa.String(length=128), nullable=False),
    sa.Column('export_voyage', sa.String(length=64), nullable=False),
    sa.Column('import_voyage', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('retracted_by', sa.String(length=100), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('supplied_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipping_event')),
    sa.UniqueConstraint('supplied_by', 'event_id', name=op.f('uq_shipping_event_supplied_by'))
    )
    with op.batch_alter_table('shipping_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipping_event_booking_ref'), ['booking_ref'], unique=False)
        batch_op.create_index('ix_shipping_event_container_time', ['container_number', 'event_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipping_event_transport_document_ref'), ['transport_document_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipping_event_vessel_imo'), ['vessel_imo'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipping_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipping_event_vessel_imo'))
        batch_op.drop_index(batch_op.f('ix_shipping_event_transport_document_ref'))
        batch_op.drop_index('ix_shipping_event_container_time')
        batch_op.drop_index(batch_op.f('ix_shipping_event_booking_ref'))

    op.drop_table('shipping_event')
