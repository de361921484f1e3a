"""Values for the store's JSON columns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from scheldt.domain.facts import fact_digest, plain

__all__ = ["fact_digest", "json_text", "plain"]


def json_text(value: Any) -> str:
    """``value`` as JSON text; the store's serialiser for JSON columns."""
    return orjson.dumps(value, default=str).decode()


def aware(t: datetime | None) -> datetime | None:
    """A time read back from the store as timezone-aware UTC (SQLite returns naive UTC,
    PostgreSQL aware times); None stays None."""
    return None if t is None else t if t.tzinfo else t.replace(tzinfo=UTC)
