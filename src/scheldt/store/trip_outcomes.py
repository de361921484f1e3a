"""Inspection outcomes of container trips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.store.models import TripOutcomeRow
from scheldt.store.upsert import insert_ignore


class TripOutcomeRepository:
    """Trip outcomes (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store outcomes; one already stored for the trip and kind of source adds nothing."""
        return insert_ignore(self.session, TripOutcomeRow.__table__, rows)

    def all(self, source_kinds: Sequence[str]) -> dict[tuple[str, str, str], tuple[bool, bool]]:
        """(container, document ref, voyage) → (inspected, seizure) for outcomes of these kinds."""
        stmt = select(TripOutcomeRow.container_number, TripOutcomeRow.document_ref, TripOutcomeRow.voyage,
                      TripOutcomeRow.inspected, TripOutcomeRow.seizure).where(TripOutcomeRow.source_kind.in_(list(source_kinds)))
        return {(c, d, v): (bool(i), bool(s)) for c, d, v, i, s in self.session.execute(stmt)}
