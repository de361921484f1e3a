"""A watchlist file is the whole list: loading it again makes the stored list what it holds
(an analyst review: a company taken off the list went on matching trips for good)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheldt.errors import InputError
from scheldt.store.db import unit_of_work
from scheldt.workflows.screening import ListReplaced, load_watchlists, screen_names

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
V1 = "id,name\nW1,Frutas del Sol S.A.\nW2,Zaba Export B.V.\nW3,Rivoka Trading LLC\n"


def load(engine: Engine, files: list[Path], list_name: str | None = "narco",
         org: str = "be-customs") -> list[ListReplaced]:
    with unit_of_work(engine) as uow:
        return load_watchlists(uow, files, list_name, org, NOW)[1]


def stored(engine: Engine) -> list[tuple[str, str]]:
    with unit_of_work(engine) as uow:
        return sorted((e.list_name, e.entry_id) for e in uow.watchlists.entries())


def test_a_list_loaded_again_loses_the_entries_its_file_no_longer_holds(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "v1.csv").write_text(V1)
    (tmp_path / "v2.csv").write_text(V1.replace("W2,Zaba Export B.V.\n", ""))
    (tmp_path / "bad.csv").write_text("id,name\nW1,Frutas del Sol S.A.\nW4,\n")
    (tmp_path / "empty.csv").write_text("id,name\n")
    (tmp_path / "other.csv").write_text("id,name\nO1,Other List Co\n")
    assert load(engine, [tmp_path / "v1.csv"]) == [ListReplaced("narco")]
    assert load(engine, [tmp_path / "other.csv"], None) == [ListReplaced("other")]  # a list of its own
    assert load(engine, [tmp_path / "v1.csv"], org="us-cbp") == [ListReplaced("narco")]  # another agency's load
    # a row rejected (it may be the entry) or a file with no entry (an empty export) removes nothing
    assert load(engine, [tmp_path / "bad.csv"]) == [ListReplaced(
        "narco", kept=2, why="1 row(s) of the file(s) were rejected: mend them and load again")]
    assert load(engine, [tmp_path / "empty.csv"]) == [ListReplaced("narco", kept=3, why="the file(s) held no entry")]
    assert load(engine, [tmp_path / "v2.csv"]) == [ListReplaced("narco", removed=("W2",))]
    assert stored(engine) == [("narco", "W1"), ("narco", "W1"), ("narco", "W2"), ("narco", "W3"), ("narco", "W3"),
                              ("other", "O1")]  # us-cbp's W2 stays: it loaded its own copy
    # a quote never closed swallows the rows after it: rejected, so nothing leaves the list (a
    # screening review's stray quote delisted the entries after it)
    (tmp_path / "quote.csv").write_text('id,name,country\nW1,Frutas del Sol S.A.,"EC\nW3,Rivoka Trading LLC,RU\n')
    assert load(engine, [tmp_path / "quote.csv"]) == [ListReplaced(
        "narco", kept=2, why="1 row(s) of the file(s) were rejected: mend them and load again")]
    # two files of one list are the list together
    (tmp_path / "part.csv").write_text("id,name\nW2,Zaba Export B.V.\n")
    assert load(engine, [tmp_path / "v2.csv", tmp_path / "part.csv"]) == [ListReplaced("narco")]
    assert load(engine, [tmp_path / "part.csv"]) == [ListReplaced("narco", removed=("W1", "W3"))]
    with unit_of_work(engine) as uow:
        assert [m.entry.entry_id for m in screen_names(uow, ["Frutas del Sol SA"])["Frutas del Sol SA"]] == ["W1"]
        for name in ("shared:be-us", "Shared:be-us", " shared:x"):  # SQLite's LIKE ignores case (regression review)
            with pytest.raises(InputError, match="lists named shared:... hold the watchlist entries partners share"):
                load_watchlists(uow, [tmp_path / "v1.csv"], name, "be-customs", NOW)


def test_the_command_says_what_left_the_list(settings_env: Path, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from scheldt.cli import app

    runner = CliRunner()
    (tmp_path / "narco.csv").write_text(V1)
    first = runner.invoke(app, ["watchlist", "load", str(tmp_path / "narco.csv")])
    assert first.exit_code == 0 and first.stdout.endswith("3 entries read, 3 new or changed, 0 rejected\n")
    (tmp_path / "narco.csv").write_text(V1.replace("W2,Zaba Export B.V.\n", ""))
    again = runner.invoke(app, ["watchlist", "load", str(tmp_path / "narco.csv")])
    assert again.exit_code == 0 and again.stdout.splitlines()[-1] == (
        "list narco: 1 entries no longer in its file(s) removed: W2")
    (tmp_path / "narco.csv").write_text(V1.replace("W2,Zaba Export B.V.\n", "").replace("W3,Rivoka Trading LLC", "W3,"))
    kept = json.loads(runner.invoke(app, ["watchlist", "load", str(tmp_path / "narco.csv"), "--json"]).stdout)
    assert kept["lists"] == [{"list": "narco", "removed": [], "kept": 1,
                              "why_kept": "1 row(s) of the file(s) were rejected: mend them and load again"}]
