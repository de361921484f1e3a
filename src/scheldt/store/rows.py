"""Values for the store's JSON columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


from scheldt.domain.facts import fact_digest, fields_dict, json_bytes, plain

__all__ = ["fact_digest", "fields_dict", "json_text", "plain"]


def json_text(value: Any) -> str:
    """``value`` as JSON text; the store's serialiser for JSON columns (see
    :func:`scheldt.domain.facts.json_bytes`: dataclasses, tuples and datetimes as plain JSON)."""
    return json_bytes(value).decode()


def aware(t: datetime | None) -> datetime | None:
    """A time read back from the store as timezone-aware UTC (SQLite returns naive UTC,
    PostgreSQL aware times); None stays None."""
    return None if t is None else t if t.tzinfo else t.replace(tzinfo=UTC)
