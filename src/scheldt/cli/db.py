"""``scheldt db``: schema migrations of the store."""

from __future__ import annotations

import typer

from scheldt.cli.common import errors_reported, settings
from scheldt.store.db import current_revision, head_revision, make_engine, upgrade as run_upgrade

app = typer.Typer(help="The store's schema: upgrade, current revision.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration to the configured store (SQLite or PostgreSQL)."""
    with errors_reported():
        engine = make_engine(settings().resolved_database_url)
        before = current_revision(engine)
        run_upgrade(engine)
        typer.echo(f"store at revision {head_revision()} (was {before or 'empty'})")
        engine.dispose()


@app.command()
def current() -> None:
    """Print the store's migration revision and the newest one this code ships."""
    with errors_reported():
        engine = make_engine(settings().resolved_database_url)
        typer.echo(f"store: {current_revision(engine) or 'empty'}; code: {head_revision()}")
        engine.dispose()
