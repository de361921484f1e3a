"""app_user.disabled_by: the organisation whose administrator disabled the user. Only that
organisation (or the node's operator) enables the user again: a partner agency's administrator
could undo the host's suspension of one of its users (attack review). Users disabled before
have none: any administrator who manages them may enable them, as before.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('disabled_by')
