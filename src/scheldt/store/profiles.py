"""Risk profile versions and which one is live (append-only activation log)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheldt.errors import ConflictError, NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import ProfileActivationRow, RiskProfileRow
from scheldt.store.rows import aware

#: PostgreSQL advisory lock serialising profile switches (:meth:`ProfileRepository.lock`).
LOCK_KEY = 0x5C4E_9F0F_11E5_0001


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """A stored profile version: ``label`` is ``name@version``; ``body`` its YAML text."""

    id: int
    name: str
    version: str
    owner: str
    body: str
    digest: str

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"



class ProfileRepository:
    """Profile versions and activations (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise profile stores, switches and rollbacks from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): take it before reading the live version or the
        activation log a switch depends on (a concurrency review's simultaneous activations of one
        version each saw another live and recorded a switch each; two rollbacks both went back to
        the same version)."""
        take_write_lock(self.session, LOCK_KEY, RiskProfileRow.__table__)

    def store(self, name: str, version: str, owner: str, body: str, digest: str, at: datetime) -> StoredProfile:
        """Keep a profile version; storing the same text again is a no-op. Raises ConflictError
        when ``name@version`` is already stored with another text (a new text needs a new version)."""
        row = self.session.scalars(select(RiskProfileRow).where(RiskProfileRow.name == name,
                                                                RiskProfileRow.version == version)).first()
        if row is not None:
            if row.digest != digest:
                raise ConflictError(f"{name}@{version}", "this version is already stored with another text; "
                                 "give the changed profile a new version")
            return self._plain(row)
        row = RiskProfileRow(name=name, version=version, owner=owner, body=body, digest=digest, stored_at=at)
        self.session.add(row)
        self.session.flush()
        return self._plain(row)

    def with_digest(self, digest: str) -> StoredProfile | None:
        """The stored version whose text has ``digest`` (:func:`profile_digest`), or None."""
        row = self.session.scalars(select(RiskProfileRow).where(RiskProfileRow.digest == digest)).first()
        return None if row is None else self._plain(row)

    def get(self, label: str) -> StoredProfile:
        """The stored version ``name@version``. Raises NotFoundError."""
        name, _, version = label.partition("@")
        row = self.session.scalars(select(RiskProfileRow).where(RiskProfileRow.name == name,
                                                                RiskProfileRow.version == version)).first()
        if row is None:
            raise NotFoundError(label, "no such profile version stored; `scheldt profile list` shows them")
        return self._plain(row)

    def activate(self, profile: StoredProfile, actor: str, reason: str, at: datetime, action: str = "activate") -> None:
        """Record that ``profile`` goes live at ``at`` (UTC)."""
        self.session.add(ProfileActivationRow(profile_id=profile.id, action=action, actor=actor, reason=reason, at=at))
        self.session.flush()

    def activations(self) -> list[dict[str, object]]:
        """Every activation and rollback, oldest first: label, action, actor, reason, at."""
        rows = self.session.execute(
            select(ProfileActivationRow, RiskProfileRow).join(RiskProfileRow, RiskProfileRow.id == ProfileActivationRow.profile_id)
            .order_by(ProfileActivationRow.id)).all()
        return [{"profile": f"{p.name}@{p.version}", "action": a.action, "actor": a.actor, "reason": a.reason,
                 "at": aware(a.at)} for a, p in rows]

    def live(self) -> StoredProfile | None:
        """The live profile version (latest activation), or None when none was activated."""
        row = self.session.execute(
            select(RiskProfileRow).join(ProfileActivationRow, RiskProfileRow.id == ProfileActivationRow.profile_id)
            .order_by(ProfileActivationRow.id.desc()).limit(1)).scalars().first()
        return None if row is None else self._plain(row)

    def versions(self) -> list[StoredProfile]:
        """Every stored version, oldest first."""
        return [self._plain(r) for r in self.session.scalars(select(RiskProfileRow).order_by(RiskProfileRow.id))]

    @staticmethod
    def _plain(row: RiskProfileRow) -> StoredProfile:
        return StoredProfile(row.id, row.name, row.version, row.owner, row.body, row.digest)
