"""Facts as plain values: canonical JSON form, digests, name keys (pure)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def plain(value: Any) -> Any:
    """A dataclass tree as plain dicts, lists, strings and numbers (datetimes as RFC 3339
    strings, enums as their values), ready for a JSON column.

    Serialised and read back by orjson, which walks dataclasses in C: a recursive
    ``dataclasses.asdict`` dominated ingest time on large event streams.
    """
    return orjson.loads(orjson.dumps(value, default=str))


def fact_digest(facts: Any) -> str:
    """SHA-256 (hex) of ``facts`` as canonical JSON (keys sorted): equal facts, equal digest."""
    return hashlib.sha256(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def name_key(name: str) -> str:
    """A party name as compared for history: lower case, single spaces, at most 256 characters."""
    return " ".join(name.lower().split())[:256]
