"""Container trips (the risk queue), containers, consignments, parties and risk assessments.

Every list is filtered to what the requester's organisation owns before it is paged, so a page
never holds another organisation's row and never silently shrinks; a trip that is not yours is
a 404, exactly like one that does not exist. Every read of a trip, container, consignment or
party is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query

from scheldt.api.deps import CtxDep, CtxRouter, audited_trips
from scheldt.api.paging import MAX_LIMIT, decode_id, decode_score_id, encode
from scheldt.domain.access import Organisation, OrgKind, Permission
from scheldt.domain.identifiers import container_number
from scheldt.domain.trips import TripKey, line_of
from scheldt.errors import ForbiddenError, InputError, NotFoundError
from scheldt.store.container_trips import TripFilter
from scheldt.workflows.accounts import carrier_owners
from scheldt.workflows.parties import documents_naming, refuse_terminal
from scheldt.workflows.share import watchlist_alerts_about
from scheldt.workflows.trip_views import file_name_only, for_terminal, mixed_scores_note, trip_detail, trip_row

router = CtxRouter(prefix="/api/v1", tags=["trips"])

Band = Literal["high", "medium", "low"]
TripStatus = Literal["open", "planned", "scanned", "searched", "cleared", "waived"]


def _day_start(d: date | None) -> datetime | None:
    return None if d is None else datetime.combine(d, time(0), tzinfo=UTC)


def searched_container(raw: str) -> tuple[str, str]:
    """A container number as a user types it, in the stored form (upper case, the spaces and
    dash of the number as printed on the box taken out: ``"cmau 102675-0"`` → ``"CMAU1026750"``),
    and what is wrong with it as an ISO 6346 number ("" when nothing). A number with a wrong
    check digit is still searched: boxes are stored under such numbers, flagged (a typo or a
    fake), but an officer who finds nothing is told (a review's search of CMAU1026751 for
    CMAU1026750 found nothing without a word)."""
    number, flag = container_number(raw.strip().upper())
    return number, flag.why if flag else ""


def trip_filter(arrived_from: date | None, arrived_to: date | None, port: str | None, band: str | None,
                status: str | None, on_hold: bool | None, container: str | None,
                left_port: bool | None = None) -> TripFilter:
    """The list filter from query parameters (``arrived_to`` inclusive; ``left_port``: the box
    has left the port after discharge, or not). Raises InputError."""
    if arrived_from and arrived_to and arrived_to < arrived_from:
        raise InputError("query.arrived_to", f"{arrived_to} is before arrived_from {arrived_from}")
    end = _day_start(arrived_to + timedelta(days=1)) if arrived_to and arrived_to < date.max else None
    return TripFilter(_day_start(arrived_from), end, port.upper() if port else None, band, status, on_hold,
                      searched_container(container)[0] if container and container.strip() else None, left=left_port)


@router.get("/trips", summary="The risk queue: container trips, highest score first")
def list_trips(ctx: CtxDep,
               cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
               limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
               arrived_from: date | None = None, arrived_to: date | None = None,
               port: Annotated[str | None, Query(max_length=10, description="port of loading, UN/LOCODE")] = None,
               band: Band | None = None, status: TripStatus | None = None, on_hold: bool | None = None,
               container: Annotated[str | None, Query(max_length=20)] = None,
               left_port: Annotated[bool | None, Query(description=(
                   "true: boxes that left the port after discharge (gate-out or onward load); "
                   "false: still in port or at sea; absent: both"))] = None,
               order: Annotated[Literal["score", "newest"], Query(description=(
                   "score: highest first (a trip re-scored during a walk moves, and may be passed); newest: by "
                   "trip id, newest first, every trip listed at the start walked once"))] = "score",
               ) -> dict[str, Any]:
    """Trips the requester's organisation owns, filtered, paged by a cursor naming a position
    (rows added or removed meanwhile never shift a page). By score, a trip re-scored during a
    walk moves with its score: an API review's client syncing the queue while data arrived
    missed eleven; ``order=newest`` walks every trip listed at the start once."""
    ctx.require(Permission.READ_TRIPS)
    where = trip_filter(arrived_from, arrived_to, port, band, status, on_hold, container, left_port)
    if not ctx.agency:
        return _outsider_list(ctx, where, cursor, limit) | _warnings(container)
    if order == "newest":
        rows = ctx.uow.container_trips.page_by_id(ctx.scope, where, decode_id(cursor), limit + 1)
    else:
        rows = ctx.uow.container_trips.page(ctx.scope, where, decode_score_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "trip-list", f"{len(rows)} trips", **audited_trips(rows))
    after = None
    if more:
        after = encode(rows[-1]["id"]) if order == "newest" else encode(rows[-1]["score"], rows[-1]["id"])
    # said on the first page (a count over every trip in scope: not again on each page of a walk)
    scores = mixed_scores_note(ctx.uow, ctx.scope) if cursor is None else ""
    return {"items": [trip_row(r) for r in rows], "next_cursor": after} | _warnings(container, scores)


def _warnings(container: str | None, scores: str = "") -> dict[str, list[str]]:
    """``{"warnings": [...]}`` saying what is wrong with a searched container number, and that
    the queue ranks scores of several profile versions (``scores``), or {}."""
    why = searched_container(container)[1] if container and container.strip() else ""
    said = ([f"container: {why}"] if why else []) + ([f"score: {scores}"] if scores else [])
    return {"warnings": said} if said else {}


def _outsider_list(ctx: Any, where: TripFilter, cursor: str | None, limit: int) -> dict[str, Any]:
    """A shipping line's or terminal's trips: newest first, without risk fields; filtering by
    risk band or inspection status is refused as forbidden (that is customs' own view; 403, as
    the assessments and scan orders are, an API review)."""
    if where.risk_band is not None or where.status is not None:
        raise ForbiddenError("query.band" if where.risk_band is not None else "query.status",
                         "risk bands and inspection status are for agencies only")
    rows = ctx.uow.container_trips.page_by_id(ctx.scope, where, decode_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "trip-list", f"{len(rows)} trips", **audited_trips(rows))
    return {"items": [trip_row(r, agency=False) for r in rows],
            "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.get("/trips/{trip_id}", summary="One container trip: timeline, documents, parties, seals, reasons, route")
def get_trip(trip_id: int, ctx: CtxDep) -> dict[str, Any]:
    """The trip's page (see :func:`scheldt.workflows.trip_views.trip_detail`)."""
    ctx.require(Permission.READ_TRIPS)
    detail = trip_detail(ctx.uow, ctx.scope, ctx.principal.organisation.id, trip_id, ctx.agency,
                         terminal=ctx.principal.organisation.kind == OrgKind.TERMINAL)
    if ctx.agency:  # the live alerts watchlist matches raised on it (share.watchlist_alerts_about)
        detail["watchlist_alerts"] = watchlist_alerts_about(ctx.uow, ctx.principal, trip_id, ctx.now)
    ctx.audit("read", "trip", trip_id, container=detail["trip"]["container_number"])
    return detail


@router.get("/trips/{trip_id}/assessments", summary="Score history of a trip")
def trip_assessments(trip_id: int, ctx: CtxDep) -> dict[str, Any]:
    """Every assessment of the trip, oldest first (facts left out; see ``/assessments/{id}``);
    ``in_force`` marks the one the trip shows now: after a switch back to an earlier profile or
    model version, an unchanged trip shows that version's earlier assessment again, which is
    not the newest (a review read the withdrawn version's score as the latest)."""
    ctx.require(Permission.READ_TRIPS)
    ctx.require_agency("trip assessments")
    trip = ctx.uow.container_trips.get(trip_id, ctx.scope)  # NotFoundError unless the requester owns it
    key = TripKey(trip["container_number"], trip["document_ref"], trip["voyage"])
    history = ctx.uow.trip_assessments.score_history(key)
    ctx.audit("read", "trip", trip_id, view="assessments", container=trip["container_number"])
    return {"items": [h | {"scored_at": h["scored_at"].isoformat(), "in_force": h["id"] == trip["assessment_id"]}
                      for h in history]}


@router.get("/assessments/{assessment_id}", summary="One risk assessment with the facts it was computed from")
def get_assessment(assessment_id: int, ctx: CtxDep) -> dict[str, Any]:
    """An assessment of a trip the requester owns. 404 otherwise."""
    ctx.require(Permission.READ_TRIPS)
    ctx.require_agency("risk assessments")
    try:
        a = ctx.uow.trip_assessments.get(assessment_id)
    except NotFoundError:
        raise NotFoundError(f"assessment {assessment_id}", "no such risk assessment") from None
    trip = ctx.uow.container_trips.by_key(TripKey(a["container_number"], a["document_ref"], a["voyage"]))
    if trip is None or not ctx.scope.owns(trip):
        raise NotFoundError(f"assessment {assessment_id}", "no such risk assessment")
    ctx.audit("read", "assessment", assessment_id, trip=trip["id"], container=trip["container_number"])
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in a.items()} | {"trip_id": trip["id"]}


@router.get("/containers/{number}", summary="A container's trips")
def get_container(number: str, ctx: CtxDep) -> dict[str, Any]:
    """The trips of one container number that the requester owns, highest score first."""
    ctx.require(Permission.READ_TRIPS)
    if not number.strip() or len(number.strip()) > 20:
        raise InputError("path.number", "give a container number of at most 20 characters")
    clean, wrong = searched_container(number)
    rows = ctx.uow.container_trips.page_by_id(ctx.scope, TripFilter(container_number=clean), None, MAX_LIMIT)
    ctx.audit("read", "container", clean, trips=len(rows))
    if not rows:
        raise NotFoundError(f"container {clean}", "no trips of this container" + (f"; {wrong}" if wrong else ""))
    return {"container_number": clean, "trips": [trip_row(r, ctx.agency) for r in rows]}


@router.get("/consignments/{document_ref}", summary="A consignment: every version of its transport document")
def get_consignment(document_ref: str, ctx: CtxDep) -> dict[str, Any]:
    """The versions of a transport document (bill of lading, shipping instructions or
    booking; named by its own reference or its booking's) of a trip the requester owns:
    parties, goods, containers, seals; a terminal sees the containers (and their seals) of its
    own trips only (a terminal review read another terminal's box and seal here)."""
    ctx.require(Permission.READ_TRIPS)
    ref = document_ref.strip()
    if not ref or len(ref) > 128:
        raise InputError("path.document_ref", "give a document reference of at most 128 characters")
    found = ctx.uow.documents.for_containers([], [ref])
    # a trip is keyed by the first reference its events carried: the B/L's trip may be keyed by
    # its booking (a linking review got 404 for such a B/L), so every reference the versions link
    keys = sorted({ref} | {k for d in found for k in (d["document_ref"], d["booking_ref"]) if k})[:20]
    owned = list({t["id"]: t for key in keys for t in ctx.uow.container_trips.page(
        ctx.scope, TripFilter(document_ref=key), None, MAX_LIMIT)}.values())
    # only versions covering one of the requester's containers: another carrier's document may
    # carry the same reference (booking numbers collide), and its parties and goods are not theirs
    boxes = {t["container_number"] for t in owned}
    versions = [d for d in found if boxes & {c.get("number") for c in d.get("containers") or []}] if owned else []
    if not ctx.agency:
        versions = _of_the_trips_line(ctx.uow, versions, owned, ctx.principal.organisation)
    if ctx.principal.organisation.kind == OrgKind.TERMINAL:  # its boxes, not another terminal's with their seals
        versions = [for_terminal(_own_boxes(d, boxes)) for d in versions]  # nor the lines' commercial facts
    ctx.audit("read", "consignment", ref, **({"trips": sorted(t["id"] for t in owned),
                                             "containers": sorted(boxes)} if versions else {}))
    if not versions:
        raise NotFoundError(f"consignment {ref}", "no such consignment")
    return {"document_ref": ref, "trips": [trip_row(r, ctx.agency) for r in owned],
            "versions": [_version(d) for d in versions]}


def _of_the_trips_line(uow: Any, versions: list[dict[str, Any]], owned: list[dict[str, Any]],
                       org: Organisation) -> list[dict[str, Any]]:
    """The ``versions`` a shipping line or terminal ``org`` may read: those naming no carrier,
    and those of a line that is ``org`` itself (a line) or the line of an ``owned`` trip of a box
    they list (a terminal); a line's SMDG code and SCAC are one line. A carrier-channel review's
    line read, by its booking number, another line's bill of lading naming that booking for a
    box both lines had on one voyage (slot sharing): its shipper, consignee, goods and seal."""
    owners = carrier_owners(uow)

    def line(code: object) -> str:
        return line_of(code, owners)

    def readable(d: dict[str, Any]) -> bool:
        if not line(d.get("carrier_code")):
            return True
        if org.kind == OrgKind.CARRIER:
            return line(d.get("carrier_code")) == org.id
        numbers = {c.get("number") for c in d.get("containers") or []}
        return any(t["container_number"] in numbers and line(t.get("carrier_code")) in ("", line(d.get("carrier_code")))
                   for t in owned)
    return [d for d in versions if readable(d)]


def _own_boxes(d: dict[str, Any], boxes: set[str]) -> dict[str, Any]:
    """A document version with only the containers in ``boxes`` and no flag naming another (a
    regression review read another terminal's box in a check-digit flag)."""
    others = [c.get("number") or "" for c in d.get("containers") or [] if c.get("number") not in boxes]
    return d | {"containers": [c for c in d.get("containers") or [] if c.get("number") in boxes],
                "flags": [f for f in d.get("flags") or [] if not any(n and n in str(f) for n in others)]}


def _version(d: dict[str, Any]) -> dict[str, Any]:
    """A stored document version as the API shows it: times in ISO 8601, its source without the
    server's directories (a carrier review read customs' ingest paths here), as on trip pages."""
    out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}
    return out | {"source": file_name_only(str(out["source"]))} if out.get("source") else out


@router.get("/parties", summary="Where a party (shipper, consignee, notify party) appears")
def find_party(ctx: CtxDep, name: Annotated[str, Query(min_length=2, max_length=200)]) -> dict[str, Any]:
    """The requester's consignments naming a party, newest first: names compared with case,
    accents, punctuation and legal forms folded, the beginning of each word enough, in any word
    order. Not for a terminal (:data:`~scheldt.workflows.trip_views.COMMERCIAL_FIELDS`)."""
    ctx.require(Permission.READ_TRIPS)
    refuse_terminal(ctx.principal)
    key, named = documents_naming(ctx.uow, name, ctx.scope, "query.name")
    visible = [{k: v for k, v in d.items() if k not in ("document_id", "party_id")}
               | {"received_at": d["received_at"].isoformat()} for d in named]
    ctx.audit("read", "party", key, hits=len(visible), consignments=sorted({d["document_ref"] for d in visible}))
    return {"name_key": key, "items": visible}
