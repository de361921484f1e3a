"""Training sets and fitting, pure: frames in, a fitted model and its metrics out.

A training set is every declaration with an outcome, each encoded as of its own filing time,
so past-outcome features use only outcomes received before that declaration was filed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from scheldt.risk import features
from scheldt.risk.evaluation import ranking_metrics
from scheldt.risk.frames import duty_at_stake
from scheldt.risk.model import RiskModel

#: Share of the labelled rows, latest by filing time, held out for early stopping.
VALID_SHARE = 0.2


@dataclass(frozen=True)
class LabelledSet:
    """Encoded rows with labels: ``X`` (n × features), ``y`` (0/1), refs, filing times, duty."""

    X: np.ndarray
    y: np.ndarray
    refs: list[str]
    filed_at: np.ndarray
    duty: np.ndarray


def labelled_rows(declarations: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Declarations that have an outcome, with ``fraud``/``critical`` columns, by filing time."""
    return declarations.join(
        outcomes.select("declaration_ref", "fraud", "critical"), on="declaration_ref", how="inner"
    ).sort("filed_at", "declaration_ref")


def encode_labelled(
    rows: pl.DataFrame,
    target: str,
    vocabulary: dict[str, list[str]],
    history: pl.DataFrame,
    outcomes: pl.DataFrame,
    as_of: datetime | None = None,
) -> LabelledSet:
    """Encode labelled ``rows`` (from :func:`labelled_rows`); each as of its filing time
    unless ``as_of`` is given."""
    X = features.to_matrix(
        features.encode(rows, vocabulary, history=history, outcomes=outcomes, as_of=as_of)
    )
    duty = duty_at_stake(rows)
    return LabelledSet(
        X=X,
        y=rows[target].cast(pl.Int8).to_numpy(),
        refs=rows["declaration_ref"].to_list(),
        filed_at=rows["filed_at"].to_numpy(),
        duty=duty,
    )


def time_split(rows: pl.DataFrame, valid_share: float = VALID_SHARE) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split sorted labelled rows into an earlier train part and a later validation part.

    The cut falls between two filing days, so one day never straddles both parts.
    """
    if rows.height < 10:
        return rows, rows.head(0)
    days = rows["filed_at"].dt.date()
    cut_day = days[int(rows.height * (1 - valid_share))]
    train = rows.filter(days < cut_day)
    if train.height == 0:
        return rows, rows.head(0)
    return train, rows.filter(days >= cut_day)


def fingerprint(refs: list[str], y: np.ndarray) -> str:
    """SHA-256 over the sorted (declaration_ref, label) pairs of a training set."""
    h = hashlib.sha256(features.feature_contract().encode())
    for ref, label in sorted(zip(refs, y.tolist(), strict=True)):
        h.update(f"{ref}\x1f{label}\n".encode())
    return h.hexdigest()


@dataclass
class FitResult:
    """A fitted model with what it was trained on and how it did on the validation period."""

    model: RiskModel
    train_rows: int
    valid_rows: int
    positives: int
    fingerprint: str
    refs: list[str]
    labels: np.ndarray
    validation: dict[str, Any]


def fit(
    train: pl.DataFrame,
    valid: pl.DataFrame,
    target: str,
    history: pl.DataFrame,
    outcomes: pl.DataFrame,
    seed: int = 0,
    threads: int = 2,
) -> FitResult:
    """Fit a :class:`RiskModel` on labelled ``train`` rows, early-stopping on later ``valid``.

    ``history``/``outcomes`` are the declarations and outcomes past-outcome features come from
    (normally every labelled declaration). Validation metrics come from the early-stopping model,
    which never saw the validation rows.
    """
    both = pl.concat([train, valid])
    vocabulary = features.learn_vocabulary(both)
    tr = encode_labelled(train, target, vocabulary, history, outcomes)
    va = encode_labelled(valid, target, vocabulary, history, outcomes)
    model = RiskModel(target=target, seed=seed, threads=threads)
    model.vocabulary_ = vocabulary
    model.fit(tr.X, tr.y, va.X if valid.height else None, va.y if valid.height else None)
    validation: dict[str, Any] = {}
    if model.validation_scores_ is not None:
        validation = ranking_metrics(va.y, model.validation_scores_, va.duty)
    refs = tr.refs + va.refs
    y = np.concatenate([tr.y, va.y])
    return FitResult(model, len(tr.y), len(va.y), int(y.sum()), fingerprint(refs, y), refs, y, validation)
