"""A scored store of SIMULATED traffic (built as in ``tests/api/conftest.py``) served with the
workbench, through FastAPI's TestClient and through a real uvicorn server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.store.db import UnitOfWork, open_store, unit_of_work
from tests.api.conftest import PASSWORD, build_store

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


def _store(tmp: Path) -> Store:
    engine = open_store(f"sqlite:///{tmp / 'store.db'}")
    build_store(engine, tmp / "sim")
    return Store(engine)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store per test module (the modules write to it: plans, scans, seizures)."""
    built = _store(tmp_path_factory.mktemp("web-store"))
    try:
        yield built
    finally:
        built.engine.dispose()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[TestClient]:
    """The API with the workbench, in process (no cookies kept between tests: use ``signed_in``)."""
    with TestClient(create_app(store.engine), follow_redirects=False) as c:
        yield c


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[Server]:
    """The API with the workbench served by uvicorn on 127.0.0.1 in a background thread."""
    port = _free_port()
    config = uvicorn.Config(create_app(store.engine), host="127.0.0.1", port=port, log_level="warning",
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
        yield Server(store, f"http://127.0.0.1:{port}")
    finally:
        running.should_exit = True
        thread.join(timeout=10)
