"""shipping_event.retracted_at: when the retraction of an event was received (UTC). A retracted
event (DCSA retractedEventID, an EDIFACT cancellation) no longer counts in a trip's facts from
then on, and its container is re-scored after the ingest that retracted it: before, a retracted
gate-out still marked the box as gone. Events retracted before have no time; they count as
retracted always.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shipping_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retracted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_shipping_event_retracted_at', ['retracted_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipping_event', schema=None) as batch_op:
        batch_op.drop_index('ix_shipping_event_retracted_at')
        batch_op.drop_column('retracted_at')
