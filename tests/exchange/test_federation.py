"""Federation between nodes in one process (node A on SQLite and PostgreSQL, served over HTTP on
loopback by uvicorn; nodes B and C on SQLite), and with the reference TAXII server medallion.

- New objects, new versions (corrections, marking changes, revocations), sightings flowing back
  to the originator's node, objects relayed late with old timestamps; de-duplication by
  (id, modified); provenance (source ``peer:<name>``, originator from ``created_by_ref`` where
  the peer may relay for it, else refused);
  versions of another organisation's object refused; deletions through tombstones, relayed on
  from B to C; every pull audited; a peer that is down is reported, not fatal.
- ``scheldt peer add | list | allow | pull | remove`` and the job kind ``federation-pull``.
- medallion (memory backend, a separate process): Scheldt pulls it page by page (its stateful
  ``next`` within a walk, ``added_after`` between pulls, a stale ``next`` recovered from),
  picks up what is added later, and learns its deletions by reconciliation; a medallion-style
  client reads Scheldt by ``added_after`` and the ``X-TAXII-Date-Added-Last`` header.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from sqlalchemy import Engine, update
from taxii2client.v21 import Collection
from typer.testing import CliRunner

from scheldt.cli import app as cli
from scheldt.domain.access import Organisation, OrgKind, Principal, Role
from scheldt.domain.exchange import TLP_MARKING_IDS, Tlp, tlp_marking_definition
from scheldt.errors import InputError, NotFoundError
from scheldt.exchange.federation import (
    CollectionReport,
    add_peer,
    delete_copies,
    pull_all,
    pull_peer,
    set_credential,
    set_relays,
    store_objects,
)
from scheldt.exchange.objects import SHARING_EXTENSION_ID, Sharing, identity_id, sharing_of, stored_values, with_sharing
from scheldt.jobs.kinds import JobFailed, run_kind
from scheldt.jobs.kinds import kind as job_kind
from scheldt.settings import get_settings
from scheldt.store.db import open_store, unit_of_work
from scheldt.store.models import PeerRow
from scheldt.store.peers import Peer
from scheldt.workflows import share
from scheldt.workflows.sharing import ingest_objects
from tests.exchange.taxii_nodes import (
    MEDALLION_COLLECTION,
    PASSWORD,
    TAXII,
    bearer,
    indicator,
    medallion,
    new_version,
    seed,
    serving,
    serving_app,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class Net:
    a: Engine
    b: Engine
    c: Engine
    tokens_a: dict[str, str]
    tokens_b: dict[str, str]


@pytest.fixture
def net(engine: Engine, tmp_path: Path) -> Iterator[Net]:
    b = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    c = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    tokens_a, tokens_b = seed(engine), seed(b, passwords=("be-node",))
    seed(c)
    for e in (engine, b, c):
        with unit_of_work(e) as uow:
            uow.exchange.add_group("be-us", "BE-US", "be-customs", ["us-cbp", "nl-customs"], NOW)
    with unit_of_work(engine) as uow:
        uow.taxii.add_node_account("us-node", "us-cbp", NOW)
    with unit_of_work(b) as uow:
        uow.taxii.add_node_account("be-node", "be-customs", NOW)
        uow.taxii.add_node_account("nl-node", "nl-customs", NOW)
    try:
        yield Net(engine, b, c, tokens_a, tokens_b)
    finally:
        b.dispose()
        c.dispose()


def store(engine: Engine, objects: list[dict[str, Any]], owner: str = "be-customs") -> None:
    with unit_of_work(engine) as uow:
        report = ingest_objects(uow, objects, owner, "local", None, datetime.now(UTC))
    assert not report.failed, report.failed


def rows(engine: Engine, stix_id: str | None = None, deleted: bool = False) -> list[Any]:
    with unit_of_work(engine) as uow:
        return [r for r in uow.exchange.page(None, limit=10_000, include_deleted=deleted)
                if stix_id is None or r.stix_id == stix_id]


def pull(engine: Engine, name: str) -> Any:
    report = pull_peer(lambda: unit_of_work(engine), name)
    assert report.error == "", report.error
    return report


def test_federation_propagates_versions_sightings_deletions_and_provenance(net: Net) -> None:
    alert = indicator("be-customs", Tlp.AMBER, "be-us", name="reefer from Guayaquil")
    red = indicator("be-customs", Tlp.RED, None, recipients=(("us-cbp", "us-liaison"),))
    red_nl = indicator("be-customs", Tlp.RED, None, recipients=(("nl-customs", "nl-analyst"),))
    green = indicator("be-customs", Tlp.GREEN, None)
    store(net.a, [alert, red, red_nl, green])
    with serving(net.a) as url_a, serving(net.b) as url_b:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "be-node", f"{url_a}/taxii2/", "be-customs", "us-node", "token", net.tokens_a["us-node"],
                     None, NOW)
        with unit_of_work(net.a) as uow:
            add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "be-node", "password", PASSWORD, None, NOW)
        with unit_of_work(net.c) as uow:  # C takes what B relays of the Belgians' objects
            add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "nl-node", "token", net.tokens_b["nl-node"],
                     None, NOW, relays_for=["be-customs"])

        report = pull(net.b, "be-node")
        assert report.added == 3
        got = {r.stix_id: r for r in rows(net.b)}
        assert set(got) == {alert["id"], red["id"], green["id"]}  # RED for the Dutch stays on A
        assert {(r.owner_org, r.source) for r in got.values()} == {("be-customs", "peer:be-node")}
        assert got[red["id"]].tlp == "red" and got[alert["id"]].group_id == "be-us"
        assert pull(net.b, "be-node").added == 0  # nothing new, nothing twice

        # New versions: a correction, then a marking change to RED, then a revocation; an
        # object relayed late with an old modified timestamp.
        fixed = new_version(alert, name="reefer from Guayaquil, corrected")
        store(net.a, [fixed])
        narrowed = new_version(indicator("be-customs", Tlp.RED, "be-us", recipients=(("us-cbp", "us-liaison"),),
                                         stix_id=alert["id"], name="now RED"), after_ms=2000)
        revoked = new_version(green, revoked=True)
        late = indicator("be-customs", Tlp.AMBER, "be-us", modified=datetime(2019, 6, 1, tzinfo=UTC))
        late["created"] = late["modified"]
        store(net.a, [narrowed, revoked, late])
        assert pull(net.b, "be-node").added == 4
        # the AMBER versions went when the RED one came: a reader who lost access to the item
        # keeps no earlier version as current (federation review)
        versions = [(r.modified, r.tlp) for r in rows(net.b, alert["id"])]
        assert versions == [(narrowed["modified"], "red")]
        assert [r.revoked for r in rows(net.b, green["id"])] == [False, True]
        assert rows(net.b, late["id"])
        # On B, the US officer (not a RED recipient) reads nothing of it; the liaison officer, a
        # named recipient, the RED version.
        r = httpx.get(f"{url_b}/taxii2/scheldt/collections/be-us/objects/{alert['id']}/",
                      headers={**bearer(net.tokens_b["us-officer"]), "Accept": TAXII})
        assert r.status_code == 404
        r = httpx.get(f"{url_b}/taxii2/scheldt/collections/be-us/objects/{alert['id']}/",
                      headers={**bearer(net.tokens_b["us-liaison"]), "Accept": TAXII})
        assert [o["name"] for o in r.json()["objects"]] == ["now RED"]

        # Feedback: the US records a sighting on its node; A pulls B and gets it, attributed to
        # the US; A's own objects coming back from B add nothing.
        sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--8c7d4d1e-6a3f-4b0c-9b8e-1f2a3b4c5d6e",
                    "created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
                    "sighting_of_ref": alert["id"], "created_by_ref": identity_id("us-cbp"), "count": 1}
        r = httpx.post(f"{url_b}/taxii2/scheldt/collections/be-us/objects/", json={"objects": [sighting]},
                       headers={**bearer(net.tokens_b["us-officer"]), "Accept": TAXII, "Content-Type": TAXII})
        assert r.status_code == 202 and r.json()["success_count"] == 1
        back = pull(net.a, "us-node")
        assert back.added == 1 and sum(c.known for c in back.collections) >= 4
        s = rows(net.a, sighting["id"])[0]
        assert (s.owner_org, s.source, s.group_id, s.kind) == ("us-cbp", "peer:us-node", "be-us", "sighting")

        # A careless node makes a new version of A's object as its own: refused there already
        # (whatever way it came in: a federation review did it by MISP import) ...
        forged = new_version(alert, after_ms=5000, name="forged", created_by_ref=identity_id("us-cbp"))
        with unit_of_work(net.b) as uow:
            made = ingest_objects(uow, [forged], "us-cbp", "local", None, datetime.now(UTC))
        assert made.added == [] and "only its originator makes new versions" in made.failed[0][1]
        # ... and a tampered one, which stores it anyway, offers it to A: refused there too.
        tampered(net.b, [forged], "us-cbp")
        back = pull(net.a, "us-node")
        assert back.added == 0 and any("only its originator" in why for c in back.collections for _, why in c.failures)
        assert "forged" not in {r.object.get("name") for r in rows(net.a, alert["id"])}

        # C pulls B (as the Dutch node): B relays what the Dutch may see.
        pull(net.c, "us-node")
        assert green["id"] in {r.stix_id for r in rows(net.c)}

        # Deletion on A (TAXII DELETE by the originator) reaches B through tombstones, and C
        # through B's own tombstones.
        r = httpx.delete(f"{url_a}/taxii2/scheldt/collections/community/objects/{green['id']}/",
                         headers={**bearer(net.tokens_a["be-analyst"]), "Accept": TAXII})
        assert r.status_code == 200
        report = pull(net.b, "be-node")
        assert sum(c.deleted for c in report.collections) == 2
        assert not rows(net.b, green["id"]) and len(rows(net.b, green["id"], deleted=True)) == 2
        assert sum(c.deleted for c in pull(net.c, "us-node").collections) == 2
        assert not rows(net.c, green["id"])

    with unit_of_work(net.b) as uow:
        peer = uow.peers.get("be-node")
        entries = uow.audit.entries(limit=1000)
        assert uow.audit.verify().ok
    assert peer.last_error == "" and peer.last_pull_at is not None
    assert all(s.get("next") and s.get("tombstones") for s in peer.cursors.values())
    kinds = [(e.kind, e.payload["object_kind"]) for e in entries if e.payload and e.payload["actor"] == "federation"]
    # every pull B made that found something (the second found nothing: an oversight review
    # counted 43,000 such entries a day per peer)
    assert kinds.count(("read", "federation-pull")) == 3
    assert ("write", "federation-page") in kinds and ("write", "federation-deletions") in kinds


def tampered(engine: Engine, objects: list[dict[str, Any]], owner: str, source: str = "local") -> None:
    """Store ``objects`` as ``owner``'s past every check, as a tampered node's store could hold them."""
    with unit_of_work(engine) as uow:
        uow.exchange.add_versions([(stored_values(o, sharing_of(o, None, o["id"]), owner, source, datetime.now(UTC)),
                                    ()) for o in objects])


def test_a_peer_speaks_for_its_own_organisation_and_relays_only_for_those_allowed(
        net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, any object whose created_by_ref named an organisation known here was taken as that
    # organisation's: the US node could write (or revoke) the Belgians' objects on the Dutch node.
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "nl-customs")  # node C is the Dutch node
    get_settings.cache_clear()
    own = indicator("us-cbp", Tlp.GREEN, None, name="US watch")
    belgian = indicator("be-customs", Tlp.GREEN, None, name="said to be Belgian")
    dutch = indicator("nl-customs", Tlp.GREEN, None, name="by the Dutch liaison officer on the US node")
    made_here = indicator("nl-customs", Tlp.GREEN, None, name="made on the Dutch node")
    store(net.c, [made_here], owner="nl-customs")
    revoked_there = new_version(made_here, revoked=True)
    tampered(net.b, [own, belgian, dutch, revoked_there], "us-cbp")
    try:
        with serving(net.b) as url_b:
            with unit_of_work(net.c) as uow:
                add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "nl-node", "token",
                         net.tokens_b["nl-node"], None, NOW)
                for org, relays, error in (("us-cbp", ["us-cbp"], "us-cbp is the peer's own organisation"),
                                           ("nl-customs", [], "this node's own organisation: a peer speaks")):
                    with pytest.raises(InputError, match=error):
                        add_peer(uow, "x-node", url_b, org, "u", "token", "t", None, NOW, relays_for=relays)
                with pytest.raises(NotFoundError):
                    add_peer(uow, "x-node", url_b, "us-cbp", "u", "token", "t", None, NOW, relays_for=["xx-customs"])
            refused = pull(net.c, "us-node")
            got = {r.stix_id: r.owner_org for r in rows(net.c)}
            assert got == {own["id"]: "us-cbp", made_here["id"]: "nl-customs"} and refused.added == 1
            why = "created by {0} (created_by_ref), and peer us-node may not relay for {0} here: it speaks for us-cbp " \
                  "(scheldt peer relays us-node {0})"
            assert sorted(f for c in refused.collections for f in c.failures) == sorted([
                (belgian["id"], why.format("be-customs")), (dutch["id"], why.format("nl-customs")),
                (made_here["id"], why.format("nl-customs"))])
            # allowed to relay for the Belgians and for the Dutch node's own users there: the next
            # pull starts over and takes theirs, but no new version of what was made here. A pull
            # that began before (its peer read at the old epoch) writes no cursor back.
            with unit_of_work(net.c) as uow:
                before = uow.peers.get("us-node")
                assert set_relays(uow, "us-node", ["be-customs", "nl-customs"]).relays_for == ("be-customs", "nl-customs")
                uow.peers.set_cursor("us-node", "some-collection", {"next": "late"}, before.epoch)
                assert uow.peers.get("us-node").cursors == {"_epoch": 1}
            relayed = pull(net.c, "us-node")
            assert relayed.added == 2
            assert {i: rows(net.c, i)[0].owner_org for i in (belgian["id"], dutch["id"])} == {
                belgian["id"]: "be-customs", dutch["id"]: "nl-customs"}
            assert [f for c in relayed.collections for f in c.failures] == [
                (made_here["id"], "created by nl-customs (created_by_ref), this node's own organisation, as a new "
                                  "version of an object made here: only this node versions those")]
            assert [r.revoked for r in rows(net.c, made_here["id"])] == [False]
    finally:
        get_settings.cache_clear()


def test_a_peer_cannot_share_into_a_group_of_this_node_it_is_not_in(net: Net) -> None:
    """A federation review: the US node's own group "be-nl" (it made one of that name, with
    itself in it) carried a US entry into the Belgian-Dutch group of another node, where a Dutch
    analyst read it and screening used it; a US user posting it there was refused. What was
    stored before the group was made here can still be withdrawn by its originator, and copies
    of it count as known (regression review: the withdrawal was refused, the item stayed live)."""
    with unit_of_work(net.b) as uow:
        uow.exchange.add_group("be-nl", "US copy", "us-cbp", ["be-customs", "nl-customs"], NOW)
    before = indicator("us-cbp", Tlp.AMBER_STRICT, "be-nl", name="stored before be-nl was made here")
    also = indicator("us-cbp", Tlp.AMBER_STRICT, "be-nl", name="also stored before")
    into_be_us = indicator("us-cbp", Tlp.AMBER_STRICT, "be-us", name="US entry for BE-US")
    store(net.b, [before, also, into_be_us], owner="us-cbp")
    with serving(net.b) as url_b:
        with unit_of_work(net.c) as uow:
            add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "nl-node", "token",
                     net.tokens_b["nl-node"], None, NOW)
        assert pull(net.c, "us-node").added == 3  # be-nl is no group here yet: stored, read by no one
        with unit_of_work(net.c) as uow:
            uow.exchange.add_group("be-nl", "BE-NL", "be-customs", ["nl-customs"], NOW)
            with pytest.raises(InputError, match="us-cbp is not a member of sharing group 'be-nl'"):
                add_peer(uow, "x-node", "http://h/", "us-cbp", "u", "token", "t", "be-nl", NOW)
        injected = indicator("us-cbp", Tlp.AMBER_STRICT, "be-nl", name="Injected NL Co")
        withdrawn = new_version(before, revoked=True)
        # a "withdrawal" under wider terms would widen who reads it: refused like a new object
        widened = indicator("us-cbp", Tlp.AMBER, "be-nl", stix_id=also["id"], revoked=True, name="also stored before",
                            modified=datetime(2026, 1, 2, tzinfo=UTC))
        store(net.b, [injected, withdrawn, widened], owner="us-cbp")
        report = pull(net.c, "us-node")
    assert report.added == 1 and [r.revoked for r in rows(net.c, before["id"])] == [False, True]
    assert rows(net.c, injected["id"]) == [] and [r.revoked for r in rows(net.c, also["id"])] == [False]
    why = "{0}.extensions.sharing_group: us-cbp is not a member of the sharing group be-nl on this node: it cannot " \
          "share into it"
    assert sorted(f for c in report.collections for f in c.failures) == sorted(
        (i, why.format(i)) for i in (injected["id"], also["id"]))
    with unit_of_work(net.c) as uow:  # a copy of the stored version is known, not refused
        again = ingest_objects(uow, [before], "us-cbp", "peer:us-node", None, NOW)
        # a new version beside a revocation of its id, or a revocation older than the stored
        # version, withdraws nothing: refused like new content (a review's live content passed)
        revocation, live = new_version(also, 2000, revoked=True), new_version(also, 3000, name="NEW LIVE CONTENT")
        sneaked = ingest_objects(uow, [revocation, live, new_version(before, 500, revoked=True)], "us-cbp",
                                 "peer:us-node", None, NOW)
    assert (again.known, again.failed) == ([(before["id"], before["modified"])], [])
    assert [(sid, modified) for sid, modified, _ in sneaked.added] == [(also["id"], revocation["modified"])]
    assert sorted(sid for sid, _ in sneaked.failed) == sorted([also["id"], before["id"]])
    assert [r.revoked for r in rows(net.c, also["id"])] == [False, True]


def test_a_peers_tombstones_delete_only_what_it_speaks_for(net: Net) -> None:
    belgian = indicator("be-customs", Tlp.GREEN, None, name="given by the US node before it was limited")
    tampered(net.c, [belgian], "be-customs", source="peer:us-node")
    with unit_of_work(net.c) as uow:
        add_peer(uow, "us-node", "http://127.0.0.1:9/taxii2/scheldt/", "us-cbp", "nl-node", "token", "t", None, NOW)
        assert delete_copies(uow, uow.peers.get("us-node"), [(belgian["id"], None)], NOW) == 0
        set_relays(uow, "us-node", ["be-customs"])
        assert delete_copies(uow, uow.peers.get("us-node"), [(belgian["id"], None)], NOW) == 1


def test_a_renamed_peers_tombstones_reach_what_was_pulled_under_its_old_name(net: Net) -> None:
    # A federation review removed a peer and added it again under a new name: the partner's
    # withdrawals no longer deleted the copies pulled before. What was not pulled (posted here
    # by a liaison officer) is still no peer's to delete.
    pulled = indicator("us-cbp", Tlp.GREEN, None, name="pulled under the old name")
    posted = indicator("us-cbp", Tlp.GREEN, None, name="posted here by the US liaison officer")
    # a federation review: copies first imported from the partner's MISP export stayed live
    imported = indicator("us-cbp", Tlp.GREEN, None, name="imported from the partner's MISP export")
    tampered(net.c, [pulled], "us-cbp", source="peer:us-old")
    tampered(net.c, [posted], "us-cbp", source="taxii:us-liaison")
    tampered(net.c, [imported], "us-cbp", source="misp")
    with unit_of_work(net.c) as uow:
        add_peer(uow, "us-node", "http://127.0.0.1:9/taxii2/scheldt/", "us-cbp", "nl-node", "token", "t", None, NOW)
        assert delete_copies(uow, uow.peers.get("us-node"), [(pulled["id"], None), (posted["id"], None),
                                                              (imported["id"], None)], NOW) == 2
    assert [r.stix_id for r in rows(net.c)] == [posted["id"]]


def test_a_partner_is_one_peer(net: Net) -> None:
    # A review added the same partner under two names: both pulled every round.
    with unit_of_work(net.c) as uow:
        add_peer(uow, "us-node", "http://127.0.0.1:9/taxii2/scheldt", "us-cbp", "nl-node", "token", "t", None, NOW)
        with pytest.raises(InputError, match="http://127.0.0.1:9/taxii2/scheldt/ is peer us-node's already; to "
                                             "rename it, `scheldt peer remove us-node` first"):
            add_peer(uow, "us-two", "HTTP://127.0.0.1:9/taxii2/scheldt/", "us-cbp", "nl-node", "token", "t", None, NOW)
        for spelt in ("http://127.0.0.1:9/taxii2/%73cheldt", "http://127.0.0.1:9/taxii2/scheldt/?"[:-1]):
            with pytest.raises(InputError, match="is peer us-node's already"):
                add_peer(uow, "us-two", spelt, "us-cbp", "nl-node", "token", "t", None, NOW)
        for odd in ("http://127.0.0.1:9/taxii2/scheldt/?", "http://127.0.0.1:9/taxii2//scheldt/",
                    "http://127.0.0.1:9/taxii2/scheldt/#top"):  # a review's "?" was stored as ".../?/"
            with pytest.raises(InputError, match="no query, fragment or empty path segment"):
                add_peer(uow, "us-two", odd, "us-cbp", "nl-node", "token", "t", None, NOW)
        add_peer(uow, "us-other", "http://127.0.0.1:9/taxii2/other/", "us-cbp", "nl-node", "token", "t", None, NOW)


def test_a_partner_added_again_by_its_discovery_url_pulls_nothing(net: Net) -> None:
    """A federation review added the US node again by its discovery URL: accepted (peer add
    cannot tell where it leads without asking), and both peers pulled every round, splitting
    the objects' provenance. The second one's pull now fails, saying why."""
    store(net.b, [indicator("us-cbp", Tlp.AMBER, "be-us", name="US entry")], owner="us-cbp")
    with serving(net.b) as url_b:
        with unit_of_work(net.c) as uow:
            add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "nl-node", "token",
                     net.tokens_b["nl-node"], None, NOW)
            add_peer(uow, "dup", f"{url_b}/taxii2/", "us-cbp", "nl-node", "token", net.tokens_b["nl-node"], None, NOW)
        again = pull_peer(lambda: unit_of_work(net.c), "dup")
        assert again.error == (f"peer url: its discovery URL {url_b}/taxii2/ leads to the API root "
                               f"{url_b}/taxii2/scheldt/, which peer us-node pulls already: nothing pulled "
                               "(`scheldt peer remove dup`)")
        assert again.collections == [] and rows(net.c) == []
        assert pull(net.c, "us-node").added == 1
        assert {r.source for r in rows(net.c)} == {"peer:us-node"}


def test_an_object_naming_another_known_creator_is_refused_whatever_way_it_comes(net: Net) -> None:
    ours = indicator("us-cbp", Tlp.GREEN, None)
    claimed = indicator("be-customs", Tlp.GREEN, None)
    foreign = {**indicator("us-cbp", Tlp.GREEN, None), "created_by_ref": "identity--0c6f3c6e-1f7e-4b8e-9d55-3f0e8c1d2a4b"}
    with unit_of_work(net.b) as uow:
        report = ingest_objects(uow, [ours, claimed, foreign], "us-cbp", "taxii:us-officer", None, NOW)
    assert [i for i, _, _ in report.added] == [ours["id"], foreign["id"]]  # no creator known here: the poster's
    assert report.failed == [(claimed["id"], f"{claimed['id']}.created_by_ref: names be-customs, but the object comes "
                                             "from us-cbp: an organisation's objects are taken only from it, or from "
                                             "a peer allowed to relay for it")]


def _in_capitals(stix_id: str) -> str:
    kind, _, uid = stix_id.partition("--")
    return f"{kind}--{uid.upper()}"


def _identity_of(org: str, name: str) -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": identity_id(org), "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z", "name": name, "identity_class": "organization"}


def test_an_organisation_named_in_capitals_or_defined_by_another_is_refused(net: Net) -> None:
    """A federation review: ``created_by_ref`` naming be-customs with its UUID in capitals (the
    same identifier: RFC 4122 reads UUIDs without regard to case) passed as an organisation
    unknown here, so the US node stored it as its own while it named the Belgians; and the US
    node could store be-customs' identity object, with a name asking for reports by e-mail,
    which a third node then took as Belgian. Both are refused now, as the lower-case forms were."""
    claimed = {**indicator("us-cbp", Tlp.GREEN, None), "created_by_ref": _in_capitals(identity_id("be-customs"))}
    forged_identity = with_sharing(_identity_of("be-customs", "Belgian Customs (send reports to evil@example.org)"),
                                   Sharing("other", Tlp.GREEN, None))
    own_identity = with_sharing(_identity_of("us-cbp", "US Customs and Border Protection"),
                                Sharing("other", Tlp.GREEN, None))
    alert = indicator("be-customs", Tlp.GREEN, None)
    base = indicator("us-cbp", Tlp.GREEN, None)
    feedback = {k: v for k, v in base.items() if k not in ("name", "pattern", "pattern_type", "valid_from")} | {
        "type": "sighting", "id": f"sighting--{base['id'].split('--')[1]}", "sighting_of_ref": alert["id"],
        "where_sighted_refs": [_in_capitals(identity_id("nl-customs"))], "count": 1}
    with unit_of_work(net.b) as uow:
        ingest_objects(uow, [alert], "be-customs", "local", None, NOW)
        report = ingest_objects(uow, [claimed, forged_identity, own_identity, feedback], "us-cbp", "taxii:us-officer",
                                None, NOW)
    assert [i for i, _, _ in report.added] == [own_identity["id"]]
    assert report.failed == [
        (claimed["id"], f"{claimed['id']}.created_by_ref: names be-customs, but the object comes from us-cbp: an "
                        "organisation's objects are taken only from it, or from a peer allowed to relay for it"),
        (forged_identity["id"], f"{forged_identity['id']}.id: is the identity of be-customs, but it comes from us-cbp: "
                                "an organisation's identity is taken only from it, or from a peer allowed to relay "
                                "for it"),
        (feedback["id"], f"{feedback['id']}.where_sighted_refs[0]: names nl-customs, but the sighting comes from "
                         "us-cbp: an organisation's feedback is taken only from it, or from a peer allowed to relay "
                         "for it")]


def test_a_peer_serving_another_organisation_s_identity_or_capitalised_creator_is_refused(
        net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """The federation review's third node: what a tampered (or older) US node serves, an object
    naming be-customs in capitals and be-customs' identity object, is refused by the Dutch node
    pulling it; allowed to relay for be-customs, the identity is taken as be-customs'."""
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "nl-customs")
    get_settings.cache_clear()
    claimed = {**indicator("us-cbp", Tlp.GREEN, None), "created_by_ref": _in_capitals(identity_id("be-customs"))}
    forged_identity = with_sharing(_identity_of("be-customs", "Belgian Customs (send reports to evil@example.org)"),
                                   Sharing("other", Tlp.GREEN, None))
    tampered(net.b, [claimed, forged_identity], "us-cbp")
    try:
        with serving(net.b) as url_b:
            with unit_of_work(net.c) as uow:
                add_peer(uow, "us-node", f"{url_b}/taxii2/scheldt/", "us-cbp", "nl-node", "token",
                         net.tokens_b["nl-node"], None, NOW)
            refused = pull(net.c, "us-node")
            assert refused.added == 0 and rows(net.c) == []
            assert sorted(f for c in refused.collections for f in c.failures) == sorted([
                (claimed["id"], "created by be-customs (created_by_ref), and peer us-node may not relay for be-customs "
                                "here: it speaks for us-cbp (scheldt peer relays us-node be-customs)"),
                (forged_identity["id"], "the identity of be-customs, and peer us-node may not relay for be-customs "
                                        "here: it speaks for us-cbp (scheldt peer relays us-node be-customs)")])
            with unit_of_work(net.c) as uow:
                set_relays(uow, "us-node", ["be-customs"])
            relayed = pull(net.c, "us-node")
            assert relayed.added == 2
            assert {r.stix_id: r.owner_org for r in rows(net.c)} == {claimed["id"]: "be-customs",
                                                                      forged_identity["id"]: "be-customs"}
    finally:
        get_settings.cache_clear()


def test_a_sighting_naming_another_known_organisation_as_the_one_that_acted_is_refused(net: Net) -> None:
    # The originator of an alert reads where_sighted_refs as who acted on it: the US node may
    # not report feedback as given by the Dutch customs.
    alert = indicator("be-customs", Tlp.GREEN, None)
    def sighting(*acted: str) -> dict[str, Any]:
        base = indicator("us-cbp", Tlp.GREEN, None)
        return {k: v for k, v in base.items() if k not in ("name", "pattern", "pattern_type", "valid_from")} | {
            "type": "sighting", "id": f"sighting--{base['id'].split('--')[1]}", "sighting_of_ref": alert["id"],
            "where_sighted_refs": list(acted), "count": 1}
    own = sighting(identity_id("us-cbp"))
    elsewhere = sighting("identity--0c6f3c6e-1f7e-4b8e-9d55-3f0e8c1d2a4b")  # no organisation known here
    forged = sighting(identity_id("us-cbp"), identity_id("nl-customs"))
    with unit_of_work(net.b) as uow:
        ingest_objects(uow, [alert], "be-customs", "local", None, NOW)
        report = ingest_objects(uow, [own, elsewhere, forged], "us-cbp", "taxii:us-officer", None, NOW)
    assert [i for i, _, _ in report.added] == [own["id"], elsewhere["id"]]
    assert report.failed == [(forged["id"], f"{forged['id']}.where_sighted_refs[1]: names nl-customs, but the sighting "
                                            "comes from us-cbp: an organisation's feedback is taken only from it, or "
                                            "from a peer allowed to relay for it")]


def test_a_version_met_again_with_other_content_is_reported_not_counted_as_known(net: Net) -> None:
    # A peer that sends a copy of someone's object id first (say, without its created_by_ref)
    # used to make the real version count as "already stored" without a word.
    real = indicator("be-customs", Tlp.GREEN, None, name="the Belgian original")
    squatted = {k: v for k, v in real.items() if k != "created_by_ref"} | {"name": "the US node's copy"}
    with unit_of_work(net.c) as uow:
        first = ingest_objects(uow, [squatted], "us-cbp", "peer:us-node", None, NOW)
        same = ingest_objects(uow, [squatted], "us-cbp", "peer:us-node", None, NOW)
        other = ingest_objects(uow, [real], "be-customs", "peer:be-node", None, NOW)
        kept = uow.exchange.versions(None, real["id"])
    assert len(first.added) == 1 and same.known == [(real["id"], real["modified"])] and same.failed == []
    assert other.known == [] and other.failed == [(real["id"], f"{real['id']}: version {real['modified']} is already "
                                                                "stored here with other content; the first one "
                                                                "received is kept (a new version needs a later "
                                                                "modified)")]
    assert [(v.owner_org, v.object["name"]) for v in kept] == [("us-cbp", "the US node's copy")]


def test_copies_of_a_stored_version_count_as_known(net: Net) -> None:
    # What must not be reported as "other content": a partner re-posting a version it read here
    # (another organisation's), a copy with the properties under granular markings removed (as
    # a reader who may not see them got it, relayed back), a TLP marking definition written
    # another way, and a value the store writes differently (NaN is kept as null).
    marked = indicator("be-customs", Tlp.GREEN, None, name="marked") | {"description": "for AMBER readers only"}
    marked["granular_markings"] = [{"marking_ref": TLP_MARKING_IDS[Tlp.AMBER], "selectors": ["description"]}]
    redacted = {k: v for k, v in marked.items() if k not in ("description", "granular_markings")}
    tlp = tlp_marking_definition(Tlp.AMBER)
    nan = indicator("be-customs", Tlp.GREEN, None) | {"x_scheldt_score": float("nan")}
    with unit_of_work(net.c) as uow:
        first = ingest_objects(uow, [marked, tlp, nan], "be-customs", "peer:be-node", "be-us", NOW)
        again = ingest_objects(uow, [redacted, {k: v for k, v in tlp.items() if k != "name"}, nan], "be-customs",
                               "peer:us-node", "be-us", NOW)
        reposted = ingest_objects(uow, [marked], "us-cbp", "taxii:us-liaison", "be-us", NOW)
    assert len(first.added) == 3 and first.failed == []
    assert (len(again.known), again.failed) == (3, [])
    assert (reposted.known, reposted.failed) == ([(marked["id"], marked["modified"])], [])


def test_a_watchlist_entry_deleted_at_its_origin_leaves_the_peer_watchlist_store(net: Net) -> None:
    be = Principal("be-analyst", Organisation("be-customs", "BE", OrgKind.AGENCY, ()), frozenset({Role.ANALYST}))
    with unit_of_work(net.a) as uow:
        out = share.share_watchlist_entry(uow, be, "company", "front company", share.Terms("green", None, "", "A", "1"),
                                          NOW, name="Front Ltd")
    with serving(net.a) as url_a:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "be-node", f"{url_a}/taxii2/", "be-customs", "us-node", "token", net.tokens_a["us-node"],
                     None, NOW)
        pull(net.b, "be-node")
        with unit_of_work(net.b) as uow:
            landed = [(e.list_name, e.entry_id) for e in uow.watchlists.entries()]
        r = httpx.delete(f"{url_a}/taxii2/scheldt/collections/community/objects/{out['id']}/",
                         headers={**bearer(net.tokens_a["be-analyst"]), "Accept": TAXII})
        assert r.status_code == 200
        assert sum(c.deleted for c in pull(net.b, "be-node").collections) == 1
    with unit_of_work(net.b) as uow:
        assert landed == [("shared:community", out["id"])] and uow.watchlists.entries() == []


def test_a_peer_that_is_down_is_reported_and_the_job_fails_naming_it(net: Net) -> None:
    store(net.a, [indicator("be-customs", Tlp.GREEN, None)])
    with serving(net.a) as url_a:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "be-node", f"{url_a}/taxii2/scheldt/", "be-customs", "us-node", "token",
                     net.tokens_a["us-node"], None, NOW)
            add_peer(uow, "nowhere", "http://127.0.0.1:9/taxii2/scheldt/", "nl-customs", "x", "token", "nope", None, NOW)
        with pytest.raises(JobFailed) as failed:
            run_kind("federation-pull", lambda: unit_of_work(net.b), {}, lambda f, m: None)
        with unit_of_work(net.b) as uow:
            seq = uow.audit.head().seq
        # the schedule leaves a peer whose pull just failed alone for a minute (an operator review:
        # a failed run and a log warning every 2 s); asked by name, it is pulled
        idle = job_kind("federation-pull").idle
        assert idle is not None
        due = {"which": "due"}  # as `scheldt serve` schedules it
        with unit_of_work(net.b) as uow:
            assert idle(uow, due) is False  # be-node is due
        again = run_kind("federation-pull", lambda: unit_of_work(net.b), due, lambda f, m: None)
        assert [p["peer"] for p in again["peers"]] == ["be-node"]
        with unit_of_work(net.b) as uow:
            first_failed = uow.peers.get("nowhere").failing_since
            assert first_failed is not None and uow.peers.get("be-node").failing_since is None
            # nowhere has been failing for an hour: left alone for a minute, however slow this test
            uow.session.execute(update(PeerRow).where(PeerRow.name == "nowhere").values(
                last_pull_at=datetime.now(UTC), failing_since=first_failed - timedelta(hours=1)))

            def idle_after(ago_s: float, failing_for_s: float) -> bool:  # be-node's last pull failed ago_s ago
                last = datetime.now(UTC) - timedelta(seconds=ago_s)
                uow.session.execute(update(PeerRow).where(PeerRow.name == "be-node").values(
                    last_error="down", last_pull_at=last, failing_since=last - timedelta(seconds=failing_for_s)))
                return idle(uow, due)

            assert idle_after(0, 0) is True  # none due: the schedule records no run
            assert idle(uow, {}) is False  # asked by hand: every peer is pulled
            # left alone as long as it has been failing, from one pull interval (2 s) up to a minute:
            # a partner node restarted for a few seconds is pulled again soon after it is back
            # (due half an interval early: a pull is stamped when it ends, after the tick that began it)
            assert (idle_after(3, 0), idle_after(1.9, 0), idle_after(3, 2), idle_after(3, 10), idle_after(9.1, 10),
                    idle_after(30, 25), idle_after(58, 3600), idle_after(59.1, 3600)) == (
                False, False, False, True, False, False, True, False)
            uow.session.execute(update(PeerRow).where(PeerRow.name == "be-node").values(last_error="",
                                                                                        failing_since=None))
        # the same failure again, and a pull that finds nothing, add no audit entry (a pull every
        # 2 s of a dead peer made 43,000 a day)
        with pytest.raises(JobFailed):
            run_kind("federation-pull", lambda: unit_of_work(net.b), {}, lambda f, m: None)
    assert failed.value.where == "peer nowhere" and failed.value.result["added"] == 1
    with unit_of_work(net.b) as uow:
        assert "ConnectionError" in uow.peers.get("nowhere").last_error
        # since the first of the failed pulls
        assert uow.peers.get("nowhere").failing_since == first_failed - timedelta(hours=1)
        assert uow.peers.get("be-node").last_error == ""
        assert [e.payload for e in uow.audit.entries(seq, 100) if e.payload["object_kind"] == "federation-pull"] == []
    # A wrong credential: the peer's 401 is the error.
    with serving(net.a) as url_a:
        with unit_of_work(net.c) as uow:
            add_peer(uow, "be-node", url_a + "/taxii2/scheldt/", "be-customs", "us-node", "password", "wrong password",
                     None, NOW)
        report = pull_peer(lambda: unit_of_work(net.c), "be-node")
    assert report.error.startswith("HTTP 401") and "wrong password" in report.error
    # two peers failing: the job names each with its own reason (a review saw only the first)
    with unit_of_work(net.c) as uow:
        add_peer(uow, "nowhere", "http://127.0.0.1:9/taxii2/scheldt/", "nl-customs", "x", "token", "nope", None, NOW)
    with pytest.raises(JobFailed) as both:
        run_kind("federation-pull", lambda: unit_of_work(net.c), {}, lambda f, m: None)
    assert both.value.where == "peers be-node, nowhere"
    assert both.value.why.startswith("be-node: ConnectionError") and "; nowhere: ConnectionError" in both.value.why
    assert both.value.why.endswith(" (2 peers failed)")


def fake_taxii(answers: list[Any]) -> Any:
    """A TAXII 2.1 API root with one readable collection ``c1`` whose objects endpoint answers
    ``answers[0]`` (a test changes it), as a server that is not Scheldt (no tombstones)."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def taxii(body: Any) -> Response:  # (status, body) for an error
        status, body = body if isinstance(body, tuple) else (200, body)
        return Response(json.dumps(body), status_code=status, media_type=TAXII)

    root = {"title": "fake", "versions": [TAXII], "max_content_length": 1_000_000}
    coll = {"id": "c1", "title": "c1", "can_read": True, "can_write": False, "media_types": [TAXII]}
    return Starlette(routes=[
        Route("/taxii2/fake/", lambda request: taxii(root)),
        Route("/taxii2/fake/collections/", lambda request: taxii({"collections": [coll]})),
        Route("/taxii2/fake/collections/c1/objects/", lambda request: taxii(answers[0])),
        Route("/taxii2/fake/collections/c1/manifest/", lambda request: taxii({"objects": []}))])


def test_a_peer_answering_no_taxii_envelope_fails_alone(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """A federation review's peer answered ``[1,2,3]`` for a page of objects: the pull of every
    peer stopped on an AttributeError (healthy peers were no longer pulled, nothing said why);
    ``"objects": "nope"`` was read as four refused objects."""
    store(net.a, [indicator("be-customs", Tlp.GREEN, None)])
    answers: list[Any] = [[1, 2, 3]]
    with serving(net.a) as url_a, serving_app(fake_taxii(answers)) as url_fake:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "aaa-fake", f"{url_fake}/taxii2/fake/", "nl-customs", "x", "token", "nope", "be-us", NOW)
            add_peer(uow, "be-node", f"{url_a}/taxii2/scheldt/", "be-customs", "us-node", "token",
                     net.tokens_a["us-node"], None, NOW)
        added = []
        for answer, found in (([1, 2, 3], "a JSON object was expected, found an array"),
                              ({"objects": "nope", "more": False}, "'objects' should be a list, found a string")):
            answers[0] = answer
            result = pull_all(lambda: unit_of_work(net.b))
            assert result["failed_peers"] == ["aaa-fake"]
            added.append(result["added"])
            with unit_of_work(net.b) as uow:
                assert uow.peers.get("aaa-fake").last_error == (
                    f"collection c1 objects: the peer's answer is not a TAXII envelope: {found}")
                assert uow.peers.get("be-node").last_error == ""
        # what a peer says of its failure reaches the operator's terminal without control characters
        answers[0] = (500, {"title": "Error", "description": "\x1b]0;pwned\x07\x1b[2J\rfake: all good"})
        monkeypatch.setenv("SCHELDT_DATABASE_URL", str(net.b.url))
        get_settings.cache_clear()
        try:
            said = CliRunner().invoke(cli, ["peer", "pull", "aaa-fake"])
        finally:
            get_settings.cache_clear()
    assert added == [1, 0] and len(rows(net.b)) == 1  # be-node's object, pulled beside the failing peer
    assert "\x1b" not in said.stdout and ": ?]0;pwned??[2J?fake: all good" in said.stdout, said.stdout


def test_a_peer_credential_that_cannot_be_unsealed_fails_that_peer_alone(
        net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials are sealed with the node's key (scheldt.store.sealing); under another key the
    peer's pull fails with what to do, the other peers are pulled, and a new credential mends it."""
    from cryptography.fernet import Fernet

    store(net.a, [indicator("be-customs", Tlp.GREEN, None)])
    with serving(net.a) as url_a:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "be-node", f"{url_a}/taxii2/scheldt/", "be-customs", "us-node", "token",
                     net.tokens_a["us-node"], None, NOW)
        monkeypatch.setenv("SCHELDT_SECRETS_KEY", Fernet.generate_key().decode())
        get_settings.cache_clear()
        report = pull_peer(lambda: unit_of_work(net.b), "be-node")
        assert report.error == ("SCHELDT_SECRETS_KEY: this sealing key is not the one the stored credential was "
                                "sealed with: restore the key, or enter the credential again (scheldt peer "
                                "credential; carriers give each subscription a new secret)")
        with unit_of_work(net.b) as uow:
            assert uow.peers.get("be-node").last_error == report.error
            set_credential(uow, "be-node", "us-node", "token", net.tokens_a["us-node"])
        assert pull(net.b, "be-node").added == 1


def test_peer_commands(net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url_b = str(net.b.url)
    monkeypatch.setenv("SCHELDT_DATABASE_URL", url_b)
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        with unit_of_work(net.a) as uow:  # a group node A defines and node B does not
            uow.exchange.add_group("be-us-air", "BE-US air cargo", "be-customs", ["us-cbp"], NOW)
        store(net.a, [indicator("be-customs", Tlp.AMBER, "be-us"), indicator("be-customs", Tlp.AMBER, "be-us-air")])
        with serving(net.a) as url_a:
            r = runner.invoke(cli, ["peer", "add", "be-node", f"{url_a}/taxii2/scheldt/", "--org", "be-customs",
                                    "--user", "us-node", "--token-stdin"], input=net.tokens_a["us-node"] + "\n")
            assert r.exit_code == 0, r.output
            for args, why in ((["peer", "add", "x-node", "ftp://nowhere/", "--org", "be-customs", "--user", "u",
                                "--token-stdin"], "not an http(s) URL"),
                              (["peer", "add", "x-node", "http://h/", "--org", "be-customs", "--user", "u"],
                               "exactly one of"),
                              (["peer", "add", "be-node", "http://h/", "--org", "be-customs", "--user", "u",
                                "--token-stdin"], "already exists"),
                              (["peer", "add", "x-node", "http://h/", "--org", "nope", "--user", "u",
                                "--password-stdin"], "no such organisation"),
                              # kept in the audit log and shown by peer list (oversight review)
                              (["peer", "add", "x-node", "https://u:inlinepw@h/", "--org", "be-customs", "--user",
                                "u", "--password-stdin"], "may not carry credentials")):
                r = runner.invoke(cli, args, input="secret\n")
                assert r.exit_code == 2 and why in r.output, (args, r.output)
            r = runner.invoke(cli, ["peer", "allow", "nl-node"])
            assert r.exit_code == 2 and "already" in r.output
            assert runner.invoke(cli, ["peer", "allow", "carrier"]).exit_code == 2
            monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "us-cbp")  # node B is the US node
            get_settings.cache_clear()
            r = runner.invoke(cli, ["peer", "allow", "us-liaison"])  # a user of its own agency (CLI review)
            assert r.exit_code == 2 and "this node's own agency" in r.output, r.output
            monkeypatch.delenv("SCHELDT_LOCAL_ORGANISATION")
            get_settings.cache_clear()
            r = runner.invoke(cli, ["peer", "pull", "--json"])
            assert r.exit_code == 0, r.output
            assert json.loads(r.output)["added"] == 2
            # stored, but no one here reads it until the group is defined here too: said, not silent
            assert json.loads(r.output)["peers"][0]["unknown_groups"] == {"be-us-air": 1}
            r = runner.invoke(cli, ["peer", "list", "--json"])
            listed = json.loads(r.output)
            assert listed["peers"][0]["name"] == "be-node" and "secret" not in r.output
            assert listed["peers"][0]["unknown_groups"] == {"be-us-air": 1}
            assert "WARNING: 1 object version(s) in sharing group 'be-us-air', not defined on this node" in \
                runner.invoke(cli, ["peer", "list"]).output
            # made here without the organisation whose pulled objects name it: its members would read them
            r = runner.invoke(cli, ["group", "create", "be-us-air", "--name", "BE-US air cargo", "--owner", "us-cbp",
                                    "--member", "nl-customs"])
            assert r.exit_code == 2, r.output
            assert ("stored object versions already name sharing group 'be-us-air' (1 from be-customs), shared into "
                    "a group of that id on another node; add be-customs as member(s)") in " ".join(r.output.split())
            r = runner.invoke(cli, ["group", "create", "be-us-air", "--name", "BE-US air cargo", "--owner", "us-cbp",
                                    "--member", "be-customs"])
            assert r.stdout.strip() == "sharing group be-us-air created: be-customs, us-cbp", r.output
            assert "WARNING" not in runner.invoke(cli, ["peer", "list"]).output
            assert listed["peers"][0]["relays_for"] == []
            r = runner.invoke(cli, ["peer", "add", "be-relay", f"{url_a}/taxii2/", "--org", "be-customs",
                                    "--user", "us-node", "--token-stdin", "--relays", "nl-customs"], input="t\n")
            assert r.exit_code == 0 and r.output.strip().endswith("objects attributed to be-customs; relays for "
                                                                   "nl-customs"), r.output
            assert "be-relay" in runner.invoke(cli, ["peer", "list"]).output.split("relays for nl-customs")[0]
            r = runner.invoke(cli, ["peer", "add", "x-node", "http://h/", "--org", "be-customs", "--user", "u",
                                    "--token-stdin", "--relays", "be-customs"], input="t\n")
            assert r.exit_code == 2 and "be-customs is the peer's own organisation" in r.output
            assert runner.invoke(cli, ["peer", "remove", "be-relay"]).exit_code == 0
            r = runner.invoke(cli, ["peer", "relays", "be-node", "nl-customs", "be-customs"])
            assert r.exit_code == 2 and "be-customs is the peer's own organisation" in r.output
            r = runner.invoke(cli, ["peer", "relays", "be-node", "nl-customs"])
            assert (r.exit_code, r.stdout.strip()) == (0, "peer be-node relays for nl-customs")
            r = runner.invoke(cli, ["peer", "relays", "be-node"])
            assert r.stdout.strip() == "peer be-node relays for no other organisation (only be-customs's objects)"
            assert runner.invoke(cli, ["peer", "relays", "nowhere"]).exit_code == 2
            assert net.tokens_a["us-node"] not in r.output
            assert {a["username"] for a in listed["node_accounts"]} == {"be-node", "nl-node"}
            # a failing peer is said to fail: its time is of the last try (operator review)
            with unit_of_work(net.b) as uow:  # failing since the first of two failed pulls
                uow.peers.record_pull("be-node", datetime(2026, 12, 5, 9, 0, tzinfo=UTC), "ConnectionError: refused")
                uow.peers.record_pull("be-node", datetime(2026, 12, 5, 9, 1, tzinfo=UTC), "ConnectionError: refused")
            line = next(x for x in runner.invoke(cli, ["peer", "list"]).output.splitlines() if x.startswith("be-node"))
            assert line.endswith("last pull FAILED at 2026-12-05 09:01:00 UTC (failing since 2026-12-05 09:00:00 UTC): "
                                 "ConnectionError: refused")
            assert runner.invoke(cli, ["peer", "disallow", "nl-node"]).exit_code == 0
            assert runner.invoke(cli, ["peer", "remove", "be-node"]).exit_code == 0
            assert runner.invoke(cli, ["peer", "pull", "be-node"]).exit_code == 2
    finally:
        get_settings.cache_clear()


# --- medallion -----------------------------------------------------------------------------------

def _plain(n: int, **extra: Any) -> dict[str, Any]:
    """A STIX 2.1 indicator as another tool writes it: no Scheldt terms, TLP 2.0 GREEN or none."""
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{n:08d}-1111-4111-8111-111111111111",
           "created": "2026-02-01T00:00:00.000Z", "modified": "2026-02-01T00:00:00.000Z", "name": f"feed {n}",
           "pattern": f"[domain-name:value = 'bad{n}.example']", "pattern_type": "stix",
           "valid_from": "2026-02-01T00:00:00Z"}
    if n % 2:
        obj["object_marking_refs"] = ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]  # TLP:GREEN 2.0
    obj.update(extra)
    return obj


def test_medallion_as_a_third_party_peer(net: Net, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_FEDERATION_RECONCILE_EVERY_S", "0")
    get_settings.cache_clear()
    initial = [_plain(n) for n in range(150)]  # more than medallion's page (100): its `next` is used
    try:
        with medallion(tmp_path, {"partner": "medallion password"}, initial) as root:
            with unit_of_work(net.b) as uow:
                add_peer(uow, "feed", root, "nl-customs", "partner", "password", "medallion password", "be-us", NOW,
                         relays_for=["us-cbp"])  # the feed may carry the US agency's objects too
            # A pull cut after its first page (medallion fails), resumed after medallion forgot its
            # `next`: all 150 were added at one instant, and the resume by date_added got none of the
            # other 50 from an exclusive added_after (a federation review); now it gets them.
            with monkeypatch.context() as cut:
                cut.setattr(Collection, "get_objects", _failing_after(1, Collection.get_objects))
                report = pull_peer(lambda: unit_of_work(net.b), "feed")
            assert "503" in report.error and len(rows(net.b)) == 100
            with unit_of_work(net.b) as uow:
                assert uow.peers.get("feed").cursors[MEDALLION_COLLECTION]["next"]  # medallion's, of page 2
            _forget_next(net.b, "feed")
            report = pull(net.b, "feed")
            assert (report.added, report.collections[0].pages) == (50, 2) and report.reconciled
            stored = {r.stix_id: r for r in rows(net.b)}
            assert len(stored) == 150
            odd, even = stored[initial[1]["id"]], stored[initial[0]["id"]]
            # GREEN is the community's: the peer's group is not its (a federation review's GREEN item "of
            # be-us" was in no collection a community member reads over TAXII, yet shown to them elsewhere)
            assert (odd.tlp, odd.group_id, odd.owner_org, odd.source) == ("green", None, "nl-customs", "peer:feed")
            assert (even.tlp, even.group_id) == ("amber+strict", "be-us")

            # Later additions through medallion (posted by taxii2-client): a new object, a
            # revocation, one naming as its creator a known organisation the feed may relay for.
            coll = Collection(f"{root}collections/{MEDALLION_COLLECTION}/", user="partner", password="medallion password")
            later = [_plain(200), new_version(initial[3], revoked=True),
                     _plain(201, created_by_ref=identity_id("us-cbp"))]
            assert coll.add_objects({"objects": later}).success_count == 3
            assert pull(net.b, "feed").added == 3
            assert [r.revoked for r in rows(net.b, initial[3]["id"])] == [False, True]
            assert rows(net.b, later[2]["id"])[0].owner_org == "us-cbp"
            assert pull(net.b, "feed").added == 0

            # A stale `next` (medallion forgets it after 30 s, or after a restart) is recovered from.
            _forget_next(net.b, "feed")
            coll.add_objects({"objects": [_plain(202)]})
            assert pull(net.b, "feed").added == 1

            # Deleted on medallion: learnt at the next reconciliation (every version of it).
            coll.delete_object(initial[5]["id"])
            coll.delete_object(initial[3]["id"], version=initial[3]["modified"])
            report = pull(net.b, "feed")
            assert report.reconciled and sum(c.deleted for c in report.collections) == 2
            assert not rows(net.b, initial[5]["id"])
            assert [r.revoked for r in rows(net.b, initial[3]["id"])] == [True]

            # What came from medallion is served by Scheldt's TAXII to the group's members.
            # A medallion-era client polls it by added_after.
            with serving(net.b) as url_b:
                url = f"{url_b}/taxii2/scheldt/collections/be-us/objects/"
                seen, last = _poll(url, net.tokens_b["us-officer"], None)
                assert sorted(seen) == sorted({r.stix_id for r in rows(net.b) if r.group_id == "be-us"})
                assert _poll(url, net.tokens_b["us-officer"], last) == ([], last)
                green, _ = _poll(url.replace("/be-us/", "/community/"), net.tokens_b["us-officer"], None)
                assert sorted(green) == sorted({r.stix_id for r in rows(net.b) if r.group_id is None})
                assert len(seen) == 77 and len(green) > 70  # the even (unmarked) ones; the odd (GREEN) ones
                coll.add_objects({"objects": [_plain(204)]})  # even: unmarked, AMBER+STRICT in the peer's group
                pull(net.b, "feed")
                assert _poll(url, net.tokens_b["us-officer"], last)[0] == [_plain(204)["id"]]
    finally:
        get_settings.cache_clear()


def test_a_third_party_peer_s_bad_answers_delete_nothing_and_its_stricter_versions_hold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A federation review, against medallion: one manifest page served empty but saying more,
    or an empty manifest, had the reconcile delete every object past it for good (tombstones
    sent on, the cursor past them); a raise from GREEN to RED, refused here for naming no
    recipient, left the GREEN version readable by the community; a definition under the
    standard TLP:GREEN id saying "anyone" and a 3 MB object were stored and served on."""
    monkeypatch.setenv("SCHELDT_FEDERATION_RECONCILE_EVERY_S", "0")
    get_settings.cache_clear()
    forged = {**tlp_marking_definition(Tlp.GREEN), "definition_type": "statement",
              "definition": {"statement": "anyone"}}
    huge = _plain(102, description="x" * 1_100_000)
    deep: Any = "bottom"
    for _ in range(300):
        deep = [deep]
    nested = _plain(103, x_deep=deep)  # (a regression review: its size check failed the whole page)
    listed_name = {**tlp_marking_definition(Tlp.AMBER), "name": ["TLP:AMBER"]}
    described = {**tlp_marking_definition(Tlp.RED), "description": "Publish freely"}
    initial = [_plain(n) for n in range(101)] + [forged, huge, nested, listed_name, described]
    node = open_store(f"sqlite:///{tmp_path / 'node.db'}")
    seed(node, passwords=("be-node",))
    with unit_of_work(node) as uow:
        uow.exchange.add_group("be-us", "BE-US", "be-customs", ["us-cbp", "nl-customs"], NOW)
    try:
        with medallion(tmp_path, {"partner": "medallion password"}, initial) as root:
            with unit_of_work(node) as uow:
                add_peer(uow, "feed", root, "nl-customs", "partner", "password", "medallion password", "be-us", NOW)
            report = pull(node, "feed")
            assert (report.added, report.collections[0].failed) == (101, 5)
            why = dict(report.collections[0].failures)
            assert ("standard TLP:GREEN (TLP 2.0) marking that says something else (definition_type, definition)"
                    in why[forged["id"]])
            assert "TLP:AMBER (TLP 2.0) marking that says something else (name)" in why[listed_name["id"]]
            assert "TLP:RED (TLP 2.0) marking that says something else (description)" in why[described["id"]]
            assert why[huge["id"]].startswith("1,100,") and "more than the 1,048,576" in why[huge["id"]]
            assert "nests lists and objects more than 64 levels deep" in why[nested["id"]]

            # Bad manifest answers delete nothing: a page listing nothing but saying more, an
            # empty manifest, and one walk missing records that the second walk lists.
            real = Collection.get_manifest
            for answer, said in (({"more": True, "next": "zzz"}, "lists no version but says there are more"),
                                 ({"more": False}, "list no object at all, while 101")):
                with monkeypatch.context() as bad:
                    bad.setattr(Collection, "get_manifest", _answering_after(answer, real, pages=0 if
                                                                             answer["more"] is False else 1))
                    report = pull_peer(lambda: unit_of_work(node), "feed")
                assert said in report.error and not report.reconciled
                assert len(rows(node)) == 101
            with monkeypatch.context() as once:
                once.setattr(Collection, "get_manifest", _missing_once(real, 10))
                report = pull(node, "feed")
            assert report.reconciled and sum(c.deleted for c in report.collections) == 0
            assert len(rows(node)) == 101

            # The originator raises a GREEN object to RED (medallion names no Scheldt recipient):
            # the RED version is refused, and the GREEN one is withdrawn here, a tombstone left;
            # so is one raised to RED naming a recipient not written organisation/user (refused at
            # its recipients). Not for a newer version refused for something else, nor by a
            # peer that relays the originator's objects (it takes back only what it gave).
            green, named = initial[1], initial[5]
            coll = Collection(f"{root}collections/{MEDALLION_COLLECTION}/", user="partner",
                              password="medallion password")
            raised = new_version(green, after_ms=86_400_000, name="now secret",
                                 object_marking_refs=[TLP_MARKING_IDS[Tlp.RED]])
            badly_named = new_version(named, after_ms=86_400_000, object_marking_refs=[TLP_MARKING_IDS[Tlp.RED]],
                                      extensions={SHARING_EXTENSION_ID: {"recipients": ["us-cbp"]}})
            broken = new_version(initial[3], pattern="[not a pattern", object_marking_refs=[TLP_MARKING_IDS[Tlp.AMBER]])
            first_relayed = _plain(301, created_by_ref=identity_id("nl-customs"))  # GREEN
            with unit_of_work(node) as uow:
                feed = uow.peers.get("feed")
                relay = replace(feed, name="relay", organisation_id="us-cbp", relays_for=("nl-customs",))
                by_relay = CollectionReport("relay")
                store_objects(uow, relay, [{**raised, "created_by_ref": identity_id("nl-customs")}, first_relayed],
                              None, datetime.now(UTC), by_relay)
            assert (by_relay.added, by_relay.failed, by_relay.deleted) == (1, 1, 0)
            assert len(rows(node, green["id"])) == 1
            posted_here = _plain(303)  # GREEN, posted on this node by the organisation's own user
            with unit_of_work(node) as uow:
                assert ingest_objects(uow, [posted_here], "nl-customs", "taxii:nl-analyst", None,
                                      datetime.now(UTC)).failed == []
            with unit_of_work(node) as uow:  # the originator's own node raises what came through the relay
                by_feed = CollectionReport("feed")
                store_objects(uow, feed, [new_version(o, object_marking_refs=[TLP_MARKING_IDS[Tlp.RED]])
                                          for o in (first_relayed, posted_here)], None, datetime.now(UTC), by_feed)
            # ... but not what was made here: never a peer's to take back (a regression review)
            assert (by_feed.failed, by_feed.deleted) == (2, 1) and rows(node, first_relayed["id"]) == []
            assert [r.source for r in rows(node, posted_here["id"])] == ["taxii:nl-analyst"]
            coll.add_objects({"objects": [broken]})
            report = pull(node, "feed")
            assert "pattern" in dict(report.collections[0].failures)[broken["id"]]
            assert report.collections[0].deleted == 0 and len(rows(node, initial[3]["id"])) == 1
            coll.add_objects({"objects": [raised, badly_named]})
            report = pull(node, "feed")
            failures = dict(report.collections[0].failures)
            assert report.added == 0 and report.collections[0].deleted == 2
            assert "TLP:RED needs named recipients" in failures[green["id"]]
            assert ".extensions.recipients.0: " in failures[named["id"]]
            assert all("1 earlier version(s) open to more readers are withdrawn" in failures[i]
                       for i in (green["id"], named["id"]))
            assert rows(node, green["id"]) == rows(node, named["id"]) == []
            with unit_of_work(node) as uow:
                assert sorted(t.stix_id for t in uow.taxii.deletions(None, community=True)) == sorted(
                    [green["id"], named["id"], first_relayed["id"]])
            # a "new version" of a standard TLP definition (STIX never versions one) with a note in an
            # x_ property is stored and served as the standard one, once (a regression review's 2099
            # TLP:RED "publish freely" was served as the newest)
            noted = {**tlp_marking_definition(Tlp.RED), "modified": "2099-01-01T00:00:00.000Z",
                     "x_scheldt_note": "RED at this node: publish freely"}
            with unit_of_work(node) as uow:
                done = ingest_objects(uow, [tlp_marking_definition(Tlp.RED), noted], "nl-customs", "peer:feed", "be-us",
                                      datetime.now(UTC))
                assert (len(done.added), len(done.known), done.failed) == (1, 1, [])
                assert [v.object for v in uow.exchange.versions(None, noted["id"])] == [tlp_marking_definition(Tlp.RED)]
    finally:
        node.dispose()
        get_settings.cache_clear()


def test_a_stricter_version_for_fewer_readers_withdraws_what_reached_more(tmp_path: Path) -> None:
    """A regression review: a newer version refused here at its recipients or sharing group
    withdrew the earlier copies only under a laxer TLP level, so RED re-sent to fewer recipients
    and AMBER+STRICT moved to a group not on this node left the earlier copies readable by the
    readers dropped; and a version putting a second property under a granular RED marking,
    accepted or refused, left the earlier version serving that property to the community
    (``match[version]=all``). A version newer in nothing but its wording withdraws nothing."""
    from fastapi.testclient import TestClient

    from scheldt.api.app import create_app

    node = open_store(f"sqlite:///{tmp_path / 'node.db'}")
    tokens = seed(node)
    with unit_of_work(node) as uow:
        uow.exchange.add_group("be-us", "BE-US", "be-customs", ["us-cbp", "nl-customs"], NOW)
        uow.exchange.add_group("be-only", "BE only", "be-customs", ["be-customs"], NOW)
    feed = Peer("feed", "http://partner.example/taxii2/", "nl-customs", "nl-node", "password", None)
    secret = "route via berth 1742, informant K"
    red = [TLP_MARKING_IDS[Tlp.RED]]

    def terms(**kw: Any) -> dict[str, Any]:
        return {SHARING_EXTENSION_ID: {"extension_type": "property-extension", **kw}}

    def granular(*props: str) -> list[dict[str, Any]]:
        return [{"marking_ref": TLP_MARKING_IDS[Tlp.RED], "selectors": list(props)}]

    first = {  # (earlier version, its newer version)
        "fewer recipients": _plain(401, object_marking_refs=red,
                                   extensions=terms(recipients=["nl-customs/nl-analyst", "us-cbp/us-officer"])),
        "other group": _plain(402, object_marking_refs=[TLP_MARKING_IDS[Tlp.AMBER_STRICT]],
                              extensions=terms(sharing_group="be-us")),
        "granular raise": _plain(403, description=secret, granular_markings=granular("name"),
                                 extensions=terms(recipients=["nl-customs/nl-analyst"])),
        "granular raise refused": _plain(405, description=secret, granular_markings=granular("name"),
                                         extensions=terms(recipients=["nl-customs/nl-analyst"])),
        "new wording": _plain(404, object_marking_refs=red, extensions=terms(recipients=["nl-customs/nl-analyst"])),
        "laxer but a property raised": _plain(406, description=secret, object_marking_refs=[
            TLP_MARKING_IDS[Tlp.AMBER]], extensions=terms(sharing_group="be-us")),
    }
    newer = {
        "fewer recipients": new_version(first["fewer recipients"], extensions=terms(
            recipients=["nl-customs/nl-analyst", "nl-customs"])),  # refused: the second is no user
        "other group": new_version(first["other group"], extensions=terms(sharing_group="be-only")),  # refused
        "granular raise": new_version(first["granular raise"], granular_markings=granular("name", "description")),
        "granular raise refused": new_version(first["granular raise refused"], granular_markings=granular(
            "name", "description"), extensions=terms(recipients=["nl-customs/nl-analyst", "nl-analyst"])),
        "new wording": new_version(first["new wording"], name="reworded",
                                   extensions=terms(recipients=["nl-customs/nl-analyst", "nl-analyst"])),  # refused
        # GREEN with its description RED, refused (a review: the AMBER copy kept its description)
        "laxer but a property raised": new_version(
            first["laxer but a property raised"], object_marking_refs=[TLP_MARKING_IDS[Tlp.GREEN]],
            granular_markings=granular("description"), extensions=terms(recipients=["nl-customs/nl-analyst", "x"])),
    }
    try:
        with unit_of_work(node) as uow:
            report = CollectionReport("feed")
            store_objects(uow, feed, list(first.values()), "be-us", datetime.now(UTC), report)
        assert (report.added, report.failed) == (6, 0), report.failures
        with unit_of_work(node) as uow:
            report = CollectionReport("feed")
            store_objects(uow, feed, list(newer.values()), "be-us", datetime.now(UTC), report)
        failures = dict(report.failures)
        assert (report.added, report.failed, report.deleted) == (1, 5, 4)
        for case in ("fewer recipients", "other group", "granular raise refused", "laxer but a property raised"):
            assert failures[first[case]["id"]].endswith("; its 1 earlier version(s) open to more readers are "
                                                        "withdrawn here"), case
            assert rows(node, first[case]["id"]) == [], case
        assert "sharing group be-only" in failures[first["other group"]["id"]]
        assert "withdrawn" not in failures[first["new wording"]["id"]]
        assert [r.modified for r in rows(node, first["new wording"]["id"])] == [first["new wording"]["modified"]]
        assert [r.modified for r in rows(node, first["granular raise"]["id"])] == [
            newer["granular raise"]["modified"]]
        client = TestClient(create_app(node, workbench=False))
        seen = client.get("/taxii2/scheldt/collections/community/objects/?match[version]=all",
                          headers={**bearer(tokens["us-officer"]), "Accept": TAXII}).json()
        raised = [o for o in seen["objects"] if o["id"] == first["granular raise"]["id"]]
        assert [(o["modified"], "description" in o) for o in raised] == [(newer["granular raise"]["modified"], False)]
        assert all(o["id"] not in {first[c]["id"] for c in ("fewer recipients", "granular raise refused")}
                   for o in seen["objects"])
        with unit_of_work(node) as uow:
            tombstones = [*uow.taxii.deletions(None, community=True), *uow.taxii.deletions(None, group_id="be-us")]
            assert sorted(t.stix_id for t in tombstones) == sorted(
                first[c]["id"] for c in ("fewer recipients", "other group", "granular raise", "granular raise refused",
                                         "laxer but a property raised"))
    finally:
        node.dispose()


def _answering_after(answer: dict[str, Any], get_manifest: Any, pages: int) -> Any:
    """``Collection.get_manifest`` answering as the peer does for ``pages`` calls, then ``answer``."""
    made = []

    def get(coll: Collection, *args: Any, **kwargs: Any) -> Any:
        made.append(1)
        return get_manifest(coll, *args, **kwargs) if len(made) <= pages else dict(answer)
    return get


def _missing_once(get_manifest: Any, n: int) -> Any:
    """``Collection.get_manifest`` whose first page leaves out its first ``n`` records, once."""
    made = []

    def get(coll: Collection, *args: Any, **kwargs: Any) -> Any:
        body = get_manifest(coll, *args, **kwargs)
        made.append(1)
        return {**body, "objects": body["objects"][n:]} if len(made) == 1 else body
    return get


def _failing_after(calls: int, get_objects: Any) -> Any:
    """``Collection.get_objects`` answering as the peer does ``calls`` times, then HTTP 503."""
    made = []

    def get(coll: Collection, *args: Any, **kwargs: Any) -> Any:
        made.append(1)
        if len(made) > calls:
            response = requests.Response()
            response.status_code, response.url = 503, coll.url
            raise requests.HTTPError("503 Server Error: Service Unavailable", response=response)
        return get_objects(coll, *args, **kwargs)
    return get


def _forget_next(engine: Engine, peer: str) -> None:
    """Make the remembered `next` of the medallion collection one medallion no longer knows."""
    with unit_of_work(engine) as uow:
        state = dict(uow.peers.get(peer).cursors[MEDALLION_COLLECTION])
        uow.peers.set_cursor(peer, MEDALLION_COLLECTION, {**state, "next": "stale"})


def _poll(url: str, token: str, added_after: str | None) -> tuple[list[str], str | None]:
    """Read a collection as a medallion-era client polls a server: one walk with ``added_after``
    from the previous poll (none the first time), following ``next`` while ``more`` (TAXII 2.1
    §3.4); returns the ids and the last ``X-TAXII-Date-Added-Last`` to poll from next time."""
    seen: list[str] = []
    cursor, last = None, added_after
    for _ in range(1000):
        params = {"limit": "40", **({"added_after": added_after} if added_after else {}),
                  **({"next": cursor} if cursor else {})}
        r = httpx.get(url, params=params, headers={**bearer(token), "Accept": TAXII})
        assert r.status_code == 200
        body = r.json()
        seen += [o["id"] for o in body.get("objects", [])]
        last = r.headers.get("X-TAXII-Date-Added-Last", last)
        if not body["more"]:
            return seen, last
        cursor = body["next"]
    raise AssertionError("the walk did not end")


def test_pull_all_names_an_unknown_peer(net: Net) -> None:
    from scheldt.errors import NotFoundError

    with pytest.raises(NotFoundError):
        pull_all(lambda: unit_of_work(net.b), "no-such-peer")


def test_a_pull_goes_on_when_the_peer_no_longer_reads_the_cursors_it_gave(net: Net) -> None:
    """A node upgraded to encrypted cursors (migration 0022) refuses the plain ones it gave
    before with a 400: the puller then resumes objects by added_after and reads tombstones from
    the start (the latter used to fail every pull), so nothing is missed and nothing doubled."""
    first, second = indicator("be-customs", Tlp.GREEN, None), indicator("be-customs", Tlp.GREEN, None)
    store(net.a, [first, second])
    with serving(net.a) as url_a:
        with unit_of_work(net.b) as uow:
            add_peer(uow, "be-node", f"{url_a}/taxii2/", "be-customs", "us-node", "token", net.tokens_a["us-node"],
                     None, NOW)
        assert pull(net.b, "be-node").added == 2
        old = base64.urlsafe_b64encode(b'{"s":1}').decode().rstrip("=")
        with unit_of_work(net.b) as uow:
            peer = uow.peers.get("be-node")
            for coll_id, state in peer.cursors.items():
                if isinstance(state, dict) and state.get("next"):
                    uow.peers.set_cursor("be-node", coll_id, {**state, "next": old, "deleted": old})
        later = indicator("be-customs", Tlp.GREEN, None)
        store(net.a, [later])
        r = httpx.delete(f"{url_a}/taxii2/scheldt/collections/community/objects/{first['id']}/",
                         headers={**bearer(net.tokens_a["be-analyst"]), "Accept": TAXII})
        assert r.status_code == 200
        report = pull(net.b, "be-node")
    assert report.added == 1 and sum(c.deleted for c in report.collections) == 1
    assert sorted(r.stix_id for r in rows(net.b)) == sorted([second["id"], later["id"]])
