"""Track & Trace events in the store: idempotent writes, retractions, container timelines."""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import itertools
import queue
import re
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice, product
from operator import attrgetter, gt, itemgetter
from typing import Any

import orjson
from sqlalchemy import or_, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool

from scheldt.domain.shipping import (
    MAX_VESSEL_NAME,
    MAX_VOYAGE,
    DocumentReference,
    EquipmentEvent,
    Event,
    IotEvent,
    ReeferEvent,
    ReportReplaced,
    Retraction,
    ShipmentEvent,
    StatusEvent,
    StowagePosition,
    TransportEvent,
    VgmDeclaration,
    named_document,
)
from scheldt.ingest.base import Rejection
from scheldt.store.db import take_write_lock
from scheldt.store.models import ShippingEventRow
from scheldt.store.rows import aware, edifact_message, fact_digest, fields_dict, fit
from scheldt.store.upsert import PostgresInsert, SqliteInsert, insert_ignore

#: How the store reads one event class (see :data:`_PLANS`).
_Plan = tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...], str]
_KINDS = {EquipmentEvent: "EQUIPMENT", TransportEvent: "TRANSPORT", ShipmentEvent: "SHIPMENT",
          IotEvent: "IOT", ReeferEvent: "REEFER", StowagePosition: "STOWAGE", StatusEvent: "STATUS",
          VgmDeclaration: "VGM"}
#: Longest value per column; an event with a longer one is rejected before it reaches the store.
LIMITS = {"event_id": 100, "event_type": 16, "classifier": 16, "vessel_name": MAX_VESSEL_NAME,
          "export_voyage": MAX_VOYAGE, "import_voyage": MAX_VOYAGE}
DEFAULT_LIMIT = 64
#: Events without a container that belong to the trips whose documents they name.
_CALL_KINDS = ("TRANSPORT", "SHIPMENT")


def _ref(documents: tuple[DocumentReference, ...], kinds: tuple[str, ...]) -> str:
    for d in documents:
        if d.kind in kinds:
            return d.value
    return ""


def _facts(event: Event, plan: _Plan | None = None) -> dict[str, Any]:
    """The event's facts (every field but ``source``) by name, its location and call as dicts:
    what ``fact_hash`` digests. ``plan``: its class's entry of :data:`_PLANS`, when looked up."""
    names, values, _, _ = plan or _PLANS.get(type(event)) or _plan(type(event))
    facts = dict(zip(names, values(event)))
    if event.location is not None:  # converted once here rather than for the digest and again for details
        facts["location"] = fields_dict(event.location)
    if event.transport_call is not None:
        facts["transport_call"] = fields_dict(event.transport_call)
    return facts


#: Facts read only since events of a class were first stored (a VGM's tare and carrier; the masses and
#: temperature of a terminal's equipment report, which a data review found read and dropped):
#: left out of ``fact_hash`` while unset, and a stored event whose digest is that of the facts
#: without them is the same one re-sent (:func:`_same_facts`): read before they were, it had
#: them too. By class: a bay plan's stowage position had its masses from the first.
_LATER_FACTS: dict[type, frozenset[str]] = {
    VgmDeclaration: frozenset({"tare_kg", "carrier_code", "seals"}),
    EquipmentEvent: frozenset({"verified_gross_mass_kg", "gross_mass_kg", "temperature_celsius"}),
}


def _digest(facts: dict[str, Any], cls: type, later: bool = True) -> str:
    """``fact_hash`` of the facts of an event of class ``cls`` (:func:`_facts`): its
    :data:`_LATER_FACTS` left out when unset (:func:`_said`), or (``later`` False) always."""
    late = _LATER_FACTS.get(cls)
    if not late:
        return fact_digest(facts)
    return fact_digest(_said(facts, cls) if later else {k: v for k, v in facts.items() if k not in late})


def _digests_before(facts: dict[str, Any], cls: type) -> Iterator[str]:
    """``fact_hash`` of the facts of an event of class ``cls`` as stored by a reader that read
    only some of its :data:`_LATER_FACTS`: each proper, non-empty part of them left out (a
    VGM's carrier, read since, stored with a declaration whose tare came later; a regression
    review's re-sent declaration with its tare was quarantined). The two ends, all and none,
    are :func:`_digest`'s."""
    said = _said(facts, cls)
    late = sorted(k for k in _LATER_FACTS.get(cls, ()) if k in said)
    for size in range(1, len(late)):
        for left_out in itertools.combinations(late, size):
            yield fact_digest({k: v for k, v in said.items() if k not in left_out})


def _said(facts: dict[str, Any], cls: type) -> dict[str, Any]:
    """An event's facts without its class's :data:`_LATER_FACTS` left unset (not said):
    ``facts`` itself when none is unset (not to be changed by the caller), else a copy."""
    unset = [k for k in _LATER_FACTS.get(cls, ()) if k in facts and facts[k] is None]
    if not unset:
        return facts
    said = facts.copy()  # the order of the rest kept (the digest sorts keys; details do not)
    for k in unset:
        del said[k]
    return said


def event_row(event: Event, supplied_by: str, received_at: datetime) -> dict[str, Any]:
    """The store row of a domain event: column values, ``details`` (the event's non-empty
    facts beyond the columns) and ``flags`` for the JSON columns. Those two may still hold
    dataclasses, tuples and datetimes: the store's JSON serialiser writes them as their plain
    form. ``fact_hash`` is the digest of the event's facts without its source."""
    plan = _PLANS.get(type(event)) or _plan(type(event))
    _, _, detail_names, kind = plan
    facts = _facts(event, plan)
    call = event.transport_call
    vessel = call.vessel if call else None
    location = event.location
    details = {k: v for k in detail_names
               if (v := facts[k]) is not None and (len(v) > 0 if isinstance(v, _SIZED) else True)}
    documents = event.documents
    return {
        "event_id": event.event_id,
        "fact_hash": _digest(facts, type(event)),
        "kind": kind,
        "event_type": facts.get("event_type", ""),
        "classifier": event.classifier,
        "event_time": event.event_time,
        "created_time": event.created_time,
        "container_number": facts.get("container_number", ""),
        "booking_ref": _ref(documents, ("BKG", "CBR")) if documents else "",
        "transport_document_ref": _ref(documents, ("TRD", "BOL")) if documents else "",
        "unlocode": (location.unlocode if location else "") or (call.unlocode if call else ""),
        "facility_code": (location.facility_code if location else "") or (call.facility_code if call else ""),
        "vessel_imo": vessel.imo if vessel else "",
        "vessel_name": vessel.name if vessel else "",
        "export_voyage": call.export_voyage if call else "",
        "import_voyage": call.import_voyage if call else "",
        "details": details,
        "flags": event.flags,
        "source": event.source,
        "supplied_by": supplied_by,
        "received_at": received_at,
    }


#: Per event class: its facts' names (every field but ``source``, in field order), one getter
#: of their values, the names that may go into ``details``, and the kind stored.
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type) -> _Plan:
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ("source", "updated"))
    plan = (names, attrgetter(*names), tuple(n for n in names if n not in _NOT_DETAILS), _KINDS[cls])
    _PLANS[cls] = plan
    return plan


_CHECKED = tuple((c.name, LIMITS.get(c.name, DEFAULT_LIMIT)) for c in ShippingEventRow.__table__.columns
                 if c.name not in ("id", "source", "details", "flags", "event_time", "created_time", "received_at",
                                   "retracted_by", "retracted_at"))
_CHECKED_NAMES = tuple(name for name, _ in _CHECKED)
_CHECKED_VALUES = itemgetter(*_CHECKED_NAMES)
_CHECKED_LIMITS = tuple(limit for _, limit in _CHECKED)


def unstorable(row: dict[str, Any]) -> tuple[str, str] | None:
    """(column, why) when a row cannot be stored, else None: a value that is not text (a number,
    true/false, null, an object or an array where the column holds text), holds a NUL character
    (which PostgreSQL text cannot hold; refused on both stores alike), or is longer than its
    column.

    ``row`` holds every checked column (as :func:`event_row` gives it)."""
    values = _CHECKED_VALUES(row)
    try:
        if "\x00" not in "".join(values) and not any(map(gt, map(len, values), _CHECKED_LIMITS)):
            return None
    except TypeError:  # a value that is not a string: found below
        pass
    for key, limit, value in zip(_CHECKED_NAMES, _CHECKED_LIMITS, values):
        if not isinstance(value, str):
            shown = "null" if value is None else f"{type(value).__name__} {_short(value)}"
            return key, f"{key} is {shown}, not text"
        if "\x00" in value:
            return key, f"{key} holds a NUL character (U+0000), which the store does not keep in text"
        if len(value) > limit:
            return key, f"{key} is {len(value)} characters long, at most {limit} are accepted"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_NOT_DETAILS = frozenset({"event_id", "classifier", "event_time", "created_time", "flags"})
#: Facts left out of ``details``: None and empty strings, tuples and lists.
_SIZED = (str, tuple, list)


#: Events per batch when a stream is stored (:meth:`EventRepository.add_stream`).
STREAM_BATCH = 5_000


#: While a stream is stored, the young generations are collected once per this many batches...
YOUNG_COLLECTION_BATCHES = 4
#: ... and every generation once per this many (a multiple of the former).
FULL_COLLECTION_BATCHES = 20


class _CollectPerBatch:
    """Automatic garbage collection paused while a stream of events is stored, and done every
    few batches instead (:meth:`batch_done`): the young generations after each
    :data:`YOUNG_COLLECTION_BATCHES`th, every generation after each
    :data:`FULL_COLLECTION_BATCHES`th.

    An event stream allocates some twenty tracked objects per event and almost never a cycle,
    so the collector's automatic passes (one per 700 allocations) cost a tenth of the ingest
    for nothing. A pass walks every object still alive (the batch being read and the one being
    inserted: some 100,000), about 6 ms, so one per batch still cost 4 % of a million-event
    ingest (benchmarks/ingest_throughput.py). The switch is process-wide: garbage of other
    threads waits for these passes too. The collector is left as it was found (enabled or
    not)."""

    def __enter__(self) -> _CollectPerBatch:
        self.was_enabled = gc.isenabled()
        self.batches = 0
        gc.disable()
        return self

    def batch_done(self) -> None:
        self.batches += 1
        if self.batches % FULL_COLLECTION_BATCHES == 0:
            gc.collect(2)
        elif self.batches % YOUNG_COLLECTION_BATCHES == 0:
            gc.collect(1)

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


def _by_id(events: Sequence[Event]) -> dict[str, Event]:
    """The events by id, the first of each id (as :func:`_rows` keeps it)."""
    out: dict[str, Event] = {}
    for e in events:
        out.setdefault(e.event_id, e)
    return out


def updatable(event: Event | None) -> bool:
    """Whether ``event``, sent again under its id with other facts and a later record time, is an
    update (a version of its own: :meth:`EventRepository._new_version`): one its reader marks
    ``updated``, a DCSA VGM declaration (VGM 1.0: sent again with a later ``declarationDateTime``)
    and a DCSA Track & Trace 3.0 event (sent again under its ``eventID`` with a later
    ``eventUpdatedDateTime``). Not a
    T&T 2.2 or 3.0-Beta-1 event (its ``eventCreatedDateTime`` says when it was made: its id with
    other facts is a sender's error, a clash; a regression review's v2.2 re-use moved a load to
    another box), nor a UN/EDIFACT move (its id is a digest of what it says)."""
    return event is not None and event.updated


def _later_version(event: Event, first: Event) -> bool:
    """Whether ``event`` is an update made after ``first`` under the same id (:func:`updatable`;
    a regression review's update sent in the file of its first version was refused as a clash)."""
    return (updatable(event) and event.created_time is not None and first.created_time is not None
            and event.created_time > first.created_time)


def _made_after(row: dict[str, Any], stored: tuple[str, str, datetime | None, list[Any]]) -> bool:
    """Whether ``row`` was made after the stored first version ``stored`` (fact hash, source,
    record time, flags): for an updatable event (:func:`updatable`), a version of its own even
    with the first one's facts (a correction undone, an update after a withdrawal)."""
    made = row.get("created_time")
    return made is not None and stored[2] is not None and aware(made) > stored[2]


def _replaced_since(row: dict[str, Any], withdrawn_by: str) -> bool:
    """Whether the move or stowage position ``row`` was withdrawn by a replacement of the report
    its own message belongs to (``withdrawn_by``: :func:`~scheldt.domain.shipping.replaced_mark`),
    made after that message: the replaced report sent again (a regression review's re-sent
    original, in a new file, put the move its replacement had dropped back in the queue)."""
    named = _REPORT.search(row["source"] or "")
    kind = row["event_id"].split("-")[1].upper() if row["event_id"].startswith("edi-") else ""
    if named is None or not withdrawn_by.startswith(prefix := f"replaced:{kind}:{named.group(1)}:"):
        return False
    try:
        replaced_at = datetime.fromisoformat(withdrawn_by[len(prefix):])
    except ValueError:  # a replacement without a message date cannot be ordered: the report stated it again
        return False
    made = row.get("created_time")
    return made is None or aware(made) <= replaced_at


#: The report (BGM document number) a move's or stowage position's source names.
_REPORT = re.compile(r" BGM (.+) (?:EQD|cell) \S*$")


def _utc_text(moment: datetime) -> str:
    return f"{aware(moment).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _same_facts(event: Event | None, stored: tuple[str, str, datetime | None, list[Any]],
                before: bool = True) -> bool:
    """Whether ``event`` has the stored facts (``stored``: fact hash, source, created time,
    flags) but for its ``created_time`` and its flags: what Scheldt's readers say of a record
    (an envelope's UNT count or UNZ reference, a flag a newer reader raises), not what its
    sender states (an ingest review's bay plan re-sent with only a corrected UNT count had every
    position quarantined)."""
    if event is None:
        return False
    flags = tuple(stored[3] or ())
    as_stored = dataclasses.replace(event, created_time=stored[2], flags=flags)
    # stored before its later facts were read (a VGM's tare: a review's re-sent declaration);
    # not so ``before`` False: the event earlier in the same batch (a regression review's second
    # copy in one file, with a tare, was taken for the first)
    cls = type(event)
    if not before:
        return stored[0] == _digest(_facts(as_stored), cls)
    return any(stored[0] in (_digest(f := _facts(reading), cls), _digest(f, cls, later=False))
               or stored[0] in _digests_before(f, cls) for reading in (as_stored, *_earlier_readings(as_stored)))


def _without_named_document(event: ShipmentEvent) -> ShipmentEvent:
    """A DCSA shipment event as read before its ``documentID`` was one of its references
    (:func:`scheldt.ingest.dcsa_events.named_document`): stored so, re-sent, it adds nothing."""
    named = named_document(event.document_type, event.document_id)
    return dataclasses.replace(event, documents=tuple(d for d in event.documents if d != named))


#: A seal source as the UN/EDIFACT readers may have read it before they read UN/EDIFACT 9303
#: right (AA consolidator and AB unknown as CUS, AC quarantine agency as SHI): what each source
#: read now may have been.
_EARLIER_SEAL_SOURCES = {"SHI": ("CUS",), "": ("CUS", "SHI")}
#: Combinations of earlier seal sources tried for one event, at most (three seals each "").
_MOST_READINGS = 27


def _earlier_readings(event: Event) -> Iterator[Event]:
    """``event``, read from UN/EDIFACT, as the readers may have read it before a correction
    (a regression review: a bay plan or a terminal report loaded before, sent again, had every
    record quarantined as "other facts"): its seals' sources by :data:`_EARLIER_SEAL_SOURCES`,
    and a bay plan's ports of loading and discharge as none (SMDG 1.x LOC+6 and LOC+12 were
    not read), and a move's terminal as none where only its container group named it (an EDI
    review: SMDG CODECOs give LOC+165 with the terminal there, which was not read), and a full
    box as neither full nor empty (UN/EDIFACT 8169 codes but 4 and 5 were not read before
    2026-12-07). Not for DCSA events, whose seal sources are the sender's own words; a DCSA
    shipment event, as read before its ``documentID`` was one of its references; a VGM
    declaration as read before its vessel and voyage were (``vesselVoyageDetails``, read since
    2026-12-07: a declaration stored before, sent again, was quarantined as "other facts")."""
    if isinstance(event, VgmDeclaration):
        if event.transport_call is not None:
            yield dataclasses.replace(event, transport_call=None)
        return
    if isinstance(event, ShipmentEvent):
        if (without := _without_named_document(event)) != event:
            yield without
        return
    if " EQD " not in event.source and " cell " not in event.source:
        return
    bases = [event]
    if " EQD " in event.source and event.location is not None and event.location.facility_code:
        bases.append(dataclasses.replace(event, location=dataclasses.replace(event.location, facility_code="")))
    if isinstance(event, EquipmentEvent) and event.empty is False:  # full/empty codes other than 4 and 5 were not read
        bases += [dataclasses.replace(b, empty=None) for b in bases]
    seals = getattr(event, "seals", ())
    choices = [(s.source, *_EARLIER_SEAL_SOURCES.get(s.source, ())) for s in seals]
    ported = isinstance(event, StowagePosition) and bool(event.port_of_loading or event.port_of_discharge)
    for base in bases:
        for sources in islice(product(*choices), _MOST_READINGS):
            changed = dataclasses.replace(base, seals=tuple(dataclasses.replace(s, source=src)  # type: ignore[call-arg]
                                                            for s, src in zip(seals, sources, strict=True))) \
                if seals else base
            if changed != event:
                yield changed
            if ported:
                yield dataclasses.replace(changed, port_of_loading="", port_of_discharge="")  # type: ignore[call-arg]


def _as_received(event: Event | None) -> str:
    """An event's facts as read (JSON, at most 20,000 characters), for the quarantine: a clash
    kept none, and the corrected value a sender re-sent was found nowhere (an ingest review).
    Not where it was read (its ``where`` says that): the record keys the quarantine, and the
    same clash from a file of another name was kept again (an idempotency review)."""
    if event is None:
        return ""
    return orjson.dumps(_said(_facts(event), type(event)), default=str).decode()[:20_000]


def _chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    it = iter(events)
    while chunk := list(islice(it, size)):
        yield chunk


def _rows(events: Iterable[Event], supplied_by: str, received_at: datetime) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """Store rows of ``events`` and a Rejection for each event a column cannot hold or whose id
    appears earlier in ``events`` with other facts. An event whose id appears earlier with the
    same facts, but for its record time and flags (:func:`_same_facts`: a bay plan sent twice in
    one interchange under a new DTM+137), is the same fact again and left out."""
    rows, rejected = [], []
    batch: dict[str, tuple[str, Event]] = {}
    for event in events:
        try:
            row = event_row(event, supplied_by, received_at)
        except orjson.JSONEncodeError as exc:  # a lone surrogate, an integer beyond 64 bits...
            rejected.append(Rejection(event.source, "", f"the event holds a value the store cannot write: {exc}"))
            continue
        problem = unstorable(row)
        if problem is not None:
            problem = _mend(row, problem)
        first = batch.get(event.event_id) if problem is None else None
        if first is not None and _later_version(event, first[1]):
            rows.append(row)  # an update in the same file (:meth:`EventRepository._new_version`)
            batch[event.event_id] = (row["fact_hash"], event)
            continue
        if first is not None:
            if first[0] == row["fact_hash"] or _same_facts(event, (first[0], "", first[1].created_time,
                                                                   list(first[1].flags)), before=False):
                continue
            rejected.append(Rejection(event.source, "eventID", f"event id {event.event_id} appears twice in this batch "
                                      "with other facts; the first is kept", _as_received(event)))
            continue
        if problem is None:
            batch[event.event_id] = (row["fact_hash"], event)
            rows.append(row)
        else:
            rejected.append(Rejection(event.source, *problem))
    return rows, rejected


#: Columns whose over-long text is cut to fit and flagged rather than the event rejected: names
#: and voyage numbers sent long (a review's 71-character voyage in a bay plan's TDT rejected all
#: 642 containers); identifiers (container, references, event id) are never cut.
CUT_TO_FIT = frozenset({"export_voyage", "import_voyage", "vessel_name"})


def _mend(row: dict[str, Any], problem: tuple[str, str]) -> tuple[str, str] | None:
    """Mend ``row`` where :data:`CUT_TO_FIT` columns are too long or hold NUL characters (a
    long voyage or vessel name is cut and flagged, not the event lost), each column once (a
    problem a cut cannot mend looped for ever); the problem left, if any."""
    mended: set[str] = set()
    while problem is not None and problem[0] in CUT_TO_FIT - mended and isinstance(row[problem[0]], str):
        mended.add(problem[0])
        problem = _cut(row, problem[0])
    return problem


def _cut(row: dict[str, Any], column: str) -> tuple[str, str] | None:
    """Take NUL characters out of ``row[column]`` and cut it to its column, flagging each
    (``nul-removed``, ``cut-to-fit``), and check the row again."""
    flags: list[Any] = list(row["flags"])
    name = column.replace("_", " ")
    value = row[column]
    if "\x00" in value:  # an attack review's vessel name with a NUL hung the ingest
        value = value.replace("\x00", "")
        flags.append({"field": name, "code": "nul-removed", "why": f"{name} held NUL characters (U+0000), which the "
                      "store does not keep in text; they are left out"})
    row[column] = fit(value, LIMITS.get(column, DEFAULT_LIMIT), name, flags)
    row["flags"] = tuple(flags)
    return unstorable(row)


def _one_thread_only(session: Session) -> bool:
    """True where the session's connection may not be used from a helper thread: an in-memory
    SQLite database, whose connection SQLAlchemy opens per thread and for that thread only."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite" and (isinstance(bind.pool, SingletonThreadPool)
                                              or bind.url.database in (None, "", ":memory:"))


#: How long before its own date an EDIFACT cancellation of a move without a time of its own
#: looks for the move it withdraws (dated by its message): a sender cancels a report within days
#: (assumption; a move further back is another journey's).
UNTIMED_CANCELLATION_WINDOW = timedelta(days=7)


#: The PostgreSQL advisory lock that serialises ingests (:meth:`EventRepository.lock_ingest`).
INGEST_LOCK_KEY = 0x5C4E_1A6E_5700_0001


class EventRepository:
    """Shipping events in one session (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_ingest(self) -> None:
        """Serialise ingests from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): an ingest waits for one already running to
        commit. An operator review's two ingests of the same boxes in other orders deadlocked
        on PostgreSQL, and the loser's whole run was rolled back."""
        take_write_lock(self.session, INGEST_LOCK_KEY, ShippingEventRow.__table__)

    def add(self, events: Sequence[Event], supplied_by: str, received_at: datetime) -> tuple[int, list[Rejection]]:
        """Store events; an event id already received from the same organisation is skipped.

        Returns how many were new, and a Rejection for each event a column cannot hold and for
        each id that was received before with other facts (the first is kept). Stored facts are
        looked up only when some rows were not inserted, so a fresh load costs no lookups.
        """
        rows, rejected = _rows(events, supplied_by, received_at)
        added, clashes = self._insert(self._stored_under_bare_ids(rows, events, supplied_by), supplied_by, events)
        return added, rejected + clashes

    def _stored_under_bare_ids(self, rows: list[dict[str, Any]], events: Sequence[Event],
                               supplied_by: str) -> list[dict[str, Any]]:
        """``rows`` without the CloudEvents notifications (id ``<source>#<id>``:
        :func:`scheldt.ingest.dcsa_documents._notification_id`) stored before under their bare
        ``id`` with the same facts: sent again after the upgrade that keyed them by their source,
        they are the same fact (a regression review's re-sent notification was stored twice)."""
        renamed = {r["event_id"] for r in rows if r["kind"] == _KINDS[ShipmentEvent] and "#" in r["event_id"]}
        if not renamed:
            return rows
        sent = {e.event_id: e for e in events if e.event_id in renamed}
        bare = {i: i.rsplit("#", 1)[1] for i in sent}
        stored = self._hashes(sorted(bare.values()), supplied_by)
        repeated = {i for i, b in bare.items() if (old := stored.get(b)) is not None
                    and old[0] == _digest(_facts(dataclasses.replace(sent[i], event_id=b)), ShipmentEvent)}
        return [r for r in rows if r["event_id"] not in repeated]

    def add_stream(self, events: Iterable[Event], supplied_by: str, received_at: datetime,
                   batch: int = STREAM_BATCH) -> tuple[int, list[Rejection]]:
        """:meth:`add` for a stream of events, ``batch`` at a time; returns the totals (new
        events; rejections in the order :meth:`add` gives them, batch after batch).

        Holds at most three batches. A helper thread inserts one batch while the next is read
        and prepared here, so the database's insert runs beside the reading: PostgreSQL's in the
        server, SQLite's in the driver with the GIL released (:class:`SqliteInsert`); an
        in-memory SQLite database is written from this thread. The caller must not use this
        session until the call returns. An exception from either side stops
        both and is raised here, the transaction left to the caller to roll back. Automatic
        garbage collection is paused meanwhile and done every few batches (:class:`_CollectPerBatch`).
        """
        chunks = _chunks(events, batch)
        make = SqliteInsert if self.session.get_bind().dialect.name == "sqlite" else PostgresInsert
        built: list[SqliteInsert | PostgresInsert] = []

        def prepare(rows: list[dict[str, Any]]) -> Any:
            if rows and not built:  # built here, on the session's thread
                built.append(make(self.session, ShippingEventRow.__table__, list(rows[0])))
            return built[0].prepare(rows) if rows else None

        def insert(prepared: Any) -> int:
            return 0 if prepared is None else built[0].run(prepared)

        with _CollectPerBatch() as collector:
            if _one_thread_only(self.session):
                added, rejected = 0, []
                for chunk in chunks:
                    n, why = self.add(chunk, supplied_by, received_at)
                    added += n
                    rejected += why
                    collector.batch_done()
                return added, rejected
            return self._add_beside(chunks, supplied_by, received_at, collector, prepare, insert)

    def _add_beside(self, chunks: Iterator[list[Event]], supplied_by: str, received_at: datetime,
                    collector: _CollectPerBatch, prepare: Callable[[list[dict[str, Any]]], Any],
                    insert: Callable[[Any], int]) -> tuple[int, list[Rejection]]:
        """Prepare rows here (``prepare`` turns store rows into what ``insert`` takes), insert
        them in a helper thread (``insert`` returns how many were new); see :meth:`add_stream`."""
        todo: queue.Queue[tuple[list[dict[str, Any]], Any, Sequence[Event]] | None] = queue.Queue(maxsize=1)
        done: list[tuple[int, list[Rejection]]] = []
        failed: list[BaseException] = []

        def write() -> None:
            while (job := todo.get()) is not None:
                if not failed:
                    try:
                        rows, prepared_rows, sent = job
                        done.append(self._check_clashes(rows, insert(prepared_rows), supplied_by, sent))
                    except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
                        failed.append(exc)

        writer = threading.Thread(target=write, name="scheldt-event-writer", daemon=True)
        writer.start()
        prepared: list[list[Rejection]] = []
        try:
            for chunk in chunks:
                rows, rejected = _rows(chunk, supplied_by, received_at)
                prepared.append(rejected)
                todo.put((rows, prepare(rows), chunk))
                collector.batch_done()
                if failed:
                    break
        finally:
            todo.put(None)
            writer.join()
        if failed:
            raise failed[0]
        added, rejected = 0, []
        for before, (n, clashes) in zip(prepared, done, strict=True):
            added += n
            rejected += before + clashes
        return added, rejected

    def _insert(self, rows: list[dict[str, Any]], supplied_by: str,
                sent: Sequence[Event]) -> tuple[int, list[Rejection]]:
        """Insert prepared rows, skipping known ids; (how many were new, id clashes)."""
        return self._check_clashes(rows, insert_ignore(self.session, ShippingEventRow.__table__, rows), supplied_by,
                                   sent)

    def _check_clashes(self, rows: list[dict[str, Any]], added: int, supplied_by: str,
                       sent: Sequence[Event]) -> tuple[int, list[Rejection]]:
        """(``added``, a Rejection for each of ``rows`` whose id was stored before with other
        facts); the store is asked only when fewer than all rows were new. ``sent``: the events
        the rows were made from. An event that differs from the stored one only in when its
        record was made (``created_time``: a re-sent UN/EDIFACT message's new document date,
        DTM+137, which every event of the message carries) is the same fact again, not a clash:
        a review's BAPLIE re-sent with a new date had every position quarantined."""
        rejected = []
        if added < len(rows):
            known = self._hashes([r["event_id"] for r in rows], supplied_by)
            events = _by_id(sent)
            # a declaration and its update share an id in one batch: each row's own event by its time too
            made = {(e.event_id, e.created_time): e for e in sent}
            again = []
            for r in rows:
                stored = known.get(r["event_id"])
                if stored is None:
                    continue
                event = made.get((r["event_id"], r.get("created_time")), events.get(r["event_id"]))
                same = stored[0] == r["fact_hash"] or _same_facts(event, stored)
                if same and not (updatable(event) and _made_after(r, stored)):  # the first version sent again
                    if r["event_id"].startswith("edi-") and (edifact_message(r["source"])
                                                             != edifact_message(stored[1])):
                        again.append(r)
                    continue
                versioned, why = self._new_version(r, event, supplied_by) if updatable(event) else (None, "")
                if versioned is not None:
                    added += versioned
                    continue
                if same:
                    continue
                rejected.append(Rejection(r["source"], "eventID", why or f"event id {r['event_id']} was already "
                                          f"received with other facts (from {stored[1]}); the first is kept",
                                          _as_received(events.get(r["event_id"]))))
            added += self._reported_again(again, supplied_by)
        return added, rejected

    def _reported_again(self, rows: list[dict[str, Any]], supplied_by: str) -> int:
        """Store again, as ``<id>@again-<hash of the reporting message>``, each UN/EDIFACT move
        of ``rows`` whose stored copy its sender withdrew (a cancellation) and that another
        message now reports (``rows``: moves whose facts are stored, read from a message other
        than the stored copy's: :func:`_message`), unless such a copy stands already; returns
        how many. A terminal review's gate-out, cancelled and then reported again by a new
        CODECO, stayed withdrawn: the box was shown in port and a scan was planned on it."""
        if not rows:
            return 0
        t = ShippingEventRow
        ids = sorted({r["event_id"] for r in rows})
        withdrawn: dict[str, str] = {}
        for start in range(0, len(ids), 5000):  # as :meth:`_hashes` reads them
            withdrawn.update((i, by) for i, by in self.session.execute(select(t.event_id, t.retracted_by).where(
                t.supplied_by == supplied_by, t.event_id.in_(ids[start:start + 5000]), t.retracted_by.is_not(None))))
        added = 0
        for r in rows:
            if r["event_id"] not in withdrawn or _replaced_since(r, withdrawn[r["event_id"]]):
                continue
            standing = self.session.scalar(select(t.id).where(
                t.supplied_by == supplied_by, t.retracted_by.is_(None),
                t.event_id.startswith(f"{r['event_id']}@", autoescape=True)).limit(1))
            if standing is None:  # named by the message that reported it again: one copy per report
                report = hashlib.sha256(edifact_message(r["source"]).encode()).hexdigest()[:16]
                copy = {**r, "event_id": f"{r['event_id']}@again-{report}"}
                added += insert_ignore(self.session, t.__table__, [copy])
        return added

    def _new_version(self, row: dict[str, Any], event: Event | None, supplied_by: str) -> tuple[int | None, str]:
        """Store an event sent again under its id with other facts and a later record time
        (``created_time``) as a version of its own, id ``<id>@<record time UTC>``, and mark the
        earlier versions retracted by it: a VGM declaration under its ``declarationReference``
        with a later ``declarationDateTime`` (DCSA VGM 1.0: a declaration is updated, or
        withdrawn with ``isRetracted``, by sending it again so), a Track & Trace event under its
        ``eventID`` with a later ``eventUpdatedDateTime`` (DCSA T&T 3.0), see :func:`updatable`;
        ``event``: the domain event ``row`` was made from. Made after the latest version, it is
        stored even with that version's facts: its time decides which dated withdrawals take it
        (a regression review's update, sent after a withdrawal with the withdrawn facts, was
        dropped, and the event stayed withdrawn). Returns (1, "") when stored, (0, "") when it
        adds nothing (that version stored already, or an earlier version sent again late), (None,
        why) when it is no update (made before the latest version with facts no version has:
        ``why`` names the latest), (None, "") for another version made at the same time, one
        without a record time, or an event that is not updatable: then it clashes as before. Reviews:
        a corrected weight and a withdrawal were refused, and the wrong VGM kept counting; a
        carrier's corrected gate-in time (the same eventID, updated) was quarantined as a clash,
        and the wrong time kept counting; a correction undone (sent again with the first
        version's facts, updated later) was taken for the first version sent again, and the
        wrong correction stayed in force."""
        if not updatable(event) or row.get("created_time") is None:
            return None, ""
        t, base = ShippingEventRow, row["event_id"]
        named = or_(t.event_id == base, t.event_id.startswith(f"{base}@", autoescape=True))
        versions = self.session.execute(select(t.event_id, t.created_time, t.fact_hash, t.source, t.flags).where(
            t.supplied_by == supplied_by, named)).all()
        made = aware(row["created_time"]).astimezone(UTC)
        version_id = f"{base}@{made.isoformat()}"
        same = next((v for v in versions if v.event_id == version_id), None)
        if same is not None:
            return (0, "") if same.fact_hash == row["fact_hash"] else (None, "")
        if len(version_id) > LIMITS["event_id"] or any(v.created_time is None for v in versions):
            return None, ""
        latest = max(versions, key=lambda v: aware(v.created_time))
        if aware(latest.created_time) > made:
            if any(_same_facts(event, (v.fact_hash, v.source, aware(v.created_time), v.flags)) for v in versions):
                return 0, ""  # an earlier version sent again late
            return None, (f"event id {base} was already received with other facts, made later ("
                          f"{_utc_text(latest.created_time)}, from {latest.source}) than these "
                          f"({_utc_text(made)}): the later version is kept")
        if aware(latest.created_time) == made:
            return None, ""
        insert_ignore(self.session, t.__table__, [{**row, "event_id": version_id}])
        self.session.execute(update(t).where(t.supplied_by == supplied_by, t.retracted_by.is_(None),
                                             t.event_id.in_([v.event_id for v in versions]))
                             .values(retracted_by=version_id, retracted_at=row["received_at"]))
        return 1, ""

    def _hashes(self, ids: Sequence[str], supplied_by: str) -> dict[str, tuple[str, str, datetime | None, list[Any]]]:
        """Stored fact hash, source, record time (``created_time``) and flags of each of ``ids``
        received from ``supplied_by``."""
        out: dict[str, tuple[str, str, datetime | None, list[Any]]] = {}
        unique = sorted(set(ids))
        t = ShippingEventRow
        for start in range(0, len(unique), 5000):
            stmt = select(t.event_id, t.fact_hash, t.source, t.created_time, t.flags).where(
                t.supplied_by == supplied_by, t.event_id.in_(unique[start:start + 5000]))
            out.update({i: (h, src, aware(made), flags) for i, h, src, made, flags in self.session.execute(stmt)})
        return out

    def retract(self, retractions: Sequence[Retraction | ReportReplaced], supplied_by: str,
                received_at: datetime) -> list[tuple[Retraction, str]]:
        """Mark the events ``retractions`` withdraw (kept, never deleted), retracted at
        ``received_at`` (UTC); an event retracted before stays as it was (a re-sent retraction
        changes nothing). A retraction with ``untimed_move`` that names no stored event by id
        withdraws the organisation's latest move of that container, type, place, voyage and
        document references that was dated by its message (event time = created time) within
        :data:`UNTIMED_CANCELLATION_WINDOW` before the retraction's own date, and, for a gate
        move, not followed by a discharge or load of the box (not withdrawn) before that date:
        the box's previous journey's. When that move was withdrawn already (the cancellation
        re-sent), nothing changes; when an earlier such move was withdrawn and a later one was
        not (a correction sent after a cancellation, or this cancellation re-sent: they cannot
        be told apart), nothing is withdrawn and the retraction is returned with why. Returns
        the retractions not applied, each with why: ``""`` for an event this organisation never
        sent. A dated withdrawal of a DCSA event withdraws its first version and its versions
        (:meth:`_new_version`) made up to the withdrawal's date; a version made after it stands,
        and the withdrawal is returned, saying so (sent late or again, it took the update in
        force out of targeting). A :class:`ReportReplaced` withdraws what its report said before
        (:meth:`_replace_report`)."""
        unknown: list[tuple[Retraction, str]] = []
        t = ShippingEventRow
        replacements = [r for r in retractions if isinstance(r, ReportReplaced)]
        for r in retractions:
            if isinstance(r, ReportReplaced):
                # what a later replacement of the report in the same batch states stands (a regression
                # review's interchange of two replacements kept only the boxes both stated)
                later = [o.kept for o in replacements if (o.message_type, o.report) == (r.message_type, r.report)
                         and o.created_time is not None and r.created_time is not None
                         and o.created_time > r.created_time]
                self._replace_report(r, supplied_by, received_at, frozenset().union(*later))
                continue
            mine = (t.supplied_by == supplied_by, t.event_id == r.retracted_event_id)
            kind = self.session.scalar(select(t.kind).where(*mine))
            if kind is not None:
                # its versions (:meth:`_new_version`), a move reported again (:meth:`_reported_again`), too
                mine = (t.supplied_by == supplied_by, or_(t.event_id == r.retracted_event_id, t.event_id.startswith(
                    f"{r.retracted_event_id}@", autoescape=True)))
                if not r.retracted_event_id.startswith("edi-") and r.created_time is not None:
                    # the event as it stood when withdrawn: an update made after stands (a review's
                    # withdrawal, sent again or late, took the update in force out of targeting);
                    # its first version always goes (a regression review's withdrawal dated before
                    # the event, clocks apart, withdrew nothing and said nothing)
                    mine += (or_(t.event_id == r.retracted_event_id, t.created_time.is_(None),
                                 t.created_time <= r.created_time),)
                    versions = t.event_id.startswith(f"{r.retracted_event_id}@", autoescape=True)
                    after = self.session.execute(select(t.created_time, t.source).where(
                        t.supplied_by == supplied_by, versions, t.retracted_by.is_(None),
                        t.created_time > r.created_time).limit(1)).first()
                    if after is not None:
                        unknown.append((r, f"withdraws event {r.retracted_event_id[:100]} as it stood at "
                                           f"{_utc_text(r.created_time)}, but it was updated after that (at "
                                           f"{_utc_text(after.created_time)}, from {after.source}): the update stands"))
            if kind is None:
                found, why = self._untimed_move(r, supplied_by, received_at) if r.untimed_move else (None, "")
                if found is None:
                    unknown.append((r, why))
                    continue
                mine = (t.id == found,)
            self.session.execute(update(t).where(*mine, t.retracted_by.is_(None))
                                 .values(retracted_by=r.event_id, retracted_at=received_at))
        return unknown

    def _replace_report(self, r: ReportReplaced, supplied_by: str, received_at: datetime,
                        also_kept: frozenset[str] = frozenset()) -> int:
        """Withdraw (``retracted_by`` = ``r.event_id``, at ``received_at``) the live moves or
        stowage positions the organisation's earlier messages of report ``r.report`` (message
        type and BGM document number, named in their source) stated and ``r`` does not repeat
        (``r.kept``, nor ``also_kept``: what later replacements received with it state), but for
        boxes ``r`` could not read (``r.spared``), and only what messages
        dated before ``r`` said (all, when ``r`` gives no message date); returns how many.
        Those stored before sources named the report are not found."""
        t = ShippingEventRow
        found = self.session.execute(select(t.id, t.event_id, t.container_number).where(
            t.supplied_by == supplied_by, t.event_id.startswith(f"edi-{r.message_type.lower()}-", autoescape=True),
            t.source.contains(f" BGM {r.report} ", autoescape=True), t.retracted_by.is_(None),
            # only what messages made before it said: one re-sent or received late leaves what later
            # messages of the report said (a regression review's older replacement undid newer ones)
            true() if r.created_time is None else or_(t.created_time.is_(None), t.created_time < r.created_time))
        ).all()
        keep = r.kept | also_kept
        gone = [row.id for row in found if row.event_id.partition("@")[0] not in keep
                and row.container_number not in r.spared]
        for start in range(0, len(gone), 1000):
            self.session.execute(update(t).where(t.id.in_(gone[start:start + 1000]), t.retracted_by.is_(None))
                                 .values(retracted_by=r.event_id, retracted_at=received_at))
        return len(gone)

    def _untimed_move(self, r: Retraction, supplied_by: str, received_at: datetime) -> tuple[int | None, str]:
        """(the stored row :meth:`retract` withdraws for ``r.untimed_move``, "") or (None, why
        not; "" for none found). Regression reviews: a re-sent cancellation took an earlier
        journey's gate-out, or the correction sent after the first cancellation (also when the
        withdrawn move was more than the window before the re-send: the earlier withdrawn move
        is looked for within the window before the move found)."""
        t = ShippingEventRow
        number, move, port, voyage, refs = r.untimed_move  # type: ignore[misc]
        until = r.created_time or received_at
        same = select(t.id, t.event_time, t.retracted_by).where(
            t.supplied_by == supplied_by, t.container_number == number, t.event_type == move, t.unlocode == port,
            t.export_voyage == voyage, t.event_time == t.created_time, t.received_at <= received_at,
            t.event_time <= until, t.event_time >= until - 2 * UNTIMED_CANCELLATION_WINDOW)
        if refs:
            same = same.where(or_(t.booking_ref.in_(refs), t.transport_document_ref.in_(refs)))
        found = self.session.execute(same.order_by(t.event_time.desc(), t.id.desc())).all()
        moved: list[datetime] = []
        if move in ("GTIN", "GTOT"):  # not a move of the box's previous journey
            moved = [aware(m) for m in self.session.scalars(select(t.event_time).where(
                t.container_number == number, t.event_type.in_(("DISC", "LOAD")), t.classifier == "ACT",
                t.retracted_by.is_(None), t.event_time <= until))]
        found = [f for f in found if not any(aware(f.event_time) < m for m in moved)]
        candidates = [f for f in found if aware(f.event_time) >= until - UNTIMED_CANCELLATION_WINDOW]
        if not candidates:
            return None, ""
        latest = candidates[0]
        if latest.retracted_by is None and any(
                f.retracted_by is not None and aware(latest.event_time) - UNTIMED_CANCELLATION_WINDOW
                <= aware(f.event_time) < aware(latest.event_time) for f in found):
            at = f"{aware(latest.event_time):%Y-%m-%d %H:%M}"
            return None, (f"it matches the {move} at {at} UTC, sent after an "
                          f"earlier {move} of the box was withdrawn: a correction and this cancellation sent again "
                          "cannot be told apart, so nothing was withdrawn (send the cancellation with the move's own "
                          "time)")
        return latest.id, ""

    def containers(self, since: datetime | None = None) -> list[str]:
        """Container numbers with events at or after ``since`` (UTC; all when None), sorted."""
        stmt = select(ShippingEventRow.container_number).where(ShippingEventRow.container_number != "").distinct()
        if since is not None:
            stmt = stmt.where(ShippingEventRow.event_time >= since)
        return sorted(self.session.scalars(stmt))

    def containers_received_since(self, since: datetime) -> list[str]:
        """Container numbers with events received, or retracted, at or after ``since`` (UTC), sorted."""
        t = ShippingEventRow
        found: set[str] = set()
        for when in (t.received_at, t.retracted_at):
            found.update(self.session.scalars(select(t.container_number).distinct()
                                              .where(t.container_number != "", when >= since)))
        return sorted(found)

    def boxless_received_since(self, since: datetime) -> tuple[set[str], set[str]]:
        """The document or booking references and the vessels (IMO) named by events without a
        container (a vessel's arrival or departure, a shipment's status) received, or retracted,
        at or after ``since`` (UTC): (references, IMOs). Such an event joins the trips of those
        documents and of that call, which are then re-scored (a maritime review's ARRI joined a
        trip and left its score as it was)."""
        t = ShippingEventRow
        refs: set[str] = set()
        imos: set[str] = set()
        for when in (t.received_at, t.retracted_at):
            for booking, document, imo in self.session.execute(
                    select(t.booking_ref, t.transport_document_ref, t.vessel_imo).distinct()
                    .where(t.container_number == "", when >= since)):
                refs.update(r for r in (booking, document) if r)
                if imo:
                    imos.add(imo)
        return refs, imos

    def containers_with_refs(self, refs: Collection[str]) -> list[str]:
        """Container numbers of events naming one of the document or booking references ``refs``."""
        t = ShippingEventRow
        out: set[str] = set()
        wanted = sorted({r for r in refs if r})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            out.update(self.session.scalars(select(t.container_number).distinct().where(
                t.container_number != "", or_(t.booking_ref.in_(chunk), t.transport_document_ref.in_(chunk)))))
        return sorted(out)

    def suppliers_of_refs(self, refs: Collection[str]) -> dict[str, set[str]]:
        """The organisations that supplied events naming each of the document or booking
        references ``refs`` (reference -> organisations; references no event names left out)."""
        t = ShippingEventRow
        out: dict[str, set[str]] = {}
        wanted = sorted({r for r in refs if r})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for column in (t.booking_ref, t.transport_document_ref):
                for ref, org in self.session.execute(select(column, t.supplied_by).distinct().where(column.in_(chunk))):
                    out.setdefault(ref, set()).add(org)
        return out

    def containers_on_vessels(self, imos: Sequence[str], since: datetime) -> list[str]:
        """Container numbers with events at or after ``since`` (UTC) naming one of these vessels."""
        out: set[str] = set()
        unique = sorted(set(imos))
        for start in range(0, len(unique), 500):
            stmt = (select(ShippingEventRow.container_number).distinct()
                    .where(ShippingEventRow.container_number != "", ShippingEventRow.event_time >= since,
                           ShippingEventRow.vessel_imo.in_(unique[start:start + 500])))
            out.update(self.session.scalars(stmt))
        return sorted(out)

    def for_containers(self, numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """:meth:`for_container` for many containers in a few queries: number → events."""
        table = ShippingEventRow.__table__
        own: dict[str, list[dict[str, Any]]] = {n: [] for n in numbers}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            stmt = select(table).where(table.c.container_number.in_(unique[start:start + 500])).order_by(table.c.id)
            for r in self.session.execute(stmt).mappings():
                own[r["container_number"]].append(self._row_dict(r))
        refs = sorted({e[k] for events in own.values() for e in events
                       for k in ("booking_ref", "transport_document_ref") if e[k]})
        related: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            stmt = select(table).where(table.c.container_number == "", table.c.kind.in_(_CALL_KINDS),
                                       or_(table.c.booking_ref.in_(chunk), table.c.transport_document_ref.in_(chunk))
                                       ).order_by(table.c.id)
            for r in self.session.execute(stmt).mappings():
                e = self._row_dict(r)
                for ref in {e["booking_ref"], e["transport_document_ref"]} - {""}:
                    related.setdefault(ref, []).append(e)
        out = {}
        for number, events in own.items():
            mine = {e[k] for e in events for k in ("booking_ref", "transport_document_ref") if e[k]}
            # refs in order: the same events in the same order whatever the hash seed (a timeline
            # showed two drafts of one minute in either order from run to run)
            extra = {id(e): e for ref in sorted(mine) for e in related.get(ref, ())}
            out[number] = sorted(events + list(extra.values()), key=lambda e: (e["event_time"], e["kind"]))
        return out

    @staticmethod
    def _row_dict(r: Any) -> dict[str, Any]:
        t = r["event_time"]
        return {k: v for k, v in r.items() if k != "id"} | {
            "event_time": t if t.tzinfo else t.replace(tzinfo=UTC),
            "received_at": aware(r["received_at"]), "retracted_at": aware(r["retracted_at"])}

    def for_container(self, number: str) -> list[dict[str, Any]]:
        """Every event of a container, plus the transport and shipment events (no container of
        their own) that name its booking or transport document, ordered by event time."""
        return self.for_containers([number])[number]

