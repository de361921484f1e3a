"""TAXII 2.1 under load: Scheldt's server at 10,000, 100,000 and 1,000,000 STIX objects, and the
reference TAXII server (PyPI medallion, memory backend) at 10,000, measured side by side.

Goals (issue 6): page p50 <= 10 ms and p99 <= 50 ms at 1,000,000 objects with 8 concurrent
clients, cost flat in collection size; ingest >= 5,000 objects/s. (The third goal, a change on
one node visible on its peer within 5 s at p95, is measured by
``benchmarks/federation_latency.py``.)

What it does:

1. Objects. SIMULATED shared items as Scheldt writes them (:func:`scheldt.exchange.stix_mapping.to_stix`):
   alerts 40 % (a grouping with its container, consignment, vessel call and a party with its
   location: 7 objects), watchlist entries 25 % (an indicator: companies, containers, seal
   ranges, routes), seizure reports 15 % (a seizure with its container, consignment and vessel
   call: 4 objects) and sightings 20 % (feedback on an earlier alert). 300 items are built by
   the library once as templates; each copy gets a new main id and the part ids Scheldt derives
   from it (uuid5, as ``to_stix`` does), so every object version is new. About three in four
   items are drawn for the sharing group ``be-us`` (Belgian and US customs; TLP:AMBER 45 %,
   AMBER+STRICT 20 %, GREEN 15 %, RED to named officers 10 %, CLEAR 10 %; alerts, seizure
   reports and watchlist entries for containers or seal ranges, which Scheldt never shares CLEAR
   or AMBER, take AMBER+STRICT and GREEN; GREEN and CLEAR reach the whole community, so those
   go to the community collection), the rest to the
   community collection (GREEN 60 %, CLEAR 30 %, RED 10 %).
2. Scheldt. A fresh PostgreSQL database (dropped at the end), migrated, with four
   organisations: ``be-customs`` and ``us-cbp`` (agencies, the sharing group ``be-us``),
   ``nl-customs`` (an agency outside the group) and ``carrier-a`` (a shipping line, client of
   be-customs: it reads TLP:AMBER of be-us, nothing stricter). Scheldt's worker supervisor
   serves the API (:func:`api_load.app_factory`, ``--workers`` processes each on its own
   SO_REUSEPORT socket, as ``scheldt serve --workers N``) on loopback.
3. Ingest. The collection grows to each size in turn by TAXII Add Objects (``POST
   .../objects/``, envelopes of up to ``--envelope`` objects and under 1 MiB, as taxii2-client
   sends them) from ``--posters`` concurrent clients (us-cbp's and be-customs' liaison
   officers, each posting the items its own organisation made: Scheldt takes an
   organisation's objects only from it); every status must report every object added. Objects per second = objects added
   / wall time of the step. The envelopes of a step are written to a temporary file before the
   step, so making them costs the measured server nothing. After each step the exchange
   tables are vacuumed and analysed (VACUUM ANALYZE), as autovacuum does after a bulk insert
   (PostgreSQL 13 and later), so that work is not measured as part of the reads.
4. At each size, on the ``be-us`` collection with ``limit=100`` (pages of 100 objects):
   *first page* (``--samples`` requests, one client, Belgian targeting officer), *full walk*
   of the collection by ``next`` (one client; capped at ``--walk-cap`` s, reported as cut),
   *added_after polls* (``--samples`` requests asking for what was added after a time among
   the newest 1 %, as a client polling for news does) and *8 clients* (``--clients``,
   closed loop for ``--duration`` s, each its own keep-alive connection and API token: three
   Belgian officers and a US liaison officer on be-us, the carrier on be-us (AMBER only) and
   on community (CLEAR only), two Dutch analysts on community; each request a first page 20 %,
   a page at a random ``next`` cursor from the walk 60 %, an added_after poll 20 %).
   Latencies are from sending the request to the end of its body (ms). Every request is
   authenticated (Bearer token) and audited, as in production.
5. medallion at 10,000 objects (``--medallion-size``): the same objects in its memory backend
   (its JSON data file, as its documentation loads it), served by its own ``medallion``
   command (Flask) with pages of 100 and HTTP Basic, then first page, full walk, added_after
   polls, 8 clients and Add Objects of ``--envelope`` objects, each capped at
   ``--medallion-cap`` s: a measurement cut there is printed as ``>= cap`` (a lower bound) and
   medallion is restarted before the next one (it goes on working on a request whose client
   gave up).

Units: latencies in milliseconds, rates per second, durations in seconds.

Usage::

    .venv/bin/python benchmarks/taxii_load.py                                # 10k, 100k, 1M; medallion at 10k
    .venv/bin/python benchmarks/taxii_load.py --sizes 10000,100000 --medallion-cap 30
    .venv/bin/python benchmarks/taxii_load.py --sizes 10000 --no-medallion --duration 10

The last line printed is ``SUMMARY {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

import api_load as al
from scheldt.domain.exchange import Tlp
from scheldt.exchange.items import (
    Alert,
    Consignment,
    Container,
    Meta,
    Party,
    Reason,
    Seizure,
    SeizureReport,
    Sighting,
    VesselCall,
    WatchEntry,
)
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.exchange.stix_mapping import part_id, to_stix

GOAL_P50_MS, GOAL_P99_MS, GOAL_INGEST = 10.0, 50.0, 5_000.0
TAXII = "application/taxii+json;version=2.1"
PASSWORD = "benchmark password, not a secret"
GROUP = "be-us"
#: username → (organisation, roles)
USERS = {"be-officer-1": ("be-customs", ["targeting_officer"]), "be-officer-2": ("be-customs", ["targeting_officer"]),
         "be-officer-3": ("be-customs", ["targeting_officer"]), "be-liaison": ("be-customs", ["liaison_officer"]),
         "us-liaison": ("us-cbp", ["liaison_officer"]), "nl-analyst-1": ("nl-customs", ["analyst"]),
         "nl-analyst-2": ("nl-customs", ["analyst"]), "carrier-sec": ("carrier-a", ["carrier_security"])}
#: The 8 concurrent clients: (user, collection alias).
CLIENTS = [("be-officer-1", GROUP), ("be-officer-2", GROUP), ("be-officer-3", GROUP), ("us-liaison", GROUP),
           ("carrier-sec", GROUP), ("carrier-sec", "community"), ("nl-analyst-1", "community"),
           ("nl-analyst-2", "community")]
RED_RECIPIENTS = (("be-customs", "be-officer-1"), ("us-cbp", "us-liaison"))
PORTS = ["ECGYE", "COCTG", "PABLB", "CRMOB", "BRSSZ", "PECLL", "DOCAU", "BEANR", "NLRTM", "DEHAM", "ESALG"]
MEDALLION_COLLECTION = "9f1c0a52-0c55-4c11-9b1a-6f4f2b0e7a10"


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------
# objects


@dataclass
class Template:
    """One item's STIX objects as JSON text, with the ids each copy replaces: the main id and
    (old id, STIX type, role) of each part Scheldt derives from it; ``alert_ref`` is the alert a
    sighting names (replaced by an earlier alert's id)."""

    text: str
    main_type: str
    main_id: str
    parts: list[tuple[str, str, str]]
    count: int
    collection: str
    owner: str
    alert_ref: str = ""


def _container_number(rng: random.Random) -> str:
    from stdnum import iso6346
    body = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U" + f"{rng.randrange(10**6):06d}"
    return body + iso6346.calc_check_digit(body)


def _sharing(kind: str, rng: random.Random, now: datetime) -> Sharing:
    if rng.random() < 0.75:
        tlp = rng.choices([Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.GREEN, Tlp.RED, Tlp.CLEAR], [45, 20, 15, 10, 10])[0]
        group: str | None = GROUP
    else:
        tlp, group = rng.choices([Tlp.GREEN, Tlp.CLEAR, Tlp.RED], [60, 30, 10])[0], None
    if kind in ("alert", "seizure-report"):  # never CLEAR or AMBER, as Scheldt shares them (no carrier reads them)
        tlp = _for_agencies(tlp)
    if tlp in (Tlp.GREEN, Tlp.CLEAR):  # the community's, never a group's
        group = None
    recipients = RED_RECIPIENTS if tlp == Tlp.RED else ()
    return Sharing(kind, tlp, group, rng.choice(["", "", "H1", "NOT FOR COURT"]), rng.choice("ABC"),
                   rng.choice("123"), recipients, now, now + timedelta(days=rng.choice([30, 90, 365])))


def _for_agencies(tlp: Tlp) -> Tlp:
    """The marking of an item only agencies may read: AMBER+STRICT for AMBER, GREEN for CLEAR."""
    return {Tlp.AMBER: Tlp.AMBER_STRICT, Tlp.CLEAR: Tlp.GREEN}.get(tlp, tlp)


def _item(i: int, rng: random.Random, now: datetime, alert_placeholder: str) -> Any:
    roll = rng.random()
    kind = "alert" if roll < 0.40 else "watchlist-entry" if roll < 0.65 else "seizure-report" if roll < 0.80 \
        else "sighting"
    main_type = {"alert": "grouping", "watchlist-entry": "indicator", "seizure-report": "scheldt-seizure",
                 "sighting": "sighting"}[kind]
    owner = rng.choice(["us-cbp", "be-customs"])
    meta = Meta(f"{main_type}--{uuid.UUID(int=rng.getrandbits(128), version=4)}", identity_id(owner), now, now,
                _sharing(kind, rng, now))
    pol = rng.choice(PORTS[:7])
    number = _container_number(rng)
    container = Container(number, rng.choice(["45R1", "42G1", "22G1"]), (f"SL{rng.randrange(10**6):06d}",))
    consignment = Consignment(f"BL{rng.randrange(10**9):09d}", "master", rng.choice(["MSCU", "MAEU", "CMDU"]), pol,
                              "BEANR", f"Exportadora {i} S.A.", f"Importer {i} BV", "", ("0803",))
    call = VesselCall(f"9{rng.randrange(10**5):05d}" + "0", f"VESSEL {i % 50}", f"{rng.randrange(100):02d}N", "BEANR", now)
    if kind == "alert":
        party = Party(f"Importer {i} BV", "company", "consignee", f"{i} Havenstraat, Antwerpen", "BE")
        return Alert(meta, f"Container {number} of interest", (Reason("high_risk_origin", f"Loaded at {pol}"),
                                                             Reason("new_consignee", "Consignee first seen 12 days ago")),
                     round(rng.uniform(40, 95), 1), f"{number} / {consignment.document_ref}", container, consignment,
                     call, (party,))
    if kind == "watchlist-entry":
        sub = rng.choice(["company", "company", "container", "seal-range", "route"])
        if sub in ("container", "seal-range"):  # agencies only, as alerts (scheldt.workflows.sharing.agency_only)
            meta = replace(meta, sharing=replace(meta.sharing, tlp=_for_agencies(meta.sharing.tlp)))
        if sub == "company":
            return WatchEntry(meta, "company", "Front company", name=f"Tropical Fruit Trading {i} Ltd",
                              aliases=(f"TFT {i}",), country="EC")
        if sub == "container":
            return WatchEntry(meta, "container", "Rip-on container", container_number=number)
        if sub == "seal-range":
            lo = rng.randrange(10**5)
            return WatchEntry(meta, "seal-range", "Stolen seals", seal_from=f"SL{lo:06d}", seal_to=f"SL{lo + 500:06d}")
        return WatchEntry(meta, "route", "Route of interest", route=(pol, "PABLB", "BEANR"))
    if kind == "seizure-report":
        return SeizureReport(meta, Seizure("cocaine", round(rng.uniform(20, 900), 1), "behind_doors", "risk", now, pol,
                                           pol[:2]), container, consignment, call)
    return Sighting(meta, alert_placeholder, rng.choice(["seizure", "nothing_found", "irregularity"]), now,
                    (identity_id(owner),), 1, "Searched after the alert")


def build_templates(n: int, seed: int) -> list[Template]:
    """``n`` item templates (see the module docstring), built through ``to_stix``."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    placeholder = f"grouping--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    roles = ["container", "consignment", "vessel-call", "party:0"]
    out = []
    for i in range(n):
        item = _item(i, rng, now, placeholder)
        objects = to_stix(item)
        main = objects[0]
        parts = []
        for o in objects[1:]:
            role = next(r for r in roles if part_id(main["id"], o["type"], r) == o["id"])
            parts.append((o["id"], o["type"], role))
        group = item.meta.sharing.group
        text = json.dumps(objects, separators=(",", ":"))[1:-1]
        owner = next(o for o in ("us-cbp", "be-customs") if identity_id(o) == item.meta.created_by)
        out.append(Template(text, main["type"], main["id"], parts, len(objects), group or "community", owner,
                            placeholder if isinstance(item, Sighting) else ""))
    return out


class ObjectSource:
    """Copies of the templates, in a seeded order, as JSON texts of whole items."""

    def __init__(self, templates: list[Template], seed: int) -> None:
        self.templates, self.rng = templates, random.Random(seed)
        self.alerts: list[str] = []

    def item(self) -> tuple[str, int, str, str]:
        """(JSON of the item's objects without brackets, object count, collection alias, the
        organisation that made it)."""
        t = self.rng.choice(self.templates)
        while t.alert_ref and not self.alerts:
            t = self.rng.choice(self.templates)
        main = f"{t.main_type}--{uuid.UUID(int=self.rng.getrandbits(128), version=4)}"
        text = t.text.replace(t.main_id, main)
        for old, stix_type, role in t.parts:
            text = text.replace(old, part_id(main, stix_type, role))
        if t.alert_ref:
            text = text.replace(t.alert_ref, self.rng.choice(self.alerts))
        elif t.main_type == "grouping":
            self.alerts.append(main)
            if len(self.alerts) > 10_000:
                del self.alerts[:5_000]
        return text, t.count, t.collection, t.owner


def write_envelopes(source: ObjectSource, n: int, envelope: int, path: Path) -> int:
    """Write envelopes holding ``n`` objects (whole items of one organisation, which posts them;
    up to ``envelope`` objects and 900 KiB each) to ``path``, one line each as
    ``<collection>\\t<organisation>\\t<count>\\t<json>``. Returns how many objects."""
    pending: dict[tuple[str, str], list[str]] = {}
    counts: dict[tuple[str, str], int] = {}
    sizes: dict[tuple[str, str], int] = {}
    total = 0
    with path.open("w") as fh:
        def flush(key: tuple[str, str]) -> None:
            if pending.get(key):
                fh.write(f"{key[0]}\t{key[1]}\t{counts[key]}\t{{\"objects\":[{','.join(pending[key])}]}}\n")
            pending[key], counts[key], sizes[key] = [], 0, 0

        while total < n:
            text, count, coll, owner = source.item()
            key = (coll, owner)
            if counts.get(key, 0) + count > envelope or sizes.get(key, 0) + len(text) > 900 * 1024:
                flush(key)
            pending.setdefault(key, []).append(text)
            counts[key] = counts.get(key, 0) + count
            sizes[key] = sizes.get(key, 0) + len(text)
            total += count
        for key in list(pending):
            flush(key)
    return total


# --------------------------------------------------------------------------------------------
# HTTP


class Client:
    """A keep-alive HTTP/1.1 connection (reopened when the server closes it) sending TAXII
    requests with one ``Authorization`` header."""

    def __init__(self, port: int, authorization: str) -> None:
        self.port, self.auth = port, authorization
        self.conn: al.HttpConnection | None = None

    async def send(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> tuple[int, bytes, dict[str, str]]:
        """Send one request; return (status, body, the headers this benchmark reads)."""
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAccept: {TAXII}\r\n"
                f"Authorization: {self.auth}\r\n")
        if body:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        raw = head.encode() + b"\r\n" + body
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = await al.HttpConnection.open(self.port)
            try:
                status, data, keep, headers = await _request(self.conn, raw)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            if not keep:
                self.close()
            return status, data, headers
        raise RuntimeError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


async def _request(conn: al.HttpConnection, raw: bytes) -> tuple[int, bytes, bool, dict[str, str]]:
    """:meth:`api_load.HttpConnection.request`, keeping the X-TAXII-* headers."""
    conn.writer.write(raw)
    head = await conn.reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    http10 = lines[0].startswith(b"HTTP/1.0")
    length, keep, headers = -1, not http10, {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"connection":
            keep = b"keep-alive" in value.lower() if http10 else b"close" not in value.lower()
        elif key.startswith(b"x-taxii"):
            headers[key.decode()] = value.strip().decode()
    if length >= 0:
        body = await conn.reader.readexactly(length)
    else:
        body, keep = await conn.reader.read(), False
    return status, body, keep, headers


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def objects_path(root: str, collection: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return f"{root}collections/{collection}/objects/" + (f"?{query}" if query else "")


# --------------------------------------------------------------------------------------------
# measurements (server-neutral: a root path, collection ids and clients)


@dataclass
class Target:
    """A TAXII server under test: port, API root path, collection id per alias, the
    Authorization header of each user, and the cap (s) of each measurement (None: none)."""

    name: str
    port: int
    root: str
    collections: dict[str, str]
    auth: dict[str, str]
    cap: float | None = None


@dataclass
class Figures:
    """What one measurement gave: latencies (ms), requests, errors, objects, whether it was cut."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    objects: int = 0
    seconds: float = 0.0
    cut: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def stats(self) -> dict[str, Any]:
        s = al.latency_stats(self.latencies)
        return {"requests": s["count"], "p50_ms": round(s["p50"], 2), "p99_ms": round(s["p99"], 2),
                "max_ms": round(s["max"], 2), "errors": self.errors, "objects": self.objects,
                "seconds": round(self.seconds, 2), "cut": self.cut, **self.extra}


async def _timed(client: Client, path: str, figures: Figures) -> tuple[int, dict[str, Any] | None]:
    start = time.perf_counter()
    status, body, _ = await client.send("GET", path)
    figures.latencies.append((time.perf_counter() - start) * 1000)
    if status != 200:
        figures.errors += 1
        return status, None
    doc = json.loads(body) if body else {}
    figures.objects += len(doc.get("objects", ()))
    return status, doc


async def _capped(target: Target, work: Any, figures: Figures) -> Figures:
    start = time.perf_counter()
    try:
        if target.cap is None:
            await work
        else:
            await asyncio.wait_for(work, target.cap)
    except TimeoutError:
        figures.cut = True
    figures.seconds = time.perf_counter() - start
    return figures


async def first_pages(target: Target, user: str, samples: int) -> Figures:
    """``samples`` first pages of be-us (limit 100), one after another."""
    figures = Figures()
    client = Client(target.port, target.auth[user])

    async def work() -> None:
        for _ in range(samples):
            await _timed(client, objects_path(target.root, target.collections[GROUP], limit="100"), figures)
    try:
        return await _capped(target, work(), figures)
    finally:
        client.close()


async def full_walk(target: Target, user: str) -> Figures:
    """Walk be-us by ``next`` from the start; the cursors met are kept (``extra['cursors']``)."""
    figures = Figures()
    cursors: list[str] = []
    client = Client(target.port, target.auth[user])

    async def work() -> None:
        nxt = ""
        while True:
            _, doc = await _timed(client, objects_path(target.root, target.collections[GROUP], limit="100", next=nxt),
                                  figures)
            if doc is None or not doc.get("more") or not doc.get("next"):
                break
            nxt = doc["next"]
            cursors.append(nxt)
    try:
        await _capped(target, work(), figures)
    finally:
        client.close()
    figures.extra["pages"] = len(figures.latencies)
    figures.extra["cursors"] = cursors
    return figures


async def added_after_polls(target: Target, user: str, times: list[str], samples: int, seed: int) -> Figures:
    """``samples`` polls of be-us for what was added after one of ``times``."""
    figures = Figures()
    rng = random.Random(seed)
    client = Client(target.port, target.auth[user])

    async def work() -> None:
        for _ in range(samples):
            await _timed(client, objects_path(target.root, target.collections[GROUP], limit="100",
                                              added_after=rng.choice(times)), figures)
    try:
        return await _capped(target, work(), figures)
    finally:
        client.close()


async def concurrent_clients(target: Target, clients: list[tuple[str, str]], cursors: dict[str, list[str]],
                             times: list[str], duration: float, seed: int) -> Figures:
    """Closed-loop clients for ``duration`` s (see the module docstring); with a cap, requests
    unfinished at the end count as cut."""
    figures = Figures()
    stop = time.perf_counter() + duration
    by_kind: dict[str, list[float]] = {"first page": [], "next page": [], "added_after": []}

    async def one(k: int, user: str, alias: str) -> None:
        rng = random.Random(seed * 100 + k)
        client = Client(target.port, target.auth[user])
        coll = target.collections[alias]
        try:
            while time.perf_counter() < stop:
                roll = rng.random()
                if roll < 0.2 or not cursors.get(alias):
                    kind, path = "first page", objects_path(target.root, coll, limit="100")
                elif roll < 0.8:
                    kind, path = "next page", objects_path(target.root, coll, limit="100", next=rng.choice(cursors[alias]))
                else:
                    kind, path = "added_after", objects_path(target.root, coll, limit="100", added_after=rng.choice(times))
                before = len(figures.latencies)
                await _timed(client, path, figures)
                if len(figures.latencies) > before:
                    by_kind[kind].append(figures.latencies[-1])
        finally:
            client.close()

    tasks = [one(k, user, alias) for k, (user, alias) in enumerate(clients)]
    limit = duration + (target.cap or 600.0)
    start = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), limit)
    except TimeoutError:
        figures.cut = True
    figures.seconds = time.perf_counter() - start
    figures.extra["per_second"] = round(len(figures.latencies) / max(figures.seconds, 1e-9), 1)
    figures.extra["by_kind"] = {k: {"requests": len(v), "p50_ms": round(al.percentile(sorted(v), 50), 2),
                                    "p99_ms": round(al.percentile(sorted(v), 99), 2)} for k, v in by_kind.items()}
    return figures


async def post_envelopes(target: Target, posters: list[str], path: Path, by_creator: bool = True) -> Figures:
    """Add Objects of every envelope in ``path`` from ``len(posters)`` concurrent clients, each
    envelope by a poster of the organisation that made its items (Scheldt takes an
    organisation's objects only from it), or by any poster (``by_creator`` False: medallion
    does not check); ``objects`` counts the objects the status resources report added (a
    failure is an error)."""
    figures = Figures()
    org_of = {u: (USERS[u][0] if by_creator else "") for u in posters}
    queues: dict[str, asyncio.Queue[tuple[str, int, bytes]]] = {o: asyncio.Queue(maxsize=8)
                                                                for o in set(org_of.values())}

    async def feed() -> None:
        with path.open("rb") as fh:
            for line in fh:
                coll, org, count, body = line.rstrip(b"\n").split(b"\t", 3)
                await queues[org.decode() if by_creator else ""].put((coll.decode(), int(count), body))
        for user in posters:
            await queues[org_of[user]].put(("", 0, b""))

    async def post(user: str) -> None:
        client = Client(target.port, target.auth[user])
        queue = queues[org_of[user]]
        try:
            while True:
                coll, count, body = await queue.get()
                if not coll:
                    return
                start = time.perf_counter()
                status, data, _ = await client.send("POST", objects_path(target.root, target.collections[coll]), body,
                                                    TAXII)
                figures.latencies.append((time.perf_counter() - start) * 1000)
                doc = json.loads(data) if data else {}
                if status != 202 or doc.get("failure_count") or doc.get("success_count") != count:
                    figures.errors += 1
                    if figures.errors <= 3:
                        log(f"    Add Objects: HTTP {status}: {data[:300]!r}")
                figures.objects += int(doc.get("success_count") or 0)
        finally:
            client.close()

    start = time.perf_counter()
    work = asyncio.gather(feed(), *(post(u) for u in posters))
    try:
        if target.cap is None:
            await work
        else:
            await asyncio.wait_for(work, target.cap)
    except TimeoutError:
        figures.cut = True
    figures.seconds = time.perf_counter() - start
    figures.extra["objects_per_s"] = round(figures.objects / max(figures.seconds, 1e-9), 1)
    return figures


async def measure_size(target: Target, args: argparse.Namespace, times: list[str]) -> dict[str, Any]:
    """The four read measurements at the collection's current size."""
    out: dict[str, Any] = {}
    log("    first page ...")
    out["first_page"] = (await first_pages(target, "be-officer-1", args.samples)).stats()
    log("    full walk by next ...")
    walk = await full_walk(target, "be-officer-1")
    cursors = {GROUP: walk.extra.pop("cursors")}
    out["full_walk"] = walk.stats()
    log("    added_after polls ...")
    out["added_after"] = (await added_after_polls(target, "be-officer-2", times, args.samples, args.seed)).stats()
    if target.name == "scheldt":
        cursors["community"] = await community_cursors(target, 200)
    else:
        cursors["community"] = cursors[GROUP]
    log(f"    {len(CLIENTS)} concurrent clients for {args.duration:g} s ...")
    out["clients"] = (await concurrent_clients(target, CLIENTS, cursors, times, args.duration, args.seed)).stats()
    return out


async def community_cursors(target: Target, pages: int) -> list[str]:
    """``next`` cursors of the first ``pages`` pages of the community collection (as nl-analyst-1)."""
    client = Client(target.port, target.auth["nl-analyst-1"])
    cursors, nxt = [], ""
    try:
        for _ in range(pages):
            status, body, _ = await client.send("GET", objects_path(target.root, target.collections["community"],
                                                                    limit="100", next=nxt))
            doc = json.loads(body) if status == 200 else {}
            if not doc.get("more") or not doc.get("next"):
                break
            nxt = doc["next"]
            cursors.append(nxt)
    finally:
        client.close()
    return cursors


# --------------------------------------------------------------------------------------------
# Scheldt


def seed_scheldt(engine: Any) -> dict[str, str]:
    """Organisations, users, the sharing group and one API token per user; returns the tokens."""
    from sqlalchemy import update

    from scheldt.store.db import unit_of_work
    from scheldt.store.models import OrganisationRow
    from scheldt.workflows.accounts import create_organisation, create_token, create_user
    from scheldt.workflows.share import create_group_as

    now = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        for org, name, kind in [("be-customs", "Belgian Customs", "agency"), ("us-cbp", "US CBP", "agency"),
                                ("nl-customs", "Dutch Customs", "agency"), ("carrier-a", "Carrier A", "carrier")]:
            create_organisation(uow, org, f"{name} (benchmark)", kind, ["CRA"] if kind == "carrier" else [], [], now)
        uow.session.execute(update(OrganisationRow).where(OrganisationRow.id == "carrier-a").values(client_of="be-customs"))
        for username, (org, roles) in USERS.items():
            create_user(uow, username, org, roles, PASSWORD, now)
        create_group_as(uow, "be-customs", GROUP, "Belgium - United States", ["be-customs", "us-cbp"], now)
        return {u: create_token(uow, u, "taxii_load benchmark", 1, now) for u in USERS}


def date_added_sample(url: str, n: int) -> list[str]:
    """``n`` date_added values (TAXII timestamps) among the newest 1 % of be-us's versions."""
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM shared_object WHERE group_id = %s", (GROUP,)).fetchone()[0]
        rows = conn.execute("SELECT date_added FROM shared_object WHERE group_id = %s ORDER BY seq DESC LIMIT %s",
                            (GROUP, max(1, total // 100))).fetchall()
    rng = random.Random(n)
    picks = [rng.choice(rows)[0] for _ in range(n)]
    return [t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") for t in picks]


def analyze(url: str) -> None:
    """VACUUM ANALYZE the exchange tables after a load step, as autovacuum does after a bulk
    insert (PostgreSQL 13 and later), before the reads are measured rather than during them
    (without statistics PostgreSQL may plan a page as a sort of the whole collection)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) shared_object")
        conn.execute("VACUUM (ANALYZE) shared_object_recipient")


def table_sizes(url: str) -> dict[str, float]:
    """Size (MB) of shared_object with its indexes and of the audit log."""
    with psycopg.connect(url) as conn:
        return {t: round(conn.execute("SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] / 1e6, 1)
                for t in ("shared_object", "audit_entry")}


def stix_check_alone(templates: list[Template], envelope: int, seconds: float = 5.0) -> dict[str, Any]:
    """The baseline of the ingest figure, measured in the same run before the server starts:
    the stix2 check of the benchmark's objects alone, as the server runs it
    (:func:`scheldt.exchange.stix_check.stix_problems`: envelopes of ``envelope`` objects split
    over :func:`scheldt.exchange.stix_check.pool_size` processes: here, in no server, every core
    unless ``SCHELDT_STIX_CHECK_PROCESSES`` says; started and warmed first), with nothing else
    running, for about ``seconds`` s. Returns {"objects", "seconds", "objects_per_s",
    "processes"}. Every object must pass (a template that stix2 refuses is a benchmark bug:
    RuntimeError)."""
    from scheldt.exchange import stix_check

    objects = [o for t in templates for o in json.loads(f"[{t.text}]")]
    envelopes = [objects[i:i + envelope] for i in range(0, len(objects), envelope)]
    stix_check.warm()
    checked, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            for part in envelopes:
                problems = [p for p in stix_check.stix_problems(part) if p]
                if problems:
                    raise RuntimeError(f"stix2 refuses a template object: {problems[0]}")
                checked += len(part)
        elapsed = time.perf_counter() - start
    finally:
        stix_check.stop_pool()
    return {"objects": checked, "seconds": round(elapsed, 2), "objects_per_s": round(checked / elapsed, 1),
            "processes": stix_check.pool_size()}


async def run_scheldt(args: argparse.Namespace, templates: list[Template], work: Path) -> dict[str, Any]:
    """Steps 2-4 of the module docstring; returns figures per size."""
    from scheldt.store.db import open_store

    name = f"scheldt_taxii_load_{os.getpid()}"
    al.create_database(args.postgres, name)
    url = al.sqlalchemy_url(args.postgres, name)
    server = None
    try:
        engine = open_store(url, auto_upgrade=True)
        tokens = seed_scheldt(engine)
        engine.dispose()
        server, port = al.start_server(url, args.workers, work, work / "scheldt-server.log")
        target = Target("scheldt", port, "/taxii2/scheldt/",
                        {GROUP: GROUP, "community": "community"}, {u: bearer(t) for u, t in tokens.items()})
        source = ObjectSource(templates, args.seed)
        results: dict[str, Any] = {}
        loaded = 0
        for size in args.sizes:
            envelopes = work / f"envelopes-{size}.txt"
            n = write_envelopes(source, size - loaded, args.envelope, envelopes)
            log(f"  Scheldt: adding {n:,} objects by TAXII Add Objects ({len(args.posters)} clients) ...")
            ingest = await post_envelopes(target, args.posters, envelopes)
            envelopes.unlink()
            loaded += ingest.objects
            log(f"    {ingest.objects:,} objects in {ingest.seconds:.1f} s: {ingest.extra['objects_per_s']:,.0f}/s, "
                f"{ingest.errors} errors")
            analyze(al.psycopg_url(args.postgres, name))
            times = date_added_sample(al.psycopg_url(args.postgres, name), 200)
            log(f"  Scheldt at {loaded:,} objects:")
            figures = await measure_size(target, args, times)
            figures["ingest"] = ingest.stats()
            figures["objects_total"] = loaded
            figures["tables_mb"] = table_sizes(al.psycopg_url(args.postgres, name))
            results[str(size)] = figures
            print_size("Scheldt", size, figures)
        return results
    finally:
        if server is not None:
            al.stop_server(server)
        al.drop_database(args.postgres, name)


# --------------------------------------------------------------------------------------------
# medallion


def medallion_data(source_lines: list[str], path: Path) -> None:
    """medallion's memory-backend data file with one collection holding the objects of the
    envelopes ``source_lines`` (as write_envelopes wrote them)."""
    objects: list[Any] = []
    for line in source_lines:
        objects += json.loads(line.split("\t", 3)[3])["objects"]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    manifest = [{"id": o["id"], "date_added": (start + timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                 "version": o.get("modified", o.get("created")), "media_type": "application/stix+json;version=2.1"}
                for i, o in enumerate(objects)]
    data = {"/discovery": {"title": "medallion (taxii_load)", "description": "reference TAXII 2.1 server",
                           "default": "/api1/", "api_roots": ["/api1/"]},
            "api1": {"information": {"title": "api1", "description": "one API root", "versions": [TAXII],
                                     "max_content_length": 10485760},
                     "status": [],
                     "collections": [{"id": MEDALLION_COLLECTION, "title": "be-us", "description": "benchmark",
                                      "can_read": True, "can_write": True,
                                      "media_types": ["application/stix+json;version=2.1"],
                                      "objects": objects, "manifest": manifest}]}}
    path.write_text(json.dumps(data))


class Medallion:
    """The medallion process (restartable after a cut measurement)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        config = self.work / "medallion.json"
        config.write_text(json.dumps({
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(self.work / "medallion-data.json")},
            "users": {"partner": PASSWORD}, "taxii": {"max_page_size": 100}}))
        self.port = al.free_port()
        exe = Path(sys.executable).with_name("medallion")
        out = (self.work / "medallion.log").open("ab")
        self.proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(self.port), str(config)],
                                     stdout=out, stderr=subprocess.STDOUT, cwd=self.work)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"medallion exited: {(self.work / 'medallion.log').read_text()[-2000:]}")
            try:
                r = httpx.get(f"http://127.0.0.1:{self.port}/taxii2/", timeout=2,
                              headers={"Accept": TAXII, "Authorization": basic("partner", PASSWORD)})
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError("medallion did not answer in 120 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


async def run_medallion(args: argparse.Namespace, templates: list[Template], work: Path) -> dict[str, Any]:
    """Step 5 of the module docstring."""
    source = ObjectSource(templates, args.seed)
    envelopes = work / "medallion-envelopes.txt"
    write_envelopes(source, args.medallion_size, args.envelope, envelopes)
    lines = envelopes.read_text().splitlines()
    medallion_data(lines, work / "medallion-data.json")
    extra = work / "medallion-post.txt"
    write_envelopes(source, args.envelope, args.envelope, extra)
    first_line = extra.read_text().splitlines()[0]
    extra.write_text(first_line + "\n")
    m = Medallion(work)
    auth = basic("partner", PASSWORD)

    def target() -> Target:
        return Target("medallion", m.port, "/api1/", {GROUP: MEDALLION_COLLECTION, "community": MEDALLION_COLLECTION},
                      {u: auth for u in USERS}, args.medallion_cap)

    start = datetime(2026, 11, 1, tzinfo=UTC)
    n = args.medallion_size
    times = [(start + timedelta(milliseconds=random.Random(k).randrange(n - n // 100, n))).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ") for k in range(200)]
    out: dict[str, Any] = {}
    try:
        steps = [("first_page", lambda: first_pages(target(), "be-officer-1", args.samples)),
                 ("full_walk", lambda: full_walk(target(), "be-officer-1")),
                 ("added_after", lambda: added_after_polls(target(), "be-officer-2", times, args.samples, args.seed)),
                 ("clients", lambda: concurrent_clients(target(), CLIENTS, {}, times, args.duration, args.seed)),
                 ("ingest", lambda: post_envelopes(target(), ["us-liaison"], extra, by_creator=False))]
        for key, make in steps:
            m.start()
            log(f"  medallion at {n:,} objects: {key} (cap {args.medallion_cap:g} s) ...")
            figures = await make()
            figures.extra.pop("cursors", None)
            if key == "clients":
                figures.cut = figures.cut or not figures.latencies
            out[key] = figures.stats()
            m.stop()
        print_size("medallion", n, out)
        return {str(n): out}
    finally:
        m.stop()


# --------------------------------------------------------------------------------------------
# report


def _cell(s: dict[str, Any], key: str = "p50_ms") -> str:
    if s.get("cut") and not s.get("requests"):
        return f">= {s['seconds']:.0f} s (cut)"
    value = f"{s[key]:.1f}"
    return value + (" (cut)" if s.get("cut") else "")


def print_size(server: str, size: int, f: dict[str, Any]) -> None:
    log(f"  {server} at {size:,} objects:")
    for key, label in [("first_page", "first page"), ("full_walk", "full walk, per page"),
                       ("added_after", "added_after poll"), ("clients", f"{len(CLIENTS)} clients")]:
        s = f.get(key)
        if s:
            log(f"    {label:<22} p50 {_cell(s)} ms  p99 {_cell(s, 'p99_ms')} ms  requests {s['requests']:,}  "
                f"errors {s['errors']}  {s['seconds']:.1f} s" + ("  CUT" if s.get("cut") else "")
                + (f"  pages {s['pages']:,}" if "pages" in s else "")
                + (f"  {s['per_second']:,.0f} requests/s" if "per_second" in s else ""))
    if "ingest" in f:
        s = f["ingest"]
        log(f"    {'ingest (Add Objects)':<22} {s['objects']:,} objects in {s['seconds']:.1f} s = "
            f"{s['objects_per_s']:,.0f} objects/s, envelope p50 {_cell(s)} ms, errors {s['errors']}"
            + ("  CUT (lower bound)" if s.get("cut") else ""))


def report(scheldt: dict[str, Any], medallion: dict[str, Any],
           baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The side-by-side table and the goals; ``baseline``: :func:`stix_check_alone`'s figures,
    beside which the ingest rate is put."""
    log("")
    log("Side by side (ms; pages of 100 objects; 'cut' = stopped at the cap, a lower bound):")
    cols = [(f"Scheldt {int(k):,}", v) for k, v in scheldt.items()] + [(f"medallion {int(k):,}", v)
                                                                       for k, v in medallion.items()]
    log(f"  {'':<26}" + "".join(f"{c:>22}" for c, _ in cols))
    for key, label in [("first_page", "first page p50"), ("first_page", "first page p99"),
                       ("full_walk", "walk per page p50"), ("full_walk", "walk total s"),
                       ("added_after", "added_after p50"), ("clients", "8 clients p50"),
                       ("clients", "8 clients p99"), ("clients", "8 clients requests/s"),
                       ("ingest", "ingest objects/s")]:
        row = f"  {label:<26}"
        for _, v in cols:
            s = v.get(key, {})
            if not s:
                row += f"{'-':>22}"
            elif label.endswith("p99"):
                row += f"{_cell(s, 'p99_ms'):>22}"
            elif label.endswith("total s"):
                row += f"{(str(round(s['seconds'], 1)) + (' (cut)' if s['cut'] else '')):>22}"
            elif label.endswith("requests/s"):
                row += f"{s.get('per_second', 0):>22,.1f}"
            elif label.startswith("ingest"):
                row += f"{s.get('objects_per_s', 0):>22,.0f}" if not s.get("cut") or s.get("objects") else \
                    f"{'>= ' + str(round(s['seconds'])) + ' s (cut)':>22}"
            else:
                row += f"{_cell(s):>22}"
        log(row)
    goals: dict[str, Any] = {}
    if scheldt:
        largest = scheldt[max(scheldt, key=int)]
        smallest = scheldt[min(scheldt, key=int)]
        c = largest["clients"]
        ingest_rate = min(v["ingest"]["objects_per_s"] for v in scheldt.values())
        flat = c["p50_ms"] / max(smallest["clients"]["p50_ms"], 1e-9)
        goals = {"size": int(max(scheldt, key=int)), "p50_ms": c["p50_ms"], "p99_ms": c["p99_ms"],
                 "p50_ok": c["p50_ms"] <= GOAL_P50_MS, "p99_ok": c["p99_ms"] <= GOAL_P99_MS,
                 "p50_ratio_largest_to_smallest": round(flat, 2), "ingest_objects_per_s": ingest_rate,
                 "ingest_ok": ingest_rate >= GOAL_INGEST}
        log("")
        log(f"Goals at {goals['size']:,} objects with {len(CLIENTS)} clients: p50 {c['p50_ms']:.1f} ms (<= {GOAL_P50_MS:g}: "
            f"{'met' if goals['p50_ok'] else 'NOT met'}), p99 {c['p99_ms']:.1f} ms (<= {GOAL_P99_MS:g}: "
            f"{'met' if goals['p99_ok'] else 'NOT met'}); p50 {flat:.2f}x the smallest size's (flat = about 1); "
            f"ingest {ingest_rate:,.0f} objects/s at the slowest step (>= {GOAL_INGEST:,.0f}: "
            f"{'met' if goals['ingest_ok'] else 'NOT met'})")
        if baseline:
            alone = baseline["objects_per_s"]
            goals["ingest_to_stix_check_alone"] = round(ingest_rate / alone, 2)
            log(f"Ingest beside stix2's check alone ({alone:,.0f} objects/s on {baseline['processes']} processes, "
                f"nothing else running): {ingest_rate / alone:.2f}x; the goal is {GOAL_INGEST / alone:.2f}x, which leaves the "
                f"rest of ingest (HTTP, policy checks, the database) {max(0.0, 1 - GOAL_INGEST / alone):.0%} of the "
                "machine")
    return goals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="collection sizes, ascending (objects)")
    p.add_argument("--postgres", default=al.SERVER_DEFAULT, help="a PostgreSQL server URL (a database is created)")
    p.add_argument("--workers", type=int, default=2, help="server worker processes")
    p.add_argument("--posters", default="us-liaison,be-liaison", help="users posting envelopes concurrently")
    p.add_argument("--envelope", type=int, default=500, help="objects per Add Objects envelope, at most")
    p.add_argument("--samples", type=int, default=200, help="first pages and added_after polls per size")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of the concurrent-clients measurement")
    p.add_argument("--templates", type=int, default=300, help="item templates")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--medallion-size", type=int, default=10_000)
    p.add_argument("--medallion-cap", type=float, default=60.0, help="cap of each medallion measurement (s)")
    p.add_argument("--no-medallion", action="store_true")
    args = p.parse_args(argv)
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    args.posters = [u for u in args.posters.split(",") if u]
    log(f"taxii_load: sizes {', '.join(f'{s:,}' for s in args.sizes)}; {args.workers} server workers; "
        f"{len(args.posters)} posting clients; {len(CLIENTS)} reading clients for {args.duration:g} s; "
        f"medallion at {args.medallion_size:,} capped at {args.medallion_cap:g} s" if not args.no_medallion else "")
    started = time.perf_counter()
    log(f"building {args.templates} item templates through to_stix ...")
    templates = build_templates(args.templates, args.seed)
    with tempfile.TemporaryDirectory(prefix="taxii_load_") as tmp:
        work = Path(tmp)
        medallion = {} if args.no_medallion else asyncio.run(run_medallion(args, templates, work))
        log("stix2's check alone (the ingest baseline) ...")
        baseline = stix_check_alone(templates, args.envelope)
        log(f"  {baseline['objects']:,} objects in {baseline['seconds']:.1f} s: {baseline['objects_per_s']:,.0f}/s "
            f"on {baseline['processes']} check processes")
        scheldt = asyncio.run(run_scheldt(args, templates, work))
    goals = report(scheldt, medallion, baseline)
    log(f"total {time.perf_counter() - started:.0f} s")
    log("SUMMARY " + json.dumps({"scheldt": scheldt, "medallion": medallion, "stix_check_alone": baseline,
                                 "goals": goals}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
