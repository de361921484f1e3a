"""Train a model on the stored declarations that have outcomes, save and register it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from scheldt.errors import InputError
from scheldt.risk import features
from scheldt.risk.training import fit, labelled_rows, time_split
from scheldt.settings import lightgbm_threads
from scheldt.workflows.ports import UnitOfWork

#: Fewest labelled declarations, and fewest positives among them, a model is trained on.
MIN_LABELLED = 100
MIN_POSITIVES = 10


@dataclass(frozen=True)
class TrainReport:
    """What ``scheldt train`` made: version, where it is saved, on what, how it validated."""

    version: str
    target: str
    artefact_path: str
    train_rows: int
    valid_rows: int
    positives: int
    fingerprint: str
    validation: dict[str, Any]


def train_model(
    uow: UnitOfWork, target: str, models_dir: Path, now: datetime, seed: int = 0, threads: int | None = None
) -> TrainReport:
    """Fit on every stored declaration with an outcome received before ``now``; make it live.

    The latest 20% (by filing day) validate for early stopping. The artefact directory holds
    the model, its metadata and ``training-set.csv`` (declaration_ref, label), whose SHA-256
    over sorted rows is the training-data fingerprint. Raises InputError (and leaves the live
    model as it is) below :data:`MIN_LABELLED` labelled declarations or :data:`MIN_POSITIVES`
    positives.
    """
    decls = uow.declarations.declarations_frame(with_outcome=True)
    outcomes = uow.declarations.outcomes_frame(received_before=now)
    rows = labelled_rows(decls, outcomes)
    if rows.height == 0:
        raise InputError("training data", "no declaration has an inspection outcome yet: ingest outcomes first")
    positives = int(rows[target].sum())
    if rows.height < MIN_LABELLED or positives < MIN_POSITIVES:
        raise InputError(
            "training data",
            f"{rows.height} declarations with outcomes, {positives} of which found {target}: a model needs "
            f"at least {MIN_LABELLED} and {MIN_POSITIVES} to be worth trusting; the live model is unchanged",
        )
    train, valid = time_split(rows)
    result = fit(train, valid, target, decls, outcomes, seed=seed, threads=lightgbm_threads(threads))
    # the seed in the name when it is not the default: another seed is another model (a review's
    # retraining with --seed 1 at a pinned clock overwrote the live version's model in place, and
    # its stored scores were then explained by the other model's reasons)
    version = f"{target}-{now:%Y%m%dT%H%M%S}-{result.fingerprint[:8]}" + (f"-s{seed}" if seed else "")
    directory = models_dir / version
    result.model.metadata_ = {
        "version": version,
        "created_at": now.isoformat(),
        "training": {
            "fingerprint": result.fingerprint,
            "train_rows": result.train_rows,
            "valid_rows": result.valid_rows,
            "positives": result.positives,
            "filed_from": rows["filed_at"].min().isoformat(),  # type: ignore[union-attr]
            "filed_to": rows["filed_at"].max().isoformat(),  # type: ignore[union-attr]
        },
        "validation": result.validation,
    }
    result.model.save(directory)
    with (directory / "training-set.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["declaration_ref", target])
        writer.writerows(sorted(zip(result.refs, result.labels.tolist(), strict=True)))
    uow.models.register(
        version, target, str(directory), result.fingerprint, features.feature_contract(),
        result.validation, now,
    )
    return TrainReport(version, target, str(directory), result.train_rows, result.valid_rows,
                       result.positives, result.fingerprint, result.validation)
