"""API under open-loop load: the risk queue and container pages over a million trips in PostgreSQL.

Goal (issue 5): with 1,000,000 container trips in PostgreSQL, at 300 requests/s of mixed
risk-queue and container pages sent on loopback at a fixed rate whatever the latency, every
request authenticated and audited, the 99th percentile latency is at most 100 ms and no request
fails; printed beside the same SQL run straight against the database.

What it does:

1. Database. Creates a PostgreSQL database (dropped at the end unless ``--keep-db NAME``; a kept
   database that already holds the asked number of trips is reused as it is), migrates it, and
   loads ``--trips`` SIMULATED container trips with PostgreSQL COPY straight into
   ``container_trip`` (the read model) and ``trip_assessment`` (one assessment per trip, with the
   facts JSON and reasons it was scored from; ``container_trip.assessment_id`` points at it). The
   trips are copies of the trips of one simulated day scored with the built-in profile (built in
   a throwaway SQLite store first): score, band, reasons and facts of the copied trip, with a
   new container number (ISO 6346, each container on about three trips), bill of lading,
   carrier (six, 30 % .. 6 % of trips) and terminal (four, 40 % .. 10 %); the agency
   ``be-customs`` supplied every trip. ``facts_hash`` is the SHA-256 the scorer would store. The
   rows are loaded with ``COPY ... FREEZE`` after ``TRUNCATE`` in one transaction (rows are
   written all-visible, as autovacuum would leave them) with the secondary indexes built after
   the load, then ``ANALYZE``.
2. Accounts. Organisations (the agency, the carriers, the terminals), six users (a targeting
   officer and an analyst of the agency, the security staff of the largest and the smallest
   carrier and terminal) and one API token each.
3. Plan. A random sequence of requests (``--seed``): half list pages (``GET
   /api/v1/trips?limit=50``: 60 % first pages, 40 % pages 2-5 by the ``next_cursor`` the API
   gave, walked in-process beforehand so no request waits on another) and half container pages
   (``GET /api/v1/trips/{id}`` of a random trip the user's organisation owns). Users: the
   agency's targeting officer 30 % and analyst 20 % (the risk queue, highest score first: 40 %
   no filter, 25 % ``band=high``, 10 % ``band=medium``, 25 % ``port=`` one of the three ports of
   loading with most high-risk trips), the security staff of the largest carrier 15 %, the
   smallest carrier 10 %, the largest terminal 15 %, the smallest terminal 10 % (their trips
   newest first, without customs' risk fields: 65 % no filter, 35 % ``port=``).
4. Server. ``python -m scheldt.api.workers api_load:app_factory`` (this module's factory:
   ``create_app`` without the workbench, no job runner, no access log: the audit log is the
   record of every request) as a separate process on a free loopback port, ``--workers``
   processes (default 2, see :data:`WORKERS_WHY`), each on its own SO_REUSEPORT socket as
   ``scheldt serve --workers N`` runs them.
5. Load. Request k is sent at the fixed time ``start + k / rate`` whatever happened to earlier
   requests (open loop), over up to ``--connections`` keep-alive connections; its latency runs
   from its *scheduled* send time to the end of its response body, so time spent queued
   (waiting for a connection in the client, in the kernel, in the server) counts: no
   coordinated omission. The first ``--warmup`` seconds are sent but not measured. Errors: a
   status other than 2xx, or a transport error / no response in 10 s. The client is a small
   asyncio HTTP/1.1 client (:class:`HttpConnection`), not httpx: httpx's connection pool cost
   2.8 ms of CPU per request at 300 requests/s (0.8 of the 2 cores), starving the server it
   measures; this one costs about 0.2-0.4 ms. A request whose idle keep-alive connection the
   server closed just as it was sent (before any byte of a response) is sent once more on a new
   connection, as HTTP clients do; how many is printed.
6. CPU. Cores used over the measured window by the server and its workers, PostgreSQL, the
   load generator and other processes of the machine (from /proc), and per response; with
   ``--quiet-wait S`` the load waits up to S seconds for other processes to go quiet (a shared
   machine skews the figures; the busiest other processes during the window are named).
7. Audit. Entries in ``audit_entry`` before and after the run (every 2xx request appends
   exactly one, in its own transaction) and ``AuditLog.verify`` over the whole chain at the end.
8. Database alone. A sample of the plan (``--db-sample`` requests of each kind) is run once
   in-process through the same application with every statement it sends through psycopg
   recorded (text and parameters, and whether it was pipelined); then each recorded request is
   replayed with psycopg on one connection, closed loop, 3 times, and timed from its first
   statement to its COMMIT: authentication, the page's queries and the audit append (which
   computes its seq and hashes from the chain head in SQL, so a replayed append is a valid new
   entry). Its p50/p99 per kind is printed beside the API's, with the ratio of the p99s.

Units: latencies in milliseconds, rates in requests per second, durations in seconds.

Usage::

    .venv/bin/python benchmarks/api_load.py                        # 1,000,000 trips, 300/s, 30 s
    .venv/bin/python benchmarks/api_load.py --trips 100000 --rate 300 --duration 30
    .venv/bin/python benchmarks/api_load.py --keep-db scheldt_load_1m  # keep (and later reuse) it
    .venv/bin/python benchmarks/api_load.py --keep-db scheldt_load_1m --quiet-wait 300 --rate 200

The last line printed is ``SUMMARY {json}`` (the figures above, machine-readable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

BENCH_DIR = Path(__file__).resolve().parent
SERVER_DEFAULT = os.environ.get("SCHELDT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
GOAL_P99_MS = 100.0
WORKERS_WHY = (
    "2 workers: each worker runs its requests' Python (FastAPI, SQLAlchemy, JSON) under one GIL, so one "
    "worker can use at most one of the 2 cores; with two, the server can use both while a request waits on "
    "PostgreSQL or on the audit lock, and the OS shares the cores with PostgreSQL and this load generator. More "
    "workers than cores only add context switches and connections.")

AGENCY = ("be-customs", "Belgian Customs (benchmark)")
#: org id, name, carrier code, bill-of-lading prefix, container owner code, share of trips
CARRIERS = [("carrier-1", "Carrier 1 (simulated)", "CR1", "CRAB", "CRAU", 0.30),
            ("carrier-2", "Carrier 2 (simulated)", "CR2", "CRBB", "CRBU", 0.22),
            ("carrier-3", "Carrier 3 (simulated)", "CR3", "CRCB", "CRCU", 0.18),
            ("carrier-4", "Carrier 4 (simulated)", "CR4", "CRDB", "CRDU", 0.14),
            ("carrier-5", "Carrier 5 (simulated)", "CR5", "CREB", "CREU", 0.10),
            ("carrier-6", "Carrier 6 (simulated)", "CR6", "CRFB", "CRFU", 0.06)]
#: org id, name, terminal code, share of trips
TERMINALS = [("terminal-1", "Terminal 1 (simulated)", "TM1", 0.40),
             ("terminal-2", "Terminal 2 (simulated)", "TM2", 0.30),
             ("terminal-3", "Terminal 3 (simulated)", "TM3", 0.20),
             ("terminal-4", "Terminal 4 (simulated)", "TM4", 0.10)]
#: username → (organisation, roles, share of requests)
USERS = {"officer": ("be-customs", ["targeting_officer"], 0.30),
         "analyst": ("be-customs", ["analyst"], 0.20),
         "carrier-large": ("carrier-1", ["carrier_security"], 0.15),
         "carrier-small": ("carrier-6", ["carrier_security"], 0.10),
         "terminal-large": ("terminal-1", ["carrier_security"], 0.15),
         "terminal-small": ("terminal-4", ["carrier_security"], 0.10)}
PASSWORD = "benchmark password, not a secret"
PAGE = 50
MARK = re.compile(r"@@([CDKT])@@")
KINDS = ("risk queue", "container page")


# --------------------------------------------------------------------------------------------
# the server side: what each server worker imports


def app_factory() -> Any:
    """The ASGI app each server worker serves: the API without the workbench on the store
    named by ``SCHELDT_DATABASE_URL``, no job runner; STIX checks warmed at start-up as
    ``scheldt serve`` does."""
    from scheldt.api.app import create_app
    from scheldt.settings import get_settings
    from scheldt.store.db import open_store

    return create_app(open_store(get_settings().resolved_database_url), workbench=False, warm=True)


# --------------------------------------------------------------------------------------------
# databases


def sqlalchemy_url(server: str, name: str) -> str:
    """The SQLAlchemy (psycopg) URL of database ``name`` on the server of ``server``."""
    return server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def psycopg_url(server: str, name: str) -> str:
    """The libpq URL of database ``name`` on the server of ``server``."""
    return server.rsplit("/", 1)[0] + f"/{name}"


def database_exists(server: str, name: str) -> bool:
    """True when database ``name`` exists on ``server``."""
    with psycopg.connect(server, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(server: str, name: str) -> None:
    """Create an empty database ``name`` (dropping one of that name first)."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(server: str, name: str) -> None:
    """Drop database ``name`` (closing its connections)."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------
# synthetic trips


@dataclass
class Template:
    """One scored simulated trip, its texts split at the values each copy replaces: container
    number (C), bill of lading (D), carrier code (K) and terminal code (T)."""

    row: dict[str, Any]  # the read-model row (container_trip) of the simulated trip
    assessment: dict[str, Any]  # its latest trip_assessment
    facts_parts: list[str]  # stored facts JSON, COPY-escaped, split by MARK (odd items: letters)
    digest_parts: list[str]  # canonical facts JSON without as_of (what facts_hash hashes), split
    reasons_parts: list[str]  # reasons JSON, COPY-escaped, split
    top_reason_parts: list[str]  # read-model top reason, COPY-escaped, split


def _mark(value: Any, subs: dict[str, str], keyed: dict[str, tuple[str, str]], key: str = "") -> Any:
    """``value`` with every occurrence of the keys of ``subs`` replaced by their tokens, and the
    value of a dict entry named in ``keyed`` replaced by its token when it equals the old value."""
    if isinstance(value, dict):
        return {k: _mark(v, subs, keyed, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, subs, keyed) for v in value]
    if isinstance(value, str):
        if key in keyed and value == keyed[key][0]:
            return keyed[key][1]
        for old, token in subs.items():
            if old:
                value = value.replace(old, token)
        return value
    return value


def _copy_escape(text: str) -> str:
    """``text`` as a field of COPY's text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def make_template(row: dict[str, Any], assessment: dict[str, Any]) -> Template:
    """A :class:`Template` of a scored trip (read-model row and its assessment)."""
    subs = {row["container_number"]: "@@C@@", row["document_ref"]: "@@D@@"}
    keyed = {"carrier_code": (row["carrier_code"], "@@K@@"), "facility_code": (row["terminal_code"], "@@T@@")}
    facts = _mark(assessment["facts"], subs, keyed)
    digest_text = orjson.dumps({k: v for k, v in facts.items() if k != "as_of"}, option=orjson.OPT_SORT_KEYS,
                               default=str).decode()
    return Template(row, assessment,
                    MARK.split(_copy_escape(orjson.dumps(facts, default=str).decode())),
                    MARK.split(digest_text),
                    MARK.split(_copy_escape(orjson.dumps(_mark(assessment["reasons"], subs, {})).decode())),
                    MARK.split(_copy_escape(_mark(row["top_reason"], subs, {}))))


def _fill(parts: list[str], values: dict[str, str]) -> str:
    out = list(parts)
    for i in range(1, len(out), 2):
        out[i] = values[out[i]]
    return "".join(out)


def build_templates(folder: Path, seed: int = 4) -> list[Template]:
    """Score one simulated day (1 % of Antwerp's volume, seed ``seed``) with the built-in profile
    in a throwaway SQLite store under ``folder``; every trip with an assessment is a template."""
    from scheldt.risk.profiles import builtin_profile_text
    from scheldt.simulate.traffic import inspect_history, simulate
    from scheldt.simulate.writers import write_traffic
    from scheldt.store.db import open_store, unit_of_work
    from scheldt.store.models import ContainerTripRow
    from scheldt.workflows.ingest import IngestOptions
    from scheldt.workflows.replay import replay
    from scheldt.workflows.trip_scoring import activate_profile
    from sqlalchemy import select

    traffic = simulate(seed, 1, 1, 0.01)
    inspect_history(traffic, seed)
    write_traffic(traffic, folder / "sim")
    engine = open_store(f"sqlite:///{folder / 'templates.db'}")
    try:
        with unit_of_work(engine) as uow:
            activate_profile(uow, builtin_profile_text(), "built-in", "benchmark", "benchmark",
                             datetime(2025, 11, 1, tzinfo=UTC))
        replay(lambda: unit_of_work(engine), folder / "sim", IngestOptions(supplied_by=AGENCY[0]))
        out = []
        with unit_of_work(engine) as uow:
            t = ContainerTripRow.__table__
            for r in uow.session.execute(select(t).where(t.c.assessment_id.is_not(None)).order_by(t.c.id)):
                row = dict(r._mapping)
                out.append(make_template(row, uow.trip_assessments.get(row["assessment_id"])))
        return out
    finally:
        engine.dispose()


def _iso(t: datetime | None) -> str:
    if t is None:
        return "\\N"
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).isoformat()


def _pick(shares: list[float], rng: random.Random, n: int) -> list[int]:
    return rng.choices(range(len(shares)), weights=shares, k=n)


def trip_lines(templates: list[Template], n: int, seed: int, start: int, stop: int) -> Iterator[tuple[str, str]]:
    """The COPY text lines (container_trip, trip_assessment) of synthetic trips ``start`` ..
    ``stop - 1`` of ``n`` (ids ``start + 1`` ..): deterministic for a seed."""
    from stdnum import iso6346

    rng = random.Random(seed * 1_000_003 + start)
    tpl = rng.choices(templates, k=stop - start)
    carriers = _pick([c[5] for c in CARRIERS], rng, stop - start)
    terminals = _pick([t[3] for t in TERMINALS], rng, stop - start)
    containers = max(1, n // 3)
    for j, i in enumerate(range(start, stop)):
        t, carrier, terminal = tpl[j], CARRIERS[carriers[j]], TERMINALS[terminals[j]]
        serial = i % containers
        body = f"{carrier[4][:3]}{'UJZ'[serial // 1_000_000 % 3]}{serial % 1_000_000:06d}"
        values = {"C": body + iso6346.calc_check_digit(body), "D": f"{carrier[3]}{i:010d}", "K": carrier[2],
                  "T": terminal[2]}
        a, row = t.assessment, t.row
        digest = hashlib.sha256(_fill(t.digest_parts, values).encode()).hexdigest()
        ident = i + 1
        trip = "\t".join((str(ident), values["C"], values["D"], _copy_escape(row["voyage"]), values["K"], values["T"],
                          AGENCY[0], row["port_of_loading"], row["port_of_discharge"], row["vessel_imo"],
                          _iso(row["arrival_at"]), str(ident), repr(float(row["score"])), row["risk_band"],
                          _fill(t.top_reason_parts, values), _iso(row["scored_at"]), "open", "f"))
        assessment = "\t".join((str(ident), values["C"], values["D"], _copy_escape(a["voyage"]),
                                _copy_escape(a["profile"]), _copy_escape(a["model_version"]), repr(float(a["score"])),
                                repr(float(a["profile_points"])), _fill(t.reasons_parts, values),
                                _fill(t.facts_parts, values), digest, _iso(a["scored_at"])))
        yield trip + "\n", assessment + "\n"


TRIP_COLUMNS = ("id, container_number, document_ref, voyage, carrier_code, terminal_code, supplied_by, port_of_loading, "
                "port_of_discharge, vessel_imo, arrival_at, assessment_id, score, risk_band, top_reason, scored_at, "
                "status, on_hold")
ASSESSMENT_COLUMNS = ("id, container_number, document_ref, voyage, profile, model_version, score, profile_points, "
                      "reasons, facts, facts_hash, scored_at")


def _secondary_indexes(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """(drop statement, create statement) of each index of ``table`` but its primary key."""
    out = []
    constraints = set()
    for name, definition in conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'",
            (table,)):
        constraints.add(name)
        out.append((f'ALTER TABLE {table} DROP CONSTRAINT "{name}"', f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    for name, definition in conn.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary", (table,)):
        if name not in constraints:
            out.append((f'DROP INDEX "{name}"', definition))
    return out


def load_trips(url: str, templates: list[Template], n: int, seed: int, log: Any) -> float:
    """COPY ``n`` synthetic trips into the migrated, empty database at ``url`` (libpq URL);
    returns the seconds taken (load, index builds and ANALYZE)."""
    started = time.perf_counter()
    batch = 20_000
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET synchronous_commit = off")
        # TRUNCATE in the loading transaction lets COPY FREEZE write the rows frozen and all-visible.
        conn.execute("TRUNCATE scan_order_change, scan_order, hold, container_trip, trip_assessment")
        indexes = _secondary_indexes(conn, "container_trip") + _secondary_indexes(conn, "trip_assessment")
        for drop, _create in indexes:
            conn.execute(drop)
        with conn.cursor() as cur:
            for table, columns, which in (("trip_assessment", ASSESSMENT_COLUMNS, 1), ("container_trip", TRIP_COLUMNS, 0)):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FREEZE)") as copy:
                    for start in range(0, n, batch):
                        chunk = [lines[which] for lines in trip_lines(templates, n, seed, start, min(n, start + batch))]
                        copy.write("".join(chunk).encode())
                        if log and (start // batch) % 10 == 9:
                            log(f"  {table}: {start + len(chunk):,} rows ({time.perf_counter() - started:.0f} s)")
        t_index = time.perf_counter()
        for _drop, create in indexes:
            conn.execute(create)
        conn.execute("SELECT setval(pg_get_serial_sequence('container_trip', 'id'), %s)", (max(n, 1),))
        conn.execute("SELECT setval(pg_get_serial_sequence('trip_assessment', 'id'), %s)", (max(n, 1),))
        conn.commit()
        if log:
            log(f"  indexes rebuilt in {time.perf_counter() - t_index:.0f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE container_trip")
        conn.execute("ANALYZE trip_assessment")
    return time.perf_counter() - started


# --------------------------------------------------------------------------------------------
# accounts and the request plan


def seed_accounts(engine: Any) -> None:
    """The agency, carriers, terminals and :data:`USERS` (skipped when they exist)."""
    from scheldt.store.db import unit_of_work
    from scheldt.workflows.accounts import create_organisation, create_user

    now = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        if AGENCY[0] in {o.id for o in uow.accounts.organisations()}:
            return
        create_organisation(uow, AGENCY[0], AGENCY[1], "agency", [], [], now)
        for org_id, name, code, *_ in CARRIERS:
            create_organisation(uow, org_id, name, "carrier", [code], [], now)
        for org_id, name, code, _share in TERMINALS:
            create_organisation(uow, org_id, name, "terminal", [], [code], now)
        for username, (org, roles, _share) in USERS.items():
            create_user(uow, username, org, roles, PASSWORD, now)


def make_tokens(engine: Any) -> dict[str, str]:
    """A fresh one-day API token for each of :data:`USERS`."""
    from scheldt.store.db import unit_of_work
    from scheldt.workflows.accounts import create_token

    with unit_of_work(engine) as uow:
        return {u: create_token(uow, u, "api_load benchmark", 1, datetime.now(UTC)) for u in USERS}


@dataclass(frozen=True, slots=True)
class Req:
    """One planned request: its kind (risk queue / container page), a label, path, user."""

    kind: str
    label: str
    path: str
    user: str


def _test_client(engine: Any) -> Any:
    """An in-process client of the API on ``engine`` (a context manager)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from scheldt.api.app import create_app

    return TestClient(create_app(engine, workbench=False))


def plan_requests(engine: Any, tokens: dict[str, str], total: int, seed: int, log: Any) -> list[Req]:
    """``total`` requests in send order, drawn as the module docstring says (``seed``). The
    cursors of pages 2-5 are the ``next_cursor`` the API itself gives, walked in-process."""
    from scheldt.domain.access import OrgKind, trip_scope
    from scheldt.store.db import unit_of_work
    from sqlalchemy import text

    rng = random.Random(seed)
    with unit_of_work(engine) as uow:
        orgs = {o.id: o for o in uow.accounts.organisations()}
        high_risk = [p for (p,) in uow.session.execute(text(
            "SELECT port_of_loading FROM container_trip WHERE risk_band = 'high' AND port_of_loading <> '' "
            "GROUP BY port_of_loading ORDER BY count(*) DESC, port_of_loading LIMIT 3"))]
        # a sample of the trips each user's organisation owns
        n = uow.session.execute(text("SELECT coalesce(max(id), 0) FROM container_trip")).scalar_one()
        candidates = rng.sample(range(1, n + 1), min(n, 50_000))
        owners = uow.session.execute(text(
            "SELECT id, carrier_code, terminal_code, supplied_by FROM container_trip WHERE id = ANY(:ids)"),
            {"ids": candidates}).mappings().all()
    scopes = {u: trip_scope(orgs[org]) for u, (org, _r, _s) in USERS.items()}
    owned = {u: [r["id"] for r in owners if s.owns(r)] for u, s in scopes.items()}
    for user, ids in owned.items():
        if not ids:
            raise SystemExit(f"user {user} owns none of the sampled trips: load more trips")
    ports = [(f"port={p}", f"&port={p}") for p in high_risk]
    # (label, query, share): agencies get the risk queue with its filters; shipping lines and
    # terminals their trips newest first (band filters are refused to them)
    filters = {u: [("all", "", 0.40), ("band=high", "&band=high", 0.25), ("band=medium", "&band=medium", 0.10)]
               + [(label, q, 0.25 / len(ports)) for label, q in ports]
               if orgs[USERS[u][0]].kind == OrgKind.AGENCY else
               [("all", "", 0.65)] + [(label, q, 0.35 / len(ports)) for label, q in ports] for u in USERS}
    cursors: dict[tuple[str, str], list[str]] = {}
    with _test_client(engine) as client:
        for user in USERS:
            for label, query, _share in filters[user]:
                pages: list[str] = []
                path = f"/api/v1/trips?limit={PAGE}{query}"
                while len(pages) < 4:
                    body = client.get(path + (f"&cursor={pages[-1]}" if pages else ""),
                                      headers={"Authorization": f"Bearer {tokens[user]}"}).raise_for_status().json()
                    if not body["next_cursor"]:
                        break
                    pages.append(body["next_cursor"])
                cursors[(user, label)] = pages
    users = list(USERS)
    who = rng.choices(users, weights=[USERS[u][2] for u in users], k=total)
    out = []
    for user in who:
        if rng.random() < 0.5:
            label, query, _share = rng.choices(filters[user], weights=[f[2] for f in filters[user]])[0]
            pages = cursors[(user, label)]
            if pages and rng.random() < 0.4:
                page = rng.randrange(len(pages))
                out.append(Req(KINDS[0], f"{label}, page {page + 2}", f"/api/v1/trips?limit={PAGE}{query}&cursor={pages[page]}", user))
            else:
                out.append(Req(KINDS[0], f"{label}, page 1", f"/api/v1/trips?limit={PAGE}{query}", user))
        else:
            out.append(Req(KINDS[1], "trip", f"/api/v1/trips/{rng.choice(owned[user])}", user))
    if log:
        mix = Counter(r.kind for r in out)
        log(f"plan: {total:,} requests ({', '.join(f'{k} {v:,}' for k, v in mix.items())}); high-risk ports in the "
            f"port filter: {', '.join(high_risk)}")
    return out


# --------------------------------------------------------------------------------------------
# the server


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, workers: int, data_dir: Path, log_file: Path,
                 app: str = "api_load:app_factory") -> tuple[subprocess.Popen[bytes], int]:
    """Start Scheldt's worker supervisor (:mod:`scheldt.api.workers`, as ``scheldt serve
    --workers N``) serving the app factory ``app`` (``module:function``, default
    :func:`app_factory`) on ``url``; return the process and its port once every worker is ready
    (:func:`wait_ready`; raises RuntimeError after 60 s or if the process exits)."""
    port = free_port()
    env = dict(os.environ, SCHELDT_DATABASE_URL=url, SCHELDT_DATA_DIR=str(data_dir),
               PYTHONPATH=os.pathsep.join(filter(None, [str(BENCH_DIR), os.environ.get("PYTHONPATH", "")])))
    cmd = [sys.executable, "-m", "scheldt.api.workers", app, "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    out = log_file.open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(BENCH_DIR))
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc, 60, log_file)
    except RuntimeError:
        stop_server(proc)
        raise
    return proc, port


#: Fresh connections in a row that must answer /readyz with 200 (:func:`wait_ready`).
READY_STREAK = 20


def wait_ready(base: str, proc: subprocess.Popen[bytes], seconds: float, log_file: Path) -> None:
    """Return once :data:`READY_STREAK` fresh connections in a row get 200 from ``base``/readyz.
    Each server worker answers for itself (store reachable, its STIX check processes started)
    and the kernel hands each new connection to one of them by a hash of its ports, so one 200
    may come from the first worker ready while another still starts (a regression review saw
    200, 503, 200 with 2 workers); with one of 2 workers still starting, 20 connections in a row
    all reach the other with odds of 1 in 2^20. Raises RuntimeError after ``seconds`` or if
    ``proc`` exits."""
    import httpx

    deadline, streak = time.monotonic() + seconds, 0
    while streak < READY_STREAK:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {log_file.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server was not ready in {seconds:.0f} s: {log_file.read_text()[-2000:]}")
        try:
            ok = httpx.get(f"{base}/readyz", timeout=2).status_code == 200  # a new connection each time
        except httpx.HTTPError:
            ok = False
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server process we started (SIGTERM, then SIGKILL after 20 s), and any of its
    workers still alive after it."""
    workers = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid in workers:  # a worker its supervisor left behind
        stat = _proc_stat(pid)
        if stat is not None and stat[1] in (proc.pid, 1) and stat[0].startswith("python"):
            os.kill(pid, signal.SIGKILL)


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, CPU seconds used) of process ``pid`` from /proc, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[str, int, float]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat is not None:
                out[int(entry)] = stat
    return out


def descendants(pid: int, table: dict[int, tuple[str, int, float]] | None = None) -> list[int]:
    """The pids of the processes below ``pid`` (children, their children...)."""
    table = _processes() if table is None else table
    out, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, (_n, ppid, _c) in table.items() if ppid == parent]
        out += kids
        frontier += kids
    return out


@dataclass
class CpuSample:
    """CPU seconds used so far (monotonic time ``at``): the machine (all cores, from
    /proc/stat), this process (the load generator), and per pid the server process and its
    workers and every ``postgres`` process of this machine."""

    at: float
    machine: float
    generator: float
    server: dict[int, float]
    postgres: dict[int, float]
    everyone: dict[int, tuple[str, float]] = field(default_factory=dict)

    def busiest_others(self, later: CpuSample, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` process names (other than ours and PostgreSQL's) that used most cores from
        this sample to ``later``, with those cores."""
        span = later.at - self.at
        ours = set(later.server) | set(later.postgres) | {os.getpid()}
        used: Counter[str] = Counter()
        for pid, (name, cpu) in later.everyone.items():
            if pid not in ours:
                used[name] += (cpu - self.everyone.get(pid, (name, 0.0))[1]) / span
        return [(name, cores) for name, cores in used.most_common(n) if cores >= 0.01]

    def cores(self, later: CpuSample) -> dict[str, float]:
        """Cores used from this sample to ``later``: machine, server, postgres, generator and
        other (the rest of the machine). A process counts from its first sample (0 when it
        started in between); one that ended in between is lost (PostgreSQL backends of other
        clients come and go)."""
        span = later.at - self.at

        def used(before: dict[int, float], after: dict[int, float]) -> float:
            return sum(c - before.get(p, 0.0) for p, c in after.items()) / span

        out = {"machine": (later.machine - self.machine) / span, "server": used(self.server, later.server),
               "postgres": used(self.postgres, later.postgres), "generator": (later.generator - self.generator) / span}
        out["other"] = out["machine"] - out["server"] - out["postgres"] - out["generator"]
        return out


def cpu_sample(server_pid: int | None) -> CpuSample:
    """CPU seconds used so far by the machine, this process, the server tree and PostgreSQL."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # all but idle and iowait
    table = _processes()
    server = [server_pid, *descendants(server_pid, table)] if server_pid else []
    return CpuSample(time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), time.process_time(),
                     {p: table[p][2] for p in server if p in table},
                     {p: c for p, (name, _pp, c) in table.items() if name == "postgres"},
                     {p: (name, c) for p, (name, _pp, c) in table.items()})


def wait_for_quiet(server_pid: int, limit_s: float, log: Any, busy_cores: float = 0.15, window_s: float = 5.0) -> float:
    """Wait (at most ``limit_s`` seconds) until other processes of the machine use under
    ``busy_cores`` cores over a ``window_s`` window (other benchmarks and test runs on a shared
    machine skew the figures); returns the cores they used in the last window."""
    deadline = time.monotonic() + limit_s
    while True:
        before = cpu_sample(server_pid)
        time.sleep(window_s)
        cores = before.cores(cpu_sample(server_pid))
        other = cores["other"] + cores["postgres"]
        if other < busy_cores or time.monotonic() >= deadline:
            return other
        log(f"  waiting for a quieter machine: other processes use {other:.2f} cores")


# --------------------------------------------------------------------------------------------
# the open-loop load generator


@dataclass
class Result:
    """One request: scheduled and actual send times (s, event-loop clock), latency from the
    scheduled time (ms), HTTP status (0 for a transport error) and the error, if any."""

    scheduled: float
    sent: float = 0.0
    latency_ms: float = 0.0
    status: int = 0
    error: str = ""
    retried: int = 0  # on the last result only: requests sent again after a stale keep-alive connection


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to the server: a request is sent as prepared bytes
    and its response read by Content-Length (or chunks). Lean on purpose: the load generator
    shares the 2 cores with the server and PostgreSQL."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes, bool]:
        """Send ``raw`` (a whole request); return (status, body, whether the connection stays open)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, keep = -1, False, True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep = b"close" not in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append((await self.reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        elif length >= 0:
            body = await self.reader.readexactly(length)
        else:
            body, keep = await self.reader.read(), False
        return status, body, keep

    def close(self) -> None:
        self.writer.close()


@contextlib.contextmanager
def generator_gc_paused() -> Iterator[None]:
    """No garbage collection in this process (the load generator) while the load runs. Why:
    planning imports the whole application here, and a full collection over its objects stops
    the generator for 100-150 ms, during which responses wait unread and their latency grows
    with no fault of the server (measured: the 99th percentile then showed the generator's own
    pauses). The run's garbage is collected after."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


async def run_load(port: int, plan: list[Req], tokens: dict[str, str], rate: float, connections: int,
                   measure_from: int, server_pid: int, timeout_s: float = 10.0) -> tuple[list[Result], CpuSample, CpuSample]:
    """Send ``plan[k]`` at ``start + k / rate`` (s) whatever earlier requests are doing, over
    ``connections`` keep-alive connections opened first and used in turn (a request finding none
    free waits for one: that wait counts in its latency); return one :class:`Result` per
    request, in plan order, and CPU samples taken when request ``measure_from`` is sent and when
    the last response has come."""
    loop = asyncio.get_running_loop()
    raws = [(f"GET {r.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {tokens[r.user]}\r\n"
             "Accept: application/json\r\n\r\n").encode() for r in plan]
    results = [Result(0.0) for _ in plan]
    free = asyncio.Semaphore(connections)
    # Idle connections are taken oldest first, so the load spreads over every open connection
    # (and so over the server's workers, each of which keeps the connections it accepted), as
    # many clients each with their own connection would spread it.
    idle: deque[HttpConnection] = deque()
    for _ in range(connections):
        idle.append(await HttpConnection.open(port))

    retried = [0]

    async def exchange(raw: bytes) -> tuple[int, bytes]:
        reused = bool(idle)
        conn = idle.popleft() if idle else await HttpConnection.open(port)
        try:
            status, body, keep = await conn.request(raw)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            conn.close()
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            # The server closed this idle keep-alive connection as the request went out (before
            # any byte of a response): send it again on a new connection, as HTTP clients do.
            retried[0] += 1
            conn = await HttpConnection.open(port)
            status, body, keep = await conn.request(raw)
        except BaseException:
            conn.close()
            raise
        if keep:
            idle.append(conn)
        else:
            conn.close()
        return status, body

    async def one(k: int) -> None:
        res = results[k]
        res.sent = loop.time()
        try:
            async with free:
                res.status, body = await asyncio.wait_for(exchange(raws[k]), timeout_s)
            if not 200 <= res.status < 300:
                res.error = f"HTTP {res.status}: {body[:200].decode(errors='replace')}"
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            res.status, res.error = 0, f"{type(exc).__name__}: {exc}"[:200]
        except TimeoutError:
            res.status, res.error = 0, f"Timeout: no response in {timeout_s:g} s"
        res.latency_ms = (loop.time() - res.scheduled) * 1000

    start = loop.time() + 0.1
    tasks = []
    first: asyncio.Task[CpuSample] | None = None
    for k in range(len(plan)):
        at = start + k / rate
        results[k].scheduled = at
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if k == measure_from:
            first = asyncio.create_task(asyncio.to_thread(cpu_sample, server_pid))
        tasks.append(asyncio.create_task(one(k)))
    await asyncio.gather(*tasks)
    for conn in idle:
        conn.close()
    last = cpu_sample(server_pid)
    results[-1].retried = retried[0]
    return results, await first if first is not None else last, last


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ascending values by nearest rank (NaN when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def latency_stats(values: list[float]) -> dict[str, float]:
    """count, p50, p90, p99 and max of latencies (ms)."""
    v = sorted(values)
    return {"count": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90), "p99": percentile(v, 99),
            "max": v[-1] if v else float("nan")}


# --------------------------------------------------------------------------------------------
# the same SQL straight against the database


@dataclass
class Recorded:
    """The SQL one request issued, as psycopg received it, in order: (statement, parameters,
    whether it was sent in a pipeline with its neighbours)."""

    kind: str
    statements: list[tuple[Any, Any, bool]] = field(default_factory=list)


def record_sql(engine: Any, plan: list[Req], tokens: dict[str, str], per_kind: int) -> list[Recorded]:
    """Run up to ``per_kind`` requests of each kind of ``plan`` in-process through the API
    (same code, one at a time) and record every statement each sends through psycopg."""
    from psycopg import pq

    current: list[Recorded] = []
    execute = psycopg.Cursor.execute

    def recording(cursor: psycopg.Cursor[Any], query: Any, params: Any = None, **kw: Any) -> Any:
        if current:
            current[-1].statements.append((query, params, cursor.connection.pgconn.pipeline_status != pq.PipelineStatus.OFF))
        return execute(cursor, query, params, **kw)

    out: list[Recorded] = []
    wanted = {k: per_kind for k in KINDS}
    psycopg.Cursor.execute = recording  # type: ignore[method-assign]
    try:
        with _test_client(engine) as client:
            for req in plan:
                if wanted[req.kind] <= 0:
                    continue
                wanted[req.kind] -= 1
                current.append(Recorded(req.kind))
                response = client.get(req.path, headers={"Authorization": f"Bearer {tokens[req.user]}"})
                if response.status_code != 200:
                    raise RuntimeError(f"{req.path}: HTTP {response.status_code} {response.text[:200]}")
                out.append(current.pop())
                if not any(wanted.values()):
                    break
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    return out


def replay_sql(url: str, recorded: list[Recorded], rounds: int) -> dict[str, list[float]]:
    """Replay each recorded request ``rounds`` times with psycopg on one connection: its
    statements in order (those the application pipelined, pipelined), reading every row, then
    COMMIT; returns the milliseconds per request, by kind. The audit append computes its seq and
    hashes from the head in SQL, so replaying it appends a valid entry."""
    out: dict[str, list[float]] = defaultdict(list)
    with psycopg.connect(url) as conn:
        for _ in range(rounds):
            for rec in recorded:
                t0 = time.perf_counter()
                k = 0
                while k < len(rec.statements):
                    query, params, piped = rec.statements[k]
                    if piped:
                        cursors = []
                        with conn.pipeline():
                            while k < len(rec.statements) and rec.statements[k][2]:
                                cursors.append(conn.execute(rec.statements[k][0], rec.statements[k][1]))
                                k += 1
                        for cur in cursors:
                            if cur.description is not None:
                                cur.fetchall()
                        continue
                    cur = conn.execute(query, params)
                    if cur.description is not None:
                        cur.fetchall()
                    k += 1
                conn.commit()
                out[rec.kind].append((time.perf_counter() - t0) * 1000)
    return out


# --------------------------------------------------------------------------------------------
# the run


def audit_count(url: str) -> int:
    """Entries in audit_entry."""
    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0])


def trips_loaded(url: str) -> int:
    """Rows in container_trip, or -1 when the schema is not there."""
    try:
        with psycopg.connect(url) as conn:
            return int(conn.execute("SELECT count(*) FROM container_trip").fetchone()[0])
    except psycopg.errors.UndefinedTable:
        return -1


def _fmt(stats: dict[str, float]) -> str:
    return (f"{stats['count']:7,d}  p50 {stats['p50']:7.1f}  p90 {stats['p90']:7.1f}  p99 {stats['p99']:7.1f}  "
            f"max {stats['max']:7.1f}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 on PASS, 1 on FAIL."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trips", type=int, default=1_000_000, help="container trips to load (default 1,000,000)")
    ap.add_argument("--rate", type=float, default=300.0, help="requests per second sent (default 300)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds measured (default 30)")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds sent before measuring (default 5)")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes (default 2)")
    ap.add_argument("--connections", type=int, default=64,
                    help="keep-alive connections the client opens and uses in turn (default 64)")
    ap.add_argument("--keep-db", metavar="NAME", help="load into (or reuse) database NAME and keep it")
    ap.add_argument("--db-sample", type=int, default=300, help="requests of each kind replayed as SQL (default 300)")
    ap.add_argument("--app", default="api_load:app_factory",
                    help="app factory the server workers serve, module:function (e.g. an instrumented one for profiling; "
                         "the module is found on PYTHONPATH or in benchmarks/)")
    ap.add_argument("--quiet-wait", type=float, default=0.0, metavar="S",
                    help="wait up to S seconds for other processes to use under 0.15 cores before the load "
                         "(on a shared machine; default 0: start at once)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic trips and the plan")
    ap.add_argument("--server", default=SERVER_DEFAULT, help=f"PostgreSQL server (a database URL on it; default {SERVER_DEFAULT})")
    args = ap.parse_args(argv)
    if args.trips < 100 or args.rate <= 0 or args.duration <= 0 or args.warmup < 0:
        ap.error("need --trips >= 100, --rate > 0, --duration > 0, --warmup >= 0")

    def log(msg: str) -> None:
        print(msg, flush=True)

    from scheldt.store.audit import AuditLog
    from scheldt.store.db import open_store, unit_of_work

    name = args.keep_db or f"scheldt_api_load_{uuid.uuid4().hex[:10]}"
    pg, sa = psycopg_url(args.server, name), sqlalchemy_url(args.server, name)
    reuse = bool(args.keep_db) and database_exists(args.server, name) and trips_loaded(pg) == args.trips
    engine = None
    proc = None
    try:
        with tempfile.TemporaryDirectory(prefix="scheldt-api-load-") as tmp_name:
            tmp = Path(tmp_name)
            if reuse:
                log(f"database {name}: reusing its {args.trips:,} trips (--keep-db)")
                engine = open_store(sa, auto_upgrade=True)
                load_s = 0.0
            else:
                create_database(args.server, name)
                engine = open_store(sa, auto_upgrade=True)
                t0 = time.perf_counter()
                templates = build_templates(tmp)
                log(f"templates: {len(templates)} scored simulated trips ({time.perf_counter() - t0:.1f} s)")
                log(f"loading {args.trips:,} trips into database {name} with COPY ...")
                load_s = load_trips(pg, templates, args.trips, args.seed, log)
                log(f"loaded {args.trips:,} trips and assessments in {load_s:.1f} s")
            seed_accounts(engine)
            tokens = make_tokens(engine)
            with psycopg.connect(pg) as conn:
                sizes = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('container_trip')), "
                                     "pg_size_pretty(pg_total_relation_size('trip_assessment'))").fetchone()
            log(f"sizes with indexes and TOAST: container_trip {sizes[0]}, trip_assessment {sizes[1]}")
            total = int(round(args.rate * (args.warmup + args.duration)))
            plan = plan_requests(engine, tokens, total, args.seed, log)

            log(f"server: {args.workers} server worker(s). {WORKERS_WHY if args.workers == 2 else ''}".rstrip())
            proc, port = start_server(sa, args.workers, tmp / "data", tmp / "server.log", args.app)
            if args.quiet_wait > 0:
                other = wait_for_quiet(proc.pid, args.quiet_wait, log)
                log(f"  other processes used {other:.2f} cores in the 5 s before the load")
            before = audit_count(pg)
            log(f"load: {args.rate:g} requests/s for {args.warmup:g} s warm-up + {args.duration:g} s measured, "
                f"open loop, over {args.connections} keep-alive connections")
            t0 = time.perf_counter()
            with generator_gc_paused():
                results, cpu0, cpu1 = asyncio.run(run_load(port, plan, tokens, args.rate, args.connections,
                                                           int(round(args.rate * args.warmup)), proc.pid))
            wall = time.perf_counter() - t0
            stop_server(proc)
            proc = None
            after = audit_count(pg)

            first = results[0].scheduled + args.warmup
            measured = [(r, q) for r, q in zip(results, plan, strict=True) if r.scheduled >= first - 1e-9]
            ok_all = sum(1 for r in results if 200 <= r.status < 300)
            errors = [r for r, _q in measured if r.error]
            sent = sorted(r.sent for r, _q in measured)
            achieved = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 and sent[-1] > sent[0] else float("nan")
            lag = max((r.sent - r.scheduled) * 1000 for r, _q in measured)
            by_kind = {k: latency_stats([r.latency_ms for r, q in measured if q.kind == k]) for k in KINDS}
            overall = latency_stats([r.latency_ms for r, _q in measured])
            by_label: dict[str, list[float]] = defaultdict(list)
            for r, q in measured:
                label = q.label if q.kind == KINDS[1] else q.label.split(",")[0] + (
                    ", first page" if q.label.endswith("page 1") else ", next pages")
                by_label[f"{q.kind}: {label}"].append(r.latency_ms)

            log("")
            log(f"API ({args.trips:,} trips, {args.workers} worker(s), {len(measured):,} requests measured over "
                f"{args.duration:g} s after {args.warmup:g} s warm-up; wall {wall:.1f} s)")
            log(f"  rate asked {args.rate:g}/s, achieved {achieved:.1f}/s (send times; worst send lag {lag:.1f} ms)")
            log(f"  errors: {len(errors)} (non-2xx or transport) of {len(measured):,}; {results[-1].retried} sent again "
                "on a new connection after the server closed an idle keep-alive one")
            for e, n in Counter(r.error.split(':')[0] for r in errors).most_common(5):
                log(f"    {n:,} x {e}")
            log("  latency from the scheduled send time, ms:")
            for k in KINDS:
                log(f"    {k:15s} {_fmt(by_kind[k])}")
            log(f"    {'overall':15s} {_fmt(overall)}")
            for label in sorted(by_label):
                log(f"      {label:40s} {_fmt(latency_stats(by_label[label]))}")
            cores = cpu0.cores(cpu1)
            done = sum(1 for r in results if cpu0.at <= r.scheduled + r.latency_ms / 1000 <= cpu1.at)
            served = done / (cpu1.at - cpu0.at)
            log(f"  CPU over the measured window, cores of {os.cpu_count()}: machine {cores['machine']:.2f} = server "
                f"{cores['server']:.2f} + PostgreSQL {cores['postgres']:.2f} + load generator {cores['generator']:.2f} + "
                f"other processes {cores['other']:.2f}; {served:.0f} responses/s over the window, CPU per response: "
                f"server {cores['server'] / served * 1000:.2f} ms, PostgreSQL {cores['postgres'] / served * 1000:.2f} ms, "
                f"generator {cores['generator'] / served * 1000:.2f} ms")
            busiest = cpu0.busiest_others(cpu1)
            if busiest:
                log("  busiest other processes: " + ", ".join(f"{name} {c:.2f} cores" for name, c in busiest))
            log(f"  audit: {after - before:,} entries written during the run for {ok_all:,} successful requests "
                f"(warm-up included)")

            log("")
            log(f"database alone: the SQL of {args.db_sample} requests of each kind, recorded in-process and replayed "
                "with psycopg (one connection, closed loop, 3 rounds), per request from first statement to COMMIT:")
            recorded = record_sql(engine, plan, tokens, args.db_sample)
            db_ms = replay_sql(pg, recorded, 3)
            statements = {k: sorted(Counter(len(r.statements) for r in recorded if r.kind == k)) for k in KINDS}
            db_stats = {k: latency_stats(db_ms[k]) for k in KINDS}
            db_all = latency_stats([v for k in KINDS for v in db_ms[k]])
            for k in KINDS:
                log(f"    {k:15s} {_fmt(db_stats[k])}   ({'/'.join(map(str, statements[k]))} statements + COMMIT)")
            log(f"    {'overall':15s} {_fmt(db_all)}")
            ratio = {k: by_kind[k]["p99"] / db_stats[k]["p99"] for k in KINDS}
            log("  API p99 / database p99: " + ", ".join(f"{k} {ratio[k]:.1f}x" for k in KINDS)
                + f", overall {overall['p99'] / db_all['p99']:.1f}x")

            with unit_of_work(engine) as uow:
                report = AuditLog(uow.session).verify()
            log(f"  audit chain: {report.checked:,} entries verified, {'ok' if report.ok else 'BROKEN'}"
                + ("" if report.ok else f": {'; '.join(map(str, report.problems[:5]))}"))

            passed = overall["p99"] <= GOAL_P99_MS and not errors and report.ok and after - before == ok_all
            log("")
            log(f"{'PASS' if passed else 'FAIL'}: p99 {overall['p99']:.1f} ms (goal <= {GOAL_P99_MS:g}), errors "
                f"{len(errors)} (goal 0), audit entries {after - before:,} for {ok_all:,} requests, chain "
                f"{'ok' if report.ok else 'broken'}")
            summary = {"trips": args.trips, "rate_asked": args.rate, "rate_achieved": round(achieved, 2),
                       "duration_s": args.duration, "warmup_s": args.warmup, "workers": args.workers,
                       "requests": len(measured), "errors": len(errors), "load_s": round(load_s, 1),
                       "api_ms": {k: {s: round(v, 2) for s, v in by_kind[k].items()} for k in KINDS}
                       | {"overall": {s: round(v, 2) for s, v in overall.items()}},
                       "db_ms": {k: {s: round(v, 2) for s, v in db_stats[k].items()} for k in KINDS}
                       | {"overall": {s: round(v, 2) for s, v in db_all.items()}},
                       "cpu_cores": {k: round(v, 3) for k, v in cores.items()}, "responses_per_s": round(served, 1),
                       "audit_entries": after - before, "ok_requests": ok_all, "audit_ok": report.ok,
                       "pass": passed}
            print("SUMMARY " + json.dumps(summary), flush=True)
            return 0 if passed else 1
    finally:
        if proc is not None:
            stop_server(proc)
        if engine is not None:
            engine.dispose()
        if not args.keep_db:
            drop_database(args.server, name)


if __name__ == "__main__":
    sys.exit(main())
