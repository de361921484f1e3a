"""``scheldt secrets check | new-key``: the key sealing the credentials kept at rest
(:mod:`scheldt.store.sealing`).

``check`` says which stored credentials the node's key opens: a peer's password or token, a
carrier subscription's signing secret, a DCSA Track & Trace feed's secret. ``new-key`` makes a
new key file when the old one is lost for good (the node never does it by itself while sealed
credentials are stored), then lists what must be entered again.
"""

from __future__ import annotations

from typing import Annotated

import typer

from scheldt.cli.common import audit_command, errors_reported, print_json, settings, store
from scheldt.errors import ConfigError
from scheldt.store.sealing import key_path, make_key, stored_credentials

secrets_app = typer.Typer(help="The key sealing stored credentials (peers' passwords and tokens, carriers' "
                               "subscription and DCSA feed secrets).", no_args_is_help=True)


#: What to do first when the node has no sealing key (a regression review followed a
#: subscription's mend first and the node answered 500).
NO_KEY_FIRST = ("no sealing key: restore it; if it is lost for good, make a new one first (scheldt secrets new-key), "
                "then mend each credential below")


def _report(rows: list[dict[str, str]], as_json: bool) -> None:
    where = "SCHELDT_SECRETS_KEY" if settings().secrets_key.strip() else str(key_path())
    first = NO_KEY_FIRST if any(r["status"].startswith("cannot be opened: no sealing key") for r in rows) else ""
    if as_json:
        print_json({"key": where, "credentials": rows} | ({"first": first} if first else {}))
        return
    typer.echo(f"key: {where}")
    if first:
        typer.echo(first)
    if not rows:
        typer.echo("no stored credentials")
    for r in rows:
        mend = f"  (mend: {r['to_mend']})" if r["status"].startswith("cannot") else ""
        typer.echo(f"{r['kind']:<13} {r['name']:<30} {r['status']}{mend}")


@secrets_app.command("check")
def secrets_check(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Say which stored credentials the node's key opens. Exit 1 when one cannot be opened."""
    with errors_reported(), store(existing=True) as uow:
        rows = stored_credentials(uow.session)
    _report(rows, as_json)
    if any(r["status"].startswith("cannot") for r in rows):
        raise typer.Exit(1)


@secrets_app.command("new-key")
def secrets_new_key(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Make a new key file when the old key is lost for good; the credentials sealed with the old
    one must then be entered again (listed). Refused while SCHELDT_SECRETS_KEY is set or the key
    file exists (move it away first: it may be the only key that opens them)."""
    with errors_reported():
        if settings().secrets_key.strip():
            raise ConfigError("SCHELDT_SECRETS_KEY", "is set: the key comes from there; set a new one there instead")
        try:
            path = make_key()
        except FileExistsError:
            raise ConfigError(str(key_path()), "exists: move it away first if it is really not the key "
                                               "(it may be the only one that opens the stored credentials)") from None
        with store() as uow:
            rows = stored_credentials(uow.session)
            audit_command(uow, "secrets new-key", "sealing-key", str(path),
                          to_enter_again=[r["name"] for r in rows if r["status"].startswith("cannot")])
    if not as_json:
        typer.echo(f"new key made: {path} (keep a copy apart from the database backups)")
    _report(rows, as_json)


def register(app: typer.Typer) -> None:
    """Add ``secrets`` to the command tree."""
    app.add_typer(secrets_app, name="secrets")
