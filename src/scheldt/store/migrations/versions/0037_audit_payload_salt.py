"""audit_entry.payload_salt: a random salt per entry, hashed into payload_digest and purged with
the payload, so the digest kept after a purge does not confirm a guess of what was purged (an
audit review re-identified who read which container from an unsalted digest). Entries made
before this revision have none: their digest is of the payload alone, as before.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 00:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_salt', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('payload_salt')
