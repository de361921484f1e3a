"""The declaration reader on real rows of the KCS synthetic dataset."""

from __future__ import annotations

import io
import pathlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.declarations import Declaration, InspectionOutcome, Party, PartyRole
from scheldt.errors import ConfigError
from scheldt.ingest.base import Rejection, _split_pieces
from scheldt.ingest.declarations import read_declarations
from scheldt.ingest.mapping import load_mapping
from tests.conftest import KCS_TRAIN, kcs_lines

KCS = load_mapping("kcs-synthetic")
HEADER = kcs_lines(KCS_TRAIN, 0)[0]
# Line 2 of df_syn_train_eng.csv, verbatim.
FIRST_ROW = "97061800,2020-01-01,30,B,11,21,11,10,ZZR1LT6,QLRUBN9,0VKY2BR,,440890,BE,BE,0.0,FEU1,G,108.0,372254.4,0,0\n"
# Line 866 of df_syn_train_eng.csv: origin ZZ (well-formed, not an ISO 3166 country).
ZZ_ROW = "15755706,2020-01-08,40,B,11,21,11,10,JLE5FET,TP4IJ45,ONKQE2Z,,840999,KR,ZZ,8.0,A,Y,5.0,97.5,0,0\n"


def read(lines: list[str], **kw: bool) -> list[tuple[str, object]]:
    return list(read_declarations(lines, KCS, "train.csv", **kw))


def test_first_row_maps_every_field() -> None:
    assert kcs_lines(KCS_TRAIN, 1)[1] == FIRST_ROW
    (w1, decl), (w2, outcome) = read([HEADER, FIRST_ROW])
    assert w1 == w2 == "train.csv:2"
    assert decl == Declaration(
        declaration_ref="97061800",
        filed_at=datetime(2020, 1, 1, tzinfo=UTC),
        hs_code="440890",
        origin_country="BE",
        departure_country="BE",
        net_mass_kg=108.0,
        value=372254.4,
        parties=(
            Party(PartyRole.DECLARANT, "ZZR1LT6"),
            Party(PartyRole.IMPORTER, "QLRUBN9"),
            Party(PartyRole.SELLER, "0VKY2BR"),
        ),
        office_code="30",
        process_type="B",
        import_type="11",
        import_use="21",
        payment_type="11",
        transport_mode="10",
        tax_rate_pct=0.0,
        tax_type="FEU1",
        origin_indicator="G",
    )
    assert decl.party(PartyRole.COURIER) is None
    # received the day after filing: the mapping's stated assumption for this dataset
    assert outcome == InspectionOutcome("97061800", False, False, datetime(2020, 1, 2, tzinfo=UTC))


def test_unknown_but_well_formed_country_is_kept_and_flagged() -> None:
    (_, decl), _ = read([HEADER, ZZ_ROW])
    assert isinstance(decl, Declaration)
    assert decl.origin_country == "ZZ"
    assert [(f.field, f.code) for f in decl.flags] == [("origin_country", "unknown-country")]
    assert "ZZ is not in the ISO 3166-1 reference list" in decl.flags[0].why


def test_hs_code_of_another_edition_is_flagged_not_rejected() -> None:
    # 940540 exists in HS 2017 but was split in HS 2022; the shipped list is HS 2022.
    row = FIRST_ROW.replace(",440890,", ",940540,")
    (_, decl), _ = read([HEADER, row])
    assert isinstance(decl, Declaration) and decl.hs_code == "940540"
    assert [f.code for f in decl.flags] == ["unknown-hs-code"]
    # UN Comtrade's aggregate "commodities not specified according to kind" is no HS subheading (a
    # declarations review's 999999 passed unflagged)
    (_, aggregate), _ = read([HEADER, FIRST_ROW.replace(",440890,", ",999999,")])
    assert [f.code for f in aggregate.flags] == ["unknown-hs-code"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ((",440890,", ",44089X,"), "hs_code", "HS code '44089X' is not 6, 8 or 10 digits"),
        ((",108.0,", ",-108.0,"), "net_mass_kg", "net mass -108 kg is negative"),
        ((",2020-01-01,", ",2020-13-01,"), "filed_at", "date '2020-13-01' does not match '%Y-%m-%d' or ISO 8601"),
        (("97061800,", ","), "declaration_ref", "required column 'Declaration ID' is empty"),
        ((",BE,BE,", ",BEL,BE,"), "departure_country", "country 'BEL' is not an ISO 3166-1 alpha-2 code (two letters)"),
        # a declarations review: these loaded without a flag, and 1e308 made every value-recall figure 0
        ((",2020-01-01,", ",0020-01-01,"), "filed_at", "filed 0020-01-01: outside 1970-2099"),
        ((",108.0,", ",1e300,"), "net_mass_kg", "'Net Mass' = '1e300' is beyond any real declaration (at most 1,000,000 t)"),
        ((",372254.4,", ",1e308,"), "value", "'Item Price' = '1e308' is beyond any real declaration (at most 10^15 in any "
                                             "currency)"),
        ((",0.0,FEU1,", ",1e6,FEU1,"), "tax_rate_pct", "'Tax Rate' = '1e6' is beyond any real declaration (a rate of at "
                                                       "most 1,000 %)"),
    ],
)
def test_bad_row_is_rejected_with_where_and_why_and_the_rest_loads(change: tuple[str, str], field: str, why: str) -> None:
    bad = FIRST_ROW.replace(*change, 1)
    records = read([HEADER, ZZ_ROW, bad, kcs_lines(KCS_TRAIN, 3)[3]])
    rejections = [r for _, r in records if isinstance(r, Rejection)]
    assert rejections == [Rejection("train.csv:3", field, why, bad.rstrip("\n"))]
    kept = [r.declaration_ref for _, r in records if isinstance(r, Declaration)]
    assert kept == ["15755706", "77854751"]


def test_contradictory_outcome_loses_only_the_outcome() -> None:
    row = FIRST_ROW.replace(",0,0\n", ",0,2\n")
    (_, decl), (where, rej) = read([HEADER, row])
    assert isinstance(decl, Declaration)
    assert isinstance(rej, Rejection) and where == "train.csv:2"
    assert rej.field == "Critical Fraud"
    assert "contradict" in rej.why


def test_no_outcomes_ignores_outcome_columns() -> None:
    records = read([HEADER, FIRST_ROW], outcomes=False)
    assert [type(r).__name__ for _, r in records] == ["Declaration"]


def test_missing_column_rejects_the_header_once() -> None:
    header = HEADER.replace("HS6 Code", "HS Code")
    records = read([header, FIRST_ROW])
    assert len(records) == 1
    assert records[0][1].where == "train.csv:1"  # type: ignore[attr-defined]
    assert "'HS6 Code'" in records[0][1].why  # type: ignore[attr-defined]


def test_short_row_is_rejected() -> None:
    records = read([HEADER, "97061800,2020-01-01\n", ZZ_ROW.rstrip("\n") + ",extra\n"])
    assert records[0][1] == Rejection("train.csv:2", "", "row has 2 cells, header has 22", "97061800,2020-01-01")
    assert records[1][1].why == "row has 23 cells, header has 22"  # type: ignore[attr-defined]


def test_yaml_mapping_for_another_layout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    mapping = tmp_path / "broker.yaml"
    mapping.write_text(
        "name: broker-export\ndelimiter: ';'\ndate_format: '%d/%m/%Y'\nfields:\n"
        "  declaration_ref: MRN\n  filed_at: Accepted\n  hs_code: Commodity\n"
        "  origin_country: Origin\n  departure_country: Dispatch\n  net_mass_kg: NetKg\n"
        "  value: Value\n  importer_id: EORI\n"
    )
    m = load_mapping(str(mapping))
    lines = ["MRN;Accepted;Commodity;Origin;Dispatch;NetKg;Value;EORI\n",
             "21BE0001;03/02/2021;0803.90;ec;EC;18000;21000;BE0123456789\n"]
    [(_, decl)] = list(read_declarations(lines, m, "broker.csv"))
    assert isinstance(decl, Declaration)
    assert (decl.hs_code, decl.origin_country, decl.filed_at.day, decl.filed_at.month) == ("080390", "EC", 3, 2)
    assert decl.party(PartyRole.IMPORTER) == Party(PartyRole.IMPORTER, "BE0123456789")


def test_invalid_yaml_mapping_says_which_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfields:\n  declaration_ref: A\n  colour: B\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(str(bad))
    assert "colour" in err.value.why


def test_broken_csv_quoting_rejects_that_line_only() -> None:
    # a lone CR is a line end (classic Mac files; an ingest review): two short rows, each rejected
    records = read([HEADER, 'x\ry,2020\n', FIRST_ROW])
    assert [(where, r.why) for where, r in records[:2]] == [  # type: ignore[attr-defined]
        ("train.csv:2", "row has 1 cells, header has 22"), ("train.csv:3", "row has 2 cells, header has 22")]
    assert isinstance(records[2][1], Declaration)


@given(st.lists(st.tuples(st.binary(max_size=8).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
                          st.sampled_from([b"\r", b"\n", b"\r\n"])), max_size=20),
       st.binary(max_size=5).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")), st.integers(1, 7))
def test_a_binary_file_is_split_at_cr_lf_and_crlf_piece_by_piece(lines: list[tuple[bytes, bytes]], last: bytes,
                                                                    size: int) -> None:
    """Read in pieces (a CR-only file streams in bounded memory; a regression review found it held
    whole), the lines are those of the whole text: a CRLF across two pieces is one line end."""
    data = b"".join(text + end for text, end in lines) + last
    assert list(_split_pieces(io.BytesIO(data), size)) == data.splitlines(keepends=True)


# --- inputs found by attacking the CLI; each failing input is now a test -------------------


def test_a_line_that_is_not_utf8_is_rejected_alone() -> None:
    lines = [HEADER.encode(), FIRST_ROW.replace("BE,BE", "BE,BÉ").encode("latin-1"), ZZ_ROW.encode()]
    records = read([*lines])  # type: ignore[list-item]
    assert records[0][1] == Rejection("train.csv:2", "", "line 2 is not UTF-8 (byte 0xc9 at position 74): save the file as "
                                      "UTF-8 (a Latin-1 or Windows-1252 export?)",
                                      FIRST_ROW.replace("BE,BE", "BE,B\ufffd").rstrip("\n"))
    assert isinstance(records[1][1], Declaration)


def test_duplicate_column_header_is_rejected() -> None:
    header = HEADER.replace("Courier ID", "Net Mass")
    [(where, rej)] = read([header, FIRST_ROW])
    assert rej == Rejection("train.csv:1", "header", "column(s) ['Net Mass'] appear more than once")


def test_impossible_date_says_so() -> None:
    [(_, rej)] = read([HEADER, FIRST_ROW.replace("2020-01-01", "2021-02-30")])
    assert rej.why == "date '2021-02-30' is not a real date (day is out of range for month)"  # type: ignore[attr-defined]


def test_overlong_reference_is_rejected_and_future_filing_flagged() -> None:
    [(_, rej)] = read([HEADER, FIRST_ROW.replace("97061800", "9" * 500)])[:1]
    assert rej.why == "declaration_ref is 500 characters long, at most 64 are accepted"  # type: ignore[attr-defined]
    future = FIRST_ROW.replace("2020-01-01", "2099-01-01")
    records = list(read_declarations([HEADER, future], KCS, "f.csv", loaded_at=datetime(2026, 1, 1, tzinfo=UTC)))
    assert [f.code for f in records[0][1].flags] == ["filed-in-future"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("delimiter: ''\n", "delimiter"),
        ("date_format: '%Q-%Z'\n", "date_format"),
        ("outcomes: {fraud: {column: F, true_values: ['1'], false_values: ['1', '0']}}\n", "both true and false"),
        # a declarations review: value and net mass both read one column, and [yes] read as [true]
        ("fields: {declaration_ref: A, filed_at: B, hs_code: C, origin_country: D, departure_country: D, "
         "net_mass_kg: F, value: F}\n", "column 'D' is mapped to origin_country and departure_country"),
        ("outcomes: {fraud: {column: F, true_values: [yes], false_values: ['0']}}\n",
         "m.yaml: outcomes.fraud.true_values.0 Input should be a valid string (YAML reads yes/no/on/off/true/false "
         "unquoted as a boolean"),
    ],
)
def test_mapping_validation(tmp_path, yaml_text: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    base = "name: x\nfields: {declaration_ref: A, filed_at: B, hs_code: C, origin_country: D, " \
           "departure_country: E, net_mass_kg: F, value: G}\n"
    path = tmp_path / "m.yaml"
    path.write_text(base + yaml_text)
    with pytest.raises(ConfigError) as err:
        load_mapping(str(path))
    assert fragment in f"{err.value.where} {err.value.why}"


def test_a_mapping_with_a_decimal_comma_reads_european_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Semicolons and decimal commas (a declarations review: every row was "not a number")."""
    mapping = tmp_path / "be.yaml"
    mapping.write_text("name: be\ndelimiter: ';'\ndecimal: ','\ndate_format: '%d/%m/%Y'\nfields:\n"
                       "  declaration_ref: MRN\n  filed_at: Date\n  hs_code: HS\n  origin_country: Origin\n"
                       "  departure_country: Dispatch\n  net_mass_kg: NetKg\n  value: Value\n")
    lines = ["MRN;Date;HS;Origin;Dispatch;NetKg;Value\n", "21BE1;06/01/2020;080390;EC;EC;659,5;1200\n",
             "21BE2;06/01/2020;080390;EC;EC;1.659,5;1200\n"]
    records = [r for _, r in read_declarations(lines, load_mapping(str(mapping)), "be.csv")]
    assert isinstance(records[0], Declaration) and records[0].net_mass_kg == 659.5
    assert isinstance(records[1], Rejection)
    assert (records[1].where, records[1].field, records[1].why) == (
        "be.csv:3", "net_mass_kg", "'NetKg' = '1.659,5': with the decimal comma of this mapping, write numbers "
        "without a thousands separator")


def test_an_identifier_with_a_control_character_is_rejected() -> None:
    """An attack review quoted a declarant id with a newline (and one with a NUL): both made a
    party whose name held it."""
    newline = FIRST_ROW.replace("ZZR1LT6", '"ZZR1\nLT6"')
    nul = FIRST_ROW.replace("QLRUBN9", "QLRU\x00BN9")
    records = read([HEADER, newline, nul, FIRST_ROW.replace("97061800", "97061801")])
    rejected = [(r.field, r.why) for _, r in records if isinstance(r, Rejection)]
    assert rejected == [
        ("declarant_id", "declarant_id 'ZZR1\\nLT6' holds a control character ('\\n'); an identifier or code is "
                         "one line of printable text"),
        ("importer_id", "importer_id 'QLRU\\x00BN9' holds a control character ('\\x00'); an identifier or code is "
                        "one line of printable text")]
    assert sum(isinstance(r, Declaration) for _, r in records) == 1


def _file_lines(*rows: str) -> list[str]:
    """The lines of a file holding ``rows`` as a reader gets them (one per line break)."""
    return "".join(rows).splitlines(keepends=True)


def test_a_record_over_two_lines_is_located_by_both() -> None:
    # A quoted field with a line break (a spreadsheet cell with Alt+Enter): the record is
    # lines 2-3 of the file; it was reported at line 3 alone, the middle of the record.
    bad = FIRST_ROW.replace("2020-01-01", "2020-13-01").replace("ZZR1LT6", '"ZZR1\nLT6"')
    records = read(_file_lines(HEADER, "\n", bad, ZZ_ROW))
    assert [(where, type(r).__name__) for where, r in records] == [
        ("train.csv:3-4", "Rejection"), ("train.csv:5", "Declaration"), ("train.csv:5", "InspectionOutcome")]
    assert records[0][1].why == "date '2020-13-01' does not match '%Y-%m-%d' or ISO 8601"  # type: ignore[attr-defined]


def test_a_quarantined_row_is_kept_as_written_in_the_file() -> None:
    # a regression review: the quarantine re-wrote a rejected row with csv.writer, so its quotes
    # and spacing were not those of the file it came from; it keeps the file's text now
    bad = FIRST_ROW.replace("2020-01-01", "2020-13-01").replace("ZZR1LT6", '"ZZR1LT6"')
    records = read(_file_lines(HEADER, bad, ZZ_ROW))
    assert (records[0][0], records[0][1].raw) == ("train.csv:2", bad.rstrip("\n"))  # type: ignore[attr-defined]


def test_an_unclosed_quote_in_the_last_record_names_its_lines() -> None:
    # the line it swallows is no row of its own (2 cells): one record, as the CSV reader reads it
    records = read(_file_lines(HEADER, ZZ_ROW, FIRST_ROW.replace("ZZR1LT6", '"ZZR1'), "LT6,1\n"))
    assert records[-1] == ("train.csv:3-4", Rejection("train.csv:3-4", "", "row has 9 cells, header has 22",
                                                      records[-1][1].raw))  # type: ignore[attr-defined]
    assert [w for w, _ in records[:2]] == ["train.csv:2", "train.csv:2"]


def test_a_stray_quote_before_the_last_row_costs_its_line_and_names_the_quote() -> None:
    records = read(_file_lines(HEADER, ZZ_ROW, FIRST_ROW.replace("ZZR1LT6", '"ZZR1'), FIRST_ROW))
    assert [(w, type(r).__name__) for w, r in records] == [
        ("train.csv:2", "Declaration"), ("train.csv:2", "InspectionOutcome"),
        ("train.csv:3", "Rejection"), ("train.csv:4", "Declaration"), ("train.csv:4", "InspectionOutcome")]
    assert records[2][1].why == (  # type: ignore[attr-defined]
        "a quote opens a field on line 3 and does not close on it, so lines 3-4 read as one record "
        "(9 cells where the header has 22): line 3 is refused (remove or double the stray quote) "
        "and line 4 is read on its own")


def test_two_stray_quotes_in_one_column_cost_their_own_lines_only() -> None:
    """A regression review: a second stray quote in the same column, ten lines on, closed the
    field the first opened; the record between fitted the header and the ten rows in it were
    lost as one rejection (an exporter's fault repeats: every 1,000 rows, half a file)."""
    rows = [FIRST_ROW.replace("97061800", f"{i:08d}") for i in range(1, 13)]
    for i in (0, 10):
        rows[i] = rows[i].replace(",B,", ',"B,')
    records = read(_file_lines(HEADER, *rows))
    assert [w for w, r in records if isinstance(r, Rejection)] == ["train.csv:2", "train.csv:12"]
    assert sum(isinstance(r, Declaration) for _, r in records) == 10


def test_a_quoted_line_break_in_a_row_with_a_cell_too_many_is_one_rejection() -> None:
    """A regression review: an address over two lines, in a row with one cell too many, was
    refused as an unclosed quote, and its second line as a row of its own."""
    row = FIRST_ROW.replace("ZZR1LT6", '"ZZR1\nLT6"').rstrip("\n") + ",extra\n"
    records = read(_file_lines(HEADER, row))
    assert [(w, r.why) for w, r in records] == [  # type: ignore[attr-defined]
        ("train.csv:2-3", "row has 23 cells, header has 22")]


def test_a_stray_quote_costs_its_own_line_only() -> None:
    """An ingest review: a consignee cell opening with a quote it never closed ran every later
    line of the file into one field; the file's other declarations were lost as one rejection."""
    later = [FIRST_ROW.replace("97061800", f"9706180{i}") for i in range(1, 4)]
    records = read(_file_lines(HEADER, ZZ_ROW, FIRST_ROW.replace("ZZR1LT6", '"ZZR1LT6'), *later))
    rejected = [(w, r.why[:40]) for w, r in records if isinstance(r, Rejection)]
    assert rejected == [("train.csv:3", "a quote opens a field on line 3 and does")]
    read_refs = [(w, r.declaration_ref) for w, r in records if isinstance(r, Declaration)]
    assert read_refs == [("train.csv:2", "15755706"), ("train.csv:4", "97061801"),
                         ("train.csv:5", "97061802"), ("train.csv:6", "97061803")]


def test_a_stray_quote_running_past_the_field_size_limit_costs_its_own_line_only() -> None:
    # The CSV reader gives up on a field of more than 131,072 characters: the lines it had
    # swallowed by then were lost as one "unreadable CSV" rejection.
    later = [FIRST_ROW.replace("97061800", f"{i:08d}") for i in range(1, 2001)]
    records = read(_file_lines(HEADER, FIRST_ROW.replace("ZZR1LT6", '"ZZR1LT6'), *later))
    assert [w for w, r in records if isinstance(r, Rejection)] == ["train.csv:2"]
    assert sum(isinstance(r, Declaration) for _, r in records) == 2000


def test_a_second_stray_quote_within_the_swallowed_lines_is_split_again() -> None:
    later = [FIRST_ROW.replace("97061800", f"9706180{i}") for i in range(1, 5)]
    later[1] = later[1].replace("QLRUBN9", '"QLRUBN9')
    records = read(_file_lines(HEADER, FIRST_ROW.replace("ZZR1LT6", '"ZZR1LT6'), *later))
    assert [w for w, r in records if isinstance(r, Rejection)] == ["train.csv:2", "train.csv:4"]
    assert [w for w, r in records if isinstance(r, Declaration)] == ["train.csv:3", "train.csv:5", "train.csv:6"]


BROKER_MAPPING = ("name: broker\ndelimiter: ';'\ndecimal: ','\ndate_format: '%d/%m/%Y'\nfields:\n"
                  "  declaration_ref: MRN\n  filed_at: Accepted\n  hs_code: Commodity\n  origin_country: Origin\n"
                  "  departure_country: Dispatch\n  net_mass_kg: NetKg\n  value: Value\n"
                  "outcomes:\n  fraud: {column: Result, true_values: [irregular], false_values: [ok]}\n"
                  "  received_at: ResultDate\n")


def test_a_valid_description_over_two_lines_with_many_commas_stays_one_record(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A regression review: an eight-column file's description over two lines, the second
    listing eight fruits (as many commas as a row), was split as if a stray quote had swallowed
    a row: two misleading rejections for one valid declaration."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(BROKER_MAPPING.replace("delimiter: ';'", "delimiter: ','").replace("decimal: ','", "decimal: '.'"))
    lines = _file_lines("MRN,Accepted,Commodity,Origin,Dispatch,NetKg,Value,Goods,Result,ResultDate\n",
                        'BRK-1,05/04/2021,080390,EC,EC,659.5,1000,"Mixed fruit:\nbananas, mangoes, limes, kiwis, '
                        'figs, dates, plums, pears, apples",ok,06/04/2021\n')
    records = [(w, r) for w, r in read_declarations(lines, load_mapping(str(mapping)), "m.csv")]
    assert [(w, type(r).__name__) for w, r in records] == [("m.csv:2-3", "Declaration"),
                                                          ("m.csv:2-3", "InspectionOutcome")]


def test_an_outcome_received_outside_1970_2099_or_before_its_filing_is_rejected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An ingest review stored outcomes received in the years 1 and 9999 and two years before
    their declaration was filed (look-ahead for the first, a lost label for the second)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(BROKER_MAPPING)
    lines = ["MRN;Accepted;Commodity;Origin;Dispatch;NetKg;Value;Result;ResultDate\n",
             "BRK-1;05/04/2021;420231;CN;CN;659,5;1000;ok;01/01/0001\n",
             "BRK-2;05/04/2021;420231;CN;CN;10;1000;irregular;31/12/9999\n",
             "BRK-3;05/04/2021;420231;CN;CN;10;1000;irregular;01/01/2019\n",
             "BRK-4;05/04/2021;420231;CN;CN;10;1000;irregular;05/04/2021\n"]
    records = [r for _, r in read_declarations(lines, load_mapping(str(mapping)), "m.csv")]
    rejected = [(r.where, r.field, r.why) for r in records if isinstance(r, Rejection)]
    assert rejected == [
        ("m.csv:2", "ResultDate", "outcome not read: received 0001-01-01: outside 1970-2099"),
        ("m.csv:3", "ResultDate", "outcome not read: received 9999-12-31: outside 1970-2099"),
        ("m.csv:4", "ResultDate", "outcome not read: received 2019-01-01, before the declaration was filed "
                                  "(2021-04-05): an outcome comes after its declaration")]
    outcomes = [r for r in records if isinstance(r, InspectionOutcome)]
    assert [(o.declaration_ref, o.received_at) for o in outcomes] == [("BRK-4", datetime(2021, 4, 5, tzinfo=UTC))]
    # An outcome-only read of the same file knows the filing from its column too.
    alone = [r for _, r in read_declarations(lines, load_mapping(str(mapping)), "m.csv", declarations=False)]
    assert [r.field for r in alone if isinstance(r, Rejection)] == ["ResultDate"] * 3


@pytest.mark.parametrize("raw", ["1_000", "\u0661\u0662", "12 kg", "0x10", "1,0,0"])
def test_a_number_float_would_take_but_a_file_does_not_write_is_rejected(tmp_path, raw: str) -> None:  # type: ignore[no-untyped-def]
    """An ingest review's mass 1_000 was stored as 1,000 kg (Python's float() reads digit-grouping
    underscores, and digits of other scripts: Arabic-Indic 12 was stored as 12 kg)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(BROKER_MAPPING)
    lines = ["MRN;Accepted;Commodity;Origin;Dispatch;NetKg;Value;Result;ResultDate\n",
             f"BRK-1;05/04/2021;420231;CN;CN;{raw};1000;;\n", "BRK-2;05/04/2021;420231;CN;CN;1e3;1000;;\n"]
    records = [r for _, r in read_declarations(lines, load_mapping(str(mapping)), "m.csv")]
    assert isinstance(records[0], Rejection)
    assert (records[0].field, records[0].why) == ("net_mass_kg", f"'NetKg' = {raw!r} is not a number")
    assert isinstance(records[1], Declaration) and records[1].net_mass_kg == 1000.0  # spreadsheets write 1E+03


def test_a_mapping_value_its_tag_cannot_build_is_a_config_error(tmp_path: pathlib.Path) -> None:
    """A regression review: `name: !!int abc` in a mapping ended `scheldt ingest` in a traceback."""

    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: !!int abc\n")
    with pytest.raises(ConfigError, match="not valid YAML: a value its tag cannot make"):
        load_mapping(str(mapping))
