"""Review of 8ceaf0d's rule "a version dated more than a day after its arrival is refused on
every way in" (sharing.MOST_AHEAD): what it breaks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheldt.domain.exchange import Tlp
from scheldt.exchange.items import Meta, WatchEntry
from scheldt.exchange.objects import Sharing, identity_id
from scheldt.store.db import unit_of_work
from scheldt.workflows import share
from scheldt.workflows.share import withdrawn_version
from tests.exchange.test_misp_withdrawals import ENTRY_ID, T1, _alerts, event_json, watch_rows
from tests.workflows.test_share import NOW, US, seed

AHEAD = datetime(2027, 6, 1, tzinfo=UTC)  # a year ahead of NOW, far short of datetime.max


def entry(modified: datetime) -> WatchEntry:
    """tests.exchange.test_misp_withdrawals.entry, valid until 2028."""
    return WatchEntry(Meta(ENTRY_ID, identity_id("us-cbp"), T1, modified,
                           Sharing("watchlist-entry", Tlp.GREEN, None, "", "B", "2", (), None,
                                   datetime(2028, 1, 1, tzinfo=UTC))),
                      "container", "rip-on loads (case US-44)", container_number="NARU3472484")


def _stored_ahead(engine: Engine) -> None:
    """us-cbp's entry, its newest version dated 2027-06-01, stored as it was before the rule
    (received then, or on a day it was within a day of its arrival)."""
    with unit_of_work(engine) as uow:
        assert share.import_misp(uow, json.dumps({"Event": event_json(entry(AHEAD))}), "us-cbp", AHEAD).entries


def test_the_originator_withdraws_an_entry_stored_dated_ahead(engine: Engine, tmp_path: Path) -> None:
    """Before 8ceaf0d withdraw_item revoked it (a revocation dated 2027-06-01T00:00:00.001Z). Then
    the rule refused that revocation ("... is more than a day after its arrival: a version
    dated ahead could never be revoked or updated"): the entry the rule was made for can now
    never be withdrawn and screens trips until 2027 (the commit's own test only covers 9999,
    which no revocation can follow)."""
    trip_id = seed(engine, tmp_path)
    _stored_ahead(engine)
    with unit_of_work(engine) as uow:
        out = share.withdraw_item(uow, US, ENTRY_ID, NOW, "wrong box")
    with unit_of_work(engine) as uow:
        rows = watch_rows(uow)
    assert out["revoked"] == "2027-06-01T00:00:00.001Z" and rows == [] and _alerts(engine, trip_id) == []


def test_the_originator_s_own_revocation_of_an_entry_stored_dated_ahead_is_taken(engine: Engine,
                                                                                tmp_path: Path) -> None:
    """The same entry revoked by its originator's liaison over TAXII (receive_objects, as Add
    Objects calls it), dated just after its newest version: refused before the fix, taken before."""
    trip_id = seed(engine, tmp_path)
    _stored_ahead(engine)
    with unit_of_work(engine) as uow:
        latest = uow.exchange.newest([ENTRY_ID])[ENTRY_ID]
        revoked = share.receive_objects(uow, [withdrawn_version(latest.object, "2027-06-01T00:00:00.001Z")],
                                        "us-cbp", "taxii:liaison", None, NOW)
    assert revoked.report.failed == [] and _alerts(engine, trip_id) == []


def test_misp_import_under_a_pinned_clock_takes_current_events(settings_env: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """`scheldt misp import` reads "now" from SCHELDT_NOW (cli.common.now), pinned for replays
    and the demo (2021-04-22, README). The rule measures "arrival" on that clock, so every real
    event of today is refused as "more than a day after its arrival (2021-04-22T12:00Z)", which it
    is not; before 8ceaf0d it was imported. The README keeps the node's own records on the real
    clock; TAXII and federation pulls measure the rule on the real clock (api.deps.utc_now,
    federation.utcnow), so only the MISP path breaks."""
    from scheldt.settings import get_settings
    from tests.cli.test_exchange_cli import _event, invoke

    for org in ("be-customs", "us-cbp"):
        assert invoke("org", "create", org, "--name", org.upper(), "--kind", "agency")[0] == 0
    monkeypatch.setenv("SCHELDT_NOW", "2021-04-22T12:00:00Z")
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    get_settings.cache_clear()
    source = tmp_path / "events.json"
    source.write_text(json.dumps(_event("0b7c2e3a-5a41-4c55-9d53-2f4f1b1c9a13", "tlp:green", [])))  # dated 2026-03-01
    code, out, err = invoke("misp", "import", str(source), "--org", "be-customs", "--json")
    assert code == 0 and json.loads(out)["failed"] == [], (out, err)


def test_a_stored_version_dated_ahead_re_sent_is_known_not_failed(engine: Engine, tmp_path: Path) -> None:
    """The rule is checked before "a re-sent copy of a version stored here adds nothing": the very
    version stored before (2027-06-01), re-imported from the same MISP feed (or met again in a
    peer's pages), is a failure before the fix, so `scheldt misp import` of a nightly feed exits 1 for
    ever; before 8ceaf0d it was `known`."""
    seed(engine, tmp_path)
    _stored_ahead(engine)
    with unit_of_work(engine) as uow:
        again = share.import_misp(uow, json.dumps({"Event": event_json(entry(AHEAD))}), "us-cbp", NOW)
    assert again.report.failed == [] and again.report.known == [(ENTRY_ID, "2027-06-01T00:00:00.000Z")]
