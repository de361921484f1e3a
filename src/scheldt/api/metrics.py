"""``GET /metrics``: the node's figures (:mod:`scheldt.store.figures`) in the Prometheus text
exposition format (prometheus_client), for the operator's monitoring: alert on dead notices, a
failing federation peer, stale ingest, a growing quarantine or failed jobs.

Read with an API token (``Authorization: Bearer``) of a user of the agency that runs the node
who may read its audit log (administrators); each scrape is audited like any read. The figures
come from the store, so every server process answers the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from scheldt.api.deps import request_context
from scheldt.domain.access import Permission
from scheldt.store.figures import NodeFigures, read_figures

router = APIRouter(include_in_schema=False)

#: The exposition format's media type (Prometheus text format 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _stamp(t: datetime | None) -> float:
    """Seconds since 1970 (UTC), 0 for never."""
    return t.timestamp() if t is not None else 0.0


class _Figures(Collector):
    """The figures read for one scrape, as metric families."""

    def __init__(self, f: NodeFigures) -> None:
        self.f = f

    def collect(self) -> Iterator[Metric]:
        f = self.f
        notices = GaugeMetricFamily("scheldt_notices", "Carrier notices by delivery state", labels=["status"])
        for status in ("pending", "delivered", "dead"):
            notices.add_metric([status], f.notices.get(status, 0))
        yield notices
        yield GaugeMetricFamily("scheldt_oldest_pending_notice_timestamp_seconds",
                                "When the oldest notice still to be delivered was queued (0: none)",
                                value=_stamp(f.oldest_pending_notice))
        failing = GaugeMetricFamily("scheldt_peer_failing", "1 while pulls from a federation peer fail",
                                    labels=["peer"])
        pulled = GaugeMetricFamily("scheldt_peer_last_pull_timestamp_seconds",
                                   "When a federation peer was last pulled (0: never)", labels=["peer"])
        for name, (since, last) in sorted(f.peers.items()):
            failing.add_metric([name], 1 if since is not None else 0)
            pulled.add_metric([name], _stamp(last))
        yield failing
        yield pulled
        received = GaugeMetricFamily("scheldt_last_received_timestamp_seconds",
                                     "When the fact of a kind stored last was received (0: never)", labels=["kind"])
        for kind, at in sorted(f.last_received.items()):
            received.add_metric([kind], _stamp(at))
        yield received
        yield GaugeMetricFamily("scheldt_quarantined_records", "Records ingest rejected, kept in the quarantine",
                                value=f.quarantined)
        yield GaugeMetricFamily("scheldt_trips_on_hold", "Container trips on customs hold", value=f.trips_on_hold)
        jobs = GaugeMetricFamily("scheldt_job_runs", "Job runs by status", labels=["status"])
        for status in ("queued", "running", "done", "failed"):
            jobs.add_metric([status], f.job_runs.get(status, 0))
        yield jobs
        files = GaugeMetricFamily("scheldt_supplied_files", "Files shipping lines and terminals sent",
                                  labels=["organisation"])
        for org, n in sorted(f.supplied_files.items()):
            files.add_metric([org], n)
        yield files
        yield GaugeMetricFamily("scheldt_audit_entries", "The audit chain's last sequence number",
                                value=f.audit_entries)
        models = InfoMetricFamily("scheldt_live_model", "The live model version of each target",
                                  labels=["target"])
        for target, version in sorted(f.live_models.items()):
            models.add_metric([target], {"version": version})
        yield models


def exposition(f: NodeFigures) -> bytes:
    """``f`` in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(f))
    return generate_latest(registry)


def _scrape(request: Request) -> bytes:
    with request_context(request) as ctx:
        ctx.require(Permission.READ_AUDIT)
        figures = read_figures(ctx.uow.session)
        ctx.audit("read", "metrics", "node")
        return exposition(figures)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The node's figures for Prometheus (administrators of the agency that runs the node)."""
    return Response(_scrape(request), media_type=CONTENT_TYPE)
