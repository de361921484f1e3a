"""Scanners, scan plans per shift, scan orders (scan, search, seizure), holds and the dashboard."""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt

from scheldt.api.deps import CtxDep, CtxRouter, audited_rows
from scheldt.api.paging import MAX_LIMIT, decode_id, encode
from scheldt.domain.access import Permission
from scheldt.domain.inspection import (
    CONCEALMENTS,
    DRUG_TYPES,
    EXPLORATION_SHIFTS,
    MAX_SEIZURE_KG,
    METHODS,
    MIN_SEIZURE_KG,
    exploration_shift,
)
from scheldt.errors import NotFoundError
from scheldt.workflows import inspections
from scheldt.workflows.trip_views import dashboard, outsider_hold, trip_row

router = CtxRouter(prefix="/api/v1", tags=["inspections"])

Shift = Literal["early", "late", "night"]
#: Exploration picks are drawn from the operating system's randomness (not reproducible on purpose).
_DRAW = random.SystemRandom()


def unpadded(why: str) -> BeforeValidator:
    """A validator refusing text with surrounding white space with ``why``, run before a model's
    own stripping (:class:`Strict` strips text): for values used exactly as sent (a password, a
    shared secret), which a silent trim would change."""
    def check(value: Any) -> Any:
        if isinstance(value, str) and value != value.strip():
            raise ValueError(why)
        return value
    return BeforeValidator(check)


class Strict(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not silently ignored); their
    numbers and booleans are typed Strict* so that "3" or 42.0 is refused, not converted (an API
    review: a trip id sent as "42.0" was taken as trip 42)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ScannerIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    site: str = Field(default="", max_length=200)
    capacity_per_shift: StrictInt = Field(ge=1, le=1000, description="containers per shift")


class ScannerChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    site: str | None = Field(default=None, max_length=200)
    capacity_per_shift: StrictInt | None = Field(default=None, ge=0, le=1000,
                                                 description="containers per shift, from now on; 0: out of "
                                                             "service (down for repair) until set again")


class ScanOrderIn(Strict):
    trip_id: StrictInt = Field(ge=1)
    scanner_id: str = Field(min_length=1, max_length=64)
    shift_date: date
    shift: Shift
    selection: Literal["risk", "exploration", "manual"]
    reason: str = Field(default="", max_length=2000, description="required for a manual pick")


class FillIn(Strict):
    scanner_id: str = Field(min_length=1, max_length=64)
    count: StrictInt | None = Field(default=None, ge=1, le=1000, description="orders to add (default: every free slot)")
    exploration: StrictFloat = Field(default=inspections.FILL_EXPLORATION, ge=0, le=1,
                               description=("share of them drawn at random among open trips; a fraction of "
                                            "a pick is drawn with its probability (0.5 of 5 free slots: 2 or 3 "
                                            "random picks, 2.5 on average), so small scanners get their share "
                                            "over the shifts; none for a shift beyond the next 24 hours, "
                                            "which the answer's notes say"))


def _not_true_or_false(value: Any) -> Any:
    """Refuse a JSON boolean where a number belongs (``"mass_kg": true`` was taken as 1 kg)."""
    if isinstance(value, bool):
        raise ValueError("a number of kilograms is needed, not true or false")
    return value


def _time_as_text(value: Any) -> Any:
    """Refuse a number where a time belongs, also quoted (a regression review's 1796392368 was
    taken as seconds, 1e12 as milliseconds; a later one's "1796392368" too); texts are read as
    ISO 8601 with their offset."""
    if value is not None and (not isinstance(value, str) or _NUMBER.fullmatch(value)):
        raise ValueError("give the time as text with its UTC offset, e.g. 2026-10-25T05:30:00+01:00")
    return value


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


class ActionIn(Strict):
    action: Literal["scan", "search", "clear", "waive", "cancel", "correct", "withdraw"]
    nii_image_ref: str | None = Field(default=None, max_length=200)
    verdict: Literal["clear", "anomaly"] | None = None
    result: Literal["nothing_found", "irregularity", "seizure"] | None = None
    drug_type: Literal[DRUG_TYPES] | None = None  # type: ignore[valid-type]
    mass_kg: Annotated[StrictFloat | None, BeforeValidator(_not_true_or_false)] = Field(
        default=None, ge=MIN_SEIZURE_KG, le=MAX_SEIZURE_KG, allow_inf_nan=False, description="kg")
    concealment: Literal[CONCEALMENTS] | None = None  # type: ignore[valid-type]
    method: Literal[("", *METHODS)] | None = Field(  # type: ignore[valid-type]
        default=None, description="with a seizure, how the drugs came to be in the box, when the team can tell "
                                  "(\"\" or null: not said)")
    seals_found: str | None = Field(default=None, max_length=500, description=(
        "with a search, the seal numbers read on the box, separated by commas (\"SL123456, SL999888\"); "
        "shared with a seizure report"))
    notes: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)
    # not strict: a strict datetime took no text at all from a JSON body (a scan-team review's
    # every "done_at" was refused), as pydantic reads the body already parsed
    done_at: Annotated[AwareDatetime | None, BeforeValidator(_time_as_text)] = Field(
        default=None,
        description="when a scan, search or clear was done, with its UTC offset, if earlier than now (results "
                    "recorded after the shift): the change, the seizure's date and its shared report follow it")
    seen_changes: StrictInt | None = Field(
        default=None, ge=0, description="how many changes (`changes` of GET /scan-orders/{id}) the order had when "
        "you read it: if it has had another since, nothing is done and the answer is 409, naming the last change "
        "(send it so that a colleague's record is never acted on unseen)")


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseIn(ReasonIn):
    hold_id: StrictInt | None = Field(default=None, ge=1, description=(
        "the hold you mean to release (`id` of the trip's active hold as you read it): if another hold is in force "
        "now, nothing is released and the answer is 409, saying which"))


@router.get("/scanners", summary="The organisation's NII scanners")
def list_scanners(ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.READ_TRIPS)
    ctx.audit("read", "scanners", ctx.principal.organisation.id)
    return {"items": ctx.uow.inspections.scanners(ctx.principal.organisation.id)}


@router.post("/scanners", status_code=201, summary="Register a scanner")
def add_scanner(body: ScannerIn, ctx: CtxDep) -> dict[str, Any]:
    scanner = inspections.add_scanner(ctx.uow, ctx.principal, body.id, body.name, body.site, body.capacity_per_shift)
    ctx.audit("write", "scanner", body.id, capacity=body.capacity_per_shift)
    return scanner


@router.patch("/scanners/{scanner_id}", summary="Change a scanner's capacity, name or site")
def change_scanner(scanner_id: str, body: ScannerChange, ctx: CtxDep) -> dict[str, Any]:
    """Orders already planned stay; ``over_capacity`` lists the shifts from the running one on
    that now hold more orders than the capacity (``planned``: of them, how many can still be
    cancelled)."""
    scanner, over = inspections.update_scanner(ctx.uow, ctx.principal, scanner_id, ctx.now,
                                               capacity=body.capacity_per_shift, name=body.name, site=body.site)
    ctx.audit("write", "scanner", scanner_id, **body.model_dump(exclude_none=True))
    return scanner | {"over_capacity": [{"shift_date": d, "shift": s, "orders": n, "planned": p}
                                        for d, s, n, p in over]}


@router.get("/plans/{shift_date}/{shift}", summary="A shift's scan plan: each scanner's capacity and orders")
def shift_plan(shift_date: date, shift: Shift, ctx: CtxDep) -> dict[str, Any]:
    board = inspections.shift_board(ctx.uow, ctx.principal, shift_date, shift)
    ctx.audit("read", "scan-plan", f"{shift_date} {shift}", **audited_rows([o for s in board for o in s["orders"]]))
    return {"shift_date": shift_date.isoformat(), "shift": shift,
            "scanners": [s | {"orders": [trip_row(o) for o in s["orders"]]} for s in board]}


@router.get("/scan-orders", summary="Scan orders, newest first")
def list_orders(ctx: CtxDep, cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
                status: Literal["planned", "scanned", "searched", "cleared", "waived", "cancelled"] | None = None,
                scanner_id: Annotated[str | None, Query(max_length=64)] = None,
                shift_date: date | None = None, shift: Shift | None = None) -> dict[str, Any]:
    ctx.require(Permission.READ_TRIPS)
    rows = ctx.uow.inspections.orders(ctx.principal.organisation.id, status=status, scanner_id=scanner_id,
                                      shift_date=shift_date.isoformat() if shift_date else None, shift=shift,
                                      after_id=decode_id(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "scan-order-list", f"{len(rows)} orders", **audited_rows(rows))
    return {"items": [trip_row(r) for r in rows], "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.post("/scan-orders", status_code=201,
             summary="Plan a scan (a risk or manual pick; exploration picks are drawn by fill)")
def plan(body: ScanOrderIn, ctx: CtxDep) -> dict[str, Any]:
    order = inspections.plan_scan(ctx.uow, ctx.principal, body.trip_id, body.scanner_id, body.shift_date, body.shift,
                                  body.selection, body.reason, ctx.now)
    ctx.audit("write", "scan-order", order["id"], action="plan", trip=body.trip_id,
              container=order["container_number"], selection=body.selection)
    return trip_row(order)


@router.post("/plans/{shift_date}/{shift}/fill", status_code=201,
             summary="Fill a scanner's free slots in a shift from the top of the risk queue")
def fill(shift_date: date, shift: Shift, body: FillIn, ctx: CtxDep) -> dict[str, Any]:
    """Risk picks from the top of the queue (open trips still in port, score above 0) and a
    share of exploration picks drawn at random, up to the scanner's free slots."""
    orders = inspections.fill_shift(ctx.uow, ctx.principal, body.scanner_id, shift_date, shift, ctx.now,
                                    _DRAW, body.count, body.exploration)
    for o in orders:
        ctx.audit("write", "scan-order", o["id"], action="plan", trip=o["trip_id"], container=o["container_number"],
                  selection=o["selection"])
    # an API user asking for random picks far ahead got none without a word (a regression review)
    notes = [] if body.exploration == 0 or exploration_shift(shift_date, shift, ctx.now) else [
        f"no exploration picks: they are drawn for the running shift and the next {EXPLORATION_SHIFTS - 1} only "
        "(24 hours); fill this shift again once it is that near to draw them"]
    return {"orders": [trip_row(o) for o in orders], "notes": notes}


@router.get("/scan-orders/{order_id}", summary="A scan order with every change (who, when, why)")
def get_order(order_id: int, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.READ_TRIPS)
    order = ctx.uow.inspections.order(order_id, ctx.principal.organisation.id)
    try:  # its trip and box named, so "who read container X" finds it (an officer review)
        box = ctx.uow.container_trips.get(order["trip_id"], ctx.scope)["container_number"]
    except NotFoundError:  # an order on a trip the organisation no longer owns
        box = ""
    ctx.audit("read", "scan-order", order_id, trip=order["trip_id"], container=box)
    return trip_row(order) | {"changes": [trip_row(c) for c in ctx.uow.inspections.changes(order_id)]}


@router.post("/scan-orders/{order_id}/actions",
             summary="Record a scan, search or seizure; clear, waive or cancel; correct a recorded search")
def order_action(order_id: int, body: ActionIn, ctx: CtxDep) -> dict[str, Any]:
    data = body.model_dump(exclude={"action"}, exclude_none=True)
    order = inspections.act(ctx.uow, ctx.principal, order_id, body.action, data, ctx.now)
    box = {"trip": order["trip_id"], "container": order["container_number"]}
    ctx.audit("write", "scan-order", order_id, action=body.action, **box,
              **{k: v for k, v in data.items() if k != "notes"})
    if "seizure_report" in order:  # the shared report followed a correction
        ctx.audit("write", "shared-seizure-report", order["seizure_report"]["id"], order_id=order_id,
                  action=order["seizure_report"]["action"], **box)
    return trip_row(order)


@router.get("/seizures", summary="Seizures recorded by the organisation, newest scan order first")
def list_seizures(ctx: CtxDep, cursor: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict[str, Any]:
    """Paged as the other lists (an API review's ``limit=10`` returned every seizure)."""
    ctx.require(Permission.READ_DASHBOARD)
    rows = ctx.uow.inspections.seizures(ctx.principal.organisation.id, after_id=decode_id(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "seizure-list", f"{len(rows)} seizures", **audited_rows(rows))
    return {"items": [trip_row(r) for r in rows], "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.get("/holds", summary="Holds on the organisation's trips, newest first")
def list_holds(ctx: CtxDep, active: bool | None = None, cursor: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict[str, Any]:
    ctx.require(Permission.READ_TRIPS)
    rows = ctx.uow.inspections.scoped_holds(ctx.scope, active=active, after_id=decode_id(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "hold-list", f"{len(rows)} holds", **audited_rows(rows))
    # both views say whether the hold is on (an API review found "active" in a carrier's rows only)
    items = [trip_row(r) | {"active": r.get("released_at") is None} if ctx.agency
             else outsider_hold(r) | {"container_number": r["container_number"]} for r in rows]
    return {"items": items, "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.post("/trips/{trip_id}/hold", status_code=201, summary="Put a container trip on hold")
def hold(trip_id: int, body: ReasonIn, ctx: CtxDep) -> dict[str, Any]:
    out = inspections.place_hold(ctx.uow, ctx.principal, trip_id, body.reason, ctx.now)
    ctx.audit("write", "hold", out["id"], action="hold", trip=trip_id, container=out["container_number"])
    return trip_row(out)


class NoticeIn(Strict):
    text: str = Field(min_length=1, max_length=2000, description="for the shipping line: no internal reasons or sources")


@router.post("/trips/{trip_id}/notices", status_code=201,
             summary="Send the trip's shipping line and terminal an alert notice written for them")
def send_notice(trip_id: int, body: NoticeIn, ctx: CtxDep) -> dict[str, Any]:
    queued = inspections.send_notice(ctx.uow, ctx.principal, trip_id, body.text, ctx.now)
    ctx.audit("write", "notice", trip_id, action="alert notice", queued=len(queued))
    return {"trip_id": trip_id, "queued": len(queued)}


@router.post("/trips/{trip_id}/release", summary="Release a container trip's hold")
def release(trip_id: int, body: ReleaseIn, ctx: CtxDep) -> dict[str, Any]:
    out = inspections.release_hold(ctx.uow, ctx.principal, trip_id, body.reason, ctx.now, body.hold_id)
    ctx.audit("write", "hold", out["id"], action="release", trip=trip_id, container=out["container_number"])
    return trip_row(out)


@router.get("/dashboard", summary="Seizures over time, by origin and commodity; hit rates; model drift")
def get_dashboard(ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.READ_DASHBOARD)
    ctx.audit("read", "dashboard", ctx.principal.organisation.id)
    return dashboard(ctx.uow, ctx.principal.organisation.id, ctx.scope, ctx.now)
