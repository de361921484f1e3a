"""Transport records of the field: documents, equipment, vessels, calls and events (pure).

Vocabulary follows the DCSA standards (Track & Trace 2.2/3.0, Booking 2.0, eBL 3.0) and
UN/EDIFACT. Every event keeps ``source`` (file and JSON path or segment) so an officer can go
back to what the carrier sent. Times are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheldt.domain.declarations import Flag


class EventClassifier(StrEnum):
    """Whether an event is planned, estimated or actual (DCSA eventClassifierCode)."""

    PLANNED = "PLN"
    ESTIMATED = "EST"
    ACTUAL = "ACT"
    REQUESTED = "REQ"


class EquipmentEventType(StrEnum):
    """DCSA equipmentEventTypeCode."""

    LOAD = "LOAD"
    DISC = "DISC"
    GTIN = "GTIN"
    GTOT = "GTOT"
    STUF = "STUF"
    STRP = "STRP"
    PICK = "PICK"
    DROP = "DROP"
    INSP = "INSP"
    RSEA = "RSEA"
    RMVD = "RMVD"


class SealSource(StrEnum):
    """Who put the seal on (DCSA sealSource): carrier, shipper, phytosanitary, veterinary, customs."""

    CARRIER = "CAR"
    SHIPPER = "SHI"
    PHYTOSANITARY = "PHY"
    VETERINARY = "VET"
    CUSTOMS = "CUS"


@dataclass(frozen=True, slots=True)
class DocumentReference:
    """A reference to a transport document: ``kind`` BKG (booking), TRD (transport document /
    bill of lading), SHI (shipping instructions), ...; ``value`` as the carrier wrote it."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Seal:
    """A seal on a container: number, who sealed it (:class:`SealSource`, or "" if not said), type."""

    number: str
    source: str = ""
    seal_type: str = ""


@dataclass(frozen=True, slots=True)
class Vessel:
    """A vessel: IMO number (7 digits), MMSI (9 digits), call sign, name, flag (ISO 3166)."""

    imo: str = ""
    mmsi: str = ""
    call_sign: str = ""
    name: str = ""
    flag: str = ""


@dataclass(frozen=True, slots=True)
class Location:
    """Where an event happened: UN/LOCODE, SMDG facility code, name, coordinates (WGS 84)."""

    unlocode: str = ""
    facility_code: str = ""
    name: str = ""
    latitude: float | None = None
    longitude: float | None = None


#: Longest voyage number and vessel name kept (characters): longer ones are cut and flagged when
#: received (the store's columns hold no more; a voyage is part of a trip's key).
MAX_VOYAGE = 64
MAX_VESSEL_NAME = 128


@dataclass(frozen=True, slots=True)
class TransportCall:
    """A vessel's call at a port: UN/LOCODE, terminal (SMDG facility code), service, voyages."""

    unlocode: str = ""
    facility_code: str = ""
    reference: str = ""
    sequence: int | None = None
    carrier_service: str = ""
    export_voyage: str = ""
    import_voyage: str = ""
    mode_of_transport: str = ""
    vessel: Vessel | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """What every event has: id, classifier (PLN/EST/ACT), when it happened and was recorded,
    where, on which call, under which documents, and the source it was read from."""

    event_id: str
    classifier: str
    event_time: datetime
    created_time: datetime | None = None
    location: Location | None = None
    transport_call: TransportCall | None = None
    documents: tuple[DocumentReference, ...] = ()
    source: str = ""
    flags: tuple[Flag, ...] = field(default=())
    #: Whether ``created_time`` is when its sender last updated it (DCSA T&T 3.0
    #: ``eventUpdatedDateTime``, VGM 1.0 ``declarationDateTime``): sent again under its id with
    #: other facts and a later one, it is a new version of the event. How it was sent, not a fact
    #: of it (no part of its digest).
    updated: bool = False


def named_document(doc_type: object, document_id: object) -> DocumentReference | None:
    """The booking or transport document a SHIPMENT event is about (DCSA T&T 2.2 and 3.0-Beta-1
    ``documentTypeCode`` BKG or TRD with its ``documentID``), as a reference its trip is found
    by; None for other documents (shipping instructions, a VGM...). A review found such events
    (the draft status of a bill of lading) on no trip, their references read only from
    ``documentReferences``."""
    if doc_type in ("BKG", "TRD") and isinstance(document_id, str) and document_id.strip():
        return DocumentReference(str(doc_type), document_id.strip())
    return None


@dataclass(frozen=True, slots=True)
class EquipmentEvent(Event):
    """Something happened to a container: LOAD, DISC, GTIN, GTOT, STUF, STRP, PICK, DROP, INSP,
    RSEA, RMVD (:class:`EquipmentEventType`)."""

    event_type: str = ""
    container_number: str = ""
    iso_equipment_code: str = ""
    empty: bool | None = None
    seals: tuple[Seal, ...] = ()
    #: What a terminal's report or order weighs the box at (kg: MEA+AAE+VGM, the verified gross
    #: mass SOLAS asks for, and MEA+AAE+G, the gross mass, in COARRI, COPRAR and CODECO) and the
    #: temperature it sets (°C, TMP); None when not given (DCSA events give none).
    verified_gross_mass_kg: float | None = None
    gross_mass_kg: float | None = None
    temperature_celsius: float | None = None


@dataclass(frozen=True, slots=True)
class TransportEvent(Event):
    """A vessel arrived (ARRI) or departed (DEPA) at a transport call."""

    event_type: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentEvent(Event):
    """A document changed status (DCSA shipmentEventTypeCode: RECE, DRFT, CONF, APPR, ISSU, VOID...)."""

    event_type: str = ""
    document_type: str = ""
    document_id: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class IotEvent(Event):
    """A container sensor reported something (DCSA IOT: DETC, with an iotEventCode such as DRC)."""

    event_type: str = ""
    container_number: str = ""
    iot_code: str = ""


@dataclass(frozen=True, slots=True)
class ReeferEvent(Event):
    """A reefer container was measured or adjusted (MEAS, ADJU...): setpoint and readings in °C."""

    event_type: str = ""
    container_number: str = ""
    setpoint_celsius: float | None = None
    ambient_celsius: float | None = None
    probe_celsius: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Retraction:
    """The publisher withdrew an earlier event (DCSA retractedEventID; an EDIFACT move report
    sent as a cancellation or deletion). ``untimed_move``, for an EDIFACT cancellation of a move
    that gives no time of its own (dated by its message, whose date the cancellation's does not
    repeat): (container number, move: LOAD/DISC/GTIN/GTOT, UN/LOCODE, voyage, the document
    references it names), which identifies the move withdrawn when ``retracted_event_id``
    matches none."""

    event_id: str
    retracted_event_id: str
    created_time: datetime | None
    source: str = ""
    untimed_move: tuple[str, str, str, str, tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class ReportReplaced:
    """A sender replaced an earlier report (UN/EDIFACT BGM message function 5, "replace", UNCL
    1225): the moves or stowage positions that earlier messages of the same report stated (the
    same message type and BGM document number, 1004) and this message does not repeat are
    withdrawn. ``event_id``: what marks them withdrawn (:func:`replaced_mark`); ``kept``: the
    ids of the events this message states; ``created_time``: its message date (UTC);
    ``spared``: container numbers whose groups this message states but that could not be read
    (what the report said of them stays)."""

    event_id: str
    message_type: str
    report: str
    kept: frozenset[str]
    created_time: datetime | None
    source: str = ""
    spared: frozenset[str] = frozenset()


def replaced_mark(message_type: str, report: str, created_time: datetime | None) -> str:
    """The ``retracted_by`` of what a :class:`ReportReplaced` withdraws: ``replaced:CODECO:GO0031:
    2026-02-16T16:00:00+00:00`` (at most 100 characters)."""
    return f"replaced:{message_type}:{report}:{created_time.isoformat() if created_time else ''}"[:100]


@dataclass(frozen=True, slots=True)
class VesselPosition:
    """Where a vessel was: WGS 84 ``latitude``/``longitude`` in degrees, ``speed_knots`` over
    ground, ``course_deg`` over ground, ``heading_deg``, ``nav_status`` (ITU-R M.1371 text,
    e.g. "At anchor"), at ``observed_at`` (UTC; None when the feed gave no time).

    The vessel is known by ``mmsi`` (9 digits) or, in feeds keyed otherwise, by ``vessel_id``
    (the feed's own identifier). ``fact_key`` identifies the fact for de-duplication.
    """

    mmsi: str
    observed_at: datetime | None
    latitude: float
    longitude: float
    speed_knots: float | None = None
    course_deg: float | None = None
    heading_deg: float | None = None
    nav_status: str = ""
    vessel_id: str = ""
    fact_key: str = ""
    source: str = ""
    flags: tuple[Flag, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class VesselSighting:
    """Static data a vessel broadcast (AIS message 5 or 24): who it says it is."""

    mmsi: str
    vessel: Vessel
    observed_at: datetime | None = None
    source: str = ""
    flags: tuple[Flag, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class MmsiSpan:
    """An MMSI speaking for one vessel (IMO) from ``since`` until ``until`` (UTC; None: open)."""

    mmsi: str
    since: datetime | None = None
    until: datetime | None = None

    def holds(self, at: datetime) -> bool:
        """Whether a position observed ``at`` (UTC) is this vessel's."""
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)


#: How far apart two receptions of one AIS position report may be stamped by their receivers: the
#: report carries its UTC second, so the same report again within this window is the same
#: transmission, not a new one (read in a file, and against stored positions).
HEARD_AGAIN_WITHIN = timedelta(seconds=30)


def mmsi_spans(sightings: list[tuple[str, str, datetime | None]]) -> dict[str, list[MmsiSpan]]:
    """IMO → the spans its MMSIs spoke for it, from static data sightings (MMSI, IMO, observed
    at UTC or None: unknown, taken as earliest). An MMSI that names another IMO stops speaking
    for a vessel only when that vessel is seen on another MMSI since it took this one
    (:func:`_moved`: it moved, and its old MMSI was re-assigned or taken over; a maritime
    review's positions of the new holder filled the vessel's track and hid its silence);
    otherwise it keeps speaking for it (a regression review's one mistyped static message,
    corrected at once, cut the vessel's track: a repeated identity is stored once, so the
    correction is not seen again). The other IMO's span starts at its first sighting.
    Sightings naming no IMO say nothing."""
    out: dict[str, list[MmsiSpan]] = {}
    by_mmsi: dict[str, list[tuple[datetime | None, str]]] = {}
    seen_on: dict[str, list[tuple[str, datetime | None]]] = {}  # IMO -> (MMSI, when) of its sightings
    for mmsi, imo, at in sightings:
        if imo:
            by_mmsi.setdefault(mmsi, []).append((at, imo))
            seen_on.setdefault(imo, []).append((mmsi, at))
    for mmsi, seen in by_mmsi.items():
        seen.sort(key=lambda s: (s[0] is not None, s[0] or datetime.min, s[1]))
        runs: list[tuple[str, datetime | None]] = []  # (IMO, first seen) per run of one IMO
        for at, imo in seen:
            if not runs or runs[-1][0] != imo:
                runs.append((imo, at))
        for i, (imo, at) in enumerate(runs):
            until = runs[i + 1][1] if i + 1 < len(runs) and _moved(seen_on[imo], mmsi, at) else None
            out.setdefault(imo, []).append(MmsiSpan(mmsi, at if i else None, until))
    return out


def _moved(sightings: list[tuple[str, datetime | None]], mmsi: str, since: datetime | None) -> bool:
    """Whether a vessel's ``sightings`` (MMSI, when) show it on another MMSI than ``mmsi`` at or
    after ``since`` (UTC; None: ever), when it took ``mmsi``: an MMSI it left before (a regression
    review's vessel re-flagged years ago) says nothing of a later typo."""
    return any(other != mmsi and at is not None and (since is None or at >= since) for other, at in sightings)


@dataclass(frozen=True, slots=True)
class StowagePosition(Event):
    """A container in a vessel's bay plan (BAPLIE: on board at departure) or stowage
    instruction (MOVINS: planned): cell (ISO 9711 bay-row-tier), ports, masses in kg."""

    event_type: str = ""  # BAPLIE or MOVINS
    container_number: str = ""
    iso_equipment_code: str = ""
    empty: bool | None = None
    stowage_cell: str = ""
    port_of_loading: str = ""
    port_of_discharge: str = ""
    gross_mass_kg: float | None = None
    verified_gross_mass_kg: float | None = None
    temperature_celsius: float | None = None
    seals: tuple[Seal, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusEvent(Event):
    """A container status from an IFTSTA report: UN/EDIFACT status code and its text."""

    event_type: str = ""
    container_number: str = ""
    status_text: str = ""


@dataclass(frozen=True, slots=True)
class ShippingParty:
    """A party on a transport document or cargo report: ``role`` (shipper, consignee, notify
    party, carrier, ...), name, identifier as given (SCAC, EORI, ...), address, country."""

    role: str
    name: str = ""
    identifier: str = ""
    address: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class GoodsItem:
    """Goods on a consignment: HS code (digits), description, packages, gross mass in kg, and
    the containers they are packed in as the document places them (DCSA cargo items'
    ``equipmentReference``, UN/EDIFACT SGP; ISO 6346 numbers as the document's containers are
    written): none said, in any of the document's containers (:func:`goods_in`)."""

    hs_code: str = ""
    description: str = ""
    packages: int | None = None
    gross_mass_kg: float | None = None
    containers: tuple[str, ...] = ()


def goods_in(goods: Iterable[Mapping[str, Any]], number: str, listed: Iterable[str]) -> list[Mapping[str, Any]]:
    """The goods items of a stored document version (dicts, as :class:`GoodsItem` is stored)
    that may be in container ``number``: those placed in it, and those placed in none of the
    document's ``listed`` containers (placed nowhere said, as a document stored before goods
    were placed; or only in a box the document does not list, a typing error that would take
    the goods out of every box's targeting: a regression review's arms). A document listing no
    box: the boxes its goods name stand for its list (a fifth regression review's arms went to
    the other box), and a box they do not name may hold any of them (a sixth's, named by a typo,
    were in no box). A CLI review: a two-box eBL's shoes and iron were both shown, and scored,
    for each box."""
    boxes = set(listed)
    if not boxes:  # the document lists none: the boxes its goods name stand for its list
        boxes = {c for g in goods for c in g.get("containers") or ()}
        if number not in boxes:  # nothing is placed in this box: any of the goods may be in it
            return list(goods)
    out = []
    for g in goods:
        placed = [c for c in g.get("containers") or () if c in boxes]
        if not placed or number in placed:
            out.append(g)
    return out


@dataclass(frozen=True, slots=True)
class Consignment:
    """Goods moved under one transport document: bill of lading (master or house), booking,
    parties, goods, containers with their seals, ports, vessel and voyage."""

    bill_of_lading: str
    kind: str = "master"  # master or house
    booking_ref: str = ""
    document_type: str = "TRD"  # TRD transport document, SHI shipping instructions, BKG booking, ARN arrival notice
    status: str = ""  # as the carrier states it: DRAFT, APPROVED, ISSUED, CONFIRMED, RECEIVED...
    to_order: bool | None = None  # a negotiable "to order" bill of lading
    freight_payment: str = ""  # PRE prepaid, COL collect
    carrier_code: str = ""  # SMDG liner code or SCAC of the carrier that issued the document
    parties: tuple[ShippingParty, ...] = ()
    goods: tuple[GoodsItem, ...] = ()
    containers: tuple[tuple[str, tuple[Seal, ...]], ...] = ()
    port_of_loading: str = ""
    port_of_discharge: str = ""
    vessel: Vessel | None = None
    voyage: str = ""
    #: The document's other vessel voyages, each once, in the order it gives them (``voyage`` is
    #: the first): DCSA eBL 3.0 lets ``transports.vesselVoyages`` list several, e.g. the first
    #: sea-going vessel (a feeder to the transshipment hub) and then the mother vessel that
    #: discharges at the port of discharge; a DCSA arrival notice's other legs. Moves naming one
    #: of them are placed on the document's trip as moves naming ``voyage`` are
    #: (:func:`scheldt.domain.trips.voyage_documents`).
    other_voyages: tuple[str, ...] = ()
    #: When the document was issued or dated, as its sender states it (UTC): DCSA eBL 3.0
    #: issueDate, else shippedOnBoardDate; DCSA arrival notice issueDateTime; UN/EDIFACT
    #: CUSCAR/IFTMIN DTM+137 (document date). None when not given. Party history counts a
    #: party as seen from here, so that a backfill of old documents does not make every party
    #: look new on the day it was loaded.
    issued_at: datetime | None = None
    source: str = ""
    flags: tuple[Flag, ...] = field(default=())
    #: The same message as a reader read it before a correction of the reader, when that reading
    #: differs: not a fact of the document (no part of its version, not stored), only for the
    #: store to read a version stored so again in place when the message is sent again
    #: (``DocumentRepository._read_again``).
    earlier_reading: Consignment | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VgmDeclaration(Event):
    """A verified gross mass declared for a container (SOLAS VI/2): mass in kg, method (SM1
    weighed packed container, SM2 sum of contents), retracted when the declarer withdrew it."""

    event_type: str = "VGM"
    container_number: str = ""
    verified_gross_mass_kg: float | None = None
    method: str = ""
    retracted: bool = False
    #: The container's tare in kg as the declaration gives it (DCSA VGM 1.0
    #: ``equipmentDetails.tareWeight``), None when not given. The VGM is the packed container,
    #: tare included (SOLAS VI/2); a transport document's cargo gross weight excludes it.
    tare_kg: float | None = None
    #: The carrier the declaration names (DCSA VGM 1.0 ``vesselVoyageDetails.carrierCode``: SCAC
    #: or SMDG liner code, in capitals), None when not given.
    carrier_code: str | None = None
    #: The seals the declaration gives the packed container (DCSA VGM 1.0
    #: ``equipmentDetails.seals``), None when it gives none: a seal other than the documents' is
    #: for an officer to see (a CLI review found them dropped).
    seals: tuple[Seal, ...] | None = None
