"""stix_timestamp: STIX 2.1 timestamps (§3.2) read as aware UTC times, to the microsecond."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.exchange import has_version, stix_timestamp, version_key


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


def test_version_key_names_one_instant_one_way() -> None:
    assert version_key("2026-01-01T00:00:00Z") == version_key("2026-01-01T00:00:00.000Z") \
        == version_key("2026-01-01T01:00:00+01:00") == "2026-01-01T00:00:00.000000Z"
    assert version_key("2026-01-01T00:00:00.001Z") != version_key("2026-01-01T00:00:00Z")
    assert version_key("not a time") == "not a time"
    assert has_version([("be-customs", "2026-01-01T00:00:00.000Z")], "2026-01-01T00:00:00Z")
    assert not has_version([("be-customs", "2026-01-01T00:00:00.000Z")], "2026-01-01T00:00:01Z")


@given(st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)), st.integers(0, 6))
def test_version_key_is_the_same_for_any_written_precision(t: datetime, extra: int) -> None:
    t = t.replace(microsecond=t.microsecond // 1000 * 1000)
    millis = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}" + "0" * extra + "Z"
    assert version_key(millis) == t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_forms_beside_the_plain_one_read_as_before() -> None:
    """The plain form is read without strptime; every other form the way it was read before."""
    assert stix_timestamp("2026-03-01t12:00:00.25z") == datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert stix_timestamp("2026-3-1T2:0:0Z") == datetime(2026, 3, 1, 2, tzinfo=UTC)  # strptime takes one digit
    assert stix_timestamp("2026-02-30T00:00:00Z") is None
    assert stix_timestamp("2026-03-01T24:00:00Z") is None
    # strptime read other scripts' digits; stix2's check refuses such a time before it is stored
    assert stix_timestamp("٢٠٢٦-03-01T12:00:00Z") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert stix_timestamp(" 2026-03-01T12:00:00.000001Z ") == datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC)
    assert version_key("0005-01-01T00:00:00Z") == datetime(5, 1, 1).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert version_key("2026-03-01T12:00:00.5Z") == "2026-03-01T12:00:00.500000Z"


@given(st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)), st.integers(0, 6), st.booleans())
def test_the_plain_form_reads_as_strptime_read_it(t: datetime, digits: int, lower: bool) -> None:
    text = t.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    if t.year < 1000:
        text = f"{t.year:04d}" + t.strftime("-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{t.microsecond:06d}"[:digits]
    text += "Z"
    if lower:
        text = text.replace("T", "t").replace("Z", "z")
    head, _, frac = text[:-1].partition(".")
    expected = datetime.strptime(head.upper(), "%Y-%m-%dT%H:%M:%S").replace(
        microsecond=int(frac.ljust(6, "0")) if frac else 0, tzinfo=UTC)
    assert stix_timestamp(text) == expected
    assert version_key(text) == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
