"""The job runner: APScheduler's BackgroundScheduler over the store's own database.

One-off runs (:meth:`JobRunner.submit`) and recurring schedules
(:meth:`JobRunner.schedule_recurring`) are APScheduler jobs kept in the table
:data:`JOBS_TABLE` of the store's database (SQLAlchemyJobStore), so a job submitted before a
stop runs after the next start. They execute on a thread pool of ``SCHELDT_JOB_WORKERS``
threads (1 by default: the web server keeps the other core). APScheduler stores a job as a
reference to a module-level function and its arguments, so the functions here take only the
store's key (its URL with the password hidden) and a run id, or a kind and its parameters.

One runner per database: :meth:`JobRunner.start` takes a lock (PostgreSQL advisory lock; for
SQLite, a lock file beside the database) and raises :class:`RunnerBusyError` when another
process holds it. Being alone is what lets it mark runs left ``running`` as interrupted, and
keeps two schedulers from running the same stored job. A process without the lock (a command
while the API server runs) can still :meth:`~JobRunner.submit`: the run is queued in
``job_run`` and the running runner picks it up at its next poll (every ``poll_s`` seconds).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED

from scheldt.errors import ConfigError, InputError, ScheldtError, StoreUnavailable
from scheldt.jobs.kinds import check_params, run_kind
from scheldt.jobs.kinds import kind as job_kind
from scheldt.jobs.runs import QUEUED, RUNNING, JobRun, JobRuns
from scheldt.settings import get_settings
from scheldt.store.db import open_store, shown_url, unit_of_work

log = logging.getLogger(__name__)
# The internal executor only runs the poll: its "Running job" lines every few seconds are noise.
logging.getLogger("apscheduler.executors.internal").setLevel(logging.WARNING)


class _StillRunning(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances" warnings: a recurring
    run still going when its next one is due is what ``max_instances=1`` is for (an operator
    review counted 31 such lines in one 40 s job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


logging.getLogger("apscheduler.scheduler").addFilter(_StillRunning())

#: Table of APScheduler's job store, in the store's database (created by APScheduler).
JOBS_TABLE = "scheldt_apscheduler_jobs"
#: How often a running runner looks for runs queued by other processes (seconds).
POLL_S = 5.0
#: Least time between two progress writes of one run (seconds); the last one always lands.
PROGRESS_EVERY_S = 0.2
#: requested_by of the runs a recurring schedule starts.
SCHEDULE = "schedule"
#: How long the job store's SQLite connections wait for the write lock (seconds).
SQLITE_WAIT_S = 60.0
#: Advisory lock key of "the job runner of this database" on PostgreSQL.
PG_LOCK_KEY = 0x5C4E1D7


class RunnerBusyError(ConfigError):
    """Another job runner already runs the jobs of this database."""


_ENGINES: dict[str, Any] = {}
_ENGINES_LOCK = threading.Lock()


def utcnow() -> datetime:
    """The real clock in UTC: job runs record when they really ran, even under SCHELDT_NOW."""
    return datetime.now(UTC)


def _engine(store: str) -> Any:
    """The engine a started runner registered for ``store``; the only one registered when the
    store was named otherwise when the job was stored (a scheduler only reads the job store of
    its own database). Raises ConfigError when neither applies."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(store)
        if engine is None and len(_ENGINES) == 1:
            engine = next(iter(_ENGINES.values()))
    if engine is None:
        raise ConfigError(store, "no job runner of this process is started on this store")
    return engine


def run_job(store: str, run_id: int) -> None:
    """APScheduler's entry point for a submitted run: run ``run_id`` on ``store``'s engine."""
    execute(_engine(store), run_id)


def run_recurring(store: str, kind: str, params: dict[str, Any]) -> None:
    """APScheduler's entry point for a recurring schedule: record a new run of ``kind`` (asked
    by :data:`SCHEDULE`) and run it."""
    engine = _engine(store)
    idle = job_kind(kind).idle
    with unit_of_work(engine) as uow:
        if idle is not None and idle(uow, params):
            return
        run = JobRuns(uow.session).create(kind, params, SCHEDULE, utcnow())
    execute(engine, run.id)


class JobStopped(Exception):
    """Raised in a job at its next progress report once its runner is stopping: the run is left
    ``running``, and the next start marks it interrupted (and queues a rescore for what an
    ingest loaded). An operator review's SIGTERM closed the API at once, but the process went on
    writing for 68 s until the ingest ended, and one could copy a backup over a store still in use."""


#: The engines (by ``id``) whose runner is stopping: their jobs stop at their next progress report.
_STOPPING: set[int] = set()


class _Progress:
    """``progress(fraction, message)`` for one run: each write in its own short transaction,
    at most one per :data:`PROGRESS_EVERY_S`. Progress is advisory: a write that fails (the
    SQLite store busy) is logged and the job goes on."""

    def __init__(self, engine: Any, run_id: int) -> None:
        self.engine, self.run_id = engine, run_id
        self.message = ""
        self.fraction: float | None = None  # of the last call, written or not (a failure writes it)
        self._last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        self.message, self.fraction = message, fraction  # how far it got, also when it stops here
        if id(self.engine) in _STOPPING:
            raise JobStopped(f"stopped before {message!r}: the job runner is stopping")
        if fraction < 1.0 and time.monotonic() - self._last < PROGRESS_EVERY_S:
            return
        self._last = time.monotonic()
        try:
            with unit_of_work(self.engine) as uow:
                JobRuns(uow.session).progress(self.run_id, fraction, message)
        except Exception:  # noqa: BLE001 - see the class docstring
            log.warning("job run %s: progress not recorded", self.run_id, exc_info=True)


def execute(engine: Any, run_id: int) -> None:
    """Claim queued run ``run_id`` and run it; it ends done with its result or failed with the
    error's text ("where: why" for a ScheldtError), a run someone asked for logged either way.
    Does nothing when the run is not queued (another runner took it, or it already ran)."""
    with unit_of_work(engine) as uow:
        runs = JobRuns(uow.session)
        if not runs.claim(run_id, utcnow()):
            return
        run = runs.get(run_id)
    progress = _Progress(engine, run_id)
    began = time.monotonic()
    try:
        result = run_kind(run.kind, lambda: unit_of_work(engine), run.params, progress)
        took = time.monotonic() - began
        with unit_of_work(engine) as uow:
            JobRuns(uow.session).done(run_id, result, f"done in {took:.1f} s", utcnow())
        if run.requested_by != SCHEDULE:  # a run someone asked for (an operator review's left no log line;
            # the recurring ones, a pull every 2 s, would drown the log)
            log.info("job run %s (%s, asked by %s) done in %.1f s", run_id, run.kind, run.requested_by, took)
    except JobStopped as exc:  # left running: marked interrupted at the next start
        log.warning("job run %s %s; it is marked interrupted when a runner starts again", run_id, exc)
        _keep_partial(engine, run_id, getattr(exc, "result", None), progress.fraction, progress.message)
    except Exception as exc:  # noqa: BLE001 - every failure ends on the run, never lost
        _fail(engine, run_id, exc, progress.message, progress.fraction)


def _keep_partial(engine: Any, run_id: int, result: dict[str, Any] | None, fraction: float | None,
                  message: str) -> None:
    """Record on a run left running by a stopping runner what it had done (``result``, e.g. an
    ingest's files loaded) and how far it got, so that the run marked interrupted at the next
    start says so: an operator review's interrupted ingest read "0 %" and no result after its
    first file was committed whole. A store that does not answer is logged, nothing more."""
    if result is None:
        return
    try:
        with unit_of_work(engine) as uow:
            JobRuns(uow.session).keep_partial(run_id, result, fraction, message)
    except Exception:  # noqa: BLE001 - the run is marked interrupted anyway
        log.warning("job run %s: what it had done before stopping was not recorded", run_id, exc_info=True)


#: Failures of runs that could not be written (the store was away), by store (its engine's URL)
#: and run id: the runner's :meth:`JobRunner.poll` writes them once the store answers again.
#: An operator review stopped PostgreSQL under a running job: the run stayed "running" until
#: the server restarted, although the runner took its lock back. Kept in memory only: a
#: runner that stops first leaves the run to be marked interrupted at the next start.
_UNWRITTEN: dict[str, dict[int, tuple[str, datetime, Any, str | None, float | None]]] = {}
_UNWRITTEN_LOCK = threading.Lock()


def _write_failure(engine: Any, run_id: int, failure: tuple[str, datetime, Any, str | None, float | None]) -> bool:
    """Mark run ``run_id`` failed (only if it is still running: another runner may have ended
    it since). False when the store does not answer (try again later); any other error
    writing it (its result cannot be stored, say) is logged, and the failure written without
    the result, or given up: one bad failure never holds up the others."""
    error, at, result, message, fraction = failure
    for attempt in ((result, message), (None, message)) if result is not None else ((None, message),):
        try:
            with unit_of_work(engine) as uow:
                JobRuns(uow.session).failed(run_id, error, at, *attempt, only=RUNNING, progress=fraction)
            return True
        except StoreUnavailable:
            return False
        except Exception:  # noqa: BLE001 - not the store being away: said, then without the result
            log.exception("job run %s: its failure could not be written%s", run_id,
                          " with its result; writing it without" if attempt[0] is not None else "; given up")
    return True


def write_unwritten_failures(engine: Any) -> list[int]:
    """Write the failures of runs of ``engine``'s store that could not be written when they
    happened (:data:`_UNWRITTEN`), with the time they failed; returns the run ids written (or
    given up). Those the store still does not answer for are kept for the next call."""
    key = str(engine.url)
    with _UNWRITTEN_LOCK:
        pending = dict(_UNWRITTEN.get(key, {}))
    written = []
    for run_id, failure in sorted(pending.items()):
        if not _write_failure(engine, run_id, failure):
            log.warning("job run %s: its failure is still not recorded (the store does not answer)", run_id)
            break
        written.append(run_id)
        with _UNWRITTEN_LOCK:
            _UNWRITTEN.get(key, {}).pop(run_id, None)
    if written:
        log.warning("job runs %s: their failures while the store was away are recorded now", written)
    return written


def error_text(exc: BaseException) -> str:
    """The text a failed run keeps: "where: why" for a ScheldtError, else the exception's type
    and first line (the traceback goes to the log)."""
    if isinstance(exc, ScheldtError):
        return str(exc)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:2000]


def _fail(engine: Any, run_id: int, exc: Exception, message: str, fraction: float | None = None) -> None:
    if not isinstance(exc, ScheldtError):
        log.error("job run %s failed", run_id, exc_info=exc)
    else:  # said in the log too: monitoring reads logs, not the job list (operator review)
        log.warning("job run %s failed: %s", run_id, exc)
    failure = (error_text(exc), utcnow(), getattr(exc, "result", None), message or None, fraction)
    if not _write_failure(engine, run_id, failure):  # the store is away: written when it answers again
        log.error("job run %s: failure not recorded yet; the runner writes it when the store answers", run_id)
        with _UNWRITTEN_LOCK:
            _UNWRITTEN.setdefault(str(engine.url), {})[run_id] = failure


class _Lock:
    """The one-runner-per-database lock (see the module docstring)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self._held: Any = None

    def acquire(self) -> None:
        """Take the lock. Raises RunnerBusyError when another runner holds it."""
        dialect, where = self.engine.dialect.name, shown_url(self.engine.url)
        if dialect == "postgresql":
            conn = self.engine.raw_connection()
            conn.detach()  # closing it really closes it, which releases the lock
            cur = conn.cursor()
            cur.execute("SELECT pg_try_advisory_lock(%s)", (PG_LOCK_KEY,))
            held = cur.fetchone()[0]
            conn.commit()  # the lock belongs to the session: no transaction stays open
            if not held:
                conn.close()
                raise RunnerBusyError(where, _BUSY)
            self._held = conn
        elif dialect == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            fh = Path(f"{self.engine.url.database}.runner.lock").open("a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                raise RunnerBusyError(where, _BUSY) from None
            self._held = fh

    def check(self) -> bool:
        """True when this process still holds the lock. A PostgreSQL lock lives as long as its
        connection: when that died (the database restarted, a firewall cut an idle connection),
        the lock was released, and it is taken again here if no other runner took it meanwhile
        (an operator review found a second runner starting then, and both running jobs)."""
        if self.engine.dialect.name != "postgresql":
            return self._held is not None
        if self._held is not None:
            try:
                cur = self._held.cursor()
                cur.execute("SELECT 1")
                cur.fetchone()
                self._held.commit()
                return True
            except Exception:  # noqa: BLE001 - any failure means the session, and the lock, are gone
                with contextlib.suppress(Exception):
                    self._held.close()
                self._held = None
        try:
            self.acquire()
        except Exception:  # noqa: BLE001 - another runner holds it, or the database is still away
            return False
        log.warning("job runner: the lock's database connection was lost; lock taken again")
        return True

    def release(self) -> None:
        """Give the lock back (closing its connection or file)."""
        if self._held is not None:
            try:
                self._held.close()
            finally:
                self._held = None


_BUSY = ("another job runner (the API server, or `scheldt jobs run --wait`) already runs this store's "
         "jobs; submit to it instead")


class _Scheduler(BackgroundScheduler):
    """A BackgroundScheduler whose loop survives a job store error: APScheduler removes a
    finished one-off job outside its own error handling, and on SQLite that write can time
    out behind a long job's transaction. The job stays stored, is found due again, and its
    second start does nothing (the run is no longer queued)."""

    def _process_jobs(self) -> float | None:
        if self.state == STATE_STOPPED:  # woken by the stop itself: nothing to start any more
            return None
        try:
            return super()._process_jobs()
        except Exception:  # noqa: BLE001
            log.warning("job store error; retrying in %s s", self.jobstore_retry_interval, exc_info=True)
            return self.jobstore_retry_interval


class _QuietStop(logging.Filter):
    """Drops APScheduler's "Error submitting job" record for a due job it found while stopping,
    its executors shut down already (``RuntimeError: cannot schedule new futures after
    shutdown``): an operator review's normal stop, a job running, logged it with a traceback,
    which reads as a fault. The job is due again at the next start."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, RuntimeError) and "after shutdown" in str(exc)
                    and record.getMessage().startswith("Error submitting job"))


logging.getLogger("apscheduler.scheduler").addFilter(_QuietStop())


class JobRunner:
    """Runs jobs for the store at ``url``, in this process; see the module docstring.

    ``workers`` defaults to ``SCHELDT_JOB_WORKERS``; ``poll_s`` is how often a started runner
    looks for runs queued by processes without a runner. Opening the runner opens the store
    (raises ConfigError when the PostgreSQL schema is behind).
    """

    def __init__(self, url: str, *, workers: int | None = None, poll_s: float = POLL_S) -> None:
        self.url = url
        self.workers = workers if workers is not None else get_settings().job_workers
        self.poll_s = poll_s
        self.engine = open_store(url)
        self.key = self.engine.url.render_as_string(hide_password=True)
        self.interrupted: list[int] = []
        self._scheduler: _Scheduler | None = None
        self._lock = _Lock(self.engine)
        self._known: set[int] = set()
        self._known_lock = threading.Lock()

    @property
    def started(self) -> bool:
        """True between a successful :meth:`start` and :meth:`shutdown`."""
        return self._scheduler is not None

    # -- life cycle ---------------------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        """Take the runner lock, mark runs left ``running`` failed (they were interrupted; their
        ids end up in ``interrupted``), load the stored jobs, queue runs that have none, and
        start running (or stay ``paused`` until :meth:`resume`). Raises RunnerBusyError when
        another runner holds this database, InputError when already started."""
        if self.started:
            raise InputError("job runner", "already started")
        self._lock.acquire()
        try:
            with unit_of_work(self.engine) as uow:
                runs = JobRuns(uow.session)
                self.interrupted = runs.interrupt_running(utcnow())
                # what a cut ingest loaded is unscored, and a cut rescore left trips under the old
                # profile (operator reviews): score again; nothing is scored without a live profile
                cut_runs = [i for i in self.interrupted if runs.get(i).kind in ("ingest", "rescore")
                            ] if uow.profiles.live() is not None else []
                if cut_runs:
                    runs.create("rescore", {}, f"runner: after interrupted run(s) {cut_runs}", utcnow())
            if self.interrupted:
                log.warning("job runs %s were interrupted by a stop and are marked failed%s", self.interrupted,
                            "; a rescore run is queued for what they left unscored" if cut_runs else "")
            self._scheduler = self._new_scheduler()
            with _ENGINES_LOCK:
                _ENGINES[self.key] = self.engine
            self._scheduler.start(paused=True)
            self.poll()
            self._scheduler.add_job(self.poll, "interval", seconds=self.poll_s, id="poll", jobstore="internal",
                                    executor="internal", replace_existing=True)
        except BaseException:
            self._stop(wait=False)
            raise
        if not paused:
            self._scheduler.resume()

    def resume(self) -> None:
        """Start running jobs after ``start(paused=True)``."""
        self._require_started().resume()

    def shutdown(self, wait: bool = True) -> None:
        """Stop: a running job stops at its next progress report (an ingest before its next
        file: :class:`JobStopped`), and with ``wait`` this returns once it has; a run cut short
        by a stop is marked interrupted at the next start. Releases the lock and the store's
        connections. Safe to call when not started."""
        self._stop(wait)
        self.engine.dispose()

    def _stop(self, wait: bool) -> None:
        if self._scheduler is not None:
            _STOPPING.add(id(self.engine))  # a running job stops at its next progress report
            try:
                if self._scheduler.running:
                    self._scheduler.shutdown(wait=wait)
            finally:
                _STOPPING.discard(id(self.engine))
            self._scheduler = None
        with _ENGINES_LOCK:
            if _ENGINES.get(self.key) is self.engine:
                del _ENGINES[self.key]
        self._lock.release()

    def _new_scheduler(self) -> _Scheduler:
        options = {"connect_args": {"timeout": SQLITE_WAIT_S}} if self.engine.dialect.name == "sqlite" else {}
        return _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self.url, tablename=JOBS_TABLE, engine_options=options),
                       "internal": MemoryJobStore()},
            # recurring work (notices, federation pulls, audit heads) has a thread of its own, so
            # a long ingest or training run never delays a hold notice to a carrier
            executors={"default": ThreadPoolExecutor(self.workers), "internal": ThreadPoolExecutor(1),
                       "recurring": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def _require_started(self) -> _Scheduler:
        if self._scheduler is None:
            raise InputError("job runner", "not started: call start() first")
        return self._scheduler

    # -- work ---------------------------------------------------------------------------------

    def another_running(self) -> bool:
        """True when another process's runner holds this database's lock (so a queued run
        will run); False when none does. Only for a runner not started itself."""
        if self.started:
            return False
        try:
            self._lock.acquire()
        except RunnerBusyError:
            return True
        self._lock.release()
        return False

    def submit(self, kind: str, params: dict[str, Any], requested_by: str) -> int:
        """Record a queued run of ``kind`` with ``params`` (checked, defaults filled in) and
        return its id. A started runner schedules it at once (stored in the job store); an
        unstarted one leaves it to the runner of this database (see the module docstring).
        Raises InputError for an unknown kind or bad parameters (also those naming what the
        store does not hold, such as a peer)."""
        checked = check_params(kind, params)
        with unit_of_work(self.engine) as uow:
            check_store = job_kind(kind).check_store
            if check_store is not None:
                check_store(uow, checked)
            run = JobRuns(uow.session).create(kind, checked, requested_by, utcnow())
        if self._scheduler is not None:
            self._schedule_run(run.id, kind)
        return run.id

    def schedule_recurring(self, kind: str, params: dict[str, Any], every_s: float,
                           first_in_s: float | None = None) -> None:
        """Run ``kind`` every ``every_s`` seconds (first run one interval from now, or
        ``first_in_s`` seconds from now), replacing the schedule of that kind if there is one. A
        run still going when the next is due delays it; missed runs are coalesced into one.
        Raises InputError for a bad kind, parameters or interval, or when the runner is not started."""
        checked = check_params(kind, params)
        if not every_s > 0:
            raise InputError("every_s", f"{every_s!r} is not a positive number of seconds")
        first = {} if first_in_s is None else {"next_run_time": datetime.now(UTC) + timedelta(seconds=first_in_s)}
        self._require_started().add_job(
            run_recurring, "interval", seconds=every_s, args=[self.key, kind, checked], id=kind,
            name=f"{kind} every {every_s:g} s", replace_existing=True, coalesce=True, max_instances=1,
            executor="recurring", **first)

    def unschedule(self, kind: str) -> bool:
        """Stop the recurring schedule of ``kind``; False when there was none."""
        scheduler = self._require_started()
        if scheduler.get_job(kind, jobstore="default") is None:
            return False
        scheduler.remove_job(kind, jobstore="default")
        return True

    def schedules(self) -> list[dict[str, Any]]:
        """The recurring schedules: kind, params, interval (s) and next run (UTC, None when paused)."""
        out = []
        for job in self._require_started().get_jobs(jobstore="default"):
            if job.func is run_recurring:
                out.append({"kind": job.args[1], "params": job.args[2],
                            "every_s": job.trigger.interval.total_seconds(), "next_run": job.next_run_time})
        return out

    def poll(self) -> None:
        """Schedule queued runs that have no stored job (queued by a process without a runner,
        or handed to a worker before a stop), after writing the failures of runs that could
        not be written while the store was away (:func:`write_unwritten_failures`). Runs every
        ``poll_s`` seconds while started. First checks that this runner still holds the lock
        (:meth:`_Lock.check`, which takes it again when its connection was lost). While it
        cannot (another runner, or a session of the dead connection the database has not ended
        yet, holds it), this runner schedules no queued run, says so in the log, and tries again
        at the next poll: a network blip must not stop the node's jobs for good."""
        scheduler = self._require_started()
        if not self._lock.check():
            log.error("job runner: lost the lock of this database (its connection was cut) and cannot take it "
                      "again yet: no queued run is scheduled here until it can")
            return
        write_unwritten_failures(self.engine)
        with unit_of_work(self.engine) as uow:
            queued = JobRuns(uow.session).with_status(QUEUED)
        for run in queued:
            with self._known_lock:
                if run.id in self._known:
                    continue
            if scheduler.get_job(_job_id(run.id), jobstore="default") is not None:
                with self._known_lock:
                    self._known.add(run.id)
                continue
            self._schedule_run(run.id, run.kind)

    def _schedule_run(self, run_id: int, kind: str) -> None:
        with self._known_lock:
            self._known.add(run_id)
        self._require_started().add_job(run_job, args=[self.key, run_id], id=_job_id(run_id),
                                        name=f"{kind} run {run_id}", replace_existing=True, jobstore="default")

    # -- reading ------------------------------------------------------------------------------

    def get(self, run_id: int) -> JobRun:
        """Run ``run_id`` as stored now. Raises NotFoundError."""
        with unit_of_work(self.engine) as uow:
            return JobRuns(uow.session).get(run_id)

    def recent(self, limit: int = 20, kind: str | None = None, status: str | None = None) -> list[JobRun]:
        """The ``limit`` newest runs (of ``kind``, in ``status`` when given), newest first."""
        with unit_of_work(self.engine) as uow:
            return JobRuns(uow.session).recent(limit, kind, status)

    def wait(self, run_id: int, timeout_s: float) -> JobRun:
        """Poll run ``run_id`` until it is done or failed and return it. Raises TimeoutError
        when it has not finished within ``timeout_s`` seconds, NotFoundError for no such run."""
        deadline = time.monotonic() + timeout_s
        pause = 0.02
        while True:
            run = self.get(run_id)
            if run.finished:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job run {run_id} is still {run.status} after {timeout_s:g} s")
            time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
            pause = min(pause * 1.5, 0.25)


def _job_id(run_id: int) -> str:
    return f"run-{run_id}"
