"""Score container trips with the live risk profile; keep every score and the facts behind it.

A trip's facts (events, document versions, party history, its vessel's AIS track) are gathered
from the store as known at ``now``, hashed, and scored only when they differ from the facts of
the trip's latest assessment under the same profile and model (or the code that scores them
changed: :func:`scoring_code`): new facts (an event, an amended document, a position) give a
new assessment, and the older ones stay as the score history.
Any stored assessment can be recomputed from its stored facts and profile version
(:func:`reproduce`).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scheldt.domain.access import OrgKind, Principal
from scheldt.domain.activations import rollback_target
from scheldt.domain.audit import audit_payload
from scheldt.domain.facts import fact_digest, name_key, plain
from scheldt.domain.identifiers import container_number
from scheldt.domain.inspection import risk_band
from scheldt.domain.shipping import MmsiSpan, goods_in
from scheldt.domain.trips import (
    PartyHistory,
    TripDocument,
    TripEvent,
    TripFacts,
    TripKey,
    TripParty,
    TripSummary,
    VesselFix,
    WatchlistMatch,
    arrival_time,
    consignee_name,
    distinct_events,
    facts_snapshot,
    group_trips,
    loaded_aboard_time,
    screened_parties,
    trip_documents,
    trip_event,
    trip_facts_from_dict,
    trip_references,
    trip_summary,
    voyage_documents,
)
from scheldt.errors import InputError, NotFoundError
from scheldt.risk.profiles import ProfileScore, RiskProfile, load_profile, profile_digest
from scheldt.risk.screening import name_numbers
from scheldt.settings import get_settings
from scheldt.workflows import inspections, notices
from scheldt.workflows.accounts import carrier_owners
from scheldt.workflows.ports import UnitOfWork
from scheldt.workflows.screening import ADDRESS_KIND, SCREENED_ROLES, TripScreen, trip_screen
from scheldt.workflows.trip_model import TARGET as TRIP_MODEL_TARGET
from scheldt.workflows.trip_model import LiveTripModel, assess, live_trip_model, load_version

#: Containers whose facts are gathered together.
BATCH = 1_000
#: How far back a vessel's new AIS positions reach the trips aboard (longest deep-sea voyage).
VOYAGE_DAYS = 60
#: How far before a trip's arrival its vessel's AIS track is gathered; before that, only the
#: last fix since the box was loaded, when the vessel was silent at the window's start (no fix
#: within ``TRACK_SLACK`` of it): where a long silence began.
TRACK_DAYS = 7
TRACK_SLACK = timedelta(hours=1)


@dataclass
class ScoringReport:
    """How many trips were scored anew, how many were unchanged since their last score, and how
    many were left alone because they already have a score made later than this scoring's time
    (a replay of old days: scoring them as of then would put old scores above newer ones)."""

    profile: str
    scored: int = 0
    unchanged: int = 0
    later: int = 0
    #: Why nothing was scored although a profile is live (it is not in force at this time).
    not_scored: str = ""
    #: Container numbers of the trips left alone (counted in ``later``).
    later_containers: set[str] = field(default_factory=set)


def local_ports() -> frozenset[str]:
    """UN/LOCODEs of the node's ports (``SCHELDT_PORTS``), where a box with no document gated in
    is at the terminal (:meth:`scheldt.domain.trips.TripFacts.gate_in_by_land`)."""
    return frozenset(get_settings().ports)


def summariser(uow: UnitOfWork) -> Callable[[TripFacts], TripSummary]:
    """:func:`trip_summary` with the node's ports (:func:`local_ports`), the agency each of its
    shipping lines and terminals feeds (the agency it is a client of, else the agency that runs
    the node, ``SCHELDT_LOCAL_ORGANISATION``, when it is an agency: a line's own ingest runs
    under the line's name, and a regression review's trip fed so stayed the line's) and each
    line's first carrier code (a trip only its events make is its own)."""
    ports = local_ports()
    organisations = uow.accounts.organisations()
    kinds = {o.id: o.kind for o in organisations}
    local = get_settings().local_organisation
    host = local if kinds.get(local) == OrgKind.AGENCY else ""
    patrons = uow.accounts.clients_of()
    lines = {o.id: patrons.get(o.id) or host for o in organisations if o.kind in (OrgKind.CARRIER, OrgKind.TERMINAL)}
    codes = {o.id: o.carrier_codes[0] for o in organisations if o.kind == OrgKind.CARRIER and o.carrier_codes}
    return lambda facts: trip_summary(facts, ports, lines, codes)


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _document(d: dict[str, Any], number: str) -> TripDocument:
    containers = d.get("containers") or []
    mine = [c for c in containers if c.get("number") == number]
    masses = [g.get("gross_mass_kg") for g in d.get("goods") or []]
    # those in this box (a CLI review: every box had all)
    goods = goods_in(d.get("goods") or [], number, (c.get("number") for c in containers))
    mass = sum(masses) if len(containers) == 1 and masses and all(m is not None for m in masses) else None
    return TripDocument(
        document_ref=d["document_ref"] or d["booking_ref"], document_type=d["document_type"],
        received_at=_utc(d["received_at"]), to_order=d.get("to_order"), freight_payment=d.get("freight_payment") or "",
        port_of_loading=d.get("port_of_loading") or "", port_of_discharge=d.get("port_of_discharge") or "",
        parties=tuple(TripParty(p.get("role", ""), p.get("name", ""), p.get("address", ""), p.get("country", ""))
                      for p in d.get("parties") or []),
        hs_codes=tuple(g["hs_code"] for g in goods if g.get("hs_code")),
        descriptions=tuple(g["description"] for g in goods if g.get("description")),
        gross_mass_kg=mass, seals=tuple(s["number"] for c in mine for s in c.get("seals") or [] if s.get("number")),
        source=d.get("source") or "", carrier_code=d.get("carrier_code") or "", supplied_by=d.get("supplied_by") or "",
        issued_at=_utc(d["issued_at"]) if d.get("issued_at") else None)


def container_trip_facts(uow: UnitOfWork, raw_number: str, now: datetime) -> list[TripFacts]:
    """The facts of each trip of a container as known at ``now`` (UTC): only what was received
    by then. Raises InputError for an empty number."""
    if not raw_number.strip():
        raise InputError("container number", "give a container number")
    number, _ = container_number(raw_number.upper())
    return trip_facts(uow, [number], now, trip_screen(uow))


def trip_facts(uow: UnitOfWork, numbers: list[str], now: datetime, screen: TripScreen | None = None) -> list[TripFacts]:
    """The facts of every trip of ``numbers`` as known at ``now`` (UTC), gathered in a few
    queries per batch of containers (events, documents, party sightings, vessel tracks), with
    each trip screened against the watchlist entries of ``screen`` when given (parties of its
    latest document by name and address, its vessels by name). An event retracted by then (its
    publisher withdrew it) is not among them: a withdrawn gate-out does not mark the box gone."""
    events_by = uow.events.for_containers(numbers)
    listing = uow.documents.listing_all_versions(numbers)
    listed_by: dict[str, list[dict[str, Any]]] = {}  # number -> every version of the documents listing it
    versions: dict[str, list[dict[str, Any]]] = {}
    for d in listing:
        versions.setdefault(d["document_ref"] or d["booking_ref"], []).append(d)
    for same in versions.values():
        for c in {c.get("number") for d in same for c in d.get("containers") or []}:
            listed_by.setdefault(c, []).extend(same)
    trips = []
    for number in numbers:
        events = [e for e in events_by.get(number, [])
                  if (e.get("received_at") is None or _utc(e["received_at"]) <= now) and not _retracted(e, now)]
        voyages = voyage_documents(listed_by.get(number, ()), number, now)
        trips += [(number, t) for t in group_trips(number, events, voyages)]
    refs = {r for _, t in trips for r in trip_references(t)}
    by_ref: dict[str, list[dict[str, Any]]] = {}
    for d in [*listing, *uow.documents.for_containers([], sorted(refs), skip={d["id"] for d in listing})]:
        if d["received_at"] <= now:
            for r in {d["document_ref"], d["booking_ref"]} - {""}:
                by_ref.setdefault(r, []).append(d)
    built = []
    owners = carrier_owners(uow)
    for number, trip in trips:
        trip_refs = trip_references(trip)
        found = {d["id"]: d for r in trip_refs for d in by_ref.get(r, ())}
        docs = trip_documents(sorted(found.values(), key=lambda d: (d["received_at"], d["id"])), trip_refs, number,
                              owners)
        mine = tuple(_document(d, number) for d in docs)
        vessels = _vessel_names(trip.events, docs) if screen is not None and screen.vessels is not None else ()
        built.append((trip.key, distinct_events(trip_event(e) for e in trip.events), mine, vessels))
    histories = _consignee_histories(uow, [docs for _, _, docs, _ in built], now)
    tracks = _tracks(uow, [events for _, events, _, _ in built])
    return [TripFacts(key, now, events, docs, history, track, _screen(screen, docs, vessels))
            for (key, events, docs, vessels), history, track in zip(built, histories, tracks, strict=True)]


def _screen(screen: TripScreen | None, docs: tuple[TripDocument, ...],
            vessel_names: Sequence[str]) -> tuple[WatchlistMatch, ...]:
    """Watchlist matches of the trip: each screened party (:func:`screened_parties`: the latest
    document's, and a later arrival notice's) by name and by address (at most three of each),
    and the trip's ``vessel_names`` (three at most)."""
    if screen is None:
        return ()
    out: list[WatchlistMatch] = []
    for party in screened_parties(docs):
        if party.role in SCREENED_ROLES:
            out += _party_matches(screen, party) + _address_matches(screen, party)
    return tuple(out + _vessel_matches(screen, vessel_names))


def _party_matches(screen: TripScreen, party: TripParty) -> list[WatchlistMatch]:
    """A party's name against the entries naming companies and persons."""
    if screen.parties is None or not party.name.strip():
        return []
    return [WatchlistMatch(party.role, party.name, m.entry.entry_id, m.matched_name, m.entry.list_name, m.score)
            for m in screen.parties.screen(party.name)[:3]]


def _address_matches(screen: TripScreen, party: TripParty) -> list[WatchlistMatch]:
    """A party's address against the watched addresses (score 100: the same address or not)."""
    if not party.address.strip():
        return []
    return [WatchlistMatch(party.role, f"{party.name} at {party.address}", e.entry_id,
                           watched if e.kind == ADDRESS_KIND else f"{e.name} at {watched}", e.list_name, 100.0)
            for e, watched in screen.watched_addresses(party.address)][:3]


def _vessel_matches(screen: TripScreen, vessel_names: Sequence[str]) -> list[WatchlistMatch]:
    """The trip's vessel names against vessel entries: the same name and the same numbers (ships
    of a series are told apart by them)."""
    if screen.vessels is None:
        return []
    return [WatchlistMatch("vessel", name, m.entry.entry_id, m.matched_name, m.entry.list_name, m.score)
            for name in vessel_names for m in screen.vessels.screen(name)
            if name_numbers(m.matched_name) == name_numbers(name)][:3]


def _vessel_names(events: Sequence[dict[str, Any]], docs: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """The vessel names a trip's events and documents give, each once (case folded), as first seen."""
    seen: dict[str, str] = {}
    for raw in [e.get("vessel_name") or "" for e in events] + [d.get("vessel_name") or "" for d in docs]:
        if name := raw.strip():
            seen.setdefault(name.casefold(), name)
    return tuple(seen.values())


def _consignee_histories(uow: UnitOfWork, per_trip: list[tuple[TripDocument, ...]], now: datetime) -> list[PartyHistory | None]:
    names = [consignee_name(docs) for docs in per_trip]
    sightings = uow.documents.party_sightings("consignee", [n for n in names if n])
    out: list[PartyHistory | None] = []
    for name, docs in zip(names, per_trip, strict=True):
        if not name:
            out.append(None)
            continue
        own = {d.document_ref for d in docs}
        seen = [(ref, at, issued) for ref, at, issued in sightings.get(name_key(name), []) if at <= now]
        # seen from the issue date a document states (a backfill of old documents is not new),
        # never later than it was received (nor from a date in the future)
        first = min((at if issued is None else min(issued, at) for _, at, issued in seen), default=None)
        out.append(PartyHistory(name, first, len({ref for ref, _, _ in seen} - own)))
    return out


def _retracted(event: dict[str, Any], now: datetime) -> bool:
    """Whether a stored event was retracted at or before ``now`` (UTC); one retracted before its
    time was kept (migration 0026) counts as retracted always."""
    if not event.get("retracted_by"):
        return False
    return event.get("retracted_at") is None or _utc(event["retracted_at"]) <= now


def _tracks(uow: UnitOfWork, per_trip: list[tuple[TripEvent, ...]]) -> list[tuple[VesselFix, ...]]:
    windows = []
    for events in per_trip:
        windows.append((events, arrival_time(events), sorted({e.vessel_imo for e in events if e.vessel_imo})))
    spans = uow.vessels.spans_for_imos(sorted({i for _, _, imos in windows for i in imos}))
    wanted = {}
    for n, (_, arrival, imos) in enumerate(windows):
        ids = tuple(span for i in imos for span in spans.get(i, ()))
        if arrival is not None and ids:
            wanted[n] = (ids, arrival - timedelta(days=TRACK_DAYS), arrival)
    tracks = _window_positions(uow, wanted)
    out: list[tuple[VesselFix, ...]] = []
    for n, (events, arrival, _) in enumerate(windows):
        if n not in wanted:
            out.append(())
            continue
        ids, start, _ = wanted[n]
        fixes = tracks[n]
        loaded = loaded_aboard_time(events, arrival)
        if loaded is not None and loaded < start and (not fixes or fixes[0]["observed_at"] > start + TRACK_SLACK):
            # silent at the window's start with the box aboard: where the silence began
            fixes = uow.vessels.last_position_before(list(ids), start, loaded) + fixes
        out.append(tuple(VesselFix(_utc(f["observed_at"]), f["latitude"], f["longitude"], f.get("speed_knots"))
                         for f in fixes if f.get("observed_at")))
    return out


def _window_positions(uow: UnitOfWork, windows: dict[int, tuple[tuple[MmsiSpan, ...], datetime, datetime]]
                      ) -> dict[int, list[dict[str, Any]]]:
    """The positions of each window (MMSI spans, start, end in UTC), as
    ``uow.vessels.track(spans, start, end)`` gives them, read with one query per run of
    overlapping windows of the same spans: the boxes of one vessel call share most of their
    week, and reading it once per box was a tenth of a replay's time."""
    by_spans: dict[tuple[MmsiSpan, ...], list[int]] = {}
    for n, (ids, _, _) in windows.items():
        by_spans.setdefault(ids, []).append(n)
    out: dict[int, list[dict[str, Any]]] = {}
    for ids, members in by_spans.items():
        members.sort(key=lambda n: windows[n][1])
        runs: list[tuple[list[int], list[datetime]]] = []  # overlapping windows, [the latest end]
        for n in members:
            _, start, end = windows[n]
            if runs and start <= runs[-1][1][0]:
                runs[-1][0].append(n)
                runs[-1][1][0] = max(runs[-1][1][0], end)
            else:
                runs.append(([n], [end]))
        for run, (end,) in runs:
            fixes = uow.vessels.track(list(ids), windows[run[0]][1], end)
            times = [_utc(f["observed_at"]) for f in fixes]
            for n in run:
                out[n] = fixes[bisect_left(times, windows[n][1]):bisect_right(times, windows[n][2])]
    return out


def live_profile(uow: UnitOfWork, now: datetime | None = None) -> RiskProfile:
    """The live risk profile; with ``now``, it must be in force then (its effective dates).
    Raises InputError when none was activated or it is not in force."""
    stored = uow.profiles.live()
    if stored is None:
        raise InputError("risk profile", "no profile is live: `scheldt profile activate FILE.yaml` "
                         "(or `--builtin antwerp-narcotics`)")
    profile = load_profile(stored.body, stored.label, stored=True)
    if now is not None and not profile.in_force(day := now.date()):
        raise InputError(profile.label, f"not in force on {day} (effective {profile.effective_from} to "
                         f"{profile.effective_to or 'open'}): activate a profile that is")
    return profile


#: The modules whose code turns a trip's facts into its score (besides the :mod:`scheldt.risk`
#: package), relative to the ``scheldt`` package.
_SCORING_MODULES = ("domain/trips.py", "domain/facts.py", "workflows/trip_scoring.py", "workflows/trip_model.py",
                    "workflows/screening.py")


def _code_fingerprint() -> str:
    root = Path(__file__).resolve().parents[1]
    risk = [p for p in (root / "risk").rglob("*.py*") if p.suffix in (".py", ".pyc") and "__pycache__" not in p.parts
            and not (p.suffix == ".pyc" and p.with_suffix(".py").exists())]
    named = [next((f for f in (root / m, (root / m).with_suffix(".pyc")) if f.exists()), root / m)
             for m in _SCORING_MODULES]
    digest = hashlib.sha256()
    for path in sorted(risk) + named:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update((path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()


#: Taken when this module is imported, with the code it runs (a regression review: taken at the
#: first scoring, a server whose package was upgraded under it stamped its old code's scores with
#: the new code's fingerprint).
_SCORING_CODE = _code_fingerprint()


def scoring_code() -> str:
    """SHA-256 (hex) of the code that scores trips (:mod:`scheldt.risk` and
    :data:`_SCORING_MODULES`, their sources, or their compiled files in an install without
    sources), as imported: part of what makes a trip's score current (:func:`score_trips`), so
    the installed code scores every trip again once after an upgrade that changed it. An
    operator review: after an upgrade, every trip kept the old code's score ("NOT
    REPRODUCED"), and nothing (scoring, the rescore job, activating the profile again) re-scored
    it."""
    return _SCORING_CODE


def score_trips(uow: UnitOfWork, now: datetime, containers: list[str] | None = None) -> ScoringReport:
    """Score the trips of ``containers`` (all containers with events when None) with the live
    profile, adding an assessment only where the facts, or the code that scores them
    (:func:`scoring_code`), changed since the trip's last one. A
    trip already scored after ``now`` (UTC) is left alone: a trip's scores are kept in time
    order, so the latest is the current one (replaying old days again scores nothing).

    Every trip then shows (in the read model: lists, trip pages) its assessment under the live
    profile and model: after a switch back to an earlier version, trips whose facts did not
    change show that version's stored assessment again (they kept showing the withdrawn
    version's scores: found by two reviews). A trip of these containers that their events no
    longer make is marked regrouped and leaves the lists
    (:meth:`~scheldt.store.container_trips.ContainerTripRepository.mark_regrouped`)."""
    profile = live_profile(uow, now)
    report = ScoringReport(profile.label)
    model = live_trip_model(uow)
    model_version = model.version if model else ""
    latest = uow.trip_assessments.latest_hashes(profile.label, model_version)
    later = uow.trip_assessments.scored_after(now)
    kept: dict[tuple[str, str, str], int] = {}  # unchanged trips: their assessment under the live version
    numbers = containers if containers is not None else uow.events.containers()
    screen = trip_screen(uow) if numbers else None
    live: set[tuple[str, str, str]] = set()
    code = scoring_code()
    summary = summariser(uow)
    for start in range(0, len(numbers), BATCH):  # stored batch by batch: memory bounded by a batch, not the feed
        rows: list[dict[str, Any]] = []
        summaries: list[TripSummary] = []
        scored: list[TripFacts] = []  # with new facts: screened against the shared exact entries after
        changed: list[tuple[TripFacts, dict[str, Any], str, int]] = []  # facts or code changed since the last score
        for facts in trip_facts(uow, numbers[start:start + BATCH], now, screen):
            snapshot = facts_snapshot(facts)
            digest = fact_digest({k: v for k, v in snapshot.items() if k != "as_of"} | {"scored_by": code})
            key = (facts.key.container_number, facts.key.document_ref, facts.key.voyage)
            live.add(key)
            if key in later:
                report.later += 1
                report.later_containers.add(key[0])
                continue
            stored = latest.get(key)
            if stored is not None and stored[0] == digest:
                report.unchanged += 1
                kept[key] = stored[1]
                continue
            if stored is not None:
                changed.append((facts, snapshot, digest, stored[1]))
                continue
            rows.append(_row(profile, model, facts, snapshot, digest, now))
            summaries.append(summary(facts))
            scored.append(facts)
        earlier = {r["id"]: r for r in uow.trip_assessments.by_ids([c[3] for c in changed])}
        for facts, snapshot, digest, stored_id in changed:
            before = earlier[stored_id]
            same = _facts_only(before["facts"]) == _facts_only(snapshot)
            # the same facts, scored by other code: scored again as of when they were (an upgrade's
            # re-score at the wall clock made time-relative reasons drift and stopped a replay)
            rows.append(_rescored(profile, model, before, digest) if same else
                        _row(profile, model, facts, snapshot, digest, now))
            summaries.append(summary(facts))
            if not same:
                scored.append(facts)
        _store_batch(uow, rows, summaries, scored, profile.label, model_version, screen, now)
        report.scored += len(rows)
    _show_kept(uow, kept)
    _carry_holds(uow, numbers, live, now)
    regrouped = uow.container_trips.mark_regrouped(numbers, live, now)
    _carry_orders(uow, regrouped, now)
    if regrouped:
        from scheldt.workflows import share

        share.withdraw_regrouped_alerts(uow, [uow.container_trips.get(i) for i in regrouped], now)
    return report


def _store_batch(uow: UnitOfWork, rows: list[dict[str, Any]], summaries: list[TripSummary], scored: list[TripFacts],
                 profile: str, model_version: str, screen: TripScreen | None, now: datetime) -> None:
    """Store a batch of :func:`score_trips`: its assessments ``rows`` (trips scored, as new facts
    or back as they were at an earlier score: stored already, so not added again; a review's
    delisted watchlist entry changed 230 scores, "0 scored"), the read model of their trips, and
    the alerts of the shared exact entries (container, seal range, route) the trips with new
    facts ``scored`` match (a federation review's "watch this box when it arrives" never flagged
    the box that arrived). An ingest review's 50,000 boxes held every batch's rows until the end
    (7 KB a trip)."""
    uow.trip_assessments.add(rows)
    index_trips(uow, rows, summaries, profile, model_version)
    if screen is not None and screen.exact and scored:
        from scheldt.workflows import share  # STIX is loaded where shared entries are stored

        share.alert_watched_trips(uow, screen.exact, scored, now)


def _carry_holds(uow: UnitOfWork, numbers: Sequence[str], live: set[tuple[str, str, str]], now: datetime) -> None:
    """Move each active hold of a trip of ``numbers`` that its events no longer make (its key
    not in ``live``; scored at or before ``now``) to the trip that now holds most of the moves
    it was scored on (:func:`scheldt.workflows.inspections.carry_hold`); a hold whose moves are
    on no trip now stays where it is, and its trip stays listed."""
    held = [t for t in uow.container_trips.held(numbers) if (t["container_number"], t["document_ref"], t["voyage"])
            not in live and t["scored_at"] is not None and t["scored_at"] <= now and t["assessment_id"]]
    for old, new in _trips_now(uow, held, now).items():
        inspections.carry_hold(uow, old, new, now)


def _carry_orders(uow: UnitOfWork, regrouped: Sequence[int], now: datetime) -> None:
    """Move the scan orders of each trip just marked regrouped whose box was searched or cleared
    to the trip that now holds most of the moves it was scored on
    (:func:`scheldt.workflows.inspections.carry_orders`), and the seizure reports shared of them
    with them (:func:`_reports_follow`)."""
    done = [t for t in (uow.container_trips.get(i) for i in regrouped)
            if t["status"] in inspections.DECIDED and t["assessment_id"]]
    for old, new in _trips_now(uow, done, now).items():
        for org, orders in inspections.carry_orders(uow, old, new, now).items():
            _reports_follow(uow, org, orders, now)


def _reports_follow(uow: UnitOfWork, org: str, orders: Sequence[int], now: datetime) -> None:
    """The seizure reports ``org`` shared of ``orders``, now on the box's current trip, as new
    versions naming that trip's consignment (:func:`scheldt.workflows.share.follow_correction`,
    by ``system``), each in the audit log; a partner kept a report of the old grouping (an
    upgrade review)."""
    from scheldt.workflows import share  # STIX is loaded where shared items are written

    system = Principal("system", uow.accounts.organisation(org), frozenset())
    for order_id in orders:
        done = share.follow_correction(uow, system, order_id, now)
        if done is not None:  # a partner-visible change: in the audit log (a review)
            uow.audit.append("write", org, audit_payload(
                "system", org, "seizure report follows its scan order", "shared-seizure-report", done["id"], "",
                {"order_id": order_id, "action": done["action"]}), now)


def current_trip(uow: UnitOfWork, trip: dict[str, Any], now: datetime) -> int | None:
    """The id of the trip that holds most of the moves ``trip`` (a stored trip its box's events
    no longer make) was scored on, as of ``now`` (UTC): where its hold and scan orders went. None
    when it was never scored or its moves are on no trip now."""
    return _trips_now(uow, [trip], now).get(trip["id"]) if trip.get("assessment_id") else None


def _trips_now(uow: UnitOfWork, trips: Sequence[dict[str, Any]], now: datetime) -> dict[int, int]:
    """For each of ``trips`` (stored trips with an assessment, their events regrouped), the id
    of the trip that holds most of the moves it was scored on as of ``now``; none for a trip
    whose moves are on no trip now."""
    if not trips:
        return {}
    current = trip_facts(uow, sorted({t["container_number"] for t in trips}), now)
    ids = uow.container_trips.ids_for([f.key for f in current])
    out = {}
    for trip in trips:
        scored_on = trip_facts_from_dict(uow.trip_assessments.get(trip["assessment_id"])["facts"])
        before = {_move(e) for e in scored_on.events}
        shared = [(len(before & {_move(e) for e in f.events}), f.key) for f in current
                  if f.key.container_number == trip["container_number"] and f.key in ids]
        best = max(shared, key=lambda s: s[0], default=(0, None))
        if best[0] > 0:
            out[trip["id"]] = ids[best[1]]
    return out


def _move(e: TripEvent) -> tuple[str, str, str, datetime, str]:
    """What identifies a move among a box's events, whichever trip it is on."""
    return (e.kind, e.event_type, e.classifier, e.event_time, e.unlocode)


def _show_kept(uow: UnitOfWork, kept: dict[tuple[str, str, str], int]) -> None:
    """Point the read model of unchanged trips ``kept`` (key -> their assessment under the live
    version) at that assessment where it shows another one (rare: after a switch back), with
    the summary of that assessment's facts, as :func:`reindex_trips` does."""
    if not kept:
        return
    shown = uow.container_trips.assessment_ids(sorted({k[0] for k in kept}))
    stale = [i for k, i in kept.items() if shown.get(k) != i]
    if stale:
        rows = uow.trip_assessments.by_ids(stale)
        summary = summariser(uow)
        summaries = [summary(trip_facts_from_dict(r["facts"])) for r in rows]
        _upsert_shown(uow, rows, summaries, [r["id"] for r in rows])


def index_trips(uow: UnitOfWork, rows: list[dict[str, Any]], summaries: list[TripSummary],
                profile: str | None = None, model_version: str = "") -> None:
    """Bring the container-trip read model up to date with new assessments ``rows`` (as
    :func:`_row` makes them) and their trips' summaries. With ``profile``, each trip shows the
    assessment of its row's facts under that profile and ``model_version`` (also when the row
    was not added because the same assessment was stored before); otherwise its latest."""
    if not rows:
        return
    numbers = [r["container_number"] for r in rows]
    if profile is None:
        latest = uow.trip_assessments.latest_ids(numbers)
        ids = [latest.get((r["container_number"], r["document_ref"], r["voyage"])) for r in rows]
    else:
        under = uow.trip_assessments.ids_under(profile, model_version, numbers)
        ids = [under.get((r["container_number"], r["document_ref"], r["voyage"], r["facts_hash"])) for r in rows]
    _upsert_shown(uow, rows, summaries, ids)


def _upsert_shown(uow: UnitOfWork, rows: list[dict[str, Any]], summaries: list[TripSummary],
                  ids: list[int | None]) -> None:
    """Write the read-model rows; a held trip that gains an owner (a terminal once discharged,
    a carrier once its document arrives) sends that owner the hold notice, dated as scored."""
    held = uow.container_trips.held([r["container_number"] for r in rows])
    _write_shown(uow, rows, summaries, ids)
    scored = {(r["container_number"], r["document_ref"], r["voyage"]): r["scored_at"] for r in rows}
    for before in held:
        at = scored.get((before["container_number"], before["document_ref"], before["voyage"]))
        if at is not None:
            notices.notify_new_owners_of_hold(uow, before, at if at.tzinfo else at.replace(tzinfo=UTC))


def _write_shown(uow: UnitOfWork, rows: list[dict[str, Any]], summaries: list[TripSummary],
                 ids: list[int | None]) -> None:
    uow.container_trips.upsert([
        {"container_number": r["container_number"], "document_ref": r["document_ref"], "voyage": r["voyage"],
         **{k: getattr(s, k) for k in TripSummary.__slots__},
         "assessment_id": i, "score": r["score"], "risk_band": risk_band(r["score"]),
         "top_reason": r["reasons"][0]["evidence"] if r["reasons"] else "", "scored_at": r["scored_at"]}
        for r, s, i in zip(rows, summaries, ids, strict=True)])


def reindex_trips(uow: UnitOfWork) -> int:
    """Rebuild the read model from every trip's latest stored assessment (after an upgrade from
    a version without it). Returns how many trips were indexed."""
    rows = uow.trip_assessments.latest_per_trip()
    summary = summariser(uow)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        index_trips(uow, chunk, [summary(trip_facts_from_dict(r["facts"])) for r in chunk])
    return len(rows)


def resummarise_trips(uow: UnitOfWork) -> int:
    """Recompute every indexed trip's summary (owners, route, arrival, departure from the port)
    from the stored facts of the assessment it shows, keeping that assessment (after an upgrade
    that adds a summary field). Returns how many trips were updated."""
    ids = uow.container_trips.shown_assessment_ids()
    summary = summariser(uow)
    for start in range(0, len(ids), BATCH):
        rows = uow.trip_assessments.by_ids(ids[start:start + BATCH])
        summaries = [summary(trip_facts_from_dict(r["facts"])) for r in rows]
        _upsert_shown(uow, rows, summaries, [r["id"] for r in rows])
    return len(ids)


def rescore_received(uow: UnitOfWork, since: datetime, now: datetime) -> ScoringReport | None:
    """After an ingest: re-score the trips of every container with events or document versions
    received at or after ``since`` (UTC), of the containers whose trips events without a
    container received then join (by the documents or bookings they name, or their vessel's
    events of the last :data:`VOYAGE_DAYS` days), and of containers on vessels whose AIS positions were
    received then (their events from :data:`VOYAGE_DAYS` days before the earliest of those
    positions was observed). None when no profile is live (nothing is scored); a report saying
    why nothing was scored (``not_scored``) when the live profile is not in force at ``now``:
    the facts stay loaded (a review's ingest under a profile effective from next year stored
    nothing)."""
    if uow.profiles.live() is None:
        return None
    numbers = set(uow.events.containers_received_since(since)) | set(uow.documents.containers_received_since(since))
    refs, called = uow.events.boxless_received_since(since)  # arrivals, departures: the trips they join
    if refs:
        numbers |= set(uow.events.containers_with_refs(refs)) | set(uow.documents.containers_referenced(refs))
    if called:
        numbers |= set(uow.events.containers_on_vessels(sorted(called), since - timedelta(days=VOYAGE_DAYS)))
    moved = uow.vessels.imos_with_positions_since(since)
    if moved:  # around when the positions were observed: a lagging feed's are older than their receipt
        observed = uow.vessels.earliest_observed_received_since(since) or since
        numbers |= set(uow.events.containers_on_vessels(moved, min(since, observed) - timedelta(days=VOYAGE_DAYS)))
    return score_with_live(uow, now, sorted(numbers))


def score_with_live(uow: UnitOfWork, now: datetime, containers: list[str]) -> ScoringReport | None:
    """:func:`score_trips` of ``containers`` when a profile is live: None when none is; a report
    saying why nothing was scored (``not_scored``) when the live one is not in force at ``now``
    (UTC): the facts that came in stay, they are scored once a version in force goes live."""
    stored = uow.profiles.live()
    if stored is None:
        return None
    try:
        live_profile(uow, now)
    except InputError as exc:
        return ScoringReport(stored.label, not_scored=exc.why)
    return score_trips(uow, now, containers)


def _row(profile: RiskProfile, model: LiveTripModel | None, facts: TripFacts, snapshot: dict[str, Any], digest: str,
         now: datetime) -> dict[str, Any]:
    score, points, reasons = assess(profile, facts, model)
    return {
        "container_number": facts.key.container_number, "document_ref": facts.key.document_ref,
        "voyage": facts.key.voyage, "profile": profile.label, "model_version": model.version if model else "",
        "score": score, "profile_points": points, "reasons": plain(reasons),
        "facts": snapshot, "facts_hash": digest, "scored_at": now,
    }


def _facts_only(snapshot: dict[str, Any]) -> str:
    return fact_digest({k: v for k, v in snapshot.items() if k != "as_of"})


def _rescored(profile: RiskProfile, model: LiveTripModel | None, before: dict[str, Any], digest: str) -> dict[str, Any]:
    """An assessment ``before`` made again by the installed code: its stored facts, as of its
    time, scored under ``profile`` and ``model``, stored under ``digest``."""
    score, points, reasons = assess(profile, trip_facts_from_dict(before["facts"]), model)
    return {
        "container_number": before["container_number"], "document_ref": before["document_ref"],
        "voyage": before["voyage"], "profile": profile.label, "model_version": model.version if model else "",
        "score": score, "profile_points": points, "reasons": plain(reasons),
        "facts": before["facts"], "facts_hash": digest, "scored_at": before["scored_at"],
    }


def container_history(uow: UnitOfWork, number: str) -> list[dict[str, Any]]:
    """Every stored assessment of the scored trips of container ``number`` (normalised: capitals,
    no spaces), by trip key then oldest first, each with ``reproduced`` (recomputed from its
    stored facts to the same points: :func:`reproduce`), ``in_force`` (the one its trip shows
    now: after a switch back, an earlier one) and ``regrouped`` (its trip is one the container's
    events no longer make: none of its assessments is in force; an upgrade review read two
    current trips of one box). Raises InputError for an empty number, NotFoundError when no
    trip of it was scored."""
    if not number.strip():
        raise InputError("container number", "give a container number, e.g. MSCU4057166")
    normalised, _ = container_number(number.strip().upper())
    keys = {(r["container_number"], r["document_ref"], r["voyage"]) for r in uow.trip_assessments.queue_all(normalised)}
    if not keys:
        raise NotFoundError(normalised, "no scored trip of this container (`scheldt trips score` scores them)")
    regrouped = {k for k in keys if (trip := uow.container_trips.by_key(TripKey(*k))) and trip["regrouped_at"]}
    in_force = {i for k, i in uow.container_trips.assessment_ids([normalised]).items() if k not in regrouped}
    rows = [r for k in sorted(keys) for r in uow.trip_assessments.history(TripKey(*k))]
    return [r | {"reproduced": reproduce(uow, r["id"]).points == r["score"], "in_force": r["id"] in in_force,
                 "regrouped": (r["container_number"], r["document_ref"], r["voyage"]) in regrouped} for r in rows]


def reproduce(uow: UnitOfWork, assessment_id: int) -> ProfileScore:
    """Recompute a stored assessment from its stored facts, profile version and model version:
    the same score and reasons as when it was made, whatever arrived since."""
    stored = uow.trip_assessments.get(assessment_id)
    profile_row = uow.profiles.get(stored["profile"])
    model = load_version(uow, stored["model_version"]) if stored["model_version"] else None
    profile = load_profile(profile_row.body, profile_row.label, stored=True)
    score, _, reasons = assess(profile, trip_facts_from_dict(stored["facts"]), model)
    return ProfileScore(score, tuple(reasons))


def activate_profile(uow: UnitOfWork, text: str, where: str, actor: str, reason: str,
                     now: datetime) -> tuple[RiskProfile, bool]:
    """Validate a profile, store its version and make it live (recorded with who and why).
    Returns the profile and whether it was switched: making the live version live again
    records nothing (a rollback must never land on the version already in force); a version
    kept under earlier rules is made live again from its file (:func:`store_profile`). Raises
    ProfileError for an invalid profile."""
    profile, stored = store_profile(uow, text, where, now)
    return profile, activate_stored(uow, stored, actor, reason, now, profile)


def store_profile(uow: UnitOfWork, text: str, where: str, now: datetime) -> tuple[RiskProfile, Any]:
    """Validate a profile text and keep its version (storing a stored text again is a no-op);
    returns the profile and the stored version. A text already stored is checked as a stored
    text (:func:`load_profile` ``stored``): a version kept under earlier rules stays usable from
    its file, whose lines the CLI reads without carriage returns: a text stored with CRLF line
    ends is found from it too (regression review). Raises ProfileError for an invalid profile,
    ConflictError for a version stored with another text."""
    uow.profiles.lock()  # simultaneous stores of one text: one row (the losers were 500s)
    for candidate in line_end_forms(text):
        digest = profile_digest(candidate)
        if uow.profiles.with_digest(digest) is not None:
            profile = load_profile(candidate, where, stored=True)
            return profile, uow.profiles.store(profile.name, profile.version, profile.owner, candidate, digest, now)
    profile = load_profile(text, where)
    return profile, uow.profiles.store(profile.name, profile.version, profile.owner, text, profile_digest(text), now)


def line_end_forms(text: str) -> tuple[str, str]:
    """A profile text as given and with CRLF line ends: the forms under which it may be stored
    (a file read by the CLI has lost its carriage returns)."""
    return text, text.replace("\r\n", "\n").replace("\n", "\r\n")


def activate_stored(uow: UnitOfWork, stored: Any, actor: str, reason: str, now: datetime,
                    profile: RiskProfile | None = None) -> bool:
    """Make ``stored`` (a stored profile version, as ``uow.profiles.get`` gives; ``profile``: its
    text already loaded) live unless it already is; True when switched (recorded). Raises
    InputError when it is not in force on ``now``'s day (its effective dates)."""
    uow.profiles.lock()  # before reading what is live: simultaneous switches each recorded one
    live = uow.profiles.live()
    if live is not None and live.id == stored.id:
        return False
    profile = profile or load_profile(stored.body, stored.label, stored=True)
    day = now.date()
    if not profile.in_force(day):
        # a review made a profile effective next year live: no trip could be scored until then
        raise InputError("effective_from" if day < profile.effective_from else "effective_to",
                         f"{stored.label} is not in force on {day} (effective {profile.effective_from} to "
                         f"{profile.effective_to or 'open'}): it cannot be made live; the live profile stays")
    uow.profiles.activate(stored, actor, reason, now)
    show_live_versions(uow)
    return True


def show_live_versions(uow: UnitOfWork) -> int:
    """After a switch of profile or container-model version: show each trip's assessment under
    the versions now live where one was stored for the facts of the assessment it shows (a
    switch back), at once, as scoring would. A profile review: after a rollback not followed by
    a re-score (``--no-score``, or the queued job not run yet), the workbench and the API showed
    the withdrawn version's scores as in force, and the CLI's queue others. Trips scored under
    the live versions on other facts, or never, keep what they show until re-scored. Returns
    how many trips changed."""
    stored = uow.profiles.live()
    if stored is None:
        return 0
    try:
        model_version = uow.models.live(TRIP_MODEL_TARGET).version
    except NotFoundError:
        model_version = ""
    alike = uow.container_trips.scored_alike_under(stored.label, model_version)
    uow.container_trips.show_assessments([a | {"risk_band": risk_band(a["score"]),
                                               "top_reason": a["reasons"][0]["evidence"] if a["reasons"] else ""}
                                          for a in alike])
    return len(alike)


def rollback_profile(uow: UnitOfWork, actor: str, reason: str, now: datetime) -> str:
    """Make the version that was live before the current one went live again (recorded as a
    rollback); repeated rollbacks walk further back. Returns its label. Raises ConflictError when
    there is nothing to roll back to."""
    uow.profiles.lock()  # before reading the log: two simultaneous rollbacks went back to one version
    previous = rollback_target(((a["action"], str(a["profile"])) for a in uow.profiles.activations()),
                               "profile rollback", "no profile was ever activated",
                               "{version} is the first version activated; nothing to roll back to")
    uow.profiles.activate(uow.profiles.get(previous), actor, reason, now, action="rollback")
    show_live_versions(uow)
    return previous
