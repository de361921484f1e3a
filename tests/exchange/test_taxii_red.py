"""TLP:RED never leaves its sharing group, checked end to end (SQLite and PostgreSQL).

Property-based over random items (originator, TLP 2.0 level, sharing group, RED recipients) and
random sharing-group memberships: on node A, every user reads every collection it is offered
through TAXII (objects with ``match[version]=all``, manifest, each object, each object's versions),
walking small pages. What each user gets must be exactly what the one visibility policy lets it
see among the objects of the collections it is offered: never a RED object unless the user is a
named recipient or of the originating organisation (a node account: of a recipient's
organisation), and nothing it may see left out. Then node B pulls A over HTTP as one
organisation's node account: B stores only what that organisation may see on A (RED only when
it names that organisation's users), and B's own TAXII serves B's users by the same rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, update

from scheldt.api.app import create_app
from scheldt.domain.exchange import Audience, Tlp, may_see
from scheldt.exchange.federation import add_peer, pull_peer
from scheldt.store.db import open_store, unit_of_work
from scheldt.store.models import (
    OrganisationRow,
    PeerRow,
    SharedObjectRecipientRow,
    SharedObjectRow,
    SharingGroupMemberRow,
    SharingGroupRow,
)
from scheldt.store.taxii import SharedObjectDeletionRow
from scheldt.workflows.sharing import ingest_objects
from tests.exchange.taxii_nodes import ORGS, TAXII, USERS, bearer, indicator, seed, serving

AGENCIES = sorted(o for o, k in ORGS.items() if k == "agency")
NODE_USERS = {"be-node": "be-customs", "us-node": "us-cbp", "nl-node": "nl-customs"}
NOW = datetime(2026, 3, 1, tzinfo=UTC)

item = st.fixed_dictionaries({
    "owner": st.sampled_from(AGENCIES),
    "tlp": st.sampled_from(list(Tlp)),
    "group": st.sampled_from([None, "g1", "g2"]),
    "recipients": st.sets(st.sampled_from(sorted((org, user) for user, (org, _) in USERS.items())),
                          min_size=1, max_size=3),
})
memberships = st.fixed_dictionaries({"g1": st.sets(st.sampled_from(AGENCIES), max_size=3),
                                     "g2": st.sets(st.sampled_from(AGENCIES), max_size=3)})


@dataclass
class Item:
    stix_id: str
    audience: Audience


def _reset(engine: Engine, groups: dict[str, set[str]]) -> None:
    with unit_of_work(engine) as uow:
        s = uow.session
        for table in (SharedObjectDeletionRow, SharedObjectRecipientRow, SharedObjectRow, SharingGroupMemberRow,
                      SharingGroupRow, PeerRow):
            s.execute(delete(table))
        for g, members in groups.items():
            uow.exchange.add_group(g, g, "be-customs", sorted(members), NOW)


def _store(engine: Engine, drawn: list[dict[str, Any]], groups: dict[str, set[str]]) -> list[Item]:
    items, objects = [], []
    with unit_of_work(engine) as uow:
        for d in drawn:
            tlp, group = d["tlp"], d["group"]
            if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and group is None:
                group = "g1"
            if tlp in (Tlp.CLEAR, Tlp.GREEN):  # the community's, never a group's
                group = None
            recipients = tuple(sorted(d["recipients"])) if tlp == Tlp.RED else ()
            if recipients and group is not None:  # a RED object names members of its group only
                inside = tuple(r for r in recipients if r[0] in groups[group] | {"be-customs"})
                recipients, group = (inside, group) if inside else (recipients, None)
            # an organisation shares into a group it is a member of (the owner, be-customs, is in each)
            owner = d["owner"] if group is None or d["owner"] in groups[group] | {"be-customs"} else "be-customs"
            obj = indicator(owner, tlp, group, recipients=recipients, stix_id=f"indicator--{uuid.uuid4()}")
            report = ingest_objects(uow, [obj], owner, "local", None, NOW)
            assert not report.failed, report.failed
            objects.append(obj)
            items.append(Item(obj["id"], Audience(owner, tlp, group, frozenset(recipients))))
    return items


def _offered(groups: dict[str, set[str]], org: str, client_of: str | None) -> set[str | None]:
    """Groups whose collections the organisation is offered (None: community)."""
    mine = {g for g, m in groups.items() if org in m | {"be-customs"}}
    patron = {g for g, m in groups.items() if client_of in m | {"be-customs"}} if client_of else set()
    return {None} | mine | patron


def _read_everything(client: TestClient, token: str) -> dict[str, set[str]]:
    """STIX id -> how it was served (objects, manifest, object, versions), over every collection."""
    got: dict[str, set[str]] = {}
    h = {**bearer(token), "Accept": TAXII}
    root = "/taxii2/scheldt"
    colls = client.get(f"{root}/collections/", headers=h).json()["collections"]
    for c in colls:
        for path in ("objects", "manifest"):
            cursor = None
            while True:
                params = {"limit": "2", "match[version]": "all", **({"next": cursor} if cursor else {})}
                r = client.get(f"{root}/collections/{c['id']}/{path}/", headers=h, params=params)
                assert r.status_code == 200, r.text
                body = r.json()
                for o in body.get("objects", []):
                    got.setdefault(o["id"], set()).add(path)
                if not body["more"]:
                    break
                assert len(body["objects"]) == 2  # a page is short only at the end
                cursor = body["next"]
        for stix_id in [i for i, how in got.items() if "objects" in how]:
            r = client.get(f"{root}/collections/{c['id']}/objects/{stix_id}/", headers=h)
            if r.status_code == 200:
                got[stix_id].add("object")
            v = client.get(f"{root}/collections/{c['id']}/objects/{stix_id}/versions/", headers=h)
            if v.status_code == 200:
                got[stix_id].add("versions")
    return got


def _check_node(engine: Engine, client: TestClient, tokens: dict[str, str], items: list[Item],
                groups: dict[str, set[str]], client_of: str | None) -> None:
    """Every user of the node is served exactly what the policy allows in its collections."""
    for user, (org, _) in USERS.items():
        node = NODE_USERS.get(user) == org
        with unit_of_work(engine) as uow:
            requester = uow.exchange.requester(org, user, peer=None if node else False)
        offered = _offered(groups, org, client_of if org == "carrier-a" else None)
        expected = {i.stix_id for i in items if may_see(requester, i.audience) and i.audience.group in offered}
        got = _read_everything(client, tokens[user])
        assert set(got) == expected, (user, set(got) ^ expected)
        for i in items:
            if i.stix_id in got:
                assert got[i.stix_id] == {"objects", "manifest", "object", "versions"}
                if i.audience.tlp == Tlp.RED:
                    named = {o for o, _ in i.audience.recipients} if requester.peer else set()
                    assert org == i.audience.owner or (org, user) in i.audience.recipients or org in named
                    event("a RED object was served to a named recipient")


@pytest.fixture
def nodes(engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, Engine, dict[str, str], dict[str, str]]]:
    """Node A (the parametrised store) and node B (SQLite), each with the same organisations and
    users; node accounts on A for each agency's node user."""
    b = open_store(f"sqlite:///{tmp_path / 'node-b.db'}")
    tokens_a, tokens_b = seed(engine), seed(b)
    with unit_of_work(engine) as uow:
        for user, org in NODE_USERS.items():
            uow.taxii.add_node_account(user, org, NOW)
        uow.session.execute(update(OrganisationRow).where(OrganisationRow.id == "carrier-a").values(
            client_of="us-cbp"))
    try:
        yield engine, b, tokens_a, tokens_b
    finally:
        b.dispose()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(drawn=st.lists(item, min_size=1, max_size=8), groups=memberships, puller=st.sampled_from(sorted(NODE_USERS)))
def test_red_never_leaves_its_recipients_through_taxii_or_a_peers_pull(
        nodes: tuple[Engine, Engine, dict[str, str], dict[str, str]], drawn: list[dict[str, Any]],
        groups: dict[str, set[str]], puller: str) -> None:
    a, b, tokens_a, tokens_b = nodes
    _reset(a, groups)
    _reset(b, groups)
    items = _store(a, drawn, groups)
    with TestClient(create_app(a, workbench=False)) as client_a:  # one event loop for every request
        _check_node(a, client_a, tokens_a, items, groups, "us-cbp")

    # Node B pulls A as `puller`, the node account of its organisation.
    org = NODE_USERS[puller]
    with unit_of_work(a) as uow:
        as_peer = uow.exchange.requester(org, puller, peer=True)
    allowed = {i.stix_id for i in items if may_see(as_peer, i.audience) and i.audience.group in _offered(groups, org, None)}
    with serving(a) as base:
        with unit_of_work(b) as uow:
            # node A relays the other agencies' objects it holds; B takes them as theirs
            add_peer(uow, "node-a", f"{base}/taxii2/scheldt/", "be-customs", puller, "token", tokens_a[puller], None, NOW,
                     relays_for=[o for o in ORGS if o != "be-customs"])
        report = pull_peer(lambda: unit_of_work(b), "node-a")
    assert report.error == ""
    with unit_of_work(b) as uow:
        pulled = {s.stix_id: s for s in uow.exchange.page(None, limit=1000)}
    assert set(pulled) == allowed
    for stix_id, stored in pulled.items():
        source = next(i for i in items if i.stix_id == stix_id)
        assert (stored.owner_org, stored.tlp, stored.group_id) == (
            source.audience.owner, source.audience.tlp.value, source.audience.group)
        if stored.tlp == "red":
            assert org == stored.owner_org or org in {o for o, _ in source.audience.recipients}
            event("a RED object reached a recipient's node")
    # On B, the same rule serves B's users: a RED object only to its named recipients.
    pulled_items = [i for i in items if i.stix_id in pulled]
    with TestClient(create_app(b, workbench=False)) as client_b:
        _check_node(b, client_b, tokens_b, pulled_items, groups, None)
