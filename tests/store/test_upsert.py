"""insert_ignore on SQLite: values converted exactly as SQLAlchemy's bind processors do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.orm import Session

from scheldt.store.upsert import _faster, insert_ignore

_DIALECT = create_engine("sqlite://").dialect
_DEFAULT = DATETIME(timezone=True).bind_processor(_DIALECT)

offsets = st.one_of(st.none(), st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))))


@settings(deadline=None)  # timing is not the point; the machine may be busy
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
                    timezones=offsets))
def test_faster_datetime_text_is_sqlalchemys(value: datetime) -> None:
    assert _faster(_DEFAULT)(value) == _DEFAULT(value)


def test_faster_exact_values_and_what_it_leaves_alone() -> None:
    fast = _faster(_DEFAULT)
    assert fast is not _DEFAULT
    assert fast(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2026-01-02 03:04:05.000000"
    assert fast(datetime(5, 6, 7, 8, 9, 10, 11)) == "0005-06-07 08:09:10.000011"
    assert fast(date(2026, 1, 2)) == "2026-01-02 00:00:00.000000"  # not a datetime: SQLAlchemy's own
    truncated = DATETIME(truncate_microseconds=True).bind_processor(_DIALECT)
    assert _faster(truncated) is truncated  # another format: kept
    as_json = JSON().bind_processor(_DIALECT)
    assert _faster(as_json) is as_json


def test_insert_ignore_keeps_none_as_null_and_counts_new_rows() -> None:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(10)),
                  Column("at", DateTime(timezone=True), nullable=True), Column("created", DateTime(timezone=True)),
                  Column("doc", JSON, nullable=True))
    table.metadata.create_all(engine)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    rows = [{"id": 1, "name": "a", "at": at, "created": at, "doc": {"k": [1]}},
            {"id": 2, "name": "b", "at": None, "created": at, "doc": None}]
    with Session(engine) as session:
        assert insert_ignore(session, table, rows) == 2
        assert insert_ignore(session, table, rows[:1] + [{**rows[1], "id": 3}]) == 1
        stored = session.execute(select(table).order_by(table.c.id)).all()
        raw = session.connection().exec_driver_sql("SELECT at, created, doc, typeof(doc) FROM t ORDER BY id").all()
    assert [tuple(r) for r in stored] == [
        (1, "a", datetime(2026, 3, 1, 12), datetime(2026, 3, 1, 12), {"k": [1]}),
        (2, "b", None, datetime(2026, 3, 1, 12), None),
        (3, "b", None, datetime(2026, 3, 1, 12), None)]
    assert [tuple(r) for r in raw] == [("2026-03-01 12:00:00.000000", "2026-03-01 12:00:00.000000", '{"k": [1]}', "text"),
                                       (None, "2026-03-01 12:00:00.000000", None, "null"),
                                       (None, "2026-03-01 12:00:00.000000", None, "null")]


def test_remembered_conversions() -> None:
    from scheldt.store.upsert import _remember_last

    calls: list[object] = []

    def convert(value: object) -> str:
        calls.append(value)
        return f"<{value}>"

    a, b, c, d, flags = ["a"], ["b"], ["c"], ["d"], ()
    f = _remember_last(convert)
    # a detail object per row between objects seen on every row: those are converted once
    assert [f(v) for v in (a, flags, b, flags, c, flags, None, d, flags, a)] == [
        "<['a']>", "<()>", "<['b']>", "<()>", "<['c']>", "<()>", None, "<['d']>", "<()>", "<['a']>"]
    assert calls == [a, flags, b, c, d, a]  # ``a`` had left the last three
    g = _remember_last(convert, none_stays=False)
    assert g(None) == "<None>"


def test_postgres_copy_path_writes_json_none_as_json_null(postgres_url: str) -> None:
    """Rows from COPY_FROM_ROWS on go through COPY; a None in a JSON column is the JSON text
    null there (as before the converters were shared), not SQL NULL."""
    from scheldt.store.upsert import COPY_FROM_ROWS, insert_ignore

    engine = create_engine(postgres_url)
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", DateTime(timezone=True)), Column("doc", JSON, nullable=True),
                  Column("tags", JSON, nullable=True))
    table.metadata.create_all(engine)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    rows = [{"id": i, "at": at, "doc": None if i % 2 else {"i": i}, "tags": ()} for i in range(COPY_FROM_ROWS + 5)]
    with Session(engine) as session:
        assert insert_ignore(session, table, rows) == len(rows)
        assert insert_ignore(session, table, rows[:3]) == 0
        raw = session.connection().exec_driver_sql(
            "SELECT id, at, doc IS NULL, doc::text, tags::text FROM t WHERE id < 3 ORDER BY id").all()
    engine.dispose()
    assert [tuple(r) for r in raw] == [(0, at, False, '{"i":0}', "[]"), (1, at, False, "null", "[]"),
                                       (2, at, False, '{"i":2}', "[]")]


def _text_table() -> tuple[object, Table]:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("name", String),
                  Column("n", Integer, nullable=True), Column("doc", JSON, nullable=True))
    table.metadata.create_all(engine)
    return engine, table


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.text(max_size=12), st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
                          st.one_of(st.none(), st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2))),
                max_size=8))
def test_sqlite_insert_reads_back_what_was_given(values: list[tuple[str, int | None, dict | None]]) -> None:
    """Through JSON (text, integers within 2**53) or as bound tuples (a NUL in a text, larger
    integers), every value reads back as given, NULL as None."""
    from scheldt.store.upsert import SqliteInsert

    engine, table = _text_table()
    rows = [{"id": i, "name": name, "n": n, "doc": doc} for i, (name, n, doc) in enumerate(values)]
    with Session(engine) as session:
        insert = SqliteInsert(session, table, ["id", "name", "n", "doc"])
        prepared = insert.prepare(rows)
        texts = [r["name"] for r in rows] + [t for r in rows for kv in (r["doc"] or {}).items() for t in kv]
        if any("\x00" in t for t in texts) or any(abs(r["n"] or 0) > 2**53 for r in rows):
            assert isinstance(prepared, list)
        elif rows and not any("\\" in t for t in texts):
            assert isinstance(prepared, str)
        assert insert.run(prepared) == len(rows)
        stored = session.execute(select(table).order_by(table.c.id)).all()
    assert [(r.name, r.n, r.doc) for r in stored] == values


def test_sqlite_insert_statements_split_and_duplicates_skipped(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Tuples (a table with a floating-point column never goes through JSON) are inserted
    SQLITE_ROWS_PER_STATEMENT rows per statement; the count is of new rows only."""
    from sqlalchemy import Float

    from scheldt.store import upsert

    monkeypatch.setattr(upsert, "SQLITE_ROWS_PER_STATEMENT", 7)
    engine = create_engine("sqlite://")
    table = Table("f", MetaData(), Column("id", Integer, primary_key=True), Column("lat", Float))
    table.metadata.create_all(engine)
    rows = [{"id": i % 40, "lat": 51.0 + i / 3} for i in range(50)]  # ids 0-9 twice: the first kept
    with Session(engine) as session:
        insert = upsert.SqliteInsert(session, table, ["id", "lat"])
        prepared = insert.prepare(rows)
        assert isinstance(prepared, list) and insert.rows_per_statement == 7
        assert insert.run(prepared) == 40
        stored = session.execute(select(table.c.lat).order_by(table.c.id)).scalars().all()
    assert stored == [51.0 + i / 3 for i in range(40)]
