"""STIX 2.1 checks of received objects with the stix2 library, on several cores for big envelopes.

stix2 builds every object in Python to check it: about 0.4 ms an object on average, several
milliseconds for an indicator whose pattern its ANTLR grammar parses, which is more than half the
CPU of receiving a TAXII envelope (benchmarks/taxii_load.py). A request runs on one core (the
GIL), and an HTTP server process may hold every partner's connection, so one envelope of
:data:`PARALLEL_MIN` objects or more is split over a pool of worker processes
(``SCHELDT_STIX_CHECK_PROCESSES``; 0 or 1 checks in the caller's process; unset, up to 2
shared among the server's processes: :func:`pool_size`). The pool is
started on first use ("spawn": the server process runs threads, which forking does not copy
safely), or by :func:`warm` when the server starts, and stopped when the process exits. Where
the pool breaks (a worker killed), the envelope is checked in the caller's process and a new
pool is started next time.

Only the stix2 check runs in the pool; the cheap structural checks of
:func:`scheldt.workflows.sharing.precheck_object` run first in the caller, so only well-formed,
shallow objects are sent.

STIX patterns of indicators are checked by stix2's validator (the stix2-patterns library) with
one memory: a pattern is checked in the form it has with the contents of its string literals
emptied (:func:`pattern_form`), and a form found valid is not parsed again. Watchlist entries
share a handful of such forms (``[scheldt-container:number = '…']``), so most patterns cost a
look-up instead of an ANTLR parse (about 1.6 ms each). Why the answer is the same: in a
pattern without a backslash and without a slash (which every comment, ``/* */`` or ``//``,
needs: a quote inside a comment pairs with no other), quotes pair up one after the other
whatever the literals are (string, timestamp, binary, hex), so emptying string literals
changes no token but their contents, and the grammar takes any contents but a quote or a
backslash; the one check that reads contents, of hash values, is kept by leaving patterns that
name ``hashes`` whole. A pattern with a backslash or a slash is checked as it is, and so is a
pattern whose form is not valid, so that errors name its own text.
"""

from __future__ import annotations

import atexit
import functools
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import stix2
import stix2.v21.sdo
from stix2.exceptions import STIXError

from scheldt.exchange import stix_mapping  # noqa: F401 - registers Scheldt's STIX types with stix2, here and in workers
from scheldt.settings import get_settings

log = logging.getLogger("scheldt.stix_check")

#: Envelopes with fewer objects are checked in the caller's process (sending them costs more).
PARALLEL_MIN = 64

_pool: ProcessPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()


#: A literal of a STIX pattern without backslashes: a timestamp, binary or hex literal (kept
#: whole), or a string literal (emptied).
_LITERAL = re.compile(r"(?P<prefixed>[tbh]'[^']*')|'[^']*'")
_run_validator = stix2.v21.sdo.run_validator


def pattern_form(pattern: str) -> str:
    """``pattern`` with the contents of its string literals emptied (``'x'`` → ``''``);
    unchanged when it holds a backslash, a slash (comments) or names ``hashes`` (whose values
    the validator checks)."""
    if "hashes" in pattern or "\\" in pattern or "/" in pattern:
        return pattern
    return _LITERAL.sub(lambda m: m.group(0) if m.group("prefixed") else "''", pattern)


@functools.lru_cache(maxsize=4096)
def _form_is_valid(form: str, version: str) -> bool:
    return not _run_validator(form, version)


def check_pattern(pattern: Any, stix_version: str = "2.1") -> list[str]:
    """stix2-patterns' ``run_validator`` (the error messages of ``pattern``; none when valid),
    answered from the memory of valid forms (see the module docstring) where it can."""
    if isinstance(pattern, str) and _form_is_valid(pattern_form(pattern), stix_version):
        return []
    return _run_validator(pattern, stix_version)


if getattr(stix2.v21.sdo, "run_validator", None) is _run_validator:
    stix2.v21.sdo.run_validator = check_pattern  # the validator stix2's Indicator calls


def stix_problem(obj: dict[str, Any]) -> str | None:
    """Why the stix2 library refuses ``obj`` as a STIX 2.1 object (custom objects and
    extensions allowed), or None when it takes it."""
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"not valid STIX 2.1: {exc}"
    return None


#: How many processes serve requests side by side, this one among them (``scheldt serve
#: --workers N``: N; set by :func:`share_cores`).
_serving_processes = 1


def share_cores(processes: int) -> None:
    """Say that this process is one of ``processes`` server processes of one machine (``scheldt
    serve --workers N``): unless ``SCHELDT_STIX_CHECK_PROCESSES`` says otherwise, its pool then
    takes only its share of the cores (:func:`pool_size`). Call it before the first check."""
    global _serving_processes
    _serving_processes = max(1, processes)


#: The most check processes a server process starts by default (``SCHELDT_STIX_CHECK_PROCESSES``
#: may give more): the fixed default before the share of the cores.
DEFAULT_MAX_PROCESSES = 2


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), not every CPU of the host."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        return os.cpu_count() or 1


def pool_size() -> int:
    """Processes that check an envelope of :data:`PARALLEL_MIN` objects or more (below 2: none,
    the caller checks): ``SCHELDT_STIX_CHECK_PROCESSES`` when set, else the usable CPUs, at most
    :data:`DEFAULT_MAX_PROCESSES`, divided among the server processes (:func:`share_cores`), at
    least 1. A pool of 2 per server process oversubscribed the cores: with ``--workers 2`` on 2
    cores, four check processes beside the two workers and PostgreSQL stored 5,030 and 5,080
    objects a second in ``benchmarks/taxii_load.py``'s Add Objects, one check in each worker
    5,620 and 5,630 (runs in turn, 30,000 objects, 2026-12-07). Capped: a review's host of 128
    CPUs would have started 64 check processes per worker, whatever the container's limit."""
    configured = get_settings().stix_check_processes
    if configured is not None:
        return configured
    return max(1, min(DEFAULT_MAX_PROCESSES, usable_cpus()) // _serving_processes)


def _problems(objects: list[dict[str, Any]]) -> list[str | None]:
    return [stix_problem(o) for o in objects]


def _executor(size: int) -> ProcessPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_worker, initargs=(os.getpid(),))
            _pool_size = size
        return _pool


#: Seconds between two checks by a worker process that the process that started it is alive.
PARENT_CHECK_S = 2.0


def _start_worker(parent: int) -> None:
    """In a new worker process, before it takes any work: leave with ``parent``
    (:func:`_leave_with_parent`), and check one object, so that stix2 and its pattern grammar
    are loaded before the first envelope."""
    _leave_with_parent(parent)
    _problems([_WARM_OBJECT])


def _leave_with_parent(parent: int) -> None:
    """In a worker process: exit once ``parent`` (the process that started the pool) is gone.
    A pool whose owner is killed (SIGKILL, a crash) would otherwise leave its workers behind,
    waiting for work forever. Ctrl-C is left to the owner, which stops the pool (each worker
    printed a KeyboardInterrupt traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-parent", daemon=True).start()


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def stop_pool() -> None:
    """Stop the worker processes, if started (at exit; tests call it too)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(stop_pool)


#: What :func:`warm` checks: a watchlist-entry indicator of the shape partners send most.
_WARM_OBJECT = {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000000",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "pattern": f"[{stix_mapping.CONTAINER_TYPE}:number = 'APZU4812090']", "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z"}


#: Seconds :func:`warm` waits for every worker process to be up, at most.
WARM_TIMEOUT_S = 120.0


def _worker_pid() -> int:
    """In a worker process: its process id, after a short pause, so that a worker still starting
    gets its share of the next tasks rather than one worker taking them all."""
    time.sleep(0.02)
    return os.getpid()


def warm() -> frozenset[int]:
    """Get checking ready before the first envelope arrives: stix2's pattern grammar loaded
    here, and, when :func:`pool_size` is 2 or more, every worker process started
    and having checked one object (:func:`_start_worker`). Returns once they are (at most
    :data:`WARM_TIMEOUT_S` s) with the process ids of the worker processes that are, so a
    caller can tell when the node is ready (none without worker processes). Without it the
    first envelopes a server receives wait for process start-up and imports, several tenths
    of a second per process on 2 cores, while the processes starting take the CPU.
    ``scheldt serve`` calls it at start-up, in a thread, and answers ``/readyz`` with 503 until
    it returns. A pool that breaks or is stopped meanwhile is left to :func:`stix_problems`
    (which checks in the caller's process then); other errors (no process could be started)
    are raised."""
    _problems([_WARM_OBJECT])
    size = pool_size()
    if size < 2:
        return frozenset()
    pool = _executor(size)
    started: set[int] = set()
    deadline = time.monotonic() + WARM_TIMEOUT_S
    try:
        while len(started) < size and time.monotonic() < deadline:
            tasks = [pool.submit(_worker_pid) for _ in range(size)]
            started.update(done.result(timeout=max(0.0, deadline - time.monotonic())) for done in tasks)
    except BrokenProcessPool:
        _discard(pool)
    except TimeoutError:
        pass
    except RuntimeError:  # the pool was shut down meanwhile: the server stopped while starting
        return frozenset(started)
    if len(started) < size:
        log.warning("%d of %d STIX check processes started", len(started), size)
    return frozenset(started)


def stix_problems(objects: list[dict[str, Any]]) -> list[str | None]:
    """:func:`stix_problem` of each of ``objects`` (JSON objects), in order. Envelopes of
    :data:`PARALLEL_MIN` objects or more are split over the worker processes (see the module
    docstring); the answers are the same either way."""
    size = pool_size()
    if size < 2 or len(objects) < PARALLEL_MIN:
        return _problems(objects)
    pool = _executor(size)
    step = -(-len(objects) // size)
    try:
        parts = list(pool.map(_problems, [objects[i:i + step] for i in range(0, len(objects), step)]))
    except BrokenProcessPool:
        log.warning("the STIX check processes stopped; checking %d objects here", len(objects))
        _discard(pool)
        return _problems(objects)
    return [p for part in parts for p in part]
