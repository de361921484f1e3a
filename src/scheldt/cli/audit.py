"""``scheldt audit verify | purge | head | list | search``: the tamper-evident audit log.

``verify`` exits 0 when the chain is intact and 1 when it is not, printing each problem as
``entry N: why``; errors (unreadable head file, unreachable store) exit 2 as everywhere else.
The head file defaults to ``<SCHELDT_DATA_DIR>/audit/heads.jsonl``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from scheldt.cli.common import (
    audit_command,
    console,
    errors_reported,
    os_user,
    print_json,
    require_known_local_organisation,
    settings,
    store,
    wall_clock,
)
from scheldt.domain.audit import AuditQuery
from scheldt.errors import InputError
from scheldt.store.audit import AuditEntry, AuditReport, default_head_file
from scheldt.store.db import UnitOfWork

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
            "torn_head_lines": report.torn_head_lines, "notes": report.notes}


@app.command("verify")
def verify(head_file: HeadFile = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check every entry's hash and link and the latest head written out; exit 1 on any problem."""
    path = head_file or default_head_file(settings().data_dir)
    use_head = head_file is not None or path.exists()
    with errors_reported(), store(existing=True) as uow:
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
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False, soft_wrap=True)
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
    with errors_reported(), store(existing=True) as uow:
        written = uow.audit.write_head(path, wall_clock())
    typer.echo(f"head: entry {written.seq} {written.entry_hash} written to {path}")


@app.command("purge")
def purge(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Drop payloads older than SCHELDT_AUDIT_RETENTION_DAYS for their kind; the chain still verifies.

    The purge itself is recorded as an audit entry of kind purge (kept for ever).
    """
    retention = _retention()
    at = wall_clock()
    with errors_reported(), store() as uow:
        require_known_local_organisation(uow)  # a misspelt one is recorded for good in the chain (operator review)
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
    """Entries oldest first, --limit at a time; page on with --after the seq it names at the end
    (next_after in --json: null once only listings like this one follow). The listing itself is
    recorded in the audit log (it shows who read what, from where), after the entries it read:
    paging on until a page comes back empty, or by next_after while listings counted as more
    (at --limit 1 each page adds one), never ended (regression reviews)."""
    with errors_reported(), store(existing=True) as uow:
        entries = uow.audit.entries(after, limit, organisation)
        more = bool(entries) and _more_than_listings(uow, entries[-1].seq, organisation)
        audit_command(uow, "audit list", "audit", "", entry_kind="read", after=after, limit=limit,
                      organisation=organisation, found=len(entries))
    next_after = entries[-1].seq if more else None
    if as_json:
        print_json({"entries": [e.as_dict() for e in entries], "next_after": next_after})
        return
    for e in entries:
        typer.echo(f"{e.seq:>8} {e.at:%Y-%m-%d %H:%M:%S}Z {e.kind:<14} {e.organisation_id or '-':<16} {_what(e)}")
    if next_after is not None:
        typer.echo(f"more: go on with --after {next_after}")


def _a_listing(entry: AuditEntry) -> bool:
    """Whether ``entry`` records an ``audit list`` (its payload kept)."""
    return isinstance(entry.payload, dict) and entry.payload.get("action") == "scheldt audit list"


def _more_than_listings(uow: UnitOfWork, after: int, organisation: str | None) -> bool:
    """Whether an entry other than an ``audit list`` comes after seq ``after`` (of
    ``organisation`` when given), however many listings come first (a regression review's
    1,001 listings hid the entry after them)."""
    while batch := uow.audit.entries(after, 1000, organisation):
        if not all(_a_listing(e) for e in batch):
            return True
        after = batch[-1].seq
    return False


def parse_when(text: str | None, option: str) -> datetime | None:
    """A date (YYYY-MM-DD: its start, UTC) or an ISO 8601 time (UTC when it names no zone).
    Raises InputError naming ``option``."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(option, f"{text[:40]!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


@app.command("search")
def search(
    actor: Annotated[str, typer.Option("--actor", help="Entries by this user (exact).")] = "",
    text: Annotated[str, typer.Option("--text", help="Entries whose action, object or details mention this "
                                                     "(a container number, a trip id, a party name; any case).")] = "",
    kind: Annotated[str, typer.Option("--kind", help="read, write, denied, sign-in, sign-in-failed, ...")] = "",
    credential: Annotated[str, typer.Option("--credential", help="Entries of requests signed in with this "
                                                                 "credential: 'token 17' (see scheldt token list), "
                                                                 "'session 42', 'password'.")] = "",
    organisation: Annotated[str, typer.Option("--organisation")] = "",
    since: Annotated[str | None, typer.Option("--since", help="From this date or time (UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Before this date or time (UTC).")] = None,
    after: Annotated[int, typer.Option("--after", min=0, help="Go on after this seq (printed at the end).")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer "who read container X last week", "what did user U do" or "what did this token do":
    entries matching every filter given, oldest first. The search itself is recorded in the audit log."""
    with errors_reported(), store(existing=True) as uow:
        try:
            query = AuditQuery(kind, organisation, parse_when(since, "--since"), parse_when(until, "--until"), actor,
                               text, credential)
        except ValueError as exc:
            raise InputError("audit search", str(exc)) from None
        entries, next_after = uow.audit.search(query, after, limit)
        audit_command(uow, "audit search", "audit", "", entry_kind="read", actor=actor, text=text,
                      credential=credential, kind=kind,
                      organisation=organisation, since=since, until=until, found=len(entries))
    if as_json:
        print_json({"entries": [e.as_dict() for e in entries], "next_after": next_after})
        return
    for e in entries:
        typer.echo(f"{e.seq:>8} {e.at:%Y-%m-%d %H:%M:%S}Z {e.kind:<14} {e.organisation_id or '-':<16} {_what(e)}")
    if next_after is not None:
        typer.echo(f"more may match: go on with --after {next_after}")
    elif not entries:
        typer.echo("no entry matches")


def _what(entry: AuditEntry) -> str:
    """Who did what to which object from where, on one line."""
    p = entry.payload
    if p is None:
        return f"(payload purged {entry.purged_at:%Y-%m-%d})" if entry.purged_at else "(no payload)"
    text = (f"{p.get('actor', '?')} {p.get('action', '')} {p.get('object_kind', '')} {p.get('object_id', '')} "
            f"from {p.get('remote_addr', '?')}" + (f" ({p['credential']})" if p.get("credential") else ""))
    return " ".join(str(text).split())


def register(root: typer.Typer) -> None:
    """Add ``audit`` to the command tree."""
    root.add_typer(app, name="audit")
