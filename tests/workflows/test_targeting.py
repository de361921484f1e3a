"""Train, score and select on a real store (SQLite and PostgreSQL), and the outcome feedback loop."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from scheldt.errors import InputError, NotFoundError
from scheldt.store.db import unit_of_work
from scheldt.workflows.ingest import IngestOptions, ingest_file
from scheldt.workflows.scoring import score_pending
from scheldt.workflows.targeting import inspection_list
from scheldt.workflows.training import train_model
from tests.conftest import DEMO_TEST, DEMO_TRAIN, kcs_lines

NOW = datetime(2021, 4, 22, 6, tzinfo=UTC)


def test_train_score_select_and_feed_outcomes_back(engine: Engine, tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    new.write_text("".join(kcs_lines(DEMO_TEST, 300)))
    with unit_of_work(engine) as uow:
        with pytest.raises(NotFoundError):
            uow.models.live("fraud")
        ingest_file(uow, DEMO_TRAIN, IngestOptions(), NOW)
        ingest_file(uow, new, IngestOptions(outcomes=False), NOW)
    with unit_of_work(engine) as uow:
        first = train_model(uow, "fraud", tmp_path / "models", NOW)
    assert first.train_rows + first.valid_rows == 6231
    with unit_of_work(engine) as uow:
        report = score_pending(uow, "fraud", NOW)
        again = score_pending(uow, "fraud", NOW)
    assert (report.scored, again.scored, again.already_scored) == (300, 0, 300)
    with unit_of_work(engine) as uow:
        ranks = uow.assessments.latest_for_model(first.version)
        listing = inspection_list(uow, "fraud", "20", 0.1, seed=3)
    assert sorted(ranks["rank"].to_list()) == list(range(1, 301))
    assert [e.selected_by for e in listing.entries] == ["risk"] * 18 + ["exploration"] * 2
    assert listing.candidates == 300 and listing.unscored == 0
    top = ranks.sort("rank")["declaration_ref"].head(18).to_list()
    assert [e.declaration_ref for e in listing.entries[:18]] == top
    assert all(e.reasons for e in listing.entries[:18])
    assert all(r.weight > 0 for e in listing.entries for r in e.reasons)
    # outcomes of the new declarations arrive; the next model trains on them
    with unit_of_work(engine) as uow:
        fed = ingest_file(uow, new, IngestOptions(outcomes_only=True), NOW)
    assert fed.outcomes_added == 300
    later = datetime(2021, 4, 23, tzinfo=UTC)
    with unit_of_work(engine) as uow:
        second = train_model(uow, "fraud", tmp_path / "models", later)
        assert uow.models.live("fraud").version == second.version
    assert second.fingerprint != first.fingerprint
    with open(Path(second.artefact_path) / "training-set.csv") as fh:
        refs = {r["declaration_ref"] for r in csv.DictReader(fh)}
    assert listing.entries[0].declaration_ref in refs and len(refs) == 6531


def test_too_little_history_leaves_the_live_model_alone(engine: Engine, tmp_path: Path) -> None:
    few = tmp_path / "few.csv"
    few.write_text("".join(kcs_lines(DEMO_TRAIN, 40)))
    with unit_of_work(engine) as uow:
        ingest_file(uow, few, IngestOptions(), NOW)
    with unit_of_work(engine) as uow, pytest.raises(InputError) as err:
        train_model(uow, "fraud", tmp_path / "models", NOW)
    assert "40 declarations with outcomes" in err.value.why and "at least 100" in err.value.why


def test_reasons_explain_the_score_with_what_it_knew(engine: Engine, tmp_path: Path) -> None:
    """A declarations review loaded more outcomes (dated the day after filing) after scoring:
    the list's reasons counted them ("1 of 1 past inspections" became "2 of 2") while the score
    stayed as it was. Reasons count only the outcomes loaded by the time of scoring."""
    from datetime import timedelta

    new = tmp_path / "new.csv"
    new.write_text("".join(kcs_lines(DEMO_TEST, 300)))
    late = tmp_path / "late.csv"
    late.write_text("".join(kcs_lines(DEMO_TEST, 1000)[:1] + kcs_lines(DEMO_TEST, 1000)[301:]))
    with unit_of_work(engine) as uow:
        ingest_file(uow, DEMO_TRAIN, IngestOptions(), NOW)
        ingest_file(uow, new, IngestOptions(outcomes=False), NOW)
    with unit_of_work(engine) as uow:
        train_model(uow, "fraud", tmp_path / "models", NOW)
    with unit_of_work(engine) as uow:
        score_pending(uow, "fraud", NOW)
        before = [(e.declaration_ref, [r.text for r in e.reasons]) for e in inspection_list(uow, "fraud", "30", 0, seed=1).entries]
    with unit_of_work(engine) as uow:
        assert ingest_file(uow, late, IngestOptions(), NOW + timedelta(days=2)).added > 0
    with unit_of_work(engine) as uow:
        after = [(e.declaration_ref, [r.text for r in e.reasons]) for e in inspection_list(uow, "fraud", "30", 0, seed=1).entries]
    assert after == before
    # a declarations review asked for --capacity 0% and got an empty list that said nothing
    for nothing in ("0%", "0", " 0.0% "):
        with unit_of_work(engine) as uow, pytest.raises(InputError) as err:
            inspection_list(uow, "fraud", nothing, 0, seed=1)
        assert (err.value.where, err.value.why) == ("--capacity", f"{nothing} selects nothing: give a count or a share "
                                                                  "above 0, like 5%")


def test_a_model_trained_with_another_seed_at_the_same_time_is_another_version(engine: Engine, tmp_path: Path) -> None:
    """A declarations review: with the clock pinned (as the demo pins it), training again with
    --seed 1 wrote another model into the live version's directory under the same name; the
    2,000 stored scores were not re-scored, and 90 of 100 picks showed the other model's reasons."""
    with unit_of_work(engine) as uow:
        ingest_file(uow, DEMO_TRAIN, IngestOptions(), NOW)
    with unit_of_work(engine) as uow:
        first = train_model(uow, "fraud", tmp_path / "models", NOW)
    with unit_of_work(engine) as uow:
        again = train_model(uow, "fraud", tmp_path / "models", NOW)
        other = train_model(uow, "fraud", tmp_path / "models", NOW, seed=1)
        live = uow.models.live("fraud").version
    assert again.version == first.version  # the same model, the same version
    assert other.version == first.version + "-s1" and live == other.version
    models = [(Path(report.artefact_path) / "model.txt").read_bytes() for report in (first, other)]
    assert models[0] != models[1]
