"""Load watchlists and screen party names against them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scheldt.errors import InputError, require_file
from scheldt.ingest.base import FileReport, Rejection
from scheldt.ingest.watchlists import MAX_ID, read_ftm, read_watchlist_csv
from scheldt.risk.screening import DEFAULT_THRESHOLD, SHARED_PREFIX, Match, WatchlistEntry, WatchlistIndex
from scheldt.risk.watch_match import address_numbers, same_address
from scheldt.workflows.ports import UnitOfWork

#: Roles of transport-document parties that are screened.
SCREENED_ROLES = ("shipper", "consignee", "notify party")
#: Watchlist kinds that are not names (shared container numbers, seal ranges and routes): matched
#: exactly by ``scheldt.risk.watch_match``, never screened against party names.
EXACT_KINDS = ("container", "seal-range", "route")
#: Watchlist kinds screened against something else than a party's name: an address entry names a
#: place (matched against parties' addresses), a vessel entry a ship (against the trip's vessel).
ADDRESS_KIND, VESSEL_KIND = "address", "vessel"


@dataclass(frozen=True, slots=True)
class ListReplaced:
    """What loading a list's file(s) did to the entries stored before that the files no longer
    hold: ``removed`` (their ids, sorted), or ``kept`` (how many) with ``why`` when they were
    left in place (rows of the files were rejected, or the files held no entry at all)."""

    list_name: str
    removed: tuple[str, ...] = ()
    kept: int = 0
    why: str = ""


def load_watchlists(uow: UnitOfWork, paths: list[Path], list_name: str | None, supplied_by: str,
                    now: datetime) -> tuple[list[FileReport], list[ListReplaced]]:
    """Load watchlist files (each into ``list_name``, else a list named after the file's stem)
    and make each list what its files hold: a list file is the whole list as its publisher
    issued it, so the entries this organisation loaded into that list before that are in none
    of its files are removed (an analyst review: a delisted company went on flagging trips for
    good). Nothing is removed from a list whose files had a rejected row (the entry may be on
    it) or held no entry at all (an empty export). Lists ``shared:...`` hold what partners
    share and are refused here. Returns the reports, file by file, and what each list lost.
    Raises InputError for a file that does not exist or a list name that is refused."""
    reports: list[FileReport] = []
    lists: dict[str, tuple[set[str], int]] = {}  # list -> (entry ids in its files, rejected rows)
    for path in paths:
        name = list_name or path.stem
        report, ids = load_watchlist(uow, path, name, supplied_by, now)
        reports.append(report)
        seen, rejected = lists.get(name, (set(), 0))
        lists[name] = (seen | ids, rejected + report.rejected)
    return reports, [_replace(uow, name, supplied_by, ids, rejected) for name, (ids, rejected) in lists.items()]


def _replace(uow: UnitOfWork, list_name: str, supplied_by: str, ids: set[str], rejected: int) -> ListReplaced:
    stale = sorted(set(uow.watchlists.ids(list_name, supplied_by)) - ids)
    if not stale:
        return ListReplaced(list_name)
    if rejected or not ids:
        why = (f"{rejected} row(s) of the file(s) were rejected: mend them and load again" if rejected
               else "the file(s) held no entry")
        return ListReplaced(list_name, kept=len(stale), why=why)
    uow.watchlists.remove(list_name, supplied_by, stale)
    return ListReplaced(list_name, removed=tuple(stale))


def load_watchlist(uow: UnitOfWork, path: Path, list_name: str, supplied_by: str,
                   now: datetime) -> tuple[FileReport, set[str]]:
    """Read a watchlist (FtM JSON / JSON lines when the file starts with ``{`` or ``[``, else
    CSV) into the watchlist store; unusable rows are quarantined with file:line and why.
    Returns the report and the ids of the entries read. Raises InputError when the file does not
    exist or the list name is refused (see :func:`load_watchlists`)."""
    require_file(path)
    if not list_name.strip() or len(list_name) > MAX_ID:
        raise InputError("--list", f"a list name of 1 to {MAX_ID} characters")
    if list_name.strip().lower().startswith(SHARED_PREFIX):  # SQLite's LIKE ignores case (regression review)
        raise InputError("--list", f"lists named {SHARED_PREFIX}... hold the watchlist entries partners share; "
                         "name a list of your own")
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
    return report, {e.entry_id for e in entries}


def watchlist_index(uow: UnitOfWork) -> WatchlistIndex | None:
    """An index of every stored watchlist entry that has a name (parties, vessels, addresses:
    ``scheldt watchlist screen`` looks a text up in all of them), or None when there are none."""
    entries = [e for e in uow.watchlists.entries() if e.kind not in EXACT_KINDS]
    return WatchlistIndex(entries) if entries else None


@dataclass(frozen=True)
class TripScreen:
    """The watchlist entries a container trip is screened against, each kind against its own
    facts: ``parties`` (an index of the entries naming a company or person, for the names of
    the shipper, consignee and notify party), ``vessels`` (vessel entries, for the trip's vessel
    names) and ``addresses`` (address entries and the address column of any entry, for the
    parties' addresses; keyed by the digits of the numbers in the address, which must be
    equal to match: see
    :func:`scheldt.risk.watch_match.same_address`). A targeting review: address and vessel
    entries were screened as party names and never matched a trip."""

    parties: WatchlistIndex | None
    vessels: WatchlistIndex | None
    addresses: dict[str, list[tuple[WatchlistEntry, str]]]
    exact: tuple[WatchlistEntry, ...] = ()  # shared container, seal-range and route entries (EXACT_KINDS)

    def watched_addresses(self, address: str) -> list[tuple[WatchlistEntry, str]]:
        """The (entry, watched address) pairs that are ``address`` (:func:`same_address`; only
        those with its numbers are compared)."""
        return [(e, watched) for e, watched in self.addresses.get(address_numbers(address), [])
                if same_address(address, watched)]


def trip_screen(uow: UnitOfWork) -> TripScreen | None:
    """The stored watchlist entries as a :class:`TripScreen`, or None when there are none."""
    stored = uow.watchlists.entries()
    if not stored:
        return None
    entries = [e for e in stored if e.kind not in EXACT_KINDS]
    parties = [e for e in entries if e.kind not in (ADDRESS_KIND, VESSEL_KIND)]
    vessels = [e for e in entries if e.kind == VESSEL_KIND]
    addresses: dict[str, list[tuple[WatchlistEntry, str]]] = {}
    for e in entries:
        for address in {e.name if e.kind == ADDRESS_KIND else "", e.address} - {""}:
            addresses.setdefault(address_numbers(address), []).append((e, address))
    return TripScreen(WatchlistIndex(parties) if parties else None, WatchlistIndex(vessels) if vessels else None,
                      addresses, tuple(e for e in stored if e.kind in EXACT_KINDS))


def screen_names(uow: UnitOfWork, names: list[str], threshold: float = DEFAULT_THRESHOLD) -> dict[str, list[Match]]:
    """Matches of each name against every stored watchlist entry, best first."""
    index = watchlist_index(uow)
    return {n: [] for n in names} if index is None else index.screen_many(names, threshold)
