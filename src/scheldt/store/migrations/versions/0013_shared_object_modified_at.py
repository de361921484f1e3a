"""shared_object.modified_at: each object version's ``modified`` as a time, so that TAXII's
``match[version]`` (first, last, timestamps) runs in the page's SQL instead of over batches of
rows in Python (benchmarks/taxii_load.py); indexed with the STIX id, for the newer/older-version
check of each row. Filled from the stored text for existing rows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 22:50:00
"""

import sqlalchemy as sa
from alembic import op

from scheldt.domain.exchange import stix_timestamp

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table('shared_object', schema=None) as batch_op:
        batch_op.add_column(sa.Column('modified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_shared_object_stix_id_modified_at', ['stix_id', 'modified_at'], unique=False)
    bind = op.get_bind()
    table = sa.table('shared_object', sa.column('seq', sa.Integer), sa.column('modified', sa.String),
                     sa.column('modified_at', sa.DateTime(timezone=True)))
    after = -1
    while True:
        rows = bind.execute(sa.select(table.c.seq, table.c.modified).where(table.c.seq > after)
                            .order_by(table.c.seq).limit(BATCH)).all()
        if not rows:
            break
        values = [{"s": seq, "t": stix_timestamp(modified)} for seq, modified in rows]
        bind.execute(table.update().where(table.c.seq == sa.bindparam("s")).values(modified_at=sa.bindparam("t")),
                     values)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('shared_object', schema=None) as batch_op:
        batch_op.drop_index('ix_shared_object_stix_id_modified_at')
        batch_op.drop_column('modified_at')
