"""``scheldt target``: today's inspection list within capacity, with reasons."""

from __future__ import annotations

import csv
import secrets
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scheldt.cli.common import console, errors_reported, print_json, settings, store
from scheldt.cli.model import Target, TargetOpt
from scheldt.errors import InputError
from scheldt.workflows.targeting import InspectionList, inspection_list


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _day(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InputError("--date", f"{text!r} is not a date like 2021-04-01") from None


def target(
    capacity: Annotated[str, typer.Option("--capacity", help="Inspections available: a share like 5% (floor of N x 5/100, at least 1) or a count like 120.")] = "5%",
    exploration: Annotated[float, typer.Option("--exploration", help="Share of the capacity drawn at random from what risk did not pick, rounded half up: 0.05 of 100 slots = 5 random + 95 risk picks.")] = 0.05,
    date: Annotated[str | None, typer.Option("--date", help="Only declarations filed that day (YYYY-MM-DD, UTC).")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="table, csv or json.")] = OutputFormat.table,
    target: TargetOpt = Target.fraud,
    seed: Annotated[int | None, typer.Option(help="Seed of the exploration draw; default: a fresh one, printed so the list can be reproduced.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Print only the first N entries (the list itself is unchanged).")] = None,
) -> None:
    """The inspection list: what to inspect within capacity, with score, reasons and why selected."""
    if seed is None:
        seed = secrets.randbelow(2**31)
    with errors_reported(), store(existing=True) as uow:
        result = inspection_list(uow, target.value, capacity, exploration, _day(date), seed,
                                 threads=settings().threads)
    {OutputFormat.table: _table, OutputFormat.csv: _csv, OutputFormat.json: _json}[fmt](result, limit)


def _rows(result: InspectionList, limit: int | None) -> list[dict[str, object]]:
    return [
        {"position": e.position, "declaration_ref": e.declaration_ref, "filed_at": e.filed_at.date().isoformat(),
         "hs_code": e.hs_code, "origin": e.origin_country, "importer": e.importer_id,
         "score": round(e.score, 4), "selected_by": e.selected_by,
         "reasons": [r.text for r in e.reasons]}
        for e in result.entries[:limit]
    ]


def _json(result: InspectionList, limit: int | None) -> None:
    print_json({"model_version": result.model_version, "target": result.target,
                "candidates": result.candidates, "unscored": result.unscored,
                "slots": result.slots, "seed": result.seed, **_split(result), "inspections": _rows(result, limit)})


def _split(result: InspectionList) -> dict[str, int]:
    by = [e.selected_by for e in result.entries]
    return {"risk_picks": by.count("risk"), "exploration_picks": by.count("exploration")}


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _csv(result: InspectionList, limit: int | None) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(["position", "declaration_ref", "filed_at", "hs_code", "origin", "importer",
                     "score", "selected_by", "reasons"])
    for r in _rows(result, limit):
        writer.writerow([*list(r.values())[:-1], " | ".join(r["reasons"])])  # type: ignore[arg-type]


def _table(result: InspectionList, limit: int | None) -> None:
    out = Console(width=max(Console().width, 160))
    split = _split(result)
    shown = len(result.entries[:limit])
    table = Table(title=f"Inspection list: {len(result.entries)} of {result.candidates} declarations "
                        f"({_n(split['risk_picks'], 'risk pick')}, {_n(split['exploration_picks'], 'exploration pick')}"
                        f" drawn with seed {result.seed}; model {result.model_version})"
                        + (f"; first {shown} shown" if shown < len(result.entries) else ""))
    for col in ("#", "declaration", "filed", "HS", "origin", "score", "by", "reasons"):
        table.add_column(col, overflow="fold")
    for r in _rows(result, limit):
        table.add_row(*(escape(str(r[k])) for k in ("position", "declaration_ref", "filed_at", "hs_code", "origin")),
                      f"{r['score']:.3f}", str(r["selected_by"]),
                      escape("\n".join(f"- {t}" for t in r["reasons"]) or "-"))  # type: ignore[union-attr]
    out.print(table)
    if result.unscored:
        console.print(f"{result.unscored} candidate declarations are not scored yet: run `scheldt score`")


def register(app: typer.Typer) -> None:
    """Add ``target`` to the command tree."""
    app.command("target")(target)
