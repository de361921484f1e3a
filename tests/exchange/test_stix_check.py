"""STIX checks of received envelopes over worker processes (scheldt.exchange.stix_check): the
same answers as in the receiving process, object by object and in order, and a broken pool
falls back to checking here."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from scheldt.api.app import create_app
from scheldt.domain.exchange import Tlp
from scheldt.exchange import stix_check
from scheldt.settings import get_settings
from scheldt.store.db import open_store
from tests.exchange.taxii_nodes import indicator


@pytest.fixture
def processes(settings_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "2")
    get_settings.cache_clear()
    yield
    stix_check.stop_pool()
    get_settings.cache_clear()


def envelope() -> tuple[list[dict[str, Any]], dict[int, str]]:
    """100 indicators, four of them invalid in different ways: (objects, index -> what is wrong)."""
    objects = [indicator("be-customs", Tlp.AMBER, "be-us", name=f"n{i}") for i in range(100)]
    objects[3]["pattern"] = "[ipv4-addr:value = "  # not a STIX pattern
    objects[40]["valid_from"] = "yesterday"
    del objects[71]["pattern_type"]
    objects[99]["created"] = datetime(2026, 1, 1, tzinfo=UTC).isoformat() + " and more"
    return objects, {3: "pattern", 40: "valid_from", 71: "pattern_type", 99: "created"}


def test_a_big_envelope_is_checked_in_the_pool_as_it_would_be_here(processes: None) -> None:
    objects, wrong = envelope()
    here = [stix_check.stix_problem(o) for o in objects]
    pooled = stix_check.stix_problems(objects)
    assert stix_check._pool is not None  # the pool did the work
    assert pooled == here
    assert [i for i, p in enumerate(pooled) if p] == sorted(wrong)
    for i, field in wrong.items():
        assert pooled[i].startswith("not valid STIX 2.1") and field in pooled[i], pooled[i]


def test_a_small_envelope_or_no_processes_stays_here(settings_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    objects, _ = envelope()
    monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "0")
    get_settings.cache_clear()
    assert stix_check.stix_problems(objects) == [stix_check.stix_problem(o) for o in objects]
    assert stix_check._pool is None
    monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "2")
    get_settings.cache_clear()
    assert stix_check.stix_problems(objects[:stix_check.PARALLEL_MIN - 1])[3] is not None
    assert stix_check._pool is None
    get_settings.cache_clear()


def test_the_pool_takes_this_process_share_of_the_cores_unless_set(settings_env: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, a server process's check pool takes its share of the CPUs it may use, at most 2
    (the default before): on 2 CPUs, 2 processes for a lone server, none (the worker checks)
    for each of ``--workers 2``; four check processes beside two workers and PostgreSQL stored
    a tenth fewer objects a second. A host's CPUs beyond the process's affinity do not count,
    and a big host starts no more than before (a review: 64 processes a worker on 128 CPUs)."""
    monkeypatch.delenv("SCHELDT_STIX_CHECK_PROCESSES", raising=False)
    cpus = {0, 1}
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: cpus)
    monkeypatch.setattr(os, "cpu_count", lambda: 128)
    get_settings.cache_clear()
    try:
        assert stix_check.pool_size() == 2
        stix_check.share_cores(2)
        assert stix_check.pool_size() == 1
        objects, wrong = envelope()
        assert [i for i, p in enumerate(stix_check.stix_problems(objects)) if p] == sorted(wrong)
        assert stix_check._pool is None  # checked here
        stix_check.share_cores(1)
        cpus = {0}  # taskset -c 0
        assert stix_check.pool_size() == 1
        cpus = set(range(128))
        assert stix_check.pool_size() == 2
        stix_check.share_cores(3)
        assert stix_check.pool_size() == 1  # at least one: the caller
        monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "4")
        get_settings.cache_clear()
        assert stix_check.pool_size() == 4  # the operator's number, whatever the share
    finally:
        stix_check.share_cores(1)
        stix_check.stop_pool()
        get_settings.cache_clear()


def test_a_killed_worker_falls_back_to_checking_here_and_a_new_pool_follows(processes: None) -> None:
    objects, wrong = envelope()
    stix_check.stix_problems(objects)
    pool = stix_check._pool
    assert pool is not None
    for pid in list(pool._processes):  # a worker killed (out of memory, an operator)
        os.kill(pid, signal.SIGKILL)
    problems = stix_check.stix_problems(objects)
    assert [i for i, p in enumerate(problems) if p] == sorted(wrong)
    assert stix_check._pool is None or stix_check._pool is not pool
    again = stix_check.stix_problems(objects)
    assert [i for i, p in enumerate(again) if p] == sorted(wrong) and stix_check._pool is not pool


# Indicator patterns: the memory of valid pattern forms gives stix2-patterns' own answers.
_PIECES = ["[", "]", "(", ")", "scheldt-container:number", "file:hashes.'SHA-256'", "x-a:b.'c'", " = ", " != ",
           " IN ", " LIKE ", " AND ", " OR ", " FOLLOWEDBY ", "'", "''", "'MSCU1234565'", "'it", "s'", "\\",
           "\\'", "\\\\", "t'2026-01-01T00:00:00Z'", "t'2026-13-01'", "b'AAAA'", "h'0f'", "'aa'", " START ",
           " STOP ", " WITHIN 5 SECONDS", "1", ",", "x", "/*", "*/", "//", "\n", " JUNK "]


def test_pattern_forms_empty_string_literals_only() -> None:
    assert stix_check.pattern_form("[scheldt-container:number = 'MSCU1234565']") == "[scheldt-container:number = '']"
    assert stix_check.pattern_form("[a:b = 'x'] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'") == (
        "[a:b = ''] START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'")
    assert stix_check.pattern_form("[file:hashes.'SHA-256' = 'aa']") == "[file:hashes.'SHA-256' = 'aa']"
    assert stix_check.pattern_form("[a:b = 'it\\'s']") == "[a:b = 'it\\'s']"


@pytest.mark.parametrize("pattern", [
    "[a:b = /* ' */ JUNK /* ' */ 'x']",  # a quote in a comment paired with the next one hid JUNK
    "[file:name = 'evil.exe' /* ' */ OR ) ( /* ' */]",
    "[a:b = 'y' // '\n JUNK '\n]",
])
def test_quotes_in_comments_do_not_hide_tokens_from_the_validator(pattern: str) -> None:
    assert stix_check._run_validator(pattern, "2.1") != []
    assert stix_check.check_pattern(pattern) != []
    assert "not valid STIX 2.1" in str(stix_check.stix_problem(_with_pattern(pattern)))


def _with_pattern(pattern: str) -> dict[str, Any]:
    return {**indicator("be-customs", Tlp.GREEN, None), "pattern": pattern}


def test_an_invalid_pattern_of_a_remembered_form_is_still_refused() -> None:
    assert stix_check.stix_problem(_with_pattern("[scheldt-container:number = 'MSCU1234565']")) is None
    assert "not a valid SHA-256 hash" in str(stix_check.stix_problem(_with_pattern("[file:hashes.'SHA-256' = 'x']")))
    assert stix_check.stix_problem(_with_pattern("[file:hashes.'SHA-256' = '" + "ab" * 32 + "']")) is None
    assert "not valid STIX 2.1" in str(stix_check.stix_problem(_with_pattern("[scheldt-container:number = 'MSCU\\n']")))
    assert "not valid STIX 2.1" in str(stix_check.stix_problem(_with_pattern("[scheldt-container:number = 'MSCU'")))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12))
def test_the_memory_of_forms_answers_as_the_validator_does(pieces: list[str]) -> None:
    pattern = "".join(pieces)
    assert (stix_check.check_pattern(pattern) == []) == (stix_check._run_validator(pattern, "2.1") == [])


def test_warm_starts_the_workers_before_the_first_envelope(processes: None) -> None:
    """warm returns once every worker process has answered (each checked an object when it
    started). A benchmark review: it returned once two tasks were done, which the first worker
    up could do alone while the other was still importing, and the first envelopes after
    start-up waited for it."""
    started = stix_check.warm()
    pool = stix_check._pool
    assert pool is not None and started == set(pool._processes) and len(started) == 2
    objects, wrong = envelope()
    problems = stix_check.stix_problems(objects)
    assert stix_check._pool is pool and [i for i, p in enumerate(problems) if p] == sorted(wrong)


def test_warm_with_no_worker_processes_starts_none(settings_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_STIX_CHECK_PROCESSES", "1")
    get_settings.cache_clear()
    stix_check.stop_pool()  # one an earlier test of this worker process left (it failed when run after one)
    assert stix_check.warm() == frozenset()
    assert stix_check._pool is None
    get_settings.cache_clear()


def test_the_server_warms_the_checks_at_start_up(processes: None, tmp_path: Any) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}", auto_upgrade=True)
    try:
        with TestClient(create_app(engine, workbench=False, warm=True)) as client:
            assert client.get("/healthz").status_code == 200
            deadline = time.monotonic() + 30
            while (stix_check._pool is None or len(stix_check._pool._processes) < 2) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert stix_check._pool is not None and len(stix_check._pool._processes) == 2
    finally:
        engine.dispose()


def test_the_pool_processes_leave_when_the_process_that_started_them_is_killed() -> None:
    import subprocess
    import sys

    owner = subprocess.Popen(
        [sys.executable, "-c", "from scheldt.exchange import stix_check; stix_check.warm(); "
         "print(*stix_check._pool._processes, flush=True); import time; time.sleep(600)"],
        env={**os.environ, "SCHELDT_STIX_CHECK_PROCESSES": "2"}, stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(p) for p in owner.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) == 2
    finally:
        owner.kill()  # SIGKILL: no exit handler runs in the owner
        owner.wait()
    deadline = time.monotonic() + 3 * stix_check.PARENT_CHECK_S + 10
    left = workers
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in workers if os.path.exists(f"/proc/{p}") and open(f"/proc/{p}/stat").read().split(") ")[1][0] != "Z"]
    assert left == []
