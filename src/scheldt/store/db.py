"""Engine, migrations and the unit of work.

``open_store(url)`` returns an engine on an upgraded schema (the embedded SQLite store is
created and migrated on first use; PostgreSQL is migrated by ``scheldt db upgrade``, or here when
``auto_upgrade`` is set). ``unit_of_work(engine)`` yields the repositories over one transaction
and commits when the block ends without error: the edge (CLI command, API request) owns it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheldt.errors import ConfigError
from scheldt.store.rows import json_text


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB page cache (default 2 MiB): index pages of a table with millions of events stay in
    # memory while an ingest inserts in event-id order (benchmarks/ingest_throughput.py).
    cur.execute("PRAGMA cache_size=-32768")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; for SQLite, create the parent directory and set pragmas."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError("SCHELDT_DATA_DIR", f"cannot create {folder}: {exc.strerror}") from None
    try:
        engine = create_engine(url, future=True, json_serializer=json_text, json_deserializer=orjson.loads)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises several kinds for a bad URL
        raise ConfigError("SCHELDT_DATABASE_URL", f"cannot use {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("scheldt.store").joinpath("migrations")))
    cfg.attributes["engine"] = engine
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration revision the database is at, or None for an empty database.

    Raises ConfigError when the database cannot be reached.
    """
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"database {engine.url.render_as_string(hide_password=True)}",
                          f"cannot connect: {reason}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the newest)."""
    command.upgrade(_alembic_config(engine), revision)


def open_store(url: str, *, auto_upgrade: bool | None = None) -> Engine:
    """An engine on an up-to-date schema.

    ``auto_upgrade`` defaults to True for SQLite (the embedded store migrates itself on first use)
    and False otherwise. Raises ConfigError when the schema is behind and may not be upgraded.
    """
    engine = make_engine(url)
    if auto_upgrade is None:
        auto_upgrade = engine.dialect.name == "sqlite"
    if current_revision(engine) != head_revision():
        if not auto_upgrade:
            raise ConfigError(
                "database schema",
                f"at revision {current_revision(engine)}, code needs {head_revision()}: "
                "run `scheldt db upgrade`",
            )
        upgrade(engine)
    return engine


@dataclass
class UnitOfWork:
    """Repositories sharing one session and one transaction (the edge commits)."""

    session: Session

    def __post_init__(self) -> None:
        from scheldt.store.accounts import AccountRepository
        from scheldt.store.assessments import AssessmentRepository
        from scheldt.store.audit import AuditLog
        from scheldt.store.container_trips import ContainerTripRepository
        from scheldt.store.declarations import DeclarationRepository
        from scheldt.store.documents import DocumentRepository
        from scheldt.store.events import EventRepository
        from scheldt.store.exchange import ExchangeRepository
        from scheldt.store.inspections import InspectionRepository
        from scheldt.store.models_registry import ModelRegistry
        from scheldt.store.notifications import NotificationRepository
        from scheldt.store.peers import PeerRepository
        from scheldt.store.profiles import ProfileRepository
        from scheldt.store.quarantine import QuarantineRepository
        from scheldt.store.taxii import TaxiiRepository
        from scheldt.store.trip_assessments import TripAssessmentRepository
        from scheldt.store.trip_outcomes import TripOutcomeRepository
        from scheldt.store.vessels import VesselRepository
        from scheldt.store.watchlists import WatchlistRepository

        self.declarations = DeclarationRepository(self.session)
        self.events = EventRepository(self.session)
        self.documents = DocumentRepository(self.session)
        self.vessels = VesselRepository(self.session)
        self.quarantine = QuarantineRepository(self.session)
        self.models = ModelRegistry(self.session)
        self.assessments = AssessmentRepository(self.session)
        self.profiles = ProfileRepository(self.session)
        self.trip_assessments = TripAssessmentRepository(self.session)
        self.watchlists = WatchlistRepository(self.session)
        self.trip_outcomes = TripOutcomeRepository(self.session)
        self.audit = AuditLog(self.session)
        self.container_trips = ContainerTripRepository(self.session)
        self.accounts = AccountRepository(self.session)
        self.inspections = InspectionRepository(self.session)
        self.exchange = ExchangeRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        self.peers = PeerRepository(self.session)
        self.taxii = TaxiiRepository(self.session)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[UnitOfWork]:
    """Yield a UnitOfWork; commit if the block succeeds, roll back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield UnitOfWork(session)
            session.commit()
        except BaseException:
            session.rollback()
            raise
