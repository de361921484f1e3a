"""``scheldt watchlist load | screen``: watchlists for party screening."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from scheldt.cli.common import errors_reported, now, print_json, settings, store
from scheldt.risk.screening import DEFAULT_THRESHOLD
from scheldt.workflows.screening import load_watchlists, screen_names

app = typer.Typer(help="Watchlists (CSV, FollowTheMoney entities) and party screening.", no_args_is_help=True)
out = Console()


@app.command("load")
def load(
    paths: Annotated[list[str], typer.Argument(help="CSV (header with name; optional id, aliases, kind, address, country) or FtM JSON lines.")],
    list_name: Annotated[str | None, typer.Option(
        "--list", help="The list's name (default: the file name without its extension).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load watchlists; a list becomes what its files hold: new entries added, changed ones
    updated, and the ones no longer in its files removed (kept while a row is rejected)."""
    with errors_reported(), store() as uow:
        reports, lists = load_watchlists(uow, [Path(p) for p in paths], list_name, settings().local_organisation, now())
    if as_json:
        print_json({"files": [r.as_dict() for r in reports],
                    "lists": [{"list": c.list_name, "removed": list(c.removed), "kept": c.kept, "why_kept": c.why}
                              for c in lists]})
    else:
        for r in reports:
            out.print(f"{escape(r.path)} ({r.format}): {r.accepted} entries read, {r.added} new or changed, "
                      f"{r.rejected} rejected" + (f", skipped {r.skipped}" if r.skipped else ""))
            for rej in r.rejections[:20]:
                out.print(f"  {escape(rej.where)}: {escape(rej.why)}")
        for c in lists:
            if c.removed:
                out.print(f"list {escape(c.list_name)}: {len(c.removed)} entries no longer in its file(s) removed: "
                          + escape(", ".join(c.removed[:20])) + (", ..." if len(c.removed) > 20 else ""))
            elif c.kept:
                out.print(f"[yellow]list {escape(c.list_name)}: {c.kept} entries no longer in its file(s) kept, as "
                          f"{escape(c.why)}[/yellow]")
    if any(r.accepted == 0 for r in reports):
        raise typer.Exit(1)


@app.command("screen")
def screen(
    names: Annotated[list[str], typer.Argument(help="Party names as written on documents.")],
    threshold: Annotated[float, typer.Option("--threshold", min=0, max=100)] = DEFAULT_THRESHOLD,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Screen names against every stored watchlist entry (legal forms and scripts normalised)."""
    with errors_reported(), store(existing=True) as uow:
        results = screen_names(uow, names, threshold)
    if as_json:
        print_json({"matches": {n: [{"list": m.entry.list_name, "entry_id": m.entry.entry_id, "name": m.entry.name,
                                     "matched_name": m.matched_name, "kind": m.entry.kind, "score": m.score}
                                    for m in ms] for n, ms in results.items()}})
        return
    for n, ms in results.items():
        out.print(f"{escape(n)}: " + ("no match" if not ms else ""))
        for m in ms[:5]:
            out.print(f"  {m.score:.0f} {escape(m.matched_name)} ({escape(m.entry.list_name)} {escape(m.entry.entry_id)}, {m.entry.kind})")


def register(root: typer.Typer) -> None:
    """Add ``watchlist`` to the command tree."""
    root.add_typer(app, name="watchlist")
