"""Liveness and readiness of the service, as a load balancer or orchestrator watches them."""

from __future__ import annotations

from pathlib import Path

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
