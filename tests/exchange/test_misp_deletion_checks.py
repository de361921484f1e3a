"""MISP soft deletion withdraws an item here only when the deletion is its originator's, of its
newest version (a review of 8ceaf0d). Every test goes through share.import_misp, what `scheldt misp import` calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheldt.exchange.objects import identity_id
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from tests.exchange.test_misp_withdrawals import (
    ENTRY_ID,
    _alerts,
    _deleted,
    _import,
    entry,
    event_json,
)
from tests.workflows.test_share import NOW, OFFICER, seed, strict


def _live(uow, stix_id: str) -> list:
    return [v for v in uow.exchange.versions(None, stix_id) if not v.revoked]


def test_a_deleted_event_created_by_another_organisation_does_not_withdraw_the_importer_s_item(
        engine: Engine, tmp_path: Path) -> None:
    """The event's creator (Orgc) is nl-customs: a live event of nl-customs imported as us-cbp is
    refused (its created_by_ref names another organisation known here); its deletion must be too,
    or a nl-customs MISP user withdraws us-cbp's entry by deleting an object in an event of its own."""
    trip_id = seed(engine, tmp_path)
    assert _import(engine, [event_json(entry())]).entries == [ENTRY_ID]
    forged = event_json(entry(org="nl-customs"))          # same stix-id, Orgc = nl-customs' identity
    forged["uuid"] = "99999999-0000-4000-8000-000000000001"   # nl-customs' own event
    live_forged = _import(engine, [forged])                  # the live event is refused, as it should be
    assert live_forged.report.added == [] and live_forged.report.failed
    received = _import(engine, [_deleted(forged)])
    with unit_of_work(engine) as uow:
        live = _live(uow, ENTRY_ID)
    # before the fix: received.withdrawn == [ENTRY_ID]; us-cbp's entry revoked, out of the watchlist store
    assert received.withdrawn == [] and live and _alerts(engine, trip_id)


def test_a_deleted_object_naming_another_items_id_withdraws_nothing(engine: Engine, tmp_path: Path) -> None:
    """A MISP event is one item: its uuid is the UUID of the item's main object (misp module
    docstring). An event of another uuid, whose deleted scheldt-alert object names the id of
    us-cbp's watchlist entry (an indicator, not an alert), withdraws that entry before the fix."""
    trip_id = seed(engine, tmp_path)
    assert _import(engine, [event_json(entry())]).entries == [ENTRY_ID]
    other = {"uuid": "99999999-0000-4000-8000-000000000002", "info": "old alert", "date": "2026-02-20",
             "timestamp": str(int((NOW + timedelta(hours=1)).timestamp())), "Tag": [{"name": "tlp:green"}],
             "Orgc": {"name": "us-cbp", "uuid": identity_id("us-cbp").split("--")[1]},
             "Object": [{"name": "scheldt-alert", "deleted": True, "Attribute": [
                 {"object_relation": "stix-id", "type": "text", "value": ENTRY_ID, "deleted": True}]}]}
    received = _import(engine, [other])
    with unit_of_work(engine) as uow:
        live = _live(uow, ENTRY_ID)
    assert received.withdrawn == [] and live and _alerts(engine, trip_id)


def test_a_misp_deletion_does_not_withdraw_an_item_made_on_this_node(engine: Engine, tmp_path: Path) -> None:
    """be-customs' officer shared an alert in the workbench (source local). A deleted copy of it
    in a MISP file imported as be-customs withdraws it before the fix, with no user, no SHARE permission
    and no reason: withdraw_laxer_versions never lets a MISP import take back a version made on
    this node (_a_copy), and neither should a MISP deletion."""
    trip_id = seed(engine, tmp_path)
    with unit_of_work(engine) as uow:
        out = share.share_alert(uow, OFFICER, trip_id, strict(), NOW, note="consignee unknown to us")
        events, _ = share.export_misp(uow, uow.exchange.requester("be-customs", "officer"))
    event = next(json.loads(e.to_json()) for e in events if e.uuid == out["id"].split("--")[1])
    received = _import(engine, [_deleted(event)], org="be-customs")
    with unit_of_work(engine) as uow:
        live = _live(uow, out["id"])
    assert received.withdrawn == [] and live  # before the fix: withdrawn, every earlier version and part deleted


def test_a_stale_deletion_does_not_withdraw_a_newer_version(engine: Engine, tmp_path: Path) -> None:
    """v1 (T1) came by MISP and was deleted in MISP an hour later; meanwhile us-cbp sent v2 (NOW
    + 2h). The deleted event (object of v1, event timestamp NOW + 1h), imported after, withdraws
    v2 before the fix, dated now: a revocation older than the newest version revokes nothing (STIX 2.1,
    as _not_after_revocation holds for every other way in)."""
    trip_id = seed(engine, tmp_path)
    v1 = event_json(entry())
    assert _import(engine, [v1]).entries == [ENTRY_ID]
    newer = _import(engine, [event_json(entry(NOW + timedelta(hours=2), note="rip-on loads (case US-45)"))])
    assert newer.report.failed == [] and newer.entries == [ENTRY_ID]
    with unit_of_work(engine) as uow:
        assert "2026-03-01T11:00:00.250Z" in [v.modified for v in _live(uow, ENTRY_ID)]
    received = _import(engine, [_deleted(v1)])   # deleted at NOW + 1h, v1's object
    with unit_of_work(engine) as uow:
        live = [v.modified for v in _live(uow, ENTRY_ID)]
    assert received.withdrawn == [] and "2026-03-01T11:00:00.250Z" in live and _alerts(engine, trip_id)


def test_a_deletion_that_cannot_be_dated_costs_only_its_event(engine: Engine, tmp_path: Path) -> None:
    """An entry stored (before the one-day rule, or under a clock then ahead) with a version
    dated 9999-12-31: a MISP file carrying its deleted event and an unrelated good event. The
    withdrawal's refusal was not caught, so the whole file was lost, as a review's 1e20
    timestamp once lost it; the event alone is reported failed."""
    seed(engine, tmp_path)
    far = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    live = event_json(entry(far))
    with unit_of_work(engine) as uow:  # stored when that date was within a day of its arrival
        assert share.import_misp(uow, json.dumps({"Event": live}), "us-cbp", far).report.added
    good = {"uuid": "33333333-0000-4000-8000-000000000009", "info": "ok", "date": "2026-02-20",
            "timestamp": "1771581600", "Tag": [{"name": "tlp:green"}],
            "Attribute": [{"type": "text", "category": "Other", "value": "MSCU1234566"}]}
    received = _import(engine, [good, _deleted(live)])
    assert [a[0] for a in received.report.added] == [f"note--{good['uuid']}"]
    assert received.report.failed == [(f"event {live['uuid']}", f"shared item {ENTRY_ID}: its newest version is "
                                       "dated 9999-12-31T23:59:59.999Z: no later revocation can be dated")]
