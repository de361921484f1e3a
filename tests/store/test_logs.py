"""A lost database connection is one line in the libraries' logs, not a traceback."""

from __future__ import annotations

import logging

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

import scheldt.store.db  # noqa: F401  (attaches the filters, as every store user does)


def test_a_lost_connection_is_one_line_and_other_errors_keep_their_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """An operator review: ending the backends of a running `scheldt serve` logged SQLAlchemy's
    "Exception during reset or similar" and APScheduler's "Error getting due jobs" with full
    tracebacks of psycopg's error, beside Scheldt's own line; they read as a crash."""
    pool = logging.getLogger("sqlalchemy.pool.impl.QueuePool")
    scheduler = logging.getLogger("apscheduler.scheduler")
    lost = psycopg.OperationalError("consuming input failed: terminating connection due to administrator command\n"
                                    "server closed the connection unexpectedly")
    wrapped = OperationalError("SELECT scheldt_apscheduler_jobs.id ...", {}, lost)
    with caplog.at_level(logging.DEBUG):
        for logger, exc, said in ((pool, lost, "Exception during reset or similar"),
                                  (scheduler, wrapped, "Error getting due jobs from job store %r"),
                                  (pool, ValueError("a bug"), "Exception during reset or similar"),
                                  (scheduler, OperationalError("SELECT ...", {}, Exception("database or disk is full")),
                                   "Error getting due jobs from job store %r")):
            try:
                raise exc
            except Exception:  # noqa: BLE001
                logger.error(said, *(["default"] if "%r" in said else []), exc_info=True)
    first, second, third, fourth = caplog.records
    assert first.exc_info is None and first.getMessage() == (
        "Exception during reset or similar: the database connection was lost (OperationalError: consuming input "
        "failed: terminating connection due to administrator command)")
    assert second.exc_info is None and second.getMessage().startswith(
        "Error getting due jobs from job store 'default': the database connection was lost (OperationalError: ")
    assert third.exc_info is not None and third.getMessage() == "Exception during reset or similar"
    # a SQLite store's full disk (OperationalError too) is no lost connection: its traceback stays
    # (a regression review: it was told as one)
    assert fourth.exc_info is not None and "connection" not in fourth.getMessage()
