"""The TAXII page statement on PostgreSQL binds only the requester's values, so that it can be
planned once and reused (a generic plan); that plan serves what the policy gives.

psycopg prepares a statement run five times; PostgreSQL then keeps a generic plan when its
estimate is no higher than the per-call plans'. With the visibility policy's constants (TLP
names, the local groups' prefix, OFFSET 0) and the page size bound as parameters, the generic
estimate came out a little higher, so every first page was planned again, which cost
PostgreSQL a third of its CPU a first page. They are now written into the statement
(``scheldt.store.exchange._fixed``).

A carrier's or terminal's page merges one ordered branch per way it may see a version
(``scheldt.store.exchange._branch_page``): neither its generic plan nor one made for the call's
values reads more than a few pages' worth of rows, however little of the collection it sees."""

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


def _nodes(doc: list[dict]) -> list[dict]:
    """Every node of an EXPLAIN (FORMAT JSON) plan."""
    nodes, todo = [], [doc[0]["Plan"]]
    while todo:
        node = todo.pop()
        nodes.append(node)
        todo += node.get("Plans", [])
    return nodes


def _plan(uow: object, sql: str, params: dict) -> list[dict]:
    """Every node of the plan of ``sql`` run with ``params`` (planned for them, as
    ExchangeRepository.page runs a carrier's page), from EXPLAIN (ANALYZE, FORMAT JSON)."""
    connection = uow.session.connection().connection.driver_connection  # type: ignore[attr-defined]
    [[doc]] = connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchall()
    return _nodes(doc)


def _rows_read(node: dict) -> int:
    """The rows a plan node read over all its loops: those it passed on and those its filter
    removed."""
    return (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]


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
    connection.execute("DEALLOCATE generic_page")
    return _nodes(doc)


def test_a_carriers_first_pages_read_about_the_versions_they_serve(pg_engine: Engine) -> None:
    """A carrier sees little of a collection: of the community's versions CLEAR ones only (here
    one in eleven), of a group's its AMBER as a client of a member. Its pages merge one ordered
    branch per way it may see a version, with its organisation written into the statement, so
    that the generic plan PostgreSQL keeps for a statement run often is as good as one planned
    for the call's values (with the organisation bound, a generic plan read a terminal's own
    versions through the whole table by the primary key; and one had turned the RED branch's
    join around, reading every RED version of the group, 59,200 at 1,000,000 objects, to probe
    the carrier's recipient rows). No step of either plan reads more than a few pages' worth of
    rows; filtering the community in seq order read 1,464 of its versions by the primary key
    to find 100 CLEAR ones."""
    def place(rows: list[tuple[dict, tuple]], prefix: str, tlp: str, group: str | None,
              named: tuple = ()) -> list[tuple[dict, tuple]]:
        return [(dict(row, stix_id=row["stix_id"].replace("indicator--0", prefix), tlp=tlp, group_id=group), named)
                for row, _ in rows]

    community = place(_versions(1500), "indicator--1", "green", None)
    for k, (row, _) in enumerate(place(_versions(150), "indicator--2", "clear", None)):
        community.insert(k * 11, (row, ()))
    group = place(_versions(1500), "indicator--3", "red", "be-us", (("be-customs", "alice"),))
    group[700:700] = place(_versions(150), "indicator--4", "amber", "be-us")
    with unit_of_work(pg_engine) as uow:
        uow.exchange.add_versions(community + group)
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("ANALYZE shared_object"))
        uow.session.execute(text("ANALYZE shared_object_recipient"))
    statements: list[tuple[str, dict]] = []
    event.listen(pg_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params)))
    last = VersionFilter(first=False, last=True, at=())
    for where, served in (({"community": True}, "indicator--2"), ({"group_id": "be-us"}, "indicator--4")):
        with unit_of_work(pg_engine) as uow:
            page = uow.exchange.page(CARRIER, limit=100, versions=last, as_text=True, **where)
            assert len(page) == 100 and all(o.stix_id.startswith(served) for o in page)
            sql, params = statements[-1]
            plans = {"per call": _plan(uow, sql, params), "generic": _generic_plan(uow, sql, params)}
        for kind, nodes in plans.items():
            read = sorted((_rows_read(n), n["Node Type"], n.get("Index Name")) for n in nodes)
            assert read[-1][0] <= 250, (where, kind, read[-3:])


def test_a_terminal_owning_nothing_reads_no_more_of_the_community_than_its_page(pg_engine: Engine) -> None:
    """A review's case: a terminal owns nothing, and the generic plan of its community page,
    with its organisation bound, read its own versions by the primary key through the whole
    table (87 ms a page at 400,000 versions). Written into the statement, the organisation's
    own versions are read by their index, in either plan."""
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text(
            "INSERT INTO shared_object (stix_id, modified, modified_at, stix_type, spec_version, kind, tlp, owner_org, "
            "group_id, handling_code, reliability, credibility, revoked, object, source, date_added) "
            "SELECT 'indicator--' || lpad(i::text, 36, '0'), '2026-01-01T00:00:00.000Z', '2026-01-01', 'indicator', "
            "'2.1', 'alert', CASE WHEN i % 70 = 1 THEN 'clear' ELSE 'green' END, 'agency-' || (i % 12), NULL, '', 'X', "
            "'4', false, '{}', 'local', timestamp '2026-01-01' + i * interval '1 ms' FROM generate_series(1, 60000) i"))
    with unit_of_work(pg_engine) as uow:
        uow.session.execute(text("ANALYZE shared_object"))
    statements: list[tuple[str, dict]] = []
    event.listen(pg_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, ctx, many: statements.append((sql, params)))
    terminal = Requester("quay-1", "terminal", None, "sam", frozenset(), frozenset())
    with unit_of_work(pg_engine) as uow:
        page = uow.exchange.page(terminal, community=True, limit=100, as_text=True)
        assert len(page) == 100
        sql, params = statements[-1]
        plans = {"per call": _plan(uow, sql, params), "generic": _generic_plan(uow, sql, params)}
    for kind, nodes in plans.items():
        read = sorted((_rows_read(n), n["Node Type"], n.get("Index Name")) for n in nodes)
        assert read[-1][0] <= 250, (kind, read[-3:])
