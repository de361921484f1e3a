"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Table, literal_column
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

#: Rows sent per statement; SQLAlchemy batches them further ("insertmanyvalues").
CHUNK_ROWS = 5_000
#: From this many rows on, PostgreSQL gets them through COPY into a staging table.
COPY_FROM_ROWS = 200


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping those whose key already exists; return how many were added.

    All rows must have the same keys. SQLite: the driver's ``executemany`` of one statement,
    with values converted by the columns' own SQLAlchemy bind processors (so they read back
    exactly as the ORM wrote them), counted by the driver. PostgreSQL: as
    :func:`insert_ignore_returning`.
    """
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        return len(insert_ignore_returning(session, table, rows, None))
    columns = list(rows[0])
    convert = [(c, table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
           "ON CONFLICT DO NOTHING")
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(sql, ([row[c] if f is None or row[c] is None else f(row[c]) for c, f in convert]
                             for row in rows))
    return cursor.rowcount


def insert_ignore_returning(session: Session, table: Table, rows: Sequence[dict[str, Any]],
                            key: str | None) -> list[Any]:
    """Insert ``rows``, skipping those whose key already exists; return the ``key`` column of
    each row actually inserted (``1`` per row when ``key`` is None).

    SQLite: one statement compiled once, executed with many parameter sets. PostgreSQL: small
    batches the same way; larger ones are COPYed into a temporary staging table and moved with
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (parsing thousands of bound parameters per
    statement costs more than the insert itself). RETURNING counts only the rows inserted.
    """
    if not rows:
        return []
    returned = table.c[key] if key else literal_column("1")
    if session.get_bind().dialect.name == "postgresql":
        if len(rows) >= COPY_FROM_ROWS:
            return _copy_insert(session, table, rows, key or "1")
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(table).on_conflict_do_nothing().returning(returned)
    else:
        stmt = sqlite.insert(table).on_conflict_do_nothing().returning(returned)
    out: list[Any] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        out += session.execute(stmt, list(rows[start : start + CHUNK_ROWS])).scalars().all()
    return out


def _copy_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], returned: str) -> list[Any]:
    columns = list(rows[0])
    as_json = {c for c in columns if isinstance(table.c[c].type, JSON)}
    staging = f"staging_{table.name}"
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name} INCLUDING DEFAULTS) "
                   "ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {staging}")
    names = ", ".join(columns)
    with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([json.dumps(row[c]) if c in as_json else row[c] for c in columns])
    cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
                   f"ON CONFLICT DO NOTHING RETURNING {returned}")
    return [r[0] for r in cursor.fetchall()]
