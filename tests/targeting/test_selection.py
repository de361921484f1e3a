"""Capacity and exploration counts are exact and stated."""

from __future__ import annotations

import numpy as np
import pytest

from scheldt.targeting.selection import SelectedBy, exploration_slots, parse_capacity, select


def test_five_percent_of_a_hundred_slots_is_five_random_picks() -> None:
    scores = np.linspace(1.0, 0.0, 2000)
    slots = parse_capacity("5%", 2000)
    assert slots == 100
    picks = select(scores, slots, 0.05, seed=7)
    risk = [p for p in picks if p.selected_by is SelectedBy.RISK]
    explore = [p for p in picks if p.selected_by is SelectedBy.EXPLORATION]
    assert (len(risk), len(explore)) == (95, 5)
    assert [p.index for p in risk] == list(range(95))  # the 95 highest scores
    assert all(p.index >= 95 for p in explore)  # drawn from what risk did not pick
    assert [p.position for p in picks] == list(range(1, 101))
    assert [p.index for p in select(scores, slots, 0.05, seed=7)] == [p.index for p in picks]


@pytest.mark.parametrize(("capacity", "n", "slots"), [("120", 2000, 120), ("2.5%", 2000, 50), ("5%", 10, 1),
                                                      ("0%", 10, 0), ("50", 10, 10), ("5%", 0, 0)])
def test_capacity_parsing(capacity: str, n: int, slots: int) -> None:
    assert parse_capacity(capacity, n) == slots


@pytest.mark.parametrize("capacity", ["-1", "150%", "lots", "x%"])
def test_bad_capacity(capacity: str) -> None:
    with pytest.raises(ValueError):
        parse_capacity(capacity, 100)


def test_exploration_rounds_half_up() -> None:
    assert [exploration_slots(n, 0.05) for n in (9, 10, 29, 30, 100)] == [0, 1, 1, 2, 5]
    with pytest.raises(ValueError):
        exploration_slots(10, 1.5)


def test_all_exploration_and_too_few_candidates() -> None:
    picks = select(np.array([0.3, 0.2, 0.1]), 5, 1.0)
    assert len(picks) == 3 and {p.selected_by for p in picks} == {SelectedBy.EXPLORATION}
