"""Form values typed in the workbench, read into domain values."""

from datetime import UTC, datetime

import pytest

from scheldt.errors import InputError
from scheldt.web.forms import kilograms, port_time, whole
from scheldt.web.render import mass, number


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


@pytest.mark.parametrize(("typed", "kg"), [("1,5", 1.5), ("1.5", 1.5), ("1250", 1250.0), (" 0,25 ", 0.25), (",5", 0.5),
                                           ("", None)])
def test_a_mass_is_digits_with_a_decimal_comma_or_point(typed: str, kg: float | None) -> None:
    assert kilograms(typed) == kg


@pytest.mark.parametrize("typed", ["1_000", "1e3", "2E1", "1,5e2", "\u0661\u0665", "inf", "nan", "1.5 kg", "0x10"])
def test_a_mass_float_would_read_but_no_one_types_is_refused(typed: str) -> None:
    """A search team review: ``1_000`` and ``1e3`` were saved as 1,000 kg, ``1_5`` as 15 kg and
    Arabic-Indic digits as 15 kg, without a word (Python's float() reads them all)."""
    with pytest.raises(InputError, match="is not a number of kilograms"):
        kilograms(typed)


@pytest.mark.parametrize("typed", ["\u0661\u0665", "\u00b2", "1_0", "+3"])
def test_a_whole_number_is_ascii_digits(typed: str) -> None:
    with pytest.raises(InputError, match="is not a whole number"):
        whole(typed, "capacity")


def test_figures_are_shown_with_a_thousands_separator_no_one_reads_as_a_decimal_mark() -> None:
    """A search team review: "1,000 kg" reads as 1 kg to a Belgian officer, who writes a decimal
    comma, as the mass field itself takes one; figures are grouped with a narrow no-break space."""
    assert (mass(1000), mass(1003.75), mass(12.5), mass(0.04)) == (
        "1\u202f000 kg", "1\u202f003.75 kg", "12.5 kg", "40 g")
    assert (number(1234567.891, 0), number(12.5)) == ("1\u202f234\u202f568", "12.5")
