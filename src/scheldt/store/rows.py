"""Values for the store's JSON columns."""

from __future__ import annotations

from typing import Any

import orjson

from scheldt.domain.facts import fact_digest, plain

__all__ = ["fact_digest", "json_text", "plain"]


def json_text(value: Any) -> str:
    """``value`` as JSON text; the store's serialiser for JSON columns."""
    return orjson.dumps(value, default=str).decode()
