"""Container trips: a container number is reused trip after trip, so a timeline belongs to a
trip (container number + booking or bill-of-lading reference + voyage), never the number alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


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


def group_trips(container_number: str, events: Iterable[Mapping[str, Any]]) -> list[Trip]:
    """Split a container's events (dicts with ``transport_document_ref``, ``booking_ref``,
    ``export_voyage``, ``import_voyage``, ``event_time``) into trips, oldest trip first.

    Events sharing a transport document or booking reference are one trip (a document covers
    the whole journey, transshipments included); events without any reference join the trip of
    the same voyage if there is one, else a trip of their own voyage.
    """
    trips: dict[TripKey, Trip] = {}
    by_ref: dict[str, TripKey] = {}
    by_voyage: dict[str, TripKey] = {}
    pending: list[Mapping[str, Any]] = []
    for e in sorted(events, key=lambda e: e["event_time"]):
        refs = [r for r in (e.get("transport_document_ref"), e.get("booking_ref")) if r]
        voyage = e.get("export_voyage") or e.get("import_voyage") or ""
        if not refs:
            pending.append(e)
            continue
        key = next((by_ref[r] for r in refs if r in by_ref), None)
        if key is None:
            key = TripKey(container_number, refs[0], voyage)
            trips[key] = Trip(key)
        for r in refs:
            by_ref[r] = key
        for v in (e.get("export_voyage"), e.get("import_voyage")):
            if v:
                by_voyage.setdefault(v, key)
        trips[key].events.append(e)
    for e in pending:
        voyage = e.get("export_voyage") or e.get("import_voyage") or ""
        key = by_voyage.get(voyage) if voyage else None
        if key is None:
            key = TripKey(container_number, "", voyage)
            trips.setdefault(key, Trip(key))
        trips[key].events.append(e)
    for trip in trips.values():
        trip.events.sort(key=lambda e: e["event_time"])
    return sorted(trips.values(), key=lambda t: t.events[0]["event_time"])
