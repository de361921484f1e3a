"""The visibility policy: the SQL query agrees with the pure TLP 2.0 rule, object by object,
over random items, organisations, sharing groups and recipients (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from scheldt.domain.access import Organisation, OrgKind
from scheldt.domain.exchange import Tlp, may_see
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
