"""What the TAXII 2.1 server and federation keep beside the shared objects (migration 0011).

- ``taxii_status``: the status resource of each TAXII *Add Objects* request (TAXII 2.1 §4.3.1),
  kept so ``GET {api-root}/status/{id}/`` answers after the request (and after a restart), for
  the organisation that posted only.
- ``shared_object_deletion``: one tombstone per object version deleted (TAXII DELETE on this
  node, or a deletion learnt from a peer). Its ``id`` is server-assigned and only grows, so it
  is a cursor like ``shared_object.seq``: peers read the tombstones after the last one they saw
  (``GET .../collections/{id}/deleted/``, a Scheldt extension) and delete their copies. A
  tombstone is shown only to requesters who may see the deleted version (the visibility
  policy runs on the ``shared_object`` row it names, which is kept, marked ``deleted_at``).
- ``node_account``: users of this node that partner *nodes* pull with. Such a requester asks as
  a federation peer (:attr:`scheldt.domain.exchange.Requester.peer`): it receives TLP:RED
  versions naming any user of its organisation, to hand them to those users only on its node.

The repository never commits: the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, and_, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheldt.domain.exchange import Requester
from scheldt.errors import InputError, NotFoundError
from scheldt.store.db import among
from scheldt.store.exchange import WRITE_LOCK_KEY, visible_clause
from scheldt.store.models import Base, NodeAccountRow, SharedObjectRow, UtcDateTime
from scheldt.store.rows import aware

_O = SharedObjectRow


class TaxiiStatusRow(Base):
    """The status resource of one TAXII Add Objects request (``body``: the resource as served)."""

    __tablename__ = "taxii_status"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    body: Mapped[dict] = mapped_column(JSON)


class SharedObjectDeletionRow(Base):
    """A tombstone: object version ``seq`` (``stix_id`` at ``modified``) was deleted at
    ``deleted_at`` by ``source`` (``taxii:<user>`` or ``peer:<name>``). ``id`` is the cursor."""

    __tablename__ = "shared_object_deletion"
    __table_args__ = (Index("ix_shared_object_deletion_seq", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(Integer)
    stix_id: Mapped[str] = mapped_column(String(100))
    modified: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A deleted object version as peers see it: cursor ``id``, STIX id, version, when (UTC),
    and whether the withdrawal of an item deleted it (:data:`WITHDRAWAL`)."""

    id: int
    stix_id: str
    modified: str
    deleted_at: datetime
    withdrawn: bool = False


#: How the source of a tombstone left by the withdrawal of an item begins (``withdraw: <why>``
#: where it was withdrawn, ``withdraw: peer:<name>`` where a peer's tombstone said so): such a
#: deleted object takes no new version (:meth:`TaxiiRepository.deleted_by_withdrawal`).
WITHDRAWAL = "withdraw:"


class TaxiiRepository:
    """TAXII statuses, tombstones and node accounts (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # statuses
    def add_status(self, status_id: str, organisation_id: str, username: str, body: dict[str, Any],
                   now: datetime) -> None:
        """Keep the status resource ``body`` of an Add Objects request."""
        self.session.add(TaxiiStatusRow(id=status_id, organisation_id=organisation_id, username=username,
                                        created_at=now, body=body))
        self.session.flush()

    def status(self, status_id: str, organisation_id: str) -> dict[str, Any]:
        """The status resource ``status_id`` posted by ``organisation_id``. Raises NotFoundError
        when there is none, or when another organisation posted it (its existence stays hidden)."""
        row = self.session.get(TaxiiStatusRow, status_id[:36])
        if row is None or row.organisation_id != organisation_id:
            raise NotFoundError(f"status {status_id[:60]}", "no such status resource for your organisation")
        return dict(row.body)

    # tombstones
    def add_deletions(self, versions: Iterable[tuple[int, str, str]], source: str, now: datetime) -> int:
        """Record tombstones for ``(seq, stix_id, modified)`` versions just deleted; returns how
        many. On PostgreSQL, takes the object writers' lock first (as
        ``ExchangeRepository.add_version`` does), so tombstone ids commit in order too."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        n = 0
        for seq, stix_id, modified in versions:
            self.session.add(SharedObjectDeletionRow(seq=seq, stix_id=stix_id, modified=modified,
                                                     source=source[:200], deleted_at=now))
            n += 1
        self.session.flush()
        return n

    def deleted_by_withdrawal(self, stix_ids: Sequence[str]) -> set[str]:
        """Those of ``stix_ids`` with a version deleted by the withdrawal of an item, here
        (:func:`scheldt.workflows.share.withdraw_item`) or on a peer (:data:`WITHDRAWAL`)."""
        d = SharedObjectDeletionRow
        ids = sorted(set(stix_ids))
        return {sid for start in range(0, len(ids), 500) for sid in self.session.scalars(
            select(d.stix_id).where(among(self.session, d.stix_id, ids[start:start + 500]),
                                    d.source.like(f"{WITHDRAWAL}%")))}

    def deletions(self, r: Requester | None, *, group_id: str | None = None, community: bool = False,
                  after_id: int | None = None, limit: int = 100) -> list[Tombstone]:
        """Tombstones of versions the requester may see, in ``id`` order, after ``after_id``: of
        sharing group ``group_id`` (or, with ``community``, of versions without a group)."""
        d = SharedObjectDeletionRow
        stmt = select(d.id, d.stix_id, d.modified, d.deleted_at, d.source).join(_O, _O.seq == d.seq).where(
            visible_clause(r))
        if group_id is not None:
            stmt = stmt.where(_O.group_id == group_id)
        elif community:
            stmt = stmt.where(_O.group_id.is_(None))
        if after_id is not None:
            stmt = stmt.where(d.id > after_id)
        rows = self.session.execute(stmt.order_by(d.id).limit(limit))
        return [Tombstone(i, s, m, aware(t) or t, src.startswith(WITHDRAWAL)) for i, s, m, t, src in rows]

    # provenance
    def live_versions_from(self, source: str) -> list[tuple[int, str, str]]:
        """``(seq, stix_id, modified)`` of the live (not deleted) versions stored from ``source``."""
        rows = self.session.execute(select(_O.seq, _O.stix_id, _O.modified).where(
            and_(_O.source == source, _O.deleted_at.is_(None))).order_by(_O.seq))
        return [(int(seq), sid, mod) for seq, sid, mod in rows]

    def stored_versions(self, stix_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """``(owner organisation, modified)`` of every stored version (deleted ones too) of each
        of ``stix_ids``; ids with none are left out."""
        out: dict[str, list[tuple[str, str]]] = {}
        ids = sorted(set(stix_ids))
        for start in range(0, len(ids), 500):
            for sid, owner, modified in self.session.execute(select(_O.stix_id, _O.owner_org, _O.modified).where(
                    among(self.session, _O.stix_id, ids[start:start + 500]))):
                out.setdefault(sid, []).append((owner, modified))
        return out

    # node accounts
    def add_node_account(self, username: str, organisation_id: str, now: datetime) -> None:
        """Let ``username`` pull as its organisation's node. Raises InputError when it already may."""
        if self.session.get(NodeAccountRow, username) is not None:
            raise InputError("node account", f"{username} already pulls as a node")
        self.session.add(NodeAccountRow(username=username, organisation_id=organisation_id, created_at=now))
        self.session.flush()

    def remove_node_account(self, username: str) -> None:
        """Stop ``username`` pulling as a node. Raises NotFoundError when it did not."""
        row = self.session.get(NodeAccountRow, username)
        if row is None:
            raise NotFoundError(f"node account {username}", "this user does not pull as a node")
        self.session.delete(row)
        self.session.flush()

    def node_accounts(self) -> list[dict[str, Any]]:
        """Every node account: username, organisation, since when."""
        rows = self.session.scalars(select(NodeAccountRow).order_by(NodeAccountRow.username))
        return [{"username": r.username, "organisation_id": r.organisation_id, "created_at": aware(r.created_at)}
                for r in rows]
