"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, literal_column
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from scheldt.store.rows import json_text

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
    convert, shared = [], {}
    for i, c in enumerate(columns):
        impl = table.c[c].type.dialect_impl(dialect)
        if (f := impl.bind_processor(dialect)) is not None:
            # columns of one type share a memo: an event's created time is often its event time
            convert.append((i, shared.setdefault((type(impl), repr(impl)), _remember_last(f))))
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
           "ON CONFLICT DO NOTHING")
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(sql, _bound(rows, itemgetter(*columns) if len(columns) > 1 else lambda r: (r[columns[0]],),
                                   convert))
    return cursor.rowcount


def _bound(rows: Sequence[dict[str, Any]], values: Callable[[dict[str, Any]], tuple[Any, ...]],
           convert: list[tuple[int, Callable[[Any], Any]]]) -> Iterator[list[Any]]:
    """Each row's values in column order, converted by their columns' bind processors."""
    for row in rows:
        out = list(values(row))
        for i, f in convert:
            if (v := out[i]) is not None:
                out[i] = f(v)
        yield out


def _remember_last(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` that returns an earlier result when given one of the last two objects it
    converted again (one received time for a whole batch, a created time that is the event
    time, one empty flag list)."""
    last: list[Any] = [_NOTHING, None, _NOTHING, None]

    def remembered(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        if value is last[2]:
            return last[3]
        out = process(value)
        last[2], last[3], last[0], last[1] = last[0], last[1], value, out
        return out

    return remembered


_NOTHING = object()


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
            copy.write_row([json_text(row[c]) if c in as_json else row[c] for c in columns])
    cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
                   f"ON CONFLICT DO NOTHING RETURNING {returned}")
    return [r[0] for r in cursor.fetchall()]
