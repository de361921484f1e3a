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


def test_csv_rows_are_named_by_the_line_they_begin_on_and_a_quote_never_closed_is_refused() -> None:
    """A screening review: after a quoted address over three lines, rejections named the wrong
    lines; a stray quote made the rest of the file one cell of its row, and the entries after
    it were dropped without a word."""
    data = ('id,name,address,country\n'
            'D1,Frutas SA,"Av. 9 de Octubre 100\nPiso 3\nGuayaquil",EC\n'
            'D2,Zaba BV,,NL\n'
            'D3,,,NL\n'
            'D4,"Half"quoted BV,,NL\n'
            'D5,Nado NV,,"BE\n'
            'D6,Lama GmbH,,DE\n'
            'D7,Mumute BV,,NL\n').encode()
    records = list(read_watchlist_csv(data, "w.csv", "l"))
    assert [(r.entry_id, r.source) for r in records if isinstance(r, WatchlistEntry)] == [("D1", "w.csv:2"),
                                                                                         ("D2", "w.csv:5")]
    assert [(r.where, r.why) for r in records if isinstance(r, Rejection)] == [
        ("w.csv:6", "empty name"), ("w.csv:7", "not readable CSV: ',' expected after '\"'"),
        ("w.csv:8", "a quote opened in this row is never closed: the rest of the file (lines 8-10) would be one "
                    "cell; none of it is loaded (close the quote)")]


def test_ftm_values_as_strings_wrong_types_duplicates_and_deep_nesting() -> None:
    data = b"\n".join([
        b'{"id": "a", "schema": "Company", "properties": {"name": "ACME Holdings", "country": "be"}}',
        b'{"id": "b", "schema": "Company", "properties": {"name": 5}}',
        b'{"id": "a", "schema": "Company", "properties": {"name": ["ACME Again"]}}',
        b'{"id": "' + b"x" * 200 + b'", "schema": "Company", "properties": {"name": ["Long Id"]}}',
        b"[" * 100_000,
    ])
    records = list(read_ftm(data, "f.json", "l"))
    [entry] = [r for r in records if isinstance(r, WatchlistEntry)]
    assert (entry.name, entry.aliases, entry.country) == ("ACME Holdings", (), "BE")
    assert [(r.where, r.field) for r in records if isinstance(r, Rejection)] == [
        ("f.json:5", ""), ("f.json:2", "properties.name"), ("f.json:3", "id"), ("f.json:4", "id")]
    assert "already given at f.json:1" in records[-2].why  # type: ignore[union-attr]


def test_csv_duplicate_ids_long_ids_and_oversized_fields_are_rejected_not_lost() -> None:
    data = ("id,name\n7,First Co\n7,Second Co\n" + "y" * 200 + ",Long Id Co\n8,\"" + "z" * 200_000 + "\"\n9,Last Co\n").encode()
    records = list(read_watchlist_csv(data, "w.csv", "l"))
    kept = [r.name for r in records if isinstance(r, WatchlistEntry)]
    rejected = [(r.where, r.why[:40]) for r in records if isinstance(r, Rejection)]
    assert kept == ["First Co", "Last Co"]
    assert rejected[0] == ("w.csv:3", "entry 7 already given at w.csv:2; the fi")
    assert [w for w, _ in rejected] == ["w.csv:3", "w.csv:4", "w.csv:5"]


def test_ftm_entities_written_over_several_lines_are_read_as_entities() -> None:
    """A pretty-printed FtM export gave one error per line (215 for a small file; new-user
    review): entities are read one after another whatever their layout, each named by the line
    it begins on; one that cannot be read is one rejection and reading goes on."""
    import json

    lines = [line for line in (DATA / "watchlist-ftm.json").read_text().splitlines()[:2]]
    pretty = "\n".join(json.dumps(json.loads(line), indent=2, ensure_ascii=False) for line in lines)
    data = (pretty + '\n{"id": "broken", \n' + json.dumps(json.loads(lines[0]) | {"id": "t-company-2"}, indent=1)).encode()
    records = list(read_ftm(data, "p.json", "test list"))
    entries = [r for r in records if isinstance(r, WatchlistEntry)]
    assert [(e.entry_id, e.name, e.source) for e in entries] == [
        ("t-company-1", "DCSA CTK Holding", "p.json:1"), ("t-person-1", "Ivan Petrovich Sidorov", "p.json:19"),
        ("t-company-2", "DCSA CTK Holding", "p.json:32")]
    [bad] = [r for r in records if isinstance(r, Rejection)]
    assert bad.where == "p.json:31" and bad.why.startswith("not a JSON entity: ")


def test_csv_kinds_a_list_cannot_carry_and_columns_given_twice_are_refused() -> None:
    """An analyst review: a row of kind "container" was stored and never matched, a misspelt
    kind was taken without a word, and of two "name" columns the first was lost."""
    data = b"id,name,kind\nC1,CMAU2212913,container\nP1,Ivan Sidorov,Person\nX1,Typo Co,compnay\nE1,Empty Kind Co,\n"
    records = list(read_watchlist_csv(data, "w.csv", "l"))
    assert [(r.entry_id, r.kind) for r in records if isinstance(r, WatchlistEntry)] == [("P1", "person"),
                                                                                       ("E1", "company")]
    rejected = [(r.where, r.field, r.why) for r in records if isinstance(r, Rejection)]
    assert [(w, f) for w, f, _ in rejected] == [("w.csv:2", "kind"), ("w.csv:4", "kind")]
    assert rejected[0][2] == ("'container' is not a kind a list file carries (company, person, vessel, address); "
                              "containers, seal ranges and routes are matched as watchlist entries shared through "
                              "the exchange")
    [twice] = list(read_watchlist_csv(b"id,name,name\n1,First Name Co,Other\n", "d.csv", "l"))
    assert isinstance(twice, Rejection) and (twice.where, twice.field) == ("d.csv:1", "name")
    assert twice.why == "column 'name' is given 2 times in the header: which one holds it?"


def test_ftm_address_entities_are_named_by_their_full_text_or_parts() -> None:
    """A targeting review: FtM Address entities carry no ``name`` (``full``, ``street``,
    ``postalCode``, ``city`` in the FtM schema) and every one was refused, so a list holding one
    never lost a delisted entry."""
    lines = [b'{"id": "a-1", "schema": "Address", "properties": {"full": ["Rue de la Loi 16, 1000 Bruxelles"]}}',
             b'{"id": "a-2", "schema": "Address", "properties": {"street": ["Kaiserstrasse 12"], '
             b'"postalCode": ["60311"], "city": ["Frankfurt"], "country": ["de"]}}',
             b'{"id": "a-3", "schema": "Address", "properties": {"country": ["de"]}}']
    records = list(read_ftm(b"\n".join(lines), "a.json", "addresses", Counter()))
    assert [(r.entry_id, r.kind, r.name) for r in records if isinstance(r, WatchlistEntry)] == [
        ("a-1", "address", "Rue de la Loi 16, 1000 Bruxelles"), ("a-2", "address", "Kaiserstrasse 12 60311 Frankfurt")]
    [refused] = [r for r in records if isinstance(r, Rejection)]
    assert (refused.where, refused.why) == ("a.json:3", "Address entity without a name")
