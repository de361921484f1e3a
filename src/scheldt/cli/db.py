"""``scheldt db``: schema migrations of the store, and backups."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path
from typing import Annotated

import typer

from scheldt.cli.common import (
    audit_command,
    console,
    errors_reported,
    missing_sqlite_file,
    refuse_a_file_as_folder,
    say_created,
    settings,
    wall_clock,
)
from scheldt.errors import InputError
from scheldt.store.backup import copy_store
from scheldt.store.container_trips import TripFilter
from scheldt.store.db import current_revision, head_revision, make_engine, unit_of_work
from scheldt.store.db import upgrade as run_upgrade
from scheldt.store.sealing import key_path, stored_credentials
from scheldt.workflows.trip_scoring import reindex_trips, resummarise_trips

#: Trips indexed before this revision are summarised again from their stored facts on upgrade:
#: 0020 records when a box left the port, the code of 0033 gives a trip fed by shipping lines
#: and terminals to the agency they feed (before, the line owned it and no officer saw it), and
#: that of 0034 a trip without documents that one line's events make to that line.
_SUMMARY_REVISION = "0034"

app = typer.Typer(help="The store's schema: upgrade, current revision; backups.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration to the configured store (SQLite or PostgreSQL); a SQLite
    store not there yet is made, with a note (a README review's restore, its data directory
    mistyped, upgraded a new empty store in silence and `audit verify` then found its chain
    intact)."""
    with errors_reported():
        url = settings().resolved_database_url
        new_file = missing_sqlite_file(url)
        engine = make_engine(url)
        before = current_revision(engine)
        run_upgrade(engine)
        say_created(new_file)
        typer.echo(f"store at revision {head_revision()} (was {before or 'empty'})")
        with unit_of_work(engine) as uow:
            if uow.container_trips.count(None, TripFilter()) == 0 and uow.trip_assessments.any():
                typer.echo(f"container-trip index built from {reindex_trips(uow)} trips' latest assessments")
            elif before is not None and before < _SUMMARY_REVISION:
                typer.echo(f"container-trip index: {resummarise_trips(uow)} trips summarised again from their facts")
        engine.dispose()


@app.command()
def current() -> None:
    """Print the store's migration revision and the newest one this code ships."""
    with errors_reported():
        url = settings().resolved_database_url
        missing = missing_sqlite_file(url)
        if missing is not None:  # an operator review: a mistyped path was created, folders and all
            refuse_a_file_as_folder(missing)  # a regression review read ".../scheldt.db/scheldt.db", exit 0
            typer.echo(f"store: none at {missing} (no such file); code: {head_revision()}")
            return
        engine = make_engine(url)
        typer.echo(f"store: {current_revision(engine) or 'empty'}; code: {head_revision()}")
        engine.dispose()


@app.command()
def backup(
    dest: Annotated[Path, typer.Argument(help="A new folder (or an empty one) to write the backup to.")],
) -> None:
    """Write a consistent copy of the store and the model artefacts to the folder DEST, while the
    server may go on running: scheldt.db (SQLite, by its online backup API) or scheldt.pgdump
    (PostgreSQL, by pg_dump --format=custom), models/, and backup.json (when, which store and
    revision, the copy's size and SHA-256, the audit entry the copy holds at least). The secrets
    key is left out: keep it apart. The backup is recorded in the audit log. See the README,
    "Backup and restore"."""
    with errors_reported():
        dest = dest.absolute()
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            raise InputError(str(dest), "exists and is not an empty folder; a backup never writes over one")
        models = settings().models_dir.absolute()
        if dest == models or models in dest.parents:  # an operator review's copied the models into itself
            raise InputError(str(dest), f"is inside the models folder {models}, which the backup copies")
        url = settings().resolved_database_url
        missing = missing_sqlite_file(url)
        if missing is not None:
            raise InputError(str(missing), "no store there to back up (see SCHELDT_DATA_DIR or SCHELDT_DATABASE_URL)")
        made = not dest.exists()
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        dest.chmod(0o700)
        stop = signal.signal(signal.SIGTERM, _interrupted)  # a killed backup leaves no half-written folder
        try:
            _write_backup(url, dest)
        except BaseException:
            if made:
                shutil.rmtree(dest, ignore_errors=True)
            else:
                for child in dest.iterdir():
                    if child.is_dir():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            raise
        finally:
            signal.signal(signal.SIGTERM, stop)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _write_backup(url: str, dest: Path) -> None:
    """:func:`backup` once ``dest`` is an empty folder of its own. The backup is recorded in
    the audit log once it is written (an operator review's failed backups were recorded as
    exports of the whole store to folders that held nothing)."""
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
        with unit_of_work(engine) as uow:
            head = uow.audit.head()
            sealed = len(stored_credentials(uow.session))
    finally:
        engine.dispose()
    name = "scheldt.db" if url.startswith("sqlite") else "scheldt.pgdump"
    copy = copy_store(url, dest / name)
    models = settings().models_dir
    versions = sorted(p.name for p in models.iterdir() if p.is_dir()) if models.is_dir() else []
    if versions:
        try:
            shutil.copytree(models, dest / "models")
        except (shutil.Error, OSError) as exc:  # a full disk gave a traceback (an operator review)
            first = exc.args[0][0] if isinstance(exc, shutil.Error) and exc.args and exc.args[0] else exc
            raise InputError(str(dest / "models"), f"the model artefacts could not be copied: {first}") from None
        for path in (dest / "models").rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
    else:  # there, empty, so that the README's restore steps copy it alike (an operator review's script failed)
        (dest / "models").mkdir()
    (dest / "models").chmod(0o700)
    made_at = wall_clock()
    (dest / "backup.json").write_text(json.dumps({
        "made_at": made_at.isoformat().replace("+00:00", "Z"), "store": copy.kind, "file": name,
        "bytes": copy.size, "sha256": copy.sha256, "revision": revision, "model_versions": versions,
        "audit_head_at_least": None if head is None else {"seq": head.seq, "entry_hash": head.entry_hash},
    }, indent=2) + "\n")
    (dest / "backup.json").chmod(0o600)
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as uow:
            audit_command(uow, "db backup", "store", str(dest), entry_kind="export", file=name, sha256=copy.sha256)
    finally:
        engine.dispose()
    typer.echo(f"backup written to {dest}: {name} ({copy.size / 1e6:,.1f} MB, sha256 {copy.sha256[:16]}...), "
               f"{len(versions)} model version(s), backup.json; audit chain up to entry "
               f"{head.seq if head else 0} at least")
    if settings().secrets_key.strip():
        typer.echo("not in it: the secrets key (SCHELDT_SECRETS_KEY); keep a copy of it apart from the backups")
    elif key_path().exists():
        typer.echo(f"not in it: the secrets key ({key_path()}); keep a copy of it apart from the backups")
    elif sealed:  # a regression review's moved key was reported as never made
        console.print(f"[yellow]warning[/yellow] the secrets key {key_path()} is missing, but {sealed} credential(s) "
                      "are sealed with it: restore it (and keep a copy apart from the backups), or see `scheldt "
                      "secrets check`", highlight=False)
    else:  # an operator review's scripted copy of a key that did not exist failed
        typer.echo(f"no secrets key yet ({key_path()} is made when a peer's or subscriber's credential is first "
                   "stored): nothing sealed to keep a key for; copy it apart from the backups once it is made")
