"""Backtest figures on a tiny hand-checked history."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from scheldt.domain.trips import TripDocument, TripFacts, TripKey, TripParty
from scheldt.risk.backtest import PastTrip, backtest
from scheldt.risk.profiles import load_profile

PROFILE = load_profile("""
name: tiny
version: 1
owner: test
effective_from: 2026-01-01
indicators:
  to_order_unknown_notify: {weight: 30}
  freight_paid_in_cash: {weight: 20}
""")
T = datetime(2026, 2, 1, tzinfo=UTC)


def trip(n: int, to_order: bool, cash: bool) -> TripFacts:
    doc = TripDocument(f"BL{n}", "TRD", T, to_order, "A" if cash else "PRE", parties=(TripParty("shipper", "S"),))
    return TripFacts(TripKey(f"C{n}", f"BL{n}", ""), T, documents=(doc,))


def test_tiny_history_by_hand() -> None:
    # day 1: four trips; capacity 50 % selects two: #1 (50 points, hit) and #2 (30, no hit)
    # day 2: two trips; 50 % selects one: #6 (20, hit); #5 (0, hit) is missed
    history = [
        PastTrip(date(2026, 2, 1), trip(1, True, True), True),
        PastTrip(date(2026, 2, 1), trip(2, True, False), False),
        PastTrip(date(2026, 2, 1), trip(3, False, True), False),
        PastTrip(date(2026, 2, 1), trip(4, False, False), False),
        PastTrip(date(2026, 2, 2), trip(5, False, False), True),
        PastTrip(date(2026, 2, 2), trip(6, False, True), True),
    ]
    report = backtest(PROFILE, history, 0.5).as_dict()
    assert (report["trips"], report["hits"], report["selected"], report["selected_hits"]) == (6, 3, 3, 2)
    assert (report["precision_at_capacity"], report["recall_at_capacity"]) == (0.6667, 0.6667)
    assert report["indicators"] == {
        "freight_paid_in_cash": {"flagged": 3, "hits": 2, "hit_rate": 0.6667, "recall": 0.6667},
        "to_order_unknown_notify": {"flagged": 2, "hits": 1, "hit_rate": 0.5, "recall": 0.3333},
    }


def test_capacity_must_be_a_share() -> None:
    with pytest.raises(ValueError, match="not a share"):
        backtest(PROFILE, [], 0.0)
