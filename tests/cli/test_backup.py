"""``scheldt db backup``: a copy of the store and the model artefacts that restores, by the
README's steps, into another data directory (SQLite) or another database (PostgreSQL)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from scheldt.cli import app
from scheldt.settings import get_settings
from scheldt.store.backup import file_sha256
from scheldt.store.db import open_store, unit_of_work
from tests.conftest import DEMO_TEST, DEMO_TRAIN, PG_SERVER

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
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
    entries = audit_entries(f"sqlite:///{dest / 'scheldt.db'}")
    assert entries[-1][1:] == ("export", "scheldt db backup")  # the copy holds the record of its making
    assert manifest["audit_head_at_least"]["seq"] == entries[-1][0]

    code, _, err = invoke("db", "backup", str(dest))  # never over an earlier backup
    assert code == 2 and f"{dest}: exists and is not an empty folder" in err

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


def test_a_backup_of_no_store_makes_nothing(settings_env: Path, tmp_path: Path) -> None:
    dest = tmp_path / "backup"
    code, _, err = invoke("db", "backup", str(dest))
    assert code == 2 and f"{settings_env / 'scheldt.db'}: no store there to back up" in err
    assert not dest.exists() and not settings_env.exists()


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
        assert not (dest / "models").exists()

        restored = postgres_url.rsplit("/", 1)[0] + "/" + postgres_url.rsplit("/", 1)[1] + "_restored"
        name = restored.rsplit("/", 1)[1]
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            plain = restored.replace("postgresql+psycopg://", "postgresql://", 1)
            done = subprocess.run(["pg_restore", "--no-owner", f"--dbname={plain}", str(dest / "scheldt.pgdump")],
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr
            assert audit_entries(restored) == audit_entries(postgres_url)
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
