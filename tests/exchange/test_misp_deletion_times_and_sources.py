"""A third review of the MISP withdrawals (ed94b3f): MISP deletions and marking refusals against how the item's
versions came (share.import_misp, what `scheldt misp import` calls)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheldt.domain.exchange import Tlp
from scheldt.exchange.stix_mapping import to_stix
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from tests.exchange.test_misp_withdrawals import ENTRY_ID, T1, _alerts, _deleted, _import, entry, event_json, watch_rows
from tests.workflows.test_share import NOW, seed


def _open_to(engine: Engine, org: str, user: str) -> list[str]:
    with unit_of_work(engine) as uow:
        return [o.stix_id for o in uow.exchange.page(uow.exchange.requester(org, user), limit=100)]


@pytest.fixture
def brussels(monkeypatch: pytest.MonkeyPatch):
    """The node's machine on Belgian time (TZ=Europe/Brussels), as a Belgian agency's would be."""
    monkeypatch.setenv("TZ", "Europe/Brussels")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _modified(event: dict, value: str) -> dict:
    for a in event["Object"][0]["Attribute"]:
        if a["object_relation"] == "modified":
            a["value"] = value
    return event


def test_a_deletion_whose_modified_names_no_offset_withdraws_what_its_live_event_stored(
        engine: Engine, tmp_path: Path, brussels: None) -> None:
    """The entry's event carries its `modified` datetime attribute without an offset
    ("2026-03-01T08:00:00"). Imported live, misp.event_item reads it as UTC (_time: a naive time
    is UTC) and stores 2026-03-01T08:00:00.000Z. The same event with its Scheldt object deleted:
    misp.deleted_item writes the value PyMISP parsed with stix_time(), whose astimezone() takes a
    naive time as the machine's local time, 07:00:00.000Z in Brussels, so _withdraw_deleted says
    "a stale deletion withdraws nothing" of the very version the event stored, and the entry stays
    in the watchlist store, alerting. On a machine on UTC it is withdrawn: one file, two outcomes."""
    trip_id = seed(engine, tmp_path)
    live = _modified(event_json(entry()), "2026-03-01T08:00:00")
    assert _import(engine, [live]).entries == [ENTRY_ID]
    with unit_of_work(engine) as uow:
        assert uow.exchange.newest([ENTRY_ID])[ENTRY_ID].modified == "2026-03-01T08:00:00.000Z"
    received = _import(engine, [_deleted(live)])
    assert received.report.failed == [] and received.withdrawn == [ENTRY_ID], received.report.failed
    with unit_of_work(engine) as uow:
        assert watch_rows(uow) == []
    assert _alerts(engine, trip_id) == []


def test_a_marking_refusal_said_to_withdraw_leaves_the_item_open_when_its_newest_came_over_taxii(
        engine: Engine, tmp_path: Path) -> None:
    """us-cbp's entry: v1 GREEN imported from MISP, v2 GREEN posted by its liaison over TAXII (the
    same terms), v3 RED from MISP, refused (RED to no user here). withdraw_laxer_versions(...,
    only_from="misp") deletes v1 only, and the failure says "its 1 earlier version(s) open to more
    readers are withdrawn here"; v2 (its newest live version, the same GREEN terms) stays, readable
    by every agency and in the watchlist store. Either the originator's newest word (RED) takes
    the item from the readers it no longer names, or the report must not say it did: it said
    so and nothing changed for any reader."""
    trip_id = seed(engine, tmp_path)
    assert _import(engine, [event_json(entry())]).entries == [ENTRY_ID]
    v2 = [o for o in to_stix(entry(T1 + timedelta(minutes=30), note="rip-on loads (case US-45)"))]
    with unit_of_work(engine) as uow:
        posted = share.receive_objects(uow, v2, "us-cbp", "taxii:liaison", None, NOW)
    assert posted.report.failed == [] and posted.entries == [ENTRY_ID]
    red = event_json(entry(T1 + timedelta(hours=1), Tlp.RED, None, (("us-cbp", "liaison-not-here"),)))
    refused = _import(engine, [red])
    why = refused.report.failed[0][1]
    # before the fix: "...; its 1 earlier version(s) open to more readers are withdrawn here", and
    # v2 stayed open: the MISP refusal now withdraws nothing and says nothing of it (v2 is
    # withdrawn the way it came)
    assert "withdrawn" not in why and ENTRY_ID in _open_to(engine, "nl-customs", "analyst"), why
    assert _alerts(engine, trip_id), why
