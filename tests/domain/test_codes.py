"""Shape checks of HS and country codes, property-based."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.codes import normalise_country, normalise_hs_code

chapters = st.integers(1, 97).map(lambda c: f"{c:02d}")
tails = st.sampled_from([4, 6, 8]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


@given(chapters, tails)
def test_valid_hs_codes_round_trip_with_dots(chapter: str, tail: str) -> None:
    code = chapter + tail
    dotted = ".".join(code[i : i + 2] for i in range(0, len(code), 2))
    assert normalise_hs_code(code) == code
    assert normalise_hs_code(dotted) == code


@given(st.text(max_size=12))
def test_hs_codes_never_accept_non_digits(raw: str) -> None:
    try:
        out = normalise_hs_code(raw)
    except ValueError:
        return
    assert out.isdigit() and len(out) in (6, 8, 10) and 1 <= int(out[:2]) <= 99


def test_lost_leading_zero_is_restored() -> None:
    assert normalise_hs_code("80390") == "080390"


def test_national_chapters_98_and_99_are_well_formed() -> None:
    # an attack review: a bill of lading's HS 999999 (US HTSUS chapter 99) was dropped
    assert normalise_hs_code("999999") == "999999" and normalise_hs_code("9801.00.10") == "98010010"


@pytest.mark.parametrize("raw", ["00123456", "001234", "1234", "1234567"])
def test_hs_codes_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_hs_code(raw)


def test_country_codes() -> None:
    assert normalise_country(" be ") == "BE"
    with pytest.raises(ValueError, match="alpha-2"):
        normalise_country("BEL")


@given(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4), st.text("0123456789", min_size=6, max_size=6))
def test_iso6346_check_digit_agrees_with_python_stdnum(letters: str, serial: str) -> None:
    from stdnum import iso6346

    from scheldt.domain.identifiers import iso6346_check_digit

    assert iso6346_check_digit(letters + serial) == iso6346.calc_check_digit(letters + serial)
