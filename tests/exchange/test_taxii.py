"""The TAXII 2.1 server, on SQLite and PostgreSQL.

- Discovery, API root, collections per sharing group (+ community), per requester.
- Add Objects: 202 with a status resource kept in the store; envelopes and bundles; refusals
  (invalid STIX, another organisation's object, another group) reported per object; 403/415/400.
- Filters: match[id|type|version|spec_version], added_after, limit/next; X-TAXII-Date-Added-*.
- An object, its versions, deletion by the originator only, tombstones.
- Media types (406/415), the error resource, 404/405, HTTP Basic and Bearer/Token (401 with
  WWW-Authenticate), the audit trail (denied requests too; the chain verifies).
- Pages never leak and never shrink; cursors stay valid while objects arrive (also one relayed
  late with an old ``modified``), and the last page's ``next`` resumes later.
- taxii2-client against a real uvicorn server on loopback: discovery, collections, as_pages over
  objects and manifest, add_objects, status, versions, get and delete an object.
- PostgreSQL: writers of object versions commit in seq order (a reader never sees seq n+1 before n).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import ApiRoot, Server, as_pages

from scheldt.api.app import create_app
from scheldt.domain.access import Organisation, OrgKind, Principal, Role
from scheldt.domain.exchange import Tlp
from scheldt.errors import InputError
from scheldt.exchange.federation import BearerAuth
from scheldt.exchange.items import Alert, Container, Meta, Party, Reason, VesselCall
from scheldt.exchange.items import Consignment as StixConsignment
from scheldt.exchange.objects import SHARING_EXTENSION_ID, TLP_MARKING_IDS, Sharing, identity_id
from scheldt.exchange.stix_mapping import WATCH_EXTENSION_ID, to_stix
from scheldt.store.db import unit_of_work
from scheldt.store.models import OrganisationRow, UserRow
from scheldt.workflows import share
from scheldt.workflows.accounts import secret_hash
from scheldt.workflows.sharing import ingest_objects, same_version
from scheldt.workflows.taxii import COMMUNITY, CursorCodec, collection_id, cursor_codec
from tests.exchange.taxii_nodes import PASSWORD, TAXII, basic, bearer, indicator, new_version, seed, serving

ROOT = "/taxii2/scheldt"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


class Node:
    """A node's store behind a TestClient, with tokens per user."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.tokens = seed(engine, passwords=("be-analyst", "us-liaison"))
        with unit_of_work(engine) as uow:
            uow.exchange.add_group("be-us", "Belgium-US narcotics", "be-customs", ["us-cbp"], NOW)
            uow.exchange.add_group("be-nl", "Belgium-Netherlands", "be-customs", ["nl-customs"], NOW)
            uow.session.execute(update(OrganisationRow).where(OrganisationRow.id == "carrier-a").values(
                client_of="be-customs"))
        self.client = TestClient(create_app(engine, workbench=False, host_org="be-customs"))  # the Belgian node

    def h(self, user: str, **extra: str) -> dict[str, str]:
        return {**bearer(self.tokens[user]), "Accept": TAXII, **extra}

    def get(self, path: str, user: str, **params: Any) -> httpx.Response:
        return self.client.get(ROOT + path, headers=self.h(user), params=params)

    def post(self, path: str, user: str, objects: list[dict[str, Any]], content_type: str = TAXII) -> httpx.Response:
        return self.client.post(ROOT + path, headers=self.h(user, **{"Content-Type": content_type}),
                                json={"objects": objects} if "taxii" in content_type else
                                {"type": "bundle", "id": "bundle--6f0f7e36-4f45-4c51-9f9b-5a8a6c1c4f10",
                                 "objects": objects})

    def store(self, objects: list[dict[str, Any]], owner: str = "be-customs", group: str | None = None) -> None:
        with unit_of_work(self.engine) as uow:
            report = ingest_objects(uow, objects, owner, "local", group, datetime.now(UTC))
        assert not report.failed, report.failed

    def walk(self, coll: str, user: str, path: str = "objects", **params: Any) -> list[list[dict[str, Any]]]:
        """Every page of a list, following ``next``."""
        pages, cursor = [], None
        while True:
            r = self.get(f"/collections/{coll}/{path}/", user, **params, **({"next": cursor} if cursor else {}))
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(body.get("objects", []))
            if not body["more"]:
                return pages
            cursor = body["next"]


@pytest.fixture
def node(engine: Engine) -> Iterator[Node]:
    made = Node(engine)
    with made.client:  # one event loop for the test's requests (a new one per request took most of its time)
        yield made


def ids(objects: list[dict[str, Any]]) -> list[str]:
    return [o["id"] for o in objects]


# --- server information and collections ----------------------------------------------------------

def test_discovery_api_root_and_collections_follow_sharing_groups(node: Node) -> None:
    r = node.client.get("/taxii2/", headers=node.h("be-analyst"))
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    body = r.json()
    assert body["title"] and body["default"] == "http://testserver/taxii2/scheldt/" == body["api_roots"][0]
    info = node.get("/", "us-liaison").json()
    assert info["versions"] == [TAXII] and info["max_content_length"] == 1024 * 1024

    def colls(user: str) -> dict[str, tuple[bool, bool]]:
        r = node.get("/collections/", user)
        assert r.status_code == 200
        out = {c["alias"]: (c["can_read"], c["can_write"]) for c in r.json()["collections"]}
        for c in r.json()["collections"]:
            assert c["id"] == collection_id(c["alias"]) and c["media_types"] == ["application/stix+json;version=2.1"]
        return out

    assert colls("be-analyst") == {COMMUNITY: (True, True), "be-us": (True, True), "be-nl": (True, True)}
    assert colls("be-scanner") == {COMMUNITY: (True, False), "be-us": (True, False), "be-nl": (True, False)}
    assert colls("us-liaison") == {COMMUNITY: (True, True), "be-us": (True, True)}
    assert colls("carrier") == {COMMUNITY: (True, False), "be-us": (True, False), "be-nl": (True, False)}
    # a client carrier is not told which agencies are in its patron's groups (attack review)
    described = {c["alias"]: c["description"] for c in node.get("/collections/", "carrier").json()["collections"]}
    assert "us-cbp" not in described["be-us"] and "nl-customs" not in described["be-nl"]
    assert "us-cbp" in {c["alias"]: c["description"] for c in node.get("/collections/", "us-liaison").json()[
        "collections"]}["be-us"]
    # Another group's collection is not revealed, by alias or id.
    for key in ("be-nl", collection_id("be-nl"), "no-such"):
        r = node.get(f"/collections/{key}/", "us-liaison")
        assert r.status_code == 404 and r.json()["http_status"] == "404"
    r = node.get(f"/collections/{collection_id('be-us')}/", "us-liaison")
    assert r.status_code == 200 and r.json()["alias"] == "be-us" and r.json()["title"] == "Belgium-US narcotics"


# --- add objects ---------------------------------------------------------------------------------

def test_add_objects_answers_202_with_a_kept_status_and_refuses_per_object(node: Node) -> None:
    good = indicator("be-customs", Tlp.AMBER, "be-us")
    plain = {"type": "indicator", "spec_version": "2.1", "id": "indicator--0f2c7a1e-3a52-4e4e-9a44-2f6c3f1d9e11",
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "pattern": "[file:name = 'x.exe']", "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}
    broken = {"type": "indicator", "spec_version": "2.1", "id": "indicator--1b2c7a1e-3a52-4e4e-9a44-2f6c3f1d9e12",
              "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"}
    elsewhere = indicator("be-customs", Tlp.AMBER, "be-nl")
    r = node.post("/collections/be-us/objects/", "be-analyst", [good, plain, broken, elsewhere, "not an object"])
    assert r.status_code == 202 and r.headers["content-type"] == TAXII
    status = r.json()
    assert status["status"] == "complete" and status["total_count"] == 5 and status["pending_count"] == 0
    assert status["success_count"] == 2 and status["failure_count"] == 3
    assert {s["id"] for s in status["successes"]} == {good["id"], plain["id"]}
    failures = {f["id"]: f["message"] for f in status["failures"]}
    assert "not valid STIX 2.1" in failures[broken["id"]]
    assert "be-nl" in failures[elsewhere["id"]]
    assert "objects[4]" in failures
    # The status is kept: readable later by the organisation that posted, by no other.
    again = node.get(f"/status/{status['id']}/", "be-officer")
    assert again.status_code == 200 and again.json() == status
    assert node.get(f"/status/{status['id']}/", "us-liaison").status_code == 404
    # The object without Scheldt's terms got the collection's group and the safe default TLP.
    with unit_of_work(node.engine) as uow:
        stored = uow.exchange.versions(None, plain["id"])[0]
    assert (stored.group_id, stored.tlp, stored.owner_org, stored.source) == (
        "be-us", "amber+strict", "be-customs", "taxii:be-analyst")
    # a partner's user names its organisation as creator: this node relays the object to its
    # peers, which took one without a creator as this node's (a federation review's US object
    # became Belgian on the US node)
    theirs = dict(plain, id="indicator--2c3d7a1e-3a52-4e4e-9a44-2f6c3f1d9e13")
    named = dict(plain, id="indicator--3d4e7a1e-3a52-4e4e-9a44-2f6c3f1d9e14", created_by_ref=identity_id("us-cbp"))
    # and one naming no one known here (a regression review)
    nobody = dict(plain, id="indicator--4e5f7a1e-3a52-4e4e-9a44-2f6c3f1d9e15",
                  created_by_ref="identity--11111111-1111-4111-8111-111111111111")
    r = node.post("/collections/be-us/objects/", "us-liaison", [theirs, named, nobody])
    failures = {f["id"]: f["message"] for f in r.json()["failures"]}
    assert r.json()["success_count"] == 1 and set(failures) == {theirs["id"], nobody["id"]}
    assert failures[theirs["id"]] == (
        "created_by_ref: missing: this node relays what us-cbp posts here to its peers, which take an object "
        "without us-cbp's creator as this node's; name us-cbp's identity: "
        f"\"created_by_ref\": \"{identity_id('us-cbp')}\"")
    assert failures[nobody["id"]].startswith("created_by_ref: 'identity--11111111-1111-4111-8111-111111111111' is not "
                                             "us-cbp's identity")

    # Re-sent: already stored, a success. A bundle as application/stix+json is taken too.
    r = node.post("/collections/be-us/objects/", "be-analyst", [good], "application/stix+json;version=2.1")
    assert r.status_code == 202 and r.json()["successes"][0]["message"] == "already stored"
    # Another organisation may not version our object.
    r = node.post("/collections/be-us/objects/", "us-liaison", [new_version(good, name="taken over")])
    assert r.json()["failure_count"] == 1 and "only its originator" in r.json()["failures"][0]["message"]
    assert "be-customs's object" in r.json()["failures"][0]["message"]  # us-liaison may see it
    # ... and an object it may not see is not said to be be-customs's (no probing whose it is).
    hidden = indicator("be-customs", Tlp.AMBER, "be-nl")
    node.store([hidden])
    r = node.post("/collections/be-us/objects/", "us-liaison", [new_version(hidden, name="probe")])
    message = r.json()["failures"][0]["message"]
    assert "another organisation's object" in message and "be-customs" not in message
    # No write access: 403 (audited as denied); wrong media type 415; broken JSON 400.
    assert node.post("/collections/be-us/objects/", "be-scanner", [good]).status_code == 403
    assert node.post("/collections/be-us/objects/", "carrier", [good]).status_code == 403
    r = node.post("/collections/be-us/objects/", "be-analyst", [good], "application/json")
    assert r.status_code == 415 and r.json()["title"] == "Unsupported Media Type"
    r = node.client.post(ROOT + "/collections/be-us/objects/", content=b"{nope",
                         headers=node.h("be-analyst", **{"Content-Type": TAXII}))
    assert r.status_code == 400 and r.json()["details"]["where"] == "body"


def test_a_green_or_clear_object_goes_to_the_community_collection_not_a_group_s(node: Node) -> None:
    """A federation review posted a TLP:GREEN object (no group named) to be-us's collection: it
    was kept "green, be-us", which the REST API refuses: in no collection a community member
    reads over TAXII, yet shown to them by the REST API, the workbench and MISP. Refused there,
    as one naming be-us is; in the community collection it is the community's."""
    plain = indicator("us-cbp", Tlp.GREEN, None, name="Umbrella Cargo Ltd")
    del plain["extensions"]  # as another tool writes it
    plain["object_marking_refs"] = [TLP_MARKING_IDS[Tlp.GREEN]]
    named = indicator("us-cbp", Tlp.CLEAR, "be-us", name="named")
    status = node.post("/collections/be-us/objects/", "us-liaison", [plain, named]).json()
    assert status["success_count"] == 0 and {f["id"]: f["message"] for f in status["failures"]} == {
        plain["id"]: "TLP:GREEN reaches the whole community, not the sharing group 'be-us': post it to the community "
                     "collection, or mark it AMBER+STRICT for the group's agencies",
        named["id"]: f"{named['id']}.extensions.sharing_group: TLP:CLEAR reaches the whole community, not the "
                     "sharing group 'be-us': leave the group out, or mark it AMBER+STRICT for the group's agencies"}
    with unit_of_work(node.engine) as uow:
        assert uow.exchange.page(None) == []
    status = node.post("/collections/community/objects/", "us-liaison", [plain]).json()
    assert status["success_count"] == 1
    with unit_of_work(node.engine) as uow:
        assert [(o.tlp, o.group_id) for o in uow.exchange.page(None)] == [("green", None)]
    assert [o["id"] for o in node.get("/collections/community/objects/", "be-analyst").json()["objects"]] == [
        plain["id"]]


def test_add_objects_holds_to_the_terms_the_rest_api_sets(node: Node) -> None:
    """An access review posted, as a partner's liaison officer, a copy of an alert marked
    TLP:CLEAR (and RED to a carrier's user): shipping lines read its risk score and reasons. It
    also named a user of an agency outside the sharing group as RED recipient. The REST API
    refuses each; Add Objects now does too, and keeps the rest of the envelope."""
    from dataclasses import replace

    from scheldt.exchange.stix_mapping import to_stix
    from tests.exchange.test_stix_mapping import example_alert

    def alert(tlp: Tlp, group: str | None, recipients: tuple[tuple[str, str], ...] = (),
              declared: str = "alert") -> list[dict[str, Any]]:
        base = example_alert()
        sharing = replace(base.meta.sharing, tlp=tlp, group=group, recipients=recipients)
        meta = replace(base.meta, stix_id=f"grouping--{uuid.uuid4()}", created_by=identity_id("us-cbp"),
                       sharing=sharing)
        objects = json.loads(json.dumps(to_stix(replace(base, meta=meta))))
        for o in objects:
            o["extensions"][SHARING_EXTENSION_ID]["kind"] = declared
        return objects

    cases = {
        "clear": (alert(Tlp.CLEAR, None), "no shipping line or terminal may read: TLP:CLEAR reaches them"),
        "amber": (alert(Tlp.AMBER, "be-us"), "TLP:AMBER reaches them"),
        # declared as a plain object, but it is an alert all the same
        "disguised": (alert(Tlp.CLEAR, None, declared="other"), "TLP:CLEAR reaches them"),
        "red to a carrier": (alert(Tlp.RED, "be-us", (("carrier-a", "carrier"),)),
                             "carrier-a/carrier: carrier-a is a carrier: this item goes to agencies only"),
    }
    for name, (objects, why) in cases.items():
        group = objects[0]["extensions"][SHARING_EXTENSION_ID].get("sharing_group")
        r = node.post(f"/collections/{group or 'community'}/objects/", "us-liaison", objects)
        status = r.json()
        # the alert and its parts (container, consignment, vessel call: by what they are; the
        # parties and their location by the kind declared) are refused
        refused = {f["id"]: f["message"] for f in status["failures"]}
        assert r.status_code == 202 and objects[0]["id"] in refused and why in refused[objects[0]["id"]], (name, status)
        parts = [o["id"] for o in objects if o["type"] == "grouping" or o["type"].startswith("scheldt-")]
        assert len(parts) == 4 and set(parts) <= set(refused), (name, status)
        if name != "disguised":
            assert status["success_count"] == 0, (name, status)
    outside = indicator("us-cbp", Tlp.RED, "be-us", recipients=(("nl-customs", "nl-analyst"),))
    r = node.post("/collections/be-us/objects/", "us-liaison", [outside])
    assert "nl-customs/nl-analyst: nl-customs is not a member of the sharing group be-us" in \
        r.json()["failures"][0]["message"]
    # an exchange review: a carrier read an AMBER entry watching a competitor's container
    watched = indicator("us-cbp", Tlp.AMBER, "be-us", kind="watchlist-entry")
    watched["extensions"][WATCH_EXTENSION_ID] = {"extension_type": "property-extension", "entry_kind": "container",
                                                 "container_number": "NARU3472484"}
    r = node.post("/collections/be-us/objects/", "us-liaison", [watched])
    assert "a watchlist entry for a container names a shipping line's box" in r.json()["failures"][0]["message"]
    for reader in ("carrier", "nl-analyst"):
        seen = {o["id"] for c in ("be-us", COMMUNITY) for page in _readable(node, c, reader) for o in page}
        assert not seen & ({objs[0]["id"] for objs, _ in cases.values()} | {outside["id"], watched["id"]}), reader
    fine = alert(Tlp.RED, "be-us", (("be-customs", "be-officer"),))
    r = node.post("/collections/be-us/objects/", "us-liaison", fine)
    assert r.json()["failure_count"] == 0 and r.json()["success_count"] == len(fine)


def _readable(node: Node, collection: str, user: str) -> list[list[dict[str, Any]]]:
    """The pages of a collection ``user`` reads, or none where it may not read the collection."""
    r = node.get(f"/collections/{collection}/", user)
    return node.walk(collection, user) if r.status_code == 200 else []


# --- filters and paging --------------------------------------------------------------------------

def test_filters_headers_and_paging(node: Node) -> None:
    a = indicator("be-customs", Tlp.AMBER, "be-us", name="a")
    a2 = new_version(a, name="a, corrected")
    a3 = new_version(a2, name="a, corrected again")
    b = indicator("be-customs", Tlp.AMBER, "be-us", name="b")
    sighting = {"type": "sighting", "spec_version": "2.1", "id": "sighting--5e1f3c8e-2b6d-4e7b-8a2c-7d4c2b1a9f00",
                "created": "2026-01-02T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
                "sighting_of_ref": a["id"], "created_by_ref": identity_id("us-cbp")}
    node.store([a, b])
    mid = datetime.now(UTC)
    time.sleep(0.01)
    node.store([a2, a3])
    node.store([sighting], owner="us-cbp", group="be-us")

    def get(**params: Any) -> httpx.Response:
        r = node.get("/collections/be-us/objects/", "us-liaison", **params)
        assert r.status_code == 200, r.text
        return r

    latest = get().json()["objects"]
    assert [(o["id"], o.get("name")) for o in latest] == [(b["id"], "b"), (a["id"], "a, corrected again"),
                                                          (sighting["id"], None)]
    assert len(get(**{"match[version]": "all"}).json()["objects"]) == 5
    assert [o["name"] for o in get(**{"match[version]": "first", "match[id]": a["id"]}).json()["objects"]] == ["a"]
    assert [o.get("name") for o in get(**{"match[version]": "first,last", "match[id]": a["id"]}).json()["objects"]] \
        == ["a", "a, corrected again"]
    assert [o["name"] for o in get(**{"match[version]": a2["modified"]}).json()["objects"]] == ["a, corrected"]
    assert ids(get(**{"match[type]": "sighting"}).json()["objects"]) == [sighting["id"]]
    assert ids(get(**{"match[type]": "sighting,indicator", "match[id]": f"{b['id']},{sighting['id']}"})
               .json()["objects"]) == [b["id"], sighting["id"]]
    assert "objects" not in get(**{"match[spec_version]": "2.0"}).json()
    assert len(get(**{"match[spec_version]": "2.0,2.1"}).json()["objects"]) == 3
    # added_after is exclusive, on date_added; the headers name the page's first and last date_added.
    r = get(added_after=mid.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **{"match[version]": "all"})
    assert ids(r.json()["objects"]) == [a["id"], a["id"], sighting["id"]]
    first, last = r.headers["X-TAXII-Date-Added-First"], r.headers["X-TAXII-Date-Added-Last"]
    assert mid.strftime("%Y-%m-%dT%H:%M:%S.%fZ") < first <= last
    assert "objects" not in get(added_after=last).json()
    manifest = node.get("/collections/be-us/manifest/", "us-liaison", **{"match[version]": "all"}).json()
    assert [(m["id"], m["version"]) for m in manifest["objects"]] == [
        (a["id"], a["modified"]), (b["id"], b["modified"]), (a["id"], a2["modified"]), (a["id"], a3["modified"]),
        (sighting["id"], sighting["modified"])]
    assert all(m["media_type"] == "application/stix+json;version=2.1" and m["date_added"].endswith("Z")
               for m in manifest["objects"])
    # Paging: full pages, the last one shorter, next from one page continues the walk.
    pages = node.walk("be-us", "us-liaison", limit=2, **{"match[version]": "all"})
    assert [len(p) for p in pages] == [2, 2, 1]
    # Bad parameters are 400 naming the parameter.
    for params, where in (({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"next": "garbage"}, "next"),
                          ({"added_after": "yesterday"}, "added_after"),
                          ({"match[version]": "2026-13-01T00:00:00Z"}, "match[version]")):
        r = node.get("/collections/be-us/objects/", "us-liaison", **params)
        assert r.status_code == 400 and r.json()["details"]["where"] == where, (params, r.text)
    # A limit above the largest page is served as the largest page.
    assert get(limit="100000").status_code == 200


def test_an_object_its_versions_and_deletion_by_the_originator_only(node: Node) -> None:
    a = indicator("be-customs", Tlp.AMBER, "be-us")
    a2 = new_version(a, name="second")
    secret = indicator("be-customs", Tlp.AMBER, "be-nl")
    node.store([a, a2, secret])
    r = node.get(f"/collections/be-us/objects/{a['id']}/", "us-liaison")
    assert r.status_code == 200 and [o["name"] for o in r.json()["objects"]] == ["second"]
    assert "X-TAXII-Date-Added-First" in r.headers
    r = node.get(f"/collections/be-us/objects/{a['id']}/", "us-liaison", **{"match[version]": "all"})
    assert len(r.json()["objects"]) == 2
    r = node.get(f"/collections/be-us/objects/{a['id']}/versions/", "us-liaison")
    assert r.json()["versions"] == [a["modified"], a2["modified"]] and r.json()["more"] is False
    assert [len(v) for v in [node.get(f"/collections/be-us/objects/{a['id']}/versions/", "us-liaison",
                                      limit=1).json()["versions"]]] == [1]
    # An object of a collection one may not see, or of another collection: 404.
    assert node.get(f"/collections/be-us/objects/{secret['id']}/", "us-liaison").status_code == 404
    assert node.get(f"/collections/be-us/objects/{secret['id']}/versions/", "be-analyst").status_code == 404
    # Deletion: another organisation 403 (and nothing deleted), the originator 200.
    r = node.client.delete(f"{ROOT}/collections/be-us/objects/{a['id']}/", headers=node.h("us-liaison"))
    assert r.status_code == 403 and "only its originator" in r.json()["description"]
    r = node.client.delete(f"{ROOT}/collections/be-us/objects/{a['id']}/", headers=node.h("be-officer"),
                           params={"match[version]": "first"})
    assert r.status_code == 200
    assert node.get(f"/collections/be-us/objects/{a['id']}/versions/", "us-liaison").json()["versions"] == [
        a2["modified"]]
    r = node.client.delete(f"{ROOT}/collections/be-us/objects/{a['id']}/", headers=node.h("be-officer"))
    assert r.status_code == 200
    assert node.get(f"/collections/be-us/objects/{a['id']}/", "us-liaison").status_code == 404
    assert node.client.delete(f"{ROOT}/collections/be-us/objects/{a['id']}/",
                              headers=node.h("be-officer")).status_code == 404
    # Tombstones: both versions, to those who could see them.
    body = node.get("/collections/be-us/deleted/", "us-liaison").json()
    assert [(d["id"], d["version"]) for d in body["deleted"]] == [(a["id"], a["modified"]), (a["id"], a2["modified"])]
    assert node.get("/collections/be-us/deleted/", "us-liaison", next=body["next"]).json() == {
        "more": False, "next": body["next"]}


def test_deleting_an_alert_deletes_its_parts_too(node: Node) -> None:
    """A review deleted a GREEN alert over TAXII: the grouping went, but its container,
    consignment and vessel call stayed readable by every agency (a withdrawal takes them)."""
    now = datetime.now(UTC).replace(microsecond=0)
    meta = Meta(f"grouping--{uuid.uuid4()}", identity_id("be-customs"), now, now, Sharing("alert", Tlp.GREEN, None))
    alert = Alert(meta, "Container MSCU1234566", (Reason("officer", "seen twice"),), container=Container("MSCU1234566"),
                  consignment=StixConsignment("BL-1", consignee="ACME BV"), vessel_call=VesselCall("9321483"),
                  parties=(Party("ACME BV", role="consignee"),))
    objects = to_stix(alert)
    node.store(objects)
    ids = sorted(o["id"] for o in objects)
    readable = [o["id"] for page in node.walk("community", "nl-analyst") for o in page]
    assert sorted(readable) == ids and len(ids) == 5  # the grouping, its container, consignment, vessel call, party
    r = node.client.delete(f"{ROOT}/collections/community/objects/{alert.meta.stix_id}/", headers=node.h("be-officer"))
    assert r.status_code == 200
    assert [o for page in node.walk("community", "nl-analyst") for o in page] == []
    deleted = node.get("/collections/community/deleted/", "nl-analyst").json()["deleted"]
    assert sorted(d["id"] for d in deleted) == ids


def test_deleting_a_watchlist_entry_takes_it_out_of_the_watchlist_store(node: Node) -> None:
    us = Principal("us-liaison", Organisation("us-cbp", "US CBP", OrgKind.AGENCY, ()), frozenset({Role.LIAISON_OFFICER}))
    with unit_of_work(node.engine) as uow:
        out = share.share_watchlist_entry(uow, us, "company", "front company", share.Terms("green", None, "", "A", "1"),
                                          NOW, name="Front Ltd")
        landed = [e.entry_id for e in uow.watchlists.entries()]
    r = node.client.delete(f"{ROOT}/collections/{COMMUNITY}/objects/{out['id']}/", headers=node.h("us-liaison"))
    assert r.status_code == 200, r.text
    with unit_of_work(node.engine) as uow:
        assert landed == [out["id"]] and uow.watchlists.entries() == []


# --- media types, errors, authentication, audit --------------------------------------------------

def test_media_types_errors_and_authentication(node: Node) -> None:
    c = node.client
    url = ROOT + "/collections/"
    token = node.tokens["us-liaison"]
    for accept in (None, "*/*", "application/*", "application/taxii+json", TAXII,
                   "text/html;q=0.9, application/taxii+json;version=2.1"):
        headers = bearer(token) | ({"Accept": accept} if accept else {})
        assert c.get(url, headers=headers).status_code == 200, accept
    for accept in ("application/taxii+json;version=2.0", "application/json", "text/html",
                   "application/taxii+json;q=0"):
        r = c.get(url, headers=bearer(token) | {"Accept": accept})
        assert r.status_code == 406, accept
        error = r.json()
        assert r.headers["content-type"] == TAXII
        assert error["title"] == "Not Acceptable" and error["http_status"] == "406" and error["description"]
    # A body over 1 MiB is refused before routing, as the error resource too (a review got the
    # REST API's error body, which a TAXII client cannot read); by Content-Length and chunked.
    objects_url = f"{ROOT}/collections/{collection_id('be-us')}/objects/"
    big = b'{"objects": [' + b'{"type": "indicator"},' * 60_000 + b'{}]}'
    post = bearer(token) | {"Content-Type": TAXII, "Accept": TAXII}
    for content in (big, iter([big[:700_000], big[700_000:]])):
        r = c.post(objects_url, content=content, headers=post)
        assert (r.status_code, r.headers["content-type"]) == (413, TAXII)
        assert r.json()["http_status"] == "413" and r.json()["details"]["where"] == "body"
    # Unknown endpoints, wrong methods, missing trailing slash.
    r = c.get("/taxii2/scheldt/nothing/here/", headers=bearer(token))
    assert r.status_code == 404 and r.json()["http_status"] == "404"
    r = c.put(url, headers=bearer(token))
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"  # HEAD is answered too (a review)
    assert c.head(url, headers=bearer(token)).status_code == 200
    r = c.get("/taxii2/scheldt/collections", headers=bearer(token), follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"].endswith("/taxii2/scheldt/collections/")
    assert c.get("/taxii2/other-root/", headers=bearer(token)).status_code == 404
    # Authentication: Basic, Bearer and Token; refusals are 401 with both challenges.
    assert c.get(url, headers=basic("us-liaison")).status_code == 200
    assert c.get(url, headers=basic("us-liaison")).status_code == 200  # remembered: no second argon2 check
    assert c.get(url, headers={"Authorization": f"Token {token}"}).status_code == 200
    for headers in ({}, basic("us-liaison", "wrong password"), basic("nobody"), {"Authorization": "Basic !!"},
                    bearer("sct_not-a-token"), {"Authorization": "Digest abc"}):
        r = c.get(url, headers=headers)
        assert r.status_code == 401, headers
        assert r.headers.get_list("www-authenticate") == ['Basic realm="scheldt-taxii", charset="UTF-8"',
                                                          'Bearer realm="scheldt-taxii"']
        assert r.json()["title"] == "Unauthorized"
    with unit_of_work(node.engine) as uow:
        uow.session.execute(update(UserRow).where(UserRow.username == "us-liaison").values(active=False))
    assert c.get(url, headers=basic("us-liaison")).status_code == 401
    assert c.get(url, headers=bearer(token)).status_code == 401


def test_a_body_too_large_is_audited_under_basic_and_token_credentials_too(node: Node) -> None:
    """A review: a TAXII client's envelope over 1 MiB, refused before routing, was audited only
    when it came with 'Authorization: Bearer'; with HTTP Basic or 'Token' (both TAXII's) it left
    no trace. Unknown credentials leave none (nothing names a user)."""
    url = f"{ROOT}/collections/{collection_id('be-us')}/objects/"
    big = b'{"objects": [' + b'{"type": "indicator"},' * 60_000 + b'{}]}'
    media = {"Content-Type": TAXII, "Accept": TAXII}
    with unit_of_work(node.engine) as uow:
        before = uow.audit.count()
    for credentials in (basic("us-liaison"), {"Authorization": f"Token {node.tokens['be-analyst']}"},
                        {"Authorization": "Token not-a-token"}):
        assert node.client.post(url, content=big, headers=credentials | media).status_code == 413
    with unit_of_work(node.engine) as uow:
        entries = uow.audit.entries(after_seq=before, limit=100)
    assert [(e.kind, e.payload["actor"], e.payload["details"]) for e in entries if e.kind == "denied"] == [
        ("denied", "us-liaison", {"status": 413, "where": "body"}),
        ("denied", "be-analyst", {"status": 413, "where": "body"})]


def test_every_read_write_and_refusal_is_audited(node: Node) -> None:
    a = indicator("be-customs", Tlp.AMBER, "be-us")
    with unit_of_work(node.engine) as uow:
        before = uow.audit.count()
    assert node.post("/collections/be-us/objects/", "be-analyst", [a]).status_code == 202
    assert node.get("/collections/be-us/objects/", "us-liaison").status_code == 200
    assert node.get("/collections/be-us/manifest/", "us-liaison").status_code == 200
    assert node.get(f"/collections/be-us/objects/{a['id']}/versions/", "us-liaison").status_code == 200
    assert node.get("/collections/be-nl/objects/", "us-liaison").status_code == 404
    assert node.get("/collections/be-us/objects/", "us-liaison", added_after="yesterday").status_code == 400
    with unit_of_work(node.engine) as uow:
        entries = uow.audit.entries(after_seq=before, limit=100)
        assert uow.audit.verify().ok
    got = [(e.kind, e.payload["object_kind"], e.payload["actor"]) for e in entries]
    assert got == [("write", "taxii-add-objects", "be-analyst"), ("read", "taxii-objects", "us-liaison"),
                   ("read", "taxii-manifest", "us-liaison"), ("read", "taxii-object-versions", "us-liaison"),
                   ("denied", "taxii", "us-liaison"), ("denied", "taxii", "us-liaison")]  # 404, then 400
    assert entries[-1].payload["details"]["status"] == 400  # an audit review: 400s left no trace
    assert entries[1].payload["details"]["ids"] == [a["id"]]
    assert entries[1].payload["action"] == f"GET {ROOT}/collections/be-us/objects/"
    with unit_of_work(node.engine) as uow:
        token_ids = {u: uow.accounts.credential(secret_hash(node.tokens[u]))["id"] for u in ("be-analyst", "us-liaison")}
    assert [e.payload["credential"] for e in entries] == [f"token {token_ids[e.payload['actor']]}" for e in entries]
    signed = node.client.get(ROOT + "/collections/", headers={**basic("us-liaison", PASSWORD), "Accept": TAXII})
    assert signed.status_code == 200
    with unit_of_work(node.engine) as uow:
        (basic_entry,) = uow.audit.entries(after_seq=entries[-1].seq, limit=100)
    assert (basic_entry.payload["actor"], basic_entry.payload["credential"]) == ("us-liaison", "password")
    entries.append(basic_entry)
    # refused credentials are audited too (an access review guessed Basic passwords and tokens
    # and the log showed nothing)
    for headers in (basic("be-analyst", "guess"), basic("nobody", "guess"), bearer("sct_guess")):
        r = node.client.get(ROOT + "/collections/", headers={**headers, "Accept": TAXII})
        assert r.status_code == 401
    assert node.client.get("/api/v1/trips", headers=bearer("sct_guess")).status_code == 401
    with unit_of_work(node.engine) as uow:
        failed = [e for e in uow.audit.entries(after_seq=entries[-1].seq, limit=100)]
        assert uow.audit.verify().ok
    assert [(e.kind, e.payload["object_kind"], e.payload["object_id"], e.payload["action"]) for e in failed] == [
        ("sign-in-failed", "user", "be-analyst", f"GET {ROOT}/collections/"),
        ("sign-in-failed", "user", "", f"GET {ROOT}/collections/"),  # an unknown name is not kept
        ("sign-in-failed", "api-token", "", f"GET {ROOT}/collections/"),
        ("sign-in-failed", "api-token", "", "GET /api/v1/trips")]


# --- access before paging, stable cursors --------------------------------------------------------

def test_pages_hold_only_visible_objects_and_are_full_until_the_last(node: Node) -> None:
    objects = []
    for i in range(30):
        tlp = [Tlp.AMBER, Tlp.RED, Tlp.AMBER_STRICT, Tlp.AMBER, Tlp.AMBER_STRICT][i % 5]  # GREEN, CLEAR: the community
        recipients = (("us-cbp", "us-liaison" if i % 2 else "us-officer"),) if tlp == Tlp.RED else ()
        objects.append(indicator("be-customs", tlp, "be-us", recipients=recipients, name=f"n{i}"))
    node.store(objects)
    node.store([indicator("nl-customs", Tlp.AMBER, "be-nl")], owner="nl-customs")
    visible = [o["id"] for i, o in enumerate(objects) if not (i % 5 == 1 and i % 2 == 0)]
    for limit in (1, 4, 7, 100):
        pages = node.walk("be-us", "us-liaison", limit=limit)
        assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit
        assert [o["id"] for p in pages for o in p] == visible
    manifest = node.walk("be-us", "us-liaison", path="manifest", limit=4)
    assert [m["id"] for p in manifest for m in p] == visible


def test_pages_serve_objects_as_stored_and_granular_markings_per_requester(node: Node) -> None:
    """A page splices each object's stored JSON into the envelope unparsed; an object with
    granular markings is parsed and the fields a requester may not see are removed (the RED
    description names us-liaison only), in a list page and in Get an Object alike."""
    plain = indicator("be-customs", Tlp.AMBER, "be-us", name="plain")
    marked = indicator("be-customs", Tlp.AMBER, "be-us", recipients=(("us-cbp", "us-liaison"),), name="marked")
    marked["description"] = "source: a dock worker at the Deurganck terminal"
    marked["granular_markings"] = [{"marking_ref": TLP_MARKING_IDS[Tlp.RED], "selectors": ["description"]}]
    node.store([plain, marked])
    with unit_of_work(node.engine) as uow:
        stored = {o.stix_id: o.object for o in uow.exchange.page(None)}
    for path in ("/collections/be-us/objects/", f"/collections/be-us/objects/{marked['id']}/"):
        liaison = {o["id"]: o for o in node.get(path, "us-liaison").json()["objects"]}
        officer = {o["id"]: o for o in node.get(path, "us-officer").json()["objects"]}
        assert liaison[marked["id"]] == stored[marked["id"]]
        assert liaison[marked["id"]]["description"] == marked["description"]
        hidden = officer[marked["id"]]
        assert "description" not in hidden and "granular_markings" not in hidden and hidden["name"] == "marked"
    everything = node.get("/collections/be-us/objects/", "us-officer").json()["objects"]
    assert [o["id"] for o in everything] == [plain["id"], marked["id"]]
    assert everything[0] == stored[plain["id"]]


def test_cursors_stay_valid_while_objects_arrive(node: Node) -> None:
    first = [indicator("be-customs", Tlp.AMBER, "be-us", name=f"n{i}") for i in range(5)]
    node.store(first)
    page = node.get("/collections/be-us/objects/", "us-liaison", limit=3).json()
    assert page["more"] is True and ids(page["objects"]) == ids(first[:3])
    # Meanwhile: new objects, and one relayed late whose modified is older than all the rest.
    late = indicator("be-customs", Tlp.AMBER, "be-us", modified=datetime(2020, 1, 1, tzinfo=UTC))
    late["created"] = late["modified"]
    more = [indicator("be-customs", Tlp.AMBER, "be-us", name="new"), late]
    node.store(more)
    rest = node.get("/collections/be-us/objects/", "us-liaison", limit=10, next=page["next"]).json()
    assert ids(rest["objects"]) == ids(first[3:] + more) and rest["more"] is False
    # The last page's next resumes later: nothing now, the next arrival then.
    again = node.get("/collections/be-us/objects/", "us-liaison", next=rest["next"]).json()
    assert again == {"more": False, "next": rest["next"]}
    one = indicator("be-customs", Tlp.AMBER, "be-us", name="later")
    node.store([one])
    assert ids(node.get("/collections/be-us/objects/", "us-liaison", next=rest["next"]).json()["objects"]) == [one["id"]]
    with unit_of_work(node.engine) as uow:
        codec = cursor_codec(uow)
    assert codec.decode(codec.encode(123)) == 123 and codec.decode(page["next"]) == codec.decode(page["next"])


def test_a_cursor_does_not_tell_a_partner_how_many_objects_it_may_not_see(node: Node) -> None:
    """``next`` was the plain seq of the page's last version, and seqs count every
    organisation's objects: between two of its pages a partner could count the versions hidden
    from it. Now it is encrypted with the node's key: the same position gives the same value,
    another node's key reads nothing from it, and a changed character is refused."""
    shown = indicator("be-customs", Tlp.AMBER, "be-us", name="shown")
    node.store([shown])
    node.store([indicator("be-customs", Tlp.AMBER, "be-nl", name=f"hidden {i}") for i in range(5)])
    node.store([indicator("be-customs", Tlp.AMBER, "be-us", name="shown too")])
    first = node.get("/collections/be-us/objects/", "us-liaison", limit=1).json()
    second = node.get("/collections/be-us/objects/", "us-liaison", limit=1, next=first["next"]).json()
    with unit_of_work(node.engine) as uow:
        codec = cursor_codec(uow)
    assert codec.decode(second["next"]) - codec.decode(first["next"]) == 6  # five hidden between
    assert len(first["next"]) == 16 and first["next"] != second["next"]
    other = CursorCodec.from_secret(b"another node's key")
    assert [other.encode(p) for p in (1, 2)] != [codec.encode(p) for p in (1, 2)]
    with pytest.raises(InputError):
        other.decode(first["next"])
    tampered = first["next"][:-2] + ("AA" if first["next"][-2:] != "AA" else "BB")
    r = node.get("/collections/be-us/objects/", "us-liaison", next=tampered)
    assert r.status_code == 400 and r.json()["details"]["where"] == "next"


# --- taxii2-client against a real server ---------------------------------------------------------

def test_taxii2_client_pages_adds_and_deletes_against_a_real_server(node: Node) -> None:
    objects = [indicator("be-customs", Tlp.AMBER, "be-us", name=f"n{i}") for i in range(23)]
    node.store(objects)
    hidden = indicator("be-customs", Tlp.RED, "be-us", recipients=(("us-cbp", "us-officer"),))
    node.store([hidden])
    with serving(node.engine) as base:
        server = Server(f"{base}/taxii2/", user="us-liaison", password=PASSWORD)
        assert server.title.startswith("Scheldt") and server.default is server.api_roots[0]
        root = server.default
        assert root.versions == [TAXII] and root.max_content_length == 1024 * 1024
        coll = next(c for c in root.collections if c.alias == "be-us")
        assert coll.can_read and coll.can_write and coll.id == collection_id("be-us")
        pages = list(as_pages(coll.get_objects, per_request=5))
        assert [len(p["objects"]) for p in pages] == [5, 5, 5, 5, 3]
        assert [o["id"] for p in pages for o in p["objects"]] == ids(objects)
        manifest = list(as_pages(coll.get_manifest, per_request=10))
        assert [len(p["objects"]) for p in manifest] == [10, 10, 3]
        # Add objects: a Status object, complete at once; read back through get_status.
        mine = indicator("us-cbp", Tlp.AMBER, "be-us", name="from the US")
        status = coll.add_objects({"objects": [mine]})
        assert status.status == "complete" and status.success_count == 1 and bool(status)
        assert root.get_status(status.id).success_count == 1
        assert coll.get_object(mine["id"])["objects"][0]["name"] == "from the US"
        assert coll.object_versions(mine["id"])["versions"] == [mine["modified"]]
        assert coll.get_objects(type="indicator", limit=1)["more"] is True
        coll.delete_object(mine["id"])
        assert "objects" not in coll.get_objects(id=mine["id"])
        # Token authentication through a requests auth object, as taxii2-client allows.
        with_token = ApiRoot(f"{base}/taxii2/scheldt/", auth=BearerAuth(node.tokens["us-officer"]))
        seen = [o["id"] for p in as_pages(next(c for c in with_token.collections if c.alias == "be-us").get_objects,
                                          per_request=100) for o in p["objects"]]
        assert hidden["id"] in seen and len(seen) == len(objects) + 1


# --- PostgreSQL: seqs commit in order ------------------------------------------------------------

def test_page_plans_stay_flat_in_collection_size_on_postgresql(postgres_url: str) -> None:
    """The page query must not check TLP:RED recipients with a hashed subplan: that reads every
    recipient row of the requester on every page (33 ms a page at 1,000,000 objects, found by
    benchmarks/taxii_load.py). It probes the recipients' primary key per RED row instead. An
    added_after page must not read and sort every newer version (23 ms at 1,000,000)."""
    from sqlalchemy import event, text

    from scheldt.domain.exchange import Requester
    from scheldt.store.db import open_store

    engine = open_store(postgres_url, auto_upgrade=True)
    try:
        seed(engine, {"be-analyst": ("be-customs", ["analyst"])})
        with unit_of_work(engine) as uow:
            uow.exchange.add_group("be-us", "Belgium-US narcotics", "be-customs", ["us-cbp"], NOW)
        objects = [indicator("be-customs", Tlp.RED, "be-us", recipients=(("us-cbp", f"officer-{i % 50}"),))
                   for i in range(400)]
        with unit_of_work(engine) as uow:
            assert not ingest_objects(uow, objects[:200], "be-customs", "local", "be-us", NOW).failed
            # a big old part of the collection (copies, as old as the first 200), then 200 new versions
            for k in range(1, 26):
                uow.session.execute(text(
                    "INSERT INTO shared_object (stix_id, modified, modified_at, stix_type, spec_version, kind, tlp, "
                    "owner_org, group_id, handling_code, reliability, credibility, valid_from, valid_until, revoked, "
                    "object, source, date_added) SELECT stix_id || '-' || :k, modified, modified_at, stix_type, "
                    "spec_version, kind, tlp, owner_org, group_id, handling_code, reliability, credibility, valid_from, "
                    "valid_until, revoked, object, source, date_added FROM shared_object WHERE seq <= 200 ORDER BY seq"),
                    {"k": k})
        with unit_of_work(engine) as uow:
            assert not ingest_objects(uow, objects[200:], "be-customs", "local", "be-us",
                                      NOW + timedelta(seconds=1)).failed
            uow.session.execute(text("ANALYZE shared_object"))
        statements: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params)))
        liaison = Requester("us-cbp", "agency", None, "officer-7", frozenset({"be-us"}))
        with unit_of_work(engine) as uow:
            page = uow.exchange.page(liaison, group_id="be-us", after_seq=0, limit=5, as_text=True)
            assert len(page) == 5 and all(o.stix_id in {x["id"] for x in objects[7::50]} for o in page)
            sql, params = statements[-1]
            connection = uow.session.connection().connection.driver_connection
            plan = "\n".join(row[0] for row in connection.execute("EXPLAIN " + sql, params))
        assert "hashed SubPlan" not in plan and "shared_object_recipient" in plan, plan
        # added_after is a seq range too (one probe of the date_added index), not a sort of every newer version
        with unit_of_work(engine) as uow:
            page = uow.exchange.page(liaison, group_id="be-us", added_after=NOW, limit=3)
            assert [o.stix_id for o in page] == [objects[i]["id"] for i in (207, 257, 307)]
            sql, params = statements[-1]
            connection = uow.session.connection().connection.driver_connection
            plan = "\n".join(row[0] for row in connection.execute("EXPLAIN " + sql, params))
        assert "Sort  (" not in plan and "InitPlan" in plan, plan  # a Merge Append's "Sort Key" sorts nothing
    finally:
        engine.dispose()


def test_writers_of_object_versions_commit_in_seq_order_on_postgresql(postgres_url: str) -> None:
    from scheldt.store.db import open_store

    engine = open_store(postgres_url, auto_upgrade=True)
    try:
        seed(engine, {"be-analyst": ("be-customs", ["analyst"])})
        first, second = indicator("be-customs", Tlp.CLEAR, None), indicator("be-customs", Tlp.CLEAR, None)
        holding, done = threading.Event(), threading.Event()
        release = threading.Event()
        seqs: dict[str, int] = {}

        def slow_writer() -> None:
            with unit_of_work(engine) as uow:
                seqs["first"] = ingest_objects(uow, [first], "be-customs", "local", None, NOW).added[0][2]
                holding.set()
                release.wait(10)

        def quick_writer() -> None:
            with unit_of_work(engine) as uow:
                seqs["second"] = ingest_objects(uow, [second], "be-customs", "local", None, NOW).added[0][2]
            done.set()

        t1 = threading.Thread(target=slow_writer)
        t1.start()
        assert holding.wait(10)
        t2 = threading.Thread(target=quick_writer)
        t2.start()
        # The second writer waits for the first to commit: a reader meanwhile sees neither.
        assert not done.wait(1.0)
        with unit_of_work(engine) as uow:
            assert uow.exchange.page(None, limit=10) == []
        release.set()
        t1.join(10)
        t2.join(10)
        assert done.is_set() and seqs["first"] < seqs["second"]
    finally:
        engine.dispose()


def test_time_helpers() -> None:
    from scheldt.workflows.taxii import parse_timestamp, timestamp

    t = parse_timestamp("2026-03-01T12:00:00.5Z", "x")
    assert t == datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)
    assert timestamp(t) == "2026-03-01T12:00:00.500000Z"
    assert parse_timestamp("2026-03-01T12:00:00Z", "x") + timedelta(0) == datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_odd_parameters_are_refused_with_where_and_why_never_a_server_error(node: Node) -> None:
    """limit, next and NUL characters that used to give 500 (int() of '²', a cursor past the
    32-bit seq column on PostgreSQL, NUL bytes PostgreSQL text cannot hold)."""
    a = indicator("be-customs", Tlp.AMBER, "be-us")
    node.store([a])
    objects = "/collections/be-us/objects/"

    def refused(path: str, where: str, **params: Any) -> None:
        r = node.get(path, "be-analyst", **params)
        assert r.status_code == 400 and r.json()["details"]["where"] == where, (params, r.text)

    for limit in ("²", "１０", "-1", "1e3"):
        refused(objects, "limit", limit=limit)
    for limit in ("9" * 5000, "0000000001", "0" * 20 + "7"):  # more than 1000: served as 1000
        r = node.get(objects, "be-analyst", limit=limit)
        assert r.status_code == 200 and ids(r.json()["objects"]) == [a["id"]], limit
    refused(objects, "limit", limit="0" * 12)
    with unit_of_work(node.engine) as uow:
        codec = cursor_codec(uow)
    plain = base64.urlsafe_b64encode(b'{"s":2147483648}').decode().rstrip("=")  # the old, readable cursors
    for forged in (plain, "A" * 16, "A" * 15 + "=", "\u00e9" * 16, "x" * 5000):
        for path in (objects, "/collections/be-us/manifest/", "/collections/be-us/deleted/"):
            refused(path, "next", next=forged)
    r = node.get(objects, "be-analyst", next=codec.encode(2**31 - 1))
    assert r.status_code == 200 and r.json()["more"] is False and "objects" not in r.json()
    for params in ({"match[id]": "a\x00b"}, {"match[type]": "\x00"}, {"match[spec_version]": "2.1\x00"}):
        refused(objects, "query", **params)
    for path in ("/collections/be-us/objects/indicator--a%00b/", "/status/a%00b/", "/collections/be%00us/"):
        r = node.client.get(ROOT + path, headers=node.h("be-analyst"))
        assert r.status_code == 400 and r.json()["details"]["where"] == "path", (path, r.text)


def test_added_after_misses_nothing_a_writer_with_an_earlier_clock_commits_later(node: Node) -> None:
    """Writers read the clock before they take the write lock, so the one that read it later
    may commit first. A client resuming by ``added_after`` = the last page's
    X-TAXII-Date-Added-Last used to miss the version committed after it with the earlier time."""
    early = datetime.now(UTC)
    late = early + timedelta(seconds=5)
    first, second = indicator("be-customs", Tlp.AMBER, "be-us"), indicator("be-customs", Tlp.AMBER, "be-us")
    with unit_of_work(node.engine) as uow:
        ingest_objects(uow, [first], "be-customs", "local", None, late)
    r = node.get("/collections/be-us/objects/", "us-liaison")
    assert ids(r.json()["objects"]) == [first["id"]] and r.json()["more"] is False
    last = r.headers["X-TAXII-Date-Added-Last"]
    with unit_of_work(node.engine) as uow:
        ingest_objects(uow, [second], "be-customs", "local", None, early)
    for path in ("objects", "manifest"):
        r = node.get(f"/collections/be-us/{path}/", "us-liaison", added_after=last)
        assert ids(r.json().get("objects", [])) == [second["id"]], path
        assert r.headers["X-TAXII-Date-Added-First"] > last


def test_added_after_walks_an_envelope_page_by_page_from_each_page_s_date_added_last(node: Node) -> None:
    """A TAXII review: the versions of one Add Objects request all had one date_added, so a
    client reading by pages of 1 and resuming by ``added_after`` = the last page's
    X-TAXII-Date-Added-Last got ``obj0``, then an empty page with ``more`` false: ``obj1`` and
    ``obj2`` were never served. Each version now has its own date_added, growing with seq."""
    objects = [indicator("be-customs", Tlp.AMBER, "be-us", name=f"obj{i}") for i in range(3)]
    assert node.post("/collections/be-us/objects/", "be-analyst", objects).json()["success_count"] == 3
    for path in ("objects", "manifest"):
        seen, after, stamps = [], None, []
        for _ in range(4):
            resume = {"added_after": after} if after else {}
            r = node.get(f"/collections/be-us/{path}/", "us-liaison", limit=1, **resume)
            page = r.json().get("objects", [])
            if not page:
                assert r.json()["more"] is False
                break
            seen += [o["id"] for o in page]
            after = r.headers["X-TAXII-Date-Added-Last"]
            stamps.append(after)
        assert seen == ids(objects), path
        assert stamps == sorted(set(stamps)) and len(stamps) == 3  # one date_added each, growing


def test_one_version_written_with_another_precision_is_the_same_version(node: Node) -> None:
    """A TAXII review: ``modified`` 2026-01-01T00:00:00.000Z and 2026-01-01T00:00:00Z, one
    instant, were stored as two versions, the second with other content; ``match[version]=last``
    then served two objects for one id, and that timestamp both. The second is now the same
    version: refused with other content, known (added nothing) with the same."""
    a = indicator("be-customs", Tlp.AMBER_STRICT, "be-us")
    assert a["modified"] == "2026-01-01T00:00:00.000Z"
    assert node.post("/collections/be-us/objects/", "be-analyst", [a]).json()["success_count"] == 1
    other = {**a, "modified": "2026-01-01T00:00:00Z", "name": "OTHER CONTENT"}
    status = node.post("/collections/be-us/objects/", "be-analyst", [other]).json()
    assert (status["success_count"], status["failures"][0]["message"]) == (
        0, f"{a['id']}: version 2026-01-01T00:00:00.000Z is already stored here with other content; the first one "
           "received is kept (a new version needs a later modified)")
    same = {**a, "modified": "2026-01-01T00:00:00.0Z"}
    status = node.post("/collections/be-us/objects/", "be-analyst", [same]).json()
    assert [s["message"] for s in status["successes"]] == ["already stored"] and status["failure_count"] == 0
    served = node.get("/collections/be-us/objects/", "us-liaison", **{"match[version]": "all"}).json()["objects"]
    assert [(o["id"], o["modified"], o["name"]) for o in served] == [(a["id"], a["modified"], "watch this")]
    versions = node.get(f"/collections/be-us/objects/{a['id']}/versions/", "us-liaison").json()["versions"]
    assert versions == [a["modified"]]
    # a partner's object: a version in other writing is no new version of it either (the
    # originator-only rule compared the text)
    us = indicator("us-cbp", Tlp.AMBER, "be-us", name="US entry")
    node.store([us], owner="us-cbp", group="be-us")
    status = node.post("/collections/be-us/objects/", "be-analyst", [{**us, "modified": "2026-01-01T00:00:00Z"}])
    assert status.json()["success_count"] == 1  # the same version, same content: known, not a change
    assert [s["message"] for s in status.json()["successes"]] == ["already stored"]


def test_times_coarser_than_a_millisecond_are_kept_to_the_millisecond(node: Node) -> None:
    """A review left open: an object whose created and modified were to the second was stored
    and served on as sent, which STIX 2.1 §3.2 forbids ("precise to the nearest millisecond")
    and stix2-validator refuses in every bundle relayed. They are kept to the millisecond, the
    same instants; the coarse copy sent again is the same version."""
    coarse = {**indicator("be-customs", Tlp.AMBER_STRICT, "be-us"), "created": "2026-01-01T00:00:00Z",
              "modified": "2026-01-01T00:00:00.5Z"}
    first = node.post("/collections/be-us/objects/", "be-analyst", [coarse]).json()
    again = node.post("/collections/be-us/objects/", "be-analyst", [coarse]).json()
    # the status names each version as the client wrote it (a regression review matched none)
    assert [(s["version"], s["message"]) for s in first["successes"] + again["successes"]] == [
        ("2026-01-01T00:00:00.5Z", "added"), ("2026-01-01T00:00:00.5Z", "already stored")]
    assert again["failure_count"] == 0
    [served] = node.get("/collections/be-us/objects/", "us-liaison", **{"match[id]": coarse["id"]}).json()["objects"]
    assert (served["created"], served["modified"]) == ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.500Z")
    assert served == {**coarse, "created": served["created"], "modified": served["modified"]}
    result = validate_instance(served, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]
    # a version stored coarse before this (as it was) is the same version as its finer copy
    assert same_version({**served, "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00.5Z"}, served)
    assert not same_version({**served, "modified": "2026-01-01T00:00:00.6Z"}, served)
    # lower-case t and z (RFC 3339 allows them; stix2-validator does not): capitals, to the millisecond
    lower = {**indicator("be-customs", Tlp.AMBER_STRICT, "be-us", name="lower"), "created": "2026-01-02t00:00:00z",
             "modified": "2026-01-02t00:00:03.123456z"}
    assert node.post("/collections/be-us/objects/", "be-analyst", [lower]).json()["success_count"] == 1
    [served] = node.get("/collections/be-us/objects/", "us-liaison", **{"match[id]": lower["id"]}).json()["objects"]
    assert (served["created"], served["modified"]) == ("2026-01-02T00:00:00.000Z", "2026-01-02T00:00:03.123456Z")
    assert validate_instance(served, ValidationOptions(version="2.1")).is_valid
    # a failure names the version it is about, as sent (a third regression review: the last
    # version of its id in the envelope)
    status = node.post("/collections/be-us/objects/", "be-analyst", [
        {**lower, "modified": "2026-01-02t00:00:03.123456z", "name": "other content"},
        {**lower, "modified": "2026-01-02T00:00:05Z", "name": "v5"}]).json()
    assert [(s["version"], s["message"]) for s in status["successes"]] == [("2026-01-02T00:00:05Z", "added")]
    assert [f["version"] for f in status["failures"]] == ["2026-01-02t00:00:03.123456z"]


def test_an_integer_beyond_64_bits_is_refused_not_changed(node: Node) -> None:
    """A STIX review posted a tool with ``x_n`` 2**64: orjson read it as a float, and it was
    served as 1.8446744073709552e+19. Such an object is refused with where and why; the rest of
    the envelope, and 64-bit values, are kept exactly."""
    tool = {"type": "tool", "spec_version": "2.1", "id": "tool--5e6f7a1e-3a52-4e4e-9a44-2f6c3f1d9e16",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z", "name": "counter"}
    big = dict(tool, x_n=2**64)
    fits = dict(tool, id="tool--6f7a8b1e-3a52-4e4e-9a44-2f6c3f1d9e17", x_n=2**64 - 1, x_m=-(2**63))
    body = json.dumps({"objects": [big, fits]})
    status = node.client.post(ROOT + "/collections/be-us/objects/", content=body,
                              headers=node.h("be-analyst", **{"Content-Type": TAXII})).json()
    assert [s["id"] for s in status["successes"]] == [fits["id"]]
    assert [(f["id"], f["message"]) for f in status["failures"]] == [(big["id"], (
        f"{big['id']}.x_n: an integer beyond 64 bits, which JSON readers do not agree on (STIX integers are "
        "54-bit): not stored, as it would not come back as sent"))]
    r = node.get("/collections/be-us/objects/", "be-analyst", **{"match[id]": fits["id"]})
    assert '"x_n":18446744073709551615' in r.text and '"x_m":-9223372036854775808' in r.text
    # read again exactly only as deep as Python's parser goes: deeper, refused for its depth (a
    # regression review's 1,000 nested lists around a long digit run gave HTTP 500)
    deep = ('{"objects":[{"type":"tool","spec_version":"2.1","id":"tool--7a8b9c1e-3a52-4e4e-9a44-2f6c3f1d9e18",'
            '"x":' + "[" * 1000 + '"11111111111111111111"' + "]" * 1000 + "}]}")
    r = node.client.post(ROOT + "/collections/be-us/objects/", content=deep,
                         headers=node.h("be-analyst", **{"Content-Type": TAXII}))
    assert r.status_code == 202 and "levels deep" in r.json()["failures"][0]["message"]


def test_add_objects_tells_nothing_of_the_versions_of_an_object_the_requester_may_not_see(node: Node) -> None:
    """A TAXII review: a US liaison officer, who may not see a be-nl AMBER+STRICT indicator,
    posted its id with the stored ``modified`` and read "version ... is already stored here with
    other content" (and another answer for another version): the exact version stored. Every
    version of an id it may not see now gets one answer (that the id is taken, which a refusal
    cannot hide)."""
    secret = indicator("be-customs", Tlp.AMBER_STRICT, "be-nl", name="NL only")
    node.store([secret], group="be-nl")
    answers = set()
    for modified in (None, datetime(2026, 2, 2, tzinfo=UTC)):
        probe = indicator("us-cbp", Tlp.AMBER, "be-us", stix_id=secret["id"], modified=modified)
        status = node.post("/collections/be-us/objects/", "us-liaison", [probe]).json()
        assert status["success_count"] == 0
        answers.add(status["failures"][0]["message"])
    assert answers == {f"{secret['id']} is another organisation's object: only its originator makes new versions "
                       "of it"}
    # one it may see is named, and a copy of its stored version is known
    seen = indicator("be-customs", Tlp.AMBER, "be-us", name="shared")
    node.store([seen], group="be-us")
    later = new_version(seen, name="changed by the US")
    status = node.post("/collections/be-us/objects/", "us-liaison", [later]).json()
    assert status["failures"][0]["message"] == (f"{seen['id']} is be-customs's object: only its originator makes new "
                                                "versions of it")


def _capitals(marking_id: str) -> str:
    kind, _, uid = marking_id.partition("--")
    return f"{kind}--{uid.upper()}"


def test_a_tlp_marking_written_in_capitals_is_that_tlp(node: Node) -> None:
    """A sharing review: the TLP:RED marking definition's id with its UUID in capitals (the same
    id: RFC 4122, and the stix2 library takes it) was no TLP to Scheldt: a description marked
    with it (granular) was served to the whole group, and an object marked with it stored as
    the default AMBER+STRICT and read by a be-customs user it did not name."""
    red = _capitals(TLP_MARKING_IDS[Tlp.RED])
    marked = indicator("us-cbp", Tlp.AMBER_STRICT, "be-us", name="field marked")
    marked |= {"description": "informant CI-7",
               "granular_markings": [{"marking_ref": red, "selectors": ["description"]}]}
    whole = indicator("us-cbp", Tlp.RED, "be-us", recipients=(("be-customs", "be-officer"),), name="RED")
    whole["object_marking_refs"] = [red if r == TLP_MARKING_IDS[Tlp.RED] else r for r in whole["object_marking_refs"]]
    status = node.post("/collections/be-us/objects/", "us-liaison", [marked, whole]).json()
    assert status["success_count"] == 2, status
    analyst = {o["id"]: o for o in node.get("/collections/be-us/objects/", "be-analyst").json()["objects"]}
    officer = {o["id"]: o for o in node.get("/collections/be-us/objects/", "be-officer").json()["objects"]}
    assert "description" not in analyst[marked["id"]] and "description" not in officer[marked["id"]]
    assert whole["id"] not in analyst and whole["id"] in officer  # RED: the named officer only


def test_a_signed_in_user_s_406_415_and_nul_refusals_are_audited(node: Node) -> None:
    """An audit review: TAXII answered a signed-in officer's wrong Accept (406), wrong
    Content-Type on Add Objects (415) and a NUL in the path or query (400) with no audit entry,
    where the REST API records each as ``denied``."""
    with unit_of_work(node.engine) as uow:
        before = uow.audit.count()
    token = bearer(node.tokens["be-analyst"])
    answers = [
        node.client.get(ROOT + "/collections/", headers={**token, "Accept": "text/html"}).status_code,
        node.client.post(ROOT + "/collections/be-us/objects/", headers={**token, "Accept": TAXII,
                                                                      "Content-Type": "text/plain"},
                         content=b"{}").status_code,
        node.client.get(ROOT + "/collections/?x=%00", headers={**token, "Accept": TAXII}).status_code]
    with unit_of_work(node.engine) as uow:
        entries = uow.audit.entries(after_seq=before, limit=100)
        assert uow.audit.verify().ok
    assert answers == [406, 415, 400]
    assert [(e.kind, e.payload["actor"], e.payload["details"]) for e in entries] == [
        ("denied", "be-analyst", {"status": 406, "where": "header.accept"}),
        ("denied", "be-analyst", {"status": 415, "where": entries[1].payload["details"]["where"]}),
        ("denied", "be-analyst", {"status": 400, "where": "query"})]
    assert "content-type" in entries[1].payload["details"]["where"].lower()
