"""Inputs from an attack review of ingest, each a record that used to cost more than itself
(a whole batch, the records after it) or to turn into a wrong fact without a word. The files
are real fixtures changed in one place; each test says what the review saw."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from scheldt.domain.shipping import (
    Consignment,
    EquipmentEvent,
    ReeferEvent,
    StowagePosition,
    VesselPosition,
    VgmDeclaration,
)
from scheldt.ingest.ais import ais_layouts, read_ais_csv, read_nmea
from scheldt.ingest.base import Rejection
from scheldt.ingest.dcsa_documents import read_dcsa_documents
from scheldt.ingest.dcsa_events import read_dcsa_events
from scheldt.ingest.edifact.messages import read_edifact
from tests.conftest import SHARED

F = SHARED / "fixtures"
BAPLIE = (F / "edifact" / "BAPLIE_D95B_SMDG20_oocl-beijing_USLGB.edi").read_text()
LOAD = F / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json"


def _events(n: int = 4) -> list[dict]:
    """``n`` copies of a real DCSA 3.0 load event, each with its own id."""
    event = json.loads(LOAD.read_bytes())["events"][0]
    out = []
    for i in range(n):
        e = json.loads(json.dumps(event))
        e["eventID"] = f"{e['eventID']}-{i}"
        out.append(e)
    return out


def _kinds(records: list) -> list[str]:
    return [type(r).__name__ for r in records]


def test_an_event_dated_year_1_is_rejected_alone() -> None:
    # The review: eventDateTime 0001-01-01T00:00:00+01:00 raised OverflowError out of the
    # reader, and `scheldt ingest` rolled back every file of the command (exit 2, "request").
    events = _events()
    events[1]["eventDateTime"] = "0001-01-01T00:00:00+01:00"
    events[2]["eventDateTime"] = "2999-01-01T00:00:00Z"
    records = list(read_dcsa_events(json.dumps(events).encode(), "e.json"))
    assert _kinds(records) == ["EquipmentEvent", "Rejection", "Rejection", "EquipmentEvent"]
    assert (records[1].where, records[1].field) == ("e.json$[1]", "eventDateTime")
    assert records[1].why == ("eventDateTime '0001-01-01T00:00:00+01:00' is outside the range of dates Scheldt "
                              "accepts (1970-2099)")
    assert records[2].where == "e.json$[2]"


def test_a_number_too_big_for_a_float_or_64_bits_costs_only_its_field() -> None:
    # The review: latitude 1e400 or a 30-digit sequence number in $[2] stopped the stream there;
    # $[3] onwards were lost.
    events = _events(5)
    events[2]["eventLocation"] = {"locationName": "Eiffel Tower", "latitude": "X", "longitude": "2.29"}
    text = json.dumps(events).replace('"latitude": "X"', '"latitude": 1e400')
    records = list(read_dcsa_events(text.encode(), "e.json"))
    assert _kinds(records) == ["EquipmentEvent"] * 5
    assert records[2].location.latitude is None and records[2].location.name == "Eiffel Tower"
    assert [f.code for f in records[2].flags] == ["implausible-position"]
    big = json.dumps(_events(5)).replace('"eventClassifierCode"', '"n": 123456789012345678901234567890, '
                                         '"eventClassifierCode"', 1)
    assert _kinds(read_dcsa_events(big.encode(), "e.json")) == ["EquipmentEvent"] * 5


def test_coordinates_that_are_no_numbers_are_flagged_not_dropped_unsaid() -> None:
    """An ingest review: latitude "abc" with longitude {} was accepted and the position left out
    without a word, where off-globe numbers were flagged."""
    events = _events(3)
    events[1]["eventLocation"] = {"locationName": "Quay 1700", "latitude": "abc", "longitude": {}}
    records = list(read_dcsa_events(json.dumps(events).encode(), "e.json"))
    assert _kinds(records) == ["EquipmentEvent"] * 3
    assert records[1].location.latitude is None and records[1].location.name == "Quay 1700"
    assert [(f.code, f.why) for f in records[1].flags] == [
        ("implausible-position", "coordinates abc, {} are not a WGS 84 position; not used")]
    assert records[0].flags == records[2].flags == ()


def test_an_integer_of_5001_digits_costs_only_its_field_and_never_the_process() -> None:
    # The review: a 7.5 KB events file with "x": 1000...0 (5,001 digits) made ijson's C parser
    # crash the process (exit 139), `scheldt serve` with it; beyond 4,300 digits Python makes no
    # integer. Read as plain pieces, as a page, cut off (ijson from the start) and as another
    # shape (the json module), the number is its text: an unread field costs nothing, a read
    # one is that event's field error, as 1e400 is.
    huge = "1" + "0" * 5000
    events = _events(5)
    events[1]["x"] = "HUGE"
    events[2]["eventLocation"] = {"locationName": "Eiffel Tower", "latitude": "HUGE", "longitude": "2.29"}
    events[3]["remark"] = huge  # digits in a text stay a text
    events[4]["eventLocation"] = {"locationName": "Quay", "latitude": "FRACTION", "longitude": "EXPONENT"}
    plain = json.dumps(events).replace('"HUGE"', huge)
    # a fraction or an exponent of thousands of digits is a float, read as before (a regression
    # review's fraction was quoted from its point on, and the document broke there)
    plain = plain.replace('"FRACTION"', "51." + "1" * 4400).replace('"EXPONENT"', "4.3e" + "0" * 4400 + "1")
    for text, kinds in ((plain, ["EquipmentEvent"] * 5), ('{"events": ' + plain + "}", ["EquipmentEvent"] * 5),
                        (plain[:-40], ["EquipmentEvent"] * 4 + ["Rejection"]),
                        ('{"page": 1, "events": ' + plain + "}", ["EquipmentEvent"] * 5)):
        records = list(read_dcsa_events(text.encode(), "e.json"))
        assert _kinds(records) == kinds
        assert records[2].location.latitude is None and records[2].location.name == "Eiffel Tower"
        assert [f.code for f in records[2].flags] == ["implausible-position"]
        assert records[1].location.latitude == records[0].location.latitude
        if kinds[4] == "EquipmentEvent":  # not the cut-off copy, whose last event breaks off
            assert (round(records[4].location.latitude, 5), records[4].location.longitude) == (51.11111, 43.0)


def test_wrong_json_types_are_named_in_the_senders_terms() -> None:
    events = _events(3)
    events[0]["equipmentDetails"]["seals"] = [None]  # the review: "AttributeError: 'NoneType' object has no ..."
    events[1]["equipmentDetails"]["equipmentReference"] = 4812090
    records = list(read_dcsa_events(json.dumps(events).encode(), "e.json"))
    assert _kinds(records)[2] == "EquipmentEvent"
    whys = [(r.field, r.why) for r in records[:2]]
    assert "AttributeError" not in whys[0][1] and "TypeError" not in whys[1][1]
    assert whys[1] == ("equipmentReference", "equipmentReference 4812090 is a number, not a text")


def test_units_are_converted_or_flagged_never_guessed() -> None:
    # The review: MEA in pounds and TMP in Fahrenheit read as kg and °C; a VGM in "LBS" and a
    # reefer unit "C" read as kg and °F; emptyIndicatorCode 5 read as laden.
    edi = (BAPLIE.replace("MEA+WT++KGM:3833", "MEA+VGM++LBR:44000'TMP+2+-4:FAH")
           .replace("MEA+WT++KGM:3983", "MEA+WT++XYZ:3983"))
    first, second, _ = read_edifact(edi.encode(), "b.edi")
    assert isinstance(first, StowagePosition) and isinstance(second, StowagePosition)
    assert (first.verified_gross_mass_kg, first.temperature_celsius) == (19958.064, -20.0)
    assert second.gross_mass_kg is None and "unknown-unit" in [f.code for f in second.flags]
    vgm = json.loads((F / "dcsa-other" / "vgm-v1.0-declaration.json").read_bytes())
    item = vgm["VGMDeclarations"][0]
    vgm["VGMDeclarations"] = [json.loads(json.dumps(item)) for _ in range(3)]
    vgm["VGMDeclarations"].append(json.loads(json.dumps(item)))  # an attack review's true was read as 1 kg
    for i, (value, unit) in enumerate(((22000, "LBS"), (20000, "STONE"), (-5000, "KGM"), (True, "KGM"))):
        vgm["VGMDeclarations"][i]["VGM"]["weight"] = {"value": value, "unit": unit}
        vgm["VGMDeclarations"][i]["declarationReference"] = f"VGM-{i}"
    got = list(read_dcsa_documents(json.dumps(vgm).encode(), "v.json"))
    assert all(isinstance(r, VgmDeclaration) for r in got)
    assert [r.verified_gross_mass_kg for r in got] == [9979.032, None, None, None]
    assert [[f.code for f in r.flags if f.code != "invalid-container-number"] for r in got] == [
        [], ["unknown-unit"], ["implausible-mass"], ["unreadable-mass"]]
    events = _events(2)
    events[0]["equipmentDetails"]["emptyIndicatorCode"] = 5
    events[1]["equipmentDetails"]["emptyIndicatorCode"] = "empty"
    a, b = read_dcsa_events(json.dumps(events).encode(), "e.json")
    assert isinstance(a, EquipmentEvent) and isinstance(b, EquipmentEvent)
    assert (a.empty, b.empty) == (None, True) and [f.code for f in a.flags] == ["unknown-code"]


def test_a_reefer_temperature_in_an_unknown_unit_is_flagged() -> None:
    event = {"eventID": "6a7d5c3e-9f1b-4a2e-8c3d-2b1f0e9d8c7a", "eventType": "REEFER", "eventDateTime": "2026-01-01T00:00:00Z",
             "eventClassifierCode": "ACT", "reeferEventTypeCode": "MEAS", "equipmentReference": "APZU4812090",
             "reeferDetails": {"temperatureUnit": "C", "internalSetpointTemperature": -20}}
    [r] = read_dcsa_events(json.dumps([event]).encode(), "r.json")
    assert isinstance(r, ReeferEvent) and r.setpoint_celsius is None
    event["reeferDetails"]["temperatureUnit"] = "FAH"
    [r] = read_dcsa_events(json.dumps([event]).encode(), "r.json")
    assert r.setpoint_celsius == -28.889


def test_a_broken_item_of_a_document_list_costs_only_that_item() -> None:
    # The review: VGMDeclarations[1] of the wrong shape lost [2] and [3]; a list of transport
    # documents was read as a vessel schedule and yielded nothing.
    vgm = json.loads((F / "dcsa-other" / "vgm-v1.0-declaration.json").read_bytes())
    item = vgm["VGMDeclarations"][0]
    vgm["VGMDeclarations"] = [item, {**item, "equipmentDetails": "garbage"}, {**item, "declarationReference": "B"}]
    got = list(read_dcsa_documents(json.dumps(vgm).encode(), "v.json"))
    assert _kinds(got) == ["VgmDeclaration", "Rejection", "VgmDeclaration"]
    assert got[1].where == "v.json$.VGMDeclarations[1]"
    assert (got[1].field, got[1].why) == (  # a feeds review: the field was not named
        "equipmentDetails",
        "the record does not have the DCSA structure: equipmentDetails holds a text where an object belongs")
    td = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-transport-document-draft-dry.json").read_bytes())
    listed = list(read_dcsa_documents(json.dumps([td, "x", td]).encode(), "list.json"))
    assert _kinds(listed) == ["Consignment", "Rejection", "Consignment"]
    assert isinstance(listed[0], Consignment) and listed[0].bill_of_lading == td["transportDocumentReference"]


def test_one_document_not_utf8_or_with_a_5001_digit_number_costs_only_itself() -> None:
    # The review: a Latin-1 "Entrepôt" in the second of two documents lost both ("not a JSON
    # document: 'utf-8' codec can't decode byte 0xf4", naming no document), and a 5,001-digit
    # cargoGrossWeight value raised ValueError out of the reader, rolling back the files
    # `scheldt ingest` had loaded before it.
    td = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-transport-document-draft-dry.json").read_bytes())
    text = json.dumps([td, td, td]).encode()
    cut = text.index(b"DCSA CTK", text.index(b"DCSA CTK") + 1)
    data = text[:cut] + "Entrep\u00f4t ".encode("latin-1") + text[cut:]
    listed = list(read_dcsa_documents(data, "list.json"))
    assert _kinds(listed) == ["Consignment", "Rejection", "Consignment"]
    assert (listed[1].where, listed[1].field) == ("list.json$[1]", "documentParties.shipper.partyName")
    assert listed[1].why == ("documentParties.shipper.partyName 'Entrep\ufffdt DCSA CTK' holds bytes that are not "
                             "UTF-8 (text in another encoding, such as Latin-1?): this record is not read; the rest "
                             "of the file is")
    whole = list(read_dcsa_documents(json.dumps(td).encode().replace(b"DCSA CTK", b"Entrep\xf4t"), "t.json"))
    assert [(r.where, r.field) for r in whole] == [("t.json$", "documentParties.shipper.partyName")]
    huge = json.dumps([td, td]).replace('"value": 12000', '"value": 1' + "0" * 5000, 1)
    first, second = read_dcsa_documents(huge.encode(), "h.json")
    assert isinstance(first, Consignment) and isinstance(second, Consignment)
    assert [f.code for f in first.flags] == ["implausible-mass"] and not second.flags
    # a long fraction is a float, as before (a regression review's lost the whole file)
    [long] = read_dcsa_documents(json.dumps(td).replace('"value": 12000', '"value": 12000.' + "0" * 4400).encode(),
                                 "l.json")
    assert isinstance(long, Consignment) and not long.flags
    # a CloudEvents batch whose first notification is not UTF-8 (a regression review's lost the
    # second too, "neither a vessel schedule ... nor")
    note = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-td-notification-issued-full.json").read_bytes())
    good = json.dumps(note).encode()
    bad = good.replace(b'"specversion"', b'"note": "Entrep\xf4t", "specversion"', 1)
    batch = list(read_dcsa_documents(b"[" + bad + b"," + good + b"]", "b.json"))
    assert _kinds(batch) == ["Rejection", "Consignment"] and batch[0].where == "b.json$[0]"


def test_one_document_nested_5000_levels_deep_costs_only_itself() -> None:
    # A review: a list of three transport documents, one holding a value nested 5,000 levels
    # deep, lost all three ("not a readable JSON document: nested too deeply").
    td = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-transport-document-draft-dry.json").read_bytes())
    deep = '{"x": ' * 5000 + "1" + "}" * 5000
    one = json.dumps(td)
    data = "\ufeff[" + one + "," + one.replace("{", '{"note": ' + deep + ", ", 1) + "," + one + "]"
    listed = list(read_dcsa_documents(data.encode(), "list.json"))
    assert _kinds(listed) == ["Consignment", "Rejection", "Consignment"]
    assert (listed[1].where, listed[1].field, listed[1].why) == (
        "list.json$[1]", "note.x.x ...", "note.x.x ... is nested more than 400 levels deep (a DCSA document nests "
        "about ten): this record is not read; the rest of the file is")
    assert listed[0].bill_of_lading == td["transportDocumentReference"]
    # the same read without the deep document: the same records as json.loads makes them
    plain = list(read_dcsa_documents(("[" + one + "," + one + "]").encode(), "list.json"))
    assert [listed[0], listed[2]] == [plain[0], replace(plain[1], source=plain[1].source.replace("[1]", "[2]"))]
    # one document alone, nested too deep: its file, named at the path
    [alone] = read_dcsa_documents(one.replace("{", '{"note": ' + deep + ", ", 1).encode(), "one.json")
    assert (alone.where, alone.field) == ("one.json$", "note.x.x ...")
    # the other records are read as json.loads reads them (a regression review: a 30-digit integer
    # in another record lost the file, "nested too deeply"), one 150 levels deep among them
    odd = [one.replace("{", '{"x": 123456789012345678901234567890, "y": 1e400, "z": NaN, ', 1),
           one.replace("{", '{"w": ' + '[' * 150 + ']' * 150 + ', ', 1)]
    mixed = list(read_dcsa_documents(("[" + odd[0] + "," + one.replace("{", '{"note": ' + deep + ", ", 1) + ","
                                      + odd[1] + "]").encode(), "mixed.json"))
    assert _kinds(mixed) == ["Consignment", "Rejection", "Consignment"]
    assert [listed[0], listed[2]] == [replace(r, source=r.source.replace("mixed", "list"))  # type: ignore[attr-defined]
                                      for r in (mixed[0], mixed[2])]


def test_the_same_bay_plan_under_another_message_reference_is_the_same_facts() -> None:
    # The review: renumbering UNH/UNT (1907 -> 2001), or swapping two container groups, added
    # every stowage position again.
    ids = {r.event_id for r in read_edifact(BAPLIE.encode(), "a.edi")}
    renumbered = BAPLIE.replace("UNH+1907", "UNH+2001").replace("UNT+30+1907", "UNT+30+2001")
    groups = BAPLIE.split("LOC+147")
    swapped = "LOC+147".join([groups[0], groups[2], groups[1].replace("NAD+CA+OOL:172:20'\n", "NAD+CA+OOL:172:20'\n"),
                              groups[3]])
    assert len(ids) == 3
    assert {r.event_id for r in read_edifact(renumbered.encode(), "b.edi")} == ids
    assert {r.event_id for r in read_edifact(swapped.encode(), "c.edi")} == ids


def test_a_bay_plan_cut_off_keeps_the_container_groups_before_the_break() -> None:
    # The review: a BAPLIE cut before its UNT lost every container and kept no raw text.
    cut = BAPLIE[:BAPLIE.index("LOC+147+0100114")] + "LOC+147+01"
    records = list(read_edifact(cut.encode(), "cut.edi"))
    kept = [r for r in records if isinstance(r, StowagePosition)]
    # the break fell inside the next stowage cell's LOC+147: the second group had ended, and is kept
    assert [r.container_number for r in kept] == ["OOLU4293959", "MOEU0710945"]
    assert "truncated-message" in [f.code for f in kept[0].flags]
    inside = BAPLIE[:BAPLIE.index("LOC+147+0100114")] + "LO"  # the break's segment unknown: the group may be cut
    assert [r.container_number for r in read_edifact(inside.encode(), "cut.edi")
            if isinstance(r, StowagePosition)] == ["OOLU4293959"]
    message = next(r for r in records if isinstance(r, Rejection) and r.field == "UNT")
    assert "EQD+CN+MOEU0710945" in message.raw and message.where == "cut.edi message 1907 (segment 2)"


def test_a_stowage_cell_without_a_container_is_flagged() -> None:
    # The review: `RFF+BM:1?'` escaped the terminator, the next EQD joined the RFF, and the cell
    # was stored with container number "" and no word. Since a feeds review, a release character
    # before a line's terminator ends the segment (flagged), and the cell keeps its container.
    joined = BAPLIE.replace("RFF+BM:1'\nEQD+CN+MOEU0710945", "RFF+BM:1?'\nEQD+CN+MOEU0710945", 1)
    joined = joined.replace("RFF+BM:1'\nEQD+CN+OOLU4293959", "RFF+BM:1?'\nEQD+CN+OOLU4293959", 1)
    first = next(r for r in read_edifact(joined.encode(), "j.edi") if isinstance(r, StowagePosition))
    assert first.container_number == "OOLU4293959" and "released-terminator" in [f.code for f in first.flags]
    empty = BAPLIE.replace("EQD+CN+OOLU4293959", "EQD+CN+", 1)
    first = next(r for r in read_edifact(empty.encode(), "e.edi") if isinstance(r, StowagePosition))
    assert first.container_number == "" and "no-container-number" in [f.code for f in first.flags]


def test_ais_positions_that_are_not_numbers_or_not_on_earth_are_rejected_alone() -> None:
    # The review: a NaN latitude in a decoded CSV crashed the store (NOT NULL) and lost the
    # batch; a tag block receive time of year 3170843 raised out of the reader; latitude 95 in
    # NMEA vanished as "not available".
    layout = ais_layouts()["dma-aisdk"]
    rows = (F / "ais" / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv").read_text().splitlines()
    header, first = rows[0], rows[1]
    cells = first.split(",")
    lat_col = header.split(",").index(layout.latitude)
    nan = cells.copy()
    nan[lat_col] = "NaN"
    got = list(read_ais_csv("\n".join([header, ",".join(nan), first]).encode(), layout, "a.csv"))
    assert _kinds(got) == ["Rejection", "VesselPosition"]
    assert (got[0].where, got[0].field, got[0].why) == ("a.csv:2", layout.latitude, f"{layout.latitude} is 'NaN', not a finite number")
    tagged = b"\\c:99999999999999*00\\!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
    [pos] = read_nmea([tagged], "t.nmea")
    assert isinstance(pos, VesselPosition) and pos.observed_at is None
    assert "time-unknown" in [f.code for f in pos.flags]



def test_an_imo_number_of_zeros_is_flagged() -> None:
    # The review: IMO 0000000 passed (its check digit is right) and named no ship.
    from scheldt.domain.identifiers import imo_number

    assert imo_number("0000000")[1] is not None and imo_number("0000000")[1].why == "0000000: not an IMO number (all zeros)"
    assert imo_number("9298686") == ("9298686", None)


def test_an_unreadable_departure_date_in_a_bay_plan_is_flagged() -> None:
    # The review: DTM+178 of 2016-02-30 was dropped without a word and DTM+133 used instead.
    edi = BAPLIE.replace("DTM+178:201604140000:203", "DTM+178:201602300000:203")
    first = next(r for r in read_edifact(edi.encode(), "d.edi") if isinstance(r, StowagePosition))
    assert first.event_time.isoformat() == "2016-04-01T11:35:00+00:00"  # DTM+133 instead
    assert ("DTM", "unreadable-date") in [(f.field, f.code) for f in first.flags]


def test_a_document_time_without_utc_offset_is_read_as_utc_and_flagged() -> None:
    # The review: a VGM weighed at "2025-01-23T01:23:45" (local time, no offset) was taken as UTC
    # without a word; DCSA requires an offset, and a local time is hours off.
    vgm = json.loads((F / "dcsa-other" / "vgm-v1.0-declaration.json").read_bytes())
    item = vgm["VGMDeclarations"][0]
    item["VGM"]["dateTime"] = "2025-01-23T01:23:45"
    [got] = read_dcsa_documents(json.dumps(vgm).encode(), "v.json")
    assert isinstance(got, VgmDeclaration) and got.event_time.isoformat() == "2025-01-23T01:23:45+00:00"
    [flag] = [f for f in got.flags if f.code == "time-without-offset"]
    assert (flag.field, flag.why) == ("VGM.dateTime", "VGM.dateTime '2025-01-23T01:23:45' has no UTC offset (DCSA "
                                                      "requires one); read as UTC")
    td = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-transport-document-draft-dry.json").read_bytes())
    td.pop("shippedOnBoardDate", None)
    td["issueDate"] = "2026-03-01"  # a date alone is a date: midnight UTC, nothing to flag
    [doc] = read_dcsa_documents(json.dumps(td).encode(), "td.json")
    assert isinstance(doc, Consignment) and doc.issued_at.isoformat() == "2026-03-01T00:00:00+00:00"
    assert "time-without-offset" not in [f.code for f in doc.flags]


def test_bay_plan_ports_are_read_in_capitals_and_a_malformed_one_is_flagged() -> None:
    # The review: "LOC+9+crmob" and "LOC+9+ CRMOB" were kept as given (the indicator never saw a
    # Costa Rican port, the queue showed "crmob"); "MOIN" and a second, other LOC+9 went unsaid.
    gold = (F / "edifact" / "BAPLIE_D95B_SMDG20_del-monte-gold_CRMOB_single-line.edi").read_text()
    edi = gold.replace("LOC+9+CRMOB:139:6'", "LOC+9+crmob:139:6'", 1)
    edi = edi.replace("LOC+9+CRMOB:139:6'", "LOC+9+MOIN:139:6'", 1)
    edi = edi.replace("LOC+9+CRMOB:139:6'", "LOC+9+ CRMOB:139:6'LOC+9+NLRTM:139:6'", 1)
    a, b, c = [r for r in read_edifact(edi.encode(), "g.edi") if isinstance(r, StowagePosition)][:3]

    def own(flags: tuple) -> list[tuple[str, str, str]]:  # the segment count is off by the added LOC
        return [(f.field, f.code, f.why) for f in flags if f.code != "segment-count-mismatch"]

    assert (a.port_of_loading, b.port_of_loading, c.port_of_loading) == ("CRMOB", "", "CRMOB")
    assert own(a.flags) == [] and own(b.flags) == [
        ("LOC+9", "malformed-unlocode", "'MOIN' is not shaped like a UN/LOCODE (country + 3 letters/digits); not used")]
    assert own(c.flags) == [("LOC+9", "conflicting-location", "LOC+9 given twice: CRMOB and NLRTM; the first is kept")]


def test_schedule_times_without_utc_offset_are_flagged() -> None:
    # The review: an OVS vessel schedule with its offsets removed was read as UTC without a word.
    ovs = (F / "dcsa-other" / "ovs-v3.0-vessel-schedule-response.json").read_text()
    local = re.sub(r'("eventDateTime": "[0-9T:-]{19})(?:Z|[+-][0-9]{2}:[0-9]{2})"', r'\1"', ovs)
    events = [r for r in read_dcsa_documents(local.encode(), "o.json") if not isinstance(r, Rejection)]
    assert events and all("time-without-offset" in [f.code for f in e.flags] for e in events)
    assert not any(f.code == "time-without-offset" for r in read_dcsa_documents(ovs.encode(), "o.json")
                   if not isinstance(r, Rejection) for f in r.flags)


def _with_deep_event(depth: int, before: int = 300) -> bytes:
    """A page of ``before`` real events, one event nested ``depth`` levels deep, one more event."""
    events = _events(before + 1)
    head = json.dumps({"events": events[:before]})[:-2]
    return (head + ',{"eventID": "deep", "a": ' + "[" * depth + "]" * depth + "}, " + json.dumps(events[-1])
            + "]}").encode()


def test_an_event_nested_100000_levels_deep_is_rejected_alone_in_bounded_memory() -> None:
    """An attack review's 280 KB page holding one event nested 100,000 levels deep took 23 GB
    before the kernel killed the process (ijson's item builder tracks every value's path)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    records = list(read_dcsa_events(_with_deep_event(100_000), "deep.json"))
    grew_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert _kinds(records) == ["EquipmentEvent"] * 300 + ["Rejection", "EquipmentEvent"]
    assert (records[300].where, records[300].why) == (
        "deep.json$.events[300]", "nested more than 64 levels deep (a DCSA event nests a few); not read")
    assert grew_mib < 200, grew_mib


def test_an_event_nested_too_deeply_for_python_costs_only_that_event() -> None:
    """990 levels: the reader's RecursionError lost every event after it, and file detection's
    crashed the whole command (files before it rolled back)."""
    from scheldt.ingest.registry import detect

    records = list(read_dcsa_events(_with_deep_event(990, before=3), "deep.json"))
    assert _kinds(records) == ["EquipmentEvent"] * 3 + ["Rejection", "EquipmentEvent"]
    assert records[3].where == "deep.json$.events[3]"
    small = b'{"events":[{"eventID":"x","a":' + b"[" * 990 + b"]" * 990 + b"}]}"
    assert list(read_dcsa_events(small, "n.json"))[0].where == "n.json$.events[0]"
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.json"
        path.write_bytes(small)
        assert detect(path).format == "dcsa-events"


def test_dcsa_codes_are_read_in_capitals_and_unknown_ones_flagged() -> None:
    """An attack review sent equipmentEventTypeCode "disc" (indicators key on DISC and missed it)
    and "XXXX", and eventClassifierCode "NOPE": all stored as sent, none flagged."""
    events = _events(3)
    events[0]["eventClassification"]["equipmentEventTypeCode"] = " disc "
    events[0]["eventClassification"]["eventClassifierCode"] = "act"
    events[1]["eventClassification"]["equipmentEventTypeCode"] = "XXXX"
    events[2]["eventClassification"]["eventClassifierCode"] = "NOPE"
    lower, unknown, classifier = list(read_dcsa_events(json.dumps(events).encode(), "e.json"))
    assert (lower.event_type, lower.classifier, lower.flags) == ("DISC", "ACT", ())  # type: ignore[attr-defined]
    assert unknown.event_type == "XXXX"  # type: ignore[attr-defined]
    assert [(f.field, f.code, f.why) for f in unknown.flags] == [  # type: ignore[attr-defined]
        ("equipmentEventTypeCode", "unknown-code", "equipmentEventTypeCode 'XXXX' is not a DCSA code (DISC, DROP, "
                                                   "GTIN, GTOT, INSP, LOAD, PICK, RMVD, RSEA, STRP, STUF)")]
    assert [(f.field, f.code) for f in classifier.flags] == [  # type: ignore[attr-defined]
        ("eventClassifierCode", "unknown-code")]


def test_an_event_without_a_classifier_is_kept_and_flagged() -> None:
    """A review's gate-out with eventClassifierCode null was stored without a word, and the
    indicators, which count only actual (ACT) moves, passed over it: the sender is now told."""
    events = _events(2)
    events[0]["eventClassification"]["eventClassifierCode"] = None
    del events[1]["eventClassification"]["eventClassifierCode"]
    for event in read_dcsa_events(json.dumps(events).encode(), "e.json"):
        assert event.classifier == ""  # type: ignore[attr-defined]
        assert [(f.field, f.code, f.why) for f in event.flags] == [  # type: ignore[attr-defined]
            ("eventClassifierCode", "no-classifier",
             "eventClassifierCode is missing: the event is kept, but not counted as one that happened (ACT), "
             "planned (PLN) or estimated (EST)")]


def test_a_giant_unreadable_line_is_quoted_cut_not_whole() -> None:
    """An attack review's 50 MB NMEA line was copied whole into the rejection's reason and raw
    record: 100 MB in the quarantine, and `scheldt quarantine` printed 50 MB."""
    [rej] = list(read_nmea([b"!AIVDM," + b"A" * 5_000_000], "big.nmea"))
    assert isinstance(rej, Rejection) and rej.where == "big.nmea:1"
    assert rej.why.startswith("not a readable AIS sentence: b'!AIVDM,AAA")
    assert rej.why.endswith("... (5,000,039 characters, cut)") and len(rej.why) < 2_100
    assert rej.raw.endswith("... (5,000,007 characters, cut)") and len(rej.raw) < 200_100
    small = Rejection("f:1", "x", "short", "raw")
    assert (small.why, small.raw) == ("short", "raw")


def test_a_box_in_two_cells_or_a_cell_holding_two_boxes_is_flagged() -> None:
    """An attack review's bay plan stowed one container in two cells, and two containers in one
    cell: both stored without a word. A real plan holds neither: a forged or badly merged one."""
    twice = BAPLIE.replace("EQD+CN+MOEU0710945", "EQD+CN+OOLU4293959", 1)
    records = [r for r in read_edifact(twice.encode(), "t.edi") if isinstance(r, StowagePosition)]
    doubled = [r for r in records if r.container_number == "OOLU4293959"]
    assert len(doubled) == 2
    cells = [r.stowage_cell for r in doubled]
    for r in doubled:
        [flag] = [f for f in r.flags if f.code == "box-in-two-cells"]
        assert flag.why == f"container OOLU4293959 is stowed in 2 cells of this bay plan: {', '.join(cells)}"
    assert not any(f.code == "box-in-two-cells" for r in records if r not in doubled for f in r.flags)
    first_cell = records[0].stowage_cell
    second = next(r for r in records if r.stowage_cell != first_cell)
    shared = BAPLIE.replace(f"LOC+147+{second.stowage_cell}", f"LOC+147+{first_cell}", 1)
    both = [r for r in read_edifact(shared.encode(), "s.edi") if isinstance(r, StowagePosition)
            and r.stowage_cell == first_cell]
    assert len(both) == 2 and all("cell-used-twice" in [f.code for f in r.flags] for r in both)


def test_a_record_of_the_wrong_shape_is_rejected_naming_its_field() -> None:
    """A feeds review: an equipment event with ``equipmentDetails`` as a list, a transport
    document with ``utilizedTransportEquipments`` as an object or a number as its reference were
    rejected naming no field, the last in Python's words ("TypeError: argument of type 'int' is
    not iterable"); and a transport document without its reference was stored as shipping
    instructions under theirs."""
    events = json.loads((F / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").read_bytes())
    event = events["events"][0]
    listed = {**event, "equipmentDetails": [event["equipmentDetails"]]}
    listed_ref = {"documentReference": [{"typeCode": "TRD", "reference": "X"}]}
    named = {**event, "eventID": "other", "shipmentDetails": listed_ref}
    got = list(read_dcsa_events(json.dumps({"events": [listed, named]}).encode(), "e.json"))
    assert [(r.where, r.field, r.why) for r in got] == [  # type: ignore[union-attr]
        ("e.json$.events[0]", "equipmentDetails", "EQUIPMENT event does not have the DCSA structure: equipmentDetails "
         "holds a list where an object belongs"),
        ("e.json$.events[1]", "shipmentDetails.documentReference", "EQUIPMENT event does not have the DCSA structure: "
         "shipmentDetails.documentReference holds a list where an object belongs")]
    td = json.loads((F / "dcsa-ebl" / "ebl-v3.0.2-transport-document-draft-dry.json").read_bytes())
    for change, field, why in (
            ({"utilizedTransportEquipments": td["utilizedTransportEquipments"][0]}, "utilizedTransportEquipments",
             "the document does not have the DCSA structure: utilizedTransportEquipments holds an object where a "
             "list belongs"),
            ({"transportDocumentReference": 12345678}, "transportDocumentReference",
             "the document does not have the DCSA structure: transportDocumentReference holds a number where a text "
             "belongs"),
            ({"transportDocumentReference": None}, "transportDocumentReference",
             "the document is a transport document (it has transportDocumentStatus) without the "
             "transportDocumentReference DCSA eBL 3.0 requires of one")):
        [rejection] = read_dcsa_documents(json.dumps({**td, **change}).encode(), "td.json")
        assert isinstance(rejection, Rejection) and (rejection.where, rejection.field, rejection.why) == (
            "td.json$", field, why)
        assert json.loads(rejection.raw) == {**td, **change}  # kept whole for correcting and re-sending
