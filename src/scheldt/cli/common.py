"""What every command shares: settings, the store, the clock, error reporting."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from scheldt.errors import ScheldtError
from scheldt.settings import Settings, get_settings
from scheldt.store.db import UnitOfWork, open_store, unit_of_work

console = Console(stderr=True)


def settings() -> Settings:
    """The settings of this process."""
    return get_settings()


def now() -> datetime:
    """The current UTC time, unless ``SCHELDT_NOW`` pins it (replays, reproducible demos)."""
    pinned = settings().now
    if pinned is not None:
        return pinned if pinned.tzinfo else pinned.replace(tzinfo=UTC)
    return datetime.now(UTC)


@contextmanager
def store() -> Iterator[UnitOfWork]:
    """A unit of work on the configured store; committed when the command succeeds."""
    engine = open_store(settings().resolved_database_url)
    try:
        with unit_of_work(engine) as uow:
            yield uow
    finally:
        engine.dispose()


@contextmanager
def errors_reported() -> Iterator[None]:
    """Turn a ScheldtError into one clear line on stderr and exit status 2."""
    try:
        yield
    except ScheldtError as exc:
        console.print(f"[red]error[/red] {escape(exc.where)}: {escape(exc.why)}", highlight=False)
        raise typer.Exit(2) from None


def print_json(data: Any) -> None:
    """Write ``data`` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
