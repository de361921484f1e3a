"""The small typed interface workflows need from the store (implemented in ``scheldt.store``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from scheldt.domain.declarations import Declaration, InspectionOutcome
from scheldt.ingest.base import Rejection

if TYPE_CHECKING:  # named in annotations only: polars loads where frames are made
    import polars as pl


class DeclarationStore(Protocol):
    def stored_hashes(self, refs: Sequence[str]) -> dict[str, str]: ...
    def add_declarations(
        self, items: Sequence[tuple[Declaration, str, str]], supplied_by: str, received_at: datetime
    ) -> int: ...
    def known_refs(self, refs: Sequence[str]) -> set[str]: ...
    def stored_outcomes(self, refs: Sequence[str]) -> dict[str, tuple[bool, bool]]: ...
    def add_outcomes(
        self, items: Sequence[tuple[InspectionOutcome, str]], supplied_by: str, loaded_at: datetime
    ) -> int: ...
    def declarations_frame(
        self,
        *,
        with_outcome: bool | None = None,
        filed_on: datetime | None = None,
        refs: Sequence[str] | None = None,
    ) -> pl.DataFrame: ...
    def outcomes_frame(self, received_before: datetime | None = None) -> pl.DataFrame: ...
    def linked_to(self, container_number: str, refs: Sequence[str]) -> list[dict[str, object]]: ...


class QuarantineStore(Protocol):
    def add(self, rejections: Sequence[Rejection], format: str, received_at: datetime) -> int: ...


class ModelVersion(Protocol):
    version: str
    target: str
    artefact_path: str
    fingerprint: str
    metrics: dict[str, Any]
    created_at: datetime


class ModelStore(Protocol):
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
    ) -> Any: ...
    def live(self, target: str) -> ModelVersion: ...


class AssessmentStore(Protocol):
    def add(self, rows: Sequence[dict[str, Any]]) -> int: ...
    def latest_for_model(self, model_version: str, refs: Sequence[str] | None = None) -> pl.DataFrame: ...
    def scored_refs(self, model_version: str) -> set[str]: ...


class EventStore(Protocol):
    def add(self, events: Sequence[Any], supplied_by: str, received_at: datetime) -> tuple[int, list[Rejection]]: ...
    def add_stream(self, events: Iterable[Any], supplied_by: str,
                   received_at: datetime) -> tuple[int, list[Rejection]]: ...
    def retract(self, retractions: Sequence[Any], supplied_by: str) -> int: ...
    def for_container(self, number: str) -> list[dict[str, Any]]: ...


class VesselStore(Protocol):
    def add_positions(self, positions: Sequence[Any], supplied_by: str,
                      received_at: datetime) -> tuple[int, list[Rejection]]: ...
    def add_sightings(self, sightings: Sequence[Any], supplied_by: str, received_at: datetime) -> int: ...
    def spans_for_imos(self, imos: Sequence[str]) -> dict[str, list[Any]]: ...
    def track(self, spans: Sequence[Any], start: datetime, end: datetime) -> list[dict[str, Any]]: ...


class DocumentStore(Protocol):
    def add(self, docs: Sequence[Any], supplied_by: str, received_at: datetime) -> tuple[int, list[Rejection]]: ...
    def for_container(self, number: str, refs: Sequence[str]) -> list[dict[str, Any]]: ...


class UnitOfWork(Protocol):
    documents: DocumentStore
    events: EventStore
    vessels: VesselStore
    declarations: DeclarationStore
    quarantine: QuarantineStore
    models: ModelStore
    assessments: AssessmentStore
