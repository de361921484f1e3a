"""The traffic simulator: its files parse with Scheldt's readers, identifiers pass their check
digits, the planting spec holds, and replaying the files gives the scores computed in memory."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from stdnum import imo, iso6346

from scheldt.ingest.ais import read_nmea
from scheldt.ingest.base import Rejection
from scheldt.ingest.dcsa_documents import read_dcsa_documents
from scheldt.ingest.dcsa_events import read_dcsa_events
from scheldt.domain.trips import TripFacts
from scheldt.risk.indicators import CHILLED_HS_CHAPTERS, INDICATORS, Hit, is_reefer
from scheldt.risk.profiles import RiskProfile, builtin_profile_text, evaluate, load_profile
from scheldt.simulate import spec
from scheldt.simulate.traffic import inspect_history, received, received_before, simulate, trip_facts
from scheldt.simulate.writers import write_traffic
from scheldt.store.db import unit_of_work
from scheldt.workflows.ingest import IngestOptions
from scheldt.workflows.replay import replay
from scheldt.workflows.trip_scoring import activate_profile


def test_same_seed_same_traffic_and_identifiers_pass_check_digits() -> None:
    a, b = simulate(5, 1, 1, scale=0.05), simulate(5, 1, 1, scale=0.05)
    assert [t.container for t in a.trips] == [t.container for t in b.trips]
    assert len(a.trips) == round(spec.CONTAINERS_PER_DAY * 0.05) == 575
    assert all(iso6346.is_valid(t.container) for t in a.trips)
    assert all(imo.is_valid(c.imo) for c in a.calls)
    assert simulate(6, 1, 1, scale=0.05).trips[0].container != a.trips[0].container


def test_planting_spec_over_a_simulated_week() -> None:
    traffic = simulate(11, 1, 7, scale=0.2)
    planted = [t for t in traffic.trips if t.planted]
    n = len(traffic.trips)
    assert 0.003 < len(planted) / n < 0.007  # PLANTED_SHARE 0.5 %
    assert sum(t.subtle for t in planted) / len(planted) >= 0.30
    assert not any(set(t.given) & set(spec.STRONG) for t in planted if t.subtle)
    assert all(len(t.given) >= 2 for t in planted if t.subtle)
    methods = Counter(t.method for t in planted)
    assert set(methods) == set(spec.METHODS)
    # benign traffic shows the indicators too: fruit from Guayaquil, quick pick-ups, reseals
    benign = [t for t in traffic.trips if not t.planted]
    from_risk = sum(any(e.unlocode in spec.HIGH_RISK_ORIGINS and e.event_type == "LOAD" for e in t.events) for t in benign)
    assert 0.05 < from_risk / len(benign) < 0.12
    resealed = sum(len({s for e in t.events for s in e.seals}) > 1 for t in benign)
    assert 0.005 < resealed / len(benign) < 0.02


#: Boxes (south, west, north, east; degrees) inside land the lane into Antwerp passes: France
#: south of its Channel coast, Iberia, and Flanders inland of the coast and the Westerschelde.
#: Rough, on purpose: a fix in one is on land.
LAND = ((43.5, -1.0, 48.5, 2.0), (44.0, -4.0, 48.2, 2.0), (37.0, -8.8, 43.2, -1.0), (50.0, 2.0, 51.0, 4.4),
        (49.0, 1.0, 50.6, 1.6))


def test_simulated_vessel_tracks_keep_to_the_sea() -> None:
    """A web review: every track came in a straight line from the Atlantic, across Brittany and
    northern France, its last fix near Oudenaarde at 13.8 kn. Tracks follow the sea lane now."""
    traffic = simulate(11, 1, 7, scale=0.2)
    fixes = [f for c in traffic.calls for f in c.track]
    on_land = [(f.latitude, f.longitude) for f in fixes
               if any(s <= f.latitude <= n and w <= f.longitude <= e for s, w, n, e in LAND)]
    assert fixes and on_land == []
    last = [c.track[-1] for c in traffic.calls if c.track]
    assert all(51.2 < f.latitude < 51.5 and 3.3 < f.longitude < 4.35 for f in last)  # in the Westerschelde


def test_benign_traffic_shows_the_added_base_rates() -> None:
    """Dry goods in a reefer box, vessels loitering before arrival, risk-origin trips relayed at a
    listed hub: each at its stated base rate in benign traffic (spec.BENIGN_EXTRA)."""
    traffic = simulate(11, 1, 7, scale=0.2)
    profile = load_profile(builtin_profile_text())
    benign = [t for t in traffic.trips if not t.planted and t.document_ref]
    dry = [t for t in benign if not any(hs[:2] in CHILLED_HS_CHAPTERS for hs in t.documents[0].hs_codes)]
    in_reefer = [t for t in dry if is_reefer(t.iso_code)]
    assert 0.01 < len(in_reefer) / len(dry) < 0.03  # reefer_dry_goods 2 %
    fired = [run("reefer_with_dry_goods", trip_facts(traffic, t, received(t.discharged)), profile) for t in in_reefer]
    assert all(fired)
    loitering = [c for c in traffic.calls if c.loiter]
    assert 0.02 < len(loitering) / len(traffic.calls) < 0.12  # loitering 6 % of calls
    slow = [f for c in loitering for f in c.track if f.speed_knots <= spec.LOITER_MAX_KNOTS]
    assert slow and not [f for c in traffic.calls if not c.loiter for f in c.track if f.speed_knots < 12]
    by_call = {id(t.call): t for t in benign}
    hits = [run("vessel_loitering_before_arrival", trip_facts(traffic, t, received(t.discharged)), profile)
            for c in loitering if (t := by_call.get(id(c)))]
    assert sum(h is not None for h in hits) >= len(hits) / 2  # a wait mostly in the last 24 h does not count
    from_risk = [t for t in benign if t.documents[0].port_of_loading in spec.HIGH_RISK_ORIGINS]
    relayed = [t for t in from_risk if any(e.event_type == "DISC" and e.unlocode in spec.LISTED_HUBS for e in t.events)]
    assert 0.05 < len(relayed) / len(from_risk) < 0.15  # risk_origin_listed_hub 10 % (less origins that are hubs)
    facts = trip_facts(traffic, relayed[0], received(relayed[0].discharged))
    hit = run("high_risk_transshipment", facts, profile)
    assert hit is not None and ", after loading at " in hit.evidence


def run(name: str, facts: TripFacts, profile: RiskProfile) -> Hit | None:
    return INDICATORS[name].check(facts, profile.context(name))


def test_files_parse_with_scheldts_readers(tmp_path: Path) -> None:
    traffic = simulate(3, 1, 1, scale=0.01)
    inspect_history(traffic, 3)
    counts = write_traffic(traffic, tmp_path)
    kinds: Counter[str] = Counter()
    for f in tmp_path.glob("day-*/*"):
        data = f.read_bytes()
        if f.name == "events.json":
            records = list(read_dcsa_events(data, f.name))
        elif f.name == "ais.nmea":
            records = list(read_nmea(data.splitlines(), f.name))
        else:
            records = list(read_dcsa_documents(data, f.name))
        assert not [r for r in records if isinstance(r, Rejection)], f
        assert not [fl for r in records for fl in getattr(r, "flags", ()) if fl.code.startswith("invalid")], f
        kinds.update(type(r).__name__ for r in records)
    assert kinds["EquipmentEvent"] == counts["events"] and kinds["VgmDeclaration"] == counts["vgm"]
    assert kinds["Consignment"] == counts["documents"]
    assert kinds["VesselPosition"] > 0 and kinds["VesselSighting"] == len(traffic.calls)
    with (tmp_path / "ground-truth.csv").open() as fh:
        truth = list(csv.DictReader(fh))
    assert len(truth) == len(traffic.trips) and sum(int(r["inspected"]) for r in truth) > 0


def test_replayed_files_score_as_in_memory(engine: Engine, tmp_path: Path) -> None:
    traffic = simulate(9, 1, 1, scale=0.01)
    write_traffic(traffic, tmp_path)
    profile = load_profile(builtin_profile_text())
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "sim", "", received(traffic.history[0].received_at))
    replay(lambda: unit_of_work(engine), tmp_path, IngestOptions())
    day_one = received(traffic.trips[0].discharged)
    with unit_of_work(engine) as uow:
        stored = {}
        for t in traffic.trips:
            history = uow.trip_assessments.history(t.key)
            known = [h for h in history if h["scored_at"] <= day_one]
            stored[t.key] = known[-1]
    mismatched = []
    for t in traffic.trips:
        mine = evaluate(profile, trip_facts(traffic, t, day_one))
        theirs = stored[t.key]
        if (mine.points, [r.indicator for r in mine.reasons]) != (theirs["score"], [r["indicator"] for r in theirs["reasons"]]):
            mismatched.append((t.key, mine, theirs["reasons"]))
    assert not mismatched, mismatched[:3]
    assert len(stored) == len(traffic.trips) == 115


def test_replaying_the_same_days_again_keeps_the_current_scores(engine: Engine, tmp_path: Path) -> None:
    """A second replay of the same folder used to re-score every trip as of each old day, after
    the later scores, so the queue showed old scores (found by a new-user review: a trip fell
    from 100 to 46). Now it adds nothing and the current scores stay."""
    traffic = simulate(9, 1, 2, scale=0.01)
    write_traffic(traffic, tmp_path)
    with unit_of_work(engine) as uow:
        activate_profile(uow, builtin_profile_text(), "built-in", "sim", "", received(traffic.history[0].received_at))
    first = replay(lambda: unit_of_work(engine), tmp_path, IngestOptions())
    with unit_of_work(engine) as uow:
        before = {(r["container_number"], r["document_ref"]): (r["score"], r["scored_at"])
                  for r in uow.trip_assessments.latest_per_trip()}
        count = len(uow.trip_assessments.queue_all(traffic.trips[0].container))
    again = replay(lambda: unit_of_work(engine), tmp_path, IngestOptions())
    with unit_of_work(engine) as uow:
        after = {(r["container_number"], r["document_ref"]): (r["score"], r["scored_at"])
                 for r in uow.trip_assessments.latest_per_trip()}
        assert len(uow.trip_assessments.queue_all(traffic.trips[0].container)) == count
    assert first.rescored > len(traffic.trips) and again.rescored == 0
    assert after == before and len(before) == len(traffic.trips)
    assert first.unread == []  # the simulator writes only the files a replay reads


def test_a_replay_names_the_files_it_does_not_read(engine: Engine, tmp_path: Path) -> None:
    """An attack review's day of a.json and b.json replayed as "0 files" without a word."""
    day = tmp_path / "day-2026-01-05"
    day.mkdir()
    for name in ("b.json", "a.json"):
        (day / name).write_text('{"events": []}')
    report = replay(lambda: unit_of_work(engine), tmp_path, IngestOptions())
    assert (report.days, report.files, report.unread) == (1, [], [day / "a.json", day / "b.json"])


def test_planted_loads_ride_in_shipments_showing_the_ordinary_signs() -> None:
    """A targeting analysis: planted trips never showed the benign base-rate signs (a mass gap,
    a new consignee, "to order", a relay at a listed hub ...), so a sign's presence told a model
    the box was clean, which no real data tells: a load is hidden in an ordinary shipment, with
    that shipment's ordinary signs. Now planted trips show them at the benign rates too (a
    subtle case no strong sign, and no planted load becomes an empty box without booking)."""
    traffic = simulate(11, 1, 7, scale=0.2)
    profile = load_profile(builtin_profile_text())
    planted = [t for t in traffic.trips if t.planted and t.method != "Trojan empty"]
    not_given = [t for t in planted if "mass_gap" not in t.given]
    gaps = [t for t in not_given if run("mass_gap", trip_facts(traffic, t, received(t.discharged)), profile)]
    assert 0.03 < len(gaps) / len(not_given) < 0.25  # mass_gap 10 % (was 0)
    subtle = [t for t in planted if t.subtle]
    assert not [t for t in subtle if len({s for e in t.events for s in e.seals}) > 1]  # no reseal: strong
    assert all(t.document_ref for t in planted)  # none an empty box


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(min_value=-12 * 60, max_value=14 * 60), st.integers(min_value=-2 * 86400, max_value=86400))
def test_received_before_is_the_bound_of_what_was_received_by_then(local: datetime, minutes: int, seconds: int) -> None:
    """A review: the bound was taken from as_of's own date, so an as_of at +02:00 an hour after
    local midnight (2026-03-10T01:00+02:00, 23:00 UTC the day before) let in that UTC day's
    fixes, received only at its end. ``t``: a fact's time (UTC), from two days before
    ``as_of`` to one after."""
    as_of = local.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    t = as_of.astimezone(UTC) + timedelta(seconds=seconds)
    assert (t < received_before(as_of)) == (received(t) <= as_of)
    late = datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert received_before(datetime(2026, 3, 10, 1, tzinfo=timezone(timedelta(hours=2)))) <= late
