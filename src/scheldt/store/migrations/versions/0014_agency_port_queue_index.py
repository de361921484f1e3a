"""Index for an agency's risk queue filtered by port of loading, highest score first
(benchmarks/api_load.py at a million trips: ``port=ECGYE`` walked the agency's score index and
dropped 43,505 rows of other ports to fill a page of 50, 350 ms cold; with this index it reads
one range).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:30:00
"""

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.create_index('ix_container_trip_agency_port', ['supplied_by', 'port_of_loading', 'score', 'id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('container_trip', schema=None) as batch_op:
        batch_op.drop_index('ix_container_trip_agency_port')
