"""scan_order.seals_found: the seal numbers a search team read on the box ("SL123456, SL999888"),
with any search result; "" when not said, as every search recorded before this revision.
Seizure reports shared from an order carry them as the ``seals_found`` of their
``scheldt-seizure``: for rip-on/rip-off the seal replaced on the way is the evidence, and
partners match seal numbers against their watchlists' seal ranges (a search team review could
put them only in the notes, which no report carries).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 02:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seals_found', sa.String(length=512), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('scan_order', schema=None) as batch_op:
        batch_op.drop_column('seals_found')
