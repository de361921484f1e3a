"""shared_object: a deleted version keeps no content. Deleting a version (a withdrawal, a
narrowed marking, a TAXII DELETE, a peer's tombstone) only set ``deleted_at``, so a withdrawn
alert's parties and reasons stayed in the database and its backups on every node. The object of
each version already deleted is replaced by its tombstone (type, id, spec_version, modified and
``x_scheldt_deleted``), as deleting does from now on (:func:`scheldt.store.exchange.tombstone`).
Not undone by the downgrade: what was removed is gone.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-05 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

_O = sa.table("shared_object", sa.column("seq", sa.Integer), sa.column("stix_id", sa.String),
              sa.column("stix_type", sa.String), sa.column("spec_version", sa.String), sa.column("modified", sa.String),
              sa.column("object", sa.JSON), sa.column("deleted_at", sa.DateTime))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_O.c.seq, _O.c.stix_id, _O.c.stix_type, _O.c.spec_version, _O.c.modified)
                        .where(_O.c.deleted_at.is_not(None))).all()
    for seq, stix_id, stix_type, spec_version, modified in rows:
        conn.execute(_O.update().where(_O.c.seq == seq).values(object={
            "type": stix_type, "id": stix_id, "spec_version": spec_version, "modified": modified,
            "x_scheldt_deleted": True}))


def downgrade() -> None:
    pass
