"""What a server makes ready at start-up, so that its first requests do not pay for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

#: Run in a new interpreter: the test process has imported everything long since.
SCRIPT = """
import json, sys, time
from fastapi.testclient import TestClient
from scheldt.store.models import Base
from scheldt.store.db import _REPOSITORIES, open_store
from scheldt.api.app import create_app
engine = open_store(sys.argv[1], auto_upgrade=True)
modules = sorted(m for m, _ in _REPOSITORIES.values())
before = [m for m in modules if m in sys.modules]
with TestClient(create_app(engine, workbench=False, warm=sys.argv[2] == "warm")) as client:
    deadline = time.monotonic() + 60
    while client.get("/readyz").status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    from scheldt.risk.screening import name_keys
    print(json.dumps({"before": before, "after": [m for m in modules if m in sys.modules], "modules": modules,
                      "mappers_configured": not Base.registry._new_mappers,
                      "names_keyed": name_keys.cache_info().currsize, "fingerprints": "fingerprints" in sys.modules}))
"""


def _start(tmp_path: Path, mode: str) -> dict[str, object]:
    env = {**os.environ, "SCHELDT_STIX_CHECK_PROCESSES": "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'store.db'}", mode],
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_imports_its_repositories_and_configures_the_mappers_at_start_up(tmp_path: Path) -> None:
    """A profile of a server's first Add Objects envelopes: a fifth of the worker's time went to
    importing repository modules on first use, configuring the ORM's mappers at the first query
    and building name matching's tables; the first 1,000 objects went in at 2,200/s, later ones
    at 4,800/s (benchmarks/taxii_load.py)."""
    started = _start(tmp_path, "plain")
    assert started["after"] == started["modules"] and started["before"] != started["modules"]
    assert started["mappers_configured"] is True
    assert started["names_keyed"] == 0  # name matching is readied by the warm-up only (``scheldt serve``)
    warmed = _start(tmp_path, "warm")
    assert warmed["names_keyed"] == 1 and warmed["fingerprints"] is True
