"""Fixture strategy.

- Real data: ``SHARED`` is ../shared beside the project (third-party files, read-only), or
  SCHELDT_SHARED_DIR, or, in a clone made elsewhere, ../shared beside the repository it was
  cloned from (so `git clone /work/main /tmp/x` still finds the data);
  ``KCS_TRAIN`` etc. are the full Korea Customs Service synthetic files; ``DEMO_*`` the
  excerpts bundled in demo/data. ``kcs_lines(path, n)`` gives the header and first n rows.
- Stores: ``store_url`` runs a test once on SQLite (a file in tmp_path) and once on a fresh
  PostgreSQL database created for that test (server from SCHELDT_TEST_POSTGRES_URL, default the
  local trust-auth server); ``engine`` is that store migrated to head. PostgreSQL being down is
  an error, not a skip: set SCHELDT_TEST_SKIP_POSTGRES=1 to skip it knowingly.
- ``settings_env`` points SCHELDT_DATA_DIR at tmp_path and clears the cached settings.
- Passwords: within one test session each password is hashed with argon2 once and its hash
  reused for every user given it (``_password_hashes_reused``); checking a password is argon2's
  own. A fresh hash costs about 0.1 s of CPU, and seeding a few nodes' accounts took seconds
  per test.
- Sealing key: ``_sealing_key`` sets SCHELDT_SECRETS_KEY to a key made for the test session (its
  processes inherit it), so a test that adds a peer or a subscription without ``settings_env``
  never writes a key file into the default data directory (the developer's own). Tests of the
  key file (tests/store/test_sealing.py) unset it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine

from scheldt.settings import get_settings
from scheldt.store.db import open_store

ROOT = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    """Where the shared third-party data is (see the module docstring)."""
    if os.environ.get("SCHELDT_SHARED_DIR"):
        return Path(os.environ["SCHELDT_SHARED_DIR"])
    beside = ROOT.parent / "shared"
    if beside.is_dir():
        return beside
    try:
        origin = subprocess.run(["git", "-C", str(ROOT), "config", "remote.origin.url"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except OSError:
        origin = ""
    if origin and Path(origin).is_dir():
        return Path(origin).resolve().parent / "shared"
    return beside


SHARED = _shared_dir()
KCS = SHARED / "data" / "customs-kr"
KCS_TRAIN = KCS / "df_syn_train_eng.csv"
KCS_VALID = KCS / "df_syn_valid_eng.csv"
KCS_TEST = KCS / "df_syn_test_eng.csv"
DEMO_TRAIN = ROOT / "demo" / "data" / "kcs-train-excerpt.csv"
DEMO_TEST = ROOT / "demo" / "data" / "kcs-test-excerpt.csv"

PG_SERVER = os.environ.get("SCHELDT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class _ReusedHashes:
    """A stand-in for the accounts' argon2 ``PasswordHasher`` that hashes each password once
    (with the real hasher) and hands out that hash again; everything else is the real one's."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._hashes: dict[str, str] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._real.hash(password)
        return self._hashes[password]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture(scope="session", autouse=True)
def _sealing_key() -> Iterator[None]:
    """See the module docstring."""
    from cryptography.fernet import Fernet

    patch = pytest.MonkeyPatch()
    patch.setenv("SCHELDT_SECRETS_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    yield
    patch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _password_hashes_reused() -> Iterator[None]:
    """See the module docstring: argon2 hashes of test passwords made once per session."""
    from scheldt.workflows import accounts

    patch = pytest.MonkeyPatch()
    patch.setattr(accounts, "_HASHER", _ReusedHashes(accounts._HASHER))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """A command run in-process (``scheldt serve`` refusing a missing store) configures this
    process's logging as the service's; without this, every later test in the same worker wrote
    its log records to standard error (a CI run: ``db upgrade``'s message came after alembic's
    "Running upgrade ..." lines)."""
    import logging

    root = logging.getLogger()
    kept = {name: (logger.level, list(logger.handlers), logger.propagate, logger.disabled)
            for name, logger in logging.Logger.manager.loggerDict.items() if isinstance(logger, logging.Logger)}
    root_kept = (root.level, list(root.handlers))
    yield
    root.setLevel(root_kept[0])
    root.handlers[:] = root_kept[1]
    for name, (level, handlers, propagate, disabled) in kept.items():  # made since: left as they are
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate, logger.disabled = propagate, disabled


def kcs_lines(path: Path, n: int) -> list[str]:
    """Header plus the first ``n`` data lines of a KCS file, newline-terminated."""
    with path.open(encoding="utf-8") as fh:
        return [next(fh) for _ in range(n + 1)]


@pytest.fixture
def settings_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SCHELDT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if os.environ.get("SCHELDT_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("SCHELDT_TEST_SKIP_POSTGRES=1")
    name = f"scheldt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = open_store(store_url, auto_upgrade=True)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def built_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The scored store of simulated traffic the API and workbench tests use, built once per
    session and database and copied for each module (``tests.api.conftest.BuiltStores``)."""
    from tests.api.conftest import BuiltStores

    stores = BuiltStores(tmp_path_factory.mktemp("built-stores"))
    try:
        yield stores
    finally:
        stores.drop()
