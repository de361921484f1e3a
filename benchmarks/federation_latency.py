"""Federation latency: how long a change made on one Scheldt node takes to be readable on its
partner node, through the partner's own TAXII server.

Two ``scheldt serve`` processes on loopback, each with its own database: a Belgian node
(SQLite, one worker) and a US node (PostgreSQL, ``--workers 2``, its supervising process running
the pulls), each pulling the other every ``--pull-every`` seconds through its job runner
(``SCHELDT_FEDERATION_PULL_EVERY_S``). The changes are those partners make: a new Belgian alert,
a new version of one, and a US sighting of a Belgian alert going back to Belgium, posted at
random points of the pull cycle. Each change's latency is the time from the answer to its POST
until the partner's TAXII ``versions`` endpoint lists it, polled every 50 ms.

Baseline, measured in the same run the same way: the time until the change is readable on the
node it was posted to (TAXII POST is answered before the objects are stored). The ratio is the
partner's p50 over that local p50.

Goal (issue 6): a change on one node visible on its peer within 5 s at p95. The pull interval
is the largest part of it: a change waits on average half an interval for the next pull.
Usage: python benchmarks/federation_latency.py [--changes 60] [--pull-every 2] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import api_load as al
import httpx

from scheldt.domain.exchange import Tlp
from scheldt.exchange.federation import add_peer
from scheldt.exchange.objects import Sharing, identity_id, stix_time, with_sharing
from scheldt.settings import get_settings
from scheldt.store.db import open_store, unit_of_work
from scheldt.workflows.accounts import create_organisation, create_token, create_user

TAXII = "application/taxii+json;version=2.1"
GOAL_P95_S = 5.0
PASSWORD = "federation benchmark password"
GROUP = "be-us"


@contextmanager
def data_dir_of(path: Path) -> Iterator[None]:
    """``SCHELDT_DATA_DIR`` set to ``path`` (and the settings read again) for the duration."""
    before = os.environ.get("SCHELDT_DATA_DIR")
    os.environ["SCHELDT_DATA_DIR"] = str(path)
    get_settings.cache_clear()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SCHELDT_DATA_DIR", None)
        else:
            os.environ["SCHELDT_DATA_DIR"] = before
        get_settings.cache_clear()


def seed_node(url: str, own: str, partner: str, partner_port: int, data_dir: Path) -> dict[str, str]:
    """Organisations, users and the sharing group of one node, its partner's node account, and
    the partner as a peer, whose credential is sealed with the key in the node's ``data_dir``
    (made there; the node is then served with that data directory). Returns username -> API
    token. The credential was sealed under the benchmark's own data directory, which the node
    did not read: every pull failed ("no sealing key") and the run gave up after 120 s."""
    now = datetime.now(UTC)
    with data_dir_of(data_dir):
        engine = open_store(url, auto_upgrade=True)
        try:
            return _seeded(engine, own, partner, partner_port, now)
        finally:
            engine.dispose()


def _seeded(engine: Any, own: str, partner: str, partner_port: int, now: datetime) -> dict[str, str]:
    with unit_of_work(engine) as uow:
        for org in ("be-customs", "us-cbp"):
            create_organisation(uow, org, org.upper(), "agency", [], [], now)
        users = {"be-analyst": ("be-customs", "analyst"), "us-officer": ("us-cbp", "targeting_officer"),
                 "be-node": ("be-customs", "liaison_officer"), "us-node": ("us-cbp", "liaison_officer")}
        tokens = {}
        for name, (org, role) in users.items():
            create_user(uow, name, org, [role], PASSWORD, now)
            tokens[name] = create_token(uow, name, "federation benchmark", 1, now)
        uow.exchange.add_group(GROUP, "Belgium-US", "be-customs", ["us-cbp"], now)
        partner_node, own_node = ("us-node", "be-node") if own == "be-customs" else ("be-node", "us-node")
        uow.taxii.add_node_account(partner_node, partner, now)  # the partner pulls here as its node
        add_peer(uow, f"{partner}-node", f"http://127.0.0.1:{partner_port}/taxii2/", partner,
                 own_node, "password", PASSWORD, None, now)
    return tokens


@contextmanager
def serve(name: str, url: str, folder: Path, port: int, local_org: str, pull_every: float,
          workers: int) -> Iterator[str]:
    """``scheldt serve`` as its own process on 127.0.0.1:``port``; yields its base URL."""
    data_dir = folder / name
    data_dir.mkdir(exist_ok=True)
    env = {**os.environ, "SCHELDT_DATA_DIR": str(data_dir), "SCHELDT_DATABASE_URL": url,
           "SCHELDT_LOCAL_ORGANISATION": local_org, "SCHELDT_FEDERATION_PULL_EVERY_S": str(pull_every),
           "SCHELDT_JOB_WORKERS": "1", "PYTHONUNBUFFERED": "1"}
    log = (folder / f"{name}.log").open("wb")
    exe = Path(sys.executable).with_name("scheldt")
    process = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        al.wait_ready(base, process, 120, folder / f"{name}.log")  # every worker: store up, checks started
        yield base
    finally:
        al.stop_server(process)
        log.close()


def indicator(name: str) -> dict[str, Any]:
    """A Belgian TLP:AMBER alert for the be-us group, as a STIX 2.1 indicator."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
           "created": stix_time(created), "modified": stix_time(created), "name": name,
           "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
           "valid_from": stix_time(created), "created_by_ref": identity_id("be-customs")}
    return with_sharing(obj, Sharing("other", Tlp.AMBER, GROUP, "H1", "B", "2"))


def new_version(obj: dict[str, Any], after_ms: int, name: str) -> dict[str, Any]:
    """A later version of ``obj`` (``modified`` + ``after_ms``) renamed ``name``."""
    out = json.loads(json.dumps(obj))
    when = datetime.fromisoformat(obj["modified"].replace("Z", "+00:00")) + timedelta(milliseconds=after_ms)
    out["modified"], out["name"] = stix_time(when), name
    return out


def post(base: str, token: str, obj: dict[str, Any]) -> None:
    """POST one object to the group's collection; raises RuntimeError unless it is taken."""
    r = httpx.post(f"{base}/taxii2/scheldt/collections/{GROUP}/objects/", json={"objects": [obj]},
                   headers={"Authorization": f"Bearer {token}", "Accept": TAXII, "Content-Type": TAXII},
                   timeout=30)
    if r.status_code != 202 or r.json().get("failure_count"):
        raise RuntimeError(f"POST refused: {r.status_code} {r.text[:500]}")


def versions(base: str, token: str, stix_id: str) -> list[str]:
    """The versions of ``stix_id`` the token's user may read on the node at ``base``."""
    r = httpx.get(f"{base}/taxii2/scheldt/collections/{GROUP}/objects/{stix_id}/versions/",
                  headers={"Authorization": f"Bearer {token}", "Accept": TAXII}, timeout=30)
    return r.json().get("versions", []) if r.status_code == 200 else []


def wait(check: Callable[[], bool], timeout_s: float = 60.0) -> float:
    """Seconds until ``check()`` is true, polled every 50 ms; raises RuntimeError after ``timeout_s``."""
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout_s:
            raise RuntimeError(f"not seen within {timeout_s:g} s")
        time.sleep(0.05)
    return time.monotonic() - began


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=60)
    ap.add_argument("--pull-every", type=float, default=2.0, help="seconds between pulls (the setting's default too)")
    ap.add_argument("--postgres", default=os.environ.get("SCHELDT_TEST_POSTGRES_URL",
                                                        "postgresql://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    us_db = f"scheldt_bench_federation_{uuid.uuid4().hex[:8]}"
    al.create_database(args.postgres, us_db)
    folder = Path(tempfile.mkdtemp(prefix="scheldt-federation-"))
    be_url, us_url = f"sqlite:///{folder / 'be.db'}", al.sqlalchemy_url(args.postgres, us_db)
    be_port, us_port = al.free_port(), al.free_port()
    try:
        be_tokens = seed_node(be_url, "be-customs", "us-cbp", us_port, folder / "be")
        us_tokens = seed_node(us_url, "us-cbp", "be-customs", be_port, folder / "us")
        with ExitStack() as stack:
            be = stack.enter_context(serve("be", be_url, folder, be_port, "be-customs", args.pull_every, 1))
            us = stack.enter_context(serve("us", us_url, folder, us_port, "us-cbp", args.pull_every, 2))
            be_token, us_token = be_tokens["be-analyst"], us_tokens["us-officer"]
            first = indicator("warm-up")  # both nodes have pulled each other at least once
            post(be, be_token, first)
            wait(lambda: bool(versions(us, us_token, first["id"])), timeout_s=120)
            rng = random.Random(args.seed)
            alerts, peer, local = [first], [], []
            for i in range(args.changes):
                time.sleep(rng.uniform(0, args.pull_every))  # at any point of the pull cycle
                if i % 3 == 2:  # a US sighting of a Belgian alert, back to Belgium
                    obj = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}",
                           "created": "2026-03-02T10:00:00.000Z", "modified": "2026-03-02T10:00:00.000Z",
                           "sighting_of_ref": rng.choice(alerts)["id"], "created_by_ref": identity_id("us-cbp")}
                    src, dst, src_token, dst_token = us, be, us_token, be_token
                elif i % 3 == 1:  # a new version of a Belgian alert
                    k = rng.randrange(len(alerts))
                    obj = alerts[k] = new_version(alerts[k], 1 + i, f"corrected {i}")
                    src, dst, src_token, dst_token = be, us, be_token, us_token
                else:  # a new Belgian alert
                    obj = indicator(f"alert {i}")
                    alerts.append(obj)
                    src, dst, src_token, dst_token = be, us, be_token, us_token
                post(src, src_token, obj)
                posted = time.monotonic()
                wait(lambda o=obj, b=src, t=src_token: o["modified"] in versions(b, t, o["id"]))
                local.append(time.monotonic() - posted)
                wait(lambda o=obj, b=dst, t=dst_token: o["modified"] in versions(b, t, o["id"]))
                peer.append(time.monotonic() - posted)
    except BaseException:
        print(f"the nodes' logs and the Belgian store are kept in {folder}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        al.drop_database(args.postgres, us_db)
    print(f"federation latency, {len(peer)} changes (new alerts, new versions, sightings back), pull every "
          f"{args.pull_every:g} s, SQLite node <-> PostgreSQL node (2 workers), {os.cpu_count()} cores:")
    print(f"  on the partner node: p50 {statistics.median(peer):.2f} s, p95 {p95(peer):.2f} s, max {max(peer):.2f} s "
          f"(goal: p95 <= {GOAL_P95_S:g} s)")
    print(f"  baseline, on the node it was posted to: p50 {statistics.median(local):.3f} s, p95 {p95(local):.3f} s")
    print(f"  ratio partner / local at p50: {statistics.median(peer) / max(statistics.median(local), 1e-3):.0f}x; "
          f"half a pull interval alone is {args.pull_every / 2:g} s")


if __name__ == "__main__":
    main()
