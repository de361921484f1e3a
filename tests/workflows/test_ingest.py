"""Ingest into a real store (SQLite and PostgreSQL): counts, quarantine, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from scheldt.store.db import unit_of_work
from scheldt.store.models import DeclarationPartyRow, QuarantineRow
from scheldt.workflows.ingest import IngestOptions, ingest_file
from tests.conftest import KCS_TRAIN, SHARED, kcs_lines

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(lines), encoding="utf-8")
    return path


def ingest(engine: Engine, path: Path, **options: object) -> dict[str, object]:
    with unit_of_work(engine) as uow:
        return ingest_file(uow, path, IngestOptions(**options), NOW).as_dict()  # type: ignore[arg-type]


def counts(engine: Engine) -> dict[str, int]:
    with unit_of_work(engine) as uow:
        c = uow.declarations.counts()
        c["quarantine"] = uow.quarantine.count()
        c["parties"] = uow.session.scalar(select(func.count()).select_from(DeclarationPartyRow)) or 0
        return c


def test_reingest_of_a_reordered_copy_adds_nothing(engine: Engine, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 300)
    bad = lines[5].replace(",-", ",").replace(lines[5].split(",")[18], "-3.0", 1)
    first = write(tmp_path / "a.csv", [*lines, bad])
    report = ingest(engine, first)
    assert (report["accepted"], report["added"], report["rejected"]) == (300, 300, 1)
    assert report["outcomes"] == {"accepted": 300, "added": 300}
    before = counts(engine)
    assert before == {"declarations": 300, "outcomes": 300, "quarantine": 1,
                      "parties": 300 * 2 + sum(1 for ln in lines[1:] if ln.split(",")[10]) + sum(1 for ln in lines[1:] if ln.split(",")[11])}
    copy = write(tmp_path / "b.csv", [lines[0], bad, *reversed(lines[1:])])
    again = ingest(engine, copy)
    assert (again["accepted"], again["added"], again["rejected"]) == (300, 0, 1)
    assert again["outcomes"] == {"accepted": 300, "added": 0}
    assert counts(engine) == before


def test_a_file_with_classic_mac_or_mixed_line_ends_is_read_line_by_line(engine: Engine, tmp_path: Path) -> None:
    """An ingest review: a declarations file with CR line ends was "format not recognised", and one
    mixing CR, CRLF and LF lost every row as one "new-line character seen in unquoted field". Each
    is read line by line; the same rows re-sent with LF ends add nothing."""
    lines = [ln.rstrip("\n") for ln in kcs_lines(KCS_TRAIN, 6)]
    cr_only = tmp_path / "cr.csv"
    cr_only.write_bytes(("\r".join(lines[:4]) + "\r").encode())
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes((lines[0] + "\r\n" + lines[4] + "\r" + lines[5] + "\n" + lines[6] + "\r").encode())
    reports = [ingest(engine, path) for path in (cr_only, mixed, write(tmp_path / "lf.csv", kcs_lines(KCS_TRAIN, 6)))]
    assert [(r["accepted"], r["added"], r["rejected"]) for r in reports] == [(3, 3, 0), (3, 3, 0), (6, 0, 0)]


def test_rejections_are_quarantined_with_where_and_why(engine: Engine, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 3)
    broken = lines[2].replace(",2020-01-01,", ",01/01/2020,")
    path = write(tmp_path / "day.csv", [lines[0], lines[1], broken, lines[3]])
    report = ingest(engine, path)
    assert report["added"] == 2
    assert report["rejections"] == [{"where": f"{path}:3", "field": "filed_at",
                                     "why": "date '01/01/2020' does not match '%Y-%m-%d' or ISO 8601"}]
    with unit_of_work(engine) as uow:
        [row] = uow.session.scalars(select(QuarantineRow)).all()
        assert (row.source, row.field, row.raw) == (f"{path}:3", "filed_at", broken.rstrip("\n"))


def test_resent_declaration_with_other_facts_is_a_conflict(engine: Engine, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 2)
    ingest(engine, write(tmp_path / "a.csv", lines))
    changed = lines[1].replace(",108.0,", ",180.0,")
    report = ingest(engine, write(tmp_path / "b.csv", [lines[0], changed]))
    assert report["added"] == 0 and report["rejected"] == 1
    # a declarations review was told "amendments must be sent as such", which nothing let it do
    assert report["rejections"][0]["why"].endswith(  # type: ignore[index]
        "already received with different facts; Scheldt does not read amendments of declarations: the stored "
        "version is kept, and goes on being scored")


def test_outcomes_arrive_later_and_alone(engine: Engine, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 20)
    path = write(tmp_path / "decl.csv", lines)
    first = ingest(engine, path, outcomes=False)
    assert first["outcomes"] == {"accepted": 0, "added": 0}
    assert counts(engine)["outcomes"] == 0
    later = ingest(engine, path, outcomes_only=True)
    assert (later["accepted"], later["added"]) == (0, 0)
    assert later["outcomes"] == {"accepted": 20, "added": 20}
    with unit_of_work(engine) as uow:
        out = uow.declarations.outcomes_frame()
    assert out.height == 20
    # no received time in the file: the outcome counts as received when it was loaded
    assert set(out["received_at"].to_list()) == {NOW}
    unknown = write(tmp_path / "orphan.csv", [lines[0], lines[1].replace("97061800", "11111111")])
    orphan = ingest(engine, unknown, outcomes_only=True)
    assert orphan["rejections"][0]["why"] == (  # type: ignore[index]
        "outcome for declaration 11111111, which is not in the store: load the declaration first")


def test_declarations_frame_round_trip(engine: Engine, tmp_path: Path) -> None:
    lines = kcs_lines(KCS_TRAIN, 50)
    ingest(engine, write(tmp_path / "a.csv", lines))
    with unit_of_work(engine) as uow:
        frame = uow.declarations.declarations_frame()
        pending = uow.declarations.declarations_frame(with_outcome=False)
        day = uow.declarations.declarations_frame(filed_on=datetime(2020, 1, 1, tzinfo=UTC))
    assert frame.height == 50 and pending.height == 0
    assert day.height == sum(1 for ln in lines[1:] if ",2020-01-01," in ln)
    first = frame.filter(frame["declaration_ref"] == "97061800").row(0, named=True)
    assert first["filed_at"] == datetime(2020, 1, 1, tzinfo=UTC)
    assert (first["hs_code"], first["importer_id"], first["seller_id"], first["courier_id"]) == (
        "440890", "QLRUBN9", "0VKY2BR", "")
    assert first["value"] == 372254.4


def test_an_outcome_read_alone_is_not_received_before_its_stored_declaration_was_filed(engine: Engine,
                                                                                       tmp_path: Path) -> None:
    """A regression review: outcomes loaded alone, their row's filing date empty or wrong, were
    stored as received before the stored declaration was filed (look-ahead in the features)."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: broker\ndelimiter: ';'\nfields:\n  declaration_ref: MRN\n  filed_at: Accepted\n"
                       "  hs_code: Commodity\n  origin_country: Origin\n  departure_country: Dispatch\n"
                       "  net_mass_kg: NetKg\n  value: Value\noutcomes:\n"
                       "  fraud: {column: Result, true_values: [irregular], false_values: [ok]}\n"
                       "  received_at: ResultDate\n")
    header = "MRN;Accepted;Commodity;Origin;Dispatch;NetKg;Value;Result;ResultDate\n"
    decl = write(tmp_path / "d.csv", [header, "BRK-1;2021-04-01;420231;CN;CN;10;1000;;\n",
                                      "BRK-2;2021-04-01;420231;CN;CN;10;1000;;\n"])
    assert ingest(engine, decl, mapping=str(mapping))["added"] == 2
    alone = write(tmp_path / "o.csv", [header, "BRK-1;;;;;;;irregular;2020-06-01\n",  # no filing in the row
                                       "BRK-2;2019-01-01;;;;;;ok;2020-01-01\n",  # a wrong one
                                       "BRK-2;;;;;;;ok;2021-04-20\n"])
    report = ingest(engine, alone, mapping=str(mapping), outcomes_only=True)
    assert report["outcomes"] == {"accepted": 1, "added": 1}
    assert [(r["field"], r["why"]) for r in report["rejections"]] == [  # type: ignore[index, union-attr]
        ("received_at", "outcome received 2020-06-01, before declaration BRK-1 was filed (2021-04-01): an outcome "
                        "comes after its declaration"),
        ("received_at", "outcome received 2020-01-01, before declaration BRK-2 was filed (2021-04-01): an outcome "
                        "comes after its declaration")]


def test_a_file_sent_again_under_another_name_is_quarantined_once(engine: Engine, tmp_path: Path) -> None:
    """A concurrency review: re-sending the same files quarantined again the rejections that keep
    no raw record (known by where they were, which names the file). They are now known by the
    file's content and their place in it; another file's rejection at the same place is its own."""
    error = (SHARED / "fixtures" / "dcsa-booking" / "booking-v2.0-error-response.json").read_bytes()
    (tmp_path / "a.json").write_bytes(error)
    (tmp_path / "b.json").write_bytes(error)
    (tmp_path / "c.json").write_bytes(error.replace(b"}", b" }", 1))  # other bytes, same rejection, same place
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        counts = [uow.quarantine.count()]
    for name in ("a.json", "b.json", "c.json"):
        with unit_of_work(engine) as uow:
            report = ingest_file(uow, tmp_path / name, IngestOptions(), now)
            assert report.rejected == 1 and report.rejections[0].raw == ""
            counts.append(uow.quarantine.count())
    assert [n - counts[0] for n in counts[1:]] == [1, 1, 2]
