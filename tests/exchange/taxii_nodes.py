"""Builders for the TAXII and federation tests: organisations and users of a node, STIX objects
carrying Scheldt's sharing terms, a Scheldt API served by uvicorn on loopback (a thread), and
the reference TAXII server medallion started as a separate process."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.domain.exchange import Tlp
from scheldt.exchange.objects import Sharing, identity_id, stix_time, with_sharing
from scheldt.store.db import unit_of_work
from scheldt.workflows.accounts import create_organisation, create_token, create_user

PASSWORD = "correct horse battery"
#: The password of users not named in ``seed(passwords=...)``: Basic auth with PASSWORD fails for them.
OTHER_PASSWORD = "not the password these tests sign in with"
TAXII = "application/taxii+json;version=2.1"
#: organisation id -> kind
ORGS = {"be-customs": "agency", "us-cbp": "agency", "nl-customs": "agency", "carrier-a": "carrier"}
#: username -> (organisation, roles)
USERS = {
    "be-analyst": ("be-customs", ["analyst"]),
    "be-officer": ("be-customs", ["targeting_officer"]),
    "be-scanner": ("be-customs", ["scanner_operator"]),
    "us-liaison": ("us-cbp", ["liaison_officer"]),
    "us-officer": ("us-cbp", ["targeting_officer"]),
    "us-node": ("us-cbp", ["liaison_officer"]),
    "nl-analyst": ("nl-customs", ["analyst"]),
    "nl-node": ("nl-customs", ["liaison_officer"]),
    "be-node": ("be-customs", ["liaison_officer"]),
    "carrier": ("carrier-a", ["carrier_security"]),
}


def seed(engine: Engine, users: dict[str, tuple[str, list[str]]] | None = None, *,
         passwords: tuple[str, ...] = ()) -> dict[str, str]:
    """Create :data:`ORGS` and ``users`` (default :data:`USERS`) with one API token each; users
    named in ``passwords`` get :data:`PASSWORD`, the others :data:`OTHER_PASSWORD`.
    Returns username -> token."""
    now = datetime.now(UTC)
    tokens = {}
    with unit_of_work(engine) as uow:
        for org, kind in ORGS.items():
            create_organisation(uow, org, org.upper(), kind, ["SIMA"] if kind == "carrier" else [], [], now)
        for name, (org, roles) in (users or USERS).items():
            create_user(uow, name, org, roles, PASSWORD if name in passwords else OTHER_PASSWORD, now)
            tokens[name] = create_token(uow, name, "tests", 30, now)
    return tokens


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def indicator(owner: str, tlp: Tlp, group: str | None, *, recipients: tuple[tuple[str, str], ...] = (),
              stix_id: str | None = None, modified: datetime | None = None, revoked: bool = False,
              name: str = "watch this", kind: str = "other") -> dict[str, Any]:
    """A STIX 2.1 indicator created by ``owner`` carrying Scheldt's sharing terms."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    obj = {"type": "indicator", "spec_version": "2.1", "id": stix_id or f"indicator--{uuid.uuid4()}",
           "created": stix_time(created), "modified": stix_time(modified or created), "name": name,
           "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix",
           "valid_from": stix_time(created), "created_by_ref": identity_id(owner)}
    if revoked:
        obj["revoked"] = True
    return with_sharing(obj, Sharing(kind, tlp, group, "H1", "B", "2", recipients))


def new_version(obj: dict[str, Any], after_ms: int = 1000, **changes: Any) -> dict[str, Any]:
    """A later version of ``obj`` (``modified`` + ``after_ms``) with ``changes``."""
    out = json.loads(json.dumps(obj))
    modified = datetime.fromisoformat(obj["modified"].replace("Z", "+00:00")) + timedelta(milliseconds=after_ms)
    out["modified"] = stix_time(modified)
    out.update(changes)
    return out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """Scheldt's API (with the TAXII server) on 127.0.0.1 in a uvicorn thread; yields its base URL."""
    with serving_app(create_app(engine, workbench=False)) as url:
        yield url


@contextmanager
def serving_app(app: Any) -> Iterator[str]:
    """An ASGI ``app`` on 127.0.0.1 in a uvicorn thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"taxii-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the Scheldt server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0,
              headers: dict[str, str] | None = None) -> None:
    """Wait until ``url`` answers (any status below 500) or fail with the process's output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise RuntimeError(f"process exited with {process.returncode}: {out[-3000:]}")
        try:
            if httpx.get(url, headers=headers or {}, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


MEDALLION_COLLECTION = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"


@contextmanager
def medallion(tmp: Path, users: dict[str, str], objects: list[dict[str, Any]] | None = None) -> Iterator[str]:
    """The reference TAXII 2.1 server (PyPI medallion, memory backend) as a separate process on
    loopback, with one API root ``api1`` holding one read/write collection; config and data
    files written to ``tmp``. Yields the API root URL."""
    now = stix_time(datetime.now(UTC)).replace("Z", "000Z")
    data = {
        "/discovery": {"title": "medallion under test", "description": "reference TAXII 2.1 server",
                       "default": "/api1/", "api_roots": ["/api1/"]},
        "api1": {
            "information": {"title": "api1", "description": "one API root", "versions": [TAXII],
                            "max_content_length": 10485760},
            "status": [],
            "collections": [{
                "id": MEDALLION_COLLECTION, "title": "partner feed", "description": "read and write",
                "can_read": True, "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                "objects": list(objects or []),
                "manifest": [{"id": o["id"], "date_added": now, "version": o.get("modified", o.get("created")),
                              "media_type": "application/stix+json;version=2.1"} for o in objects or []],
            }],
        },
    }
    data_file = tmp / "medallion-data.json"
    data_file.write_text(json.dumps(data))
    config = tmp / "medallion.json"
    config.write_text(json.dumps({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(data_file)},
        "users": users, "taxii": {"max_page_size": 100}}))
    port = free_port()
    exe = Path(sys.executable).with_name("medallion")
    process = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        user, password = next(iter(users.items()))
        wait_http(f"http://127.0.0.1:{port}/taxii2/", process, headers={
            "Accept": TAXII, **basic(user, password)})
        yield f"http://127.0.0.1:{port}/api1/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
