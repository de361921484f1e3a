"""Storing object versions in bulk (``ExchangeRepository.add_versions``): the same rows on
SQLite and PostgreSQL (which inserts through one ``unnest`` statement), seqs in the order
given, versions already stored or repeated in the batch skipped, named recipients kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select

from scheldt.store.db import unit_of_work
from scheldt.store.models import SharedObjectRecipientRow, SharedObjectRow
from scheldt.store.rows import aware

NOW = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def _version(n: int, **over: object) -> dict:
    stix_id = f"indicator--00000000-0000-4000-8000-{n:012d}"
    obj = {"type": "indicator", "id": stix_id, "spec_version": "2.1", "modified": f"2026-02-0{n}T10:00:00.000Z",
           "name": f"entry {n} – Ünïcode", "pattern": "[x:y = 'z']"}
    values = {"stix_id": stix_id, "modified": obj["modified"], "modified_at": datetime(2026, 2, n, 10, tzinfo=UTC),
              "stix_type": "indicator", "spec_version": "2.1", "kind": "watchlist-entry", "tlp": "amber",
              "owner_org": "be-customs", "group_id": "be-us", "handling_code": "H1", "reliability": "B",
              "credibility": "2", "valid_from": NOW, "valid_until": None, "revoked": False, "object": obj,
              "source": "local", "date_added": NOW}
    return values | over


def test_bulk_versions_are_stored_exactly_and_in_order(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        uow.session.execute(delete(SharedObjectRecipientRow))
        uow.session.execute(delete(SharedObjectRow))
    first = _version(1)
    with unit_of_work(engine) as uow:
        assert uow.exchange.add_versions([(first, ())])[0] is not None
    batch = [(first, ()),  # already stored
             (_version(2, group_id=None, tlp="red", valid_until=datetime(2027, 1, 1, tzinfo=UTC), revoked=True,
                       modified_at=None), (("us-cbp", "bob"), ("us-cbp", "bob"), ("be-customs", "alice"))),
             (_version(3), ()),
             (_version(3), ())]  # repeated within the batch
    with unit_of_work(engine) as uow:
        seqs = uow.exchange.add_versions(batch)
    assert seqs[0] is None and seqs[3] is None
    assert seqs[1] is not None and seqs[2] == seqs[1] + 1
    with unit_of_work(engine) as uow:
        two = uow.exchange.get_seq(seqs[1])
        assert (two.stix_id, two.group_id, two.tlp, two.revoked, two.valid_until, two.date_added) == (
            batch[1][0]["stix_id"], None, "red", True, datetime(2027, 1, 1, tzinfo=UTC),
            NOW + timedelta(microseconds=1))  # date_added after every stored version's (the first was added at NOW)
        assert two.object == batch[1][0]["object"] and two.object["name"] == "entry 2 – Ünïcode"
        assert uow.exchange.recipients(seqs[1]) == frozenset({("us-cbp", "bob"), ("be-customs", "alice")})
        three = uow.session.execute(select(SharedObjectRow).where(SharedObjectRow.seq == seqs[2])).scalar_one()
        assert (three.handling_code, three.reliability, three.credibility, aware(three.modified_at),
                aware(three.valid_from), three.modified) == (
            "H1", "B", "2", datetime(2026, 2, 3, 10, tzinfo=UTC), NOW, "2026-02-03T10:00:00.000Z")
        assert [o.seq for o in uow.exchange.get_seqs([seqs[2], seqs[1], 10**9])] == [seqs[1], seqs[2]]


def test_a_page_without_objects_reads_no_object(engine: Engine) -> None:
    """Manifests and version lists need the versions' ids and times, not the objects."""
    from sqlalchemy import event

    with unit_of_work(engine) as uow:
        uow.session.execute(delete(SharedObjectRecipientRow))
        uow.session.execute(delete(SharedObjectRow))
        uow.exchange.add_versions([(_version(1), ()), (_version(2), ())])
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with unit_of_work(engine) as uow:
            bare = uow.exchange.page(None, group_id="be-us", as_text=True, with_object=False)
            full = uow.exchange.page(None, group_id="be-us", as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [(r.stix_id, r.modified, r.date_added, r.text) for r in bare] == [
        (r.stix_id, r.modified, r.date_added, "") for r in full]
    assert len(full) == 2 and '"entry 1' in full[0].text
    pages = [s for s in statements if "FROM shared_object" in s]
    assert "shared_object.object" not in pages[0] and "shared_object.object" in pages[1]
