"""Federation peers: partner nodes (or any TAXII 2.1 server) this node pulls from.

A peer (:class:`~scheldt.store.models.PeerRow`) has a name, the URL of its TAXII API root (or of
its discovery endpoint), the organisation it speaks for, the other organisations whose objects
it may relay (``relays_for``, see :mod:`scheldt.exchange.federation`), the credential this node
uses there, the local sharing group for objects
of its collections that name none (``default_group``), and per remote collection the state of
the pull (``cursors``: collection id → ``{"next": ..., "added_after": ..., "deleted": ...,
"reconciled_at": ...}``, see :mod:`scheldt.exchange.federation`).

The credential is kept as ``password:<sealed>`` (HTTP Basic with ``username``) or
``token:<sealed>`` (``Authorization: Bearer``), sealed with the node's key
(:mod:`scheldt.store.sealing`): this node needs it to sign in there, so it cannot be hashed. Only
:meth:`PeerRepository.get` with ``with_secret=True`` unseals it. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.errors import ConflictError, InputError, NotFoundError
from scheldt.store.models import PeerRow
from scheldt.store.rows import aware
from scheldt.store.sealing import seal_for, unseal

#: Key in ``cursors`` of the peer's pull epoch: bumped when its pull must start over, so a pull
#: that began before cannot write its cursors back (see :meth:`PeerRepository.set_cursor`).
EPOCH = "_epoch"
#: Longest error text kept on a peer (characters).
ERROR_MAX = 500
SECRET_KINDS = ("password", "token")


@dataclass(frozen=True, slots=True)
class Peer:
    """A peer as the pull needs it (``secret_kind``: password or token; ``secret`` empty unless
    read ``with_secret``; ``failing_since``: when its pulls began to fail, UTC, None while they go
    well)."""

    name: str
    api_root: str
    organisation_id: str
    username: str
    secret_kind: str
    default_group: str | None
    cursors: dict[str, Any] = field(default_factory=dict)
    last_pull_at: datetime | None = None
    last_error: str = ""
    created_at: datetime | None = None
    secret: str = field(default="", repr=False)
    relays_for: tuple[str, ...] = ()
    failing_since: datetime | None = None

    @property
    def epoch(self) -> int:
        """The pull epoch this peer was read at (see :data:`EPOCH`)."""
        return int(self.cursors.get(EPOCH, 0))

    def as_dict(self) -> dict[str, Any]:
        """The peer without its secret (for listings)."""
        return {"name": self.name, "api_root": self.api_root, "organisation_id": self.organisation_id,
                "username": self.username, "credential": self.secret_kind, "default_group": self.default_group,
                "relays_for": list(self.relays_for),
                "collections": sorted(k for k in self.cursors if k != EPOCH), "last_pull_at": self.last_pull_at, "last_error": self.last_error,
                "failing_since": self.failing_since, "created_at": self.created_at}


def _peer(row: PeerRow, with_secret: bool) -> Peer:
    kind, _, secret = (row.secret or "").partition(":")
    return Peer(row.name, row.api_root, row.organisation_id, row.username, kind, row.default_group,
                dict(row.cursors or {}), aware(row.last_pull_at), row.last_error or "", aware(row.created_at),
                unseal(secret) if with_secret else "", tuple(row.relays_for or ()), aware(row.failing_since))


def _credential(session: Session, secret_kind: str, secret: str) -> str:
    """The stored form of a credential: ``<kind>:<sealed secret>``. Raises InputError when the
    kind is unknown, ConfigError when it cannot be sealed (:func:`scheldt.store.sealing.seal_for`)."""
    if secret_kind not in SECRET_KINDS:
        raise InputError("peer credential", f"{secret_kind!r} is not one of {', '.join(SECRET_KINDS)}")
    return f"{secret_kind}:{seal_for(session, secret)}"


class PeerRepository:
    """Peers and their pull state (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, name: str, api_root: str, organisation_id: str, username: str, secret_kind: str, secret: str,
            default_group: str | None, now: datetime, relays_for: tuple[str, ...] = ()) -> Peer:
        """Register a peer, its credential sealed. Raises ConflictError when the name is taken,
        InputError when the credential kind is unknown."""
        credential = _credential(self.session, secret_kind, secret)
        if self.session.get(PeerRow, name) is not None:
            raise ConflictError("peer name", f"{name!r} already exists")
        row = PeerRow(name=name, api_root=api_root, organisation_id=organisation_id, username=username,
                      secret=credential, cursors={}, last_error="", created_at=now,
                      default_group=default_group, relays_for=sorted(set(relays_for)))
        self.session.add(row)
        self.session.flush()
        return _peer(row, False)

    def set_credential(self, name: str, username: str, secret_kind: str, secret: str) -> Peer:
        """Replace the credential this node signs in with at the peer (its pull state stays).
        Raises NotFoundError, InputError when the credential kind is unknown."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        row.username, row.secret = username, _credential(self.session, secret_kind, secret)
        self.session.flush()
        return _peer(row, False)

    def set_relays(self, name: str, relays_for: tuple[str, ...], start_over: bool) -> Peer:
        """Replace the organisations a peer may relay for; with ``start_over`` forget its pull
        state (``cursors``) and bump its epoch, so its next pull reads everything again. Raises
        NotFoundError."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        row.relays_for = sorted(set(relays_for))
        if start_over:  # a pull running now keeps its epoch and writes nothing back
            row.cursors = {EPOCH: int((row.cursors or {}).get(EPOCH, 0)) + 1}
        self.session.flush()
        return _peer(row, False)

    def get(self, name: str, with_secret: bool = False) -> Peer:
        """One peer. Raises NotFoundError."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        return _peer(row, with_secret)

    def all(self) -> list[Peer]:
        """Every peer by name (without secrets)."""
        return [_peer(r, False) for r in self.session.scalars(select(PeerRow).order_by(PeerRow.name))]

    def remove(self, name: str) -> None:
        """Forget a peer (objects pulled from it stay). Raises NotFoundError."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        self.session.delete(row)
        self.session.flush()

    def set_cursor(self, name: str, collection_id: str, state: dict[str, Any], epoch: int | None = None) -> None:
        """Keep the pull state of one remote collection, unless ``epoch`` (the pull's, read with
        the peer when it began) is not the peer's any more: its pull was made to start over
        meanwhile (:meth:`set_relays`). Raises NotFoundError."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        if epoch is not None and int((row.cursors or {}).get(EPOCH, 0)) != epoch:
            return
        cursors = dict(row.cursors or {})
        cursors[collection_id] = dict(state)
        row.cursors = cursors  # a new dict, so the JSON column is written
        self.session.flush()

    def record_pull(self, name: str, at: datetime, error: str = "") -> None:
        """Note a finished pull: when, and its error (empty when it went well); the first of a
        run of failed pulls sets ``failing_since``, a pull that went well clears it."""
        row = self.session.get(PeerRow, name)
        if row is None:
            raise NotFoundError(f"peer {name}", "no such peer")
        row.last_pull_at = at
        row.last_error = error[:ERROR_MAX]
        row.failing_since = (row.failing_since or at) if error else None
        self.session.flush()
