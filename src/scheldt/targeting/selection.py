"""Choose what to inspect within capacity: risk picks plus an exploration share.

Capacity is the total number of inspections available. A share of it (``exploration``) goes to
declarations drawn at random from those the risk ranking did *not* pick, so that the outcomes
that later train the model are not only the ones the model already selects (otherwise its
blind spots never get inspected). Rounding, stated once here and in the CLI help:

* ``capacity="5%"`` of N candidates is ``floor(N × 5 / 100)`` slots (at least 1 if N > 0);
  ``capacity="120"`` is 120 slots; never more than N.
* exploration slots are ``round_half_up(slots × exploration)``; risk slots are the rest.
  Example: 100 slots, exploration 0.05 → 5 exploration picks and 95 risk picks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class SelectedBy(StrEnum):
    """Why a declaration is on the inspection list."""

    RISK = "risk"  # among the highest scores
    EXPLORATION = "exploration"  # drawn at random from the rest, to keep learning unbiased


@dataclass(frozen=True, slots=True)
class Pick:
    """One entry of the inspection list: ``position`` 1-based, risk picks first by score."""

    position: int
    index: int  # row index into the candidates given to :func:`select`
    score: float
    selected_by: SelectedBy


def parse_capacity(capacity: str | int, candidates: int) -> int:
    """Slots for ``capacity`` ("5%", "2.5%" or a count like "120") over ``candidates`` rows.

    Raises ValueError for a negative, non-numeric or over-100% capacity.
    """
    text = str(capacity).strip()
    if text.endswith("%"):
        try:
            pct = float(text[:-1])
        except ValueError:
            raise ValueError(f"capacity {capacity!r} is not a percentage like 5%") from None
        if not 0 <= pct <= 100:
            raise ValueError(f"capacity {capacity!r} must be between 0% and 100%")
        slots = math.floor(candidates * pct / 100 + 1e-9)
        if pct > 0 and candidates > 0:
            slots = max(1, slots)
    else:
        try:
            slots = int(text)
        except ValueError:
            raise ValueError(f"capacity {capacity!r} is neither a count nor a percentage") from None
        if slots < 0:
            raise ValueError(f"capacity {capacity!r} is negative")
    return min(slots, candidates)


def exploration_slots(slots: int, exploration: float) -> int:
    """Slots given to exploration: ``round_half_up(slots × exploration)``."""
    if not 0 <= exploration <= 1:
        raise ValueError(f"exploration share {exploration} must be between 0 and 1")
    return math.floor(slots * exploration + 0.5)


def select(scores: np.ndarray, slots: int, exploration: float, seed: int = 0) -> list[Pick]:
    """The inspection list over candidates with ``scores`` (higher = riskier).

    Risk picks are the ``slots - exploration_slots`` highest scores (ties: lower index first);
    exploration picks are drawn uniformly without replacement from the remaining candidates
    with ``numpy.random.default_rng(seed)``, so a list can be reproduced.
    """
    n = len(scores)
    slots = min(slots, n)
    n_explore = min(exploration_slots(slots, exploration), n - (slots - exploration_slots(slots, exploration)))
    n_risk = slots - n_explore
    order = np.argsort(-scores, kind="stable")
    risk = order[:n_risk]
    rest = order[n_risk:]
    rng = np.random.default_rng(seed)
    explore = rng.choice(rest, size=n_explore, replace=False) if n_explore else np.array([], dtype=int)
    picks = [Pick(i + 1, int(idx), float(scores[idx]), SelectedBy.RISK) for i, idx in enumerate(risk)]
    picks += [
        Pick(n_risk + i + 1, int(idx), float(scores[idx]), SelectedBy.EXPLORATION)
        for i, idx in enumerate(sorted(explore, key=lambda j: -scores[j]))
    ]
    return picks
