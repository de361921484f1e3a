"""The risk queue, a container trip's page (timeline, documents, parties, seals, reasons, map,
scan orders, holds), planning a scan or a hold from it, and where a party appears.

Every read of a trip, a trip list or a party is audited, like the API's; a trip the user's
organisation does not own is a 404 page, exactly like one that does not exist.

Shipping lines and terminals never see customs' risk view (as in the API,
:mod:`scheldt.api.routes_trips`): their queue is "Your containers", newest first, without score,
band, reasons or inspection status, and refuses band and status filters; their trip page shows
the facts, map, documents, parties, seals and holds (held since when, not by whom or why).
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.api.deps import audited_trips
from scheldt.api.paging import decode_id, decode_score_id, encode
from scheldt.api.routes_trips import searched_container, trip_filter
from scheldt.domain.access import OrgKind, Permission
from scheldt.domain.inspection import SHIFTS, current_shift
from scheldt.errors import ForbiddenError, InputError, NotFoundError, ScheldtError
from scheldt.store.container_trips import TripFilter
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form, session_mark
from scheldt.web.render import error_page, refused, render
from scheldt.workflows import inspections, share
from scheldt.workflows.notices import TEXT_MAX as NOTICE_TEXT_MAX
from scheldt.workflows.parties import documents_naming, refuse_terminal
from scheldt.workflows.trip_views import held_box_left, mixed_scores_note, trip_detail, trip_row

#: The picks an officer makes on a trip's page: exploration picks are drawn at random (plan page, Fill).
HAND_PICKS = ("risk", "manual")

router = APIRouter(include_in_schema=False)

QUEUE_PAGE = 50
BANDS = ("high", "medium", "low")
TRIP_STATUSES = ("open", "planned", "scanned", "searched", "cleared", "waived")
OUTSIDER_FILTER = "risk bands and inspection status are for agencies only"
_CODE = re.compile(r"^[A-Za-z0-9]{1,20}$")


def parse_trip_id(raw: str) -> int:
    """A trip id from the path; anything else is a trip that does not exist."""
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError(f"trip {raw[:20]}", "no such container trip")
    return int(raw)


# -- the risk queue -------------------------------------------------------------------------

#: The status an agency's queue shows unless asked otherwise: trips not yet planned or inspected.
OPEN = "open"
#: Filters whose default is not "any": an empty value in a link must stay in it.
_DEFAULTED = ("status", "left")

def _queue_filter(q: dict[str, str], agency: bool) -> TripFilter:
    """The list filter from the form's values; a shipping line or terminal may not filter by
    risk band or inspection status (ForbiddenError, 403 and audited as the API refuses it: an
    attack review's carrier probed them as a 400, unaudited). Raises InputError."""
    if not agency and (q["band"] or q["status"]):
        raise ForbiddenError("band" if q["band"] else "status", OUTSIDER_FILTER)
    port = q["port"].strip()
    container = searched_container(q["container"])[0] if q["container"].strip() else ""
    if port and not _CODE.match(port):
        raise InputError("port", f"{port[:20]!r} is not a UN/LOCODE (letters and digits)")
    if container and not _CODE.match(container):
        raise InputError("container", f"{q['container'].strip()[:20]!r} is not a container number (letters and "
                         "digits; spaces and a dash as printed on the box are left out)")
    return trip_filter(forms.day(q["arrived_from"], "arrived_from"), forms.day(q["arrived_to"], "arrived_to"),
                       port or None, forms.choice(q["band"], "band", BANDS),
                       forms.choice(q["status"], "status", TRIP_STATUSES), forms.yes_no(q["on_hold"], "on_hold"),
                       container or None, forms.yes_no(q["left"], "left"))


def _reasons(ctx: PageCtx, rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Each row's reasons from its latest assessment, largest first, read in one query
    (without the facts the assessments were computed from)."""
    by_assessment = ctx.uow.trip_assessments.reasons_for([r["assessment_id"] for r in rows if r["assessment_id"]])
    return {r["id"]: by_assessment[r["assessment_id"]] for r in rows if r["assessment_id"] in by_assessment}


def _queue_rows(ctx: PageCtx, where: TripFilter, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the queue and the cursor of the next (None on the last page): an agency's
    trips highest score first; a shipping line's or terminal's newest first, without
    :data:`~scheldt.workflows.trip_views.RISK_FIELDS`. Raises InputError for a bad cursor."""
    if ctx.agency:
        rows = ctx.uow.container_trips.page(ctx.scope, where, decode_score_id(cursor), QUEUE_PAGE + 1)
    else:
        rows = ctx.uow.container_trips.page_by_id(ctx.scope, where, decode_id(cursor), QUEUE_PAGE + 1)
    more = len(rows) > QUEUE_PAGE
    rows = rows[:QUEUE_PAGE]
    if ctx.agency:
        return rows, encode(rows[-1]["score"], rows[-1]["id"]) if more else None
    return [trip_row(r, agency=False) for r in rows], encode(rows[-1]["id"]) if more else None


@router.get("/queue", response_class=HTMLResponse)
def queue(request: Request, ctx: PageDep, arrived_from: str = "", arrived_to: str = "", port: str = "",
          band: str = "", status: str | None = None, on_hold: str = "", container: str = "", left: str | None = None,
          cursor: str = "") -> HTMLResponse:
    """Trips the organisation owns, filtered, 50 a page: for an agency highest score first,
    each with the reasons for its score; for a shipping line or terminal newest first,
    without any of customs' risk view. Unless asked otherwise, the list leaves out boxes that
    have left the port (nobody can scan them any more) and, for an agency, trips already
    planned or inspected: what is left is what an officer can still decide on. A search for
    one container number, or for the boxes on hold, shows them whatever their state: the
    filter form always sends its pre-selected status and box values, taken as its defaults
    then (an officer review: a box searched that night, seizure and hold recorded, was "not
    found" by its number)."""
    searching = bool(container.strip())
    if (searching or on_hold == "yes") and left == "no" and status in (None, OPEN):
        # (a shipping line's or terminal's form has no Status: a regression review's terminal
        # still found no box that had left)
        status = left = None
        searching = True
    q = {"arrived_from": arrived_from, "arrived_to": arrived_to, "port": port, "band": band,
         "status": (OPEN if ctx.agency and not searching else "") if status is None else status,
         "on_hold": on_hold, "container": container,
         "left": ("" if searching else "no") if left is None else left}
    q = {k: v[:40] for k, v in q.items()}
    try:
        ctx.require(Permission.READ_TRIPS)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        where = _queue_filter(q, ctx.agency)
        rows, next_cursor = _queue_rows(ctx, where, cursor[:200] or None)
    except ForbiddenError as exc:
        return error_page(request, ctx, exc)
    except InputError as exc:
        return render(request, "queue.html", ctx, 400, q=q, rows=[], reasons={}, total=None, next_url=None,
                      error=exc, first_page=True, first_url="/queue", container_note="", scores_note="")
    ctx.audit("read", "trip-list", f"{len(rows)} trips", **audited_trips(rows))
    # An empty status or "left" is a choice ("any"), not an absent one (which means the default).
    filters = {k: v for k, v in q.items() if v or k in _DEFAULTED}
    next_url = f"/queue?{urlencode(filters | {'cursor': next_cursor})}" if next_cursor else None
    return render(request, "queue.html", ctx, q=q, rows=rows, reasons=_reasons(ctx, rows) if ctx.agency else {},
                  total=ctx.uow.container_trips.count(ctx.scope, where), next_url=next_url, error=None,
                  first_page=not cursor, first_url=f"/queue?{urlencode(filters)}",
                  # only for a number searched (a web review's "On hold: yes" read ": not shaped like an
                  # ISO 6346 container number")
                  container_note=searched_container(container)[1] if container.strip() else "",
                  scores_note=mixed_scores_note(ctx.uow, ctx.scope) if ctx.agency and not cursor else "")


# -- a trip's page --------------------------------------------------------------------------

def seal_sightings(events: list[dict[str, Any]], documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the trip's seal numbers were seen, in time order (events by event time, document
    versions by received time); ``changed`` marks a sighting whose seals differ from the
    previous sighting that named any."""
    seen = [{"time": e["event_time"], "what": f"{e['event_type']} ({e['classifier']})",
             "where": " ".join(x for x in (e["unlocode"], e["facility_code"]) if x), "seals": list(e["seals"])}
            for e in events if e.get("seals")]
    seen += [{"time": d["received_at"], "what": f"{d['document_type']} {d['document_ref']}", "where": "document",
              "seals": list(d["seals"])} for d in documents if d.get("seals")]
    seen.sort(key=lambda s: s["time"])
    previous: set[str] | None = None
    for s in seen:
        s["changed"] = previous is not None and set(s["seals"]) != previous
        previous = set(s["seals"])
    return seen


def party_versions(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each party named on the trip's document versions (role, name, country, address), with
    the first and last version naming it; ``amended`` marks a role whose party changed between
    versions (a consignee swapped after loading is a known sign of a rip-off)."""
    parties: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in documents:
        for p in d.get("parties", []):
            key = (p["role"], p["name"], p.get("country", ""))
            entry = parties.setdefault(key, {"role": p["role"], "name": p["name"], "country": p.get("country", ""),
                                             "address": p.get("address", ""), "first": d["received_at"],
                                             "last": d["received_at"], "versions": 0})
            entry["last"] = d["received_at"]
            entry["versions"] += 1
    names_per_role: dict[str, int] = {}
    for role, _, _ in parties:
        names_per_role[role] = names_per_role.get(role, 0) + 1
    out = sorted(parties.values(), key=lambda p: (p["role"], p["first"]))
    for p in out:
        p["amended"] = names_per_role[p["role"]] > 1
    return out


def map_data(detail: dict[str, Any]) -> dict[str, Any]:
    """What the page's map draws: the route's ports (with positions) and the vessel's track."""
    return {"route": [s for s in detail["route"] if s["lat"] is not None and s["lon"] is not None],
            "track": [[p["latitude"], p["longitude"], p["observed_at"], p["speed_knots"]]
                      for p in detail["vessel_track"]]}


def trip_page(request: Request, ctx: PageCtx, trip_id: int, status: int = 200, **forms_state: Any) -> HTMLResponse:
    """Render a trip's page (audited as a read of the trip); ``forms_state`` carries a refused
    form's message and values. A shipping line or terminal gets the trip without customs' risk
    view (:func:`~scheldt.workflows.trip_views.trip_detail` with ``agency`` False) and no form."""
    ctx.require(Permission.READ_TRIPS)
    terminal = ctx.principal.organisation.kind == OrgKind.TERMINAL
    detail = trip_detail(ctx.uow, ctx.scope, ctx.principal.organisation.id, trip_id, ctx.agency, terminal=terminal)
    ctx.audit("read", "trip", trip_id, container=detail["trip"]["container_number"])
    shown = {"terminal": terminal, "d": detail, "t": detail["trip"], "map": map_data(detail),
             "seals": seal_sightings(detail["events"], detail["documents"]),
             "parties": party_versions(detail["documents"]),
             "active_hold": next((h for h in detail["holds"] if not h["released_at"]), None)}
    shown["held_box_left"] = held_box_left(shown["active_hold"], detail["trip"].get("left_at"))
    if not ctx.agency:
        return render(request, "trip.html", ctx, status, **shown)
    return render(request, "trip.html", ctx, status, **shown, **_agency_forms(ctx, detail, forms_state))


def _agency_forms(ctx: PageCtx, detail: dict[str, Any], forms_state: dict[str, Any]) -> dict[str, Any]:
    """What an agency's trip page needs for its plan and hold forms: the scanners, shifts and
    picks to choose from, the open scan order, and a refused form's message and values over
    the defaults (the shift running now; a risk pick for a high or medium band not yet decided
    by an inspection, which only a manual pick plans again: a workbench review's default was
    refused every time)."""
    shift_day, shift = current_shift(ctx.now)
    trip = detail["trip"]
    risk = trip["risk_band"] in ("high", "medium") and trip["status"] not in inspections.DECIDED
    plan_form = {"scanner_id": "", "shift_date": shift_day.isoformat(), "shift": shift,
                 "selection": "risk" if risk else "manual", "reason": ""}
    scanners = ctx.uow.inspections.scanners(ctx.principal.organisation.id) \
        if ctx.principal.can(Permission.PLAN_SCANS) else []
    state = {"plan_error": None, "hold_error": None, "hold_reason": {}, "notices_sent": None, "notice_text": "",
             "notice_max": NOTICE_TEXT_MAX, "share_error": None} | forms_state
    state["plan_form"] = plan_form | forms_state.get("plan_form", {})
    groups = share.groups_of(ctx.uow, ctx.principal) if ctx.principal.can(Permission.SHARE) else []
    # AMBER+STRICT (the default) needs a sharing group: the organisation's only one is chosen;
    # without any, GREEN, and the form says why (a review's alert sent as the form came could
    # never be shared)
    state["share_form"] = {"tlp": "amber+strict" if groups else "green",
                           "sharing_group": groups[0]["id"] if len(groups) == 1 else "",
                           "recipients": "", "note": "", "reliability": "B", "credibility": "2"} | forms_state.get(
        "share_form", {})
    shared = share.alerts_shared_about(ctx.uow, ctx.principal, detail["trip"]["id"]) \
        if ctx.principal.can(Permission.SHARE) else []
    watched = share.watchlist_alerts_about(ctx.uow, ctx.principal, detail["trip"]["id"], ctx.now)
    return state | {"scanners": scanners, "shifts": SHIFTS, "selections": HAND_PICKS, "groups": groups,
                    "shared": shared, "watched": watched,
                    "open_order": next((o for o in detail["scan_orders"] if o["status"] in ("planned", "scanned")),
                                       None)}


@router.get("/trips/{trip_id}", response_class=HTMLResponse)
def trip(request: Request, trip_id: str, ctx: PageDep, notices: str = "") -> HTMLResponse:
    """A container trip: score and reasons, map, timeline, documents, parties, seals, scan
    orders and holds; a plan form and a hold form for those who may use them. For a shipping
    line or terminal: the facts, map, documents, parties, seals and whether the box is held."""
    try:
        tid = parse_trip_id(trip_id)
        sent = _notices_sent(ctx, tid, notices) if ctx.agency else None
        return trip_page(request, ctx, tid, **({"notices_sent": sent} if ctx.agency else {}))
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/trips/{trip_id}/plan", response_model=None)
def plan_from_trip(request: Request, trip_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
                   scanner_id: Annotated[str, Form()] = "", shift_date: Annotated[str, Form()] = "",
                   shift: Annotated[str, Form()] = "", selection: Annotated[str, Form()] = "",
                   reason: Annotated[str, Form()] = "") -> Response:
    """Plan a scan of this trip; then show the shift's plan. A refusal (full shift, open
    order, missing reason) shows the trip again with the message and what was typed."""
    typed = {"scanner_id": scanner_id[:64], "shift_date": shift_date[:20], "shift": shift[:10],
             "selection": selection[:20], "reason": reason}
    try:
        tid = parse_trip_id(trip_id)
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        order = plan(ctx, tid, typed)
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: trip_page(request, ctx, tid, e.status, plan_error=e,
                                                            plan_form=typed))
    query = urlencode({"date": order["shift_date"], "shift": order["shift"], "planned": order["id"]})
    return RedirectResponse(f"/plan?{query}", status_code=303)


def plan(ctx: PageCtx, trip_id: int, typed: dict[str, str]) -> dict[str, Any]:
    """Plan a scan from a form's values (see :func:`scheldt.workflows.inspections.plan_scan`),
    audited as a write. Raises ScheldtError."""
    # named as the form's fields, so the page marks the field and focuses it (a web review)
    when = forms.day(typed["shift_date"], "shift_date")
    if when is None:
        raise InputError("shift_date", "is required")
    if not typed["scanner_id"].strip():
        raise InputError("scanner_id", "pick a scanner")
    drawn = False
    if typed["selection"] == "exploration" and typed.get("draw") and typed["shift"] in SHIFTS:
        _, key = inspections.exploration_draw(ctx.uow, ctx.principal.organisation.id, when, typed["shift"])
        drawn = inspections.was_drawn(key, trip_id, when, typed["shift"], typed["draw"])
    order = inspections.plan_scan(ctx.uow, ctx.principal, trip_id, typed["scanner_id"].strip(), when,
                                  typed["shift"], typed["selection"], typed["reason"], ctx.now, drawn=drawn)
    ctx.audit("write", "scan-order", order["id"], action="plan", trip=trip_id, container=order["container_number"],
              selection=typed["selection"])
    return order


@router.post("/trips/{trip_id}/hold", response_model=None)
def hold(request: Request, trip_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
         reason: Annotated[str, Form()] = "") -> Response:
    """Put the trip on hold, with a written reason."""
    return _hold_move(request, ctx, trip_id, csrf, reason, "hold")


@router.post("/trips/{trip_id}/release", response_model=None)
def release(request: Request, trip_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
            reason: Annotated[str, Form()] = "", hold_id: Annotated[str, Form()] = "") -> Response:
    """Release the hold the page showed (``hold_id``), with a written reason."""
    return _hold_move(request, ctx, trip_id, csrf, reason, "release", hold_id)


def _hold_move(request: Request, ctx: PageCtx, trip_id: str, csrf: str, reason: str, move: str,
               hold_id: str = "") -> Response:
    try:
        tid = parse_trip_id(trip_id)
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        if move == "hold":
            out = inspections.place_hold(ctx.uow, ctx.principal, tid, reason, ctx.now)
        else:  # the hold the page showed: another placed since is not released unseen (a web review)
            meant = int(hold_id) if hold_id.isascii() and hold_id.isdigit() and len(hold_id) < 12 else None
            out = inspections.release_hold(ctx.uow, ctx.principal, tid, reason, ctx.now, meant)
        ctx.audit("write", "hold", out["id"], action=move, trip=tid, container=out["container_number"])
    except ScheldtError as exc:
        # the reason typed stays with its move (a web review's refused hold, the box on hold by then,
        # had its reason put in the release form: one more click released it "for K9")
        return refused(request, ctx, exc, lambda e: trip_page(request, ctx, tid, e.status, hold_error=e,
                                                            hold_reason={move: reason}))
    return RedirectResponse(f"/trips/{tid}#holds", status_code=303)


@router.post("/trips/{trip_id}/notice", response_model=None)
def notice(request: Request, trip_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
           text: Annotated[str, Form()] = "") -> Response:
    """Send the trip's shipping line and terminal an alert notice written for them."""
    try:
        tid = parse_trip_id(trip_id)
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        queued = inspections.send_notice(ctx.uow, ctx.principal, tid, text, ctx.now)
        ctx.audit("write", "notice", tid, action="alert notice", queued=len(queued))
    except ScheldtError as exc:
        if isinstance(exc, InputError) and exc.where == "notice text":  # the form's field, so the page marks it
            exc = InputError("text", exc.why)
        # the text typed is kept (a review lost 1,500 characters to a refusal)
        return refused(request, ctx, exc, lambda e: trip_page(request, ctx, tid, e.status, hold_error=e,
                                                            notice_text=text[:NOTICE_TEXT_MAX * 2]))
    return RedirectResponse(f"/trips/{tid}?notices={_notices_mark(ctx, tid, len(queued))}#holds", status_code=303)


def _notices_mark(ctx: PageCtx, trip_id: int, count: int) -> str:
    """``count`` with a mark of this session (keyed on its form token, which no one else
    knows), so the trip page says notices were queued only when this session queued them: a web
    review's link with ``?notices=999999`` had an officer read that 999,999 notices went out."""
    return f"{count}.{session_mark(ctx, f'notices:{trip_id}:{count}')}"


def _notices_sent(ctx: PageCtx, trip_id: int, notices: str) -> int | None:
    """How many notices this session queued for the trip, from :func:`_notices_mark`; None when
    ``notices`` is not a mark of this session's (nothing is said then)."""
    count = notices.partition(".")[0]
    if not notices.isascii() or not count.isdigit() or len(count) > 6:  # "²" and "١" are digits to isdigit
        return None
    return int(count) if hmac.compare_digest(notices, _notices_mark(ctx, trip_id, int(count))) else None


# -- parties --------------------------------------------------------------------------------

@router.get("/parties", response_class=HTMLResponse)
def party(request: Request, ctx: PageDep, name: str = "") -> HTMLResponse:
    """Where a party (shipper, consignee, notify party) appears on the organisation's
    consignments, by normalised name, newest first, with the trips they belong to."""
    try:
        ctx.require(Permission.READ_TRIPS)
        refuse_terminal(ctx.principal)
        wanted = name.strip()[:200]
        key, items = documents_naming(ctx.uow, wanted, ctx.scope) if wanted else ("", [])
    except InputError as exc:
        return render(request, "party.html", ctx, 400, name=name[:200], key="", items=[], trips={}, error=exc)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    if not key:
        return render(request, "party.html", ctx, name="", key="", items=[], trips={}, error=None)
    trips = {ref: _consignment_trips(ctx, ref) for ref in sorted({d["document_ref"] for d in items})[:100]}
    ctx.audit("read", "party", key, hits=len(items), consignments=sorted(trips),
              **audited_trips([t for listed in trips.values() for t in listed]))
    return render(request, "party.html", ctx, name=wanted, key=key, items=items, trips=trips, error=None)


def _consignment_trips(ctx: PageCtx, document_ref: str) -> list[dict[str, Any]]:
    """Up to 20 of the organisation's trips of a consignment: an agency's highest score first;
    a shipping line's or terminal's newest first, without customs' risk view."""
    where = TripFilter(document_ref=document_ref)
    if ctx.agency:
        return ctx.uow.container_trips.page(ctx.scope, where, None, 20)
    return [trip_row(r, agency=False) for r in ctx.uow.container_trips.page_by_id(ctx.scope, where, None, 20)]
