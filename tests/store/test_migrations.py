"""Migrations upgrade an existing store without loss, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.risk.profiles import builtin_profile_text
from scheldt.settings import get_settings
from scheldt.simulate.traffic import simulate
from scheldt.simulate.writers import write_traffic
from scheldt.store.container_trips import TripFilter
from scheldt.store.db import HEAD_REVISION, current_revision, head_revision, make_engine, unit_of_work, upgrade
from scheldt.store.models import ContainerTripRow, TripAssessmentRow, WatchlistEntryRow
from scheldt.store.rows import aware
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.replay import replay
from scheldt.workflows.trip_scoring import activate_profile, score_trips
from tests.conftest import KCS_TRAIN, kcs_lines


def test_the_head_revision_constant_is_the_migrations_head() -> None:
    """open_store skips Alembic for a store at HEAD_REVISION: a new migration must move it."""
    assert HEAD_REVISION == head_revision(), "set scheldt.store.db.HEAD_REVISION to the newest migration"


def test_upgrade_from_first_revision_keeps_declarations(store_url: str, tmp_path: Path) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO declaration (declaration_ref, filed_at, hs_code, origin_country, departure_country, "
            "net_mass_kg, value, currency, office_code, process_type, import_type, import_use, payment_type, "
            "transport_mode, tax_type, origin_indicator, bill_of_lading_ref, container_numbers, flags, "
            "content_hash, source, supplied_by, received_at) VALUES ('OLD1', :t, '610910', 'CN', 'CN', 1, 2, "
            "'', '', '', '', '', '', '', '', '', '', '', '[]', 'h', 'old.csv:2', 'local-agency', :t)"),
            {"t": datetime(2020, 1, 1, tzinfo=UTC)})
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    path = tmp_path / "new.csv"
    path.write_text("".join(kcs_lines(KCS_TRAIN, 3)))
    with unit_of_work(engine) as uow:
        ingest_file(uow, path, IngestOptions(), datetime(2026, 1, 1, tzinfo=UTC))
    with unit_of_work(engine) as uow:
        refs = uow.declarations.declarations_frame()["declaration_ref"].to_list()
    assert "OLD1" in refs and len(refs) == 4
    engine.dispose()


def test_upgrade_to_the_service_schema_indexes_stored_trip_scores(store_url: str, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A store scored before the container-trip read model (revision 0008) keeps its
    assessments, and ``scheldt db upgrade`` builds one trip row per scored trip from them."""
    source = make_engine(f"sqlite:///{tmp_path / 'scored.db'}")
    upgrade(source)
    traffic = simulate(4, 1, 1, 0.01)
    write_traffic(traffic, tmp_path / "sim")
    with unit_of_work(source) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "tests", "tests", datetime(2025, 11, 1, tzinfo=UTC))
    replay(lambda: unit_of_work(source), tmp_path / "sim", IngestOptions(supplied_by="be-customs"))
    with source.connect() as conn:
        columns = [c for c in conn.execute(text("select * from trip_assessment")).keys() if c != "id"]
        scored = [dict(r._mapping) for r in conn.execute(text(f"select {', '.join(columns)} from trip_assessment"))]
        expected = {(r.container_number, r.document_ref, r.voyage): r.score for r in conn.execute(text(
            "select container_number, document_ref, voyage, score from container_trip"))}
    source.dispose()
    assert len(expected) >= 100

    engine = make_engine(store_url)
    upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO trip_assessment ({c}) VALUES ({v})".format(
            c=", ".join(columns), v=", ".join(f":{c}" for c in columns))),
            [r | {"reasons": _json(r["reasons"]), "facts": _json(r["facts"])} for r in scored])
    result = _db_upgrade(store_url, monkeypatch)
    assert f"container-trip index built from {len(expected)} trips" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from trip_assessment")).scalar_one() == len(scored)
        rebuilt = {(r.container_number, r.document_ref, r.voyage): r.score for r in conn.execute(text(
            "select container_number, document_ref, voyage, score from container_trip where supplied_by = 'be-customs'"))}
    assert rebuilt == expected
    engine.dispose()


def test_upgrade_to_0020_fills_when_each_box_left_the_port(store_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A store indexed before revision 0020 gets each trip's departure from the port from the
    facts of the assessment it shows, on ``scheldt db upgrade``; scores are left as they were."""
    source = make_engine(f"sqlite:///{tmp_path / 'scored.db'}")
    upgrade(source)
    write_traffic(simulate(4, 1, 1, 0.01), tmp_path / "sim")
    with unit_of_work(source) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "tests", "tests", datetime(2025, 11, 1, tzinfo=UTC))
    replay(lambda: unit_of_work(source), tmp_path / "sim", IngestOptions(supplied_by="be-customs"))
    tables = (TripAssessmentRow.__table__, ContainerTripRow.__table__)
    with source.connect() as conn:  # typed reads (booleans, aware times), without the columns of 0020 and later
        later = ("left_at", "regrouped_at")
        rows = {t.name: [{k: v for k, v in r._mapping.items() if k not in later} for r in conn.execute(select(t))]
                for t in tables}
        expected = {r.id: (aware(r.left_at), r.score) for r in conn.execute(select(ContainerTripRow.__table__))}
    source.dispose()
    assert sum(left is not None for left, _ in expected.values()) >= 100  # replayed to the end: all picked up

    engine = make_engine(store_url)
    upgrade(engine, "0019")
    with engine.begin() as conn:
        for t in tables:
            conn.execute(t.insert(), rows[t.name])
    # another command refuses the old store and leaves it at 0019 for `db upgrade` to fill in (an
    # operator review: a SQLite store upgraded itself on any command's first use, skipping the fill)
    refused = _cli(store_url, monkeypatch, "trips", "queue", "--limit", "1")
    assert refused.exit_code == 2 and " ".join(refused.stderr.split()) == (
        f"error database schema: at revision 0019, code needs {head_revision()}: run `scheldt db upgrade`")
    assert current_revision(engine) == "0019"
    result = _db_upgrade(store_url, monkeypatch)
    assert f"container-trip index: {len(expected)} trips summarised again from their facts" in result.stdout
    with unit_of_work(engine) as uow:
        after = {r["id"]: (r["left_at"], r["score"]) for r in uow.container_trips.page(None, TripFilter(), None, 10_000)}
    assert after == expected
    engine.dispose()


def test_upgrade_to_0025_reads_stored_tlp1_markings(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Versions stored before TLP 1.0 markings counted keep their too-open TLP (a regression
    review: TLP 1.0 RED beside TLP 2.0 CLEAR, stored as CLEAR, still served to a terminal);
    revision 0025 takes the strictest of the stored TLP and the object's TLP 1.0 markings."""
    import stix2

    from scheldt.domain.exchange import TLP_MARKING_IDS, Tlp
    from scheldt.exchange.objects import Sharing, stored_values

    now = datetime(2026, 12, 1, tzinfo=UTC)
    base = {"type": "note", "spec_version": "2.1", "created": "2026-12-01T08:00:00.000Z",
            "modified": "2026-12-01T08:00:00.000Z", "content": "x", "object_refs": [
                "identity--0a6e7d6c-1111-4222-8333-444455556666"]}
    red = dict(base, id="note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f61",
               object_marking_refs=[stix2.TLP_RED.id, TLP_MARKING_IDS[Tlp.CLEAR]])
    green = dict(base, id="note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f62",
                 object_marking_refs=[stix2.TLP_GREEN.id, TLP_MARKING_IDS[Tlp.AMBER]])
    engine = make_engine(store_url)
    upgrade(engine, "0024")
    with unit_of_work(engine) as uow:
        uow.exchange.add_versions([(stored_values(red, Sharing("other", Tlp.CLEAR, None), "be-customs", "t", now), ()),
                                   (stored_values(green, Sharing("other", Tlp.AMBER, "be-us"), "be-customs", "t", now),
                                    ())])
        # each landed in the watchlist store as an entry (a RED one never lands: a regression review
        # found the re-marked one still matching trips)
        for stix_id, group in ((red["id"], "community"), (green["id"], "be-us")):
            uow.session.execute(WatchlistEntryRow.__table__.insert().values(
                list_name=f"shared:{group}", entry_id=stix_id, kind="company", name="Zzyzx Quorvant Trading BV",
                aliases=[], address="", country="", fact_hash="x", source="t", supplied_by="be-customs",
                received_at=now))
    _db_upgrade(store_url, monkeypatch)
    with engine.connect() as conn:
        tlps = dict(conn.execute(text("SELECT stix_id, tlp FROM shared_object")).all())
        entries = sorted(conn.execute(text("SELECT entry_id FROM watchlist_entry")).scalars())
    engine.dispose()
    assert tlps == {red["id"]: "red", green["id"]: "amber"}
    assert entries == [green["id"]]


def test_upgrade_to_0028_a_document_stored_before_is_not_stored_again_with_its_other_voyages(store_url: str) -> None:
    """A transport document stored before its other voyages were kept (revision 0027) is the
    same version when its sender re-sends it after the upgrade: nothing is added. (Its other
    voyages were never read, so a re-send that changes only them cannot be told from it.)"""
    from dataclasses import replace

    from scheldt.domain.shipping import Consignment
    from scheldt.store.documents import version_hash
    from scheldt.store.models import TransportDocumentRow

    doc = Consignment("BL-9", voyage="402E", other_voyages=("611W",), containers=(("MSCU1234566", ()),),
                      source="td.json")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    engine = make_engine(store_url)
    upgrade(engine, "0027")
    with engine.begin() as conn:  # as 0027's code stored it: the first voyage only
        conn.execute(TransportDocumentRow.__table__.insert(), [{
            "document_type": "TRD", "document_ref": "BL-9", "booking_ref": "",
            "version_hash": version_hash(replace(doc, other_voyages=())), "voyage": "402E",
            "containers": [{"number": "MSCU1234566", "seals": []}], "source": "td.json",
            "supplied_by": "be-customs", "received_at": at, "parties": [], "goods": [], "flags": []}])
    upgrade(engine)
    with unit_of_work(engine) as uow:
        resent = uow.documents.add([doc], "be-customs", at)
        # what 0027's code read of it (the first voyage) changed: a new version, with its other voyages
        amended = uow.documents.add([replace(doc, voyage="403E")], "be-customs", at)
        stored = [(d["voyage"], d["other_voyages"]) for d in uow.documents.for_containers([], ["BL-9"])]
    engine.dispose()
    assert (resent, amended, stored) == ((0, []), (1, []), [("402E", None), ("403E", ["611W"])])


def test_upgrade_to_0029_deleted_versions_keep_no_content(store_url: str) -> None:
    """A version deleted before 0029 (a withdrawn alert's consignment, say) kept its parties in
    the database; the upgrade leaves its tombstone only, and the live versions as they were."""
    from scheldt.store.models import SharedObjectRow

    at = datetime(2026, 11, 1, tzinfo=UTC)
    part = {"type": "scheldt-consignment", "spec_version": "2.1", "id": "scheldt-consignment--1",
            "modified": "2026-11-01T00:00:00.000Z", "consignee": "Zaba Export BV"}
    kept = part | {"id": "scheldt-consignment--2", "consignee": "Still Shared NV"}
    engine = make_engine(store_url)
    upgrade(engine, "0028")
    with engine.begin() as conn:
        conn.execute(SharedObjectRow.__table__.insert(), [{
            "stix_id": o["id"], "modified": o["modified"], "stix_type": o["type"], "spec_version": "2.1",
            "kind": "alert", "tlp": "amber+strict", "owner_org": "be-customs", "group_id": "be-us", "object": o,
            "source": "local", "date_added": at, "deleted_at": deleted} for o, deleted in ((part, at), (kept, None))])
    upgrade(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(SharedObjectRow.stix_id, SharedObjectRow.object)).all())
    engine.dispose()
    assert rows == {"scheldt-consignment--1": {"type": "scheldt-consignment", "id": "scheldt-consignment--1",
                                               "spec_version": "2.1", "modified": "2026-11-01T00:00:00.000Z",
                                               "x_scheldt_deleted": True},
                    "scheldt-consignment--2": kept}


def test_upgrade_to_0030_a_failing_peer_fails_since_its_last_pull(store_url: str) -> None:
    """A peer whose last pull before 0030 failed has been failing since that pull at least (an
    operator review's peer, down for days, was said to fail since its first pull after the
    upgrade); a peer whose last pull went well, or that was never pulled, is not failing."""
    from scheldt.store.models import PeerRow

    at = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    engine = make_engine(store_url)
    upgrade(engine, "0029")
    with engine.begin() as conn:  # the columns a 0029 peer has
        conn.execute(PeerRow.__table__.insert(), [
            {"name": name, "api_root": "http://127.0.0.1:9/taxii2/", "organisation_id": "us-cbp", "username": "be-node",
             "secret": "", "cursors": {}, "last_pull_at": last, "last_error": error, "created_at": at, "relays_for": []}
            for name, last, error in (("down", at, "ConnectionError: refused"), ("up", at, ""), ("new", None, ""))])
    upgrade(engine)
    with engine.connect() as conn:
        since = dict(conn.execute(select(PeerRow.name, PeerRow.failing_since)).all())
    engine.dispose()
    assert {name: aware(t) for name, t in since.items()} == {"down": at, "up": None, "new": None}


def test_upgrade_to_0033_gives_a_trip_a_line_fed_to_the_agency_it_feeds(store_url: str, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Before 0033's code a trip fed only by a shipping line was the line's, which no officer
    could see (a carrier review); `db upgrade` summarises stored trips again, so such a trip
    goes to the agency the line is a client of without waiting for new facts, and (0034's code)
    the line sees it as its own: its events alone make it, under no document."""
    from scheldt.domain.access import Organisation, OrgKind
    from tests.builders import dcsa_event

    engine = make_engine(store_url)
    upgrade(engine, "0032")
    events = [dcsa_event(event_id, equipmentDetails__equipmentReference="APZU4812090", eventDateTime=at,
                         eventClassification__equipmentEventTypeCode=kind, eventLocation__UNLocationCode=port,
                         transportCall={"exportVoyageNumber": "500E", "importVoyageNumber": "500E"},
                         documentReferences=None)
              for event_id, kind, at, port in (("l", "LOAD", "2026-11-01T10:00:00Z", "COCTG"),
                                               ("d", "DISC", "2026-11-20T10:00:00Z", "BEANR"))]
    (tmp_path / "line.json").write_text(json.dumps({"events": events}))
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), now)
        uow.accounts.add_organisation(Organisation("carrier-b", "B", OrgKind.CARRIER, ("SIMB",)), now)
        uow.accounts.set_client_of("carrier-b", "be-customs")
        activate_profile(uow, builtin_profile_text(), "built-in", "tests", "tests", now)
        assert ingest_file(uow, tmp_path / "line.json", IngestOptions(supplied_by="carrier-b"), now).accepted == 2
        score_trips(uow, now)
    with engine.begin() as conn:  # as the code before 0033 summarised it
        conn.execute(ContainerTripRow.__table__.update().values(supplied_by="carrier-b", carrier_code=""))
    result = _db_upgrade(store_url, monkeypatch)
    assert "container-trip index: 1 trips summarised again from their facts" in result.stdout
    with unit_of_work(engine) as uow:
        [trip] = uow.container_trips.page(None, TripFilter(), None, 10)
    engine.dispose()
    assert (trip["container_number"], trip["supplied_by"], trip["carrier_code"]) == ("APZU4812090", "be-customs",
                                                                                      "SIMB")


def _db_upgrade(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `scheldt db upgrade` on ``store_url``; it must succeed. Returns the CLI result."""
    result = _cli(store_url, monkeypatch, "db", "upgrade")
    assert result.exit_code == 0, result.stderr
    return result


def _cli(store_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    """Run ``scheldt ARGS`` on ``store_url``; returns the CLI result."""
    monkeypatch.setenv("SCHELDT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_an_empty_database_is_said_to_be_empty(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review read "at revision None" for a PostgreSQL database without a schema."""
    refused = _cli(postgres_url, monkeypatch, "org", "list")
    assert refused.exit_code == 2 and " ".join(refused.stderr.split()) == (
        f"error database schema: empty (no schema yet), code needs {head_revision()}: run `scheldt db upgrade`")


def _json(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)
