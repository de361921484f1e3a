"""Load watchlists and screen party names against them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from scheldt.errors import InputError
from scheldt.ingest.base import FileReport, Rejection
from scheldt.ingest.watchlists import MAX_ID, read_ftm, read_watchlist_csv
from scheldt.risk.screening import DEFAULT_THRESHOLD, Match, WatchlistEntry, WatchlistIndex
from scheldt.workflows.ports import UnitOfWork

#: Roles of transport-document parties that are screened.
SCREENED_ROLES = ("shipper", "consignee", "notify party")
#: Watchlist kinds that are not names (shared container numbers, seal ranges and routes): matched
#: exactly by ``scheldt.risk.watch_match``, never screened against party names.
EXACT_KINDS = ("container", "seal-range", "route")


def load_watchlist(uow: UnitOfWork, path: Path, list_name: str, supplied_by: str, now: datetime) -> FileReport:
    """Read a watchlist (FtM JSON / JSON lines when the file starts with ``{`` or ``[``, else
    CSV) into the watchlist store; unusable rows are quarantined with file:line and why.
    Raises InputError when the file does not exist."""
    if not path.is_file():
        raise InputError(str(path), "no such file")
    if not list_name.strip() or len(list_name) > MAX_ID:
        raise InputError("--list", f"a list name of 1 to {MAX_ID} characters")
    data = path.read_bytes()
    is_ftm = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")
    report = FileReport(str(path), "watchlist-ftm" if is_ftm else "watchlist-csv")
    skipped: Counter[str] = Counter()
    records = read_ftm(data, str(path), list_name, skipped) if is_ftm else read_watchlist_csv(data, str(path), list_name)
    entries: list[WatchlistEntry] = []
    rejections: list[Rejection] = []
    for rec in records:
        (rejections if isinstance(rec, Rejection) else entries).append(rec)  # type: ignore[arg-type]
    added, updated = uow.watchlists.add(entries, supplied_by, now)
    uow.quarantine.add(rejections, report.format, now)
    report.accepted, report.added, report.rejected = len(entries), added + updated, len(rejections)
    report.rejections, report.skipped = rejections, dict(skipped)
    return report


def watchlist_index(uow: UnitOfWork) -> WatchlistIndex | None:
    """An index of every stored watchlist entry that names a party, or None when there are none."""
    entries = [e for e in uow.watchlists.entries() if e.kind not in EXACT_KINDS]
    return WatchlistIndex(entries) if entries else None


def screen_names(uow: UnitOfWork, names: list[str], threshold: float = DEFAULT_THRESHOLD) -> dict[str, list[Match]]:
    """Matches of each name against every stored watchlist entry, best first."""
    index = watchlist_index(uow)
    return {n: [] for n in names} if index is None else index.screen_many(names, threshold)
