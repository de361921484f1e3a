"""Engine, migrations and the unit of work.

``open_store(url)`` returns an engine on an up-to-date schema (the embedded SQLite store's
schema is made on first use, a PostgreSQL database's by ``scheldt db upgrade`` or here when
``auto_upgrade`` is set; a store at an older revision is upgraded by ``scheldt db upgrade`` alone,
which also brings the container-trip index up to date). ``unit_of_work(engine)`` yields the
repositories over one transaction and commits when the block ends without error: the edge (CLI
command, API request) owns it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    JSON,
    Engine,
    String,
    any_,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import Session, configure_mappers

from scheldt.errors import ConfigError, ConflictError, InputError, StoreUnavailable
from scheldt.store.logs import quiet_connection_losses
from scheldt.store.rows import json_text

if TYPE_CHECKING:  # Alembic is loaded only to upgrade, or to check a store not at HEAD_REVISION
    from alembic.config import Config

quiet_connection_losses()  # the libraries' tracebacks for a lost connection, as one line each

#: The newest migration revision shipped with this code, as :func:`head_revision` reads it from
#: the migrations (a test keeps the two equal). A store already at it is opened without loading
#: Alembic and parsing every migration, which took a quarter of each command's start.
HEAD_REVISION = "0039"

#: A statement the database refused for its own state (a read-only store or transaction, a disk
#: full, a lock not granted): what the command line reports in one line
#: (:func:`scheldt.cli.common.errors_reported`) without importing the database layer itself. A
#: statement the code got wrong (ProgrammingError, IntegrityError, DataError, a value the driver
#: cannot bind) is not one: it keeps its traceback (a regression review found "the database
#: refused" hiding such bugs).
DatabaseRefused = (OperationalError, InternalError)

#: How SQLite words a statement the code got wrong: it raises them as OperationalError too, the
#: class of a store that is locked, read-only or full (a regression review's SELECT of a column
#: that does not exist was told as "connection lost or refused", to try again).
_SQLITE_STATEMENT_ERRORS = ("no such column", "no such function", "no such index", "syntax error", 'near "',
                            "has no column named", "ambiguous column name", "wrong number of arguments",
                            "misuse of", "unrecognized token", "incomplete input")


def is_statement_error(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy error) is SQLite refusing a statement the code got wrong
    (:data:`_SQLITE_STATEMENT_ERRORS`), not the store's state: such a bug keeps its traceback."""
    orig = getattr(exc, "orig", None)
    return (isinstance(exc, OperationalError) and type(orig).__module__.startswith("sqlite3")
            and any(sign in str(orig) for sign in _SQLITE_STATEMENT_ERRORS))


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB page cache (default 2 MiB): index pages of a table with millions of events stay in
    # memory while an ingest inserts in event-id order (benchmarks/ingest_throughput.py).
    cur.execute("PRAGMA cache_size=-32768")
    cur.close()


def among(session: Session, column: Any, values: list[str]) -> Any:
    """The condition ``column`` is one of ``values`` (texts). On PostgreSQL ``= ANY`` of an
    array the server makes from one JSON text parameter (written by orjson in C): an ``IN``
    list binds each value apart, and one of 500 STIX ids cost 2.9 ms to write and run against
    1.2 ms (a TAXII envelope asks several); an array parameter is escaped element by element in
    Python by psycopg, a tenth of a TAXII Add Objects' request time (2.0 ms a query of 500 ids
    against 1.3 ms). Elsewhere ``IN``."""
    if session.get_bind().dialect.name == "postgresql":
        listed = cast(bindparam(None, orjson.dumps(list(values)).decode(), type_=String), JSON)
        return column == any_(func.array(select(func.json_array_elements_text(listed)).scalar_subquery()))
    return column.in_(values)


def take_write_lock(session: Session, key: int, table: Any) -> None:
    """Hold a lock from here to the end of the session's transaction, for work that reads
    before it writes and must not interleave with another such work (plan a scan only if the
    trip has no open order; act on a scan order from the state just read). PostgreSQL: the
    transaction-level advisory lock ``key`` (re-entrant); SQLite: the database write lock,
    taken by a write statement that matches no row of ``table`` (a SQLAlchemy Table) and
    waited for while another writer holds it. Reads done after it see every commit before.
    Without it, a review's simultaneous requests each read the same state and all wrote: five
    open orders for one trip, a scanner booked 6 of 4, a seizure on a cancelled order."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect == "sqlite":
        pk = next(iter(table.primary_key.columns))
        session.execute(update(table).where(pk < 0).values({pk.name: pk}))


#: A password given as a query parameter (libpq reads ``?password=``).
_QUERY_PASSWORD = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)


def _credentials(url: str) -> tuple[str, list[str]]:
    """``url`` with its passwords shown as ``***``, and those passwords: everything between
    ``user:`` and the last ``@`` of the URL, whatever it holds (an operator review's
    ``Sup3r@S3cret`` and ``s3cret pw`` were printed in part, and whole), and each
    ``password=`` query parameter (a regression review's ``?password=hunter2xx``)."""
    secrets = [m.group(2) for m in _QUERY_PASSWORD.finditer(url) if m.group(2)]
    shown = _QUERY_PASSWORD.sub(r"\1***", url)
    head, sep, rest = shown.partition("//")
    at = rest.rfind("@")
    if sep and at >= 0 and ":" in rest[:at]:
        user, password = rest[:at].split(":", 1)
        shown = f"{head}//{user}:***@{rest[at + 1:]}"
        secrets.append(password)
    return shown, secrets


def shown_url(url: Any) -> str:
    """A database URL (text or SQLAlchemy URL) as messages show it: no password, in the user
    part or as a query parameter."""
    text = url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    return _credentials(text)[0]


def _without(text: str, secrets: list[str]) -> str:
    """``text`` with each of ``secrets``, and each part of one between ``@`` signs, shown as ``***``."""
    for piece in sorted({p for secret in secrets for p in (secret, *secret.split("@"))}, key=len, reverse=True):
        if len(piece) >= 3:
            text = text.replace(piece, "***")
    return text


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; for SQLite, create the file's folder and the file (see
    :func:`_private_file`) and set pragmas. A server database's pooled connection is tested
    when checked out (``pool_pre_ping``) and replaced if the server dropped it (a restart, an
    idle timeout), instead of failing the request that drew it. Raises ConfigError for a URL
    that cannot be used, a PostgreSQL one that names no database among them."""
    if (path := sqlite_path(url)) is not None:
        _private_file(path)
    shown, secrets = _credentials(url)  # no password in any message
    if url.partition("//")[2].split("/", 1)[0].count("@") > 1:  # the host would be read from inside the password
        raise ConfigError("SCHELDT_DATABASE_URL", f"cannot use {shown!r}: its password holds an @; write it as %40")
    if _names_no_database(url):  # an operator review's `db upgrade` built the schema in the server's "postgres"
        raise ConfigError("SCHELDT_DATABASE_URL", f"cannot use {shown!r}: it names no database (the server would "
                          "take the user's name, often its own maintenance database); end it with /NAME")
    try:
        engine = create_engine(url, future=True, json_serializer=json_text, json_deserializer=orjson.loads,
                               pool_pre_ping=not url.startswith("sqlite"), connect_args=_busy_wait(url))
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise ConfigError("SCHELDT_DATABASE_URL", f"cannot use {shown!r}: {_without(str(exc), secrets)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


#: Seconds a SQLite writer waits for the database's one write lock before the request is told
#: the store is busy (HTTP 503): an ingest's batch, a job's run (Python's default is 5 s).
SQLITE_BUSY_WAIT_S = 30.0


def _busy_wait(url: str) -> dict[str, Any]:
    """The driver's connect arguments: for SQLite, wait :data:`SQLITE_BUSY_WAIT_S` for the
    write lock unless the URL says ``?timeout=``; nothing for other databases."""
    if not url.startswith("sqlite") or "timeout=" in url.partition("?")[2]:
        return {}
    return {"timeout": SQLITE_BUSY_WAIT_S}


def _names_no_database(url: str) -> bool:
    """Whether ``url`` is a PostgreSQL one that names no database, neither in its path nor as
    ``?dbname=`` (libpq then takes the user's name)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds; create_engine says what is wrong
        return False
    return parsed.get_backend_name() == "postgresql" and not parsed.database and not parsed.query.get("dbname")


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store's ``url`` (its query, e.g. ``?timeout=5``, left out), or None
    for another database, an in-memory one or a URL that does not parse (a regression review's
    ``x.db?timeout=5`` made a second, empty file of that name)."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - SQLAlchemy raises several kinds; make_engine says what is wrong
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _private_file(path: Path) -> None:
    """Create a SQLite store's folder (mode 0700) and file (mode 0600; SQLite gives its WAL and
    shared-memory files the same) where they do not exist yet: the store holds password hashes,
    sealed secrets and the audit log, which its backup already kept from other local users
    while the store itself was readable by all (an operator review). Existing ones are left as
    they are. Raises ConfigError when they cannot be created."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        if path.parent.exists() and not path.parent.is_dir():  # an operator review read "File exists"
            raise ConfigError("SCHELDT_DATA_DIR", f"{path.parent} is a file, not a folder") from None
        raise ConfigError("SCHELDT_DATA_DIR", f"cannot create {path.parent}: {exc.strerror}") from None
    with contextlib.suppress(OSError):  # there already, or not creatable: SQLite says so when it opens it
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(files("scheldt.store").joinpath("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def store_answers(engine: Engine) -> bool:
    """Whether the store answers a query now (a readiness check: any failure is False)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - whatever stops it answering, it does not answer
        return False
    return True


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at, or None for an empty database.

    Raises ConfigError when the database cannot be reached.
    """
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if isinstance(exc, ProgrammingError):  # connected, but refused (an operator review read "cannot connect")
            raise ConfigError(f"database {shown_url(engine.url)}",
                              f"connected as {engine.url.username or 'the default user'}, but cannot read the "
                              f"schema's revision: {reason}") from None
        raise ConfigError(f"database {shown_url(engine.url)}",
                          f"cannot connect: {reason}") from None


@lru_cache(maxsize=1)
def _known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(s.revision for s in ScriptDirectory.from_config(
        _alembic_config(create_engine("sqlite://"))).walk_revisions())


def _newer_than_code(engine: Engine, at: str | None) -> ConfigError | None:
    """The error for a database at a revision this code does not know (written by a newer
    version of Scheldt: a software rollback), or None."""
    if at is None or at in _known_revisions():
        return None
    return ConfigError("database schema", f"at revision {at}, which this code (newest {head_revision()}) does not "
                       "know: the store was upgraded by a newer Scheldt. Run that version, or restore the backup "
                       f"taken before upgrading {shown_url(engine.url)}")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest). Raises ConfigError when the
    database is at a revision this code does not know (an operator review got a traceback),
    or when another upgrade of the same database ran at the same time."""
    newer = _newer_than_code(engine, current_revision(engine))
    if newer is not None:
        raise newer
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), revision)
    except IntegrityError as exc:  # two upgrades of an empty database: both created alembic_version
        raise ConfigError("database schema", "another `scheldt db upgrade` ran at the same time; run it again "
                          f"once that one is done ({str(exc.orig).splitlines()[0]})") from None
    except DBAPIError as exc:  # e.g. no CREATE on the schema: an operator review got an 80-line traceback
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise ConfigError(f"database {shown_url(engine.url)}",
                          f"cannot upgrade the schema as {engine.url.username or 'the default user'}: "
                          f"{reason}") from None


def _at_head(engine: Engine) -> bool:
    """Whether the store's schema is at :data:`HEAD_REVISION`, read with one query; False when
    that cannot be told so (no revision table yet, an error: :func:`current_revision` then says
    why, through Alembic)."""
    try:
        with engine.connect() as conn:
            return [r for (r,) in conn.execute(text("SELECT version_num FROM alembic_version"))] == [HEAD_REVISION]
    except DBAPIError:
        return False


def open_store(url: str, *, auto_upgrade: bool | None = None) -> Engine:
    """An engine on an up-to-date schema.

    ``auto_upgrade``: make the schema of an empty store here; it defaults to True for SQLite (the
    embedded store is made on first use) and False otherwise. A store at an older revision is
    never upgraded here: ``scheldt db upgrade`` migrates it and then brings the container-trip
    index up to date from the stored facts, which an upgrade on any command's first use skipped
    (an operator review's boxes gated out stayed in the risk queue as if in port). Raises
    ConfigError when the schema is behind (or newer than this code)."""
    engine = make_engine(url)
    if _at_head(engine):
        return engine
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    at = current_revision(engine)
    newer = _newer_than_code(engine, at)
    if newer is not None:
        raise newer
    if at != head_revision():
        if at is not None or not auto_upgrade:
            state = f"at revision {at}" if at is not None else "empty (no schema yet)"
            raise ConfigError("database schema", f"{state}, code needs {head_revision()}: run `scheldt db upgrade`")
        upgrade(engine)
    return engine


#: The repositories of a unit of work: attribute name -> (module, class), each made on first use.
_REPOSITORIES = {
    "declarations": ("scheldt.store.declarations", "DeclarationRepository"),
    "events": ("scheldt.store.events", "EventRepository"),
    "documents": ("scheldt.store.documents", "DocumentRepository"),
    "vessels": ("scheldt.store.vessels", "VesselRepository"),
    "quarantine": ("scheldt.store.quarantine", "QuarantineRepository"),
    "models": ("scheldt.store.models_registry", "ModelRegistry"),
    "assessments": ("scheldt.store.assessments", "AssessmentRepository"),
    "profiles": ("scheldt.store.profiles", "ProfileRepository"),
    "trip_assessments": ("scheldt.store.trip_assessments", "TripAssessmentRepository"),
    "watchlists": ("scheldt.store.watchlists", "WatchlistRepository"),
    "trip_outcomes": ("scheldt.store.trip_outcomes", "TripOutcomeRepository"),
    "audit": ("scheldt.store.audit", "AuditLog"),
    "container_trips": ("scheldt.store.container_trips", "ContainerTripRepository"),
    "accounts": ("scheldt.store.accounts", "AccountRepository"),
    "inspections": ("scheldt.store.inspections", "InspectionRepository"),
    "exchange": ("scheldt.store.exchange", "ExchangeRepository"),
    "notifications": ("scheldt.store.notifications", "NotificationRepository"),
    "peers": ("scheldt.store.peers", "PeerRepository"),
    "taxii": ("scheldt.store.taxii", "TaxiiRepository"),
    "supplied_files": ("scheldt.store.supplied", "SuppliedFileRepository"),
    "tnt_feeds": ("scheldt.store.tnt_feeds", "TntFeedRepository"),
}


def import_repositories() -> None:
    """Import every repository's module and configure the ORM's mappers now: a unit of work
    imports each module on first use, and SQLAlchemy configures the mappers at the first query,
    so a server's first requests paid for both (a long-running process calls this at start-up)."""
    for module, _ in _REPOSITORIES.values():
        importlib.import_module(module)
    configure_mappers()


@dataclass
class UnitOfWork:
    """Repositories sharing one session and one transaction (the edge commits): ``uow.events``,
    ``uow.container_trips`` ... (see :data:`_REPOSITORIES`), each made on first use and kept for
    the unit of work (a request uses two or three of the twenty)."""

    session: Session

    def __getattr__(self, name: str) -> Any:
        where = _REPOSITORIES.get(name)
        if where is None:
            raise AttributeError(f"UnitOfWork has no repository {name!r}")
        repository = getattr(importlib.import_module(where[0]), where[1])(self.session)
        setattr(self, name, repository)
        return repository


#: What SQLite says of a damaged store file (SQLITE_CORRUPT, SQLITE_NOTADB).
_DAMAGED = ("database disk image is malformed", "file is not a database")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Yield a UnitOfWork; commit if the block succeeds, roll back if it raises. A number the
    database cannot hold (an id past 64 bits on SQLite, SQLSTATE 22003 "numeric value out of
    range" on PostgreSQL) is raised as InputError: it names no stored row, and is bad input
    rather than a fault of the store (an attack review got HTTP 500s from huge ids); so is a
    text holding a NUL character, which PostgreSQL text cannot hold (HTTP 500s from ids and
    notes with U+0000). A unique key a simultaneous transaction took first is a ConflictError
    (HTTP 409). A damaged SQLite file is a ConfigError saying so."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield UnitOfWork(session)
            session.commit()
        except (OverflowError, DBAPIError) as exc:
            with contextlib.suppress(DBAPIError):  # the connection may be gone: nothing to roll back
                session.rollback()
            if isinstance(exc, OverflowError) or getattr(exc.orig, "sqlstate", None) == "22003":
                raise InputError("request", "a number in the request is out of range") from exc
            # psycopg refuses NUL in text before sending it; the server, a \u0000 in JSON (22P05)
            if isinstance(exc, DataError) and ("NUL (0x00)" in str(exc.orig)
                                               or getattr(exc.orig, "sqlstate", None) == "22P05"):
                raise InputError("request", "a text in the request holds a NUL character (U+0000), which the store "
                                 "does not keep") from exc
            if isinstance(exc, IntegrityError) and (getattr(exc.orig, "sqlstate", None) == "23505"
                                                    or "UNIQUE constraint failed" in str(exc.orig)):
                # a concurrency review's simultaneous creates of one scanner, organisation or profile each
                # passed the "already exists" check before any had written: the losers were bare 500s
                raise ConflictError("request", "another request stored the same record at the same moment; nothing "
                                    "of this request was kept: look it up, or try again") from exc
            if getattr(exc.orig, "sqlstate", None) == "42P01" or "no such table" in str(exc.orig):
                # a PostgreSQL review dropped and made the database again under a running server: every
                # request was a bare 500
                raise StoreUnavailable(f"database {shown_url(engine.url)}", "its tables are missing (the database "
                                       "dropped and made again?): run `scheldt db upgrade`, then restart `scheldt "
                                       "serve`") from exc
            if any(sign in str(exc.orig) for sign in _DAMAGED):  # an operator review's restored copy: 87 lines
                raise ConfigError(f"database {shown_url(engine.url)}", f"the store is damaged ({str(exc.orig)[:100]}): "
                                  "stop the server and restore it from a backup (README, Backup and restore); "
                                  "sqlite3's PRAGMA integrity_check says where") from exc
            if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
                # a concurrency review's reads during a long ingest were told "connection lost or refused"
                raise StoreUnavailable(f"database {shown_url(engine.url)}", "the SQLite store is busy: another "
                                       "process (an ingest, a job) holds its write lock; nothing of this request was "
                                       "kept: try again shortly (a busy node runs on PostgreSQL: README, Settings)"
                                       ) from exc
            if getattr(exc.orig, "sqlstate", None) in ("40P01", "40001"):
                # an operator review's deadlock between two writers was told "connection lost or refused"
                said = (str(exc.orig).strip().splitlines() or ["deadlock"])[0][:80]
                raise StoreUnavailable(f"database {shown_url(engine.url)}", "another writer's transaction crossed "
                                       f"this one and PostgreSQL stopped this one ({said}); nothing of this request "
                                       "was kept: try again") from exc
            if isinstance(exc, OperationalError | InterfaceError) and not is_statement_error(exc):
                reason = (str(exc.orig).strip().splitlines() or ["no reason given"])[0] if exc.orig else type(exc).__name__
                raise StoreUnavailable(f"database {shown_url(engine.url)}",
                                       f"connection lost or refused ({reason[:200]}); nothing of this request "
                                       "was kept: try again") from exc
            raise
        except BaseException:
            session.rollback()
            raise
