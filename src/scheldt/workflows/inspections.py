"""Inspection workflow: plan scans within scanner capacity, record scans, searches and
seizures, hold and release containers; outcomes become training data for the container model.

Every function takes the acting :class:`~scheldt.domain.access.Principal`, checks its
permission, works only on trips its organisation owns, and records who, when and why.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scheldt.domain.access import Organisation, OrgKind, Permission, Principal, trip_scope
from scheldt.domain.audit import audit_payload
from scheldt.domain.inspection import (
    EXPLORATION_SHIFTS,
    MAX_TEXT,
    SEARCH_FIELDS,
    SHIFTS,
    WITHDRAWN,
    Status,
    apply,
    check_plan,
    check_seizure_mass,
    check_shift_ahead,
    current_shift,
    exploration_shift,
    heaviest_known_load,
    outcome,
    scanned_early,
    shift_end,
)
from scheldt.domain.trips import TripFilter
from scheldt.errors import ConflictError, ForbiddenError, InputError
from scheldt.workflows import notices
from scheldt.workflows.accounts import require

_SCANNER_ID = re.compile(r"(?=.*[A-Za-z0-9])[A-Za-z0-9._-]{1,64}")  # not "." or "..": URL path steps


def add_scanner(uow: Any, principal: Principal, scanner_id: str, name: str, site: str, capacity: int) -> dict[str, Any]:
    """Register a scanner of the principal's organisation (administrators); see
    :func:`register_scanner`."""
    require(principal, Permission.MANAGE_ORGANISATIONS)
    return register_scanner(uow, principal.organisation, scanner_id, name, site, capacity)


def register_scanner(uow: Any, organisation: Organisation, scanner_id: str, name: str, site: str,
                     capacity: int) -> dict[str, Any]:
    """Register an NII scanner of an agency with its capacity per shift (containers). Raises
    InputError for an id that is not 1-64 letters, digits, '.', '-' or '_' (it goes into URL
    paths: a CLI review's "sc 4/x" could not be changed through the API), a capacity not
    1-1000, or an organisation that is no agency (scanners are the agencies' working tools: a
    review gave one to a shipping line, whose users then saw it); ConflictError for an id taken."""
    if organisation.kind != OrgKind.AGENCY:
        raise InputError("organisation", f"{organisation.id} is a {organisation.kind.value}: only an agency has "
                         "NII scanners")
    sid = scanner_id.strip()
    if not _SCANNER_ID.fullmatch(sid):
        raise InputError("scanner id", f"{sid[:70]!r} must be 1-64 letters, digits, '.', '-' or '_', with a letter "
                         "or digit (e.g. SC-1)")
    uow.inspections.add_scanner(sid, name.strip() or sid, site.strip(), capacity, organisation.id)
    return uow.inspections.scanner(sid, organisation.id)


def change_scanner(uow: Any, organisation: Organisation, scanner_id: str, now: datetime, *,
                   capacity: int | None = None, name: str | None = None, site: str | None = None
                   ) -> tuple[dict[str, Any], list[tuple[str, str, int, int]]]:
    """Change an agency's scanner (a capacity per shift in containers, a name, a site; None
    leaves it). Orders already planned stay: returns the scanner as changed and the shifts from
    the one running at ``now`` (UTC; :func:`current_shift`, in port time) on that now hold more
    orders than its capacity (shift date, shift, orders, of them still planned), for the planner
    to cancel some of those still planned. Raises NotFoundError for a scanner not the
    organisation's, InputError for a capacity not 1-1000 or a blank name."""
    if name is not None and not name.strip():
        raise InputError("name", "give a name, or leave it unchanged")
    uow.inspections.lock()
    uow.inspections.change_scanner(scanner_id, organisation.id, now, capacity=capacity,
                                   name=None if name is None else name.strip(),
                                   site=None if site is None else site.strip())
    scanner = uow.inspections.scanner(scanner_id, organisation.id)
    # from the running shift: a night shift after midnight is the day before's (a scan-team review's
    # scanner broke at 02:45 with a box still planned on it, and that night was not listed)
    day, shift = current_shift(now)
    over = uow.inspections.shifts_over(scanner_id, scanner["capacity_per_shift"], day.isoformat())
    return scanner, [o for o in over if o[0] != day.isoformat() or SHIFTS.index(o[1]) >= SHIFTS.index(shift)]


def update_scanner(uow: Any, principal: Principal, scanner_id: str, now: datetime, *, capacity: int | None = None,
                   name: str | None = None, site: str | None = None
                   ) -> tuple[dict[str, Any], list[tuple[str, str, int, int]]]:
    """:func:`change_scanner` for an administrator of the scanner's organisation."""
    require(principal, Permission.MANAGE_ORGANISATIONS)
    return change_scanner(uow, principal.organisation, scanner_id, now, capacity=capacity, name=name, site=site)


def shift_board(uow: Any, principal: Principal, shift_date: date, shift: str) -> list[dict[str, Any]]:
    """Each scanner of the organisation in one shift: capacity (what the shift ran with, when it
    has ended: a capacity changed since is not its own), slots taken, its orders.
    Raises ForbiddenError for a shipping line or terminal: a plan page lists the top of the
    risk queue, scores a carrier must never see (a review reached it by typing /plan)."""
    require(principal, Permission.READ_TRIPS)
    if principal.organisation.kind != OrgKind.AGENCY:
        raise ForbiddenError("scan plan", f"{principal.organisation.id} is a {principal.organisation.kind.value}: "
                             "scan plans are for agencies only")
    check_plan("risk", shift, "")
    out = []
    scanners = uow.inspections.scanners(principal.organisation.id)
    # a shift keeps the capacity it ran with: a later change is not its own (figures review)
    then = uow.inspections.capacity_after([s["id"] for s in scanners], shift_end(shift_date, shift))
    for s in scanners:
        orders = uow.inspections.orders(principal.organisation.id, scanner_id=s["id"], shift_date=shift_date.isoformat(),
                                        shift=shift, limit=1000)
        out.append(s | {"capacity_per_shift": then.get(s["id"], s["capacity_per_shift"]),
                        "taken": uow.inspections.slots_taken(s["id"], shift_date.isoformat(), shift), "orders": orders})
    return out


def plan_scan(uow: Any, principal: Principal, trip_id: int, scanner_id: str, shift_date: date, shift: str,
              selection: str, reason: str, now: datetime, drawn: bool = False) -> dict[str, Any]:
    """Plan a scan of a trip on a scanner in a shift. ``selection``: risk (from the queue),
    exploration (a random pick that keeps the model honest: only a trip ``drawn`` at random,
    by :func:`fill_shift` or the plan page's draw) or manual (an officer's own pick; needs a
    written ``reason``). Raises NotFoundError for a trip or scanner not the organisation's,
    InputError for a shift that has ended, an exploration pick not drawn, or a risk pick of a
    trip no indicator scored (score 0: a manual pick, unless a draw offers it), ConflictError when the
    shift is full, the trip already has an open order, its box has left the port, or it is
    planned into the running shift before it was discharged here. Returns the order with its
    trip's ``container_number``."""
    require(principal, Permission.PLAN_SCANS)
    reason = check_plan(selection, shift, reason)
    if selection == "exploration" and not drawn:  # a review hand-picked a high-risk trip as "exploration"
        raise InputError("selection", "exploration picks are drawn at random (the plan page's draw, or Fill: POST "
                         "/api/v1/plans/{date}/{shift}/fill), so that their hit rate is the base rate risk picks must "
                         "beat; a trip chosen by hand is a risk pick, or a manual pick with a reason")
    check_shift_ahead(shift_date, shift, now)
    if selection == "exploration" and not exploration_shift(shift_date, shift, now):
        raise InputError("selection", f"exploration picks are drawn for the running shift and the next "
                         f"{EXPLORATION_SHIFTS - 1} only (24 hours), not for the {shift} shift of {shift_date}: a "
                         "draw among a month of shifts lets a box be chosen; plan it as a risk pick, or manual with "
                         "a reason")
    org = principal.organisation.id
    uow.inspections.lock()  # before reading the open order and the slots taken (a review's double submit)
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    _refuse_regrouped(uow, principal, trip)
    if trip["left_at"] is not None:
        raise ConflictError(f"trip {trip_id}", f"its box left the port at {trip['left_at']:%Y-%m-%d %H:%M} UTC "
                            "(gate-out or onward load): it cannot be scanned here")
    if trip["arrival_at"] is None and (shift_date, shift) == current_shift(now):
        raise ConflictError(f"trip {trip_id}", "its box has not been discharged here yet: it cannot be scanned in "
                            "the running shift (plan it into a later one, after its arrival)")
    if trip["status"] in DECIDED and selection != "manual":
        raise ConflictError(f"trip {trip_id}", f"was {trip['status']} already (see its scan orders): plan a manual "
                            "pick with a reason to inspect it again")
    if selection == "risk" and (trip["assessment_id"] is None or trip["score"] <= 0):
        raise InputError("selection", f"trip {trip_id} has a risk score of 0: "
                         "plan it as manual with a reason (or as exploration, if a draw offers it)")
    scanner = uow.inspections.scanner(scanner_id, org)
    open_order = uow.inspections.open_order_for_trip(trip_id)
    if open_order is not None:
        raise ConflictError(f"trip {trip_id}", f"already has scan order {open_order['id']} ({open_order['status']})"
                            + _overdue(open_order, now))
    _in_service(scanner)
    taken = uow.inspections.slots_taken(scanner_id, shift_date.isoformat(), shift)
    if taken >= scanner["capacity_per_shift"]:
        raise ConflictError(f"scanner {scanner_id}", f"the {shift} shift of {shift_date} is full "
                            f"({taken} of {scanner['capacity_per_shift']} containers)")
    order_id = uow.inspections.add_order({
        "trip_id": trip_id, "organisation_id": org, "scanner_id": scanner_id, "shift_date": shift_date.isoformat(),
        "shift": shift, "selection": selection, "status": Status.PLANNED.value, "score_at_planning": trip["score"],
        "reason": reason, "created_by": principal.username, "created_at": now, "updated_at": now})
    uow.inspections.add_change(order_id, "", Status.PLANNED.value, principal.username, reason,
                               {"scanner_id": scanner_id, "shift_date": shift_date.isoformat(), "shift": shift,
                                "selection": selection}, now)
    uow.container_trips.set_state(trip_id, status=Status.PLANNED.value)
    return uow.inspections.order(order_id, org) | {"container_number": trip["container_number"]}


def _overdue(order: dict[str, Any], now: datetime) -> str:
    """", planned for a shift that ended ...: cancel it ..." for a planned order whose shift is
    over, else "" (a scan-team review: such an order blocked its trip with no word why)."""
    if order["status"] != Status.PLANNED.value:
        return ""
    ended = shift_end(date.fromisoformat(str(order["shift_date"])), order["shift"])
    if ended > now:
        return ""
    return (f", planned for the {order['shift']} shift of {order['shift_date']}, which ended at "
            f"{ended.date().isoformat()} {ended:%H:%M} port time without a scan: cancel it with a reason, then plan again")


def exploration_draw(uow: Any, organisation_id: str, shift_date: date, shift: str) -> tuple[random.Random, bytes]:
    """The plan page's exploration draw for a shift: a random generator seeded for that
    organisation and shift (a reload shows the same draw, so an officer cannot reload until a
    wanted trip comes up, as a regression review did), and the key that signs the trips it
    drew (:func:`draw_token`). Both come from a key this node alone knows: derived from its
    TAXII cursor secret (32 random bytes made by migration 0022) under a label of its own, so
    neither key tells anything of the other. Raises NotFoundError for a store not upgraded."""
    from scheldt.workflows.taxii import CURSOR_SECRET

    root = bytes.fromhex(uow.exchange.node_secret(CURSOR_SECRET))
    key = hmac.new(root, b"scheldt exploration draw", hashlib.sha256).digest()
    seed = hmac.new(key, f"seed|{organisation_id}|{shift_date.isoformat()}|{shift}".encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(seed[:16], "big")), key


def draw_token(key: bytes, trip_id: int, shift_date: date, shift: str) -> str:
    """What the plan page gives a trip its draw (:func:`exploration_draw`) offers for a shift:
    an HMAC under the node's draw key, which no client knows, of the trip and the shift."""
    return hmac.new(key, f"drawn|{trip_id}|{shift_date.isoformat()}|{shift}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def was_drawn(key: bytes, trip_id: int, shift_date: date, shift: str, token: str) -> bool:
    """Whether ``token`` is the :func:`draw_token` of ``trip_id`` for that shift."""
    return bool(token) and hmac.compare_digest(token, draw_token(key, trip_id, shift_date, shift))


#: The share of a filled shift's free slots drawn at random (exploration picks), as the
#: declaration targeting takes it out of capacity: 5 %.
FILL_EXPLORATION = 0.05
#: Trips a shift can take: open, discharged at their port of discharge, not gone from it.
IN_PORT_OPEN = TripFilter(status="open", left=False, arrived=True)


def fill_shift(uow: Any, principal: Principal, scanner_id: str, shift_date: date, shift: str, now: datetime,
               rng: Any, count: int | None = None, exploration: float = FILL_EXPLORATION) -> list[dict[str, Any]]:
    """Fill a scanner's free slots in a shift from the risk queue: up to ``count`` orders (all
    free slots when None), the highest-scored open trips whose box is in port (discharged and
    not gone) as ``risk`` picks and ``exploration`` × that many drawn at random among the
    other such trips, whatever their score; a fraction of a pick is drawn with its probability
    (0.3 of a pick: one in three fills or so), so small scanners get their share over the
    shifts. ``rng``: a ``random.Random``. Returns the new orders.
    Raises InputError for a shift that has ended, a bad ``count`` or share, ConflictError when
    the shift is full, NotFoundError for another organisation's scanner."""
    require(principal, Permission.PLAN_SCANS)
    check_plan("risk", shift, "")
    check_shift_ahead(shift_date, shift, now)
    if not 0 <= exploration <= 1:
        raise InputError("exploration", f"{exploration} is not a share between 0 and 1")
    uow.inspections.lock()
    scanner = _in_service(uow.inspections.scanner(scanner_id, principal.organisation.id))
    free = scanner["capacity_per_shift"] - uow.inspections.slots_taken(scanner_id, shift_date.isoformat(), shift)
    if free <= 0:
        raise ConflictError(f"scanner {scanner_id}", f"the {shift} shift of {shift_date} is full "
                            f"({scanner['capacity_per_shift'] - free} of {scanner['capacity_per_shift']} containers)")
    if count is not None and count < 1:
        raise InputError("count", "give at least 1")
    wanted = free if count is None else min(count, free)
    if not exploration_shift(shift_date, shift, now):
        exploration = 0.0  # drawn for the next 24 hours only (plan_scan)
    share = wanted * exploration  # e.g. 0.3 of 6 slots: one random pick in 3 fills out of 10
    explore = int(share) + (1 if rng.random() < share - int(share) else 0)
    scope = trip_scope(principal.organisation)
    waiting = IN_PORT_OPEN
    top = [t for t in uow.container_trips.page(scope, waiting, None, wanted - explore) if t["score"] > 0]
    taken = {t["id"] for t in top}
    drawn = [t for t in uow.container_trips.sample(scope, waiting, explore * 3, rng) if t["id"] not in taken][:explore]
    return ([plan_scan(uow, principal, t["id"], scanner_id, shift_date, shift, "risk", "", now) for t in top]
            + [plan_scan(uow, principal, t["id"], scanner_id, shift_date, shift, "exploration", "", now, drawn=True)
               for t in drawn])


_ACTION_PERMISSION = {"scan": Permission.RECORD_SCAN, "search": Permission.RECORD_SEARCH,
                      "correct": Permission.RECORD_SEARCH,
                      "clear": Permission.RECORD_SCAN, "waive": Permission.PLAN_SCANS, "cancel": Permission.PLAN_SCANS,
                      "withdraw": Permission.PLAN_SCANS}


def _kept_in_correction(order: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A correction's fields, with the search's ``notes`` and ``seals_found`` kept where the
    correction does not give them, and its seizure ``method`` where it still records a seizure
    and gives none (``""`` clears any). A partner review's correction of the mass alone erased
    the team's notes ("bags behind evaporator")."""
    kept = {"notes": order.get("notes") or "", "seals_found": order.get("seals_found") or ""}
    if data.get("result") == "seizure" and order.get("result") == "seizure":
        kept["method"] = order.get("method") or ""
    return {**kept, **{k: v for k, v in data.items() if k not in kept or v is not None}}


def act(uow: Any, principal: Principal, order_id: int, action: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Move a scan order on (scan / search / clear / waive / cancel / correct / withdraw, see
    :func:`scheldt.domain.inspection.apply`), record the change, and when it ends in an
    inspection record the trip's outcome for training (a seizure is a positive). A correction
    of a searched order whose seizure report was shared updates or withdraws the report
    (:func:`scheldt.workflows.share.follow_correction`; the answer then holds
    ``seizure_report``: ``{"id", "action"}``; and always ``container_number``, the trip's). Raises
    InputError for a move or field that is not allowed (a seized mass heavier than the box, too),
    ForbiddenError for a role that may not. ``data["done_at"]`` (optional, aware): when a scan,
    search or clear was done, if before ``now`` (:func:`_done_at`); the change is dated then and
    keeps ``recorded_at``. ``data["seen_changes"]`` (optional): how many changes the order had
    when the user read it; ConflictError when it has another number now (a web review's cancel,
    sent from a page still showing "planned", cancelled an order a colleague had scanned with an
    anomaly meanwhile, and a correction from a stale form undid a colleague's reweighing)."""
    data = dict(data)
    done_at = data.pop("done_at", None)
    seen = data.pop("seen_changes", None)
    if action not in _ACTION_PERMISSION:
        apply(Status.PLANNED, "risk", action, data)  # raises InputError naming the actions
    if done_at is not None and action not in DONE_AT_ACTIONS:
        raise InputError("done_at", f"is not recorded with a {action}: only a scan, search or clear says when it "
                         "was done")
    require(principal, _ACTION_PERMISSION[action])
    uow.inspections.lock()  # before reading the order's state (a review's clear, search and cancel all went in)
    order = uow.inspections.order(order_id, principal.organisation.id)
    if seen is not None and len(uow.inspections.changes(order_id)) != seen:
        raise ConflictError(f"scan order {order_id}", f"was changed after you opened it{_last_change(uow, order)}: "
                            f"nothing was recorded; check the order as it is now, and {action} it again if that is "
                            "still right")
    if action == "correct":
        data = _kept_in_correction(order, data)
    try:
        change = apply(Status(order["status"]), order["selection"], action, data, order.get("verdict") or "")
    except ConflictError as exc:  # a colleague's record came first (two tabs, a double submit): say whose
        raise ConflictError(exc.where, f"{exc.why}{_last_change(uow, order)}") from None
    done = _done_at(uow, order, action, done_at, now)
    if action == "scan":
        _check_image_unused(uow, order, change.fields["nii_image_ref"])
        if current_shift(done) == current_shift(now):
            _scanning_now(uow.inspections.scanner(order["scanner_id"], principal.organisation.id))
    if change.fields.get("mass_kg") is not None:
        check_seizure_mass(change.fields["mass_kg"], _load_kg(uow, order["trip_id"]))
    if action == "correct" and all(change.fields.get(k) == order.get(k) for k in SEARCH_FIELDS):
        # a double-submitted correction recorded a second one whose "was" was the first's values
        raise InputError("action", "the search record says this already: nothing to correct")
    values = {k: v for k, v in change.fields.items() if k != "reason"} | {"status": change.to_status.value, "updated_at": now}
    moved = _scanned_in(order, done) if action == "scan" else {}
    if moved and order["selection"] == "exploration" and scanned_early(
            date.fromisoformat(str(order["shift_date"])), order["shift"], done):
        moved["selection"] = "manual"  # chosen for now, not drawn for it (a carrier review: see EXPLORATION_SHIFTS)
        # a manual pick says why (a regression review found these without a reason)
        moved["reason"] = (f"an exploration pick drawn for the {order['shift']} shift of {order['shift_date']}, "
                           "scanned before it: no random pick of the shift that scanned it")
    uow.inspections.update_order(order_id, values | moved)
    recorded = change.fields | ({"was": {k: order.get(k) for k in SEARCH_FIELDS}} if action == "correct" else {})
    if moved:
        recorded = recorded | {"planned_for": f"{order['shift_date']} {order['shift']}"}
    if moved.get("selection"):
        recorded = recorded | {"selection": "manual", "was_selection": "exploration",
                               "why_manual": "an exploration pick scanned before the shift it was drawn for is no "
                                             "random pick of the shift that scanned it"}
    if action == "withdraw":  # what the record said, kept in its change
        recorded = {"reason": change.fields["reason"], "was": {k: order.get(k) for k in WITHDRAWN}}
    if done != now:
        recorded = recorded | {"recorded_at": now.astimezone(UTC).isoformat()}
    uow.inspections.add_change(order_id, order["status"], change.to_status.value, principal.username,
                               str(change.fields.get("reason", "")), recorded, done)
    uow.container_trips.set_state(order["trip_id"], status=_trip_status(uow, principal, order, change.to_status))
    learned = outcome(change.to_status, change.fields.get("result", ""))
    if action == "withdraw":
        _withdraw_outcome(uow, principal, order, now)
    trip = uow.container_trips.get(order["trip_id"])
    if learned is not None:
        key = (trip["container_number"], trip["document_ref"], trip["voyage"])
        if action == "correct":  # what the trip's inspections found, the corrected record among them
            uow.trip_outcomes.correct_inspection(key, _any_seizure(uow, principal, order["trip_id"]),
                                                 f"scan order {order_id} (corrected)", now)
        else:
            uow.trip_outcomes.record_inspection(key, learned[1], f"scan order {order_id}", now)
    # with its box's number: the edges audit each move under its trip and container, so a search of
    # the audit log for the box finds who scanned, searched, corrected or withdrew (a workflow review)
    result = uow.inspections.order(order_id, principal.organisation.id) | {"container_number": trip["container_number"]}
    if action == "correct" or (action == "withdraw" and order.get("result") == "seizure"):
        # a shared seizure report follows the corrected record, and goes with a withdrawn one
        from scheldt.workflows import share  # STIX and MISP are loaded where a seizure report is shared

        followed = share.follow_correction(uow, principal, order_id, now)
        if followed is not None:
            result = {**result, "seizure_report": followed}
    return result


def _scanned_in(order: dict[str, Any], done: datetime) -> dict[str, Any]:
    """The shift a scan done at ``done`` (aware) takes its slot in, as the order's columns
    ``{"shift_date", "shift"}``, when it is not the one planned; else ``{}``. A box planned for a
    later shift and scanned at once freed no slot of that shift, and one scanned a shift late
    counted in a shift that did not scan it (a scan-team review)."""
    day, shift = current_shift(done)
    if (str(order["shift_date"]), order["shift"]) == (str(day), shift):
        return {}
    return {"shift_date": day, "shift": shift}


#: Moves that record work done at the box or on its image, which may say when it was done.
DONE_AT_ACTIONS = ("scan", "search", "clear")
#: Moves done at the box itself: only while it is here (discharged, not yet gone).
_AT_THE_BOX = ("scan", "search")
#: How far ahead of the server's clock a given ``done_at`` may be (a hand-held's clock).
DONE_AT_SLACK = timedelta(minutes=5)


def _done_at(uow: Any, order: dict[str, Any], action: str, given: Any, now: datetime) -> datetime:
    """When the move's work was done (aware, UTC): ``given`` (a scan team recording the
    night's results in the morning; a scan-team review's seizure was dated and counted in the
    week it was typed in) or ``now``: no earlier than the order's last change and not in the
    future. A scan or search is not before the box was discharged here nor after it left the
    port (a review's scan recorded after the gate-out became a cleared inspection; another's
    box still at sea was scanned and cleared). Raises InputError for a bad ``given``,
    ConflictError for a box not here then."""
    done = now
    if given is not None:
        if not isinstance(given, datetime) or given.tzinfo is None:
            raise InputError("done_at", "give the time with its UTC offset, e.g. 2026-10-25T05:30:00+01:00")
        done = given.astimezone(UTC)
        if done > now + DONE_AT_SLACK:
            raise InputError("done_at", f"{done:%Y-%m-%d %H:%M:%S} UTC is in the future")
        done = min(done, now)
        changes = uow.inspections.changes(order["id"])
        last = changes[-1]["at"] if changes else None
        if last is not None and done < last:
            raise InputError("done_at", f"{done:%Y-%m-%d %H:%M:%S} UTC is before the order's last change "
                             f"({changes[-1]['to_status']} at {last:%Y-%m-%d %H:%M:%S} UTC)")
    if action in _AT_THE_BOX:
        trip = uow.container_trips.get(order["trip_id"])
        arrived, left = trip["arrival_at"], trip["left_at"]
        if arrived is None or done < arrived:  # a review's box at sea was scanned, cleared and learnt from
            said = "has not been discharged here yet" if arrived is None else \
                f"was discharged here at {arrived:%Y-%m-%d %H:%M} UTC, after {done:%Y-%m-%d %H:%M} UTC"
            raise ConflictError(f"trip {order['trip_id']}", f"its box {said}: a {action} of it cannot be recorded "
                                "(a box of that number scanned before is another trip's)")
        if left is not None and done > left:
            raise ConflictError(f"trip {order['trip_id']}", f"its box left the port at {left:%Y-%m-%d %H:%M} UTC: a "
                                f"{action} after that cannot be recorded; give when it was done (done_at) if before "
                                "then, or cancel the order with a reason")
    return done


def _in_service(scanner: dict[str, Any]) -> dict[str, Any]:
    """``scanner`` unless it is out of service (capacity 0 per shift). Raises ConflictError."""
    if scanner["capacity_per_shift"] == 0:
        raise ConflictError(f"scanner {scanner['id']}", "is out of service (capacity 0 per shift): plan on another "
                            "scanner, or set its capacity again when it is back")
    return scanner


def _scanning_now(scanner: dict[str, Any]) -> None:
    """Raise ConflictError when ``scanner`` is out of service (capacity 0 per shift) for a scan
    done in the running shift (given as now or by ``done_at``: a regression review's ``done_at``
    of now passed): it cannot have come from it. A scan-team review's scan on a scanner down
    for repair was taken, its image tied to a scanner that could not have made it, and it took
    a slot of the running shift, "3 of 0 slots taken". When capacity went to 0 is not kept, so
    a scan it made earlier in this shift is recorded once its capacity is set again."""
    if scanner["capacity_per_shift"] == 0:
        raise ConflictError(f"scanner {scanner['id']}", "is out of service (capacity 0 per shift): a scan done in "
                            "this shift was not made on it; if it was done in an earlier shift, give when (done_at); "
                            "if earlier in this one, before it went out of service, set its capacity again to record "
                            "it; else cancel the order with a reason and plan the box on another scanner")


def _last_change(uow: Any, order: dict[str, Any]) -> str:
    """" (recorded by U at T: ...)" for an order's last change, "" when it has none."""
    changes = uow.inspections.changes(order["id"])
    if not changes:
        return ""
    last = changes[-1]
    said = ("not searched: cleared on the image" if last["to_status"] == Status.CLEARED.value  # not "nothing found"
            else last["details"].get("result") or last["details"].get("verdict") or last["reason"])
    return (f" (made {last['to_status']} by {last['actor']} at {last['at']:%Y-%m-%d %H:%M} UTC"
            + (f": {str(said).replace('_', ' ')[:80]}" if said else "") + ")")


def _check_image_unused(uow: Any, order: dict[str, Any], image_ref: str) -> None:
    """Refuse an NII image reference another order recorded (a review gave two boxes one image,
    with opposite verdicts: a pasted reference can clear a box on another box's image), unless
    that order is of the same trip and was cancelled: the box's own image, recorded again on the
    order planned after it (a workflow review's operator picked the wrong verdict, the officer
    cancelled and planned the box again, and its image was refused as "of one box").
    Raises ConflictError."""
    other = uow.inspections.order_with_image(image_ref, order["organisation_id"], not_of_trip=order["trip_id"])
    if other is not None and other["id"] != order["id"]:
        trip = uow.container_trips.get(other["trip_id"])
        raise ConflictError("nii_image_ref", f"{image_ref[:80]} is the image of scan order {other['id']} (container "
                            f"{trip['container_number']}, verdict {other['verdict'] or '-'}): each image is of one box")


def _load_kg(uow: Any, trip_id: int) -> tuple[float | None, str]:
    """The most the trip's load can weigh (kg) by the facts it was last scored on, and how
    that is known (:func:`heaviest_known_load`)."""
    assessment_id = uow.container_trips.get(trip_id)["assessment_id"]
    if assessment_id is None:
        return None, ""
    return heaviest_known_load(uow.trip_assessments.facts_of([assessment_id]).get(assessment_id))


#: Trip states that an inspection decided (searched, cleared): only a manual pick plans them again.
DECIDED = ("searched", "cleared")


def _trip_status(uow: Any, principal: Principal, order: dict[str, Any], to: Status) -> str:
    """The trip's status once ``order`` moved to ``to``: the order's own state, except that a
    waived risk pick leaves the trip ``waived`` (decided not to scan: out of the default queue
    and of filled shifts) and a cancelled order leaves it as its latest other searched, cleared
    or waived order did, else ``open`` (a review cancelled a second order on a box with a
    recorded seizure, and it went back to the top of the queue as open)."""
    if to == Status.WAIVED:
        return "waived"
    if order["status"] == to.value == Status.SEARCHED.value:  # a correction: another order may be open
        open_order = uow.inspections.open_order_for_trip(order["trip_id"])
        return open_order["status"] if open_order is not None else to.value
    if to != Status.CANCELLED:
        return to.value
    open_order = uow.inspections.open_order_for_trip(order["trip_id"])
    if open_order is not None:  # a record withdrawn while another order is planned (a regression review)
        return open_order["status"]
    others = [o for o in uow.inspections.orders(principal.organisation.id, trip_id=order["trip_id"], limit=1000)
              if o["id"] != order["id"] and o["status"] in (*DECIDED, "waived")]
    return max(others, key=lambda o: o["updated_at"])["status"] if others else "open"


def _withdraw_outcome(uow: Any, principal: Principal, order: dict[str, Any], now: datetime) -> None:
    """After a searched or cleared ``order`` was withdrawn (its record was of another box): the
    trip's inspection outcome is what its other searched or cleared orders found, or none."""
    trip = uow.container_trips.get(order["trip_id"])
    key = (trip["container_number"], trip["document_ref"], trip["voyage"])
    others = [o for o in uow.inspections.orders(principal.organisation.id, trip_id=order["trip_id"], limit=1000)
              if o["id"] != order["id"] and o["status"] in DECIDED]
    if others:
        uow.trip_outcomes.correct_inspection(key, _any_seizure(uow, principal, order["trip_id"]),
                                             f"scan order {order['id']} (withdrawn)", now)
    else:
        uow.trip_outcomes.withdraw_inspection(key)


def _any_seizure(uow: Any, principal: Principal, trip_id: int) -> bool:
    """True when any searched order of the trip recorded a seizure (an attack review: correcting
    one order rewrote the trip's outcome, erasing another order's seizure from training data)."""
    return any(o["status"] == Status.SEARCHED.value and o["result"] == "seizure"
               for o in uow.inspections.orders(principal.organisation.id, trip_id=trip_id, limit=1000))


def place_hold(uow: Any, principal: Principal, trip_id: int, reason: str, now: datetime) -> dict[str, Any]:
    """Put a trip on hold with a written reason; returns the hold with its trip's container
    number. Raises ConflictError when it is on hold already."""
    require(principal, Permission.HOLD)
    reason = _reason(reason)
    uow.inspections.lock()  # before looking for an active hold (simultaneous holds made three)
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    if uow.inspections.active_hold(trip_id) is not None:
        raise ConflictError(f"trip {trip_id}", "is on hold already")
    _refuse_regrouped(uow, principal, trip)
    hold_id = uow.inspections.add_hold(trip_id, principal.organisation.id, principal.username, reason, now)
    uow.container_trips.set_state(trip_id, on_hold=True)
    notices.notify_hold(uow, trip_id, now, principal.username, principal.organisation.id)
    # with the container number, as the hold list gives it (an API review)
    return uow.inspections.holds([trip_id], limit=1)[0] | {"id": hold_id, "container_number": trip["container_number"]}


def carry_hold(uow: Any, from_trip: int, to_trip: int, now: datetime) -> int | None:
    """Move the active hold of trip ``from_trip``, which its container's events no longer make,
    to ``to_trip``, the trip they make now (scoring regrouped them): the hold is the box's on
    this journey. A carrier review: once a later event named the box's B/L, its events moved to
    a new trip, not held; the hold stayed behind on a trip no list shows, and the carrier was
    never told. The new hold keeps who placed it and why, noting where it came from; the old
    one is released by ``system``, and its owners get the hold notice of ``to_trip`` (no release
    notice: the box stays held). Both are in the audit log. Returns the new hold's id, or None
    when ``to_trip`` was on hold already (the old hold is released all the same) or
    ``from_trip`` has no active hold."""
    hold = uow.inspections.active_hold(from_trip)
    if hold is None:
        return None
    note = f" [carried over from trip {from_trip}: the box's events now make trip {to_trip}]"
    new_id = None
    if uow.inspections.active_hold(to_trip) is None:
        new_id = uow.inspections.add_hold(to_trip, hold["organisation_id"], hold["placed_by"],
                                          hold["reason"][:MAX_TEXT - len(note)] + note, now)
        uow.container_trips.set_state(to_trip, on_hold=True)
        notices.notify_hold(uow, to_trip, now, "system", hold["organisation_id"])
    uow.inspections.release(hold["id"], "system", f"carried over to trip {to_trip}: the box's events now make "
                            "that trip", now)
    uow.container_trips.set_state(from_trip, on_hold=False)
    uow.audit.append("write", hold["organisation_id"], audit_payload(
        "system", hold["organisation_id"], "carry hold to the box's trip", "hold", str(hold["id"]), "",
        {"from_trip": from_trip, "to_trip": to_trip, "new_hold": new_id}), now)
    return new_id


def carry_orders(uow: Any, from_trip: int, to_trip: int, now: datetime) -> dict[str, list[int]]:
    """Put the scan orders of trip ``from_trip``, which its container's events no longer make and
    whose box was searched or cleared, on ``to_trip``, the trip they make now (scoring regrouped
    them), with the inspection outcome the model learns from; ``to_trip`` takes the status
    unless it has one of its own, and ``from_trip`` is open again. The scan, search and seizure
    are the box's on this journey: an upgrade review found them on a trip no list shows, the
    box's current trip looking never inspected and planned for a second scan, and the model
    learning the seizure from the old trip's facts (a correction then counted it twice). In
    the audit log, for each organisation whose orders moved. Returns the ids of the orders
    moved by that organisation."""
    moved = uow.inspections.move_orders(from_trip, to_trip)
    if not moved:
        return {}
    old, new = uow.container_trips.get(from_trip), uow.container_trips.get(to_trip)
    uow.trip_outcomes.move_inspection(*((t["container_number"], t["document_ref"], t["voyage"]) for t in (old, new)))
    if new["status"] in (None, "", "open"):
        uow.container_trips.set_state(to_trip, status=old["status"])
    uow.container_trips.set_state(from_trip, status="open")
    for org, orders in moved.items():
        uow.audit.append("write", org, audit_payload(
            "system", org, "carry scan orders to the box's trip", "trip", str(from_trip), "",
            {"from_trip": from_trip, "to_trip": to_trip, "orders": orders}), now)
    return moved


def _refuse_regrouped(uow: Any, principal: Principal, trip: dict[str, Any]) -> None:
    """Raise ConflictError, naming the box's listed trips, when ``trip`` is one its container's
    events no longer make (regrouped): a scan or hold on it would be on a trip no list shows."""
    if trip.get("regrouped_at") is None:
        return
    others = uow.container_trips.of_container(trip["container_number"], trip_scope(principal.organisation))
    where = (f"use trip {', '.join(str(o['id']) for o in others)} instead" if others
             else "no other trip of the box is listed for you")
    raise ConflictError(f"trip {trip['id']}", f"its container's events no longer make this trip (regrouped at "
                        f"{trip['regrouped_at']:%Y-%m-%d %H:%M} UTC): {where}")


def send_notice(uow: Any, principal: Principal, trip_id: int, text: str, now: datetime) -> list[int]:
    """Send the shipping line and terminal of a trip the organisation owns an alert notice
    written for them (where to bring the box, when a scan is due; never internal reasons),
    to the subscriptions that ask for alerts; returns the queued notices' ids (none when no
    owner subscribed). Officers who may hold a box may notify about it (a new-user review found
    the "alert" notices the README promised were never sent). Raises InputError for an empty
    or over-long text, NotFoundError for another organisation's trip."""
    require(principal, Permission.HOLD)
    uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    return notices.notify_alert(uow, trip_id, text, now, principal.username, principal.organisation.id)


def release_hold(uow: Any, principal: Principal, trip_id: int, reason: str, now: datetime,
                 hold_id: int | None = None) -> dict[str, Any]:
    """Release a trip's hold with a written reason; returns the hold with its trip's
    ``container_number``. ``hold_id``: the hold the user means (the one shown to them). Raises
    ConflictError when the trip is not on hold, or is held by another hold than ``hold_id`` (a
    web review's release, sent from a page still showing a hold a colleague had released,
    released the police hold placed after it)."""
    require(principal, Permission.HOLD)
    reason = _reason(reason)
    uow.inspections.lock()
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    hold = uow.inspections.active_hold(trip_id)
    if hold_id is not None and (hold is None or hold["id"] != hold_id):
        raise ConflictError("hold", _not_the_hold(uow, trip_id, hold_id, hold))
    if hold is None:
        raise ConflictError(f"trip {trip_id}", "is not on hold")
    uow.inspections.release(hold["id"], principal.username, reason, now)
    # a hold made twice before holds were serialised stays active: the trip stays on hold
    uow.container_trips.set_state(trip_id, on_hold=uow.inspections.active_hold(trip_id) is not None)
    notices.notify_release(uow, trip_id, now, principal.username, principal.organisation.id)
    # the hold released (a review was answered with another), with its trip's container number
    return uow.inspections.hold(hold["id"]) | {"container_number": trip["container_number"]}


def _not_the_hold(uow: Any, trip_id: int, hold_id: int, active: dict[str, Any] | None) -> str:
    """Why hold ``hold_id`` cannot be released: what became of it, and the trip's hold now."""
    meant = next((h for h in uow.inspections.holds([trip_id], limit=1000) if h["id"] == hold_id), None)
    why = (f"the hold you meant was released at {meant['released_at']:%Y-%m-%d %H:%M} UTC by {meant['released_by']}"
           if meant is not None and meant.get("released_at") else f"hold {hold_id} is not one of this trip's")
    now_held = (f"the trip is held since {active['placed_at']:%Y-%m-%d %H:%M} UTC by {active['placed_by']}: "
                f"“{active['reason'][:200]}”" if active is not None else "the trip is not on hold")
    return f"{why}, and {now_held}; nothing was released"


def _reason(text: str | None) -> str:
    """A written reason: required, at most 2,000 characters. Raises InputError."""
    reason = (text or "").strip()
    if not reason:
        raise InputError("reason", "is required")
    if len(reason) > MAX_TEXT:
        raise InputError("reason", f"is {len(reason)} characters long; at most {MAX_TEXT}")
    return reason
