"""Stored event rows and quarantine entries pinned byte for byte, so that speed work on the
read → validate → hash → store path of DCSA events cannot change what is stored: the same
columns, the same fact digests (de-duplication and idempotent re-sends rest on them), the same
details and flags, the same rejections with where and why.

The expected digests were computed with the code as it was before that work (commit 4be377c).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from scheldt.domain.shipping import EquipmentEvent
from scheldt.store.db import unit_of_work
from scheldt.store.models import QuarantineRow, ShippingEventRow
from scheldt.workflows.ingest import IngestOptions, ingest_file
from tests.builders import dcsa_event
from tests.conftest import SHARED

TNT = SHARED / "fixtures" / "dcsa-tnt"
EDI = SHARED / "fixtures" / "edifact"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _variants() -> list[object]:
    """Events of every shape the readers and the store treat differently."""
    def v3(i: int, **changes: object) -> dict[str, object]:
        return dcsa_event(f"golden-{i}", **changes)

    flat = {"eventID": "0f6a1a52-8d3b-4f1c-9a57-2d1b3c4d5e6f", "eventType": "EQUIPMENT",
            "eventClassifierCode": "EST", "eventDateTime": "2026-03-01T10:00:00+02:00",
            "eventCreatedDateTime": "2026-03-01T08:30:00Z", "equipmentEventTypeCode": "DISC",
            "equipmentReference": "msku 123456-5", "ISOEquipmentCode": "45G1", "emptyIndicatorCode": "EMPTY",
            "eventLocation": {"UNLocationCode": "BEANR", "facilityCode": "ACT", "locationName": "Antwerp",
                              "latitude": "51.2", "longitude": 4.4},
            "transportCall": {"UNLocationCode": "BEANR", "facilityCode": "ACT", "transportCallID": "tc-1",
                              "transportCallSequenceNumber": 2, "carrierServiceCode": "AE7",
                              "exportVoyageNumber": "123W", "importVoyageNumber": "123E", "modeOfTransport": "VESSEL",
                              "vessel": {"vesselIMONumber": "9321483", "vesselName": "King of the Seas",
                                         "vesselCallSignNumber": "NCVV", "vesselFlag": "NL"}},
            "documentReferences": [{"documentReferenceType": "BKG", "documentReferenceValue": "BK-1"},
                                   {"documentReferenceType": "TRD", "documentReferenceValue": "BL-1"},
                                   {"documentReferenceType": "BKG", "documentReferenceValue": "BK-1"}],
            "seals": [{"sealNumber": "S1", "sealSource": "CUS", "sealType": "WIR"}, {"sealNumber": "S2"}]}
    transport = {**{k: v for k, v in flat.items() if k not in ("equipmentReference", "ISOEquipmentCode",
                                                                 "emptyIndicatorCode", "seals",
                                                                 "equipmentEventTypeCode")},
                 "eventID": "1f6a1a52-8d3b-4f1c-9a57-2d1b3c4d5e6f", "eventType": "TRANSPORT",
                 "transportEventTypeCode": "ARRI"}
    transport["transportCall"] = {**flat["transportCall"], "UNLocationCode": "COZZZ",  # type: ignore[dict-item]
                                  "vessel": {"vesselIMONumber": "9321484", "vesselName": "Wrong IMO"}}
    reefer = v3(9, eventClassification__eventTypeCode="REEFER", eventClassification__reeferEventTypeCode="MEAS",
                reeferDetails={"temperatureUnit": "FAH", "internalSetpointTemperature": 41,
                               "ambientMeasuredTemperature": "77.5",
                               "temperatureProbeMeasurements": [{"measuredTemperatureValue": 40.1},
                                                                {"measuredTemperatureValue": None}]})
    return [
        v3(1),
        v3(2, equipmentDetails__equipmentReference="APZU4812091"),  # wrong check digit: kept, flagged
        v3(3, eventLocation__UNLocationCode="NLQQQ"),  # not in the shipped list: informational flag
        v3(4, eventLocation__UNLocationCode="nl-rt"),  # malformed
        v3(5, eventUpdatedDateTime=None, eventDateTime="2026-02-01T01:02:03.456789-05:00"),
        v3(6, equipmentDetails__equipmentReference="x" * 70),  # too long for its column: quarantined
        v3(7, eventDateTime="yesterday"),  # quarantined with where/why
        v3(1),  # same id and facts again: a duplicate within the document
        v3(8, equipmentDetails__emptyIndicatorCode=None, equipmentDetails__seals=[{"number": "N1", "source": "SHI"}],
           relatedDocumentReferences=[{"type": "BKG", "value": "BK-9"}]),
        reefer,
        v3(10, eventClassification__eventTypeCode="IOT", eventClassification__iotEventTypeCode="DETC",
           iotDetails={"iotEventCode": "DRC"}),
        v3(11, eventID=None),
        "not an event",
        flat, transport,
    ]


def _ingest(engine: Engine, tmp_path: Path) -> None:
    generated = tmp_path / "golden-events.json"
    generated.write_text(json.dumps({"events": _variants()}))
    # a re-send of two events under other ids-with-the-same-facts, and one with other facts
    resend = tmp_path / "golden-resend.json"
    first, second = _variants()[:2]
    second["eventDateTime"] = "2026-01-21T00:00:00Z"  # type: ignore[index]
    resend.write_text(json.dumps([first, second]))
    files = sorted(TNT.glob("*.json"), key=lambda p: ("INVALID" in p.name, p.name))
    files += [generated, resend, EDI / "COARRI_D95B_ITG13_cosco-africa_ITGOA_multi-message.edi",
              EDI / "IFTSTA_D00B_rail-container-status.edi", EDI / "BAPLIE_D95B_SMDG20_oocl-beijing_USLGB.edi"]
    for path in files:
        with unit_of_work(engine) as uow:
            ingest_file(uow, path, IngestOptions(), NOW)


def _norm(value: object) -> object:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    return value


def _placeholders(text: str, tmp_path: Path) -> str:
    """``text`` with this run's file locations replaced by TMP and SHARED."""
    return text.replace(str(tmp_path), "TMP").replace(str(SHARED), "SHARED")


def _digest(rows: list[object], tmp_path: Path) -> str:
    """SHA-256 of the rows as JSON, with the run's file locations replaced by placeholders."""
    return hashlib.sha256(_placeholders(json.dumps(rows, sort_keys=True, default=str), tmp_path).encode()).hexdigest()


def _stored(engine: Engine, tmp_path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    with engine.connect() as conn:
        events = [{k: _norm(v) for k, v in r._mapping.items() if k != "id"}
                  for r in conn.execute(select(ShippingEventRow.__table__).order_by(ShippingEventRow.id))]
        # the fingerprint covers the reason, which may name this run's file paths: left out; the order
        # is that of the sources with placeholders, so that it does not depend on where the files lie
        quarantine = sorted(({k: _norm(v) for k, v in r._mapping.items() if k not in ("id", "fingerprint")}
                             for r in conn.execute(select(QuarantineRow.__table__))),
                            key=lambda q: (_placeholders(str(q["source"]), tmp_path), str(q["why"])))
    return events, quarantine


def test_stored_event_rows_and_quarantine_are_pinned(engine: Engine, tmp_path: Path) -> None:
    _ingest(engine, tmp_path)
    events, quarantine = _stored(engine, tmp_path)
    golden = [e for e in events if e["event_id"] == "golden-1"]
    assert golden[0]["fact_hash"] == GOLDEN_1_FACT_HASH
    assert (len(events), len(quarantine)) == COUNTS
    assert _digest(events, tmp_path) == EVENTS_DIGEST
    assert _digest(quarantine, tmp_path) == QUARANTINE_DIGEST


def test_sqlite_stores_the_same_text(tmp_path: Path) -> None:
    """The SQLite file's own text of every event row (times, JSON columns) is pinned too."""
    from scheldt.store.db import open_store

    db = tmp_path / "store.db"
    engine = open_store(f"sqlite:///{db}", auto_upgrade=True)
    _ingest(engine, tmp_path)
    engine.dispose()
    conn = sqlite3.connect(db)
    rows = [list(r) for r in conn.execute(
        "SELECT event_id, fact_hash, kind, event_type, classifier, event_time, created_time, container_number, "
        "booking_ref, transport_document_ref, unlocode, facility_code, vessel_imo, vessel_name, export_voyage, "
        "import_voyage, details, flags, retracted_by, supplied_by, received_at, typeof(event_time), "
        "typeof(details) FROM shipping_event ORDER BY id")]
    conn.close()
    assert _digest(rows, tmp_path) == SQLITE_TEXT_DIGEST


GOLDEN_1_FACT_HASH = "86de7883f59300a50c025404146cbbc7b6adc59542c8a91d8954177820a4b404"
COUNTS = (58, 16)
# the 58 rows as computed at 4be377c, except that the 25 EDIFACT events' ids (and so their fact
# hashes) are made from what they say, no longer from their message reference and position (an
# attack review re-sent a BAPLIE under another UNH reference and every position was added again);
# a diff of the rows before and after showed no other change; and that the 21 COARRI events name
# their terminal, VTE, which the fixture gives as the port's related place (LOC+11+ITGOA:139:6+
# VTE:TER:ZZZ) and was lost (a carrier review): a row diff showed facility_code '' -> 'VTE' (in
# the column and in details.location) and the fact hash as the only changes; and that the IFTSTA
# event is flagged interchange-reference-mismatch (its UNZ repeats 2805570, its UNB opened 2803570):
# a row diff showed that flag and the fact hash as the only changes; migration 0026 adds the column
# retracted_at (None on every row here): without it the rows digest as before (4af00d16...); the
# sources of the 24 EDIFACT moves and positions name their report's BGM document number (what a
# replacement of the report, BGM function 5, finds them by: a terminal review), a diff of the rows
# showing the source as the only change (before: 20cd7406...)
# changed on purpose once since: four DCSA shipment events name their document by documentID (review, 2026-12-07)
EVENTS_DIGEST = "4ccc5f75de18c3e891c93f94526f048b7cc94dca69a46647e3a468a764ba570e"
# the same 15 rows as computed at 4be377c, in the path-independent order (sources with placeholders),
# except one row: the over-long container number's rejection names the field at fault as DCSA
# names it, equipmentReference (stored as container_number), where it said eventID (checked by
# a diff of the rows before and after each change); and the two clashes (an id re-sent with other
# facts) keep the re-sent event's facts as read in ``raw``, which was empty (a row diff showed raw
# as the only change); the v3.0-Beta-1 sample's retraction of an event never sent here is
# quarantined, saying so (an EDI review): without that entry the rest digest as before (71aa5b5b...);
# an events-array item that is no event keeps its JSON in ``raw`` (an ingest review): a row diff
# showed raw "" -> "\"not an event\"" as the only change (before: d0ac14b8...); the two clashes'
# ``raw`` no longer names where the event was read (``source``: its ``where`` does), so the same
# clash from a file of another name is kept once (an idempotency review): a row diff showed the
# ``"source"`` key leaving those two raw records as the only change (before: a36579f1...)
QUARANTINE_DIGEST = "1fa91b5f7caac583c1b20abbacd4a396fa43d470612a8d3706486c17343e7db9"
SQLITE_TEXT_DIGEST = "4956b29e2406cf38743fac6059b0334a028d7ff991fe1d4057e2b1946f6314e4"  # as EVENTS_DIGEST


def _ingested(engine: Engine, files: dict[str, Path], *names: str) -> list[Any]:
    """The reports of ingesting ``files[name]`` for each of ``names`` in turn, in one unit of work."""
    with unit_of_work(engine) as uow:
        return [ingest_file(uow, files[name], IngestOptions(), NOW) for name in names]


def _forget_events(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())


def _vgm_row(engine: Engine) -> ShippingEventRow:
    """The one stored VGM declaration, detached from its session."""
    with unit_of_work(engine) as uow:
        [row] = uow.session.scalars(select(ShippingEventRow).where(ShippingEventRow.kind == "VGM")).all()
        uow.session.expunge(row)
    return row  # type: ignore[no-any-return]


def test_a_vgm_stored_before_its_tare_was_read_is_the_same_one_re_sent(engine: Engine, tmp_path: Path) -> None:
    """The tare a VGM declaration gives is read since the mass-gap check allows for it (a
    carrier-data review): a declaration stored before, without it, is the same one re-sent with
    it; once stored with its tare, a changed tare under the same reference is a clash, rejected
    and quarantined as a changed weight is (a regression review's corrected tare was dropped
    without a word)."""
    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    doc["VGMDeclarations"][0]["isRetracted"] = False
    sent = doc["VGMDeclarations"][0]
    files = {}
    for name, tare in (("before", None), ("with", {"value": 2.4, "unit": "KGM"}),
                       ("fixed", {"value": 3, "unit": "KGM"})):
        if tare is None:
            sent["equipmentDetails"].pop("tareWeight", None)
        else:
            sent["equipmentDetails"]["tareWeight"] = tare
        files[name] = tmp_path / f"vgm-{name}.json"
        files[name].write_text(json.dumps(doc))
    first, again = _ingested(engine, files, "before", "with")
    kept = _vgm_row(engine).details.get("tare_kg")
    _forget_events(engine)  # a store that read the tare first
    with_tare, same, fixed = _ingested(engine, files, "with", "with", "fixed")
    assert (first.added, again.added, again.rejected, kept) == (1, 0, 0, None)
    assert (with_tare.added, same.added, same.rejected, fixed.added, fixed.rejected) == (1, 0, 0, 0, 1)
    # one file holding it twice, the second copy with a tare: a clash within the file (a regression
    # review's second copy was taken for the first, its tare dropped without a word)
    twice = tmp_path / "vgm-twice.json"
    plain_copy = json.loads(files["before"].read_text())["VGMDeclarations"][0]
    tared = json.loads(files["with"].read_text())["VGMDeclarations"][0]
    twice.write_text(json.dumps({"VGMDeclarations": [plain_copy, tared]}))
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())
    with unit_of_work(engine) as uow:
        both = ingest_file(uow, twice, IngestOptions(), NOW)
    assert (both.added, both.rejected) == (1, 1)


def test_a_vgm_stored_before_its_vessel_and_voyage_were_read_is_the_same_one_re_sent(engine: Engine,
                                                                                      tmp_path: Path) -> None:
    """A VGM's vessel and voyage (``vesselVoyageDetails``) are read since 2026-12-07: a
    declaration stored before, without them, is the same one sent again with them (nothing
    added, nothing quarantined); once stored with them, another voyage under the same reference
    and time is a clash, as another weight is. The stored row names the voyage and vessel."""
    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    doc["VGMDeclarations"][0]["isRetracted"] = False
    sent = doc["VGMDeclarations"][0]
    full = dict(sent["vesselVoyageDetails"])
    files = {}
    # as the reader read the full declaration before: its carrier only
    for name, details in (("as-read-before", {"carrierCode": full["carrierCode"]}), ("full", full),
                          ("other-voyage", {**full,
                                            "exportVoyageNumberOrReference": {"carrierVoyageNumber": "2107S"}}),
                          ("odd-name", {**full, "vesselName": ["King of the Seas"]})):  # flagged, not used
        sent["vesselVoyageDetails"] = details
        files[name] = tmp_path / f"vgm-{name}.json"
        files[name].write_text(json.dumps(doc))
    before, again, odd = _ingested(engine, files, "as-read-before", "full", "odd-name")
    with unit_of_work(engine) as uow:
        quarantined = uow.session.scalar(select(func.count()).select_from(QuarantineRow))
    _forget_events(engine)  # a store that read the voyage first
    first, same, other = _ingested(engine, files, "full", "full", "other-voyage")
    row = _vgm_row(engine)
    assert (before.added, again.added, again.rejected, odd.added, odd.rejected, quarantined) == (1, 0, 0, 0, 0, 0)
    assert (first.added, same.added, same.rejected, other.added, other.rejected) == (1, 0, 0, 0, 1)
    assert (row.export_voyage, row.import_voyage, row.vessel_name, row.unlocode) == ("2103S", "2103S",
                                                                                      "King of the Seas", "NLAMS")


def test_a_vgm_declaration_sent_again_later_updates_or_withdraws_it(engine: Engine, tmp_path: Path) -> None:
    """DCSA VGM 1.0: a declaration is updated by sending it again under its declarationReference
    with a later declarationDateTime, and withdrawn so with isRetracted. A carrier-data review's
    corrected weight and withdrawal were refused as clashes, and the wrong VGM kept counting."""
    from scheldt.workflows.trip_scoring import trip_facts

    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    sent = doc["VGMDeclarations"][0]
    files = {}
    for name, when, kg, retracted in (("v1", "2025-01-23T01:23:45Z", 19_000, False),
                                      ("v2", "2025-01-24T08:00:00Z", 14_250, False),
                                      ("older", "2025-01-23T12:00:00Z", 15_000, False),
                                      ("v3", "2025-01-25T08:00:00Z", 14_250, True)):
        sent.update({"declarationDateTime": when, "isRetracted": retracted})
        sent["VGM"]["weight"] = {"value": kg, "unit": "KGM"}
        files[name] = tmp_path / f"vgm-{name}.json"
        files[name].write_text(json.dumps(doc))
    masses = []
    with unit_of_work(engine) as uow:
        reports = []
        for name in ("v1", "v2", "v2", "older", "v3"):
            reports.append(ingest_file(uow, files[name], IngestOptions(), NOW))
            if name != "older":
                [facts] = trip_facts(uow, ["APZU4812090"], NOW)
                masses.append([e.verified_gross_mass_kg for e in facts.events if e.kind == "VGM"])
        stored = uow.session.scalars(select(ShippingEventRow).where(ShippingEventRow.kind == "VGM")
                                     .order_by(ShippingEventRow.id))
        rows = [(r.event_id.split("@")[-1][:10], (r.retracted_by or "").split("@")[-1][:10]) for r in stored]
    assert [(r.added, r.rejected) for r in reports] == [(1, 0), (1, 0), (0, 0), (0, 1), (1, 0)]
    assert masses == [[19_000.0], [14_250.0], [14_250.0], [None]]
    assert rows == [("VGM-HHL718", "2025-01-24"), ("2025-01-24", "2025-01-25"), ("2025-01-25", "")]
    # a withdrawal by its reference alone (DCSA: the rest is irrelevant) withdraws every version
    minimal = tmp_path / "vgm-minimal.json"
    minimal.write_text(json.dumps({"VGMDeclarations": [{"declarationReference": sent["declarationReference"],
                                                        "isRetracted": True}]}))
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.update().values(retracted_by=None, retracted_at=None))
    with unit_of_work(engine) as uow:
        withdrawn = ingest_file(uow, minimal, IngestOptions(), NOW)
        left = uow.session.scalars(select(ShippingEventRow.event_id).where(
            ShippingEventRow.kind == "VGM", ShippingEventRow.retracted_by.is_(None))).all()
    assert (withdrawn.accepted, withdrawn.rejected, left) == (1, 0, [])
    # a declaration and its update in one file (a regression review's update was refused as a clash)
    together = tmp_path / "vgm-together.json"
    together.write_text(json.dumps({"VGMDeclarations": [json.loads(files[v].read_text())["VGMDeclarations"][0]
                                                        for v in ("v1", "v2")]}))
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())
    with unit_of_work(engine) as uow:
        both = ingest_file(uow, together, IngestOptions(), NOW)
        [facts] = trip_facts(uow, ["APZU4812090"], NOW)
    assert (both.added, both.rejected) == (2, 0)
    assert [e.verified_gross_mass_kg for e in facts.events if e.kind == "VGM"] == [14_250.0]


def test_a_vgm_correction_undone_is_in_force_again(engine: Engine, tmp_path: Path) -> None:
    """A review: a typo'd VGM corrected back (the first weight sent again under the reference with
    a later declarationDateTime) added nothing, and the typo kept scoring a mass gap."""
    from scheldt.workflows.trip_scoring import trip_facts

    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    sent = doc["VGMDeclarations"][0]
    sent["isRetracted"] = False
    reports, masses = [], []
    for when, kg in (("2025-01-23T10:00:00Z", 19_000), ("2025-01-23T12:00:00Z", 26_000),
                     ("2025-01-23T14:00:00Z", 19_000), ("2025-01-23T14:00:00Z", 19_000)):
        sent.update({"declarationDateTime": when, "VGM": {**sent["VGM"], "weight": {"value": kg, "unit": "KGM"}}})
        (tmp_path / "vgm.json").write_text(json.dumps(doc))
        with unit_of_work(engine) as uow:
            report = ingest_file(uow, tmp_path / "vgm.json", IngestOptions(), NOW)
            [facts] = trip_facts(uow, ["APZU4812090"], NOW)
        reports.append((report.added, report.rejected))
        masses.append([e.verified_gross_mass_kg for e in facts.events if e.kind == "VGM"])
    assert reports == [(1, 0), (1, 0), (1, 0), (0, 0)]
    assert masses == [[19_000.0], [26_000.0], [19_000.0], [19_000.0]]


def test_a_terminal_report_stored_before_its_masses_were_kept_is_the_same_one_re_sent(engine: Engine) -> None:
    """COARRI's MEA+AAE+VGM and TMP were read and dropped (a data review); events stored then,
    without them, are the same facts when the report is sent again after the upgrade: nothing
    is added or refused. The masses of a new report are stored, for the mass-gap indicator."""
    from dataclasses import replace

    from scheldt.ingest.edifact.messages import read_edifact

    name = "COARRI_D23A_ITG10_japdeva-CRMOB-to-customs.edi"
    events = [r for r in read_edifact((SHARED / "fixtures" / "edifact" / name).read_bytes(), name)
              if isinstance(r, EquipmentEvent)]
    as_before = [replace(e, verified_gross_mass_kg=None, gross_mass_kg=None, temperature_celsius=None) for e in events]
    with unit_of_work(engine) as uow:
        stored_before = uow.events.add(as_before, "be-customs", NOW)
        resent = uow.events.add(events, "be-customs", NOW)
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())
    with unit_of_work(engine) as uow:
        fresh = uow.events.add(events, "be-customs", NOW)
        row = uow.session.scalars(select(ShippingEventRow).where(ShippingEventRow.container_number == "KOSU4954710")
                                  ).first()
        details = dict(row.details) if row else {}
    assert stored_before == (74, []) and resent == (0, [])
    assert fresh[0] == 74 and (details["verified_gross_mass_kg"], details["temperature_celsius"]) == (16733.08, 0.0)


def test_edifact_events_stored_as_an_earlier_reader_read_them_are_the_same_ones_re_sent(engine: Engine) -> None:
    """A regression review: after seal issuers were read by UN/EDIFACT 9303 and SMDG 1.x bay
    plans' LOC+6 and LOC+12 as their ports, a terminal report and a bay plan loaded before were
    quarantined whole when sent again ("already received with other facts"). Read as before
    (AA and AB seals as CUS, AC as SHI; no ports), they are the same facts; a seal number
    changed is still a clash."""
    from dataclasses import replace

    from scheldt.domain.shipping import Seal, StowagePosition
    from scheldt.ingest.edifact.messages import read_edifact

    edi = SHARED / "fixtures" / "edifact"
    coarri = (edi / "COARRI_D95B_ITG13_cosco-africa_ITGOA_multi-message.edi").read_text()
    moves = [r for r in read_edifact(coarri.replace("+SH'", "+AB'").replace("+SH+", "+AB+").encode(), "c.edi")
             if isinstance(r, EquipmentEvent)]
    plan_name = "BAPLIE_1-911_SMDG15_large-9995-containers.edi"
    plan = [r for r in read_edifact((edi / plan_name).read_bytes(), plan_name) if isinstance(r, StowagePosition)][:200]
    assert {s.source for e in moves for s in e.seals} == {"", "CAR"} and plan[0].port_of_loading == "AUTSV"
    before = [replace(e, seals=tuple(replace(s, source=s.source or "CUS") for s in e.seals)) for e in moves] + [
        replace(p, port_of_loading="", port_of_discharge="") for p in plan]
    resealed = [replace(moves[0], seals=(Seal("OTHER-1", ""),))]
    with unit_of_work(engine) as uow:
        stored = uow.events.add(before, "be-customs", NOW)
        again = uow.events.add([*moves, *plan], "be-customs", NOW)
        changed = uow.events.add(resealed, "be-customs", NOW)
    assert stored == (len(before), []) and again == (0, [])
    assert changed[0] == 0 and [r.why[:40] for r in changed[1]] == ["event id " + moves[0].event_id[:31]]


def test_a_gate_move_stored_before_its_group_terminal_was_read_is_the_same_one_re_sent(engine: Engine) -> None:
    """A CODECO loaded before the terminal in its EQD group was read (stored without a
    terminal), sent again and now read with it, adds nothing and is not quarantined; stored
    with its terminal, a re-send naming another terminal is still another fact."""
    from dataclasses import replace

    from scheldt.ingest.edifact.messages import read_edifact

    message = ("UNH+M1+CODECO:D:95B:UN:ITG14'BGM+34+GATEIN001+9'DTM+137:202403011200:203'TDT+1++3+31'"
               "EQD+CN+ABCU1000006+22G1:102:5++2+5'RFF+BN:BOOK100'DTM+7:202403011512:203'"
               "LOC+165+BEANR:139:6+SIMT1:TER:ZZZ'SEL+SEAL111+CA'CNT+16:1'UNT+10+M1'")
    [move] = list(read_edifact(message.encode(), "codeco.edi"))
    assert isinstance(move, EquipmentEvent) and move.location is not None and move.location.facility_code == "SIMT1"
    before = replace(move, location=replace(move.location, facility_code=""))
    elsewhere = replace(move, location=replace(move.location, facility_code="SIMT3"))
    with unit_of_work(engine) as uow:
        stored = uow.events.add([before], "be-customs", NOW)
        again = uow.events.add([move], "be-customs", NOW)
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())
    with unit_of_work(engine) as uow:
        fresh = uow.events.add([move], "be-customs", NOW)
        other = uow.events.add([elsewhere], "be-customs", NOW)
    assert stored == (1, []) and again == (0, []) and fresh == (1, [])
    assert other[0] == 0 and [r.field for r in other[1]] == ["eventID"]


def test_a_shipment_event_stored_before_its_document_id_was_a_reference_is_the_same_one_re_sent(
        engine: Engine) -> None:
    """A review: DCSA T&T 2.2 shipment events name their document in ``documentID`` and
    ``documentTypeCode`` (TRD reserved-HHL123 in the shared sample), which were not read as
    references, so the events were on no trip. They are now; one stored before, sent again,
    adds nothing and is not quarantined, and another document named is still another fact."""
    from dataclasses import replace

    from scheldt.domain.shipping import DocumentReference, ShipmentEvent
    from scheldt.ingest.dcsa_events import read_dcsa_events

    read = list(read_dcsa_events((TNT / "tnt-v2.2-events-response-mixed.json").read_bytes(), "mixed.json"))
    drafts = [e for e in read if isinstance(e, ShipmentEvent)]
    assert [(e.document_type, e.document_id, e.documents) for e in drafts] == [
        ("SHI", "reserved-HHL123", ()),  # shipping instructions: no trip is found by them
        ("BKG", "ABC123123123", (DocumentReference("BKG", "ABC123123123"),)),
        ("TRD", "reserved-HHL123", (DocumentReference("TRD", "reserved-HHL123"),))]
    draft = drafts[2]
    before = replace(draft, documents=tuple(d for d in draft.documents
                                            if d != DocumentReference(draft.document_type, draft.document_id)))
    elsewhere = replace(draft, documents=(DocumentReference(draft.document_type, "OTHER-1"),), document_id="OTHER-1")
    with unit_of_work(engine) as uow:
        stored = uow.events.add([before], "be-customs", NOW)
        again = uow.events.add([draft], "be-customs", NOW)
        other = uow.events.add([elsewhere], "be-customs", NOW)
    assert stored == (1, []) and again == (0, [])
    assert other[0] == 0 and [r.field for r in other[1]] == ["eventID"]


def test_a_gate_move_stored_before_its_full_or_empty_code_was_read_is_the_same_one_re_sent(engine: Engine) -> None:
    """A regression review: a CODECO whose box is full by UN/EDIFACT 8169 code 8 (full, one
    consignment), stored when only codes 4 and 5 were read (neither full nor empty), sent again
    and now read as full, was refused as the same move with other facts."""
    from dataclasses import replace

    from scheldt.ingest.edifact.messages import read_edifact

    message = ("UNH+M1+CODECO:D:95B:UN:ITG14'BGM+34+GATEIN002+9'DTM+137:202403011200:203'TDT+1++3+31'"
               "EQD+CN+ABCU1000006+22G1:102:5++2+8'RFF+BN:BOOK100'DTM+7:202403011512:203'"
               "LOC+165+BEANR:139:6+SIMT1:TER:ZZZ'CNT+16:1'UNT+9+M1'")
    [move] = list(read_edifact(message.encode(), "codeco.edi"))
    assert isinstance(move, EquipmentEvent) and move.empty is False
    with unit_of_work(engine) as uow:
        stored = uow.events.add([replace(move, empty=None)], "be-customs", NOW)
        again = uow.events.add([move], "be-customs", NOW)
        emptied = uow.events.add([replace(move, empty=True)], "be-customs", NOW)
    assert stored == (1, []) and again == (0, [])
    assert emptied[0] == 0 and [r.field for r in emptied[1]] == ["eventID"]


def test_a_vgm_stored_before_its_seals_were_read_is_the_same_one_re_sent(engine: Engine) -> None:
    """A CLI review: the seals a VGM declaration gives (the sample's VET123) were dropped. Read
    now, a declaration stored before without them, sent again, adds nothing and is not
    quarantined; one giving no seal is stored as before (its digest unchanged)."""
    from dataclasses import replace

    from scheldt.domain.shipping import Seal, VgmDeclaration
    from scheldt.ingest.dcsa_documents import read_dcsa_documents

    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    doc["VGMDeclarations"][0]["isRetracted"] = False
    [vgm] = list(read_dcsa_documents(json.dumps(doc).encode(), "vgm.json"))
    assert isinstance(vgm, VgmDeclaration) and vgm.seals == (Seal("VET123", "CUS", "WIR"),)
    with unit_of_work(engine) as uow:
        stored = uow.events.add([replace(vgm, seals=None)], "be-customs", NOW)
        again = uow.events.add([vgm], "be-customs", NOW)
        [row] = uow.session.scalars(select(ShippingEventRow).where(ShippingEventRow.kind == "VGM")).all()
    assert stored == (1, []) and again == (0, [])
    assert "seals" not in row.details  # stored before its seals were read
    with unit_of_work(engine) as uow:
        uow.session.execute(ShippingEventRow.__table__.delete())
    with unit_of_work(engine) as uow:  # stored with its seal, another seal under the same reference is a clash
        uow.events.add([vgm], "be-customs", NOW)
        resealed = uow.events.add([replace(vgm, seals=(Seal("OTHER1", "CUS", "WIR"),))], "be-customs", NOW)
        [row] = uow.session.scalars(select(ShippingEventRow).where(ShippingEventRow.kind == "VGM")).all()
    assert row.details["seals"] == [{"number": "VET123", "source": "CUS", "seal_type": "WIR"}]
    assert resealed[0] == 0 and [r.field for r in resealed[1]] == ["eventID"]
