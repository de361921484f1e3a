"""transport_document.other_voyages: the voyages a document names after its first (DCSA eBL 3.0
``transports.vesselVoyages`` lists the first sea-going vessel and, say, the mother vessel that
discharges at the port of discharge). Only the first was kept, so a terminal's moves naming the
mother vessel's voyage were never placed on the document's trip. Versions stored before stay
NULL (read with their first voyage only); a re-send of one adds nothing.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('other_voyages', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.drop_column('other_voyages')
