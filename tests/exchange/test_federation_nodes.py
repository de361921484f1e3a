"""Two-node federation end to end: a Belgian node (SQLite) and a US node (PostgreSQL), each a
``scheldt serve`` process on loopback with its own database, pulling each other every
``SCHELDT_FEDERATION_PULL_EVERY_S`` seconds through their job runners. The US node serves from
two worker processes (``--workers 2``), its supervising process running the pulls.

Changes made through one node's TAXII server (new alerts, new versions, sightings the other
way) become readable on the other; TLP:RED reaches only its named recipient on the other node,
a revocation and a deletion propagate, and neither node's audit log is broken. How fast is
measured by ``benchmarks/federation_latency.py`` (goal: p95 within 5 s), not here.
"""

from __future__ import annotations

import os
import random
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from scheldt.domain.exchange import Tlp
from scheldt.exchange.federation import add_peer
from scheldt.exchange.objects import identity_id
from scheldt.store.db import open_store, unit_of_work
from tests.conftest import ROOT
from tests.exchange.taxii_nodes import PASSWORD, TAXII, bearer, free_port, indicator, new_version, seed

sys.path.insert(0, str(ROOT / "benchmarks"))
from federation_latency import post, serve, versions, wait  # noqa: E402  (the benchmark's nodes are these nodes)

#: Pull interval of both nodes in this test (the setting's default too).
PULL_EVERY_S = float(os.environ.get("SCHELDT_TEST_FEDERATION_PULL_EVERY_S", "2"))
#: Changes made after the warm-up: two of each kind.
CHANGES = 6
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_two_nodes_see_each_others_changes(tmp_path: Path, postgres_url: str) -> None:
    be_dir, us_dir = tmp_path / "be", tmp_path / "us"
    be_url, us_url = f"sqlite:///{be_dir / 'scheldt.db'}", postgres_url
    be_port, us_port = free_port(), free_port()
    tokens = {}
    for node, url, own, partner_port, partner_org, node_user, peer_user in (
            ("be", be_url, "be-customs", us_port, "us-cbp", "us-node", "be-node"),
            ("us", us_url, "us-cbp", be_port, "be-customs", "be-node", "us-node")):
        engine = open_store(url, auto_upgrade=True)  # `scheldt db upgrade` for PostgreSQL
        try:
            tokens[node] = seed(engine, passwords=(node_user,))  # the partner signs in as it
            with unit_of_work(engine) as uow:
                uow.exchange.add_group("be-us", "Belgium-US", "be-customs", ["us-cbp"], NOW)
                uow.taxii.add_node_account(node_user, partner_org, NOW)
                # The partner's node signs in here as its node account; we sign in there as ours.
                add_peer(uow, f"{partner_org}-node", f"http://127.0.0.1:{partner_port}/taxii2/", partner_org,
                         peer_user, "password", PASSWORD, None, NOW)
        finally:
            engine.dispose()
    be_dir.mkdir(exist_ok=True)
    us_dir.mkdir(exist_ok=True)
    with ExitStack() as stack:
        be = stack.enter_context(serve("be", be_url, tmp_path, be_port, "be-customs", PULL_EVERY_S, 1))
        us = stack.enter_context(serve("us", us_url, tmp_path, us_port, "us-cbp", PULL_EVERY_S, 2))
        be_token, us_token = tokens["be"]["be-analyst"], tokens["us"]["us-officer"]
        # Warm up: both nodes have pulled each other at least once.
        first = indicator("be-customs", Tlp.AMBER, "be-us", name="warm-up")
        post(be, be_token, first)
        wait(lambda: versions(us, us_token, first["id"]), timeout_s=60)

        rng = random.Random(6)
        objects: list[dict[str, Any]] = [first]
        for i in range(CHANGES):
            if i % 3 == 2:  # a sighting on the US node, about a Belgian alert: back to Belgium
                target = rng.choice(objects)
                obj = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{i:08d}-2222-4222-8222-222222222222",
                       "created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
                       "sighting_of_ref": target["id"], "created_by_ref": identity_id("us-cbp")}
                src, dst, src_token, dst_token = us, be, us_token, be_token
            elif i % 3 == 1:  # a new version of a Belgian alert
                base_obj = rng.choice([o for o in objects if o["type"] == "indicator"])
                obj = new_version(base_obj, after_ms=1 + i, name=f"corrected {i}")
                src, dst, src_token, dst_token = be, us, be_token, us_token
            else:  # a new Belgian alert
                obj = indicator("be-customs", Tlp.AMBER, "be-us", name=f"alert {i}")
                src, dst, src_token, dst_token = be, us, be_token, us_token
            post(src, src_token, obj)
            wait(lambda o=obj: o["modified"] in versions(dst, dst_token, o["id"]))
            if obj["type"] == "indicator" and obj["id"] not in {o["id"] for o in objects}:
                objects.append(obj)
            elif obj["type"] == "indicator":
                objects = [obj if o["id"] == obj["id"] else o for o in objects]
        assert len(objects) == 3  # the warm-up and two alerts; each one's newest version is on the US node
        assert all(max(versions(us, us_token, o["id"])) == o["modified"] for o in objects)

        # TLP:RED to the US liaison officer: on the US node, the liaison reads it, the officer does not.
        red = indicator("be-customs", Tlp.RED, "be-us", recipients=(("us-cbp", "us-liaison"),), name="red")
        post(be, be_token, red)
        wait(lambda: versions(us, tokens["us"]["us-liaison"], red["id"]))
        assert versions(us, us_token, red["id"]) == []
        # A revocation and a deletion propagate.
        target = objects[0]
        revoked = new_version(target, after_ms=999_999, revoked=True)
        post(be, be_token, revoked)
        wait(lambda: revoked["modified"] in versions(us, us_token, target["id"]))
        gone = objects[-1]
        r = httpx.delete(f"{be}/taxii2/scheldt/collections/be-us/objects/{gone['id']}/",
                         headers={**bearer(be_token), "Accept": TAXII})
        assert r.status_code == 200
        wait(lambda: versions(us, us_token, gone["id"]) == [])

        # While both run: each node's last pull went well, and each audit chain verifies.
        for url in (be_url, us_url):
            engine = open_store(url)
            try:
                with unit_of_work(engine) as uow:
                    assert uow.audit.verify().ok
                    peers = uow.peers.all()
                    assert peers and all(p.last_pull_at and p.last_error == "" for p in peers), peers
            finally:
                engine.dispose()
