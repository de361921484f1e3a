"""``scheldt ingest``: read files into the store, report per file, quarantine rejects."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scheldt.cli.common import (
    console,
    errors_reported,
    now,
    print_json,
    require_known_local_organisation,
    settings,
    store,
)
from scheldt.errors import InputError, ScheldtError
from scheldt.ingest.base import FileReport
from scheldt.ingest.mapping import load_mapping
from scheldt.ingest.registry import FORMATS, detect
from scheldt.workflows.ingest import IngestOptions, check_ais_layout, check_outcomes_source, ingest_or_report
from scheldt.workflows.trip_scoring import rescore_received


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files to read. `ingest outcomes FILE...` loads inspection outcomes alone.")],
    format: Annotated[str, typer.Option("--format", help="auto (detect from the content), declarations, dcsa-events, dcsa-documents, edifact, ais-nmea or ais-csv.")] = "auto",
    mapping: Annotated[str | None, typer.Option("--mapping", help="Built-in mapping name (kcs-synthetic) or a YAML mapping file.")] = None,
    no_outcomes: Annotated[bool, typer.Option("--no-outcomes", help="Ignore outcome columns even if the mapping names them.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the per-file report as JSON on stdout.")] = False,
    ais_layout: Annotated[str | None, typer.Option("--ais-layout", help="YAML file describing a decoded AIS CSV (time_column, time_format, latitude, longitude, mmsi...).")] = None,
) -> None:
    """Read declarations and shipping data (DCSA JSON, UN/EDIFACT, AIS) into the store; bad
    records are quarantined with file, line or path, field and why.

    Loading the same facts again, from any file in any order, adds nothing. The exit status is
    1 when nothing in some file could be read, 2 for a wrong option.
    """
    outcomes_only = bool(paths) and paths[0] == "outcomes"
    files = [Path(p) for p in (paths[1:] if outcomes_only else paths)]
    with errors_reported():
        if not files:
            raise InputError("ingest", "give at least one file")
        if outcomes_only and no_outcomes:
            raise InputError("--no-outcomes", "contradicts `ingest outcomes`, which loads outcomes only")
        if format not in ("auto", *FORMATS):
            raise InputError("--format", f"unknown format {format!r}; known: auto, {', '.join(FORMATS)}")
        if mapping is not None:
            try:  # a wrong option, not a file's fault: checked before any file is read
                load_mapping(mapping)
            except ScheldtError as exc:  # the file and the YAML path at fault (it said "--mapping" only)
                where = exc.where if exc.where.startswith("--mapping") else f"--mapping {exc.where}"
                raise InputError(where, exc.why) from None
        check_ais_layout(format, ais_layout, "--ais-layout")
        for path in files:  # a mistyped path is the command's fault, not a record to quarantine (CLI review)
            if not path.exists():
                raise InputError(str(path), "no such file")
            if path.is_dir():
                raise InputError(str(path), "is a folder: give the files in it (`scheldt replay` reads day folders)")
            if outcomes_only:
                _declarations_only(path, format, mapping)
        options = IngestOptions(format, mapping, not no_outcomes, outcomes_only, settings().local_organisation, ais_layout)
    reports: list[FileReport] = []
    failed = False
    # Everything alive now (libraries, reference lists) lives for the whole run: keep it out of
    # the collector's full passes, which otherwise rescan it while millions of records stream by.
    gc.freeze()
    started = now()
    rescored = None
    quiet = as_json or not console.is_terminal
    with errors_reported(), store() as uow, Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=quiet,
    ) as bar:
        require_known_local_organisation(uow)
        for path in files:
            total = _count_lines(path) if path.is_file() and not quiet else 0  # a pass over the file: only for the bar
            task = bar.add_task(path.name, total=total)
            report = ingest_or_report(uow, path, options, now(), progress=lambda n, t=task: bar.advance(t, n))
            bar.update(task, completed=total)  # formats read in one piece report no progress of their own
            if report.accepted == 0 and report.outcomes_accepted == 0:
                failed = True
            reports.append(report)
        if not outcomes_only:
            rescored = rescore_received(uow, started, now())
    if as_json:
        print_json({"files": [r.as_dict() for r in reports]}
                   | ({"rescored": {"profile": rescored.profile, "trips": rescored.scored}
                      | ({"not_scored": rescored.not_scored} if rescored.not_scored else {})} if rescored else {}))
    else:
        _print_reports(reports)
        if rescored is not None and not rescored.not_scored:
            console.print(f"{rescored.scored} trip(s) re-scored with {escape(rescored.profile)}")
    if rescored is not None and rescored.not_scored:
        console.print(f"[yellow]warning[/yellow] the facts are loaded but no trip was re-scored: "
                      f"{escape(rescored.profile)} is {escape(rescored.not_scored)}", highlight=False)
    for r in reports:
        if r.accepted == 0 and r.outcomes_accepted == 0 and r.rejected == 0:
            console.print(f"nothing to read in {escape(r.path)}: no records in it (a header alone?)", highlight=False)
    if failed:
        # said, not only exit 1 (a new user's ingest of the shared samples ended on a rejection line)
        empty = [r.path for r in reports if r.accepted == 0 and r.outcomes_accepted == 0]
        console.print(f"{len(reports) - len(empty)} of {len(reports)} file(s) loaded; {len(empty)} gave no record "
                      f"that could be kept: {escape(', '.join(Path(p).name for p in empty))} (exit 1; the "
                      "rejections above, and `scheldt quarantine`, say why)", highlight=False)
        raise typer.Exit(1)


def _declarations_only(path: Path, format: str, mapping: str | None) -> None:
    """Refuse, before anything is read, a file `ingest outcomes` cannot take: one that is not
    declarations (a review stored AIS positions through it, then quarantined the file as a row).
    Files no format fits are left to the ingest itself, which reports why."""
    try:
        found = detect(path, format, mapping, outcomes_only=True).format
    except ScheldtError:
        return
    check_outcomes_source(path, found)


def _print_reports(reports: list[FileReport]) -> None:
    table = Table(title="Ingest report")
    for col in ("file", "format", "accepted", "new", "outcomes (new)", "rejected", "flags"):
        table.add_column(col, justify="left" if col in ("file", "format") else "right",
                         overflow="fold" if col == "file" else "ellipsis")
    for r in reports:
        table.add_row(escape(r.path), r.format, str(r.accepted), str(r.added),
                      f"{r.outcomes_accepted} ({r.outcomes_added})", str(r.rejected), str(r.flags))
    out = Console(width=max(Console().width, 120))
    out.print(table)
    for r in reports:
        for code, (n, where, why) in sorted(r.flag_kinds.items()):
            at = f" (at {r.flag_sources[code]})" if r.flag_sources.get(code) else ""
            out.print(f"  flagged {n} x {code} [{r.fields_flagged(code)}] in {r.path}, e.g. {why}{at}", highlight=False,
                      markup=False, soft_wrap=True)
        for rej in r.rejections[:10]:
            out.print(f"  rejected {rej.where} [{rej.field or 'row'}]: {rej.why}", highlight=False, markup=False, soft_wrap=True)
        if r.rejected > 10:
            out.print(f"  ... and {r.rejected - 10} more rejected rows in {r.path} (all in quarantine; "
                      "`scheldt quarantine` lists them)", markup=False)


def quarantine(
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="How many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, each record as received included.")] = False,
) -> None:
    """Records ingest rejected, newest first: when (UTC), format, where (file and line, JSON
    path or EDIFACT segment), field and why; correct a record and send it again."""
    with errors_reported(), store(existing=True) as uow:
        total = uow.quarantine.count()
        rows = [{"id": r.id, "received_at": r.received_at, "format": r.format, "where": r.source, "field": r.field,
                 "why": r.why, "raw": r.raw} for r in uow.quarantine.list(limit)]
    if as_json:
        print_json({"total": total, "records": rows})
        return
    out = Console(width=max(Console().width, 140))
    out.print(f"{total:,} record(s) in quarantine" + (f"; the newest {len(rows)}:" if rows else ""), highlight=False)
    for r in rows:
        out.print(f"  {r['received_at']:%Y-%m-%d %H:%M} UTC {r['format']} {r['where']} [{r['field'] or 'row'}]: "
                  f"{r['why']}", highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``quarantine`` to the command tree."""
    app.command("ingest")(ingest)
    app.command("quarantine")(quarantine)

