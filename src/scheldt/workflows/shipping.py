"""Ingest carrier and terminal data (DCSA Track & Trace events) and show a container's trips."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from scheldt import reference
from scheldt.domain.access import Organisation, OrgKind
from scheldt.domain.declarations import Flag
from scheldt.domain.facts import fields_dict, json_bytes
from scheldt.domain.identifiers import container_number, unlocode_flag
from scheldt.domain.shipping import (
    MAX_VESSEL_NAME,
    MAX_VOYAGE,
    Consignment,
    Event,
    ReportReplaced,
    Retraction,
    VesselPosition,
    VesselSighting,
)
from scheldt.domain.trips import (
    FUTURE_SLACK,
    VOYAGE_TRACK,
    Trip,
    declarations_of_trip,
    document_may_cover,
    fold_repeats,
    group_shown_trips,
    group_trips,
    is_placeholder_reference,
    on_board_since,
    trip_documents,
    trip_references,
    voyage_documents,
)
from scheldt.errors import InputError, NotFoundError
from scheldt.ingest.ais import AisCsvLayout, AisStats, detect_ais_layout, read_ais_csv, read_nmea
from scheldt.ingest.base import FileReport, Rejection, misfit
from scheldt.ingest.dcsa_documents import read_dcsa_documents
from scheldt.ingest.dcsa_events import in_dcsa_terms, read_dcsa_events
from scheldt.ingest.edifact.messages import read_edifact
from scheldt.ingest.registry import csv_header
from scheldt.workflows.accounts import carrier_owners
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.trip_views import dropped_box

#: Largest Track & Trace JSON document read in one piece (pages and notifications are small).
MAX_JSON_BYTES = 256 * 1024 * 1024


def _refused(record: Any, field: str, why: str) -> Rejection:
    """A refusal of an event or document read from a file (``record``, with its ``source``),
    keeping the record as sent: its facts, not where it was read, which ``where`` says. The
    quarantine shows what was refused, and the same record refused again from any file or
    envelope is kept once (an idempotency review: a terminal's refusals, kept without a record,
    came back with each re-serialised file)."""
    try:
        # not an earlier reader's reading of a document either (a regression review: it named the
        # file, so the same document refused from another file was kept twice)
        sent = json_bytes({k: v for k, v in fields_dict(record).items()
                           if k not in ("source", "earlier_reading")}).decode()[:20_000]
    except (TypeError, ValueError):  # a value JSON cannot write: keyed by where it was, as before
        sent = ""
    return Rejection(record.source, field, why, sent)


def ingest_dcsa_events(uow: UnitOfWork, path: Path, now: datetime, supplied_by: str,
                       format: str = "dcsa-events", label: str = "") -> FileReport:
    """Store the events of a DCSA Track & Trace document or a UN/EDIFACT interchange;
    quarantine what cannot be read.

    Re-sending an event (same publisher event id, or for EDIFACT the same message and
    container, from the same organisation) adds nothing. Retractions (DCSA retractedEventID, an
    EDIFACT move report's cancellation) mark the retracted event and never delete it; one of an
    event the organisation never sent is quarantined, saying so. Transport documents (DCSA
    bookings, shipping instructions, bills of lading, arrival notices; EDIFACT CUSCAR and IFTMIN
    consignments) are kept version by version: an amended document is a new version with its
    received time. ``label`` names the file in every fact's source and rejection (default: its
    path; a file a line sent through the API is ``<organisation>/<file number>/<name>``, not a
    path on the server's disk). A terminal's documents, and its events elsewhere than at its
    facilities, are refused (:func:`_not_from_a_terminal`, :func:`_elsewhere`).
    """
    source = label or str(path)
    report = FileReport(source, format)
    if format != "dcsa-events" and path.stat().st_size > MAX_JSON_BYTES:
        raise InputError(source, f"larger than {MAX_JSON_BYTES // 2**20} MiB: split the file")
    events: list[Event] = []
    documents: list[Consignment] = []
    retractions: list[Retraction | ReportReplaced] = []
    rejections: list[Rejection] = []
    with path.open("rb") as fh:
        if format == "dcsa-events":  # streamed: pages can be large; only events and what is not stored
            stream = _events_only(read_dcsa_events(fh, source), now, report, retractions, rejections)
            supplier = _organisation(uow, supplied_by)
            if supplier is not None and supplier.kind == OrgKind.CARRIER:  # a line's events: its own shipments'
                stream = _own_events(uow, stream, supplier, report, rejections)
            elif supplier is not None and supplier.kind == OrgKind.TERMINAL:  # a terminal's: at its own terminal
                stream = _at_its_terminal(stream, supplier, report, rejections)
                stream = _not_held_elsewhere(uow, stream, supplier, report, rejections)
            added, unstorable = uow.events.add_stream(stream, supplied_by, now)
            report.added += added
            report.accepted -= len(unstorable)
            rejections += map(in_dcsa_terms, unstorable)
        else:
            reader = read_edifact if format == "edifact" else read_dcsa_documents
            for rec in reader(fh.read(), source):
                _sort(rec, now, report, events, documents, retractions, rejections)
                if len(events) >= EVENT_BATCH:
                    _flush(uow, events, documents, report, supplied_by, now, rejections)
            _flush(uow, events, documents, report, supplied_by, now, rejections)
    for r, why in uow.events.retract(retractions, supplied_by, now):
        report.accepted -= 1
        field = "BGM" if format == "edifact" else "retractedEventID"  # an EDIFACT cancellation names no id
        rejections.append(Rejection(r.source, field, why or f"withdraws event {r.retracted_event_id[:100]}, which "
                                    f"{supplied_by} has not sent here: nothing was withdrawn (send it again after "
                                    "the event)"))
    uow.quarantine.add(rejections, format, now, (source, path))
    report.rejected = len(rejections)
    report.rejections = rejections
    return report


#: Events stored per insert while a file streams in.
EVENT_BATCH = 5_000


def _events_only(records: Iterable[object], now: datetime, report: FileReport,
                 retractions: list[Retraction | ReportReplaced],
                 rejections: list[Rejection]) -> Iterator[Event]:
    """The events among ``records`` with their reference flags, counted as accepted; retractions
    and rejections put in their lists (a Track & Trace document holds no transport documents)."""
    for rec in records:
        if isinstance(rec, Event) and (unfit := _unfit_event(rec)) is not None:
            rejections.append(unfit)
        elif isinstance(rec, Event):
            rec = _checked(rec, now)
            report.add_flags(rec.flags, rec.source)
            report.accepted += 1
            yield rec
        else:
            _sort(rec, now, report, [], [], retractions, rejections)


def _sort(rec: object, now: datetime, report: FileReport, events: list[Event], documents: list[Consignment],
          retractions: list[Retraction | ReportReplaced], rejections: list[Rejection]) -> None:
    """Put one record read from a file where it belongs (with its reference flags); one with a
    field of the wrong type is rejected (:func:`_unfit`)."""
    if isinstance(rec, (Consignment, Event, Retraction)) and (unfit := _unfit(rec)) is not None:
        rejections.append(unfit)
    elif isinstance(rec, Consignment):
        rec = _checked(rec, now)
        documents.append(rec)
        report.add_flags(rec.flags, rec.source)
    elif isinstance(rec, Rejection):
        rejections.append(rec)
    elif isinstance(rec, Retraction):
        retractions.append(rec)
        report.accepted += 1
    elif isinstance(rec, ReportReplaced):  # applied with the retractions, once the message's own moves are in
        retractions.append(rec)
        report.accepted += 1  # one stating no move at all withdraws what its report said: read, not empty
    elif isinstance(rec, Event):
        rec = _checked(rec, now)
        events.append(rec)
        report.add_flags(rec.flags, rec.source)


#: The fields of an event that the event store checks itself, as text columns, refusing a value
#: that is not text or holds a NUL in DCSA's terms (:func:`scheldt.ingest.dcsa_events.in_dcsa_terms`;
#: a NUL in a vessel name is left out and said): :func:`_unfit` leaves them to it.
_EVENT_COLUMNS = frozenset({
    "event_id", "event_type", "classifier", "container_number", "documents", "location.unlocode",
    "location.facility_code", "transport_call.unlocode", "transport_call.facility_code", "transport_call.vessel.imo",
    "transport_call.vessel.name", "transport_call.export_voyage", "transport_call.import_voyage"})


def _unfit_event(event: Event) -> Rejection | None:
    """:func:`_unfit` of a streamed Track & Trace event, checking only its texts that are no
    column of the event store (which checks those itself) by hand: the general check cost a
    quarter of the events a second (``benchmarks/ingest_throughput.py``, 200,000 events: about
    31,000 a second without it, 23,000 with it). Its seals, ISO code, place name and the texts of
    its call, vessel and document are copied from the sender's JSON."""
    seals = getattr(event, "seals", None) or ()
    loc, call = event.location, event.transport_call
    vessel = call.vessel if call is not None else None
    texts = [getattr(event, "iso_equipment_code", ""), loc.name if loc is not None else ""]
    if call is not None:
        texts += [call.reference, call.carrier_service, call.mode_of_transport]
    if vessel is not None:
        texts += [vessel.mmsi, vessel.call_sign, vessel.flag]
    for seal in seals:
        texts += [seal.number, seal.source, seal.seal_type]
    if all(type(t) is str for t in texts) and all(type(getattr(event, n, "")) is str for n in _SHIPMENT_TEXTS):
        return None
    return _unfit(event)


#: A shipment, IoT or reefer event's texts copied from the sender's JSON.
_SHIPMENT_TEXTS = ("document_type", "document_id", "reason", "iot_code")


def _unfit(record: Event | Consignment | Retraction) -> Rejection | None:
    """The rejection of a record holding a value of the wrong type (:func:`misfit`: a number or
    a list where text is meant, a NUL character in a document's text), naming the record's
    field; None when every field fits. An event's text columns are left to the event store
    (:data:`_EVENT_COLUMNS`)."""
    found = misfit(record, False, _EVENT_COLUMNS) if isinstance(record, Event) else misfit(record)
    if found is None:
        return None
    field, why = found
    return Rejection(record.source, field, f"{field} {why}")


def _flush(uow: UnitOfWork, events: list[Event], documents: list[Consignment], report: FileReport,
           supplied_by: str, now: datetime, rejections: list[Rejection]) -> None:
    """Store the events and documents gathered so far (those a shipping line may supply, when
    one supplies them: :func:`_about_its_own_documents`, :func:`_of_its_own_carrier`; no
    document when a terminal supplies them: :func:`_not_from_a_terminal`), and empty the lists."""
    supplier = _organisation(uow, supplied_by)
    carrier = supplier if supplier is not None and supplier.kind == OrgKind.CARRIER else None
    mine, events_refused = _about_its_own_documents(uow, events, carrier)
    if supplier is not None and supplier.kind == OrgKind.TERMINAL:
        mine, elsewhere = _partition(mine, lambda e: _elsewhere(e, supplier))
        events_refused += elsewhere
    docs, docs_refused = _not_from_a_terminal(documents, supplier)
    own_docs, not_its_own = _of_its_own_carrier(uow, docs, carrier)
    added, unstorable = uow.events.add(mine, supplied_by, now)
    docs_added, bad_docs = uow.documents.add(own_docs, supplied_by, now)
    report.added += added + docs_added
    report.accepted += len(mine) + len(own_docs) - len(unstorable) - len(bad_docs)
    rejections += unstorable + bad_docs + events_refused + docs_refused + not_its_own
    events.clear()
    documents.clear()


def _own_events(uow: UnitOfWork, stream: Iterable[Event], carrier: Organisation, report: FileReport,
                rejections: list[Rejection], batch: int = 1000) -> Iterator[Event]:
    """The events of ``stream`` a shipping line may supply (:func:`_about_its_own_documents`),
    looked up ``batch`` at a time; the others are counted out of ``report.accepted`` and
    rejected into ``rejections``."""
    def check(chunk: list[Event]) -> tuple[list[Event], list[Rejection]]:
        kept, refused = _about_its_own_documents(uow, chunk, carrier)
        return kept, [in_dcsa_terms(r) for r in refused]
    return _kept_in_batches(stream, check, report, rejections, batch)


#: A batch check of events: those kept, and the rejections of the others.
_Check = Callable[[list[Event]], tuple[list[Event], list[Rejection]]]


def _kept_in_batches(stream: Iterable[Event], check: _Check,
                     report: FileReport, rejections: list[Rejection], batch: int) -> Iterator[Event]:
    """The events of ``stream`` that ``check`` keeps, ``batch`` at a time (``check(events)`` gives
    those kept and the rejections of the others, which are counted out of ``report.accepted``
    and added to ``rejections``): a line's and a terminal's events are checked against the
    store a batch at a time, not one by one and not all at once."""
    chunk: list[Event] = []
    for event in stream:
        chunk.append(event)
        if len(chunk) >= batch:
            yield from _kept(chunk, check, report, rejections)
            chunk = []
    yield from _kept(chunk, check, report, rejections)


def _kept(chunk: list[Event], check: _Check,
          report: FileReport, rejections: list[Rejection]) -> list[Event]:
    kept, refused = check(chunk)
    report.accepted -= len(refused)
    rejections += refused
    return kept


def _organisation(uow: UnitOfWork, supplied_by: str) -> Organisation | None:
    """The supplying organisation, None when no organisation has that id here."""
    try:
        return uow.accounts.organisation(supplied_by)
    except NotFoundError:
        return None


def _at_its_terminal(stream: Iterable[Event], terminal: Organisation, report: FileReport,
                     rejections: list[Rejection]) -> Iterator[Event]:
    """The events of ``stream`` that happened at one of ``terminal``'s facilities
    (:func:`_elsewhere`); the others are counted out of ``report.accepted`` and rejected into
    ``rejections``."""
    for event in stream:
        if refusal := _elsewhere(event, terminal):
            report.accepted -= 1
            rejections.append(refusal)
        else:
            yield event


def _elsewhere(event: Event, terminal: Organisation) -> Rejection | None:
    """The rejection of ``event`` supplied by ``terminal`` when it names no facility of the
    terminal (SMDG terminal code: the event's location, else its transport call's, as the store
    keeps it), else None. A terminal reports the moves at its own quay and gates: its gate-out
    of a box held at another terminal would mark the box gone, and customs could no longer plan
    its scan."""
    location, call = event.location, event.transport_call
    facility = (location.facility_code if location else "") or (call.facility_code if call else "")
    if facility and facility.upper() in terminal.terminal_codes:
        return None
    said = f"happened at facility {facility!r}" if facility else "names no facility (SMDG terminal code)"
    own = ", ".join(terminal.terminal_codes)
    return _refused(event, "facilityCode", f"{said}, not at {terminal.id} ({own}): a terminal supplies the "
                    "moves at its own terminal only")


#: Moves by which a box leaves a terminal's hands: out of the gate, or aboard.
_EXITS = frozenset({"GTOT", "LOAD"})


def _not_held_elsewhere(uow: UnitOfWork, stream: Iterable[Event], terminal: Organisation, report: FileReport,
                        rejections: list[Rejection], batch: int = 1000) -> Iterator[Event]:
    """The events of ``stream`` (a terminal's, at its own facilities) but those that would join
    a trip whose box another terminal holds at their time (:func:`_held_by_another`), counted
    out of ``report.accepted`` and rejected into ``rejections``; looked up ``batch`` at a time."""
    def check(chunk: list[Event]) -> tuple[list[Event], list[Rejection]]:
        refused = _held_by_another(uow, chunk, terminal)
        return [e for e in chunk if id(e) not in refused], [refused[id(e)] for e in chunk if id(e) in refused]
    return _kept_in_batches(stream, check, report, rejections, batch)


def _held_by_another(uow: UnitOfWork, events: list[Event], terminal: Organisation) -> dict[int, Rejection]:
    """The rejections (by ``id(event)``) of a terminal's actual container events that would
    join a trip (grouped as scoring groups them, by the documents they name, else by voyage)
    whose box another terminal holds at the event's time: the trip's latest actual move before
    it was at another facility of the same port (or one of them names no port), and was no exit
    (gate-out, load); at another port, a load there that was never received is the likelier
    story (lines often leave out transshipment moves). A box is in one terminal's
    hands at a time, and the latest land move decides which terminal owns the trip (and reads
    its hold): a carrier-isolation review's terminal reported a gate-in naming the bill of
    lading, then a discharge at its own quay, of a box another terminal had discharged from the
    same call the day before, and took the trip and its hold. A box that left the other
    terminal (a transfer by road: a gate-out there, then a gate-in here) passes, and so does a
    move before the other terminal's. A discharge whose trip's latest move at the port was the
    gate-out after its discharge there is refused too (:func:`_left_after_discharge`): a box
    that left by land is not discharged from a vessel on the same trip (another review's
    terminal reported such a discharge, naming the trip's bill of lading and voyage, of a box
    another terminal had let out, and took the trip and its hold)."""
    loose = [e for e in events if getattr(e, "container_number", "") and e.classifier == "ACT"]
    if not loose:
        return {}
    own = {c.upper() for c in terminal.terminal_codes}
    stored, listed = _box_history(uow, loose)
    out: dict[int, Rejection] = {}
    for e in loose:
        number = e.container_number  # type: ignore[attr-defined]
        row = _grouping_row(e, terminal.id) | _references(e)
        events_of = [r for r in stored.get(number, []) if not r.get("retracted_by")]
        trip = next(t for t in group_trips(number, [*events_of, row], voyage_documents(listed.get(number, ()), number))
                    if any(x is row for x in t.events))
        before = [x for x in trip.events if x is not row and x.get("classifier") == "ACT"
                  and x.get("kind") == "EQUIPMENT" and x["event_time"] <= e.event_time]
        last = max(before, key=lambda x: x["event_time"], default=None)
        facility = str((last or {}).get("facility_code") or "").upper()
        ports = {row["unlocode"], str((last or {}).get("unlocode") or "")}
        if last is None or not (len(ports) == 1 or "" in ports):
            continue
        if facility and facility not in own and last.get("event_type") not in _EXITS:
            out[id(e)] = _refused(e, "facilityCode", f"container {number} is at another terminal at that "
                                  f"time (its last move there, {last.get('event_type')}, was not a gate-out or a "
                                  f"load): {terminal.id} reports the moves of the boxes in its hands")
        elif row["event_type"] == "DISC" and _left_after_discharge(trip, last, ports):
            out[id(e)] = _refused(e, "equipmentEventTypeCode", f"container {number} went out of the gate at "
                                  f"{facility or 'a terminal'} on {last['event_time']:%Y-%m-%d %H:%M} UTC, the last "
                                  "move of its trip at this port: it cannot be discharged from a vessel on that trip "
                                  "after it (a discharge from another call is another trip's, with its own voyage "
                                  "and document)")
    return out


def _left_after_discharge(trip: Trip, last: dict[str, Any], ports: set[str]) -> bool:
    """Whether ``last``, the latest move of ``trip`` before a discharge at ``ports``, is a
    gate-out ending its import there: the trip has a transport document or booking (a box's
    trips without one are told apart by voyage alone, and voyage numbers come round again), and
    was discharged at that port before going out of the gate (an empty released at a depot
    before an export, then railed in loaded, was not)."""
    if last.get("event_type") != "GTOT" or not trip.key.document_ref:
        return False
    return any(x.get("event_type") == "DISC" and x.get("classifier") == "ACT" and x is not last
               and x["event_time"] <= last["event_time"] and (str(x.get("unlocode") or "") in ports or "" in ports)
               for x in trip.events)


def _box_history(uow: UnitOfWork, events: list[Event]) -> tuple[dict[str, list[dict[str, Any]]],
                                                                dict[str, list[dict[str, Any]]]]:
    """What trip grouping reads of the boxes of ``events`` (container events): their stored
    events by container number, and the stored document versions listing each box."""
    numbers = sorted({e.container_number for e in events})  # type: ignore[attr-defined]
    listed: dict[str, list[dict[str, Any]]] = {}
    for d in uow.documents.listing_all_versions(numbers):
        for c in {c.get("number") for c in d.get("containers") or []}:
            listed.setdefault(c, []).append(d)
    return uow.events.for_containers(numbers), listed


def _references(event: Event) -> dict[str, str]:
    """The transport document (TRD, BOL) and booking (BKG, CBR) an event names, as the store
    keeps them (:mod:`scheldt.store.events`)."""
    docs = getattr(event, "documents", ()) or ()
    return {"transport_document_ref": next((d.value for d in docs if d.kind in ("TRD", "BOL")), ""),
            "booking_ref": next((d.value for d in docs if d.kind in ("BKG", "CBR")), "")}


def _not_from_a_terminal(documents: list[Consignment],
                         supplier: Organisation | None) -> tuple[list[Consignment], list[Rejection]]:
    """``documents`` and no rejection, unless a terminal (``supplier`` of kind terminal)
    supplies them: then none, and a rejection of each. A terminal reports the moves of the boxes
    it handles; bills of lading, bookings and cargo reports are the shipping lines' (a terminal
    sending a bill of lading under a line's carrier code would hand that line the trip, and the
    hold notices with it)."""
    if supplier is None or supplier.kind != OrgKind.TERMINAL or not documents:
        return documents, []
    return [], [_refused(d, "transportDocumentReference", f"{supplier.id} is a terminal: it supplies the "
                         "moves of the boxes it handles (events), not transport documents, which come from the "
                         "shipping lines") for d in documents]


def _of_its_own_carrier(uow: UnitOfWork, documents: list[Consignment],
                        carrier: Organisation | None) -> tuple[list[Consignment], list[Rejection]]:
    """``documents`` a shipping line (``carrier``; None: not supplied by one) may supply, and the
    rejections of the others: one naming a carrier code not its own, a version of a document
    whose stored versions name another carrier, or one naming a booking or document reference
    other lines' events named and its own never did. A carrier review's shipping line sent a version
    of another line's bill of lading under its own code: the trip became its own, left the
    customs agency that held it, and the hold notice went to it. Other suppliers' documents pass."""
    if carrier is None or not documents:
        return documents, []
    own = set(carrier.carrier_codes)
    stored = uow.documents.carrier_codes_of([d.bill_of_lading for d in documents])
    lines = {o.id for o in uow.accounts.organisations() if o.kind == OrgKind.CARRIER} - {carrier.id}
    # references other lines' events named and its own never did (a regression review's line sent
    # a bill of lading under its own code naming another line's booking, and took that trip)
    theirs = {ref for ref, orgs in uow.events.suppliers_of_refs(
        {r for d in documents for r in (d.bill_of_lading, d.booking_ref)}).items()
        if orgs & lines and carrier.id not in orgs}

    def refusal(d: Consignment) -> Rejection | None:
        if d.carrier_code and d.carrier_code not in own:
            return _refused(d, "carrierCode", f"{d.carrier_code!r} is not a carrier code of {carrier.id} "
                            f"({', '.join(sorted(own)) or 'none'}): a shipping line supplies its own documents only")
        if stored.get(d.bill_of_lading, set()) - own:
            return _refused(d, "transportDocumentReference", f"{d.bill_of_lading} is another carrier's "
                            f"document here: {carrier.id} cannot supply a version of it")
        if named := sorted({d.bill_of_lading, d.booking_ref} & theirs):
            return _refused(d, "carrierBookingReference", f"{', '.join(named)} is another carrier's "
                            f"booking here: {carrier.id} supplies documents of its own shipments only")
        return None

    return _partition(documents, refusal)


def _about_its_own_documents(uow: UnitOfWork, events: list[Event],
                             carrier: Organisation | None) -> tuple[list[Event], list[Rejection]]:
    """``events`` a shipping line (``carrier``; None: not supplied by one) may supply, and the
    rejections of those naming a document or booking stored here under another carrier's code,
    or one no stored document has that other shipping lines' events name and its own never did
    (a carrier review's line reported another line's box gated out, and customs could no longer
    plan its scan), or naming none and joining a trip not its own (:func:`_joining_anothers_trip`).
    Events naming no such document, and other suppliers' events, pass."""
    if carrier is None or not events:
        return events, []
    own = set(carrier.carrier_codes)
    lines = {o.id for o in uow.accounts.organisations() if o.kind == OrgKind.CARRIER} - {carrier.id}
    named = {r.value for e in events for r in e.documents}
    # a reference is, for a box, the line's whose document naming it for that box came first (else
    # whose document named it first): booking numbers collide between lines, and a carrier-channel
    # review's line B, sending a bill of lading naming line A's booking, had every later event of A
    # naming it refused
    first = uow.documents.first_carrier_codes_of(sorted({(r.value, getattr(e, "container_number", "") or "")
                                                         for e in events for r in e.documents}))
    stored = {ref: codes for (ref, _), codes in first.items()}  # known to some line's document
    # a reference no stored document has is the lines' whose events name it (a regression
    # review's line repeated a competitor's booking, seen on its moves, to gate its box out; a
    # later one's did so once a terminal's move named it too, when the booking was taken as no one's)
    if unknown := sorted(named - set(stored)):
        stored |= {ref: orgs & lines for ref, orgs in uow.events.suppliers_of_refs(unknown).items()
                   if orgs & lines and carrier.id not in orgs}
    joining = _joining_anothers_trip(uow, [e for e in events if not _named_refs(e)], carrier, lines)

    def refusal(e: Event) -> Rejection | None:
        if id(e) in joining:
            return joining[id(e)]
        if (code := getattr(e, "carrier_code", None)) and code not in own:
            # a review's line sent VGM declarations naming another carrier: their masses were kept
            # as its own facts, and fed the mass-gap indicator of that carrier's boxes
            return _refused(e, "carrierCode", f"{str(code)[:20]!r} is not a carrier code of {carrier.id} "
                            f"({', '.join(sorted(own)) or 'none'}): a shipping line supplies its own shipments' "
                            "declarations only")
        number = getattr(e, "container_number", "") or ""
        theirs = sorted({r.value for r in e.documents
                         if (codes := first.get((r.value, number), stored.get(r.value))) and codes - own})
        return _refused(e, "documentReferences", f"names {', '.join(theirs)}, another carrier's document "
                        f"here: {carrier.id} supplies events about its own shipments only") if theirs else None

    return _partition(events, refusal)


#: The reference types that place an event on a trip (:func:`_references`, as the store keeps
#: them): transport document (DCSA TRD, EDIFACT BOL) and booking (BKG, CBR).
_TRIP_REFERENCE_KINDS = frozenset({"TRD", "BOL", "BKG", "CBR"})


def _named_refs(event: Event) -> list[str]:
    """The document and booking references ``event`` names that place it on a trip
    (:data:`_TRIP_REFERENCE_KINDS`), placeholders left out. A carrier-channel review's line
    named a made-up reference without a type: it counted as naming a document, yet the event
    joined another line's trip by its voyage and marked the held box gone."""
    return [r.value for r in event.documents
            if r.kind in _TRIP_REFERENCE_KINDS and r.value and not is_placeholder_reference(r.value)]


def _joining_anothers_trip(uow: UnitOfWork, loose: list[Event], carrier: Organisation,
                           lines: set[str]) -> dict[int, Rejection]:
    """The rejections (by ``id(event)``) of ``loose``, a shipping line's container events naming
    no document or booking, that would join a trip of another line (``lines``: the other
    shipping lines' organisations) here: grouped with the
    box's stored events as scoring groups them (:func:`group_trips`: by voyage, by the one
    document listing the box under it, or a gate-out ending the trip last discharged), the
    trip they land on names documents stored only under other carriers' codes, or, naming
    none, holds only other shipping lines' events. A carrier review's line sent a gate-out
    naming no document for a competitor's box on hold: it joined that trip by its voyage,
    marked the box gone, and customs could no longer plan its scan."""
    boxed = [e for e in loose if getattr(e, "container_number", "")]
    if not boxed:
        return {}
    own = set(carrier.carrier_codes)
    stored, listed = _box_history(uow, boxed)
    joined: list[tuple[Event, dict[str, Any], Trip]] = []  # each event, as grouped, and the trip it joins
    for e in boxed:
        number = e.container_number  # type: ignore[attr-defined]
        row = _grouping_row(e, carrier.id)
        events = [r for r in stored.get(number, []) if not r.get("retracted_by")]
        trips = group_trips(number, [*events, row], voyage_documents(listed.get(number, ()), number))
        joined.append((e, row, next(t for t in trips if any(x is row for x in t.events))))
    # the carrier codes of every trip's documents, in one look-up (not one per event)
    codes_of = uow.documents.carrier_codes_of(sorted({r for _, _, t in joined for r in trip_references(t)}),
                                              bookings=True)
    out: dict[int, Rejection] = {}
    for e, row, trip in joined:
        codes = set().union(*(codes_of.get(r, set()) for r in trip_references(trip)))
        if _other_lines_of(trip, row, codes, own, lines):
            out[id(e)] = _refused(e, "documentReferences", "names no document or booking, and would join "
                                  f"a trip of the box that others' facts make here: {carrier.id} supplies events "
                                  "about its own shipments only (name your document or booking)")
    return out


def _other_lines_of(trip: Trip, row: dict[str, Any], codes: set[str], own: set[str], lines: set[str]) -> list[str]:
    """Whose trip ``trip`` is, when not the shipping line's that sends ``row`` (its carrier codes
    ``own``; ``lines``: the other lines' organisations): the carrier codes of its stored
    documents (``codes``) when none is ``own``; without stored documents (its events name none,
    or only references no stored document has, such as a booking), the organisations that
    supplied its other events, unless the line is one of them (a regression review's trip of
    another line's booking alone took the gate-out; a later one's line took a trip a terminal's
    discharge had begun, and another line's trip once a terminal's move was on it). Empty
    otherwise (a trip of its own, or a new one)."""
    if codes:
        return sorted(codes - own) if not codes & own else []
    suppliers = {x.get("supplied_by") or "" for x in trip.events if x is not row} - {""}
    return [] if not suppliers or row["supplied_by"] in suppliers else sorted(suppliers)


def _grouping_row(event: Event, supplied_by: str) -> dict[str, Any]:
    """What :func:`group_trips` reads of an event not stored yet, as the store would give it."""
    call = event.transport_call
    return {"transport_document_ref": "", "booking_ref": "", "event_time": event.event_time,
            "export_voyage": call.export_voyage if call else "", "import_voyage": call.import_voyage if call else "",
            "classifier": event.classifier, "event_type": getattr(event, "event_type", ""),
            "unlocode": (event.location.unlocode if event.location else "") or (call.unlocode if call else ""),
            "supplied_by": supplied_by, "received_at": None}


def _partition(records: list[Any], refusal: Callable[[Any], Rejection | None]) -> tuple[list[Any], list[Rejection]]:
    """``records`` split into those ``refusal`` lets through (it gives None) and its rejections."""
    kept, refused = [], []
    for rec in records:
        if (why := refusal(rec)) is None:
            kept.append(rec)
        else:
            refused.append(why)
    return kept, refused


def with_reference_flags(record: Any, now: datetime) -> Any:
    """``record`` with informational flags for UN/LOCODEs and HS codes our reference lists lack.

    The shipped UN/LOCODE list is partial (see :mod:`scheldt.reference`): only codes of the
    countries it covers are checked. HS codes are checked against the shipped edition, each code
    once, naming the edition in force on the document's issue date (else at ``now``): a review
    found every DCSA document's unknown code flagged twice (by its reader too) and a 2021 bill
    of lading's HS 2017 code judged by the edition in force when it was received. Never rejects.
    """
    if not isinstance(record, Consignment):  # an event: most name known ports, which add nothing
        codes = _event_ports(record)
        if all(_unlocode_flag(code, field) is None for field, code in codes if code):
            return record
    flags = list(record.flags)
    if isinstance(record, Consignment):
        codes = [("port_of_loading", record.port_of_loading), ("port_of_discharge", record.port_of_discharge)]
        on = (record.issued_at or now).date()
        for code in dict.fromkeys(item.hs_code[:6] for item in record.goods if item.hs_code):
            if not reference.is_known_hs6(code):
                flags.append(Flag("hs_code", "unknown-hs-code", f"{reference.hs_flag_text(code, on)}; kept as sent"))
    for code, field in {c: f for f, c in reversed(codes)}.items():
        flag = _unlocode_flag(code, field) if code else None
        if flag is not None and flag not in flags:
            flags.append(flag)
    return replace(record, flags=tuple(flags)) if len(flags) != len(record.flags) else record


def _checked(record: Any, now: datetime) -> Any:
    """``record`` with the flags Scheldt adds when it is received at ``now`` (UTC): codes the
    reference lists lack (:func:`with_reference_flags`), a date ahead of now (:func:`with_time_flag`),
    a voyage or vessel name cut to what is kept (:func:`cut_to_fit`)."""
    return cut_to_fit(with_time_flag(with_reference_flags(record, now), now))


def cut_to_fit(record: Any) -> Any:
    """An event whose voyage numbers or vessel name are longer than what is kept
    (:data:`~scheldt.domain.shipping.MAX_VOYAGE`, :data:`~scheldt.domain.shipping.MAX_VESSEL_NAME`
    characters) cut to it and flagged ``cut-to-fit`` naming the field, so the file's report counts
    it (an ingest review's 300-character voyage was cut by the store, which the report never
    said; the voyage is part of the trip's key). Other records are returned as they are."""
    call = getattr(record, "transport_call", None)
    if not isinstance(record, Event) or call is None:
        return record
    flags, changes = list(record.flags), {}

    def cut(value: str, field: str, limit: int) -> str:
        flags.append(Flag(field, "cut-to-fit", f"{field} is {len(value)} characters long; only the first {limit} are "
                          "kept for searching and linking"))
        return value[:limit]

    # a value that is not text is left for the store's check to refuse, naming it (a review's
    # numeric vessel name stopped the whole ingest here)
    for name in ("export_voyage", "import_voyage"):
        if isinstance(value := getattr(call, name), str) and len(value) > MAX_VOYAGE:
            changes[name] = cut(value, name.replace("_", " "), MAX_VOYAGE)
    if call.vessel is not None and isinstance(call.vessel.name, str) and len(call.vessel.name) > MAX_VESSEL_NAME:
        changes["vessel"] = replace(call.vessel, name=cut(call.vessel.name, "vessel name", MAX_VESSEL_NAME))
    if not changes:
        return record
    return replace(record, transport_call=replace(call, **changes), flags=tuple(flags))




def with_time_flag(record: Any, now: datetime) -> Any:
    """``record`` flagged ``dated-in-future`` where what it says has happened lies more than
    :data:`FUTURE_SLACK` after ``now`` (UTC), when it was received: an actual (ACT) event's time,
    a document's issue date. Kept as sent (an ingest review's bay plan positions dated 2099-12-31
    sat unflagged beside the real ones). Planned and estimated times may lie ahead."""
    if isinstance(record, Consignment):
        field, when = "issued_at", record.issued_at
    elif getattr(record, "classifier", "") == "ACT":
        field, when = "event_time", record.event_time
    else:
        return record
    if when is None or when <= now + FUTURE_SLACK:
        return record
    flag = Flag(field, "dated-in-future", f"{field.replace('_', ' ')} {when:%Y-%m-%d %H:%M} UTC is after it was "
                f"received ({now:%Y-%m-%d %H:%M} UTC): what has happened cannot be dated ahead; kept as sent")
    return replace(record, flags=(*record.flags, flag))


def _event_ports(event: Any) -> list[tuple[str, str]]:
    """(field, UN/LOCODE) of the ports an event names: its location, its transport call's port
    and, for a stowage position, its ports of loading and discharge (an attack review's bay plan
    port of discharge ZZZZZ passed unflagged; the high-risk port indicators read it)."""
    ports = [("location", event.location.unlocode if event.location is not None else ""),
             ("transport_call", event.transport_call.unlocode if event.transport_call is not None else ""),
             ("port_of_loading", getattr(event, "port_of_loading", "") or ""),
             ("port_of_discharge", getattr(event, "port_of_discharge", "") or "")]
    # a code that is not text is the event store's to refuse (a fuzz review's list stopped the ingest here)
    return [(field, code) for field, code in ports if isinstance(code, str)]


@lru_cache(maxsize=4096)
def _unlocode_flag(code: str, field: str) -> Flag | None:
    """:func:`unlocode_flag` against the shipped lists, cached: a few hundred ports recur in
    every file."""
    return unlocode_flag(code, field, reference.unlocodes(), reference.unlocode_countries(), reference.country_names())


AIS_BATCH = 10_000


def _store_ais(uow: UnitOfWork, records: Iterable[object], report: FileReport, now: datetime,
               supplied_by: str, path: Path) -> None:
    rejections: list[Rejection] = []
    positions: list[VesselPosition] = []
    sightings: list[VesselSighting] = []

    def flush() -> None:
        added, unstorable = uow.vessels.add_positions(positions, supplied_by, now)
        report.added += added + uow.vessels.add_sightings(sightings, supplied_by, now)
        report.accepted += len(positions) + len(sightings) - len(unstorable)
        rejections.extend(unstorable)
        positions.clear()
        sightings.clear()

    for rec in records:
        if isinstance(rec, Rejection):
            rejections.append(rec)
        elif isinstance(rec, VesselPosition):
            positions.append(rec)
            report.add_flags(rec.flags, rec.source)
        elif isinstance(rec, VesselSighting):
            sightings.append(rec)
        if len(positions) >= AIS_BATCH:
            flush()
    flush()
    uow.quarantine.add(rejections, report.format, now, (str(path), path))
    report.rejected = len(rejections)
    report.rejections = rejections


def ingest_ais(uow: UnitOfWork, path: Path, format: str, now: datetime, supplied_by: str,
               layout: AisCsvLayout | None = None) -> FileReport:
    """Store the positions and vessel identities of an AIS feed (raw NMEA or a decoded CSV, by
    ``layout`` when given, else the built-in layout its header matches).

    Raw NMEA streams line by line; sentences that are not kept (empty payloads, other message
    types, positions not available) are counted in ``FileReport.skipped``, and so are a CSV's
    rows at the "not available" position.
    """
    report = FileReport(str(path), format)
    stats = AisStats()
    if format == "ais-nmea":
        with path.open("rb") as fh:
            _store_ais(uow, read_nmea(fh, str(path), stats), report, now, supplied_by, path)
    else:
        if not path.is_file() or path.stat().st_size == 0:
            raise InputError(f"{path}:1", "no such file, or empty")
        layout = layout or detect_ais_layout(csv_header(path))
        if layout is None:
            raise InputError(f"{path}:1", "header matches no known AIS CSV layout")
        _store_ais(uow, read_ais_csv(path.read_bytes(), layout, str(path), stats), report, now, supplied_by,
                   path)
    report.skipped = {k: v for k, v in stats.items() if k not in ("positions", "static")}
    return report


@dataclass(frozen=True)
class ContainerTimeline:
    """A container's trips, oldest first, each with its events; ``flags`` on the number itself."""

    container_number: str
    number_flag: str
    trips: list[Trip]
    vessel_tracks: list[list[dict[str, Any]]]  # per trip: AIS positions of its vessels
    documents: list[list[dict[str, Any]]]  # per trip: transport document versions, oldest first
    unmatched_documents: list[dict[str, Any]]  # documents listing the container, matching no trip
    declarations: list[dict[str, Any]]  # customs declarations naming the container or its documents, on no trip
    trip_declarations: list[list[dict[str, Any]]]  # per trip: its declarations (declarations_of_trip)
    #: per trip: notes on its documents ({"field", "code", "why", "source"}): a document whose latest
    #: version no longer lists the box (:func:`~scheldt.workflows.trip_views.dropped_box`)
    trip_notes: list[list[dict[str, str]]]


#: How long before the first and after the last event of a trip its vessels' tracks are shown.
TRACK_MARGIN = timedelta(days=3)


def container_timeline(uow: UnitOfWork, raw_number: str) -> ContainerTimeline:
    """The trips of a container (ISO 6346 number, spaces and dashes allowed), each with its
    events (an event that says what an earlier one says folded into it, under ``repeats``:
    :func:`~scheldt.domain.trips.fold_repeats`), the AIS
    track of the vessels its events name (IMO → MMSI from AIS static data), from
    :data:`TRACK_MARGIN` before its first event to as long after its last, or while the box is
    on board (loaded, not discharged), for :data:`~scheldt.domain.trips.VOYAGE_TRACK` after
    loading, and with its customs declarations (:func:`~scheldt.domain.trips.declarations_of_trip`,
    every supplier's: the node's own view); declarations naming the box or its documents that
    fit no trip are listed apart."""
    if not raw_number.strip():
        raise InputError("container number", "give a container number, e.g. APZU4812090")
    number, flag = container_number(raw_number.upper())
    listing = uow.documents.listing_all_versions([number])
    # an event received again under another id is shown once, with its copies (fold_repeats)
    trips = [Trip(t.key, fold_repeats(t.events))  # type: ignore[arg-type]
             for t in group_shown_trips(number, uow.events.for_container(number), voyage_documents(listing, number))]
    refs = sorted({r for t in trips for r in trip_references(t)})
    # a document found by a trip's reference that lists only other boxes is not this one's (a
    # linking review: another box's B/L, its shipper and seals, showed under this trip)
    stored = uow.documents.for_container(number, refs)
    docs = [d for d in stored if document_may_cover(d, number)]
    per_trip: list[list[dict[str, Any]]] = []
    used: set[int] = set()
    tracks = []
    owners = carrier_owners(uow)
    doc_refs = sorted({d["document_ref"] for d in docs if d["document_ref"]} | set(refs))
    linked = uow.declarations.linked_to(number, doc_refs)
    per_trip_declarations: list[list[dict[str, Any]]] = []
    notes = []
    periods = [(t.events[0]["event_time"], t.events[-1]["event_time"]) for t in trips]
    for i, trip in enumerate(trips):
        trip_refs = trip_references(trip)
        mine = trip_documents(docs, trip_refs, number, owners)  # type: ignore[assignment]
        used |= {d["id"] for d in mine}
        per_trip.append(mine)
        # a review's B/L amended to drop the box showed here as its earlier version, without a word
        notes.append(dropped_box(stored, mine, number))
        # each trip its own declarations, as the trip page shows them (a declarations review:
        # one block above every trip held another B/L's and a 2019 one)
        per_trip_declarations.append(declarations_of_trip(  # type: ignore[arg-type]
            linked, (trip_refs | {d["document_ref"] for d in mine}) - {""}, *periods[i],
            periods[:i] + periods[i + 1:]))
        imos = {e["vessel_imo"] for e in trip.events if e["vessel_imo"]}
        spans = [span for ss in uow.vessels.spans_for_imos(sorted(imos)).values() for span in ss]
        start = trip.events[0]["event_time"] - TRACK_MARGIN
        end = trip.events[-1]["event_time"] + TRACK_MARGIN
        loaded = on_board_since(trip.events)  # a box at sea: its vessel's positions since (review)
        if loaded is not None:
            end = max(end, loaded + VOYAGE_TRACK)
        tracks.append(uow.vessels.track(spans, start, end))
    placed = {id(d) for ds in per_trip_declarations for d in ds}
    return ContainerTimeline(number, flag.why if flag else "", trips, tracks, per_trip,
                             [d for d in docs if d["id"] not in used], [d for d in linked if id(d) not in placed],
                             per_trip_declarations, notes)
