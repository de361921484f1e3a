"""``scheldt train``, ``scheldt score`` and ``scheldt evaluate``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from scheldt.cli.common import audit_command, console, errors_reported, now, print_json, settings, store
from scheldt.workflows.evaluation import evaluate as evaluate_files
from scheldt.workflows.scoring import score_pending
from scheldt.workflows.training import train_model

out = Console()


class Target(StrEnum):
    fraud = "fraud"
    critical = "critical"


TargetOpt = Annotated[Target, typer.Option("--target", help="fraud: any irregularity; critical: drugs, IP, false origin.")]


def _fmt(x: object) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def train(target: TargetOpt = Target.fraud,
          seed: Annotated[int, typer.Option(help="Random seed of LightGBM's bagging.")] = 0) -> None:
    """Train the risk model on declarations with inspection outcomes and make it live."""
    with errors_reported(), store() as uow:
        s = settings()
        report = train_model(uow, target.value, s.models_dir, now(), seed=seed, threads=s.threads)
        # a model made live changes every score: an oversight review found it unrecorded
        audit_command(uow, "train", "model", report.version, target=target.value, seed=seed,
                      rows=report.train_rows, fingerprint=report.fingerprint[:16])
    v = report.validation
    out.print(f"trained [bold]{report.version}[/bold] on {report.train_rows} declarations "
              f"(+{report.valid_rows} later ones for early stopping), {report.positives} found {target.value}")
    out.print(f"artefact {report.artefact_path}; training data fingerprint {report.fingerprint[:16]}")
    if v:
        at5 = v["at"]["5%"]
        out.print(f"validation (later period): AUC {_fmt(v['auc'])}, AP {_fmt(v['ap'])}, "
                  f"precision@5% {_fmt(at5['precision'])}, recall@5% {_fmt(at5['recall'])}")


def score(target: TargetOpt = Target.fraud) -> None:
    """Score every declaration without an outcome yet with the live model (one RiskAssessment each)."""
    with errors_reported(), store() as uow:
        s = settings()
        report = score_pending(uow, target.value, now(), threads=s.threads)
    out.print(f"scored {report.scored} declarations with {report.model_version} "
              f"({report.already_scored} already scored by it)")


def evaluate(
    train: Annotated[Path, typer.Option("--train", help="Labelled declarations to train on.")],
    test: Annotated[Path, typer.Option("--test", help="Labelled declarations to rank and measure on.")],
    valid: Annotated[Path | None, typer.Option("--valid", help="Later labelled declarations for early stopping; default: last 20% of train.")] = None,
    mapping: Annotated[str | None, typer.Option("--mapping", help="Built-in mapping name or YAML file; default: detect.")] = None,
    target: TargetOpt = Target.fraud,
    seeds: Annotated[int, typer.Option("--seeds", help="Train this many times with different seeds and average.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
) -> None:
    """Train on train (and valid), rank test, and report AUC, AP and precision/recall/value recall at 1, 2, 5, 10%.

    "unseen" repeats the figures on test rows whose (HS6, declared value) pair never occurs in
    train or valid: how the model does on goods it has not memorised.
    """
    with errors_reported():
        result = evaluate_files(train, test, valid, mapping, target.value, seeds, threads=settings().threads)
    for role, read in result["files"].items():  # on stderr, so --json stays one object on stdout
        if read["rejected"] or read["repeated"]:
            console.print(f"[yellow]warning[/yellow] --{role} {escape(read['path'])}: {read['rejected']} row(s) "
                          f"rejected and {read['repeated']} repeating a row read before, left out of the figures"
                          + "".join(f"\n  {escape(line)}" for line in read["rejections"][:5]), highlight=False)
    if as_json:
        print_json(result)
        return
    for label, part in (("all test rows", result), ("unseen rows", result["unseen"])):
        out.print(f"[bold]{label}[/bold] ({part['rows']} rows, {part['positives']} {target.value}): "
                  f"AUC {_fmt(part['auc'])}, AP {_fmt(part['ap'])}")
        for share, m in part["at"].items():
            out.print(f"  top {share:>3}: precision {_fmt(m['precision'])}, recall {_fmt(m['recall'])}, "
                      f"value recall {_fmt(m['value_recall'])}")


def register(app: typer.Typer) -> None:
    """Add ``train``, ``score`` and ``evaluate`` to the command tree."""
    app.command("train")(train)
    app.command("score")(score)
    app.command("evaluate")(evaluate)
