"""tlp1_markings: object versions stored before STIX's TLP 1.0 markings counted (the stix2
library's TLP_WHITE ... TLP_RED) take the strictest of their stored TLP and their TLP 1.0
markings. A federation review's object marked TLP 1.0 RED beside TLP 2.0 CLEAR was stored as
CLEAR and served to a shipping terminal; a regression review found such versions still served
after the fix. A version that becomes RED has no named recipients: only its originator reads it,
and a watchlist entry it carried leaves the watchlist store (a RED entry never lands there).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 02:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

#: STIX 2.1 §7.2.1.4's TLP 1.0 marking definitions, as the TLP 2.0 level of the same name.
TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
ORDER = ["clear", "green", "amber", "amber+strict", "red"]


def upgrade() -> None:
    bind = op.get_bind()
    found = sa.or_(*(sa.cast(sa.column("object"), sa.Text).like(f"%{ref}%") for ref in TLP1))
    rows = bind.execute(sa.select(sa.column("seq"), sa.column("tlp"), sa.column("object"))
                        .select_from(sa.table("shared_object")).where(found)).all()
    for seq, tlp, obj in rows:
        data = json.loads(obj) if isinstance(obj, str) else obj
        refs = data.get("object_marking_refs") or [] if isinstance(data, dict) else []
        levels = [TLP1[r] for r in refs if r in TLP1] + ([tlp] if tlp in ORDER else [])
        strictest = max(levels, key=ORDER.index) if levels else tlp
        if strictest != tlp:
            bind.execute(sa.text("UPDATE shared_object SET tlp = :tlp WHERE seq = :seq"), {"tlp": strictest, "seq": seq})
        if strictest == "red" and tlp != "red" and isinstance(data, dict):
            # a TLP:RED entry never lands in the watchlist store: one landed before leaves it (a
            # regression review's re-marked entry went on matching trips for every user)
            bind.execute(sa.text("DELETE FROM watchlist_entry WHERE list_name LIKE :shared AND entry_id = :id"),
                         {"shared": "shared:%", "id": data.get("id", "")})


def downgrade() -> None:
    """Nothing: a stricter reading is kept."""
