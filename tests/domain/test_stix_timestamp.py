"""stix_timestamp: STIX 2.1 timestamps (§3.2) read as aware UTC times, to the microsecond."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.exchange import stix_timestamp


def test_precisions_and_offsets() -> None:
    assert stix_timestamp("2026-03-01T12:00:00Z") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert stix_timestamp("2026-03-01T12:00:00.5Z") == datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)
    # nanoseconds are read to the microsecond
    assert stix_timestamp("2026-03-01T12:00:00.123456789Z") == datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert stix_timestamp("2026-03-01T13:00:00+01:00") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert stix_timestamp("not a time") is None
    assert stix_timestamp("2026-13-01T00:00:00Z") is None


@given(st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)))
def test_round_trip_of_millisecond_text(t: datetime) -> None:
    t = t.replace(microsecond=t.microsecond // 1000 * 1000)
    text = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    assert stix_timestamp(text) == t.replace(tzinfo=UTC)
    # the same instant with an offset reads the same
    other = t.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    assert stix_timestamp(other.isoformat()) == t.replace(tzinfo=UTC)
