"""``scheldt notices list | retry``: the node operator's view of hold, release and alert notices
to shipping lines and terminals, every subscriber's at once.

A carrier sees and re-queues its own notices through the API (``/api/v1/notices``); the
operator of the node sees what is failing for whom (the dead-letter list of every organisation)
and re-queues a notice once the receiver is mended. Both are in the audit log.
"""

from __future__ import annotations

from typing import Annotated

import typer

from scheldt.cli.common import audit_command, errors_reported, print_json, printable, store, wall_clock
from scheldt.store.notifications import LIST_LIMIT_MAX
from scheldt.workflows.notices import requeue

app = typer.Typer(help="Notices to shipping lines and terminals: list every subscriber's, re-queue a dead one.",
                  no_args_is_help=True)

_STATUS_HELP = "Only notices in this state: pending, delivered or dead (the dead-letter list)."


@app.command("list")
def notices_list(
    status: Annotated[str | None, typer.Option("--status", help=_STATUS_HELP)] = None,
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's notices.")] = None,
    limit: Annotated[int, typer.Option("--limit", help=f"At most this many, newest first (1-{LIST_LIMIT_MAX}).")] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List notices newest first with their subscriber, kind, state, tries and last error."""
    with errors_reported(), store(existing=True) as uow:
        if org is not None:  # an unknown one is an error, as with every other --org (operator review)
            uow.accounts.organisation(org)
        rows = uow.notifications.notices(org, status=status, limit=limit)
        audit_command(uow, "notices list", "notice-list", f"{len(rows)} notices", entry_kind="read",
                      status=status, organisation=org)
    if as_json:
        print_json({"items": rows})
        return
    if not rows:
        typer.echo("no notices" + (f" in state {status}" if status else "") + (f" for {org}" if org else ""))
    for n in rows:
        error = f"  last error: {printable(n['last_error'])}" if n["last_error"] else ""
        typer.echo(f"{n['id']:>6} {n['organisation_id']:<16} {n['kind']:<8} {n['status']:<9} "
                   f"tries {n['attempts']}  created {n['created_at']:%Y-%m-%d %H:%M:%S} UTC  "
                   f"subscription {n['subscription_id']}{error}")


@app.command("retry")
def notices_retry(notice: Annotated[int, typer.Argument(help="The notice's number (from `notices list`).")]) -> None:
    """Re-queue a dead notice for a new round of tries (through its organisation's active
    subscription for its kind when its own was deleted)."""
    with errors_reported(), store(existing=True) as uow:
        row = requeue(uow, notice, None, wall_clock())
        audit_command(uow, "notices retry", "notice", str(notice), organisation=row["organisation_id"],
                      notice_id=row["notice_id"], subscription=row["subscription_id"])
    typer.echo(f"notice {notice} of {row['organisation_id']} re-queued through subscription {row['subscription_id']}")


def register(root: typer.Typer) -> None:
    """Add ``notices`` to the ``scheldt`` command."""
    root.add_typer(app, name="notices")
