"""Container trips: a container number is reused trip after trip, so a timeline belongs to a
trip (container number + booking or bill-of-lading reference + voyage), never the number alone.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from operator import gt
from typing import Any

from scheldt.domain.facts import name_key, plain


@dataclass(frozen=True, slots=True)
class TripKey:
    """Identity of a container trip: container number, document reference (transport document
    / bill of lading, else booking), voyage (export voyage, else import voyage)."""

    container_number: str
    document_ref: str
    voyage: str

    def label(self) -> str:
        """Human-readable form, e.g. ``APZU4812090 / B/L HHL71800000 / voyage 2103S``."""
        parts = [self.container_number]
        parts.append(f"document {self.document_ref}" if self.document_ref else "no document reference")
        parts.append(f"voyage {self.voyage}" if self.voyage else "no voyage")
        return " / ".join(parts)


@dataclass
class Trip:
    """A trip and its events, oldest first."""

    key: TripKey
    events: list[Mapping[str, Any]] = field(default_factory=list)


#: What senders put in a reference field when they have no reference (templates, dummies).
_PLACEHOLDER_REFERENCES = frozenset({"STRING", "TBD", "TBA", "N/A", "NA", "NONE", "NULL", "UNKNOWN", "DUMMY", "TEST"})


def is_placeholder_reference(ref: str) -> bool:
    """True for a document or booking reference that names no document: two characters or
    fewer (a bay plan's ``RFF+BM:1``, a COARRI's ``0``), only zeros or X's, or a template word
    such as ``string`` (DCSA's sample values). Two trips of one container months apart both
    under B/L "1" were taken as one trip (a review: a 2025 US loading scored on a 2024 Costa
    Rican one)."""
    r = ref.strip().upper()
    return len(r) <= 2 or r in _PLACEHOLDER_REFERENCES or set(r) <= {"0"} or set(r) <= {"X"}


#: How far apart a transport document's receipt (or issue) and a move of its box may be for the
#: document to place the move's journey by its voyage: a bill of lading is issued around
#: loading, and a deep-sea journey to Europe takes up to about 45 days (see
#: :data:`VOYAGE_TRACK`); a document further away is of another journey of the box under a
#: reused voyage number (assumption).
DOCUMENT_VOYAGE_WINDOW = timedelta(days=120)


def group_trips(container_number: str, events: Iterable[Mapping[str, Any]],
                documents: Mapping[str, Sequence[VoyageDocument]] | None = None) -> list[Trip]:
    """Split a container's events (dicts with ``transport_document_ref``, ``booking_ref``,
    ``export_voyage``, ``import_voyage``, ``event_time``) into trips, oldest trip first.

    Events sharing a transport document or booking reference are one trip (a document covers
    the whole journey, transshipments included), as are events naming the booking and the
    transport document of one document in ``documents`` listing the box under the event's voyage
    near its time (:func:`_linked_to`); events without any reference join the trip of
    the same voyage if there is one, else the trip of the one document listing the box under
    that voyage (``documents``: :func:`voyage_documents`; see :func:`_documented_journeys`),
    else a trip of their own voyage. A placeholder reference (:func:`is_placeholder_reference`)
    counts as none. An actual gate-out without reference that its voyage does not place (a
    terminal's CODECO often gives only a release reference) closes the trip the box was last
    discharged from at that port, when that trip has not left yet (:func:`_awaiting_gate_out`).
    """
    trips: dict[TripKey, Trip] = {}
    by_ref: dict[str, TripKey] = {}
    by_voyage: dict[str, list[TripKey]] = {}
    pending: list[Mapping[str, Any]] = []
    linked = _linked_references(documents or {})
    ordered = sorted(events, key=lambda e: e["event_time"])
    for e in ordered:
        refs = [r for r in (e.get("transport_document_ref"), e.get("booking_ref")) if r and not is_placeholder_reference(r)]
        voyage = e.get("export_voyage") or e.get("import_voyage") or ""
        if not refs:
            pending.append(e)
            continue
        key = next((by_ref[r] for r in refs if r in by_ref), None)
        if key is None:  # a document may say that another reference is of the same shipment
            key = next((by_ref[r] for r, d, voyages in _linked_to(e, refs, linked)
                        if r in by_ref and _continued_by(trips[by_ref[r]], e, d, voyages)), None)
        if key is None:
            key = TripKey(container_number, refs[0], _key_voyage(e))
            trips[key] = Trip(key)
        for r in refs:
            by_ref[r] = key
        for v in (e.get("export_voyage"), e.get("import_voyage")):
            if v and key not in by_voyage.setdefault(v, []):
                by_voyage[v].append(key)
        trips[key].events.append(e)
    _name_voyages(trips, by_ref, by_voyage)
    documented = _documented_journeys(pending, documents, ordered) if documents else {}
    ends = _journey_ends(ordered)
    for e in pending:
        voyage = e.get("export_voyage") or e.get("import_voyage") or ""
        key = _voyage_trip(trips, by_voyage.get(voyage, []), e["event_time"], ends) if voyage else None
        if key is None and id(e) in documented:
            key = _documented_trip(container_number, documented[id(e)], _key_voyage(e), trips, by_ref,
                                   e["event_time"])
        if key is None:
            key = _awaiting_gate_out(trips, e)
        if key is None:
            key = TripKey(container_number, "", _key_voyage(e))
            trips.setdefault(key, Trip(key))
        trips[key].events.append(e)
    for trip in trips.values():
        trip.events.sort(key=lambda e: e["event_time"])
    return sorted(trips.values(), key=lambda t: t.events[0]["event_time"])


def _linked_references(documents: Mapping[str, Sequence[VoyageDocument]]
                       ) -> dict[str, list[tuple[VoyageDocument, frozenset[str]]]]:
    """Reference -> (document, the voyages it lists the box under) for each of ``documents``
    (:func:`voyage_documents`: voyage -> documents) that names the reference (see
    :func:`_linked_to`)."""
    voyages_of: dict[VoyageDocument, set[str]] = {}
    for voyage, docs in documents.items():
        for d in docs:
            voyages_of.setdefault(d, set()).add(voyage)
    out: dict[str, list[tuple[VoyageDocument, frozenset[str]]]] = {}
    for d, voyages in voyages_of.items():
        for r in d.refs:
            out.setdefault(r, []).append((d, frozenset(voyages)))
    return out


def _linked_to(event: Mapping[str, Any], refs: Sequence[str],
               linked: Mapping[str, Sequence[tuple[VoyageDocument, frozenset[str]]]]
               ) -> list[tuple[str, VoyageDocument, frozenset[str]]]:
    """(reference, document, its voyages) for the references a document gives with one of
    ``refs`` (its transport document's and its booking's) when it lists the box under one of the
    move's voyages (export or import: a discharge names the voyage the box came in on as its
    import voyage; any, for a move naming none) and was received or issued within
    :data:`DOCUMENT_VOYAGE_WINDOW` of it: moves naming either are of one trip (when it goes on:
    :func:`_continued_by`). A trip review: a load naming the booking and a discharge naming its
    B/L made two trips, each half of the journey scored on its own; regression reviews: a
    booking or B/L the line used again a year later, on another voyage, joined the new journey
    to the old one."""
    moved_on = {v for v in (event.get("export_voyage"), event.get("import_voyage")) if v}
    out = []
    for r in refs:
        for d, voyages in linked.get(r, ()):
            if (not moved_on or moved_on & voyages) and any(
                    abs(at - event["event_time"]) <= DOCUMENT_VOYAGE_WINDOW for at in d.dates):
                out += [(other, d, voyages) for other in d.refs]
    return out


def _continued_by(trip: Trip, event: Mapping[str, Any], document: VoyageDocument, voyages: frozenset[str]) -> bool:
    """Whether a move a document (listing the box under ``voyages``) links to ``trip`` goes on
    with it: the trip had not ended before the move, or it moved on one of the document's
    voyages within :data:`DOCUMENT_VOYAGE_WINDOW` of the document's dates (a transshipment's
    land leg between two ports: a regression review's load on the mother vessel after a rail
    move, naming the B/L, split from the feeder's trip naming the booking; a voyage number used
    again a year later is another journey)."""
    return not _gone_before(trip, event["event_time"]) or any(
        (m.get("export_voyage") in voyages or m.get("import_voyage") in voyages)
        and any(abs(at - m["event_time"]) <= DOCUMENT_VOYAGE_WINDOW for at in document.dates) for m in trip.events)


def _key_voyage(event: Mapping[str, Any]) -> str:
    """The voyage a trip begun by ``event`` is keyed on: its export voyage, else its import
    voyage; "" for a VGM declaration. A VGM names the voyage its shipper meant the box for
    (DCSA VGM 1.0 ``vesselVoyageDetails``, read since 2026-12-07), which a rolled box never
    sails on: keyed on it, a trip kept that voyage for life, and a declaration updated for the
    next voyage gave the trip a new id, its hold left behind (a review). Its voyage still joins
    a move naming only that voyage to its trip (``by_voyage``)."""
    if event.get("kind") == "VGM":
        return ""
    return event.get("export_voyage") or event.get("import_voyage") or ""


def _name_voyages(trips: dict[TripKey, Trip], by_ref: dict[str, TripKey],
                  by_voyage: dict[str, list[TripKey]]) -> None:
    """Key each trip of references by the voyage of its first event received (``received_at``,
    UTC, then ``event_time``; an event without a received time by its event time; none for a VGM
    declaration: :func:`_key_voyage`), in place (in
    ``trips`` and the maps to it): a trip keeps its key as later facts arrive. A terminal review:
    a VGM declaration (no voyage, dated before the load) received after the moves renamed the
    trip "no voyage", gave it a new id and moved its hold; a regression review: keyed by the
    first voyage named, a trip begun by its VGM was renamed when its load arrived."""
    for key, trip in list(trips.items()):
        first = min(trip.events, key=lambda e: (_utc(e.get("received_at") or e["event_time"]), e["event_time"]))
        voyage = _key_voyage(first)
        if voyage == key.voyage:
            continue
        named = TripKey(key.container_number, key.document_ref, voyage)
        trip.key = named
        trips[named] = trips.pop(key)
        for k, v in by_ref.items():
            if v == key:
                by_ref[k] = named
        for keys in by_voyage.values():
            keys[:] = [named if v == key else v for v in keys]


#: A journey end (gate-out after discharge) this close before a trip's first event is the end of
#: that trip, reported by another party: a review's terminal sent the load, discharge and
#: gate-out naming only the voyage, and the carrier only its gate-out with the booking, five
#: minutes later; the terminal's moves were put on a trip of their own.
OWN_END_SLACK = timedelta(days=1)


def _voyage_trip(trips: Mapping[TripKey, Trip], keys: Sequence[TripKey], when: datetime,
                 ends: Sequence[datetime]) -> TripKey | None:
    """The trip a move at ``when`` naming only a voyage joins, of ``keys`` (the trips with
    references that name that voyage), or None: one not gone before the move
    (:func:`_gone_before`) and not begun after a journey end of the box that follows the move
    (``ends``: :func:`_journey_ends` of all the box's events; one less than
    :data:`OWN_END_SLACK` before the trip's first event is that trip's own); of those, the
    latest begun by then, else the first begun after. A voyage number is reused: a trip review
    found a terminal's moves of a journey a year before, naming only the voyage, in the later
    trip's facts and score, and a terminal's discharge split off a trip because an earlier
    trip of the same voyage number had ended (only the first trip of a voyage was looked at)."""
    fits = []
    for key in keys:
        begun = min(e["event_time"] for e in trips[key].events)
        if not _gone_before(trips[key], when) and not any(when <= end < begun - OWN_END_SLACK for end in ends):
            fits.append((begun, key))
    before = [f for f in fits if f[0] <= when]
    if before:
        return max(before, key=lambda f: f[0])[1]
    return min(fits, key=lambda f: f[0])[1] if fits else None


@dataclass(frozen=True, slots=True)
class VoyageDocument:
    """A transport document listing a box under a voyage, as :func:`group_trips` places moves
    by it: its references (``refs``: the transport document's, then the booking's; no
    placeholder) and its dates (``dates``: received, and issued when it says; UTC)."""

    refs: tuple[str, ...]
    dates: tuple[datetime, ...]


def voyage_documents(docs: Iterable[Mapping[str, Any]], number: str,
                     now: datetime | None = None) -> dict[str, list[VoyageDocument]]:
    """What :func:`group_trips` takes as ``documents`` for container ``number``: voyage ->
    documents whose latest version received by ``now`` (all when None) lists the box under that
    voyage (its first, or one of its ``other_voyages``: the mother vessel's after a feeder's)
    and names a reference that is not a placeholder. ``docs``: stored document versions
    (dicts with ``document_ref``, ``booking_ref``, ``voyage``, ``other_voyages``, ``containers``,
    ``received_at``, ``issued_at``, ``id``), every version of each document wanted: a version amended to drop the
    box, or to another voyage, places nothing any more (a regression review)."""
    versions: dict[str, list[Mapping[str, Any]]] = {}
    for d in docs:
        ref = d.get("document_ref") or d.get("booking_ref") or ""
        if ref and (now is None or _utc(d["received_at"]) <= now):
            versions.setdefault(ref, []).append(d)
    latest = {ref: latest_stored_version(group) for ref, group in versions.items()}
    out: dict[str, list[VoyageDocument]] = {}
    for d in latest.values():
        refs = tuple(r for r in (d.get("document_ref"), d.get("booking_ref")) if r and not is_placeholder_reference(r))
        if refs and d.get("voyage") and any(c.get("number") == number for c in d.get("containers") or []):
            dates = (_utc(d["received_at"]), *((_utc(d["issued_at"]),) if d.get("issued_at") else ()))
            for voyage in dict.fromkeys((d["voyage"], *(d.get("other_voyages") or ()))):
                out.setdefault(voyage, []).append(VoyageDocument(refs, dates))
    return out


def latest_stored_version(versions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The latest of one document's stored versions (dicts with ``issued_at``, ``received_at``
    and ``id``), in the order they were made (:func:`made_order`; then by ``id``). Raises
    ValueError for none."""
    keys = made_order([(_utc(d["issued_at"]) if d.get("issued_at") else None, _utc(d["received_at"]))
                       for d in versions])
    return max(zip(keys, versions, strict=True), key=lambda kd: (kd[0], kd[1].get("id", 0)))[1]


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _documented_journeys(pending: Sequence[Mapping[str, Any]], documents: Mapping[str, Sequence[VoyageDocument]],
                         every: Sequence[Mapping[str, Any]]) -> dict[int, tuple[str, ...]]:
    """Which events without reference a document places (``id(event)`` -> its references).
    The moves naming a voyage are cut into journeys at each actual gate-out after an actual
    discharge among all the box's events ``every`` (a voyage number is reused; a regression
    review's truck gate-out naming no voyage joined two years' journeys into one); a journey
    is placed when exactly one document
    (:func:`voyage_documents`) listing the box under that voyage was received or issued within
    :data:`DOCUMENT_VOYAGE_WINDOW` of one of its moves, and then all of its moves are: a
    regression review found one journey split between its load, far from the document's date,
    and its discharge. Two documents for one box and voyage (two carriers' papers) place none.
    A carrier review: a terminal's load and discharge naming only the voyage made a trip without
    document, so the carrier's own bill of lading was never joined to it, and the carrier was
    never told of a hold on its box."""
    out: dict[int, tuple[str, ...]] = {}
    for voyage, journey in _journeys(pending, _journey_ends(every)):
        near = {d.refs for d in documents.get(voyage, ())
                if any(abs(at - e["event_time"]) <= DOCUMENT_VOYAGE_WINDOW for at in d.dates for e in journey)}
        if len({refs[0] for refs in near}) == 1:
            refs = next(iter(near))
            out.update((id(e), refs) for e in journey)
    return out


def _journey_ends(events: Sequence[Mapping[str, Any]]) -> list[datetime]:
    """The times of the actual gate-outs after an actual discharge among ``events`` (oldest
    first): each ends a journey of the box."""
    ends: list[datetime] = []
    discharged = False
    for e in sorted(events, key=_at):
        if e.get("classifier", "ACT") != "ACT":
            continue
        if e.get("event_type") == "DISC":
            discharged = True
        elif e.get("event_type") == "GTOT" and discharged:
            ends.append(e["event_time"])
            discharged = False
    return ends


def _journeys(events: Sequence[Mapping[str, Any]],
              ends: Sequence[datetime]) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """(voyage, its moves of one journey) of ``events`` naming a voyage: moves after the n-th
    of ``ends`` (sorted journey-end times; a move at an end time belongs to the journey it
    ends) are of a later journey than those before it."""
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for e in sorted(events, key=_at):
        voyage = e.get("export_voyage") or e.get("import_voyage") or ""
        if voyage:
            groups.setdefault((voyage, bisect_left(ends, e["event_time"])), []).append(e)
    for (voyage, _), moves in groups.items():
        yield voyage, moves


def _documented_trip(number: str, refs: tuple[str, ...], voyage: str, trips: dict[TripKey, Trip],
                     by_ref: dict[str, TripKey], when: datetime) -> TripKey | None:
    """The trip of a document with references ``refs`` for a move at ``when``: the one events
    carrying one of them, or moves this document placed before, made, unless it ended before
    (a gate-out after discharge: a regression review's next journey merged into it), else a
    new one keyed on the first reference and ``voyage`` (added to ``trips``, its references
    to ``by_ref``: the feeder's and the mother vessel's moves of one document are one trip)."""
    key = next((by_ref[r] for r in refs if r in by_ref), None)
    if key is None:
        key = TripKey(number, refs[0], voyage)
        by_ref.update(dict.fromkeys(refs, key))
    trip = trips.setdefault(key, Trip(key))
    return None if _gone_before(trip, when) else key


def group_shown_trips(container_number: str, events: Iterable[Mapping[str, Any]],
                      documents: Mapping[str, Sequence[VoyageDocument]] | None = None) -> list[Trip]:
    """:func:`group_trips` of the events not retracted (``retracted_by`` unset), as scoring
    groups them, then each retracted event put, for showing, where it would have been: on the
    trip that shares a (non-placeholder) reference with it, else the latest trip of its voyage
    not gone before it, else (a gate-out naming neither) the trip it would have ended
    (:func:`_awaiting_gate_out`), else the trip whose events span its time, else with the other
    such events on a trip of their own (merged with a trip of the same key). Regression reviews
    found a retracted event deciding a trip's key or its end when grouped with the rest, and
    one shown on an older trip of the same voyage or of a placeholder reference. ``documents``
    as :func:`group_trips` takes them."""
    events = list(events)
    trips = group_trips(container_number, [e for e in events if not e.get("retracted_by")], documents)
    strays = []
    for e in sorted((e for e in events if e.get("retracted_by")), key=_at):
        home = _shown_home(trips, e)
        if home is None:
            strays.append(e)
        else:
            home.events.append(e)
            home.events.sort(key=_at)
    by_key = {t.key: t for t in trips}
    for stray in group_trips(container_number, strays, documents):
        if stray.key in by_key:
            by_key[stray.key].events.extend(stray.events)
            by_key[stray.key].events.sort(key=_at)
        else:
            trips.append(stray)
    return sorted(trips, key=lambda t: _at(t.events[0]))


def _shown_home(trips: list[Trip], e: Mapping[str, Any]) -> Trip | None:
    """The trip a retracted event ``e`` is shown on (see :func:`group_shown_trips`), or None."""
    refs = {r for r in (e.get("transport_document_ref"), e.get("booking_ref")) if r and not is_placeholder_reference(r)}
    found = next((t for t in trips if refs & _refs_of(t)), None)
    if found is not None:
        return found
    voyage = e.get("export_voyage") or e.get("import_voyage") or ""
    same_voyage = [t for t in trips if voyage and voyage in _voyages_of(t) and _at(t.events[0]) <= _at(e)
                   and not _gone_before(t, _at(e))]
    if same_voyage:
        return max(same_voyage, key=lambda t: _at(t.events[0]))
    if not refs and not voyage:
        key = _awaiting_gate_out({t.key: t for t in trips}, e)
        if key is not None:
            return next(t for t in trips if t.key == key)
    return next((t for t in trips if t.events and _at(t.events[0]) <= _at(e) <= _at(t.events[-1])), None)


def trip_references(trip: Trip) -> set[str]:
    """The document references of a trip: those its events carry (placeholders included) and its
    key's (a document that placed events naming only the voyage: :func:`group_trips`)."""
    return {r for e in trip.events for r in (e["booking_ref"], e["transport_document_ref"]) if r} | (
        {trip.key.document_ref} if trip.key.document_ref else set())


def _refs_of(trip: Trip) -> set[str]:
    refs = {r for e in trip.events for r in (e.get("transport_document_ref"), e.get("booking_ref")) if r} | (
        {trip.key.document_ref} if trip.key.document_ref else set())
    return {r for r in refs if not is_placeholder_reference(r)}


def _voyages_of(trip: Trip) -> set[str]:
    return {v for e in trip.events for v in (e.get("export_voyage"), e.get("import_voyage")) if v} | (
        {trip.key.voyage} if trip.key.voyage else set())


def document_may_cover(document: Mapping[str, Any], number: str) -> bool:
    """Whether a stored document version (a dict with ``containers``: ``[{"number": ...}]``)
    found by a reference a trip's events carry may be about container ``number``: it lists no
    box (a booking before equipment is assigned) or lists this one. A carrier review found
    carrier B's B/L with carrier A's number, for another box, taken as A's trip's latest
    version: B then owned A's trip and read A's parties."""
    listed = document.get("containers") or []
    return not listed or any(c.get("number") == number for c in listed)


def line_of(code: object, owners: Mapping[str, str]) -> str:
    """The shipping line a carrier code names: the organisation ``owners`` maps the code (upper
    case, spaces around left out) to, else the code itself; one line's SMDG code and SCAC are
    one line. Empty for no code."""
    text = str(code or "").strip().upper()
    return owners.get(text, text)


def trip_documents(docs: Iterable[Mapping[str, Any]], refs: Collection[str], number: str,
                   owners: Mapping[str, str] | None = None) -> list[Mapping[str, Any]]:
    """The stored document versions among ``docs`` (dicts with ``id``, ``document_ref``,
    ``booking_ref``, ``carrier_code``, ``received_at``, ``containers``) that belong to a trip of
    container ``number`` whose events carry the references ``refs``, in the order given: each
    found by its own reference or its booking reference, that may cover the box
    (:func:`document_may_cover`), and issued by the trip's carrier. Booking numbers are each
    carrier's own and collide between carriers, so a document found only by its booking
    reference that another carrier issued is not this trip's (a carrier review: carrier B's
    transport document with carrier A's booking number, for A's box on a later trip, took over
    A's trip: B then read A's bill of lading and received its notices). The trip's carrier is
    the one of the documents the events name by their own reference, else of the first
    document received. Carriers are compared by the organisation ``owners`` maps each code
    (upper case) to, else by the code in upper case: one line's SMDG code and SCAC are one
    carrier (a review: its own ``MSCU`` booking dropped beside its ``MSC`` bill of lading)."""
    def carrier(d: Mapping[str, Any]) -> str:
        return line_of(d.get("carrier_code"), owners or {})

    found = [d for d in docs
             if (d["document_ref"] in refs or d["booking_ref"] in refs) and document_may_cover(d, number)]
    carriers = {carrier(d) for d in found if d["document_ref"] in refs and carrier(d)}
    if not carriers:
        first = min((d for d in found if carrier(d)), key=lambda d: (d["received_at"], d["id"]), default=None)
        carriers = {carrier(first)} if first is not None else set()
    return [d for d in found if d["document_ref"] in refs or not carrier(d) or carrier(d) in carriers]


#: How long after its loading a box that has not arrived is followed on its vessel's AIS track:
#: deep-sea voyages to Europe take up to about 45 days (assumption; transshipment included).
VOYAGE_TRACK = timedelta(days=60)


def on_board_since(events: Sequence[Any]) -> datetime | None:
    """When the box was last loaded (actual LOAD) if no actual discharge (DISC) came after it:
    it is on board (at sea, or at a port of call), else None. ``events``: :class:`TripEvent`
    or stored event dicts (``event_type``, ``classifier``, ``event_time``), oldest first."""
    loaded = None
    for e in events:
        kind, classifier, at = ((e["event_type"], e["classifier"], e["event_time"]) if isinstance(e, Mapping)
                                else (e.event_type, e.classifier, e.event_time))
        if classifier != "ACT":
            continue
        if kind == "LOAD":
            loaded = at
        elif kind == "DISC":
            loaded = None
    return loaded


#: How long before a trip's first event and after its last a customs declaration naming only its
#: container (not one of its references) is taken as this trip's: import declarations are filed
#: days before arrival to days after discharge (assumption; generous, the trip's events span weeks).
DECLARATION_WINDOW = timedelta(days=30)


def declarations_of_trip(declarations: Iterable[Mapping[str, Any]], refs: Collection[str],
                         first: datetime, last: datetime,
                         others: Sequence[tuple[datetime, datetime]] = ()) -> list[Mapping[str, Any]]:
    """The declarations of one trip among those naming its container or one of its references
    (dicts with ``bill_of_lading_ref`` and ``filed_at``, UTC): each naming one of ``refs`` (the
    trip's B/L and booking references), and each naming only the box (no B/L) filed within
    :data:`DECLARATION_WINDOW` of the trip's events (``first``..``last``, UTC) and nearer to
    them than to those of any of the box's ``others`` trips (their first and last event times;
    equally near, the later trip's); not one naming another B/L, another trip's. A container is
    reused trip after trip: a linking review found a 2019 declaration of the box under its 2026
    trip, and a declarations review one filed between two trips under both. Order kept."""
    start, end = first - DECLARATION_WINDOW, last + DECLARATION_WINDOW

    def nearest(filed: datetime) -> bool:
        mine = _distance(filed, first, last)
        return all(mine < (theirs := _distance(filed, a, b)) or (mine == theirs and first > a) for a, b in others)

    return [d for d in declarations if d.get("bill_of_lading_ref") in refs
            or (not d.get("bill_of_lading_ref") and start <= d["filed_at"] <= end and nearest(d["filed_at"]))]


def _distance(when: datetime, first: datetime, last: datetime) -> timedelta:
    """How far ``when`` lies from the span ``first``..``last`` (zero inside it)."""
    return max(first - when, when - last, timedelta(0))


def _at(event: Mapping[str, Any]) -> Any:
    return event["event_time"]


#: How long after its discharge a box's gate-out without reference is taken as the end of that
#: trip (dwell times at container terminals are days; a box gone longer has a trip unknown here).
GATE_OUT_WITHIN = timedelta(days=60)


def _awaiting_gate_out(trips: Mapping[TripKey, Trip], event: Mapping[str, Any]) -> TripKey | None:
    """The trip an actual gate-out (GTOT) without reference ends: the one whose box was last
    discharged (actual DISC) at the gate-out's port before it, within :data:`GATE_OUT_WITHIN`,
    and neither gated out nor loaded again since, of the gate-out's voyage when it names one;
    None otherwise (an EDI review: such a gate-out made a trip of its own, and the import trip
    stayed "in port" in the queue; a regression review's naming only a reused voyage did so
    too). Other events without reference keep trips of their own: what they are about
    cannot be told."""
    if event.get("event_type") != "GTOT" or event.get("classifier", "ACT") != "ACT" or not event.get("unlocode"):
        return None
    when = event["event_time"]
    voyage = event.get("export_voyage") or event.get("import_voyage") or ""
    best: tuple[Any, TripKey] | None = None
    for key, trip in trips.items():
        if voyage and voyage not in _voyages_of(trip):
            continue  # one naming a voyage ends a trip of that voyage only
        last = None
        for e in sorted(trip.events, key=_at):  # events placed by voyage came after those with a reference
            if e.get("classifier", "ACT") != "ACT" or e["event_time"] >= when:
                continue
            if e.get("event_type") == "DISC":
                last = e if e.get("unlocode") == event["unlocode"] else None
            elif e.get("event_type") in ("GTOT", "LOAD") and last is not None:
                last = None  # gone since, or loaded onward
        if last is not None and when - last["event_time"] <= GATE_OUT_WITHIN and (
                best is None or last["event_time"] > best[0]):
            best = (last["event_time"], key)
    return best[1] if best else None


def _gone_before(trip: Trip, when: Any) -> bool:
    """Whether the trip had ended before ``when``: an actual gate-out after an actual discharge
    (the box left the port of discharge) that no actual load or discharge of the trip followed.
    A voyage number is reused, so an event naming only the voyage, after that, belongs to the
    box's next journey. A load or discharge of the trip after the gate-out is the same journey
    going on: a box taken by land between two ports of a transshipment (Balboa to Manzanillo by
    rail; a trip review's Antwerp discharge, and the mother vessel's load sent by a terminal,
    made trips of their own)."""
    moved = [e["event_time"] for e in trip.events
             if e.get("event_type") in ("LOAD", "DISC") and e.get("classifier", "ACT") == "ACT"]
    return any(end < when and not any(t > end for t in moved) for end in _journey_ends(trip.events))


# --- The facts of one trip, as risk indicators see them --------------------------------------
#
# Built by the scoring workflow from the store (events, transport document versions, vessel
# positions, party history, watchlist matches) and stored with each assessment, so any past
# score can be recomputed from exactly what was known when it was made.


#: How far after its receipt an actual event or a document's issue date may lie (clocks, time
#: zones); later, it is flagged ``dated-in-future`` at ingest.
FUTURE_SLACK = timedelta(days=1)


def happened(event: TripEvent) -> bool:
    """Whether ``event`` could have happened as it says: not an actual event dated more than
    :data:`FUTURE_SLACK` after it was received. An attack review's gate-out dated 2098, flagged
    at ingest and kept as sent, took a high-risk box off the queue as gone and refused its scan."""
    return (event.classifier != "ACT" or event.received_at is None
            or event.event_time <= event.received_at + FUTURE_SLACK)


@dataclass(frozen=True, slots=True)
class TripEvent:
    """One event of a trip: ``kind`` EQUIPMENT / TRANSPORT / SHIPMENT / VGM / STOWAGE / REEFER / IOT,
    ``event_type`` as DCSA codes it (LOAD, DISC, GTIN, GTOT, ARRI, DEPA...), ``classifier``
    ACT / EST / PLN. Times are UTC. ``verified_gross_mass_kg`` (kg) on VGM declarations, bay
    plans' stowage positions and terminals' move reports and orders (COARRI, COPRAR, CODECO)."""

    kind: str
    event_type: str
    classifier: str
    event_time: datetime
    unlocode: str = ""
    facility_code: str = ""
    vessel_imo: str = ""
    empty: bool | None = None
    seals: tuple[str, ...] = ()
    iso_equipment_code: str = ""
    verified_gross_mass_kg: float | None = None
    received_at: datetime | None = None
    source: str = ""
    supplied_by: str = ""
    #: where a bay plan says the box was loaded and is to be discharged (BAPLIE LOC+9 and LOC+11
    #: of its stowage); other events: ""
    port_of_loading: str = ""
    port_of_discharge: str = ""
    #: the container's tare (kg) as a VGM declaration gives it; None otherwise
    tare_kg: float | None = None


def distinct_events(events: Iterable[TripEvent]) -> tuple[TripEvent, ...]:
    """``events`` (in order) with each one that says what an earlier one says (the same move,
    time, place, vessel, seals... whoever sent it) left out: the first received stands. An
    attack review's carrier re-sent a PICK and a DROP under new event ids: the trip counted
    "4 moves in the terminal after discharge (PICK 07:51, PICK 07:51, ...)" and its score rose
    from 26.67 to 40. Both stay stored as received."""
    seen: dict[tuple[Any, ...], list[TripEvent]] = {}  # by move, time and place: cheap, and rarely shared
    out = []
    for e in events:
        alike = seen.setdefault((e.event_type, e.classifier, e.event_time, e.unlocode, e.facility_code), [])
        said = replace(e, received_at=None, source="", supplied_by="") if alike else e
        if not alike or all(replace(a, received_at=None, source="", supplied_by="") != said for a in alike):
            alike.append(e)
            out.append(e)
    return tuple(out)


def trip_event(e: Mapping[str, Any]) -> TripEvent:
    """The :class:`TripEvent` a stored event says (a row of the event store as a dict: ``kind``,
    ``event_type``, ``classifier``, ``event_time``, ``unlocode``, ``facility_code``,
    ``vessel_imo``, ``details``, ``received_at``, ``source``, ``supplied_by``); times taken as
    UTC where naive. A VGM declaration its sender withdrew (``details.retracted``) says no mass
    and no seals."""
    d = e.get("details") or {}
    retracted = bool(d.get("retracted"))
    return TripEvent(
        kind=e["kind"], event_type=e["event_type"], classifier=e["classifier"], event_time=_as_utc(e["event_time"]),
        unlocode=e["unlocode"], facility_code=e["facility_code"], vessel_imo=e["vessel_imo"], empty=d.get("empty"),
        # a withdrawn VGM declaration's seals say nothing, as its mass (a regression review's
        # retracted declaration raised a changed seal)
        seals=() if retracted else tuple(s["number"] for s in d.get("seals") or [] if s.get("number")),
        iso_equipment_code=d.get("iso_equipment_code") or "",
        verified_gross_mass_kg=None if retracted else d.get("verified_gross_mass_kg"),
        tare_kg=None if retracted else d.get("tare_kg"),
        received_at=_as_utc(e["received_at"]) if e.get("received_at") else None, source=e["source"],
        supplied_by=e.get("supplied_by") or "",
        port_of_loading=str(d.get("port_of_loading") or "") if e["kind"] == "STOWAGE" else "",
        port_of_discharge=str(d.get("port_of_discharge") or "") if e["kind"] == "STOWAGE" else "")


def _as_utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def fold_repeats(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``events`` (stored events as :func:`trip_event` reads them, in the order shown) with each
    one that says what an earlier one says folded into that one, for showing: the same move as
    :func:`distinct_events` counts it (type, time, place, vessel, box, seals, masses), under the
    same container, booking and transport document references, retracted or not alike. Each
    event kept is a copy with ``repeats``: the folded ones as ``{"event_id", "source",
    "supplied_by", "received_at"}``, in order (empty when none). A carrier that re-sends an event
    under a new event id (the DCSA T&T 2.2 sample holds its LOAD and ARRI twice) showed it twice
    on the container's timeline, while scoring counted it once."""
    kept: dict[tuple[Any, ...], dict[str, Any]] = {}
    out = []
    for e in events:
        said = (replace(trip_event(e), received_at=None, source="", supplied_by=""), e.get("container_number") or "",
                e.get("booking_ref") or "", e.get("transport_document_ref") or "", e.get("retracted_by") or "")
        first = kept.get(said)
        if first is None:
            kept[said] = first = {**e, "repeats": []}
            out.append(first)
        else:
            first["repeats"].append({"event_id": e.get("event_id") or "", "source": e.get("source") or "",
                                     "supplied_by": e.get("supplied_by") or "", "received_at": e.get("received_at")})
    return out


#: TripEvent fields added after assessments were first stored: left out of a trip's stored
#: form while empty (:func:`facts_snapshot`), so trips that do not use them keep their digest
#: and are not re-scored for nothing after an upgrade.
_LATER_EVENT_FIELDS = ("port_of_loading", "port_of_discharge", "tare_kg")
#: TripDocument fields added later, left out the same way.
_LATER_DOCUMENT_FIELDS = ("issued_at",)


def facts_snapshot(facts: TripFacts) -> dict[str, Any]:
    """``facts`` in the JSON form stored with an assessment (:func:`trip_facts_from_dict` reads
    it back), without the empty values of :data:`_LATER_EVENT_FIELDS`."""
    snapshot = plain(facts)
    for items, names in ((snapshot["events"], _LATER_EVENT_FIELDS), (snapshot["documents"], _LATER_DOCUMENT_FIELDS)):
        for item in items:
            for name in names:
                if item.get(name) in ("", None) and name in item:
                    del item[name]
    return snapshot


@dataclass(frozen=True, slots=True)
class TripParty:
    """A party named on a transport document: ``role`` shipper / consignee / notify_party /
    carrier / ... (lower-case DCSA party function names)."""

    role: str
    name: str
    address: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class TripDocument:
    """One version of a transport document covering the trip's container, as received
    (``received_at``, UTC). Masses in kg; ``seals`` those listed for this container."""

    document_ref: str
    document_type: str
    received_at: datetime
    to_order: bool | None = None
    freight_payment: str = ""
    port_of_loading: str = ""
    port_of_discharge: str = ""
    parties: tuple[TripParty, ...] = ()
    hs_codes: tuple[str, ...] = ()
    descriptions: tuple[str, ...] = ()
    gross_mass_kg: float | None = None
    seals: tuple[str, ...] = ()
    source: str = ""
    carrier_code: str = ""  # SMDG liner code or SCAC of the carrier that issued the document
    supplied_by: str = ""  # organisation that supplied this version
    issued_at: datetime | None = None  # when the version says it was issued (UTC), if it does

    def party(self, role: str) -> TripParty | None:
        """The first party in ``role``, or None."""
        return next((p for p in self.parties if p.role == role), None)


@dataclass(frozen=True, slots=True)
class PartyHistory:
    """What the store knew about a party before this trip: when its name was first seen on a
    transport document (UTC) and on how many other trips."""

    name: str
    first_seen: datetime | None
    prior_trips: int


@dataclass(frozen=True, slots=True)
class VesselFix:
    """One AIS position of the trip's vessel: UTC time, WGS84 degrees, speed in knots."""

    observed_at: datetime
    latitude: float
    longitude: float
    speed_knots: float | None = None


@dataclass(frozen=True, slots=True)
class WatchlistMatch:
    """A party of the trip matched to a watchlist entry (score 0-100, from screening)."""

    role: str
    party_name: str
    entry_id: str
    entry_name: str
    list_name: str
    score: float


@dataclass(frozen=True, slots=True)
class TripFacts:
    """Everything known about one container trip at one moment (``as_of``, UTC).

    ``vessel_track`` is kept oldest first (sorted on construction when given out of order), so
    that indicators read windows of it with :meth:`track_between` instead of sorting it again
    for every trip of a vessel call.
    """

    key: TripKey
    as_of: datetime
    events: tuple[TripEvent, ...] = ()
    documents: tuple[TripDocument, ...] = ()
    consignee_history: PartyHistory | None = None
    vessel_track: tuple[VesselFix, ...] = ()
    watchlist_matches: tuple[WatchlistMatch, ...] = ()

    def __post_init__(self) -> None:
        track = tuple(self.vessel_track)  # a generator given is read once (a review: it was left empty)
        times = [f.observed_at for f in track]
        if any(map(gt, times, times[1:])):  # compared in C: a day's trips hold 650,000 fixes between them
            track = tuple(sorted(track, key=_observed_at))
        if track is not self.vessel_track:
            object.__setattr__(self, "vessel_track", track)

    def track_between(self, start: datetime, end: datetime) -> tuple[VesselFix, ...]:
        """The vessel's fixes observed in [start, end], oldest first."""
        track = self.vessel_track
        return track[bisect_left(track, start, key=_observed_at):bisect_right(track, end, key=_observed_at)]

    def longest_track_gap(self, start: datetime, end: datetime) -> tuple[timedelta, datetime] | None:
        """The longest silence between consecutive fixes observed in [start, end]: (its length,
        the time of the fix before it); the earliest when several are as long; None with fewer
        than two fixes."""
        fixes = self.track_between(start, end)
        if len(fixes) < 2:
            return None
        best, at = fixes[1].observed_at - fixes[0].observed_at, fixes[0].observed_at
        for a, b in zip(fixes[1:], fixes[2:]):
            gap = b.observed_at - a.observed_at
            if gap > best:
                best, at = gap, a.observed_at
        return best, at

    def silence_until(self, start: datetime, end: datetime) -> tuple[timedelta, datetime] | None:
        """How long the vessel had been silent at ``end``: (``end`` minus the last fix observed
        in [start, end], that fix's time); None when no fix falls in the window."""
        fixes = self.track_between(start, end)
        return (end - fixes[-1].observed_at, fixes[-1].observed_at) if fixes else None

    def latest_document(self) -> TripDocument | None:
        """The latest transport document version (:func:`in_version_order`: documents by when
        received, a document's versions by issue date where they give one; bills of lading
        before shipping instructions and bookings when at the same time); an arrival notice
        (ARN) only when the trip has no other document. A DCSA arrival notice restates part of
        the bill of lading (no "to order", no HS codes, no notify party): taken as the latest
        document, it silenced the bill of lading's indicators from the day it arrived, days
        before discharge (a carrier-data review)."""
        return latest_document_of(self.documents)

    def arrival(self) -> datetime | None:
        """When the box arrived: the last actual ARRI or DISC event's time, or None."""
        return arrival_time(self.events)

    def last_discharge(self) -> TripEvent | None:
        """The last actual discharge (DISC) of the trip, or None."""
        return next((e for e in reversed(self.events) if e.event_type == "DISC" and e.classifier == "ACT"), None)

    def destination(self) -> str:
        """The trip's port of discharge (UN/LOCODE) as its latest document names it, or ""."""
        doc = self.latest_document()
        return doc.port_of_discharge if doc is not None else ""

    def discharge_at_destination(self) -> TripEvent | None:
        """The last actual discharge (DISC) at the port of discharge (:meth:`destination`); a
        discharge at a transshipment port on the way is not one. Without a known port of
        discharge, the last actual discharge. None while the box has not got there."""
        port = self.destination()
        return next((e for e in reversed(self.events) if e.event_type == "DISC" and e.classifier == "ACT"
                     and (not port or e.unlocode == port)), None)

    def arrival_at_destination(self, local_ports: frozenset[str] = frozenset()) -> datetime | None:
        """When the box reached its port of discharge: the last actual ARRI or DISC there (UTC);
        without a known port of discharge, :meth:`arrival`, else the gate-in that brought it to
        a terminal of one of ``local_ports`` (UN/LOCODEs: the node's) by land
        (:meth:`gate_in_by_land`). None while it is on its way (a stop at a transshipment port
        is not its arrival)."""
        port = self.destination()
        if not port:
            arrived = self.arrival()
            if arrived is not None:
                return arrived
            gate_in = self.gate_in_by_land(local_ports)
            return gate_in.event_time if gate_in is not None else None
        return arrival_time(tuple(e for e in self.events if e.unlocode == port))

    def gate_in_by_land(self, local_ports: frozenset[str]) -> TripEvent | None:
        """The last actual gate-in (GTIN) at one of ``local_ports`` (UN/LOCODEs: the node's) of a
        trip that has no port of discharge and no actual ARRI or DISC: a box that came to a
        terminal here by road, rail or barge with no document saying where it goes (an empty
        gated in with no booking). It is there until a gate-out or a load aboard
        (:meth:`left_port_at`). None otherwise: a gate-in abroad is where a box's trip begins
        (a regression review's box gated in at Shanghai was scanned "here"). A targeting review:
        an empty gated in at the terminal, on top of the risk queue, was "not discharged here
        yet" and could not be scanned."""
        if not local_ports or self.destination() or self.arrival() is not None:
            return None
        return next((e for e in reversed(self.events) if e.event_type == "GTIN" and e.classifier == "ACT"
                     and e.unlocode in local_ports), None)

    def left_port_at(self, local_ports: frozenset[str] = frozenset()) -> datetime | None:
        """When the box left its port of discharge after the discharge there
        (:meth:`discharge_at_destination`), or the terminal after the gate-in that brought it
        there (:meth:`gate_in_by_land`): the first actual gate-out (GTOT) or load aboard (LOAD:
        transshipment or export) after it, UTC; None while it is still there, or when it has
        not been discharged there yet (at sea, or at a transshipment port on the way)."""
        there = self.discharge_at_destination() or self.gate_in_by_land(local_ports)
        if there is None:
            return None
        return next((e.event_time for e in self.events if e.classifier == "ACT" and e.event_type in ("GTOT", "LOAD")
                     and e.event_time >= there.event_time and e is not there and happened(e)), None)

    def gate_out_after(self, start: datetime) -> TripEvent | None:
        """The first actual gate-out (GTOT) at or after ``start`` that could have happened when
        received (:func:`happened`), or None."""
        return next((e for e in self.events if e.event_type == "GTOT" and e.classifier == "ACT"
                     and e.event_time >= start and happened(e)), None)

    def known_at(self, moment: datetime) -> TripFacts:
        """These facts as they could be known at ``moment`` (UTC).

        Events: those received by then, and actual events that had happened by then (history
        loaded afterwards carries its load time as received time; a box's next-day gate-out
        had not happened). Document versions: those received by then; when none was and no
        event of the trip had been received either (history loaded afterwards: a bill of lading
        exists before discharge), the first version received. A trip whose events were
        arriving then had no document yet (a review's backtest scored a box at sea with the bill
        of lading that arrived the next day, and selected it over the trip really on top).
        Vessel fixes observed by then. The consignee's history is kept only when it is of the
        consignee those documents name and was begun by then (a review's amendment received
        eleven months later named a new consignee, "first seen -337 days ago", on a past day);
        otherwise it is unknown. It and the watchlist matches are not kept per moment: a
        consignee's later trips may show in its count."""
        def known(e: TripEvent) -> bool:
            return ((e.received_at is not None and e.received_at <= moment)
                    or (e.classifier == "ACT" and e.event_time <= moment))

        documents = tuple(d for d in self.documents if d.received_at <= moment)
        if not documents and self.documents and not any(e.received_at is not None and e.received_at <= moment
                                                        for e in self.events):
            first = min(d.received_at for d in self.documents)
            documents = tuple(d for d in self.documents if d.received_at == first)
        history = self.consignee_history
        if history is not None and (history.name != consignee_name(documents)
                                    or history.first_seen is not None and history.first_seen > moment):
            history = None
        return TripFacts(
            self.key, min(moment, self.as_of), tuple(e for e in self.events if known(e)), documents,
            history, self.vessel_track[:bisect_right(self.vessel_track, moment, key=_observed_at)],
            self.watchlist_matches)

    def consignee_named_at(self) -> datetime:
        """When this trip's documents first named the consignee its :class:`PartyHistory` is
        about (UTC: the earliest of a naming document's issue date or, if none or later, its
        receipt, as the history counts its first sighting), else ``as_of``; never after
        ``as_of``. How new a consignee is, is measured to then: measured to the scoring time, a
        profile switch months later aged every consignee (a profile author's review: "first seen
        2025-12-25 (344 days ago)" on the trip that first named it)."""
        h = self.consignee_history
        key = " ".join((h.name if h is not None else "").lower().split())
        named = [d.received_at if d.issued_at is None else min(d.issued_at, d.received_at) for d in self.documents
                 if (p := d.party("consignee")) is not None and " ".join(p.name.lower().split()) == key]
        return min([*named, self.as_of]) if key else self.as_of

    def first_event(self, event_type: str, classifier: str = "ACT") -> TripEvent | None:
        """The earliest event of ``event_type`` (e.g. ``"DISC"``) with ``classifier``, or None."""
        return next((e for e in self.events if e.event_type == event_type and e.classifier == classifier), None)


def latest_document_of(documents: Sequence[TripDocument]) -> TripDocument | None:
    """:meth:`TripFacts.latest_document` of ``documents``: the last of :func:`in_version_order`
    (bills of lading after shipping instructions and bookings received at the same time).

    The answer for the last tuple of documents asked about in this thread is kept (the tuple
    held, so no other object can take its identity): the indicators of one trip ask for its
    latest document a dozen times over the same ``TripFacts.documents`` (the sorting was a
    quarter of scoring a simulated day). Tuples cannot change; other sequences are never kept."""
    kept = getattr(_LATEST, "pair", None)
    if kept is not None and kept[0] is documents:
        return kept[1]
    papers = [d for d in documents if d.document_type != "ARN"] or list(documents)
    docs = in_version_order(papers)
    latest = docs[-1] if docs else None
    if type(documents) is tuple:
        _LATEST.pair = (documents, latest)
    return latest


#: Per thread, the last (documents, latest document) :func:`latest_document_of` gave: a server
#: scoring in several threads keeps each thread's trip (one shared pair would be replaced
#: back and forth, correct but no longer saving anything).
_LATEST = threading.local()


_RANK = {"TRD": 0, "SHI": 1, "BKG": 2}


def in_version_order(documents: Sequence[TripDocument]) -> list[TripDocument]:
    """``documents`` in the order they were received (UTC; at the same time, bills of lading
    after shipping instructions and bookings), each document's versions among the places its
    versions take in that order put in the order they were made (:func:`made_order`). A
    terminal review: a B/L version issued earlier and received late (a retried webhook) was
    taken as the latest, and a "consignee changed" reason read backwards; a regression review:
    issue dates (a day) compared across documents put shipping instructions received on the
    B/L's issue day after it."""
    ordered = sorted(documents, key=lambda d: (d.received_at, -_RANK.get(d.document_type, 3)))
    places: dict[tuple[str, str], list[int]] = {}
    for i, d in enumerate(ordered):
        places.setdefault((d.document_type, d.document_ref), []).append(i)
    out = list(ordered)
    for at in places.values():
        group = [ordered[i] for i in at]
        keys = made_order([(d.issued_at, d.received_at) for d in group])
        for i, (_, d) in zip(at, sorted(zip(keys, group, strict=True), key=lambda kd: kd[0]), strict=True):
            out[i] = d
    return out


def made_order(versions: Sequence[tuple[datetime | None, datetime]]) -> list[tuple[date, time, datetime]]:
    """Sort keys that put one document's versions, each (issued or None, received; UTC), in the
    order they were made: a version that says when it was issued by that (an issue date
    without a time of day, read as 00:00, by its day, then by when received: a regression
    review's draft received at 09:00 outranked the B/L issued that day and received at 15:00);
    one that says a date after it was received (a typo, a date in the future) by when it was
    received; one that says no date right after the versions received before it (an EDI
    review's undated draft, received before the approved version dated the day before, had
    been placed by its receipt and outranked it, and the draft's consignee was screened)."""
    keys: list[tuple[date, time, datetime]] = [(date.min, time.min, r) for _, r in versions]
    before: tuple[date, time, datetime] | None = None  # the highest key of the versions received so far
    for i in sorted(range(len(versions)), key=lambda i: versions[i][1]):
        issued, received = versions[i]
        if issued is not None and issued <= received:
            keys[i] = (issued.date(), issued.time() if issued.time() != time(0) else received.time(), received)
        elif issued is not None:
            keys[i] = (received.date(), received.time(), received)
        elif before is not None:
            keys[i] = (before[0], before[1], received)
        before = keys[i] if before is None else max(before, keys[i])
    return keys


def screened_parties(documents: Sequence[TripDocument]) -> tuple[TripParty, ...]:
    """The parties a trip is screened on and matched against watchlist entries: those of its
    latest document (:func:`latest_document_of`) and of its latest arrival notice (which may
    name a consignee or notify party a "to order" bill does not, whichever came first), each
    party once: by role and name (case and spacing folded), with an address when one of them
    gives it (two different addresses are both kept). Regression reviews: screening read the
    notice's parties while the exchange's matching read the bill's, and a trip that matched a
    shared entry raised no alert; a later amendment of the bill dropped the notice's parties;
    one consignee with and without an address was matched twice."""
    latest = latest_document_of(documents)
    notices = [d for d in in_version_order(documents) if d.document_type == "ARN"]
    notice = None if latest is None or latest.document_type == "ARN" or not notices else notices[-1]
    kept: dict[tuple[str, str], list[TripParty]] = {}
    for party in (*(latest.parties if latest else ()), *(notice.parties if notice else ())):
        same = kept.setdefault((party.role, name_key(party.name)), [])
        if not same or (party.address.strip() and all(p.address.strip() != party.address.strip() for p in same)):
            same[:] = [p for p in same if p.address.strip()] + [party]
    return tuple(p for same in kept.values() for p in same)


def consignee_name(documents: Sequence[TripDocument]) -> str:
    """The consignee named on the latest (:func:`in_version_order`) of ``documents`` that names one
    ("" if none): whose history a trip's :class:`PartyHistory` is."""
    for d in reversed(in_version_order(documents)):
        party = d.party("consignee")
        if party is not None and party.name.strip():
            return party.name
    return ""


def _observed_at(fix: VesselFix) -> datetime:
    return fix.observed_at


def arrival_time(events: Sequence[TripEvent]) -> datetime | None:
    """The last actual ARRI or DISC event's time among ``events`` (oldest first), or None."""
    return next((e.event_time for e in reversed(events) if e.classifier == "ACT" and e.event_type in ("ARRI", "DISC")),
                None)


def vessel_arrival_time(events: Sequence[TripEvent]) -> datetime | None:
    """When the vessel that brought the box arrived at the port where the box arrived (the
    port of the last actual ARRI or DISC among ``events``, oldest first), by an actual ARRI
    transport event there (of the same vessel when both name one), or None. Not a box's DISC:
    boxes are discharged for hours after the vessel berths; nor an ARRI at a transshipment
    port (a regression review's Antwerp box read "silent until the vessel arrived" from the
    feeder's call at Panama)."""
    last = next((e for e in reversed(events) if e.classifier == "ACT" and e.event_type in ("ARRI", "DISC")), None)
    if last is None or not last.unlocode:
        return None
    return next((e.event_time for e in reversed(events)
                 if e.kind == "TRANSPORT" and e.classifier == "ACT" and e.event_type == "ARRI"
                 and e.unlocode == last.unlocode and e.event_time <= last.event_time
                 and not (e.vessel_imo and last.vessel_imo and e.vessel_imo != last.vessel_imo)), None)


def loaded_aboard_time(events: Sequence[TripEvent], before: datetime) -> datetime | None:
    """When the box was last loaded aboard (the last actual LOAD event) before ``before``
    (UTC), among ``events`` (oldest first), or None: the start of the voyage that brought it."""
    return next((e.event_time for e in reversed(events)
                 if e.classifier == "ACT" and e.event_type == "LOAD" and e.event_time < before), None)


def trip_facts_from_dict(data: Mapping[str, Any]) -> TripFacts:
    """Rebuild :class:`TripFacts` from its JSON form (as stored with an assessment).

    Raises KeyError or TypeError when ``data`` is not such a form.
    """
    def when(v: Any) -> datetime | None:
        return None if v is None else datetime.fromisoformat(v)

    def event(e: Mapping[str, Any]) -> TripEvent:
        return TripEvent(**{**e, "event_time": when(e["event_time"]), "received_at": when(e.get("received_at")),
                            "seals": tuple(e.get("seals", ()))})

    def document(d: Mapping[str, Any]) -> TripDocument:
        return TripDocument(**{**d, "received_at": when(d["received_at"]), "issued_at": when(d.get("issued_at")),
                               "parties": tuple(TripParty(**p) for p in d.get("parties", ())),
                               "hs_codes": tuple(d.get("hs_codes", ())), "descriptions": tuple(d.get("descriptions", ())),
                               "seals": tuple(d.get("seals", ()))})

    history = data.get("consignee_history")
    return TripFacts(
        key=TripKey(**data["key"]),
        as_of=datetime.fromisoformat(data["as_of"]),
        events=tuple(event(e) for e in data.get("events", ())),
        documents=tuple(document(d) for d in data.get("documents", ())),
        consignee_history=None if history is None else PartyHistory(
            history["name"], when(history.get("first_seen")), history["prior_trips"]),
        vessel_track=tuple(VesselFix(**{**f, "observed_at": when(f["observed_at"])}) for f in data.get("vessel_track", ())),
        watchlist_matches=tuple(WatchlistMatch(**m) for m in data.get("watchlist_matches", ())),
    )


@dataclass(frozen=True, slots=True)
class TripSummary:
    """What lists and access checks need of a trip: its owners' codes (the latest document's
    carrier code, the facility code of the terminal where it was discharged or handled last,
    the organisation that supplied its latest facts), its route and vessel, its arrival at its
    port of discharge and when it left that port (UTC; :meth:`TripFacts.arrival_at_destination`,
    :meth:`TripFacts.left_port_at`)."""

    carrier_code: str
    terminal_code: str
    supplied_by: str
    port_of_loading: str
    port_of_discharge: str
    vessel_imo: str
    arrival_at: datetime | None
    left_at: datetime | None


def trip_summary(facts: TripFacts, local_ports: frozenset[str] = frozenset(),
                 lines: Mapping[str, str] | None = None, line_codes: Mapping[str, str] | None = None) -> TripSummary:
    """Summarise ``facts`` (see :class:`TripSummary`). Ports come from the latest document, else
    from the first actual LOAD and the last actual DISC events, else from the bay plans (their
    ports of loading and discharge). The terminal (:func:`_terminal`) is the one holding the
    box on land, never one that loaded it aboard. ``local_ports``: UN/LOCODEs of the node's
    ports, where a box with no document gated in is (:meth:`TripFacts.gate_in_by_land`).
    The agency it belongs to (``supplied_by``): :func:`_owning_agency` (``lines``: the
    shipping lines and terminals of the node, each with the agency it feeds). The carrier code:
    the latest document's, else, without a document, :func:`_feeding_line`'s (``line_codes``:
    the node's shipping lines, each with its carrier code)."""
    doc = facts.latest_document()
    acts = [e for e in facts.events if e.classifier == "ACT"]
    disc = facts.last_discharge()
    load = next((e for e in acts if e.event_type == "LOAD"), None)
    supplier = _owning_agency(facts, doc, lines or {})
    loading = (doc.port_of_loading if doc is not None and doc.port_of_loading else
               load.unlocode if load is not None else
               next((e.port_of_loading for e in acts if e.kind == "STOWAGE" and e.port_of_loading), ""))
    discharge = (doc.port_of_discharge if doc is not None and doc.port_of_discharge else
                 disc.unlocode if disc is not None else
                 next((e.port_of_discharge for e in reversed(acts) if e.kind == "STOWAGE" and e.port_of_discharge), ""))
    return TripSummary(
        carrier_code=doc.carrier_code if doc is not None else _feeding_line(facts, lines or {}, line_codes or {}),
        terminal_code=_terminal(acts),
        supplied_by=supplier,
        port_of_loading=loading,
        port_of_discharge=discharge,
        vessel_imo=next((e.vessel_imo for e in reversed(facts.events) if e.vessel_imo), ""),
        arrival_at=facts.arrival_at_destination(local_ports),
        left_at=facts.left_port_at(local_ports),
    )


def _owning_agency(facts: TripFacts, doc: TripDocument | None, lines: Mapping[str, str]) -> str:
    """The organisation that supplied the trip's latest facts, as its owning agency: the latest
    document's supplier, else its latest event's, passing over those in ``lines`` (shipping
    lines and terminals: id -> the agency each feeds); when they alone supplied it, the agency
    the latest of them feeds. A carrier review: a line's own feed made trips owned by the line,
    which no officer could see, score or hold, and a line's bill of lading took a trip built of
    customs' events from them."""
    said = [*([doc.supplied_by] if doc is not None else []), *(e.supplied_by for e in reversed(facts.events))]
    said = [s for s in said if s]
    own = next((s for s in said if s not in lines), None)
    return own if own is not None else lines[said[0]] if said else ""


def _feeding_line(facts: TripFacts, lines: Mapping[str, str], line_codes: Mapping[str, str]) -> str:
    """The carrier code of the shipping line (``line_codes``: its id -> its code) that began a
    trip without documents (its event was received first) and supplied all of its events but
    terminals' moves (terminals: the organisations of ``lines`` with no code); else "". A
    carrier review: a line sending its Track & Trace events before its bill of lading could not
    see its own containers, nor be told of their holds (which come once the terminal reports
    the discharge). An agency's event or another line's keeps the trip off every line, and so
    does a trip a terminal began (a regression review's line took such a trip, and its hold
    notices, with one gate-out naming nothing)."""
    if not facts.events:
        return ""
    first = min(facts.events, key=lambda e: e.received_at or datetime.min.replace(tzinfo=UTC))
    others = {e.supplied_by for e in facts.events} - {first.supplied_by}
    terminals = lines.keys() - line_codes.keys()
    return line_codes.get(first.supplied_by, "") if others <= terminals else ""


def _terminal(acts: list[TripEvent]) -> str:
    """The SMDG terminal code of the trip's terminal, which owns it (:mod:`scheldt.domain.access`):
    the terminal that holds the box, or last held it, on land. After its last actual load (or
    bay plan on board) or discharge: a discharge's facility, else the last facility named after it; after a load (the
    box is aboard, no terminal holds it) only a facility named at another port (a gate-out whose
    discharge was not received), else "". Without either, the last facility named (a gate-in for
    loading, a gate-out). A terminal review: the terminal that loaded the box at Guayaquil owned
    its trip while at sea and read the hold Antwerp placed; a regression review: a terminal at
    the port whose box waits for transshipment or export had to own it."""
    ordered = sorted(acts, key=lambda e: e.event_time)
    # a bay plan of the box on board at departure (BAPLIE) is a load too (a regression review:
    # with no load message, the origin terminal's gate-in owned the trip at sea)
    moves = [e for e in ordered if e.kind == "EQUIPMENT" and e.event_type in ("LOAD", "DISC") or e.kind == "STOWAGE"]
    last = moves[-1] if moves else None
    discharged = last is not None and last.kind == "EQUIPMENT" and last.event_type == "DISC"
    if discharged and last.facility_code:  # type: ignore[union-attr]
        return last.facility_code  # type: ignore[union-attr]
    since = [e for e in ordered if last is None or e.event_time >= last.event_time and e is not last
             and (discharged or e.unlocode != last.unlocode)]  # after a load: at another port
    return next((e.facility_code for e in reversed(since) if e.facility_code), "")


@dataclass(frozen=True, slots=True)
class TripFilter:
    """Filters of a trip list, all optional: arrival date range [``arrived_from``,
    ``arrived_to``) in UTC, port of loading (UN/LOCODE), risk band, inspection status,
    on hold, container number, document reference, whether the box has left the port after
    discharge (``left``: True, left; False, still in port or at sea), whether it has reached
    its port of discharge (``arrived``)."""

    arrived_from: datetime | None = None
    arrived_to: datetime | None = None
    port_of_loading: str | None = None
    risk_band: str | None = None
    status: str | None = None
    on_hold: bool | None = None
    container_number: str | None = None
    document_ref: str | None = None
    left: bool | None = None
    arrived: bool | None = None
