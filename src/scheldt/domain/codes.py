"""Shape checks for codes used on declarations (pure; membership checks live in reference/).

A code that fails these checks is *malformed* and its record is rejected; a well-formed code
that is missing from a reference list is kept and flagged.
"""

from __future__ import annotations

import re

_HS_RE = re.compile(r"^\d{6}(\d{2}){0,2}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def normalise_hs_code(raw: str) -> str:
    """Return the HS code as digits only, e.g. ``"6109.10"`` → ``"610910"``.

    Accepts 6, 8 or 10 digits (HS6 and national 8/10-digit extensions), with dots or spaces
    between digit groups. A 5-digit code is taken as a 6-digit code whose leading zero was lost
    by a spreadsheet (chapters 01-09), a quirk seen in real files. Chapters 01-97 are the HS
    nomenclature's; 98 and 99 are reserved for national use (EU CN 9919/9930, US HTSUS 98/99)
    and accepted as well-formed (a code missing from the shipped list is flagged, not refused).
    Raises ValueError with the reason when the code cannot be an HS code.
    """
    digits = raw.strip().replace(".", "").replace(" ", "")
    if len(digits) in (5, 9) and digits.isdigit():
        digits = "0" + digits
    if not _HS_RE.match(digits):
        raise ValueError(f"HS code {raw!r} is not 6, 8 or 10 digits")
    if digits[:2] == "00":
        raise ValueError(f"HS code {raw!r} has no chapter 00 (chapters are 01-97, and 98-99 for national use)")
    return digits


def normalise_country(raw: str) -> str:
    """Return an ISO 3166-1 alpha-2 code in upper case; ValueError if not two letters."""
    code = raw.strip().upper()
    if not _COUNTRY_RE.match(code):
        raise ValueError(f"country {raw!r} is not an ISO 3166-1 alpha-2 code (two letters)")
    return code
