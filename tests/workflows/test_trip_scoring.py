"""Trips scored with the live risk profile: history on new facts, exact reproduction, rollback.

The transport document is the real DCSA eBL 3.0.2 issued sample (container NARU3472484, seal
DCSA-CTK-1234, to order, no notify party). The events are written here in the DCSA T&T 3.0
shape of ../shared/fixtures/dcsa-tnt/tnt-v3.0-notification-equipment-load.json, naming that
document, since no shared sample has events for it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from scheldt.domain.trips import TripFilter, TripKey, in_version_order
from scheldt.errors import ConflictError, InputError
from scheldt.risk.profiles import builtin_profile_text
from scheldt.store.db import unit_of_work
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.screening import load_watchlists, trip_screen
from scheldt.workflows.trip_scoring import (
    activate_profile,
    container_history,
    reproduce,
    rollback_profile,
    score_trips,
    trip_facts,
)
from scheldt.workflows.trip_views import trip_detail
from tests.conftest import SHARED

TD = SHARED / "fixtures" / "dcsa-ebl" / "ebl-v3.0.2-td-notification-issued-full.json"
KEY = TripKey("NARU3472484", "HHL71800000", "")
FIRST, LATER = datetime(2026, 1, 21, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC)


def event(event_id: str, code: str, when: str, port: str, seal: str) -> dict[str, object]:
    return {
        "eventID": event_id, "eventDateTime": when, "eventCreatedDateTime": when,
        "eventLocation": {"UNLocationCode": port},
        "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": "ACT", "equipmentEventTypeCode": code},
        "equipmentDetails": {"equipmentReference": "NARU3472484", "ISOEquipmentCode": "22GP", "emptyIndicatorCode": "LADEN",
                             "seals": [{"number": seal, "source": "CAR"}]},
        "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": "HHL71800000"}],
    }


def load_and_score(uow: Any, document: Path, origin: Path) -> Any:
    """Ingest a transport document and its box's events at FIRST, make the built-in profile
    live and score the trips; returns the scoring report."""
    ingest_file(uow, document, IngestOptions(), FIRST)
    ingest_file(uow, origin, IngestOptions(), FIRST)
    activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
    return score_trips(uow, FIRST)


def write(path: Path, events: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps({"events": events}))
    return path


def on_vessel(events: list[dict[str, object]]) -> None:
    """Put ``events`` on the call at DEBRV of voyage 402E of vessel IMO 9321483 ("TEST")."""
    for e in events:
        e["transportDetails"] = {"transportCall": {"UNLocationCode": "DEBRV", "carrierExportVoyageNumber": "402E",
                                                  "vessel": {"vesselIMONumber": "9321483", "vesselName": "TEST"}}}


def ais(at: datetime, **message: object) -> list[str]:
    """NMEA lines of one AIS ``message`` (pyais encode_dict fields) received at ``at`` (a tag
    block's ``c:`` time)."""
    from pyais.encode import encode_dict

    return [f"\\c:{int(at.timestamp())}*00\\{m}" for m in encode_dict(message, sentence_type="VDM", seq_id=1)]


def scored_with_ais(engine: Engine, tmp_path: Path, aboard: list[dict[str, object]], lines: list[str]) -> Any:
    """Ingest the TD sample, ``aboard`` and the AIS ``lines`` at FIRST, score at LATER with the
    built-in profile; the one assessment of trip NARU3472484 / HHL71800000 / 402E."""
    feed = tmp_path / "ais.nmea"
    feed.write_text("\n".join(lines) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "aboard.json", aboard), IngestOptions(), FIRST)
        ingest_file(uow, feed, IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        score_trips(uow, LATER)
        [assessment] = uow.trip_assessments.history(TripKey("NARU3472484", "HHL71800000", "402E"))
    return assessment


def test_an_upgrade_that_changed_the_scoring_code_rescores_every_trip_once(engine: Engine, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: after an upgrade every trip kept the old code's score ("NOT
    REPRODUCED" in its history) and scoring said "0 scored, 230 unchanged"."""
    from scheldt.workflows import trip_scoring

    origin = write(tmp_path / "origin.json", [event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        assert load_and_score(uow, TD, origin).scored == 1
        assert (score_trips(uow, LATER).scored, score_trips(uow, LATER).unchanged) == (0, 1)
    monkeypatch.setattr(trip_scoring, "scoring_code", lambda: "the next release")
    with unit_of_work(engine) as uow:
        upgraded, after = score_trips(uow, LATER), score_trips(uow, LATER)
        history = uow.trip_assessments.history(KEY)
    assert (upgraded.scored, after.scored, after.unchanged) == (1, 0, 1)
    assert [h["score"] for h in history] == [15.0, 15.0]  # the same facts, scored by the installed code
    # as of when they were scored (a regression review: scored at the wall clock, time-relative
    # reasons drifted and a replay of the following days scored nothing)
    assert history[1]["scored_at"] == history[0]["scored_at"] and history[1]["facts"] == history[0]["facts"]


def test_new_facts_rescore_and_old_scores_are_reproduced(engine: Engine, tmp_path: Path) -> None:
    origin = write(tmp_path / "origin.json", [
        event("e-1", "GTIN", "2026-01-18T09:00:00Z", "DKAAR", "DCSA-CTK-1234"),
        event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        first = load_and_score(uow, TD, origin)
    assert (first.scored, first.profile) == (1, "antwerp-narcotics@3")

    arrival = write(tmp_path / "arrival.json", [
        event("e-3", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "XX-999"),
        event("e-4", "GTOT", "2026-02-01T12:00:00Z", "DEBRV", "XX-999")])
    with unit_of_work(engine) as uow:
        ingest_file(uow, arrival, IngestOptions(), LATER)
        again = score_trips(uow, LATER)
        unchanged = score_trips(uow, LATER)
        history = uow.trip_assessments.history(KEY)
        before, after = reproduce(uow, history[0]["id"]), reproduce(uow, history[1]["id"])
    assert (again.scored, unchanged.scored, unchanged.unchanged) == (1, 0, 1)
    assert [h["score"] for h in history] == [15.0, 75.0]  # to order 15, + seal 30 + quick pick-up 30
    assert [r["evidence"] for r in history[0]["reasons"]] == ["TRD HHL71800000 is to order and names no notify party"]
    assert [r["evidence"] for r in history[1]["reasons"]] == [
        "gated out at DEBRV 2.0 h after discharge (2026-02-01 10:00 UTC → 2026-02-01 12:00 UTC)",
        "seal XX-999 at DISC DEBRV 2026-02-01 10:00 UTC, not the seal on the transport document (DCSA-CTK-1234)",
        "TRD HHL71800000 is to order and names no notify party"]
    # the first score, recomputed after the later facts arrived, is what it was
    assert before.points == 15.0 and [r.evidence for r in before.reasons] == [r["evidence"] for r in history[0]["reasons"]]
    assert after.points == 75.0 and [r.indicator for r in after.reasons] == [r["indicator"] for r in history[1]["reasons"]]
    assert history[0]["profile"] == history[1]["profile"] == "antwerp-narcotics@3"


def test_moves_re_sent_under_new_event_ids_are_counted_once(engine: Engine, tmp_path: Path) -> None:
    # An attack review: a carrier re-sent a PICK and a DROP under new eventIDs; the trip counted
    # "4 moves in the terminal after discharge (PICK 07:51, PICK 07:51, ...)" and its score rose.
    origin = write(tmp_path / "origin.json", [
        event("e-1", "GTIN", "2026-01-18T09:00:00Z", "DKAAR", "DCSA-CTK-1234"),
        event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    moves = [event("e-3", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234"),
             event("e-4", "PICK", "2026-02-01T14:00:00Z", "DEBRV", "DCSA-CTK-1234"),
             event("e-5", "DROP", "2026-02-01T15:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    again = [dict(e, eventID=f"{e['eventID']}-again") for e in moves[1:]]
    with unit_of_work(engine) as uow:
        load_and_score(uow, TD, origin)
        ingest_file(uow, write(tmp_path / "moves.json", moves), IngestOptions(), LATER)
        score_trips(uow, LATER)
        report = ingest_file(uow, write(tmp_path / "again.json", again), IngestOptions(), LATER)
        rescored = score_trips(uow, LATER)
        [facts] = trip_facts(uow, ["NARU3472484"], LATER)
        latest = uow.trip_assessments.history(KEY)[-1]
    assert report.accepted == 2  # both kept as received
    assert [e.event_type for e in facts.events] == ["GTIN", "LOAD", "DISC", "PICK", "DROP"]
    assert (rescored.scored, rescored.unchanged) == (0, 1)
    assert [r["evidence"] for r in latest["reasons"] if r["indicator"] == "terminal_moves"] == [
        "2 move(s) in the terminal since discharge and not gated out yet (PICK 2026-02-01 14:00 UTC, DROP "
        "2026-02-01 15:00 UTC); more than 2 count in full, so far counted at 0.67"]


def test_after_a_rollback_trips_show_the_live_versions_scores_again(engine: Engine, tmp_path: Path) -> None:
    """Two reviews found trip lists and pages still showing the withdrawn version's score after
    a rollback: the facts had not changed, so nothing was re-scored."""
    v4 = builtin_profile_text().replace('version: "3"', 'version: "4"').replace(
        "to_order_unknown_notify: {weight: 15}", "to_order_unknown_notify: {weight: 30}")
    origin = write(tmp_path / "origin.json", [event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        load_and_score(uow, TD, origin)
        activate_profile(uow, v4, "v4.yaml", "officer.b", "heavier to-order weight", FIRST)
        score_trips(uow, FIRST + timedelta(minutes=1))
        shown_v4 = uow.container_trips.by_key(KEY)
        rollback_profile(uow, "officer.a", "back", FIRST)
        # at once, before any re-score (a profile review's rollback with --no-score left the @4 score
        # shown as in force, and the CLI's queue showed @3's)
        at_once = uow.container_trips.by_key(KEY)
        back = score_trips(uow, FIRST + timedelta(minutes=2))
        shown = uow.container_trips.by_key(KEY)
        [assessment] = uow.trip_assessments.by_ids([shown["assessment_id"]])  # type: ignore[index]
        history = trip_detail(uow, None, "be-customs", shown["id"])["score_history"]  # type: ignore[index]
    assert shown_v4 is not None and shown_v4["score"] == 30.0
    assert (back.scored, back.unchanged) == (0, 1)
    assert shown is not None and (shown["score"], assessment["profile"]) == (15.0, "antwerp-narcotics@3")
    assert at_once is not None and {k: at_once[k] for k in ("assessment_id", "score", "risk_band", "top_reason")} == {
        k: shown[k] for k in ("assessment_id", "score", "risk_band", "top_reason")}
    # the score history says which score is in force (a review read the withdrawn @4's as the latest)
    assert [(h["score"], h["profile"], h["in_force"]) for h in history] == [
        (15.0, "antwerp-narcotics@3", True), (30.0, "antwerp-narcotics@4", False)]


def test_switching_and_rolling_back_profiles_is_recorded(engine: Engine) -> None:
    v2 = builtin_profile_text().replace('version: "3"', 'version: "4"').replace(
        "to_order_unknown_notify: {weight: 15}", "to_order_unknown_notify: {weight: 30}")
    with unit_of_work(engine) as uow:
        with pytest.raises(ConflictError, match="no profile was ever activated"):
            rollback_profile(uow, "officer.a", "", FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
        activate_profile(uow, v2, "v2.yaml", "officer.b", "heavier to-order weight", LATER)
        assert uow.profiles.live().label == "antwerp-narcotics@4"  # type: ignore[union-attr]
        assert rollback_profile(uow, "officer.a", "too many picks", LATER) == "antwerp-narcotics@3"
        assert uow.profiles.live().label == "antwerp-narcotics@3"  # type: ignore[union-attr]
        log = uow.profiles.activations()
        with pytest.raises(ConflictError, match="already stored with another text"):
            activate_profile(uow, v2.replace("weight: 30", "weight: 31"), "v2b.yaml", "officer.b", "", LATER)
    assert [(a["profile"], a["action"], a["actor"], a["reason"]) for a in log] == [
        ("antwerp-narcotics@3", "activate", "officer.a", "initial"),
        ("antwerp-narcotics@4", "activate", "officer.b", "heavier to-order weight"),
        ("antwerp-narcotics@3", "rollback", "officer.a", "too many picks")]


def test_watchlist_match_on_a_party_raises_the_score(engine: Engine, tmp_path: Path) -> None:
    from scheldt.workflows.screening import load_watchlist

    origin = write(tmp_path / "origin.json", [event("e-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    watchlist = Path(__file__).resolve().parents[1] / "data" / "watchlist-ftm.json"
    with unit_of_work(engine) as uow:
        report, _ = load_watchlist(uow, watchlist, "test list", "BE-CUSTOMS", FIRST)
        again, _ = load_watchlist(uow, watchlist, "test list", "BE-CUSTOMS", FIRST)
        load_and_score(uow, TD, origin)
        [assessment] = uow.trip_assessments.history(KEY)
    assert (report.accepted, report.added, report.rejected, report.skipped) == (3, 3, 2, {"schema Sanction": 1})
    assert (again.accepted, again.added) == (3, 0)
    assert assessment["score"] == 55.0  # watchlist 40 + to order 15
    assert assessment["reasons"][0]["evidence"] == (
        "shipper 'DCSA CTK' matches 'D.C.S.A. C.T.K.' on test list (entry t-company-1, score 100)")


def test_address_and_vessel_entries_match_the_trip_s_parties_addresses_and_vessel(engine: Engine,
                                                                                    tmp_path: Path) -> None:
    """A targeting review: address and vessel entries of a list file were screened against party
    names only and never matched a trip (the document's shipper is at Strawinskylaan 4117, its
    vessel the MSC Gülsün). Ships of a series (MSC GULSUN II, 2) are other vessels (regression review)."""
    from scheldt.workflows.screening import load_watchlist

    origin = write(tmp_path / "origin.json", [event("e-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    listed = tmp_path / "list.csv"
    listed.write_text("id,name,kind,address\nA1,\"STRAWINSKYLAAN 4117, Amsterdam\",address,\n"
                      "V1,MSC GULSUN,vessel,\nC2,Front Trading BV,company,Strawinskylaan 4117\n"
                      "A2,Strawinskylaan 4119,address,\nV2,MSC GULSUN II,vessel,\nV3,MSC GULSUN 2,vessel,\n")
    with unit_of_work(engine) as uow:
        load_watchlist(uow, listed, "port list", "BE-CUSTOMS", FIRST)
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, origin, IngestOptions(), FIRST)
        [facts] = trip_facts(uow, ["NARU3472484"], FIRST, trip_screen(uow))
    assert [(m.role, m.party_name, m.entry_id, m.entry_name, m.score) for m in facts.watchlist_matches] == [
        ("shipper", "DCSA CTK at Strawinskylaan 4117", "A1", "STRAWINSKYLAAN 4117, Amsterdam", 100.0),
        ("shipper", "DCSA CTK at Strawinskylaan 4117", "C2", "Front Trading BV at Strawinskylaan 4117", 100.0),
        ("vessel", "MSC Gülsün", "V1", "MSC GULSUN", 100.0)]


def test_container_model_trained_on_outcomes_blends_into_one_reproducible_score(engine: Engine, tmp_path: Path) -> None:
    from scheldt.simulate.traffic import inspect_history, received, simulate
    from scheldt.simulate.writers import write_traffic
    from scheldt.workflows.backtest import load_ground_truth
    from scheldt.workflows.replay import replay
    from scheldt.workflows.trip_model import train_trip_model, training_set
    from scheldt.workflows.trip_scoring import live_profile

    traffic = simulate(22, 1, 1, scale=0.03)  # seed 22: 28 inspected trips, 2 seizures
    inspect_history(traffic, 22)
    write_traffic(traffic, tmp_path / "sim")
    start = received(traffic.history[0].received_at)
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "sim", "", start)
    replay(lambda: unit_of_work(engine), tmp_path / "sim", IngestOptions())
    seizures = sum(t.seizure for t in traffic.trips)
    with unit_of_work(engine) as uow:
        inspections, _, rejected = load_ground_truth(uow, tmp_path / "sim" / "ground-truth.csv", LATER)
        result = train_trip_model(uow, live_profile(uow), tmp_path / "models", LATER, min_inspected=20, min_seizures=1)
        learnt = training_set(uow)
        report = score_trips(uow, LATER)
        # every trip re-scored at once: the same inspections are the same training set, in the order
        # of the days they competed (a profile review's re-score made the validation share an
        # alphabetical slice, and the same data another model)
        relearnt = training_set(uow)
        [top] = uow.trip_assessments.queue("antwerp-narcotics@3", limit=1)
        again = reproduce(uow, top["id"])
    assert seizures >= 1 and inspections == sum(t.inspected for t in traffic.trips) and rejected == []
    assert result["rows"] == inspections and str(result["version"]).startswith("trip-")
    assert relearnt.fingerprint == learnt.fingerprint and learnt.fingerprint[:8] in str(result["version"])
    assert [r[0] for r in relearnt.rows] == sorted(r[0] for r in relearnt.rows)
    assert {r[0] for r in relearnt.rows} == {t.discharged.date() for t in traffic.trips if t.inspected}
    assert report.scored == len(traffic.trips)  # a new model version re-scores every trip
    assert top["model_version"] == result["version"]
    model_reason = next(r for r in top["reasons"] if r["indicator"] == "container_model")
    assert model_reason["evidence"].startswith(f"model {result['version']}: P(seizure) ")
    # how the score is made of the profile's points and the model is said, features in words (a
    # review could not tell why 99 points and a model line of -16.7 made 43.9; it read ind_ names)
    weight = result["model_weight"]
    assert weight > 0 and f"+ {weight:g} × " in model_reason["evidence"], model_reason["evidence"]
    assert f" = {top['score']:.1f}; " in model_reason["evidence"] and "ind_" not in model_reason["evidence"]
    assert again.points == top["score"] and [r.evidence for r in again.reasons] == [r["evidence"] for r in top["reasons"]]
    # where the model's part lowers the score, its reason says so (it said "pushing it up")
    with unit_of_work(engine) as uow:
        parts = [r for a in uow.trip_assessments.queue("antwerp-narcotics@3", limit=10_000)
                 for r in a["reasons"] if r["indicator"] == "container_model"]
    lowered = [r for r in parts if r["points"] < 0]
    assert lowered and all("; pulling it down (log-odds): " in r["evidence"] for r in lowered)
    assert all("; pushing it up (log-odds): " in r["evidence"] for r in parts if r["points"] >= 0)
    # the model scores with the threads SCHELDT_THREADS allows (it took 2 whatever the setting)
    from scheldt.settings import get_settings
    from scheldt.workflows.trip_model import live_trip_model

    with pytest.MonkeyPatch.context() as patch, unit_of_work(engine) as uow:
        for threads in ("1", "3"):
            patch.setenv("SCHELDT_THREADS", threads)
            get_settings.cache_clear()
            assert live_trip_model(uow).model.threads == int(threads)  # type: ignore[union-attr]
        assert live_trip_model(uow, threads=2).model.threads == 2  # type: ignore[union-attr]
    get_settings.cache_clear()
    # the trained model at weight 0 is said not to count (a targeting review read "+0 model ...;
    # pushing it up (log-odds): ais_max_gap_hours +0.24" although it moved nothing)
    from dataclasses import replace as with_blend

    from scheldt.domain.trips import trip_facts_from_dict
    from scheldt.risk.trip_model import Blend
    from scheldt.workflows.trip_model import assess

    with unit_of_work(engine) as uow:
        live = live_trip_model(uow)
        facts = trip_facts_from_dict(uow.trip_assessments.get(top["id"])["facts"])
        profile = live_profile(uow)
    assert live is not None
    zero = with_blend(live, blend=Blend(0.0, live.blend.a, live.blend.b))
    [reason] = [r for r in assess(profile, facts, zero)[2] if r.indicator == "container_model"]
    assert reason.points == 0.0 and reason.evidence.startswith(f"model {live.version}: P(seizure) ")
    assert reason.evidence.endswith(", not counted (weight 0: on the validation days the profile alone ranked best)")


def test_rollbacks_walk_back_and_a_profile_out_of_force_does_not_score(engine: Engine) -> None:
    texts = [builtin_profile_text().replace('version: "3"', f'version: "{v}"') for v in ("3", "4", "5")]
    with unit_of_work(engine) as uow:
        for text in texts:
            activate_profile(uow, text, "p.yaml", "officer.a", "", FIRST)
        assert rollback_profile(uow, "officer.a", "", LATER) == "antwerp-narcotics@4"
        assert rollback_profile(uow, "officer.a", "", LATER) == "antwerp-narcotics@3"
        with pytest.raises(ConflictError, match="first version activated"):
            rollback_profile(uow, "officer.a", "", LATER)
        expired = texts[0].replace('version: "3"', 'version: "old"').replace(
            "effective_from: 2024-01-01", "effective_from: 2024-01-01\neffective_to: 2025-01-01")
        with pytest.raises(InputError, match="antwerp-narcotics@old is not in force on 2026-02-02") as refused:
            activate_profile(uow, expired, "old.yaml", "officer.a", "", LATER)  # profile-owner review
        assert refused.value.where == "effective_to" and uow.profiles.live().label == "antwerp-narcotics@3"
        later = texts[0].replace('version: "3"', 'version: "later"').replace("effective_from: 2024-01-01",
                                                                               "effective_from: 2027-01-01")
        with pytest.raises(InputError, match="effective 2027-01-01 to open"):
            activate_profile(uow, later, "later.yaml", "officer.a", "", LATER)
        ending = texts[0].replace('version: "3"', 'version: "ending"').replace(
            "effective_from: 2024-01-01", "effective_from: 2024-01-01\neffective_to: 2026-02-01")
        activate_profile(uow, ending, "ending.yaml", "officer.a", "", FIRST)  # in force then, ended since
        with pytest.raises(InputError, match="not in force on 2026-02-02"):
            score_trips(uow, LATER)


@pytest.mark.parametrize("late_days", [0, 60])
def test_new_vessel_positions_rescore_the_trips_aboard(engine: Engine, tmp_path: Path, late_days: int) -> None:
    # late_days: the positions arrive two months after they were observed (a regression review's
    # lagging AIS feed re-scored no trip: its trips were looked for around the receiving time)
    from scheldt.workflows.trip_scoring import rescore_received

    aboard = [event("v-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234"),
              event("v-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    on_vessel(aboard)
    lines = ais(datetime(2026, 1, 31, tzinfo=UTC), type=5, mmsi=636092000, imo=9321483, shipname="TEST")
    for hour, lat in ((6, 50.0), (8, 50.2), (40, 51.3)):  # silent for 32 h before arrival
        lines += ais(datetime(2026, 1, 30, tzinfo=UTC) + timedelta(hours=hour), type=1, mmsi=636092000, lat=lat,
                     lon=3.0, speed=12.0)
    feed = tmp_path / "ais.nmea"
    feed.write_text("\n".join(lines) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "aboard.json", aboard), IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        score_trips(uow, LATER)
    received = LATER + timedelta(hours=1, days=late_days)
    with unit_of_work(engine) as uow:
        ingest_file(uow, feed, IngestOptions(), received)
        report = rescore_received(uow, received, received)
        history = uow.trip_assessments.history(TripKey("NARU3472484", "HHL71800000", "402E"))
    assert report is not None and report.scored == 1
    assert len(history) == 2 and len(history[1]["facts"]["vessel_track"]) == 3
    assert any(r["indicator"] == "ais_gap_before_arrival" for r in history[1]["reasons"])


@pytest.mark.parametrize("names", ["document", "vessel"])
def test_a_vessel_arrival_received_later_rescores_the_trips_it_joins(engine: Engine, tmp_path: Path,
                                                                     names: str) -> None:
    """A maritime review: a vessel's ARRI (an event without a container) joined a trip and left
    its score as it was, until someone ran `trips score`. The trips of the document it names, or
    of its vessel's call, are re-scored at its ingest."""
    from scheldt.workflows.trip_scoring import rescore_received

    aboard = [event("v-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234"),
              event("v-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    on_vessel(aboard)
    berthed = {"eventID": "v-0", "eventDateTime": "2026-02-01T06:00:00Z",
               "eventCreatedDateTime": "2026-02-01T06:00:00Z",
               "eventClassification": {"eventTypeCode": "TRANSPORT", "eventClassifierCode": "ACT",
                                       "transportEventTypeCode": "ARRI"}}
    if names == "document":
        berthed["documentReferences"] = [{"documentReferenceType": "TRD", "documentReferenceValue": "HHL71800000"}]
    else:
        on_vessel([berthed])
    with unit_of_work(engine) as uow:
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "aboard.json", aboard), IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        score_trips(uow, LATER)
    received = LATER + timedelta(hours=1)
    with unit_of_work(engine) as uow:
        ingest_file(uow, write(tmp_path / "arrival.json", [berthed]), IngestOptions(), received)
        report = rescore_received(uow, received, received)
        history = uow.trip_assessments.history(TripKey("NARU3472484", "HHL71800000", "402E"))
    assert report is not None
    if names == "document":
        assert report.scored == 1
        assert len(history) == 2 and any(e["event_type"] == "ARRI" for e in history[1]["facts"]["events"])
    else:  # an arrival naming only its call adds no fact to the trip, which is looked at all the same
        assert (report.scored, report.unchanged, len(history)) == (0, 1, 1)


def test_static_data_received_after_the_positions_rescores_the_trips_aboard(engine: Engine, tmp_path: Path) -> None:
    """A maritime review: a type 5 received after its vessel's positions tied the track to the
    vessel, and no trip was re-scored ("0 trip(s) re-scored") until `trips score` was run."""
    from scheldt.workflows.trip_scoring import rescore_received

    aboard = [event("v-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234"),
              event("v-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    on_vessel(aboard)
    positions = [line for hour, lat in ((6, 50.0), (8, 50.2), (40, 51.3)) for line in ais(
        datetime(2026, 1, 30, tzinfo=UTC) + timedelta(hours=hour), type=1, mmsi=636092000, lat=lat, lon=3.0,
        speed=12.0)]
    static = ais(datetime(2026, 1, 31, tzinfo=UTC), type=5, mmsi=636092000, imo=9321483, shipname="TEST")
    (tmp_path / "positions.nmea").write_text("\n".join(positions) + "\n")
    (tmp_path / "static.nmea").write_text("\n".join(static) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "aboard.json", aboard), IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, tmp_path / "positions.nmea", IngestOptions(), LATER)
        score_trips(uow, LATER)
    received = LATER + timedelta(hours=1)
    with unit_of_work(engine) as uow:
        ingest_file(uow, tmp_path / "static.nmea", IngestOptions(), received)
        report = rescore_received(uow, received, received)
        history = uow.trip_assessments.history(TripKey("NARU3472484", "HHL71800000", "402E"))
    assert report is not None and report.scored == 1
    assert [len(h["facts"]["vessel_track"]) for h in history] == [0, 3]


def test_a_silence_that_began_before_the_track_window_is_measured_from_the_last_fix_since_loading(
        engine: Engine, tmp_path: Path) -> None:
    """A review left open: a vessel silent for longer than the 7-day track window had no fix to
    measure from, and was not flagged. Its last fix since the box was loaded is gathered; one from
    before the loading is not. (A silence has the sender's Track & Trace times: DISC at 10:00, the
    vessel's ARRI at 06:00.)"""
    aboard = [event("v-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234"),
              event("v-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    berthed = {"eventID": "v-0", "eventDateTime": "2026-02-01T06:00:00Z",
               "eventCreatedDateTime": "2026-02-01T06:00:00Z",
               "eventClassification": {"eventTypeCode": "TRANSPORT", "eventClassifierCode": "ACT",
                                       "transportEventTypeCode": "ARRI"},
               "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": "HHL71800000"}]}
    aboard.append(berthed)
    on_vessel(aboard)
    lines = ais(datetime(2026, 1, 15, tzinfo=UTC), type=5, mmsi=636092000, imo=9321483, shipname="TEST")
    for when in (datetime(2026, 1, 18, 12, tzinfo=UTC), datetime(2026, 1, 22, 6, tzinfo=UTC)):  # before, after loading
        lines += ais(when, type=1, mmsi=636092000, lat=50.0, lon=3.0, speed=12.0)
    assessment = scored_with_ais(engine, tmp_path, aboard, lines)
    track = [f["observed_at"] for f in assessment["facts"]["vessel_track"]]
    assert track == ["2026-01-22T06:00:00+00:00"]  # then silent for 10 days, until it berthed
    [gap] = [r for r in assessment["reasons"] if r["indicator"] == "ais_gap_before_arrival"]
    assert gap["evidence"] == ("vessel AIS silent for 240.0 h from 2026-01-22 06:00 UTC, until the vessel arrived "
                               "(no fix since)")


def test_an_mmsi_that_later_names_another_vessel_stops_speaking_for_the_first(engine: Engine, tmp_path: Path) -> None:
    """A maritime review: the vessel moved to a new MMSI and went dark for days while its old
    MMSI, now another vessel's (its static data said so), reported from the Pacific. Those
    positions filled the trip's track and hid the silence; an MMSI joined a vessel for all time."""
    aboard = [event("v-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234"),
              event("v-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "DCSA-CTK-1234")]
    on_vessel(aboard)
    old, new = 636092000, 636092001

    def said(at: datetime, mmsi: int, imo: int, name: str) -> list[str]:
        return ais(at, type=5, mmsi=mmsi, imo=imo, shipname=name)

    def fix(at: datetime, mmsi: int, lat: float, lon: float) -> list[str]:
        return ais(at, type=1, mmsi=mmsi, lat=lat, lon=lon, speed=12.0)
    day = datetime(2026, 1, 27, tzinfo=UTC)
    lines = [*said(day - timedelta(days=5), old, 9321483, "TEST"), *fix(day + timedelta(hours=12), old, 50.0, 3.0),
             *said(day + timedelta(hours=20), new, 9321483, "TEST"), *fix(day + timedelta(hours=30), new, 49.0, -5.0),
             *said(day + timedelta(hours=36), old, 9500077, "INDIA")]
    for h in (48, 72, 96):  # the old MMSI, now INDIA's, in the Pacific
        lines += fix(day + timedelta(hours=h), old, 10.0, -140.0)
    lines += fix(day + timedelta(hours=114), new, 51.0, 2.0)  # the vessel again, 84 h later
    assessment = scored_with_ais(engine, tmp_path, aboard, lines)
    track = [(f["observed_at"][:13], f["latitude"]) for f in assessment["facts"]["vessel_track"]]
    assert track == [("2026-01-27T12", 50.0), ("2026-01-28T06", 49.0), ("2026-01-31T18", 51.0)]
    [gap] = [r for r in assessment["reasons"] if r["indicator"] == "ais_gap_before_arrival"]
    assert gap["evidence"] == "vessel AIS silent for 84.0 h from 2026-01-28 06:00 UTC, 4 days before arrival"


def _leftover_gate_out(uow: Any, tmp_path: Path, options: IngestOptions) -> tuple[int, int]:
    """A gate-out without reference received before its box's discharge makes a trip of its own;
    the discharge, received later, puts it on the box's trip. Returns (leftover id, trip id)."""
    from sqlalchemy import select

    from scheldt.store.models import ContainerTripRow

    gate_out = event("g-1", "GTOT", "2026-02-01T20:00:00Z", "DEBRV", "DCSA-CTK-1234")
    del gate_out["documentReferences"]
    ingest_file(uow, write(tmp_path / "load.json", [event("l-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "S")]),
                options, FIRST)
    seen = datetime(2026, 2, 1, 21, tzinfo=UTC)  # received once done, before the discharge (at LATER)
    ingest_file(uow, write(tmp_path / "out.json", [gate_out]), options, seen)
    score_trips(uow, seen)
    ids = dict(uow.session.execute(select(ContainerTripRow.document_ref, ContainerTripRow.id)).all())
    return ids[""], ids["HHL71800000"]


def _disc_later(uow: Any, tmp_path: Path, options: IngestOptions) -> None:
    ingest_file(uow, write(tmp_path / "disc.json", [event("d-1", "DISC", "2026-02-01T10:00:00Z", "DEBRV", "S")]),
                options, LATER)
    score_trips(uow, LATER, ["NARU3472484"])


def test_a_trip_its_events_no_longer_make_leaves_the_lists_and_keeps_its_id(engine: Engine, tmp_path: Path) -> None:
    """Regression reviews: a gate-out without reference that arrived before its discharge made a
    trip of its own; once the discharge arrived it ended the right trip, but the leftover stayed
    open "in port" in the queue, where a scan could be planned of it. It is marked regrouped:
    out of lists and counts, still found by id (its id is never given to another trip)."""
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        leftover, trip = _leftover_gate_out(uow, tmp_path, IngestOptions())
        listed_before = [t["id"] for t in uow.container_trips.page(None, TripFilter(), None, 10)]
        _disc_later(uow, tmp_path, IngestOptions())
        listed = [(t["id"], t["left_at"] is not None) for t in uow.container_trips.page(None, TripFilter(), None, 10)]
        counted = uow.container_trips.count(None, TripFilter())
        ghost = uow.container_trips.get(leftover)
        detail = trip_detail(uow, None, "", leftover)
        score_trips(uow, LATER + timedelta(hours=1))  # a full re-score later keeps the mark as it was
        again = uow.container_trips.get(leftover)["regrouped_at"]
        # its scores are history, none in force (an upgrade review's `trips history` showed two current trips)
        shown = {(r["document_ref"], r["in_force"], r["regrouped"]) for r in container_history(uow, "naru 3472484")}
    assert shown == {("", False, True), ("HHL71800000", True, False), ("HHL71800000", False, False)}
    assert sorted(listed_before) == sorted([leftover, trip])
    assert (listed, counted) == ([(trip, True)], 1)
    assert ghost["regrouped_at"] == LATER
    assert detail["trip"]["regrouped_at"] == LATER.isoformat()
    assert [o["id"] for o in detail["regrouped_to"]] == [trip]
    assert again == LATER


def test_a_regrouped_trip_takes_no_hold_and_one_with_a_scan_under_way_stays_listed(engine: Engine,
                                                                                  tmp_path: Path) -> None:
    from sqlalchemy import update

    from scheldt.domain.access import Principal, Role
    from scheldt.store.models import ContainerTripRow
    from scheldt.workflows import inspections
    from scheldt.workflows.accounts import create_organisation

    options = IngestOptions(supplied_by="be-customs")
    with unit_of_work(engine) as uow:
        create_organisation(uow, "be-customs", "Belgian Customs", "agency", [], [], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        leftover, trip = _leftover_gate_out(uow, tmp_path, options)
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == leftover).values(status="planned"))
        _disc_later(uow, tmp_path, options)
        planned = uow.container_trips.get(leftover)["regrouped_at"]
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == leftover).values(status="cleared"))
        score_trips(uow, LATER + timedelta(hours=1), ["NARU3472484"])
        marked = uow.container_trips.get(leftover)["regrouped_at"]
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        with pytest.raises(ConflictError) as refused:
            inspections.place_hold(uow, officer, leftover, "again", LATER + timedelta(hours=2))
    assert planned is None  # a scan under way: work an officer must still see listed
    assert marked == LATER + timedelta(hours=1)
    assert f"use trip {trip} instead" in str(refused.value)


def test_a_hold_follows_the_box_s_moves_to_the_trip_they_now_make(engine: Engine, tmp_path: Path) -> None:
    """A carrier review: a box held on the trip its voyage-only moves made; its B/L then
    arrived and the moves joined the B/L's trip, not held: the carrier (now owning the box's
    trip) was never told, and saw the box as not held. The hold is carried over, and the new
    owner gets the hold notice; no release is sent for the old trip (the box stays held)."""
    from scheldt.domain.access import Principal, Role
    from scheldt.workflows import inspections, notices
    from scheldt.workflows.accounts import create_organisation

    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
             _voyage_only("t-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV")]
    options = IngestOptions(supplied_by="be-customs")
    with unit_of_work(engine) as uow:
        for org in (("be-customs", "Belgian Customs", "agency", [], []), ("msc", "MSC", "carrier", ["MSC"], [])):
            create_organisation(uow, *org, FIRST)
        notices.subscribe(uow, Principal("msc", uow.accounts.organisation("msc"), frozenset({Role.CARRIER_SECURITY})),
                          "https://msc.example/notices", "s" * 32, ["hold", "release"], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", moves), options, FIRST)
        score_trips(uow, FIRST)
        [first] = uow.container_trips.page(None, TripFilter(), None, 10)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, first["id"], "K9 indicated the doors", FIRST)
        ingest_file(uow, TD, options, LATER)
        score_trips(uow, LATER)
        [now_listed] = uow.container_trips.page(None, TripFilter(), None, 10)
        old, hold = uow.container_trips.get(first["id"]), uow.inspections.active_hold(now_listed["id"])
        sent = [(n["kind"], n["body"]["container_number"]) for n in uow.notifications.notices("msc")]
        audited = [e for e in uow.audit.entries(after_seq=0, limit=100) if e.payload.get("object_kind") == "hold"]
    assert (first["document_ref"], now_listed["document_ref"], now_listed["on_hold"]) == ("", "HHL71800000", True)
    assert (old["on_hold"], old["regrouped_at"]) == (False, LATER)
    assert hold["placed_by"] == "officer" and hold["reason"] == (
        f"K9 indicated the doors [carried over from trip {first['id']}: the box's events now make trip "
        f"{now_listed['id']}]")
    assert sent == [("hold", "NARU3472484")]
    assert [e.payload["details"] for e in audited] == [{"from_trip": first["id"], "to_trip": now_listed["id"],
                                                        "new_hold": hold["id"]}]


def test_a_notice_about_a_regrouped_trip_is_judged_on_where_its_moves_went(engine: Engine, tmp_path: Path) -> None:
    """Regression reviews: a pending notice about a trip since regrouped was judged on the box's
    newest trip, then on any trip of the box its organisation owned (a line reuses its boxes), not
    on the trip the moves and the hold went to. The line that sent the voyage-only moves owns the
    trip its bill of lading makes of them: its pending hold notice is still its own; were that
    trip another line's, it would not be."""
    from sqlalchemy import update

    from scheldt.domain.access import Principal, Role
    from scheldt.store.models import ContainerTripRow
    from scheldt.workflows import inspections, notices
    from scheldt.workflows.accounts import create_organisation

    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
             _voyage_only("t-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV")]
    earlier = _voyage_only("t-0", "DISC", "2025-03-01T10:00:00Z", "DEBRV")  # the line's journey a year before
    earlier["transportDetails"]["transportCall"]["carrierExportVoyageNumber"] = "101W"
    with unit_of_work(engine) as uow:
        create_organisation(uow, "be-customs", "Belgian Customs", "agency", [], [], FIRST)
        create_organisation(uow, "msc", "MSC", "carrier", ["MSC"], [], FIRST, client_of="be-customs")
        notices.subscribe(uow, Principal("msc", uow.accounts.organisation("msc"), frozenset({Role.CARRIER_SECURITY})),
                          "https://msc.example/notices", "s" * 32, ["hold", "release"], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", [earlier, *moves]), IngestOptions(supplied_by="msc"), FIRST)
        score_trips(uow, FIRST)
        [first, old] = sorted(uow.container_trips.page(None, TripFilter(left=None), None, 10),
                              key=lambda t: t["arrival_at"], reverse=True)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, first["id"], "K9 indicated the doors", FIRST)
        [pending] = uow.notifications.notices("msc")
        ingest_file(uow, TD, IngestOptions(supplied_by="be-customs"), LATER)
        score_trips(uow, LATER)
        listed = uow.container_trips.page(None, TripFilter(left=None), None, 10)
        [now_listed] = [t for t in listed if t["id"] != old["id"]]
        assert uow.container_trips.get(first["id"])["regrouped_at"] == LATER
        # another line's later trip of the box is its newest; the moves went to the line's own
        uow.container_trips.upsert([{
            "container_number": "NARU3472484", "document_ref": "OTHRBL1", "voyage": "999E", "carrier_code": "OTHR",
            "terminal_code": "", "supplied_by": "be-customs", "port_of_loading": "ECGYE", "port_of_discharge": "BEANR",
            "vessel_imo": "", "arrival_at": LATER + timedelta(days=90), "assessment_id": None, "score": 0.1,
            "risk_band": "low", "top_reason": "", "scored_at": LATER}])
        assert uow.container_trips.of_container("NARU3472484")[0]["document_ref"] == "OTHRBL1"
        assert notices.owned_now(uow, pending)
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == now_listed["id"])
                            .values(carrier_code="OTHR"))
        assert not notices.owned_now(uow, pending)
    assert (pending["body"]["trip_id"], pending["kind"], first["carrier_code"], old["carrier_code"]) == (
        first["id"], "hold", "MSC", "MSC")


def test_a_scan_and_seizure_follow_the_box_s_moves_to_the_trip_they_now_make(engine: Engine, tmp_path: Path) -> None:
    """An upgrade review: a box scanned and searched (a seizure) on the trip its voyage-only moves
    made; once its B/L joined them to the B/L's trip, the scan order and seizure stayed on a trip
    no list shows, the box's trip looked never inspected, and a second scan of it was planned."""
    from scheldt.domain.access import Principal, Role
    from scheldt.domain.inspection import current_shift
    from scheldt.errors import ConflictError
    from scheldt.workflows import inspections, share
    from scheldt.workflows.accounts import create_organisation

    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
             _voyage_only("t-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV")]
    options = IngestOptions(supplied_by="be-customs")
    at = datetime(2026, 2, 1, 12, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        create_organisation(uow, "be-customs", "Belgian Customs", "agency", [], [], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", moves), options, FIRST)
        score_trips(uow, at)
        [first] = uow.container_trips.page(None, TripFilter(), None, 10)
        org = uow.accounts.organisation("be-customs")
        officer = Principal("officer", org, frozenset({Role.TARGETING_OFFICER}))
        uow.inspections.add_scanner("SC-1", "Scanner 1", "Deurganck", 3, "be-customs")
        order = inspections.plan_scan(uow, officer, first["id"], "SC-1", *current_shift(at), "manual", "K9", at)
        inspections.act(uow, Principal("op", org, frozenset({Role.SCANNER_OPERATOR})), order["id"], "scan",
                        {"nii_image_ref": "img-1", "verdict": "anomaly"}, at)
        searcher = Principal("s", org, frozenset({Role.SEARCH_TEAM}))
        inspections.act(uow, searcher, order["id"], "search",
                        {"result": "seizure", "drug_type": "cocaine", "mass_kg": 50.0, "concealment": "behind_doors"},
                        at)
        shared = share.share_seizure_report(uow, officer, order["id"], share.Terms("green"), at)
        ingest_file(uow, TD, options, LATER)
        score_trips(uow, LATER)
        [now_listed] = uow.container_trips.page(None, TripFilter(), None, 10)
        old = uow.container_trips.get(first["id"])
        moved = uow.inspections.order(order["id"], "be-customs")
        seizures = [s["trip_id"] for s in uow.inspections.seizures("be-customs")]
        outcomes = uow.trip_outcomes.all(["inspection"])
        report = share.shared_seizure_report(uow, "be-customs", order["id"], LATER)
        with pytest.raises(ConflictError, match="was searched already"):
            inspections.plan_scan(uow, officer, now_listed["id"], "SC-1", *current_shift(LATER), "risk", "", LATER)
        audited = [e.payload["details"] for e in uow.audit.entries(after_seq=0, limit=200)
                   if e.payload.get("action") in ("carry scan orders to the box's trip",
                                                  "seizure report follows its scan order")]
        # a correction of the moved record: the box's one outcome changes, none comes back on the old trip
        inspections.act(uow, searcher, order["id"], "correct", {
            "result": "seizure", "drug_type": "cocaine", "mass_kg": 40.0, "concealment": "behind_doors",
            "reason": "reweighed"}, LATER + timedelta(hours=1))
        corrected = uow.trip_outcomes.all(["inspection"])
    assert (now_listed["document_ref"], now_listed["status"]) == ("HHL71800000", "searched")
    assert (old["regrouped_at"], old["status"]) == (LATER, "open")
    assert moved["trip_id"] == now_listed["id"] and seizures == [now_listed["id"]]
    assert audited == [{"from_trip": first["id"], "to_trip": now_listed["id"], "orders": [order["id"]]},
                       {"order_id": order["id"], "action": "updated"}]
    # what the model learns: one seizure, on the box's trip (it learnt it from the old trip's facts)
    assert outcomes == corrected == {("NARU3472484", "HHL71800000", "402E"): (True, True)}
    # the report shared of the old grouping follows: a new version naming the B/L's consignment
    assert report.stix_id == shared["id"] and not any(o.startswith("scheldt-consignment--") for o in shared["objects"])
    assert str(report.object.get("consignment_ref", "")).startswith("scheldt-consignment--")


def test_a_trip_whose_facts_are_back_as_they_were_is_counted_as_scored(engine: Engine, tmp_path: Path) -> None:
    """A screening review: after a watchlist entry was taken off, every trip it had matched lost
    its points, but the report said 0 scored: their score was one stored before, so no new
    assessment was added, and the count was of assessments added."""
    from scheldt.workflows.screening import load_watchlists

    listed, empty = tmp_path / "list.csv", tmp_path / "other.csv"
    listed.write_text("id,name\nW1,DCSA CTK\n")
    empty.write_text("id,name\nW2,Unrelated Shipping Ltd\n")
    origin = write(tmp_path / "origin.json", [event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        first = load_and_score(uow, TD, origin)
        load_watchlists(uow, [listed], "narco", "be-customs", FIRST)
        matched = score_trips(uow, FIRST + timedelta(hours=1))
        load_watchlists(uow, [empty], "narco", "be-customs", FIRST)
        back = score_trips(uow, FIRST + timedelta(hours=2))
        shown = uow.container_trips.by_key(KEY)
    assert [(r.scored, r.unchanged) for r in (first, matched, back)] == [(1, 0), (1, 0), (1, 0)]
    assert shown is not None and shown["score"] == 15.0


def test_a_regrouped_mark_is_cleared_when_the_events_make_the_trip_again(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        leftover, trip = _leftover_gate_out(uow, tmp_path, IngestOptions())
        key = ("NARU3472484", "", "")
        marked = uow.container_trips.mark_regrouped(["NARU3472484"], {("NARU3472484", "HHL71800000", "")}, LATER)
        cleared = uow.container_trips.mark_regrouped(["NARU3472484"], {key}, LATER)
        row = uow.container_trips.get(leftover)
        other = uow.container_trips.get(trip)
    assert marked == [leftover]
    assert cleared == [trip]
    assert (row["regrouped_at"], other["regrouped_at"]) == (None, LATER)


def _voyage_only(event_id: str, code: str, when: str, port: str) -> dict[str, object]:
    """A terminal's move naming the box and the vessel's voyage (402E, the eBL sample's), no document."""
    e = event(event_id, code, when, port, "DCSA-CTK-1234")
    del e["documentReferences"]
    e["transportDetails"] = {"transportCall": {"UNLocationCode": port, "carrierExportVoyageNumber": "402E"}}
    return e


def test_moves_naming_only_the_voyage_join_the_trip_of_the_document_listing_the_box(engine: Engine,
                                                                                   tmp_path: Path) -> None:
    """A carrier review: a terminal's load and discharge naming only the voyage made a trip
    without document; the carrier's bill of lading listing that box under that voyage (the eBL
    sample: NARU3472484, voyage 402E) was never joined to it, so the carrier owned nothing and
    its own B/L was unknown to it. Moves further than 120 days from the document stay apart."""
    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
             _voyage_only("t-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV"),
             _voyage_only("t-3", "GTOT", "2026-02-03T10:00:00Z", "DEBRV"),
             _voyage_only("t-4", "DISC", "2026-07-01T10:00:00Z", "DEBRV")]  # another journey, voyage reused
    with unit_of_work(engine) as uow:
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", moves), IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        facts = trip_facts(uow, ["NARU3472484"], LATER + timedelta(days=180))
        score_trips(uow, LATER + timedelta(days=180))
        rows = {(t["document_ref"], t["voyage"]): t for t in uow.container_trips.page(None, TripFilter(), None, 10)}
        detail = trip_detail(uow, None, "", rows[("HHL71800000", "402E")]["id"])
    assert [(f.key.document_ref, f.key.voyage, len(f.events), len(f.documents)) for f in facts] == [
        ("HHL71800000", "402E", 3, 1), ("", "402E", 1, 0)]
    assert rows[("HHL71800000", "402E")]["carrier_code"] == facts[0].documents[0].carrier_code != ""
    assert [e["event_type"] for e in detail["events"]] == ["LOAD", "DISC", "GTOT"] and len(detail["documents"]) == 1


def _two_vessels(path: Path) -> Path:
    """The eBL sample (NARU3472484 under voyage 402E of MSC Gülsün) with a second vessel voyage,
    as DCSA eBL 3.0 lets a document list the first sea-going vessel and then the mother vessel."""
    doc = json.loads(TD.read_text())
    voyages = doc["data"]["transportDocument"]["transports"]["vesselVoyages"]
    voyages.append({"vesselName": "MSC Mother", "carrierExportVoyageNumber": "611W"})
    path.write_text(json.dumps(doc))
    return path


def test_moves_naming_the_document_s_second_voyage_join_its_trip(engine: Engine, tmp_path: Path) -> None:
    """Only a document's first voyage was read: a terminal's discharge and gate-out naming the
    mother vessel's voyage (the document's second) made a trip without document, and the
    carrier's B/L trip stayed without its discharge."""
    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR")]
    for event_id, code, when in (("t-2", "DISC", "2026-02-01T10:00:00Z"), ("t-3", "GTOT", "2026-02-03T10:00:00Z")):
        e = _voyage_only(event_id, code, when, "DEBRV")
        e["transportDetails"]["transportCall"]["carrierExportVoyageNumber"] = "611W"
        moves.append(e)
    for e in moves[1:]:  # the mother vessel's moves name it
        e["transportDetails"]["transportCall"]["vessel"] = {"vesselIMONumber": "9321483", "vesselName": "MSC MOTHER"}
    from scheldt.domain.access import Principal, Role
    from scheldt.workflows import inspections, notices
    from scheldt.workflows.accounts import create_organisation

    with unit_of_work(engine) as uow:
        for org in (("be-customs", "Belgian Customs", "agency", [], []), ("msc", "MSC", "carrier", ["MSC"], [])):
            create_organisation(uow, *org, FIRST)
        notices.subscribe(uow, Principal("msc", uow.accounts.organisation("msc"), frozenset({Role.CARRIER_SECURITY})),
                          "https://msc.example/notices", "s" * 32, ["hold"], FIRST)
        options = IngestOptions(supplied_by="be-customs")
        ingest_file(uow, _two_vessels(tmp_path / "td.json"), options, FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", moves[:2]), options, FIRST)
        facts = trip_facts(uow, ["NARU3472484"], LATER)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        score_trips(uow, LATER)
        [trip] = uow.container_trips.page(None, TripFilter(), None, 10)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, trip["id"], "K9", LATER)
        [sent] = [n["body"] for n in uow.notifications.notices("msc")]
    assert [(f.key.document_ref, f.key.voyage, [e.event_type for e in f.events]) for f in facts] == [
        ("HHL71800000", "402E", ["LOAD", "DISC"])]
    # the notice names the voyage the box came on besides the trip's (a terminal review's named the feeder's only)
    assert (sent["voyage"], sent["vessel_voyage"]) == ("402E", "611W")
    # and which vessel, port and terminal (a shipping-line review had to look them up)
    assert {k: sent.get(k) for k in ("vessel_imo", "vessel_name", "port_of_discharge", "terminal")} == {
        "vessel_imo": trip["vessel_imo"], "vessel_name": "MSC MOTHER", "port_of_discharge": trip["port_of_discharge"],
        "terminal": trip["terminal_code"] or None}


def test_the_trip_s_vessel_is_shown_with_its_own_voyage() -> None:
    """A carrier-data review: a transshipped box's page showed the feeder's voyage (the trip's
    key) beside the mother vessel that brought it."""
    from scheldt.workflows.trip_views import vessel_voyage

    events = [{"vessel_imo": "9321483", "export_voyage": "FE101N", "import_voyage": "", "event_time": FIRST},
              {"vessel_imo": "9298686", "export_voyage": "ML202E", "import_voyage": "", "event_time": LATER},
              {"vessel_imo": "9298686", "export_voyage": "", "import_voyage": "ML203W", "event_time": LATER,
               "retracted_by": "x"},
              {"vessel_imo": "9298686", "export_voyage": "", "import_voyage": "", "event_time": LATER}]
    assert [vessel_voyage(imo, events) for imo in ("9298686", "9321483", "9000001", "")] == ["ML202E", "FE101N", "", ""]
    # a discharge's import voyage is the one that brought the box, its export voyage the next (a
    # regression review's box, never transshipped, showed the vessel's next voyage)
    discharged = [{"vessel_imo": "9298686", "event_type": "LOAD", "export_voyage": "345E", "import_voyage": "",
                   "event_time": FIRST},
                  {"vessel_imo": "9298686", "event_type": "DISC", "export_voyage": "346W", "import_voyage": "345E",
                   "event_time": LATER},
                  {"vessel_imo": "9298686", "event_type": "GTOT", "export_voyage": "346W", "import_voyage": "",
                   "event_time": LATER + timedelta(days=1)}]
    assert vessel_voyage("9298686", discharged) == "345E"


def test_the_trip_s_vessel_is_named_from_its_events_else_from_ais(engine: Engine) -> None:
    """An officer review: the trip page named the vessel by its IMO number only."""
    from scheldt.domain.shipping import Vessel, VesselSighting
    from scheldt.workflows.trip_views import vessel_name

    events = [{"vessel_imo": "9321483", "vessel_name": "MSC OLD", "event_time": FIRST},
              {"vessel_imo": "9321483", "vessel_name": " MSC NEW ", "event_time": LATER},
              {"vessel_imo": "9999999", "vessel_name": "OTHER", "event_time": LATER + timedelta(days=1)}]
    with unit_of_work(engine) as uow:
        for name, seen in (("AIS LATER", LATER), ("AIS EARLIER", FIRST)):
            uow.vessels.add_sightings([VesselSighting("636092000", Vessel(imo="9321483", mmsi="636092000", name=name),
                                                      observed_at=seen, source="ais.nmea")], "local-agency", LATER)
        named = (vessel_name(uow, "9321483", events), vessel_name(uow, "9321483", events[2:]),
                 vessel_name(uow, "9000001", []), vessel_name(uow, "", events))
    assert named == ("MSC NEW", "AIS LATER", "", "")


def test_a_document_amended_to_drop_the_box_no_longer_places_its_moves(engine: Engine, tmp_path: Path) -> None:
    """A regression review: the B/L amended to list another box still placed this box's moves
    (its carrier kept owning the trip), and the amendment re-scored nothing. The CLI queue
    leaves the trip left behind out, as the lists do."""
    from scheldt.workflows.trip_scoring import rescore_received

    moves = [_voyage_only("t-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
             _voyage_only("t-2", "DISC", "2026-02-01T10:00:00Z", "DEBRV")]
    amended = tmp_path / "td-v2.json"
    amended.write_text(TD.read_text().replace("NARU3472484", "MSCU1234566"))
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, TD, IngestOptions(), FIRST)
        ingest_file(uow, write(tmp_path / "moves.json", moves), IngestOptions(), FIRST)
        score_trips(uow, FIRST)
        placed = [(t["document_ref"], t["carrier_code"])
                  for t in uow.container_trips.page(None, TripFilter(), None, 10)]
        ingest_file(uow, amended, IngestOptions(), LATER)
        report = rescore_received(uow, LATER, LATER)
        mine = [(t["document_ref"], t["carrier_code"]) for t in uow.container_trips.page(
            None, TripFilter(container_number="NARU3472484"), None, 10)]
        queue = [(q["container_number"], q["document_ref"]) for q in uow.trip_assessments.queue("antwerp-narcotics@3")]
    assert placed == [("HHL71800000", "MSC")]
    assert report is not None and report.scored >= 1
    assert mine == [("", "")]
    assert ("NARU3472484", "HHL71800000") not in queue and ("NARU3472484", "") in queue


def test_a_box_on_board_is_shown_on_its_vessel_s_track_since_loading(engine: Engine, tmp_path: Path) -> None:
    """A review: a high-score box at sea showed no vessel track on its page or in `scheldt
    container` (the facts hold the track before arrival; the timeline ended 3 days after
    loading), although its vessel's positions were stored."""
    from pyais.encode import encode_dict

    from scheldt.workflows.shipping import container_timeline
    from scheldt.workflows.trip_views import trip_detail

    loaded = event("s-1", "LOAD", "2026-01-20T14:15:00Z", "ECGYE", "DCSA-CTK-1234")
    loaded["transportDetails"] = {"transportCall": {"UNLocationCode": "ECGYE", "carrierExportVoyageNumber": "402E",
                                                   "vessel": {"vesselIMONumber": "9321483", "vesselName": "TEST"}}}
    static = {"type": 5, "mmsi": 636092000, "imo": 9321483, "shipname": "TEST"}
    lines = [f"\\c:{int(datetime(2026, 1, 31, tzinfo=UTC).timestamp())}*00\\{m}" for m in
             encode_dict(static, sentence_type="VDM", seq_id=1)]
    for day, lat in ((19, -2.2), (25, 9.0), (31, 30.0)):  # the day before loading, then at sea
        stamp = int(datetime(2026, 1, day, 12, tzinfo=UTC).timestamp())
        lines += [f"\\c:{stamp}*00\\{m}" for m in encode_dict(
            {"type": 1, "mmsi": 636092000, "lat": lat, "lon": -40.0, "speed": 16.0}, sentence_type="VDM")]
    ais = tmp_path / "ais.nmea"
    ais.write_text("\n".join(lines) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, write(tmp_path / "loaded.json", [loaded]), IngestOptions(), FIRST)
        ingest_file(uow, ais, IngestOptions(), LATER)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        score_trips(uow, LATER)
        row = uow.container_trips.by_key(TripKey("NARU3472484", "HHL71800000", "402E"))
        assert row is not None
        detail = trip_detail(uow, None, "be-customs", row["id"])
        timeline = container_timeline(uow, "NARU3472484")
    assert detail["on_board_since"] == "2026-01-20T14:15:00+00:00"
    assert [(f["observed_at"][:10], f["latitude"]) for f in detail["vessel_track"]] == [
        ("2026-01-25", 9.0), ("2026-01-31", 30.0)]
    assert [f["latitude"] for f in timeline.vessel_tracks[0]] == [-2.2, 9.0, 30.0]


def test_a_backfilled_consignee_counts_from_the_issue_dates_of_its_documents(engine: Engine, tmp_path: Path) -> None:
    """Documents loaded in one go (a backfill) are all received on the day of loading; the
    consignee's history counts from the issue dates they state, so a consignee with a bill of
    lading issued in June 2025 is not "first seen" on the day of loading. The two bills of
    lading are the real issued sample with a consignee, another reference and issue date (and,
    for the older one, another container) written in."""
    def bill(ref: str, issued: str, container: str) -> Path:
        data = json.loads(TD.read_text().replace("NARU3472484", container))
        data["data"]["transportDocumentReference"] = ref
        doc = data["data"]["transportDocument"]
        doc.update(transportDocumentReference=ref, issueDate=issued)
        doc["documentParties"]["consignee"] = {"partyName": "Fruit Imports BV"}
        path = tmp_path / f"{ref}.json"
        path.write_text(json.dumps(data))
        return path

    origin = write(tmp_path / "origin.json", [
        event("e-1", "GTIN", "2026-01-18T09:00:00Z", "DKAAR", "DCSA-CTK-1234"),
        event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        ingest_file(uow, bill("HHL70000001", "2025-06-02", "MSKU9070323"), IngestOptions(), FIRST)
        ingest_file(uow, bill("HHL71800000", "2026-01-20", "NARU3472484"), IngestOptions(), FIRST)
        ingest_file(uow, origin, IngestOptions(), FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
        score_trips(uow, FIRST)
        [assessment] = uow.trip_assessments.history(KEY)
    [new] = [r for r in assessment["reasons"] if r["indicator"] == "new_consignee"]
    # thin (one earlier bill of lading) but not recent: half strength, counted to the issue date of
    # the trip's own bill (2026-01-20). Counted from the day of loading, it said "first seen
    # 2026-01-21 (0 days ago)" at full strength.
    assert new["evidence"] == ("consignee 'Fruit Imports BV' first seen 2025-06-02 (232 days before this trip named "
                               "it), 1 earlier trip(s)")
    assert new["points"] == 2.5  # weight 5 × 0.5


def test_a_box_known_only_from_a_bay_plan_gets_its_port_of_loading(engine: Engine) -> None:
    """The real bay plan of the DEL MONTE GOLD leaving Moín (CRMOB) on 2024-10-13: its boxes had
    no port of loading (BAPLIE LOC+9 was read but not used), so a Costa Rican origin never counted."""
    plan = SHARED / "fixtures" / "edifact" / "BAPLIE_D95B_SMDG20_del-monte-gold_CRMOB_single-line.edi"
    when = datetime(2024, 10, 20, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        ingest_file(uow, plan, IngestOptions(), when)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", when)
        score_trips(uow, when)
        [latest] = [a for a in uow.trip_assessments.latest_per_trip() if a["container_number"] == "TEMU9544485"]
        [row] = [t for t in uow.container_trips.page(None, TripFilter(), None, 1000)
                 if t["container_number"] == "TEMU9544485"]
    [stowed] = latest["facts"]["events"]
    assert stowed["port_of_loading"] == "CRMOB" and row["port_of_loading"] == "CRMOB"
    # and its port of discharge and route (LOC+11; the review's trip page said "CRMOB → ?")
    assert stowed["port_of_discharge"] == "GTSTC" and row["port_of_discharge"] == "GTSTC"
    from scheldt.domain.trips import trip_facts_from_dict
    from scheldt.workflows.trip_views import route

    assert [(s["unlocode"], s["what"]) for s in route(trip_facts_from_dict(latest["facts"]))] == [
        ("CRMOB", "LOAD (bay plan)"), ("GTSTC", "DISC (bay plan)")]
    assert [r["evidence"] for r in latest["reasons"] if r["indicator"] == "high_risk_port_of_loading"] == [
        "port of loading on the bay plan of 2024-10-13 (vessel leaving CRMOB): CRMOB (Costa Rica (all ports)), on the high-risk "
        "list since 2020-01-01, graded 0.8"]


def test_events_without_a_bay_plan_keep_their_stored_form() -> None:
    """A field added to trip events is left out of the stored facts while empty, so trips that
    do not use it keep their digest: an upgrade re-scores nothing for it."""
    from scheldt.domain.trips import TripEvent, TripFacts, facts_snapshot

    load = TripEvent("EQUIPMENT", "LOAD", "ACT", FIRST, "DKAAR")
    plan = TripEvent("STOWAGE", "BAPLIE", "ACT", FIRST, "DKAAR", port_of_loading="DKAAR")
    snapshot = facts_snapshot(TripFacts(KEY, LATER, (load, plan)))
    assert "port_of_loading" not in snapshot["events"][0] and snapshot["events"][1]["port_of_loading"] == "DKAAR"
    assert "port_of_discharge" not in snapshot["events"][0] and "port_of_discharge" not in snapshot["events"][1]


def test_an_unknown_hs_code_is_one_data_quality_note(engine: Engine, tmp_path: Path) -> None:
    """Workbench review: the reader's note and the reference check's on one HS code the shipped
    nomenclature lacks (851712, split in HS 2022) were shown as two."""
    td = tmp_path / "td.json"
    text = TD.read_text()
    assert text.count('"640510"') == 1
    td.write_text(text.replace('"640510"', '"851712"'))
    origin = write(tmp_path / "origin.json", [event("e-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        load_and_score(uow, td, origin)
        [row] = uow.container_trips.page(None, TripFilter(container_number="NARU3472484"), None, 10)
        detail = trip_detail(uow, None, "be-customs", row["id"])
    assert [(f["code"], f["why"]) for f in detail["flags"] if f["code"] == "unknown-hs-code"] == [
        ("unknown-hs-code", "HS 851712 is not in the shipped nomenclature (HS 2022 (UN Comtrade extract)); "
                            "kept as sent")]


def test_notes_on_different_values_stay_apart() -> None:
    """Only the two notes on one unknown HS code are one: a first version merged notes alike
    before their first ";", which hid a second malformed code quoting a ";" (regression review)."""
    from scheldt.workflows.trip_views import distinct_notes

    said = ["HS code '411510;640399' is not 6, 8 or 10 digits", "HS code '411510;930190' is not 6, 8 or 10 digits",
            "HS 851712 is not in the shipped nomenclature (HS 2022); kept as sent",
            "HS 851712 is not in the shipped nomenclature (HS 2022)",
            "HS 851713 is not in the shipped nomenclature (HS 2022)"]
    codes = ["malformed-hs-code"] * 2 + ["unknown-hs-code"] * 3
    notes = distinct_notes([{"source": "/srv/in/si.json$[0]", "flags": [
        {"field": "HSCodes", "code": c, "why": w} for c, w in zip(codes, said, strict=True)]}])
    assert [(n["why"], n["source"]) for n in notes] == [(w, "si.json$[0]") for w in (said[:3] + said[4:])]


def test_a_trip_page_says_its_b_l_was_amended_to_drop_the_box(engine: Engine, tmp_path: Path) -> None:
    """A carrier-data review: a box dropped from its amended B/L was shown on the earlier version
    (its consignee as if current) without a word."""
    text = TD.read_text().replace("NARU3472484", "MSCU1234566")
    amended = tmp_path / "td-v2.json"
    amended.write_text(text)
    origin = write(tmp_path / "origin.json", [event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    flags = lambda uow: trip_detail(  # noqa: E731
        uow, None, "be-customs", uow.container_trips.by_key(KEY)["id"])["flags"]
    with unit_of_work(engine) as uow:
        load_and_score(uow, TD, origin)
        before = flags(uow)
        ingest_file(uow, amended, IngestOptions(), LATER)
        after = flags(uow)
    assert [f for f in before if f["code"] == "dropped-from-document"] == []
    assert [(f["source"], f["why"]) for f in after if f["code"] == "dropped-from-document"] == [(
        "td-v2.json$.data.transportDocument", f"the latest version of TRD HHL71800000 (received "
        f"{LATER.isoformat()}) no longer lists NARU3472484: shown as its earlier version listed it")]


def test_a_trip_page_shows_the_data_quality_flags_of_its_facts(engine: Engine, tmp_path: Path) -> None:
    """Flags were stored with the facts, but no trip page or API answer showed them (review)."""
    from scheldt.workflows.trip_views import trip_detail

    plan = (SHARED / "fixtures" / "edifact" / "BAPLIE_D95B_SMDG20_del-monte-gold_CRMOB_single-line.edi").read_text()
    (tmp_path / "gold.edi").write_text(plan.replace("LOC+9+CRMOB:139:6'", "LOC+9+MOIN:139:6'", 1))
    when = datetime(2024, 10, 20, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        ingest_file(uow, tmp_path / "gold.edi", IngestOptions(), when)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", when)
        score_trips(uow, when)
        [row] = [t for t in uow.container_trips.page(None, TripFilter(container_number="TEMU9544485"), None, 10)]
        detail = trip_detail(uow, None, "be-customs", row["id"])
    assert [(f["field"], f["code"], f["why"]) for f in detail["flags"]] == [
        ("LOC+9", "malformed-unlocode", "'MOIN' is not shaped like a UN/LOCODE (country + 3 letters/digits); not used")]
    # the file's name, not the server's directories (analyst review: carriers read the ingest paths)
    # (and the bay plan's BGM document number: a replacement of the plan finds its positions by it)
    assert detail["flags"][0]["source"] == "gold.edi message SEACOSA9624 (segment 2) BGM R0C5BAD470A6A5 cell 0381182"
    # and so do its events' (a carrier review read the ingest paths in its own boxes' events)
    assert [e["source"] for e in detail["events"]] == [
        "gold.edi message SEACOSA9624 (segment 2) BGM R0C5BAD470A6A5 cell 0381182"]
    from scheldt.workflows.trip_views import file_name_only
    assert [file_name_only(s) for s in ("/srv/in/day 1/documents.json$[0].data", "/srv/ais/pos.csv:17", "plain.edi",
                                        "/a/b.json$.events[0].x/y", "carrier-a/44/documents.json$[7]",
                                        "/srv/carrier-a/44/documents.json$[7]")] == [
        "documents.json$[0].data", "pos.csv:17", "plain.edi", "b.json$.events[0].x/y",
        "carrier-a/44/documents.json$[7]", "documents.json$[7]"]  # a sent file keeps its sender and number


def test_two_carriers_reusing_one_bill_of_lading_number_keep_their_own_trips(engine: Engine, tmp_path: Path) -> None:
    """A carrier review: carrier B's document with carrier A's B/L number, for another box, was
    taken as A's trip's latest version (B then owned A's trip, read A's parties and got A's hold
    notice). A document that lists boxes, none of them this one, is not this trip's."""
    other = json.loads(TD.read_text().replace("NARU3472484", "SIMU0000018").replace('"MSC"', '"SIMB"'))
    (tmp_path / "td-b.json").write_text(json.dumps(other))
    a_events = write(tmp_path / "a.json", [event("a-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    b_events = write(tmp_path / "b.json", [{**event("b-1", "LOAD", "2026-01-20T15:00:00Z", "DKAAR", "DCSA-CTK-1234"),
                                            "equipmentDetails": {"equipmentReference": "SIMU0000018",
                                                                 "ISOEquipmentCode": "22GP", "emptyIndicatorCode": "LADEN"}}])
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
        for path in (TD, a_events, tmp_path / "td-b.json", b_events):
            ingest_file(uow, path, IngestOptions(), FIRST)
        score_trips(uow, LATER)
        facts = {f.key.container_number: f for f in trip_facts(uow, ["NARU3472484", "SIMU0000018"], LATER)}
        assert {d.carrier_code for d in facts["NARU3472484"].documents} == {"MSC"}
        assert {d.carrier_code for d in facts["SIMU0000018"].documents} == {"SIMB"}
        rows = {t["container_number"]: t["carrier_code"] for t in uow.container_trips.page(None, TripFilter(), None, 10)}
    assert rows == {"NARU3472484": "MSC", "SIMU0000018": "SIMB"}


def test_carrier_and_terminal_codes_and_references_are_read_as_their_owners_hold_them(engine: Engine,
                                                                                      tmp_path: Path) -> None:
    """A carrier review: "sima" / " SIMA " and " simt1 " were stored as sent, so neither the
    carrier nor the terminal owned the trip (scored high, seen by no one), and an event naming
    " HHL71800000 " did not join its document."""
    td = tmp_path / "td.json"
    td.write_text(TD.read_text().replace('"MSC"', '" msc "'))
    disc = {**event("n-1", "DISC", "2026-02-01T10:00:00Z", "BEANR", "DCSA-CTK-1234"),
            "eventLocation": {"UNLocationCode": "BEANR", "facilityCode": " simt1 "},
            "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": " HHL71800000 "}]}
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
        for path in (td, write(tmp_path / "disc.json", [disc])):
            ingest_file(uow, path, IngestOptions(), LATER)
        score_trips(uow, LATER)
        [row] = uow.container_trips.page(None, TripFilter(), None, 10)
    assert (row["document_ref"], row["carrier_code"], row["terminal_code"]) == ("HHL71800000", "MSC", "SIMT1")


def test_a_box_held_before_discharge_is_notified_to_the_terminal_that_then_handles_it(engine: Engine,
                                                                                      tmp_path: Path) -> None:
    """A carrier review held a box at sea (its carrier was told), then the discharge at a
    terminal arrived: the terminal, now owning the trip, was never told of the hold, and later
    got a release for it. The hold notice now follows the trip to an owner it gains."""
    from scheldt.domain.access import Principal, Role
    from scheldt.workflows import inspections, notices
    from scheldt.workflows.accounts import create_organisation

    loaded = write(tmp_path / "load.json", [event("h-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    disc = {**event("h-2", "DISC", "2026-02-01T10:00:00Z", "BEANR", "DCSA-CTK-1234"),
            "eventLocation": {"UNLocationCode": "BEANR", "facilityCode": "SIMT1"}}
    with unit_of_work(engine) as uow:
        for org in (("be-customs", "Belgian Customs", "agency", [], []), ("msc", "MSC", "carrier", ["MSC"], []),
                    ("terminal-1", "Terminal 1", "terminal", [], ["SIMT1"])):
            create_organisation(uow, *org, FIRST)
        for org in ("msc", "terminal-1"):
            who = Principal(org, uow.accounts.organisation(org), frozenset({Role.CARRIER_SECURITY}))
            notices.subscribe(uow, who, f"https://{org}.example/notices", "s" * 32, ["hold"], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", FIRST)
        for path in (TD, loaded):
            ingest_file(uow, path, IngestOptions(supplied_by="be-customs"), FIRST)
        score_trips(uow, FIRST)
        [trip] = uow.container_trips.page(None, TripFilter(), None, 10)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, trip["id"], "at sea", FIRST)
        assert [len(uow.notifications.notices(o)) for o in ("msc", "terminal-1")] == [1, 0]
        ingest_file(uow, write(tmp_path / "disc.json", [disc]), IngestOptions(supplied_by="be-customs"), LATER)
        score_trips(uow, LATER)
        assert uow.container_trips.get(trip["id"])["terminal_code"] == "SIMT1"
        got = {o: [(n["kind"], n["body"]["container_number"]) for n in uow.notifications.notices(o)]
               for o in ("msc", "terminal-1")}
        assert got == {"msc": [("hold", "NARU3472484")], "terminal-1": [("hold", "NARU3472484")]}
        score_trips(uow, LATER + timedelta(hours=1))  # scored again: no second notice
        assert len(uow.notifications.notices("terminal-1")) == 1


def test_the_drift_chart_shows_days_without_scores() -> None:
    """An officer review read a 5-day gap in scoring (a feed that went quiet) as consecutive days."""
    from scheldt.workflows.trip_views import with_empty_days

    day = {"trips": 3, "high": 1, "medium": 1, "low": 1, "mean_score": 40.0}
    filled = with_empty_days([{"day": "2025-12-25", **day}, {"day": "2025-12-27", **day}, {"day": "2026-01-01", **day}])
    assert [d["day"] for d in filled] == ["2025-12-25", "2025-12-26", "2025-12-27", "2025-12-28", "2025-12-29",
                                         "2025-12-30", "2025-12-31", "2026-01-01"]
    assert filled[1] == {"day": "2025-12-26", "trips": 0, "high": 0, "medium": 0, "low": 0, "mean_score": None}
    assert [d["trips"] for d in filled] == [3, 0, 3, 0, 0, 0, 0, 3]
    # a figures review: once the days spanned over 400, months apart were drawn as neighbours
    spread = [{"day": "2025-12-24", **day}, {"day": "2026-12-03", **day}, {"day": "2027-03-01", **day}]
    shown = with_empty_days(spread)
    assert len(shown) == 400 and shown[0]["day"] == "2026-01-26" and shown[-1]["day"] == "2027-03-01"
    assert [d["day"] for d in shown if d["trips"]] == ["2026-12-03", "2027-03-01"]
    assert with_empty_days(spread[:1]) == spread[:1] and with_empty_days([]) == []


def test_seizures_are_counted_by_the_ports_week_and_weeks_without_any_are_shown() -> None:
    """A figures review: a seizure of Monday 00:20 in Antwerp (Sunday 23:20 UTC) was counted in the
    week before, and the weekly chart drew a busy week and one five weeks later as neighbours."""
    from scheldt.workflows.trip_views import port_week, with_empty_weeks

    assert port_week(datetime(2026, 11, 29, 23, 20, tzinfo=UTC)) == "2026-W49"  # Mon 30 Nov 00:20 CET
    assert port_week(datetime(2026, 11, 29, 22, 59, tzinfo=UTC)) == "2026-W48"  # Sun 29 Nov 23:59 CET
    assert port_week(datetime(2027, 1, 3, 23, 30, tzinfo=UTC)) == "2027-W01"  # Mon 4 Jan 00:30 CET
    assert with_empty_weeks({"2026-W49": 9, "2026-W53": 1, "2027-W02": 1}) == [
        ("2026-W49", 9), ("2026-W50", 0), ("2026-W51", 0), ("2026-W52", 0), ("2026-W53", 1), ("2027-W01", 0),
        ("2027-W02", 1)]
    shown = with_empty_weeks({"2024-W10": 1, "2026-W10": 2}, most=52)
    assert len(shown) == 52 and shown[-1] == ("2026-W10", 2) and sum(n for _, n in shown) == 2
    assert with_empty_weeks({}) == []
    # up to the current week: a quiet spell since the last seizure shows (a regression review)
    assert with_empty_weeks({"2026-W49": 3}, until="2026-W51") == [("2026-W49", 3), ("2026-W50", 0), ("2026-W51", 0)]
    assert with_empty_weeks({"2026-W49": 3}, until="2026-W40") == [("2026-W49", 3)]


def test_the_route_keeps_a_transshipment_ports_discharge_and_reload_and_names_every_port() -> None:
    """A figures review: the map showed only "discharged" at Balboa, hid the reload there, and
    named neither Santos nor Antwerp (the UN/LOCODE excerpt lacks them; port-positions.csv has them)."""
    from scheldt.domain.trips import TripEvent, TripFacts, TripKey
    from scheldt.workflows.trip_views import route

    def ev(kind: str, port: str, day: int, hour: int) -> TripEvent:
        return TripEvent("EQUIPMENT", kind, "ACT", datetime(2025, 12, day, hour, tzinfo=UTC), unlocode=port)

    facts = TripFacts(TripKey("MSCU1234565", "BL1", "V1"), datetime(2026, 1, 5, tzinfo=UTC), events=(
        ev("LOAD", "BRSSZ", 10, 8), ev("DISC", "PABLB", 20, 10), ev("LOAD", "PABLB", 22, 8), ev("DISC", "BEANR", 30, 6)))
    stops = route(facts)
    assert [(s["unlocode"], s["name"]) for s in stops] == [("BRSSZ", "Santos"), ("PABLB", "Balboa"), ("BEANR", "Antwerpen")]
    assert [m["text"] for m in stops[1]["moves"]] == ["discharged 2025-12-20 10:00 UTC", "loaded 2025-12-22 08:00 UTC"]
    assert stops[1]["what"] == "DISC" and stops[0]["moves"][0]["text"] == "loaded 2025-12-10 08:00 UTC"


def test_a_trip_page_shows_the_declarations_of_that_trip_only(engine: Engine, tmp_path: Path) -> None:
    """A linking review: a declaration linked to a container, not a trip, and no trip page showed
    it. The trip of NARU3472484 under B/L HHL71800000, booking BKG0042 (events 2026-01-21 and
    2026-02-02) shows the be-customs declarations naming its B/L or its booking (whenever filed)
    and the one naming only the box filed during the trip; not one naming only the box filed in
    2019 (the box's earlier journey), not one naming the box under another B/L during the trip
    (another trip's), and not another agency's naming its B/L (a review read those)."""
    from scheldt.workflows.trip_views import trip_detail
    from tests.builders import broker_declarations

    mapping, decl = broker_declarations(tmp_path, [
        "26BE0001,2026-01-25,080390,EC,EC,18000,21000,HHL71800000,",
        "26BE0002,2026-02-03,080390,EC,EC,18000,21000,,NARU3472484",
        "19BE0003,2019-05-01,080390,EC,EC,18000,21000,,NARU3472484",
        "26BE0004,2026-01-26,080390,EC,EC,18000,21000,OTHERBL,OTHU1234560",
        "20BE0005,2020-01-05,080390,EC,EC,18000,21000,BKG0042,",
        "26BE0006,2026-01-28,080390,EC,EC,18000,21000,OTHERBL2,NARU3472484"])
    us = tmp_path / "us"
    us.mkdir()
    us_mapping, us_decl = broker_declarations(us, ["26US0001,2026-01-25,080390,EC,EC,18000,21000,HHL71800000,"])
    events = [event("e1", "LOAD", "2026-01-21T10:00:00Z", "ECGYE", "DCSA-CTK-1234"),
              event("e2", "DISC", "2026-02-02T10:00:00Z", "BEANR", "DCSA-CTK-1234")]
    for e in events:
        e["documentReferences"].append({"documentReferenceType": "BKG", "documentReferenceValue": "BKG0042"})  # type: ignore[attr-defined]
    with unit_of_work(engine) as uow:
        for path in (TD, write(tmp_path / "events.json", events)):
            ingest_file(uow, path, IngestOptions(), LATER)
        ingest_file(uow, decl, IngestOptions(mapping=str(mapping), supplied_by="be-customs"), LATER)
        ingest_file(uow, us_decl, IngestOptions(mapping=str(us_mapping), supplied_by="us-cbp"), LATER)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", LATER)
        score_trips(uow, LATER)
        [row] = uow.container_trips.page(None, TripFilter(container_number="NARU3472484"), None, 10)
        detail = trip_detail(uow, None, "be-customs", row["id"])
        outsider = trip_detail(uow, None, "carrier-a", row["id"], agency=False)
    assert [(d["declaration_ref"], d["bill_of_lading_ref"], d["filed_at"][:10]) for d in detail["declarations"]] == [
        ("20BE0005", "BKG0042", "2020-01-05"), ("26BE0001", "HHL71800000", "2026-01-25"),
        ("26BE0002", "", "2026-02-03")]
    assert "declarations" not in outsider  # customs' own data


def _declarations_of_two_trips(engine: Engine, tmp_path: Path, rows: list[str], first_trip_ends: str,
                               withdrawn: tuple[dict[str, object], ...] = ()
                               ) -> tuple[list[list[str]], dict[str, list[str]]]:
    """NARU3472484's January trip (B/L HHL71800000: load 01-05, discharge 01-20, gate-out at
    ``first_trip_ends``) and its next (booking BKGB0002: gate-in 02-01, load 02-05), be-customs
    declarations ``rows`` (broker CSV rows), ``withdrawn`` events sent again retracted, scored:
    (each trip's declarations on the timeline, each trip page's by its document reference)."""
    from scheldt.workflows.shipping import container_timeline
    from scheldt.workflows.trip_views import trip_detail
    from tests.builders import broker_declarations

    mapping, decl = broker_declarations(tmp_path, rows)
    first = [event("a1", "LOAD", "2026-01-05T10:00:00Z", "COCTG", "S1"),
             event("a2", "DISC", "2026-01-20T10:00:00Z", "BEANR", "S1"),
             event("a3", "GTOT", first_trip_ends, "BEANR", "S1"), *withdrawn]
    then = [event("b1", "GTIN", "2026-02-01T10:00:00Z", "BEANR", "S2"),
            event("b2", "LOAD", "2026-02-05T10:00:00Z", "BEANR", "S2")]
    for e in then:
        e["documentReferences"] = [{"documentReferenceType": "BKG", "documentReferenceValue": "BKGB0002"}]
    when = datetime(2026, 2, 9, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        ingest_file(uow, write(tmp_path / "moves.json", first + then), IngestOptions(), when)
        if withdrawn:
            ingest_file(uow, write(tmp_path / "withdrawn.json", [{**e, "isRetracted": True} for e in withdrawn]),
                        IngestOptions(), when)
        ingest_file(uow, decl, IngestOptions(mapping=str(mapping), supplied_by="be-customs"), when)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "initial", when)
        score_trips(uow, when)
        timeline = container_timeline(uow, "NARU3472484")
        trips = uow.container_trips.page(None, TripFilter(container_number="NARU3472484"), None, 10)
        pages = {r["document_ref"]: [d["declaration_ref"] for d in trip_detail(uow, None, "be-customs", r["id"])[
            "declarations"]] for r in trips}
    return [[d["declaration_ref"] for d in ds] for ds in timeline.trip_declarations], pages


def test_a_declaration_filed_between_two_trips_of_the_box_is_on_one_of_them(engine: Engine, tmp_path: Path) -> None:
    """A declarations review: a declaration naming only the box, filed about five days after its
    January trip ended and five days before its next trip began, was listed under both, on the
    timeline and the trip pages alike. It is the nearer trip's (here the later one, by hours)."""
    on_timeline, pages = _declarations_of_two_trips(engine, tmp_path, [
        "26BE0010,2026-01-28,080390,CO,CO,12000,50000,,NARU3472484",
        "26BE0011,2026-01-24,080390,CO,CO,12000,50000,,NARU3472484"], "2026-01-22T10:00:00Z")
    assert on_timeline == [["26BE0011"], ["26BE0010"]]
    assert pages == {"HHL71800000": ["26BE0011"], "BKGB0002": ["26BE0010"]}


def test_the_timeline_and_the_trip_page_measure_a_trip_with_a_retracted_move_alike(
        engine: Engine, tmp_path: Path) -> None:
    """A regression review: with a gate-out at the end of the box's first trip sent and then
    retracted, the timeline measured that trip with it (as it shows it) and the trip page
    without, so a declaration filed between the trips (five days after the first one's last move
    kept, five before the next one's first) was on the timeline's first trip and on neither page."""
    late = event("a4", "GTOT", "2026-01-28T10:00:00Z", "BEANR", "S1")
    on_timeline, pages = _declarations_of_two_trips(engine, tmp_path, [
        "26BE0020,2026-01-27T10:00:00Z,080390,CO,CO,12000,50000,,NARU3472484"], "2026-01-22T10:00:00Z", (late,))
    assert on_timeline == [["26BE0020"], []]
    assert pages == {"HHL71800000": ["26BE0020"], "BKGB0002": []}


def test_a_declaration_between_two_overlapping_trips_is_on_one_page(engine: Engine, tmp_path: Path) -> None:
    """A regression review: the first trip's gate-out reported after the next trip's gate-in, the
    trip pages took each other's trip for themselves under another key and left it out, so a
    declaration naming only the box, filed after both, was on both pages (the timeline: the later)."""
    on_timeline, pages = _declarations_of_two_trips(engine, tmp_path, [
        "26BE0030,2026-02-08,080390,CO,CO,12000,50000,,NARU3472484"], "2026-02-03T10:00:00Z")
    assert on_timeline == [[], ["26BE0030"]]
    assert pages == {"HHL71800000": [], "BKGB0002": ["26BE0030"]}


def td_version(path: Path, shipper: str, **fields: Any) -> Path:
    """The shared DCSA eBL transport document with ``fields`` of its transportDocument set and
    its shipper renamed, written to ``path``."""
    data = json.loads(TD.read_text())
    doc = data["data"]["transportDocument"]
    doc.update(fields)
    doc["documentParties"]["shipper"]["partyName"] = shipper
    path.write_text(json.dumps(data))
    return path


def test_a_bill_s_version_issued_earlier_and_received_late_is_not_its_latest(engine: Engine, tmp_path: Path) -> None:
    """A terminal review: a B/L's first version, received after its second (a retried webhook),
    became the trip's latest document, shipper and consignee included."""
    def version(issued: str, shipper: str) -> Path:
        return td_version(tmp_path / f"td-{issued}.json", shipper, issueDate=issued)

    loaded = write(tmp_path / "load.json", [event("l-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        ingest_file(uow, loaded, IngestOptions(), FIRST)
        ingest_file(uow, version("2026-01-25", "Later Shipper"), IngestOptions(), FIRST)
        ingest_file(uow, version("2026-01-10", "Early Shipper"), IngestOptions(), LATER)
        [facts] = trip_facts(uow, ["NARU3472484"], LATER)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", LATER)
        score_trips(uow, LATER)
        [row] = uow.container_trips.page(None, TripFilter(container_number="NARU3472484"), None, 10)
        listed = trip_detail(uow, None, "be-customs", row["id"])["documents"]
    assert len(facts.documents) == 2
    assert facts.latest_document().party("shipper").name == "Later Shipper"  # type: ignore[union-attr]
    assert sorted(d.issued_at.date().isoformat() for d in facts.documents) == ["2026-01-10", "2026-01-25"]
    # the trip page lists them in that order, the latest last (a workbench review: listed as
    # received, the early version read as the current one, against the page's own reasons)
    assert [(d["issued_at"][:10], d["parties"][0]["name"]) for d in listed] == [
        ("2026-01-10", "Early Shipper"), ("2026-01-25", "Later Shipper")]


def test_an_undated_draft_received_before_the_dated_version_is_not_the_latest(engine: Engine, tmp_path: Path) -> None:
    """An EDI review: a draft saying no date, received before the approved version dated the
    day before, was placed by its receipt and stayed the latest, and the draft's consignee was
    screened and reported as a change "from" the approved one. A version saying no date comes
    right after the versions received before it."""
    def version(status: str, shipped: str | None, shipper: str) -> Path:
        return td_version(tmp_path / f"td-{status}.json", shipper, transportDocumentStatus=status,
                          shippedOnBoardDate=shipped)

    loaded = write(tmp_path / "load.json", [event("l-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    with unit_of_work(engine) as uow:
        ingest_file(uow, loaded, IngestOptions(), FIRST)
        ingest_file(uow, version("DRAFT", None, "Draft Shipper"), IngestOptions(), FIRST)
        ingest_file(uow, version("APPROVED", "2026-01-20", "Approved Shipper"), IngestOptions(), LATER)
        [facts] = trip_facts(uow, ["NARU3472484"], LATER)
    assert len(facts.documents) == 2
    assert facts.latest_document().party("shipper").name == "Approved Shipper"  # type: ignore[union-attr]
    assert [d.party("shipper").name for d in in_version_order(facts.documents)] == [  # type: ignore[union-attr]
        "Draft Shipper", "Approved Shipper"]


def test_a_notice_about_a_trip_keyed_without_a_voyage_names_the_first_its_events_name(engine: Engine,
                                                                                     tmp_path: Path) -> None:
    """A regression review: a trip begun by a fact naming no voyage (a VGM, a gate-in) keeps no
    voyage in its key, and its hold notices said voyage ""."""
    from scheldt.domain.access import Principal, Role
    from scheldt.workflows import inspections, notices
    from scheldt.workflows.accounts import create_organisation

    gate_in = event("v-1", "GTIN", "2026-01-19T10:00:00Z", "DKAAR", "DCSA-CTK-1234")
    load = event("v-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234") | {
        "transportDetails": {"transportCall": {"UNLocationCode": "DKAAR", "carrierExportVoyageNumber": "402E"}}}
    with unit_of_work(engine) as uow:
        for org in (("be-customs", "Belgian Customs", "agency", [], []), ("msc", "MSC", "carrier", ["MSC"], [])):
            create_organisation(uow, *org, FIRST)
        notices.subscribe(uow, Principal("msc", uow.accounts.organisation("msc"), frozenset({Role.CARRIER_SECURITY})),
                          "https://msc.example/notices", "s" * 32, ["hold"], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        options = IngestOptions(supplied_by="be-customs")
        for path, at in ((TD, FIRST), (write(tmp_path / "in.json", [gate_in]), FIRST),
                         (write(tmp_path / "load.json", [load]), LATER)):
            ingest_file(uow, path, options, at)
        score_trips(uow, LATER)
        [trip] = uow.container_trips.page(None, TripFilter(), None, 10)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, trip["id"], "K9", LATER)
        [sent] = uow.notifications.notices("msc")
    assert (trip["voyage"], sent["body"]["voyage"]) == ("", "402E")


def test_the_cli_queue_backtest_and_training_read_the_score_in_force(engine: Engine, tmp_path: Path) -> None:
    """An officer review: once a watchlist entry was removed, the re-score came back to facts
    scored before, so the trip showed that earlier assessment again; the CLI queue, the
    backtest and the training set read the trip's newest assessment, still matching the entry."""
    origin = write(tmp_path / "origin.json", [event("e-2", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    listed, emptied = tmp_path / "wl.csv", tmp_path / "wl-empty.csv"
    listed.write_text("id,name\nW1,DCSA CTK\nW2,Someone Else Trading\n")
    emptied.write_text("id,name\nW2,Someone Else Trading\n")
    with unit_of_work(engine) as uow:
        load_and_score(uow, TD, origin)
        before = uow.container_trips.by_key(KEY)
        load_watchlists(uow, [listed], "narco", "be-customs", FIRST)
        score_trips(uow, FIRST + timedelta(minutes=1))
        matched = uow.container_trips.by_key(KEY)
        load_watchlists(uow, [emptied], "narco", "be-customs", FIRST)
        score_trips(uow, FIRST + timedelta(minutes=2))
        after = uow.container_trips.by_key(KEY)
        [queued] = uow.trip_assessments.queue("antwerp-narcotics@3")
        [in_force] = uow.trip_assessments.shown_per_trip()
        newest = uow.trip_assessments.history(KEY)[-1]
    assert before is not None and matched is not None and after is not None
    assert matched["score"] > before["score"] and after["assessment_id"] == before["assessment_id"]
    assert "watchlist_match" in [r["indicator"] for r in newest["reasons"]]  # the newest row, no longer in force
    assert queued["id"] == in_force["id"] == before["assessment_id"] != newest["id"]
    assert "watchlist_match" not in [r["indicator"] for r in queued["reasons"]]


def test_a_withdrawn_vgm_s_seal_is_no_changed_seal(engine: Engine, tmp_path: Path) -> None:
    """A regression review: since VGM declarations' seals are read, a retracted declaration (the
    shared VGM sample is one) naming another seal raised "seal ... not the seal on the transport
    document". A withdrawn declaration's seals count no more than its mass; a live one's do."""
    origin = write(tmp_path / "origin.json", [event("e-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR", "DCSA-CTK-1234")])
    vgm = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    declared = vgm["VGMDeclarations"][0]
    assert declared["isRetracted"] is True
    declared["equipmentDetails"]["equipmentReference"] = "NARU3472484"
    declared["equipmentDetails"]["seals"] = [{"number": "BOGUS999", "source": "CUS", "type": "WIR"}]
    declared["shipmentDetails"]["transportDocumentReference"] = "HHL71800000"
    (tmp_path / "vgm.json").write_text(json.dumps(vgm))
    live = json.loads(json.dumps(vgm))
    live["VGMDeclarations"][0].update(isRetracted=False, declarationReference="VGM-LIVE-1")
    (tmp_path / "vgm-live.json").write_text(json.dumps(live))
    with unit_of_work(engine) as uow:
        load_and_score(uow, TD, origin)
        ingest_file(uow, tmp_path / "vgm.json", IngestOptions(), LATER)
        score_trips(uow, LATER)
        withdrawn = [r["indicator"] for r in uow.trip_assessments.history(KEY)[-1]["reasons"]]
        ingest_file(uow, tmp_path / "vgm-live.json", IngestOptions(), LATER)
        score_trips(uow, LATER)
        declared_live = [r["evidence"] for r in uow.trip_assessments.history(KEY)[-1]["reasons"]]
    assert "seal_changed" not in withdrawn
    assert any(e.startswith("seal BOGUS999 at VGM") for e in declared_live)


def test_a_hold_stays_on_a_trip_its_vgm_declaration_began_when_it_is_updated_for_another_voyage(
        engine: Engine, tmp_path: Path) -> None:
    """A review: a trip begun by a VGM declaration was keyed on the voyage it names (read since
    2026-12-07); held, then updated for the next voyage (the box rolled, weighed again), its
    key changed, the hold stayed on a trip with no events and the box's trip was not held. Such a
    trip is keyed on no voyage, as before, so it keeps its id and its hold."""
    from scheldt.domain.access import Principal, Role
    from scheldt.workflows import inspections
    from scheldt.workflows.accounts import create_organisation

    doc = json.loads((SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json").read_text())
    declaration = doc["VGMDeclarations"][0]
    declaration.update({"isRetracted": False, "declarationDateTime": "2026-01-19T09:00:00Z"})
    declaration["VGM"].update({"weight": {"value": 21_000, "unit": "KGM"}, "dateTime": "2026-01-19T08:00:00Z"})
    (first := tmp_path / "vgm-1.json").write_text(json.dumps(doc))
    declaration.update({"declarationDateTime": "2026-01-29T09:00:00Z"})
    declaration["VGM"].update({"weight": {"value": 21_500, "unit": "KGM"}, "dateTime": "2026-01-29T07:00:00Z"})
    declaration["vesselVoyageDetails"]["exportVoyageNumberOrReference"] = {"carrierVoyageNumber": "2110S"}
    (updated := tmp_path / "vgm-2.json").write_text(json.dumps(doc))
    options = IngestOptions(supplied_by="be-customs")
    with unit_of_work(engine) as uow:
        create_organisation(uow, "be-customs", "Belgian Customs", "agency", [], [], FIRST)
        activate_profile(uow, builtin_profile_text(), "built-in", "officer.a", "", FIRST)
        ingest_file(uow, first, options, FIRST)
        score_trips(uow, FIRST)
        [trip] = uow.container_trips.page(None, TripFilter(), None, 10)
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
        inspections.place_hold(uow, officer, trip["id"], "suspicious shipper", FIRST)
        report = ingest_file(uow, updated, options, LATER)
        score_trips(uow, LATER)
        listed = uow.container_trips.page(None, TripFilter(), None, 10)
    assert (report.added, report.rejected) == (1, 0)
    assert [(t["id"], t["document_ref"], t["voyage"], t["on_hold"]) for t in listed] == [
        (trip["id"], "HHL71800000", "", True)]
