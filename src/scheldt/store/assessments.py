"""Risk assessments: one score per declaration and model version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.store.models import RiskAssessmentRow
from scheldt.store.upsert import insert_ignore


class AssessmentRepository:
    """Stores and reads RiskAssessments (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert assessments; an existing (declaration, model version) pair is kept as it was."""
        return insert_ignore(self.session, RiskAssessmentRow.__table__, rows)

    def latest_for_model(self, model_version: str, refs: Sequence[str] | None = None) -> pl.DataFrame:
        """Assessments by ``model_version``: declaration_ref, probability, rank, scored_at."""
        stmt = select(
            RiskAssessmentRow.declaration_ref,
            RiskAssessmentRow.probability,
            RiskAssessmentRow.rank,
            RiskAssessmentRow.scored_at,
        ).where(RiskAssessmentRow.model_version == model_version)
        if refs is not None:
            stmt = stmt.where(RiskAssessmentRow.declaration_ref.in_(list(refs)))
        rows = [
            (r, p, k, t.replace(tzinfo=UTC) if t.tzinfo is None else t)
            for r, p, k, t in self.session.execute(stmt)
        ]
        return pl.DataFrame(
            rows,
            schema={"declaration_ref": pl.Utf8, "probability": pl.Float64, "rank": pl.Int64,
                    "scored_at": pl.Datetime("us", "UTC")},
            orient="row",
        )

    def scored_refs(self, model_version: str) -> set[str]:
        """Declarations already scored by ``model_version``."""
        stmt = select(RiskAssessmentRow.declaration_ref).where(RiskAssessmentRow.model_version == model_version)
        return set(self.session.scalars(stmt))
