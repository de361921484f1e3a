"""Reader for DCSA transport documents and related JSON: Booking 2.0, eBL 3.0 (and 2.0-beta)
shipping instructions and transport documents, eBL issuance requests and notifications,
arrival notices 1.0, VGM declarations 1.0, vessel schedules (OVS 3.0) and port calls 2.0.

``read_dcsa_documents(data, source)`` yields :class:`Consignment` (one per booking, shipping
instruction, transport document or arrival notice), :class:`VgmDeclaration`,
:class:`TransportEvent` (schedule and port-call times), :class:`ShipmentEvent` (status-only
notifications), or :class:`Rejection` with the JSON path. An API error response is rejected
as such. Container and IMO numbers with wrong check digits are kept and flagged.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from scheldt.domain.codes import normalise_hs_code
from scheldt.domain.declarations import Flag
from scheldt.domain.identifiers import container_number, imo_number
from scheldt.domain.shipping import (
    Consignment,
    DocumentReference,
    GoodsItem,
    Location,
    Retraction,
    Seal,
    ShipmentEvent,
    ShippingParty,
    TransportCall,
    TransportEvent,
    Vessel,
    VgmDeclaration,
)
from scheldt.domain.units import MAX_CONTAINER_KG, mass_kg
from scheldt.ingest.base import (
    UNDECODED,
    FieldError,
    Rejection,
    huge_numbers_as_text,
    iso_datetime,
    json_kind,
    misshapen,
    owner_code,
    sequence_number,
    structure_why,
    trimmed,
    utc_in_range,
    voyage_reference,
)

Json = dict[str, Any]
Record = Consignment | VgmDeclaration | Retraction | TransportEvent | ShipmentEvent | Rejection

#: DCSA party function codes and document-party keys → our roles.
_ROLES = {"OS": "shipper", "shipper": "shipper", "CN": "consignee", "consignee": "consignee",
          "N1": "notify party", "N2": "notify party", "NI": "notify party", "notifyParties": "notify party",
          "notifyParty": "notify party", "issueTo": "issue to",
          "endorsee": "endorsee", "issuingParty": "carrier", "carrier": "carrier", "bookingAgent": "booking agent",
          "DDR": "consignor's freight forwarder", "DDS": "consignee's freight forwarder", "SCO": "service contract owner",
          "HE": "carrier booking office"}


def _time(raw: Any, name: str = "", flags: list[Flag] | None = None) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC, or None when unreadable or outside
    1970-2099. A date-time without a UTC offset (DCSA requires one) is read as UTC and, given
    ``flags``, flagged on field ``name``: the sender's local time would be hours off. A date
    alone is its midnight UTC."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        ts = iso_datetime(raw)
        when = utc_in_range(ts, "date-time", raw)
    except (ValueError, FieldError):  # unreadable, or outside 1970-2099: not a usable time
        return None
    if flags is not None and ts.tzinfo is None and len(raw.strip()) > 10:
        flags.append(Flag(name, "time-without-offset", f"{name} {raw[:40]!r} has no UTC offset (DCSA requires "
                          "one); read as UTC"))
    return when


def _kg(weight: Any, field: str, flags: list[Flag], boxes: int = 1) -> float | None:
    """A DCSA weight object ``{"value", "unit"}`` in kg; an unknown unit or an implausible
    mass (for the goods of ``boxes`` containers: up to that many containers' mass) is flagged
    into ``flags`` and not used (:func:`scheldt.domain.units.mass_kg`)."""
    if not isinstance(weight, dict) or weight.get("value") is None:
        return None
    kg, flag = mass_kg(weight["value"], str(weight.get("unit") or "KGM"), field, MAX_CONTAINER_KG * max(1, boxes))
    if flag is not None:
        flags.append(flag)
    return kg


def _weight(item: Json) -> Any:
    """An item's ``weight``: eBL 3's ``{"value", "unit"}``, or eBL 2's number beside ``weightUnit``
    (a review: the eBL 2 sample's 13,000.3 kg and 18 packages per item were stored as nothing)."""
    weight = item.get("weight")
    if weight is None or isinstance(weight, dict):
        return weight
    return {"value": weight, "unit": item.get("weightUnit") or "KGM"}


def _address(party: Json) -> tuple[str, str]:
    a = party.get("address") or {}
    if isinstance(a, dict) and a:
        text = " ".join(str(a[k]) for k in ("street", "streetNumber", "postCode", "city") if a.get(k))
        return text, a.get("countryCode") or ""
    lines = party.get("displayedAddress") or []
    return " ".join(lines) if isinstance(lines, list) else str(lines), ""


def _party(role: str, p: Json) -> ShippingParty:
    inner = p.get("party") if isinstance(p.get("party"), dict) else p
    address, country = _address(inner)
    codes = inner.get("identifyingCodes") or []
    ident = codes[0].get("partyCode", "") if codes and isinstance(codes[0], dict) else ""
    return ShippingParty(role, inner.get("partyName") or "", ident, address, country)


def _parties(doc: Json) -> tuple[ShippingParty, ...]:
    raw = doc.get("documentParties")
    out: list[ShippingParty] = []
    if isinstance(raw, dict):  # eBL 3 / Booking 2: keyed by role
        for key, value in raw.items():
            for p in value if isinstance(value, list) else [value]:
                if isinstance(p, dict):
                    out.append(_party(_ROLES.get(key, key), p))
    elif isinstance(raw, list):  # eBL 2 beta / arrival notice: list with partyFunction
        for p in raw:
            if isinstance(p, dict):  # a null function is no role said (a fuzz review: the document was lost)
                function = p.get("partyFunction") or ""
                out.append(_party(_ROLES.get(function, function) if isinstance(function, str) else function, p))
    return tuple(out)


def _goods(doc: Json, flags: list[Flag], earlier: bool = False) -> tuple[GoodsItem, ...]:
    """The document's goods items, each with the containers its cargo items are packed in. A
    consignment item's own weight may be that of goods in every container of the document (a
    CUSCAR review: 75 t of goods in three boxes was refused as no container's mass); a cargo
    item is in one container. With ``earlier``, as read before 2026-12-07 (no containers; a
    mass within one container's)."""
    items = doc.get("consignmentItems") or doc.get("commodities") or []
    for eq in doc.get("requestedEquipments") or []:
        items = [*items, *(eq.get("commodities") or [])]
    boxes = 1 if earlier else _boxes(doc)
    out = []
    for item in items:
        codes = item.get("HSCodes") or ([item["HSCode"]] if item.get("HSCode") else [])
        hs = ""
        if codes:
            try:  # a code the shipped list lacks is flagged on receipt, by the document's date (with_reference_flags)
                hs = normalise_hs_code(str(codes[0]))
            except ValueError as exc:
                flags.append(Flag("HSCodes", "malformed-hs-code", str(exc)))
        description = item.get("descriptionOfGoods") or item.get("commodityType") or ""
        if isinstance(description, list):
            description = " ".join(description)
        cargo = item.get("cargoItems") or []
        mass = (_kg(item.get("cargoGrossWeight"), "cargoGrossWeight", flags, boxes)
                or _kg(_weight(item), "weight", flags, boxes))
        if mass is None and cargo:
            masses = [m for c in cargo if (m := _kg(c.get("cargoGrossWeight") or _weight(c),
                                                    "cargoItems.cargoGrossWeight", flags)) is not None]
            mass = sum(masses) if masses else None
        packages = _packages(cargo, flags)
        out.append(GoodsItem(hs, str(description), packages, mass, () if earlier else _packed_in(cargo)))
    return tuple(out)


def _packed_in(cargo: list[Json]) -> tuple[str, ...]:
    """The containers cargo items are packed in (``equipmentReference``), each once, as the
    document's equipment writes them (:func:`container_number`); none when a cargo item does
    not say (its goods may then be in any of the document's boxes)."""
    refs = [c.get("equipmentReference") if isinstance(c, dict) else None for c in cargo]
    if not refs or not all(isinstance(r, str) and r.strip() for r in refs):
        return ()
    return tuple(dict.fromkeys(container_number(r)[0] for r in refs))


def _boxes(doc: Json) -> int:
    """How many containers the document names: its utilized transport equipment, and the
    ``units`` of each requested equipment (a booking's 3 x 40HC), a number in 1-10,000 (else 1)."""
    used = doc.get("utilizedTransportEquipments") or doc.get("utilizedTransportEquipment")
    count = len(used) if isinstance(used, list) else 0
    for eq in doc.get("requestedEquipments") or []:
        units = eq.get("units") if isinstance(eq, dict) else None
        count += units if isinstance(units, int) and not isinstance(units, bool) and 0 < units <= 10_000 else 1
    return count


#: The most packages a cargo item is read with (as the EDIFACT readers' GID: below a billion).
MAX_PACKAGES = 999_999_999


def _packages(cargo: list[Json], flags: list[Flag]) -> int | None:
    """The cargo items' packages added up (``outerPackaging.numberOfPackages``, eBL 3; or
    ``numberOfPackages``, eBL 2), None when none is given or one is not a whole number from 0 to
    :data:`MAX_PACKAGES` (flagged ``unreadable-packages``: an ingest review's 10**30 packages
    stopped the whole ingest at the store, and -5 packages were stored)."""
    total = 0
    for c in cargo:
        raw = (c.get("outerPackaging") or {}).get("numberOfPackages", c.get("numberOfPackages"))
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_PACKAGES:
            flags.append(Flag("numberOfPackages", "unreadable-packages", f"numberOfPackages {str(raw)[:40]!r} is not "
                              f"a whole number from 0 to {MAX_PACKAGES:,}; packages not used"))
            return None
        total += raw
    return total or None


def _equipment(doc: Json, flags: list[Flag]) -> tuple[tuple[str, tuple[Seal, ...]], ...]:
    out = []
    for u in doc.get("utilizedTransportEquipments") or doc.get("utilizedTransportEquipment") or []:
        eq = u.get("equipment") or u
        raw = eq.get("equipmentReference") or u.get("equipmentReference") or ""
        if not raw:
            continue
        number, flag = container_number(raw)
        if flag:
            flags.append(flag)
        out.append((number, _seals(u.get("seals") or [], number, flags)))
    return tuple(out)


def _seals(given: list[Json], number: str, flags: list[Flag]) -> tuple[Seal, ...]:
    """A container's seals, each number once: a seal without a number, or one given again, is
    flagged and left out (an ingest review stored S1, S1 and an empty seal; a seal-change
    indicator then compares numbers that are no seals)."""
    seals: dict[str, Seal] = {}
    for s in given:
        if not isinstance(s, dict):
            continue
        seal = Seal(str(s.get("number") or s.get("sealNumber") or "").strip(),
                    s.get("source") or s.get("sealSource") or "", s.get("type") or s.get("sealType") or "")
        if not seal.number:
            flags.append(Flag("seals", "empty-seal", f"a seal of {number} has no number; left out"))
        elif seal.number in seals:
            flags.append(Flag("seals", "repeated-seal",
                              f"seal {seal.number[:40]} of {number} is given twice; kept once"))
        else:
            seals[seal.number] = seal
    return tuple(seals.values())


def _unlisted_boxes(doc: Json, equipment: tuple[tuple[str, tuple[Seal, ...]], ...], flags: list[Flag],
                    code: str = "container-not-in-equipment",
                    lister: str = "which utilizedTransportEquipments does not list") -> None:
    """Flag (``code``) each container a cargo item is packed in that the document's equipment
    does not list (its seals and type unknown; an ingest review found it unsaid); ``lister``
    ends the flag's text."""
    listed = {n for n, _ in equipment}
    items = doc.get("consignmentItems") or []
    packed = [str(c.get("equipmentReference") or "").strip().upper() for item in items if isinstance(item, dict)
              for c in item.get("cargoItems") or [] if isinstance(c, dict)]
    for box in dict.fromkeys(b for b in packed if b):
        if container_number(box)[0] not in listed:
            flags.append(Flag("cargoItems.equipmentReference", code, f"cargo is packed in {box[:20]}, {lister}"))


def _ports_vessel(doc: Json, flags: list[Flag]) -> tuple[str, str, Vessel | None, str, tuple[str, ...]]:
    """Port of loading and of discharge (UN/LOCODEs), the vessel and voyage the document names
    first, and its other voyages (:attr:`Consignment.other_voyages`)."""
    transports = doc.get("transports") or doc.get("transport") or {}
    if isinstance(transports, list):
        transports = transports[0] if transports else {}
    pol = ((transports.get("portOfLoading") or {}).get("UNLocationCode") or "")
    pod = ((transports.get("portOfDischarge") or {}).get("UNLocationCode") or "")
    for loc in doc.get("shipmentLocations") or []:
        code = (loc.get("location") or {}).get("UNLocationCode") or ""
        if loc.get("locationTypeCode") == "POL":
            pol = pol or code
        elif loc.get("locationTypeCode") == "POD":
            pod = pod or code
    voyages = transports.get("vesselVoyages") or transports.get("vesselVoyage") or []
    voyage_doc = voyages[0] if isinstance(voyages, list) and voyages else (voyages if isinstance(voyages, dict) else {})
    voyage_doc = voyage_doc or _leg_into(transports.get("legs") or [], pod)
    v = doc.get("vessel") or voyage_doc or {}
    vessel = None
    if v:
        imo, flag = imo_number(v.get("vesselIMONumber"))
        if flag:
            flags.append(flag)
        vessel = Vessel(imo=imo, name=v.get("name") or v.get("vesselName") or "")
    voyage = (voyage_doc.get("carrierExportVoyageNumber") or doc.get("carrierExportVoyageNumber")
              or voyage_doc.get("carrierImportVoyageNumber") or "")
    listed = list(voyages) if isinstance(voyages, list) else []
    listed += [leg.get("vesselVoyage") for leg in transports.get("legs") or [] if isinstance(leg, dict)]
    numbers = (_voyage_number(each) for each in listed if isinstance(each, dict))
    others = tuple(dict.fromkeys(n for n in numbers if n and n != voyage))
    return pol, pod, vessel, voyage, others


def _voyage_number(voyage: Json) -> str:
    """The carrier's voyage number of a DCSA vessel voyage: export, else import ("" without)."""
    number = voyage.get("carrierExportVoyageNumber") or voyage.get("carrierImportVoyageNumber") or ""
    return number.strip() if isinstance(number, str) else ""


def _leg_into(legs: list[Any], pod: str) -> Json:
    """The vessel voyage of an arrival notice's leg into the port of discharge ``pod``: the leg
    discharging there, else the main carriage (transportPlanStage MNC), else the last leg by
    sequence number ({} without one). A regression review's notice took the onward feeder's."""
    voyages = [leg for leg in legs if isinstance(leg, dict) and isinstance(leg.get("vesselVoyage"), dict)]
    into = [leg for leg in voyages if ((leg.get("dischargeLocation") or {}).get("UNLocationCode") or "") == pod != ""]
    main = [leg for leg in voyages if leg.get("transportPlanStage") == "MNC"]
    ordered = sorted(voyages, key=lambda leg: leg.get("transportPlanStageSequenceNumber")
                     if isinstance(leg.get("transportPlanStageSequenceNumber"), int) else 0)
    chosen = (into or main or ordered[-1:] or [{}])[0]
    return chosen.get("vesselVoyage") or {}


def _booking_ref(doc: Json) -> str:
    """The booking a document is filed under: its own ``carrierBookingReference``, else the one
    its first consignment item names. (The first in sort order was tried: a document naming
    several bookings stored before was then filed again under another; regression review.)"""
    if doc.get("carrierBookingReference"):
        return doc["carrierBookingReference"]
    for item in doc.get("consignmentItems") or []:
        if isinstance(item, dict) and item.get("carrierBookingReference"):
            return item["carrierBookingReference"]
    refs = doc.get("carrierBookingReferences") or []
    return refs[0] if refs and isinstance(refs[0], str) else ""


#: Fields only a DCSA eBL 3.0 transport document has (a feeds review's transport document without
#: its reference was stored as shipping instructions under their reference, without a word).
_TD_ONLY = ("transportDocumentStatus",)


def consignment(doc: Json, where: str) -> Consignment:
    """A booking, shipping instructions, transport document or arrival notice as a Consignment.
    Raises FieldError for a transport document without its reference."""
    flags: list[Flag] = []
    if not doc.get("transportDocumentReference") and (said := next((k for k in _TD_ONLY if k in doc), None)):
        raise FieldError("transportDocumentReference", f"is a transport document (it has {said}) without the "
                         "transportDocumentReference DCSA eBL 3.0 requires of one")
    if doc.get("transportDocumentReference"):
        kind, ref = ("ARN" if "issueDateTime" in doc else "TRD"), doc["transportDocumentReference"]
    elif doc.get("shippingInstructionsReference") or "isToOrder" in doc:
        kind, ref = "SHI", doc.get("shippingInstructionsReference") or ""
    else:
        kind, ref = "BKG", doc.get("carrierBookingReference") or doc.get("carrierBookingRequestReference") or ""
    pol, pod, vessel, voyage, other_voyages = _ports_vessel(doc, flags)
    status = (doc.get("transportDocumentStatus") or doc.get("shippingInstructionsStatus")
              or doc.get("bookingStatus") or "")
    goods, with_earlier_reading = _read_goods(doc, flags)
    equipment = _equipment(doc, flags)
    if equipment:
        _unlisted_boxes(doc, equipment, flags)
    if len(bookings := _bookings(doc)) > 1:  # one document, one booking: the others said, not linked
        found = "by the document's own reference, not by its booking" if ref else "by none of its references"
        flags.append(Flag("carrierBookingReference", "several-bookings", f"the document covers bookings "
                          f"{', '.join(bookings)}; filed under {_booking_ref(doc) or bookings[0]}: a trip of another "
                          f"booking finds it {found}"))
    for value, field in ((ref, "reference"), (_booking_ref(doc), "carrierBookingReference")):
        if value and _placeholder(value):
            flags.append(Flag(field, "placeholder-value", f"{value!r} is a template placeholder, not a real reference"))
    parties = _parties(doc)
    for p in parties:  # a CLI review: the issuance sample's SHIPPER_LEGAL_NAME_PLACEHOLDER was a shipper
        if _placeholder(p.name):
            flags.append(Flag("documentParties", "placeholder-party", f"the {p.role} {p.name[:60]!r} is a template "
                              "placeholder, not a real party"))
    issued = _issued(doc, flags)
    document = Consignment(
        # references without spaces around, the carrier code as organisations own it (" SIMA "
        # and "sima" were stored as sent, and the carrier never owned the trip; carrier review)
        bill_of_lading=trimmed(ref), kind="master",
        booking_ref=trimmed(_booking_ref(doc)), document_type=kind, status=status, to_order=doc.get("isToOrder"),
        freight_payment=doc.get("freightPaymentTermCode") or "",
        carrier_code=owner_code(doc.get("carrierCode")),
        parties=parties, goods=goods, containers=equipment, port_of_loading=pol, port_of_discharge=pod,
        vessel=vessel, voyage=voyage, other_voyages=other_voyages, issued_at=issued, source=where, flags=tuple(flags),
    )
    return with_earlier_reading(document)


def _read_goods(doc: Json, flags: list[Flag]) -> tuple[tuple[GoodsItem, ...], Callable[[Consignment], Consignment]]:
    """The document's goods (their flags into ``flags``), and what gives the document built
    with them its ``earlier_reading`` when the readers before 2026-12-07 read its goods
    otherwise (a consignment item's mass within one container's; no boxes): the store reads a
    version stored then again in place (a regression review's re-sent document was stored anew)."""
    at = len(flags)
    goods = _goods(doc, flags)
    said = flags[at:]
    earlier_flags: list[Flag] = []
    earlier = _goods(doc, earlier_flags, earlier=True)

    def with_earlier_reading(document: Consignment) -> Consignment:
        if (earlier, earlier_flags) == (goods, said):
            return document
        before = (*document.flags[:at], *earlier_flags, *document.flags[at + len(said):])
        return replace(document, earlier_reading=replace(document, goods=earlier, flags=before))
    return goods, with_earlier_reading


#: Where DCSA documents state when they were issued, in order of preference: eBL 3.0
#: transport document issueDate, shippedOnBoardDate; arrival notice 1.0 issueDateTime.
_ISSUE_FIELDS = ("issueDate", "shippedOnBoardDate", "issueDateTime")


def _placeholder(value: str) -> bool:
    """Whether ``value`` is a template's placeholder (``..._PLACEHOLDER``, ``{...}``), as DCSA's
    conformance samples leave them."""
    return "PLACEHOLDER" in value or (value.startswith("{") and value.endswith("}"))


def _issued(doc: Json, flags: list[Flag]) -> datetime | None:
    """When the document was issued (UTC; a date alone is its midnight UTC), or None. A value
    given but unreadable is flagged, not rejected (the document's other facts stand)."""
    for name in _ISSUE_FIELDS:
        raw = doc.get(name)
        if raw in (None, ""):
            continue
        when = _time(raw, name, flags)
        if when is None:
            # where it was read is the document's source, not part of the flag: a review's copy of a file
            # under another name was a new version of each document with such a date
            flags.append(Flag(name, "unreadable-date", f"{name} {str(raw)[:40]!r} is not an ISO 8601 date or "
                              "date-time; not used as the issue date"))
            continue
        return when
    return None


def _bookings(doc: Json) -> list[str]:
    """The distinct carrier booking references a document's consignment items and utilized
    equipment name, in the order given (DCSA eBL: each consignment item names its booking). A
    document is filed under one booking; a data review found a shipping instruction's second
    booking stored nowhere, so :func:`consignment` flags a document naming several. (Filing one
    document per booking was tried and undone: a box shared by two bookings then carried half
    its cargo on each, and a mass gap fired on an honest box; regression review.)"""
    named = [x.get("carrierBookingReference") for key in ("consignmentItems", "utilizedTransportEquipments")
             for x in doc.get(key) or [] if isinstance(x, dict)]
    return list(dict.fromkeys(b for b in named if isinstance(b, str) and b.strip()))


def with_house_bills(doc: Json, where: str) -> Iterator[Consignment]:
    """The master document, then one house bill of lading per ``houseBillOfLadings`` entry of a
    DCSA eBL 3.0 shipping instruction (``kind="house"``, document type ``HBL``, freight method
    of payment as the ENS codes it: A = cash)."""
    master = consignment(doc, where)
    yield master
    for i, house in enumerate(doc.get("houseBillOfLadings") or []):
        if not isinstance(house, dict):
            continue
        at = f"{where}.houseBillOfLadings[{i}]"
        flags: list[Flag] = []
        own = _equipment(house, flags)
        equipment = own or master.containers
        goods, with_earlier_reading = _read_goods(house, flags)
        if equipment:  # a house bill's cargo in a box neither it nor (listing none) its master lists
            _unlisted_boxes(house, equipment, flags, "container-not-in-house-bill",
                            "which the house bill's utilizedTransportEquipments does not list" if own else
                            "which the house bill lists no box for and the master document does not list")
        yield with_earlier_reading(Consignment(
            bill_of_lading=house.get("houseBillOfLadingReference") or "", kind="house",
            booking_ref=_booking_ref(house) or master.booking_ref, document_type="HBL", status=master.status,
            to_order=house.get("isToOrder"), freight_payment=house.get("methodOfPayment") or "",
            carrier_code=master.carrier_code, parties=_parties(house), goods=goods, containers=equipment,
            port_of_loading=master.port_of_loading, port_of_discharge=master.port_of_discharge, vessel=master.vessel,
            voyage=master.voyage, issued_at=master.issued_at, source=at, flags=tuple(flags)))


def _vgm(item: Json, where: str) -> VgmDeclaration | Retraction | Rejection:
    vgm = item.get("VGM") or {}
    eq = item.get("equipmentDetails") or {}
    raw = eq.get("equipmentReference") or ""
    ref = item.get("declarationReference")
    if not raw and item.get("isRetracted") is True and isinstance(ref, str) and ref.strip():
        # DCSA VGM 1.0: a withdrawal needs only the reference ("any data in this object other than
        # the declarationReference is irrelevant"); a review's was refused as naming no container
        return Retraction(f"{ref}#retracted", ref, _time(item.get("declarationDateTime")), where)
    if not raw:
        return Rejection(where, "equipmentReference", "VGM declaration names no container")
    number, flag = container_number(raw)
    flags = [flag] if flag else []
    when = _time(vgm.get("dateTime"), "VGM.dateTime", flags) or _time(item.get("declarationDateTime"),
                                                                      "declarationDateTime", flags)
    if when is None:
        return Rejection(where, "dateTime", "VGM declaration has no readable date-time")
    shipment = item.get("shipmentDetails") or {}
    docs = tuple(DocumentReference(k, v) for k, v in (("BKG", shipment.get("carrierBookingReference")),
                                                     ("TRD", shipment.get("transportDocumentReference"))) if v)
    loc = vgm.get("location") or {}
    mass = _kg(vgm.get("weight"), "VGM.weight", flags)
    tare = _kg(eq.get("tareWeight"), "equipmentDetails.tareWeight", flags)  # flagged before the flags are taken
    seals = _seals(eq.get("seals") if isinstance(eq.get("seals"), list) else [], number, flags) or None
    call = _first_vessel_call(item.get("vesselVoyageDetails"), flags)  # flagged before the flags are taken
    return VgmDeclaration(
        event_id=item.get("declarationReference") or f"vgm:{number}:{when.isoformat()}", classifier="ACT",
        event_time=when, created_time=_time(item.get("declarationDateTime")),
        location=Location(unlocode=loc.get("UNLocationCode") or "", name=loc.get("locationName") or ""),
        documents=docs, source=where, container_number=number,
        verified_gross_mass_kg=mass, flags=tuple(flags),
        method=vgm.get("method") or "",
        retracted=bool(item.get("isRetracted")),
        tare_kg=tare,
        carrier_code=_named_carrier(item.get("vesselVoyageDetails")),
        transport_call=call,
        seals=seals,
        updated=True,  # DCSA VGM 1.0: sent again with a later declarationDateTime, it is updated
    )


def _named_carrier(voyage: Any) -> str | None:
    """The carrier code a VGM declaration's ``vesselVoyageDetails`` names, in capitals (any
    other JSON value as text, for the sender's check to refuse), None when it names none."""
    code = voyage.get("carrierCode") if isinstance(voyage, dict) else None
    return None if code in (None, "") else owner_code(code if isinstance(code, str) else str(code))[:35] or None


def _first_vessel_call(details: Any, flags: list[Flag]) -> TransportCall | None:
    """The call of the first sea-going vessel a VGM declaration names (DCSA VGM 1.0
    ``vesselVoyageDetails``: the box is loaded onto it at the port of loading): that port's
    UN/LOCODE, the export and import voyage (carrier voyage number, else universal voyage
    reference, as T&T events name them) and the vessel's name; None when it names none of
    them. Not its terminal: a facility code makes a terminal one of the trip's owners, and a
    shipper's declaration does not say which terminal handles the box. A move naming only that
    voyage joins the declaration's trip (:func:`scheldt.domain.trips._key_voyage`; read since
    2026-12-07, and a declaration stored before is the same one sent again:
    :func:`scheldt.store.events._earlier_readings`). A value that is not text, or a port code
    longer than a UN/LOCODE, is flagged into ``flags`` and not used: these are optional, and
    the verified gross mass is kept (a review's numeric vessel name stopped the whole ingest)."""
    if not isinstance(details, dict):
        return None
    at = "vesselVoyageDetails"
    pol = details.get("portOfLoading")
    call = TransportCall(
        unlocode=_text(pol.get("UNLocationCode") if isinstance(pol, dict) else None,
                       f"{at}.portOfLoading.UNLocationCode", flags, longest=5),
        export_voyage=_text(voyage_reference(details.get("exportVoyageNumberOrReference")),
                            f"{at}.exportVoyageNumberOrReference", flags),
        import_voyage=_text(voyage_reference(details.get("importVoyageNumberOrReference")),
                            f"{at}.importVoyageNumberOrReference", flags))
    if name := _text(details.get("vesselName"), f"{at}.vesselName", flags):
        call = replace(call, vessel=Vessel(name=name))
    return None if call == TransportCall() else call


def _text(value: Any, field: str, flags: list[Flag], longest: int | None = None) -> str:
    """``value`` when it is text (at most ``longest`` characters, without a NUL, when given),
    "" for nothing; anything else is flagged ``unreadable-value`` into ``flags`` and read as ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and (longest is None or (len(value.strip()) <= longest and "\x00" not in value)):
        return value.strip() if longest is not None else value
    if isinstance(value, str):
        why = f"{field} {value[:40]!r} is not a UN/LOCODE; not used"
    else:
        why = (f"{field} is {json_kind(value)} ({json.dumps(value, default=str)[:40]}), not "
               f"{'a UN/LOCODE' if longest is not None else 'text'}; not used")
    flags.append(Flag(field, "unreadable-value", why))
    return ""


_DOCUMENT_KEYS = ("documentParties", "consignmentItems", "requestedEquipments", "transportDocumentReference")


def _list_item(item: Json, where: str) -> Iterator[Record]:
    """One item of a top-level list: a vessel schedule (DCSA OVS: ``vesselSchedules``), or a
    booking, shipping instruction or transport document."""
    if "vesselSchedules" in item:
        yield from _schedule(item, where)
    elif any(k in item for k in _DOCUMENT_KEYS):
        yield from with_house_bills(item, where)
    else:
        raise FieldError("", "is neither a vessel schedule (vesselSchedules) nor a DCSA booking, shipping "
                             f"instruction or transport document (keys: {', '.join(sorted(item)[:6])})")


def _schedule(service: Json, where: str) -> Iterator[Record]:
    """The timestamps of one DCSA OVS service schedule at ``where``, each a TransportEvent; those
    of a call the schedule marks omitted (``statusCode`` OMIT) flagged ``omitted-call``."""
    for j, vs in enumerate(service.get("vesselSchedules") or []):
        imo, flag = imo_number(vs.get("vesselIMONumber"))
        vessel = Vessel(imo=imo, call_sign=vs.get("vesselCallSign") or "", name=vs.get("vesselName") or "")
        for k, call in enumerate(vs.get("transportCalls") or []):
            code = (call.get("location") or {}).get("UNLocationCode") or ""
            tc = TransportCall(unlocode=code, reference=call.get("transportCallReference") or "",
                               carrier_service=service.get("carrierServiceCode") or "",
                               export_voyage=call.get("carrierExportVoyageNumber") or "",
                               import_voyage=call.get("carrierImportVoyageNumber") or "", vessel=vessel)
            for n, ts in enumerate(call.get("timestamps") or []):
                path = f"{where}.vesselSchedules[{j}].transportCalls[{k}].timestamps[{n}]"
                flags = [flag] if flag else []
                if call.get("statusCode") == "OMIT":  # a CLI review: read as a call the vessel makes
                    flags.append(Flag("statusCode", "omitted-call", f"the schedule marks the call at {code or '?'} "
                                      "omitted (OMIT): the vessel skips it; its times are those it was planned at"))
                when = _time(ts.get("eventDateTime"), "eventDateTime", flags)
                if when is None:
                    yield Rejection(path, "eventDateTime", "timestamp without a readable date-time")
                    continue
                yield TransportEvent(event_id=_schedule_event_id(tc, ts, when),
                                     classifier=ts.get("eventClassifierCode") or "", event_time=when,
                                     location=Location(unlocode=code), transport_call=tc, source=path,
                                     flags=tuple(flags), event_type=ts.get("eventTypeCode") or "")


def _schedule_event_id(tc: TransportCall, ts: Json, when: datetime) -> str:
    """The id of one timestamp of a schedule (DCSA OVS gives none): the call (its
    transportCallReference, else vessel, voyage, port), the event type and classifier, and the
    time, so a revised estimate is a fact of its own and the same one sent again is not. A
    review lost both: a later ETA of the same call was quarantined as "already received with
    other facts", and two calls without references, at Amsterdam and Antwerp, had one id."""
    vessel = tc.vessel.imo or tc.vessel.call_sign or tc.vessel.name if tc.vessel else ""
    call = tc.reference or f"{vessel}/{tc.export_voyage or tc.import_voyage}/{tc.unlocode}"
    return f"ovs:{call}:{ts.get('eventTypeCode')}:{ts.get('eventClassifierCode')}:{when.isoformat()}"


def _port_call(event: Json, where: str) -> TransportEvent | Rejection:
    flags: list[Flag] = []
    when = _time((event.get("timestamp") or {}).get("eventDateTime"), "timestamp.eventDateTime", flags) or _time(
        event.get("eventUpdatedDateTime"), "eventUpdatedDateTime", flags)
    if when is None or not event.get("eventID"):
        return Rejection(where, "eventID", "port call event without id or date-time")
    pc, term = event.get("portCall") or {}, event.get("terminalCall") or {}
    service = event.get("portCallService") or {}
    ts = event.get("timestamp") or {}
    tc = TransportCall(unlocode=pc.get("UNLocationCode") or "", reference=term.get("terminalCallReference") or "",
                       sequence=sequence_number(term.get("sequenceNumber"), "terminalCall.sequenceNumber"),
                       export_voyage=(term.get("exportVoyageNumberOrReference") or {}).get("carrierVoyageNumber") or "",
                       import_voyage=(term.get("importVoyageNumberOrReference") or {}).get("carrierVoyageNumber") or "")
    kind = f"{service.get('portCallServiceTypeCode', '')}:{service.get('portCallServiceEventTypeCode', '')}".strip(":")
    return TransportEvent(event_id=event["eventID"], classifier=ts.get("classifierCode") or "", event_time=when,
                          location=Location(unlocode=tc.unlocode), transport_call=tc, source=where, event_type=kind[:16],
                          flags=tuple(flags))


def read_dcsa_documents(data: bytes, source: str) -> Iterator[Record]:
    """Yield the records of one DCSA document JSON (see the module docstring).

    A record whose fields have the wrong JSON types is rejected at its path; never raises.
    """
    data = huge_numbers_as_text(data)
    text = data.decode("utf-8-sig", "surrogateescape")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejection(f"{source}$", "", f"not a JSON document: {exc}")
        return
    except RecursionError:
        try:
            doc = json.loads(_shallow(text))
        except (json.JSONDecodeError, RecursionError):
            yield Rejection(f"{source}$", "", "not a readable JSON document: nested too deeply")
            return
        doc = _set_aside(doc, _too_deep)
        if isinstance(doc, dict) and (deep := _too_deep(doc)) is not None:
            yield deep.rejection(f"{source}$")
            return
    if UNDECODED.search(text):
        doc = _set_aside(doc, _not_utf8)
        if found := _undecodable(doc):
            yield _Undecodable(*found, _shown(doc)).rejection(f"{source}$")
            return
    try:
        yield from _records(doc, source)
    except FieldError as exc:
        yield Rejection(f"{source}$", exc.field, f"the document {exc.why}", UNDECODED.sub("\ufffd", text))
    except _READ_ERRORS as exc:
        field, why = misshapen(doc) or ("", structure_why(exc))
        yield Rejection(f"{source}$", field, f"the document does not have the DCSA structure: {why}",
                        UNDECODED.sub("\ufffd", text))


#: Why a record holding bytes that are not UTF-8 is not read.
NOT_UTF8 = ("holds bytes that are not UTF-8 (text in another encoding, such as Latin-1?): this record is not read; "
            "the rest of the file is")


@dataclass(frozen=True)
class _Undecodable:
    """A record of a file's record list that holds bytes that are not UTF-8 (not read):
    ``field``, the path in it of the first text holding one, and that text (bad bytes as U+FFFD)."""

    field: str
    text: str
    shown: str

    def rejection(self, where: str) -> Rejection:
        """Its Rejection at ``where``."""
        return Rejection(where, self.field, f"{self.field or 'the record'} {self.text!r} {NOT_UTF8}", self.shown)


def _undecodable(value: Any) -> tuple[str, str] | None:
    """(path, text) of the first text or key in ``value`` (as json.loads made it of
    surrogateescape text) holding a byte that is not UTF-8, bad bytes shown as U+FFFD; None if none."""
    found = _first_text(value, lambda text: UNDECODED.search(text) is not None)
    return (found[0], UNDECODED.sub("\ufffd", found[1])[:120]) if found else None


def _first_text(value: Any, wanted: Callable[[str], bool], path: str = "") -> tuple[str, str] | None:
    """(path, text) of the first text or key in ``value`` (JSON as json.loads makes it) that is
    ``wanted``, depth first in document order; None if none."""
    if isinstance(value, str):
        return (path, value) if wanted(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        at = f"{path}[{k}]" if isinstance(k, int) else f"{path}.{k}" if path else str(k)
        if (found := _first_text(k, wanted, at) if isinstance(k, str) else None) or (
                found := _first_text(v, wanted, at)):
            return found
    return None


def _shown(value: Any) -> str:
    """``value`` as JSON text, each byte that is not UTF-8 shown as U+FFFD (at most 2,000 characters)."""
    return UNDECODED.sub("\ufffd", json.dumps(value, ensure_ascii=False, default=str))[:2000]


def _not_utf8(item: Any) -> _Undecodable | None:
    """The record ``item`` set aside when it holds bytes that are not UTF-8, else None."""
    return _Undecodable(*found, _shown(item)) if (found := _undecodable(item)) else None


def _set_aside(doc: Any, mark: Callable[[Any], _Undecodable | _TooDeep | None]) -> Any:
    """``doc`` with each record of its record lists (the root list, or a root object's
    ``arrivalNotices``, ``VGMDeclarations`` or ``events``) that ``mark`` sets aside replaced by
    what it gives, rejected on its own by :func:`_each`: an ingest review's Latin-1 "Entrepôt"
    in one transport document lost the valid one before it too (:func:`_not_utf8`), another's
    document nested 5,000 levels deep the whole file (:func:`_too_deep`)."""
    def aside(items: list[Any]) -> list[Any]:
        return [mark(item) or item for item in items]

    if isinstance(doc, list):
        return aside(doc)
    if isinstance(doc, dict):
        return {k: aside(v) if k in ("arrivalNotices", "VGMDeclarations", "events") and isinstance(v, list) else v
                for k, v in doc.items()}
    return doc


#: Containers a DCSA document's values nest at most (a transport document nests about ten) when
#: its file is too deep for json.loads: one deeper is read as :data:`_DEEP` (:func:`_shallow`)
#: and its record rejected.
MAX_DOCUMENT_DEPTH = 400


@dataclass(frozen=True)
class _TooDeep:
    """A record of a file's record list holding a value nested deeper than
    :data:`MAX_DOCUMENT_DEPTH` (not read); ``field``: the path in it of that value."""

    field: str

    def rejection(self, where: str) -> Rejection:
        """Its Rejection at ``where``."""
        return Rejection(where, self.field, f"{self.field or 'the record'} is nested more than {MAX_DOCUMENT_DEPTH} "
                         "levels deep (a DCSA document nests about ten): this record is not read; the rest of the "
                         "file is")


#: A record set aside, rejected on its own where its list is read (:func:`_set_aside`).
_SET_ASIDE = (_Undecodable, _TooDeep)
#: What :func:`_shallow` writes in place of a value nested too deep: a text no document holds
#: (a NUL character and this process's own random id).
_DEEP = f"\x00scheldt: nested too deep {uuid.uuid4()}"
#: A JSON string (taken whole: brackets in it are text) or a bracket.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _shallow(text: str) -> str:
    """JSON ``text`` with each array or object nested deeper than :data:`MAX_DOCUMENT_DEPTH`
    written as the JSON string :data:`_DEEP`: what json.loads reads when it gives up on the
    whole (RecursionError), so that only the record holding it is lost, every other value read
    exactly as json.loads reads it (a regression review's reading through ijson lost a file
    whose other record held an integer of 30 digits). Broken JSON stays broken."""
    out, depth, start, kept = [], 0, -1, 0
    for m in _STRING_OR_BRACKET.finditer(text):
        bracket = m.group()
        if bracket[0] == '"':
            continue
        if bracket in "[{":
            depth += 1
            if depth == MAX_DOCUMENT_DEPTH + 1:
                start = m.start()
        else:
            if depth == MAX_DOCUMENT_DEPTH + 1 and start >= 0:
                out += [text[kept:start], json.dumps(_DEEP)]
                kept, start = m.end(), -1
            depth -= 1
    return "".join([*out, text[kept:]])


def _too_deep(item: Any) -> _TooDeep | None:
    """The record ``item`` set aside when it holds a value nested too deep, else None (the path
    named down to its third level)."""
    if (found := _first_text(item, _DEEP.__eq__)) is None:
        return None
    parts = re.findall(r"\[\d+\]|[^.[]+", found[0])
    return _TooDeep("".join(p if p.startswith("[") or i == 0 else "." + p for i, p in enumerate(parts[:3]))
                    + (" ..." if len(parts) > 3 else ""))


#: What reading a record of the wrong JSON shape raises (caught per record, never out of a reader).
_READ_ERRORS = (AttributeError, TypeError, ValueError, KeyError, ArithmeticError)


def _each(items: list[Any], path: str, read: Callable[[Any, str], Record | Iterator[Record]]) -> Iterator[Record]:
    """``read`` each item of a list at ``path[i]``; an item of the wrong shape is one Rejection
    at its path, and the items after it are still read."""
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if isinstance(item, _SET_ASIDE):
            yield item.rejection(where)
            continue
        try:
            if not isinstance(item, dict):
                raise FieldError("", f"holds {json_kind(item)}, not an object")
            got = read(item, where)
            yield from list(got) if isinstance(got, Iterator) else [got]
        except FieldError as exc:
            yield Rejection(where, exc.field, f"the record {exc.why}", json.dumps(item, default=str)[:2000])
        except _READ_ERRORS as exc:
            field, why = misshapen(item) or ("", structure_why(exc))
            yield Rejection(where, field, f"the record does not have the DCSA structure: {why}",
                            json.dumps(item, default=str)[:2000])




def _rebased(rec: Record, source: str, i: int) -> Record:
    """A record read from batch item ``i``, its source path written ``source$[i].data...``."""
    inner = f"{source}$[{i}]$"
    if isinstance(rec, Rejection):
        return replace(rec, where=rec.where.replace(inner, f"{source}$[{i}]"))
    return replace(rec, source=rec.source.replace(inner, f"{source}$[{i}]"))


def _notification_id(doc: dict[str, Any], ref: str, when: datetime) -> str:
    """The event id of a CloudEvents notification: ``<source>#<id>`` (CloudEvents 1.0 makes only
    the pair unique), else the document reference and time. A docs review: the
    eBL sample's ``id`` is a DCSA T&T sample's ``eventID``, so it was quarantined as a clash after
    that file, and loaded before it: the outcome turned on the order the files came in."""
    given = str(doc.get("id") or "")
    return f"{doc.get('source') or ''}#{given}" if given else f"{ref}:{when.isoformat()}"


def _records(doc: Any, source: str) -> Iterator[Record]:
    if isinstance(doc, _SET_ASIDE):  # an item of a CloudEvents batch
        yield doc.rejection(f"{source}$")
        return
    first = next((item for item in doc if not isinstance(item, _SET_ASIDE)), None) if isinstance(doc, list) else None
    if isinstance(first, dict) and "specversion" in first:  # (a first item not UTF-8 is set aside: regression review)
        for i, item in enumerate(doc):  # CloudEvents batch mode (application/cloudevents-batch+json)
            for rec in _records(item, f"{source}$[{i}]"):
                yield _rebased(rec, source, i)
        return
    if isinstance(doc, list):  # vessel schedules, or transport documents / shipping instructions one after another
        yield from _each(doc, f"{source}$", _list_item)
        return
    if not isinstance(doc, dict):
        yield Rejection(f"{source}$", "", "not a DCSA document")
        return
    if "errors" in doc and "statusCode" in doc:
        first = (doc.get("errors") or [{}])[0]
        yield Rejection(f"{source}$", "statusCode", f"an API error response, not a document: {doc.get('statusCode')} "
                        f"{doc.get('statusCodeText', '')} ({first.get('errorCodeText', '')})")
        return
    if "specversion" in doc and isinstance(doc.get("data"), dict):  # CloudEvents notification
        data_part = doc["data"]
        if isinstance(data_part.get("transportDocument"), dict):
            yield consignment(data_part["transportDocument"], f"{source}$.data.transportDocument")
            return
        flags: list[Flag] = []
        when = _time(doc.get("time"), "time", flags)
        ref = data_part.get("transportDocumentReference") or data_part.get("shippingInstructionsReference") or ""
        if when is None or not ref:
            yield Rejection(f"{source}$", "data", "notification without a document reference or time")
            return
        yield ShipmentEvent(event_id=_notification_id(doc, ref, when), classifier="ACT", event_time=when,
                            documents=(DocumentReference("TRD", ref),), source=f"{source}$",
                            event_type=data_part.get("transportDocumentStatus") or "", document_type="TRD",
                            document_id=ref, flags=tuple(flags))
        return
    if isinstance(doc.get("document"), dict):  # eBL issuance request
        yield consignment(doc["document"], f"{source}$.document")
        return
    if isinstance(doc.get("arrivalNotices"), list):
        yield from _each(doc["arrivalNotices"], f"{source}$.arrivalNotices", consignment)
        return
    if isinstance(doc.get("VGMDeclarations"), list):
        yield from _each(doc["VGMDeclarations"], f"{source}$.VGMDeclarations", _vgm)
        return
    events = doc.get("events")
    if isinstance(events, list) and events and any(isinstance(e, dict) and "portCall" in e for e in events):
        yield from _each(events, f"{source}$.events", _port_call)
        return
    if any(k in doc for k in _DOCUMENT_KEYS):
        yield from with_house_bills(doc, f"{source}$")
        return
    yield Rejection(f"{source}$", "", "not a DCSA booking, shipping instruction, transport document, arrival "
                    f"notice, VGM declaration, schedule or port call (keys: {', '.join(sorted(doc)[:6])})")
