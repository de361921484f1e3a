"""Smoke test of ``benchmarks/api_load.py``: the whole benchmark (database load with COPY, a
real uvicorn server on loopback, open-loop load, audit check, the SQL replayed straight against
PostgreSQL) on a tiny scale: 2,000 trips, 20 requests/s for 2 s after 1 s of warm-up. It checks
that every request succeeds, that each wrote its audit entry, that the chain verifies and that
the summary parses; not the latency goal (a tiny cold run on a shared machine says nothing
about it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import PG_SERVER, ROOT

pytestmark = pytest.mark.postgres


def test_api_load_benchmark_runs_clean_at_a_tiny_scale() -> None:
    if os.environ.get("SCHELDT_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("SCHELDT_TEST_SKIP_POSTGRES=1")
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        before = {name for (name,) in conn.execute("SELECT datname FROM pg_database")}
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "api_load.py"), "--trips", "2000", "--rate", "20", "--duration", "2",
         "--warmup", "1", "--db-sample", "10", "--server", PG_SERVER],
        capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("SUMMARY ")]
    assert len(lines) == 1, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads(lines[0].removeprefix("SUMMARY "))
    assert summary["trips"] == 2000 and summary["rate_asked"] == 20
    assert summary["requests"] == 40 and summary["errors"] == 0, run.stdout[-3000:]
    assert summary["audit_ok"] and summary["audit_entries"] == summary["ok_requests"] == 60
    for kind in ("risk queue", "container page", "overall"):
        api, db = summary["api_ms"][kind], summary["db_ms"][kind]
        assert api["count"] > 0 and 0 < api["p50"] <= api["p99"] <= api["max"]
        assert db["count"] > 0 and 0 < db["p50"] <= db["p99"] <= db["max"]
    assert "PASS" in run.stdout or "FAIL" in run.stdout
    # the benchmark's own database is gone
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        after = {name for (name,) in conn.execute("SELECT datname FROM pg_database")}
    assert not {n for n in after - before if n.startswith("scheldt_api_load_")}
