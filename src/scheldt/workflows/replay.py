"""Replay a folder of daily feeds (``day-YYYY-MM-DD/``) as if each day arrived at its end."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path

from scheldt.errors import InputError
from scheldt.ingest.base import FileReport
from scheldt.workflows.ingest import IngestOptions, ingest_or_report
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.trip_scoring import rescore_received, score_trips

#: The files of one day, in the order they are read (documents before the events that cite
#: them), with their formats.
FILE_ORDER = {"documents.json": "dcsa-documents", "vgm.json": "dcsa-documents", "events.json": "dcsa-events",
              "ais.nmea": "ais-nmea"}


@dataclass
class ReplayReport:
    """Per day: files read (their reports), files left unread (not among :data:`FILE_ORDER`),
    trips re-scored and trips left alone as scored later."""

    days: int = 0
    files: list[FileReport] = field(default_factory=list)
    rescored: int = 0
    unread: list[Path] = field(default_factory=list)
    #: Trips that received facts in the days replayed but already had a score made after the day
    #: (a switch of profile on the real clock scores every trip then), scored again as of
    #: ``present`` once the days are in; a targeting review's queue kept a box whose seal had
    #: changed at 0 until someone thought of `scheldt trips score`.
    caught_up: int = 0
    #: Trips left alone because each already had a score made after the last day replayed, and
    #: after ``present`` too, or with no ``present`` (a review's replay after a switch on the
    #: real clock said "0 trip scores" only).
    left_alone: int = 0


def day_folders(root: Path) -> list[tuple[date, Path]]:
    """The ``day-YYYY-MM-DD`` folders under ``root``, oldest first. Raises InputError when
    ``root`` is not a folder, holds none, or holds one whose name is not a real date."""
    if not root.is_dir():
        raise InputError(str(root), "no such folder")
    out = []
    for p in sorted(root.glob("day-*")):
        try:
            out.append((date.fromisoformat(p.name.removeprefix("day-")), p))
        except ValueError:
            raise InputError(str(p), "folder name is not day-YYYY-MM-DD with a real date") from None
    if not out:
        raise InputError(str(root), "no day-YYYY-MM-DD folders (write some with `scheldt simulate`)")
    return out


def replay(uow_factory: Callable[[], AbstractContextManager[UnitOfWork]], root: Path, options: IngestOptions,
           on_day: Callable[[date, ReplayReport], None] | None = None, until: date | None = None,
           present: datetime | None = None) -> ReplayReport:
    """Ingest each day folder with the clock at that day's 23:59:59 UTC, then re-score the trips
    that received facts (when a profile is live). ``uow_factory`` opens one unit of work per
    day (a context manager yielding a UnitOfWork), so each day commits on its own. With
    ``until``, days after it are left for a later replay (the port as it stood that evening:
    boxes discharged but not yet picked up are still in the queue). A trip that received facts
    but already had a score made after that day is left alone then (its scores stay in time
    order), and scored once more as of ``present`` (UTC, the caller's current time) after the
    last day, so the queue shows what it received (:attr:`ReplayReport.caught_up`)."""
    report = ReplayReport()
    passed_over: set[str] = set()
    now = None
    for day, folder in day_folders(root):
        if until is not None and day > until:
            break
        now = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        with uow_factory() as uow:
            for name, fmt in FILE_ORDER.items():
                path = folder / name
                if path.is_file():
                    report.files.append(ingest_or_report(uow, path, replace(options, format=fmt), now))
            # files a replay does not read are named (an attack review's day of a.json and
            # b.json replayed as "0 files" without a word)
            report.unread += sorted(p for p in folder.iterdir() if p.name not in FILE_ORDER)
            scored = rescore_received(uow, now, now)
            report.rescored += scored.scored if scored else 0
            passed_over |= scored.later_containers if scored else set()
        report.days += 1
        if on_day is not None:
            on_day(day, report)
    if passed_over and present is not None:
        with uow_factory() as uow:
            caught = score_trips(uow, present, sorted(passed_over))
            report.caught_up, report.left_alone = caught.scored, caught.later
    elif passed_over and now is not None:
        with uow_factory() as uow:
            report.left_alone = len(uow.trip_assessments.scored_after(now))
    return report
