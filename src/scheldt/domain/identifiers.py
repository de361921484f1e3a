"""Check digits and shapes of transport identifiers (pure).

A wrong check digit never drops a record: the identifier is kept as given and the caller adds a
:class:`~scheldt.domain.declarations.Flag` (an officer wants to see it: a typo, or a fake).
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import imo as _imo
from stdnum import iso6346 as _iso6346

from scheldt.domain.declarations import Flag

_UNLOCODE_RE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


_CONTAINER_RE = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")
_SEPARATORS_RE = re.compile(r"[\s\-./]")


@lru_cache(maxsize=16_384)
def container_number(raw: str) -> tuple[str, Flag | None]:
    """Normalise an ISO 6346 container number (``"APZU 481209-0"`` → ``"APZU4812090"``).

    Returns the number and a flag when it is not a valid ISO 6346:2022 number (owner code,
    category letter U/J/Z, six digits, check digit); the check digit is computed by
    python-stdnum. Results are cached: a container's number recurs in every event of its trips.
    """
    number = _SEPARATORS_RE.sub("", raw).upper() if raw else raw
    if not _CONTAINER_RE.fullmatch(number or ""):
        why = "not shaped like an ISO 6346 container number (owner code of 3 letters, U/J/Z, 7 digits)"
        return number, Flag("equipment_reference", "invalid-container-number", f"{number}: {why}")
    expected = _iso6346.calc_check_digit(number[:10])
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
    if valid:
        return number, None
    return number, Flag("vessel_imo", "invalid-imo-number", f"{number}: not a valid IMO number (check digit)")


def is_unlocode_shape(code: str) -> bool:
    """True for a UN/LOCODE-shaped code: ISO 3166 country + 3 letters or digits 2-9."""
    return bool(_UNLOCODE_RE.match(code))


def unlocode_flag(code: str, field: str, known: dict[str, object], covered: frozenset[str]) -> Flag | None:
    """A flag for a UN/LOCODE that is malformed, or missing from a reference list that covers
    its country (``known`` codes, ``covered`` countries); None when fine or not checkable."""
    if not code:
        return None
    if not is_unlocode_shape(code):
        return Flag(field, "malformed-unlocode", f"{code!r} is not shaped like a UN/LOCODE (country + 3 letters/digits)")
    if code[:2] in covered and code not in known:
        return Flag(field, "unknown-unlocode", f"{code} is not in the shipped UN/LOCODE list for {code[:2]}")
    return None


def owner_code(number: str) -> str:
    """The ISO 6346 owner code (3 letters) of a container number, e.g. ``"APZ"``."""
    return number[:3]
