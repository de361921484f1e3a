"""Consistent copies of the store, for backups: SQLite through its online backup API (a copy
of one moment, taken while the server goes on writing), PostgreSQL through ``pg_dump`` (its
custom format, read back with ``pg_restore``). Nothing here restores: restoring replaces a
running node's data and is done by hand, as the README's "Backup and restore" says."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from scheldt.errors import ConfigError, InputError, StoreUnavailable

#: What a PostgreSQL dump may take before it is given up (s): a day's growth of a national node
#: dumps in minutes; hours mean a stuck server.
PG_DUMP_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class StoreCopy:
    """A copy of the store written by :func:`copy_store`: the file, its kind (``sqlite`` or
    ``pg_dump``), its size in bytes and its SHA-256 (hex), to check it before a restore."""

    path: Path
    kind: str
    size: int
    sha256: str


def copy_store(url: str, dest: Path) -> StoreCopy:
    """Write a consistent copy of the store at SQLAlchemy ``url`` to the new file ``dest``.

    SQLite: the online backup API copies the database as of one moment, pages read under the
    database's own locks, so a serving node need not stop; the copy is then checked with
    ``PRAGMA quick_check``. PostgreSQL: ``pg_dump --format=custom`` (one snapshot; the password
    is passed in its environment, never on its command line). Raises InputError when ``dest``
    exists, ConfigError when ``pg_dump`` is not installed or the URL is neither store, and
    StoreUnavailable when the store cannot be read, the copy cannot be written or fails its
    check (``dest`` is removed then). The copy is readable by its owner only (mode 0600)."""
    if dest.exists():
        raise InputError(str(dest), "exists; a backup never writes over a file")
    parsed = make_url(url)
    try:
        dest.touch(mode=0o600, exist_ok=False)  # the owner's only from its first byte
        if parsed.get_backend_name() == "sqlite":
            _copy_sqlite(_sqlite_file(url), dest)
            kind = "sqlite"
        elif parsed.get_backend_name() == "postgresql":
            _dump_postgresql(url, dest)
            kind = "pg_dump"
        else:
            raise ConfigError("SCHELDT_DATABASE_URL", f"cannot back up a {parsed.get_backend_name()} store; "
                                                      "Scheldt stores are SQLite or PostgreSQL")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    dest.chmod(0o600)  # everything the node keeps: password hashes, sealed secrets, the audit log
    return StoreCopy(dest, kind, dest.stat().st_size, file_sha256(dest))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, hex (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigError("SCHELDT_DATABASE_URL", "an in-memory SQLite store has nothing to back up")
    path = Path(database)
    if not path.is_file():
        raise StoreUnavailable(str(path), "no SQLite store there (see SCHELDT_DATA_DIR or SCHELDT_DATABASE_URL)")
    return path


def _copy_sqlite(source: Path, dest: Path) -> None:
    """Copy ``source`` to ``dest`` with the online backup API, in one step: under one read
    transaction, which in WAL mode does not hold up the server's writes (copied a few pages at a
    time, the backup started over at every write of the server, and an operator review's never
    finished under 7 requests a second); then check the copy."""
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)
        try:
            out = sqlite3.connect(dest)
            try:
                src.backup(out)
                verdict = out.execute("PRAGMA quick_check").fetchone()[0]
                out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                out.close()
        finally:
            src.close()
    except sqlite3.Error as exc:  # "disk is full" is the copy's disk, not the store's (an operator review)
        raise StoreUnavailable(str(dest), f"could not copy {source} here: {exc}") from None
    if verdict != "ok":
        raise StoreUnavailable(str(dest), f"the copy failed SQLite's quick_check ({verdict}): the store itself may "
                               f"be damaged; check it with sqlite3 {source} 'PRAGMA integrity_check'")


def pg_conninfo(url: str) -> tuple[str, str]:
    """The libpq connection string of the SQLAlchemy PostgreSQL ``url`` and its password apart
    (for PGPASSWORD: a password in a command line is seen by every user of the machine): the
    parameters the store's own driver connects with, its query string's included (``?host=``
    for a socket folder, ``?dbname=``, ``sslrootcert``...). pg_dump had been given the URL's
    host, port, user and database only, and an operator review's ``.../?dbname=scheldt`` was
    backed up as the default database, empty, with "backup written"."""
    from psycopg.conninfo import make_conninfo
    from sqlalchemy import create_engine

    parsed = make_url(url)
    parsed = parsed.set(drivername="postgresql+psycopg")  # the parameters psycopg takes
    _, params = create_engine(parsed).dialect.create_connect_args(parsed)
    password = str(params.pop("password", "") or "")
    return make_conninfo(**{k: str(v) for k, v in params.items() if isinstance(v, str | int)}), password


def _dump_postgresql(url: str, dest: Path) -> None:
    """``pg_dump --format=custom`` of the database at ``url`` into ``dest``."""
    exe = shutil.which("pg_dump")
    if exe is None:
        raise ConfigError("pg_dump", "not found on PATH; install the PostgreSQL client of the server's major "
                                     "version (Debian: postgresql-client)")
    conninfo, password = pg_conninfo(url)
    env = {**os.environ}
    if password:
        env["PGPASSWORD"] = password
    try:
        done = subprocess.run([exe, "--format=custom", "--no-password", f"--file={dest}", f"--dbname={conninfo}"],
                              env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise StoreUnavailable("pg_dump", f"gave no dump in {PG_DUMP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        why = " ".join(done.stderr.split())[:500] or f"exit status {done.returncode}"
        raise StoreUnavailable("pg_dump", why)
