"""transport_document.issued_at and document_party.issued_at: when a document says it was
issued (DCSA issueDate / shippedOnBoardDate / issueDateTime, EDIFACT DTM+137). Party history
counts a consignee as seen from there, so documents loaded in a backfill no longer make every
consignee look new on the day they were loaded. Rows stored before have no issue date (NULL)
and count from when they were received, as before.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('document_party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('document_party', schema=None) as batch_op:
        batch_op.drop_column('issued_at')
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.drop_column('issued_at')
