"""Scoring throughput: declarations per second, end to end, beside a bare LightGBM predict.

Scores 100,000 declarations (the 54,000 shared KCS rows, repeated to 100,000) with a fraud
model trained on train + valid, as of one moment (the CLI's `scheldt score` path: features from
past outcomes through a HistoryIndex, then predict). The baseline is LightGBM's predict alone on
the finished feature matrix, in the same run with the same threads. Then the time to explain the
1,000 highest-scored rows (reasons for the inspection list).

Goals (issue 2): >= 50,000 declarations/s on 2 cores, >= 0.5x the bare predict rate, explaining
1,000 rows in < 1 s.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import polars as pl

from _common import TEST, THREADS, TRAIN, VALID
from scheldt.risk import features
from scheldt.workflows.evaluation import load_split
from scheldt.risk.training import fit
from scheldt.workflows.scoring import score_frame
from scheldt.workflows.targeting import explain_rows

N = 100_000


def best_of(runs: int, fn):  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    split = load_split(TRAIN, TEST, VALID)
    cols = [c for c in split.test.columns if c not in ("fraud", "critical")]
    history = pl.concat([split.train, split.valid]).select(cols)
    result = fit(split.train, split.valid, "fraud", history, split.outcomes, seed=0, threads=THREADS)
    model = result.model
    allrows = pl.concat([split.train.select(cols), split.valid.select(cols), split.test.select(cols)])
    reps = -(-N // allrows.height)
    pending = pl.concat([allrows] * reps).head(N).with_columns(
        (pl.col("declaration_ref") + "-" + pl.int_range(pl.len()).cast(pl.Utf8)).alias("declaration_ref"))
    as_of = datetime(2021, 7, 1, tzinfo=UTC)
    print(f"model: {model.best_iteration_} + {model.declared_best_iteration_} trees (blend weight "
          f"{model.blend_weight_}), {len(features.FEATURE_NAMES)} features; "
          f"history {history.height} declarations, {split.outcomes.height} outcomes; threads {THREADS}")

    t_end, p = best_of(3, lambda: score_frame(model, pending, history, split.outcomes, as_of))
    X = features.to_matrix(features.encode(pending, model.vocabulary_, history=history,
                                           outcomes=split.outcomes, as_of=as_of))
    assert np.allclose(p, model.score(X))
    # the baseline: LightGBM's own predict of the history model (the larger of Scheldt's two)
    t_bare, _ = best_of(3, lambda: model.booster_.predict(X, num_threads=THREADS))
    rate, bare = N / t_end, N / t_bare
    print(f"{'scoring end to end (features + predict)':45s} {t_end:7.3f} s  {rate:12,.0f} declarations/s")
    print(f"{'bare LightGBM predict, same matrix':45s} {t_bare:7.3f} s  {bare:12,.0f} declarations/s")
    print(f"ratio end to end / bare predict: {rate / bare:.2f}  (goal >= 0.5; goal rate >= 50,000/s)")

    top = pending[np.argsort(-p, kind="stable")[:1000]]
    t_explain, reasons = best_of(3, lambda: explain_rows(model, top, history, split.outcomes, as_of))
    assert len(reasons) == 1000 and all(reasons)
    print(f"{'explain the 1,000 highest-scored rows':45s} {t_explain:7.3f} s  (goal < 1 s)")
    print(f"example: {reasons[0][0].text}")


if __name__ == "__main__":
    main()
