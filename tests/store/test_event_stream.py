"""EventRepository.add_stream: batches, and the garbage collector paused and run per batch."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from scheldt.domain.shipping import EquipmentEvent, Event
from scheldt.store import events as events_module
from scheldt.store.db import unit_of_work

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _stream(n: int, seen: list[bool]) -> Iterator[Event]:
    for i in range(n):
        seen.append(gc.isenabled())
        yield EquipmentEvent(f"e-{i}", "ACT", NOW - timedelta(minutes=i), event_type="LOAD",
                             container_number="APZU4812090", source=f"x$[{i}]")


@pytest.mark.parametrize("enabled", [True, False])
def test_stream_pauses_the_collector_and_collects_every_few_batches(engine: Engine, enabled: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_module, "YOUNG_COLLECTION_BATCHES", 2)
    monkeypatch.setattr(events_module, "FULL_COLLECTION_BATCHES", 4)
    generations: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and seen and not done:  # from the first event read to the return
            generations.append(info["generation"])

    seen: list[bool] = []
    done: list[bool] = []
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    gc.callbacks.append(count)
    try:
        with unit_of_work(engine) as uow:
            added, rejected = uow.events.add_stream(_stream(13, seen), "org", NOW, batch=3)
            done.append(True)
        after = gc.isenabled()
    finally:
        gc.callbacks.remove(count)
        (gc.enable if was else gc.disable)()
    assert (added, rejected) == (13, [])
    assert seen == [False] * 13  # read with the collector paused
    assert after is enabled  # left as found
    # five batches (3, 3, 3, 3, 1): young generations after the 2nd, all of them after the 4th
    assert generations == [1, 2]


def _varied() -> list[Event]:
    """Events of several shapes: a vessel call, floats, a flag, no created time, quotes and
    non-ASCII text, one re-sent and one id sent again with other facts (a clash)."""
    from scheldt.domain.declarations import Flag
    from scheldt.domain.shipping import (
        DocumentReference,
        Location,
        ReeferEvent,
        Seal,
        TransportCall,
        TransportEvent,
        Vessel,
    )

    call = TransportCall("NLRTM", "RTM1", "call-1", 2, "SRV", "123E", "124W", "VESSEL",
                         Vessel("9321483", "244650000", "PBGH", 'MSC "Antwerpen" Ünal'))
    first = EquipmentEvent("e-1", "ACT", NOW, NOW, Location("BEANR", "K913", "Deurganck", 51.2734, 4.2603),
                           call, (DocumentReference("BKG", "BK-1"), DocumentReference("TRD", "BL/1")),
                           "f$[0]", (Flag("container_number", "check-digit", "check digit 0, expected 3"),),
                           event_type="LOAD", container_number="APZU4812091", iso_equipment_code="45R1",
                           empty=False, seals=(Seal("SL-1", "CAR", "KLP"),))
    return [
        first,
        TransportEvent("t-1", "EST", NOW - timedelta(hours=3), None, None, call, (), "f$[1]", event_type="ARRI"),
        ReeferEvent("r-1", "ACT", NOW, NOW, None, None, (), "f$[2]", event_type="MEAS",
                    container_number="APZU4812090", setpoint_celsius=-0.5, ambient_celsius=21.125,
                    probe_celsius=(-0.4, 0.1)),
        first,  # re-sent within the stream: the repository's batch check keeps one
        EquipmentEvent("e-1", "ACT", NOW, source="f$[4]", event_type="DISC", container_number="APZU4812090"),
    ]


def test_stream_stores_what_add_stores(engine: Engine) -> None:
    """A stream (helper-thread insert: JSON through json_each on SQLite, jsonb_array_elements
    on PostgreSQL) stores the same rows, with the same values and types, as add()."""
    from sqlalchemy import select

    from scheldt.store.models import ShippingEventRow

    with unit_of_work(engine) as uow:
        streamed = uow.events.add_stream(iter(_varied()), "streamed", NOW, batch=2)
        added = uow.events.add(_varied(), "added", NOW)
    assert streamed[0] == added[0] == 3
    # one batch: the clash is found within it; batches of 2: the clash (5th event) meets the stored first
    assert [r.why for r in added[1]] == ["event id e-1 appears twice in this batch with other facts; the first is kept"]
    assert [r.why for r in streamed[1]] == ["event id e-1 was already received with other facts (from f$[0]); "
                                            "the first is kept"]
    columns = [c for c in ShippingEventRow.__table__.columns if c.name not in ("id", "supplied_by")]
    with engine.connect() as conn:
        rows = {who: conn.execute(select(*columns).where(ShippingEventRow.supplied_by == who)
                                  .order_by(ShippingEventRow.event_id)).all() for who in ("streamed", "added")}
        types = {who: conn.exec_driver_sql(
            "SELECT " + ", ".join(f"pg_typeof({c.name})::text" if engine.dialect.name == "postgresql"
                                  else f"typeof({c.name})" for c in columns)
            + f" FROM shipping_event WHERE supplied_by = '{who}' ORDER BY event_id").all() for who in ("streamed", "added")}
    assert rows["streamed"] == rows["added"] and len(rows["added"]) == 3
    assert types["streamed"] == types["added"]
    reefer = {r.event_id: r for r in rows["added"]}["r-1"]
    assert reefer.details["probe_celsius"] == [-0.4, 0.1] and reefer.created_time is not None
    transport = {r.event_id: r for r in rows["added"]}["t-1"]
    assert transport.created_time is None and transport.vessel_name == 'MSC "Antwerpen" Ünal'


def test_stream_into_in_memory_sqlite_is_written_from_the_calling_thread() -> None:
    """An in-memory SQLite connection serves only the thread that opened it: no helper thread."""
    from scheldt.store.db import open_store

    engine = open_store("sqlite://", auto_upgrade=True)
    with unit_of_work(engine) as uow:
        assert uow.events.add_stream(iter(_varied()), "streamed", NOW, batch=2)[0] == 3
        assert uow.events.add_stream(iter(_varied()), "streamed", NOW, batch=2)[0] == 0
    engine.dispose()
