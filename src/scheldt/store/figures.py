"""What an operator watches on a node, read from the store: notice delivery, federation peers,
ingest freshness and quarantine, holds, the job runner, sent files, the live models.
The same from every server process (:mod:`scheldt.api.metrics` serves them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheldt.store.models import (
    AuditEntryRow,
    HoldRow,
    JobRunRow,
    ModelVersionRow,
    NotificationRow,
    PeerRow,
    QuarantineRow,
    ShippingEventRow,
    SuppliedFileRow,
    TransportDocumentRow,
    VesselPositionRow,
)
from scheldt.store.rows import aware


@dataclass
class NodeFigures:
    """Counts and times (UTC) at one moment. ``peers``: name -> (failing since or None, last pull
    or None); ``last_received``: kind of fact (events, documents, positions) -> the received time
    of the one stored last (read by its key, not by a scan: a replay of past days stores facts
    received then, so it reads as old)."""

    notices: dict[str, int] = field(default_factory=dict)  # status -> count
    oldest_pending_notice: datetime | None = None
    peers: dict[str, tuple[datetime | None, datetime | None]] = field(default_factory=dict)
    last_received: dict[str, datetime | None] = field(default_factory=dict)
    quarantined: int = 0
    trips_on_hold: int = 0
    job_runs: dict[str, int] = field(default_factory=dict)  # status -> count
    supplied_files: dict[str, int] = field(default_factory=dict)  # organisation -> files sent
    audit_entries: int = 0  # the audit chain's last sequence number
    live_models: dict[str, str] = field(default_factory=dict)  # target -> version


def read_figures(session: Session) -> NodeFigures:
    """The node's figures now: a handful of queries, each by a key or an index, or over a small
    table (notices, peers, holds, job runs, sent files)."""
    f = NodeFigures()
    by_status = select(NotificationRow.status, func.count()).group_by(NotificationRow.status)
    f.notices = dict(session.execute(by_status).all())
    f.oldest_pending_notice = aware(session.scalar(select(func.min(NotificationRow.created_at)).where(
        NotificationRow.status == "pending")))
    f.peers = {name: (aware(failing), aware(last)) for name, failing, last in session.execute(
        select(PeerRow.name, PeerRow.failing_since, PeerRow.last_pull_at))}
    f.last_received = {kind: aware(session.scalar(select(row.received_at).where(  # the newest row's: by its key
        row.id == select(func.max(row.id)).scalar_subquery()))) for kind, row in (
        ("events", ShippingEventRow), ("documents", TransportDocumentRow), ("positions", VesselPositionRow))}
    f.quarantined = session.scalar(select(func.count()).select_from(QuarantineRow)) or 0
    # from the holds, a small table: counting the trip index itself scanned it (a regression
    # review's 2 million trips took a second a scrape)
    f.trips_on_hold = session.scalar(select(func.count(func.distinct(HoldRow.trip_id))).where(
        HoldRow.released_at.is_(None))) or 0
    f.job_runs = dict(session.execute(select(JobRunRow.status, func.count()).group_by(JobRunRow.status)).all())
    f.supplied_files = dict(session.execute(select(SuppliedFileRow.organisation_id, func.count())
                                            .group_by(SuppliedFileRow.organisation_id)).all())
    f.audit_entries = session.scalar(select(func.max(AuditEntryRow.seq))) or 0  # the chain's length, by its key
    f.live_models = dict(session.execute(select(ModelVersionRow.target, ModelVersionRow.version)
                                         .where(ModelVersionRow.live.is_(True))).all())
    return f
