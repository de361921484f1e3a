"""``scheldt profile`` and ``scheldt trips``: validate, activate, score on ingest, queue, history."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.risk.profiles import builtin_profile_text
from scheldt.settings import get_settings
from tests.conftest import SHARED

runner = CliRunner()
TD = SHARED / "fixtures" / "dcsa-ebl" / "ebl-v3.0.2-td-notification-issued-full.json"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # rich wraps long lines

#: A DCSA equipment event: the box of the transport document TD loaded at Aarhus.
LOADED = {"events": [{
    "eventID": "e-1", "eventDateTime": "2026-01-20T14:15:00Z",
    "eventLocation": {"UNLocationCode": "DKAAR"},
    "eventClassification": {"eventTypeCode": "EQUIPMENT", "eventClassifierCode": "ACT", "equipmentEventTypeCode": "LOAD"},
    "equipmentDetails": {"equipmentReference": "NARU3472484", "ISOEquipmentCode": "22GP"},
    "documentReferences": [{"documentReferenceType": "TRD", "documentReferenceValue": "HHL71800000"}]}]}


def test_port_codes_the_reference_data_does_not_know_are_warned_of(settings_env: Path, tmp_path: Path) -> None:
    """A targeting review: Santos typed BRSZZ and Costa Rica XQ validated silently; activated,
    the profile would have stopped flagging both. The built-in profile's codes are all known."""
    typo = tmp_path / "typo.yaml"
    text = builtin_profile_text()
    assert text.count("code: BRSSZ,") == 1 and text.count("code: CR,") == 1
    typo.write_text(text.replace("code: BRSSZ", "code: BRSZZ").replace("code: CR", "code: XQ", 1))
    code, _, err = invoke("profile", "validate", str(typo))
    # no country of that code exists (the ISO 3166-1 list is whole): refused (a targeting
    # review's ZZZZZ went live with a warning, matching no port)
    assert code == 2 and re.search(r"typo\.yaml line \d+: lists\.high_risk_ports\.\d+: XQ \(Costa Rica \(all "
                                   r"ports\)\): XQ is no ISO 3166-1 country code, so the entry would match no port",
                                   err), err
    typo.write_text(text.replace("code: BRSSZ", "code: BRSZZ"))
    code, out, _ = invoke("profile", "validate", str(typo))
    warnings = " ".join(out.split()).split(" warning ")[1:]  # rich wraps long lines
    assert code == 0 and len(warnings) == 1, out
    assert re.search(r"high_risk_ports\.\d+: BRSZZ \(Santos\) is in neither the shipped UN/LOCODE excerpt nor "
                     r"its port list: check the code", warnings[0]), warnings
    builtin = tmp_path / "builtin.yaml"
    builtin.write_text(text)
    code, out, _ = invoke("profile", "validate", str(builtin))
    assert code == 0 and "warning" not in out
    # a port graded below its country's entry lowers every box loaded there (a targeting review's
    # CRMOB at 0.3 beside CR at 0.8 took a Moin box from 36 to 13.5 points without a word)
    moin = tmp_path / "moin.yaml"
    [country] = [line for line in text.splitlines(keepends=True) if "{code: CR," in line]
    port = country.replace("code: CR, name: Costa Rica (all ports)", "code: CRMOB, name: Moin").replace("0.8", "0.3")
    moin.write_text(text.replace(country, country + port))
    code, out, _ = invoke("profile", "validate", str(moin))
    warnings = " ".join(out.split()).split(" warning ")[1:]
    assert code == 0 and len(warnings) == 1, out
    assert re.search(r"lists\.high_risk_ports\.(\d+): CRMOB \(Moin\) graded 0\.3 is below its country's entry CR "
                     r"\(lists\.high_risk_ports\.\d+, graded 0\.8\): while both are in force a loading at CRMOB "
                     r"counts at 0\.3, the port's own entry coming first", warnings[0]), warnings


def test_bad_profile_is_refused_with_its_field(settings_env: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 1\nowner: me\neffective_from: 2026-01-01\nindicators:\n  seal_swap: {weight: 10}\n")
    code, _, err = invoke("profile", "validate", str(bad))
    assert code != 0 and "indicators" in err and "seal_swap: unknown indicator" in err
    code, _, err = invoke("profile", "activate", str(bad), "--reason", "x")
    assert code != 0 and "seal_swap: unknown indicator" in err
    code, _, err = invoke("profile", "activate", "--builtin", "antwerp-narcotics")
    assert code == 2 and "--reason: say why (it is recorded with the switch)" in " ".join(err.split())
    code, out, _ = invoke("profile", "list", "--json")
    assert json.loads(out) == {"live": None, "versions": [], "activations": []}


def test_ingest_rescores_trips_once_a_profile_is_live(settings_env: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.json"
    events.write_text(json.dumps(LOADED))
    code, out, _ = invoke("ingest", str(TD), str(events), "--json")
    assert code == 0 and "rescored" not in json.loads(out)  # no profile live yet: nothing scored
    code, out, _ = invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go live")
    # the switch re-scores every trip (a new-user review found the queue empty after a switch)
    assert code == 0 and "antwerp-narcotics@3 is live; 1 trip(s) scored with it, 0 unchanged" in out
    code, out, _ = invoke("trips", "score", "--json")
    assert json.loads(out) == {"profile": "antwerp-narcotics@3", "scored": 0, "unchanged": 1, "scored_later": 0}
    later = tmp_path / "later.json"
    later.write_text(events.read_text().replace('"e-1"', '"e-2"').replace("LOAD", "DISC")
                     .replace("DKAAR", "DEBRV").replace("2026-01-20T14:15", "2026-02-01T10:00"))
    code, out, _ = invoke("ingest", str(later), "--json")
    assert json.loads(out)["rescored"] == {"profile": "antwerp-narcotics@3", "trips": 1}
    code, out, _ = invoke("trips", "queue", "--json")
    [top] = json.loads(out)["trips"]
    assert (top["container_number"], top["document_ref"], top["score"]) == ("NARU3472484", "HHL71800000", 15.0)
    # the trip's id as the API and workbench know it, beside the assessment's (a review took one for the other)
    assert (top["trip_id"], top["assessment_id"]) == (1, 2) and "id" not in top
    code, out, _ = invoke("trips", "history", "NARU3472484", "--json")
    history = json.loads(out)["assessments"]
    assert len(history) == 2 and all(h["reproduced"] for h in history)
    assert [h["in_force"] for h in history] == [False, True]  # the trip shows its newest score


def test_a_switch_says_which_trips_it_left_alone(settings_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    """An analyst review: a switch with SCHELDT_NOW before the trips' last scores said "0 trip(s)
    scored with it" and not why (they were left alone: each already has a later score)."""
    def at(when: str, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("SCHELDT_NOW", when)
        get_settings.cache_clear()
        return invoke(*args)

    (tmp_path / "events.json").write_text(json.dumps(LOADED))
    at("2026-03-01T00:00:00Z", "ingest", str(TD), str(tmp_path / "events.json"))
    assert at("2026-09-01T00:00:00Z", "profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go")[0] == 0
    newer = tmp_path / "newer.yaml"
    newer.write_text(builtin_profile_text().replace('version: "3"', 'version: "3-now"', 1))
    code, out, _ = at("2026-06-01T00:00:00Z", "profile", "activate", str(newer), "--reason", "test")
    assert code == 0 and " ".join(out.split()) == (
        "antwerp-narcotics@3-now is live; 0 trip(s) scored with it, 0 unchanged, 1 left alone (already scored "
        "after this time: `scheldt trips score` at a later time scores them)")


def test_simulate_replay_outcomes_backtest(settings_env: Path, tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    code, out, _ = invoke("simulate", "--out", str(sim), "--days", "1", "--scale", "0.01", "--seed", "4", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["trips"] == 115 and (sim / "ground-truth.csv").is_file()
    code, out, _ = invoke("simulate", "--out", str(sim), "--port", "NLRTM")
    assert code != 0
    invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "test")
    code, out, _ = invoke("replay", str(sim), "--json")
    replayed = json.loads(out)
    assert code == 0 and replayed["rejected"] == 0 and replayed["rescored"] >= 115
    code, out, _ = invoke("trips", "outcomes", str(sim / "ground-truth.csv"))
    assert code == 0 and "115 ground-truth row(s) added (SIMULATED)" in out
    code, out, _ = invoke("backtest", "--truth", "--capacity", "8%", "--json")
    report = json.loads(out)
    assert code == 0 and report["trips"] == 115 and report["hits"] == summary["planted"]
    assert 9 <= report["selected"] <= 12 and set(report["indicators"])  # 8 % of each scoring day, rounded >= {"seal_changed", "quick_pickup"}
    code, _, err = invoke("backtest", "--capacity", "120", "--json")
    assert code != 0 and "like 8%" in err
    # as text: an indicator that flagged nothing has no hit rate (it printed 0.000), and a small
    # count of hits is said to be small (new-user review)
    code, out, _ = invoke("backtest", "--truth", "--capacity", "8%")
    cells: list[list[str]] = []
    for line in (ln for ln in out.splitlines() if ln.startswith("│")):
        row = [c.strip() for c in line[1:-1].split("│")]
        if not cells or any(row[1:]):
            cells.append(row)
        else:  # a long indicator name folded onto the next line (80 columns)
            cells[-1] = [cells[-1][0] + row[0], *cells[-1][1:]]
    rows = {c[0]: c for c in cells}
    idle = [name for name, f in report["indicators"].items() if f["flagged"] == 0]
    assert idle and all(rows[name][3] == "–" for name in idle), rows
    assert f"only {report['hits']} hit(s) in 115 trips" in out
    # each rate with its 95 % interval, as the JSON gives it (an officer reads 2 of 3 apart from 200 of 300)
    lo, hi = report["precision_at_capacity_ci"]
    flat = " ".join(out.split())
    assert f"precision {report['selected_hits'] / report['selected']:.3f} ({lo:.3f}-{hi:.3f})" in flat
    assert "in brackets: 95% interval" in flat
    busy = next(name for name, f in report["indicators"].items() if f["flagged"])
    f = report["indicators"][busy]
    assert rows[busy][3:5] == [f"{f['hits'] / f['flagged']:.3f}", f"{f['hit_rate_ci'][0]:.3f}-{f['hit_rate_ci'][1]:.3f}"]
    assert all(rows[name][3:5] == ["–", "–"] for name in idle)
    assert report["selected_share"] == round(report["selected"] / 115, 4) and "not 8%" not in out
    # over days with few outcomes, one trip a day is more than 8 % (CLI review: "at 8%" selected half)
    code, out, _ = invoke("backtest", "--capacity", "1%")  # the 9 trips inspected in the simulated history
    thin = json.loads(invoke("backtest", "--capacity", "1%", "--json")[1])
    assert (thin["trips"], thin["days"], thin["selected"], thin["selected_share"]) == (9, 1, 1, 0.1111)
    assert "selected 11% of the trips, not 1%: at least one trip is selected on each of the 1 days" in " ".join(out.split())
    # an analyst review: 0.5% was printed "not 0%", 2.5% "not 2%", and 0.001% ran at 0.01%
    out = " ".join(invoke("backtest", "--capacity", "0.5%")[1].split())
    assert "selected 11% of the trips, not 0.5%:" in out
    assert json.loads(invoke("backtest", "--capacity", "0.001%", "--json")[1])["capacity"] == 0.00001
    for odd in ("1_0%", "1e-5%", "5 %", "nan%"):  # float() read 1_0 as 10 (regression review)
        code, _, err = invoke("backtest", "--capacity", odd)
        assert code == 2 and "is not a percentage like 8% or 0.5%" in err, odd
    assert "live" not in report  # the live profile itself: nothing to compare with
    # a changed version is shown beside the live one on the same trips (new-user review: a
    # backtest said nothing of whether the change beat what runs today)
    same_label = tmp_path / "same-label.yaml"  # a weight changed, the version left as it was
    same_label.write_text(builtin_profile_text().replace("weight: 30", "weight: 60", 1))
    code, _, err = invoke("backtest", "--profile", str(same_label), "--truth")
    assert code != 0 and "antwerp-narcotics@3 is stored with another text; give the changed profile a new version" in err
    changed = tmp_path / "changed.yaml"
    changed.write_text(builtin_profile_text().replace('version: "3"', 'version: "3-test"', 1))
    code, out, _ = invoke("backtest", "--profile", str(changed), "--truth", "--capacity", "8%", "--json")
    compared = json.loads(out)
    assert code == 0 and compared["profile"] == "antwerp-narcotics@3-test"
    assert compared["live"] == report  # per indicator too (a targeting review diffed two runs)
    code, out, _ = invoke("backtest", "--profile", str(changed), "--truth", "--capacity", "8%")
    assert (f"live antwerp-narcotics@3 on the same trips: selected {report['selected']}, of which "
            f"{report['selected_hits']} hits") in out and "(+0 hits)" in out
    seal = report["indicators"]["seal_changed"]
    row = next(line for line in out.splitlines() if "seal_chang" in line)
    assert "live:" in out and f"{seal['flagged']:,} / {seal['hits']}" in row, out
    # --from/--to pick trips by the day they competed for a scan (their discharge), not by when
    # they were last scored: a profile-owner review's activation re-scored every trip "today",
    # and a backtest of the discharge day found none, one of today found them all
    day = "2026-01-01"  # the simulated arrival day (the folders before it hold the trips' earlier events)
    that_day = json.loads(invoke("backtest", "--truth", "--from", day, "--to", day, "--json")[1])
    assert invoke("profile", "activate", str(changed), "--reason", "re-scores every trip now")[0] == 0
    again = json.loads(invoke("backtest", "--truth", "--from", day, "--to", day, "--json")[1])
    assert again["trips"] == that_day["trips"] > 0 and again["selected"] == that_day["selected"]
    code, _, err = invoke("backtest", "--truth", "--from", "2026-12-01", "--json")
    assert code == 2 and "no trip was discharged in that period" in err


def test_a_backtest_leaves_out_boxes_not_at_the_port_yet(settings_env: Path, tmp_path: Path) -> None:
    """A targeting review: a backtest of December counted 131 boxes still at sea, placed on the
    day of their loading abroad; after they arrived the same December said "no trip was
    discharged in that period". A box competes for a scan once it is here, so the answer for a
    past period does not change as later days come in."""
    sim = tmp_path / "sim"
    invoke("simulate", "--out", str(sim), "--days", "1", "--scale", "0.01", "--seed", "4")
    invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go")
    first = sorted(p.name.removeprefix("day-") for p in sim.glob("day-*"))[0]
    eve = "2025-12-31"  # the boxes' loadings abroad, before the simulated arrival day (2026-01-01)
    assert invoke("replay", str(sim), "--until", eve)[0] == 0
    code, _, err = invoke("backtest", "--json")  # no period asked: none is named (a regression review)
    assert code == 2 and "none of the 115 trips has a recorded inspection outcome" in " ".join(err.split()), err
    assert invoke("trips", "outcomes", str(sim / "ground-truth.csv"))[0] == 0
    code, _, err = invoke("backtest", "--truth", "--json")
    assert code == 2 and ("the 115 trips with a recorded simulated truth are not at the port yet (neither discharged "
                          "at their port of discharge nor gated in by land here), and no trip that is has one"
                          ) in " ".join(err.split()), err
    code, _, err = invoke("backtest", "--truth", "--from", first, "--to", eve, "--json")
    assert code == 2 and "the 115 trips of that period with a recorded simulated truth are not at the port yet" in (
        " ".join(err.split()))
    # a period without them says so, not that boxes are at sea (a regression review's February)
    code, _, err = invoke("backtest", "--truth", "--from", "2026-02-01", "--to", "2026-03-01", "--json")
    assert code == 2 and "no trip was discharged in that period" in err
    assert invoke("replay", str(sim))[0] == 0
    code, _, err = invoke("backtest", "--truth", "--from", first, "--to", eve, "--json")
    assert code == 2 and "no trip was discharged in that period" in err
    code, out, _ = invoke("backtest", "--truth", "--json")
    report = json.loads(out)
    assert (report["trips"], report["days"], report["not_arrived"]) == (115, 1, 0)


def test_bad_arguments_and_folders_get_one_line_errors(settings_env: Path, tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    invoke("simulate", "--out", str(sim), "--days", "1", "--scale", "0.01", "--seed", "4")
    code, _, err = invoke("simulate", "--out", str(sim), "--days", "1", "--scale", "0.01")
    assert code != 0 and "not an empty folder" in err
    code, _, err = invoke("replay", str(tmp_path / "nowhere"))
    assert code != 0 and "no such folder" in err
    invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "test")
    broken = next(sim.glob("day-*"))
    (broken / "events.json").write_text('{"broken": ')
    code, out, _ = invoke("replay", str(sim), "--json")
    assert code == 1 and json.loads(out)["unreadable_files"] == [str(broken / "events.json")]
    number = next(iter(json.loads(invoke("trips", "queue", "--json", "--limit", "1", "--gone")[1])["trips"]))[
        "container_number"]
    code, out, _ = invoke("trips", "history", number.lower(), "--json")
    assert code == 0 and json.loads(out)["assessments"]
    code, _, err = invoke("trips", "history", "NOPE")
    assert code != 0 and "no scored trip" in err
    truth = tmp_path / "truth.csv"
    truth.write_text("container_number,document_ref,voyage,planted,inspected,seizure\nMSCU4057166,SIMBL1\nMSCU4057166,B,V,maybe,1,0\n")
    code, out, _ = invoke("trips", "outcomes", str(truth))
    assert code == 1 and "truth.csv:2: row has missing cells" in out and "truth.csv:3: planted is 'maybe'" in out
    invoke("trips", "outcomes", str(sim / "ground-truth.csv"))
    code, _, err = invoke("backtest", "--truth", "--capacity", "0%")
    assert code != 0 and "more than 0%" in err
    code, _, err = invoke("backtest", "--truth", "--from", "2026-01-05", "--to", "2026-01-01")
    assert code != 0 and "is before --from" in err
    code, out, _ = invoke("backtest", "--truth", "--to", "9999-12-31", "--json")
    assert code == 0 and json.loads(out)["trips"] > 0
    code, _, err = invoke("backtest", "--truth", "--from", "2099-01-01")
    assert code != 0 and "no trip was discharged in that period" in err
    # a folder given for a file is said to be one (operator review: "no such file")
    for args in (["profile", "validate", str(tmp_path)], ["trips", "outcomes", str(tmp_path)],
                 ["watchlist", "load", str(tmp_path)], ["misp", "import", str(tmp_path), "--org", "be-customs"]):
        code, _, err = invoke(*args)
        assert code == 2 and err == f"error {tmp_path}: is a folder, not a file", (args, err)


def test_contradicting_ground_truth_is_rejected_not_silently_ignored(settings_env: Path, tmp_path: Path) -> None:
    head = "container_number,document_ref,voyage,planted,inspected,seizure\n"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(head + "MSCU4057166,BL1,V1,1,1,1\n")
    second.write_text(head + "MSCU4057166,BL1,V1,0,1,0\nMSCU4057166,BL1,V1,0,0,0\n")
    code, out, _ = invoke("trips", "outcomes", str(first))
    assert code == 0 and "1 inspection outcome(s) and 1 ground-truth row(s) added" in out
    code, out, _ = invoke("trips", "outcomes", str(second))
    assert "0 inspection outcome(s) and 0 ground-truth row(s) added (SIMULATED); 3 row(s) rejected" in " ".join(out.split())
    assert "contradicts the simulated-inspection outcome already stored" in " ".join(out.split())


def test_model_versions_switch_and_roll_back_from_the_cli(settings_env: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from scheldt.settings import get_settings
    from scheldt.store.db import open_store, unit_of_work
    from scheldt.workflows.trip_model import TARGET

    code, out, err = invoke("trips", "model-rollback", "--reason", "x")
    assert code != 0 and "no container model was ever made live" in err
    code, out, err = invoke("trips", "model-rollback")
    assert code == 2 and "--reason" in err
    engine = open_store(get_settings().resolved_database_url, auto_upgrade=True)
    with unit_of_work(engine) as uow:
        for day, version in ((1, "trip-a"), (2, "trip-b")):
            (tmp_path / version).mkdir()
            uow.models.register(version, TARGET, str(tmp_path / version), "f" * 64, "c", {"rows": 300, "seizures": 9},
                                datetime(2026, 5, day, tzinfo=UTC), actor="trainer")
    engine.dispose()
    code, out, _ = invoke("trips", "model-rollback", "--reason", "b misfires")
    assert code == 0 and "trip model trip-a is live" in out
    code, out, _ = invoke("trips", "model-activate", "trip-b", "--reason", "fixed")
    assert code == 0 and "trip model trip-b is live" in out
    code, out, _ = invoke("trips", "models", "--json")
    listed = json.loads(out)
    assert [(v["version"], v["live"]) for v in listed["versions"]] == [("trip-a", False), ("trip-b", True)]
    assert [(a["version"], a["action"], a["reason"]) for a in listed["activations"]] == [
        ("trip-a", "train", ""), ("trip-b", "train", ""), ("trip-a", "rollback", "b misfires"),
        ("trip-b", "activate", "fixed")]
    code, _, err = invoke("trips", "model-activate", "trip-zzz", "--reason", "x")
    assert code != 0 and "trip-zzz" in err


def test_a_version_not_in_force_is_not_made_live(settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """It used to go live and score nothing (profile-owner review: and then every ingest failed)."""
    from scheldt.settings import get_settings

    monkeypatch.setenv("SCHELDT_NOW", "2021-04-22T06:00:00+00:00")  # the built-in profile is in force from 2024
    get_settings.cache_clear()
    code, out, err = invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "early")
    assert code == 2 and " ".join(err.split()).endswith(
        "effective_from: antwerp-narcotics@3 is not in force on 2021-04-22 (effective 2024-01-01 to open): it "
        "cannot be made live; the live profile stays"), out + err
    assert json.loads(invoke("profile", "list", "--json")[1])["live"] is None


def test_a_version_stored_under_earlier_rules_goes_live_again_from_its_file(settings_env: Path,
                                                                           tmp_path: Path) -> None:
    """A profile owner's version 2 (max_points 400, stored before the cap of 100) could be rolled
    back to but not activated from its own file: the file was checked as a new text. A changed
    text with the same cap is still refused."""
    from scheldt.risk.profiles import profile_digest
    from scheldt.store.db import open_store, unit_of_work

    text = builtin_profile_text()
    old = re.sub(r"^max_points: .*$", "max_points: 400", re.sub(r"^version: .*$", 'version: "2-old"', text,
                                                                   count=1, flags=re.M), count=1, flags=re.M)
    assert "\nmax_points: 400\n" in old
    engine = open_store(f"sqlite:///{settings_env / 'scheldt.db'}", auto_upgrade=True)
    with unit_of_work(engine) as uow:  # as a store made under the earlier rules holds it
        uow.profiles.store("antwerp-narcotics", "2-old", "x", old, profile_digest(old), datetime.now(UTC))
    engine.dispose()
    path = tmp_path / "v2.yaml"
    path.write_text(old)
    assert invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "v3", "--no-score")[0] == 0
    code, out, err = invoke("profile", "activate", str(path), "--reason", "back to v2", "--no-score")
    assert (code, out.strip()) == (0, "antwerp-narcotics@2-old is live"), err
    assert json.loads(invoke("profile", "list", "--json")[1])["live"] == "antwerp-narcotics@2-old"
    # one stored with CRLF line ends (sent to the API from Windows) too: the CLI reads a file's lines
    # without the carriage returns (regression review)
    crlf = old.replace('version: "2-old"', 'version: "2-crlf"').replace("\n", "\r\n")
    engine = open_store(f"sqlite:///{settings_env / 'scheldt.db'}")
    with unit_of_work(engine) as uow:
        uow.profiles.store("antwerp-narcotics", "2-crlf", "x", crlf, profile_digest(crlf), datetime.now(UTC))
    engine.dispose()
    path.write_bytes(crlf.encode())
    code, out, err = invoke("profile", "activate", str(path), "--reason", "the CRLF one", "--no-score")
    assert (code, out.strip()) == (0, "antwerp-narcotics@2-crlf is live"), err
    path.write_text(old.replace('version: "2-old"', 'version: "2-new"'))
    code, _, err = invoke("profile", "activate", str(path), "--reason", "a new text", "--no-score")
    assert code == 2 and "max_points" in err and "400 is above 100" in err, err


def test_a_live_profile_not_in_force_leaves_ingest_loading_and_says_why_nothing_was_scored(
        settings_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Profile-owner review: with a live profile out of force (effective from next year, which
    is now refused, or ended since), `scheldt ingest` exited 2 and stored nothing (re-sending
    the files later loaded all of them as new)."""
    from scheldt.settings import get_settings

    ended = tmp_path / "ended.yaml"
    ended.write_text(builtin_profile_text().replace("effective_from: 2024-01-01",
                                                    "effective_from: 2024-01-01\neffective_to: 2025-01-01")
                     .replace('version: "3"', 'version: "ended"', 1))
    monkeypatch.setenv("SCHELDT_NOW", "2024-06-01T06:00:00+00:00")  # in force then
    get_settings.cache_clear()
    assert invoke("profile", "activate", str(ended), "--reason", "last year's")[0] == 0
    monkeypatch.delenv("SCHELDT_NOW")
    get_settings.cache_clear()
    code, out, err = invoke("ingest", "--json", str(TD))
    assert code == 0, err
    report = json.loads(out)
    assert report["files"][0]["added"] > 0
    assert report["rescored"]["trips"] == 0 and report["rescored"]["not_scored"].startswith("not in force on ")
    assert "effective 2024-01-01 to 2025-01-01" in report["rescored"]["not_scored"]
    again = json.loads(invoke("ingest", "--json", str(TD))[1])
    assert again["files"][0]["added"] == 0  # the first ingest's facts were kept


def test_a_command_on_a_store_not_made_yet_says_it_made_one(settings_env: Path) -> None:
    """An operator with a mistyped SCHELDT_DATA_DIR read an empty list with no word that the
    store had just been made (operator review): the first command says so on stderr, once."""
    store = settings_env / "scheldt.db"
    code, out, err = invoke("profile", "list", "--json")  # a list makes none (regression review)
    assert code == 2 and f"no store at {store}" in " ".join(err.split()) and not store.exists()
    code, _, err = invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")
    assert code == 0 and err.startswith(f"note: no store at {store} yet: created an empty one")
    code, out, err = invoke("profile", "list", "--json")
    assert code == 0 and "note:" not in err and json.loads(out)["versions"] == []


def test_a_replay_scores_again_as_of_now_the_trips_a_switch_scored_later(settings_env: Path, tmp_path: Path) -> None:
    """A PostgreSQL review: after a profile switch scored every trip on the real clock, a replay of
    later days re-scored nothing and said only "0 trip scores": the queue went stale. It then said
    which it left alone, but a targeting review's queue still kept a box whose seal had changed at
    0 until someone ran `scheldt trips score`: those trips are scored again as of now, so nothing
    is left for `trips score` to do."""
    sim = tmp_path / "sim"
    invoke("simulate", "--out", str(sim), "--days", "2", "--scale", "0.01", "--seed", "4")
    invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go")
    eve = sorted(p.name for p in sim.glob("day-*"))[-2].removeprefix("day-")  # all but the last day
    assert json.loads(invoke("replay", str(sim), "--until", eve, "--json")[1])["left_alone"] == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(builtin_profile_text().replace('version: "3"', 'version: "3-now"', 1))
    assert invoke("profile", "activate", str(changed), "--reason", "scores every trip now")[0] == 0
    code, out, _ = invoke("replay", str(sim))
    said = " ".join(out.split())
    trips = len(json.loads(invoke("trips", "queue", "--json", "--limit", "100000", "--gone")[1])["trips"])
    assert code == 0 and "left alone" not in said
    caught = re.search(r"(\d+) trips scored again as of now with what they received: each already had a score "
                       r"made after the day its facts came in", said)
    assert caught and 0 < int(caught[1]) <= trips, said
    code, out, _ = invoke("trips", "score", "--json")
    assert code == 0 and (json.loads(out)["scored"], json.loads(out)["scored_later"]) == (0, 0), out


def test_the_queue_leaves_out_boxes_that_left_the_port_as_the_workbench_does(settings_env: Path,
                                                                              tmp_path: Path) -> None:
    """A targeting review: `trips queue` ranked boxes gated out days before, which the
    workbench's queue leaves out by default; an officer working from it spent scanner slots on
    them. --gone lists them too."""
    def move(event_id: str, kind: str, at: str, port: str) -> dict[str, object]:
        event = json.loads(json.dumps(LOADED["events"][0]))
        event["eventClassification"]["equipmentEventTypeCode"] = kind
        return event | {"eventID": event_id, "eventDateTime": at, "eventLocation": {"UNLocationCode": port}}

    events = tmp_path / "events.json"
    events.write_text(json.dumps({"events": [move("e-1", "LOAD", "2026-01-20T14:15:00Z", "DKAAR"),
                                             move("e-2", "DISC", "2026-02-10T06:00:00Z", "DEBRV")]}))
    assert invoke("ingest", str(TD), str(events))[0] == 0
    assert invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go live")[0] == 0
    listed = json.loads(invoke("trips", "queue", "--json")[1])["trips"]
    assert [(t["container_number"], t["left_at"]) for t in listed] == [("NARU3472484", None)]
    gone = tmp_path / "gone.json"
    gone.write_text(json.dumps({"events": [move("e-3", "GTOT", "2026-02-10T09:00:00Z", "DEBRV")]}))
    assert invoke("ingest", str(gone))[0] == 0
    assert json.loads(invoke("trips", "queue", "--json")[1])["trips"] == []
    [left] = json.loads(invoke("trips", "queue", "--json", "--gone")[1])["trips"]
    assert left["container_number"] == "NARU3472484" and left["left_at"] is not None
    # each read of the queue or of a box's scores is in the audit log, as the API's are (an audit
    # review found them, and `audit list` itself, leaving no entry)
    assert invoke("trips", "history", "NARU3472484")[0] == 0
    listed = json.loads(invoke("audit", "list", "--json", "--limit", "1000")[1])["entries"]
    reads = [(e["kind"], e["payload"]["action"], e["payload"]["object_id"], e["payload"]["details"])
             for e in listed if e["payload"]["action"] in ("scheldt trips queue", "scheldt trips history")]
    assert reads == [("read", "scheldt trips queue", "antwerp-narcotics@3", {"trips": 1, "gone": False}),
                     ("read", "scheldt trips queue", "antwerp-narcotics@3", {"trips": 0, "gone": False}),
                     ("read", "scheldt trips queue", "antwerp-narcotics@3", {"trips": 1, "gone": True}),
                     ("read", "scheldt trips history", "NARU3472484", {"assessments": 2})]
    code, out, _ = invoke("audit", "list", "--json", "--limit", "1000")
    assert [e["payload"]["details"] for e in json.loads(out)["entries"]
            if e["payload"]["action"] == "scheldt audit list"] == [
        {"after": 0, "limit": 1000, "organisation": None, "found": len(listed)}]


def test_backtest_rates_come_from_the_counts_and_a_crlf_stored_profile_is_its_own_file(engine) -> None:  # noqa: ANN001
    """A profile review: the table's rates were the JSON's 4-decimal rates rounded again (4 of 19
    hits showed 0.210, 5 of 154 flagged 0.033); a profile stored with CRLF line ends (posted to the
    API) was refused by `backtest --profile` from its own file as "stored with another text",
    though `profile activate` took that file as the same version."""
    from scheldt.cli.profiles import _rate, _refuse_changed_text
    from scheldt.errors import InputError
    from scheldt.store.db import unit_of_work
    from scheldt.workflows.trip_scoring import store_profile

    assert (_rate(4, 19), _rate(5, 154), _rate(0, 0), _rate(1, 3)) == ("0.211", "0.032", "–", "0.333")
    text = builtin_profile_text().replace('version: "3"', 'version: "crlf"', 1)
    with unit_of_work(engine) as uow:
        store_profile(uow, text.replace("\n", "\r\n"), "api", datetime(2026, 3, 1, tzinfo=UTC))
        _refuse_changed_text(uow, "antwerp-narcotics@crlf", text)  # the file's text, as the CLI reads it
        with pytest.raises(InputError, match="stored with another text"):
            _refuse_changed_text(uow, "antwerp-narcotics@crlf", text.replace("weight: 30", "weight: 60", 1))


def test_a_queue_of_scores_under_another_profile_version_says_so(settings_env: Path, tmp_path: Path) -> None:
    """A targeting review: after `profile rollback --no-score` the API and workbench ranked 690
    trips by the rolled-back version's scores among the others without a word, and the CLI queue
    left them out. Each says how many show another version's score, until they are re-scored."""
    from fastapi.testclient import TestClient

    from scheldt.api.app import create_app
    from scheldt.store.db import open_store, unit_of_work
    from scheldt.workflows.accounts import create_organisation, create_token, create_user

    (tmp_path / "events.json").write_text(json.dumps(LOADED))
    invoke("ingest", str(TD), str(tmp_path / "events.json"))
    assert invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "go")[0] == 0
    newer = tmp_path / "newer.yaml"
    newer.write_text(builtin_profile_text().replace('version: "3"', 'version: "4"', 1))
    assert invoke("profile", "activate", str(newer), "--reason", "try")[0] == 0
    other = tmp_path / "other.json"  # another box's trip, first scored while @4 is live
    other.write_text(json.dumps(LOADED).replace("NARU3472484", "MSCU1234565").replace('"e-1"', '"e-9"'))
    assert invoke("ingest", str(other))[0] == 0
    # the first trip shows its @3 score again (the same facts), the other has none under @3
    assert invoke("profile", "rollback", "--reason", "back", "--no-score")[0] == 0
    said = ("1 trip(s) show a score of another profile version than the live antwerp-narcotics@3 (1 under "
            "antwerp-narcotics@4): they rank by those scores until re-scored (`scheldt trips score`, or the next "
            "scoring run)")
    code, out, err = invoke("trips", "queue", "--json")
    assert code == 0 and f"{said}; they are not in this queue" in " ".join(err.split())
    assert [t["container_number"] for t in json.loads(out)["trips"]] == ["NARU3472484"]
    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        create_organisation(uow, "local-agency", "Local", "agency", [], [], datetime.now(UTC))
        create_user(uow, "officer", "local-agency", ["targeting_officer"], "a long enough password", datetime.now(UTC))
        token = create_token(uow, "officer", "test", 1, datetime.now(UTC))
    client = TestClient(create_app(engine, workbench=False))
    body = client.get("/api/v1/trips", headers={"Authorization": f"Bearer {token}"}).json()
    assert body["warnings"] == [f"score: {said}"] and len(body["items"]) == 2
    assert invoke("trips", "score")[0] == 0
    body = client.get("/api/v1/trips", headers={"Authorization": f"Bearer {token}"}).json()
    assert "warnings" not in body and len(body["items"]) == 2
    code, out, err = invoke("trips", "queue")
    assert "another profile version" not in out + err


def test_a_profile_is_shown_as_stored_and_the_documented_example_is_valid(settings_env: Path, tmp_path: Path) -> None:
    """A docs review: the profile format was documented nowhere and no command printed a
    profile; it copied the built-in file out of the source to learn it."""
    assert invoke("db", "upgrade")[0] == 0
    code, out, err = invoke("profile", "show")
    assert code == 2 and "no profile is live" in " ".join(err.split())
    assert invoke("profile", "show", "--builtin", "antwerp-narcotics")[1].strip() == builtin_profile_text().strip()
    assert invoke("profile", "activate", "--builtin", "antwerp-narcotics", "--reason", "first", "--no-score")[0] == 0
    assert invoke("profile", "show")[1].strip() == builtin_profile_text().strip()  # the live one
    assert invoke("profile", "show", "antwerp-narcotics@3")[1].strip() == builtin_profile_text().strip()
    code, _, err = invoke("profile", "show", "antwerp-narcotics@9")
    assert code == 2 and "no such profile version stored" in err
    # the example of docs/risk-profiles.md validates as written, its end date said back
    doc = (Path(__file__).resolve().parents[2] / "docs" / "risk-profiles.md").read_text()
    example = tmp_path / "example.yaml"
    example.write_text(re.findall(r"```yaml\n(.*?)```", doc, re.S)[0])
    code, out, err = invoke("profile", "validate", str(example))
    assert code == 0, err
    assert " ".join(out.split()).startswith("antwerp-narcotics@4 (owner Targeting cell, Antwerp, effective from "
                                            "2026-01-01 until 2027-01-01 (not included)): valid")
