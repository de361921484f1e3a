"""``GET /metrics``: the node's figures for Prometheus, read from the store (SQLite and
PostgreSQL), for the agency's administrators only."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Service


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_an_administrator_reads_the_nodes_figures_as_the_store_has_them(service: Service) -> None:
    with service.uow() as uow:
        now = datetime.now(UTC)
        sub = uow.notifications.add_subscription("carrier-a", "https://carrier.example/hooks", "s" * 40,
                                                 ["hold"], now)
        uow.notifications.enqueue(sub["id"], "hold", {"notice_id": "n1"}, now)
        quarantined = uow.quarantine.count()
        entries = uow.audit.count()
    r = service.client.get("/metrics", headers=service.as_("admin"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = _samples(r.text)
    assert got[("scheldt_notices", (("status", "pending"),))] == 1
    assert got[("scheldt_notices", (("status", "dead"),))] == 0
    assert abs(got[("scheldt_oldest_pending_notice_timestamp_seconds", ())] - now.timestamp()) < 1
    assert got[("scheldt_quarantined_records", ())] == quarantined
    assert got[("scheldt_audit_entries", ())] == entries  # the scrape's own entry is written after it reads
    assert got[("scheldt_last_received_timestamp_seconds", (("kind", "events"),))] > 0  # the replayed day's
    assert got[("scheldt_last_received_timestamp_seconds", (("kind", "positions"),))] > 0
    assert got[("scheldt_trips_on_hold", ())] == 0
    with service.uow() as uow:  # the scrape is audited as a read
        last = uow.audit.entries(uow.audit.count() - 1, 1)[0]
    assert (last.kind, last.payload["actor"], last.payload["object_kind"]) == ("read", "admin", "metrics")


def test_only_the_host_agencys_administrators_read_the_figures(service: Service) -> None:
    assert service.client.get("/metrics").status_code == 401
    for user in ("officer", "carrier", "us-admin"):
        r = service.client.get("/metrics", headers=service.as_(user))
        assert r.status_code == 403, (user, r.text)
        assert r.headers["content-type"].startswith("application/json")
