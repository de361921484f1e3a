"""The visibility policy: the SQL query agrees with the pure TLP 2.0 rule, object by object,
over random items, organisations, sharing groups and recipients (SQLite and PostgreSQL); so do
a collection's pages, walked by cursor, whichever form the page statement takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, update

from scheldt.domain.access import Organisation, OrgKind
from scheldt.domain.exchange import Requester, Tlp, VersionFilter, may_see
from scheldt.store.db import unit_of_work
from scheldt.store.models import (
    OrganisationRow,
    SharedObjectRecipientRow,
    SharedObjectRow,
    SharingGroupMemberRow,
    SharingGroupRow,
)

ORGS = {"be-customs": "agency", "us-cbp": "agency", "nl-customs": "agency", "line-a": "carrier", "quay-1": "terminal"}
USERS = ("alice", "bob")
NOW = datetime(2026, 3, 1, tzinfo=UTC)

item = st.fixed_dictionaries({
    "owner": st.sampled_from(sorted(ORGS)),
    "tlp": st.sampled_from(list(Tlp)),
    "group": st.sampled_from([None, "g1", "g2"]),
    "recipients": st.sets(st.tuples(st.sampled_from(sorted(ORGS)), st.sampled_from(USERS)), max_size=3),
})
membership = st.fixed_dictionaries({
    "g1": st.sets(st.sampled_from(sorted(ORGS)), max_size=4),
    "g2": st.sets(st.sampled_from(sorted(ORGS)), max_size=4),
})


def _reset(engine: Engine, groups: dict[str, set[str]], client_of: str | None) -> None:
    with unit_of_work(engine) as uow:
        s = uow.session
        for table in (SharedObjectRecipientRow, SharedObjectRow, SharingGroupMemberRow, SharingGroupRow, OrganisationRow):
            s.execute(delete(table))
        for org, kind in ORGS.items():
            codes = ("SIMA",) if kind == "carrier" else ()
            terminals = ("SIMT1",) if kind == "terminal" else ()
            uow.accounts.add_organisation(Organisation(org, org, OrgKind(kind), codes, terminals), NOW)
        s.query(OrganisationRow).filter(OrganisationRow.id == "line-a").update({"client_of": client_of})
        for g, members in groups.items():
            s.add(SharingGroupRow(id=g, name=g, owner_org="be-customs", created_at=NOW))
            s.flush()
            for m in members:
                s.add(SharingGroupMemberRow(group_id=g, organisation_id=m))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(item, max_size=12), groups=membership, client_of=st.sampled_from([None, "be-customs", "us-cbp"]))
def test_sql_policy_equals_the_pure_rule(engine: Engine, items: list[dict], groups: dict[str, set[str]],
                                         client_of: str | None) -> None:
    _reset(engine, groups, client_of)
    with unit_of_work(engine) as uow:
        for i, it in enumerate(items):
            uow.exchange.add_version({
                "stix_id": f"indicator--00000000-0000-4000-8000-{i:012d}", "modified": "2026-03-01T00:00:00.000Z",
                "stix_type": "indicator", "spec_version": "2.1", "kind": "alert", "tlp": it["tlp"].value,
                "owner_org": it["owner"], "group_id": it["group"], "object": {"n": i}, "source": "local",
                "date_added": NOW}, sorted(it["recipients"]) if it["tlp"] == Tlp.RED else ())
    with unit_of_work(engine) as uow:
        for org in ORGS:
            for user in USERS:
                for peer in (False, True):
                    r = uow.exchange.requester(org, user, peer)
                    listed = {o.seq for o in uow.exchange.page(r, limit=1000)}
                    expected = {o.seq for o in uow.exchange.page(None, limit=1000)
                                if may_see(r, uow.exchange.audience(o))}
                    assert listed == expected, (org, user, peer)


PLACES = (None, "g1", "g2", "local:g3")  # None: the community
version = st.fixed_dictionaries({
    "object": st.integers(0, 5),  # versions of one object share its number
    "day": st.integers(0, 2),
    "owner": st.sampled_from(sorted(ORGS)),
    "tlp": st.sampled_from(list(Tlp)),
    "group": st.sampled_from(PLACES),
    "recipients": st.sets(st.tuples(st.sampled_from(sorted(ORGS)), st.sampled_from(USERS)), max_size=3),
    "deleted": st.booleans(),
})
memberships = st.fixed_dictionaries({g: st.sets(st.sampled_from(sorted(ORGS)), max_size=4) for g in PLACES[1:]})


def _walk(uow: object, r: Requester, place: str | None, versions: VersionFilter | None) -> list[int]:
    """Every page of ``place`` (None: the community) that ``r`` gets, three versions a page."""
    seqs: list[int] = []
    while True:
        where = {"community": True} if place is None else {"group_id": place}
        page = uow.exchange.page(r, after_seq=seqs[-1] if seqs else None, limit=3,  # type: ignore[attr-defined]
                                 versions=versions, as_text=True, **where)
        seqs += [o.seq for o in page]
        if len(page) < 3:
            return seqs


def _kept(r: Requester, place: str | None, stored: list[object], audience: object,
          versions: VersionFilter | None) -> list[int]:
    """What the pure rule lets ``r`` see of ``place``, and of it the newest version of each
    object (``versions`` last), in seq order."""
    seen = [o for o in stored if o.group_id == place and may_see(r, audience(o))]  # type: ignore[attr-defined]
    if versions is not None:
        newest: dict[str, str] = {}  # the same form of STIX timestamp throughout: ordered as text
        for o in seen:
            newest[o.stix_id] = max(newest.get(o.stix_id, o.modified), o.modified)  # type: ignore[attr-defined]
        seen = [o for o in seen if o.modified == newest[o.stix_id]]  # type: ignore[attr-defined]
    return [o.seq for o in seen]  # type: ignore[attr-defined]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stored=st.lists(version, max_size=14), groups=memberships,
       client_of=st.sampled_from([None, "be-customs", "us-cbp"]))
def test_every_page_of_a_collection_walked_by_cursor_is_what_the_pure_rule_lets_through(
        engine: Engine, stored: list[dict], groups: dict[str, set[str]], client_of: str | None) -> None:
    """A collection's pages for a carrier or terminal merge one ordered branch per way the
    policy lets a version through (scheldt.store.exchange._branch_page); an agency's filter the
    collection in seq order. Either way, walked three at a time by cursor, with the newest
    visible version of each object or every version, a collection gives exactly what
    ``may_see`` allows in it, in seq order, nothing twice."""
    _reset(engine, groups, client_of)
    with unit_of_work(engine) as uow:
        for v in stored:
            modified = NOW + timedelta(days=v["day"])
            seq = uow.exchange.add_version({
                "stix_id": f"indicator--00000000-0000-4000-8000-{v['object']:012d}",
                "modified": modified.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "modified_at": modified,
                "stix_type": "indicator", "spec_version": "2.1", "kind": "alert", "tlp": v["tlp"].value,
                "owner_org": v["owner"], "group_id": v["group"], "object": {"n": v["object"]}, "source": "local",
                "date_added": NOW}, sorted(v["recipients"]) if v["tlp"] == Tlp.RED else ())
            if seq is not None and v["deleted"]:
                uow.session.execute(update(SharedObjectRow).where(SharedObjectRow.seq == seq).values(deleted_at=NOW))
    with unit_of_work(engine) as uow:
        live = uow.exchange.page(None, limit=1000)
        for org in ORGS:
            for user in USERS:
                for peer in (False, True):
                    r = uow.exchange.requester(org, user, peer)
                    for place in PLACES:
                        for versions in (None, VersionFilter(first=False, last=True, at=())):
                            assert _walk(uow, r, place, versions) == _kept(
                                r, place, live, uow.exchange.audience, versions), (org, user, peer, place, versions)


def test_tlp_semantics_by_example(engine: Engine) -> None:
    """RED to named recipients only; AMBER+STRICT to member organisations only; AMBER also to
    members' clients; GREEN to agencies; CLEAR to all; owners always."""
    _reset(engine, {"g1": {"be-customs", "us-cbp"}, "g2": set()}, client_of="us-cbp")
    cases = [("red", "g1", [("us-cbp", "alice")]), ("amber+strict", "g1", []), ("amber", "g1", []),
             ("green", None, []), ("clear", None, [])]
    with unit_of_work(engine) as uow:
        for i, (tlp, group, recipients) in enumerate(cases):
            uow.exchange.add_version({
                "stix_id": f"note--00000000-0000-4000-8000-{i:012d}", "modified": "2026-03-01T00:00:00.000Z",
                "stix_type": "note", "spec_version": "2.1", "kind": "alert", "tlp": tlp, "owner_org": "be-customs",
                "group_id": group, "object": {}, "source": "local", "date_added": NOW}, recipients)

    def seen(org: str, user: str, peer: bool = False) -> list[str]:
        with unit_of_work(engine) as uow:
            return [o.tlp for o in uow.exchange.page(uow.exchange.requester(org, user, peer))]

    assert seen("be-customs", "bob") == ["red", "amber+strict", "amber", "green", "clear"]
    assert seen("us-cbp", "alice") == ["red", "amber+strict", "amber", "green", "clear"]
    assert seen("us-cbp", "bob") == ["amber+strict", "amber", "green", "clear"]
    assert seen("us-cbp", "node", peer=True) == ["red", "amber+strict", "amber", "green", "clear"]
    assert seen("nl-customs", "alice") == ["green", "clear"]
    assert seen("line-a", "alice") == ["amber", "clear"]  # a client of us-cbp, not in the community
    assert seen("quay-1", "alice") == ["clear"]
