"""Scores of container trips, every one kept (score history), with the facts they came from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from scheldt.domain.trips import TripKey
from scheldt.errors import NotFoundError
from scheldt.store.models import ContainerTripRow, TripAssessmentRow
from scheldt.store.rows import built_once
from scheldt.store.upsert import insert_ignore

_COLUMNS = [c for c in TripAssessmentRow.__table__.columns.keys() if c != "id"]


def _plain(row: Any) -> dict[str, Any]:
    """An assessment (an ORM row or a row of the table) as a dict, its time as aware UTC."""
    out = {c: getattr(row, c) for c in ["id", *_COLUMNS]}
    out["scored_at"] = row.scored_at if row.scored_at.tzinfo else row.scored_at.replace(tzinfo=UTC)
    return out


def _latest_ids(*conditions: Any) -> Select[tuple[int]]:
    """The id of each trip's latest assessment among those matching ``conditions``."""
    t = TripAssessmentRow
    return select(func.max(t.id)).where(*conditions).group_by(t.container_number, t.document_ref, t.voyage)


class TripAssessmentRepository:
    """Trip assessments (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store assessments; one with the same trip, profile, model and facts as a stored one
        adds nothing. Returns how many were new."""
        return insert_ignore(self.session, TripAssessmentRow.__table__, rows)

    def latest_hashes(self, profile: str, model_version: str) -> dict[tuple[str, str, str], tuple[str, int]]:
        """Facts hash and id of each trip's latest assessment under ``profile`` and ``model_version``."""
        latest = _latest_ids(TripAssessmentRow.profile == profile, TripAssessmentRow.model_version == model_version)
        rows = self.session.execute(
            select(TripAssessmentRow.container_number, TripAssessmentRow.document_ref, TripAssessmentRow.voyage,
                   TripAssessmentRow.facts_hash, TripAssessmentRow.id).where(TripAssessmentRow.id.in_(latest)))
        return {(c, d, v): (h, i) for c, d, v, h, i in rows}

    def ids_under(self, profile: str, model_version: str,
                  numbers: Sequence[str]) -> dict[tuple[str, str, str, str], int]:
        """Id of every assessment under ``profile`` and ``model_version`` of the trips of the
        containers ``numbers``, by (container number, document reference, voyage, facts hash):
        one per key, as the table's unique key has it."""
        t = TripAssessmentRow
        out: dict[tuple[str, str, str, str], int] = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            stmt = select(t.container_number, t.document_ref, t.voyage, t.facts_hash, t.id).where(
                t.profile == profile, t.model_version == model_version,
                t.container_number.in_(unique[start:start + 500]))
            out.update({(c, d, v, h): i for c, d, v, h, i in self.session.execute(stmt)})
        return out

    def by_ids(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """The assessments ``ids`` (unknown ones left out), in id order."""
        unique = sorted(set(ids))
        out: list[dict[str, Any]] = []
        for start in range(0, len(unique), 500):
            out += [_plain(r) for r in self.session.scalars(select(TripAssessmentRow).where(
                TripAssessmentRow.id.in_(unique[start:start + 500])).order_by(TripAssessmentRow.id))]
        return out

    def scored_after(self, when: datetime) -> set[tuple[str, str, str]]:
        """(container number, document reference, voyage) of the trips with an assessment (any
        profile or model) scored after ``when`` (UTC)."""
        t = TripAssessmentRow
        return {(c, d, v) for c, d, v in self.session.execute(
            select(t.container_number, t.document_ref, t.voyage).where(t.scored_at > when).distinct())}

    def any(self) -> bool:
        """True when at least one trip assessment is stored."""
        return self.session.scalar(select(TripAssessmentRow.id).limit(1)) is not None

    def latest_ids(self, numbers: Sequence[str]) -> dict[tuple[str, str, str], int]:
        """Id of the latest assessment of each trip of the containers ``numbers``."""
        t = TripAssessmentRow
        out: dict[tuple[str, str, str], int] = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            stmt = (select(t.container_number, t.document_ref, t.voyage, func.max(t.id))
                    .where(t.container_number.in_(unique[start:start + 500]))
                    .group_by(t.container_number, t.document_ref, t.voyage))
            out.update({(c, d, v): i for c, d, v, i in self.session.execute(stmt)})
        return out

    def reasons_for(self, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The reasons of each assessment in ``ids`` (their facts are not read)."""
        out: dict[int, list[dict[str, Any]]] = {}
        unique = sorted(set(ids))
        for start in range(0, len(unique), 500):
            out.update((i, r) for i, r in self.session.execute(select(TripAssessmentRow.id, TripAssessmentRow.reasons)
                                                                .where(TripAssessmentRow.id.in_(unique[start:start + 500]))))
        return out

    def score_history(self, key: TripKey) -> list[dict[str, Any]]:
        """Every assessment of a trip, oldest first: id, score, profile, model version, time
        (UTC); the facts are not read."""
        t = TripAssessmentRow
        stmt = built_once("trip_assessment.score_history", lambda: select(
            t.id, t.score, t.profile, t.model_version, t.scored_at).where(
            t.container_number == bindparam("number"), t.document_ref == bindparam("ref"),
            t.voyage == bindparam("voyage")).order_by(t.id))
        rows = self.session.execute(stmt, {"number": key.container_number, "ref": key.document_ref,
                                           "voyage": key.voyage})
        return [{"id": i, "score": sc, "profile": p, "model_version": m,
                 "scored_at": at if at.tzinfo else at.replace(tzinfo=UTC)} for i, sc, p, m, at in rows]

    def history(self, key: TripKey) -> list[dict[str, Any]]:
        """Every assessment of a trip, oldest first."""
        rows = self.session.scalars(select(TripAssessmentRow).where(
            TripAssessmentRow.container_number == key.container_number, TripAssessmentRow.document_ref == key.document_ref,
            TripAssessmentRow.voyage == key.voyage).order_by(TripAssessmentRow.id))
        return [_plain(r) for r in rows]

    def queue_all(self, container_number: str) -> list[dict[str, Any]]:
        """Every assessment of a container's trips (any profile), oldest first."""
        rows = self.session.scalars(select(TripAssessmentRow).where(
            TripAssessmentRow.container_number == container_number).order_by(TripAssessmentRow.id))
        return [_plain(r) for r in rows]

    def shown_per_trip(self) -> list[dict[str, Any]]:
        """The assessment each indexed trip shows (in force; see :meth:`queue`), regrouped trips'
        too, by id."""
        t = ContainerTripRow
        shown = select(t.assessment_id).where(t.assessment_id.is_not(None))
        return [_plain(r) for r in self.session.scalars(select(TripAssessmentRow).where(
            TripAssessmentRow.id.in_(shown)).order_by(TripAssessmentRow.id))]

    def latest_per_trip(self, start: datetime | None = None, end: datetime | None = None) -> list[dict[str, Any]]:
        """The latest assessment of every trip scored in [start, end) (UTC; open when None)."""
        t = TripAssessmentRow
        latest = _latest_ids(*([t.scored_at >= start] if start is not None else []),
                             *([t.scored_at < end] if end is not None else []))
        return [_plain(r) for r in self.session.scalars(select(t).where(t.id.in_(latest)).order_by(t.id))]

    def get(self, assessment_id: int) -> dict[str, Any]:
        """One assessment by id. Raises NotFoundError."""
        t = TripAssessmentRow.__table__
        stmt = built_once("trip_assessment.get", lambda: select(t).where(t.c.id == bindparam("id")))
        row = self.session.execute(stmt, {"id": assessment_id}).first()
        if row is None:
            raise NotFoundError(f"assessment {assessment_id}", "no such trip assessment")
        return _plain(row)

    def facts_of(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """The facts of each of these assessments, by id (unknown ids left out); 500 per query."""
        t = TripAssessmentRow
        unique = sorted(set(ids))
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(unique), 500):
            rows = self.session.execute(select(t.id, t.facts).where(t.id.in_(unique[start:start + 500])))
            out.update((i, facts) for i, facts in rows)
        return out

    def queue(self, profile: str, since: datetime | None = None, limit: int = 50,
              in_port: bool = False) -> list[dict[str, Any]]:
        """The assessment each trip shows (in force: the API's and workbench's) where it is under
        ``profile`` (scored at or after ``since``), highest score first, ties in the workbench's
        order (the newest trip first); trips marked regrouped (their container's events no
        longer make them) are left out, as the lists leave them out (a regression review), and
        with ``in_port`` those whose box has left the port, as the workbench's queue does by
        default (a targeting review's CLI queue ranked gone boxes). Not the trip's newest
        assessment: a re-score on facts scored before shows that earlier one again, and an
        officer review's CLI queue kept ranking a trip first on a watchlist entry removed since."""
        a, t = TripAssessmentRow, ContainerTripRow
        stmt = (select(a).join(t, t.assessment_id == a.id)
                .where(t.regrouped_at.is_(None), a.profile == profile, *([t.left_at.is_(None)] if in_port else [])))
        if since is not None:
            stmt = stmt.where(TripAssessmentRow.scored_at >= since)
        stmt = stmt.order_by(TripAssessmentRow.score.desc(), t.id.desc()).limit(limit)
        return [_plain(r) for r in self.session.scalars(stmt)]
