"""Turning domain records into the plain values stored in JSON columns."""

from __future__ import annotations

from typing import Any


def plain(value: Any) -> Any:
    """A dataclass tree as plain dicts and lists, like ``dataclasses.asdict`` without its deep
    copies (which dominated ingest time on large event streams)."""
    if hasattr(value, "__dataclass_fields__"):
        return {f: plain(getattr(value, f)) for f in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
