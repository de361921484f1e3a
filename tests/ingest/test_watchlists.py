"""Watchlist readers: CSV and FollowTheMoney entities.

tests/data/watchlist-ftm.json is written for these tests from the FtM format documentation
(https://followthemoney.tech): no sanctions list is among the shared fixtures.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from scheldt.ingest.base import Rejection
from scheldt.ingest.watchlists import read_ftm, read_watchlist_csv
from scheldt.risk.screening import WatchlistEntry

DATA = Path(__file__).resolve().parents[1] / "data"


def test_ftm_entities_kept_by_schema_with_aliases_and_bad_lines_rejected() -> None:
    skipped: Counter[str] = Counter()
    records = list(read_ftm((DATA / "watchlist-ftm.json").read_bytes(), "w.json", "test list", skipped))
    entries = [r for r in records if isinstance(r, WatchlistEntry)]
    rejections = [r for r in records if isinstance(r, Rejection)]
    assert [(e.entry_id, e.kind, e.name) for e in entries] == [
        ("t-company-1", "company", "DCSA CTK Holding"), ("t-person-1", "person", "Ivan Petrovich Sidorov"),
        ("t-vessel-1", "vessel", "MSC Example")]
    assert entries[0].aliases == ("D.C.S.A. C.T.K.",) and entries[0].country == "NL"
    assert entries[1].aliases == ("Иван Петрович Сидоров",) and entries[0].source == "w.json:1"
    assert [(r.where, r.field) for r in rejections] == [("w.json:5", ""), ("w.json:4", "properties.name")]
    assert "Organization entity without a name" in rejections[1].why
    assert skipped == {"schema Sanction": 1}


def test_csv_watchlist_with_and_without_ids() -> None:
    data = ("name,aliases,country,id\n"
            "Frutas del Sol S.A.,Frutas Sol SA;FDS,ec,ofac-1\n"
            ",,ec,x\n"
            "Only Name Ltd,,,\n"
            "Too,many,cells,here,now\n").encode()
    records = list(read_watchlist_csv(data, "w.csv", "csv list"))
    assert isinstance(records[0], WatchlistEntry) and records[0].aliases == ("Frutas Sol SA", "FDS")
    assert (records[0].entry_id, records[0].country, records[0].list_name) == ("ofac-1", "EC", "csv list")
    assert isinstance(records[1], Rejection) and (records[1].where, records[1].why) == ("w.csv:3", "empty name")
    assert isinstance(records[2], WatchlistEntry) and len(records[2].entry_id) == 16
    assert isinstance(records[3], Rejection) and records[3].why == "5 cells, the header has 4"
    [missing] = list(read_watchlist_csv(b"company,country\nX,Y\n", "n.csv", "l"))
    assert isinstance(missing, Rejection) and missing.where == "n.csv:1" and "no 'name' column" in missing.why
