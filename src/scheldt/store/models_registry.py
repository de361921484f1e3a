"""Registry of trained model versions: which artefact, which data, which one is live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheldt.errors import NotFoundError
from scheldt.store.models import ModelVersionRow


class ModelRegistry:
    """Model versions in the store; at most one live version per target."""

    def __init__(self, session: Session) -> None:
        self.session = session

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
    ) -> ModelVersionRow:
        """Record a version; with ``make_live`` it replaces the live one of its target.

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
        return row

    def live(self, target: str) -> ModelVersionRow:
        """The live version for ``target``; NotFoundError when none was trained yet."""
        row = self.session.scalar(
            select(ModelVersionRow).where(ModelVersionRow.target == target, ModelVersionRow.live)
        )
        if row is None:
            raise NotFoundError(f"model for target {target!r}", "none trained yet: run `scheldt train`")
        return row

    def get(self, version: str) -> ModelVersionRow:
        """A version by name; NotFoundError if unknown."""
        row = self.session.get(ModelVersionRow, version)
        if row is None:
            raise NotFoundError(f"model version {version!r}", "not in the registry")
        return row
