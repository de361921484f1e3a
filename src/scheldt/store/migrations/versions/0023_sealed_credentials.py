"""Seal the credentials kept at rest: a federation peer's password or token (``peer.secret``,
``<kind>:<secret>``) and a carrier subscription's shared secret (``subscription.secret``) were
kept in clear, so a database dump let its holder sign in at a partner's node as this one, or
forge notices to a shipping line. Each is now ``sealed:v1:<Fernet token>`` under the node's
sealing key, kept outside the database (scheldt.store.sealing: ``SCHELDT_SECRETS_KEY``, else
``<data dir>/secrets.key``, made here when there is something to seal). Values sealed already
are left alone, so running it on a store sealed by hand changes nothing.

The downgrade unseals them again (the key is needed then).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 08:30:00
"""

import sqlalchemy as sa
from alembic import op

from scheldt.store.sealing import is_sealed, seal, unseal

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

_PEER = sa.table('peer', sa.column('name', sa.String), sa.column('secret', sa.Text))
_SUBSCRIPTION = sa.table('subscription', sa.column('id', sa.Integer), sa.column('secret', sa.Text))


def _peer_secret(stored: str, change) -> str:  # noqa: ANN001 - seal or unseal
    kind, sep, secret = (stored or "").partition(":")
    return f"{kind}{sep}{change(secret)}" if sep else stored


def _rewrite(sealing: bool) -> None:
    bind = op.get_bind()
    change = seal if sealing else unseal

    def wanted(secret: str) -> bool:
        return not is_sealed(secret) if sealing else is_sealed(secret)

    for name, stored in bind.execute(sa.select(_PEER.c.name, _PEER.c.secret)).all():
        secret = (stored or "").partition(":")[2]
        if secret and wanted(secret):
            bind.execute(_PEER.update().where(_PEER.c.name == name).values(secret=_peer_secret(stored, change)))
    for sub_id, secret in bind.execute(sa.select(_SUBSCRIPTION.c.id, _SUBSCRIPTION.c.secret)).all():
        if secret and wanted(secret):
            bind.execute(_SUBSCRIPTION.update().where(_SUBSCRIPTION.c.id == sub_id).values(secret=change(secret)))


def upgrade() -> None:
    _rewrite(sealing=True)


def downgrade() -> None:
    _rewrite(sealing=False)
