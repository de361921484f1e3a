"""MISP import against withdrawals, version order and TLP changes: the failing inputs of a
review of the import path (2026-12-07), each with what should hold. Each test goes through
:func:`scheldt.workflows.share.import_misp`, what ``scheldt misp import`` calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from scheldt.domain.exchange import Tlp
from scheldt.exchange.items import Alert, Container, Meta, Party, Reason, WatchEntry
from scheldt.exchange.misp import item_event
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.store.db import unit_of_work
from scheldt.store.models import WatchlistEntryRow
from scheldt.workflows import share
from scheldt.workflows.share import withdrawn_version
from tests.workflows.test_share import NOW, OFFICER, US, seed

ENTRY_ID = "indicator--0b5c8d5e-5a0e-4c55-9d3a-4d5f6e7a8b9c"
T1 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
UNTIL = datetime(2026, 9, 1, tzinfo=UTC)


def entry(modified: datetime = T1, tlp: Tlp = Tlp.GREEN, group: str | None = None,
          recipients: tuple = (), org: str = "us-cbp", note: str = "rip-on loads (case US-44)") -> WatchEntry:
    return WatchEntry(Meta(ENTRY_ID, identity_id(org), T1, modified,
                           Sharing("watchlist-entry", tlp, group, "", "B", "2", recipients, None, UNTIL)),
                      "container", note, container_number="NARU3472484")


def event_json(item, org: str = "us-cbp") -> dict:
    return json.loads(item_event(item, {identity_id(org): org}).to_json())


def watch_rows(uow) -> list[tuple]:
    t = WatchlistEntryRow
    return sorted(uow.session.execute(select(t.list_name, t.entry_id, t.name, t.supplied_by)).all())


def _import(engine: Engine, events: list[dict], org: str = "us-cbp", group: str | None = None):
    with unit_of_work(engine) as uow:
        return share.import_misp(uow, json.dumps({"response": [{"Event": e} for e in events]}), org, NOW, group)


def _alerts(engine: Engine, trip_id: int) -> list[str]:
    with unit_of_work(engine) as uow:
        return [w["title"] for w in share.watchlist_alerts_about(uow, OFFICER, trip_id, NOW)]


# --- 1. MISP deletion is ignored: an entry imported by MISP never leaves the store through MISP ---

def _deleted(event: dict) -> dict:
    """The event as a MISP instance sends it after its user soft-deleted the Scheldt object
    (MISP's per-object deletion: ``deleted: true`` on the object and its attributes, event
    timestamp bumped)."""
    out = json.loads(json.dumps(event))
    for obj in out["Object"]:
        obj["deleted"] = True
        for attribute in obj["Attribute"]:
            attribute["deleted"] = True
    out["timestamp"] = str(int((NOW + timedelta(hours=1)).timestamp()))
    return out


def test_an_event_whose_scheldt_object_is_deleted_does_not_land(engine: Engine, tmp_path: Path) -> None:
    trip_id = seed(engine, tmp_path)
    received = _import(engine, [_deleted(event_json(entry()))])
    with unit_of_work(engine) as uow:
        rows = watch_rows(uow)
    # before the fix: added, landed as shared:community, and a local alert raised on NARU3472484
    assert received.entries == [] and rows == [] and _alerts(engine, trip_id) == []


def test_an_entry_resent_with_its_object_deleted_leaves_the_watchlist(engine: Engine, tmp_path: Path) -> None:
    trip_id = seed(engine, tmp_path)
    live = event_json(entry())
    assert _import(engine, [live]).entries == [ENTRY_ID] and _alerts(engine, trip_id)
    again = _import(engine, [_deleted(live)])
    with unit_of_work(engine) as uow:
        rows = watch_rows(uow)
    # before the fix: reported as "already stored", the entry stays in the store and keeps alerting
    assert (ENTRY_ID, "2026-03-01T08:00:00.000Z") not in again.report.known
    assert rows == [] and _alerts(engine, trip_id) == []


# --- 2. a refused stricter version leaves the laxer MISP copy readable (federation withdraws it) ---

def test_a_red_version_refused_withdraws_the_green_entry_it_replaces(engine: Engine, tmp_path: Path) -> None:
    trip_id = seed(engine, tmp_path)
    _import(engine, [event_json(entry())])
    red = event_json(entry(T1 + timedelta(hours=1), Tlp.RED, None, (("us-cbp", "liaison-not-here"),)))
    refused = _import(engine, [red])
    assert refused.report.failed  # RED to no user of this node: not kept (red_held_here)
    with unit_of_work(engine) as uow:
        live = [v.tlp for v in uow.exchange.versions(None, ENTRY_ID) if not v.revoked]
        rows = watch_rows(uow)
    # the originator's newest word is RED: the GREEN copy must not stay open to the community
    # (share.withdraw_laxer_versions, whose _a_copy names source "misp", is never called by import_misp)
    assert "green" not in live and rows == [] and _alerts(engine, trip_id) == []


def test_a_foreign_event_retagged_red_withdraws_its_green_note(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path)
    uid = "11111111-0000-4000-8000-000000000001"

    def note(ts: str, tlp: str) -> dict:
        return {"uuid": uid, "info": "reefer feed", "date": "2026-02-20", "timestamp": ts, "Tag": [{"name": tlp}],
                "Orgc": {"name": "US", "uuid": identity_id("us-cbp").split("--")[1]},
                "Attribute": [{"type": "text", "category": "Other", "value": "informant: J. Peeters"}]}
    assert _import(engine, [note("1771581600", "tlp:green")]).report.failed == []
    refused = _import(engine, [note("1771585200", "tlp:red")])
    assert "TLP:RED needs named recipients" in refused.report.failed[0][1]
    with unit_of_work(engine) as uow:
        nl = [o.stix_id for o in uow.exchange.page(uow.exchange.requester("nl-customs", "analyst"), limit=100)]
    assert f"note--{uid}" not in nl  # before the fix: the whole community read the GREEN note


# --- 3. a withdrawn alert's parts (names) come back through an older or newer version ---

AID = "grouping--3c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"


def _alert(modified: datetime) -> Alert:
    return Alert(Meta(AID, identity_id("us-cbp"), T1 - timedelta(days=1), modified,
                      Sharing("alert", Tlp.AMBER_STRICT, "be-us", "", "B", "2", (), None, UNTIL)),
                 "Container NARU3472484", (Reason("officer", "consignee is a front"),),
                 container=Container("NARU3472484"),
                 parties=(Party("Bananera del Sur S.A.", role="consignee", country="EC"),))


def test_a_withdrawn_alert_s_names_do_not_come_back_through_another_version(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path)
    assert _import(engine, [event_json(_alert(T1))]).report.failed == []
    with unit_of_work(engine) as uow:  # withdrawn here by its originator: parts deleted (share._withdraw)
        share.withdraw_item(uow, US, AID, NOW + timedelta(hours=1), "wrong box")
    older = _import(engine, [event_json(_alert(T1 - timedelta(days=1)))])
    newer = _import(engine, [event_json(_alert(NOW + timedelta(days=1)))])
    for report in (older.report, newer.report):  # the main object and its four parts (container, party)
        assert [i for i, _ in report.failed][0] == AID and len(report.failed) == 5
        assert all("a part of an item withdrawn by its originator" in why for _, why in report.failed[1:])
    with unit_of_work(engine) as uow:
        be = [o.stix_id for o in uow.exchange.page(uow.exchange.requester("be-customs", "officer"), limit=100)
              if "Bananera" in json.dumps(o.object)]
    # before the fix: the main object is refused, but its party identity, location, relationship and
    # container are added as live versions, and be-customs reads "Bananera del Sur S.A." again
    assert older.report.added == [] and newer.report.added == [] and be == []


# --- 4. a far-future version makes an entry impossible to withdraw ---

def test_a_far_future_version_is_refused_and_the_originator_can_still_withdraw(engine: Engine, tmp_path: Path) -> None:
    trip_id = seed(engine, tmp_path)
    far = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    # before the fix: taken, and then the originator's revocation "revoked nothing" (older than
    # the newest version), withdraw_item failed with "a number in the request is out of range",
    # and the entry screened trips until it expired
    received = _import(engine, [event_json(entry(far))])
    assert received.report.added == [] and [w for w, _ in received.report.failed] == [ENTRY_ID]
    assert "9999-12-31T23:59:59.999Z is more than a day after its arrival" in received.report.failed[0][1]
    ahead = _import(engine, [event_json(entry(NOW + timedelta(hours=20)))])  # a clock ahead: taken
    assert ahead.report.failed == [] and ahead.entries == [ENTRY_ID] and _alerts(engine, trip_id)
    with unit_of_work(engine) as uow:
        latest = uow.exchange.newest([ENTRY_ID])[ENTRY_ID]
        revoked = share.receive_objects(uow, [withdrawn_version(latest.object, "2026-03-02T06:00:00.000Z")],
                                        "us-cbp", "taxii:liaison", None, NOW)
    with unit_of_work(engine) as uow:
        rows = watch_rows(uow)
    assert revoked.report.failed == [] and rows == [] and _alerts(engine, trip_id) == []


def test_an_entry_stored_far_ahead_before_the_rule_is_refused_withdrawal_in_words(engine: Engine,
                                                                                   tmp_path: Path) -> None:
    """One stored before such versions were refused (taken here as received on its own day)."""
    from scheldt.errors import ConflictError

    seed(engine, tmp_path)
    far = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        assert share.import_misp(uow, json.dumps({"Event": event_json(entry(far))}), "us-cbp", far).report.added
    with unit_of_work(engine) as uow:  # before the fix: "request: a number in the request is out of range"
        try:
            share.withdraw_item(uow, US, ENTRY_ID, NOW, "wrong box")
        except ConflictError as exc:
            assert exc.why == "its newest version is dated 9999-12-31T23:59:59.999Z: no later revocation can be dated"
        else:
            raise AssertionError("withdrawn with no revocation dated after its newest version")


# --- 5. a soft-deleted attribute of a foreign event is published in its note ---

def test_a_deleted_attribute_is_not_in_the_note(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path)
    uid = "11111111-0000-4000-8000-000000000002"
    event = {"uuid": uid, "info": "reefer feed", "date": "2026-02-20", "timestamp": "1771585200",
             "Tag": [{"name": "tlp:green"}], "Orgc": {"name": "US", "uuid": identity_id("us-cbp").split("--")[1]},
             "Attribute": [{"type": "text", "category": "Other", "value": "MSCU1234566"},
                           {"type": "text", "category": "Other", "value": "informant Jan Peeters", "deleted": True}]}
    assert _import(engine, [event]).report.failed == []
    with unit_of_work(engine) as uow:
        content = uow.exchange.newest([f"note--{uid}"])[f"note--{uid}"].object["content"]
    assert "Jan Peeters" not in content  # before the fix: "Other / text: informant Jan Peeters", GREEN


# --- 6. one event with an overflowing timestamp costs the whole file ---

def test_an_overflowing_timestamp_costs_only_its_event(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path)
    good = {"uuid": "33333333-0000-4000-8000-000000000001", "info": "ok", "date": "2026-02-20",
            "timestamp": "1771581600", "Tag": [{"name": "tlp:green"}],
            "Attribute": [{"type": "text", "category": "Other", "value": "MSCU1234566"}]}
    bad = dict(good, uuid="33333333-0000-4000-8000-000000000002", timestamp=1e20)
    # before the fix: InputError("request", "a number in the request is out of range") for the whole file
    # (PyMISP's OverflowError is not among those read_each_event catches)
    received = _import(engine, [good, bad])
    assert [a[0] for a in received.report.added] == ["note--33333333-0000-4000-8000-000000000001"]
    assert [w for w, _ in received.report.failed] == ["events.1"]


# --- 7. versions of a foreign note change their created time ---

def test_versions_of_a_note_keep_their_created_time(engine: Engine, tmp_path: Path) -> None:
    seed(engine, tmp_path)
    uid = "11111111-0000-4000-8000-000000000003"
    base = {"uuid": uid, "info": "feed", "date": "2026-02-20", "Tag": [{"name": "tlp:green"}],
            "Attribute": [{"type": "text", "category": "Other", "value": "MSCU1234566"}]}
    _import(engine, [dict(base, timestamp="1771581600")])
    _import(engine, [dict(base, timestamp="1771585200", info="feed, updated")])
    with unit_of_work(engine) as uow:
        created = {v.object["created"] for v in uow.exchange.versions(None, f"note--{uid}")}
    assert len(created) == 1  # STIX 2.1 §3.6: created MUST NOT change between versions; today two
