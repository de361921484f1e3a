"""Transport document versions in the store: what an oversized text costs (an ingest review's
300,000-character party name and 3,000-character container number went in whole)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from scheldt.domain.shipping import Consignment, GoodsItem, ShippingParty
from scheldt.store.db import unit_of_work

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_oversized_texts_are_cut_and_flagged_and_a_container_number_of_pages_costs_its_document(engine: Engine) -> None:
    long_name = Consignment("BL-1", parties=(ShippingParty("shipper", "A" * 300_000, address="Quay 1"),),
                            goods=(GoodsItem("080390", "bananas " * 1000),), containers=(("MSCU1234566", ()),),
                            source="c-big.edi CNI 1")
    long_box = Consignment("BL-2", containers=(("MSCU1234566", ()), ("X" * 3000, ())), source="c-bigbox.edi CNI 1")
    with unit_of_work(engine) as uow:
        added, rejected = uow.documents.add([long_name, long_box], "be-customs", NOW)
        assert added == 1
        assert [(r.where, r.field, r.why) for r in rejected] == [
            ("c-bigbox.edi CNI 1", "container", "container number of 3,000 characters (XXXXXXXXXXXXXXXXXXXX...): "
                                                "at most 64 are read")]
        [doc] = uow.documents.for_container("MSCU1234566", [])
    party, goods = doc["parties"][0], doc["goods"][0]
    assert (len(party["name"]), party["address"], len(goods["description"])) == (512, "Quay 1", 4096)
    assert [(f["field"], f["code"]) for f in doc["flags"]] == [("party name", "cut-to-fit"),
                                                                ("goods item description", "cut-to-fit")]
    with unit_of_work(engine) as uow:  # the same document again adds nothing
        assert uow.documents.add([long_name], "be-customs", NOW) == (0, [])


def test_a_document_the_store_cannot_write_costs_only_itself(engine: Engine) -> None:
    """An ingest review: one document's 10**30 packages raised out of the store and stopped the
    whole ingest, nothing of any file loaded (readers now refuse such counts; the store still
    must not fall over on what a reader lets through)."""
    huge = Consignment("BL-3", goods=(GoodsItem("080390", "bananas", 10**30),), containers=(("MSCU1234566", ()),),
                       source="td.json$")
    fine = Consignment("BL-4", containers=(("MSCU1234566", ()),), source="td2.json$")
    with unit_of_work(engine) as uow:
        added, [rejected] = uow.documents.add([huge, fine], "be-customs", NOW)
    assert added == 1 and rejected.where == "td.json$"
    assert rejected.why == "the document holds a value the store cannot write: Integer exceeds 64-bit range"
