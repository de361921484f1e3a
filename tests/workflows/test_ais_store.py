"""AIS feeds into a real store (SQLite and PostgreSQL) and vessel tracks on container trips."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce
from pathlib import Path

import pytest
from pyais import encode_dict
from sqlalchemy import Engine

from scheldt.errors import InputError
from scheldt.store.db import unit_of_work
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.shipping import container_timeline
from tests.conftest import SHARED

AIS = SHARED / "fixtures" / "ais"
TNT = SHARED / "fixtures" / "dcsa-tnt"
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_every_ais_sample_loads_once(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        first = [ingest_file(uow, p, IngestOptions(), NOW) for p in sorted(AIS.iterdir())]
    assert [r.format for r in first] == ["ais-csv"] * 2 + ["ais-nmea"] * 7
    assert [r.accepted for r in first] == [10, 1654, 12, 760, 6, 4, 13, 4, 5]
    assert first[3].skipped["empty payload"] == 100
    with unit_of_work(engine) as uow:
        again = [ingest_file(uow, p, IngestOptions(), NOW) for p in sorted(AIS.iterdir())]
    assert sum(r.added for r in again) == 0


def _tagged(sentence: str, at: datetime) -> str:
    tag = f"c:{int(at.timestamp())}"
    checksum = reduce(lambda a, c: a ^ ord(c), tag, 0)
    return f"\\{tag}*{checksum:02X}\\{sentence}"


def test_a_report_heard_by_a_second_receiver_in_its_own_file_is_one_position(engine: Engine,
                                                                              tmp_path: Path) -> None:
    """A maritime review: the same reports, heard by a second receiver and delivered in its own
    file (stamped 5 s later), were stored again; within one file they were skipped. Positions of
    the same vessel at the same place, speed and course within 30 s are one; the vessel seen at
    another place, or the same place 3 minutes later (at anchor), is another."""
    from datetime import timedelta

    def report(lat: float) -> str:
        return encode_dict({"type": 1, "mmsi": 244000072, "lat": lat, "lon": 3.0, "speed": 11.5, "course": 90},
                           sentence_type="VDM")[0]

    at = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    first = [_tagged(report(51.0 + k / 100), at + timedelta(minutes=k)) for k in range(5)]
    second = [_tagged(report(51.0 + k / 100), at + timedelta(minutes=k, seconds=5)) for k in range(5)]
    later = [_tagged(report(51.04), at + timedelta(minutes=7))]  # the last place again, 3 minutes on
    added = []
    for name, lines in (("rcv-a.nmea", first), ("rcv-b.nmea", second), ("rcv-b-later.nmea", later)):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        with unit_of_work(engine) as uow:
            added.append(ingest_file(uow, tmp_path / name, IngestOptions(), NOW).added)
    assert added == [5, 0, 1]


def test_container_trip_shows_its_vessel_track(engine: Engine, tmp_path: Path) -> None:
    # Messages written with pyais's encoder from ITU-R M.1371 fields: the vessel of the 2019
    # LOAD event in the DCSA sample (IMO 9321483) announces its MMSI and sails past Paris.
    static = encode_dict({"type": 5, "mmsi": 211000001, "imo": 9321483, "callsign": "NCVV",
                          "shipname": "KING OF THE SEAS"}, talker_id="AI", sentence_type="VDM")
    times = [datetime(2019, 11, 11, 20, tzinfo=UTC), datetime(2019, 11, 12, 2, tzinfo=UTC),
             datetime(2021, 6, 30, tzinfo=UTC)]  # the last is months after the trip ended
    positions = [encode_dict({"type": 1, "mmsi": 211000001, "lat": 48.85 + i / 100, "lon": 2.29, "speed": 12.5,
                              "course": 90, "status": 0}, talker_id="AI", sentence_type="VDM")[0] for i in range(3)]
    lines = [_tagged(s, times[0]) for s in static] + [_tagged(p, t) for p, t in zip(positions, times, strict=True)]
    feed = tmp_path / "feed.nmea"
    feed.write_text("\n".join(lines) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, TNT / "tnt-v2.2-events-response-mixed.json", IngestOptions(), NOW)
        report = ingest_file(uow, feed, IngestOptions(), NOW)
    assert (report.format, report.accepted) == ("ais-nmea", 4)
    with unit_of_work(engine) as uow:
        timeline = container_timeline(uow, "APZU4812090")
    [track] = timeline.vessel_tracks
    assert [p["observed_at"] for p in track] == times[:2]
    assert track[0]["mmsi"] == "211000001" and abs(track[1]["latitude"] - 48.86) < 1e-4


def test_a_position_without_a_fix_is_kept_flagged_and_left_out_of_the_track(engine: Engine, tmp_path: Path) -> None:
    """An ingest review: a transponder without a fix sends 0, 0; it was stored unflagged and sat in
    the vessel's track (on the map off Ghana, and filling an AIS gap before arrival)."""
    static = encode_dict({"type": 5, "mmsi": 211000001, "imo": 9321483, "callsign": "NCVV",
                          "shipname": "KING OF THE SEAS"}, talker_id="AI", sentence_type="VDM")
    times = [datetime(2019, 11, 11, 20, tzinfo=UTC), datetime(2019, 11, 11, 23, tzinfo=UTC),
             datetime(2019, 11, 12, 2, tzinfo=UTC)]
    fixes = [(48.85, 2.29), (0.0, 0.0), (48.87, 2.29)]
    positions = [encode_dict({"type": 1, "mmsi": 211000001, "lat": lat, "lon": lon, "speed": 12.5, "course": 90,
                              "status": 0}, talker_id="AI", sentence_type="VDM")[0] for lat, lon in fixes]
    # a regression review: an unconfigured transponder (MMSI 000000000) announcing the same IMO put
    # its positions off Cape Town into the vessel's track
    unset = encode_dict({"type": 5, "mmsi": 0, "imo": 9321483, "shipname": "KING OF THE SEAS"}, talker_id="AI",
                        sentence_type="VDM")
    stray = encode_dict({"type": 1, "mmsi": 0, "lat": -33.9, "lon": 18.4, "speed": 1.0}, talker_id="AI",
                        sentence_type="VDM")[0]
    lines = ([_tagged(s, times[0]) for s in static + unset] + [_tagged(stray, times[1])]
             + [_tagged(p, t) for p, t in zip(positions, times, strict=True)])
    feed = tmp_path / "feed.nmea"
    feed.write_text("\n".join(lines) + "\n")
    with unit_of_work(engine) as uow:
        ingest_file(uow, TNT / "tnt-v2.2-events-response-mixed.json", IngestOptions(), NOW)
        report = ingest_file(uow, feed, IngestOptions(), NOW)
    assert (report.accepted, report.flag_kinds["no-fix"][0], report.flag_kinds["unset-mmsi"][0]) == (6, 1, 1)
    with unit_of_work(engine) as uow:
        [track] = container_timeline(uow, "APZU4812090").vessel_tracks
    assert [p["observed_at"] for p in track] == [times[0], times[2]]


def test_user_ais_layout_from_yaml(engine: Engine, tmp_path: Path) -> None:
    from scheldt.errors import ConfigError

    # a decoded export in a layout no built-in one matches (written for this test)
    export = tmp_path / "positions.csv"
    export.write_text("ts_utc;mmsi_no;lat;lon;knots\n2026-03-01T10:00;244678000;51.30;4.25;11.5\n"
                      "2026-03-01T10:10;244678000;51.31;4.27;bad\n2026-03-01T10:20;244678000;95.0;4.29;11.0\n"
                      "2026-03-01T10:30;244678000;51.33;99999;11.0\n")
    layout = tmp_path / "layout.yaml"
    layout.write_text("name: port-feed\ntime_column: ts_utc\ntime_format: '%Y-%m-%dT%H:%M'\n"
                      "latitude: lat\nlongitude: lon\nmmsi: mmsi_no\nspeed_knots: knots\ndelimiter: ';'\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntime_column: t\n")
    tagged = tmp_path / "tagged.yaml"  # a value its tag cannot build was a traceback (regression review)
    tagged.write_text("name: x\ntime_column: !!int abc\n")
    with unit_of_work(engine) as uow, pytest.raises(ConfigError, match="not a readable YAML layout: a value its tag"):
        ingest_file(uow, export, IngestOptions(ais_layout=str(tagged)), NOW)
    # a layout naming no vessel column, or a row without one, stored positions of no vessel (regression review)
    nameless = tmp_path / "nameless.yaml"
    nameless.write_text("name: n\ntime_column: ts_utc\ntime_format: '%Y-%m-%dT%H:%M'\nlatitude: lat\nlongitude: lon\n")
    with unit_of_work(engine) as uow, pytest.raises(ConfigError, match="name the vessel's column: mmsi, or vessel_id"):
        ingest_file(uow, export, IngestOptions(format="ais-csv", ais_layout=str(nameless)), NOW)
    blank = tmp_path / "blank.csv"
    blank.write_text("ts_utc;mmsi_no;lat;lon;knots\n2026-03-01T11:00;;51.30;4.25;11.5\n"
                     "2026-03-01T11:10;   ;51.3;4.2;1\n")
    with unit_of_work(engine) as uow:
        try:
            ingest_file(uow, export, IngestOptions(ais_layout=str(bad)), NOW)
        except ConfigError as exc:
            assert "bad.yaml" in exc.where and exc.where.endswith(("time_format", "latitude", "longitude"))
        else:
            raise AssertionError("an incomplete layout was accepted")
        report = ingest_file(uow, export, IngestOptions(ais_layout=str(layout)), NOW).as_dict()
    assert (report["format"], report["accepted"], report["rejected"]) == ("ais-csv", 1, 3)
    with unit_of_work(engine) as uow:
        none = ingest_file(uow, blank, IngestOptions(ais_layout=str(layout)), NOW).as_dict()
    assert (none["accepted"], none["rejected"]) == (0, 2)
    assert {(r["field"], r["why"]) for r in none["rejections"]} == {  # type: ignore[union-attr]
        ("mmsi_no", "no MMSI or vessel id: the position belongs to no vessel")}
    # the other files of the same run are read as what they are (a docs review's DCSA events were
    # read as AIS CSV lines: 39 false rejections)
    tnt = SHARED / "fixtures" / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json"
    with unit_of_work(engine) as uow:
        beside = ingest_file(uow, tnt, IngestOptions(ais_layout=str(layout)), NOW).as_dict()
        forced = ingest_file(uow, export, IngestOptions(format="ais-csv", ais_layout=str(layout)), NOW).as_dict()
    assert (beside["format"], beside["accepted"], beside["rejected"]) == ("dcsa-events", 1, 0)
    assert (forced["format"], forced["accepted"], forced["added"]) == ("ais-csv", 1, 0)
    # a layout that does not fit the file says so (it read as an unknown kind of file: regression review)
    typo = tmp_path / "typo.yaml"
    typo.write_text(layout.read_text().replace("latitude: lat", "latitude: Lat"))
    for format in ("auto", "ais-csv"):  # with ais-csv it stored positions of no vessel (regression review)
        with unit_of_work(engine) as uow, pytest.raises(InputError) as caught:
            ingest_file(uow, export, IngestOptions(format=format, ais_layout=str(typo)), NOW)
        assert caught.value.why.endswith(f"the AIS layout {typo} does not fit it: no column 'Lat' (delimiter ';')")
        assert "--ais-layout" not in caught.value.why  # it told the user to pass what they had passed
    assert [(r["where"].rsplit(":", 1)[1], r["field"], r["why"]) for r in report["rejections"]] == [  # type: ignore[union-attr]
        ("3", "knots", "knots is 'bad', not a number"),
        ("4", "lat", "position 95.0, 4.29: lat is missing or outside WGS 84 ranges (-90 to 90)"),
        # the column at fault (an ingest review's bad longitude was blamed on the latitude)
        ("5", "lon", "position 51.33, 99999.0: lon is missing or outside WGS 84 ranges (-180 to 180)")]


def test_tracks_read_once_per_run_of_overlapping_windows_are_each_windows_own(engine: Engine) -> None:
    """Scoring reads the week before arrival of each trip's vessel; the boxes of one call share
    it, so the windows of one vessel that overlap are read with one query and sliced. Each slice
    must be what a query of its own window gives: overlapping windows, one apart from them, a
    span that ends inside them, another vessel's."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from scheldt.domain.shipping import MmsiSpan
    from scheldt.store.models import VesselPositionRow
    from scheldt.workflows.trip_scoring import _window_positions

    with unit_of_work(engine) as uow:
        for path in sorted(AIS.iterdir()):
            ingest_file(uow, path, IngestOptions(), NOW)
        busiest = uow.session.execute(
            select(VesselPositionRow.mmsi, func.min(VesselPositionRow.observed_at),
                   func.max(VesselPositionRow.observed_at))
            .where(VesselPositionRow.observed_at.is_not(None))
            .group_by(VesselPositionRow.mmsi).order_by(func.count().desc()).limit(2)).all()
        (mmsi, first, last), (other, other_first, _) = busiest
        first, last = first.replace(tzinfo=UTC), last.replace(tzinfo=UTC)
        step = (last - first) / 8
        one, cut, elsewhere = (MmsiSpan(mmsi),), (MmsiSpan(mmsi, until=first + 3 * step),), (MmsiSpan(other),)
        windows = {0: (one, first, first + 3 * step), 1: (one, first + step, first + 4 * step),
                   2: (one, first + 2 * step, first + 2 * step), 3: (one, first + 6 * step, last),
                   4: (cut, first + step, first + 5 * step), 5: (elsewhere, other_first.replace(tzinfo=UTC),
                                                                 other_first.replace(tzinfo=UTC) + timedelta(days=7)),
                   6: (one, last + timedelta(days=1), last + timedelta(days=2))}
        read = _window_positions(uow, windows)
        own = {n: uow.vessels.track(list(ids), start, end) for n, (ids, start, end) in windows.items()}
    assert read == own
    assert [len(read[n]) > 0 for n in (0, 1, 3, 4, 5, 6)] == [True] * 5 + [False]
    assert read[0] != read[1] and read[1][0] in read[0]  # dense enough for overlapping windows to differ
