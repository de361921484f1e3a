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


def test_an_mmsi_speaks_for_a_vessel_until_it_names_another_and_the_vessel_moved() -> None:
    """A maritime review: a vessel moved to a new MMSI while its old one, now another ship's,
    filled its track. A regression review: one mistyped static message, corrected at once (the
    correction is a repeated identity, not stored again), cut the vessel's track for good."""
    from scheldt.domain.shipping import MmsiSpan, mmsi_spans

    t = [datetime(2026, 11, d, tzinfo=UTC) for d in range(10, 20)]
    moved = mmsi_spans([("061", "9500065", t[0]), ("062", "9500065", t[6]), ("061", "9500077", t[7])])
    assert moved == {"9500065": [MmsiSpan("061", None, t[7]), MmsiSpan("062", None, None)],
                     "9500077": [MmsiSpan("061", t[7], None)]}
    typo = mmsi_spans([("061", "9321483", t[0]), ("061", "9321484", t[5]), ("061", "", t[6])])
    assert typo["9321483"] == [MmsiSpan("061", None, None)]  # seen on no other MMSI: still its own
    assert typo["9321484"] == [MmsiSpan("061", t[5], None)]
    assert mmsi_spans([("063", "9500089", None), ("063", "9500090", t[1])])["9500089"] == [MmsiSpan("063", None, None)]
    # on another MMSI only before it took this one (re-flagged): a later typo still cuts nothing
    reflagged = mmsi_spans([("B", "X", t[0]), ("B", "W", t[2]), ("A", "X", t[2]), ("A", "Y", t[9])])
    assert sorted(reflagged["X"], key=lambda s: s.mmsi) == [MmsiSpan("A", None, None), MmsiSpan("B", None, t[2])]


def test_a_track_given_as_a_generator_is_kept_whole_and_in_order() -> None:
    """A review: the order check read a generator once, and the track kept was empty."""
    trip = TripFacts(KEY, T0, vessel_track=(_fix(h) for h in (5, 1, 3)))  # type: ignore[arg-type]
    assert [f.observed_at for f in trip.vessel_track] == [T0 + timedelta(hours=h) for h in (1, 3, 5)]
    assert isinstance(trip.vessel_track, tuple)
    ordered = TripFacts(KEY, T0, vessel_track=(_fix(h) for h in (1, 2)))  # type: ignore[arg-type]
    assert len(ordered.vessel_track) == 2 and isinstance(ordered.vessel_track, tuple)
