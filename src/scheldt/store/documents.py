"""Transport document versions and their containers in the store."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from scheldt import reference
from scheldt.domain.facts import name_key
from scheldt.domain.shipping import Consignment
from scheldt.ingest.base import Rejection
from scheldt.store.models import DocumentContainerRow, DocumentPartyRow, TransportDocumentRow
from scheldt.store.rows import aware, edifact_message, fact_digest, fit, plain
from scheldt.store.upsert import insert_ignore, insert_ignore_returning

#: Flag fields of the EDIFACT envelope (the message's UNT, the functional group's UNE, the
#: interchange's UNZ): about the transmission, not the document.
_ENVELOPE_FIELDS = frozenset({"UNT", "UNE", "UNZ"})


def _content(doc: Consignment, digest: str) -> dict[str, Any]:
    """A version's stored content (its columns but who supplied it and when it was received),
    values cut to fit and flagged so."""
    flags = plain(doc.flags)
    return {
        "document_type": doc.document_type, "document_ref": doc.bill_of_lading, "booking_ref": doc.booking_ref,
        "version_hash": digest, "status": fit(doc.status, 64, "status", flags),
        "to_order": doc.to_order, "freight_payment": fit(doc.freight_payment, 16, "freight payment", flags),
        "carrier_code": fit(doc.carrier_code, 64, "carrier code", flags),
        "port_of_loading": fit(doc.port_of_loading, 64, "port of loading", flags),
        "port_of_discharge": fit(doc.port_of_discharge, 64, "port of discharge", flags),
        "vessel_imo": fit(doc.vessel.imo if doc.vessel else "", 64, "vessel IMO number", flags),
        "vessel_name": fit(doc.vessel.name if doc.vessel else "", 128, "vessel name", flags),
        "voyage": fit(doc.voyage, 64, "voyage", flags),
        "other_voyages": [fit(v, 64, "voyage", flags) for v in doc.other_voyages],
        "parties": _fitted(plain(doc.parties), _PARTY_LIMITS, "party", flags),
        "goods": _fitted(plain(doc.goods), _GOODS_LIMITS, "goods item", flags),
        "containers": [{"number": n, "seals": plain(seals)} for n, seals in doc.containers],
        "flags": flags, "source": doc.source, "issued_at": doc.issued_at, "reader_revision": READER_REVISION,
    }


#: What :func:`_content` writes, but the issue date: kept of a version read again (``first_reading``).
_CONTENT_COLUMNS = ("document_type", "document_ref", "booking_ref", "version_hash", "status", "to_order",
                    "freight_payment", "carrier_code", "port_of_loading", "port_of_discharge", "vessel_imo",
                    "vessel_name", "voyage", "other_voyages", "parties", "goods", "containers", "flags", "source",
                    "reader_revision")


#: The revision of the readers that read the versions stored now: 0 before 2026-12-07 (every
#: version stored before migration 0038), 1 since (:attr:`Consignment.earlier_reading`).
READER_REVISION = 1

#: Flags a reader raises since documents were first stored (a shipping instruction naming several
#: bookings; a house bill's cargo in a box it does not list): not part of a version, so a document
#: stored before is the same one re-sent.
_LATER_FLAGS = frozenset({"several-bookings", "placeholder-party", "container-not-in-house-bill"})


#: Flags of what the shipped reference lists lack (HS codes): Scheldt's reading, not a fact of the
#: document, and worded by the edition in force on its date; not part of a version.
_REFERENCE_FLAGS = frozenset({"unknown-hs-code"})


#: A document's lists whose order is no fact: the same parties, goods items, containers (and each
#: one's seals) and flags listed in another order are the same version (an ingest review's re-send
#: with two document parties swapped was a new version). Other voyages keep their order (legs).
_UNORDERED = ("parties", "goods", "containers", "flags")


def version_hash(doc: Consignment) -> str:
    """Hash of a document's facts (not of where it was read from, nor of flags about the
    message that carried it: an EDIFACT UNT segment count, a message cut short, an interchange
    without its UNZ, which a re-send of the same facts mends or repeats; nor of the order of its
    lists, :data:`_UNORDERED`). A document without an issue date hashes as it did before
    ``issued_at`` existed (migration 0019), so re-sending it after the upgrade still adds nothing;
    nor of flags of what the reference lists lack (:data:`_REFERENCE_FLAGS`)."""
    return _sorted_digest(_facts(doc))


def _sorted_digest(facts: dict[str, Any]) -> str:
    facts["containers"] = [[number, sorted(seals, key=fact_digest)] for number, seals in facts["containers"]]
    for key in _UNORDERED:
        facts[key] = sorted(facts[key], key=fact_digest)
    return fact_digest(facts)


def _facts(doc: Consignment, reference_flags: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """The plain facts :func:`version_hash` digests, lists in the order read; with
    ``reference_flags`` in place of the document's own :data:`_REFERENCE_FLAGS`."""
    facts = plain(doc)
    facts.pop("source")
    facts.pop("earlier_reading", None)
    facts["flags"] = [f for f in facts.get("flags", []) if f.get("field") not in _ENVELOPE_FIELDS
                      and f.get("code") not in _LATER_FLAGS and f.get("code") not in _REFERENCE_FLAGS]
    facts["flags"] += reference_flags
    if facts.get("issued_at") is None:
        facts.pop("issued_at", None)
    if not facts.get("other_voyages"):  # likewise before other voyages were kept (migration 0028)
        facts.pop("other_voyages", None)
    for goods in facts.get("goods", []):  # likewise before goods were placed in their containers
        if not goods.get("containers"):
            goods.pop("containers", None)
    return facts


def _as_read_hashes(doc: Consignment, received: date | None = None) -> set[str]:
    """:func:`version_hash` of ``doc`` as it was computed before the order of its lists was left
    out, with an unreadable issue date's flag naming where it was read, as the reader said it
    then (for an item of a CloudEvents batch, ``...$[i]$.data...``, before its source was
    rewritten ``...$[i].data...``; regression review), or with its unknown HS codes' flags
    (:func:`_with_hs_flags_as_once_raised`, received on ``received``): a version stored before,
    re-sent, adds nothing."""
    out = set()
    for where in dict.fromkeys((doc.source, _BATCH_ITEM.sub(r"\1$\2", doc.source, count=1))):
        facts = _facts(doc)
        for f in facts["flags"]:
            if f.get("code") == "unreadable-date" and f.get("why", "").endswith(_UNREADABLE_DATE_END):
                f["why"] = f"{f['why'][:-len(_UNREADABLE_DATE_END)]} at {where}{_UNREADABLE_DATE_END}"
        out.add(fact_digest(facts))
    return out | _with_hs_flags_as_once_raised(doc, received)


#: The item part of a CloudEvents batch item's source (``file$[3].data...``).
_BATCH_ITEM = re.compile(r"(\$\[\d+\])(\.data)")
_UNREADABLE_DATE_END = "; not used as the issue date"


def _with_hs_flags_as_once_raised(doc: Consignment, received: date | None = None) -> set[str]:
    """:func:`version_hash` of ``doc`` as computed while its unknown HS codes' flags were part of
    a version: each goods item's code flagged as received on ``received`` (the check named the
    edition in force on the day a document was received; a regression review's 2021 replay
    added a version) or on or after 2022-01-01, by the DCSA reader (field ``HSCodes``) and by the
    reference check (``hs_code``), or by the check alone (UN/EDIFACT), so that a version stored
    then, re-sent, adds nothing."""
    unknown = [g.hs_code for g in doc.goods if g.hs_code and not reference.is_known_hs6(g.hs_code)]
    if not unknown:
        return set()
    read = [{"field": "HSCodes", "code": "unknown-hs-code",
             "why": f"HS {c[:6]} is not in the shipped nomenclature ({reference.HS_EDITION}); kept as sent"}
            for c in unknown]
    out = set()
    for on in {_HS_2022, received or _HS_2022}:
        checked = [{"field": "hs_code", "code": "unknown-hs-code", "why": reference.hs_flag_text(c, on)}
                   for c in unknown]
        out |= {_sorted_digest(_facts(doc, flags)) for flags in (checked, read + checked)}
    return out


#: The day HS 2022 came into force (WCO): an unknown code's flag named no other edition from then.
_HS_2022 = date(2022, 1, 1)


def _first_voyage_hashes(doc: Consignment, received: date | None = None) -> set[str]:
    """:func:`version_hash` of ``doc`` as it was read before its other voyages were kept
    (migration 0028): the first voyage only."""
    return _as_read_hashes(replace(doc, other_voyages=()), received)


#: The longest container number read (an ISO 6346 number has 11 characters; the index column 64).
CONTAINER_MAX = 64
#: What a party's and a goods item's texts keep, in characters: an EDIFACT NAD name is at most
#: 5 x 35, an address 4 x 35 and more; an ingest review's 300,000-character name was stored whole.
_PARTY_LIMITS = {"role": 64, "name": 512, "identifier": 128, "address": 1024, "country": 64}
_GOODS_LIMITS = {"hs_code": 16, "description": 4096}


def _fitted(items: list[dict[str, Any]], limits: dict[str, int], what: str,
            flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` with each text cut to its limit (:func:`fit` flags each cut)."""
    return [{k: fit(v, limits[k], f"{what} {k}", flags) if k in limits and isinstance(v, str) else v
             for k, v in item.items()} for item in items]


#: Shortest prefix looked for anywhere in a stored name; a shorter one at a word's start only.
ANYWHERE_MIN = 4


def _holding(column: Any, prefix: str) -> tuple[Any, ...]:
    """Conditions on a stored name ``column`` holding ``prefix``: anywhere, after any punctuation
    («, “, /, &: a regression review's "OOO «Baltiyskiy Frukt»" was not found by "Baltiyskiy"),
    when it has :data:`ANYWHERE_MIN` letters or more; at the start or after a space when shorter
    (two letters are inside too many names to look everywhere)."""
    if len(prefix) >= ANYWHERE_MIN:
        return (column.contains(prefix, autoescape=True),)
    return column.startswith(prefix, autoescape=True), column.contains(f" {prefix}", autoescape=True)


class DocumentRepository:
    """Transport document versions (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, docs: Sequence[Consignment], supplied_by: str, received_at: datetime) -> tuple[int, list[Rejection]]:
        """Store document versions; an unchanged version re-sent adds nothing. Returns (new, rejected)."""
        added, rejected = 0, []
        for doc in docs:
            too_long = [n for n, v in (("reference", doc.bill_of_lading), ("booking", doc.booking_ref)) if len(v) > 128]
            if too_long:
                rejected.append(Rejection(doc.source, too_long[0], f"{too_long[0]} longer than 128 characters"))
                continue
            box = next((n for n, _ in doc.containers if len(n) > CONTAINER_MAX), None)
            if box is not None:  # an ingest review's 3,000-character "container" (an ISO 6346 number has 11)
                rejected.append(Rejection(doc.source, "container", f"container number of {len(box):,} characters "
                                          f"({box[:20]}...): at most {CONTAINER_MAX} are read"))
                continue
            try:
                digest = version_hash(doc)
            except (orjson.JSONEncodeError, TypeError) as exc:  # an integer beyond 64 bits, a lone surrogate...
                rejected.append(Rejection(doc.source, "", f"the document holds a value the store cannot write: {exc}"))
                continue
            day = received_at.date()
            if doc.other_voyages and self._stored_before_other_voyages(doc, supplied_by, day):
                continue
            if self._stored_as_read_before(doc, supplied_by, digest, day):
                continue
            if doc.earlier_reading is not None and (
                    found := self._stored_as_read_earlier(doc.earlier_reading, supplied_by, day)) is not None:
                self._read_again(found, doc, digest, received_at)
                continue
            if doc.document_type == "HBL" and self._stored_before_as_transport_document(doc, supplied_by, day):
                continue
            if self._latest_sent_again(doc, supplied_by, day):
                continue
            row = {**_content(doc, digest), "supplied_by": supplied_by, "received_at": received_at}
            for doc_id in insert_ignore_returning(self.session, TransportDocumentRow.__table__, [row], "id"):
                added += 1
                self._link(doc_id, doc, received_at)
        return added, rejected

    def _link(self, doc_id: int, doc: Consignment, received_at: datetime) -> None:
        """The container and party rows of stored version ``doc_id`` (``doc``, received then)."""
        insert_ignore(self.session, DocumentContainerRow.__table__,
                      [{"document_id": doc_id, "container_number": n} for n, _ in doc.containers if n])
        insert_ignore(self.session, DocumentPartyRow.__table__,
                      [{"document_id": doc_id, "document_ref": doc.bill_of_lading or doc.booking_ref,
                        "role": p.role[:64], "name_key": name_key(p.name), "received_at": received_at,
                        "issued_at": doc.issued_at}
                       for p in doc.parties if name_key(p.name)])

    def _read_again(self, doc_id: int, doc: Consignment, digest: str, now: datetime) -> None:
        """Store ``doc`` in place of version ``doc_id``, which an earlier reader stored of the
        same message (:meth:`_stored_as_read_earlier`): the same version read right (party names
        whole, goods in their boxes...), not a new one, so that no amendment is seen where the
        sender changed nothing (a late party change would be) and the stored facts are the right
        ones from now on. What was stored is kept in ``first_reading``, and a ``read-again``
        flag says so, and ``read_again_at`` when (``now``), so that its boxes are scored again
        (:meth:`containers_received_since`; a fourth regression review: the facts changed and no
        trip was re-scored): where the sender did amend what the earlier reader could not see,
        the version holds the amended facts (a third regression review: skipping the message
        lost such an amendment)."""
        row = self.session.get(TransportDocumentRow, doc_id)
        if row is None or self.session.scalar(select(TransportDocumentRow.id).where(
                TransportDocumentRow.supplied_by == row.supplied_by,
                TransportDocumentRow.document_type == doc.document_type,
                TransportDocumentRow.document_ref == doc.bill_of_lading,
                TransportDocumentRow.version_hash == digest).limit(1)) is not None:
            return  # read right already, under this reading's own version
        first = {c: getattr(row, c) for c in _CONTENT_COLUMNS}
        content = _content(doc, digest)
        content["flags"] = [*content["flags"], {
            "field": "", "code": "read-again", "why": f"read again by Scheldt's corrected readers (revision "
            f"{READER_REVISION}); the version as first read ({row.document_type} {row.document_ref}) is kept "
            "apart: what differs is the reading, unless the sender amended what the earlier readers could not see"}]
        for column, value in content.items():
            setattr(row, column, value)
        row.first_reading = orjson.loads(orjson.dumps(first, default=str))
        row.read_again_at = now
        self.session.execute(delete(DocumentContainerRow).where(DocumentContainerRow.document_id == doc_id))
        self.session.execute(delete(DocumentPartyRow).where(DocumentPartyRow.document_id == doc_id))
        self.session.flush()
        self._link(doc_id, replace(doc, issued_at=row.issued_at), row.received_at)

    def _stored_before_other_voyages(self, doc: Consignment, supplied_by: str, received: date) -> bool:
        """Whether this version of ``doc`` was stored before other voyages were kept (migration
        0028: ``other_voyages`` NULL), read then with its first voyage only: a re-send of it
        after the upgrade adds nothing. A version stored since that lists only the first
        voyage is another version (one amended to add a leg is new)."""
        td = TransportDocumentRow
        return self.session.scalar(select(td.id).where(
            td.supplied_by == supplied_by, td.document_type == doc.document_type,
            td.document_ref == doc.bill_of_lading, td.version_hash.in_(_first_voyage_hashes(doc, received)),
            td.other_voyages.is_(None)).limit(1)) is not None

    def carrier_codes_of(self, refs: Collection[str], bookings: bool = False) -> dict[str, set[str]]:
        """The carrier codes stored versions of the documents ``refs`` name (by any supplier):
        reference → codes (empty codes left out); with ``bookings``, ``refs`` may be booking
        references too."""
        td = TransportDocumentRow
        out: dict[str, set[str]] = {}
        wanted = sorted({r for r in refs if r})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for column in (td.document_ref, td.booking_ref) if bookings else (td.document_ref,):
                for ref, code in self.session.execute(select(column, td.carrier_code).distinct().where(
                        column.in_(chunk), td.carrier_code != "")):
                    out.setdefault(ref, set()).add(code)
        return out

    def first_carrier_codes_of(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
        """For each (reference, container number) of ``pairs``, the carrier codes of the first
        stored versions (earliest received, by any supplier) naming the reference as their
        document or booking reference among those listing that container, else among all naming
        it (a regression review's later version of another line listing no box took the
        reference from the line whose earlier bill of lading named it): (reference, container)
        → codes (versions without a code left out; several when received at the same moment).
        Pairs no coded version names are absent."""
        td, dc = TransportDocumentRow, DocumentContainerRow
        wanted = sorted({r for r, _ in pairs if r})
        naming: dict[str, list[tuple[datetime, str, int]]] = {}  # ref → (received, code, version id) of each naming it
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for vid, doc_ref, booking, code, at in self.session.execute(
                    select(td.id, td.document_ref, td.booking_ref, td.carrier_code, td.received_at).where(
                        or_(td.document_ref.in_(chunk), td.booking_ref.in_(chunk)), td.carrier_code != "")):
                for ref in {doc_ref, booking} & set(chunk):
                    naming.setdefault(ref, []).append((aware(at), code, vid))
        boxes: dict[int, set[str]] = {}
        ids = sorted({vid for found in naming.values() for _, _, vid in found})
        for start in range(0, len(ids), 500):
            for vid, number in self.session.execute(select(dc.document_id, dc.container_number)
                                                    .where(dc.document_id.in_(ids[start:start + 500]))):
                boxes.setdefault(vid, set()).add(number)
        out: dict[tuple[str, str], set[str]] = {}
        for ref, number in pairs:
            found = naming.get(ref, [])
            listing = [v for v in found if number in boxes.get(v[2], ())] or found
            if listing:
                first = min(at for at, _, _ in listing)
                out[(ref, number)] = {code for at, code, _ in listing if at == first}
        return out

    def _stored_as_read_before(self, doc: Consignment, supplied_by: str, digest: str, received: date) -> bool:
        """Whether this version of ``doc`` was stored under a hash :func:`_as_read_hashes` gives
        (before list order was left out of a version): a re-send of it adds nothing."""
        earlier = _as_read_hashes(doc, received) - {digest}
        if not earlier:
            return False
        td = TransportDocumentRow
        return self.session.scalar(select(td.id).where(
            td.supplied_by == supplied_by, td.document_type == doc.document_type,
            td.document_ref == doc.bill_of_lading, td.version_hash.in_(earlier)).limit(1)) is not None

    def _stored_as_read_earlier(self, earlier: Consignment, supplied_by: str, received: date) -> int | None:
        """The id of a version stored as a reader read the same message before a correction
        (``earlier``: :attr:`Consignment.earlier_reading`, maybe under another document type or
        reference), or None: the message sent again is that version, read again
        (:meth:`_read_again`; a regression review's cargo report, read with its party names
        whole, was stored as a new version). Only a version an earlier reader stored counts
        (``reader_revision`` below :data:`READER_REVISION`): one read as now is compared as read
        now, so that an amendment only the corrected readers see is a new version (a second
        regression review's HS code changed to arms was taken for the stored version re-sent)."""
        td = TransportDocumentRow
        return self.session.scalar(select(td.id).where(
            td.supplied_by == supplied_by, td.reader_revision < READER_REVISION,
            td.document_type == earlier.document_type,
            td.document_ref == earlier.bill_of_lading,
            td.version_hash.in_({version_hash(earlier), *_as_read_hashes(earlier, received)})).limit(1))

    def _latest_sent_again(self, doc: Consignment, supplied_by: str, received: date) -> bool:
        """Whether ``doc``, read from a UN/EDIFACT message (a cargo report, an instruction), is
        the latest stored version of its document sent again under a new message date (DTM+137,
        its ``issued_at``): a translator's re-transmission, which a data review found stored as
        a new version. The message date is when the message was made, not a fact of the bill of
        lading; an earlier version's facts sent again (a correction undone) are a new version."""
        if doc.issued_at is None or not edifact_message(doc.source):
            return False
        td = TransportDocumentRow
        latest = self.session.execute(select(td.version_hash, td.issued_at).where(
            td.supplied_by == supplied_by, td.document_type == doc.document_type,
            td.document_ref == doc.bill_of_lading).order_by(
            td.issued_at.desc().nulls_last(), td.received_at.desc(), td.id.desc()).limit(1)).first()
        if latest is None or latest.issued_at is None:
            return False
        as_dated = replace(doc, issued_at=aware(latest.issued_at))
        return latest.version_hash in {version_hash(as_dated), *_as_read_hashes(as_dated, received)}

    def _stored_before_as_transport_document(self, doc: Consignment, supplied_by: str, received: date) -> bool:
        """Whether this house bill was stored as a transport document (TRD) with the same facts,
        as the EDIFACT reader filed house bills before it filed them as house bills (HBL): a
        re-send of the CUSCAR adds nothing (a regression review found each house bill stored
        twice, once as each)."""
        td = TransportDocumentRow
        trd = replace(doc, document_type="TRD")
        return self.session.scalar(select(td.id).where(
            td.supplied_by == supplied_by, td.document_type == "TRD", td.document_ref == doc.bill_of_lading,
            td.version_hash.in_({version_hash(trd), *_as_read_hashes(trd, received)})).limit(1)) is not None

    def for_container(self, number: str, refs: Sequence[str]) -> list[dict[str, Any]]:
        """Every version of the documents listing ``number`` or carrying one of ``refs``, oldest first."""
        return self.for_containers([number], refs)

    def listing_all_versions(self, numbers: Sequence[str]) -> list[dict[str, Any]]:
        """Every version of the documents one version of which lists one of ``numbers``
        (versions that dropped the box included), oldest first."""
        listing = self.for_containers(numbers, [])
        refs = {r for d in listing for r in (d["document_ref"], d["booking_ref"]) if r}
        more = self.for_containers([], sorted(refs), skip={d["id"] for d in listing})
        return sorted([*listing, *more], key=lambda d: (d["received_at"], d["id"]))

    def containers_received_since(self, since: datetime) -> list[str]:
        """Container numbers listed on document versions received, or read again
        (:meth:`_read_again`), at or after ``since`` (UTC), or on earlier versions of those
        documents (a version that drops a box changes its trips: a regression review's dropped
        box stayed on the document's trip, never re-scored)."""
        td, dc = TransportDocumentRow, DocumentContainerRow
        changed = or_(td.received_at >= since, td.read_again_at >= since)
        new = select(td.document_ref).where(changed, td.document_ref != "")
        stmt = (select(dc.container_number).distinct().join(td, td.id == dc.document_id)
                .where(or_(changed, td.document_ref.in_(new))))
        return sorted(self.session.scalars(stmt))

    def containers_referenced(self, refs: Collection[str]) -> list[str]:
        """Container numbers listed on any version of the documents whose reference or booking
        is one of ``refs``, sorted."""
        td, dc = TransportDocumentRow, DocumentContainerRow
        out: set[str] = set()
        wanted = sorted({r for r in refs if r})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            out.update(self.session.scalars(select(dc.container_number).distinct().join(td, td.id == dc.document_id)
                                            .where(or_(td.document_ref.in_(chunk), td.booking_ref.in_(chunk)))))
        return sorted(out)

    def for_containers(self, numbers: Sequence[str], refs: Sequence[str],
                       skip: Collection[int] = ()) -> list[dict[str, Any]]:
        """Every version of the documents listing one of ``numbers`` or carrying one of ``refs``,
        oldest first (:meth:`for_container` for many containers), except those whose id is in
        ``skip`` (read already)."""
        ids: set[int] = set()
        numbers, refs = sorted(set(numbers)), sorted(set(refs))
        for start in range(0, len(numbers), 500):
            ids.update(self.session.scalars(select(DocumentContainerRow.document_id).where(
                DocumentContainerRow.container_number.in_(numbers[start:start + 500]))))
        for start in range(0, len(refs), 500):
            chunk = refs[start:start + 500]
            ids.update(self.session.scalars(select(TransportDocumentRow.id).where(
                or_(TransportDocumentRow.document_ref.in_(chunk), TransportDocumentRow.booking_ref.in_(chunk)))))
        out = []
        ordered = sorted(ids - set(skip))
        for start in range(0, len(ordered), 500):
            for r in self.session.scalars(select(TransportDocumentRow).where(TransportDocumentRow.id.in_(ordered[start:start + 500]))):
                d = {c: getattr(r, c) for c in TransportDocumentRow.__table__.columns.keys()}
                d["received_at"] = r.received_at if r.received_at.tzinfo else r.received_at.replace(tzinfo=UTC)
                out.append(d)
        return sorted(out, key=lambda d: (d["received_at"], d["id"]))

    def party_sightings(self, role: str,
                        names: Sequence[str]) -> dict[str, list[tuple[str, datetime, datetime | None]]]:
        """For each name (normalised as :func:`name_key`): the (document reference, received
        time, issue date or None; UTC) of every document version naming it in ``role``."""
        keys = sorted({name_key(n) for n in names if name_key(n)})
        out: dict[str, list[tuple[str, datetime, datetime | None]]] = {}
        p = DocumentPartyRow
        for start in range(0, len(keys), 500):
            stmt = select(p.name_key, p.document_ref, p.received_at, p.issued_at).where(
                p.role == role, p.name_key.in_(keys[start:start + 500]))
            for key, ref, at, issued in self.session.execute(stmt):
                out.setdefault(key, []).append((ref, aware(at), aware(issued)))
        return out

    def naming(self, prefixes: Sequence[str], page: int = 5000) -> Iterator[dict[str, Any]]:
        """Document versions naming a party whose normalised name (:func:`name_key`) holds one of
        ``prefixes`` (:func:`_holding`; the caller keeps those where it begins a word), any role,
        in one query for all of them (a regression review's search of fourteen prefixes, one
        query each, was ten times slower), newest first (received time, then party row): document
        reference, type, role, the name key, received time (UTC), the version's id
        (``document_id``) and the party row's (``party_id``). Read ``page`` rows at a time, as
        far as the caller reads (a cut at the newest 5,000 of every line's hid a shipping line's
        own older versions: regression review)."""
        d, p = TransportDocumentRow, DocumentPartyRow
        before: tuple[datetime, int] | None = None
        while True:
            stmt = (select(p.document_ref, d.document_type, p.role, p.name_key, p.received_at, p.document_id, p.id)
                    .join(d, d.id == p.document_id)
                    .where(or_(*(c for prefix in prefixes for c in _holding(p.name_key, prefix))))
                    .order_by(p.received_at.desc(), p.id.desc()).limit(page))
            if before is not None:
                stmt = stmt.where(or_(p.received_at < before[0], and_(p.received_at == before[0], p.id < before[1])))
            rows = self.session.execute(stmt).all()
            yield from ({"document_ref": r, "document_type": t, "role": role, "name_key": key, "received_at": aware(at),
                         "document_id": i, "party_id": pid} for r, t, role, key, at, i, pid in rows)
            if len(rows) < page:
                return
            before = (rows[-1].received_at, rows[-1].id)

    def parties_of(self, document_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
        """The parties each document version names, as (role, name as written), by version id."""
        out: dict[int, list[tuple[str, str]]] = {}
        ids = sorted(set(document_ids))
        for start in range(0, len(ids), 500):
            for doc_id, parties in self.session.execute(select(TransportDocumentRow.id, TransportDocumentRow.parties)
                                                        .where(TransportDocumentRow.id.in_(ids[start:start + 500]))):
                out[doc_id] = [(p.get("role", ""), p.get("name", "")) for p in parties or []]
        return out

    def containers_of(self, document_ids: Sequence[int]) -> dict[int, set[str]]:
        """The container numbers each document version lists, by version id."""
        out: dict[int, set[str]] = {}
        ids = sorted(set(document_ids))
        for start in range(0, len(ids), 500):
            for doc_id, number in self.session.execute(
                    select(DocumentContainerRow.document_id, DocumentContainerRow.container_number)
                    .where(DocumentContainerRow.document_id.in_(ids[start:start + 500]))):
                out.setdefault(doc_id, set()).add(number)
        return out
