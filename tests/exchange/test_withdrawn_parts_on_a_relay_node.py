"""A third review of the MISP withdrawals (ed94b3f): "parts of a withdrawn item sent alone later
are refused (tombstones of the withdrawal)" held on the originator's node only. A node that learnt
the withdrawal from its peer (federation: revocation pulled, tombstones applied by
federation.delete_copies) recorded those tombstones under source ``peer:<name>``, so
TaxiiRepository.deleted_by_withdrawal found none of them there; a peer's tombstone now says
``withdrawn``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.domain.access import Organisation, OrgKind, Principal, Role
from scheldt.domain.exchange import Tlp
from scheldt.exchange.federation import add_peer, pull_peer
from scheldt.exchange.items import Alert, Meta, Party, Reason
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.exchange.stix_mapping import part_id, to_stix
from scheldt.store.db import open_store, unit_of_work
from scheldt.workflows import share
from tests.exchange.taxii_nodes import TAXII, bearer, seed, serving

AID = "grouping--3c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4f7"
NAME = "Bananera del Sur S.A."
LIAISON = Principal("us-liaison", Organisation("us-cbp", "US-CBP", OrgKind.AGENCY, ()),
                    frozenset({Role.LIAISON_OFFICER}))


def _alert() -> Alert:
    created = datetime(2026, 11, 30, tzinfo=UTC)
    return Alert(Meta(AID, identity_id("us-cbp"), created, created,
                      Sharing("alert", Tlp.AMBER_STRICT, "be-us", "", "B", "2", (), None,
                              datetime(2028, 1, 1, tzinfo=UTC))),
                 "Container NARU3472484", (Reason("officer", "consignee is a front"),),
                 parties=(Party(NAME, role="consignee", country="EC"),))


def _be_reads(engine: Engine) -> bool:
    with unit_of_work(engine) as uow:
        return any(NAME in json.dumps(o.object)
                   for o in uow.exchange.page(uow.exchange.requester("be-customs", "be-officer"), limit=100))


def _post(engine: Engine, token: str, objects: list[dict]) -> dict:
    client = TestClient(create_app(engine, workbench=False, host_org="be-customs"), raise_server_exceptions=False)
    h = {**bearer(token), "Accept": TAXII, "Content-Type": TAXII}
    r = client.post("/taxii2/scheldt/collections/be-us/objects/", headers=h, json={"objects": objects})
    assert r.status_code == 202, r.text
    return r.json()


def test_a_withdrawn_alert_s_party_sent_alone_does_not_come_back_on_a_node_that_pulled_the_withdrawal(
        engine: Engine, tmp_path: Path) -> None:
    """Node A (the US node) holds us-cbp's alert (posted by its liaison) naming the consignee;
    node B (the Belgian node) pulls it from A. us-cbp withdraws it on A; B pulls again: the
    revocation and the tombstones of the earlier version and the parts (the party's identity,
    location, relationship) reach B, and B deletes its copies. us-cbp's liaison then posts on
    each node a new version of the party's identity alone (what the regression review did on one
    node): A refuses it ("a part of an item withdrawn by its originator"), B stores it, and
    be-customs reads "Bananera del Sur S.A." again on B."""
    a, b = engine, open_store(f"sqlite:///{tmp_path / 'b.db'}")
    try:
        now = datetime.now(UTC)
        tokens_a, tokens_b = seed(a), seed(b)
        for e in (a, b):
            with unit_of_work(e) as uow:
                uow.exchange.add_group("be-us", "BE-US", "be-customs", ["us-cbp", "nl-customs"], now)
        with unit_of_work(a) as uow:
            uow.taxii.add_node_account("be-node", "be-customs", now)
        objects = to_stix(_alert())
        assert _post(a, tokens_a["us-liaison"], objects)["failure_count"] == 0
        with serving(a) as url_a:
            with unit_of_work(b) as uow:
                add_peer(uow, "us-node", f"{url_a}/taxii2/", "us-cbp", "be-node", "token", tokens_a["be-node"],
                         None, now)
            assert pull_peer(lambda: unit_of_work(b), "us-node").error == ""
            assert _be_reads(b)
            with unit_of_work(a) as uow:
                share.withdraw_item(uow, LIAISON, AID, datetime.now(UTC), "wrong box")
            assert pull_peer(lambda: unit_of_work(b), "us-node").error == ""
        assert not _be_reads(b)  # the withdrawal reached B: its copies of the parts are deleted
        party = next(o for o in objects if o["id"] == part_id(AID, "identity", "party:0"))
        later = party | {"modified": "2026-12-01T00:00:00.000Z"}
        on_a = _post(a, tokens_a["us-liaison"], [later])
        assert on_a["failure_count"] == 1 and "withdrawn" in on_a["failures"][0]["message"]  # the fix, on A
        on_b = _post(b, tokens_b["us-liaison"], [later])
        assert on_b["failure_count"] == 1, on_b  # before the fix: added on B
        assert not _be_reads(b)
    finally:
        b.dispose()
