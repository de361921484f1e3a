"""A scored store of SIMULATED traffic (built as in ``tests/api/conftest.py``) served with the
workbench, through FastAPI's TestClient (on SQLite and PostgreSQL) and through a real uvicorn
server on a loopback port (SQLite)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.store.db import UnitOfWork, open_store, unit_of_work
from tests.api.conftest import PASSWORD, BuiltStores, drop_database

__all__ = ["PASSWORD", "Store", "Server"]


@dataclass
class Store:
    """The store's engine and a unit-of-work opener for tests to read expected values."""

    engine: Engine

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        return unit_of_work(self.engine)


@dataclass
class Server:
    """A running uvicorn server over the store: its base URL."""

    store: Store
    url: str


@contextmanager
def _store(tmp: Path, dialect: str, built: BuiltStores) -> Iterator[Store]:
    """A copy of the built store on SQLite (a file under ``tmp``) or on a fresh PostgreSQL
    database, dropped afterwards."""
    url, name, _ = built.copy(dialect, tmp)
    engine = open_store(url, auto_upgrade=True)
    try:
        yield Store(engine)
    finally:
        engine.dispose()
        if name:
            drop_database(name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          built_stores: BuiltStores) -> Iterator[Store]:
    """One store per test module and database (the modules write to it: plans, scans, seizures)."""
    with _store(tmp_path_factory.mktemp("web-store"), request.param, built_stores) as built:
        yield built


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory, built_stores: BuiltStores) -> Iterator[Store]:
    """One SQLite store per test module (the browser tests: what they check does not depend
    on the database, which the page tests cover on both)."""
    with _store(tmp_path_factory.mktemp("web-store"), "sqlite", built_stores) as built:
        yield built


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(sqlite_store: Store) -> Iterator[Server]:
    """The API with the workbench served by uvicorn on 127.0.0.1 in a background thread."""
    port = _free_port()
    config = uvicorn.Config(create_app(sqlite_store.engine, host_org="be-customs"), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False, lifespan="on")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, name="workbench-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the workbench server did not start")
        time.sleep(0.05)
    try:
        yield Server(sqlite_store, f"http://127.0.0.1:{port}")
    finally:
        running.should_exit = True
        thread.join(timeout=10)
