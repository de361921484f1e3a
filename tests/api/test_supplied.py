"""Shipping lines and terminals send their own shipping data through the API
(``POST /api/v1/shipping-data``), on SQLite and PostgreSQL.

The files are written here from the shapes the simulator writes (DCSA eBL 3.0 transport
documents as CloudEvents, DCSA Track & Trace 2.2 event pages); the box numbers pass their ISO
6346 check digits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from scheldt.workflows import supplied
from tests.api.conftest import Service

URL = "/api/v1/shipping-data"


def _document(reference: str, carrier_code: str, box: str, booking: str = "") -> bytes:
    """One DCSA eBL 3.0 transport document (a CloudEvent), as the simulator writes it, under
    ``booking`` (default ``BK<reference>``)."""
    return json.dumps([{
        "specversion": "1.0", "id": f"doc-{reference}", "source": "https://carrier.example/tests",
        "type": "org.dcsa.transport-document.v3", "time": "2026-01-02T08:00:00Z", "datacontenttype": "application/json",
        "data": {"transportDocumentReference": reference, "transportDocumentStatus": "ISSUED", "transportDocument": {
            "transportDocumentReference": reference, "transportDocumentSubReference": "v1",
            "transportDocumentStatus": "ISSUED", "transportDocumentTypeCode": "BOL", "isToOrder": False,
            "freightPaymentTermCode": "PRE", "carrierCode": carrier_code, "carrierCodeListProvider": "SMDG",
            "transports": {"portOfLoading": {"UNLocationCode": "ECGYE"}, "portOfDischarge": {"UNLocationCode": "BEANR"},
                           "vesselVoyages": [{"vesselName": "SIM POLARIS 36", "carrierExportVoyageNumber": "901S"}]},
            "documentParties": {"shipper": {"partyName": "Frutas del Pacifico SA", "address": {"countryCode": "EC"}},
                                "consignee": {"partyName": "Bore Trading NV", "address": {"countryCode": "BE"}}},
            "consignmentItems": [{"carrierBookingReference": booking or f"BK{reference}",
                                  "descriptionOfGoods": ["Bananas"],
                                  "HSCodes": ["080390"], "cargoItems": [{"equipmentReference": box,
                                                                         "cargoGrossWeight": {"value": 21000.0,
                                                                                              "unit": "KGM"}}]}],
            "utilizedTransportEquipments": [{"isShipperOwned": False, "seals": [{"number": "SL5550001"}],
                                             "equipment": {"ISOEquipmentCode": "45R1", "equipmentReference": box}}]}}}
    ]).encode()


def _load(event_id: str, box: str, reference: str) -> dict[str, Any]:
    """A DCSA T&T 2.2 actual LOAD at Guayaquil of ``box`` under transport document ``reference``."""
    return {"eventID": event_id, "eventDateTime": "2026-01-02T09:00:00Z",
            "eventCreatedDateTime": "2026-01-02T09:05:00Z", "eventLocation": {"UNLocationCode": "ECGYE"},
            "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": "ACT",
                                    "equipmentEventTypeCode": "LOAD"},
            "equipmentDetails": {"equipmentReference": box, "ISOEquipmentCode": "45R1", "emptyIndicatorCode": "LADEN",
                                 "seals": [{"number": "SL5550002", "source": "CAR"}]},
            "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": reference}],
            "transportDetails": {"transportCall": {"UNLocationCode": "ECGYE", "carrierExportVoyageNumber": "901S",
                                                   "vessel": {"vesselIMONumber": "9478365",
                                                              "vesselName": "SIM POLARIS 36"}}}}


def _post(service: Service, user: str, body: bytes, name: str = "", **params: str) -> Any:
    return service.client.post(URL, params={"name": name, **params} if name else params, content=body,
                               headers=service.as_(user) | {"Content-Type": "application/octet-stream"})


def test_a_line_sends_its_documents_and_events_and_another_lines_are_refused(service: Service) -> None:
    """Carrier B's bill of lading lands as carrier B's; carrier A's events page keeps the event
    about its own document and refuses, with where and why, the one naming carrier B's; the
    same page sent again is a second sending that adds nothing."""
    sent = _post(service, "carrier-b", _document("SIMBTEST0009", "SIMB", "TGHU9876547"), "bl-simbtest0009.json")
    assert sent.status_code == 201, sent.text
    b = sent.json()
    assert (b["name"], b["format"], b["accepted"], b["added"], b["rejected"], b["organisation_id"]) == (
        "bl-simbtest0009.json", "dcsa-documents", 1, 1, 0, "carrier-b")
    assert b["size_bytes"] == len(_document("SIMBTEST0009", "SIMB", "TGHU9876547")) and len(b["sha256"]) == 64
    page = json.dumps({"events": [_load("e-own-1", "MSKU9070323", "SIMATEST0001"),
                                  _load("e-theirs-1", "TGHU9876547", "SIMBTEST0009")]}).encode()
    first = _post(service, "carrier", page, "events.json").json()
    assert (first["format"], first["accepted"], first["added"], first["rejected"]) == ("dcsa-events", 1, 1, 1)
    [refused] = first["report"]["rejections"]
    assert refused["where"] == f"carrier-a/{first['id']}/events.json$.events[1]"
    assert refused["field"] == "documentReferences"
    assert refused["why"] == ("names SIMBTEST0009, another carrier's document here: carrier-a supplies events about "
                              "its own shipments only")  # not whose (a carrier review mapped boxes to their lines)
    # its box, under its own booking alone (no bill of lading here yet), is in its list at once
    listed = service.client.get("/api/v1/trips", params={"container": "MSKU9070323"}, headers=service.as_("carrier"))
    assert [(t["container_number"], t["carrier_code"]) for t in listed.json()["items"]] == [("MSKU9070323", "SIMA")]
    with service.uow() as uow:
        quarantined = uow.quarantine.count()
    again = _post(service, "carrier", page, "events.json").json()
    assert again["id"] != first["id"]
    assert (again["accepted"], again["added"], again["rejected"]) == (1, 0, 1)
    with service.uow() as uow:
        stored = uow.events.for_containers(["MSKU9070323", "TGHU9876547"])
        entries = uow.audit.entries(uow.audit.count() - 1, 1)
        # the refusal is quarantined once: a review's re-sends, each upload named by its own number,
        # were quarantined again (a refusal keeps no raw record, so where it was named it)
        assert uow.quarantine.count() == quarantined
    assert [e["supplied_by"] for e in stored["MSKU9070323"]] == ["carrier-a"]
    assert stored["TGHU9876547"] == []  # carrier B's box: only its document, no event of carrier A's
    assert (entries[0].kind, entries[0].payload["object_kind"], entries[0].payload["object_id"],
            entries[0].payload["details"]["rejected"]) == ("write", "shipping-data", str(again["id"]), 1)


def test_a_terminal_sends_moves_not_transport_documents(service: Service) -> None:
    """A terminal's bill of lading under a line's carrier code would hand the line the trip and
    its hold notices: refused, record by record."""
    r = _post(service, "terminal", _document("SIMATEST0077", "SIMA", "MSKU9070323"), "bl.json")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["added"], body["rejected"]) == (0, 0, 1)
    assert body["report"]["rejections"][0]["why"].startswith("terminal-2 is a terminal: it supplies the moves")
    with service.uow() as uow:
        assert uow.documents.carrier_codes_of(["SIMATEST0077"]) == {}


def test_a_terminal_sends_the_moves_at_its_own_terminal_only(service: Service) -> None:
    """A terminal's gate-out of a box at another terminal would mark it gone, and customs could
    no longer plan its scan: refused, and so is a move naming no facility."""
    def gate_out(event_id: str, location: dict[str, str]) -> dict[str, Any]:
        return {"eventID": event_id, "eventDateTime": "2026-01-02T15:00:00Z",
                "eventCreatedDateTime": "2026-01-02T15:01:00Z", "eventLocation": location,
                "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": "ACT",
                                        "equipmentEventTypeCode": "GTOT"},
                "equipmentDetails": {"equipmentReference": "MSKU9070323", "ISOEquipmentCode": "45R1",
                                     "emptyIndicatorCode": "LADEN"},
                "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": "SIMATEST0001"}]}

    page = {"events": [gate_out("t-own", {"UNLocationCode": "BEANR", "facilityCode": "SIMT2",
                                          "facilityCodeListProvider": "SMDG"}),
                       gate_out("t-other", {"UNLocationCode": "BEANR", "facilityCode": "SIMT3",
                                            "facilityCodeListProvider": "SMDG"}),
                       gate_out("t-none", {"UNLocationCode": "BEANR"})]}
    body = _post(service, "terminal", json.dumps(page).encode(), "gate.json").json()
    assert (body["accepted"], body["added"], body["rejected"]) == (1, 1, 2)
    assert [(r["where"].rsplit("/", 1)[1], r["field"], r["why"]) for r in body["report"]["rejections"]] == [
        ("gate.json$.events[1]", "facilityCode", "happened at facility 'SIMT3', not at terminal-2 (SIMT2): a terminal "
                                                 "supplies the moves at its own terminal only"),
        ("gate.json$.events[2]", "facilityCode", "names no facility (SMDG terminal code), not at terminal-2 (SIMT2): a "
                                                 "terminal supplies the moves at its own terminal only")]


def _move(event_id: str, kind: str, box: str, when: str, booking: str = "", facility: str = "") -> dict[str, Any]:
    """A DCSA T&T 2.2 actual equipment event at Antwerp, naming ``booking`` and ``facility`` if given."""
    return {"eventID": event_id, "eventDateTime": when, "eventCreatedDateTime": when,
            "eventLocation": {"UNLocationCode": "BEANR", **({"facilityCode": facility, "facilityCodeListProvider":
                                                              "SMDG"} if facility else {})},
            "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": "ACT",
                                    "equipmentEventTypeCode": kind},
            "equipmentDetails": {"equipmentReference": box, "ISOEquipmentCode": "45R1", "emptyIndicatorCode": "LADEN"},
            **({"documentReferences": [{"documentReferenceType": "BKG", "documentReferenceValue": booking}]}
               if booking else {})}


def test_a_line_takes_no_trip_a_terminals_move_began_or_shares_with_another_line(service: Service) -> None:
    """A regression review: once a terminal's move was on a trip, a line's gate-out naming
    nothing (or naming the other line's booking) joined it, marked the box gone, and the trip
    became the line's, with its hold notices."""
    def send(user: str, *events: dict[str, Any]) -> tuple[int, int]:
        body = _post(service, user, json.dumps({"events": list(events)}).encode(), "moves.json").json()
        return body["accepted"], body["rejected"]

    # A: a trip a terminal's discharge began, naming a booking no document here has
    assert send("terminal", _move("ta-1", "DISC", "TCNU1000016", "2026-01-02T06:00:00Z", "SIMBBK777",
                                  "SIMT2")) == (1, 0)
    assert send("carrier", _move("ca-1", "GTOT", "TCNU1000016", "2026-01-02T18:00:00Z")) == (0, 1)
    # B: carrier B's trip (its load, then the terminal's discharge, both naming its booking)
    assert send("carrier-b", _move("cb-1", "LOAD", "TCNU1000021", "2025-12-10T06:00:00Z", "SIMBBK888")) == (1, 0)
    assert send("terminal", _move("tb-1", "DISC", "TCNU1000021", "2026-01-02T07:00:00Z", "SIMBBK888",
                                  "SIMT2")) == (1, 0)
    assert send("carrier", _move("ca-2", "GTOT", "TCNU1000021", "2026-01-02T19:00:00Z", "SIMBBK888")) == (0, 1)
    assert send("carrier", _move("ca-3", "GTOT", "TCNU1000021", "2026-01-02T19:00:00Z")) == (0, 1)
    # nor by a bill of lading of its own naming carrier B's booking (a second regression review)
    bl = _post(service, "carrier", _document("SIMATAKE01", "SIMA", "TCNU1000021", "SIMBBK888"), "bl.json").json()
    assert (bl["accepted"], bl["rejected"], bl["report"]["rejections"][0]["why"]) == (
        0, 1, "SIMBBK888 is another carrier's booking here: carrier-a supplies documents of its own shipments only")
    for box, whose in (("TCNU1000016", ""), ("TCNU1000021", "SIMB")):  # the terminal's; carrier B's, begun by it
        mine = service.client.get("/api/v1/trips", params={"container": box}, headers=service.as_("carrier"))
        assert mine.json()["items"] == [], box
        with service.uow() as uow:
            trips = [uow.container_trips.get(t["id"]) for t in uow.container_trips.of_container(box)]
        assert [(t["carrier_code"], t["left_at"]) for t in trips] == [(whose, None)], box  # not gone, not A's
    # its own flow keeps its trip: its load, then the terminal's discharge, both naming its booking
    assert send("carrier", _move("cc-1", "LOAD", "TCNU1000037", "2025-12-11T06:00:00Z", "SIMABK002")) == (1, 0)
    assert send("terminal", _move("tc-1", "DISC", "TCNU1000037", "2026-01-02T08:00:00Z", "SIMABK002",
                                  "SIMT2")) == (1, 0)
    own = service.client.get("/api/v1/trips", params={"container": "TCNU1000037"}, headers=service.as_("carrier"))
    assert [t["carrier_code"] for t in own.json()["items"]] == ["SIMA"]


@pytest.mark.parametrize(("user", "body", "params", "status", "where", "why"), [
    ("officer", b'{"events": []}', {}, 403, "supply_data", "may not do this"),
    ("analyst", b'{"events": []}', {}, 403, "supply_data", "may not do this"),
    ("carrier", b"", {}, 400, "body", "the file is empty"),
    ("carrier", b'{"events": []}', {"format": "declarations"}, 400, "format", "is not a format you can send"),
    ("carrier", b"!AIVDM,1,1,,B,13u?etPv2;0n:dDPwUM1U1Cb069D,0*24\n", {"name": "ais.nmea"}, 400,
     r"ais\.nmea", "reads as ais-nmea: send DCSA Track & Trace events"),
    # named without a file number: none is kept, and the number would go to the next file (a review)
    ("carrier", b"not a format", {"name": "../../x.bin"}, 400, r"x\.bin:1",
     "format not recognised: neither DCSA JSON nor UN/EDIFACT (UNA, UNB or UNH)"),
])
def test_who_may_send_what(service: Service, user: str, body: bytes, params: dict[str, str], status: int,
                           where: str, why: str) -> None:
    """Agencies' users send nothing here; declarations and AIS are not taken from shipping
    firms; a file nothing reads is refused as a whole, naming it (by the name given, without
    its folders), and nothing is recorded."""
    with service.uow() as uow:
        before = uow.supplied_files.recent("carrier-a", None, 1)
    r = service.client.post(URL, params=params, content=body, headers=service.as_(user))
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert re.fullmatch(where, error["where"]), error
    assert why in error["why"]
    with service.uow() as uow:
        assert uow.supplied_files.recent("carrier-a", None, 1) == before  # a refused file leaves no record


def test_without_credentials_nothing_is_read(service: Service) -> None:
    assert service.client.post(URL, content=b'{"events": []}').status_code == 401


def test_each_organisation_reads_only_its_own_files(service: Service) -> None:
    own = _post(service, "carrier", json.dumps({"events": [_load("e-own-9", "MSKU9070323", "SIMATEST0001")]}).encode(),
                "one.json").json()
    listed = service.client.get(URL, headers=service.as_("carrier")).json()["items"]
    assert own["id"] in [f["id"] for f in listed] and all(f["organisation_id"] == "carrier-a" for f in listed)
    assert "report" not in listed[0]
    one = service.client.get(f"{URL}/{own['id']}", headers=service.as_("carrier"))
    assert one.status_code == 200 and one.json()["report"]["accepted"] == 1
    other = service.client.get(f"{URL}/{own['id']}", headers=service.as_("carrier-b"))
    assert other.status_code == 404
    assert other.json()["error"]["why"] == "no file of yours has this id"
    assert service.client.get(URL, headers=service.as_("officer")).status_code == 403


def test_a_file_over_the_limit_is_refused_as_it_streams(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunked body (no Content-Length) is counted as it is written, and refused past the limit."""
    monkeypatch.setattr(supplied, "MAX_BYTES", 100)

    def chunks() -> Iterator[bytes]:
        yield b'{"events": [' + b" " * 80
        yield b" " * 80 + b"]}"

    r = service.client.post(URL, content=chunks(), headers=service.as_("carrier"))
    assert r.status_code == 413, r.text
    assert r.json()["error"]["why"] == "more than 100 bytes per file: split it"


def test_one_organisation_receives_one_file_at_a_time_and_a_turn_is_waited_for_a_while(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A regression review's line trickled a byte every 10 s into four uploads and held every
    receiving turn of the server process: no other line could send. An organisation now sends
    one file at a time here (429), a file waits a while for a turn (then 429), and one that does
    not come whole in time is dropped (408)."""
    import anyio
    from starlette.datastructures import State

    from scheldt.api import routes_supplied as rs
    from scheldt.errors import BodyTimeoutError, TooManyAttempts

    monkeypatch.setattr(rs, "RECEIVING", 1)
    monkeypatch.setattr(rs, "TURN_WAIT_S", 0.2)
    monkeypatch.setattr(rs, "RECEIVE_S", 0.3)
    app = type("App", (), {"state": State()})()
    seen: list[str] = []

    async def hold(org: str, seconds: float, feed: str | None = None) -> None:
        try:
            async with rs.receiving_turn(app, org, feed):
                await anyio.sleep(seconds)
        except (TooManyAttempts, BodyTimeoutError) as exc:
            seen.append(f"{org}{' feed ' + feed if feed else ''}: {exc.status} {exc.why}")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, "carrier-a", 1.0)  # takes the only turn, then runs out of time
            await anyio.sleep(0.05)
            tg.start_soon(hold, "carrier-a", 0.0)  # its second file at once
            tg.start_soon(hold, "carrier-b", 0.0)  # waits for the turn, in vain
        await hold("carrier-b", 0.0)  # the turn is free again

    anyio.run(main)
    assert sorted(seen) == [
        "carrier-a: 408 the file did not come whole within 0.3 s",
        "carrier-a: 429 carrier-a is sending another file here: send the next once it is read",
        "carrier-b: 429 the node is receiving other files: try again shortly"]


def test_a_signed_in_senders_file_refused_by_its_announced_size_is_audited(service: Service) -> None:
    """A regression review: a signed-in line's file refused by its Content-Length (413) left
    no trace, where the same file sent chunked was audited."""
    with service.uow() as uow:
        before = uow.audit.count()
    r = service.client.post(URL, content=b"x", headers=service.as_("carrier") | {"Content-Length": "70000000"})
    assert r.status_code == 413
    anonymous = service.client.post(URL, content=b"x", headers={"Content-Length": "70000000"})
    assert anonymous.status_code == 413
    with service.uow() as uow:
        entries = uow.audit.entries(before, 10)
    assert [(e.kind, e.payload["actor"], e.payload["details"]["status"]) for e in entries] == [
        ("denied", "carrier", 413)]


TNT_V3 = "/api/v1/dcsa/tnt/v3/events"


def test_a_lines_dcsa_tnt_publisher_pushes_its_events_as_the_standard_has_them(service: Service) -> None:
    """DCSA Track & Trace 3.0 Event Consumer (POST /events): a line's publisher sends
    {"events": [...]} unchanged, with the line's API token, and is answered PostEventsResponse
    (feedbackElements, API-Version 3.0.0); the page is kept as a file the line sent, under the same
    rules. The request is the DCSA conformance sample of a pushed LOAD (../shared/fixtures)."""
    from tests.conftest import SHARED

    sample = (SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").read_bytes()
    token = {"Content-Type": "application/json", "API-Version": "3.0.0"}
    first = service.client.post(TNT_V3, content=sample, headers=service.as_("carrier") | token)
    assert (first.status_code, first.headers["api-version"]) == (200, "3.0.0"), first.text
    [info] = first.json()["feedbackElements"]
    file_id = int(re.search(r"kept as file (\d+) of carrier-a", info["message"]).group(1))  # type: ignore[union-attr]
    assert info == {"severity": "INFO", "message": f"kept as file {file_id} of carrier-a (GET /api/v1/shipping-data/"
                    f"{file_id}): 1 events accepted, 1 new, 0 refused"}
    kept = service.client.get(f"{URL}/{file_id}", headers=service.as_("carrier")).json()
    assert (kept["name"], kept["format"], kept["added"]) == ("dcsa-tnt-v3-events.json", "dcsa-events", 1)
    with service.uow() as uow:
        [load] = uow.events.for_containers(["APZU4812090"])["APZU4812090"]
    assert (load["event_id"], load["supplied_by"]) == ("evt-equip-001-2026-01-20T14:15:00Z", "carrier-a")
    again = service.client.post(TNT_V3, content=sample, headers=service.as_("carrier") | token).json()
    assert again["feedbackElements"][0]["message"].endswith(": 1 events accepted, 0 new, 0 refused")
    # an event about another line's shipment is refused by its place in the request; the rest kept
    assert _post(service, "carrier-b", _document("SIMBTEST0031", "SIMB", "TGHU9876547")).status_code == 201
    page = json.loads(sample)
    page["events"].append(_load("e-theirs-31", "TGHU9876547", "SIMBTEST0031"))
    mixed = service.client.post(TNT_V3, json=page, headers=service.as_("carrier"))
    assert mixed.status_code == 200
    refused, flagged, summary = mixed.json()["feedbackElements"]
    # the sender's own typo in the refused event's box number is told too (it names nothing of carrier B's)
    assert flagged == {"severity": "WARN", "message": "1 event(s) flagged invalid-container-number "
                       "(equipment_reference), e.g.: TGHU9876547: ISO 6346 check digit is wrong (expected 2)"}
    assert refused == {"severity": "ERROR", "propertyPath": "$.events[1]", "message": "documentReferences: names "
                       "SIMBTEST0031, another carrier's document here: carrier-a supplies events about its own "
                       "shipments only"}
    assert summary["message"].endswith(": 1 events accepted, 0 new, 1 refused")
    # nothing kept: PostEventsError, 400; no credentials or not a page of events: PostEventsError too
    alone = service.client.post(TNT_V3, json={"events": page["events"][1:]}, headers=service.as_("carrier"))
    got = [(e["severity"], e.get("propertyPath")) for e in alone.json()["feedbackElements"]]
    assert (alone.status_code, got) == (400, [("ERROR", "$.events[0]"), ("WARN", None), ("INFO", None)])
    anonymous = service.client.post(TNT_V3, content=sample, headers=token)
    assert (anonymous.status_code, anonymous.headers["api-version"]) == (401, "3.0.0")
    assert anonymous.json()["feedbackElements"][0]["severity"] == "ERROR"
    edifact = service.client.post(TNT_V3, content=b"UNH+1+IFTSTA:D:00B:UN'", headers=service.as_("carrier"))
    assert edifact.status_code == 400
    why, info = edifact.json()["feedbackElements"]
    assert why == {"severity": "ERROR", "propertyPath": "$", "message": "not a JSON document (or it breaks off): "
                   "Expecting value: line 1 column 1 (char 0)"}
    assert info["message"].endswith(": 0 events accepted, 0 new, 1 refused")
    # an agency's user sends no shipping data: 403, as PostEventsError
    assert service.client.post(TNT_V3, content=sample, headers=service.as_("officer")).status_code == 403


def test_a_push_names_every_refused_event_and_a_body_refused_by_its_size_is_a_post_events_error(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """A review: of 600 refused events the publisher was told of the first 500 (the stored
    report's limit) and would have taken the rest as delivered; and a body refused by its
    Content-Length got the API's error body without API-Version. The stored report keeps its
    limit (here 2); the answer names all three."""
    monkeypatch.setattr(supplied, "REPORT_REJECTIONS", 2)
    assert _post(service, "carrier-b", _document("SIMBTEST0041", "SIMB", "TGHU9876547")).status_code == 201
    theirs = [_load(f"e-theirs-4{i}", "TGHU9876547", "SIMBTEST0041") for i in range(3)]
    page = {"events": [_load("e-own-41", "MSKU9070323", "SIMATEST0041"), *theirs]}
    r = service.client.post(TNT_V3, json=page, headers=service.as_("carrier"))
    assert r.status_code == 200
    feedback = r.json()["feedbackElements"]
    assert [(e["severity"], e.get("propertyPath")) for e in feedback] == [
        ("ERROR", "$.events[1]"), ("ERROR", "$.events[2]"), ("ERROR", "$.events[3]"), ("WARN", None),
        ("INFO", None)]
    file_id = re.search(r"kept as file (\d+)", feedback[-1]["message"]).group(1)  # type: ignore[union-attr]
    stored = service.client.get(f"{URL}/{file_id}", headers=service.as_("carrier")).json()
    assert (stored["rejected"], stored["report"]["rejections_listed"], len(stored["report"]["rejections"])) == (3, 2, 2)
    big = service.client.post(TNT_V3, content=b"{}", headers=service.as_("carrier") | {
        "Content-Length": str(supplied.MAX_BYTES + 1)})
    assert (big.status_code, big.headers["api-version"]) == (413, "3.0.0")
    assert big.json() == {"feedbackElements": [{"severity": "ERROR", "propertyPath": "$", "message": (
        f"body: {supplied.MAX_BYTES + 1:,} bytes; at most {supplied.MAX_BYTES:,}")}]}


def test_a_pushed_event_kept_but_flagged_is_a_warning_to_the_publisher(service: Service) -> None:
    """A review: a kept event whose move has no DCSA code (3.0.0's CUSTOMS_RELEASED) was answered
    with the INFO element alone; the publisher is now told, as a WARN element, how it was read."""
    event = {"eventID": "cust-51", "eventDateTime": "2026-01-20T14:15:00Z",
             "eventUpdatedDateTime": "2026-01-20T14:20:00Z", "eventLocation": {"UNLocationCode": "BEANR"},
             "eventClassification": {"eventType": "equipment", "eventClassifier": "ACTUAL",
                                     "equipmentEventType": "CUSTOMS_RELEASED"},
             "equipmentDetails": {"equipmentReference": "MSKU9070323"}}
    r = service.client.post(TNT_V3, json={"events": [event]}, headers=service.as_("carrier"))
    assert r.status_code == 200, r.text
    warn, info = r.json()["feedbackElements"]
    assert warn == {"severity": "WARN", "message": "1 event(s) flagged unknown-code (equipmentEventTypeCode), "
                    "e.g.: equipmentEventTypeCode 'CUSTOMS_RELEASED' is not a DCSA code (DISC, DROP, GTIN, GTOT, "
                    "INSP, LOAD, PICK, RMVD, RSEA, STRP, STUF)"}
    assert info["message"].endswith(": 1 events accepted, 1 new, 0 refused")


def test_a_feeds_callback_holds_that_feed_only_not_its_organisations_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DCSA feed's callback body is received before its signature can be checked, so whoever
    holds a leaked callback URL could keep the line's one receiving turn and stop its uploads
    (left open last stop). A callback now takes a turn of its own feed: the line's upload and
    its other feed go ahead, a second batch of the same feed is refused (429)."""
    import anyio
    from starlette.datastructures import State

    from scheldt.api import routes_supplied as rs
    from scheldt.errors import TooManyAttempts

    monkeypatch.setattr(rs, "RECEIVING", 4)
    monkeypatch.setattr(rs, "TURN_WAIT_S", 0.2)
    app = type("App", (), {"state": State()})()
    seen: list[str] = []

    async def hold(label: str, seconds: float, feed: str | None = None) -> None:
        try:
            async with rs.receiving_turn(app, "carrier-a", feed):
                await anyio.sleep(seconds)
            seen.append(f"{label}: received")
        except TooManyAttempts as exc:
            seen.append(f"{label}: {exc.status} {exc.why}")

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, "slow callback", 0.5, "f-1")  # a body trickling in on feed f-1
            await anyio.sleep(0.05)
            tg.start_soon(hold, "upload", 0.0)
            tg.start_soon(hold, "other feed", 0.0, "f-2")
            tg.start_soon(hold, "same feed", 0.0, "f-1")

    anyio.run(main)
    assert sorted(seen) == [
        "other feed: received", "same feed: 429 feed f-1 is sending another batch here: send the next once it is read",
        "slow callback: received", "upload: received"]
