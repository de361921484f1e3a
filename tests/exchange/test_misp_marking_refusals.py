"""Review of 8ceaf0d: "an event refused for who may read it withdraws the copies imported before
for more readers". It does so only when import_misp's own checks refuse the event after its
objects are made; a refusal by event_item (the item's own check) or by ingest_objects' term
checks withdraws nothing, where a peer's same refusal does (federation.store_objects)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheldt.domain.exchange import Tlp
from scheldt.store.db import unit_of_work
from scheldt.workflows.accounts import create_user
from tests.exchange.test_misp_withdrawals import ENTRY_ID, T1, _alerts, _import, entry, event_json, watch_rows
from tests.workflows.test_share import NOW, seed


def _open_to(engine: Engine, org: str, user: str) -> list[str]:
    with unit_of_work(engine) as uow:
        return [o.stix_id for o in uow.exchange.page(uow.exchange.requester(org, user), limit=100)]


def test_an_entry_retagged_tlp_red_in_misp_withdraws_its_green_copy(engine: Engine, tmp_path: Path) -> None:
    """The MISP user re-tags the event tlp:red (MISP has no Scheldt recipients to add) and edits
    it. The RED version is refused ("TLP:RED needs named recipients", raised by event_item, so
    `made` is empty), and the GREEN entry stays open to the whole community and in the watchlist
    store: the case the fix names, for a Scheldt item instead of a foreign note."""
    trip_id = seed(engine, tmp_path)
    live = event_json(entry())
    assert _import(engine, [live]).entries == [ENTRY_ID]
    red = json.loads(json.dumps(live))
    red["Tag"] = [{"name": "tlp:red"} if t["name"] == "tlp:green" else t for t in red["Tag"]]
    for a in red["Object"][0]["Attribute"]:
        if a["object_relation"] == "modified":
            a["value"] = "2026-03-01T09:00:00.000Z"
    red["timestamp"] = str(int((NOW).timestamp()))
    refused = _import(engine, [red])
    assert refused.report.failed and "TLP:RED" in refused.report.failed[0][1]
    with unit_of_work(engine) as uow:
        rows = watch_rows(uow)
    assert ENTRY_ID not in _open_to(engine, "nl-customs", "analyst")  # before the fix: nl-customs reads the GREEN entry
    assert rows == [] and _alerts(engine, trip_id) == []


def test_a_red_version_refused_by_the_term_checks_withdraws_its_green_copy(engine: Engine, tmp_path: Path) -> None:
    """RED to us-cbp/liaison (a user here, so red_held_here passes) and line-m/security (a
    carrier's user): refused by ingest_objects ("...extensions.recipients.1: line-m is a carrier"),
    a refusal for its marking terms. The GREEN copy imported before stays readable by every
    agency; a peer's version refused the same way withdraws it (federation._refused_for_marking)."""
    seed(engine, tmp_path)
    with unit_of_work(engine) as uow:
        create_user(uow, "liaison", "us-cbp", ["liaison_officer"], "correct horse battery", NOW)
        create_user(uow, "security", "line-m", ["carrier_security"], "correct horse battery", NOW)
    assert _import(engine, [event_json(entry())]).entries == [ENTRY_ID]
    red = entry(T1 + timedelta(hours=1), Tlp.RED, None, (("us-cbp", "liaison"), ("line-m", "security")))
    refused = _import(engine, [event_json(red)])
    assert [w for w, _ in refused.report.failed] == [ENTRY_ID]
    assert ".extensions.recipients.1" in refused.report.failed[0][1]
    assert ENTRY_ID not in _open_to(engine, "nl-customs", "analyst")  # before the fix: still GREEN for the community
