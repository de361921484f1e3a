"""Review of 8ceaf0d's _not_after_revocation change (part_ids of a withdrawn item's main object
in the batch), through TAXII Add Objects (the app's TestClient, as tests/exchange/test_taxii.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.domain.access import Organisation, OrgKind, Principal, Role
from scheldt.exchange.stix_mapping import to_stix
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from tests.exchange.taxii_nodes import TAXII, bearer, seed
from tests.exchange.test_misp_withdrawals import ENTRY_ID, entry

ROOT = "/taxii2/scheldt"
LIAISON = Principal("us-liaison", Organisation("us-cbp", "US-CBP", OrgKind.AGENCY, ()),
                    frozenset({Role.LIAISON_OFFICER}))


def test_a_withdrawn_item_resent_with_a_scalar_object_refs_is_refused_not_a_server_error(engine: Engine) -> None:
    """us-cbp's watchlist entry, posted over TAXII, withdrawn by us-cbp. Its liaison then posts a
    new version carrying "object_refs": 5 (a custom property STIX lets an indicator carry, and
    the envelope's checks pass). part_ids() does len(5): TypeError, a 500 for the whole envelope
    (and, from a peer, every pull of that peer's page fails the same way). It should be one
    refused object (withdrawn: takes no other version) in a 202 status."""
    tokens = seed(engine, passwords=("us-liaison",))
    client = TestClient(create_app(engine, workbench=False, host_org="be-customs"), raise_server_exceptions=False)
    h = {**bearer(tokens["us-liaison"]), "Accept": TAXII, "Content-Type": TAXII}
    objects = to_stix(entry())
    r = client.post(ROOT + "/collections/community/objects/", headers=h, json={"objects": objects})
    assert r.status_code == 202 and r.json()["failure_count"] == 0, r.json()
    with unit_of_work(engine) as uow:
        share.withdraw_item(uow, LIAISON, ENTRY_ID, datetime.now(UTC), "wrong box")
    main = next(o for o in objects if o["id"] == ENTRY_ID)
    bad = main | {"modified": "2026-03-02T00:00:00.000Z", "object_refs": 5}
    r = client.post(ROOT + "/collections/community/objects/", headers=h, json={"objects": [bad]})
    assert r.status_code == 202, r.text  # before the fix: 500 (TypeError: object of type 'int' has no len())
    assert r.json()["failure_count"] == 1 and "withdrawn" in r.json()["failures"][0]["message"]
