"""Review of 8ceaf0d: "the parts of a withdrawn item ... are refused with it, whatever way they
come". Only when its main object is in the same batch (sharing._not_after_revocation computes
the part ids from the main objects in the batch)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheldt.exchange.stix_mapping import part_ids, to_stix
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from tests.exchange.test_misp_withdrawals import AID, T1, _alert, _import, event_json
from tests.workflows.test_share import NOW, US, seed


def test_a_withdrawn_alert_s_party_sent_alone_later_does_not_come_back(engine: Engine, tmp_path: Path) -> None:
    """us-cbp's alert (imported by MISP) is withdrawn (its parts deleted). A later envelope from
    us-cbp (TAXII Add Objects: receive_objects with source taxii:liaison) carries only the
    party's identity, a new version, without the alert's main object: it was stored, and
    be-customs reads "Bananera del Sur S.A." again, the name the withdrawal deleted."""
    seed(engine, tmp_path)
    assert _import(engine, [event_json(_alert(T1))]).report.failed == []
    with unit_of_work(engine) as uow:
        share.withdraw_item(uow, US, AID, NOW + timedelta(hours=1), "wrong box")
    objects = to_stix(_alert(T1))
    ids = part_ids(AID, next(o for o in objects if o["id"] == AID))
    names = [o for o in objects if o["id"] in ids and "Bananera" in json.dumps(o)]
    assert names  # the party's identity (and its relationship/location)
    later = [o | {"modified": "2026-03-01T12:00:00.000Z"} for o in names]
    with unit_of_work(engine) as uow:
        received = share.receive_objects(uow, later, "us-cbp", "taxii:liaison", "be-us", NOW + timedelta(hours=2))
    with unit_of_work(engine) as uow:
        be = [o.stix_id for o in uow.exchange.page(uow.exchange.requester("be-customs", "officer"), limit=100)
              if "Bananera" in json.dumps(o.object)]
    assert received.report.added == [] and be == []


def test_a_party_deleted_in_misp_is_not_imported_with_its_alert(engine: Engine, tmp_path: Path) -> None:
    """8ceaf0d leaves what MISP's users deleted out of a foreign event's note ("a review's
    informant was" shared), but not out of a Scheldt event: an alert whose scheldt-party object
    (the consignee's name) a MISP user soft-deleted, the alert itself kept, is imported with the
    party, and be-customs (group be-us) reads the deleted name."""
    seed(engine, tmp_path)
    event = event_json(_alert(T1))
    party = [o for o in event["Object"] if o["name"] == "scheldt-party"]
    assert party
    for o in party:
        o["deleted"] = True
        for a in o["Attribute"]:
            a["deleted"] = True
    received = _import(engine, [event])
    assert received.report.failed == [] and received.withdrawn == []
    with unit_of_work(engine) as uow:
        be = [o.stix_id for o in uow.exchange.page(uow.exchange.requester("be-customs", "officer"), limit=100)
              if "Bananera" in json.dumps(o.object)]
    assert be == []
