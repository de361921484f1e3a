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
def test_stream_pauses_the_collector_and_collects_per_batch(engine: Engine, enabled: bool,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_module, "FULL_COLLECTION_BATCHES", 2)
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
            added, rejected = uow.events.add_stream(_stream(7, seen), "org", NOW, batch=3)
            done.append(True)
        after = gc.isenabled()
    finally:
        gc.callbacks.remove(count)
        (gc.enable if was else gc.disable)()
    assert (added, rejected) == (7, [])
    assert seen == [False] * 7  # read with the collector paused
    assert after is enabled  # left as found
    # batches of 3, 3 and 1: young generations, all of them (2nd batch), young generations
    assert generations == [1, 2, 1]
