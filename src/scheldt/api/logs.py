"""How the service logs: one line per record with its time (UTC, ISO 8601), level and logger,
for Scheldt's own loggers and uvicorn's alike, in every worker process.

An operator review found the server's lines bare ("job run 41 failed: ...", uvicorn's
"INFO: ..."), with no time to line them up with the audit log or job records during an incident.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

#: Each line: ``2026-12-05T13:30:59.545Z WARNING scheldt.jobs: job run 41 failed: ...``.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever ``sys.stderr`` is when a record is logged, not the stream
    it was when logging was configured (a command run in-process, as the tests run them,
    replaces and closes it: later records failed with "I/O operation on closed file")."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # the base class sets it; the current one is always used
        pass


class UtcFormatter(logging.Formatter):
    """Times in UTC, ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""

    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + f".{int(record.msecs):03d}Z"


def log_config(level: str = "info") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` (and uvicorn ``log_config``) that writes every record
    of ``level`` and above to standard error as :data:`LOG_FORMAT`; uvicorn's loggers go through
    the same handler (uvicorn's own configuration gave them a format without a time)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"utc": {"()": UtcFormatter, "format": LOG_FORMAT}},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "utc"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {name: {"handlers": [], "level": level, "propagate": True}
                    for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
        # the scheduler says every run of every recurring job at INFO (a pull every 2 s), the
        # HTTP client every request with its URL, query string included (a carrier's callback
        # token: a regression review), and alembic seven "setup plugin" lines at every start
        # (an operator review): their warnings and errors only
        | {name: {"handlers": [], "level": "WARNING" if level in ("DEBUG", "INFO") else level, "propagate": True}
           for name in ("apscheduler", "httpx", "httpcore", "alembic.runtime.plugins")},
    }


def configure_logging(level: str = "info") -> None:
    """Apply :func:`log_config` to this process."""
    import logging.config

    logging.config.dictConfig(log_config(level))
