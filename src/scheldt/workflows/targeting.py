"""Build today's inspection list from stored scores: risk picks, exploration picks, reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from scheldt.errors import InputError
from scheldt.risk import features
from scheldt.risk.explain import Reason, explain
from scheldt.risk.model import RiskModel
from scheldt.settings import lightgbm_threads, model_artefact
from scheldt.targeting.selection import parse_capacity, select
from scheldt.workflows.ports import UnitOfWork


@dataclass(frozen=True)
class ListEntry:
    """One declaration on the inspection list, with why it is there."""

    position: int
    declaration_ref: str
    filed_at: datetime
    hs_code: str
    origin_country: str
    importer_id: str
    score: float
    selected_by: str
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class InspectionList:
    """The list and its context: model version, candidates considered, those not yet scored."""

    model_version: str
    target: str
    candidates: int
    unscored: int
    slots: int
    seed: int
    entries: list[ListEntry]


def explain_rows(model: RiskModel, rows: pl.DataFrame, history: pl.DataFrame,
                 outcomes: pl.DataFrame, as_of: datetime) -> list[list[Reason]]:
    """Reasons for ``rows`` as the model saw them when scored at ``as_of``."""
    if rows.height == 0:
        return []
    X = features.encode(rows, model.vocabulary_, history=history, outcomes=outcomes, as_of=as_of)
    contrib = model.contributions(features.to_matrix(X))
    return explain(contrib, rows.to_dicts(), X.to_dicts(), model.target)


def inspection_list(
    uow: UnitOfWork, target: str, capacity: str, exploration: float, on: datetime | None = None,
    seed: int = 0, threads: int | None = None,
) -> InspectionList:
    """Select within ``capacity`` among not-yet-inspected declarations (filed ``on`` that day).

    Candidates are those scored by the live ``target`` model; unscored ones are counted and
    left out (run ``scheldt score``). Reasons are computed for the selected rows only.
    Raises InputError for a bad capacity (0 or 0% among them: an empty list said nothing of
    why) or exploration share.
    """
    live = uow.models.live(target)
    pending = uow.declarations.declarations_frame(with_outcome=False, filed_on=on)
    scores = uow.assessments.latest_for_model(live.version)
    candidates = pending.join(scores, on="declaration_ref", how="inner").sort("declaration_ref")
    try:
        slots = parse_capacity(capacity, candidates.height)
        if slots == 0 and parse_capacity(capacity, 10_000) == 0:  # 0 or 0%, not an empty day
            raise InputError("--capacity", f"{capacity} selects nothing: give a count or a share above 0, like 5%")
        picks = select(candidates["probability"].to_numpy(), slots, exploration, seed)
    except ValueError as exc:
        raise InputError("--capacity/--exploration", str(exc)) from None
    chosen = candidates[[p.index for p in picks]]
    model = RiskModel.load(model_artefact(live.artefact_path, live.version), threads=lightgbm_threads(threads))
    history = uow.declarations.declarations_frame(with_outcome=True)
    reasons: list[list[Reason]] = [[] for _ in picks]
    if chosen.height:
        for scored_at in chosen["scored_at"].unique().to_list():
            mask = (chosen["scored_at"] == scored_at).to_numpy()
            part = chosen.filter(mask)
            # what the score knew: outcomes received before it and already loaded (a review's
            # outcomes loaded after scoring, dated the day after filing, changed the reasons
            # of an unchanged score: "1 of 1 past inspections" became "2 of 2")
            outcomes = uow.declarations.outcomes_frame(loaded_by=scored_at)
            for i, r in zip(mask.nonzero()[0], explain_rows(model, part, history, outcomes, scored_at), strict=True):
                reasons[i] = r
    entries = [
        ListEntry(p.position, row["declaration_ref"], row["filed_at"], row["hs_code"],
                  row["origin_country"], row["importer_id"], p.score, p.selected_by.value, reasons[i])
        for i, (p, row) in enumerate(zip(picks, chosen.iter_rows(named=True), strict=True))
    ]
    return InspectionList(live.version, target, candidates.height, pending.height - candidates.height,
                          slots, seed, entries)
