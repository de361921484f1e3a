"""DCSA Track & Trace events into a real store (SQLite and PostgreSQL) and container trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from scheldt.store.db import unit_of_work
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.shipping import container_timeline
from tests.conftest import SHARED

TNT = SHARED / "fixtures" / "dcsa-tnt"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def ingest_all(engine: Engine) -> list[dict[str, object]]:
    with unit_of_work(engine) as uow:
        return [ingest_file(uow, p, IngestOptions(), NOW).as_dict() for p in sorted(TNT.glob("*.json"))]


def test_every_tnt_sample_loads_once_and_trips_are_separate(engine: Engine) -> None:
    first = ingest_all(engine)
    assert all(r["format"] == "dcsa-events" for r in first)
    assert sum(r["accepted"] for r in first) == 26 and sum(r["rejected"] for r in first) == 8  # type: ignore[misc]
    again = ingest_all(engine)
    assert sum(r["added"] for r in again) == 0  # type: ignore[misc]
    with unit_of_work(engine) as uow:
        timeline = container_timeline(uow, "APZU 481209-0")
    assert timeline.container_number == "APZU4812090" and timeline.number_flag == ""
    # the 2019 load under booking ABC123123123 / B/L reserved-HHL123 is not the 2026 reefer trip
    assert [(t.key.document_ref, t.key.voyage, len(t.events)) for t in timeline.trips] == [
        ("reserved-HHL123", "2103S", 3), ("", "", 7)]
    load = timeline.trips[0].events[0]
    assert (load["event_type"], load["unlocode"], load["vessel_imo"]) == ("LOAD", "FRPAR", "9321483")
    assert load["details"]["seals"] == [{"number": "string", "source": "CUS", "seal_type": "WIR"}]
    assert [e["event_type"] for e in timeline.trips[1].events] == ["GTIN", "DETC", "MEAS", "DISC", "LOAD", "DETC", "ADJU"]


def test_wrong_check_digit_container_is_kept_with_its_flag(engine: Engine) -> None:
    ingest_all(engine)
    with unit_of_work(engine) as uow:
        timeline = container_timeline(uow, "APZU2134567")
    assert timeline.number_flag == "APZU2134567: ISO 6346 check digit is wrong (expected 4)"
    [trip] = timeline.trips
    assert trip.events[0]["flags"][0]["code"] == "invalid-container-number"


def test_retraction_marks_but_keeps_the_event(engine: Engine, tmp_path: Path) -> None:
    # a v3.0-Beta-1 event and, in a later message, its retraction (shapes as in the DCSA spec)
    event = {"metadata": {"eventID": "6f1b6c1e-0d0a-4c9e-9b8e-2a4e5b4c3d21", "eventCreatedDateTime": "2022-10-03T02:55:00+03:00",
                          "eventType": "EQUIPMENT"},
             "payload": {"eventType": "EQUIPMENT", "eventClassifierCode": "ACT", "eventDateTime": "2022-10-02T10:00:00Z",
                         "equipmentEventTypeCode": "GTOT", "equipmentReference": "MSKU9070323",
                         "relatedDocumentReferences": [{"type": "BKG", "value": "BK1"}]}}
    retract = {"metadata": {"eventID": "0a7c2d6e-1111-4b2c-8d9e-0f1a2b3c4d5e", "eventCreatedDateTime": "2022-10-04T08:00:00Z",
                            "eventType": "EQUIPMENT", "retractedEventID": "6f1b6c1e-0d0a-4c9e-9b8e-2a4e5b4c3d21"}}
    (tmp_path / "e.json").write_text(json.dumps([event]))
    (tmp_path / "r.json").write_text(json.dumps([retract]))
    with unit_of_work(engine) as uow:
        ingest_file(uow, tmp_path / "e.json", IngestOptions(), NOW)
        ingest_file(uow, tmp_path / "r.json", IngestOptions(), NOW)
    with unit_of_work(engine) as uow:
        [trip] = container_timeline(uow, "MSKU9070323").trips
    assert trip.events[0]["retracted_by"] == "0a7c2d6e-1111-4b2c-8d9e-0f1a2b3c4d5e"


EDI = SHARED / "fixtures" / "edifact"


def test_every_edifact_sample_loads_once(engine: Engine) -> None:
    files = sorted(EDI.glob("*.edi"))
    with unit_of_work(engine) as uow:
        first = [ingest_file(uow, p, IngestOptions(), NOW) for p in files]
    assert {r.format for r in first} == {"edifact"}
    assert [r.accepted for r in first] == [9995, 2, 672, 3, 642, 74, 21, 2, 1, 14, 14, 18, 16, 1, 449, 0]
    assert first[8].skipped == {"consignments (read, not stored yet)": 1}
    assert first[-1].rejections[0].why.startswith("message type 'PAORES' is not one Scheldt reads")
    with unit_of_work(engine) as uow:
        again = [ingest_file(uow, p, IngestOptions(), NOW) for p in files]
    assert sum(r.added for r in again) == 0
    with unit_of_work(engine) as uow:
        [trip] = container_timeline(uow, "KOSU4954710").trips
    [disc] = trip.events
    assert (disc["kind"], disc["event_type"], disc["unlocode"], disc["vessel_imo"]) == ("EQUIPMENT", "DISC", "CRMOB", "9118018")
    assert trip.key.document_ref == "NICPEV11478"
    assert disc["details"]["seals"] == [{"number": "309046", "source": "CAR"}]
