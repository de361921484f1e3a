"""``scheldt jobs run | list | show | kinds``: long work through the job runner, with progress."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from scheldt.cli.common import (
    console,
    errors_reported,
    existing_store_url,
    missing_sqlite_file,
    os_user,
    print_json,
    say_created,
    settings,
)
from scheldt.errors import InputError
from scheldt.jobs.kinds import describe, params_from_text
from scheldt.jobs.kinds import kind as job_kind
from scheldt.jobs.runner import POLL_S, JobRunner, RunnerBusyError
from scheldt.jobs.runs import FAILED, STATUSES, JobRun

app = typer.Typer(help="Long and recurring work (ingest, training, re-scoring) through the job runner.",
                  no_args_is_help=True)
out = Console()
#: How often the progress bar reads the run (seconds).
REFRESH_S = 0.2


def _requested_by() -> str:
    try:
        return f"cli:{os_user()}"
    except (OSError, KeyError):
        return "cli"


@app.command("run")
def run(
    kind: Annotated[str, typer.Argument(help="A job kind (ingest, rescore, train-trips, ...): `scheldt jobs kinds` "
                                             "lists them all with their parameters.")],
    param: Annotated[list[str] | None, typer.Option("--param", help="key=value; repeat a list parameter: --param paths=a.json --param paths=b.json.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Run it now in this process (or follow it in the API server's runner) with a progress bar until it ends.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON on stdout.")] = False,
) -> None:
    """Queue a job; with --wait, run it here and show its progress until it is done or failed.

    Without --wait the run waits in the store for a job runner: the API server's picks it up
    within seconds. The exit status is 1 when the run failed.
    """
    with errors_reported():
        params = _absolute_files(params_from_text(kind, param or []))
        url = settings().resolved_database_url
        new_file = missing_sqlite_file(url)
        runner = JobRunner(url)
        say_created(new_file)  # a mistyped SCHELDT_DATA_DIR queued the run in a new store nobody serves
        here, run_id = False, None
        try:
            if wait:
                here = _start_or_follow(runner)
            run_id = runner.submit(kind, params, _requested_by())
            if not wait:
                running = runner.another_running()
                _queued(runner.get(run_id), as_json, running)
                if not running:  # a cron script queued work nobody runs (operator review)
                    console.print(f"[yellow]warning[/yellow] no job runner is running on this store: run {run_id} "
                                  "waits until `scheldt serve` starts (or use --wait to run it here)", highlight=False)
                return
            final = _follow(runner, run_id, quiet=as_json or not console.is_terminal)
        except KeyboardInterrupt:
            _interrupted(runner, run_id, here)
        finally:
            runner.shutdown(wait=True)
    _finished(final, as_json)


#: Parameters naming files the run reads (each must exist) or writes.
_READS, _WRITES = ("paths", "ais_layout"), ("path",)


def _absolute_files(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the files they name made absolute, checked to exist where the run reads
    them: the runner is another process, started elsewhere (an operator review's queued
    ``paths=file.json`` was looked for in the server's directory). A ``mapping`` is made
    absolute when it names a file here, else kept (a built-in mapping's name). Raises InputError."""
    out = dict(params)
    for key, value in params.items():
        if key not in (*_READS, *_WRITES, "mapping"):
            continue
        names = value if isinstance(value, list) else [value]
        fixed = []
        for name in names:
            path = Path(name).expanduser()
            if key == "mapping" and not path.is_file():
                fixed.append(name)
            elif key in _READS and not path.is_file():
                hint = " (a directory?)" if path.is_dir() else ""
                raise InputError(f"--param {key}", f"{name}: no such file{hint}")
            else:
                fixed.append(str(path.resolve()))
        out[key] = fixed if isinstance(value, list) else fixed[0]
    return out


def _interrupted(runner: JobRunner, run_id: int | None, here: bool) -> None:
    """Ctrl-C while waiting (it printed a traceback, and a second one was needed while the run
    went on). Following another runner's run: stop following, the run goes on there. Running it
    here: stop the process at once; its open transaction is rolled back, what it committed
    stays, and the next runner start marks the run interrupted. Exits with status 130."""
    which = f"run {run_id}" if run_id is not None else "the run"
    if not here:
        console.print(f"stopped following {which}: it goes on in the job runner that has it "
                      f"(`scheldt jobs show {run_id}`)" if run_id is not None else "interrupted", highlight=False)
        raise typer.Exit(130)
    console.print(f"[yellow]interrupted[/yellow] {which} stops with this process: what it committed stays, the rest "
                  "is rolled back, and the next job runner start (`scheldt serve` or `jobs run --wait`) marks it "
                  "interrupted", highlight=False)
    runner.engine.dispose()
    os._exit(130)  # the run's thread would otherwise hold the process until it ends


def _start_or_follow(runner: JobRunner) -> bool:
    """Start a runner here (True), or say the run is followed in the one that runs this store (False)."""
    try:
        runner.start()
        return True
    except RunnerBusyError:
        console.print("another job runner (the API server?) runs this store's jobs: following the run there")
        return False


def _queued(job: JobRun, as_json: bool, running: bool) -> None:
    """Say the run is queued and, when a runner is running (``running``), when it starts (a docs
    review read "picks it up within 5 s" beside the warning that no runner runs)."""
    if as_json:
        print_json(job.as_dict())
    elif running:
        out.print(f"run {job.id} ({escape(job.kind)}) queued: the running job runner picks it up within "
                  f"{POLL_S:g} s (`scheldt jobs show {job.id}`); --wait runs it here")
    else:
        out.print(f"run {job.id} ({escape(job.kind)}) queued (`scheldt jobs show {job.id}`)")


def _follow(runner: JobRunner, run_id: int, quiet: bool) -> JobRun:
    """Poll the run until it ends, drawing its progress and message (unless ``quiet``)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[message]}"), console=console, transient=True, disable=quiet) as bar:
        job = runner.get(run_id)
        task = bar.add_task(f"{job.kind} run {run_id}", total=1.0, message="queued")
        while not job.finished:
            bar.update(task, completed=job.progress, message=escape(job.message or job.status))
            time.sleep(REFRESH_S)
            job = runner.get(run_id)
    return job


def _finished(job: JobRun, as_json: bool) -> None:
    if as_json:
        print_json(job.as_dict())
    elif job.status == FAILED:
        console.print(f"[red]run {job.id} failed[/red] {escape(job.error)}", highlight=False, soft_wrap=True)
    else:
        out.print(f"run {job.id} ({escape(job.kind)}) done: {escape(job.message)}")
        _print_result(job)
    if job.status == FAILED:
        raise typer.Exit(1)


def _print_result(job: JobRun) -> None:
    if job.result:
        out.print(escape(json.dumps(job.result, indent=2, default=str)), highlight=False, soft_wrap=True)


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many of the newest runs.")] = 20,
    kind: Annotated[str | None, typer.Option("--kind", help="Only runs of this kind (`scheldt jobs kinds`).")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs in this status: queued, running, done "
                                                                 "or failed.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The newest job runs, newest first: status, progress, who asked, when (a failed ingest
    is found with --status failed among frequent scheduled runs)."""
    with errors_reported():
        if kind is not None:
            job_kind(kind)  # InputError listing the kinds
        if status is not None and status not in STATUSES:
            raise InputError("--status", f"{status!r} is not one of {', '.join(STATUSES)}")
        runner = JobRunner(existing_store_url())
        try:
            jobs = runner.recent(limit, kind, status)
        finally:
            runner.shutdown()
    if as_json:
        print_json({"runs": [j.as_dict() for j in jobs]})
        return
    if not jobs:  # an empty table said nothing (CLI review)
        out.print("no job runs yet")
        return
    table = Table("id", "kind", "status", "progress", "requested by", "created (UTC)", "finished (UTC)",
                  "message / error",
                  title="Job runs")
    for j in jobs:
        table.add_row(str(j.id), escape(j.kind), j.status, f"{j.progress:.0%}", escape(j.requested_by),
                      f"{j.created_at:%Y-%m-%d %H:%M:%S}",
                      f"{j.finished_at:%Y-%m-%d %H:%M:%S}" if j.finished_at else "-",
                      escape(j.error or j.message))
    Console(width=max(out.width, 140)).print(table)


@app.command("show")
def show(
    run_id: Annotated[int, typer.Argument(help="The run's id (`scheldt jobs list`).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One run: parameters, status, progress, times, result or error."""
    with errors_reported():
        runner = JobRunner(existing_store_url())
        try:
            job = runner.get(run_id)
        finally:
            runner.shutdown()
    if as_json:
        print_json(job.as_dict())
        return
    for name, value in job.as_dict().items():
        if name not in ("result", "params"):
            out.print(f"{name}: {escape(str(value))}", highlight=False)
    out.print(f"params: {escape(json.dumps(job.params))}", highlight=False)
    _print_result(job)


@app.command("kinds")
def kinds(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What the runner can run, with each kind's parameters."""
    described = describe()
    if as_json:
        print_json({"kinds": described})
        return
    for k in described:
        out.print(f"[bold]{k['kind']}[/]: {escape(k['summary'])}")
        for name, p in k["params"].items():
            need = "required" if p["required"] else "optional" if p["default"] is None else f"default {p['default']}"
            out.print(f"  {name} ({p['type']}, {need}): {escape(p['help'])}", highlight=False)


def register(root: typer.Typer) -> None:
    """Add ``jobs`` to the command tree."""
    root.add_typer(app, name="jobs")
