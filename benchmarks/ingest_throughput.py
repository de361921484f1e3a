"""Ingest throughput: DCSA equipment events per second into SQLite and PostgreSQL, end to end,
beside a bare bulk insert of the same final rows in the same run; the 1.7 MB BAPLIE read beside
pydifact's own tokenizing; peak memory on a 10x larger event stream against the 1x run.

The event stream is generated from the shape of the real DCSA T&T 3.0 equipment notification
in ../shared/fixtures (new UUIDs, valid ISO 6346 numbers, times and ports varied).
Baselines: executemany of the final rows in one transaction (SQLite), COPY (PostgreSQL), into a
table without indexes (the goal's ratio); beside them, the same into the store's own table with
its unique key and indexes (what the rows cost the database alone).

Goals (issue 3): >= 20,000 events/s into each store end to end and >= 0.25x the bare insert;
BAPLIE read within 2x pydifact's tokenize time; peak memory at 10x within 1.2x of the 1x run.
Usage: python benchmarks/ingest_throughput.py [--events 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from pydifact import Parser
from stdnum import iso6346

from _common import KCS  # noqa: F401  (sets thread variables)
from scheldt.ingest.edifact.messages import read_edifact
from scheldt.store.db import open_store, unit_of_work
from scheldt.store.models import ShippingEventRow
from scheldt.workflows.ingest import IngestOptions, ingest_file

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
SAMPLE = json.loads((FIXTURES / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").read_text())["events"][0]
PORTS = ["NLRTM", "BEANR", "DEHAM", "ECGYE", "COCTG", "PABLB", "CRMOB", "ESALG"]
TYPES = ["LOAD", "DISC", "GTIN", "GTOT", "PICK", "DROP"]
NOW = datetime(2028, 1, 1, tzinfo=UTC)  # received after the last of a million events a minute apart from 2026


def generate(path: Path, n: int) -> None:
    """Write ``n`` equipment events shaped like the DCSA sample as one {"events": [...]} page."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with path.open("w") as fh:
        fh.write('{"events": [')
        for i in range(n):
            body = f"{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[i % 26]}{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[(i // 26) % 26]}TU{i % 1000000:06d}"
            e = json.loads(json.dumps(SAMPLE))
            e["eventID"] = str(uuid.UUID(int=i + 1))
            when = start + timedelta(minutes=i)
            e["eventDateTime"] = e["eventUpdatedDateTime"] = when.isoformat().replace("+00:00", "Z")
            e["eventLocation"]["UNLocationCode"] = PORTS[i % len(PORTS)]
            e["eventClassification"]["equipmentEventTypeCode"] = TYPES[i % len(TYPES)]
            e["equipmentDetails"]["equipmentReference"] = body + iso6346.calc_check_digit(body)
            fh.write(("," if i else "") + json.dumps(e))
        fh.write("]}")


def end_to_end(url: str, path: Path, fetch_rows: bool = True) -> tuple[float, int, list[dict]]:
    engine = open_store(url, auto_upgrade=True)
    gc.freeze()  # as `scheldt ingest` does before reading
    t = time.perf_counter()
    with unit_of_work(engine) as uow:
        report = ingest_file(uow, path, IngestOptions(), NOW)
    elapsed = time.perf_counter() - t
    rows: list[dict] = []
    if fetch_rows:
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(ShippingEventRow.__table__.select())]
    engine.dispose()
    return elapsed, report.added, rows


def bare_sqlite(path: Path, rows: list[dict], indexed: bool = False) -> float:
    """executemany of ``rows`` in one transaction into a table without indexes, or (``indexed``)
    into shipping_event as the store creates and opens it (its unique key and indexes, its
    pragmas)."""
    import sqlite3

    cols = [c for c in rows[0] if c != "id"]
    if indexed:
        open_store(f"sqlite:///{path}", auto_upgrade=True).dispose()
    conn = sqlite3.connect(path)
    if indexed:  # as the store opens it (scheldt.store.db): WAL, synchronous NORMAL, a 32 MiB page cache
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-32768")
    if not indexed:
        conn.execute(f"CREATE TABLE bare ({', '.join(cols)})")
    table = "shipping_event" if indexed else "bare"
    data = [tuple(json.dumps(r[c]) if isinstance(r[c], (dict, list)) else r[c] for c in cols) for r in rows]
    t = time.perf_counter()
    with conn:
        conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", data)
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def bare_postgres(url: str, rows: list[dict], indexed: bool = False) -> float:
    """COPY of ``rows`` into a temporary copy of shipping_event without its indexes, or
    (``indexed``) with its unique key and indexes (LIKE ... INCLUDING ALL)."""
    cols = [c for c in rows[0] if c != "id"]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    data = [tuple(json.dumps(r[c]) if isinstance(r[c], (dict, list)) else r[c] for c in cols) for r in rows]
    with psycopg.connect(dsn) as conn:
        conn.execute(f"CREATE TEMP TABLE bare (LIKE shipping_event INCLUDING {'ALL' if indexed else 'DEFAULTS'})")
        t = time.perf_counter()
        with conn.cursor().copy(f"COPY bare ({', '.join(cols)}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - t


def fresh_postgres(server: str) -> tuple[str, str]:
    name = f"scheldt_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"


def drop_postgres(server: str, name: str) -> None:
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def peak_memory_child(path: str, db: str) -> None:
    """Run in a child process: ingest ``path`` into SQLite ``db``, print peak RSS in KiB.

    Reads VmHWM from /proc: ``ru_maxrss`` survives exec on Linux and would report the parent's peak.
    """
    end_to_end(f"sqlite:///{db}", Path(path), fetch_rows=False)
    status = Path("/proc/self/status").read_text()
    print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))


def baplie() -> None:
    path = FIXTURES / "edifact" / "BAPLIE_1-911_SMDG15_large-9995-containers.edi"
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        list(Parser().parse(data.decode("utf-8-sig")))
        tokenize = time.perf_counter() - t
    t = time.perf_counter()
    records = list(read_edifact(data, path.name))
    read = time.perf_counter() - t
    print(f"BAPLIE {len(data) / 1e6:.1f} MB, {len(records)} containers: pydifact tokenize {tokenize:.2f} s, "
          f"Scheldt read {read:.2f} s, ratio {read / tokenize:.2f} (goal <= 2)")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--peak-child":
        peak_memory_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--memory-only", action="store_true", help="Only the peak-memory comparison.")
    parser.add_argument("--postgres", default=os.environ.get("SCHELDT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory_only:
            memory(args.events, tmp)
            return
        events = Path(tmp) / "events.json"
        generate(events, args.events)
        print(f"{args.events:,} equipment events, {events.stat().st_size / 1e6:.0f} MB of DCSA T&T 3.0 JSON")
        seconds, added, rows = end_to_end(f"sqlite:///{tmp}/store.db", events)
        bare = bare_sqlite(Path(tmp) / "bare.db", rows)
        bare_ix = bare_sqlite(Path(tmp) / "bare-indexed.db", rows, indexed=True)
        print(f"SQLite: end to end {added / seconds:,.0f} events/s ({seconds:.1f} s); bare executemany "
              f"{len(rows) / bare:,.0f} rows/s; ratio {(added / seconds) / (len(rows) / bare):.2f} (goals >= 20,000/s, >= 0.25)")
        print(f"  beside: bare executemany into the store's own table (unique key, 4 indexes) {len(rows) / bare_ix:,.0f} "
              f"rows/s; end to end {(added / seconds) / (len(rows) / bare_ix):.2f}x that")
        name, url = fresh_postgres(args.postgres)
        try:
            seconds, added, rows = end_to_end(url, events)
            bare = bare_postgres(url, rows)
            bare_ix = bare_postgres(url, rows, indexed=True)
        finally:
            drop_postgres(args.postgres, name)
        print(f"PostgreSQL: end to end {added / seconds:,.0f} events/s ({seconds:.1f} s); bare COPY "
              f"{len(rows) / bare:,.0f} rows/s; ratio {(added / seconds) / (len(rows) / bare):.2f} (goals >= 20,000/s, >= 0.25)")
        print(f"  beside: bare COPY into a copy of the store's own table (unique key, 4 indexes) {len(rows) / bare_ix:,.0f} "
              f"rows/s; end to end {(added / seconds) / (len(rows) / bare_ix):.2f}x that")
        del rows
        memory(args.events, tmp)
    baplie()


def memory(events: int, tmp: str) -> None:
    """Peak memory of ingesting a stream of events/10 events and one 10x larger, each in a child."""
    small, large = Path(tmp) / "small.json", Path(tmp) / "large.json"
    n_small = max(events // 10, 1000)
    generate(small, n_small)
    generate(large, n_small * 10)
    peaks = []
    for p in (small, large):
        out = subprocess.run([sys.executable, __file__, "--peak-child", str(p), f"{tmp}/{p.stem}.db"],
                             capture_output=True, text=True, check=True).stdout.split()[-1]
        peaks.append(int(out) / 1024)
    print(f"peak memory: {n_small:,} events {peaks[0]:.0f} MiB, {n_small * 10:,} events {peaks[1]:.0f} MiB, "
          f"ratio {peaks[1] / peaks[0]:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main()
