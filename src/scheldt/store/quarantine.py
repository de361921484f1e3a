"""Quarantine of rejected records: where, field, why and the raw record, kept once."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheldt.ingest.base import Rejection, storable_text
from scheldt.store.models import QuarantineRow
from scheldt.store.upsert import insert_ignore

#: Quarantine records inserted per statement.
ADD_BATCH = 1_000


def _file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, "" when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def _key(r: Rejection, file: tuple[str, Path] | None, digest: Callable[[], str]) -> str:
    if r.raw or file is None or not r.where.startswith(file[0]) or not digest():
        return r.fingerprint
    return r.fingerprint_in(digest(), r.where[len(file[0]):])


class QuarantineRepository:
    """Rejected records; the same rejection re-sent from any file is stored once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rejections: Sequence[Rejection], format: str, received_at: datetime,
            file: tuple[str, Path] | None = None) -> int:
        """Store ``rejections``, :data:`ADD_BATCH` at a time (an ingest review's 50,000 rejected
        events were inserted as one statement of every record as received, 711 MB at the peak);
        returns how many were new. ``file``: the name the rejections give their file (the start
        of their ``where``) and its path: a rejection without its raw record is then known by
        the file's content and its place in it (:meth:`Rejection.fingerprint_in`), so the same
        file sent again under another name adds nothing (a review's re-sends through the API
        were quarantined again, each upload having a name of its own)."""
        digest = functools.cache(lambda: _file_digest(file[1]) if file else "")  # read when first needed
        unique = list({_key(r, file, digest): r for r in rejections}.items())
        added = 0
        for start in range(0, len(unique), ADD_BATCH):
            added += insert_ignore(self.session, QuarantineRow.__table__, [
                {"fingerprint": key, "source": storable_text(r.where), "field": _field(r.field),
                 "why": storable_text(r.why), "raw": storable_text(r.raw), "format": format, "received_at": received_at}
                for key, r in unique[start:start + ADD_BATCH]])
        return added

    def list(self, limit: int = 100) -> list[QuarantineRow]:
        """The most recent quarantined records, newest first."""
        stmt = select(QuarantineRow).order_by(QuarantineRow.id.desc()).limit(limit)
        return list(self.session.scalars(stmt))

    def count(self) -> int:
        """Number of quarantined records."""
        return self.session.scalar(select(func.count()).select_from(QuarantineRow)) or 0


#: The longest field name the quarantine keeps (its column).
FIELD_CHARS = 64


def _field(name: str) -> str:
    """A rejection's field as the quarantine keeps it: storable text of at most
    :data:`FIELD_CHARS` characters, its end kept (the field itself, not the path's start) when
    longer (a fuzz review's JSON path of 75 characters stopped the whole ingest on PostgreSQL)."""
    name = storable_text(name)
    return name if len(name) <= FIELD_CHARS else "..." + name[-(FIELD_CHARS - 3):]
