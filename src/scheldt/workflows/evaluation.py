"""Measure targeting quality on labelled files: train on train (+ valid), rank test, report.

Used by ``scheldt evaluate`` and the targeting-quality benchmark. Works on any declaration file
in a mapped layout. Test outcomes are used only to measure, never as features: the history
that past-outcome features see is the train and valid outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from scheldt.domain.declarations import Declaration, InspectionOutcome
from scheldt.errors import InputError
from scheldt.ingest.base import Rejection
from scheldt.ingest.declarations import read_declarations
from scheldt.ingest.registry import detect
from scheldt.risk.evaluation import mean_and_spread, ranking_metrics
from scheldt.risk.frames import declarations_frame, duty_at_stake, outcomes_frame
from scheldt.risk import features
from scheldt.risk.training import fit, labelled_rows, time_split
from scheldt.settings import lightgbm_threads


@dataclass(frozen=True)
class LabelledFile:
    """A declaration file read for evaluation: declarations, outcomes, the rows rejected
    (``rejections``: where, field and why, as ingest quarantines them) and how many rows only
    repeated a declaration or outcome read before (``repeated``)."""

    declarations: pl.DataFrame
    outcomes: pl.DataFrame
    rejections: list[Rejection]
    repeated: int = 0

    @property
    def rejected(self) -> int:
        """How many rows were rejected."""
        return len(self.rejections)


def read_labelled(path: Path, mapping: str | None) -> LabelledFile:
    """Read a labelled declaration file (InputError if it is not a declaration file, e.g. DCSA
    or EDIFACT, or its mapping has no outcome columns)."""
    detected = detect(path, "declarations" if mapping else "auto", mapping)
    if detected.mapping is None:
        raise InputError(str(path), f"a {detected.format} file, not declarations with inspection outcomes: "
                         "evaluate reads declaration CSV files")
    if detected.mapping.outcomes is None:
        raise InputError(str(path), f"mapping {detected.mapping.name!r} has no outcome columns to evaluate on")
    decls: dict[str, Declaration] = {}
    outs: dict[str, InspectionOutcome] = {}
    rejections: list[Rejection] = []
    repeated: set[str] = set()  # rows that only repeat what was read before
    with path.open("rb") as fh:
        for where, rec in read_declarations(fh, detected.mapping, str(path)):
            if isinstance(rec, Rejection):
                rejections.append(rec)
                continue
            # each declaration and outcome once, as ingest keeps them (an analyst review: a row
            # repeated twice was counted four times, a contradicting one as fraud and as clean)
            ref = rec.declaration_ref
            kept = decls if isinstance(rec, Declaration) else outs
            before = kept.setdefault(ref, rec)
            if before is rec:
                continue
            if _same(before, rec):
                repeated.add(where)
                continue
            what = "declaration" if isinstance(rec, Declaration) else "outcome for declaration"
            rejections.append(Rejection(where, "declaration_ref", f"{what} {ref} read before with other facts: "
                                                                  "the first is kept, as ingest keeps it"))
    if not decls:
        raise InputError(str(path), "no readable declaration")
    return LabelledFile(declarations_frame(list(decls.values())), outcomes_frame(list(outs.values())), rejections,
                        len(repeated - {r.where for r in rejections}))


def _same(a: Declaration | InspectionOutcome, b: Declaration | InspectionOutcome) -> bool:
    """Whether two records of one declaration state the same facts (flags and, for outcomes,
    the time received aside)."""
    if isinstance(a, Declaration) and isinstance(b, Declaration):
        return a.fact_hash() == b.fact_hash()
    return (a.fraud, a.critical) == (b.fraud, b.critical)  # type: ignore[union-attr]


def unseen_mask(test: pl.DataFrame, known: pl.DataFrame) -> np.ndarray:
    """True for test rows whose (HS6, declared value) pair never occurs in ``known``."""
    pairs = known.select(pl.col("hs_code").str.slice(0, 6).alias("hs6"), "value").unique()
    pairs = pairs.with_columns(pl.lit(True).alias("_seen"))
    joined = test.select(pl.col("hs_code").str.slice(0, 6).alias("hs6"), "value").join(
        pairs, on=["hs6", "value"], how="left", maintain_order="left"
    )
    return joined["_seen"].is_null().to_numpy()


Scorer = Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame, str, int], np.ndarray]


def scheldt_scorer(train: pl.DataFrame, valid: pl.DataFrame, test: pl.DataFrame,
                   outcomes: pl.DataFrame, target: str, seed: int, threads: int | None = None) -> np.ndarray:
    """Scheldt's model: fit on train (early stopping on valid), score test as of filing."""
    history = pl.concat([train, valid]).select(test.columns)
    result = fit(train, valid, target, history, outcomes, seed=seed, threads=lightgbm_threads(threads))
    X = features.encode(test, result.model.vocabulary_, history=history, outcomes=outcomes)
    return result.model.score(features.to_matrix(X))


@dataclass(frozen=True)
class Split:
    """Labelled train / valid / test rows and the outcomes features may use (train + valid)."""

    train: pl.DataFrame
    valid: pl.DataFrame
    test: pl.DataFrame
    outcomes: pl.DataFrame
    #: what reading each file left out: ``{"train"|"valid"|"test": {"path", "rejected", "repeated",
    #: "rejections": first 20 as "where [field]: why"}}``
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def unseen(self) -> np.ndarray:
        """Mask of test rows whose (HS6, value) pair never occurs in train or valid."""
        return unseen_mask(self.test, pl.concat([self.train, self.valid]))


def load_split(train_path: Path, test_path: Path, valid_path: Path | None = None,
               mapping: str | None = None) -> Split:
    """Read labelled files; without ``valid_path`` the latest 20% of train (by day) validates."""
    tr_file = read_labelled(train_path, mapping)
    te_file = read_labelled(test_path, mapping)
    train = labelled_rows(tr_file.declarations, tr_file.outcomes)
    outcomes = tr_file.outcomes
    if valid_path is not None:
        va_file = read_labelled(valid_path, mapping)
        valid, va_file = _apart_from(train, labelled_rows(va_file.declarations, va_file.outcomes), va_file, valid_path)
        outcomes = pl.concat([outcomes, va_file.outcomes])
    else:
        train, valid = time_split(train)
    test = labelled_rows(te_file.declarations, te_file.outcomes)
    seen = set(train["declaration_ref"].to_list()) | set(valid["declaration_ref"].to_list())
    shared = sorted(set(test["declaration_ref"].to_list()) & seen)
    if shared:  # a review measured on its training file: AUC 0.925 where the real split gives 0.775
        raise InputError(f"--test {test_path}", f"{len(shared):,} of its {test.height:,} declarations are also in "
                         f"--train or --valid (e.g. {shared[0]}): figures on rows the model learnt from say nothing "
                         "of how it ranks new declarations")
    read = {"train": (train_path, tr_file), "test": (test_path, te_file)} | (
        {"valid": (valid_path, va_file)} if valid_path is not None else {})
    return Split(train, valid, test, outcomes, {role: _read_summary(path, f) for role, (path, f) in read.items()})


def _apart_from(train: pl.DataFrame, valid: pl.DataFrame, read: LabelledFile,
                path: Path) -> tuple[pl.DataFrame, LabelledFile]:
    """``valid`` without the declarations ``train`` holds, and ``read`` (the valid file) counting
    each as repeated (the same row) or rejected (other facts or outcome), its outcomes without
    them: a regression review's valid file repeating 200 training rows, outcomes flipped, moved
    the figures with nothing said."""
    known = set(train["declaration_ref"].to_list())
    twice = valid.filter(pl.col("declaration_ref").is_in(list(known)))
    if twice.height == 0:
        return valid, read
    same = set(twice.join(train, on=twice.columns, how="semi", nulls_equal=True)["declaration_ref"].to_list())
    rejections = [Rejection(str(path), "declaration_ref", f"declaration {ref} is in --train with other facts or "
                                                          "outcome: left out of --valid")
                  for ref in twice["declaration_ref"].to_list() if ref not in same]
    kept = valid.filter(~pl.col("declaration_ref").is_in(list(known)))
    outcomes = read.outcomes.filter(~pl.col("declaration_ref").is_in(list(known)))
    return kept, LabelledFile(read.declarations, outcomes, [*read.rejections, *rejections], read.repeated + len(same))


def _read_summary(path: Path, read: LabelledFile) -> dict[str, Any]:
    """What reading ``path`` left out (see :attr:`Split.files`)."""
    return {"path": str(path), "rejected": read.rejected, "repeated": read.repeated,
            "rejections": [f"{r.where} [{r.field}]: {r.why}" if r.field else f"{r.where}: {r.why}"
                           for r in read.rejections[:20]]}


def evaluate_split(split: Split, target: str = "fraud", seeds: int = 5, threads: int | None = None,
                   scorer: Scorer | None = None) -> dict[str, Any]:
    """Score ``split.test`` with ``scorer`` (default: Scheldt's model) once per seed; average.

    Shape: ``{"target", "seeds", "rows", "positives", "auc", "ap", "at": {"1%": {"precision",
    "recall", "value_recall"}, ...}, "unseen": {same keys}, "spread": {same shape: standard
    deviation over seeds}}``.
    """
    if target not in ("fraud", "critical"):
        raise InputError("--target", f"{target!r} is not fraud or critical")
    if seeds < 1:
        raise InputError("--seeds", "must be at least 1")
    test = split.test
    y = test[target].cast(pl.Int8).to_numpy()
    duty = duty_at_stake(test)
    unseen = split.unseen
    score = scorer or (lambda *a: scheldt_scorer(*a, threads=threads))  # type: ignore[misc]
    cols = [c for c in test.columns if c not in ("fraud", "critical")]
    runs = []
    for seed in range(seeds):
        s = score(split.train, split.valid, test.select(cols), split.outcomes, target, seed)
        run = ranking_metrics(y, s, duty)
        run["unseen"] = ranking_metrics(y[unseen], s[unseen], duty[unseen])
        runs.append(run)
    mean, spread = mean_and_spread(runs)
    return {"target": target, "seeds": seeds, **mean, "spread": spread}


def evaluate(
    train_path: Path, test_path: Path, valid_path: Path | None = None, mapping: str | None = None,
    target: str = "fraud", seeds: int = 5, threads: int | None = None,
) -> dict[str, Any]:
    """``scheldt evaluate``: :func:`load_split` then :func:`evaluate_split` with Scheldt's model,
    with ``"files"``: what reading each file left out (:attr:`Split.files`; an analyst review:
    rows rejected were dropped without a word)."""
    if target not in ("fraud", "critical"):
        raise InputError("--target", f"{target!r} is not fraud or critical")
    split = load_split(train_path, test_path, valid_path, mapping)
    return evaluate_split(split, target, seeds, threads) | {"files": split.files}
