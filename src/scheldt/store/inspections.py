"""Scanners, scan orders with their change history, and holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, false, func, or_, select, update
from sqlalchemy.orm import Session

from scheldt.domain.access import TripScope
from scheldt.domain.inspection import TAKES_SLOT, Status
from scheldt.errors import ConflictError, InputError, NotFoundError
from scheldt.store.container_trips import scope_clause
from scheldt.store.db import take_write_lock
from scheldt.store.models import (
    ContainerTripRow,
    HoldRow,
    ScannerCapacityChangeRow,
    ScannerRow,
    ScanOrderChangeRow,
    ScanOrderRow,
)
from scheldt.store.rows import aware, built_once


def _dict(row: Any, table: Any) -> dict[str, Any]:
    out = {c: getattr(row, c) for c in table.columns.keys()}
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in out.items()}


_HOLD = HoldRow.__table__
_ORDER = ScanOrderRow.__table__
#: PostgreSQL advisory lock key serialising inspection writes (:meth:`InspectionRepository.lock`).
LOCK_KEY = 0x5C4E_15CA_0D0E_5C01


def _holds_statement(trips: int | None, active: bool | None, after: bool) -> Any:
    """Holds newest first: of ``trips`` trip ids (bind ``trip_0`` ...), active or released
    ones only, after the cursor ``after_id``; bind ``limit``."""
    h = _HOLD.c
    stmt = select(_HOLD)
    if trips is not None:
        stmt = stmt.where(h.trip_id.in_([bindparam(f"trip_{k}") for k in range(trips)]) if trips else false())
    if active is True:
        stmt = stmt.where(h.released_at.is_(None))
    elif active is False:
        stmt = stmt.where(h.released_at.is_not(None))
    if after:
        stmt = stmt.where(h.id < bindparam("after_id"))
    return stmt.order_by(h.id.desc()).limit(bindparam("limit"))


def _orders_statement(filters: tuple[str, ...], after: bool) -> Any:
    """An organisation's scan orders (bind ``org_id``) with their trip's container number,
    document reference and voyage, newest first; bind each of ``filters`` (``status``,
    ``scanner_id``, ``shift_date``, ``shift``, ``trip_id``), ``after_id`` and ``limit``."""
    o, t = _ORDER.c, ContainerTripRow.__table__.c
    stmt = (select(_ORDER, t.container_number, t.document_ref, t.voyage, t.left_at)
            .join_from(_ORDER, ContainerTripRow.__table__, t.id == o.trip_id)
            .where(o.organisation_id == bindparam("org_id"), *(o[k] == bindparam(k) for k in filters)))
    if after:
        stmt = stmt.where(o.id < bindparam("after_id"))
    return stmt.order_by(o.id.desc()).limit(bindparam("limit"))


class InspectionRepository:
    """Scanners, scan orders, holds (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise inspection writes (plans, order actions, holds) from here to the end of the
        transaction (:func:`scheldt.store.db.take_write_lock`): take it before reading the state
        a write depends on (an open order, the slots taken, the order's status, an active hold).
        Taken before the exchange's writers' lock when a correction updates a shared report."""
        take_write_lock(self.session, LOCK_KEY, _ORDER)

    # scanners
    def add_scanner(self, scanner_id: str, name: str, site: str, capacity: int, org_id: str) -> None:
        """Store a scanner. Raises ConflictError when the id is taken, InputError when the capacity is not 1-1000."""
        if not 1 <= capacity <= 1000:
            raise InputError("capacity_per_shift", f"{capacity} must be between 1 and 1000 containers")
        if self.session.get(ScannerRow, scanner_id) is not None:
            raise ConflictError("scanner id", f"{scanner_id!r} already exists")
        self.session.add(ScannerRow(id=scanner_id, name=name, site=site, capacity_per_shift=capacity,
                                    organisation_id=org_id))
        self.session.flush()

    def change_scanner(self, scanner_id: str, org_id: str, at: datetime, *, capacity: int | None = None,
                       name: str | None = None, site: str | None = None) -> None:
        """Change an organisation's scanner at ``at`` (aware): capacity per shift, name, site
        (None: unchanged). A capacity of 0 takes the scanner out of service (down for repair)
        until it is set again. A new capacity is recorded with the one it replaces
        (:meth:`capacity_after`). Raises NotFoundError for a scanner not the organisation's,
        InputError for a capacity not 0-1000."""
        was = self.scanner(scanner_id, org_id)["capacity_per_shift"]
        if capacity is not None and not 0 <= capacity <= 1000:
            raise InputError("capacity_per_shift", f"{capacity} must be between 0 (out of service) and 1000 "
                             "containers")
        values = {k: v for k, v in (("capacity_per_shift", capacity), ("name", name), ("site", site)) if v is not None}
        if values:
            self.session.execute(update(ScannerRow).where(ScannerRow.id == scanner_id).values(**values))
        if capacity is not None and capacity != was:
            self.session.add(ScannerCapacityChangeRow(scanner_id=scanner_id, changed_at=aware(at), was=was,
                                                      capacity=capacity))
            self.session.flush()

    def capacity_after(self, scanner_ids: list[str], end: datetime) -> dict[str, int]:
        """The capacity per shift each of ``scanner_ids`` had until its first change after
        ``end`` (aware): what a shift ending then ran with. Scanners not changed since are left
        out (their current ``capacity_per_shift`` holds)."""
        if not scanner_ids:
            return {}
        rows = self.session.execute(
            select(ScannerCapacityChangeRow.scanner_id, ScannerCapacityChangeRow.was)
            .where(ScannerCapacityChangeRow.scanner_id.in_(scanner_ids),
                   ScannerCapacityChangeRow.changed_at > aware(end))
            .order_by(ScannerCapacityChangeRow.changed_at.desc(), ScannerCapacityChangeRow.id.desc()))
        return {scanner: was for scanner, was in rows}  # the earliest change after the end is the last one set

    def shifts_over(self, scanner_id: str, capacity: int, from_date: str) -> list[tuple[str, str, int, int]]:
        """Shifts from ``from_date`` (ISO date) on that holds more orders taking a slot than
        ``capacity``: (shift date, shift, orders, of them still planned), by date and shift."""
        taken = func.count().label("taken")
        planned = func.sum(case((ScanOrderRow.status == Status.PLANNED.value, 1), else_=0)).label("planned")
        rows = self.session.execute(
            select(ScanOrderRow.shift_date, ScanOrderRow.shift, taken, planned)
            .where(ScanOrderRow.scanner_id == scanner_id, ScanOrderRow.shift_date >= from_date,
                   _takes_slot())
            .group_by(ScanOrderRow.shift_date, ScanOrderRow.shift).having(taken > capacity)
            .order_by(ScanOrderRow.shift_date, ScanOrderRow.shift))
        return [(str(d), s, int(n), int(p or 0)) for d, s, n, p in rows]

    def scanners(self, org_id: str) -> list[dict[str, Any]]:
        """An organisation's scanners, by id."""
        return [_dict(r, ScannerRow.__table__) for r in self.session.scalars(
            select(ScannerRow).where(ScannerRow.organisation_id == org_id).order_by(ScannerRow.id))]

    def scanner(self, scanner_id: str, org_id: str) -> dict[str, Any]:
        """One of an organisation's scanners. Raises NotFoundError."""
        row = self.session.get(ScannerRow, scanner_id)
        if row is None or row.organisation_id != org_id:
            raise NotFoundError(f"scanner {scanner_id}", "no such scanner")
        return _dict(row, ScannerRow.__table__)

    def slots_taken(self, scanner_id: str, shift_date: str, shift: str) -> int:
        """Orders on a scanner in a shift that take a slot (:func:`_takes_slot`)."""
        return int(self.session.scalar(select(func.count()).select_from(ScanOrderRow).where(
            ScanOrderRow.scanner_id == scanner_id, ScanOrderRow.shift_date == shift_date, ScanOrderRow.shift == shift,
            _takes_slot())) or 0)

    # scan orders
    def move_orders(self, from_trip: int, to_trip: int) -> dict[str, list[int]]:
        """Put every scan order of trip ``from_trip`` on trip ``to_trip`` (scoring regrouped the
        box's events: :func:`scheldt.workflows.inspections.carry_orders`); returns their ids by
        the organisation that planned them."""
        moved: dict[str, list[int]] = {}
        for order_id, org in self.session.execute(select(ScanOrderRow.id, ScanOrderRow.organisation_id)
                                                  .where(ScanOrderRow.trip_id == from_trip).order_by(ScanOrderRow.id)):
            moved.setdefault(org, []).append(order_id)
        ids = [i for group in moved.values() for i in group]
        if ids:
            self.session.execute(update(ScanOrderRow).where(ScanOrderRow.id.in_(ids)).values(trip_id=to_trip))
        return moved

    def open_order_for_trip(self, trip_id: int) -> dict[str, Any] | None:
        """The trip's order that is still planned or scanned, or None."""
        row = self.session.scalar(select(ScanOrderRow).where(
            ScanOrderRow.trip_id == trip_id, ScanOrderRow.status.in_(["planned", "scanned"])))
        return None if row is None else _dict(row, ScanOrderRow.__table__)

    def order_with_image(self, image_ref: str, org_id: str, not_of_trip: int | None = None) -> dict[str, Any] | None:
        """The organisation's scan order that recorded NII image ``image_ref`` (in any case:
        ``IMG-0001`` and ``img-0001`` are one image to a scanner's archive), or None; with
        ``not_of_trip``, a cancelled order of that trip does not count. A record withdrawn as of
        another box holds no image any more (the ``withdraw`` action)."""
        o = ScanOrderRow
        mine = (o.trip_id == not_of_trip) & (o.status == "cancelled") if not_of_trip is not None else false()
        row = self.session.scalar(select(o).where(
            o.organisation_id == org_id, func.lower(o.nii_image_ref) == image_ref.lower(), ~mine)
            .order_by(o.id).limit(1))
        return None if row is None else _dict(row, ScanOrderRow.__table__)

    def add_order(self, values: dict[str, Any]) -> int:
        """Store a new scan order (``values``: the columns of ScanOrderRow but id); returns its id."""
        row = ScanOrderRow(**values)
        self.session.add(row)
        self.session.flush()
        return row.id

    def order(self, order_id: int, org_id: str) -> dict[str, Any]:
        """One of an organisation's scan orders. Raises NotFoundError."""
        row = self.session.get(ScanOrderRow, order_id)
        if row is None or row.organisation_id != org_id:
            raise NotFoundError(f"scan order {order_id}", "no such scan order")
        return _dict(row, ScanOrderRow.__table__)

    def searched_at(self, order_id: int) -> datetime | None:
        """When a scan order was first recorded searched (UTC; a later correction does not move
        it), or None."""
        c = ScanOrderChangeRow
        return aware(self.session.scalar(select(func.min(c.at)).where(c.order_id == order_id,
                                                                      c.to_status == "searched")))

    def update_order(self, order_id: int, values: dict[str, Any]) -> None:
        """Set columns of a scan order."""
        self.session.execute(update(ScanOrderRow).where(ScanOrderRow.id == order_id).values(**values))

    def add_change(self, order_id: int, from_status: str, to_status: str, actor: str, reason: str,
                   details: dict[str, Any], at: datetime) -> None:
        """Record one state change of a scan order."""
        self.session.add(ScanOrderChangeRow(order_id=order_id, from_status=from_status, to_status=to_status,
                                            actor=actor, reason=reason, details=details, at=at))

    def changes(self, order_id: int) -> list[dict[str, Any]]:
        """A scan order's state changes, oldest first."""
        return [_dict(r, ScanOrderChangeRow.__table__) for r in self.session.scalars(
            select(ScanOrderChangeRow).where(ScanOrderChangeRow.order_id == order_id).order_by(ScanOrderChangeRow.id))]

    def orders(self, org_id: str, *, status: str | None = None, scanner_id: str | None = None,
               shift_date: str | None = None, shift: str | None = None, trip_id: int | None = None,
               after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """An organisation's scan orders with their trip's container number, document, voyage,
        when its box left the port (``left_at``, UTC, None while in port) and whether a
        cancelled one was cancelled by a withdrawal of its record (``withdrawn``), newest first,
        after the cursor ``after_id`` (the previous page's last id)."""
        given = {"status": status, "scanner_id": scanner_id, "shift_date": shift_date, "shift": shift,
                 "trip_id": trip_id}
        shape = tuple(k for k, v in given.items() if v is not None)
        stmt = built_once(("scan_order.list", shape, after_id is not None),
                          lambda: _orders_statement(shape, after_id is not None))
        values = {k: given[k] for k in shape} | {"org_id": org_id, "after_id": after_id, "limit": limit}
        rows = [_dict(r, _ORDER) | {"container_number": r.container_number, "document_ref": r.document_ref,
                                    "voyage": r.voyage, "left_at": aware(r.left_at)}
                for r in self.session.execute(stmt, values)]
        withdrawn = self._withdrawn([r["id"] for r in rows if r["status"] == Status.CANCELLED.value])
        return [r | {"withdrawn": r["id"] in withdrawn} for r in rows]

    def _withdrawn(self, order_ids: list[int]) -> set[int]:
        """Those of the cancelled ``order_ids`` cancelled by a withdrawal of their record (the
        change keeps what the record said, ``was``), not by a plain cancellation: a figures
        review's list showed both as "cancelled"."""
        if not order_ids:
            return set()
        c = ScanOrderChangeRow
        return {order_id for order_id, details in self.session.execute(
            select(c.order_id, c.details).where(c.order_id.in_(order_ids), c.to_status == Status.CANCELLED.value))
            if isinstance(details, dict) and "was" in details}

    def seizures(self, org_id: str, *, after_id: int | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Every seizure an organisation recorded, with its trip's container number, port of
        loading, latest assessment id (None when not scored), when the search found it
        (``searched_at``, UTC: the first change to searched; a later correction moves
        ``updated_at`` only) and when the record last changed (``updated_at``); by last change.
        With ``limit``: a page of them, newest scan order first, after the cursor ``after_id``."""
        o, t, c = ScanOrderRow, ContainerTripRow, ScanOrderChangeRow
        searched = (select(func.min(c.at)).where(c.order_id == o.id, c.to_status == "searched")
                    .correlate(o).scalar_subquery())
        stmt = (select(o.id, o.trip_id, o.updated_at, searched.label("searched_at"), o.drug_type, o.mass_kg,
                       o.concealment, o.method, o.seals_found, o.selection, t.container_number, t.port_of_loading,
                       t.assessment_id)
                .join(t, t.id == o.trip_id)
                .where(o.organisation_id == org_id, o.result == "seizure", o.status == "searched"))
        if limit is None:
            stmt = stmt.order_by(o.updated_at)
        else:
            stmt = stmt.where(o.id < after_id) if after_id is not None else stmt
            stmt = stmt.order_by(o.id.desc()).limit(limit)
        return [dict(r._mapping) | {"updated_at": aware(r.updated_at),
                                    "searched_at": aware(r.searched_at or r.updated_at)}
                for r in self.session.execute(stmt)]

    def hit_rates(self, org_id: str) -> dict[str, dict[str, int]]:
        """Per selection type (risk / exploration / manual): inspections done (searched or
        cleared), how many found something (seizure or irregularity) and how many a seizure."""
        o = ScanOrderRow
        found = func.sum(case((o.result.in_(["seizure", "irregularity"]), 1), else_=0))
        seized = func.sum(case((o.result == "seizure", 1), else_=0))
        stmt = (select(o.selection, func.count(), found, seized).where(
            o.organisation_id == org_id, o.status.in_(["searched", "cleared"])).group_by(o.selection))
        return {s: {"inspected": int(n), "found": int(f or 0), "seizures": int(z or 0)}
                for s, n, f, z in self.session.execute(stmt)}

    # holds
    def active_hold(self, trip_id: int) -> dict[str, Any] | None:
        """The trip's hold that is not released yet, or None."""
        row = self.session.scalar(select(HoldRow).where(HoldRow.trip_id == trip_id, HoldRow.released_at.is_(None)))
        return None if row is None else _dict(row, HoldRow.__table__)

    def hold(self, hold_id: int) -> dict[str, Any]:
        """One hold by id. Raises NotFoundError."""
        row = self.session.get(HoldRow, hold_id)
        if row is None:
            raise NotFoundError(f"hold {hold_id}", "no such hold")
        return _dict(row, _HOLD)

    def add_hold(self, trip_id: int, org_id: str, actor: str, reason: str, at: datetime) -> int:
        """Put a trip on hold; returns the hold's id."""
        row = HoldRow(trip_id=trip_id, organisation_id=org_id, placed_by=actor, placed_at=at, reason=reason)
        self.session.add(row)
        self.session.flush()
        return row.id

    def release(self, hold_id: int, actor: str, reason: str, at: datetime) -> None:
        """Release a hold."""
        self.session.execute(update(HoldRow).where(HoldRow.id == hold_id).values(
            released_by=actor, released_at=at, release_reason=reason))

    def holds(self, trip_ids: list[int] | None = None, *, active: bool | None = None,
              after_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Holds, newest first, of ``trip_ids`` when given, only active ones when ``active``."""
        shape = (None if trip_ids is None else len(trip_ids), active, after_id is not None)
        stmt = built_once(("hold.list", shape), lambda: _holds_statement(*shape))
        values: dict[str, Any] = {f"trip_{k}": v for k, v in enumerate(trip_ids or ())}
        values |= {"after_id": after_id, "limit": limit} if after_id is not None else {"limit": limit}
        return [_dict(r, _HOLD) for r in self.session.execute(stmt, values)]

    def scoped_holds(self, scope: TripScope | None, *, active: bool | None = None, after_id: int | None = None,
                     limit: int = 50) -> list[dict[str, Any]]:
        """Holds on trips ``scope`` owns (whoever placed them), newest first, with the trip's
        container number, after the cursor ``after_id``."""
        h, t = HoldRow, ContainerTripRow
        stmt = select(h, t.container_number, t.left_at).join(t, t.id == h.trip_id).where(scope_clause(scope))
        if active is True:
            stmt = stmt.where(h.released_at.is_(None))
        elif active is False:
            stmt = stmt.where(h.released_at.is_not(None))
        if after_id is not None:
            stmt = stmt.where(h.id < after_id)
        return [_dict(r, h.__table__) | {"container_number": n, "box_left_at": aware(left)}
                for r, n, left in self.session.execute(stmt.order_by(h.id.desc()).limit(limit))]

    def held_boxes_gone(self, scope: TripScope | None, limit: int = 200) -> list[dict[str, Any]]:
        """Holds in force on trips ``scope`` owns whose box has left the port (the trip's
        ``left_at``: a gate-out or an onward load), newest departure first, as
        :meth:`scoped_holds` rows (with ``box_left_at``, UTC), at most ``limit``."""
        h, t = HoldRow, ContainerTripRow
        stmt = (select(h, t.container_number, t.left_at).join(t, t.id == h.trip_id)
                .where(scope_clause(scope), h.released_at.is_(None), t.left_at.is_not(None))
                .order_by(t.left_at.desc(), h.id.desc()).limit(limit))
        return [_dict(r, h.__table__) | {"container_number": n, "box_left_at": aware(left)}
                for r, n, left in self.session.execute(stmt)]


def _takes_slot() -> Any:
    """The SQL condition "the order takes a slot of its scanner's shift": one to be done or done
    (:data:`TAKES_SLOT`), or searched or cancelled after its scan (it keeps its image: the
    scanner did the work; a scan-team review's cancelled order freed the slot, and the shift
    then scanned one box more than the scanner's capacity). A box searched without a scan (the
    scanner down, a tip-off) frees its slot: the scanner did nothing (a later review's scanner,
    back in service, looked full having scanned nothing)."""
    imaged = and_(ScanOrderRow.status.in_([Status.CANCELLED.value, Status.SEARCHED.value]),
                  ScanOrderRow.nii_image_ref != "")
    return or_(ScanOrderRow.status.in_([s.value for s in TAKES_SLOT]), imaged)
