"""Stable cursors for keyset pagination: an opaque, URL-safe encoding of the last row's sort key.

A cursor names a position, not an offset, so rows added or removed meanwhile never shift a
page; a list with a cursor it did not give gets a 400 naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import math

import orjson

from scheldt.errors import InputError

MAX_LIMIT = 200
#: Largest id a cursor names: the stores' ids are 32-bit integers (a larger one is no row's and
#: PostgreSQL refuses to compare it).
MAX_ID = 2**31 - 1


def encode(*key: float | int) -> str:
    """The cursor after a row whose sort key is ``key``."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_score_id(cursor: str | None) -> tuple[float, int] | None:
    """(score, id) from a trips cursor, or None for the first page. Raises InputError."""
    if not cursor:
        return None
    values = _values(cursor)
    if len(values) != 2 or not isinstance(values[0], int | float) or not isinstance(values[1], int) \
            or isinstance(values[1], bool) or not math.isfinite(values[0]) or not 0 <= values[1] <= MAX_ID:
        raise InputError("cursor", "not a cursor this list gave")
    return float(values[0]), int(values[1])


def decode_id(cursor: str | None) -> int | None:
    """The last id from an id cursor, or None for the first page. Raises InputError."""
    if not cursor:
        return None
    values = _values(cursor)
    if len(values) != 1 or not isinstance(values[0], int) or isinstance(values[0], bool) \
            or not 0 <= values[0] <= MAX_ID:
        raise InputError("cursor", "not a cursor this list gave")
    return int(values[0])


def _values(cursor: str) -> list[object]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InputError("cursor", "not a cursor this list gave") from None
    if not isinstance(values, list):
        raise InputError("cursor", "not a cursor this list gave")
    return values
