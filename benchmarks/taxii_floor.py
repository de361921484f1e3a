"""What a TAXII page costs the stack itself, beside nothing of Scheldt: the floor under issue 6's
page goal (p50 <= 10 ms with 8 clients), measured the way ``taxii_load.py`` measures Scheldt.

Four throwaway servers, each run as two uvicorn worker processes on their own ``SO_REUSEPORT``
sockets (as ``scheldt serve --workers 2``), are loaded in turn by 8 closed-loop keep-alive
clients (``api_load.HttpConnection``, the benchmarks' lean client) asking for pages of 100
objects at random positions:

1. ``asgi``: a bare ASGI app returning one fixed page;
2. ``fastapi``: a FastAPI route returning that page;
3. ``fastapi-pg``: a FastAPI route reading the page (objects' stored JSON text, by an index on
   (collection, seq)) from a table of ``--rows`` objects in a fresh PostgreSQL database, in the
   route's thread pool as Scheldt does;
4. ``fastapi-pg-audit``: the same, with one audit row inserted (and committed) per page.

None of them authenticates, applies a visibility policy or chains its audit entries: the gap to
``taxii_load.py``'s figures is what Scheldt's page adds. The database is dropped at the end.
Usage: python benchmarks/taxii_floor.py [--rows 1000000] [--seconds 15] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import psycopg

import api_load as al

MODES = ("asgi", "fastapi", "fastapi-pg", "fastapi-pg-audit")
OBJECT = {"type": "indicator", "spec_version": "2.1", "created": "2026-01-01T00:00:00.000Z",
          "modified": "2026-01-01T00:00:00.000Z", "name": "Container of interest MSCU1234565",
          "description": "x" * 300, "pattern": "[x-scheldt-container:number = 'MSCU1234565']",
          "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
          "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}


def stored_object(i: int) -> str:
    """The JSON text of object ``i`` (about 600 bytes)."""
    return orjson.dumps({**OBJECT, "id": f"indicator--{uuid.UUID(int=i + 1)}"}).decode()


PAGE = ('{"more":true,"next":"1","objects":[' + ",".join(stored_object(i) for i in range(100)) + "]}").encode()


def app(mode: str, url: str):  # type: ignore[no-untyped-def]
    """The ASGI app of ``mode`` (see the module docstring)."""
    head = [(b"content-type", b"application/taxii+json;version=2.1"), (b"content-length", str(len(PAGE)).encode())]

    async def bare(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": head})
            await send({"type": "http.response.body", "body": PAGE})

    if mode == "asgi":
        return bare
    from fastapi import FastAPI
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import Response

    api = FastAPI()
    conn = psycopg.connect(url, autocommit=True) if mode != "fastapi" else None

    def read(after: int) -> list[tuple[int, str]]:
        assert conn is not None
        with conn.cursor() as cur:  # psycopg serialises the pool threads on the connection
            cur.execute("SELECT seq, body FROM floor_object WHERE coll = 1 AND seq > %s ORDER BY seq LIMIT 100",
                        (after,), prepare=True)
            rows = cur.fetchall()
            if mode == "fastapi-pg-audit":
                cur.execute("INSERT INTO floor_audit (at, who, what, n) VALUES (now(), %s, %s, %s)",
                            ("officer", "objects", len(rows)), prepare=True)
        return rows

    @api.get("/taxii2/r/collections/{collection}/objects/")
    async def objects(collection: str, next: str | None = None) -> Response:
        if conn is None:
            return Response(PAGE, media_type="application/taxii+json;version=2.1")
        rows = await run_in_threadpool(read, int(next or 0))
        body = '{"more":true,"next":"' + str(rows[-1][0]) + '","objects":[' + ",".join(r[1] for r in rows) + "]}"
        return Response(body.encode(), media_type="application/taxii+json;version=2.1")

    return api


def serve(mode: str, url: str, port: int) -> None:
    """Run one worker of ``mode`` on its own SO_REUSEPORT socket (a child process)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    uvicorn.Server(uvicorn.Config(app(mode, url), log_level="warning", access_log=False, http="httptools")).run(
        sockets=[sock])


async def load(port: int, seconds: float, rows: int) -> tuple[float, float, float]:
    """8 closed-loop clients for ``seconds``: (pages a second, p50 ms, p99 ms)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(k: int) -> None:
        conn = await al.HttpConnection.open(port)
        rng = random.Random(k)
        while time.perf_counter() < stop:
            raw = (f"GET /taxii2/r/collections/c/objects/?limit=100&next={rng.randrange(0, max(1, rows - 100))} "
                   "HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/taxii+json;version=2.1\r\n\r\n").encode()
            t = time.perf_counter()
            status, _, _ = await conn.request(raw)
            latencies.append((time.perf_counter() - t) * 1000)
            if status != 200:
                raise RuntimeError(f"status {status}")
        conn.writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(k) for k in range(8)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return len(latencies) / elapsed, al.percentile(latencies, 50), al.percentile(latencies, 99)


def fill(url: str, rows: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE floor_object (seq bigserial PRIMARY KEY, coll int NOT NULL, body text NOT NULL)")
        conn.execute("CREATE TABLE floor_audit (id bigserial PRIMARY KEY, at timestamptz, who text, what text, n int)")
        with conn.cursor() as cur, cur.copy("COPY floor_object (coll, body) FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((1, stored_object(i)))
        conn.execute("CREATE INDEX ON floor_object (coll, seq)")
        conn.execute("VACUUM ANALYZE floor_object")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="objects in the PostgreSQL table")
    p.add_argument("--seconds", type=float, default=15.0, help="seconds of load per server")
    p.add_argument("--postgres", default=al.SERVER_DEFAULT, help="a PostgreSQL server URL (a database is created)")
    p.add_argument("--serve", nargs=3, metavar=("MODE", "URL", "PORT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return
    name = f"scheldt_taxii_floor_{os.getpid()}"
    al.create_database(args.postgres, name)
    url = al.psycopg_url(args.postgres, name)
    try:
        t = time.perf_counter()
        fill(url, args.rows)
        print(f"{args.rows:,} objects stored in {time.perf_counter() - t:.0f} s", flush=True)
        for mode in MODES:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            workers = [subprocess.Popen([sys.executable, __file__, "--serve", mode, url, str(port)],
                                        cwd=Path(__file__).parent) for _ in range(2)]
            try:
                time.sleep(3)
                rate, p50, p99 = asyncio.run(load(port, args.seconds, args.rows))
            finally:
                for w in workers:
                    w.terminate()
                for w in workers:
                    w.wait(10)
            print(f"  {mode:<18} {rate:8,.0f} pages/s  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms", flush=True)
        print("Scheldt's own page at the same load: benchmarks/taxii_load.py (goal p50 <= 10 ms, p99 <= 50 ms)")
    finally:
        al.drop_database(args.postgres, name)


if __name__ == "__main__":
    main()
