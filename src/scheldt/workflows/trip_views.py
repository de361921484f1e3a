"""What officers look at: the risk queue and a container trip's page (one view for the API and
the workbench), built from the read model and the trip's latest stored assessment."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from scheldt import reference
from scheldt.domain.access import TripScope
from scheldt.domain.facts import fields_dict, plain
from scheldt.domain.inspection import PORT_TIME
from scheldt.domain.trips import (
    VOYAGE_TRACK,
    TripFacts,
    TripKey,
    declarations_of_trip,
    group_shown_trips,
    in_version_order,
    latest_stored_version,
    on_board_since,
    trip_documents,
    trip_facts_from_dict,
    voyage_documents,
)
from scheldt.workflows.accounts import carrier_owners

#: What only agencies see of a trip: customs' risk view and inspection state. Shipping lines
#: and terminals see their containers' facts and holds, never why or whether a box is targeted
#: (telling them would tip off an insider).
RISK_FIELDS = ("score", "risk_band", "top_reason", "assessment_id", "scored_at", "status")


def _iso(t: Any) -> Any:
    return t.isoformat() if isinstance(t, datetime) else t


def trip_row(t: dict[str, Any], agency: bool = True) -> dict[str, Any]:
    """A read-model row as the API shows it (times as ISO 8601 UTC); without
    :data:`RISK_FIELDS` for a shipping line or terminal (``agency`` False)."""
    out = {k: v for k, v in t.items() if agency or k not in RISK_FIELDS}
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = v.isoformat()
    return out


#: What a move at a port reads as on the trip map.
_MOVES = {"LOAD": "loaded", "DISC": "discharged", "LOAD (bay plan)": "port of loading on the bay plan of",
          "DISC (bay plan)": "port of discharge on the bay plan of"}


def route(facts: Any) -> list[dict[str, Any]]:
    """The trip's ports in order (port of loading, transshipments, port of discharge) with
    their positions where known: ``[{"unlocode", "name", "lat", "lon", "what", "time",
    "moves"}]``: ``what`` and ``time`` of the first move there, ``moves`` every actual load and
    discharge there in order (``{"what", "time", "text"}``: a transshipment port's discharge
    and reload, which a figures review found the map hid); for a box known only from a bay
    plan, the plan's ports of loading and discharge."""
    stops: list[dict[str, Any]] = []
    for e in facts.events:
        if e.classifier != "ACT" or e.event_type not in ("LOAD", "DISC") or not e.unlocode:
            continue
        if stops and stops[-1]["unlocode"] == e.unlocode:
            stops[-1]["moves"].append(_move(e.event_type, e.event_time))
            continue
        stops.append(_stop(e.unlocode, e.event_type, e.event_time))
    plan = next((e for e in facts.events if e.kind == "STOWAGE" and e.classifier == "ACT"), None)
    if not stops and plan is not None:  # a box known only from a bay plan: the ports the plan gives
        stops = [_stop(code, what, plan.event_time) for code, what in ((plan.port_of_loading, "LOAD (bay plan)"),
                                                                         (plan.port_of_discharge, "DISC (bay plan)"))
                 if code]
    return stops


def _move(what: str, when: Any) -> dict[str, Any]:
    time = _iso(when)
    shown = f" {str(time)[:16].replace('T', ' ')} UTC" if time else ""
    return {"what": what, "time": time, "text": _MOVES.get(what, what) + shown}


def _stop(unlocode: str, what: str, when: Any) -> dict[str, Any]:
    where = reference.port_position(unlocode)
    return {"unlocode": unlocode, "name": reference.port_name(unlocode), "lat": where[0] if where else None,
            "lon": where[1] if where else None, "what": what, "time": _iso(when), "moves": [_move(what, when)]}


def stored_trip(uow: Any, trip: dict[str, Any], shown: list[Any] | None = None
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """A trip's stored events (as :func:`~scheldt.domain.trips.group_shown_trips` assigns the
    container's events to it: its retracted ones too) and its references: its key's document reference and every
    booking and transport document reference its events carry, sorted. ``shown``: the box's
    trips (:func:`_shown_trips`), when the caller has them already."""
    number = trip["container_number"]
    key = TripKey(number, trip.get("document_ref") or "", trip.get("voyage") or "")
    shown = _shown_trips(uow, number) if shown is None else shown
    events = next((t.events for t in shown if t.key == key), [])
    refs = sorted({r for e in events for r in (e["booking_ref"], e["transport_document_ref"]) if r}
                  | ({key.document_ref} if key.document_ref else set()))
    return events, refs


def _shown_trips(uow: Any, number: str) -> list[Any]:
    """The trips of container ``number`` as :func:`~scheldt.domain.trips.group_shown_trips` makes them."""
    voyages = voyage_documents(uow.documents.listing_all_versions([number]), number)
    return group_shown_trips(number, uow.events.for_container(number), voyages)


def retracted_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored ``events`` (as :func:`stored_trip` gives them) their sender retracted (DCSA
    retractedEventID, an EDIFACT cancellation): what was reported, when the retraction came and
    its id; oldest first, times as ISO 8601 UTC. They no longer count in the trip's facts, so a
    review found a gate-out reported and withdrawn gone from the trip page without a word."""
    return [{"event_type": e["event_type"], "classifier": e["classifier"], "event_time": _iso(e["event_time"]),
             "unlocode": e["unlocode"], "facility_code": e["facility_code"], "retracted_by": e["retracted_by"],
             "retracted_at": _iso(e.get("retracted_at")), "received_at": _iso(e.get("received_at"))}
            for e in events if e.get("retracted_by")]


def data_quality(uow: Any, trip: dict[str, Any], events: list[dict[str, Any]], refs: list[str]) -> list[dict[str, str]]:
    """The data-quality flags on the stored facts of a trip (its events' and its documents',
    ``events`` and ``refs`` as :func:`stored_trip` gives them): wrong check digits, unknown or
    malformed codes, converted or unknown units, times without a UTC offset, values cut to fit,
    placeholders... each once, as ``{"field", "code", "why", "source"}`` (a review: they were
    stored, but no trip page or API answer showed them). The reader's and the reference check's
    notes on one unknown HS code are one, shown with the longer text (they were shown twice:
    workbench review)."""
    number = trip["container_number"]
    stored = uow.documents.for_container(number, refs)
    docs = trip_documents(stored, set(refs), number, carrier_owners(uow))
    return distinct_notes([*events, *docs]) + dropped_box(stored, docs, number)


def dropped_box(stored: list[dict[str, Any]], shown: list[Mapping[str, Any]], number: str) -> list[dict[str, str]]:
    """A note for each document the trip shows (``shown``, among the ``stored`` versions) whose
    latest version (in the order made: :func:`~scheldt.domain.trips.latest_stored_version`),
    from the same carrier under the same reference and type, lists boxes but no longer this
    one (``number``): the trip shows the earlier version that did, and an officer should know
    it was amended to drop the box (a carrier-data review found the superseded consignee shown
    as current, without a word; a regression review, a version issued earlier and received
    late taken for the latest)."""
    notes = []
    for key in dict.fromkeys((d["document_ref"], d["document_type"], d.get("carrier_code") or "") for d in shown):
        same = [d for d in stored if (d["document_ref"], d["document_type"], d.get("carrier_code") or "") == key]
        latest = latest_stored_version(same) if same else None
        listed = {c.get("number") for c in (latest or {}).get("containers") or []}
        if latest is not None and listed and number not in listed:
            notes.append({"field": "containers", "code": "dropped-from-document",
                          "source": file_name_only(latest["source"]),
                          "why": f"the latest version of {key[1]} {key[0]} (received {_iso(latest['received_at'])}) "
                                 f"no longer lists {number}: shown as its earlier version listed it"})
    return notes


def distinct_notes(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The flags of ``records`` (stored facts with ``flags`` and ``source``), each problem once:
    ``{"field", "code", "why", "source"}`` in the order first met (see :func:`data_quality`)."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for record in records:
        for f in record.get("flags") or []:
            f = f if isinstance(f, dict) else fields_dict(f)
            code, why = str(f.get("code", "")), str(f.get("why", ""))
            about = _UNKNOWN_HS.match(why) if code == "unknown-hs-code" else None
            key = (code, about.group(0) if about else why)
            if key not in out or len(why) > len(out[key]["why"]):
                out[key] = {"field": str(f.get("field", "")), "code": code, "why": why,
                            "source": file_name_only(str(record.get("source", "")))}
    return list(out.values())


#: The code an unknown-hs-code note is about ("HS 851712 is not in the shipped nomenclature...").
_UNKNOWN_HS = re.compile(r"HS \d+ ")


_WITHIN_FILE = re.compile(r"\$| message |:\d| line ")
#: How a file a shipping line or terminal sent is named (:mod:`scheldt.workflows.supplied`):
#: ``<organisation>/<file number>/<name>``.
_SENT_FILE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}/\d+/[^/]+")


def file_name_only(source: str) -> str:
    """A fact's source as users are shown it: the file's name without the server's directories
    (a review read ``/tmp/.../day-2025-12-16/documents.json$[0]...`` as a carrier), then where
    in the file (``$`` JSON path, `` message `` EDIFACT message, ``:line``). A file a line or
    terminal sent keeps its sender and number (``carrier-a/44/documents.json``): a review's
    officer could not tell two sent ``documents.json`` apart."""
    m = _WITHIN_FILE.search(source)
    head, tail = (source[:m.start()], source[m.start():]) if m else (source, "")
    return (head if _SENT_FILE.fullmatch(head) else head.rsplit("/", 1)[-1]) + tail


def _named_by_file(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` with each ``source`` as :func:`file_name_only` shows it."""
    return [r | {"source": file_name_only(str(r["source"]))} if r.get("source") else r for r in records]


#: What a transport document says that is the shipping line's and its customers' business, not
#: a terminal's, which handles every line's boxes: who ships to whom, what, on which terms. A
#: carrier review: a terminal read the shipper, consignee and goods of other lines' boxes on
#: its quay, and searched consignees across lines, what a corrupted insider wants to know.
COMMERCIAL_FIELDS = ("parties", "goods", "hs_codes", "descriptions", "to_order", "freight_payment")


#: Data-quality flags about commercial facts, by their field and code: an unknown HS code names
#: the goods (a regression review's terminal read "HS 999999" in a flag), a party flag the party.
_COMMERCIAL_FLAG = re.compile(r"hs|goods|cargo|package|part(y|ies)|nad|consignee|shipper|notify|gid|pia|ftx|"
                              r"description|freight|payment|to.?order|commodit", re.IGNORECASE)


def commercial_flag(flag: Mapping[str, Any]) -> bool:
    """Whether a data-quality flag (``{"field", "code", ...}``) is about a commercial fact."""
    return bool(_COMMERCIAL_FLAG.search(f"{flag.get('field', '')} {flag.get('code', '')}"))


def for_terminal(document: dict[str, Any]) -> dict[str, Any]:
    """A document version (as stored or as a trip's facts) as a terminal reads it: without
    :data:`COMMERCIAL_FIELDS` or flags about them (:func:`commercial_flag`); its reference,
    ports, vessel, mass, containers and seals stay."""
    out = {k: v for k, v in document.items() if k not in COMMERCIAL_FIELDS}
    if isinstance(out.get("flags"), list):
        out["flags"] = [f for f in out["flags"] if not (isinstance(f, Mapping) and commercial_flag(f))]
    return out


def profile_switches(uow: Any, scored: Sequence[datetime]) -> list[dict[str, Any]]:
    """The activations and rollbacks of risk profiles made since the earliest of ``scored`` (a
    trip's score times, UTC), oldest first: ``{"profile", "action", "actor", "reason", "at"}``
    (``at`` ISO 8601 UTC); none when the trip has no score. A targeting review saw no sign on a
    trip's page that a profile went live and was rolled back between two of its scores."""
    if not scored:
        return []
    since = min(t if t.tzinfo else t.replace(tzinfo=UTC) for t in scored)
    return [a | {"at": _iso(a["at"])} for a in uow.profiles.activations() if a["at"] >= since]


def trip_detail(uow: Any, scope: TripScope | None, org_id: str, trip_id: int, agency: bool = True,
                terminal: bool = False) -> dict[str, Any]:
    """A trip's page: the read-model row, the data-quality flags on its facts
    (:func:`data_quality`), the latest assessment (score, profile and model versions, reasons),
    the facts it was computed from (events, document versions with parties, goods and seals,
    vessel track), the vessel's name and voyage (:func:`vessel_name`, :func:`vessel_voyage`), the
    events their senders retracted
    (:func:`retracted_events`: no longer among the facts), the route, the score history, the
    scan orders of the organisation ``org_id``, the holds and the customs declarations of the
    trip (agencies only); a ``terminal`` reads the documents :func:`for_terminal`. A trip its container's
    events no longer make (``trip.regrouped_at`` set) names the container's listed trips the
    requester owns under ``regrouped_to`` (``[{"id", "document_ref", "voyage", "arrival_at"}]``).
    Raises NotFoundError when ``scope`` does not own the trip."""
    trip = uow.container_trips.get(trip_id, scope)
    assessment = uow.trip_assessments.get(trip["assessment_id"]) if trip["assessment_id"] else None
    facts = trip_facts_from_dict(assessment["facts"]) if assessment else None
    holds = uow.inspections.holds([trip_id], limit=50)
    shown = _shown_trips(uow, trip["container_number"])  # read once: the events and the declarations' trips
    events, refs = stored_trip(uow, trip, shown)
    seen = {
        "trip": trip_row(trip, agency),
        "flags": [f for f in data_quality(uow, trip, events, refs) if not (terminal and commercial_flag(f))],
        # sources without the server's directories, as the flags show them (a carrier review
        # read the customs node's ingest paths in its own boxes' events and documents)
        "events": _named_by_file(plain(list(facts.events))) if facts else [],
        # in the order they were made, as scoring reads them (a workbench review: listed as
        # received, a version issued earlier and received late read as the current one, against
        # the page's own "consignee changed" reason)
        "documents": [for_terminal(d) if terminal else d
                      for d in _named_by_file(plain(in_version_order(facts.documents)))] if facts else [],
        "vessel_track": plain(list(facts.vessel_track)) if facts else [],
        "retracted_events": retracted_events(events),
        "on_board_since": None,
        "route": route(facts) if facts else [],
        "holds": [trip_row(h) if agency else outsider_hold(h) for h in holds],
        "regrouped_to": [] if trip.get("regrouped_at") is None else [
            trip_row(o) for o in uow.container_trips.of_container(trip["container_number"], scope)],
        "vessel_name": vessel_name(uow, trip["vessel_imo"], events),
        "vessel_voyage": vessel_voyage(trip["vessel_imo"], events),
    }
    loaded = on_board_since(facts.events) if facts else None
    if loaded is not None and not facts.vessel_track:  # type: ignore[union-attr]
        # the facts hold the track before arrival only: a box at sea is shown on its vessel's
        # positions since loading, as received (a review found a high-score box at sea with none)
        track = _track_since(uow, facts, loaded)  # type: ignore[arg-type]
        seen |= {"vessel_track": track, "on_board_since": _iso(loaded)}
    if not agency:
        return seen
    history = uow.trip_assessments.score_history(facts.key) if facts else []
    return seen | {
        "assessment": None if assessment is None else {
            "id": assessment["id"], "score": assessment["score"], "profile": assessment["profile"],
            "model_version": assessment["model_version"], "profile_points": assessment["profile_points"],
            "reasons": assessment["reasons"], "scored_at": _iso(assessment["scored_at"])},
        "watchlist_matches": plain(list(facts.watchlist_matches)) if facts else [],
        "score_history": [{"id": h["id"], "score": h["score"], "profile": h["profile"], "model_version": h["model_version"],
                           "scored_at": _iso(h["scored_at"]), "in_force": h["id"] == trip["assessment_id"]}
                          for h in history],
        "profile_switches": profile_switches(uow, [h["scored_at"] for h in history]),
        "scan_orders": [trip_row(o) for o in uow.inspections.orders(org_id, trip_id=trip_id, limit=50)],
        "declarations": _declarations(uow, trip["container_number"], refs, facts, org_id, shown),
    }


def mixed_scores_note(uow: Any, scope: TripScope | None) -> str:
    """What to tell whoever reads the risk queue when some of the trips ``scope`` owns show a
    score under another profile version than the live one, or "": the queue then ranks scores
    of different weightings side by side until they are re-scored (a targeting review's queue,
    after ``scheldt profile rollback --no-score``, ranked 690 trips' scores of the version rolled
    back among the others, and the CLI queue left them out without a word)."""
    live = uow.profiles.live()
    if live is None:
        return ""
    others = uow.container_trips.scored_under_others(scope, live.label)
    if not others:
        return ""
    said = ", ".join(f"{n:,} under {label}" for label, n in sorted(others.items()))
    return (f"{sum(others.values()):,} trip(s) show a score of another profile version than the live "
            f"{live.label} ({said}): they rank by those scores until re-scored (`scheldt trips score`, or the "
            "next scoring run)")


def vessel_name(uow: Any, imo: str, events: list[dict[str, Any]]) -> str:
    """The name of the trip's vessel (IMO number ``imo``, as the read model has it): the latest
    of its stored ``events`` naming that IMO with a name, else the name last broadcast with it in
    AIS static data; "" when neither says (an officer review: the trip page named the vessel by
    its IMO number only)."""
    if not imo:
        return ""
    named = [e for e in events if e.get("vessel_imo") == imo and (e.get("vessel_name") or "").strip()]
    if named:
        return str(max(named, key=lambda e: e["event_time"])["vessel_name"]).strip()
    return uow.vessels.latest_name(imo)


def vessel_voyage(imo: str, events: list[dict[str, Any]]) -> str:
    """The voyage the trip's vessel (IMO number ``imo``) brought the box on: the latest of its
    stored ``events`` not withdrawn naming that IMO with a voyage, a discharge's import voyage
    first (its export voyage is the one after this port: a regression review's box showed the
    vessel's next voyage), another move's export voyage first; "" when none names one. The
    trip's key keeps the voyage of its first move, a transshipped box's feeder's: a carrier-data
    review read the feeder's voyage beside the mother vessel that brought the box."""
    if not imo:
        return ""
    sailed = [e for e in events if e.get("vessel_imo") == imo and not e.get("retracted_by")
              and (e.get("export_voyage") or e.get("import_voyage"))]
    if not sailed:
        return ""
    latest = max(sailed, key=lambda e: (e.get("event_type") == "DISC", e["event_time"]))
    first, then = ("import_voyage", "export_voyage") if latest.get("event_type") == "DISC" else (
        "export_voyage", "import_voyage")
    return str(latest.get(first) or latest.get(then))


def _track_since(uow: Any, facts: TripFacts, loaded: datetime) -> list[dict[str, Any]]:
    """The AIS positions of the vessels the trip's events name, from ``loaded`` for at most
    :data:`VOYAGE_TRACK`, as :func:`plain` gives a trip's vessel track."""
    imos = sorted({e.vessel_imo for e in facts.events if e.vessel_imo})
    spans = [span for ss in uow.vessels.spans_for_imos(imos).values() for span in ss]
    return [{"observed_at": _iso(f["observed_at"]), "latitude": f["latitude"], "longitude": f["longitude"],
             "speed_knots": f["speed_knots"]} for f in uow.vessels.track(spans, loaded, loaded + VOYAGE_TRACK)]


def _declarations(uow: Any, number: str, trip_refs: list[str], facts: TripFacts | None,
                  org_id: str, shown: list[Any]) -> list[dict[str, Any]]:
    """The customs declarations the organisation ``org_id`` supplied of a trip
    (:func:`~scheldt.domain.trips.declarations_of_trip`), from those naming its container
    ``number`` or one of ``trip_refs`` (:func:`stored_trip`: its events' B/L and booking; a review
    missed one naming the booking) or of its documents' references; times as ISO 8601.
    ``shown``: the box's trips (:func:`_shown_trips`)."""
    if facts is None or not facts.events:
        return []
    refs = (set(trip_refs) | {d.document_ref for d in facts.documents}) - {""}
    found = uow.declarations.linked_to(number, sorted(refs), supplied_by=org_id)
    times = [e.event_time for e in facts.events]
    first, last, others = min(times), max(times), []
    if any(not d.get("bill_of_lading_ref") for d in found):
        # a declaration naming only the box goes to the nearest of its trips, each measured as the
        # timeline shows it (retracted events too), this one as well (a declarations review found
        # one filed between two trips on both; its regression review, one on neither)
        spans = [(t.key, t.events[0]["event_time"], t.events[-1]["event_time"]) for t in shown]
        own = next(((a, b) for key, a, b in spans if key == facts.key), None)
        if own is not None:  # the others as the timeline has them (two trips' moves may overlap)
            (first, last), others = own, [(a, b) for key, a, b in spans if key != facts.key]
        else:  # scored before its key changed: a trip overlapping it is itself under its new key
            others = [(a, b) for _, a, b in spans if b < first or a > last]
    mine = declarations_of_trip(found, refs, first, last, others)
    return [{k: _iso(v) for k, v in d.items()} for d in mine]


def outsider_hold(h: dict[str, Any]) -> dict[str, Any]:
    """A hold as a shipping line or terminal sees it: that the box is held and since when,
    not by whom or why."""
    return {k: _iso(h[k]) for k in ("id", "trip_id", "placed_at", "released_at") if k in h} | {
        "active": h.get("released_at") is None}


def held_box_left(hold: Mapping[str, Any] | None, left_at: Any) -> str:
    """What a trip page says of a hold in force (``hold``, with ``placed_at``) on a trip whose
    box left the port at ``left_at`` (datetimes or ISO 8601 texts, UTC): "left the port at
    <time> while on hold", or "had left the port at <time> before the hold was placed"; "" when
    there is no hold in force or the box has not left."""
    if not hold or not left_at:
        return ""
    left, placed = (t if isinstance(t, datetime) else datetime.fromisoformat(t) for t in (left_at, hold["placed_at"]))
    at = f"{left.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"left the port at {at} while on hold" if left >= placed else \
        f"had left the port at {at} before the hold was placed"


def dashboard(uow: Any, org_id: str, scope: TripScope, now: datetime | None = None) -> dict[str, Any]:
    """An agency's dashboard figures: seizures by ISO week of the search (port local time, as
    its shifts; weeks without one as 0, up to the week of ``now`` when given:
    :func:`with_empty_weeks`), by port of
    loading and by commodity (HS chapter of the trip's latest document), kg seized, hit rate of
    risk, exploration and manual picks, and model drift (per day of latest scoring: trips, mean
    score, and how many fall in each risk band; a shift in these with the same profile and
    model is drift), and the boxes on hold that have left the port (``held_boxes_gone``: trip,
    container, hold placed, box left; UTC, newest departure first, at most 200): a hold whose
    box was gated out or loaded onward is a hold not kept, or one to release (a carrier review:
    nothing told the officer, and such trips leave the queue's default view)."""
    seizures = uow.inspections.seizures(org_id)
    by_week: Counter[str] = Counter()
    by_port: Counter[str] = Counter()
    kg_by_drug: defaultdict[str, float] = defaultdict(float)
    for s in seizures:
        by_week[port_week(s["searched_at"])] += 1  # not updated_at: a correction moved it (figures review)
        by_port[s["port_of_loading"] or "unknown"] += 1
        kg_by_drug[s["drug_type"]] += s["mass_kg"] or 0.0
    by_commodity = _seizures_by_commodity(uow, seizures)
    rates = uow.inspections.hit_rates(org_id)
    return {
        "seizures_total": len(seizures),
        "seizures_by_week": with_empty_weeks(by_week, until=port_week(now) if now else None),
        "seizures_by_port_of_loading": by_port.most_common(),
        "seizures_by_commodity": by_commodity.most_common(),
        "kg_by_drug_type": sorted(kg_by_drug.items()),
        # found: a seizure or an irregularity; the seizure rate beside it (a targeting review read
        # a rate of 0.6 with irregularities in it as the seizure rate the backtest gives as 0.4)
        "hit_rate": {sel: {**v, "rate": (v["found"] / v["inspected"]) if v["inspected"] else None,
                           "seizure_rate": (v["seizures"] / v["inspected"]) if v["inspected"] else None}
                     for sel, v in sorted(rates.items())},
        "drift": with_empty_days(uow.container_trips.score_days(scope)),
        "held_boxes_gone": [{"trip_id": h["trip_id"], "container_number": h["container_number"],
                             "placed_at": _iso(h["placed_at"]), "box_left_at": _iso(h["box_left_at"])}
                            for h in uow.inspections.held_boxes_gone(scope)],
    }


#: Days the drift chart covers: the last scoring day and the days before it (a year and a bit).
DRIFT_MAX_DAYS = 400


def port_week(at: datetime) -> str:
    """The ISO week ("YYYY-Www") ``at`` (aware) falls in by the port's clock, as its shifts do
    (:data:`scheldt.domain.inspection.PORT_TIME`): a figures review's seizures of a Monday's
    first hours, Sunday evening by UTC, were counted in the week before."""
    year, week, _ = at.astimezone(PORT_TIME).isocalendar()
    return f"{year}-W{week:02d}"


#: Weeks of seizures a dashboard shows at most (the newest; older ones still count in the total).
SEIZURE_WEEKS_MAX = 52


def with_empty_weeks(by_week: Mapping[str, int], most: int = SEIZURE_WEEKS_MAX,
                     until: str | None = None) -> list[tuple[str, int]]:
    """``by_week`` (ISO week "YYYY-Www" -> count) as (week, count) oldest first over the last
    ``most`` weeks up to the latest one, or to week ``until`` when later (the current week: a
    quiet spell since the last seizure shows as such), the weeks between without any as 0: a
    figures review's chart drew a busy week and one five weeks later as neighbours."""
    if not by_week:
        return []
    mondays = sorted(date.fromisocalendar(int(w[:4]), int(w[6:]), 1) for w in by_week)
    last = max(mondays[-1], date.fromisocalendar(int(until[:4]), int(until[6:]), 1)) if until else mondays[-1]
    first = max(mondays[0], last - timedelta(weeks=most - 1))
    out = []
    for i in range((last - first).days // 7 + 1):
        year, week, _ = (first + timedelta(weeks=i)).isocalendar()
        out.append((f"{year}-W{week:02d}", by_week.get(f"{year}-W{week:02d}", 0)))
    return out


def with_empty_days(days: list[dict[str, Any]], most: int = DRIFT_MAX_DAYS) -> list[dict[str, Any]]:
    """``days`` (per scoring day, oldest first, ``day`` as YYYY-MM-DD) over the last ``most``
    days up to the latest one, with the days between that scored nothing as 0 trips and no
    mean score, so a chart shows a feed that went quiet (an officer review read a 5-day gap as
    consecutive days). Older days are left out: a figures review found months apart drawn as
    neighbouring bars once the data spanned more than ``most`` days."""
    if not days:
        return days
    last = date.fromisoformat(days[-1]["day"])
    first = max(date.fromisoformat(days[0]["day"]), last - timedelta(days=most - 1))
    known = {d["day"]: d for d in days}
    out = []
    for i in range((last - first).days + 1):
        day = (first + timedelta(days=i)).isoformat()
        out.append(known.get(day) or {"day": day, "trips": 0, "high": 0, "medium": 0, "low": 0, "mean_score": None})
    return out


def _seizures_by_commodity(uow: Any, seizures: list[dict[str, Any]]) -> Counter[str]:
    """Seizures per HS chapter of the last HS code on the trip's documents as last scored
    ("unknown" without one); the facts of all the trips' assessments read in a few queries."""
    out: Counter[str] = Counter()
    chapters = reference.hs_descriptions()
    facts = uow.trip_assessments.facts_of([s["assessment_id"] for s in seizures if s["assessment_id"]])
    for s in seizures:
        documents = (facts.get(s["assessment_id"]) or {}).get("documents", [])
        codes = [c for d in documents for c in d.get("hs_codes", [])]
        chapter = codes[-1][:2] if codes else ""
        out[f"{chapter} {chapters.get(chapter, '')}".strip() if chapter else "unknown"] += 1
    return out
