"""Score declarations that have no outcome yet with the live model; store RiskAssessments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from scheldt.risk import features
from scheldt.risk.model import RiskModel
from scheldt.settings import lightgbm_threads, model_artefact
from scheldt.workflows.ports import UnitOfWork


@dataclass(frozen=True)
class ScoreReport:
    """One scoring run: its id, the model version, how many were scored and already scored."""

    run_id: str
    model_version: str
    scored: int
    already_scored: int


def score_frame(
    model: RiskModel, pending: pl.DataFrame, history: pl.DataFrame, outcomes: pl.DataFrame,
    as_of: datetime,
) -> np.ndarray:
    """P(target) for each row of ``pending``, with past outcomes received before ``as_of``."""
    X = features.encode(pending, model.vocabulary_, history=history, outcomes=outcomes, as_of=as_of)
    return model.score(features.to_matrix(X))


def score_pending(uow: UnitOfWork, target: str, now: datetime, threads: int | None = None) -> ScoreReport:
    """Score every not-yet-inspected declaration the live ``target`` model has not scored.

    Ranks are 1-based within this run (1 = highest probability). Idempotent: a declaration
    already scored by this model version keeps its assessment.
    """
    live = uow.models.live(target)
    model = RiskModel.load(model_artefact(live.artefact_path, live.version), threads=lightgbm_threads(threads))
    pending = uow.declarations.declarations_frame(with_outcome=False)
    done = uow.assessments.scored_refs(live.version)
    todo = pending.filter(~pl.col("declaration_ref").is_in(list(done)))
    run_id = uuid.uuid4().hex
    if todo.height == 0:
        return ScoreReport(run_id, live.version, 0, pending.height)
    history = uow.declarations.declarations_frame(with_outcome=True)
    outcomes = uow.declarations.outcomes_frame(received_before=now)
    p = score_frame(model, todo, history, outcomes, now)
    order = np.argsort(-p, kind="stable")
    rank = np.empty(len(p), dtype=np.int64)
    rank[order] = np.arange(1, len(p) + 1)
    refs = todo["declaration_ref"].to_list()
    rows = [
        {"declaration_ref": refs[i], "model_version": live.version, "target": target,
         "probability": float(p[i]), "rank": int(rank[i]), "run_id": run_id, "scored_at": now}
        for i in range(len(refs))
    ]
    uow.assessments.add(rows)
    return ScoreReport(run_id, live.version, len(rows), pending.height - todo.height)
