"""The ``job_run`` table: one row per run of long or recurring work, with its progress.

:class:`JobRuns` never commits: the caller owns the transaction. The runner writes each change
of state (claimed, progress, done, failed) in a short transaction of its own, so a reader (the
CLI's progress bar, an API request) sees it while the job runs.

Queries use ``Session.query`` on purpose: only :mod:`scheldt.store` imports SQLAlchemy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from scheldt.errors import NotFoundError
from scheldt.store.models import JobRunRow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: Statuses a run never leaves.
FINISHED = (DONE, FAILED)
STATUSES = (QUEUED, RUNNING, DONE, FAILED)
INTERRUPTED = "interrupted: the process stopped"


def _utc(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _clamped(fraction: float) -> float:
    """A progress fraction as stored: clamped to 0..1, NaN as 0."""
    return 0.0 if math.isnan(fraction) else min(max(fraction, 0.0), 1.0)


@dataclass(frozen=True, slots=True)
class JobRun:
    """A run as stored: ``status`` is queued, running, done or failed; ``progress`` in 0..1;
    ``message`` the latest progress text; ``result`` the job's JSON result (done, and failed
    jobs that got part of the way); ``error`` "where: why" when failed; times in UTC."""

    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    result: dict[str, Any]
    error: str
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        """True once done or failed."""
        return self.status in FINISHED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO 8601 strings)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        for f in ("created_at", "started_at", "finished_at"):
            out[f] = out[f].isoformat() if out[f] is not None else None
        return out


def _plain(row: JobRunRow) -> JobRun:
    return JobRun(row.id, row.kind, dict(row.params or {}), row.status, float(row.progress or 0.0), row.message or "",
                  dict(row.result or {}), row.error or "", row.requested_by or "", _utc(row.created_at),  # type: ignore[arg-type]
                  _utc(row.started_at), _utc(row.finished_at))


class JobRuns:
    """Job runs in one session (never commits)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def create(self, kind: str, params: dict[str, Any], requested_by: str, now: datetime) -> JobRun:
        """A new run of ``kind``, status queued, with ``params`` (JSON-able) and who asked."""
        row = JobRunRow(kind=kind, params=params, status=QUEUED, progress=0.0, message="", result={}, error="",
                        requested_by=requested_by[:64], created_at=now)
        self.session.add(row)
        self.session.flush()
        return _plain(row)

    def get(self, run_id: int) -> JobRun:
        """The run ``run_id``. Raises NotFoundError."""
        row = self.session.get(JobRunRow, run_id)
        if row is None:
            raise NotFoundError(f"job run {run_id}", "no such run")
        return _plain(row)

    def recent(self, limit: int = 20, kind: str | None = None, status: str | None = None) -> list[JobRun]:
        """The ``limit`` newest runs (of ``kind``, in ``status`` when given), newest first."""
        query = self.session.query(JobRunRow)
        if kind is not None:
            query = query.filter(JobRunRow.kind == kind)
        if status is not None:
            query = query.filter(JobRunRow.status == status)
        return [_plain(r) for r in query.order_by(JobRunRow.id.desc()).limit(limit).all()]

    def with_status(self, status: str) -> list[JobRun]:
        """Every run in ``status``, oldest first."""
        rows = self.session.query(JobRunRow).filter(JobRunRow.status == status).order_by(JobRunRow.id).all()
        return [_plain(r) for r in rows]

    def claim(self, run_id: int, now: datetime) -> bool:
        """Move a queued run to running (started now); False when it is not queued (another
        runner took it, or it already ran). One statement, so two claimants cannot both win."""
        changed = (self.session.query(JobRunRow)
                   .filter(JobRunRow.id == run_id, JobRunRow.status == QUEUED)
                   .update({JobRunRow.status: RUNNING, JobRunRow.started_at: now, JobRunRow.progress: 0.0},
                           synchronize_session=False))
        return changed == 1

    def progress(self, run_id: int, fraction: float, message: str) -> None:
        """Record progress of a running run: ``fraction`` clamped to 0..1 (NaN counts as 0)."""
        value = _clamped(fraction)
        (self.session.query(JobRunRow)
         .filter(JobRunRow.id == run_id, JobRunRow.status == RUNNING)
         .update({JobRunRow.progress: value, JobRunRow.message: message}, synchronize_session=False))

    def keep_partial(self, run_id: int, result: dict[str, Any], fraction: float | None, message: str) -> None:
        """Record what a run still ``running`` had done when its runner stopped (``result``), its
        progress ``fraction`` (kept when None) and ``message`` (the step it stopped before), for
        the run marked interrupted later."""
        values: dict[Any, Any] = {JobRunRow.result: result, JobRunRow.message: message}
        if fraction is not None:
            values[JobRunRow.progress] = _clamped(fraction)
        self._finish(run_id, values, only=RUNNING)

    def done(self, run_id: int, result: dict[str, Any], message: str, now: datetime) -> None:
        """Mark a run done with its JSON ``result``; progress becomes 1."""
        self._finish(run_id, {JobRunRow.status: DONE, JobRunRow.progress: 1.0, JobRunRow.result: result,
                              JobRunRow.message: message, JobRunRow.finished_at: now})

    def failed(self, run_id: int, error: str, now: datetime, result: dict[str, Any] | None = None,
               message: str | None = None, only: str | None = None, progress: float | None = None) -> None:
        """Mark a run failed with ``error`` ("where: why"); ``result`` keeps what was done,
        ``message`` the last progress text (where it stopped) and ``progress`` its fraction (a
        review saw "reading 4 of 5" beside 0 %: the last progress write had been throttled);
        with ``only``, only a run in that status."""
        values: dict[Any, Any] = {JobRunRow.status: FAILED, JobRunRow.error: error, JobRunRow.finished_at: now}
        if progress is not None:
            values[JobRunRow.progress] = _clamped(progress)
        if result is not None:
            values[JobRunRow.result] = result
        if message is not None:
            values[JobRunRow.message] = message
        self._finish(run_id, values, only)

    def interrupt_running(self, now: datetime) -> list[int]:
        """Mark every run still ``running`` failed (:data:`INTERRUPTED`): called when a runner
        starts, the only runner on the database, so no run can really still be running.
        Returns the ids marked."""
        ids = [r.id for r in self.with_status(RUNNING)]
        for run_id in ids:
            self._finish(run_id, {JobRunRow.status: FAILED, JobRunRow.error: INTERRUPTED, JobRunRow.finished_at: now},
                         only=RUNNING)
        return ids

    def prune(self, requested_by: str, finished_before: datetime) -> int:
        """Delete finished runs requested by ``requested_by`` (e.g. the scheduler) that finished
        before ``finished_before`` (UTC); returns how many. Runs people started are kept."""
        return self.session.query(JobRunRow).filter(
            JobRunRow.requested_by == requested_by, JobRunRow.status.in_(FINISHED),
            JobRunRow.finished_at < finished_before).delete(synchronize_session=False)

    def _finish(self, run_id: int, values: dict[Any, Any], only: str | None = None) -> None:
        query = self.session.query(JobRunRow).filter(JobRunRow.id == run_id)
        if only is not None:
            query = query.filter(JobRunRow.status == only)
        query.update(values, synchronize_session=False)
