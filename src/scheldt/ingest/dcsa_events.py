"""Reader for DCSA Track & Trace events: v2.2 (flat), v3.0-Beta-1 (metadata + payload) and
v3.0 (eventClassification, nested details), as GET /events pages or POST notifications.

``read_dcsa_events(data, source)`` yields domain events (:mod:`scheldt.domain.shipping`) or
:class:`~scheldt.ingest.base.Rejection` per event, with the JSON path as ``where``
(``"<file>$[2]"``, ``"<file>$.events[0]"``). One bad event never loses the others. A container
number or IMO number with a wrong check digit is kept and flagged, not rejected.
"""

from __future__ import annotations

import codecs
import io
import json
import math
import re
import tempfile
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, BinaryIO

import ijson
import orjson

from scheldt.domain.declarations import Flag
from scheldt.domain.identifiers import container_number, imo_number
from scheldt.domain.shipping import (
    DocumentReference,
    EquipmentEvent,
    EquipmentEventType,
    Event,
    EventClassifier,
    IotEvent,
    Location,
    ReeferEvent,
    Retraction,
    Seal,
    ShipmentEvent,
    TransportCall,
    TransportEvent,
    Vessel,
    named_document,
)
from scheldt.domain.units import celsius
from scheldt.ingest.base import (
    HUGE_DIGITS,
    UNDECODED,
    FieldError,
    Rejection,
    first_unlocode,
    has_huge_number,
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
from scheldt.ingest.dcsa_tnt300 import in_known_names

Record = Event | Retraction | Rejection
Json = dict[str, Any]

#: Document types a v2.2 SHIPMENT event may be about (DCSA T&T 2.2 conformance rules).
SHIPMENT_DOCUMENT_TYPES = {"CBR", "BKG", "SHI", "SRM", "TRD"}
EVENT_TYPES = {"SHIPMENT", "TRANSPORT", "EQUIPMENT", "IOT", "REEFER"}


def parse_dcsa_time(raw: Any, field: str) -> datetime:
    """An ISO 8601 date-time with offset (DCSA requires one) as aware UTC; FieldError if not."""
    if raw is None or raw == "":
        raise FieldError(field, f"{field} is missing")
    if not isinstance(raw, str):
        raise FieldError(field, f"{field} is a {type(raw).__name__}, not an ISO 8601 date-time string")
    try:
        ts = iso_datetime(raw)
    except ValueError:
        raise FieldError(field, f"{field} {raw!r} is not an ISO 8601 date-time") from None
    if ts.tzinfo is None:
        raise FieldError(field, f"{field} {raw!r} has no UTC offset")
    return utc_in_range(ts, field, raw)


@dataclass(frozen=True, slots=True)
class NotAList:
    """What a page's ``events`` holds when it is not a list (:func:`_events`)."""

    value: Any

    def why(self) -> str:
        """The sender's error, in JSON's terms."""
        kinds = {dict: "an object", list: "a list", str: "text", bool: "true or false", type(None): "null"}
        kind = kinds.get(type(self.value), "a number")
        return f"events holds {kind}, not a list of events"


def _events(doc: Any) -> Iterator[tuple[str, Any]]:
    """(JSON path, event object) for each event in a page, a notification or a bare list."""
    if isinstance(doc, list):
        for i, item in enumerate(doc):
            yield f"$[{i}]", item
    elif isinstance(doc, dict) and isinstance(doc.get("events"), list):
        for i, item in enumerate(doc["events"]):
            yield f"$.events[{i}]", item
    elif isinstance(doc, dict) and "events" in doc:  # {"events": {...}} was read as nothing at all
        yield "$.events", NotAList(doc["events"])
    else:
        yield "$", doc


def _event_type(obj: Json) -> str | None:
    """The event's type as sent (SHIPMENT, EQUIPMENT ...), None when it gives none as text (a
    property test's list there raised TypeError out of the reader)."""
    try:
        if "eventClassification" in obj:
            kind = (obj["eventClassification"] or {}).get("eventTypeCode")
        elif "metadata" in obj:
            kind = (obj.get("payload") or obj["metadata"]).get("eventType")
        else:
            kind = obj.get("eventType")
    except AttributeError:
        return None
    return kind.strip().upper() if isinstance(kind, str) else None  # "equipment" is EQUIPMENT, as codes are read


def _float(value: Any) -> float | None:
    """``value`` as a float, or None when it is none or not a number (an integer too large for
    a float too: a review's latitude of 1 and 400 zeros rejected its whole event)."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):
        return None


def _vessel(v: Json | None) -> tuple[Vessel | None, list[Any]]:
    if not v:
        return None, []
    imo, flag = imo_number(v.get("vesselIMONumber"))
    vessel = Vessel(
        imo=imo,
        call_sign=v.get("vesselCallSignNumber") or v.get("vesselCallSign") or v.get("callSign") or "",
        name=v.get("vesselName") or v.get("name") or "",
        flag=v.get("vesselFlag") or v.get("flag") or "",
    )
    return vessel, [flag] if flag else []


def _voyage(tc: Json, flat: str, nested: str) -> str:
    return tc.get(flat) or tc.get("carrier" + flat[0].upper() + flat[1:]) or voyage_reference(tc.get(nested))


def _transport_call(tc: Json | None) -> tuple[TransportCall | None, list[Any]]:
    if not tc:
        return None, []
    vessel, flags = _vessel(tc.get("vessel") or tc.get("vesselTransport"))
    location = tc.get("location") or {}
    service = tc.get("carrierServiceCode") or (tc.get("serviceCodeOrReference") or {}).get("carrierServiceCode") or ""
    call = TransportCall(
        unlocode=first_unlocode(tc.get("UNLocationCode"), location.get("UNLocationCode"),
                                field="transportCall.UNLocationCode"),
        facility_code=owner_code(tc.get("facilityCode") or location.get("facilityCode")),
        reference=tc.get("transportCallReference") or tc.get("transportCallID") or "",
        sequence=sequence_number(tc.get("transportCallSequenceNumber")),
        carrier_service=service,
        export_voyage=_voyage(tc, "exportVoyageNumber", "exportVoyageNumberOrReference"),
        import_voyage=_voyage(tc, "importVoyageNumber", "importVoyageNumberOrReference"),
        mode_of_transport=tc.get("modeOfTransport") or "",
        vessel=vessel,
    )
    return call, flags


def _location(loc: Json | None, flags: list[Flag]) -> Location | None:
    """An event's location; coordinates outside WGS 84 ranges (or not numbers) are flagged and
    left out, the rest of the location kept."""
    if not loc:
        return None
    if not isinstance(loc, dict):
        raise FieldError("eventLocation", f"eventLocation is a {type(loc).__name__}, not an object")
    geo = loc.get("geoCoordinate") or loc
    lat = None if geo.get("latitude") is None else _float(geo.get("latitude"))
    lon = None if geo.get("longitude") is None else _float(geo.get("longitude"))
    # given (a value that does not read as a number too: an ingest review's "abc" was dropped unsaid)
    given = any(geo.get(k) not in (None, "") for k in ("latitude", "longitude"))
    if given and not (lat is not None and lon is not None and math.isfinite(lat)
                      and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
        flags.append(Flag("eventLocation.latitude", "implausible-position",
                          f"coordinates {str(geo.get('latitude'))[:20]}, {str(geo.get('longitude'))[:20]} are not "
                          "a WGS 84 position; not used"))
        lat = lon = None
    code = loc.get("UNLocationCode")
    if type(code) is not str:  # None, or not a string: as first_unlocode says
        code = first_unlocode(code, field="eventLocation.UNLocationCode")
    facility, name = loc.get("facilityCode"), loc.get("locationName") or ""
    if _shareable(code, facility, name, lat, lon):
        return _place(code, facility, name, lat, lon)
    return Location(code, owner_code(facility), name, lat, lon)


#: The longest text of a place kept in :func:`_place`'s memory (a port's code or a terminal's
#: name; a longer one is built each time: a regression review's 2,000 names of 50 KB each stayed
#: in memory after the ingest).
SHARED_PLACE_TEXT = 256


def _shareable(code: str, facility: Any, name: Any, lat: float | None, lon: float | None) -> bool:
    """Whether a place can be :func:`_place`'s: texts (or no facility) of at most
    :data:`SHARED_PLACE_TEXT` characters together, and no coordinate -0.0 (equal to 0.0 as a key, but
    written "-0.0" in the facts' digest: a regression review's re-sent event was quarantined)."""
    if type(code) is not str or type(name) is not str or (facility is not None and type(facility) is not str):
        return False
    if len(code) + len(name) + (len(facility) if facility else 0) > SHARED_PLACE_TEXT:
        return False
    negative_zero = (lat == 0 and math.copysign(1.0, lat) < 0  # type: ignore[arg-type]
                     or lon == 0 and math.copysign(1.0, lon) < 0)  # type: ignore[arg-type]
    return not negative_zero


@lru_cache(maxsize=4096)
def _place(code: str, facility: str | None, name: str, lat: float | None, lon: float | None) -> Location:
    """One shared Location for each place a file names (a few ports and terminals recur in
    every event); ``facility`` as sent, read by :func:`owner_code`; only what
    :func:`_shareable` allows."""
    return Location(code, owner_code(facility), name, lat, lon)


_DOCUMENT_KEYS = frozenset({"documentReferences", "relatedDocumentReferences", "shipmentDetails"})


def _documents(obj: Json) -> tuple[DocumentReference, ...]:
    if _DOCUMENT_KEYS.isdisjoint(obj):
        return ()
    refs: list[DocumentReference] = []
    for r in obj.get("documentReferences") or []:
        refs.append(DocumentReference(r.get("documentReferenceType", ""), trimmed(r.get("documentReferenceValue", ""))))
    for r in obj.get("relatedDocumentReferences") or []:
        refs.append(DocumentReference(r.get("type", ""), trimmed(r.get("value", ""))))
    details = obj.get("shipmentDetails") or {}
    for r in [details.get("documentReference"), *(details.get("additionalDocumentReferences") or [])]:
        if r:
            refs.append(DocumentReference(r.get("typeCode", ""), trimmed(r.get("reference", ""))))
    return tuple(dict.fromkeys(refs))


def _seals(items: list[Json] | None) -> tuple[Seal, ...]:
    if not items:
        return ()
    return tuple(
        Seal(s.get("sealNumber") or s.get("number") or "", s.get("sealSource") or s.get("source") or "",
             s.get("sealType") or s.get("type") or "")
        for s in items
    )


def _flat(obj: Json) -> tuple[Json, Json]:
    """Merge the v3.0-Beta-1 metadata + payload into one flat (v2.2-like) object."""
    if "metadata" in obj:
        meta, payload = obj["metadata"], obj.get("payload", {})
        for name, part in (("metadata", meta), ("payload", payload)):
            if not isinstance(part, dict):  # a fuzz review's null metadata stopped the whole ingest
                raise FieldError(name, f"{name} is {json_kind(part)}, not an object")
        return {**payload, **meta}, meta
    return obj, obj


def _event(obj: Json, flat: Json, meta: Json, kind: str, event_id: str, where: str, strict_uuid: bool) -> Record:
    """The domain record of one event object of type ``kind``; ``flat``/``meta`` as :func:`_flat`
    gives them. Raises FieldError, or AttributeError/TypeError/... on a broken structure."""
    if "metadata" in obj and meta.get("retractedEventID") and "payload" not in obj:
        created = parse_dcsa_time(meta.get("eventCreatedDateTime"), "eventCreatedDateTime")
        return Retraction(event_id, meta["retractedEventID"], created, where)
    if obj.get("isRetracted") is True:  # DCSA T&T 3.0: the event sent again, withdrawn by its publisher
        field = "eventUpdatedDateTime" if flat.get("eventUpdatedDateTime") else "eventCreatedDateTime"
        created = parse_dcsa_time(flat[field], field) if flat.get(field) else None
        return Retraction(f"isRetracted:{event_id}"[:100], event_id, created, where)
    classification = obj.get("eventClassification") or {}
    flags: list[Flag] = []
    classifier = _code(classification.get("eventClassifierCode") or flat.get("eventClassifierCode") or "",
                       "eventClassifierCode", _CLASSIFIERS, flags)
    if not classifier:  # kept, but never counted as a move that happened (indicators read ACT only)
        flags.append(Flag("eventClassifierCode", "no-classifier", "eventClassifierCode is missing: the event is "
                          "kept, but not counted as one that happened (ACT), planned (PLN) or estimated (EST)"))
    raw_time = flat.get("eventDateTime")
    event_time = parse_dcsa_time(raw_time, "eventDateTime")
    # v2.2 and v3.0-Beta-1 say when the event was made, v3.0 when it was last updated; a bad
    # value is blamed on the field the sender wrote (an ingest review's v3.0 file was told of
    # an eventCreatedDateTime it did not hold)
    created_field = "eventCreatedDateTime" if flat.get("eventCreatedDateTime") else "eventUpdatedDateTime"
    created_raw = flat.get(created_field)
    updated = created_field == "eventUpdatedDateTime" and bool(created_raw)  # an update is a version of its own
    created = (event_time if created_raw == raw_time else parse_dcsa_time(created_raw, created_field)
               ) if created_raw else None
    call, call_flags = (_transport_call(flat.get("transportCall") or (obj.get("transportDetails") or {}).get(
        "transportCall")) if "transportCall" in flat or "transportDetails" in obj else (None, []))
    equipment = obj.get("equipmentDetails") or flat
    # Event's fields in order (event_id ... source); flags follow
    flags = [*flags, *call_flags]
    common = (event_id, classifier, event_time, created,
              _location(flat.get("eventLocation") or (flat.get("transportCall") or {}).get("location"), flags),
              call, _documents(flat), where)
    if kind in ("EQUIPMENT", "IOT", "REEFER"):
        raw_number = equipment.get("equipmentReference") or ""
        if not isinstance(raw_number, str):
            raise FieldError("equipmentReference", f"equipmentReference {str(raw_number)[:20]} is "
                                                   f"{type(raw_number).__name__.replace('int', 'a number')}, not a text")
        if not raw_number.strip():  # no trip to put it on: an ingest review's null one was stored, then
            # blocked the corrected event sent with the same eventID
            raise FieldError("equipmentReference", f"the {kind} event names no container (equipmentReference): "
                                                   "it belongs on no container trip")
        number, flag = container_number(raw_number)
        if flag:
            flags.append(flag)
    if kind == "EQUIPMENT":
        code = _code(classification.get("equipmentEventTypeCode") or flat.get("equipmentEventTypeCode") or "",
                     "equipmentEventTypeCode", _EQUIPMENT_CODES, flags)
        empty = _empty(equipment.get("emptyIndicatorCode") or flat.get("emptyIndicatorCode"), flags)
        return EquipmentEvent(*common, tuple(flags), updated, code, number, equipment.get("ISOEquipmentCode") or "",
                              empty, _seals(equipment.get("seals") or flat.get("seals")))
    if kind == "TRANSPORT":
        code = _code(classification.get("transportEventTypeCode") or flat.get("transportEventTypeCode") or "",
                     "transportEventTypeCode", _TRANSPORT_CODES, flags)
        return TransportEvent(*common, tuple(flags), updated, code)
    if kind == "SHIPMENT":
        code = classification.get("shipmentEventTypeCode") or flat.get("shipmentEventTypeCode") or ""
        doc_type = flat.get("documentTypeCode") or ""
        if strict_uuid and doc_type and doc_type not in SHIPMENT_DOCUMENT_TYPES:
            raise FieldError("documentTypeCode", f"documentTypeCode {doc_type!r} is not allowed on a SHIPMENT "
                              f"event (allowed: {', '.join(sorted(SHIPMENT_DOCUMENT_TYPES))})")
        document_id = flat.get("documentID") or ""
        named = named_document(doc_type, document_id)
        if named is not None and named not in common[6]:
            common = (*common[:6], (*common[6], named), common[7])
        return ShipmentEvent(*common, tuple(flags), updated, event_type=code, document_type=doc_type,
                             document_id=document_id, reason=flat.get("reason") or "")
    if kind == "IOT":
        code = classification.get("iotEventTypeCode") or flat.get("iotEventTypeCode") or ""
        return IotEvent(*common, tuple(flags), updated, event_type=code, container_number=number,
                        iot_code=(obj.get("iotDetails") or {}).get("iotEventCode") or "")
    reefer = obj.get("reeferDetails") or {}
    code = classification.get("reeferEventTypeCode") or flat.get("reeferEventTypeCode") or ""
    unit = str(reefer.get("temperatureUnit") or "CEL")

    def conv(value: Any, field: str) -> float | None:
        c, flag = celsius(value, unit, field)
        if flag is not None:
            flags.append(flag)
        return c
    setpoint = conv(reefer.get("internalSetpointTemperature"), "internalSetpointTemperature")
    ambient = conv(reefer.get("ambientMeasuredTemperature"), "ambientMeasuredTemperature")
    probes = tuple(c for p in reefer.get("temperatureProbeMeasurements") or []
                   if (c := conv(p.get("measuredTemperatureValue"), "measuredTemperatureValue")) is not None)
    return ReeferEvent(*common, tuple(flags), updated, event_type=code, container_number=number,
                       setpoint_celsius=setpoint, ambient_celsius=ambient, probe_celsius=probes)


_CLASSIFIERS = frozenset(c.value for c in EventClassifier)
_EQUIPMENT_CODES = frozenset(c.value for c in EquipmentEventType)
#: DCSA transportEventTypeCode (Track & Trace 2.2 and 3.0): arrival, departure.
_TRANSPORT_CODES = frozenset({"ARRI", "DEPA"})


def _code(raw: Any, field: str, known: frozenset[str], flags: list[Flag]) -> Any:
    """A DCSA code read in capitals without surrounding spaces (``disc`` is DISC: indicators key
    on DISC, and an attack review's lower-case one slipped past them); a code outside the DCSA
    list is kept as sent and flagged. Raises FieldError for a value that is not text (a list, a
    number), here where the event is still at hand as received, so its quarantine record keeps
    it (an ingest review's ``["LOAD"]``, refused by the store, was quarantined without it)."""
    if raw is not None and not isinstance(raw, str):
        raise FieldError(field, f"{field} is a {type(raw).__name__} ({str(raw)[:40]}), not a DCSA code (text)")
    if not raw:
        return raw
    code = owner_code(raw)
    if code not in known:
        flags.append(Flag(field, "unknown-code", f"{field} {raw[:20]!r} is not a DCSA code "
                          f"({', '.join(sorted(known))})"))
    return code


#: DCSA emptyIndicatorCode values (Track & Trace 2.2 and 3.0).
_EMPTY_CODES = {"EMPTY": True, "LADEN": False}


def _empty(raw: Any, flags: list[Flag]) -> bool | None:
    """True for EMPTY, False for LADEN, None when absent; any other value is flagged and left
    unknown (never read as laden: an empty box that is not empty is a smuggling pattern)."""
    if raw is None or raw == "":
        return None
    empty = _EMPTY_CODES.get(str(raw).strip().upper())
    if empty is None:
        flags.append(Flag("emptyIndicatorCode", "unknown-code", f"emptyIndicatorCode {str(raw)[:20]!r} is neither "
                          "EMPTY nor LADEN; whether the box is empty is left unknown"))
    return empty


#: The DCSA Track & Trace field (2.2 names; 3.0 nests most of them under the same name, and
#: calls documentReferenceValue documentReference.reference) whose value goes to each
#: store column of an event, so that a value the store cannot keep (a number where text
#: belongs, a NUL, an over-long text; see ``scheldt.store.events.unstorable``) is reported
#: under the name its sender used (:func:`in_dcsa_terms`).
STORE_FIELDS = {
    "event_id": "eventID", "classifier": "eventClassifierCode", "container_number": "equipmentReference",
    "booking_ref": "documentReferenceValue", "transport_document_ref": "documentReferenceValue",
    "unlocode": "UNLocationCode", "facility_code": "facilityCode", "vessel_imo": "vesselIMONumber",
    "vessel_name": "vesselName", "export_voyage": "exportVoyageNumber", "import_voyage": "importVoyageNumber",
}


def in_dcsa_terms(rejection: Rejection) -> Rejection:
    """``rejection`` of a DCSA event by the store, its field named as DCSA names it: field
    ``classifier``, why "classifier is float 1.5, not text" become ``eventClassifierCode``,
    "eventClassifierCode is float 1.5, not text (stored as classifier)". Others unchanged."""
    name = STORE_FIELDS.get(rejection.field)
    if name is None:
        return rejection
    why = rejection.why
    if why.startswith(rejection.field + " "):
        why = f"{name}{why[len(rejection.field):]} (stored as {rejection.field})"
    return Rejection(rejection.where, name, why, rejection.raw)


#: How many recent event ids a document is checked against for duplicates; older repeats are
#: caught by the store (same facts: nothing added; other facts: quarantined as a clash).
RECENT_IDS = 50_000


def _stream(fh: BinaryIO, source: str, array: list[str] | None = None) -> Iterator[tuple[str, Any]]:
    """(JSON path, event) pairs read incrementally so large pages stay in bounded memory.

    Pieces of the events array are parsed by orjson (:func:`_pieces`, three times faster than
    ijson's item builder); whatever that does not read plainly (broken or cut-off JSON, numbers
    beyond 64 bits, keys after the array...) is read by ijson from the start of the file, the
    events already given skipped, so the result is what ijson alone gives. A document of
    another shape (a notification, a page whose first key is not ``events``) is read whole;
    when it breaks off, its ``events`` array is read by ijson up to the break (a review lost
    every event of a cut page that began with ``"page"``). ``array``, when given, receives the
    path of the events array's items once known (``$[`` or ``$.events[``)."""
    head = fh.read(1 << 16)
    fh.seek(0)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"[":
        path, page = "$[", False
    elif start == b"{" and re.search(rb'^\s*(\xef\xbb\xbf)?\s*\{\s*"events"\s*:\s*\[', head):
        path, page = "$.events[", True
    else:
        try:
            doc = json.loads(fh.read().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if start != b"{":
                raise
            fh.seek(0)
            if head.startswith(b"\xef\xbb\xbf"):
                fh.read(3)
            if array is not None and b'"events"' in head:  # else a notification: it breaks at "$"
                array[:] = ["$.events["]
            for i, obj in enumerate(bounded_items(fh, True)):  # raises at the break
                yield f"$.events[{i}]", obj if isinstance(obj, TooDeep) else plain_numbers(obj)
            raise
        yield from _events(doc)
        return
    if array is not None:
        array[:] = [path]
    given = 0
    try:
        for obj in _pieces(fh, page):
            yield f"{path}{given}]", obj
            given += 1
        return
    except _NotPlain:
        pass
    fh.seek(0)
    if head.startswith(b"\xef\xbb\xbf"):
        fh.read(3)
    for i, obj in enumerate(bounded_items(fh, page)):
        if i >= given:
            yield f"{path}{i}]", obj if isinstance(obj, TooDeep) else plain_numbers(obj)


#: Deepest nesting an event may have below the events array (DCSA events nest a few levels).
MAX_EVENT_DEPTH = 64


@dataclass(frozen=True)
class TooDeep:
    """An item of the events array nested deeper than :data:`MAX_EVENT_DEPTH` levels (not built)."""

    depth: int

    def why(self) -> str:
        """The sender's error."""
        return f"nested more than {self.depth} levels deep (a DCSA event nests a few); not read"


def bounded_items(fh: BinaryIO, page: bool) -> Iterator[Any]:
    """The items of the document's events array (``page``: the root object's ``events``; else
    the root array), as ijson reads them, but never building one nested deeper than
    :data:`MAX_EVENT_DEPTH`: that one is a :class:`TooDeep`. ijson's own item builder tracks
    each value's full path: an attack review's 280 KB event nested 100,000 levels deep took
    23 GB before the kernel killed the process. Raises ijson.JSONError for broken JSON."""
    stack: list[str] = []  # "map", "array" or "events" (the events array) per open container
    key: str | None = None  # the root object's current key
    builder: ijson.ObjectBuilder | None = None
    depth = 0  # inside an item: containers open in it
    deepest = False
    for event, value in ijson.basic_parse(fh):
        if builder is not None or deepest:  # inside an item
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_EVENT_DEPTH and not deepest:
                    builder, deepest = None, True
            elif event in ("end_map", "end_array"):
                depth -= 1
            if builder is not None:
                builder.event(event, value)
            if depth == 0:
                yield TooDeep(MAX_EVENT_DEPTH) if deepest else builder.value  # type: ignore[union-attr]
                builder, deepest = None, False
            continue
        if stack and stack[-1] == "events" and event != "end_array":  # an item begins
            if event in ("start_map", "start_array"):
                builder, depth = ijson.ObjectBuilder(), 1
                builder.event(event, value)
            else:
                yield value
            continue
        if event == "start_map":
            stack.append("map")
        elif event == "start_array":
            is_events = (not stack and not page) or (page and stack == ["map"] and key == "events")
            stack.append("events" if is_events else "array")
        elif event in ("end_map", "end_array"):
            stack.pop()
        elif event == "map_key" and stack == ["map"]:
            key = value


def plain_numbers(value: Any, depth: int = 0) -> Any:
    """``value`` (as ijson builds it) with every Decimal made a float, or its text when no
    float holds it (1e400): one such number is then a field error of its event, where ijson's
    own float conversion stopped the whole document at it (an attack review). Below 64 levels
    of nesting values are left as they are (no DCSA event nests that deep; it is rejected)."""
    if isinstance(value, Decimal):
        f = float(value)
        return f if math.isfinite(f) else str(value)
    if depth > 64:
        return value
    if isinstance(value, dict):
        return {k: plain_numbers(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v, depth + 1) for v in value]
    return value


class _NotPlain(Exception):
    """The document is not one plain events array: read it with ijson."""


#: Bytes read at a time by :func:`_pieces`, and the most it holds before giving up on a piece.
PIECE_BYTES = 1 << 18
MAX_PIECE_BYTES = 1 << 24
_OPENING = {True: re.compile(rb'(\xef\xbb\xbf)?\s*\{\s*"events"\s*:\s*\['), False: re.compile(rb"(\xef\xbb\xbf)?\s*\[")}
_CLOSING = {True: re.compile(rb"(.*)\]\s*\}\s*", re.DOTALL), False: re.compile(rb"(.*)\]\s*", re.DOTALL)}
#: Where one object of an array ends and the next begins (between events, or inside one).
_BETWEEN_OBJECTS = re.compile(rb"\}\s*,\s*\{")


def _pieces(fh: BinaryIO, page: bool) -> Iterator[Any]:
    """The items of a document that is one array of items (``page``: ``{"events": [...]}``,
    else ``[...]``), parsed by orjson a piece at a time. Raises _NotPlain, having yielded only
    items that are certainly the array's first ones, where the document is anything else.

    A piece ends at a ``},{`` boundary. Parsing ``[`` + piece + ``]`` only succeeds when that
    boundary is between two items of the array: a cut inside a string leaves the string open,
    a cut inside an item leaves its brackets open.
    """
    fh.seek(0)
    held = fh.read(PIECE_BYTES)
    opening = _OPENING[page].match(held)
    if opening is None:
        raise _NotPlain
    held = held[opening.end():]
    while more := fh.read(PIECE_BYTES):
        held += more
        for cut in reversed(_last_cuts(held, max(0, len(held) - 2 * PIECE_BYTES))):
            if (items := _array(held[: cut + 1])) is not None:
                yield from items
                held = held[held.index(b",", cut) + 1:]
                break
        else:
            if len(held) > MAX_PIECE_BYTES:
                raise _NotPlain
    closing = _CLOSING[page].fullmatch(held)
    if closing is None or (items := _array(closing.group(1))) is None:
        raise _NotPlain
    yield from items


def _last_cuts(held: bytes, lo: int, most: int = 8) -> list[int]:
    """Where the last ``most`` object boundaries (:data:`_BETWEEN_OBJECTS`) at or after ``lo``
    begin, in order: looked for near the end first, the window widened until enough are found
    or it reaches ``lo`` (boundaries cannot overlap, so a later start finds the same ones)."""
    window = 1 << 12
    while True:
        start = max(lo, len(held) - window)
        cuts = [m.start() for m in _BETWEEN_OBJECTS.finditer(held, start)]
        if len(cuts) >= most or start == lo:
            return cuts[-most:]
        window *= 4


#: A run of digits as long as the largest 64-bit integer: orjson reads such integers as floats
#: where ijson refuses them, so a piece holding one is read by ijson. Found as a run of zeros
#: once every digit is translated to "0" (one C pass and a substring search: a regular
#: expression tried at every digit of a digit-dense page was a third of the ingest time).
_LONG_DIGITS = b"0" * 19
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)


def has_long_digit_run(piece: bytes) -> bool:
    """True when ``piece`` holds 19 or more ASCII digits in a row (anywhere, strings too)."""
    return _LONG_DIGITS in piece.translate(_DIGITS_TO_ZERO)


def without_huge_numbers(fh: BinaryIO) -> BinaryIO:
    """``fh`` (at its start), or, when it holds :data:`~scheldt.ingest.base.HUGE_DIGITS` digits
    in a row, a copy of its bytes through :func:`~scheldt.ingest.base.huge_numbers_as_text`
    (ijson's C parser crashed the process on such an integer: a review's 7.5 KB events file
    took ``scheldt serve`` down). An event then holds the number's text: a field error of that
    event where the field is read, as 1e400 is (:func:`plain_numbers`), the other events read.
    Read in chunks of 1 MiB, the check costs one pass of a byte translation."""
    fh.seek(0)
    tail = b""
    while chunk := fh.read(1 << 20):
        window = tail + chunk
        if has_huge_number(window):
            fh.seek(0)
            return io.BytesIO(huge_numbers_as_text(fh.read()))
        tail = window[-HUGE_DIGITS:]
    fh.seek(0)
    return fh


def _array(piece: bytes) -> list[Any] | None:
    """The items of ``[`` + piece + ``]``, or None when that is not JSON."""
    try:
        if not has_long_digit_run(piece):
            return orjson.loads(b"[" + piece + b"]")
        return [plain_numbers(x) for x in ijson.items(io.BytesIO(b"[" + piece + b"]"), "item")]
    except (orjson.JSONDecodeError, ijson.JSONError, UnicodeDecodeError):
        return None


def read_dcsa_events(data: bytes | BinaryIO, source: str) -> Iterator[Record]:
    """Yield the events of a DCSA Track & Trace JSON document, or a Rejection per bad event.

    ``data`` is the document's bytes or a binary file, read incrementally when it is a list of
    events or an ``{"events": [...]}`` page. v2.2 event ids must be UUIDs (``eventID``, format
    uuid); v3.0 ids are free strings. An id repeated within :data:`RECENT_IDS` events of the same
    document is rejected as a duplicate. Raises nothing: unreadable JSON is one Rejection.
    """
    read: list[str] = []  # the JSON path of the last event read
    array: list[str] = []  # the path of the events array's items, once known
    seen: OrderedDict[str, str] = OrderedDict()
    fh = without_huge_numbers(io.BytesIO(data) if isinstance(data, bytes) else data)

    def tracked(items: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
        for path, obj in items:
            read[:] = [path]
            yield path, obj

    given = 0
    try:
        for record in _check_each(tracked(_stream(fh, source, array)), source, seen):
            given += 1
            yield record
    except (UnicodeDecodeError, json.JSONDecodeError, ijson.JSONError) as exc:
        if _not_utf8(exc) and fh.seekable():
            yield from _mended(fh, source, given, seen)
            return
        yield _broken(source, read[0] if read else "", array[0] if array else "", exc)
    except RecursionError:
        yield Rejection(f"{source}$", "", "not a readable JSON document: nested too deeply")


def _not_utf8(exc: Exception) -> bool:
    """Whether a parser's error is bytes that are not UTF-8 (not a JSON syntax error)."""
    said = exc.args[0] if exc.args else ""
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    return isinstance(exc, UnicodeDecodeError) or "invalid bytes in UTF8" in text or "not valid UTF-8" in text




def _marker(fh: BinaryIO) -> str:
    """A character the document in ``fh`` does not hold, written or escaped, to mark its bad
    bytes while it is mended (:func:`_mended`): the first Unicode noncharacter U+FDD0..U+FDEF it
    lacks (a regression review's event holding a U+FFFD the sender wrote, and then one holding a
    U+FDD0, was rejected with the bad one); U+FFFD when it holds them all. Reads ``fh`` from its
    start in pieces of :data:`MENDED_PIECE_BYTES`, once for each noncharacter it holds and once
    more (checking all 32 in every piece made it 13 times slower: regression review)."""
    for code in range(0xFDD0, 0xFDF0):
        if not _holds(fh, chr(code).encode(), f"\\u{code:04x}".encode()):
            return chr(code)
    return "\ufffd"


def _holds(fh: BinaryIO, raw: bytes, escaped: bytes) -> bool:
    """Whether the document in ``fh`` holds ``raw`` or, in any case, ``escaped`` (lower case)."""
    fh.seek(0)
    tail = b""
    while piece := fh.read(MENDED_PIECE_BYTES):
        held = tail + piece
        if raw in held or escaped in held.lower():
            return True
        tail = held[-8:]  # longer than a marker written (3 bytes) or escaped (6)
    return False


#: How much of a file with bytes that are not UTF-8 is read at a time while it is mended; the
#: mended copy is held in memory up to :data:`MENDED_IN_MEMORY_BYTES`, in a temporary file beyond.
MENDED_PIECE_BYTES = 1 << 24
MENDED_IN_MEMORY_BYTES = 1 << 26


def _mended_copy(fh: BinaryIO, bad: str) -> BinaryIO:
    """The document in ``fh`` as UTF-8, each byte that is not UTF-8 replaced by ``bad``: a
    spooled temporary file, positioned at its start (decoded piece by piece: a character cut
    between two pieces is whole in the copy)."""
    copy = tempfile.SpooledTemporaryFile(max_size=MENDED_IN_MEMORY_BYTES)
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    fh.seek(0)
    while piece := fh.read(MENDED_PIECE_BYTES):
        copy.write(UNDECODED.sub(bad, decoder.decode(piece)).encode("utf-8"))
    copy.write(UNDECODED.sub(bad, decoder.decode(b"", final=True)).encode("utf-8"))
    copy.seek(0)
    return copy  # type: ignore[return-value]


#: Why an event holding bytes that are not UTF-8 is not read.
NOT_UTF8 = ("holds bytes that are not UTF-8 (text in another encoding, such as Latin-1?): this event is not read; "
            "the rest of the file is")


def _mended(fh: BinaryIO, source: str, given: int, seen: OrderedDict[str, str]) -> Iterator[Record]:
    """The rest of a document whose bytes are not all UTF-8, after the ``given`` items already
    read: read whole once more with each bad byte marked (:func:`_marker`), an event holding
    one rejected with its text as received (bad bytes as U+FFFD), the others read (an ingest
    review's Latin-1 "Entrepôt" in one event lost the two valid events after it, counted
    nowhere). The mended copy is a temporary file (:func:`_mended_copy`)."""
    bad = _marker(fh)
    read: list[str] = []
    array: list[str] = []
    try:
        with _mended_copy(fh, bad) as copy:
            yield from _mended_items(copy, source, given, seen, bad, read, array)
    except (json.JSONDecodeError, ijson.JSONError) as exc:
        yield _broken(source, read[0] if read else "", array[0] if array else "", exc)


def _mended_items(copy: BinaryIO, source: str, given: int, seen: OrderedDict[str, str], bad: str, read: list[str],
                  array: list[str]) -> Iterator[Record]:
    """The records of a mended copy after its first ``given`` items (see :func:`_mended`);
    ``read``: the path of the last item read (updated); ``array``: as :func:`_stream` fills it."""
    for i, (path, obj) in enumerate(_stream(copy, source, array)):
        read[:] = [path]
        if i < given:
            continue
        shown = json.dumps(obj, ensure_ascii=False, default=str)
        if bad in shown:
            yield Rejection(f"{source}{path}", "", NOT_UTF8, shown.replace(bad, "\ufffd")[:2000])
            continue
        yield from _check_each([(path, obj)], source, seen)


def _broken(source: str, last: str, array: str, exc: Exception) -> Rejection:
    """The Rejection of a document whose JSON breaks off or is malformed after the event at path
    ``last`` (empty: before any event; ``array``: the path of the events array's items, ``$[``
    or ``$.events[``, empty when unknown): located at the event where it breaks (``$[n]``, the
    events before it kept), with the parser's reason and, for ijson's, the text around the fault
    (ijson's own message spread it over three lines, with an arrow)."""
    said = exc.args[0] if exc.args else ""
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(exc)  # ijson's may be bytes
    lines = [_printable(line.strip()) for line in text.splitlines() if line.strip()]
    reason = lines[0] if lines else type(exc).__name__
    near = " ".join(lines[1].split()) if len(lines) > 2 and "(right here)" in lines[2] else ""
    if near:
        reason += f", near: {near[:120]}"
    match = re.fullmatch(r"(.*\[)(\d+)\]", last)
    if match is not None and _TRAILING.search(text):
        n = int(match.group(2)) + 1
        return Rejection(f"{source}$", "", f"text after the end of the JSON document, after its {n:,} event(s) "
                         f"(read and kept): {reason}")
    if match is not None:
        n = int(match.group(2)) + 1
        return Rejection(f"{source}{match.group(1)}{n}]", "", f"not a JSON document (or it breaks off): it breaks "
                         f"off or is malformed after event {last} ({n:,} event(s) before it read): {reason}")
    if array:
        return Rejection(f"{source}{array}0]", "", "not a JSON document (or it breaks off): it breaks off or is "
                         f"malformed in the first event: {reason}")
    return Rejection(f"{source}$", "", f"not a JSON document (or it breaks off): {reason}")


#: What the JSON parsers say of text after a complete document (ijson/yajl, the json module).
_TRAILING = re.compile(r"trailing garbage|Extra data")


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters, terminal escape
    sequences' ESC) as ``?``: what a sender's broken file says is shown on operators' terminals
    (a review cleared one with an ESC[2J inside the quoted text)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _check_each(items: Iterable[tuple[str, Any]], source: str, seen: OrderedDict[str, str]) -> Iterator[Record]:
    """Each item as an event or a Rejection; ``seen``: the recent event ids (updated)."""
    for path, obj in items:
        try:
            yield _check_one(path, obj, f"{source}{path}", seen)
        except RecursionError:  # an event nested too deeply for Python (attack review: 990 levels lost
            # the rest of the file)
            yield Rejection(f"{source}{path}", "", "nested too deeply to read (a DCSA event nests a few levels)")


def _check_one(path: str, sent: Any, where: str, seen: OrderedDict[str, str]) -> Record:
    """One item of the events array as an event, or a Rejection saying why not; ``seen``: the
    recent event ids (with, for a DCSA T&T 3.0 event, its update time) and where each was
    (updated). A 3.0.0 event is read in the names the rest of the reader knows
    (:func:`scheldt.ingest.dcsa_tnt300.in_known_names`); a rejection keeps it as sent."""
    if isinstance(sent, NotAList):
        return Rejection(where, "events", sent.why())
    if isinstance(sent, TooDeep):
        return Rejection(where, "", sent.why())
    if not isinstance(sent, dict):  # kept as received, so it can be corrected and sent again (ingest review)
        return Rejection(where, "", f"expected an event object, found {type(sent).__name__}",
                         json.dumps(sent, default=str)[:2000])
    obj = in_known_names(sent)
    kind = _event_type(obj)
    # DCSA T&T 3.0.0: "if this flag is true, any event data other than the eventID is irrelevant"
    # (a review's withdrawal naming only its eventID was refused as no DCSA event)
    withdrawn = obj.get("isRetracted") is True and kind not in EVENT_TYPES
    if kind not in EVENT_TYPES and not withdrawn:
        keys = ", ".join(sorted(obj)[:5])
        return Rejection(where, "eventType", f"not a DCSA event: no eventType/eventTypeCode of "
                         f"{sorted(EVENT_TYPES)} (keys: {keys})", json.dumps(sent)[:2000])
    try:
        flat, meta = _flat(obj)
    except FieldError as exc:
        return Rejection(where, exc.field, exc.why, json.dumps(sent, default=str)[:2000])
    v3 = "eventClassification" in obj or "metadata" in obj or withdrawn
    event_id = flat.get("eventID")
    what = f"{kind} event" if kind in EVENT_TYPES else "withdrawal (isRetracted)"
    if event_id is None or event_id == "":
        return Rejection(where, "eventID", f"{what} has no eventID", json.dumps(sent)[:2000])
    if not isinstance(event_id, str):
        return Rejection(where, "eventID", f"eventID {event_id!r} is a {type(event_id).__name__}, not a string",
                         json.dumps(sent)[:2000])
    if not v3 and not _is_uuid(event_id):
        return Rejection(where, "eventID", f"eventID {event_id!r} is not a UUID (DCSA T&T 2.2)",
                         json.dumps(sent)[:2000])
    # DCSA: an id is unique within a response, a repeat is the sender's error; in 3.0 "an event
    # overrides any other event that has the same eventID and an earlier eventUpdatedDateTime", and a
    # publisher's push may hold an event and its later update or withdrawal (a review's was refused)
    key = f"{event_id}\x00{flat.get('eventUpdatedDateTime')}" if v3 and flat.get("eventUpdatedDateTime") else event_id
    if key in seen:
        return Rejection(where, "eventID", f"eventID {event_id} already used by the event at {seen[key]}",
                         json.dumps(sent)[:2000])
    seen[key] = path
    if len(seen) > RECENT_IDS:
        seen.popitem(last=False)
    try:
        return _event(obj, flat, meta, kind, event_id, where, strict_uuid=not v3)
    except FieldError as exc:
        return Rejection(where, exc.field, exc.why, json.dumps(sent)[:2000])
    except (AttributeError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
        field, why = misshapen(obj) or ("", structure_why(exc))
        return Rejection(where, field, f"{kind} event does not have the DCSA structure: {why}",
                         json.dumps(sent, default=str)[:2000])


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return bool(re.fullmatch(r"[0-9a-fA-F-]{36}", value))
