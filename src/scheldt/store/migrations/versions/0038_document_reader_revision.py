"""transport_document.reader_revision: which revision of Scheldt's readers read a stored
version (0: before 2026-12-07, the value of every version stored before this revision); and
first_reading and read_again_at: what an earlier reader stored of a version read again by
corrected readers, and when (its boxes are scored again then). A
message stored as an earlier reader read it, sent again, is that version read again, not a new
one; only versions an earlier reader stored are compared so (a regression review: an amendment
only the corrected readers could see was taken for the stored version sent again).

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 07:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader_revision', sa.SmallInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('first_reading', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('read_again_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('transport_document', schema=None) as batch_op:
        batch_op.drop_column('read_again_at')
        batch_op.drop_column('first_reading')
        batch_op.drop_column('reader_revision')
