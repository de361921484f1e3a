"""The TAXII page statement on PostgreSQL binds only the requester's values, so that it can be
planned once and reused (a generic plan); that plan serves what the policy gives.

psycopg prepares a statement run five times; PostgreSQL then keeps a generic plan when its
estimate is no higher than the per-call plans'. With the visibility policy's constants (TLP
names, the local groups' prefix, OFFSET 0) and the page size bound as parameters, the generic
estimate came out a little higher, so every first page was planned again, which cost
PostgreSQL a third of its CPU a first page. They are now written into the statement
(``scheldt.store.exchange._fixed``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from scheldt.domain.exchange import Requester, VersionFilter
from scheldt.store.db import open_store, unit_of_work

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
OFFICER = Requester("be-customs", "agency", None, "alice", frozenset({"be-us"}))
TLPS = ["amber", "amber+strict", "green", "red", "clear"]


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = open_store(postgres_url, auto_upgrade=True)
    yield engine
    engine.dispose()


def _versions(n: int) -> list[tuple[dict, tuple]]:
    """``n`` objects of be-us in turn of the five TLPs, every third with a newer version; the
    RED ones named to alice of be-customs every other time."""
    out = []
    for i in range(n):
        stix_id = f"indicator--00000000-0000-4000-8000-{i:012d}"
        tlp = TLPS[i % len(TLPS)]
        for v in range(2 if i % 3 == 0 else 1):
            modified = datetime(2026, 2, 1, 10, tzinfo=UTC) + timedelta(days=v)
            stamp = modified.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            obj = {"type": "indicator", "id": stix_id, "spec_version": "2.1", "modified": stamp,
                   "pattern": "[x:y = 'z']"}
            row = {"stix_id": stix_id, "modified": stamp, "modified_at": modified, "stix_type": "indicator",
                   "spec_version": "2.1", "kind": "watchlist-entry", "tlp": tlp, "owner_org": "us-cbp",
                   "group_id": "be-us", "handling_code": "", "reliability": "B", "credibility": "2",
                   "valid_from": NOW, "valid_until": None, "revoked": False, "object": obj, "source": "local",
                   "date_added": NOW}
            named = (("be-customs", "alice"),) if tlp == "red" and i % 2 == 0 else ()
            out.append((row, named))
    return out


def _prepared(uow: object) -> list[tuple[str, list[str], int]]:
    """(text, parameter types, generic plans) of this session's prepared page statements."""
    return [(r[0], list(r[1]), r[2]) for r in uow.session.execute(text(  # type: ignore[attr-defined]
        "SELECT statement, parameter_types, generic_plans FROM pg_prepared_statements "
        "WHERE statement LIKE '%shared_object_1%'"))]


def test_the_page_statement_binds_only_the_requester_and_its_generic_plan_serves_the_policy(pg_engine: Engine) -> None:
    with unit_of_work(pg_engine) as uow:
        uow.exchange.add_versions(_versions(400))
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("ANALYZE shared_object"))
    last = VersionFilter(first=False, last=True, at=())

    def page(uow: object) -> list[int]:
        return [r.seq for r in uow.exchange.page(  # type: ignore[attr-defined]
            OFFICER, group_id="be-us", limit=100 + 1, versions=last, as_text=True)]

    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        generic = [page(uow) for _ in range(8)]  # psycopg prepares the statement at its 5th run
        [(statement, types, generic_plans)] = _prepared(uow)
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        per_call = [page(uow) for _ in range(8)]
    # bound: the organisation, the user, its sharing group and the collection's; the TLP names,
    # the local groups' prefix, OFFSET 0 and the page size are in the text
    assert len(set(types)) <= 2 and len(types) == 4, (types, statement)
    assert "LIMIT 101" in statement and "'amber+strict'" in statement and "OFFSET 0" in statement
    assert generic_plans >= 1
    assert all(p == per_call[0] for p in generic + per_call)
    # what the policy gives alice: no RED but those naming her, the newest version of each object
    with unit_of_work(pg_engine) as uow:
        expected = [r[0] for r in uow.session.execute(text(
            "SELECT o.seq FROM shared_object o WHERE (o.tlp <> 'red' OR EXISTS (SELECT 1 "
            "FROM shared_object_recipient r "
            "WHERE r.seq = o.seq AND r.organisation_id = 'be-customs' AND r.username = 'alice')) AND NOT EXISTS "
            "(SELECT 1 FROM shared_object n WHERE n.stix_id = o.stix_id AND n.modified_at > o.modified_at) "
            "ORDER BY o.seq LIMIT 101"))]
    assert per_call[0] == expected and len(expected) == 101
