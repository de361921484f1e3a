"""Registry of trained model versions: which artefact, which data, which one is live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheldt.errors import NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import ModelActivationRow, ModelVersionRow
from scheldt.store.rows import aware

#: PostgreSQL advisory lock serialising model switches (:meth:`ModelRegistry.lock`).
LOCK_KEY = 0x5C4E_30DE_11E5_0001


class ModelRegistry:
    """Model versions in the store; at most one live version per target."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise model switches and rollbacks from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): take it before reading the live version or
        the activation log a switch depends on (as :meth:`ProfileRepository.lock
        <scheldt.store.profiles.ProfileRepository.lock>` does for profiles)."""
        take_write_lock(self.session, LOCK_KEY, ModelVersionRow.__table__)

    def register(
        self,
        version: str,
        target: str,
        artefact_path: str,
        fingerprint: str,
        feature_contract: str,
        metrics: dict[str, Any],
        created_at: datetime,
        make_live: bool = True,
        actor: str = "",
    ) -> ModelVersionRow:
        """Record a version; with ``make_live`` it replaces the live one of its target, recorded
        as a ``train`` activation by ``actor`` at ``created_at``.

        Registering an existing version (same target, time and training data) updates it.
        """
        if make_live:
            self.session.execute(
                update(ModelVersionRow).where(ModelVersionRow.target == target).values(live=False)
            )
        row = ModelVersionRow(
            version=version, target=target, artefact_path=artefact_path, fingerprint=fingerprint,
            feature_contract=feature_contract, metrics=metrics, created_at=created_at, live=make_live,
        )
        row = self.session.merge(row)
        self.session.flush()
        if make_live:
            self._record(target, version, "train", actor, "", created_at)
        return row

    def activate(self, version: str, actor: str, reason: str, at: datetime, action: str = "activate") -> None:
        """Make ``version`` the live one of its target (recorded with who, why and when, as
        ``action``: activate or rollback). Raises NotFoundError for an unknown version."""
        row = self.get(version)
        self.session.execute(update(ModelVersionRow).where(ModelVersionRow.target == row.target).values(live=False))
        row.live = True
        self.session.flush()
        self._record(row.target, version, action, actor, reason, at)

    def activations(self, target: str) -> list[dict[str, Any]]:
        """Every time a version of ``target`` went live, oldest first: version, action (train,
        activate, rollback), actor, reason, at (UTC)."""
        rows = self.session.scalars(select(ModelActivationRow).where(ModelActivationRow.target == target)
                                    .order_by(ModelActivationRow.id))
        return [{"version": r.version, "action": r.action, "actor": r.actor, "reason": r.reason, "at": aware(r.at)}
                for r in rows]

    def versions(self, target: str) -> list[ModelVersionRow]:
        """Every registered version of ``target``, oldest first."""
        return list(self.session.scalars(select(ModelVersionRow).where(ModelVersionRow.target == target)
                                         .order_by(ModelVersionRow.created_at, ModelVersionRow.version)))

    def _record(self, target: str, version: str, action: str, actor: str, reason: str, at: datetime) -> None:
        self.session.add(ModelActivationRow(target=target, version=version, action=action, actor=actor[:128],
                                            reason=reason, at=at))
        self.session.flush()

    def live(self, target: str) -> ModelVersionRow:
        """The live version for ``target``; NotFoundError when none was trained yet."""
        row = self.session.scalar(
            select(ModelVersionRow).where(ModelVersionRow.target == target, ModelVersionRow.live)
        )
        if row is None:
            hint = "`scheldt train`" if target == "fraud" else f"`scheldt train --target {target}`"  # CLI review
            raise NotFoundError(f"model for target {target!r}", f"none trained yet: run {hint}")
        return row

    def get(self, version: str) -> ModelVersionRow:
        """A version by name; NotFoundError if unknown."""
        row = self.session.get(ModelVersionRow, version)
        if row is None:
            raise NotFoundError(f"model version {version!r}", "not in the registry")
        return row
