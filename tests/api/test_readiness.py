"""Liveness and readiness of the service, as a load balancer or orchestrator watches them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from scheldt.api.app import create_app
from scheldt.store.db import open_store


def test_readiness_says_whether_the_store_answers_and_liveness_that_the_process_does(tmp_path: Path) -> None:
    """An operator review: /healthz answered "ok" while the database was gone and every request
    answered 503, so a load balancer kept the node in rotation. /readyz asks the store."""
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}", auto_upgrade=True)
    try:
        with TestClient(create_app(engine, workbench=False)) as client:
            assert client.get("/readyz").json() == {"status": "ok"}
    finally:
        engine.dispose()
    gone = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 2})
    with TestClient(create_app(gone, workbench=False)) as client:
        alive, ready = client.get("/healthz"), client.get("/readyz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "why": "the database cannot be reached just now"}


def test_a_warmed_node_is_not_ready_until_its_stix_checks_are(settings_env: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A benchmark review: the first Add Objects envelopes after start-up waited for the STIX
    check processes to start, which took the CPU meanwhile (10,000 objects at 3,749/s right
    after /healthz answered, 4,215/s 8 s later). A load balancer watching /readyz now waits
    for them. The real warm-up runs, held back until the test lets it go; one that fails
    leaves the node ready (checks then run in the receiving process)."""
    from scheldt.exchange import stix_check
    from scheldt.settings import get_settings

    monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "2")
    get_settings.cache_clear()
    gate, real = threading.Event(), stix_check.warm

    def held() -> frozenset[int]:
        assert gate.wait(30)
        return real()

    monkeypatch.setattr(stix_check, "warm", held)
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}", auto_upgrade=True)
    try:
        with TestClient(create_app(engine, workbench=False, warm=True)) as client:
            starting = client.get("/readyz")
            assert starting.status_code == 503
            assert starting.json() == {"status": "starting", "why": "the STIX checks are still starting"}
            assert client.get("/healthz").status_code == 200  # alive all along
            gate.set()
            assert _ready_within(client, 30) == {"status": "ok"}

        def broken() -> frozenset[int]:
            raise RuntimeError("no processes here")

        monkeypatch.setattr(stix_check, "warm", broken)
        with TestClient(create_app(engine, workbench=False, warm=True)) as client:
            assert _ready_within(client, 30) == {"status": "ok"}
        with TestClient(create_app(engine, workbench=False)) as client:  # not warmed: ready at once
            assert client.get("/readyz").json() == {"status": "ok"}
    finally:
        engine.dispose()
        stix_check.stop_pool()  # a later test of this process finds none (a regression review)


def _ready_within(client: TestClient, seconds: float) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    answer = client.get("/readyz")
    while answer.status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
        answer = client.get("/readyz")
    return answer.json()


def test_the_log_says_nothing_of_each_request_the_http_client_makes() -> None:
    """A regression review: once the server logged at INFO, httpx wrote every notice it posted
    with its callback URL, a carrier's token in its query string included. The HTTP client and
    the scheduler log their warnings only; uvicorn and Scheldt at the level asked."""
    from scheldt.api.logs import log_config

    loggers = log_config("info")["loggers"]
    assert {name: loggers[name]["level"] for name in ("httpx", "httpcore", "apscheduler", "uvicorn.access")} == {
        "httpx": "WARNING", "httpcore": "WARNING", "apscheduler": "WARNING", "uvicorn.access": "INFO"}
    assert log_config("debug")["root"]["level"] == "DEBUG" and log_config("error")["loggers"]["httpx"]["level"] == "ERROR"


def test_the_log_handler_writes_to_the_standard_error_of_the_moment() -> None:
    """The full suite: `scheldt serve` run in-process (as the CLI tests run commands) configured
    logging on the runner's stderr, which was closed after it; a later test's log line then
    failed with "I/O operation on closed file" and its output held the traceback."""
    import io
    import logging
    import sys

    from scheldt.api.logs import StderrHandler, UtcFormatter

    handler = StderrHandler()
    handler.setFormatter(UtcFormatter("%(levelname)s %(message)s"))
    record = logging.LogRecord("scheldt.test", logging.WARNING, __file__, 1, "said %s", ("once",), None)
    first, second, real = io.StringIO(), io.StringIO(), sys.stderr
    try:
        sys.stderr = first
        handler.emit(record)
        first.close()
        sys.stderr = second
        handler.emit(record)
    finally:
        sys.stderr = real
    assert second.getvalue() == "WARNING said once\n"
