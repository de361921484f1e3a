"""DCSA Track & Trace 2.2 feeds: the subscriptions lines and terminals made for this node at their
own publishers (:mod:`scheldt.workflows.tnt_feeds`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheldt.errors import NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import TntFeedRow
from scheldt.store.rows import aware

#: PostgreSQL advisory lock key serialising feed creates (:meth:`TntFeedRepository.lock`).
LOCK_KEY = 0x5C4E_7F0E_EDF0_0001


def _as_dict(row: TntFeedRow) -> dict[str, Any]:
    """The feed without its secret, its times aware (UTC); ``deleted_why``: who or what stopped
    it (None when active, or stopped before revision 0036 kept it)."""
    return {"id": row.id, "organisation_id": row.organisation_id, "username": row.username,
            "created_at": aware(row.created_at), "deleted_at": aware(row.deleted_at) if row.deleted_at else None,
            "active": row.deleted_at is None, "deleted_why": row.deleted_why}


class TntFeedRepository:
    """One row per feed; a deleted feed keeps its row (``deleted_at``), its secret unused."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, feed_id: str, organisation_id: str, username: str, sealed_secret: str,
            now: datetime) -> dict[str, Any]:
        """Keep a new feed (``sealed_secret``: :func:`scheldt.store.sealing.seal_for` of the
        Base64 secret); returns it without the secret."""
        row = TntFeedRow(id=feed_id, organisation_id=organisation_id, username=username, secret=sealed_secret,
                         created_at=now, deleted_at=None)
        self.session.add(row)
        self.session.flush()
        return _as_dict(row)

    def lock(self) -> None:
        """Serialise feed creates from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): take it before counting an organisation's
        feeds (a review's 14 simultaneous creates each counted fewer than 10 and made 12)."""
        take_write_lock(self.session, LOCK_KEY, TntFeedRow.__table__)

    def of_organisation(self, organisation_id: str | None) -> list[dict[str, Any]]:
        """The organisation's feeds (every organisation's: None), deleted ones too, oldest first
        (secrets left out)."""
        stmt = select(TntFeedRow)
        if organisation_id is not None:
            stmt = stmt.where(TntFeedRow.organisation_id == organisation_id)
        return [_as_dict(r) for r in self.session.scalars(stmt.order_by(TntFeedRow.created_at, TntFeedRow.id))]

    def get(self, feed_id: str) -> tuple[dict[str, Any], str] | None:
        """(the feed, its stored secret) when ``feed_id`` names a feed (deleted ones too), else None."""
        if len(feed_id) > 36:  # no id is longer (a longer one cut to 36 named another feed)
            return None
        row = self.session.get(TntFeedRow, feed_id)
        return None if row is None else (_as_dict(row), row.secret)

    def delete(self, feed_id: str, organisation_id: str, now: datetime, why: str) -> dict[str, Any]:
        """Mark one of the organisation's feeds deleted (kept, never used again), ``why`` saying
        who or what stopped it (at most 200 characters kept). Raises
        NotFoundError when it has no active feed of that id (another organisation's is not named;
        ``organisation_id`` "": no feed of that id at all, as the node's operator is told)."""
        row = self.session.get(TntFeedRow, feed_id) if len(feed_id) <= 36 else None
        if row is None or row.organisation_id != organisation_id or row.deleted_at is not None:
            raise NotFoundError(f"feed {feed_id[:40]}", f"no active feed of {organisation_id} has this id"
                                if organisation_id else "no active feed has this id")
        row.deleted_at, row.deleted_why = now, why[:200]
        self.session.flush()
        return _as_dict(row)

    def delete_of_user(self, username: str, now: datetime) -> list[str]:
        """Mark every active feed of user ``username`` deleted (the user is disabled); returns
        their ids. Takes :meth:`lock` first, so a feed being made meanwhile is either seen here or
        made after the user is disabled (and then refused)."""
        self.lock()
        live = (TntFeedRow.username == username, TntFeedRow.deleted_at.is_(None))
        ids = sorted(self.session.scalars(select(TntFeedRow.id).where(*live)))
        self.session.execute(update(TntFeedRow).where(*live).values(
            deleted_at=now, deleted_why=f"its user {username} was disabled"[:200]))
        return ids
