"""Targeting quality measures: how good is a ranked inspection list?

All functions take ``y`` (0/1 findings), ``scores`` (higher = inspect first) and, for value
recall, ``duty`` (the duty at stake per row: value × tax rate / 100). The selection at a share
``s`` is the top ``floor(len(y) × s)`` rows by score, ties broken by input order (stable sort).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Shares of the rows inspected at which quality is reported.
SHARES: dict[str, float] = {"1%": 0.01, "2%": 0.02, "5%": 0.05, "10%": 0.10}


def selection_size(n_rows: int, share: float) -> int:
    """Rows selected at ``share`` of ``n_rows``: floor, at least 1 when there are rows."""
    return min(n_rows, max(1, math.floor(n_rows * share + 1e-9))) if n_rows else 0


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest scores, highest first, ties in input order."""
    return np.argsort(-scores, kind="stable")[:k]


def at_share(y: np.ndarray, scores: np.ndarray, duty: np.ndarray, share: float) -> dict[str, float | None]:
    """Precision, recall and value recall of inspecting the top ``share`` of rows.

    ``recall``/``value_recall`` are None when there are no positives (or no positive duty).
    """
    k = selection_size(len(y), share)
    if k == 0:
        return {"precision": None, "recall": None, "value_recall": None}
    picked = top_k(scores, k)
    hits = float(y[picked].sum())
    positives = float(y.sum())
    pos_duty = float(duty[y == 1].sum())
    caught_duty = float(duty[picked][y[picked] == 1].sum())
    return {
        "precision": hits / k,
        "recall": hits / positives if positives else None,
        "value_recall": caught_duty / pos_duty if pos_duty > 0 else None,
    }


def ranking_metrics(y: np.ndarray, scores: np.ndarray, duty: np.ndarray) -> dict[str, Any]:
    """AUC, average precision and the :data:`SHARES` table for one ranking.

    AUC and AP are None when ``y`` has a single class (they are undefined).
    """
    from sklearn.metrics import average_precision_score, roc_auc_score  # at use: slow to import

    both = 0 < y.sum() < len(y)
    return {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "auc": float(roc_auc_score(y, scores)) if both else None,
        "ap": float(average_precision_score(y, scores)) if both else None,
        "at": {name: at_share(y, scores, duty, s) for name, s in SHARES.items()},
    }


def mean_and_spread(runs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Average a list of same-shaped metric dicts; also return the standard deviation of each.

    Non-numeric or None leaves are kept from the first run (mean) or set to None (spread).
    """

    def combine(values: list[Any]) -> tuple[Any, Any]:
        first = values[0]
        if isinstance(first, dict):
            mean, spread = {}, {}
            for key in first:
                mean[key], spread[key] = combine([v[key] for v in values])
            return mean, spread
        if isinstance(first, bool) or not isinstance(first, (int, float)) or any(v is None for v in values):
            return first, None
        arr = np.asarray(values, dtype=float)
        if all(isinstance(v, int) for v in values) and len(set(values)) == 1:
            return first, 0.0
        return float(arr.mean()), float(arr.std(ddof=0))

    return combine(runs)
