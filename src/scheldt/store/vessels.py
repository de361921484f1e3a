"""AIS positions and vessel sightings in the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session

from scheldt.domain.identifiers import UNSET_MMSI
from scheldt.domain.shipping import HEARD_AGAIN_WITHIN, MmsiSpan, VesselPosition, VesselSighting, mmsi_spans
from scheldt.ingest.base import Rejection
from scheldt.store.models import VesselPositionRow, VesselSightingRow
from scheldt.store.rows import aware, fit
from scheldt.store.upsert import insert_ignore


class VesselRepository:
    """Positions and sightings (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_positions(self, positions: Sequence[VesselPosition], supplied_by: str,
                      received_at: datetime) -> tuple[int, list[Rejection]]:
        """Store positions; the same fact from the same supplier is kept once, and so is one
        report heard by two receivers: a position of the same vessel at the same place, speed
        and course stored within :data:`HEARD_AGAIN_WITHIN` of it (a maritime review's second
        receiver's file stored each report again, seconds later)."""
        rows, rejected = [], []
        heard = self._stored_near(positions, supplied_by)
        for p in positions:
            if _heard_before(p, heard):
                continue
            if len(p.mmsi) > 16 or len(p.vessel_id) > 64 or len(p.nav_status) > 64:
                rejected.append(Rejection(p.source, "mmsi", "vessel identifier or status too long to be real"))
                continue
            rows.append({
                "fact_key": p.fact_key, "mmsi": p.mmsi, "vessel_id": p.vessel_id, "observed_at": p.observed_at,
                "latitude": p.latitude, "longitude": p.longitude, "speed_knots": p.speed_knots,
                "course_deg": p.course_deg, "heading_deg": p.heading_deg, "nav_status": p.nav_status,
                "flags": [asdict(f) for f in p.flags], "source": p.source[:1000], "supplied_by": supplied_by,
                "received_at": received_at,
            })
        return insert_ignore(self.session, VesselPositionRow.__table__, rows), rejected

    def _stored_near(self, positions: Sequence[VesselPosition], supplied_by: str) -> dict[_Place, list[datetime]]:
        """When the stored positions from ``supplied_by`` of the vessels of ``positions``,
        observed within :data:`HEARD_AGAIN_WITHIN` of their time span, were observed, by
        (MMSI, lat, lon, speed, course). One query per 500 vessels (the mmsi-time index)."""
        timed = [p for p in positions if p.observed_at is not None]
        if not timed:
            return {}
        first = min(p.observed_at for p in timed) - HEARD_AGAIN_WITHIN  # type: ignore[type-var]
        last = max(p.observed_at for p in timed) + HEARD_AGAIN_WITHIN  # type: ignore[type-var]
        v = VesselPositionRow
        out: dict[_Place, list[datetime]] = {}
        mmsis = sorted({p.mmsi for p in timed})
        for start in range(0, len(mmsis), 500):
            for mmsi, at, *place in self.session.execute(
                    select(v.mmsi, v.observed_at, v.latitude, v.longitude, v.speed_knots, v.course_deg).where(
                        v.mmsi.in_(mmsis[start:start + 500]), v.observed_at >= first, v.observed_at <= last,
                        v.supplied_by == supplied_by)):
                if at is not None:
                    out.setdefault((mmsi, *place), []).append(aware(at))  # type: ignore[arg-type]
        return out

    def add_sightings(self, sightings: Sequence[VesselSighting], supplied_by: str, received_at: datetime) -> int:
        """Store what vessels said they are; a repeated identity is kept once."""
        rows = []
        for s in sightings:
            flags = [asdict(f) for f in s.flags]
            rows.append({
                "mmsi": s.mmsi, "imo": fit(s.vessel.imo, 64, "IMO number", flags),
                "call_sign": fit(s.vessel.call_sign, 64, "call sign", flags),
                "name": fit(s.vessel.name, 128, "vessel name", flags), "observed_at": s.observed_at, "flags": flags,
                "source": s.source[:1000], "supplied_by": supplied_by, "received_at": received_at,
            })
        return insert_ignore(self.session, VesselSightingRow.__table__, rows)

    def imos_with_positions_since(self, since: datetime) -> list[str]:
        """IMO numbers of vessels (by their AIS static data) with positions, or static data,
        received at or after ``since`` (UTC): static data received late ties the MMSI's track to
        its vessel (a maritime review's type 5 after its positions re-scored no trip)."""
        moved = select(VesselPositionRow.mmsi).where(VesselPositionRow.received_at >= since).distinct()
        sighting = VesselSightingRow
        stmt = (select(sighting.imo).where(sighting.imo != "", or_(sighting.mmsi.in_(moved),
                                                                   sighting.received_at >= since)).distinct())
        return sorted(self.session.scalars(stmt))

    def earliest_observed_received_since(self, since: datetime) -> datetime | None:
        """When the earliest of the positions and static data received at or after ``since``
        (UTC) was observed (UTC), or None when none was received."""
        times = [aware(self.session.scalar(select(func.min(row.observed_at)).where(row.received_at >= since)))
                 for row in (VesselPositionRow, VesselSightingRow)]
        return min((t for t in times if t is not None), default=None)

    def spans_for_imos(self, imos: Sequence[str]) -> dict[str, list[MmsiSpan]]:
        """IMO → the spans in which MMSIs broadcast it in their static data as theirs
        (:func:`scheldt.domain.shipping.mmsi_spans`: an MMSI that later names another vessel
        stops speaking for this one); never :data:`UNSET_MMSI` (every unconfigured transponder
        sends it, so it ties no position to a vessel)."""
        unique = sorted(set(imos))
        mmsis: set[str] = set()
        for start in range(0, len(unique), 500):
            mmsis.update(self.session.scalars(select(VesselSightingRow.mmsi).where(
                VesselSightingRow.imo.in_(unique[start:start + 500]), VesselSightingRow.mmsi != UNSET_MMSI).distinct()))
        seen: list[tuple[str, str, datetime | None]] = []
        ordered = sorted(mmsis)
        for start in range(0, len(ordered), 500):
            stmt = select(VesselSightingRow.mmsi, VesselSightingRow.imo, VesselSightingRow.observed_at).where(
                VesselSightingRow.mmsi.in_(ordered[start:start + 500]), VesselSightingRow.imo != "")
            seen.extend((m, i, aware(at)) for m, i, at in self.session.execute(stmt))
        spans = mmsi_spans(seen)
        return {imo: spans[imo] for imo in unique if imo in spans}

    def latest_name(self, imo: str) -> str:
        """The name last broadcast with IMO number ``imo`` in AIS static data (latest observed,
        then latest received), "" when none."""
        stmt = (select(VesselSightingRow.name).where(VesselSightingRow.imo == imo, VesselSightingRow.name != "")
                .order_by(VesselSightingRow.observed_at.desc().nulls_last(), VesselSightingRow.received_at.desc(),
                          VesselSightingRow.id.desc()).limit(1))
        return (self.session.scalar(stmt) or "").strip()

    def track(self, spans: Sequence[MmsiSpan], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Timed positions the MMSIs sent within their ``spans`` (:meth:`spans_for_imos`)
        between ``start`` and ``end`` (UTC), oldest first; a position 0, 0 (a transponder without
        a fix: ``ingest.ais.NO_FIX``) is left out."""
        within = _within(spans)
        if within is None:
            return []
        stmt = (select(VesselPositionRow)
                .where(within, VesselPositionRow.observed_at >= start, VesselPositionRow.observed_at <= end, _FIXED)
                .order_by(VesselPositionRow.observed_at))
        return [_position(r) for r in self.session.scalars(stmt)]

    def last_position_before(self, spans: Sequence[MmsiSpan], before: datetime,
                             not_before: datetime) -> list[dict[str, Any]]:
        """The last position sent within ``spans`` observed in [``not_before``, ``before``)
        (UTC), as :meth:`track` gives them: a list of at most one. One indexed look-up per span."""
        found = []
        for span in spans:
            if span.mmsi == UNSET_MMSI:
                continue
            low = not_before if span.since is None else max(not_before, span.since)
            high = before if span.until is None else min(before, span.until)
            stmt = (select(VesselPositionRow)
                    .where(VesselPositionRow.mmsi == span.mmsi, VesselPositionRow.observed_at >= low,
                           VesselPositionRow.observed_at < high, _FIXED)
                    .order_by(VesselPositionRow.observed_at.desc()).limit(1))
            found.extend(_position(r) for r in self.session.scalars(stmt))
        return sorted(found, key=lambda p: p["observed_at"])[-1:]


def _within(spans: Sequence[MmsiSpan]) -> Any:
    """The SQL condition "sent by one of these MMSIs within its span" (None: no span)."""
    conditions = []
    for span in spans:
        if span.mmsi == UNSET_MMSI:
            continue
        parts = [VesselPositionRow.mmsi == span.mmsi]
        if span.since is not None:
            parts.append(VesselPositionRow.observed_at >= span.since)
        if span.until is not None:
            parts.append(VesselPositionRow.observed_at < span.until)
        conditions.append(and_(*parts))
    return or_(*conditions) if conditions else None


#: Not a position 0, 0 (a transponder without a fix: ``ingest.ais.NO_FIX``).
_FIXED = not_(and_(VesselPositionRow.latitude == 0, VesselPositionRow.longitude == 0))


def _position(r: VesselPositionRow) -> dict[str, Any]:
    return {"mmsi": r.mmsi, "observed_at": aware(r.observed_at), "latitude": r.latitude,
            "longitude": r.longitude, "speed_knots": r.speed_knots, "nav_status": r.nav_status}


#: A position's vessel and what it said: MMSI, latitude, longitude, speed, course.
_Place = tuple[str, float, float, float | None, float | None]


def _heard_before(p: VesselPosition, heard: dict[_Place, list[datetime]]) -> bool:
    """Whether ``p`` is a stored position heard again: same vessel, place, speed and course,
    observed at another time within :data:`HEARD_AGAIN_WITHIN` (the same time is the same
    fact, kept once by its key)."""
    if p.observed_at is None:
        return False
    return any(t != p.observed_at and abs(t - p.observed_at) <= HEARD_AGAIN_WITHIN
               for t in heard.get((p.mmsi, p.latitude, p.longitude, p.speed_knots, p.course_deg), ()))
