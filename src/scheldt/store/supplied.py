"""Files shipping lines and terminals sent through the API, with their ingest reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.errors import NotFoundError
from scheldt.store.models import SuppliedFileRow
from scheldt.store.rows import aware

#: The columns of a supplied file as :meth:`SuppliedFileRepository.get` gives them.
_FIELDS = ("id", "organisation_id", "username", "received_at", "name", "sha256", "size_bytes", "format",
           "accepted", "added", "rejected", "flags", "report")


def _as_dict(row: SuppliedFileRow) -> dict[str, Any]:
    """The row's fields, its time aware (UTC: SQLite gives it back without a zone)."""
    return {f: getattr(row, f) for f in _FIELDS} | {"received_at": aware(row.received_at)}


class SuppliedFileRepository:
    """One row per file received (the same bytes sent twice are two rows: two sendings)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, organisation_id: str, username: str, received_at: datetime, name: str, sha256: str,
            size_bytes: int) -> int:
        """Record a file as received (its report empty until :meth:`finish`); returns its id."""
        row = SuppliedFileRow(organisation_id=organisation_id, username=username, received_at=received_at, name=name,
                              sha256=sha256, size_bytes=size_bytes, format="", accepted=0, added=0, rejected=0,
                              flags=0, report={})
        self.session.add(row)
        self.session.flush()
        return row.id

    def finish(self, file_id: int, format: str, counts: dict[str, int], report: dict[str, Any]) -> None:
        """Store what ingest made of file ``file_id``: its format, the counts (``accepted``,
        ``added``, ``rejected``, ``flags``) and the report."""
        row = self.session.get(SuppliedFileRow, file_id)
        if row is None:
            raise NotFoundError(f"supplied file {file_id}", "no such file")
        row.format = format
        for key in ("accepted", "added", "rejected", "flags"):
            setattr(row, key, counts[key])
        row.report = report

    def get(self, organisation_id: str, file_id: int) -> dict[str, Any]:
        """File ``file_id`` if ``organisation_id`` sent it. Raises NotFoundError otherwise (the
        same answer for another organisation's file and for none)."""
        row = self.session.get(SuppliedFileRow, file_id)
        if row is None or row.organisation_id != organisation_id:
            raise NotFoundError(f"supplied file {file_id}", "no file of yours has this id")
        return _as_dict(row)

    def recent(self, organisation_id: str, before_id: int | None, limit: int) -> list[dict[str, Any]]:
        """The files ``organisation_id`` sent, newest first, those with an id below
        ``before_id`` when given; their reports left out."""
        stmt = select(SuppliedFileRow).where(SuppliedFileRow.organisation_id == organisation_id)
        if before_id is not None:
            stmt = stmt.where(SuppliedFileRow.id < before_id)
        rows = self.session.scalars(stmt.order_by(SuppliedFileRow.id.desc()).limit(limit))
        return [{k: v for k, v in _as_dict(r).items() if k != "report"} for r in rows]
