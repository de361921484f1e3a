"""Inspection outcomes of container trips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
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
        """(container, document ref, voyage) → (inspected, seizure) for outcomes of these kinds;
        where a trip has several, a real inspection's (``inspection``) wins."""
        t = TripOutcomeRow
        stmt = (select(t.container_number, t.document_ref, t.voyage, t.inspected, t.seizure)
                .where(t.source_kind.in_(list(source_kinds)))
                .order_by(case((t.source_kind == "inspection", 1), else_=0), t.id))
        return {(c, d, v): (bool(i), bool(s)) for c, d, v, i, s in self.session.execute(stmt)}

    def record_inspection(self, key: tuple[str, str, str], seizure: bool, source: str, at: datetime) -> None:
        """Record what an inspection of the trip ``key`` (container, document ref, voyage) found
        (``source_kind`` inspection). A later inspection of the same trip adds to it: once a
        seizure was recorded, the trip stays a seizure."""
        t = TripOutcomeRow
        where = (t.container_number == key[0], t.document_ref == key[1], t.voyage == key[2], t.source_kind == "inspection")
        known = self.session.scalar(select(t.seizure).where(*where))
        if known is None:
            self.session.add(t(container_number=key[0], document_ref=key[1], voyage=key[2], inspected=True,
                               seizure=seizure, source_kind="inspection", source=source, received_at=at))
            self.session.flush()
        elif seizure and not known:
            self.session.execute(update(t).where(*where).values(seizure=True, source=source, received_at=at))

    def move_inspection(self, old: tuple[str, str, str], new: tuple[str, str, str]) -> None:
        """Put the inspection outcome of trip ``old`` on trip ``new`` (keys: container, document
        ref, voyage), whose moves the box's events now make: merged with one ``new`` has (a
        seizure in either stays one, :meth:`record_inspection`); ``old`` keeps none."""
        t = TripOutcomeRow
        where = (t.container_number == old[0], t.document_ref == old[1], t.voyage == old[2],
                 t.source_kind == "inspection")
        row = self.session.execute(select(t.seizure, t.source, t.received_at).where(*where)).first()
        if row is None:
            return
        self.session.execute(delete(t).where(*where))
        self.record_inspection(new, bool(row.seizure), row.source, row.received_at)

    def withdraw_inspection(self, key: tuple[str, str, str]) -> None:
        """Forget that trip ``key`` was inspected (its only inspection record was of another box)."""
        t = TripOutcomeRow
        self.session.execute(delete(t).where(t.container_number == key[0], t.document_ref == key[1],
                                             t.voyage == key[2], t.source_kind == "inspection"))

    def correct_inspection(self, key: tuple[str, str, str], seizure: bool, source: str, at: datetime) -> None:
        """Set what the inspection of trip ``key`` found to ``seizure``, as a corrected search
        record says (unlike :meth:`record_inspection`, a seizure can become none)."""
        t = TripOutcomeRow
        where = (t.container_number == key[0], t.document_ref == key[1], t.voyage == key[2], t.source_kind == "inspection")
        if self.session.scalar(select(t.id).where(*where)) is None:
            self.record_inspection(key, seizure, source, at)
        else:
            self.session.execute(update(t).where(*where).values(seizure=seizure, source=source, received_at=at))
