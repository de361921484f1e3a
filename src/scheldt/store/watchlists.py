"""Watchlist entries in the store: one store for party screening and shared entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from scheldt.domain.facts import fact_digest, plain
from scheldt.risk.screening import SHARED_PREFIX, WatchlistEntry
from scheldt.store.models import WatchlistEntryRow
from scheldt.store.upsert import insert_ignore


class WatchlistRepository:
    """Watchlist entries (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entries: Sequence[WatchlistEntry], supplied_by: str, received_at: datetime) -> tuple[int, int]:
        """Store entries; returns (new, updated). An entry re-sent unchanged adds nothing; one
        whose list republished it with other facts (same list and id) replaces the stored one."""
        rows = {}
        for e in entries:
            facts = plain(e)
            facts.pop("source")
            rows[(e.list_name, e.entry_id)] = {
                "list_name": e.list_name[:128], "entry_id": e.entry_id[:128], "kind": e.kind[:32], "name": e.name[:500],
                "aliases": list(e.aliases), "address": e.address, "country": e.country[:64], "fact_hash": fact_digest(facts),
                "source": e.source, "supplied_by": supplied_by, "received_at": received_at}
        stored = self._hashes(list(rows), supplied_by)
        new = [r for k, r in rows.items() if k not in stored]
        changed = [r for k, r in rows.items() if k in stored and stored[k] != r["fact_hash"]]
        added = insert_ignore(self.session, WatchlistEntryRow.__table__, new)
        for r in changed:
            self.session.execute(update(WatchlistEntryRow).where(
                WatchlistEntryRow.list_name == r["list_name"], WatchlistEntryRow.entry_id == r["entry_id"],
                WatchlistEntryRow.supplied_by == supplied_by).values(**r))
        return added, len(changed)

    def _hashes(self, keys: list[tuple[str, str]], supplied_by: str) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        lists = sorted({k[0] for k in keys})
        for name in lists:
            ids = sorted(k[1] for k in keys if k[0] == name)
            for start in range(0, len(ids), 1000):
                stmt = select(WatchlistEntryRow.entry_id, WatchlistEntryRow.fact_hash).where(
                    WatchlistEntryRow.supplied_by == supplied_by, WatchlistEntryRow.list_name == name,
                    WatchlistEntryRow.entry_id.in_(ids[start:start + 1000]))
                out.update({(name, i): h for i, h in self.session.execute(stmt)})
        return out

    def remove_shared(self, entry_ids: Sequence[str]) -> list[str]:
        """Delete the shared entries (lists ``shared:...``) with these ids, whoever supplied
        them; returns the ids that were stored, sorted. Lists loaded from files are untouched."""
        t = WatchlistEntryRow.__table__
        gone: set[str] = set()
        unique = sorted(set(entry_ids))
        for start in range(0, len(unique), 1000):
            where = (t.c.list_name.startswith(SHARED_PREFIX, autoescape=True),
                     t.c.entry_id.in_(unique[start:start + 1000]))
            gone.update(self.session.scalars(select(t.c.entry_id).where(*where)))
            self.session.execute(delete(t).where(*where))
        return sorted(gone)

    def shared_ids(self) -> list[str]:
        """Ids of the shared entries in the store (lists ``shared:...``), sorted."""
        t = WatchlistEntryRow.__table__
        return sorted(set(self.session.scalars(select(t.c.entry_id).where(
            t.c.list_name.startswith(SHARED_PREFIX, autoescape=True)))))

    def remove_shared_elsewhere(self, lists: Mapping[str, str]) -> list[str]:
        """Delete the shared entries (lists ``shared:...``) with the ids of ``lists`` (entry id →
        the list it belongs to now) that are in another shared list, whoever supplied them;
        returns their ids, sorted."""
        t = WatchlistEntryRow.__table__
        gone: set[str] = set()
        ids = sorted(lists)
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(select(t.c.id, t.c.entry_id, t.c.list_name).where(
                t.c.list_name.startswith(SHARED_PREFIX, autoescape=True),
                t.c.entry_id.in_(ids[start:start + 1000]))).all()
            stale = [(row_id, entry_id) for row_id, entry_id, name in rows if lists[entry_id] != name]
            if stale:
                self.session.execute(delete(t).where(t.c.id.in_([row_id for row_id, _ in stale])))
                gone.update(entry_id for _, entry_id in stale)
        return sorted(gone)

    def ids(self, list_name: str, supplied_by: str) -> list[str]:
        """Ids of the entries of list ``list_name`` that ``supplied_by`` loaded, sorted."""
        t = WatchlistEntryRow.__table__
        return sorted(self.session.scalars(select(t.c.entry_id).where(
            t.c.list_name == list_name, t.c.supplied_by == supplied_by)))

    def remove(self, list_name: str, supplied_by: str, entry_ids: Sequence[str]) -> int:
        """Delete those entries of list ``list_name`` that ``supplied_by`` loaded; returns how many."""
        t = WatchlistEntryRow.__table__
        unique, gone = sorted(set(entry_ids)), 0
        for start in range(0, len(unique), 1000):
            result = self.session.execute(delete(t).where(t.c.list_name == list_name, t.c.supplied_by == supplied_by,
                                                          t.c.entry_id.in_(unique[start:start + 1000])))
            gone += result.rowcount or 0  # type: ignore[attr-defined]
        return gone

    def entries(self) -> list[WatchlistEntry]:
        """Every stored entry."""
        t = WatchlistEntryRow.__table__
        stmt = select(t.c.list_name, t.c.entry_id, t.c.name, t.c.kind, t.c.aliases, t.c.address, t.c.country, t.c.source)
        return [WatchlistEntry(r.list_name, r.entry_id, r.name, r.kind, tuple(r.aliases or ()), r.address, r.country, r.source)
                for r in self.session.execute(stmt)]

    def count(self) -> int:
        """How many entries are stored."""
        return int(self.session.scalar(select(func.count()).select_from(WatchlistEntryRow)) or 0)
