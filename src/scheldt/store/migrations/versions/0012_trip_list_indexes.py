"""Indexes for shipping lines' and terminals' trip lists filtered by port of loading, and for
agencies' risk queue filtered by band (benchmarks/api_load.py: the slowest list queries at a
million trips scanned 60-120k rows; with these they read one index range).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:05:00
"""

from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.create_index('ix_container_trip_carrier_port_id', ['carrier_code', 'port_of_loading', 'id'], unique=False)
        batch_op.create_index('ix_container_trip_terminal_port_id', ['terminal_code', 'port_of_loading', 'id'],
                              unique=False)
        batch_op.create_index('ix_container_trip_agency_band', ['supplied_by', 'risk_band', 'score', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_index('ix_container_trip_agency_band')
        batch_op.drop_index('ix_container_trip_terminal_port_id')
        batch_op.drop_index('ix_container_trip_carrier_port_id')
