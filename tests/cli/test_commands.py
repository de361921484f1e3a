"""The command line: JSON reports, exit statuses, evaluate's output shape, db upgrade."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.settings import get_settings
from scheldt.store.db import head_revision
from tests.builders import broker_declarations
from tests.conftest import DEMO_TEST, DEMO_TRAIN, KCS_TRAIN, SHARED, kcs_lines

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_ingest_json_report_and_exit_status(settings_env: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    lines = kcs_lines(KCS_TRAIN, 5)
    good.write_text("".join([*lines, lines[1].replace(",440890,", ",4408,")]))
    junk = tmp_path / "junk.csv"
    junk.write_text("hello,world\n1,2\n")
    code, out, err = invoke("ingest", str(good), str(junk), "--json")
    assert code == 1  # nothing in junk.csv could be read
    assert "no organisations yet" in err
    # said, not only the exit status (a new user's ingest of the shared samples ended on a rejection)
    assert ("1 of 2 file(s) loaded; 1 gave no record that could be kept: junk.csv (exit 1; the rejections above, "
            "and `scheldt quarantine`, say why)") in " ".join(err.split())
    files = json.loads(out)["files"]
    assert [(f["path"], f["accepted"], f["added"], f["rejected"]) for f in files] == [
        (str(good), 5, 5, 1), (str(junk), 0, 0, 1)]
    assert files[0]["rejections"] == [{"where": f"{good}:7", "field": "hs_code",
                                       "why": "HS code '4408' is not 6, 8 or 10 digits"}]
    assert files[1]["rejections"][0]["where"] == f"{junk}:1"
    assert "no built-in declaration mapping" in files[1]["rejections"][0]["why"]
    code, out, _ = invoke("ingest", str(good), "--json")
    assert code == 0 and json.loads(out)["files"][0]["added"] == 0
    # a store without organisations loads, saying whom the facts are recorded as by (a PostgreSQL
    # operator's misspelt name loaded a day's documents without a word)
    assert "warning this store has no organisations yet: what follows is recorded as by 'local-agency'" in " ".join(
        err.split())


def test_unknown_mapping_is_a_clear_error(settings_env: Path) -> None:
    # a wrong option (exit 2, nothing read), as a wrong --format is; it was a rejected file (exit 1)
    code, out, err = invoke("ingest", str(DEMO_TEST), "--mapping", "nope", "--json")
    assert code == 2 and out == ""
    assert "--mapping nope: no built-in mapping of that name (kcs-synthetic) and no such file" in " ".join(err.split())


def test_unknown_format_is_a_usage_error_not_a_rejected_file(settings_env: Path) -> None:
    code, out, err = invoke("ingest", "--format", "dcsa", str(DEMO_TEST))
    assert code == 2 and out == ""
    assert "--format: unknown format 'dcsa'; known: auto, declarations, dcsa-events, dcsa-documents" in " ".join(err.split())


def test_ingest_reports_which_flags_it_raised(settings_env: Path, tmp_path: Path) -> None:
    page = json.loads((SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").read_text())
    page["events"][0]["equipmentDetails"]["equipmentReference"] = "APZU4812091"  # check digit is 0
    path = tmp_path / "events.json"
    path.write_text(json.dumps(page))
    code, out, _ = invoke("ingest", str(path), "--json")
    report = json.loads(out)["files"][0]
    assert code == 0 and report["flags"] == 1
    assert report["flag_kinds"] == {"invalid-container-number": {
        "count": 1, "field": "equipment_reference", "example": "APZU4812091: ISO 6346 check digit is wrong (expected 0)",
        "example_source": f"{path}$.events[0]", "fields": {"equipment_reference": 1}}}


def test_the_report_says_where_a_kind_of_flag_was_first_raised(settings_env: Path, tmp_path: Path) -> None:
    """An EDIFACT review: a UNT count off by one in the 2nd of three messages was reported as
    "UNT says 24 segments, the COARRI message has 23", naming no message (the flag's text leaves
    the reference out on purpose: a message re-sent under another one is the same facts)."""
    text = (SHARED / "fixtures" / "edifact" / "COARRI_D95B_ITG13_cosco-africa_ITGOA_multi-message.edi").read_text()
    second = text.index("UNT+", text.index("UNT+") + 4)
    count = text[second + 4:text.index("+", second + 4)]
    path = tmp_path / "moves.edi"
    path.write_text(text[:second + 4] + str(int(count) + 1) + text[second + 4 + len(count):])
    code, out, _ = invoke("ingest", str(path), "--json")
    kind = json.loads(out)["files"][0]["flag_kinds"]["segment-count-mismatch"]
    ref = text[text.rindex("UNH+", 0, second) + 4:text.index("+", text.rindex("UNH+", 0, second) + 4)]
    assert code == 0 and kind["count"] >= 1 and kind["example_source"].startswith(f"{path} message {ref} (segment ")
    code, out, _ = invoke("ingest", str(path))
    assert f"(at {path} message {ref} (segment " in " ".join(out.split())


def test_the_report_names_every_field_a_kind_of_flag_was_raised_on(settings_env: Path, tmp_path: Path) -> None:
    """An ingest review: "flagged 2 x unknown-country [origin_country]" for one origin and one
    departure country."""
    path = tmp_path / "d.csv"
    # line 866 of df_syn_train_eng.csv, its two countries made unknown ones
    row = "15755706,2020-01-08,40,B,11,21,11,10,JLE5FET,TP4IJ45,ONKQE2Z,,840999,ZZ,XX,8.0,A,Y,5.0,97.5,0,0\n"
    path.write_text("".join([*kcs_lines(KCS_TRAIN, 0), row]))
    code, out, _ = invoke("ingest", str(path))
    assert code == 0
    assert "flagged 2 x unknown-country [origin_country 1, departure_country 1] in " in out
    code, out, _ = invoke("ingest", str(path), "--json")
    assert json.loads(out)["files"][0]["flag_kinds"]["unknown-country"]["fields"] == {"origin_country": 1,
                                                                                      "departure_country": 1}


def test_evaluate_json_shape(settings_env: Path) -> None:
    code, out, err = invoke("evaluate", "--train", str(DEMO_TRAIN), "--test", str(DEMO_TEST),
                            "--seeds", "1", "--target", "critical", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) >= {"target", "auc", "ap", "at", "unseen", "spread", "seeds"}
    assert result["target"] == "critical" and result["rows"] == 2000
    assert set(result["at"]) == {"1%", "2%", "5%", "10%"}
    assert set(result["at"]["5%"]) == {"precision", "recall", "value_recall"}
    assert set(result["unseen"]["at"]) == {"1%", "2%", "5%", "10%"}
    assert 0.5 < result["auc"] <= 1.0


def test_evaluate_counts_each_declaration_once_and_says_what_it_left_out(settings_env: Path, tmp_path: Path) -> None:
    """An analyst review: a row repeated in the test file was counted four times (declarations
    joined to outcomes without removing repeats), a contradicting outcome counted as fraud and as
    clean, and rejected rows were dropped without a word."""
    header, *rows = DEMO_TEST.read_text().splitlines()
    clean, dirty = tmp_path / "clean.csv", tmp_path / "dirty.csv"
    clean.write_text("\n".join([header, *rows[:400]]) + "\n")
    flipped = rows[0][:-3] + ("1,0" if rows[0].endswith("0,0") else "0,0")  # the first row, its outcome changed
    bad = rows[1].replace("2021-04-01", "2021-04-31", 1)
    dirty.write_text("\n".join([header, *rows[:400], rows[5], rows[6], flipped, bad]) + "\n")
    results = []
    for test in (clean, dirty):
        code, out, err = invoke("evaluate", "--train", str(DEMO_TRAIN), "--test", str(test), "--seeds", "1", "--json")
        assert code == 0, err
        results.append((json.loads(out), " ".join(err.split())))
    (first, _), (second, said) = results
    assert (second["rows"], second["positives"], second["auc"]) == (first["rows"], first["positives"], first["auc"])
    assert first["rows"] == 400 and first["files"]["test"]["rejected"] == 0
    read = second["files"]["test"]
    assert (read["rejected"], read["repeated"]) == (2, 2)
    assert read["rejections"][0] == (f"{dirty}:404 [declaration_ref]: outcome for declaration {rows[0].split(',')[0]} "
                                     "read before with other facts: the first is kept, as ingest keeps it")
    assert read["rejections"][1].startswith(f"{dirty}:405 [filed_at]")
    assert (f"warning --test {dirty}: 2 row(s) rejected and 2 repeating a row read before, left out of the "
            "figures") in said


def test_evaluate_leaves_out_of_valid_what_train_holds(settings_env: Path, tmp_path: Path) -> None:
    """A regression review: a --valid file repeating 200 training rows (outcomes flipped or not)
    moved the figures, and nothing was said."""
    header, *rows = DEMO_TRAIN.read_text().splitlines()
    train, valid, valid_plus = tmp_path / "train.csv", tmp_path / "valid.csv", tmp_path / "valid-plus.csv"
    train.write_text("\n".join([header, *rows[:1500]]) + "\n")
    valid.write_text("\n".join([header, *rows[1500:2000]]) + "\n")
    flipped = [r[:-3] + ("1,0" if r.endswith("0,0") else "0,0") for r in rows[:3]]
    valid_plus.write_text("\n".join([header, *rows[1500:2000], *rows[10:14], *flipped]) + "\n")
    results = []
    for v in (valid, valid_plus):
        code, out, err = invoke("evaluate", "--train", str(train), "--valid", str(v), "--test", str(DEMO_TEST),
                                "--seeds", "1", "--json")
        assert code == 0, err
        results.append(json.loads(out))
    clean, plus = results
    assert (plus["auc"], plus["ap"]) == (clean["auc"], clean["ap"])
    read = plus["files"]["valid"]
    assert (read["rejected"], read["repeated"]) == (3, 4)
    assert sorted(read["rejections"]) == sorted(
        f"{valid_plus} [declaration_ref]: declaration {r.split(',')[0]} is in --train with other facts or outcome: "
        "left out of --valid" for r in rows[:3])


def test_evaluate_on_a_file_that_is_not_declarations_says_so(settings_env: Path) -> None:
    """A DCSA file given to evaluate was an AssertionError traceback (new-user review)."""
    from tests.conftest import SHARED

    dcsa = SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-events-response.json"
    code, _, err = invoke("evaluate", "--train", str(dcsa), "--test", str(DEMO_TEST), "--seeds", "1")
    assert code == 2 and "Traceback" not in err
    assert "a dcsa-events file, not declarations with inspection outcomes" in " ".join(err.split())


def test_target_before_training_says_what_to_do(settings_env: Path) -> None:
    assert invoke("db", "upgrade")[0] == 0  # a store (without one, that is said first)
    code, _, err = invoke("target", "--capacity", "5%")
    assert code == 2
    assert "none trained yet: run `scheldt train`" in err
    code, _, err = invoke("score", "--target", "critical")  # the hint trained the fraud model (CLI review)
    assert code == 2 and "none trained yet: run `scheldt train --target critical`" in " ".join(err.split())


def test_db_upgrade_on_postgresql(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        code, out, _ = invoke("db", "upgrade")
        assert code == 0 and "(was empty)" in out
        code, out, _ = invoke("db", "current")
        assert out.strip() == f"store: {head_revision()}; code: {head_revision()}"
        code, out, err = invoke("ingest", str(DEMO_TEST), "--no-outcomes", "--json")
        assert code == 0, err
        assert json.loads(out)["files"][0]["added"] == 2000
    finally:
        get_settings.cache_clear()


def test_a_new_sqlite_store_is_private_and_db_current_creates_nothing(settings_env: Path) -> None:
    """An operator review: a new store and its folder were readable by every local user (password
    hashes, the audit log; its backup was 0600), and `db current` on a mistyped path created the
    folders."""
    code, out, _ = invoke("db", "current")
    assert (code, out.strip()) == (0, f"store: none at {settings_env / 'scheldt.db'} (no such file); "
                                      f"code: {head_revision()}")
    assert not settings_env.exists()
    code, _, err = invoke("db", "upgrade")
    assert code == 0, err
    modes = {p.name: p.stat().st_mode & 0o777 for p in (settings_env, *settings_env.glob("scheldt.db*"))}
    assert modes["data"] == 0o700 and modes["scheldt.db"] == 0o600
    assert all(mode == 0o600 for name, mode in modes.items() if name.startswith("scheldt.db")), modes


def test_a_sqlite_url_with_a_query_is_one_private_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A regression review: sqlite:///.../x.db?timeout=5 made x.db readable by all and a second,
    empty file named x.db?timeout=5, and `db current` called the store missing."""
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SCHELDT_DATABASE_URL", f"sqlite:///{tmp_path}/store/x.db?timeout=5")
    get_settings.cache_clear()
    try:
        assert invoke("db", "upgrade")[0] == 0
        code, out, _ = invoke("db", "current")
        assert (code, out.strip()) == (0, f"store: {head_revision()}; code: {head_revision()}")
    finally:
        get_settings.cache_clear()
    assert sorted(p.name for p in (tmp_path / "store").iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["x.db"]
    assert (tmp_path / "store" / "x.db").stat().st_mode & 0o777 == 0o600


# --- inputs found by attacking the CLI; each failing input is now a test -------------------


def test_markup_like_text_in_a_file_is_printed_as_is(settings_env: Path, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 2)
    path = tmp_path / "m.csv"
    path.write_text(lines[0] + lines[2] + lines[1].replace(",108.0,", ",[/x]12,"))
    code, out, err = invoke("ingest", str(path))
    assert code == 0, err
    assert f"rejected {path}:3 [net_mass_kg]: 'Net Mass' = '[/x]12' is not a number" in " ".join(out.split())


def test_empty_file_directory_and_outcome_only_file(settings_env: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, out, _ = invoke("ingest", "--json", str(empty))
    whys = [f["rejections"][0]["why"] for f in json.loads(out)["files"]]
    assert code == 1 and whys == ["file is empty"]
    # a folder or a mistyped path is the command's fault: exit 2, nothing read or quarantined (CLI review)
    for wrong, why in ((tmp_path, "is a folder"), (tmp_path / "nope.csv", "no such file")):
        code, out, err = invoke("ingest", str(empty), str(wrong))
        assert code == 2 and f"{wrong}: {why}" in " ".join(err.split()) and out == "", err
    assert "nope.csv" not in invoke("quarantine")[1]
    # so is a missing AIS layout (it was quarantined as a row of the file)
    code, _, err = invoke("ingest", str(empty), "--ais-layout", str(tmp_path / "layout.yaml"))
    assert code == 2 and "--ais-layout" in err and "no such AIS layout file" in " ".join(err.split())
    code, _, err = invoke("ingest", str(empty), "--format", "dcsa-events", "--ais-layout", str(tmp_path / "l.yaml"))
    assert code == 2 and "--ais-layout: describes a decoded AIS CSV: it goes with format ais-csv or auto, not " \
        "dcsa-events" in " ".join(err.split())
    lines = kcs_lines(KCS_TRAIN, 3)
    decl = tmp_path / "decl.csv"
    decl.write_text("".join(lines))
    assert invoke("ingest", "--no-outcomes", str(decl))[0] == 0
    results = tmp_path / "results.csv"
    results.write_text("Declaration ID,Fraud,Critical Fraud\n" + "".join(
        f"{ln.split(',')[0]},{ln.split(',')[-2]},{ln.split(',')[-1]}" for ln in lines[1:]))
    code, out, err = invoke("ingest", "outcomes", str(results), "--json")
    assert code == 0, err
    assert json.loads(out)["files"][0]["outcomes"] == {"accepted": 3, "added": 3}
    assert invoke("ingest", "outcomes", "--no-outcomes", str(results))[0] == 2
    # outcomes come from declaration files only: AIS positions were stored through it (CLI review)
    ais = SHARED / "fixtures" / "ais" / "nmea-aivdm-aishub-sample.ais"
    code, out, err = invoke("ingest", "outcomes", str(ais), "--json")  # refused before reading: nothing quarantined
    assert code == 2 and out == "" and "is ais-nmea, not declarations: `ingest outcomes` reads inspection outcomes " \
        "from declaration files only" in " ".join(err.split())
    assert "nmea-aivdm-aishub-sample" not in invoke("quarantine")[1]


def test_bad_settings_and_unreachable_database_are_one_line_errors(
        settings_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:5999/none")
    get_settings.cache_clear()
    code, _, err = invoke("score")
    assert code == 2 and "cannot connect" in err and "Traceback" not in err
    monkeypatch.delenv("SCHELDT_DATABASE_URL")
    monkeypatch.setenv("SCHELDT_THREADS", "abc")
    get_settings.cache_clear()
    code, _, err = invoke("score")
    assert code == 2 and "SCHELDT_THREADS" in err
    # 0 threads was accepted silently (operator review); an empty SCHELDT_NOW is the real clock
    monkeypatch.setenv("SCHELDT_THREADS", "0")
    get_settings.cache_clear()
    code, _, err = invoke("score")
    assert code == 2 and "SCHELDT_THREADS: Input should be greater than or equal to 1" in err
    monkeypatch.delenv("SCHELDT_THREADS")
    monkeypatch.setenv("SCHELDT_NOW", "")
    get_settings.cache_clear()
    assert get_settings().now is None
    get_settings.cache_clear()


def test_negative_limit_is_refused(settings_env: Path) -> None:
    assert invoke("target", "--limit", "-1")[0] == 2


def test_relative_data_dir_is_stored_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHELDT_DATA_DIR", "var/x")
    get_settings.cache_clear()
    try:
        assert get_settings().data_dir == tmp_path / "var" / "x"
    finally:
        get_settings.cache_clear()


def test_container_timeline_json(settings_env: Path) -> None:
    tnt = sorted((SHARED / "fixtures" / "dcsa-tnt").glob("*.json"),
                 key=lambda p: ("INVALID" in p.name, p.name))
    code, out, err = invoke("ingest", "--json", *map(str, tnt))
    assert code == 1  # nothing in tnt-v2.2-INVALID-wrong-structure.json is an event
    assert [f["accepted"] for f in json.loads(out)["files"]] == [7, 1, 5, 5, 1, 1, 1, 0, 3, 0]  # 1: a retraction of
    # an event never sent here is quarantined
    code, out, err = invoke("container", "APZU4812090", "--json")
    assert code == 0, err
    timeline = json.loads(out)
    assert [t["document_ref"] for t in timeline["trips"]] == ["reserved-HHL123", ""]
    # times in ISO 8601 with their zone, as on PostgreSQL (SQLite gave "2021-04-01 00:00:00")
    times = [e[k] for t in timeline["trips"] for e in t["events"] for k in ("event_time", "received_at")]
    assert times and all(datetime.fromisoformat(t).tzinfo is not None and "T" in t for t in times), times[:4]
    code, out, _ = invoke("container", "APZU4812090")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert code == 0 and "trip APZU4812090 / document reserved-HHL123 / voyage 2103S" in lines  # each trip named first
    assert "trip APZU4812090 / no document reference / no voyage" in lines
    # nothing known of a container is exit 1 (it was 0, so a script could not tell it from a known one)
    code, out, _ = invoke("container", "NOPE1234567")
    assert code == 1 and "not shaped like an ISO 6346 container number" in out and "no events" in out
    code, out, _ = invoke("container", "MSCU1234566", "--json")
    assert code == 1 and json.loads(out)["trips"] == []
    # each timeline read is in the audit log, as the API's container page is (an audit review)
    entries = json.loads(invoke("audit", "list", "--json")[1])["entries"]
    reads = [(e["kind"], e["payload"]["object_id"], e["payload"]["details"]["trips"]) for e in entries
             if e["payload"]["action"] == "scheldt container"]
    assert sorted(reads) == [("read", "APZU4812090", 2), ("read", "APZU4812090", 2), ("read", "MSCU1234566", 0),
                             ("read", "NOPE1234567", 0)]


def test_an_event_received_again_under_another_id_shows_once_with_its_copy(settings_env: Path) -> None:
    """The DCSA T&T 2.2 sample holds its LOAD and its ARRI twice, under other event ids: the
    timeline showed each twice (scoring counted each once), and its two drafts of one minute in
    either order from run to run."""
    code, _, err = invoke("ingest", str(SHARED / "fixtures" / "dcsa-tnt" / "tnt-v2.2-events-response-mixed.json"))
    assert code == 0, err
    code, out, err = invoke("container", "APZU4812090", "--json")
    assert code == 0, err
    [trip] = json.loads(out)["trips"]
    assert [(e["event_type"], e["event_id"][-2:], [r["event_id"][-2:] for r in e["repeats"]], e["source"][-4:])
            for e in trip["events"]] == [("LOAD", "e4", ["e7"], "$[2]"), ("DRFT", "e6", [], "$[4]"),
                                         ("DRFT", "e8", [], "$[6]"), ("ARRI", "e2", ["e5"], "$[0]")]
    assert trip["events"][0]["repeats"][0]["source"].endswith("tnt-v2.2-events-response-mixed.json$[5]")
    code, out, _ = invoke("container", "APZU4812090")
    text = "".join(out.split())
    assert code == 0 and text.count("EQUIPMENTLOAD") == 1 and text.count("TRANSPORTARRI") == 1
    assert text.count("receivedagain:") == 2


def test_the_timeline_says_what_stowage_vgm_and_documents_hold(settings_env: Path) -> None:
    """An ingest review: the real VGM declaration (isRetracted) read as live, bay-plan lines gave
    neither cell, mass nor port of discharge, and document lines no goods."""
    files = [SHARED / "fixtures" / "dcsa-other" / "vgm-v1.0-declaration.json",
             SHARED / "fixtures" / "edifact" / "BAPLIE_D95B_SMDG20_oocl-beijing_USLGB.edi",
             SHARED / "fixtures" / "dcsa-ebl" / "ebl-v2-beta-ValidShippingInstruction.json"]
    code, _, err = invoke("ingest", *map(str, files))
    assert code == 0, err
    from scheldt.cli.container import _describe, _doc_line

    timelines = {n: json.loads(invoke("container", n, "--json")[1]) for n in ("APZU4812090", "OOLU4293959")}
    events = [_describe(e) for t in timelines.values() for trip in t["trips"] for e in trip["events"]]
    assert ("VGM VGM (ACT) at NLAMS vessel King of the Seas seals VET123 (CUS) VGM 2 kg RETRACTED by its sender"
            in events)
    assert "STOWAGE BAPLIE (ACT) at USLGB vessel OOCL BEIJING box 4200 cell 0780690 empty for CNYTN gross 3,833 kg" \
        in events
    [doc] = timelines["APZU4812090"]["documents_without_trip"]
    doc["received_at"] = datetime.fromisoformat(doc["received_at"])
    assert " | goods HS 411510 shoes | " in _doc_line(doc, "APZU4812090")


def test_a_container_known_only_from_a_declaration_shows_it(settings_env: Path, tmp_path: Path) -> None:
    """A declaration naming a container with no events yet was hidden behind "no events"."""
    mapping, decl = broker_declarations(tmp_path, ["24BE0002,2023-12-27,080390,EC,EC,18000,21000,OTHERBL,OTHU1234568"])
    code, _, err = invoke("ingest", str(decl), "--mapping", str(mapping))
    assert code == 0, err
    code, out, _ = invoke("container", "OTHU1234568")
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert code == 0 and lines == ["declarations naming this container or its documents, matched to no trip:",
                                   "declaration 24BE0002 filed 2023-12-27: HS 080390 from EC, B/L OTHERBL",
                                   "no events for container OTHU1234568"]


def test_quarantine_lists_what_ingest_rejected(settings_env: Path, tmp_path: Path) -> None:
    """Rejected records were kept but no command showed them (new-user review)."""
    bad = tmp_path / "events.json"
    bad.write_text(json.dumps({"events": [{"eventType": "EQUIPMENT", "eventDateTime": "2026-01-20T14:15:00Z"}]}))
    assert invoke("ingest", str(bad))[0] == 1
    code, out, _ = invoke("quarantine", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["total"] == 1
    [record] = listed["records"]
    assert (record["format"], record["where"], record["field"], record["why"]) == (
        "dcsa-events", f"{bad}$.events[0]", "eventID", "EQUIPMENT event has no eventID")
    code, out, _ = invoke("quarantine")
    assert code == 0 and out.splitlines()[0] == "1 record(s) in quarantine; the newest 1:"
    assert " ".join(out.split()).endswith("dcsa-events " + f"{bad}$.events[0] [eventID]: EQUIPMENT event has no eventID")


def test_empty_container_number_is_refused(settings_env: Path) -> None:
    assert invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")[0] == 0  # a store to look in
    # an id taken is said first, whatever else the command lacks (an operator review was told a
    # carrier needs its SMDG liner code)
    code, _, err = invoke("org", "create", "be-customs", "--name", "BE", "--kind", "carrier")
    assert code == 2 and " ".join(err.split()) == "error organisation id: 'be-customs' already exists"
    code, _, err = invoke("container", " ")
    assert code == 2 and "give a container number" in err


def test_a_password_with_spaces_around_it_is_refused(settings_env: Path) -> None:
    """The CLI kept a padded password (or one of spaces only) that the API, which trims what it
    is given, could never match (new-user review)."""
    assert invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")[0] == 0
    for password in (" padded-password-1 ", " " * 12):
        code, _, err = invoke("user", "create", "u9", "--org", "be-customs", "--role", "analyst", "--password-stdin",
                              stdin=password + "\n")
        assert code == 2 and "password: must not begin or end with a space" in " ".join(err.split()), err
    code, _, err = invoke("user", "create", "u9", "--org", "be-customs", "--role", "analyst", "--password-stdin",
                          stdin="inner spaces are fine\n")
    assert code == 0, err


def test_the_ingest_report_shows_whole_file_names(settings_env: Path, tmp_path: Path) -> None:
    """Long names were cut to the same beginning ('.../tnt-v2.2-INVA…'), so rows could not be
    told apart (new-user review); they now fold onto more lines."""
    sample = (SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").read_text()
    folder = tmp_path / ("a-rather-long-folder-name-for-feeds-" * 3)
    folder.mkdir()
    paths = [folder / f"carrier-feed-of-the-day-{n}.json" for n in ("first", "second")]
    for p in paths:
        p.write_text(sample)
    code, out, _ = invoke("ingest", *map(str, paths))
    cells = "".join(line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│"))
    assert code == 0 and all(str(p) in cells for p in paths), out


def test_a_wrong_mapping_is_a_wrong_option_and_a_file_of_a_header_alone_says_so(settings_env: Path, tmp_path: Path) -> None:
    """`--mapping nope` was reported as a file rejection with exit 1, and a declaration file
    with its header and no rows exited 1 without a word (new-user review)."""
    code, out, err = invoke("ingest", "--mapping", "nope", str(DEMO_TEST))
    assert code == 2 and not out and "--mapping nope: no built-in mapping of that name" in " ".join(err.split())
    header = tmp_path / "header-only.csv"
    header.write_text(DEMO_TEST.read_text().splitlines()[0] + "\n")
    code, _, err = invoke("ingest", str(header))
    assert code == 1 and f"nothing to read in {header}: no records in it (a header alone?)" in " ".join(err.split())


def test_a_database_user_without_the_rights_gets_one_line_errors(
        settings_env: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Operator review: `db upgrade` as a role without CREATE on the schema printed an 80-line
    traceback, and other commands as a role without SELECT said "cannot connect" (it had)."""
    import uuid

    import psycopg

    from tests.conftest import PG_SERVER

    role = f"scheldt_test_limited_{uuid.uuid4().hex[:8]}"
    admin = PG_SERVER.rsplit("/", 1)[0] + "/" + postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    limited = postgres_url.replace("postgres@", f"{role}@", 1)
    try:
        monkeypatch.setenv("SCHELDT_DATABASE_URL", limited)
        get_settings.cache_clear()
        code, out, err = invoke("db", "upgrade")
        assert code == 2 and "Traceback" not in out + err, out + err
        assert f"cannot upgrade the schema as {role}: permission denied for schema public" in " ".join(err.split())
        monkeypatch.setenv("SCHELDT_DATABASE_URL", postgres_url)
        get_settings.cache_clear()
        assert invoke("db", "upgrade")[0] == 0
        monkeypatch.setenv("SCHELDT_DATABASE_URL", limited)
        get_settings.cache_clear()
        code, out, err = invoke("org", "list")
        assert code == 2 and f"connected as {role}, but cannot read the schema's revision: permission denied" in \
            " ".join(err.split()), out + err
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_scanners_belong_to_agencies_and_have_a_printable_id(settings_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan-team review gave an NII scanner to a shipping line (its users then saw it on their
    plan page) and made one with a blank id; there was no way to list them."""
    for org, kind, *codes in (("be-customs", "agency"), ("carrier-a", "carrier", "--carrier-code", "SIMA")):
        assert runner.invoke(app, ["org", "create", org, "--name", org, "--kind", kind, *codes]).exit_code == 0
    carrier = runner.invoke(app, ["scanner", "add", "SC-9", "--org", "carrier-a", "--capacity", "5"])
    assert carrier.exit_code == 2
    assert " ".join(carrier.stderr.split()) == "error organisation: carrier-a is a carrier: only an agency has NII scanners"
    blank = runner.invoke(app, ["scanner", "add", "   ", "--org", "be-customs", "--capacity", "5"])
    assert blank.exit_code == 2 and "scanner id: '' must be 1-64 letters, digits" in " ".join(blank.stderr.split())
    # an id goes into URL paths: "sc 4/x" could not be changed through the API (CLI review)
    for bad in ("sc 4/x", "..", "."):
        slash = runner.invoke(app, ["scanner", "add", bad, "--org", "be-customs", "--capacity", "5"])
        assert slash.exit_code == 2 and f"scanner id: '{bad}' must be 1-64 letters, digits" in " ".join(slash.stderr.split())
    # codes are for shipping lines and terminals: an agency that took one kept the carrier out (CLI review)
    coded = runner.invoke(app, ["org", "create", "nl-douane", "--name", "NL", "--kind", "agency", "--carrier-code", "MAEU"])
    assert coded.exit_code == 2 and "an agency has no carrier or terminal codes" in " ".join(coded.stderr.split())
    added = runner.invoke(app, ["scanner", "add", " SC-1 ", "--org", "be-customs", "--capacity", "6", "--site", "Deurganckdok"])
    assert added.exit_code == 0 and added.stdout == "scanner SC-1 of be-customs: 6 containers per shift\n"
    listed = runner.invoke(app, ["scanner", "list", "--org", "be-customs"])
    assert listed.stdout == "SC-1\t6 per shift\tSC-1\tDeurganckdok\n"
    assert runner.invoke(app, ["scanner", "list", "--org", "carrier-a"]).stdout == "carrier-a has no scanners\n"
    # a scan-team review found no way to change a scanner's capacity once added (a scanner down
    # for repair, a crew halved)
    changed = runner.invoke(app, ["scanner", "set", "SC-1", "--org", "be-customs", "--capacity", "3",
                                  "--name", "Fixed 1"])
    assert changed.exit_code == 0
    assert changed.stdout == "scanner SC-1 of be-customs: 3 containers per shift\tFixed 1\tDeurganckdok\n"
    listed = runner.invoke(app, ["scanner", "list", "--org", "be-customs"]).stdout
    assert listed == "SC-1\t3 per shift\tFixed 1\tDeurganckdok\n"
    nothing = runner.invoke(app, ["scanner", "set", "SC-1", "--org", "be-customs"])
    assert nothing.exit_code == 2
    assert "nothing to change: give --capacity, --name or --site" in " ".join(nothing.stderr.split())
    # down for repair: 0 takes it out of service until set again (refused before, though the help said so)
    zero = runner.invoke(app, ["scanner", "set", "SC-1", "--org", "be-customs", "--capacity", "0"])
    said = "scanner SC-1 of be-customs: 0 containers per shift\tFixed 1\tDeurganckdok\n"
    assert (zero.exit_code, zero.stdout) == (0, said)
    below = runner.invoke(app, ["scanner", "set", "SC-1", "--org", "be-customs", "--capacity", "-1"])
    assert below.exit_code == 2 and "-1 must be between 0 (out of service) and 1000 containers" in " ".join(
        below.stderr.split())
    other = runner.invoke(app, ["scanner", "set", "SC-1", "--org", "carrier-a", "--capacity", "4"])
    assert other.exit_code == 2 and "scanner SC-1: no such scanner" in " ".join(other.stderr.split())
    # each change is kept, dated by the real clock the server plans on: one dated by a pinned SCHELDT_NOW
    # (the demo's 2021) gave every shift worked since the new capacity (a regression review)
    monkeypatch.setenv("SCHELDT_NOW", "2021-04-22T12:00:00Z")
    get_settings.cache_clear()
    assert runner.invoke(app, ["scanner", "set", "SC-1", "--org", "be-customs", "--capacity", "2"]).exit_code == 0
    get_settings.cache_clear()
    from sqlalchemy import select

    from scheldt.store.db import open_store, unit_of_work
    from scheldt.store.models import ScannerCapacityChangeRow as Change

    engine = open_store(get_settings().resolved_database_url)
    with unit_of_work(engine) as uow:
        kept = uow.session.execute(select(Change.was, Change.capacity, Change.changed_at).order_by(Change.id)).all()
    engine.dispose()
    assert [(was, to) for was, to, _ in kept] == [(6, 3), (3, 0), (0, 2)]
    assert kept[-1][2].year >= 2026 and kept[-1][2] >= kept[0][2]


def test_evaluate_refuses_a_test_file_that_shares_declarations_with_train(settings_env: Path) -> None:
    """A declarations review measured on its training file and read AUC 0.925 (0.775 on a real split)."""
    code, out, err = invoke("evaluate", "--train", str(DEMO_TEST), "--test", str(DEMO_TEST), "--seeds", "1")
    said = " ".join(err.split())
    assert code == 2 and not out
    assert f"--test {DEMO_TEST}: " in said and "of its 2,000 declarations are also in --train or --valid" in said


def test_empty_lists_say_so_and_times_name_their_zone(settings_env: Path, tmp_path: Path) -> None:
    """A CLI review: empty lists printed nothing (no telling them from a silent failure), and an
    --out folder that cannot be made gave a traceback after the whole simulation."""
    assert invoke("db", "upgrade")[0] == 0  # a store (the lists refuse to make one: a regression review)
    assert invoke("org", "list")[1] == "no organisations yet: `scheldt org create`\n"
    assert invoke("peer", "list")[1] == "no peers yet: `scheldt peer add`\n"
    assert "no risk profile stored yet" in invoke("profile", "list")[1]
    assert invoke("group", "list")[1] == "no sharing groups yet: `scheldt group create`\n"
    assert "no container-level model trained yet" in invoke("trips", "models")[1]
    assert invoke("org", "create", "be-customs", "--name", "BE", "--kind", "agency")[0] == 0
    assert invoke("user", "create", "officer", "--org", "be-customs", "--role", "targeting_officer",
                  "--password-stdin", stdin="a long enough password\n")[0] == 0
    assert invoke("token", "list", "officer")[1] == "officer has no API tokens\n"
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, out, err = invoke("simulate", "--out", str(blocker / "sub"), "--scale", "0.002")
    assert code == 2 and "Traceback" not in err and str(blocker) in err and out == "", err



def test_no_command_help_shows_raw_markup() -> None:
    """A review read ``grep`` and ``--no-score`` in `--help` texts: docstring markup shown as is."""
    import click
    import typer

    def helps(cmd: click.Command, path: str) -> list[tuple[str, str]]:
        found = [(path, cmd.help or "")]
        for name, sub in getattr(cmd, "commands", {}).items():
            found += helps(sub, f"{path} {name}")
        return found

    shown = helps(typer.main.get_command(app), "scheldt")
    assert len(shown) > 60 and [p for p, text in shown if "``" in text] == []


def test_a_document_line_gives_each_flag_once() -> None:
    """Targeting review: `scheldt container` read "HS 851712 is not in the shipped nomenclature"
    twice for a document whose two goods items carry the code (stored once per item)."""
    from datetime import UTC, datetime

    from scheldt.cli.container import _doc_line

    why = "HS 851712 is not in the shipped nomenclature (HS 2022); kept as sent"
    doc = {"document_type": "TRD", "document_ref": "BL1", "status": "ISSU", "booking_ref": "", "to_order": False,
           "port_of_loading": "", "port_of_discharge": "", "parties": [], "containers": [],
           "goods": [{"hs_code": "851712"}, {"hs_code": "851712"}], "received_at": datetime(2026, 12, 4, tzinfo=UTC),
           "flags": [{"field": "hs_code", "code": "unknown-hs-code", "why": why}] * 2}
    assert _doc_line(doc, "MSCU1234566").endswith(f"| flags: {why}")
    # a second targeting review: the reader's flag and the reference check's, worded a little apart
    doc["flags"] = [{"field": "HSCodes", "code": "unknown-hs-code", "why": why},
                    {"field": "hs_code", "code": "unknown-hs-code", "why": why.removesuffix("; kept as sent")}]
    assert _doc_line(doc, "MSCU1234566").endswith(f"| flags: {why}")


def test_an_event_line_says_the_box_type_and_whether_it_was_empty() -> None:
    """A targeting review could not check "empty container gated in" or "reefer container (45R1)"
    against `scheldt container`: the event lines said neither (only `--json` did)."""
    from scheldt.cli.container import _describe

    event = {"kind": "EQUIPMENT", "event_type": "GTIN", "classifier": "ACT", "unlocode": "BEANR",
             "facility_code": "SIMT3", "vessel_name": "", "vessel_imo": "", "retracted_by": "",
             "details": {"iso_equipment_code": "22GP", "empty": True}}
    assert _describe(event) == "EQUIPMENT GTIN (ACT) at BEANR SIMT3 box 22GP empty"
    event["details"] = {"iso_equipment_code": "45R1", "empty": False, "seals": [{"number": "SL1", "source": "CAR"}]}
    assert _describe(event) == "EQUIPMENT GTIN (ACT) at BEANR SIMT3 box 45R1 laden seals SL1 (CAR)"


def test_checking_or_reading_a_store_that_is_not_there_creates_nothing(settings_env: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Docs review: with a mistyped SCHELDT_DATA_DIR, `audit verify` made an empty store and
    called its chain intact (exit 0), and `secrets check` found "no stored credentials"."""
    from scheldt.settings import get_settings

    db = get_settings().data_dir / "scheldt.db"
    assert not db.exists()
    for command in (["audit", "verify"], ["secrets", "check"], ["audit", "search", "--actor", "x"],
                    ["container", "MSCU1234566"], ["trips", "queue"], ["backtest"],
                    # and (regression review) the lists, a screening, an export
                    ["jobs", "list"], ["jobs", "show", "1"], ["org", "list"], ["profile", "list"], ["peer", "list"],
                    ["group", "list"], ["token", "list", "admin"], ["watchlist", "screen", "Foo"],
                    ["misp", "export", "--org", "be-customs", "--user", "a"], ["trips", "models"],
                    ["quarantine"], ["target"]):
        code, out, err = invoke(*command)
        assert code == 2 and out == "", command
        assert f"SCHELDT_DATA_DIR: no store at {db}: nothing to read or check" in " ".join(err.split()), command
    assert not db.exists()
    # a file named by SCHELDT_DATABASE_URL is blamed on it, not on the data folder (an operator review)
    monkeypatch.setenv("SCHELDT_DATABASE_URL", "sqlite:///relative-typo.db")
    get_settings.cache_clear()
    try:
        code, out, err = invoke("org", "list")
        assert code == 2 and " ".join(err.split()).startswith("error SCHELDT_DATABASE_URL: no store at relative-typo.db")
    finally:
        monkeypatch.delenv("SCHELDT_DATABASE_URL")
        get_settings.cache_clear()
