"""A copy of a SQLite store taken while the server writes to it (an operator review's backup
never finished under a steady 7 requests a second: copied a few pages at a time, the online
backup started over at every write)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from scheldt.store.backup import copy_store


def test_a_sqlite_copy_finishes_while_another_connection_keeps_writing(tmp_path: Path) -> None:
    source = tmp_path / "store.db"
    with sqlite3.connect(source) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB)")
        db.executemany("INSERT INTO t (b) VALUES (?)", [(os.urandom(10_000),) for _ in range(2_500)])  # ~25 MB
    stop = threading.Event()
    written = []

    def writer() -> None:
        with sqlite3.connect(source, timeout=30) as db:
            while not stop.is_set():
                db.execute("INSERT INTO t (b) VALUES (x'00')")
                db.commit()
                written.append(1)
                stop.wait(0.0005)

    busy = threading.Thread(target=writer)
    busy.start()
    done: list[object] = []
    copier = threading.Thread(target=lambda: done.append(copy_store(f"sqlite:///{source}", tmp_path / "copy.db")))
    try:
        copier.start()
        copier.join(timeout=20)
    finally:
        stop.set()
        busy.join()
    assert done, "the copy did not finish while the store was being written"
    assert len(written) > 0
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM t WHERE length(b) = 10000").fetchone()[0] == 2_500
    copier.join()
