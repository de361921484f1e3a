"""Check digits and shapes of transport identifiers (pure).

A wrong check digit never drops a record: the identifier is kept as given and the caller adds a
:class:`~scheldt.domain.declarations.Flag` (an officer wants to see it: a typo, or a fake).
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import lru_cache
from operator import mul

from stdnum import imo as _imo

from scheldt.domain.declarations import Flag

_UNLOCODE_RE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")

#: The MMSI of no station (ITU-R M.585), sent by unconfigured transponders: the AIS readers
#: flag it and the store ties none of its positions or static data to a vessel.
UNSET_MMSI = "000000000"


_CONTAINER_RE = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_SEPARATORS_RE = re.compile(r"[\s\-./]")
#: ISO 6346 character values (digits as themselves, letters from 10 skipping multiples of 11)
#: and position weights 2**i; the same alphabet python-stdnum uses, without its per-call
#: clean-up and string searches (a million unique numbers per ingest made those the largest cost).
_ISO6346_VALUES = {c: v for v, c in enumerate("0123456789A BCDEFGHIJK LMNOPQRSTU VWXYZ") if c != " "}
_ISO6346_WEIGHTS = tuple(2**i for i in range(10))
#: The weighted sums of the serial number's two halves (positions 5-7 and 8-10) by their three
#: digits: two look-ups instead of six products.
def _serial_sums(weights: tuple[int, int, int]) -> dict[str, int]:
    return {f"{n:03d}": sum(map(mul, map(int, f"{n:03d}"), weights)) for n in range(1000)}


_SERIAL_HIGH = _serial_sums(_ISO6346_WEIGHTS[4:7])
_SERIAL_LOW = _serial_sums(_ISO6346_WEIGHTS[7:10])


@lru_cache(maxsize=8_192)
def _owner_sum(prefix: str) -> int:
    """The weighted sum of an owner code and category letter (4 characters): few owners send
    most containers, so it is computed once per owner. Raises KeyError outside 0-9 and A-Z."""
    return sum(map(mul, map(_ISO6346_VALUES.__getitem__, prefix), _ISO6346_WEIGHTS))


def iso6346_check_digit(body: str) -> str:
    """The ISO 6346 check digit (one character ``"0"``..``"9"``) of the first 10 characters of
    ``body`` (owner code, category letter, six digits; upper case, already shape-checked).
    Raises KeyError for a character outside 0-9 and A-Z, or for fewer than 10 characters.
    Agrees with python-stdnum's ``iso6346.calc_check_digit`` (property-tested)."""
    return str((_owner_sum(body[:4]) + _SERIAL_HIGH[body[4:7]] + _SERIAL_LOW[body[7:10]]) % 11 % 10)


@lru_cache(maxsize=16_384)
def container_number(raw: str) -> tuple[str, Flag | None]:
    """Normalise an ISO 6346 container number (``"APZU 481209-0"`` → ``"APZU4812090"``).

    Returns the number and a flag when it is not a valid ISO 6346:2022 number (owner code,
    category letter U/J/Z, six digits, check digit; see :func:`iso6346_check_digit`). Results
    are cached: a container's number recurs in every event of its trips.
    """
    number = raw
    if not (raw and _CONTAINER_RE.fullmatch(raw)):  # not already in normal form
        number = _SEPARATORS_RE.sub("", raw).upper() if raw else raw
        if not _CONTAINER_RE.fullmatch(number or ""):
            why = "not shaped like an ISO 6346 container number (owner code of 3 letters, U/J/Z, 7 digits)"
            return number, Flag("equipment_reference", "invalid-container-number", f"{number}: {why}")
    expected = iso6346_check_digit(number)
    if number[10] == expected:
        return number, None
    why = f"ISO 6346 check digit is wrong (expected {expected})"
    return number, Flag("equipment_reference", "invalid-container-number", f"{number}: {why}")


def imo_number(raw: str | int | None) -> tuple[str, Flag | None]:
    """Normalise an IMO ship identification number to its 7 digits.

    Returns the number and a flag when its check digit (IMO Resolution A.1117(30)) is wrong.
    """
    if raw is None or raw == "":
        return "", None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    try:
        number = _imo.compact(str(raw))
    except ValueError:
        number = str(raw)
    try:
        valid = _imo.is_valid(number)
    except ValueError:
        valid = False
    if valid and number.strip("0"):
        return number, None
    if valid:  # 0000000 passes the check digit but names no ship (an attack review)
        return number, Flag("vessel_imo", "invalid-imo-number", f"{number}: not an IMO number (all zeros)")
    return number, Flag("vessel_imo", "invalid-imo-number", f"{number}: not a valid IMO number (check digit)")


def is_unlocode_shape(code: str) -> bool:
    """True for a UN/LOCODE-shaped code: ISO 3166 country + 3 letters or digits 2-9."""
    return bool(_UNLOCODE_RE.match(code))


def unlocode_flag(code: str, field: str, known: dict[str, object], covered: frozenset[str],
                  countries: Container[str] | None = None) -> Flag | None:
    """A flag for a UN/LOCODE that is malformed, whose country is not an ISO 3166-1 one (with
    ``countries``; XZ, UN/LOCODE's international waters, passes), or that is missing from a
    reference list covering its country (``known`` codes, ``covered`` countries); None when
    fine or not checkable."""
    if not code:
        return None
    if not is_unlocode_shape(code):
        return Flag(field, "malformed-unlocode", f"{code!r} is not shaped like a UN/LOCODE (country + 3 letters/digits)")
    if countries is not None and code[:2] != "XZ" and code[:2] not in countries:
        # an attack review's ZZZZZ and XYABC passed: the shipped list covers a few countries only
        return Flag(field, "unknown-country", f"{code}: {code[:2]} is not an ISO 3166-1 country")
    if code[:2] in covered and code not in known:
        return Flag(field, "unknown-unlocode", f"{code} is not in the shipped UN/LOCODE list for {code[:2]}")
    return None


def owner_code(number: str) -> str:
    """The ISO 6346 owner code (3 letters) of a container number, e.g. ``"APZ"``."""
    return number[:3]
