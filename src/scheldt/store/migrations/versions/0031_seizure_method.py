"""scan_order.method: how the drugs of a seizure came to be in the box (modus operandi: rip-on/
rip-off, cover load, release-code fraud, other), when the search team can tell; "" when not said,
as every seizure recorded before this revision. Seizure reports shared from an order carry it
as the ``method`` of their ``scheldt-seizure`` (issue 6 lists "method" among a seizure report's
facts; an inspection review found no field for it).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=32), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.drop_column('method')
