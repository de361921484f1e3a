"""One line, not a traceback, for a lost database connection in the libraries' own logs.

When PostgreSQL drops the connections of a running ``scheldt serve`` (a restart, an operator
ending backends), SQLAlchemy's pool ("Exception during reset or similar") and APScheduler's
job store ("Error getting due jobs from job store") each log the driver's error with a full
traceback, beside Scheldt's own one-line message that says the same; an operator review took
them for a crash. :class:`ConnectionLost` keeps such a record but drops its traceback and says
what happened in its message. Every other record is left as it is.
"""

from __future__ import annotations

import logging
import re

#: The libraries' loggers whose records this applies to (a filter acts on its own logger only).
LOGGERS = ("sqlalchemy.pool.impl.QueuePool", "sqlalchemy.pool.impl.NullPool", "sqlalchemy.pool.impl.StaticPool",
           "sqlalchemy.pool.impl.SingletonThreadPool", "apscheduler.scheduler")
#: Exception class names of the errors a lost connection raises (the DBAPI's own and
#: SQLAlchemy's wrappers of them) ...
_LOST = frozenset({"OperationalError", "InterfaceError"})
#: ... and what their message says when the connection is what was lost (psycopg, PostgreSQL).
#: SQLite raises OperationalError for a lock, a full disk or a missing table: those keep their
#: traceback (a regression review found them told as a lost connection).
_LOST_SAID = re.compile(r"connection (?:is )?(?:lost|closed|refused|failed|timed out)|server closed the connection|"
                        r"terminating connection|could not connect|the connection is bad|consuming input failed",
                        re.IGNORECASE)


class ConnectionLost(logging.Filter):
    """Turns a record carrying a lost-connection error into one line: the message, then the
    error's class and the first line of what it says; the traceback left out."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or type(exc).__name__ not in _LOST or not _LOST_SAID.search(str(exc)):
            return True
        said = (str(exc).strip().splitlines() or [""])[0][:200]
        record.msg = f"{record.getMessage()}: the database connection was lost ({type(exc).__name__}: {said})"
        record.args = ()
        record.exc_info = record.exc_text = None
        return True


def quiet_connection_losses() -> None:
    """Attach one :class:`ConnectionLost` to each of :data:`LOGGERS` (once per process)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ConnectionLost) for f in logger.filters):
            logger.addFilter(ConnectionLost())
