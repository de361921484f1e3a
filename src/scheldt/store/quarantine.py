"""Quarantine of rejected records: where, field, why and the raw record, kept once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheldt.ingest.base import Rejection
from scheldt.store.models import QuarantineRow
from scheldt.store.upsert import insert_ignore


#: Quarantine records inserted per statement.
ADD_BATCH = 1_000


class QuarantineRepository:
    """Rejected records; the same rejection re-sent from any file is stored once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rejections: Sequence[Rejection], format: str, received_at: datetime) -> int:
        """Store ``rejections``, :data:`ADD_BATCH` at a time (an ingest review's 50,000 rejected
        events were inserted as one statement of every record as received, 711 MB at the peak);
        returns how many were new."""
        unique = list({r.fingerprint: r for r in rejections}.values())
        added = 0
        for start in range(0, len(unique), ADD_BATCH):
            added += insert_ignore(self.session, QuarantineRow.__table__, [
                {"fingerprint": r.fingerprint, "source": r.where, "field": r.field, "why": r.why, "raw": r.raw,
                 "format": format, "received_at": received_at}
                for r in unique[start:start + ADD_BATCH]])
        return added

    def list(self, limit: int = 100) -> list[QuarantineRow]:
        """The most recent quarantined records, newest first."""
        stmt = select(QuarantineRow).order_by(QuarantineRow.id.desc()).limit(limit)
        return list(self.session.scalars(stmt))

    def count(self) -> int:
        """Number of quarantined records."""
        return self.session.scalar(select(func.count()).select_from(QuarantineRow)) or 0
