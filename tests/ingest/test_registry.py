"""Format detection: which reader a file goes to."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheldt.errors import InputError
from scheldt.ingest.dcsa_events import read_dcsa_events
from scheldt.ingest.registry import detect
from tests.conftest import SHARED


def test_events_page_whose_events_are_all_broken_is_still_read_as_events(tmp_path: Path) -> None:
    # every event lacks its eventType: the page must go to the event reader, which says so per
    # event, not to the transport-document reader (which would call the whole file unreadable)
    page = tmp_path / "page.json"
    page.write_bytes(b'\xef\xbb\xbf {"events": [{"eventID": "a"}, {"eventID": "b"}]}')
    assert detect(page).format == "dcsa-events"
    rejections = list(read_dcsa_events(page.read_bytes(), "page.json"))
    assert [r.where for r in rejections] == ["page.json$.events[0]", "page.json$.events[1]"]  # type: ignore[union-attr]
    assert all("not a DCSA event" in r.why for r in rejections)  # type: ignore[union-attr]


def test_real_samples_go_to_their_readers() -> None:
    fixtures = SHARED / "fixtures"
    assert detect(fixtures / "dcsa-tnt" / "tnt-v3.0-notification-equipment-load.json").format == "dcsa-events"
    assert detect(fixtures / "ais" / "nmea-aivdm-aishub-sample.ais").format == "ais-nmea"
    assert detect(fixtures / "ais" / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv").format == "ais-csv"
    edi = next((fixtures / "edifact").glob("BAPLIE*"))
    assert detect(edi).format == "edifact"


@pytest.mark.parametrize(("content", "why"), [
    # a carrier review: each was told to write a declaration mapping
    (b"\xff\xfe{\x00}\x00", "the file is in UTF-16: Scheldt reads JSON, CSV and NMEA in UTF-8 (EDIFACT in its own "
                            "character sets); save it as UTF-8"),
    (b"{\x00\"\x00", "the file is in an encoding with NUL bytes (UTF-16 or UTF-32?): Scheldt reads JSON, CSV and "
                     "NMEA in UTF-8 (EDIFACT in its own character sets); save it as UTF-8"),
    (b"  \n\t\n", "the file holds only blank space"),
    (b'"hello"\n', "the file is a single JSON value (text, a number, true, false or null), not a JSON object or "
                   "list of DCSA events or documents"),
    (b"null", "the file is a single JSON value (text, a number, true, false or null), not a JSON object or list of "
              "DCSA events or documents"),
    (b'"MRN","Date"\n"1","2"\n', "format not recognised: not JSON, UN/EDIFACT (UNA, UNB or UNH), AIS NMEA (!AIVDM) "
                                 "or a known AIS CSV layout, and the header matches no built-in declaration mapping"),
])
def test_a_file_of_no_known_format_is_told_what_it_is(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        detect(path)
    assert caught.value.where == f"{path}:1" and caught.value.why.startswith(why)


def test_a_file_in_utf_16_is_told_so_whatever_is_to_read_it(tmp_path: Path) -> None:
    """A feeds review: a declaration file in UTF-16 (Excel's "Unicode text") read through
    ``--mapping`` said "new-line character seen in unquoted field - do you need to open the file
    in universal-newline mode?"."""
    path = tmp_path / "broker.csv"
    path.write_bytes("MRN;Date\r\n1;2\r\n".encode("utf-16"))
    for how in ({"mapping": "kcs-synthetic"}, {"format": "edifact"}):
        with pytest.raises(InputError) as caught:
            detect(path, **how)  # type: ignore[arg-type]
        assert (caught.value.where, caught.value.why) == (f"{path}:1", "the file is in UTF-16: Scheldt reads JSON, CSV "
                                                          "and NMEA in UTF-8 (EDIFACT in its own character sets); save "
                                                          "it as UTF-8")


def test_a_capture_padded_with_a_few_nul_bytes_is_read_as_asked(tmp_path: Path) -> None:
    """A regression review: an AIS capture starting with NUL padding was refused as UTF-16 even
    with ``--format ais-nmea``."""
    path = tmp_path / "nul.nmea"
    path.write_bytes(b"\x00\x00\x00\n" + (SHARED / "fixtures" / "ais" / "nmea-aivdm-aishub-sample.ais").read_bytes())
    assert detect(path, "ais-nmea").format == "ais-nmea" and detect(path).format == "ais-nmea"


def test_a_page_whose_events_is_not_a_list_says_so(tmp_path: Path) -> None:
    """{"events": {...}} was read as a page with nothing in it ("no records in it")."""
    page = tmp_path / "page.json"
    page.write_bytes(b'{"events": {"eventID": "a"}}')
    assert detect(page).format == "dcsa-events"
    [rejection] = list(read_dcsa_events(page.read_bytes(), "page.json"))
    assert (rejection.where, rejection.field, rejection.why) == (  # type: ignore[union-attr]
        "page.json$.events", "events", "events holds an object, not a list of events")


def test_a_file_given_as_ais_csv_that_fits_no_layout_names_the_missing_columns(tmp_path: Path) -> None:
    """An ingest review: the real DMA CSV without its Latitude column, given ``--format
    ais-csv``, was "format not recognised: not JSON, UN/EDIFACT...", naming nothing it lacked."""
    real = (SHARED / "fixtures" / "ais" / "dma-aisdk-2018-02-08-gothenburg-10rows-with-index-col.csv").read_text()
    header, *rows = real.splitlines()
    columns = header.split(",")
    drop = columns.index("Latitude")
    cut = tmp_path / "no-latitude.csv"
    cut.write_text("\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != drop)
                             for line in [header, *rows]) + "\n")
    with pytest.raises(InputError) as caught:
        detect(cut, "ais-csv")
    assert caught.value.where == f"{cut}:1"
    assert caught.value.why.startswith("not a known AIS CSV layout: the header lacks 'Latitude' of the dma-aisdk "
                                       "layout")
