"""A scored store of SIMULATED traffic with demo organisations and users, served through the API.

Built once per module on SQLite and once on a fresh PostgreSQL database: one day of simulated
Antwerp traffic at 1 % scale (about 200 container trips), replayed as the Belgian customs
agency ``be-customs``, scored with the built-in profile. Organisations: ``be-customs`` and
``us-cbp`` (agencies), ``carrier-a`` / ``carrier-b`` (liner codes SIMA / SIMB), ``terminal-2`` /
``terminal-3`` (terminal codes SIMT2, where the day's one vessel call discharges, / SIMT3).
The simulator's ground truth is loaded as simulated inspection outcomes (training data).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from scheldt.api.app import create_app
from scheldt.risk.profiles import builtin_profile_text
from scheldt.simulate.traffic import inspect_history, simulate
from scheldt.simulate.writers import write_traffic
from scheldt.store.db import UnitOfWork, open_store, unit_of_work
from scheldt.workflows.backtest import load_ground_truth
from scheldt.workflows.accounts import create_organisation, create_token, create_user
from scheldt.workflows.ingest import IngestOptions
from scheldt.workflows.replay import replay
from scheldt.workflows.trip_scoring import activate_profile
from tests.conftest import PG_SERVER

PASSWORD = "correct horse battery"
#: username → (organisation, roles)
USERS = {
    "officer": ("be-customs", ["targeting_officer"]),
    "operator": ("be-customs", ["scanner_operator"]),
    "searcher": ("be-customs", ["search_team"]),
    "analyst": ("be-customs", ["analyst"]),
    "admin": ("be-customs", ["administrator"]),
    "us-officer": ("us-cbp", ["targeting_officer"]),
    "carrier": ("carrier-a", ["carrier_security"]),
    "carrier-b": ("carrier-b", ["carrier_security"]),
    "terminal": ("terminal-2", ["carrier_security"]),
    "terminal-3": ("terminal-3", ["carrier_security"]),
}
ORGS = [("be-customs", "Belgian Customs (demo)", "agency", [], []),
        ("us-cbp", "US Customs and Border Protection (demo)", "agency", [], []),
        ("carrier-a", "Simulated Carrier A", "carrier", ["SIMA"], []),
        ("carrier-b", "Simulated Carrier B", "carrier", ["SIMB"], []),
        ("terminal-2", "Simulated Terminal 2", "terminal", [], ["SIMT2"]),
        ("terminal-3", "Simulated Terminal 3", "terminal", [], ["SIMT3"])]


def seed_accounts(uow: UnitOfWork, now: datetime) -> dict[str, str]:
    """Create the organisations and users above, a scanner, and one API token per user."""
    for org in ORGS:
        create_organisation(uow, *org, now)
    tokens = {}
    for name, (org, roles) in USERS.items():
        create_user(uow, name, org, roles, PASSWORD, now)
        tokens[name] = create_token(uow, name, "tests", 30, now)
    uow.inspections.add_scanner("SC-1", "Scanner 1", "Deurganck", 3, "be-customs")
    return tokens


@dataclass
class Service:
    engine: Engine
    client: TestClient
    tokens: dict[str, str]
    dialect: str

    def as_(self, user: str) -> dict[str, str]:
        """Headers authenticating as ``user``."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def uow(self) -> AbstractContextManager[UnitOfWork]:
        return unit_of_work(self.engine)


def build_store(engine: Engine, folder: Path) -> dict[str, str]:
    traffic = simulate(4, 1, 1, 0.01)
    inspect_history(traffic, 4)
    write_traffic(traffic, folder)
    now = datetime(2025, 11, 1, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "tests", "tests", now)
        tokens = seed_accounts(uow, datetime.now(UTC))
    factory: Callable[[], AbstractContextManager[UnitOfWork]] = lambda: unit_of_work(engine)  # noqa: E731
    replay(factory, folder, IngestOptions(supplied_by="be-customs"))
    with unit_of_work(engine) as uow:
        load_ground_truth(uow, folder / "ground-truth.csv", datetime(2026, 1, 8, tzinfo=UTC))
    return tokens


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("service")
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'store.db'}"
    else:
        name = f"scheldt_api_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    engine = open_store(url, auto_upgrade=True)
    try:
        tokens = build_store(engine, tmp / "sim")
        with TestClient(create_app(engine, workbench=False)) as client:
            yield Service(engine, client, tokens, request.param)
    finally:
        engine.dispose()
        if name:
            with psycopg.connect(PG_SERVER, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
