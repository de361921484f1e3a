"""``scheldt peer add | credential | relays | list | remove | pull | allow | disallow``: federation
between nodes.

``add`` registers a partner node (or any TAXII 2.1 server) this node pulls from, ``credential``
replaces the password or token it signs in there with (kept sealed: :mod:`scheldt.store.sealing`);
``allow`` lets a user of a partner organisation pull from this node as that organisation's
node (it then receives TLP:RED items naming any user of its organisation, to deliver to them).
``scheldt serve`` pulls every peer every ``SCHELDT_FEDERATION_PULL_EVERY_S`` seconds; ``pull``
does it now. See :mod:`scheldt.exchange.federation`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from scheldt.cli.common import audit_command, errors_reported, print_json, printable, settings, store, wall_clock
from scheldt.errors import InputError
from scheldt.store.db import open_store, unit_of_work

peer_app = typer.Typer(help="Federation peers: partner nodes this node pulls shared objects from.",
                       no_args_is_help=True)


def _secret(option: str) -> str:
    value = sys.stdin.readline().rstrip("\n")
    if not value:
        raise InputError(option, "nothing on standard input")
    return value


@peer_app.command("add")
def peer_add(
    name: Annotated[str, typer.Argument(help="Short name, e.g. us-node.")],
    url: Annotated[str, typer.Argument(help="The peer's TAXII 2.1 API root (or discovery) URL.")],
    org: Annotated[str, typer.Option("--org", help="Organisation its objects are attributed to here.")],
    user: Annotated[str, typer.Option("--user", help="Username this node signs in with there.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin "
                                                 "(HTTP Basic).")] = False,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read an API token from stdin (Bearer).")] = False,
    group: Annotated[str | None, typer.Option("--group", help="Local sharing group of its objects that name "
                                              "none (needed for servers other than Scheldt).")] = None,
    relays: Annotated[list[str] | None, typer.Option("--relays", help="Another organisation whose objects it may "
                                                     "relay (repeat for more); others' are refused.")] = None,
) -> None:
    """Register a peer; its credential is kept to sign in there (use a dedicated account)."""
    from scheldt.exchange.federation import add_peer

    with errors_reported():
        kind, secret = _credential(password_stdin, token_stdin)
        with store() as uow:
            peer = add_peer(uow, name, url, org, user, kind, secret, group, wall_clock(), relays or ())
            audit_command(uow, "peer add", "peer", peer.name, url=peer.api_root, organisation=org, user=user,
                          credential=kind, relays_for=list(peer.relays_for))
    also = f"; relays for {', '.join(peer.relays_for)}" if peer.relays_for else ""
    typer.echo(f"peer {peer.name} added: {peer.api_root} as {user} ({kind}); objects attributed to {org}{also}")


def _credential(password_stdin: bool, token_stdin: bool) -> tuple[str, str]:
    """(kind, secret) from standard input. Raises InputError unless exactly one option is given."""
    if password_stdin == token_stdin:
        raise InputError("credential", "give exactly one of --password-stdin and --token-stdin")
    kind, option = ("password", "--password-stdin") if password_stdin else ("token", "--token-stdin")
    return kind, _secret(option)


@peer_app.command("credential")
def peer_credential(
    name: Annotated[str, typer.Argument(help="The peer.")],
    user: Annotated[str, typer.Option("--user", help="Username this node signs in with there.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin "
                                                 "(HTTP Basic).")] = False,
    token_stdin: Annotated[bool, typer.Option("--token-stdin", help="Read an API token from stdin (Bearer).")] = False,
) -> None:
    """Replace the credential this node signs in with at a peer (a new password or token); what
    was pulled from it and where its pull stands are kept."""
    from scheldt.exchange.federation import set_credential

    with errors_reported():
        kind, secret = _credential(password_stdin, token_stdin)
        with store() as uow:
            peer = set_credential(uow, name, user, kind, secret)
            audit_command(uow, "peer credential", "peer", peer.name, user=user, credential=kind)
    typer.echo(f"peer {peer.name}: signs in as {user} ({kind}) from now on")


@peer_app.command("relays")
def peer_relays(
    name: Annotated[str, typer.Argument(help="The peer.")],
    orgs: Annotated[list[str] | None, typer.Argument(help="Organisations whose objects it may relay (none: only "
                                                     "its own organisation's are taken).")] = None,
) -> None:
    """Set the other organisations whose objects a peer may relay. Adding one makes its next
    pull start over, so the objects refused until now arrive."""
    from scheldt.exchange.federation import set_relays

    with errors_reported(), store() as uow:
        peer = set_relays(uow, name, orgs or [])
        audit_command(uow, "peer relays", "peer", peer.name, relays_for=list(peer.relays_for))
    relays = ", ".join(peer.relays_for) or f"no other organisation (only {peer.organisation_id}'s objects)"
    typer.echo(f"peer {peer.name} relays for {relays}")


@peer_app.command("list")
def peer_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List peers, when each was last pulled and the last error (no secrets)."""
    with errors_reported(), store(existing=True) as uow:
        peers = [p.as_dict() | {"unknown_groups": uow.exchange.unknown_groups(f"peer:{p.name}")} for p in uow.peers.all()]
        accounts = uow.taxii.node_accounts()
    if as_json:
        print_json({"peers": peers, "node_accounts": accounts})
        return
    if not peers:  # an empty list printed nothing (CLI review)
        typer.echo("no peers yet: `scheldt peer add`")
    for p in peers:
        last = p["last_pull_at"].strftime("%Y-%m-%d %H:%M:%S UTC") if p["last_pull_at"] else "never"
        # a failing pull is said first: its time is of the last try, not of data received (operator review)
        since = p["failing_since"].strftime(" (failing since %Y-%m-%d %H:%M:%S UTC)") if p["failing_since"] else ""
        pulled = (f"last pull FAILED at {last}{since}: {printable(p['last_error'])}" if p["last_error"]
                  else f"last pull {last}")
        relays = f"  relays for {', '.join(p['relays_for'])}" if p["relays_for"] else ""
        typer.echo(f"{p['name']:<16} {p['api_root']}  org {p['organisation_id']}{relays}  {pulled}")
        _say_unknown_groups(p["unknown_groups"])
    for a in accounts:
        typer.echo(f"node account {a['username']} ({a['organisation_id']}) may pull from this node")


def _say_unknown_groups(groups: dict[str, int]) -> None:
    """Warn of pulled objects in sharing groups this node does not define (no one here reads them)."""
    for group, n in groups.items():
        typer.echo(f"  WARNING: {n} object version(s) in sharing group {group!r}, not defined on this node: no one "
                   f"here reads them until it is created with the same members (scheldt group create {group} ...)")


@peer_app.command("remove")
def peer_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Stop pulling a peer (what it gave stays)."""
    with errors_reported(), store() as uow:
        uow.peers.remove(name)
        audit_command(uow, "peer remove", "peer", name)
    typer.echo(f"peer {name} removed")


@peer_app.command("pull")
def peer_pull(
    name: Annotated[str | None, typer.Argument(help="Only this peer (default: every peer).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Pull now (what `scheldt serve` does every SCHELDT_FEDERATION_PULL_EVERY_S seconds)."""
    from scheldt.exchange.federation import pull_all

    with errors_reported():
        engine = open_store(settings().resolved_database_url)
        try:
            result = pull_all(lambda: unit_of_work(engine), name)
        finally:
            engine.dispose()
    if as_json:
        print_json(result)
    else:
        for p in result["peers"]:
            counts = ", ".join(f"{c['collection']}: +{c['added']} ({c['known']} known, {c['failed']} refused, "
                               f"{c['deleted']} deleted)" for c in p["collections"]) or "no collections"
            typer.echo(f"{p['peer']}: {counts}" + (f"  error: {printable(p['error'])}" if p["error"] else ""))
            _say_unknown_groups(p.get("unknown_groups") or {})
    if result["failed_peers"]:
        raise typer.Exit(1)


@peer_app.command("allow")
def peer_allow(username: Annotated[str, typer.Argument(help="A user of a partner agency.")]) -> None:
    """Let USERNAME pull from this node as its organisation's node (TLP:RED items naming any user
    of its organisation are then handed to it, for those users only)."""
    with errors_reported(), store() as uow:
        user = uow.accounts.user(username)
        org = uow.accounts.organisation(user.organisation_id)
        if org.kind.value != "agency":
            raise InputError("node account", f"{username} is of {org.id}, a {org.kind.value}: only agencies run nodes")
        if org.id == settings().local_organisation:  # it would be handed RED items naming any local user (CLI review)
            raise InputError("node account", f"{username} is of {org.id}, this node's own agency: a node account is "
                             "a partner agency's")
        uow.taxii.add_node_account(username, org.id, wall_clock())
        audit_command(uow, "peer allow", "node-account", username, organisation=org.id)
    typer.echo(f"{username} ({org.id}) may pull from this node as {org.id}'s node")


@peer_app.command("disallow")
def peer_disallow(username: Annotated[str, typer.Argument()]) -> None:
    """Stop USERNAME pulling as a node (it keeps its ordinary access)."""
    with errors_reported(), store() as uow:
        uow.taxii.remove_node_account(username)
        audit_command(uow, "peer disallow", "node-account", username)
    typer.echo(f"{username} no longer pulls as a node")


def register(app: typer.Typer) -> None:
    """Add ``scheldt peer`` to ``app``."""
    app.add_typer(peer_app, name="peer")
