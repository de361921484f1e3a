"""node_secret 'taxii-cursor-key': 32 random bytes (hex) from which TAXII ``next`` cursors are
encrypted (scheldt.workflows.taxii.CursorCodec). Cursors were the plain ``seq`` of object versions,
which counts every organisation's objects: a partner paging its collection could count the
objects it may not see. Made here, once, so every server process reads the same key.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 15:30:00
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

_SECRET = sa.table('node_secret', sa.column('name', sa.String), sa.column('value', sa.Text),
                   sa.column('created_at', sa.DateTime(timezone=True)))


def upgrade() -> None:
    op.bulk_insert(_SECRET, [{'name': 'taxii-cursor-key', 'value': secrets.token_hex(32),
                              'created_at': datetime.now(UTC)}])


def downgrade() -> None:
    op.execute(_SECRET.delete().where(_SECRET.c.name == 'taxii-cursor-key'))
