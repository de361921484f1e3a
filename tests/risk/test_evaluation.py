"""Targeting metrics on a tiny ranking worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from scheldt.risk.evaluation import at_share, mean_and_spread, ranking_metrics, selection_size


def test_metrics_on_a_ranking_computed_by_hand() -> None:
    # 10 rows, ranked by score: positives at ranks 1, 3 and 6 (duty 50, 30, 20)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    duty = np.array([50.0, 9, 30, 9, 9, 20, 9, 9, 9, 9])
    # top 20% = 2 rows: one hit of three positives, 50 of 100 duty
    assert at_share(y, scores, duty, 0.2) == {"precision": 0.5, "recall": pytest.approx(1 / 3), "value_recall": 0.5}
    # top 30% = 3 rows: two hits, 80 of 100 duty
    assert at_share(y, scores, duty, 0.3) == {"precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3), "value_recall": 0.8}
    m = ranking_metrics(y, scores, duty)
    # AUC: of 3 × 7 positive-negative pairs, misordered: rank 3 below rank 2 (1), rank 6 below 2,4,5 (3)
    assert m["auc"] == pytest.approx(17 / 21)
    # AP = mean precision at each hit = (1/1 + 2/3 + 3/6) / 3
    assert m["ap"] == pytest.approx((1 + 2 / 3 + 1 / 2) / 3)
    # 1% of 10 rows floors to 0 but one row is always inspected
    assert m["at"]["1%"]["precision"] == 1.0


def test_single_class_has_no_auc() -> None:
    m = ranking_metrics(np.zeros(5), np.arange(5.0), np.ones(5))
    assert m["auc"] is None and m["ap"] is None and m["at"]["10%"]["recall"] is None


def test_selection_size_floors() -> None:
    assert [selection_size(8481, s) for s in (0.01, 0.02, 0.05, 0.10)] == [84, 169, 424, 848]


def test_mean_and_spread() -> None:
    mean, spread = mean_and_spread([{"a": 1.0, "b": {"c": 2.0}, "n": 3}, {"a": 3.0, "b": {"c": None}, "n": 3}])
    assert mean == {"a": 2.0, "b": {"c": 2.0}, "n": 3}
    assert spread == {"a": 1.0, "b": {"c": None}, "n": 0.0}
