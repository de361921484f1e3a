"""``scheldt db backup``: a copy of the store and the model artefacts that restores, by the
README's steps, into another data directory (SQLite) or another database (PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.settings import get_settings
from scheldt.store.backup import file_sha256, pg_conninfo
from scheldt.store.db import open_store, unit_of_work
from tests.conftest import DEMO_TEST, DEMO_TRAIN, PG_SERVER

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def run_with_stdin(args: list[str], text: str) -> tuple[int, str, str]:
    result = runner.invoke(app, args, input=text)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def audit_entries(url: str) -> list[tuple[int, str, str]]:
    engine = open_store(url)
    try:
        with unit_of_work(engine) as uow:
            return [(e.seq, e.kind, e.payload.get("action", "")) for e in uow.audit.entries(0, 1000)]
    finally:
        engine.dispose()


def test_a_sqlite_backup_restored_into_another_data_dir_scores_and_verifies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old, new, dest = tmp_path / "old", tmp_path / "new", tmp_path / "backup"
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(old))
    monkeypatch.delenv("SCHELDT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert invoke("ingest", str(DEMO_TRAIN))[0] == 0
    assert invoke("ingest", str(DEMO_TEST), "--no-outcomes")[0] == 0
    code, _, err = invoke("train")
    assert code == 0, err
    (version,) = [p.name for p in (old / "models").iterdir()]

    code, out, err = invoke("db", "backup", str(dest))
    assert code == 0, err
    assert out.startswith(f"backup written to {dest}: scheldt.db (") and "1 model version(s)" in out
    assert "not in it: the secrets key (SCHELDT_SECRETS_KEY); keep a copy of it apart" in out  # tests set it
    manifest = json.loads((dest / "backup.json").read_text())
    assert manifest["store"] == "sqlite" and manifest["file"] == "scheldt.db"
    assert manifest["sha256"] == file_sha256(dest / "scheldt.db")
    assert manifest["bytes"] == (dest / "scheldt.db").stat().st_size
    assert manifest["model_versions"] == [version]
    assert not (dest / "scheldt.db-wal").exists()
    # the owner's only: it holds password hashes, sealed secrets and the audit log (operator review)
    assert {oct(p.stat().st_mode & 0o777) for p in (dest / "scheldt.db", dest / "backup.json",
                                                    *(dest / "models").rglob("*.txt"))} == {"0o600"}
    assert oct(dest.stat().st_mode & 0o777) == oct((dest / "models").stat().st_mode & 0o777) == "0o700"
    copied = audit_entries(f"sqlite:///{dest / 'scheldt.db'}")
    assert manifest["audit_head_at_least"]["seq"] == copied[-1][0]
    # recorded once written (a failed one was recorded as an export of the store to an empty place)
    assert audit_entries(f"sqlite:///{old / 'scheldt.db'}")[-1][1:] == ("export", "scheldt db backup")

    code, _, err = invoke("db", "backup", str(dest))  # never over an earlier backup
    assert code == 2 and f"{dest}: exists and is not an empty folder" in err
    inside = old / "models" / "backup"  # an operator review's copied the models folder into itself
    code, _, err = invoke("db", "backup", str(inside))
    assert code == 2 and f"{inside}: is inside the models folder {old / 'models'}" in err and not inside.exists()

    # Restore as the README says, after the old data directory is lost: the recorded model
    # path names the old place, so the model is found under the new data directory.
    shutil.rmtree(old)
    new.mkdir()
    shutil.copy(dest / "scheldt.db", new / "scheldt.db")
    shutil.copytree(dest / "models", new / "models")
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(new))
    get_settings.cache_clear()
    code, out, err = invoke("audit", "verify")
    assert code == 0 and "chain intact" in out, (out, err)
    code, out, err = invoke("score")
    assert code == 0, err
    code, out, err = invoke("target", "--capacity", "5", "--format", "json")
    assert code == 0, err
    listing = json.loads(out)
    assert listing["model_version"] == version and len(listing["inspections"]) == 5
    get_settings.cache_clear()


def test_a_restored_node_reads_its_own_models_while_the_old_folder_is_still_there(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An operator review restored into another data directory and damaged the old one's model:
    # scoring read the old disk's files (and failed on them).
    old, new = tmp_path / "old", tmp_path / "new"
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(old))
    monkeypatch.delenv("SCHELDT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert invoke("ingest", str(DEMO_TRAIN))[0] == 0
    assert invoke("ingest", str(DEMO_TEST), "--no-outcomes")[0] == 0
    assert invoke("train")[0] == 0
    assert invoke("db", "backup", str(tmp_path / "bk"))[0] == 0
    shutil.copytree(tmp_path / "bk", new)
    (new / "scheldt.db").chmod(0o600)
    for artefact in (old / "models").rglob("*.txt"):
        artefact.write_text("garbage\n")
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(new))
    get_settings.cache_clear()
    code, out, err = invoke("target", "--capacity", "3", "--format", "json")
    assert code == 0, err
    get_settings.cache_clear()


def test_a_backup_of_no_store_makes_nothing(settings_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    code, _, err = invoke("db", "backup", str(dest))
    assert code == 2 and f"{settings_env / 'scheldt.db'}: no store there to back up" in err
    assert not dest.exists() and not settings_env.exists()


def test_a_data_dir_that_is_a_file_is_said_to_be_one(settings_env: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: SCHELDT_DATA_DIR naming a file read "cannot create ...: File exists"
    to a write command and "no store at .../scheldt.db" to a read command."""
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(afile))
    monkeypatch.delenv("SCHELDT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    for command in (("org", "create", "be-customs", "--name", "x", "--kind", "agency"), ("audit", "verify"),
                    ("db", "current")):  # a regression review's `db current` read ".../afile/scheldt.db", exit 0
        code, _, err = invoke(*command)
        assert code == 2 and err == f"error SCHELDT_DATA_DIR: {afile} is a file, not a folder", (command, err)


def test_a_backup_says_when_there_is_no_secrets_key_to_keep(settings_env: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review's backup said to keep a copy of <data dir>/secrets.key, which did not
    exist (no credential sealed yet): a scripted copy failed."""
    monkeypatch.setenv("SCHELDT_SECRETS_KEY", "")
    get_settings.cache_clear()
    assert invoke("org", "create", "be-customs", "--name", "x", "--kind", "agency")[0] == 0
    code, out, err = invoke("db", "backup", str(tmp_path / "backup"))
    assert code == 0, err
    key = settings_env / "secrets.key"
    assert not key.exists() and f"no secrets key yet ({key} is made when a peer's or subscriber's credential is " \
        "first stored): nothing sealed to keep a key for" in " ".join(out.split())
    # a regression review: with the key moved away from a store holding sealed credentials, the
    # backup said nothing was sealed
    assert invoke("org", "create", "us-cbp", "--name", "US", "--kind", "agency")[0] == 0
    code, _, err = run_with_stdin(["peer", "add", "us-node", "http://127.0.0.1:9/taxii2/scheldt/", "--org", "us-cbp",
                                   "--user", "be-node", "--password-stdin"], "a partner's password\n")
    assert code == 0, err
    key.unlink()
    code, out, err = invoke("db", "backup", str(tmp_path / "backup-2"))
    assert code == 0 and f"warning the secrets key {key} is missing, but 1 credential(s) are sealed with it: restore " \
        "it" in " ".join(err.split()), (out, err)


def test_an_upgrade_where_no_store_is_says_it_made_an_empty_one(settings_env: Path) -> None:
    # A README review: a restore's `db upgrade` with the data directory mistyped made a new
    # empty store in silence, and `audit verify` then found its chain intact.
    code, out, err = invoke("db", "upgrade")
    assert code == 0 and "store at revision" in out and "(was empty)" in out
    assert err == (f"note: no store at {settings_env / 'scheldt.db'} yet: created an empty one (set "
                   "SCHELDT_DATA_DIR or SCHELDT_DATABASE_URL for another store)")
    assert invoke("db", "upgrade")[2] == ""  # there now: nothing to say


def test_a_postgresql_backup_restores_with_pg_restore(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SCHELDT_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    try:
        assert invoke("db", "upgrade")[0] == 0
        assert invoke("ingest", str(DEMO_TEST), "--no-outcomes")[0] == 0
        dest = tmp_path / "backup"
        code, out, err = invoke("db", "backup", str(dest))
        assert code == 0, err
        assert "scheldt.pgdump" in out and "0 model version(s)" in out
        manifest = json.loads((dest / "backup.json").read_text())
        assert manifest["store"] == "pg_dump" and manifest["sha256"] == file_sha256(dest / "scheldt.pgdump")
        assert (dest / "models").is_dir() and not any((dest / "models").iterdir())  # none made: an empty folder
        assert [e[1:] for e in audit_entries(postgres_url)][-1] == ("export", "scheldt db backup")
        # no pg_dump: one line, no folder, and no export recorded (an operator review's failed
        # backups were in the audit log as exports of the whole store)
        before = audit_entries(postgres_url)
        monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
        code, _, err = invoke("db", "backup", str(tmp_path / "nopg"))
        assert code == 2 and "pg_dump: not found on PATH" in err and not (tmp_path / "nopg").exists()
        assert audit_entries(postgres_url) == before
        monkeypatch.undo()
        monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("SCHELDT_DATABASE_URL", postgres_url)
        get_settings.cache_clear()

        restored = postgres_url.rsplit("/", 1)[0] + "/" + postgres_url.rsplit("/", 1)[1] + "_restored"
        name = restored.rsplit("/", 1)[1]
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            plain = restored.replace("postgresql+psycopg://", "postgresql://", 1)
            done = subprocess.run(["pg_restore", "--no-owner", f"--dbname={plain}", str(dest / "scheldt.pgdump")],
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
            assert audit_entries(restored) == audit_entries(postgres_url)[:-1]  # all but the record of the backup
            monkeypatch.setenv("SCHELDT_DATABASE_URL", restored)
            get_settings.cache_clear()
            code, out, err = invoke("audit", "verify")
            assert code == 0 and "chain intact" in out, (out, err)
            code, out, _ = invoke("db", "current")
            assert out.startswith(f"store: {manifest['revision']};")
        finally:
            with psycopg.connect(PG_SERVER, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        get_settings.cache_clear()


def test_a_postgresql_backup_reaches_the_database_its_url_names_in_the_query_string(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator review: with the database named in the URL's query string (``.../?dbname=``,
    as for a socket folder given by ``?host=``), pg_dump was given only the host, port, user and
    path, dumped the server's default database, empty, and the backup said it was written."""
    server, name = postgres_url.rsplit("/", 1)
    by_query = f"{server}/?dbname={name}"
    parts = lambda url: (conninfo_to_dict(pg_conninfo(url)[0]), pg_conninfo(url)[1])  # noqa: E731
    assert parts(by_query) == parts(postgres_url)
    assert parts("postgresql+psycopg://u:p%40ss@/db?host=/run/pg&sslrootcert=/etc/ca.pem") == (
        {"dbname": "db", "user": "u", "host": "/run/pg", "sslrootcert": "/etc/ca.pem"}, "p@ss")
    monkeypatch.setenv("SCHELDT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SCHELDT_DATABASE_URL", by_query)
    get_settings.cache_clear()
    try:
        assert invoke("db", "upgrade")[0] == 0
        code, _, err = invoke("db", "backup", str(tmp_path / "backup"))
        assert code == 0, err
        listed = subprocess.run(["pg_restore", "--list", str(tmp_path / "backup" / "scheldt.pgdump")],
                                capture_output=True, text=True, check=True).stdout
        assert f"dbname: {name}" in listed and " TABLE public audit_entry " in listed
    finally:
        get_settings.cache_clear()
