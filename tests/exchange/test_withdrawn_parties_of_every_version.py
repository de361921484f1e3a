"""A third review of the MISP withdrawals (ed94b3f): the parts of a withdrawn item (names) after the withdrawal."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheldt.domain.exchange import Tlp
from scheldt.exchange.items import Alert, Meta, Party, Reason
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.exchange.stix_mapping import part_id
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from tests.exchange.test_misp_withdrawals import T1, UNTIL, _import, event_json
from tests.workflows.test_share import NOW, US, seed

AID = "grouping--3c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4e6"
NAMES = ("Bananera del Sur S.A.", "Exportadora Pacifico Ltda", "Jan Peeters")


def alert(modified: datetime, parties: tuple[str, ...]) -> Alert:
    return Alert(Meta(AID, identity_id("us-cbp"), T1 - timedelta(days=1), modified,
                      Sharing("alert", Tlp.AMBER_STRICT, "be-us", "", "B", "2", (), None, UNTIL)),
                 "Container NARU3472484", (Reason("officer", "consignee is a front"),),
                 parties=tuple(Party(n, role="consignee") for n in parties))


def _be_reads(engine: Engine) -> list[str]:
    with unit_of_work(engine) as uow:
        text = json.dumps([o.object for o in uow.exchange.page(uow.exchange.requester("be-customs", "officer"),
                                                                limit=100)])
    return [n for n in NAMES if n in text]


def test_a_withdrawal_deletes_the_parties_an_earlier_version_named(engine: Engine, tmp_path: Path) -> None:
    """v1 of us-cbp's alert names three parties (party:0..2, object_refs of 3), v2 only the first
    (object_refs of 1). withdraw_item deletes "its earlier versions and its parts ... so no
    partner keeps the names it carried", but parts_of takes the part ids from the *newest*
    version (part_ids: len(object_refs) + 1 = 2 parties), so party:2, "Jan Peeters", stays a
    live version read by be-customs after the withdrawal; it is not among the tombstones either,
    and since none of its versions is deleted, _not_after_revocation's new check
    (deleted_by_withdrawal) does not refuse a later version of it sent alone."""
    seed(engine, tmp_path)
    assert _import(engine, [event_json(alert(T1, NAMES))]).report.failed == []
    assert _import(engine, [event_json(alert(T1 + timedelta(hours=1), NAMES[:1]))]).report.failed == []
    with unit_of_work(engine) as uow:
        out = share.withdraw_item(uow, US, AID, NOW + timedelta(hours=1), "wrong box")
    assert _be_reads(engine) == []  # before the fix: ['Jan Peeters']
    assert part_id(AID, "identity", "party:2") in out["parts_deleted"]
