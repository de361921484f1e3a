"""DCSA Track & Trace 3.0.0 events, as the standard's final schema names their fields, read in
the terms of the earlier Track & Trace shapes the event reader knows (:mod:`scheldt.ingest.dcsa_events`).

The 3.0.0 schema (DCSA TNT 3.0.0, ``TNT_v3.0.0.yaml`` of the DCSA Conformance Gateway: schemas
``Event``, ``EventClassification``, ``EquipmentDetails``, ``Location``, ``Facility``,
``DocumentReference``) spells out what 2.2 and the 3.0 pre-releases coded in three or four
letters: ``eventClassification.eventType`` (was ``eventTypeCode``), ``eventClassifier``
``ACTUAL`` (``eventClassifierCode`` ``ACT``), ``equipmentEventType`` ``LOADED`` (``LOAD``),
``transportEventType`` ``ARRIVED`` (``ARRI``), ``shipmentEventType`` ``CONFIRMED``
(``CONF``), ``equipmentDetails.emptyIndicator`` (``emptyIndicatorCode``), a facility as
``eventLocation.facility.facilityCode`` (flat ``facilityCode``), document references as
``{"type": "BOOKING", "reference": ...}`` (``BKG``) and a seal's source as ``CARRIER``
(``CAR``). A value with no short code (a 3.0.0-only event type such as ``CUSTOMS_RELEASED``) is
kept as sent, for the reader to flag as it flags any code outside its lists.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

CLASSIFIERS = {"ACTUAL": "ACT", "ESTIMATED": "EST", "PLANNED": "PLN"}
EQUIPMENT_EVENTS = {"LOADED": "LOAD", "DISCHARGED": "DISC", "GATED_IN": "GTIN", "GATED_OUT": "GTOT",
                    "STUFFED": "STUF", "STRIPPED": "STRP", "PICKED_UP": "PICK", "DROPPED_OFF": "DROP",
                    "INSPECTED": "INSP", "RESEALED": "RSEA", "REMOVED": "RMVD"}
TRANSPORT_EVENTS = {"ARRIVED": "ARRI", "DEPARTED": "DEPA"}
SHIPMENT_EVENTS = {"RECEIVED": "RECE", "DRAFTED": "DRFT", "PENDING_APPROVAL": "PENA", "PENDING_UPDATE": "PENU",
                   "REJECTED": "REJE", "APPROVED": "APPR", "ISSUED": "ISSU", "SURRENDERED": "SURR",
                   "SUBMITTED": "SUBM", "VOIDED": "VOID", "REQUESTED": "REQS", "COMPLETED": "CMPL",
                   "ON_HOLD": "HOLD", "RELEASED": "RELS", "CANCELLED": "CANC", "CONFIRMED": "CONF"}
#: 3.0.0 DocumentReference types with a DCSA document type code (documentTypeCode / documentReferenceType).
DOCUMENT_TYPES = {"BOOKING": "BKG", "CARRIER_BOOKING_REQUEST": "CBR", "SHIPPING_INSTRUCTIONS": "SHI",
                  "TRANSPORT_DOCUMENT": "TRD", "ARRIVAL_NOTICE": "ARN", "VERIFIED_GROSS_MASS": "VGM",
                  "CARGO_SURVEY": "CAS", "DANGEROUS_GOODS_DECLARATION": "DGD", "OUT_OF_GAUGE_DECLARATION": "OOG"}
#: 3.0.0 seal sources with a DCSA 2.2 code (CAR, SHI, PHY, VET, CUS); the others (CONSOLIDATOR,
#: CUSTOMER, TERMINAL) have none and are kept as sent.
SEAL_SOURCES = {"CARRIER": "CAR", "SHIPPER": "SHI", "PHYTOSANITARY": "PHY", "VETERINARY": "VET", "CUSTOMS": "CUS"}
_CODED = (("eventClassifier", "eventClassifierCode", CLASSIFIERS),
          ("equipmentEventType", "equipmentEventTypeCode", EQUIPMENT_EVENTS),
          ("transportEventType", "transportEventTypeCode", TRANSPORT_EVENTS),
          ("shipmentEventType", "shipmentEventTypeCode", SHIPMENT_EVENTS),
          ("iotEventType", "iotEventTypeCode", {}),
          ("reeferEventType", "reeferEventTypeCode", {}))


def is_tnt300(obj: Json) -> bool:
    """Whether ``obj`` is an event in the 3.0.0 schema's names: its ``eventClassification``
    gives ``eventType``, not ``eventTypeCode``."""
    classification = obj.get("eventClassification")
    return (isinstance(classification, dict) and "eventType" in classification
            and "eventTypeCode" not in classification)


def in_known_names(obj: Json) -> Json:
    """A 3.0.0 event (:func:`is_tnt300`) as a copy in the names the reader knows (the module's
    docstring lists them); any other object unchanged. Parts of the wrong JSON type are left as
    they are, for the reader to refuse naming the field. ``obj`` itself is not changed."""
    if not is_tnt300(obj):
        return obj
    out = dict(obj)
    classification = obj["eventClassification"]
    # an earlier name sent beside eventType is kept (a review's eventClassifierCode and
    # equipmentEventTypeCode were dropped, and the event stored with no type blocked its correction)
    coded: Json = {**classification, "eventTypeCode": classification.get("eventType")}
    for name, short_name, codes in _CODED:
        if name in classification and short_name not in classification:
            coded[short_name] = _short(classification[name], codes)
    out["eventClassification"] = coded
    equipment = obj.get("equipmentDetails")
    if isinstance(equipment, dict):
        out["equipmentDetails"] = _equipment(equipment)
    location = obj.get("eventLocation")
    if isinstance(location, dict) and isinstance(location.get("facility"), dict):
        facility = location["facility"]
        out["eventLocation"] = {**location, "facilityCode": facility.get("facilityCode"),
                                "facilityCodeListProvider": facility.get("facilityCodeListProvider")}
    shipment = obj.get("shipmentDetails")
    if isinstance(shipment, dict):  # a SHIPMENT event's document is read from it as in the pre-release
        out["shipmentDetails"] = _documents(shipment)  # names: the same event reads as the same facts
    return out


def _short(value: Any, codes: dict[str, str]) -> Any:
    """The short code of a 3.0.0 value (``LOADED`` is LOAD), else the value as sent."""
    return codes.get(value.strip().upper(), value) if isinstance(value, str) else value


def _equipment(equipment: Json) -> Json:
    """``equipmentDetails`` with ``emptyIndicator`` as ``emptyIndicatorCode`` and each seal's
    source as its 2.2 code (CARRIER is CAR)."""
    out = dict(equipment)
    if "emptyIndicator" in equipment:
        out["emptyIndicatorCode"] = equipment["emptyIndicator"]
    seals = equipment.get("seals")
    if isinstance(seals, list):
        out["seals"] = [{**seal, "source": _short(seal.get("source"), SEAL_SOURCES)} if isinstance(seal, dict)
                        else seal for seal in seals]
    return out


def _documents(shipment: Json) -> Json:
    """``shipmentDetails`` with its document references' 3.0.0 ``type`` given as ``typeCode``
    (BOOKING is BKG)."""
    def coded(ref: Any) -> Any:
        if not isinstance(ref, dict) or "typeCode" in ref:
            return ref
        return {**ref, "typeCode": _short(ref.get("type"), DOCUMENT_TYPES)}

    out = dict(shipment)
    if "documentReference" in shipment:
        out["documentReference"] = coded(shipment["documentReference"])
    more = shipment.get("additionalDocumentReferences")
    if isinstance(more, list):
        out["additionalDocumentReferences"] = [coded(r) for r in more]
    return out
