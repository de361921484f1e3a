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
