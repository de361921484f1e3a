"""The TAXII page statement on PostgreSQL binds only the requester's values, so that it can be
planned once and reused (a generic plan); that plan serves what the policy gives.

psycopg prepares a statement run five times; PostgreSQL then keeps a generic plan when its
estimate is no higher than the per-call plans'. With the visibility policy's constants (TLP
names, the local groups' prefix, OFFSET 0) and the page size bound as parameters, the generic
estimate came out a little higher, so every first page was planned again, which cost
PostgreSQL a third of its CPU a first page. They are now written into the statement
(``scheldt.store.exchange._fixed``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, text

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


CARRIER = Requester("line-a", "carrier", "be-customs", "sam", frozenset(), frozenset({"be-us"}))


def _generic_plan(uow: object, sql: str, params: dict) -> list[dict]:
    """Every node of the generic plan of ``sql`` (psycopg's ``%(name)s`` form) run with
    ``params``, as EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE gives it (a plain EXPLAIN of a
    statement with parameters plans it for their values, not generically)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    connection = uow.session.connection().connection.driver_connection  # type: ignore[attr-defined]
    connection.execute("PREPARE generic_page AS " + re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%"))
    connection.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    args = ", ".join(f"'{params[n]}'" for n in names)
    [[doc]] = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic_page({args})").fetchall()
    nodes, todo = [], [doc[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def test_a_carriers_first_page_reads_about_the_versions_it_serves_in_the_generic_plan(pg_engine: Engine) -> None:
    """A carrier sees little of a group's collection (its AMBER, as a client of a member), so
    its pages merge one ordered branch per way it may see a version. PostgreSQL runs them with
    their generic plan, and in that plan the branch of RED versions naming the carrier had
    turned its join around: it read every RED version of the group (59,200, 480 ms, at
    1,000,000 objects) to probe the carrier's recipient rows. No step of the plan now reads
    more than a page's worth of rows."""
    amber = [dict(row, tlp="amber") for row, _ in _versions(150)]
    red = [(dict(row, stix_id=row["stix_id"].replace("indicator--0", "indicator--1"), tlp="red"),
            (("be-customs", "alice"),)) for row, _ in _versions(1500)]
    with unit_of_work(pg_engine) as uow:
        uow.exchange.add_versions(red[:700] + [(row, ()) for row in amber] + red[700:])
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("ANALYZE shared_object"))
        uow.session.execute(text("ANALYZE shared_object_recipient"))
    statements: list[tuple[str, dict]] = []
    event.listen(pg_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params)))
    last = VersionFilter(first=False, last=True, at=())
    with unit_of_work(pg_engine) as uow:
        page = uow.exchange.page(CARRIER, group_id="be-us", limit=100, versions=last, as_text=True)
        assert len(page) == 100 and {o.stix_id for o in page} <= {row["stix_id"] for row in amber}
        sql, params = statements[-1]
        nodes = _generic_plan(uow, sql, params)
    assert any(n.get("Index Name") == "ix_shared_object_recipient_named" for n in nodes)
    assert max(n["Actual Rows"] * n["Actual Loops"] for n in nodes) <= 150, sorted(
        (n["Actual Rows"] * n["Actual Loops"], n["Node Type"], n.get("Index Name")) for n in nodes)[-3:]
