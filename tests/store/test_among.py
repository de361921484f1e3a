"""``among``: the condition a column is one of many texts, one parameter on PostgreSQL."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Integer, MetaData, String, Table, select
from sqlalchemy.schema import Column

from scheldt.store.db import among, unit_of_work

#: Texts as a TAXII client may send for ids before any check: quotes, commas, braces,
#: backslashes, spaces, non-ASCII letters (PostgreSQL text cannot hold NUL).
TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
STORED = ['indicator--"quoted"', "a,b", "{braced}", "back\\slash", " ", "", "NULL", "Zoë", "identity--x"]


def test_among_finds_exactly_the_texts_given(engine: Engine) -> None:
    """An ANY array parameter was escaped element by element in Python (a tenth of a TAXII Add
    Objects' request); the texts now go as one JSON text the server splits, and must match as
    they did, whatever characters they hold."""
    table = Table("among_probe", MetaData(), Column("id", Integer, primary_key=True), Column("value", String))
    table.create(engine)
    try:
        with unit_of_work(engine) as uow:
            uow.session.execute(table.insert(), [{"id": i, "value": v} for i, v in enumerate(STORED)])

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(st.lists(st.one_of(st.sampled_from(STORED), TEXTS), max_size=8))
        def check(values: list[str]) -> None:
            with unit_of_work(engine) as uow:
                found = uow.session.scalars(select(table.c.value).where(among(uow.session, table.c.value, values)))
                assert sorted(found) == sorted(v for v in STORED if v in values)

        check()
    finally:
        table.drop(engine)
