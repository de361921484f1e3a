"""Every AIS sample in ../shared/fixtures/ais: raw NMEA through pyais and decoded CSV layouts."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheldt.domain.shipping import VesselPosition, VesselSighting
from scheldt.ingest.ais import AisStats, detect_ais_layout, read_ais_csv, read_nmea
from scheldt.ingest.base import Rejection
from tests.conftest import SHARED

AIS = SHARED / "fixtures" / "ais"


def nmea(name: str) -> tuple[list[object], AisStats]:
    stats = AisStats()
    return list(read_nmea((AIS / name).read_bytes().splitlines(), name, stats)), stats


def kinds(records: list[object]) -> dict[str, int]:
    return dict(Counter(type(r).__name__ for r in records))


@pytest.mark.parametrize(
    ("name", "expected", "skipped"),
    [
        # line 17 has fragment count 0 (!AAVDM,0,1,...): rejected, not silently dropped
        # and line 10 is "IamNotAnAisMessage1111": counted (a reader review's junk lines left no trace)
        ("nmea-aivdm-aishub-sample.ais", {"VesselPosition": 11, "VesselSighting": 1, "Rejection": 1},
         {"rejected": 1, "not an AIS sentence": 1}),
        # 20 first parts of 2-part messages whose second part is not in the excerpt
        ("nmea-aivdm-sample-897-lines.nmea", {"VesselPosition": 758, "VesselSighting": 2, "Rejection": 20},
         {"empty payload": 100, "position not available": 4, "type 4 (not kept)": 6, "type 15 (not kept)": 7,
          "type 20 (not kept)": 1, "incomplete multi-part": 20}),
        ("nmea-aivdm-with-comments-blank-lines.ais", {"VesselPosition": 6}, {}),
        ("nmea-gatehouse-PGHP-wrapped.nmea", {"VesselPosition": 4}, {}),
        ("nmea-mixed-aivdm-gps-sentences.txt", {"VesselPosition": 11, "VesselSighting": 2}, {"not an AIS sentence": 6}),
        ("nmea-tagblock-orbcomm-multipart.nmea", {"VesselPosition": 3, "VesselSighting": 1}, {}),
    ],
)
def test_raw_nmea_samples(name: str, expected: dict[str, int], skipped: dict[str, int]) -> None:
    records, stats = nmea(name)
    assert kinds(records) == expected
    assert {k: v for k, v in stats.items() if k not in ("positions", "static")} == skipped


def test_broken_sentence_and_orphan_fragments_are_rejected_with_their_line() -> None:
    records, _ = nmea("nmea-aivdm-aishub-sample.ais")
    [bad] = [r for r in records if isinstance(r, Rejection)]
    assert (bad.where, bad.field) == ("nmea-aivdm-aishub-sample.ais:17", "sentence")
    assert "invalid fragment count 0" in bad.why and "!AAVDM,0,1," in bad.raw
    records, _ = nmea("nmea-aivdm-sample-897-lines.nmea")
    orphans = [r for r in records if isinstance(r, Rejection)]
    assert "nmea-aivdm-sample-897-lines.nmea:96" in {r.where for r in orphans}
    assert all(r.field == "fragment" and "never completed" in r.why for r in orphans)


def test_second_part_without_first_is_rejected_and_a_complete_pair_is_not() -> None:
    pair = [b"!AIVDM,2,1,3,B,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E",
            b"!AIVDM,2,2,3,B,1@0000000000000,2*55"]
    records = list(read_nmea([pair[1], *pair, b"!AIVDM,2,1,4,A,55P5TL01VIaAL@7WKO@mBplU@<PDhh000000001S;AJ::4A80?4i@E53,0*3E"],
                             "f.nmea"))
    assert [type(r).__name__ for r in records] == ["Rejection", "VesselSighting", "Rejection"]
    assert [(r.where, r.field) for r in (records[0], records[2])] == [("f.nmea:1", "fragment"), ("f.nmea:4", "fragment")]
    assert records[0].raw == pair[1].decode() and "never completed" in records[2].why
    assert records[1].vessel.name == "MT.MITCHELL" and records[1].source == "f.nmea:3"


def test_tag_block_time_and_multipart_static_report() -> None:
    records, _ = nmea("nmea-tagblock-orbcomm-multipart.nmea")
    first = records[0]
    assert isinstance(first, VesselPosition)
    assert (first.mmsi, first.observed_at) == ("224651000", datetime(2014, 12, 10, 0, 41, 53, tzinfo=UTC))
    assert (first.latitude, first.longitude, first.speed_knots, first.nav_status) == (
        -5.277917, -161.88265, 1.2, "Engaged in fishing")
    # the 2-part type 5 message grouped by g:1-2-1604 / g:2-2-1604
    [sighting] = [r for r in records if isinstance(r, VesselSighting)]
    assert sighting.observed_at == datetime(2014, 12, 10, 0, 0, 1, tzinfo=UTC)
    assert sighting.vessel.mmsi == sighting.mmsi != ""


def _nmea(body: str) -> str:
    """``body`` with its NMEA checksum (XOR of its characters, two hex digits)."""
    check = 0
    for ch in body:
        check ^= ord(ch)
    return f"{body}*{check:02X}"


def test_fragments_are_joined_by_their_tag_block_group() -> None:
    """An AIS review: two type-5 messages in NMEA 4.10 tag-block groups (g:), interleaved on one
    channel without sequence ids, made one ship of two (MARE ISLAND with ROSINANTE's last part,
    ROSINANTE lost). The group parameter says which fragments go together. The two real messages
    are those of the ORBCOMM and AISHub samples, written as the review did."""
    first_a = "AIVDM,2,1,,A,53@o0E000001Q0CG37U8u<Tp4q@D00000000000018330400000000000000,0"
    second_a = "AIVDM,2,2,,A,00000000008,2"
    first_b = "AIVDM,2,1,,A,55Mw@A7J1adAL@?;7WPl58F0U<h4pB222222220t1PN5553fN4g?`4iSp5Rc,0"
    second_b = "AIVDM,2,2,,A,iP`88888880,2"

    def line(group: str, body: str) -> bytes:
        return f"\\{_nmea(group)}\\!{_nmea(body)}".encode()

    interleaved = [line("g:1-2-100,c:1418169601", first_a), line("g:1-2-200,c:1418169602", first_b),
                   line("g:2-2-100", second_a), line("g:2-2-200", second_b)]
    records = list(read_nmea(interleaved, "g.nmea"))
    assert not [r for r in records if isinstance(r, Rejection)]
    ships = {r.vessel.mmsi: r.vessel.name for r in records if isinstance(r, VesselSighting)}
    assert ships == {"366989380": "MARE ISLAND", "219005012": "ROSINANTE"}
    # a group never completed is said, by its line, as any fragment left over
    records = list(read_nmea(interleaved[:3], "g.nmea"))
    assert [(r.where, r.field) for r in records if isinstance(r, Rejection)] == [("g.nmea:2", "fragment")]
    assert [r.vessel.name for r in records if isinstance(r, VesselSighting)] == ["ROSINANTE"]
    # a regression review: a second fragment whose g: cannot be read (or that has none) lost the
    # message; a group counting a text sentence held its message to the end of the file, and a
    # rejection of it named the file's last line
    broken = [line("g:1-2-8,c:1418169601", first_a), line("g:2-2", second_a)]
    bare = [line("g:1-2-8,c:1418169601", first_a), f"!{_nmea(second_a)}".encode()]
    for feed in (broken, bare):
        assert [r.vessel.name for r in read_nmea(feed, "g.nmea")] == ["ROSINANTE"]
    texted = [line("g:1-3-7,c:1418169601", first_a), line("g:2-3-7", second_a)[:-2] + b"00",
              line("g:3-3-7", "AITXT,01,01,02,hello"), line("c:1418169605", first_b.replace(",2,1,", ",1,1,"))]
    records = list(read_nmea(texted, "g.nmea"))
    assert [(r.where, r.field) for r in records if isinstance(r, Rejection)][0] == ("g.nmea:2", "checksum")
    # round-4 review: a plain message after an unfinished group is its own (the group's first
    # part alone is left over), and a message whose first g: cannot be read is read as it comes
    plain_after = [line("g:1-2-5,c:1418169601", first_a), f"!{_nmea(first_b)}".encode(), f"!{_nmea(second_b)}".encode()]
    records = list(read_nmea(plain_after, "g.nmea"))
    assert [r.vessel.name for r in records if isinstance(r, VesselSighting)] == ["MARE ISLAND"]
    assert [(r.where, r.field) for r in records if isinstance(r, Rejection)] == [("g.nmea:1", "fragment")]
    unreadable_first = [line("g:1-2,c:1418169601", first_a), line("g:2-2-8", second_a),
                        f"!{_nmea(first_b)}".encode(), f"!{_nmea(second_b)}".encode()]
    assert [r.vessel.name for r in read_nmea(unreadable_first, "g.nmea")] == ["ROSINANTE", "MARE ISLAND"]


def test_a_tag_block_with_a_wrong_checksum_and_mmsi_0_are_flagged() -> None:
    """An ingest review: a tag block whose *hh did not match had its c: time used unflagged, and a
    position from MMSI 000000000 (an unconfigured transponder) was kept without a word."""
    from pyais import encode_dict

    [first] = (AIS / "nmea-tagblock-orbcomm-multipart.nmea").read_bytes().splitlines()[1:2]
    tag, sentence = first[1:].split(b"\\", 1)
    broken = b"\\" + tag[:-2] + (b"00" if tag[-2:] != b"00" else b"11") + b"\\" + sentence
    [read] = [r for r in read_nmea([broken], "t.nmea") if isinstance(r, VesselPosition)]
    assert read.observed_at == datetime(2014, 12, 10, 0, 41, 53, tzinfo=UTC)  # kept, and doubted
    assert [f.code for f in read.flags] == ["tag-block-checksum"]
    [zero] = encode_dict({"type": 1, "mmsi": 0, "lat": 51.3, "lon": 4.3, "speed": 0.0}, talker_id="AI",
                         sentence_type="VDM")
    [unset] = list(read_nmea([zero.encode()], "z.nmea"))
    assert "unset-mmsi" in [f.code for f in unset.flags]  # type: ignore[attr-defined]


def test_a_byte_order_mark_before_the_first_sentence_is_skipped() -> None:
    """An attack review: the real ORBCOMM file with a UTF-8 BOM in front lost its first line as
    "non-ASCII", and with it the 2-part message it starts (3 of 5 records kept)."""
    lines = (b"\xef\xbb\xbf" + (AIS / "nmea-tagblock-orbcomm-multipart.nmea").read_bytes()).splitlines()
    records = list(read_nmea(lines, "bom.nmea"))
    assert kinds(records) == {"VesselPosition": 3, "VesselSighting": 1}
    plain = nmea("nmea-tagblock-orbcomm-multipart.nmea")[0]
    assert [(r.mmsi, r.observed_at, r.source.split(":")[-1]) for r in records] == [  # type: ignore[attr-defined]
        (r.mmsi, r.observed_at, r.source.split(":")[-1]) for r in plain]  # type: ignore[attr-defined]


def test_uscg_trailer_and_gatehouse_times() -> None:
    records, stats = nmea("nmea-uscg-nais-format-many-msg-types.nmea")
    positions = [r for r in records if isinstance(r, VesselPosition)]
    assert positions[0].mmsi == "367033650"
    assert positions[0].observed_at == datetime(2012, 1, 1, 5, 0, 1, tzinfo=UTC)
    assert stats["type 9 (not kept)"] == 1
    # A position outside WGS 84 ranges that is not the "not available" value (91, 181) is a
    # rejection with its reason, no longer counted as not available (an attack review sent
    # latitude 95 and it vanished without a trace).
    out_of_range = [r for r in records if isinstance(r, Rejection)]
    assert stats["position out of range"] == 2 and stats["position not available"] == 0
    assert [r.why.split(" is ")[0] for r in out_of_range] == ["position -77.968333, 200.231667",
                                                             "position -101.547042, -12.425178"]
    records, _ = nmea("nmea-gatehouse-PGHP-wrapped.nmea")
    assert records[0].observed_at == datetime(2008, 5, 9, 0, 0, 0, 10000, tzinfo=UTC)  # type: ignore[attr-defined]
    # no wrapper before the second sentence: kept, flagged as untimed
    assert records[1].observed_at is None and records[1].flags[0].code == "time-unknown"  # type: ignore[attr-defined]
    # a wrapper dated 9999 was stored as is (attack review): kept, flagged as untimed
    body = "PGHP,1,9999,12,31,0,0,0,10,338,2,,1,09"
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    far = [f"${body}*{checksum:02X}".encode(), b"!AIVDM,1,1,,B,15NBj>PP1gG>1PVKTDTUJOv00<0M,0*09"]
    [position] = list(read_nmea(far, "far.nmea", AisStats()))
    assert position.observed_at is None and position.flags[0].code == "time-unknown"  # type: ignore[attr-defined]


def _layout(path: Path):  # type: ignore[no-untyped-def]
    header = next(csv.reader([path.read_bytes().decode("utf-8-sig").splitlines()[0]]))
    return detect_ais_layout([h.strip() for h in header])


def test_dma_aisdk_layout() -> None:
    path = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    layout = _layout(path)
    assert layout is not None and layout.name == "dma-aisdk"
    records = list(read_ais_csv(path.read_bytes(), layout, path.name))
    assert kinds(records) == {"VesselPosition": 10}
    first = records[0]
    assert first == VesselPosition(
        mmsi="265177000", observed_at=datetime(2018, 2, 8, tzinfo=UTC), latitude=57.602225, longitude=11.644943,
        speed_knots=15.7, course_deg=61.4, heading_deg=63.0, nav_status="Under way using engine",
        fact_key=first.fact_key, source=f"{path.name}:2")  # type: ignore[attr-defined]


def test_a_csv_row_at_the_not_available_position_is_skipped_and_counted() -> None:
    """A maritime review: DMA exports write AIS's "not available" position as 91, 181; each such
    row was quarantined as outside WGS 84, where NMEA skips and counts it."""
    path = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    header, first, *_ = path.read_text().splitlines()
    cells = first.split(",")
    lat, lon = (header.split(",").index(c) for c in ("Latitude", "Longitude"))
    unknown = [*cells[:lat], "91.000000", *cells[lat + 1:lon], "181.000000", *cells[lon + 1:]]
    only_lat = [*cells[:lat], "91.000000", *cells[lat + 1:]]
    stats = AisStats()
    records = list(read_ais_csv("\n".join([header, ",".join(unknown), ",".join(only_lat), first]).encode(),
                                _layout(path), "dma.csv", stats))
    assert kinds(records) == {"VesselPosition": 1} and records[0].source == "dma.csv:4"  # type: ignore[attr-defined]
    assert stats == {"position not available": 2}


def test_ais_not_available_motion_values_are_none_in_nmea_and_csv_alike() -> None:
    """A maritime review: a long-range message 27's speed 63 ("not available"; its speed is 0-62
    kn) was stored as 63 knots; a decoded export's heading 511, speed 102.3 and course 360 (AIS's
    "not available") each drew an "implausible-value" flag, where NMEA reads them as not given."""
    from pyais.encode import encode_dict

    lines = [m.encode() for speed in (63, 12) for m in encode_dict(
        {"type": 27, "mmsi": 244000072, "lat": 51.0, "lon": 3.0, "speed": speed, "course": 511}, sentence_type="VDM")]
    assert [r.speed_knots for r in read_nmea(lines, "t27.nmea")] == [None, 12.0]  # type: ignore[union-attr]
    path = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    header, first, *_ = path.read_text().splitlines()
    columns = header.split(",")
    cells = first.split(",")
    for column, value in (("SOG", "102.3"), ("COG", "360"), ("Heading", "511"), ("Heading", "400")):
        row = list(cells)
        row[columns.index(column)] = value
        [pos] = list(read_ais_csv("\n".join([header, ",".join(row)]).encode(), _layout(path), "dma.csv"))
        assert isinstance(pos, VesselPosition)
        assert (pos.speed_knots if column == "SOG" else pos.course_deg if column == "COG" else pos.heading_deg) is None
        assert [f.code for f in pos.flags if f.code == "implausible-value"] == (
            ["implausible-value"] if value == "400" else [])  # 400 is no AIS value: flagged


def test_one_report_heard_by_two_receivers_is_one_position() -> None:
    """A maritime review: a second receiver's copy, stamped a second later, was stored as a
    position of its own (and moved the start of a 12-hour silence under the threshold)."""
    from functools import reduce

    from pyais.encode import encode_dict

    [payload] = encode_dict({"type": 1, "mmsi": 244000001, "lat": 51.0, "lon": 3.0, "second": 12},
                            sentence_type="VDM")

    def heard(receiver: str, at: int) -> bytes:
        tag = f"s:{receiver},c:{at}"
        check = reduce(lambda a, c: a ^ ord(c), tag, 0)
        return f"\\{tag}*{check:02X}\\{payload}".encode()
    start = int(datetime(2026, 11, 16, 18, tzinfo=UTC).timestamp())
    stats = AisStats()
    records = list(read_nmea([heard("rcvA", start), heard("rcvB", start + 1), heard("rcvB", start + 90)], "two.nmea",
                             stats))
    assert [(r.source, r.observed_at.second) for r in records] == [  # type: ignore[union-attr]
        ("two.nmea:1", 0), ("two.nmea:3", 30)]  # 90 s later: another report
    assert stats == {"positions": 2, "heard again (another receiver)": 1}


def test_navigational_status_in_the_itu_s_words() -> None:
    """A maritime review: status 14 read "A i s s a r t active" (words made of pyais's enum name)."""
    from pyais.encode import encode_dict

    lines = [m.encode() for status in (0, 9, 12, 14) for m in encode_dict(
        {"type": 1, "mmsi": 244000072, "lat": 51.0, "lon": 3.0, "status": status}, sentence_type="VDM")]
    assert [r.nav_status for r in read_nmea(lines, "sart.nmea")] == [  # type: ignore[union-attr]
        "Under way using engine", "Reserved for HSC", "Power-driven vessel pushing ahead or towing alongside",
        "AIS-SART active"]


def test_vesselsvalue_layout_with_bom() -> None:
    path = AIS / "evergiven-suez-2021-boat-positions-EXCERPT-ids1-25.csv"
    layout = _layout(path)
    assert layout is not None and layout.name == "vesselsvalue-positions"
    records = list(read_ais_csv(path.read_bytes(), layout, path.name))
    assert len(records) == 1654
    first = records[0]
    assert isinstance(first, VesselPosition)
    assert (first.vessel_id, first.mmsi, first.observed_at, first.latitude, first.longitude) == (
        "vesselsvalue-positions:1", "", datetime(2021, 3, 20, 0, 22, tzinfo=UTC), 31.4386, 32.32925)
    assert len({r.fact_key for r in records}) == 1625  # 29 rows of the export repeat a fact


def test_a_csv_position_0_0_is_kept_and_flagged_no_fix() -> None:
    path = AIS / "evergiven-suez-2021-boat-positions-EXCERPT-ids1-25.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    data = "\n".join([lines[0], "1,20/03/2021 01:00,0,0", "1,20/03/2021 02:00,0,0.001"])
    records = list(read_ais_csv(data.encode(), _layout(path), "v.csv"))
    assert [[f.code for f in r.flags] for r in records] == [["no-fix"], []]  # type: ignore[attr-defined]


def test_bad_csv_row_is_rejected_alone() -> None:
    path = AIS / "evergiven-suez-2021-boat-positions-EXCERPT-ids1-25.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    data = "\n".join([lines[0], lines[1], "1,31/02/2021 01:00,32.1,31.2", "1,20/03/2021 02:00,32.1,95.0", lines[2]])
    layout = _layout(path)
    records = list(read_ais_csv(data.encode(), layout, "v.csv"))
    assert [type(r).__name__ for r in records] == ["VesselPosition", "Rejection", "Rejection", "VesselPosition"]
    assert records[1].where == "v.csv:3" and "day is out of range" in records[1].why  # type: ignore[attr-defined]
    assert "outside WGS 84" in records[2].why  # type: ignore[attr-defined]


def test_a_csv_row_with_a_cell_too_many_or_too_few_is_rejected_not_shifted() -> None:
    """A reader review: a decimal comma (``31,4386``, ``11,61773``) made one cell two, and the row
    was stored with every later cell in the wrong column: latitude 31 (48 km off), the speed taken
    from the rate of turn, the heading read as an IMO number; no flag. Such a row, and one a
    cell short, is quarantined with its line; the other rows are kept."""
    path = AIS / "evergiven-suez-2021-boat-positions-EXCERPT-ids1-25.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    data = "\n".join([lines[0], "1,20/03/2021 00:22,32.32925,31,4386", "1,20/03/2021 00:40,32.3", lines[2]])
    records = list(read_ais_csv(data.encode(), _layout(path), "v.csv"))
    assert [(type(r).__name__, getattr(r, "where", None) or r.source, getattr(r, "why", ""))  # type: ignore[attr-defined]
            for r in records] == [("Rejection", "v.csv:2", "row has 5 cells, header has 4"),
                                  ("Rejection", "v.csv:3", "row has 3 cells, header has 4"),
                                  ("VesselPosition", "v.csv:4", "")]
    assert records[0].raw == "1,20/03/2021 00:22,32.32925,31,4386"  # type: ignore[attr-defined]
    # a delimiter ending the line shifts nothing, and a line of spaces holds no row (regression review)
    data = "\n".join([lines[0], "1,20/03/2021 00:22,32.32925,31.4386,", "   ", lines[2]])
    assert [type(r).__name__ for r in read_ais_csv(data.encode(), _layout(path), "v.csv")] == ["VesselPosition"] * 2
    dma = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    rows = dma.read_text().splitlines()
    rows[4] = rows[4].replace(",11.61773,", ",11,61773,")
    records = list(read_ais_csv("\n".join(rows).encode(), _layout(dma), dma.name))
    assert kinds(records) == {"VesselPosition": 9, "Rejection": 1}
    assert [(r.where, r.why) for r in records if isinstance(r, Rejection)] == [  # type: ignore[attr-defined]
        (f"{dma.name}:5", "row has 24 cells, header has 23")]


def test_a_quarantined_csv_row_keeps_its_delimiter_and_quotes_as_in_the_file() -> None:
    """A regression review: a quarantined row was re-joined with commas, so a semicolon layout's
    row, or one with a quoted cell, could not be corrected and sent again as it was. The
    quarantine keeps the row's own text."""
    dma = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    rows = list(csv.reader(dma.read_text().splitlines()))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows(rows)
    lines = buf.getvalue().splitlines()
    lines[4] = lines[4].replace(";11.61773;", ";11;61773;")  # a cell too many
    lines[5] = lines[5].replace(";Class A;", ';"Class; A";', 1).replace(";57.", ";x57.", 1)  # not a number
    layout = _layout(dma).model_copy(update={"delimiter": ";"})
    rejected = [r for r in read_ais_csv("\n".join(lines).encode(), layout, dma.name) if isinstance(r, Rejection)]
    assert [(r.where, r.raw) for r in rejected] == [(f"{dma.name}:5", lines[4]), (f"{dma.name}:6", lines[5])]
    assert '"Class; A"' in rejected[1].raw and "not a number" in rejected[1].why


def test_a_nan_or_infinite_course_or_heading_is_flagged_and_the_position_kept() -> None:
    """A reader review: course "nan" or heading "inf" rejected the whole row, losing a good
    position, where a speed of 1e9 was flagged and not used, as the README says of motion values."""
    dma = AIS / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv"
    rows = dma.read_text().splitlines()
    rows[1] = rows[1].replace(",15.7,61.4,63.0,", ",15.7,nan,inf,")
    first = next(iter(read_ais_csv("\n".join(rows).encode(), _layout(dma), dma.name)))
    assert isinstance(first, VesselPosition)
    assert (first.latitude, first.longitude, first.speed_knots, first.course_deg, first.heading_deg) == (
        57.602225, 11.644943, 15.7, None, None)
    assert [(f.field, f.code, f.why) for f in first.flags] == [
        ("COG", "implausible-value", "COG nan is outside 0-359.99; not used"),
        ("Heading", "implausible-value", "Heading inf is outside 0-359.99; not used")]


def test_a_csv_line_not_in_utf8_is_rejected_alone() -> None:
    """An ingest review's Latin-1 export: the vessel name ÅLBORG STAR was stored as \ufffdLBORG
    STAR, no flag, no rejection (the declarations reader rejects such a line)."""
    from scheldt.ingest.ais import layout_or_error

    header = "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,SOG,COG,Heading,IMO,Callsign,Name"
    rows = ["08/02/2026 00:00:00,Class A,219000001,51.30,4.30,Under way using engine,0.0,15.7,61.4,IMO9074729,OXAB,"
            "\u00c5LBORG STAR", "08/02/2026 00:10:00,Class A,219000001,51.31,4.31,Under way using engine,0.1,15.7,"
            "61.4,IMO9074729,OXAB,ALBORG STAR"]
    data = "\n".join([header, *rows]).encode("latin-1")
    out = list(read_ais_csv(data, layout_or_error("dma-aisdk"), "ais.csv"))
    assert [type(r).__name__ for r in out] == ["Rejection", "VesselPosition", "VesselSighting"]
    assert out[0].where == "ais.csv:2" and out[0].why.startswith("line 2 is not UTF-8 (byte 0xc5 at position 103)")
    assert out[2].vessel.name == "ALBORG STAR"  # type: ignore[attr-defined]
    head = list(read_ais_csv("\u00c5".encode("latin-1") + data, layout_or_error("dma-aisdk"), "h.csv"))
    assert [(r.where, r.field) for r in head] == [("h.csv:1", "header")]  # type: ignore[attr-defined]


def test_checksums_are_checked() -> None:
    good = b"!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23"
    bad = good[:-2] + b"ZZ"
    missing = b"!AIVDM,1,1,,B,15N4cJ005Jrek0H@9nDW5608EP,013"  # as in the AISHub sample
    stats = AisStats()
    records = list(read_nmea([good, bad, missing], "c.nmea", stats))
    assert [type(r).__name__ for r in records] == ["VesselPosition", "Rejection", "VesselPosition"]
    assert records[1].why == "NMEA checksum does not match the sentence"  # type: ignore[attr-defined]
    assert "no-checksum" in [f.code for f in records[2].flags]  # type: ignore[attr-defined]
    assert stats["checksum mismatch"] == 1


def test_every_part_of_a_multi_part_message_is_checked() -> None:
    """A feeds review: a type 5 message's second part altered by one character (its checksum
    kept) was accepted, and the vessel got another name; only the first part was checked."""
    first = b"!AIVDM,2,1,7,B,53`l7@02>?0e0C7;?@0H,0*42"
    altered = b"!AIVDM,2,2,7,B,DDA>11E=@000000000160000000000000000000000000000000,2*21"
    records = list(read_nmea([first, altered], "m.nmea"))
    assert [(r.where, r.field, r.why) for r in records] == [  # type: ignore[union-attr]
        ("m.nmea:2", "checksum", "NMEA checksum does not match the sentence on line 2 of the multi-part message")]
    fixed = altered[:-2] + b"%02X" % _xor(altered)
    [sighting] = list(read_nmea([first, fixed], "m.nmea"))
    assert sighting.vessel.name == "FEEDS PUST"  # type: ignore[union-attr]


def _xor(sentence: bytes) -> int:
    value = 0
    for byte in sentence[1:sentence.index(b"*")]:
        value ^= byte
    return value


def test_a_decoded_csv_says_who_each_vessel_is_once() -> None:
    """A linking review: the DMA layout maps IMO, call sign and name, but a decoded CSV gave
    positions only, so a vessel known here only from such a file never got its AIS track on its
    trips (tracks are found IMO → MMSI through sightings)."""
    from scheldt.ingest.ais import layout_or_error

    header = "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,SOG,COG,Heading,IMO,Callsign,Name"
    rows = ["10/02/2026 06:00:00,Class A,211000001,51.30,4.30,Under way using engine,12.0,90.0,91,9321483,NCVV,MSC X",
            "10/02/2026 06:10:00,Class A,211000001,51.31,4.31,Under way using engine,11.0,90.0,91,9321483,NCVV,MSC X",
            "10/02/2026 06:10:00,Class A,265177000,57.60,11.64,At anchor,0.2,162.7,227,Unknown,,"]
    out = list(read_ais_csv("\n".join([header, *rows]).encode(), layout_or_error("dma-aisdk"), "ais.csv"))
    assert [type(r).__name__ for r in out] == ["VesselPosition", "VesselSighting", "VesselPosition", "VesselPosition"]
    [seen] = [r for r in out if isinstance(r, VesselSighting)]
    assert (seen.mmsi, seen.vessel.imo, seen.vessel.call_sign, seen.vessel.name, seen.source) == (
        "211000001", "9321483", "NCVV", "MSC X", "ais.csv:2")
