"""Form values typed in the workbench, read into domain values."""

from datetime import UTC, datetime

import pytest

from scheldt.errors import InputError
from scheldt.web.forms import port_time


def test_a_port_time_is_read_by_the_port_clock_in_summer_and_winter() -> None:
    assert port_time("2026-06-01T10:00", "done_at").astimezone(UTC) == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert port_time("2026-12-01T10:00", "done_at").astimezone(UTC) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert port_time("2026-10-25T03:30", "done_at").astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert port_time("2026-03-29T03:30", "done_at").astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert port_time("  ", "done_at") is None


@pytest.mark.parametrize(("typed", "why"), [
    # a regression review: the second 02:30 of the night the clocks go back was taken as the first,
    # an hour early (before the box left), and 02:30 of the night they go forward was accepted
    ("2026-10-25T02:30", "2026-10-25 02:30 port time came twice that night (the clocks went back): record it "
                         "through the API with its UTC offset (done_at 2026-10-25T02:30+02:00 for the first, "
                         "+01:00 for the second)"),
    ("2026-03-29T02:30", "2026-03-29 02:30 port time did not exist that night (the clocks went forward an hour at "
                         "02:00): check the time"),
    ("yesterday", "'yesterday' is not a time (YYYY-MM-DDTHH:MM, port time)"),
])
def test_a_port_time_the_clock_skipped_or_showed_twice_is_refused(typed: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        port_time(typed, "done_at")
    assert (caught.value.where, caught.value.why) == ("done_at", why)
