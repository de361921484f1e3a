"""``scheldt feeds list | stop``: the node operator's view of the DCSA Track & Trace 2.2 feeds
shipping lines and terminals made (:mod:`scheldt.workflows.tnt_feeds`), every organisation's at
once.

A line makes, lists and deletes its own feeds through the API (``/api/v1/dcsa/tnt/v2/feeds``);
the operator sees which are live for whom, and stops one at once when its secret may have
leaked (the line then makes a new one and subscribes it at its publisher). Both are in the
audit log; secrets are never shown.
"""

from __future__ import annotations

from typing import Annotated

import typer

from scheldt.cli.common import audit_command, errors_reported, print_json, store, wall_clock
from scheldt.workflows import tnt_feeds

app = typer.Typer(help="DCSA Track & Trace 2.2 feeds of shipping lines and terminals: list them, stop one.",
                  no_args_is_help=True)


@app.command("list")
def feeds_list(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's feeds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List feeds oldest first: id, organisation, the user its callbacks act as, when made, and
    whether it is live (or why it is stopped)."""
    with errors_reported(), store(existing=True) as uow:
        if org is not None:  # an unknown one is an error, as with every other --org
            uow.accounts.organisation(org)
        rows = tnt_feeds.feeds(uow, None, org)
        audit_command(uow, "feeds list", "tnt-feed-list", f"{len(rows)} feeds", entry_kind="read", organisation=org)
    if as_json:
        print_json({"items": rows})
        return
    if not rows:
        typer.echo("no feeds" + (f" of {org}" if org else ""))
    for f in rows:
        state = "live" if f["active"] else f"stopped ({f['stopped']})"
        typer.echo(f"{f['id']}  {f['organisation_id']:<16} {f['username']:<16} "
                   f"made {f['created_at']:%Y-%m-%d %H:%M:%S} UTC  {state}")


@app.command("stop")
def feeds_stop(feed: Annotated[str, typer.Argument(help="The feed's id (from `feeds list`).")]) -> None:
    """Stop a feed (its callbacks are refused from now on), whatever organisation's it is."""
    with errors_reported(), store(existing=True) as uow:
        row = tnt_feeds.delete_feed(uow, None, feed, wall_clock())
        audit_command(uow, "feeds stop", "tnt-feed", row["id"], organisation=row["organisation_id"], action="delete")
    typer.echo(f"feed {row['id']} of {row['organisation_id']} stopped: its callbacks are refused from now on")


def register(root: typer.Typer) -> None:
    """Add ``feeds`` to the ``scheldt`` command."""
    root.add_typer(app, name="feeds")
