"""TripFacts keeps its vessel track oldest first and reads windows and gaps of it."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.trips import TripFacts, TripKey, VesselFix

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KEY = TripKey("MSCU1234565", "SIMBL00100001", "601W")


def _fix(hours: float) -> VesselFix:
    return VesselFix(T0 + timedelta(hours=hours), 51.3, 3.1, 12.0)


def test_track_given_out_of_order_is_kept_oldest_first() -> None:
    trip = TripFacts(KEY, T0, vessel_track=(_fix(5), _fix(1), _fix(3)))
    assert [f.observed_at for f in trip.vessel_track] == [T0 + timedelta(hours=h) for h in (1, 3, 5)]


def test_track_between_includes_both_ends() -> None:
    trip = TripFacts(KEY, T0, vessel_track=tuple(_fix(h) for h in range(10)))
    window = trip.track_between(T0 + timedelta(hours=2), T0 + timedelta(hours=4))
    assert [f.observed_at.hour for f in window] == [2, 3, 4]


def test_longest_gap_is_the_earliest_of_equal_gaps() -> None:
    trip = TripFacts(KEY, T0, vessel_track=tuple(_fix(h) for h in (0, 2, 14, 15, 27)))
    assert trip.longest_track_gap(T0, T0 + timedelta(days=2)) == (timedelta(hours=12), T0 + timedelta(hours=2))
    assert trip.longest_track_gap(T0 + timedelta(hours=20), T0 + timedelta(days=2)) is None  # one fix only


@given(st.lists(st.integers(0, 500), max_size=30), st.integers(0, 500), st.integers(0, 500))
def test_longest_gap_matches_a_plain_scan(hours: list[int], a: int, b: int) -> None:
    start, end = T0 + timedelta(hours=min(a, b)), T0 + timedelta(hours=max(a, b))
    trip = TripFacts(KEY, T0, vessel_track=tuple(_fix(h) for h in hours))
    times = sorted(T0 + timedelta(hours=h) for h in hours if start <= T0 + timedelta(hours=h) <= end)
    pairs = [(y - x, x) for x, y in zip(times, times[1:])]
    expected = max(pairs, key=lambda p: p[0]) if pairs else None
    assert trip.longest_track_gap(start, end) == expected


def test_silence_until_counts_from_the_last_fix_in_the_window() -> None:
    trip = TripFacts(KEY, T0, vessel_track=tuple(_fix(h) for h in (0, 2, 14, 30)))
    assert trip.silence_until(T0, T0 + timedelta(hours=20)) == (timedelta(hours=6), T0 + timedelta(hours=14))
    assert trip.silence_until(T0 + timedelta(hours=15), T0 + timedelta(hours=20)) is None
