"""``scheldt group create | list`` and ``scheldt misp export | import``: sharing groups and MISP."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from scheldt.cli.common import audit_command, errors_reported, now, print_json, settings, store, wall_clock
from scheldt.errors import InputError, require_file

#: Event uuids named in a MISP export's audit entry at most (the count is always recorded).
AUDITED_IDS = 1000

group_app = typer.Typer(help="Sharing groups: the organisations items are shared with.", no_args_is_help=True)
misp_app = typer.Typer(help="Shared items as MISP events, for partners that run MISP.", no_args_is_help=True)


@group_app.command("create")
def group_create(
    group_id: Annotated[str, typer.Argument(help="Short id, e.g. be-us-narcotics.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    members: Annotated[list[str] | None, typer.Option("--member", help="Member organisation id (repeatable).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owning organisation (default: this node's).")] = None,
) -> None:
    """Create a sharing group; its owner is always a member."""
    from scheldt.workflows import share  # STIX and MISP are loaded by the commands that use them

    with errors_reported(), store() as uow:
        group = share.create_group_as(uow, owner or settings().local_organisation, group_id, name, members or [], wall_clock())
        audit_command(uow, "group create", "sharing-group", group["id"], members=group["members"])
    typer.echo(f"sharing group {group['id']} created: {', '.join(group['members'])}")


@group_app.command("list")
def group_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List sharing groups and their members."""
    with errors_reported(), store(existing=True) as uow:
        groups = uow.exchange.groups()
    if as_json:
        print_json(groups)
        return
    if not groups:  # an empty list printed nothing at all (CLI review)
        typer.echo("no sharing groups yet: `scheldt group create`")
    for g in groups:
        typer.echo(f"{g['id']:<24} {g['name']}  (owner {g['owner_org']}; members {', '.join(g['members'])})")


@misp_app.command("export")
def misp_export(
    org: Annotated[str, typer.Option("--org", help="The organisation the export is for.")],
    user: Annotated[str, typer.Option("--user", help="Its user the export is for (TLP:RED goes to named users only).")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: standard output).")] = None,
) -> None:
    """Export, as MISP events, every shared item the user may see. With --out, the file is
    written in full before the export is audited, and put in place only once it is.
    """
    # (a CLI review: an unwritable path gave a traceback and an audited export that never happened;
    # a docs review read that note in --help)
    from scheldt.exchange.misp import events_json
    from scheldt.workflows import share

    partial = None if out is None else out.with_name(f".{out.name}.partial")
    try:
        with errors_reported(), store(existing=True) as uow:
            account = uow.accounts.user(user)
            if account.organisation_id != org:
                raise InputError("--user", f"{user} is not a user of {org}")
            if not account.active:  # a departing officer's RED items went out in their name (exchange review)
                raise InputError("--user", f"{user} is disabled: export for an active user of {org}")
            if out is not None and not out.parent.is_dir():
                raise InputError("--out", f"{out.parent} is not a folder")
            if out is not None and out.is_dir():
                raise InputError("--out", f"{out} is a folder: name the file to write")
            events, failed = share.export_misp(uow, uow.exchange.requester(org, user))
            text = events_json(events)
            if partial is not None:
                partial.write_text(text + "\n", encoding="utf-8")
            audit_command(uow, "misp export", "misp-events", org, entry_kind="export", user=user, events=len(events),
                          left_out=len(failed), uuids=[str(e.uuid) for e in events[:AUDITED_IDS]])
        if out is None:
            sys.stdout.write(text + "\n")
        else:
            with errors_reported():
                partial.replace(out)  # type: ignore[union-attr]
    finally:
        if partial is not None:
            try:
                partial.unlink(missing_ok=True)
            except OSError:  # its folder was never there (the error is said above)
                pass
    typer.echo(f"{len(events)} events exported" + (f", {len(failed)} items left out" if failed else ""), err=True)
    for stix_id, why in failed[:20]:
        typer.echo(f"  {stix_id}: {why}", err=True)


@misp_app.command("import")
def misp_import(
    path: Annotated[Path, typer.Argument(help="MISP JSON: an event, a list of events or a search response.")],
    org: Annotated[str, typer.Option("--org", help="The organisation the events come from.")],
    group: Annotated[str | None, typer.Option(
        "--group", help="Sharing group of AMBER events that name none (CLEAR and GREEN stay the community's).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import MISP events as STIX objects shared by ORG (watchlist entries land and are screened).

    A TLP:RED event is kept only if a recipient it names is a user of that organisation here.
    An event whose Scheldt object was deleted in MISP withdraws that item of ORG here.

    Refused events are listed, and the exit status is then 1."""
    from scheldt.workflows import share

    with errors_reported():
        require_file(path)
        with store() as uow:
            uow.accounts.organisation(org)
            received = share.import_misp(uow, path.read_bytes(), org, now(), group)
            audit_command(uow, "misp import", "misp-events", org, file=path.name, group=group,
                          added=len(received.report.added), known=len(received.report.known),
                          failed=len(received.report.failed))
    r = received.report
    if as_json:
        print_json({"added": [a[0] for a in r.added], "known": [k[0] for k in r.known], "failed": r.failed,
                    "watchlist_entries": received.entries, "alerts": received.alerts, "withdrawn": received.withdrawn})
    else:
        withdrawn = f", {len(received.withdrawn)} items withdrawn (deleted in MISP)" if received.withdrawn else ""
        typer.echo(f"{len(r.added)} objects added, {len(r.known)} already stored, {len(r.failed)} failed; "
                   f"{len(received.entries)} watchlist entries, {len(received.alerts)} alerts raised{withdrawn}")
        for where, why in r.failed[:20]:
            typer.echo(f"  {where}: {why}")
    if r.failed:  # some or all refused: a script must not take a partial import for a whole one (review)
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    """Add ``group`` and ``misp`` to the command tree."""
    root.add_typer(group_app, name="group")
    root.add_typer(misp_app, name="misp")
