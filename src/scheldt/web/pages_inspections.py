"""Scan planning per scanner and shift, the scan orders, and recording what came of them:
the scan (image and verdict), the search (nothing found, an irregularity or a seizure), a
clear image, a waived or cancelled order. Each form shows only to those whose role may use it,
and the workflow checks the role again on every post."""

from __future__ import annotations

import random
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.api.deps import audited_rows
from scheldt.api.paging import decode_id, encode
from scheldt.domain.access import Permission
from scheldt.domain.inspection import (
    CONCEALMENTS,
    DRUG_TYPES,
    METHODS,
    RESULTS,
    SHIFTS,
    VERDICTS,
    current_shift,
    exploration_shift,
    shift_end,
)
from scheldt.errors import InputError, NotFoundError, ScheldtError
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form
from scheldt.web.pages_trips import plan
from scheldt.web.render import error_page, refused, render
from scheldt.workflows import inspections, share

router = APIRouter(include_in_schema=False)

CANDIDATES = 15
EXPLORATION_SUGGESTIONS = 3
ORDERS_PAGE = 50
ORDER_STATUSES = ("planned", "scanned", "searched", "cleared", "waived", "cancelled")
_DRAW = random.SystemRandom()


# -- the shift plan -------------------------------------------------------------------------

def _shift(ctx: PageCtx, raw_date: str, raw_shift: str) -> tuple[Any, str]:
    default_day, default_shift = current_shift(ctx.now)
    return (forms.day(raw_date[:20], "date") or default_day,
            forms.choice(raw_shift[:10], "shift", SHIFTS) or default_shift)


def _candidates(ctx: PageCtx, day: Any, shift: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Open trips to plan whose box is in port (discharged, not gone): the top of the risk
    queue, and a few drawn at random from all such trips of the organisation, whatever their score
    (exploration picks, which keep measuring what the model misses), each with the token that
    lets it be planned as one (:func:`scheldt.workflows.inspections.exploration_draw`: the same
    draw on every load of the shift's page; none for a shift beyond the next 24 hours:
    :func:`~scheldt.domain.inspection.exploration_shift`); a drawn trip among the top is left out."""
    if not ctx.principal.can(Permission.PLAN_SCANS):
        return [], []
    open_trips = inspections.IN_PORT_OPEN
    top = ctx.uow.container_trips.page(ctx.scope, open_trips, None, CANDIDATES)
    on_top = {r["id"] for r in top}
    if not exploration_shift(day, shift, ctx.now):  # drawn for the next 24 hours only (a carrier review)
        return top, []
    rng, key = inspections.exploration_draw(ctx.uow, ctx.principal.organisation.id, day, shift)
    drawn = ctx.uow.container_trips.sample(ctx.scope, open_trips, EXPLORATION_SUGGESTIONS, rng)
    return top, sorted((r | {"draw": inspections.draw_token(key, r["id"], day, shift)}
                        for r in drawn if r["id"] not in on_top), key=lambda r: -r["score"])


def plan_page(request: Request, ctx: PageCtx, raw_date: str, raw_shift: str, status: int = 200,
              **state: Any) -> HTMLResponse:
    """Each scanner's capacity and orders in one shift, and trips to plan into it."""
    shift_day, shift = _shift(ctx, raw_date, raw_shift)
    board = inspections.shift_board(ctx.uow, ctx.principal, shift_day, shift)
    # a shift that has ended takes no plans: no trips to plan into it, nor Fill (a figures review's
    # finished shift offered both, and the server refused them)
    ended = shift_end(shift_day, shift)
    top, drawn = _candidates(ctx, shift_day, shift) if ended > ctx.now else ([], [])
    shown = audited_rows([o for s in board for o in s["orders"]])
    ctx.audit("read", "scan-plan", f"{shift_day} {shift}", **shown,  # and the candidate trips it lists
              candidates=[r["id"] for r in [*top, *drawn]])
    values = {"error": None, "typed": {}, "planned": None, "filled": None} | state
    return render(request, "plan.html", ctx, status, day=shift_day, shift=shift, shifts=SHIFTS, board=board,
                  top=top, drawn=drawn, ended_at=ended if ended <= ctx.now else None,
                  drawn_later=not exploration_shift(shift_day, shift, ctx.now), **values)


@router.get("/plan", response_class=HTMLResponse)
def plan_view(request: Request, ctx: PageDep, date: str = "", shift: str = "", planned: str = "",
              filled: str = "") -> HTMLResponse:
    """The scan plan of a shift (default: the shift running now, port local time)."""
    try:
        return plan_page(request, ctx, date, shift, planned=forms.whole(planned[:12], "planned"),
                         filled=forms.whole(filled[:6], "filled"))
    except InputError as exc:
        if date or shift:
            return plan_page(request, ctx, "", "", 400, error=exc)
        return error_page(request, ctx, exc)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/plan", response_model=None)
def plan_post(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "", trip_id: Annotated[str, Form()] = "",
              scanner_id: Annotated[str, Form()] = "", shift_date: Annotated[str, Form()] = "",
              shift: Annotated[str, Form()] = "", selection: Annotated[str, Form()] = "",
              reason: Annotated[str, Form()] = "", draw: Annotated[str, Form()] = "") -> Response:
    """Plan one of the listed trips onto a scanner in the shift shown (a drawn one carries its
    :func:`scheldt.workflows.inspections.draw_token`)."""
    typed = {"trip_id": trip_id[:12], "scanner_id": scanner_id[:64], "shift_date": shift_date[:20],
             "shift": shift[:10], "selection": selection[:20], "reason": reason, "draw": draw[:64]}
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        tid = forms.whole(typed["trip_id"], "trip")
        if tid is None:
            raise InputError("trip", "pick a trip")
        order = plan(ctx, tid, typed)
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: plan_page(request, ctx, typed["shift_date"], typed["shift"],
                                                            e.status, error=e, typed=typed))
    query = urlencode({"date": order["shift_date"], "shift": order["shift"], "planned": order["id"]})
    return RedirectResponse(f"/plan?{query}", status_code=303)


@router.post("/plan/fill", response_model=None)
def plan_fill(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "",
              scanner_id: Annotated[str, Form()] = "", shift_date: Annotated[str, Form()] = "",
              shift: Annotated[str, Form()] = "") -> Response:
    """Fill a scanner's free slots in the shift shown from the top of the queue
    (:func:`scheldt.workflows.inspections.fill_shift`)."""
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        day = forms.day(shift_date[:20], "shift_date")
        if day is None:
            raise InputError("shift_date", "is required")
        orders = inspections.fill_shift(ctx.uow, ctx.principal, scanner_id[:64], day, shift[:10], ctx.now, _DRAW)
    except ScheldtError as exc:
        shown = (shift_date[:20], shift[:10]) if exc.where not in ("shift_date", "shift") else ("", "")
        return refused(request, ctx, exc, lambda e: plan_page(request, ctx, *shown, e.status, error=e))
    for o in orders:
        ctx.audit("write", "scan-order", o["id"], action="plan", trip=o["trip_id"], container=o["container_number"],
                  selection=o["selection"])
    return RedirectResponse(f"/plan?{urlencode({'date': day.isoformat(), 'shift': shift, 'filled': len(orders)})}",
                            status_code=303)


# -- scan orders ----------------------------------------------------------------------------

@router.get("/orders", response_class=HTMLResponse)
def orders(request: Request, ctx: PageDep, status: str = "", cursor: str = "") -> HTMLResponse:
    """The organisation's scan orders, newest first, by status: the scanner operators' and
    search teams' work list."""
    try:
        ctx.require(Permission.READ_TRIPS)
        wanted = forms.choice(status[:20], "status", ORDER_STATUSES)
        rows = ctx.uow.inspections.orders(ctx.principal.organisation.id, status=wanted,
                                          after_id=decode_id(cursor[:200] or None), limit=ORDERS_PAGE + 1)
    except InputError as exc:
        return render(request, "orders.html", ctx, 400, rows=[], status=status[:20], statuses=ORDER_STATUSES,
                      next_url=None, error=exc)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    more = len(rows) > ORDERS_PAGE
    rows = rows[:ORDERS_PAGE]
    ctx.audit("read", "scan-order-list", f"{len(rows)} orders", **audited_rows(rows))
    query = {"status": wanted} if wanted else {}
    next_url = f"/orders?{urlencode(query | {'cursor': encode(rows[-1]['id'])})}" if more else None
    return render(request, "orders.html", ctx, rows=rows, status=wanted or "", statuses=ORDER_STATUSES,
                  next_url=next_url, error=None)


def _order_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise NotFoundError(f"scan order {raw[:20]}", "no such scan order")
    return int(raw)


def order_forms(status: str, selection: str, principal: Any, verdict: str = "") -> set[str]:
    """The actions whose forms the order's page shows the user: what may happen to an order in
    ``status`` with scan ``verdict`` (:mod:`scheldt.domain.inspection`) that the user's role may do."""
    shown = set()
    if status == "planned" and principal.can(Permission.RECORD_SCAN):
        shown.add("scan")
    if status == "scanned" and verdict != "anomaly" and principal.can(Permission.RECORD_SCAN):
        shown.add("clear")
    if status == "searched" and principal.can(Permission.RECORD_SEARCH):
        shown.add("correct")
    if status in ("planned", "scanned") and principal.can(Permission.RECORD_SEARCH):
        shown.add("search")
    held_scan = status == "cancelled" and bool(verdict)  # cancelled after its scan: the image is still its
    if (status in ("scanned", "searched", "cleared") or held_scan) and principal.can(Permission.PLAN_SCANS):
        shown.add("withdraw")
    if status in ("planned", "scanned") and principal.can(Permission.PLAN_SCANS):
        shown.add("cancel")
        if status == "planned" and selection == "risk":
            shown.add("waive")
    return shown


def order_page(request: Request, ctx: PageCtx, order_id: int, status: int = 200, **state: Any) -> HTMLResponse:
    """One scan order: its trip, every change (who, when, why) and the forms for what may
    happen next."""
    ctx.require(Permission.READ_TRIPS)
    order = ctx.uow.inspections.order(order_id, ctx.principal.organisation.id)
    try:
        trip = ctx.uow.container_trips.get(order["trip_id"], ctx.scope)
    except NotFoundError:  # the organisation's order on a trip it no longer owns: shown without it
        trip = None
    order = order | {"container_number": trip["container_number"] if trip else f"trip {order['trip_id']}",
                     "document_ref": trip["document_ref"] if trip else ""}
    # its trip and box named, so "who read container X" finds it (an officer review)
    ctx.audit("read", "scan-order", order_id, trip=order["trip_id"], container=trip["container_number"] if trip else "")
    values = {"error": None, "failed_action": "", "typed": {}} | state | _share_state(ctx, order, state)
    return render(request, "order.html", ctx, status, o=order, trip=trip, changes=ctx.uow.inspections.changes(order_id),
                  shown=order_forms(order["status"], order["selection"], ctx.principal, order.get("verdict") or ""),
                  verdicts=VERDICTS,
                  results=RESULTS, drug_types=DRUG_TYPES, concealments=CONCEALMENTS, methods=METHODS, **values)


def _share_state(ctx: PageCtx, order: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """What the order page needs to share its seizure report (an analyst review found no way to
    share one from the workbench): the groups, the report in force if shared, the form's values
    (a refused form's over the defaults: AMBER+STRICT in the only group, else GREEN)."""
    if order.get("result") != "seizure" or order.get("status") != "searched" or not ctx.principal.can(Permission.SHARE):
        return {"groups": [], "shared_report": None, "share_form": {}, "share_error": state.get("share_error")}
    groups = share.groups_of(ctx.uow, ctx.principal)
    shared = share.shared_seizure_report(ctx.uow, ctx.principal.organisation.id, order["id"], ctx.now)
    # sharing again starts from the report's own text: a blank form wiped it (a regression review)
    text = share.report_text(shared.object) if shared is not None else ""
    # and from its evaluation (a regression review: a C3 report re-worded went out A1)
    judged = (shared.reliability, shared.credibility) if shared is not None else ("A", "1")
    form = {"tlp": "amber+strict" if groups else "green", "sharing_group": groups[0]["id"] if len(groups) == 1 else "",
            "recipients": "", "description": text, "reliability": judged[0], "credibility": judged[1]
            } | state.get("share_form", {})
    return {"groups": groups, "share_form": form, "share_error": state.get("share_error"), "shared_report": shared}


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order(request: Request, order_id: str, ctx: PageDep) -> HTMLResponse:
    """A scan order's page."""
    try:
        return order_page(request, ctx, _order_id(order_id))
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/orders/{order_id}/act", response_model=None)
def order_act(request: Request, order_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
              action: Annotated[str, Form()] = "", nii_image_ref: Annotated[str, Form()] = "",
              verdict: Annotated[str, Form()] = "", result: Annotated[str, Form()] = "",
              drug_type: Annotated[str, Form()] = "", mass_kg: Annotated[str, Form()] = "",
              concealment: Annotated[str, Form()] = "", method: Annotated[str, Form()] = "",
              seals_found: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "",
              reason: Annotated[str, Form()] = "", done_at: Annotated[str, Form()] = "",
              seen_changes: Annotated[str, Form()] = "") -> Response:
    """Record a scan, a search (with a seizure), a clear image, with when it was done if
    earlier (port time); waive or cancel the order; correct a recorded search. ``seen_changes``:
    how many changes the page showed (a change since refuses the action: a web review)."""
    typed = {"nii_image_ref": nii_image_ref, "verdict": verdict[:20], "result": result[:20],
             "drug_type": drug_type[:32], "mass_kg": mass_kg[:40], "concealment": concealment[:32],
             "method": method[:32], "seals_found": seals_found[:500], "notes": notes, "reason": reason,
             "done_at": done_at[:40]}  # the workflow refuses texts over its limits
    try:
        oid = _order_id(order_id)
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        data = forms.filled(typed | {"mass_kg": forms.kilograms(typed["mass_kg"]),
                                     "done_at": forms.port_time(typed["done_at"], "done_at")})
        if action == "correct" and data.get("result") != "seizure":
            # the correction form comes filled with the recorded seizure; a correction to another
            # result drops it (a review's "nothing found" was refused until the fields were blanked)
            data = {k: v for k, v in data.items() if k not in ("drug_type", "mass_kg", "concealment", "method")}
        if action == "correct":  # the form shows the recorded notes, seals and method: a box emptied clears them
            data["notes"] = typed["notes"]  # (a regression review: left out as empty, they were kept)
            data["seals_found"] = typed["seals_found"]
            if data.get("result") == "seizure":
                data["method"] = typed["method"]
        if seen_changes.isascii() and seen_changes.isdigit() and len(seen_changes) < 12:
            data["seen_changes"] = int(seen_changes)
        order = inspections.act(ctx.uow, ctx.principal, oid, action[:20], data, ctx.now)
        box = {"trip": order["trip_id"], "container": order["container_number"]}
        ctx.audit("write", "scan-order", oid, action=action[:20], **box,
                  **{k: v for k, v in data.items() if k != "notes"})
        if "seizure_report" in order:  # the shared report followed a correction
            ctx.audit("write", "shared-seizure-report", order["seizure_report"]["id"], order_id=oid,
                      action=order["seizure_report"]["action"], **box)
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: order_page(request, ctx, oid, e.status, error=e,
                                                             failed_action=action[:20], typed=typed))
    return RedirectResponse(f"/orders/{oid}", status_code=303)
