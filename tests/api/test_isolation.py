"""Property: for every list and detail endpoint, a shipping line, a terminal and an agency each
get exactly their own rows, over generated trips (random owners' codes, tied scores, holds),
on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from scheldt.api.app import create_app
from scheldt.domain.inspection import risk_band
from scheldt.store.db import open_store, unit_of_work
from scheldt.store.models import ContainerTripRow, HoldRow
from scheldt.workflows.accounts import create_organisation, create_token, create_user
from tests.api.conftest import PASSWORD
from tests.conftest import PG_SERVER

#: user → (organisation, kind, codes, the column and value that make a trip theirs)
VIEWERS = {
    "line": ("line-a", "carrier", ["SIMA"], ("carrier_code", "SIMA")),
    "quay": ("quay-2", "terminal", ["SIMT2"], ("terminal_code", "SIMT2")),
    "be": ("be-customs", "agency", [], ("supplied_by", "be-customs")),
    "us": ("us-cbp", "agency", [], ("supplied_by", "us-cbp")),
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def isolated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    name = ""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('iso') / 'store.db'}"
    else:
        name = f"scheldt_iso_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    engine = open_store(url, auto_upgrade=True)
    now = datetime.now(UTC)
    tokens = {}
    with unit_of_work(engine) as uow:
        for user, (org, kind, codes, _) in VIEWERS.items():
            create_organisation(uow, org, org, kind, codes if kind == "carrier" else [],
                                codes if kind == "terminal" else [], now)
            role = "targeting_officer" if kind == "agency" else "carrier_security"
            create_user(uow, user, org, [role], PASSWORD, now)
            tokens[user] = create_token(uow, user, "t", 1, now)
    try:
        with TestClient(create_app(engine, workbench=False)) as client:
            yield engine, client, tokens
    finally:
        engine.dispose()
        if name:
            with psycopg.connect(PG_SERVER, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


trip = st.fixed_dictionaries({
    "carrier_code": st.sampled_from(["SIMA", "SIMB", ""]),
    "terminal_code": st.sampled_from(["SIMT1", "SIMT2", ""]),
    "supplied_by": st.sampled_from(["be-customs", "us-cbp", "nl-customs"]),
    "score": st.sampled_from([0.0, 12.5, 25.0, 40.0, 55.5, 90.0]),
    "held": st.booleans(),
})


def _load(engine, trips: list[dict]) -> list[int]:  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as uow:
        uow.session.execute(delete(HoldRow))
        uow.session.execute(delete(ContainerTripRow))
        ids = []
        for i, t in enumerate(trips):
            row = {k: v for k, v in t.items() if k != "held"} | {
                "container_number": f"TEST{i:07d}", "document_ref": f"BL{i % 7}", "voyage": "1W",
                "risk_band": risk_band(t["score"]), "arrival_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                "scored_at": datetime(2026, 1, 2, tzinfo=UTC), "status": "open", "on_hold": t["held"]}
            ids.append(uow.session.execute(insert(ContainerTripRow).values(**row).returning(ContainerTripRow.id)).scalar_one())
            if t["held"]:
                uow.session.execute(insert(HoldRow).values(trip_id=ids[-1], organisation_id="be-customs", placed_by="x",
                                                           placed_at=datetime(2026, 1, 3, tzinfo=UTC), reason="r"))
    return ids


def _pages(client: TestClient, path: str, headers: dict[str, str], limit: int, **params: object) -> list[dict]:
    out, cursor = [], None
    while True:
        r = client.get(path, params={"limit": limit, **params, **({"cursor": cursor} if cursor else {})}, headers=headers)
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trips=st.lists(trip, min_size=0, max_size=14), limit=st.integers(1, 5))
def test_every_endpoint_returns_exactly_the_requesters_rows(isolated: tuple, trips: list[dict], limit: int) -> None:
    engine, client, tokens = isolated
    ids = _load(engine, trips)
    for user, (_, _, _, (column, value)) in VIEWERS.items():
        h = {"Authorization": f"Bearer {tokens[user]}"}
        own = [i for i, t in zip(ids, trips) if t[column] == value]
        listed = _pages(client, "/api/v1/trips", h, limit)
        assert sorted(r["id"] for r in listed) == sorted(own), user
        assert len({r["id"] for r in listed}) == len(listed)
        if column == "supplied_by":  # an agency: the risk queue, highest score first, band filter
            scores = [r["score"] for r in listed]
            assert scores == sorted(scores, reverse=True)
            high = _pages(client, "/api/v1/trips", h, limit, band="high")
            assert sorted(r["id"] for r in high) == sorted(
                i for i, t in zip(ids, trips) if t[column] == value and t["score"] >= 40)
        else:  # a shipping line or terminal: newest first, no risk fields
            assert [r["id"] for r in listed] == sorted(own, reverse=True)
            assert all("score" not in r for r in listed)
        held = _pages(client, "/api/v1/holds", h, limit)
        assert sorted(r["trip_id"] for r in held) == sorted(i for i, t in zip(ids, trips) if t[column] == value and t["held"])
        for i, t in zip(ids, trips):
            mine = t[column] == value
            assert client.get(f"/api/v1/trips/{i}", headers=h).status_code == (200 if mine else 404), (user, t)
        for n in {f"TEST{k:07d}" for k in range(len(trips))}:
            k = int(n[4:])
            expected = 200 if trips[k][column] == value else 404
            assert client.get(f"/api/v1/containers/{n}", headers=h).status_code == expected
