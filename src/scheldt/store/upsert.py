"""Dialect-aware ``INSERT ... ON CONFLICT DO NOTHING`` for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import chain
from operator import add, itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Float, Numeric, String, Table, literal_column
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from scheldt.store.rows import json_text

#: Rows sent per statement; SQLAlchemy batches them further ("insertmanyvalues").
CHUNK_ROWS = 5_000
#: From this many rows on, PostgreSQL gets them through COPY into a staging table.
COPY_FROM_ROWS = 200


def insert_ignore(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows``, skipping those whose key already exists; return how many were added.

    All rows must have the same keys. SQLite: as :class:`SqliteInsert` (values converted by the
    columns' own SQLAlchemy bind processors, so they read back exactly as the ORM wrote them;
    None stays NULL). PostgreSQL: as :func:`insert_ignore_returning`.
    """
    if not rows:
        return 0
    if session.get_bind().dialect.name != "sqlite":
        return len(insert_ignore_returning(session, table, rows, None))
    insert = SqliteInsert(session, table, list(rows[0]))
    return insert.run(insert.prepare(rows))


#: Most rows per SQLite ``VALUES`` statement (the driver's variable limit may lower it).
SQLITE_ROWS_PER_STATEMENT = 1_000
#: SQLite from which ``json_each`` and ``->>`` are built in (3.38.0, 2022).
_SQLITE_JSON = (3, 38, 0)


class SqliteInsert:
    """``INSERT ... ON CONFLICT DO NOTHING`` of rows of ``table`` with the given ``columns`` into
    SQLite, in two steps that may run on two threads:

    - :meth:`prepare` converts row dicts to what is inserted (Python work): each column's own
      SQLAlchemy bind processor (JSON as text, datetimes as SQLAlchemy writes them), then the
      rows as one JSON array of arrays where every value crosses JSON unchanged (text,
      integers within 2**53, NULL; no floating-point column), else as tuples;
    - :meth:`run` inserts them: the JSON text with one ``INSERT ... SELECT ... FROM
      json_each(?)``, tuples as ``VALUES (...), (...)`` statements of up to
      :data:`SQLITE_ROWS_PER_STATEMENT` rows. The driver releases the GIL while SQLite executes
      a statement, so one statement per batch lets another thread's Python run beside the whole
      insert (``executemany`` takes the GIL back after every row, and a thread waiting for it
      waits up to the interpreter's switch interval).

    Built on the thread that owns the session (it takes the session's connection, so the
    transaction is the session's). :meth:`prepare` keeps memos: one thread at a time.
    """

    def __init__(self, session: Session, table: Table, columns: Sequence[str]) -> None:
        dialect = session.get_bind().dialect
        self.plain: list[str] = []
        self.converted: list[tuple[str, Callable[[Any], Any]]] = []
        shared: dict[tuple[type, str], Callable[[Any], Any]] = {}
        for c in columns:
            impl = table.c[c].type.dialect_impl(dialect)
            if (f := impl.bind_processor(dialect)) is None:
                self.plain.append(c)
            else:
                # columns of one type share a memo: an event's created time is often its event time
                key = (type(impl), repr(impl))
                if key not in shared:
                    shared[key] = _remember_last(_faster(f))
                self.converted.append((c, shared[key]))
        names = self.plain + [c for c, _ in self.converted]
        self._head = f"INSERT INTO {table.name} ({', '.join(names)}) "
        self._one = "(" + ", ".join("?" * len(names)) + ")"
        self._from_json = (self._head + "SELECT " + ", ".join(f"value ->> {i}" for i in range(len(names)))
                           + " FROM json_each(?) WHERE true ON CONFLICT DO NOTHING")
        self._json_safe = (sqlite3.sqlite_version_info >= _SQLITE_JSON
                           and not any(isinstance(table.c[c].type, Float | Numeric) for c in names))
        driver = session.connection().connection.driver_connection
        self._cursor = driver.cursor()  # type: ignore[union-attr]
        most = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)  # type: ignore[union-attr]
        self.rows_per_statement = max(1, min(SQLITE_ROWS_PER_STATEMENT, most // len(names)))
        self._full = self._values_sql(self.rows_per_statement)

    def _values_sql(self, n: int) -> str:
        return self._head + "VALUES " + ", ".join([self._one] * n) + " ON CONFLICT DO NOTHING"

    def prepare(self, rows: Sequence[dict[str, Any]]) -> str | list[tuple[Any, ...]]:
        """What :meth:`run` takes for ``rows`` (dicts holding at least this insert's columns)."""
        values = list(_bound(rows, self.plain, self.converted))
        if self._json_safe and values:
            try:
                text = orjson.dumps(values, option=orjson.OPT_STRICT_INTEGER).decode()
            except (TypeError, orjson.JSONEncodeError):  # bytes, huge integers, lone surrogates...
                return values
            if "\\u0000" not in text:  # SQLite's JSON functions end a text at NUL
                return text
        return values

    def run(self, prepared: str | Sequence[tuple[Any, ...]]) -> int:
        """Insert what :meth:`prepare` gave; return how many rows were new."""
        if isinstance(prepared, str):
            self._cursor.execute(self._from_json, (prepared,))
            return self._cursor.rowcount
        added, size = 0, self.rows_per_statement
        for start in range(0, len(prepared), size):
            part = prepared[start:start + size]
            self._cursor.execute(self._full if len(part) == size else self._values_sql(len(part)),
                                 list(chain.from_iterable(part)))
            added += self._cursor.rowcount
        return added


class PostgresInsert:
    """``INSERT ... ON CONFLICT DO NOTHING`` of rows of ``table`` with the given ``columns`` into
    PostgreSQL, in the same two steps as :class:`SqliteInsert`:

    - :meth:`prepare` turns row dicts into one JSON array of arrays (JSON columns as their
      text, written by the store's serialiser; times as ISO 8601 text, as orjson writes them);
    - :meth:`run` sends it as one parameter of one ``INSERT ... SELECT`` over
      ``jsonb_array_elements``, each value cast to its column's type by the server. The driver
      releases the GIL while the server works, so the whole insert runs beside the caller's
      Python, and no staging table or row-by-row COPY formatting is needed.

    A batch that JSON cannot carry unchanged (a NUL character, which PostgreSQL text cannot
    hold; a lone surrogate; an integer beyond 64 bits; any row of a table with a
    floating-point column) is returned as the rows themselves and
    inserted by :func:`insert_ignore`, which meets the problem as it always did. Built on the
    thread that owns the session.
    """

    def __init__(self, session: Session, table: Table, columns: Sequence[str]) -> None:
        self.session, self.table = session, table
        dialect = session.get_bind().dialect
        as_json = [c for c in columns if isinstance(table.c[c].type, JSON)]
        self.plain = [c for c in columns if c not in as_json]
        # JSON values as text (None as the JSON text null, as the COPY path writes it)
        self.converted = [(c, _remember_last(json_text, none_stays=False)) for c in as_json]
        names = self.plain + as_json
        # text for strings of any length: the column's own check then refuses an over-long value
        # (an explicit cast to VARCHAR(n) would cut it short without a word)
        types = ["text" if isinstance(table.c[c].type, String) else table.c[c].type.compile(dialect=dialect)
                 for c in names]
        casts = ", ".join(f"(r ->> {i})::{t}" for i, t in enumerate(types))
        self._sql = (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {casts} "
                     "FROM jsonb_array_elements(%s::jsonb) AS r ON CONFLICT DO NOTHING")
        # orjson writes NaN and infinities as null: floating-point columns keep the old path
        self._json_safe = not any(isinstance(table.c[c].type, Float | Numeric) for c in names)
        self._cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]

    def prepare(self, rows: Sequence[dict[str, Any]]) -> str | Sequence[dict[str, Any]]:
        """What :meth:`run` takes for ``rows`` (dicts holding at least this insert's columns)."""
        if not self._json_safe:
            return rows
        try:
            text = orjson.dumps(list(_bound(rows, self.plain, self.converted))).decode()
        except (TypeError, orjson.JSONEncodeError):  # lone surrogates, integers beyond 64 bits...
            return rows
        return rows if "\\u0000" in text else text

    def run(self, prepared: str | Sequence[dict[str, Any]]) -> int:
        """Insert what :meth:`prepare` gave; return how many rows were new."""
        if not isinstance(prepared, str):
            return insert_ignore(self.session, self.table, prepared)
        self._cursor.execute(self._sql, (prepared,))
        return self._cursor.rowcount


def _bound(rows: Sequence[dict[str, Any]], plain: list[str],
           converted: list[tuple[str, Callable[[Any], Any]]]) -> Iterator[tuple[Any, ...]]:
    """Each row's values: the ``plain`` columns' as they are, then the ``converted`` ones through
    their converters, row after row (converters see one row's values before the next row's).

    Built from C-level iterators (itemgetter, map, zip, tuple concatenation): only the
    converters run Python code per value."""
    plain_values: Iterator[tuple[Any, ...]] | None = None
    if len(plain) > 1:
        plain_values = map(itemgetter(*plain), rows)
    elif plain:
        plain_values = map(lambda r, c=plain[0]: (r[c],), rows)  # type: ignore[misc]
    if not converted:
        assert plain_values is not None
        return plain_values
    converted_values = zip(*(map(f, map(itemgetter(c), rows)) for c, f in converted))
    return converted_values if plain_values is None else map(add, plain_values, converted_values)


#: Times a faster converter must give exactly as the one it replaces (see :func:`_faster`).
_PROBE_TIMES = (datetime(2026, 1, 2, 3, 4, 5, 678901), datetime(2026, 1, 2, 3, 4, 5),
                datetime(999, 12, 31, 23, 59, 59, 1), datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
                datetime(2026, 6, 30, 23, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))))


def _faster(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process``, or a faster function giving the same results: for a converter that writes
    a datetime's own fields as ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's SQLite DATETIME by
    default; any UTC offset left out), ``isoformat`` cut after the microseconds (a fifth of
    the cost of SQLAlchemy's dict formatting). Checked on :data:`_PROBE_TIMES` before use;
    values that are not exactly ``datetime`` still go to ``process``."""
    try:
        same = all(process(t) == _datetime_text(t) for t in _PROBE_TIMES)
    except Exception:  # noqa: BLE001 - a converter of something else entirely
        same = False
    if not same:
        return process

    def faster(value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]
        return process(value)

    return faster


def _datetime_text(value: datetime) -> str:
    return value.isoformat(" ", "microseconds")[:26]


def _remember_last(process: Callable[[Any], Any], none_stays: bool = True) -> Callable[[Any], Any]:
    """``process`` that returns an earlier result when given one of the last three objects it
    saw again (one received time for a whole batch, a created time that is the event time, one
    empty flag list between the details of every row), and None for None when ``none_stays``
    (else ``process(None)``). The object just seen moves to the front, so an object seen on
    every row stays."""
    last: list[Any] = [_NOTHING, None, _NOTHING, None, _NOTHING, None]

    def remembered(value: Any) -> Any:
        if value is last[0]:
            return last[1]
        if value is last[2]:
            out = last[3]
            last[0], last[1], last[2], last[3] = value, out, last[0], last[1]
            return out
        if value is last[4]:
            out = last[5]
            last[0], last[1], last[2], last[3], last[4], last[5] = value, out, last[0], last[1], last[2], last[3]
            return out
        if value is None and none_stays:
            return None
        out = process(value)
        last[0], last[1], last[2], last[3], last[4], last[5] = value, out, last[0], last[1], last[2], last[3]
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
    plain = [c for c in columns if c not in as_json]
    # JSON values as text (None as the JSON text null, as before), repeated objects converted once
    converted = [(c, _remember_last(json_text, none_stays=False)) for c in columns if c in as_json]
    columns = plain + [c for c, _ in converted]
    names = ", ".join(columns)
    with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
        for values in _bound(rows, plain, converted):
            copy.write_row(values)
    cursor.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
                   f"ON CONFLICT DO NOTHING RETURNING {returned}")
    return [r[0] for r in cursor.fetchall()]
