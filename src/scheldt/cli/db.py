"""``scheldt db``: schema migrations of the store."""

from __future__ import annotations

import typer

from scheldt.cli.common import errors_reported, settings
from scheldt.store.container_trips import TripFilter
from scheldt.store.db import current_revision, head_revision, make_engine, unit_of_work, upgrade as run_upgrade
from scheldt.workflows.trip_scoring import reindex_trips, resummarise_trips

#: The first revision whose container-trip index records when a box left the port: trips
#: indexed before it are summarised again from their stored facts on upgrade.
_LEFT_AT_REVISION = "0020"

app = typer.Typer(help="The store's schema: upgrade, current revision.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration to the configured store (SQLite or PostgreSQL)."""
    with errors_reported():
        engine = make_engine(settings().resolved_database_url)
        before = current_revision(engine)
        run_upgrade(engine)
        typer.echo(f"store at revision {head_revision()} (was {before or 'empty'})")
        with unit_of_work(engine) as uow:
            if uow.container_trips.count(None, TripFilter()) == 0 and uow.trip_assessments.any():
                typer.echo(f"container-trip index built from {reindex_trips(uow)} trips' latest assessments")
            elif before is not None and before < _LEFT_AT_REVISION:
                typer.echo(f"container-trip index: {resummarise_trips(uow)} trips summarised again from their facts")
        engine.dispose()


@app.command()
def current() -> None:
    """Print the store's migration revision and the newest one this code ships."""
    with errors_reported():
        engine = make_engine(settings().resolved_database_url)
        typer.echo(f"store: {current_revision(engine) or 'empty'}; code: {head_revision()}")
        engine.dispose()
