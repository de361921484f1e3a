"""Replay a folder of daily feeds (``day-YYYY-MM-DD/``) as if each day arrived at its end."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from scheldt.errors import InputError
from scheldt.ingest.base import FileReport
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.trip_scoring import rescore_received

#: The order the files of one day are read in (documents before the events that cite them).
FILE_ORDER = ("documents.json", "vgm.json", "events.json", "ais.nmea")


@dataclass
class ReplayReport:
    """Per day: files read (their reports) and trips re-scored."""

    days: int = 0
    files: list[FileReport] = field(default_factory=list)
    rescored: int = 0


def day_folders(root: Path) -> list[tuple[date, Path]]:
    """The ``day-YYYY-MM-DD`` folders under ``root``, oldest first. Raises InputError if none."""
    out = []
    for p in sorted(root.glob("day-*")):
        try:
            out.append((date.fromisoformat(p.name.removeprefix("day-")), p))
        except ValueError:
            continue
    if not out:
        raise InputError(str(root), "no day-YYYY-MM-DD folders (write some with `scheldt simulate`)")
    return out


def replay(uow_factory: Callable[[], AbstractContextManager[UnitOfWork]], root: Path, options: IngestOptions,
           on_day: Callable[[date, ReplayReport], None] | None = None) -> ReplayReport:
    """Ingest each day folder with the clock at that day's 23:59:59 UTC, then re-score the trips
    that received facts (when a profile is live). ``uow_factory`` opens one unit of work per
    day (a context manager yielding a UnitOfWork), so each day commits on its own."""
    report = ReplayReport()
    for day, folder in day_folders(root):
        now = datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        with uow_factory() as uow:
            for name in FILE_ORDER:
                if (folder / name).is_file():
                    report.files.append(ingest_file(uow, folder / name, options, now))
            scored = rescore_received(uow, now, now)
            report.rescored += scored.scored if scored else 0
        report.days += 1
        if on_day is not None:
            on_day(day, report)
    return report
