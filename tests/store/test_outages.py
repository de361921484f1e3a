"""The store when the database is away or ahead of the code: one clear error, never a
traceback (an operator review cut connections and rolled the software back)."""

from __future__ import annotations

import socket
import struct
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url, text

from scheldt.errors import ConfigError, StoreUnavailable
from scheldt.store.db import current_revision, head_revision, make_engine, open_store, unit_of_work, upgrade
from tests.conftest import PG_SERVER


@pytest.mark.parametrize("where", ["a query", "the audit append"])
def test_a_connection_lost_in_the_middle_is_a_clear_error(postgres_url: str, where: str) -> None:
    # The audit append goes to PostgreSQL through psycopg's own pipeline: its errors came out raw
    # (an HTTP 500 "internal error" for a request whose store went away just then).
    engine = open_store(postgres_url, auto_upgrade=True)
    try:
        with pytest.raises(StoreUnavailable) as caught, unit_of_work(engine) as uow:
            pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(PG_SERVER, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            if where == "a query":
                uow.session.execute(text("SELECT 1"))
            else:
                uow.audit.append("read", "org-a", {"action": "GET /x"}, datetime(2026, 3, 2, tzinfo=UTC))
        assert caught.value.status == 503
        assert caught.value.why.startswith("connection lost or refused (")
        assert caught.value.why.endswith("nothing of this request was kept: try again")
        with unit_of_work(engine) as uow:  # the next unit of work connects again
            assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_pooled_connection_the_database_dropped_is_replaced_unseen(postgres_url: str) -> None:
    """After a database restart (or an idle-session timeout) the pool holds dead connections;
    each used to fail one request with a 503 (operator review). Checked out, one is now tested
    and replaced, so the request succeeds, also when it is checked out at once, before the
    server's goodbye has reached the client (a review: a check that only looked whether the
    socket had something to read failed about a quarter of such requests)."""
    engine = open_store(postgres_url, auto_upgrade=True)
    try:
        for _ in range(20):
            with unit_of_work(engine) as uow:
                pid = uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with psycopg.connect(PG_SERVER, autocommit=True) as other:  # the pooled connection dies while idle
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with unit_of_work(engine) as uow:
                assert uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()


class SilentDrop:
    """A TCP relay to the PostgreSQL server at (``host``, ``port``) that can forget the
    connections it relays (:meth:`forget`) as a NAT or load balancer's idle timeout, or a
    failover, does: nothing reaches their client, whose next packet is answered with a reset.
    Connections made afterwards are relayed."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.relayed: list[threading.Event] = []  # per connection: set once forgotten
        threading.Thread(target=self._serve, daemon=True).start()

    def forget(self) -> None:
        for forgotten in self.relayed:
            forgotten.set()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            forgotten = threading.Event()
            self.relayed.append(forgotten)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink, client, server, forgotten), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, client: socket.socket, server: socket.socket,
              forgotten: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if forgotten.is_set():
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    client.close()  # a reset, no goodbye
                    server.close()
                    return
                sink.sendall(data)
        except OSError:
            return

    def close(self) -> None:
        self.listener.close()


def test_a_pooled_connection_whose_path_died_silently_is_replaced_unseen(postgres_url: str) -> None:
    """A connection whose network path was dropped without a close (a failover, a NAT's idle
    timeout) has nothing to read until the client writes: the pool's check on checkout must
    talk to the server, not only look at the socket (a review: every such pooled connection
    failed one request)."""
    open_store(postgres_url, auto_upgrade=True).dispose()
    url = make_url(postgres_url)
    relay = SilentDrop(url.host or "127.0.0.1", url.port or 5432)
    engine = make_engine(url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        relay.forget()  # the pooled connection's path is gone; a new one passes
        with unit_of_work(engine) as uow:
            assert uow.session.execute(text("SELECT 2")).scalar_one() == 2
        assert len(relay.relayed) == 2
    finally:
        engine.dispose()
        relay.close()


def test_a_store_upgraded_by_a_newer_version_is_named_as_such(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    for attempt in (lambda: open_store(url), lambda: upgrade(make_engine(url))):
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert caught.value.why.startswith(f"at revision 0999, which this code (newest {head_revision()}) does not "
                                           "know: the store was upgraded by a newer Scheldt")


def test_a_url_that_cannot_be_read_is_shown_without_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        make_engine("postgresql+psycopg://postgres:s3cretpw@127.0.0.1:notaport/x")
    assert "s3cretpw" not in str(caught.value)
    assert caught.value.why.startswith("cannot use 'postgresql+psycopg://postgres:***@127.0.0.1:notaport/x'")
    # an operator review: a password with an @ or a space was printed in part, or whole
    with pytest.raises(ConfigError) as caught:
        make_engine("postgresql+psycopg://scheldt:Sup3r@S3cret@127.0.0.1:1/scheldt")
    assert caught.value.why == ("cannot use 'postgresql+psycopg://scheldt:***@127.0.0.1:1/scheldt': its password "
                                "holds an @; write it as %40")
    with pytest.raises(ConfigError) as caught:
        make_engine("postgresql+psycopg://x:s3cret pw@127.0.0.1:1:2/x")
    assert "s3cret" not in str(caught.value) and caught.value.why.startswith(
        "cannot use 'postgresql+psycopg://x:***@127.0.0.1:1:2/x': ")
    # a regression review: a password given as a query parameter (libpq reads it) was printed
    engine = make_engine("postgresql+psycopg://user:secretpw@127.0.0.1:1/db?password=hunter2xx&connect_timeout=2")
    with pytest.raises(ConfigError) as caught:
        current_revision(engine)
    engine.dispose()
    assert "hunter2xx" not in str(caught.value) and "secretpw" not in str(caught.value)
    assert caught.value.where == "database postgresql+psycopg://user:***@127.0.0.1:1/db?connect_timeout=2&password=***"


def test_a_server_url_naming_no_database_is_refused() -> None:
    """An operator review: `db upgrade` with SCHELDT_DATABASE_URL ending in "5432/" built every
    table in the server's "postgres" maintenance database and said "store at revision 0031"."""
    for url in ("postgresql+psycopg://postgres@127.0.0.1:5432/", "postgresql+psycopg://postgres:pw@127.0.0.1:5432"):
        with pytest.raises(ConfigError) as caught:
            make_engine(url)
        assert caught.value.where == "SCHELDT_DATABASE_URL" and "pw" not in str(caught.value)
        assert caught.value.why.endswith("it names no database (the server would take the user's name, often its "
                                         "own maintenance database); end it with /NAME")
    make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test").dispose()
    make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/?dbname=test").dispose()  # named in the query


def test_a_client_is_not_told_where_the_store_is() -> None:
    """A PostgreSQL review: with the database unreachable, an anonymous sign-in's 503 named its
    host, port, database, user and a ?password= (the server's log keeps them)."""
    from fastapi.testclient import TestClient

    from scheldt.api.app import create_app

    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x?password=Sekr1t&connect_timeout=1")
    with TestClient(create_app(engine, workbench=False, host_org="be-customs")) as client:
        r = client.post("/api/v1/auth/sign-in", json={"username": "x", "password": "yyyyyyyyyyyyyy"})
    engine.dispose()
    assert (r.status_code, r.json()) == (503, {"error": {
        "status": 503, "where": "store", "why": "the database cannot be reached just now; try again"}})
    assert r.headers["retry-after"] == "5"
    # nor through TAXII, whose errors a partner's pull reports (a regression review read the store's file there)
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x?password=Sekr1t&connect_timeout=1")
    with TestClient(create_app(engine, workbench=False, host_org="be-customs")) as client:
        r = client.get("/taxii2/", auth=("liaison", "wrong-password"),
                       headers={"Accept": "application/taxii+json;version=2.1"})
    engine.dispose()
    assert r.status_code == 503 and "Sekr1t" not in r.text and "127.0.0.1" not in r.text
    assert r.json()["details"] == {"where": "store", "why": "the database cannot be reached just now; try again"}
    # nor on the workbench's sign-in page, which faces the whole port community (an operator review)
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=1")
    with TestClient(create_app(engine, host_org="be-customs")) as client:
        page = client.get("/sign-in")
        r = client.post("/sign-in", data={"username": "officer", "password": "wrong password here"},
                        headers={"Origin": "http://testserver"})
    engine.dispose()
    assert page.status_code == 200 and r.status_code == 503
    assert "127.0.0.1" not in r.text and "postgres" not in r.text and "connection" not in r.text
    assert "the database cannot be reached just now; try again" in r.text


def test_a_store_whose_tables_went_is_said_so(store_url: str) -> None:
    """A PostgreSQL review dropped and made the database again under a running server: every
    request was a bare 500 "internal error", not the remedy."""
    engine = open_store(store_url, auto_upgrade=True)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE organisation" + (" CASCADE" if engine.dialect.name == "postgresql" else "")))
        with pytest.raises(StoreUnavailable) as caught, unit_of_work(engine) as uow:
            uow.accounts.organisations()
        assert caught.value.status == 503 and caught.value.why == (
            "its tables are missing (the database dropped and made again?): run `scheldt db upgrade`, then restart "
            "`scheldt serve`")
    finally:
        engine.dispose()


def test_a_damaged_sqlite_store_is_one_clear_error(tmp_path: Path) -> None:
    """An operator review restored a damaged copy: `scheldt audit verify` died with 87 lines of
    traceback ("database disk image is malformed") instead of saying the store is damaged."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url, auto_upgrade=True)
    with unit_of_work(engine) as uow:
        for i in range(300):
            uow.audit.append("read", "org-a", {"action": f"GET /x/{i}", "pad": "x" * 200}, datetime(2026, 3, 2, tzinfo=UTC))
    engine.dispose()
    with sqlite3.connect(tmp_path / "store.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'audit_entry'").fetchone()[0]
    with (tmp_path / "store.db").open("r+b") as f:
        f.seek((root - 1) * size)
        f.write(b"\xde\xad" * (size // 2))
    engine = open_store(url)
    try:
        with pytest.raises(ConfigError) as caught, unit_of_work(engine) as uow:
            uow.audit.verify()
        assert caught.value.why.startswith("the store is damaged (database disk image is malformed): stop the server "
                                           "and restore it from a backup")
    finally:
        engine.dispose()


def test_a_sqlite_store_busy_with_another_writer_says_so(tmp_path: Path) -> None:
    # a concurrency review's reads during a long ingest (each read is audited: a write) waited out
    # SQLite's busy timeout and were told "connection lost or refused (database is locked)"
    import sqlite3

    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url, auto_upgrade=True).dispose()
    engine = open_store(f"{url}?timeout=0.2")
    holder = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the other process's long ingest
        with pytest.raises(StoreUnavailable) as caught, unit_of_work(engine) as uow:
            uow.audit.append("read", "org-a", {"action": "GET /x"}, datetime(2026, 3, 2, tzinfo=UTC))
        assert caught.value.status == 503
        assert caught.value.why == ("the SQLite store is busy: another process (an ingest, a job) holds its write "
                                    "lock; nothing of this request was kept: try again shortly (a busy node runs on "
                                    "PostgreSQL: README, Settings)")
        holder.execute("ROLLBACK")
        with unit_of_work(engine) as uow:  # free again
            uow.audit.append("read", "org-a", {"action": "GET /x"}, datetime(2026, 3, 2, tzinfo=UTC))
    finally:
        holder.close()
        engine.dispose()


def test_a_sqlite_writer_waits_half_a_minute_for_the_write_lock_unless_the_url_says() -> None:
    # a user review's officer was told 503 after Python's default 5 s while a line's file was read
    from scheldt.store.db import _busy_wait

    assert _busy_wait("sqlite:////data/scheldt.db") == {"timeout": 30.0}
    assert _busy_wait("sqlite:////data/scheldt.db?timeout=0.2") == {}
    assert _busy_wait("postgresql+psycopg://scheldt@db/scheldt") == {}
