"""Ingest carrier and terminal data (DCSA Track & Trace events) and show a container's trips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scheldt.domain.shipping import Event, Retraction
from scheldt.domain.trips import Trip, group_trips
from scheldt.domain.identifiers import container_number
from scheldt.errors import InputError
from scheldt.ingest.base import FileReport, Rejection
from scheldt.ingest.dcsa_events import read_dcsa_events
from scheldt.workflows.ports import UnitOfWork

#: Largest Track & Trace JSON document read in one piece (pages and notifications are small).
MAX_JSON_BYTES = 256 * 1024 * 1024


def ingest_dcsa_events(uow: UnitOfWork, path: Path, now: datetime, supplied_by: str) -> FileReport:
    """Store the events of a DCSA Track & Trace document; quarantine what cannot be read.

    Re-sending an event (same publisher event id from the same organisation) adds nothing.
    Retractions mark the retracted event; they never delete it.
    """
    report = FileReport(str(path), "dcsa-events")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise InputError(str(path), f"larger than {MAX_JSON_BYTES // 2**20} MiB: split the document")
    events: list[Event] = []
    retractions: list[Retraction] = []
    rejections: list[Rejection] = []
    for rec in read_dcsa_events(path.read_bytes(), str(path)):
        if isinstance(rec, Rejection):
            rejections.append(rec)
        elif isinstance(rec, Retraction):
            retractions.append(rec)
            report.accepted += 1
        elif isinstance(rec, Event):
            events.append(rec)
            report.flags += len(rec.flags)
    report.added, unstorable = uow.events.add(events, supplied_by, now)
    report.accepted += len(events) - len(unstorable)
    rejections += unstorable
    uow.events.retract(retractions, supplied_by)
    uow.quarantine.add(rejections, "dcsa-events", now)
    report.rejected = len(rejections)
    report.rejections = rejections
    return report


@dataclass(frozen=True)
class ContainerTimeline:
    """A container's trips, oldest first, each with its events; ``flags`` on the number itself."""

    container_number: str
    number_flag: str
    trips: list[Trip]


def container_timeline(uow: UnitOfWork, raw_number: str) -> ContainerTimeline:
    """The trips of a container (ISO 6346 number, spaces and dashes allowed)."""
    number, flag = container_number(raw_number.upper())
    events = uow.events.for_container(number)
    return ContainerTimeline(number, flag.why if flag else "", group_trips(number, events))
