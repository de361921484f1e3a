"""What every command shares: settings, the store, the clock, error reporting."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from scheldt.errors import ConfigError, ScheldtError
from scheldt.settings import Settings, get_settings
from scheldt.store.db import DatabaseRefused, UnitOfWork, is_statement_error, open_store, sqlite_path, unit_of_work
from scheldt.workflows.accounts import require_local_organisation, unknown_local_organisation

#: Errors, warnings and notes: one line each, never broken inside a word or a path (the terminal
#: wraps them), so a path can be copied from them and a log line holds the whole message.
console = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    """The settings of this process."""
    return get_settings()


def now() -> datetime:
    """The current UTC time, unless ``SCHELDT_NOW`` pins it (replays, reproducible demos)."""
    pinned = settings().now
    if pinned is not None:
        return pinned if pinned.tzinfo else pinned.replace(tzinfo=UTC)
    return datetime.now(UTC)


def wall_clock() -> datetime:
    """The real current UTC time, whatever ``SCHELDT_NOW`` says: for the node's own records
    (audit entries, heads and the purge cut-off; when accounts, tokens, groups and peers are
    made and expire). An operator review found a leftover replay clock dating audit entries in
    2028, purging minutes-old payloads, and issuing a token that had expired in 2021."""
    return datetime.now(UTC)


@contextmanager
def store(existing: bool = False) -> Iterator[UnitOfWork]:
    """A unit of work on the configured store; committed when the command succeeds. A SQLite
    store that does not exist yet is created, and a note on stderr says where: an operator who
    mistyped ``SCHELDT_DATA_DIR`` otherwise read empty lists from a store made on the spot
    (operator review). With ``existing`` (commands that check or read what is stored), a
    missing SQLite store is a ConfigError and nothing is created: a cron job's `audit verify`
    on a mistyped folder called a new empty chain intact (docs review)."""
    url = existing_store_url() if existing else settings().resolved_database_url
    new_file = missing_sqlite_file(url)
    engine = open_store(url)
    say_created(new_file)
    try:
        with unit_of_work(engine) as uow:
            yield uow
    finally:
        engine.dispose()


def printable(text: str) -> str:
    """``text`` with every character that is not printable (control characters, the ESC of a
    terminal escape sequence, carriage returns) as ``?``: for what another party wrote, shown on
    an operator's terminal (a regression review's carrier callback answered a screen-clear and a
    window title, which `notices list` printed as they came)."""
    return "".join(c if c.isprintable() else "?" for c in text)


def say_created(new_file: Path | None) -> None:
    """Note on stderr that a SQLite store was made at ``new_file`` (None: it existed)."""
    if new_file is not None:
        console.print(f"note: no store at {escape(str(new_file))} yet: created an empty one "
                      "(set SCHELDT_DATA_DIR or SCHELDT_DATABASE_URL for another store)", highlight=False)


def existing_store_url() -> str:
    """The configured store's URL. Raises ConfigError when it is a SQLite file that does not
    exist (for commands that only read or check: see :func:`store`)."""
    return existing_store_url_for("nothing to read or check")


def existing_store_url_for(what: str) -> str:
    """:func:`existing_store_url`, the refusal saying ``what`` a missing store means."""
    url = settings().resolved_database_url
    missing = missing_sqlite_file(url)
    if missing is not None:  # named by the setting that names the file (an operator review's URL was blamed on the dir)
        setting = "SCHELDT_DATABASE_URL" if settings().database_url else "SCHELDT_DATA_DIR"
        refuse_a_file_as_folder(missing)  # an operator review was told "no store"
        raise ConfigError(setting, f"no store at {missing}: {what} (set SCHELDT_DATA_DIR or "
                          "SCHELDT_DATABASE_URL to the store's; nothing was created)")
    return url


def refuse_a_file_as_folder(missing: Path) -> None:
    """Raise ConfigError, naming the setting, when the folder of the missing SQLite store file
    ``missing`` is a file (``SCHELDT_DATA_DIR`` set to one: reviews were told "no store at
    .../scheldt.db/scheldt.db" or "File exists")."""
    if missing.parent.exists() and not missing.parent.is_dir():
        setting = "SCHELDT_DATABASE_URL" if settings().database_url else "SCHELDT_DATA_DIR"
        raise ConfigError(setting, f"{missing.parent} is a file, not a folder")


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url`` when it does not exist yet, else None."""
    path = sqlite_path(url)
    return None if path is None or path.exists() else path


@contextmanager
def errors_reported() -> Iterator[None]:
    """Turn a ScheldtError, an OSError about a named file or folder (one that cannot be
    created, read or written), or a statement the database refused, into one clear line on
    stderr and exit status 2 (a CLI review got tracebacks for an ``--out`` folder under a file)."""
    try:
        yield
    except ScheldtError as exc:
        console.print(f"[red]error[/red] {escape(exc.where)}: {escape(exc.why)}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as exc:
        if exc.filename is None:
            raise
        console.print(f"[red]error[/red] {escape(str(exc.filename))}: {escape(exc.strerror or str(exc))}",
                      highlight=False)
        raise typer.Exit(2) from None
    except DatabaseRefused as exc:  # a read-only store, say (a regression review got a traceback); a statement
        # the code got wrong (a ProgrammingError, a constraint, SQLite's "no such column") is a bug: its traceback stays
        if is_statement_error(exc):
            raise
        said = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        console.print(f"[red]error[/red] store: the database refused: {escape(said[:300])}", highlight=False)
        raise typer.Exit(2) from None


def print_json(data: Any) -> None:
    """Write ``data`` as one JSON document on stdout; times as ISO 8601 in UTC whatever the
    store (SQLite hands back times without their zone, PostgreSQL with it)."""
    sys.stdout.write(json.dumps(data, indent=2, default=_json_value) + "\n")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def require_known_local_organisation(uow: UnitOfWork) -> None:
    """Raise ConfigError when ``SCHELDT_LOCAL_ORGANISATION`` names no organisation of the store
    (an operator review's misspelt ``be-custom`` loaded and re-scored trips no one could read);
    on a store without organisations yet, warn on stderr whom what follows is recorded as by (a
    PostgreSQL operator's misspelt name loaded a day's documents without a word, and the same
    day again once the organisation was made)."""
    local = settings().local_organisation
    require_local_organisation(uow, local)
    if not uow.accounts.organisations():
        console.print(f"[yellow]warning[/yellow] this store has no organisations yet: what follows is recorded as "
                      f"by {escape(local)!r} (SCHELDT_LOCAL_ORGANISATION), and its users see it once `scheldt org "
                      f"create {escape(local)} ...` makes it.", highlight=False)


def warn_unknown_local_organisation(
        uow: UnitOfWork, what: str = "what is loaded is recorded as supplied by it, and no user sees it",
        logger: logging.Logger | None = None) -> None:
    """Warn on stderr when ``SCHELDT_LOCAL_ORGANISATION`` names no organisation of the store,
    saying ``what`` follows (see :func:`require_known_local_organisation`; ``serve`` starts
    anyway, and commands that change accounts go on: an operator review's misspelt
    ``be-custom`` was recorded in the audit log without a word). ``logger``: say it as a log
    line of the service's format instead (``scheldt serve``: an operator review's log readers
    missed the one bare line)."""
    local = settings().local_organisation
    shown = unknown_local_organisation(uow, local)
    if shown is None:
        return
    said = (f"SCHELDT_LOCAL_ORGANISATION is {local!r}, which is not an organisation of this store ({shown}): "
            f"{what}. Set SCHELDT_LOCAL_ORGANISATION to this node's agency.")
    if logger is not None:
        logger.warning("%s", said)
    else:
        console.print(f"[yellow]warning[/yellow] {escape(said)}", highlight=False)


def os_user() -> str:
    """The operating-system user running this command, from the process's effective uid (not
    LOGNAME or USER, which anyone sets: an oversight review wrote ``LOGNAME=officer`` and the
    audit log named officer); for root run through sudo, also who ran sudo."""
    import os
    import pwd

    try:
        name = pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no passwd entry (containers)
        name = f"uid {os.geteuid()}"
    sudo = os.environ.get("SUDO_USER", "")
    return f"{name} (sudo from {sudo[:32]})" if os.geteuid() == 0 and sudo else name


def audit_command(uow: UnitOfWork, command: str, object_kind: str, object_id: str, entry_kind: str = "write",
                  **details: Any) -> None:
    """Append an entry of ``entry_kind`` (``write`` unless said; ``export`` for items handed out in a
    file) for a command that changed who may do what or what scores trips (organisations, users,
    tokens, scanners, profile and model switches, sharing groups, peers), that disclosed shared
    items or that read data (``read``: a user list, a container's timeline), to the audit log,
    in the command's own unit of work (so it is recorded only if the change is): actor the
    operating-system user, organisation ``SCHELDT_LOCAL_ORGANISATION``,
    action ``scheldt <command>``, remote address ``local``. Secrets are never passed here."""
    from scheldt.store.audit import audit_payload

    if object_kind != "organisation":  # organisations are made first, the local agency among them
        warn_unknown_local_organisation(uow, "this command is recorded in the audit log as by it")
    uow.audit.append(entry_kind, settings().local_organisation[:64], audit_payload(
        os_user(), settings().local_organisation, f"scheldt {command}", object_kind, object_id, "local",
        details), wall_clock())
