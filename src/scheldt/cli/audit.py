"""``scheldt audit verify | purge | head | list``: the tamper-evident audit log.

``verify`` exits 0 when the chain is intact and 1 when it is not, printing each problem as
``entry N: why``; errors (unreadable head file, unreachable store) exit 2 as everywhere else.
The head file defaults to ``<SCHELDT_DATA_DIR>/audit/heads.jsonl``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scheldt.cli.common import console, errors_reported, os_user, print_json, settings, store, wall_clock
from scheldt.store.audit import AuditEntry, AuditReport, default_head_file

app = typer.Typer(help="The audit log: verify its hash chain, write its head out, purge old payloads, list it.",
                  no_args_is_help=True)

HeadFile = Annotated[Path | None, typer.Option("--head-file", help="Heads file (default: <SCHELDT_DATA_DIR>/audit/heads.jsonl).")]


def _retention() -> dict[str, timedelta]:
    """SCHELDT_AUDIT_RETENTION_DAYS as kind -> timedelta."""
    return {kind: timedelta(days=days) for kind, days in settings().audit_retention_days.items()}


def _report_dict(report: AuditReport) -> dict[str, object]:
    head = report.head
    return {"ok": report.ok, "checked": report.checked, "last_seq": report.last_seq, "purged": report.purged,
            "head": None if head is None else {"seq": head.seq, "entry_hash": head.entry_hash, "at": head.at.isoformat()},
            "problem_count": report.problem_count,
            "problems": [{"seq": p.seq, "why": p.why} for p in report.problems],
            "torn_head_lines": report.torn_head_lines}


@app.command("verify")
def verify(head_file: HeadFile = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every entry's hash and link and the latest head written out; exit 1 on any problem."""
    path = head_file or default_head_file(settings().data_dir)
    use_head = head_file is not None or path.exists()
    with errors_reported(), store() as uow:
        report = uow.audit.verify(path if use_head else None, retention=_retention())
    if as_json:
        print_json(_report_dict(report))
    else:
        for problem in report.problems:
            typer.echo(str(problem))
        if report.problem_count > len(report.problems):
            typer.echo(f"... and {report.problem_count - len(report.problems)} more problems")
        state = "intact" if report.ok else f"NOT intact: {report.problem_count} problem(s)"
        head = f"; head written out at {report.head.at.isoformat()} is entry {report.head.seq}" if report.head else ""
        typer.echo(f"{report.checked} entries checked ({report.purged} purged), last entry {report.last_seq}{head}: "
                   f"chain {state}")
    for where in report.torn_head_lines:
        console.print(f"[yellow]warning[/yellow] {escape(where)}: a head line cut short (a crash or a full disk while "
                      "it was written): skipped", highlight=False, soft_wrap=True)
    if not use_head:
        console.print(f"no head written out yet at {path}: removal of the newest entries cannot be detected "
                      "(run `scheldt audit head` periodically)", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("head")
def head(head_file: HeadFile = None) -> None:
    """Write the chain head (newest entry's seq and hash) out to the heads file now, fsynced."""
    path = head_file or default_head_file(settings().data_dir)
    with errors_reported(), store() as uow:
        written = uow.audit.write_head(path, wall_clock())
    typer.echo(f"head: entry {written.seq} {written.entry_hash} written to {path}")


@app.command("purge")
def purge(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Drop payloads older than SCHELDT_AUDIT_RETENTION_DAYS for their kind; the chain still verifies.

    The purge itself is recorded as an audit entry of kind ``purge`` (kept for ever).
    """
    retention = _retention()
    at = wall_clock()
    with errors_reported(), store() as uow:
        purged, seq = uow.audit.purge(retention, at, os_user(), settings().local_organisation,
                                      "scheldt audit purge")
    if as_json:
        print_json({"purged": purged, "recorded_as": seq})
        return
    kept = ", ".join(f"{kind} {days} days" for kind, days in sorted(settings().audit_retention_days.items()))
    typer.echo(f"purged the payload of {purged} entries (retention: {kept}); recorded as entry {seq}")


@app.command("list")
def list_entries(
    after: Annotated[int, typer.Option("--after", min=0, help="Show entries after this seq.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    organisation: Annotated[str | None, typer.Option("--organisation", help="Only this organisation's entries.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Entries oldest first, ``--limit`` at a time; page on with ``--after`` the last seq shown."""
    with errors_reported(), store() as uow:
        entries = uow.audit.entries(after, limit, organisation)
    if as_json:
        print_json({"entries": [e.as_dict() for e in entries]})
        return
    for e in entries:
        typer.echo(f"{e.seq:>8} {e.at:%Y-%m-%d %H:%M:%S} {e.kind:<14} {e.organisation_id or '-':<16} {_what(e)}")


def _what(entry: AuditEntry) -> str:
    """Who did what to which object from where, on one line."""
    p = entry.payload
    if p is None:
        return f"(payload purged {entry.purged_at:%Y-%m-%d})" if entry.purged_at else "(no payload)"
    text = (f"{p.get('actor', '?')} {p.get('action', '')} {p.get('object_kind', '')} {p.get('object_id', '')} "
            f"from {p.get('remote_addr', '?')}")
    return " ".join(str(text).split())


def register(root: typer.Typer) -> None:
    """Add ``audit`` to the command tree."""
    root.add_typer(app, name="audit")
