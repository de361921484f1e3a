"""Values for the store's JSON columns, times read back, and statements built once."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any, overload

from scheldt.domain.facts import fact_digest, fields_dict, json_bytes, plain

__all__ = ["fact_digest", "fields_dict", "fit", "json_text", "plain"]


def edifact_message(source: str) -> str:
    """The UN/EDIFACT message a stored record's ``source`` names: its file and message reference
    ("codeco-0420.edi message 1", from "... message 1 (segment 3) ..."), or "" when it names
    none (a DCSA JSON path, an AIS line). Senders number each interchange's messages from 1
    again: a regression review's re-report in a new file, numbered 1 as the first, was taken
    for the first sent again."""
    found = _MESSAGE.search(source or "")
    return found.group(1) if found else ""


_MESSAGE = re.compile(r"^(.* message \S+) \(segment ")


def json_text(value: Any) -> str:
    """``value`` as JSON text; the store's serialiser for JSON columns (see
    :func:`scheldt.domain.facts.json_bytes`: dataclasses, tuples and datetimes as plain JSON)."""
    return json_bytes(value).decode()


@overload
def aware(t: datetime) -> datetime: ...
@overload
def aware(t: None) -> None: ...
def aware(t: datetime | None) -> datetime | None:
    """A time read back from the store (or about to be compared with one) as timezone-aware
    UTC: SQLite returns naive UTC, PostgreSQL aware times in the session's zone; None stays
    None."""
    return None if t is None else t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


_BUILT: dict[Hashable, Any] = {}


def built_once(key: Hashable, build: Callable[[], Any]) -> Any:
    """The statement ``build()`` makes, built on the first call with ``key`` and reused after.

    For statements run on every request (a trip page, a list page, an audit append): they are
    written with ``bindparam`` for every value, so that one built statement serves all
    values. SQLAlchemy spends about 0.3 ms of CPU building a select and computing its cache key
    on each call; running a prebuilt one costs about a third of that (benchmarks/api_load.py).
    ``key`` must name the statement's shape completely (which filters, how many values)."""
    stmt = _BUILT.get(key)
    if stmt is None:
        stmt = _BUILT.setdefault(key, build())
    return stmt


def fit(value: str, limit: int, field: str, flags: list[dict[str, Any]]) -> str:
    """``value`` cut to its column's ``limit`` characters; a cut is flagged into ``flags`` (code
    ``cut-to-fit``, naming ``field``), so an officer sees that a search or a link on this column
    reads only the start of what was sent."""
    if len(value) <= limit:
        return value
    flags.append({"field": field, "code": "cut-to-fit", "why": f"{field} is {len(value)} characters long; only the "
                  f"first {limit} are kept for searching and linking"})
    return value[:limit]
