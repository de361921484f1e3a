"""Write simulated traffic in the formats carriers, terminals and vessels send (one folder a day).

``OUT/day-YYYY-MM-DD/``: ``events.json`` (DCSA Track & Trace 3.0 ``{"events": [...]}`` page),
``documents.json`` (DCSA eBL 3.0 transport document notifications, a CloudEvents batch),
``vgm.json`` (DCSA VGM 1.0 ``{"VGMDeclarations": [...]}``), ``ais.nmea`` (raw ``!AIVDM`` with
NMEA 4 tag-block times, encoded by pyais). Earlier bills of lading of established consignees
are in the first day folder; ``OUT/ground-truth.csv`` (never ingested) says which trips
are planted, how, with which indicators, and the simulated inspection outcome. Each day folder
is meant to be ingested with ``SCHELDT_NOW`` at that day's 23:59:59 UTC (the time model).
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from stdnum import iso6346

from scheldt.domain.trips import TripDocument, TripEvent
from scheldt.simulate.spec import DESTINATION
from scheldt.simulate.traffic import SimCall, SimTrip, Traffic, received


def _z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _event_json(trip: SimTrip, e: TripEvent, n: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"scheldt-sim:{trip.container}:{trip.document_ref}:{n}")),
        "eventDateTime": _z(e.event_time), "eventCreatedDateTime": _z(e.event_time),
        "eventLocation": {"UNLocationCode": e.unlocode,
                          **({"facilityCode": trip.call.terminal} if e.unlocode == DESTINATION else {})},
        "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": e.classifier,
                                "equipmentEventTypeCode": e.event_type},
        "equipmentDetails": {"equipmentReference": trip.container, "ISOEquipmentCode": e.iso_equipment_code,
                             "emptyIndicatorCode": "EMPTY" if e.empty else "LADEN",
                             "seals": [{"number": s, "source": "CAR"} for s in e.seals]},
    }
    if trip.document_ref:
        body["documentReferences"] = [{"documentReferenceType": "TRD", "documentReferenceValue": trip.document_ref},
                                      {"documentReferenceType": "BKG", "documentReferenceValue": trip.booking_ref}]
        body["transportDetails"] = {"transportCall": {
            "UNLocationCode": e.unlocode, "carrierExportVoyageNumber": trip.call.voyage,
            "vessel": {"vesselIMONumber": trip.call.imo, "vesselName": trip.call.name}}}
    return body


def _document_json(trip: SimTrip, d: TripDocument, version: int) -> dict[str, Any]:
    parties: dict[str, Any] = {}
    for p in d.parties:
        entry = {"partyName": p.name, "address": {"countryCode": p.country} if p.country else {}}
        if p.role == "notify party":
            parties.setdefault("notifyParties", []).append(entry)
        else:
            parties[p.role] = entry
    td = {
        "transportDocumentReference": d.document_ref, "transportDocumentSubReference": f"v{version}",
        "transportDocumentStatus": "ISSUED", "transportDocumentTypeCode": "BOL", "isToOrder": bool(d.to_order),
        "freightPaymentTermCode": d.freight_payment, "carrierCode": trip.carrier, "carrierCodeListProvider": "SMDG",
        "transports": {"portOfLoading": {"UNLocationCode": d.port_of_loading},
                       "portOfDischarge": {"UNLocationCode": d.port_of_discharge},
                       "vesselVoyages": [{"vesselName": trip.call.name, "carrierExportVoyageNumber": trip.call.voyage}]},
        "documentParties": parties,
        "consignmentItems": [{"carrierBookingReference": trip.booking_ref, "descriptionOfGoods": list(d.descriptions),
                              "HSCodes": list(d.hs_codes),
                              "cargoItems": [{"equipmentReference": trip.container,
                                              "cargoGrossWeight": {"value": d.gross_mass_kg, "unit": "KGM"}}]}],
        "utilizedTransportEquipments": [{"isShipperOwned": False, "seals": [{"number": s} for s in d.seals],
                                         "equipment": {"ISOEquipmentCode": trip.iso_code, "equipmentReference": trip.container}}],
    }
    return {"specversion": "1.0", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"scheldt-sim:{d.document_ref}:{version}")),
            "source": "https://carrier.example/sim", "type": "org.dcsa.transport-document.v3",
            "time": _z(d.received_at), "datacontenttype": "application/json",
            "data": {"transportDocumentReference": d.document_ref, "transportDocumentStatus": "ISSUED",
                     "transportDocument": td}}


def _vgm_json(trip: SimTrip, e: TripEvent) -> dict[str, Any]:
    return {"declarationReference": f"VGM-{trip.document_ref}-{trip.container}", "isRetracted": False,
            "declarationDateTime": _z(e.event_time),
            "VGM": {"weight": {"value": e.verified_gross_mass_kg, "unit": "KGM"}, "method": "SM1", "dateTime": _z(e.event_time),
                    "location": {"UNLocationCode": e.unlocode}},
            "equipmentDetails": {"equipmentReference": trip.container, "ISOEquipmentCode": trip.iso_code,
                                 **({"tareWeight": {"value": e.tare_kg, "unit": "KGM"}} if e.tare_kg else {})},
            "shipmentDetails": {"carrierBookingReference": trip.booking_ref, "transportDocumentReference": trip.document_ref}}


def _nmea(call: SimCall) -> list[tuple[datetime, str]]:
    """(time, line): a type 5 static report (IMO ↔ MMSI, two sentences) with the first
    position, then type 1 position reports, each behind an NMEA 4 tag block with its time."""
    from pyais.encode import encode_dict  # loaded here, not by every command line start

    lines = []
    for k, fix in enumerate(call.track):
        msgs = []
        if k == 0:
            msgs += encode_dict({"type": 5, "mmsi": int(call.mmsi), "imo": int(call.imo), "shipname": call.name[:20],
                                 "callsign": call.call_sign[:7], "ship_type": 71, "destination": "BEANR"},
                                talker_id="AI", sentence_type="VDM", seq_id=1)
        msgs += encode_dict({"type": 1, "mmsi": int(call.mmsi), "lat": fix.latitude, "lon": fix.longitude,
                             "speed": fix.speed_knots or 0, "course": 45, "heading": 45, "status": 0},
                            talker_id="AI", sentence_type="VDM")
        tag = f"c:{int(fix.observed_at.timestamp())}"
        check = 0
        for ch in tag:
            check ^= ord(ch)
        lines += [(fix.observed_at, f"\\{tag}*{check:02X}\\{m}") for m in msgs]
    return lines


def write_traffic(traffic: Traffic, out: Path) -> dict[str, int]:
    """Write the traffic files and the ground truth under ``out``; returns counts written."""
    out.mkdir(parents=True, exist_ok=True)
    per_day: dict[date, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for trip in traffic.trips:
        for n, e in enumerate(trip.events):
            day = received(e.event_time).date()
            if e.kind == "VGM":
                per_day[day]["vgm"].append(_vgm_json(trip, e))
            else:
                per_day[day]["events"].append(_event_json(trip, e, n))
        for v, d in enumerate(trip.documents, start=1):
            per_day[d.received_at.date()]["documents"].append(_document_json(trip, d, v))
    for d in traffic.history:
        per_day[d.received_at.date()]["documents"].append(_document_json(_holder(d), d, 1))
    seen_calls: set[int] = set()
    for trip in traffic.trips:
        if trip.call.imo and id(trip.call) not in seen_calls:
            seen_calls.add(id(trip.call))
            for at, line in _nmea(trip.call):
                per_day[received(at).date()]["ais"].append(line)
    counts = defaultdict(int)
    for day, parts in sorted(per_day.items()):
        folder = out / f"day-{day.isoformat()}"
        folder.mkdir(exist_ok=True)
        if parts["events"]:
            _dump(folder / "events.json", {"events": parts["events"]})
        if parts["documents"]:
            _dump(folder / "documents.json", parts["documents"])
        if parts["vgm"]:
            _dump(folder / "vgm.json", {"VGMDeclarations": parts["vgm"]})
        if parts["ais"]:
            (folder / "ais.nmea").write_text("\n".join(parts["ais"]) + "\n")
        for k, v in parts.items():
            counts[k] += len(v)
    write_ground_truth(traffic.trips, out / "ground-truth.csv")
    return dict(counts)


def _holder(d: TripDocument) -> SimTrip:
    """A stand-in trip for an earlier bill of lading written without events."""
    call = SimCall("", "", "", "", "", d.received_at)
    body = f"SIMU{int(d.document_ref[-6:]) % 10**6:06d}"
    return SimTrip(body + iso6346.calc_check_digit(body), "22G1", d.document_ref, "", call, d.received_at, [], [d], "")


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, separators=(",", ":")))


def write_ground_truth(trips: Iterable[SimTrip], path: Path) -> None:
    """One row per trip: key, planted, method, indicators given, subtle, inspected, seizure."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["container_number", "document_ref", "voyage", "discharged_at", "planted", "method", "given",
                    "subtle", "inspected", "seizure"])
        for t in trips:
            w.writerow([t.container, t.document_ref, t.call.voyage, _z(t.discharged), int(t.planted), t.method,
                        " ".join(t.given), int(t.subtle), int(t.inspected), int(t.seizure)])
