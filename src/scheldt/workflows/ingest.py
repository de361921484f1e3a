"""Ingest declaration files: read, de-duplicate on the facts' keys, store, quarantine rejects.

Re-sending the same facts, in any file and any order, adds nothing: declarations are keyed on
``declaration_ref`` and compared by content hash; an outcome is keyed on its declaration. A
re-sent declaration whose facts differ from the stored ones is quarantined as a conflict (this
format carries no amendment marker), and so is an outcome that contradicts the stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

from scheldt.domain.declarations import Declaration, InspectionOutcome
from scheldt.errors import InputError, ScheldtError
from scheldt.ingest.ais import layout_misses, load_ais_layout
from scheldt.ingest.base import FileReport, Rejection
from scheldt.ingest.declarations import Located, read_declarations
from scheldt.ingest.registry import csv_header, detect
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.shipping import ingest_ais, ingest_dcsa_events

BATCH_ROWS = 5000
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How to read: ``format`` (auto|declarations), ``mapping`` (name or YAML path),
    ``outcomes`` (read outcome columns), ``outcomes_only`` (``scheldt ingest outcomes``),
    ``supplied_by`` (organisation recorded on every fact), ``ais_layout`` (a YAML file
    describing a decoded AIS CSV that no built-in layout matches)."""

    format: str = "auto"
    mapping: str | None = None
    outcomes: bool = True
    outcomes_only: bool = False
    supplied_by: str = "local-agency"
    ais_layout: str | None = None


def _batches(records: Iterable[Located], size: int) -> Iterator[list[Located]]:
    it = iter(records)
    while batch := list(islice(it, size)):
        yield batch


def _store_declarations(
    uow: UnitOfWork, decls: list[tuple[Declaration, str]], report: FileReport, now: datetime,
    supplied_by: str, rejections: list[Rejection],
) -> set[str]:
    """Store new declarations; returns the refs that are now stored with these facts."""
    hashed = [(d, d.fact_hash(), where) for d, where in decls]
    stored = uow.declarations.stored_hashes([d.declaration_ref for d, _, _ in hashed])
    fresh: dict[str, tuple[Declaration, str, str]] = {}
    good: set[str] = set()
    for d, digest, where in hashed:
        ref = d.declaration_ref
        known = stored.get(ref) or (fresh[ref][1] if ref in fresh else None)
        if known is not None and known != digest:
            rejections.append(Rejection(where, "declaration_ref",
                f"declaration {ref} was already received with different facts; Scheldt does not read "
                "amendments of declarations: the stored version is kept, and goes on being scored"))
            continue
        report.accepted += 1
        report.add_flags(d.flags, where)
        good.add(ref)
        if known is None:
            fresh[ref] = (d, digest, where)
    report.added += uow.declarations.add_declarations(list(fresh.values()), supplied_by, now)
    return good


def _store_outcomes(
    uow: UnitOfWork, outcomes: list[tuple[InspectionOutcome, str]], good_refs: set[str],
    report: FileReport, now: datetime, supplied_by: str, rejections: list[Rejection],
) -> None:
    refs = [o.declaration_ref for o, _ in outcomes]
    known = uow.declarations.known_refs([r for r in refs if r not in good_refs]) | good_refs
    stored = uow.declarations.stored_outcomes(refs)
    filed = uow.declarations.filing_times([r for r in refs if r not in good_refs])
    fresh: dict[str, tuple[InspectionOutcome, str]] = {}
    for o, where in outcomes:
        ref = o.declaration_ref
        if ref not in known:
            rejections.append(Rejection(where, "declaration_ref",
                f"outcome for declaration {ref}, which is not in the store: load the declaration first"))
            continue
        if ref in filed and o.received_at < filed[ref]:  # read alone: the stored filing bounds it (a review)
            rejections.append(Rejection(where, "received_at",
                f"outcome received {o.received_at.date().isoformat()}, before declaration {ref} was filed "
                f"({filed[ref].date().isoformat()}): an outcome comes after its declaration"))
            continue
        prior = stored.get(ref) or ((fresh[ref][0].fraud, fresh[ref][0].critical) if ref in fresh else None)
        if prior is not None and prior != (o.fraud, o.critical):
            rejections.append(Rejection(where, "outcome",
                f"outcome for declaration {ref} contradicts the one already received "
                f"(fraud={prior[0]}, critical={prior[1]}); the first is kept"))
            continue
        report.outcomes_accepted += 1
        if prior is None:
            fresh[ref] = (o, where)
    report.outcomes_added += uow.declarations.add_outcomes(list(fresh.values()), supplied_by, now)


def check_ais_layout(format: str, ais_layout: str | None, where: str) -> None:
    """Raise InputError naming ``where`` (the option or parameter) when an AIS layout file is
    given with a format other than ``auto`` or ``ais-csv`` (it would be ignored: a review's job
    read the CSV as DCSA events), or cannot be read as a layout (a job took one and failed only
    when it ran; the CLI had quarantined it as a bad record): checked before anything is read."""
    if ais_layout is None:
        return
    if format not in ("auto", "ais-csv"):
        raise InputError(where, f"describes a decoded AIS CSV: it goes with format ais-csv or auto, not {format}")
    try:
        load_ais_layout(ais_layout)
    except ScheldtError as exc:
        raise InputError(f"{where} {exc.where}", exc.why) from None


def ingest_file(
    uow: UnitOfWork, path: Path, options: IngestOptions, now: datetime,
    progress: Progress | None = None,
) -> FileReport:
    """Read one file into the store and return its report (rejections quarantined).

    Streams the file in batches of :data:`BATCH_ROWS` rows; ``progress`` is called with the
    number of records handled after each batch. Raises InputError/ConfigError only when the file
    as a whole cannot be read (unknown format, bad mapping); row problems become rejections.
    Waits for an ingest already running in another transaction to end
    (:meth:`~scheldt.store.events.EventRepository.lock_ingest`).
    """
    uow.events.lock_ingest()
    unfit = ""  # why the given AIS layout does not fit the file, if it does not
    if options.ais_layout is not None:
        layout = load_ais_layout(options.ais_layout)
        # the layout reads the AIS CSVs it fits; the other files of the run as they are detected
        # (a review's DCSA events were read as AIS CSV lines: 39 false rejections)
        misses = layout_misses(layout, csv_header(path, layout.delimiter)) if path.is_file() else []
        if misses:  # a typo in the layout read as an unknown kind of file (regression review)
            unfit = (f"the AIS layout {options.ais_layout} does not fit it: no column {', '.join(map(repr, misses))} "
                     f"(delimiter {layout.delimiter!r})")
        if options.format == "ais-csv" and unfit:  # it stored positions of no vessel (regression review)
            raise InputError(f"{path}:1", unfit)
        if options.format == "ais-csv" or options.format == "auto" and path.is_file() and not unfit:
            return ingest_ais(uow, path, "ais-csv", now, options.supplied_by, layout)
    try:
        detected = detect(path, options.format, options.mapping, outcomes_only=options.outcomes_only)
    except InputError as exc:
        if not unfit:
            raise
        raise InputError(exc.where, f"not a format Scheldt recognises, and {unfit}") from None
    if options.outcomes_only:
        check_outcomes_source(path, detected.format)
    if detected.format in ("dcsa-events", "dcsa-documents", "edifact"):
        return ingest_dcsa_events(uow, path, now, options.supplied_by, detected.format)
    if detected.format in ("ais-nmea", "ais-csv"):
        return ingest_ais(uow, path, detected.format, now, options.supplied_by)
    assert detected.mapping is not None
    report = FileReport(str(path), detected.format)
    with path.open("rb") as fh:
        records = read_declarations(
            fh, detected.mapping, str(path),
            outcomes=options.outcomes or options.outcomes_only,
            declarations=not options.outcomes_only,
            loaded_at=now,
        )
        for batch in _batches(records, BATCH_ROWS):
            rejections = [r for _, r in batch if isinstance(r, Rejection)]
            decls = [(r, w) for w, r in batch if isinstance(r, Declaration)]
            outcomes = [(r, w) for w, r in batch if isinstance(r, InspectionOutcome)]
            good = _store_declarations(uow, decls, report, now, options.supplied_by, rejections) if decls else set()
            rejected_rows = {r.where for r in rejections}
            outcomes = [(o, w) for o, w in outcomes if w not in rejected_rows]
            if outcomes:
                _store_outcomes(uow, outcomes, good, report, now, options.supplied_by, rejections)
            uow.quarantine.add(rejections, detected.format, now, (str(path), path))
            report.rejected += len(rejections)
            report.rejections += rejections
            if progress:
                progress(len(batch))
    return report


def check_outcomes_source(path: Path, found: str) -> None:
    """Refuse a file of format ``found`` for ``scheldt ingest outcomes``, which reads inspection
    outcomes from declaration files only (a CLI review stored AIS positions through it). Raises
    InputError naming the file."""
    if found != "declarations":
        raise InputError(str(path), f"is {found}, not declarations: `ingest outcomes` reads inspection outcomes "
                         "from declaration files only")


def ingest_or_report(uow: UnitOfWork, path: Path, options: IngestOptions, now: datetime,
                     progress: Progress | None = None) -> FileReport:
    """:func:`ingest_file`, except that a file which cannot be read at all (no such file, empty,
    unknown format, bad mapping) gives a report with that one rejection, quarantined, instead
    of an exception: one bad file in a batch does not stop the others."""
    try:
        return ingest_file(uow, path, options, now, progress)
    except ScheldtError as exc:
        rejection = Rejection(exc.where, "", exc.why)
        uow.quarantine.add([rejection], options.format, now, (str(path), path))
        return FileReport(str(path), options.format, rejected=1, rejections=[rejection])
