"""Transport document versions in the store: what an oversized text costs (an ingest review's
300,000-character party name and 3,000-character container number went in whole)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

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


def test_a_document_s_other_voyages_are_a_fact_of_its_version(engine: Engine) -> None:
    """Other voyages (migration 0028) are kept, re-sending adds nothing, and an amendment that
    adds a voyage is a new version; a version stored before the upgrade (``other_voyages``
    NULL, read with its first voyage only) is not stored again when re-sent with its others."""
    from sqlalchemy import null, update

    from scheldt.store.models import TransportDocumentRow

    first = Consignment("BL-9", voyage="402E", containers=(("MSCU1234566", ()),), source="td.json")
    both = Consignment("BL-9", voyage="402E", other_voyages=("611W",), containers=(("MSCU1234566", ()),),
                       source="td-again.json")
    old = Consignment("BL-OLD", voyage="402E", containers=(("MSCU1234566", ()),), source="old.json")
    with unit_of_work(engine) as uow:
        added = [uow.documents.add([first], "be-customs", NOW)[0], uow.documents.add([both], "be-customs", NOW)[0],
                 uow.documents.add([both], "be-customs", NOW)[0], uow.documents.add([old], "be-customs", NOW)[0]]
        uow.session.execute(update(TransportDocumentRow).where(TransportDocumentRow.document_ref == "BL-OLD")
                            .values(other_voyages=null()))  # as migration 0028 leaves one stored before
        resent = uow.documents.add([replace(both, bill_of_lading="BL-OLD")], "be-customs", NOW)[0]
        versions = [(d["document_ref"], d["voyage"], d["other_voyages"])
                    for d in uow.documents.for_container("MSCU1234566", [])]
    assert added == [1, 1, 0, 1] and resent == 0
    assert versions == [("BL-9", "402E", []), ("BL-9", "402E", ["611W"]), ("BL-OLD", "402E", None)]


def test_a_version_stored_before_list_order_was_left_out_is_the_same_one_re_sent(engine: Engine) -> None:
    """A version's hash leaves out the order of its lists, and an unreadable issue date's flag no
    longer names the file it was read from. A version stored before (hashed in the order read,
    the flag naming its file) re-sent from the same file adds nothing."""
    from sqlalchemy import update

    from scheldt.domain.declarations import Flag
    from scheldt.domain.facts import fact_digest
    from scheldt.domain.shipping import Seal
    from scheldt.store.documents import _facts, version_hash
    from scheldt.store.models import TransportDocumentRow

    seals = (Seal("S-2", "CAR"), Seal("S-1", "SHI"))
    said = "shippedOnBoardDate '2023-02-30' is not an ISO 8601 date or date-time"
    doc = Consignment("BL-7", parties=(ShippingParty("shipper", "A"), ShippingParty("consignee", "B")),
                      goods=(GoodsItem("080390", "bananas"), GoodsItem("080450", "avocados")),
                      containers=(("MSCU1234566", seals), ("TGHU7654321", ())), source="tds.json$[3]",
                      flags=(Flag("shippedOnBoardDate", "unreadable-date", f"{said}; not used as the issue date"),))
    shuffled = replace(doc, parties=doc.parties[::-1], goods=doc.goods[::-1],
                       containers=(("TGHU7654321", ()), ("MSCU1234566", seals[::-1])))
    assert version_hash(shuffled) == version_hash(doc)
    as_stored_then = replace(doc, flags=(Flag("shippedOnBoardDate", "unreadable-date",
                                              f"{said} at tds.json$[3]; not used as the issue date"),))
    with unit_of_work(engine) as uow:
        assert uow.documents.add([doc], "be-customs", NOW)[0] == 1
        uow.session.execute(update(TransportDocumentRow).values(version_hash=fact_digest(_facts(as_stored_then))))
        again = uow.documents.add([doc], "be-customs", NOW)[0]
        # the same facts under another file name: the version stored then named its file, so it is
        # stored once more, as it hashes now; from then on neither name nor order makes a version
        later = [uow.documents.add([d], "be-customs", NOW)[0] for d in (
            replace(doc, source="copy.json$[3]"), shuffled, replace(shuffled, source="copy2.json$[3]"))]
    assert again == 0 and later == [1, 0, 0]
    # an item of a CloudEvents batch: its flag said where as the reader had it before the item's
    # source was rewritten (``$[0]$.data``; a regression review's batch added each such document)
    item = replace(doc, bill_of_lading="BL-8", source="batch.json$[0].data.transportDocument")
    then = replace(item, flags=(Flag("shippedOnBoardDate", "unreadable-date", f"{said} at "
                                     "batch.json$[0]$.data.transportDocument; not used as the issue date"),))
    with unit_of_work(engine) as uow:
        assert uow.documents.add([item], "be-customs", NOW)[0] == 1
        uow.session.execute(update(TransportDocumentRow).where(TransportDocumentRow.document_ref == "BL-8")
                            .values(version_hash=fact_digest(_facts(then))))
        assert uow.documents.add([item], "be-customs", NOW)[0] == 0


#: version_hash of a document (its reference the key here) with two goods items of HS 940540
#: (not in the shipped HS 2022 list) as stored while the flags of unknown HS codes were part of
#: a version (computed by the code of 2026-12-07 before they were left out): read from DCSA (the
#: reader's flag and the reference check's, per item) and from UN/EDIFACT (the check's alone);
#: received on or after 2022-01-01 (received on 2021-06-01, the DCSA one hashed as in the test
#: below).
_HASHED_WITH_HS_FLAGS = {"dcsa": "a2cbb2e48a7e49ea6717da96b70a8a620a2f2803efc8a9447cbf2ce14a4b8f6d",
                         "edifact": "f61defd0390abd57fbb8fedf8f8580137d5a390365ef1e6431feb8cf48db9a69"}


def test_a_version_stored_while_hs_flags_were_part_of_it_is_the_same_one_re_sent(engine: Engine) -> None:
    """A review found each DCSA document's unknown HS code flagged twice, worded by the edition in
    force when it was received: the flags are now raised once, by the document's date, and are no
    fact of the version. A version stored while they were, re-sent, adds nothing."""
    from sqlalchemy import update

    from scheldt.domain.declarations import Flag
    from scheldt.store.models import TransportDocumentRow

    doc = Consignment("BL-HS", goods=(GoodsItem("940540", "lamps"), GoodsItem("940540", "lamp parts")),
                      containers=(("MSCU1234566", ()),), source="td.json",
                      flags=(Flag("hs_code", "unknown-hs-code", "HS 940540 is not in the shipped nomenclature "
                                  "(HS 2022 (UN Comtrade extract)); on 2021-06-01 HS 2017 was in force and may have "
                                  "this code; kept as sent"),))
    for ref, golden in _HASHED_WITH_HS_FLAGS.items():
        sent = replace(doc, bill_of_lading=ref)
        with unit_of_work(engine) as uow:
            assert uow.documents.add([sent], "be-customs", NOW)[0] == 1
            uow.session.execute(update(TransportDocumentRow).where(TransportDocumentRow.document_ref == ref)
                                .values(version_hash=golden))
            assert uow.documents.add([sent], "be-customs", NOW)[0] == 0
            assert uow.documents.add([replace(sent, flags=())], "be-customs", NOW)[0] == 0
            assert uow.documents.add([replace(sent, goods=sent.goods[:1])], "be-customs", NOW)[0] == 1
    # received before 2022, the check's flag named the HS edition in force that day (a regression
    # review's 2021 replay, run again, added a version)
    then = datetime(2021, 6, 1, 23, 59, tzinfo=UTC)
    sent = replace(doc, bill_of_lading="dcsa-2021")
    with unit_of_work(engine) as uow:
        assert uow.documents.add([sent], "be-customs", then)[0] == 1
        uow.session.execute(update(TransportDocumentRow).where(TransportDocumentRow.document_ref == "dcsa-2021")
                            .values(version_hash="253fb0358a53b5cda9042160620346a51656f070bd915fad131b7bf1d1d54ac9"))
        assert uow.documents.add([sent], "be-customs", then)[0] == 0


def test_a_message_stored_as_read_before_a_reader_fix_adds_nothing_sent_again(engine: Engine) -> None:
    """A regression review: the ACE cargo report and a UN/EDIFACT shipping instruction, stored
    as the readers read them before the fixes of 2026-12-07 (a party's first name line; the
    instruction as a bill under the forwarder's reference), were stored again when sent again:
    a new version of the house bill, and the instruction twice; so was a DCSA document whose
    consignment item weighs more than one container holds. Now nothing is added; a real change
    of the document is still a new version."""
    import json

    from sqlalchemy import select, update

    from scheldt.ingest.dcsa_documents import read_dcsa_documents
    from scheldt.ingest.edifact.messages import read_edifact
    from scheldt.store.models import TransportDocumentRow
    from tests.conftest import SHARED
    from tests.ingest.test_edifact import CUSCAR_HEAD, _cuscar, _iftmin

    ace = next(r for r in read_edifact((SHARED / "fixtures" / "edifact" / "CUSCAR_D03B_us-cbp-ace-truck-manifest-UNG.edi"
                                        ).read_bytes(), "ace.edi") if isinstance(r, Consignment))
    [si] = list(read_edifact(_iftmin("BGM+340+SI999+9'RFF+FF:FWD-REF-1'RFF+BN:BKG999'NAD+CZ++NINGBO EXPORTS LTD:"
                                     "1 PORT ROAD'EQD+CN+MSCU1234566'"), "si.edi"))
    ebl = json.loads((SHARED / "fixtures" / "dcsa-ebl" / "ebl-v2-beta-ShippingInstruction-multiple-booking-refs.json"
                      ).read_text())
    ebl["consignmentItems"][0]["weight"] = 100_000  # two boxes' goods: more than one container's mass
    [heavy] = list(read_dcsa_documents(json.dumps(ebl).encode(), "heavy.json"))
    assert isinstance(heavy, Consignment) and heavy.earlier_reading is not None
    assert isinstance(si, Consignment) and ace.earlier_reading is not None and si.earlier_reading is not None
    assert (si.earlier_reading.document_type, si.earlier_reading.bill_of_lading) == ("TRD", "FWD-REF-1")
    with unit_of_work(engine) as uow:
        stored_then = [uow.documents.add([d.earlier_reading], "be-customs", NOW)[0] for d in (ace, si, heavy)]
        uow.session.execute(update(TransportDocumentRow).values(reader_revision=0))  # as migration 0038 leaves them
        again = [uow.documents.add([d], "be-customs", NOW)[0] for d in (ace, si, heavy)]
        changed = uow.documents.add([replace(ace, port_of_discharge="BEZEE", earlier_reading=replace(
            ace.earlier_reading, port_of_discharge="BEZEE"))], "be-customs", NOW)[0]
    assert stored_then == [1, 1, 1] and again == [0, 0, 0] and changed == 1
    # each was read again in place: the version now holds what the message says, as first read
    # kept apart and flagged; sent once more, nothing changes
    with unit_of_work(engine) as uow:
        rows = {(r.document_type, r.document_ref): r for r in uow.session.scalars(
            select(TransportDocumentRow).where(TransportDocumentRow.first_reading.is_not(None)))}
        once_more = [uow.documents.add([d], "be-customs", NOW)[0] for d in (ace, si, heavy)]
        read_again = {k: (r.reader_revision, r.first_reading["document_type"], r.first_reading["document_ref"],
                          [f["code"] for f in r.flags if f["code"] == "read-again"]) for k, r in rows.items()}
        ace_row = rows[("HBL", ace.bill_of_lading)]
        names = ({p["name"] for p in ace_row.parties}, {p["name"] for p in ace_row.first_reading["parties"]})
    assert read_again == {("HBL", ace.bill_of_lading): (1, "HBL", ace.bill_of_lading, ["read-again"]),
                          ("SHI", "SI999"): (1, "TRD", "FWD-REF-1", ["read-again"]),
                          ("SHI", heavy.bill_of_lading): (1, "SHI", heavy.bill_of_lading, ["read-again"])}
    assert "AADLER KEN" in names[0] and "AADLER" in names[1] and once_more == [0, 0, 0]
    # read again, its boxes are scored again (a fourth regression review: its facts changed unscored)
    with unit_of_work(engine) as uow:
        uow.session.execute(update(TransportDocumentRow).values(received_at=NOW - timedelta(days=30)))
        since_read = uow.documents.containers_received_since(NOW)
        uow.session.execute(update(TransportDocumentRow).values(read_again_at=None))
        without = uow.documents.containers_received_since(NOW)
    assert set(since_read) >= {n for d in (ace, si, heavy) for n, _ in d.containers} and without == []
    # on a store upgraded from before, an amendment the earlier readers could not see is read
    # into the version (a third regression review: it was dropped), not lost
    ace_file = SHARED / "fixtures" / "edifact" / "CUSCAR_D03B_us-cbp-ace-truck-manifest-UNG.edi"
    amended = next(r for r in read_edifact(ace_file.read_bytes().replace(b"AADLER:KEN", b"AADLER:BOB"), "ace.edi")
                   if isinstance(r, Consignment))
    with unit_of_work(engine) as uow:
        uow.documents.add([ace.earlier_reading], "us-cbp", NOW)
        uow.session.execute(update(TransportDocumentRow).where(TransportDocumentRow.supplied_by == "us-cbp")
                            .values(reader_revision=0))
        assert uow.documents.add([amended], "us-cbp", NOW)[0] == 0
        [row] = uow.session.scalars(select(TransportDocumentRow).where(TransportDocumentRow.supplied_by == "us-cbp"))
    assert "AADLER BOB" in {p["name"] for p in row.parties}
    assert "AADLER" in {p["name"] for p in row.first_reading["parties"]}
    with unit_of_work(engine) as uow:  # read as now from the first: stored once, as read now
        fresh = [uow.documents.add([replace(d, bill_of_lading=f"{d.bill_of_lading}-2", earlier_reading=None)],
                                   "be-customs", NOW)[0] for d in (ace, si)]
    assert fresh == [1, 1]
    # an amendment only the corrected reader sees, of a version it stored itself, is a new version
    # (a second regression review: the HS code changed to arms was taken for the version re-sent)
    first = _cuscar(CUSCAR_HEAD + "CNI+1+BL-HS'NAD+CN+++ACME LTD'GID+1+5:CT'PIA+5+847130'SGP+MSCU1234566'")
    [a] = list(read_edifact(first, "a.edi"))
    [b] = list(read_edifact(first.replace(b"BGM+85+MAN-1+9'", b"BGM+85+MAN-1+4'").replace(
        b"PIA+5+847130'", b"PIA+5+847130:SA+930190:HS'"), "b.edi"))
    assert isinstance(a, Consignment) and isinstance(b, Consignment) and b.earlier_reading is not None
    assert (a.goods[0].hs_code, b.goods[0].hs_code, b.earlier_reading.goods[0].hs_code) == ("847130", "930190", "847130")
    with unit_of_work(engine) as uow:
        assert [uow.documents.add([d], "be-customs", NOW)[0] for d in (a, b)] == [1, 1]


def test_a_house_bill_stored_before_its_unlisted_box_was_flagged_is_the_same_one_re_sent(engine: Engine) -> None:
    """The flag of a house bill's cargo in a box it does not list is raised since 2026-12-07: a
    house bill stored before, re-sent, adds nothing; the master's flag of the same kind (raised
    from the first) stays part of its version."""
    from scheldt.domain.declarations import Flag

    box = (("MSCU1234566", ()),)
    before = Consignment("HBOL-1", kind="house", document_type="HBL", containers=box, source="si.json$.h[0]")
    now = replace(before, flags=(Flag("cargoItems.equipmentReference", "container-not-in-house-bill",
                                      "cargo is packed in TGHU7654321, which the house bill's "
                                      "utilizedTransportEquipments does not list"),))
    master = Consignment("SI-1", containers=box, source="si.json$")
    flagged = replace(master, flags=(Flag("cargoItems.equipmentReference", "container-not-in-equipment",
                                          "cargo is packed in TGHU7654321, which utilizedTransportEquipments "
                                          "does not list"),))
    with unit_of_work(engine) as uow:
        assert [uow.documents.add([d], "be-customs", NOW)[0] for d in (before, now, master, flagged)] == [1, 0, 1, 1]
