"""The ``scheldt`` command line: thin commands that open the store, call one workflow, print.

Command tree (later issues extend it)::

    scheldt ingest PATH... | ingest outcomes PATH...
    scheldt train | score | target | evaluate
    scheldt container NUMBER
    scheldt profile validate | activate | rollback | list | indicators
    scheldt trips score | queue | history NUMBER
    scheldt watchlist load FILE... | screen NAME...
    scheldt simulate --out DIR | replay DIR
    scheldt db upgrade | db current
    scheldt audit verify | head | purge | list
    scheldt jobs run KIND | list | show ID
    scheldt org create | list;  user create;  token create;  scanner add
    scheldt serve [--host H] [--port P] [--workers N]
    scheldt group create | list;  misp export | import
    scheldt peer add | credential | relays | list | remove | pull | allow | disallow
    scheldt notices list | retry;  feeds list | stop
    scheldt secrets check | new-key
"""

from __future__ import annotations

import typer
from rich.markup import escape

from scheldt.cli import (
    audit,
    container,
    db,
    feeds,
    ingest,
    jobs,
    model,
    notices,
    peers,
    profiles,
    secrets,
    service,
    simulate,
    targeting,
    watchlist,
)
from scheldt.cli import exchange as exchange_cli

app = typer.Typer(
    help="Scheldt: container and declaration targeting for customs, police and shipping lines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest.register(app)
model.register(app)
targeting.register(app)
container.register(app)
profiles.register(app)
watchlist.register(app)
simulate.register(app)
audit.register(app)
jobs.register(app)
service.register(app)
exchange_cli.register(app)
peers.register(app)
notices.register(app)
feeds.register(app)
secrets.register(app)
app.add_typer(db.app, name="db")


def main() -> None:
    """Entry point of the ``scheldt`` script. A setting that cannot be read (a ConfigError
    raised where a command reads its settings outside its own error reporting) is one line on
    stderr and exit status 2, as for every wrong option, never a traceback: ``audit verify``
    exits 1 only for a broken chain."""
    from scheldt.cli.common import console
    from scheldt.errors import ConfigError

    try:
        app(standalone_mode=True)
    except ConfigError as exc:
        console.print(f"[red]error[/red] {escape(exc.where)}: {escape(exc.why)}", highlight=False)
        raise SystemExit(2) from None
