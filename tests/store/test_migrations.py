"""Migrations upgrade an existing store without loss, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from scheldt.store.db import current_revision, head_revision, make_engine, unit_of_work, upgrade
from scheldt.workflows.ingest import IngestOptions, ingest_file
from tests.conftest import KCS_TRAIN, kcs_lines


def test_upgrade_from_first_revision_keeps_declarations(store_url: str, tmp_path: Path) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO declaration (declaration_ref, filed_at, hs_code, origin_country, departure_country, "
            "net_mass_kg, value, currency, office_code, process_type, import_type, import_use, payment_type, "
            "transport_mode, tax_type, origin_indicator, bill_of_lading_ref, container_numbers, flags, "
            "content_hash, source, supplied_by, received_at) VALUES ('OLD1', :t, '610910', 'CN', 'CN', 1, 2, "
            "'', '', '', '', '', '', '', '', '', '', '', '[]', 'h', 'old.csv:2', 'local-agency', :t)"),
            {"t": datetime(2020, 1, 1, tzinfo=UTC)})
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    path = tmp_path / "new.csv"
    path.write_text("".join(kcs_lines(KCS_TRAIN, 3)))
    with unit_of_work(engine) as uow:
        ingest_file(uow, path, IngestOptions(), datetime(2026, 1, 1, tzinfo=UTC))
    with unit_of_work(engine) as uow:
        refs = uow.declarations.declarations_frame()["declaration_ref"].to_list()
    assert "OLD1" in refs and len(refs) == 4
    engine.dispose()
