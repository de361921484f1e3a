"""Every DCSA booking, eBL and other sample in ../shared/fixtures: record types, counts, values."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from scheldt.domain.shipping import (
    Consignment,
    Seal,
    ShipmentEvent,
    TransportCall,
    TransportEvent,
    Vessel,
    VgmDeclaration,
)
from scheldt.ingest.base import Rejection
from scheldt.ingest.dcsa_documents import read_dcsa_documents
from tests.conftest import SHARED

F = SHARED / "fixtures"


def read(path: str) -> list[object]:
    return list(read_dcsa_documents((F / path).read_bytes(), path))


# (file, record kind, document type or "", reference, booking, containers, flags)
CASES = [
    ("dcsa-booking/booking-v2.0-request-dg.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-full.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-reefer.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-regular.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-routing-reference.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-store-door-at-destination.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0-request-store-door-at-origin.json", "Consignment", "BKG", "", "", (), []),
    ("dcsa-booking/booking-v2.0.5-get-confirmed-dry.json", "Consignment", "BKG", "cbr-987", "cbr-987", (), []),
    ("dcsa-booking/booking-v2.0.5-get-not-confirmed-dry.json", "Consignment", "BKG", "cbrr-123", "", (), []),
    ("dcsa-ebl/ebl-issuance-v3.0-request-transport-document.json", "Consignment", "TRD",
     "TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER", "BOOKING_REFERENCE_PLACEHOLDER", ("NARU3472484",),
     # its shipper, consignee and issuing carrier are placeholders too (a CLI review: stored as parties)
     ["placeholder-value", "placeholder-value", "placeholder-party", "placeholder-party", "placeholder-party"]),
    ("dcsa-ebl/ebl-v2-beta-ShippingInstruction-multiple-booking-refs.json", "Consignment", "SHI", "",
     "43f615138efc4d3286b36402405f851b", ("BMOU2149612", "APZU4812090"), ["several-bookings"]),
    ("dcsa-ebl/ebl-v2-beta-ValidShippingInstruction.json", "Consignment", "SHI", "", "e8e9d64172934a40aec82e4308cdf97a",
     ("APZU4812090",), []),
    ("dcsa-ebl/ebl-v3.0-shipping-instructions-request.json", "Consignment", "SHI", "", "{CBR}", ("MSCU9988776",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0-si-2c2u.json", "Consignment", "SHI", "", "{CBR}", ("ABCU1234567", "XYZU9876543"),
     ["placeholder-value", "invalid-container-number", "invalid-container-number", "several-bookings"]),
    ("dcsa-ebl/ebl-v3.0-si-amf.json", "Consignment", "SHI", "", "{CBR}", ("MSCU1234567",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0-si-dg.json", "Consignment", "SHI", "", "{CBR}", ("MAEU1234567",), ["placeholder-value"]),
    ("dcsa-ebl/ebl-v3.0-si-negotiable-bl.json", "Consignment", "SHI", "", "{CBR}", ("MAEU6543210",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0-si-no-commodity-subreference.json", "Consignment", "SHI", "", "{CBR}", ("MSCU9988776",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0-si-soc-references.json", "Consignment", "SHI", "", "{CBR}", ("DCSU1234567",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0-si-straight-bl.json", "Consignment", "SHI", "", "{CBR}", ("MSCU9988776",),
     ["placeholder-value", "invalid-container-number"]),
    ("dcsa-ebl/ebl-v3.0.2-shipping-instructions-get-dry.json", "Consignment", "SHI",
     "fc5009a7-25ad-4bb0-9892-4e2dea6bcdd9", "CBR_123_REGULAR", ("NARU3472484",), []),
    ("dcsa-ebl/ebl-v3.0.2-td-notification-issued-full.json", "Consignment", "TRD", "HHL71800000", "CBR_123_REGULAR",
     ("NARU3472484",), []),
    ("dcsa-ebl/ebl-v3.0.2-transport-document-approved-reefer.json", "Consignment", "TRD", "D8931B95625E4B339F2A",
     "CBR_123_REEFER", ("KKFU6671914",), []),
    ("dcsa-ebl/ebl-v3.0.2-transport-document-draft-dry.json", "Consignment", "TRD", "62CD536BA8D34C469AFD",
     "CBR_123_REGULAR", ("NARU3472484",), []),
    ("dcsa-other/arrival-notice-v1.0-basic.json", "Consignment", "ARN", "HLCUSGS250302123", "", ("HLCU1234567",),
     ["invalid-container-number"]),
]


@pytest.mark.parametrize(("path", "kind", "doc_type", "ref", "booking", "containers", "flags"), CASES)
def test_document_samples(path: str, kind: str, doc_type: str, ref: str, booking: str,
                          containers: tuple[str, ...], flags: list[str]) -> None:
    record, *houses = read(path)
    assert all(getattr(h, "kind", "") == "house" for h in houses)
    assert type(record).__name__ == kind
    assert isinstance(record, Consignment)
    assert (record.document_type, record.bill_of_lading, record.booking_ref) == (doc_type, ref, booking)
    assert tuple(n for n, _ in record.containers) == containers
    assert sorted(f.code for f in record.flags) == sorted(flags)


def test_house_bill_of_lading_split_out_of_shipping_instructions() -> None:
    master, house = read("dcsa-ebl/ebl-v3.0-shipping-instructions-request.json")
    assert isinstance(master, Consignment) and isinstance(house, Consignment)
    assert (house.kind, house.document_type, house.bill_of_lading, house.booking_ref) == (
        "house", "HBL", "HBOL001", "BOOKREQ-HBOL-1234567890123456")
    assert (house.to_order, house.freight_payment) == (True, "A")  # ENS method of payment A: cash
    assert [(p.role, p.name) for p in house.parties] == [("shipper", "DCSA CTK"), ("notify party", "DCSA CTK")]
    assert house.goods[0].hs_code == "64041900" and house.containers[0][0] == "MSCU9988776"
    assert house.source.endswith("$.houseBillOfLadings[0]") and master.kind == "master"


def test_reefer_bill_of_lading_values() -> None:
    [td] = read("dcsa-ebl/ebl-v3.0.2-transport-document-approved-reefer.json")
    assert isinstance(td, Consignment)
    assert (td.status, td.to_order, td.freight_payment, td.carrier_code) == ("APPROVED", True, "PRE", "MSC")
    assert (td.port_of_loading, td.port_of_discharge, td.voyage) == ("DKAAR", "DEBRV", "402E")
    assert td.vessel is not None and td.vessel.name == "Ever Ace"
    assert td.containers == (("KKFU6671914", (Seal("DCSA-CTK-1234"),)),)
    assert td.goods[0].hs_code == "04052090" and td.goods[0].gross_mass_kg == 12000.0 and td.goods[0].packages == 400
    assert ("shipper", "DCSA CTK") in {(p.role, p.name) for p in td.parties}


def test_package_counts_are_whole_numbers_and_ebl2_weights_are_read() -> None:
    """An ingest review: 10**30 packages stopped the whole ingest at the store and -5 packages
    were stored; the eBL 2 sample's 13,000.3 kg and 18 packages per item were stored as nothing
    (its weight is a number beside weightUnit)."""
    doc = json.loads((F / "dcsa-ebl/ebl-v3.0.2-transport-document-approved-reefer.json").read_text())
    for bad in (10**30, -5, 2.5, "400"):
        doc["consignmentItems"][0]["cargoItems"][0]["outerPackaging"]["numberOfPackages"] = bad
        [td] = list(read_dcsa_documents(json.dumps(doc).encode(), "td.json"))
        assert isinstance(td, Consignment) and td.goods[0].packages is None
        assert [f.why for f in td.flags if f.code == "unreadable-packages"] == [
            f"numberOfPackages {str(bad)[:40]!r} is not a whole number from 0 to 999,999,999; packages not used"]
    [si] = read("dcsa-ebl/ebl-v2-beta-ShippingInstruction-multiple-booking-refs.json")
    assert isinstance(si, Consignment)
    assert [(g.hs_code, g.gross_mass_kg, g.packages) for g in si.goods] == [
        ("411510", 13000.3, 18), ("720711", 13000.3, 18)]


def test_a_consignment_item_may_weigh_what_all_the_documents_containers_hold() -> None:
    """A review (of CUSCAR, the same in DCSA): a consignment item's weight above 60 t was refused
    as no container's mass, though the item's goods may fill every container of the document
    (two here: up to 120 t); a cargo item is in one container and keeps the 60 t limit."""
    doc = json.loads((F / "dcsa-ebl/ebl-v2-beta-ShippingInstruction-multiple-booking-refs.json").read_text())
    assert len(doc["utilizedTransportEquipments"]) == 2
    doc["consignmentItems"][0]["weight"] = 100_000
    doc["consignmentItems"][1]["weight"] = 130_000
    [si] = list(read_dcsa_documents(json.dumps(doc).encode(), "si.json"))
    assert isinstance(si, Consignment)
    # the second item's 130 t is more than two boxes hold: its cargo items' masses stand in
    assert [g.gross_mass_kg for g in si.goods] == [100_000.0, 13_000.3]
    assert [f.why for f in si.flags if f.code == "implausible-mass"] == [
        "weight 130000 KGM is not the mass of goods in 2 containers (above 0, at most 120,000 kg); not used"]
    # as read before: each item's weight within one container's (the store knows a version stored so)
    assert si.earlier_reading is not None and [g.gross_mass_kg for g in si.earlier_reading.goods] == [13_000.3] * 2
    assert [f.why[:22] for f in si.earlier_reading.flags if f.code == "implausible-mass"] == [
        "weight 100000 KGM is n", "weight 130000 KGM is n"]
    doc["consignmentItems"][0]["weight"] = 13_000.3
    doc["consignmentItems"][1]["weight"] = None
    doc["consignmentItems"][1]["cargoItems"][0]["weight"] = 70_000
    [si] = list(read_dcsa_documents(json.dumps(doc).encode(), "si.json"))
    assert [f.why for f in si.flags if f.code == "implausible-mass"] == [
        "cargoItems.cargoGrossWeight 70000 KGM is not a container's mass (above 0, at most 60,000 kg); not used"]


def test_a_document_naming_several_bookings_says_so() -> None:
    """A data review: the sample's second booking (5dc92988..., iron in APZU4812090) was stored
    nowhere, without a word. The document stays one, filed under its first booking, and is
    flagged with every booking it names (one document per booking was tried: a box shared by
    two bookings then carried half its cargo on each; a regression review)."""
    [si] = read("dcsa-ebl/ebl-v2-beta-ShippingInstruction-multiple-booking-refs.json")
    assert [f.why for f in si.flags if f.code == "several-bookings"] == [  # type: ignore[attr-defined]
        "the document covers bookings 43f615138efc4d3286b36402405f851b, 5dc92988f48a420495b786c224efce7d; filed "
        "under 43f615138efc4d3286b36402405f851b: a trip of another booking finds it by none of its references"]
    td = json.loads((F / "dcsa-ebl/ebl-v3.0.2-transport-document-draft-dry.json").read_text())
    td["consignmentItems"] = [*td["consignmentItems"], {**td["consignmentItems"][0], "carrierBookingReference": "BK-2"}]
    [one] = read_dcsa_documents(json.dumps(td).encode(), "td.json")
    assert [f.why for f in one.flags if f.code == "several-bookings"] == [  # type: ignore[attr-defined]
        "the document covers bookings CBR_123_REGULAR, BK-2; filed under CBR_123_REGULAR: a trip of another booking "
        "finds it by the document's own reference, not by its booking"]
    # the flag is no part of the version: the document stored before it was raised is the same one
    from dataclasses import replace

    from scheldt.store.documents import version_hash

    unflagged = replace(si, flags=tuple(f for f in si.flags if f.code != "several-bookings"))  # type: ignore[arg-type]
    assert version_hash(unflagged) == version_hash(si)  # type: ignore[arg-type]


def test_seals_are_kept_once_and_a_packed_container_the_equipment_misses_is_flagged() -> None:
    """An ingest review: seals S1, S1 and "" were all stored, and a cargo item packed in a
    container the equipment list does not name raised nothing (the real reefer bill of lading,
    altered here)."""
    doc = json.loads((F / "dcsa-ebl/ebl-v3.0.2-transport-document-approved-reefer.json").read_text())
    doc["utilizedTransportEquipments"][0]["seals"] = [{"number": "S1"}, {"number": "S1"}, {"number": " "}]
    doc["consignmentItems"][0]["cargoItems"][0]["equipmentReference"] = "MSCU1234566"
    [td] = list(read_dcsa_documents(json.dumps(doc).encode(), "td.json"))
    assert isinstance(td, Consignment) and td.containers == (("KKFU6671914", (Seal("S1"),)),)
    assert [(f.code, f.why) for f in td.flags] == [
        ("repeated-seal", "seal S1 of KKFU6671914 is given twice; kept once"),
        ("empty-seal", "a seal of KKFU6671914 has no number; left out"),
        ("container-not-in-equipment", "cargo is packed in MSCU1234566, which utilizedTransportEquipments does "
                                       "not list")]


def test_booking_and_arrival_notice_values() -> None:
    [booking] = read("dcsa-booking/booking-v2.0-request-full.json")
    assert isinstance(booking, Consignment)
    assert (booking.port_of_loading, booking.port_of_discharge, booking.voyage) == ("DEBRV", "USORF", "403W")
    assert booking.vessel is not None and (booking.vessel.imo, booking.vessel.name) == ("9298686", "MAERSK IOWA")
    assert booking.goods[0].gross_mass_kg == 36000.0
    assert [(p.role, p.name) for p in booking.parties] == [("booking agent", "KN Bremerhaven")]
    [notice] = read("dcsa-other/arrival-notice-v1.0-basic.json")
    assert isinstance(notice, Consignment)
    assert [(p.role, p.country) for p in notice.parties] == [("shipper", "AE"), ("consignee", "SG")]
    assert (notice.port_of_loading, notice.port_of_discharge) == ("AEJEA", "SGSIN")
    assert notice.issued_at == datetime(2024, 3, 4, tzinfo=UTC)  # issueDateTime
    # the vessel and import voyage of its leg into the port of discharge (an ingest review: lost)
    assert (notice.vessel, notice.voyage) == (Vessel(name="YM MASCULINITY"), "097E")
    # with an onward feeder leg after it, the leg into the port of discharge still (regression review)
    doc = json.loads((F / "dcsa-other/arrival-notice-v1.0-basic.json").read_text())
    legs = doc["arrivalNotices"][0]["transport"]["legs"]
    legs[0] |= {"transportPlanStage": "MNC", "transportPlanStageSequenceNumber": 1,
                "dischargeLocation": {"UNLocationCode": "SGSIN"}}
    legs.append({"transportPlanStage": "ONC", "transportPlanStageSequenceNumber": 2,
                 "loadLocation": {"UNLocationCode": "SGSIN"}, "dischargeLocation": {"UNLocationCode": "IDJKT"},
                 "vesselVoyage": {"vesselName": "FEEDER ONE", "carrierImportVoyageNumber": "12N"}})
    [two_legs] = list(read_dcsa_documents(json.dumps(doc).encode(), "an.json"))
    assert isinstance(two_legs, Consignment)
    assert (two_legs.vessel, two_legs.voyage) == (Vessel(name="YM MASCULINITY"), "097E")
    assert (notice.other_voyages, two_legs.other_voyages) == ((), ("12N",))  # the onward leg's voyage is kept too
    assert booking.issued_at is None  # a booking states no issue date


def test_every_vessel_voyage_of_a_transport_document_is_read() -> None:
    """eBL 3.0 ``transports.vesselVoyages`` may list the first sea-going vessel and the mother
    vessel; only the first voyage was read. The vessel stays the first's; each voyage once."""
    path = "dcsa-ebl/ebl-v3.0.2-td-notification-issued-full.json"
    doc = json.loads((F / path).read_text())
    doc["data"]["transportDocument"]["transports"]["vesselVoyages"] += [
        {"vesselName": "MSC Mother", "carrierExportVoyageNumber": " 611W "},
        {"vesselName": "MSC Gülsün", "carrierExportVoyageNumber": "402E"}, {"vesselName": "No number"}]
    [td] = list(read_dcsa_documents(json.dumps(doc).encode(), path))
    [sample] = read(path)
    assert isinstance(td, Consignment) and isinstance(sample, Consignment)
    assert (td.voyage, td.other_voyages, td.vessel) == ("402E", ("611W",), sample.vessel)
    assert (sample.voyage, sample.other_voyages) == ("402E", ())


def test_issue_dates_of_transport_documents() -> None:
    """eBL 3.0 issueDate first, else shippedOnBoardDate; an unreadable one is flagged and the
    next field used (real samples, the last one altered here)."""
    [issuance] = [r for r in read("dcsa-ebl/ebl-issuance-v3.0-request-transport-document.json") if isinstance(r, Consignment)]
    assert issuance.issued_at == datetime(2020, 12, 12, tzinfo=UTC)
    [issued] = read("dcsa-ebl/ebl-v3.0.2-td-notification-issued-full.json")
    assert isinstance(issued, Consignment) and issued.issued_at == datetime(2023, 12, 20, tzinfo=UTC)
    doc = json.loads((F / "dcsa-ebl/ebl-v3.0.2-transport-document-approved-reefer.json").read_text())
    doc["issueDate"] = "20/12/2023"
    [altered] = list(read_dcsa_documents(json.dumps(doc).encode(), "td.json"))
    assert isinstance(altered, Consignment) and altered.issued_at == datetime(2023, 12, 20, tzinfo=UTC)
    [flag] = [f for f in altered.flags if f.code == "unreadable-date"]
    assert flag.field == "issueDate" and flag.why == (
        "issueDate '20/12/2023' is not an ISO 8601 date or date-time; not used as the issue date")


def test_error_response_is_rejected_as_such() -> None:
    [rej] = read("dcsa-booking/booking-v2.0-error-response.json")
    assert isinstance(rej, Rejection)
    assert rej.why == "an API error response, not a document: 404 Not Found (booking reference not found)"


def test_lightweight_notification_is_a_status_event() -> None:
    [event] = read("dcsa-ebl/ebl-v3.0.2-td-notification-draft-lightweight.json")
    assert isinstance(event, ShipmentEvent)
    assert (event.event_type, event.document_id, event.event_time) == (
        "DRAFT", "HHL71800000", datetime(2018, 4, 5, 17, 31, tzinfo=UTC))
    # its id within its source (CloudEvents 1.0): the sample's id is also a T&T sample's eventID
    assert event.event_id == "https://member.com/#3cecb101-7a1a-43a4-9d62-e88a131651e2"


def test_vgm_schedule_and_port_call() -> None:
    [vgm] = read("dcsa-other/vgm-v1.0-declaration.json")
    assert isinstance(vgm, VgmDeclaration)
    assert (vgm.container_number, vgm.verified_gross_mass_kg, vgm.method, vgm.retracted) == ("APZU4812090", 2.4, "SM1", True)
    assert {d.kind: d.value for d in vgm.documents} == {"BKG": "ABC709951", "TRD": "HHL71800000"}
    assert vgm.tare_kg == 2.4  # equipmentDetails.tareWeight: the VGM includes it, a B/L's cargo weight does not
    assert vgm.carrier_code == "MMCU"  # vesselVoyageDetails.carrierCode (NMFTA: a SCAC)
    assert vgm.seals == (Seal("VET123", "CUS", "WIR"),)  # equipmentDetails.seals (a CLI review: dropped)
    # vesselVoyageDetails: the first sea-going vessel, its voyages and port of loading (not its terminal)
    assert vgm.transport_call == TransportCall(unlocode="NLAMS", export_voyage="2103S", import_voyage="2103S",
                                               vessel=Vessel(name="King of the Seas"))
    # a tare in an unknown unit is flagged and not used (a regression review's was dropped unsaid)
    doc = json.loads((F / "dcsa-other/vgm-v1.0-declaration.json").read_text())
    doc["VGMDeclarations"][0]["equipmentDetails"]["tareWeight"] = {"value": 2200, "unit": "KGX"}
    [odd] = list(read_dcsa_documents(json.dumps(doc).encode(), "vgm.json"))
    assert isinstance(odd, VgmDeclaration) and odd.tare_kg is None
    assert [(f.code, f.field) for f in odd.flags] == [("unknown-unit", "equipmentDetails.tareWeight")]
    schedule = read("dcsa-other/ovs-v3.0-vessel-schedule-response.json")
    assert Counter(type(r).__name__ for r in schedule) == {"TransportEvent": 5}
    first = schedule[0]
    assert isinstance(first, TransportEvent)
    assert (first.event_type, first.classifier, first.event_time) == ("ARRI", "PLN", datetime(2024, 1, 14, 8, 21, tzinfo=UTC))
    assert first.transport_call is not None and first.transport_call.vessel is not None
    assert first.transport_call.vessel.imo == "9321483"
    # calls the schedule marks omitted (statusCode OMIT) say so (a CLI review: read as calls made)
    assert [(r.location.unlocode if r.location else "", [f.code for f in r.flags]) for r in schedule] == [
        ("NLAMS", ["omitted-call"]), ("SGSIN", ["invalid-imo-number"]), ("USNYC", ["omitted-call"]),
        ("USNYC", ["omitted-call"]),
        ("NLAMS", [])]
    [call] = read("dcsa-other/portcall-v2.0-request.json")
    assert isinstance(call, TransportEvent) and call.location is not None and call.location.unlocode == "NLAMS"


def test_a_vgm_declarations_vessel_and_voyage_are_read_as_t_and_t_events_name_them() -> None:
    """A VGM's ``vesselVoyageDetails`` was left unread but for its carrier: a declaration
    received before the moves gave its trip no voyage. The carrier voyage number is the voyage,
    else the universal voyage reference (DCSA VGM 1.0 ``VoyageNumberOrReference``); a
    declaration naming none has no call. A value that is not text (or a port code longer than a
    UN/LOCODE) is flagged and not used, the VGM kept: a review's numeric vessel name stopped the
    whole ingest, and a list as the voyage quarantined the declaration, its verified mass lost."""
    doc = json.loads((F / "dcsa-other/vgm-v1.0-declaration.json").read_text())
    details = doc["VGMDeclarations"][0]["vesselVoyageDetails"]

    def read_with(changed: dict[str, object]) -> object:
        doc["VGMDeclarations"][0]["vesselVoyageDetails"] = {**details, **changed}
        [record] = list(read_dcsa_documents(json.dumps(doc).encode(), "vgm.json"))
        return record

    universal = read_with({"exportVoyageNumberOrReference": {"universalVoyageReference": "2301W"},
                           "importVoyageNumberOrReference": None, "vesselName": None, "portOfLoading": None})
    assert isinstance(universal, VgmDeclaration)
    assert universal.transport_call == TransportCall(export_voyage="2301W")
    bare = read_with({k: None for k in details if k != "carrierCode"})
    assert isinstance(bare, VgmDeclaration) and bare.transport_call is None and bare.carrier_code == "MMCU"
    wrong = read_with({"portOfLoading": {"UNLocationCode": 12345}, "vesselName": 123,
                       "exportVoyageNumberOrReference": {"carrierVoyageNumber": ["2103S"]},
                       "importVoyageNumberOrReference": {"universalVoyageReference": 2301.5}})
    assert isinstance(wrong, VgmDeclaration) and wrong.verified_gross_mass_kg == 2.4
    assert wrong.transport_call is None
    assert [(f.field, f.code, f.why) for f in wrong.flags] == [
        ("vesselVoyageDetails.portOfLoading.UNLocationCode", "unreadable-value",
         "vesselVoyageDetails.portOfLoading.UNLocationCode is a number (12345), not a UN/LOCODE; not used"),
        ("vesselVoyageDetails.exportVoyageNumberOrReference", "unreadable-value",
         'vesselVoyageDetails.exportVoyageNumberOrReference is a list (["2103S"]), not text; not used'),
        ("vesselVoyageDetails.importVoyageNumberOrReference", "unreadable-value",
         "vesselVoyageDetails.importVoyageNumberOrReference is a number (2301.5), not text; not used"),
        ("vesselVoyageDetails.vesselName", "unreadable-value",
         "vesselVoyageDetails.vesselName is a number (123), not text; not used")]
    long_port = read_with({"portOfLoading": {"UNLocationCode": "NLAMSTERDAM"}})
    assert isinstance(long_port, VgmDeclaration) and long_port.transport_call is not None
    assert (long_port.transport_call.unlocode, long_port.transport_call.export_voyage) == ("", "2103S")
    assert [f.why for f in long_port.flags] == [
        "vesselVoyageDetails.portOfLoading.UNLocationCode 'NLAMSTERDAM' is not a UN/LOCODE; not used"]


def test_a_vgm_declaration_dated_with_a_lower_case_z_is_read() -> None:
    """An ingest review: the VGM sample with ``...Z`` written ``...z`` (RFC 3339 allows it) was
    lost whole: "VGM declaration has no readable date-time"."""
    text = (F / "dcsa-other" / "vgm-v1.0-declaration.json").read_text()
    assert 'Z"' in text
    records = list(read_dcsa_documents(text.replace('Z"', 'z"').encode(), "vgm.json"))
    as_sent = read("dcsa-other/vgm-v1.0-declaration.json")
    assert [type(r).__name__ for r in records] == [type(r).__name__ for r in as_sent]
    assert not any(isinstance(r, Rejection) for r in records)


def _schedule(*calls: tuple[str, str, str]) -> bytes:
    """One DCSA OVS service with one vessel calling at (UN/LOCODE, transportCallReference, ETA)."""
    return json.dumps([{"carrierServiceCode": "FE1", "vesselSchedules": [{
        "vesselIMONumber": "9321483", "vesselName": "King of the Seas", "transportCalls": [
            {"carrierExportVoyageNumber": "2103S", "location": {"UNLocationCode": code},
             **({"transportCallReference": ref} if ref else {}),
             "timestamps": [{"eventTypeCode": "ARRI", "eventClassifierCode": "EST", "eventDateTime": eta}]}
            for code, ref, eta in calls]}]}]).encode()


def test_a_revised_estimate_and_calls_without_references_are_facts_of_their_own() -> None:
    """An ingest review: a later ETA of the same call (same transportCallReference) had the
    first's id and was quarantined as "already received with other facts"; two calls without a
    reference, at Amsterdam and Antwerp, had one id ("ovs::ARRI:EST"), the second refused."""
    first = list(read_dcsa_documents(_schedule(("NLAMS", "SR1-NLAMS", "2024-01-14T09:21:00+01:00")), "a.json"))
    revised = list(read_dcsa_documents(_schedule(("NLAMS", "SR1-NLAMS", "2024-01-15T18:00:00+01:00")), "b.json"))
    again = list(read_dcsa_documents(_schedule(("NLAMS", "SR1-NLAMS", "2024-01-14T08:21:00Z")), "c.json"))
    assert first[0].event_id != revised[0].event_id  # type: ignore[union-attr]
    assert first[0].event_id == again[0].event_id  # type: ignore[union-attr]  # the same estimate sent again
    unreferenced = list(read_dcsa_documents(_schedule(("NLAMS", "", "2024-02-01T10:00:00Z"),
                                                      ("BEANR", "", "2024-02-03T10:00:00Z")), "n.json"))
    assert len({e.event_id for e in unreferenced}) == 2  # type: ignore[union-attr]
    assert [e.event_id for e in unreferenced] == [  # type: ignore[union-attr]
        "ovs:9321483/2103S/NLAMS:ARRI:EST:2024-02-01T10:00:00+00:00",
        "ovs:9321483/2103S/BEANR:ARRI:EST:2024-02-03T10:00:00+00:00"]


def test_a_port_call_sequence_number_that_is_no_whole_number_is_refused_naming_it() -> None:
    """An ingest review: ``terminalCall.sequenceNumber`` "one" was stored as sent, and 10**30
    refused naming no field ("Integer exceeds 64-bit range")."""
    doc = json.loads((F / "dcsa-other" / "portcall-v2.0-request.json").read_text())
    events = doc["events"] if isinstance(doc, dict) and "events" in doc else None
    assert events, "the sample's shape changed"
    good = events[0]
    bad = [{**good, "eventID": f"pc-{i}", "terminalCall": {**good["terminalCall"], "sequenceNumber": value}}
           for i, value in enumerate(("one", 10**30))]
    records = list(read_dcsa_documents(json.dumps({**doc, "events": [*bad, good]}).encode(), "pc.json"))
    rejected = [r for r in records if isinstance(r, Rejection)]
    assert [(r.field, r.why.split(" is not")[0]) for r in rejected] == [
        ("terminalCall.sequenceNumber", "the record sequenceNumber one"),
        ("terminalCall.sequenceNumber", "the record sequenceNumber " + "1" + "0" * 23)]  # cut at 24 characters
    assert sum(isinstance(r, TransportEvent) for r in records) == 1


def test_a_house_bill_s_cargo_in_a_box_it_does_not_list_is_flagged() -> None:
    """A reread of the CLI review's open items: a house bill's cargo packed in a box that the house
    bill does not list (or, listing none, its master) raised nothing, where the master's did (the
    real eBL 3.0 shipping instructions, altered here)."""
    doc = json.loads((F / "dcsa-ebl/ebl-v3.0-shipping-instructions-request.json").read_text())
    doc["houseBillOfLadings"][0]["consignmentItems"][0]["cargoItems"][0]["equipmentReference"] = "TGHU7654321"
    master, house = read_dcsa_documents(json.dumps(doc).encode(), "si.json")
    assert isinstance(master, Consignment) and isinstance(house, Consignment)
    assert [(f.code, f.why) for f in house.flags if f.code.startswith("container-not")] == [
        ("container-not-in-house-bill", "cargo is packed in TGHU7654321, which the house bill's "
                                        "utilizedTransportEquipments does not list")]
    assert not [f for f in master.flags if f.code.startswith("container-not")]
    del doc["houseBillOfLadings"][0]["utilizedTransportEquipments"]  # the master's box stands for its list
    _, house = read_dcsa_documents(json.dumps(doc).encode(), "si.json")
    assert isinstance(house, Consignment) and house.containers[0][0] == "MSCU9988776"
    assert [(f.code, f.why) for f in house.flags if f.code.startswith("container-not")] == [
        ("container-not-in-house-bill", "cargo is packed in TGHU7654321, which the house bill lists no box for and "
                                        "the master document does not list")]
    doc["houseBillOfLadings"][0]["consignmentItems"][0]["cargoItems"][0]["equipmentReference"] = "MSCU9988776"
    _, house = read_dcsa_documents(json.dumps(doc).encode(), "si.json")
    assert isinstance(house, Consignment) and not [f for f in house.flags if f.code.startswith("container-not")]


def test_a_party_whose_function_is_null_is_kept_with_no_role() -> None:
    """A fuzz review: an eBL 2 party with ``partyFunction: null`` had the role None, and the
    whole shipping instruction was lost (a crash, then a rejection). The party is kept, its role
    not said."""
    doc = json.loads((F / "dcsa-ebl/ebl-v2-beta-ValidShippingInstruction.json").read_text())
    doc["documentParties"][0]["partyFunction"] = None
    [si] = list(read_dcsa_documents(json.dumps(doc).encode(), "si.json"))
    assert isinstance(si, Consignment)
    assert si.parties[0].role == "" and si.parties[0].name == doc["documentParties"][0]["party"]["partyName"]
