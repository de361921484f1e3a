"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# SQLite allows 32,766 bound variables per statement; keep well below for wide rows.
_CHUNK_VARIABLES = 30_000


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping those whose key already exists; return how many were added."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    per_chunk = max(1, _CHUNK_VARIABLES // max(1, len(rows[0])))
    added = 0
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        stmt = module.insert(table).values(chunk).on_conflict_do_nothing()
        # RETURNING yields only the rows actually inserted, on both dialects (rowcount of a
        # multi-row insert is not reliable across drivers).
        added += len(session.execute(stmt.returning(literal_column("1"))).all())
    return added
