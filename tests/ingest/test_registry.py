"""Format detection: which reader a file goes to."""

from __future__ import annotations

from pathlib import Path

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
