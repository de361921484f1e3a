"""``scheldt simulate`` (write simulated traffic) and ``scheldt replay`` (ingest it day by day)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from scheldt.cli.common import console, errors_reported, now, print_json, require_known_local_organisation, settings
from scheldt.errors import InputError
from scheldt.simulate import spec
from scheldt.simulate.traffic import inspect_history, simulate
from scheldt.simulate.writers import write_traffic
from scheldt.store.db import open_store, unit_of_work
from scheldt.workflows.ingest import IngestOptions
from scheldt.workflows.replay import FILE_ORDER, ReplayReport, replay

out = Console()


def simulate_command(
    out_dir: Annotated[str, typer.Option("--out", help="Folder to write (day-YYYY-MM-DD/ folders and ground-truth.csv).")],
    port: Annotated[str, typer.Option("--port", help="Port of discharge (UN/LOCODE); the mixes are Antwerp-Bruges's.")] = "BEANR",
    days: Annotated[int, typer.Option("--days", min=1, max=366)] = 1,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    first_day: Annotated[int, typer.Option("--first-day", min=1, max=3650, help="Day 1 is 2026-01-01.")] = 1,
    scale: Annotated[float, typer.Option("--scale", min=0.001, max=4.0,
                                         help=f"Share of {spec.CONTAINERS_PER_DAY:,} containers a day to simulate.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Write SIMULATED port traffic (DCSA events and transport documents, VGM, AIS) with planted
    smuggling cases, and a separate ground-truth file. Not real data."""
    with errors_reported():
        if port != spec.DESTINATION:
            raise InputError("--port", f"only {spec.DESTINATION} (Antwerp-Bruges) has its mixes described so far")
        target = Path(out_dir)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise InputError(str(target), "exists and is not an empty folder: give a new one (two simulations "
                             "in one folder would not match the ground truth)")
        target.mkdir(parents=True, exist_ok=True)  # a folder that cannot be made is said before simulating
        traffic = simulate(seed, first_day, days, scale, port)
        inspect_history(traffic, seed)
        counts = write_traffic(traffic, target)
    planted = sum(t.planted for t in traffic.trips)
    summary = {"trips": len(traffic.trips), "planted": planted, "subtle": sum(t.subtle for t in traffic.trips),
               "vessel_calls": len(traffic.calls), "written": counts, "out": out_dir}
    if as_json:
        print_json(summary)
    else:
        out.print(f"SIMULATED traffic: {len(traffic.trips):,} trips on {len(traffic.calls)} vessel calls, {planted} planted "
                  f"({summary['subtle']} subtle) -> {escape(out_dir)} (ground truth in ground-truth.csv)")


def _day(text: str, option: str) -> date:
    """A YYYY-MM-DD option value. Raises InputError naming the option."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(option, f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None


def replay_command(
    folder: Annotated[str, typer.Argument(help="A folder written by `scheldt simulate` (or daily feeds laid out the same way).")],
    until: Annotated[str | None, typer.Option("--until", help=(
        "Last day to replay (YYYY-MM-DD); later folders are left for a later replay, so boxes "
        "discharged but not yet picked up stay in the queue."))] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingest day-YYYY-MM-DD folders in order, each as received at that day's 23:59:59 UTC,
    re-scoring the trips with new facts after each day (when a risk profile is live)."""
    engine = open_store(settings().resolved_database_url)

    def progress(day: date, r: ReplayReport) -> None:
        if not as_json:
            console.print(f"{day}: {len(r.files)} files so far, {r.rescored} trip scores")

    try:
        with errors_reported():
            last = _day(until, "--until") if until is not None else None
            with unit_of_work(engine) as uow:
                require_known_local_organisation(uow)
            report = replay(lambda: unit_of_work(engine), Path(folder),
                            IngestOptions("auto", None, True, False, settings().local_organisation), progress, last,
                            present=now())
    finally:
        engine.dispose()
    unreadable = [f.path for f in report.files if f.accepted == 0 and f.rejected > 0]
    summary = {"days": report.days, "files": len(report.files), "accepted": sum(f.accepted for f in report.files),
               "rejected": sum(f.rejected for f in report.files), "unreadable_files": unreadable,
               "rescored": report.rescored, "caught_up": report.caught_up, "left_alone": report.left_alone,
               "unread_files": [str(p) for p in report.unread]}
    if as_json:
        print_json(summary)
    else:
        out.print(f"replayed {report.days} days: {summary['files']} files, {summary['accepted']:,} records accepted, "
                  f"{summary['rejected']} rejected, {report.rescored:,} trip scores")
        if report.caught_up:
            out.print(f"{report.caught_up:,} trips scored again as of now with what they received: each already had "
                      "a score made after the day its facts came in")
        if report.left_alone:  # a PostgreSQL review's queue went stale after a switch on the real clock
            out.print(f"[yellow]{report.left_alone:,} trips left alone: each already has a score made after now "
                      "(SCHELDT_NOW); `scheldt trips score` at a later time scores them with what they "
                      "received[/yellow]")
        for path in unreadable:
            out.print(f"  nothing could be read in {escape(path)} (see the quarantine)")
        for unread in report.unread:
            out.print(f"  not read: {escape(str(unread))} (a day folder's files are {', '.join(FILE_ORDER)}; "
                      "ingest others with `scheldt ingest`)")
    if unreadable:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``replay``."""
    app.command("simulate")(simulate_command)
    app.command("replay")(replay_command)
