"""Generate inbound container trips for a port, day by day, with planted cases (pure).

:func:`simulate` returns :class:`SimCall` vessel calls and :class:`SimTrip` trips; each trip
holds exactly the facts the traffic files carry (events, transport document versions, VGM),
and its ground truth. :func:`trip_facts` turns a trip into the :class:`TripFacts` the risk
indicators read, as known at a moment, the same way the store does after the files are
ingested day by day (see the time model in :mod:`scheldt.simulate`).
"""

from __future__ import annotations

import math
import random
import zlib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from stdnum import imo as imo_digits
from stdnum import iso6346

from scheldt.domain.facts import name_key
from scheldt.domain.trips import PartyHistory, TripDocument, TripEvent, TripFacts, TripKey, TripParty, VesselFix
from scheldt.simulate import spec

EPOCH = date(2026, 1, 1)


def history_time(first_day: int) -> datetime:
    """When the consignees' earlier bills of lading were received: 180 days before ``first_day``."""
    return received(datetime.combine(EPOCH + timedelta(days=first_day - 181), time(0), tzinfo=UTC))


def received(t: datetime) -> datetime:
    """When a fact that happened at ``t`` is received: the end of its UTC day."""
    return datetime.combine(t.date(), time(23, 59, 59), tzinfo=UTC)


def received_before(as_of: datetime) -> datetime:
    """The UTC midnight before which a fact must have happened (``t``, UTC) to be received by
    ``as_of`` (any UTC offset): ``t < received_before(as_of)`` exactly when
    ``received(t) <= as_of``, compared once instead of computing each fact's receipt (the
    vessel tracks of a day's trips hold 650,000 fixes between them). The day is ``as_of``'s UTC
    day, not its local one (a review: at +02:00, an hour after local midnight let in the UTC
    day still under way)."""
    utc = as_of.astimezone(UTC)
    last_day = utc.date() if received(utc) <= utc else utc.date() - timedelta(days=1)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass
class SimCall:
    """A vessel call at the destination: vessel identity, voyage, arrival, last AIS positions;
    ``loiter`` (hours before arrival it starts, hours long) when the vessel waited at sea."""

    imo: str
    mmsi: str
    name: str
    call_sign: str
    voyage: str
    arrival: datetime
    track: list[VesselFix] = field(default_factory=list)
    loiter: tuple[float, float] | None = None

    @property
    def terminal(self) -> str:
        """The (simulated) terminal at the destination where the call discharges."""
        return spec.TERMINALS[zlib.crc32(f"terminal:{self.imo}".encode()) % len(spec.TERMINALS)]


@dataclass
class SimTrip:
    """One inbound container trip and its ground truth (``planted``, ``method``, the
    indicators it was given, ``subtle``) and simulated inspection history."""

    container: str
    iso_code: str
    document_ref: str
    booking_ref: str
    call: SimCall
    discharged: datetime
    events: list[TripEvent]
    documents: list[TripDocument]
    consignee: str
    planted: bool = False
    method: str = ""
    given: tuple[str, ...] = ()
    subtle: bool = False
    inspected: bool = False
    seizure: bool = False

    @property
    def key(self) -> TripKey:
        return TripKey(self.container, self.document_ref, self.call.voyage)

    @property
    def carrier(self) -> str:
        """The (simulated) carrier that issued the bill of lading, as its liner code on
        documents: vessels carry boxes of several carriers (vessel-sharing alliances)."""
        return spec.CARRIERS[zlib.crc32(f"carrier:{self.document_ref}".encode()) % len(spec.CARRIERS)]


@dataclass
class Traffic:
    """Simulated calls and trips, and a consignee index for party history."""

    calls: list[SimCall]
    trips: list[SimTrip]
    history: list[TripDocument] = field(default_factory=list)
    sightings: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)

    def index(self) -> None:
        """Index every document version by normalised consignee name (received time, ref)."""
        self.sightings.clear()
        for d in [*self.history, *(d for t in self.trips for d in t.documents)]:
            c = d.party("consignee")
            if c is not None:
                self.sightings.setdefault(name_key(c.name), []).append((d.received_at, d.document_ref))
        for v in self.sightings.values():
            v.sort()


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class _Names:
    """Company names from syllables, with legal forms by country (invented, not real firms)."""

    FORMS = {"BE": "NV", "NL": "BV", "DE": "GmbH", "FR": "SARL", "EC": "S.A.", "CO": "S.A.S.", "BR": "Ltda"}
    SYL = [c + v for c in "bcdfglmnprstvz" for v in "aeiou"]

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def company(self, country: str) -> str:
        word = "".join(self.rng.choice(self.SYL) for _ in range(self.rng.randint(2, 3))).capitalize()
        trade = self.rng.choice(["Import", "Fruit", "Trading", "Logistics", "Foods", "Distribution", "Export"])
        return f"{word} {trade} {self.FORMS.get(country, 'Ltd')}"


def _container(rng: random.Random, owners: Sequence[str]) -> str:
    body = f"{rng.choice(owners)}U{rng.randrange(10**6):06d}"
    return body + iso6346.calc_check_digit(body)


def _imo(rng: random.Random) -> str:
    body = f"9{rng.randrange(10**5):05d}"
    return body + imo_digits.calc_check_digit(body)


def simulate(seed: int, first_day: int, days: int, scale: float = 1.0, port: str = spec.DESTINATION) -> Traffic:
    """Trips discharged at ``port`` on days ``first_day`` .. ``first_day + days - 1`` (day 1 is
    2026-01-01), :data:`spec.CONTAINERS_PER_DAY` × ``scale`` a day. The same seed gives the same
    traffic; days are drawn independently so a later day does not depend on how many came before.
    The base rates of :data:`spec.BENIGN_EXTRA` are drawn from a second stream per day, so adding
    them left the rest of the traffic as it was."""
    calls: list[SimCall] = []
    trips: list[SimTrip] = []
    names = _Names(random.Random(seed * 7919))
    receivers = [names.company(c) for c in ["BE", "NL", "DE", "FR"] * max(50, round(1000 * scale))]
    history = _history(random.Random(seed * 13 + 1), receivers, first_day)
    for day in range(first_day, first_day + days):
        rng = random.Random(seed * 100_003 + day)
        side = random.Random(f"benign-extra:{seed}:{day}")
        n = max(1, round(spec.CONTAINERS_PER_DAY * scale))
        day_start = datetime.combine(EPOCH + timedelta(days=day - 1), time(0), tzinfo=UTC)
        day_calls = [_call(rng, side, day_start, i) for i in range(max(1, round(n / spec.BOXES_PER_CALL)))]
        calls += day_calls
        for i in range(n):
            trips.append(_trip(rng, side, names, receivers, rng.choice(day_calls), day, i))
    traffic = Traffic(calls, trips, history)
    traffic.index()
    return traffic


def _history(rng: random.Random, receivers: list[str], first_day: int) -> list[TripDocument]:
    """Earlier bills of lading of the established consignees (3-8 each), all received at
    :func:`history_time` so that they are not "new" on day one."""
    when = history_time(first_day)
    out = []
    for k, name in enumerate(receivers):
        for j in range(rng.randint(3, 8)):
            parties = (TripParty("shipper", "Earlier Shipper Ltd"), TripParty("consignee", name), TripParty("notify party", name))
            out.append(TripDocument(f"SIMHIST{first_day:03d}{k:05d}{j}", "TRD", when, False, "PRE", "CNSHA",
                                    spec.DESTINATION, parties, ("940360",), ("Wooden furniture",), 12_000.0, ()))
    return out


def _call(rng: random.Random, side: random.Random, day_start: datetime, i: int) -> SimCall:
    arrival = day_start + timedelta(hours=rng.uniform(0, 20))
    mmsi = f"{rng.choice([636, 538, 477, 255, 352])}{rng.randrange(10**6):06d}"
    call = SimCall(_imo(rng), mmsi, f"SIM {rng.choice(['ATLAS', 'CONDOR', 'ORION', 'POLARIS', 'VEGA'])} {rng.randrange(1, 99)}",
                   f"SIM{rng.randrange(10**4):04d}", f"{rng.randrange(100, 999)}{rng.choice('NSEW')}", arrival)
    gap = rng.random() < spec.BENIGN["ais_gap"]
    if side.random() < spec.BENIGN_EXTRA["loitering"]:
        call.loiter = (side.uniform(*spec.LOITER_STARTS_HOURS), side.uniform(*spec.LOITER_HOURS))
    _track(rng, call, gap)
    return call


def _track(rng: random.Random, call: SimCall, gap: bool) -> None:
    """Positions every AIS_INTERVAL_HOURS over the last AIS_DAYS days, heading for the port;
    with ``gap``, 14-30 silent hours 1-3 days before arrival; with ``call.loiter``, the vessel
    stays put at under :data:`spec.LOITER_MAX_KNOTS` knots for that while (its own random stream,
    so the rest of the track is drawn as without it)."""
    total = spec.AIS_DAYS * 24
    steps = int(total / spec.AIS_INTERVAL_HOURS)
    silent_from = rng.uniform(24, 72) if gap else -1.0
    silent_for = rng.uniform(14, 30)
    # a start in the open Atlantic, 30-47 N, 12-25 W (the same two draws as before: the rest of
    # the simulation is drawn as it was)
    start = (47.0 - (rng.uniform(5, 25) - 5) * 17 / 20, -12.0 - (rng.uniform(5, 30) - 5) * 13 / 25)
    route = _sea_route(start)
    loiter_rng = random.Random(f"loiter:{call.imo}:{call.voyage}")
    hi, length = call.loiter or (0.0, 0.0)
    lo = max(0.0, hi - length)
    call.track = []
    for k in range(steps, 0, -1):
        hours_before = k * spec.AIS_INTERVAL_HOURS
        if gap and silent_from <= hours_before <= silent_from + silent_for:
            continue
        speed = round(rng.uniform(12, 18), 1)
        if call.loiter is None:
            frac = hours_before / total
        else:  # distance to go is proportional to the hours under way still to come
            waited = max(0.0, min(hours_before, hi) - lo)
            frac = (hours_before - waited) / (total - (hi - lo))
            if lo <= hours_before <= hi:
                speed = round(loiter_rng.uniform(0, spec.LOITER_MAX_KNOTS), 1)
        lat, lon = _along(route, frac)
        call.track.append(VesselFix(call.arrival - timedelta(hours=hours_before), round(lat, 5), round(lon, 5), speed))


#: Waypoints (WGS 84 degrees) of the sea lane into Antwerp, last one at the port: off Cape
#: Finisterre, off Ushant, the English Channel, the Dover Strait, off Zeebrugge, then up the
#: Westerschelde. Picked by hand from a chart, for SIMULATED tracks only: a straight line from
#: the Atlantic to Antwerp crossed France (a web review's vessel "at 13.8 kn" near Oudenaarde).
APPROACH = ((43.5, -10.5), (48.3, -6.5), (49.9, -3.0), (50.3, -0.5), (50.9, 1.3), (51.45, 3.0), (51.43, 3.55),
            (51.36, 3.9), (51.38, 4.22), (51.28, 4.3))


def _sea_route(start: tuple[float, float]) -> list[tuple[float, float]]:
    """The lane from ``start`` to the port: :data:`APPROACH`, from the first waypoint north of
    the start (a start off Portugal rounds Cape Finisterre; one in the Bay of Biscay does not)."""
    return [start, *(w for w in APPROACH if w[0] > start[0] or w is APPROACH[-1])]


def _along(route: list[tuple[float, float]], frac: float) -> tuple[float, float]:
    """The point of ``route`` with ``frac`` (0-1) of its length still to go to its end (lengths
    in degrees, longitude scaled by the cosine of the latitude: close enough for a track)."""
    pairs = list(zip(route, route[1:], strict=False))
    legs = [math.hypot(b[0] - a[0], (b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))) for a, b in pairs]
    left = frac * sum(legs)
    for (a, b), leg in zip(reversed(pairs), reversed(legs), strict=True):  # from the port back
        if left <= leg:
            t = left / leg if leg else 0.0
            return b[0] + (a[0] - b[0]) * t, b[1] + (a[1] - b[1]) * t
        left -= leg
    return route[0]


def _given(rng: random.Random) -> tuple[str, tuple[str, ...], bool]:
    """A planted case: its method, the indicators it is given, whether it is subtle."""
    method = _pick(rng, {m: share for m, (share, _) in spec.METHODS.items()})
    chances = spec.METHODS[method][1]
    subtle = method != "Trojan empty" and rng.random() < spec.SUBTLE_SHARE / (1 - spec.METHODS["Trojan empty"][0])
    given = [k for k, p in chances.items() if rng.random() < p and not (subtle and k in spec.STRONG)]
    if subtle and len(given) < 2:  # a subtle case is a combination of weak signs
        weak = [k for k in chances if k not in spec.STRONG and k not in given]
        given += rng.sample(weak, min(2 - len(given), len(weak)))
    return method, tuple(given), subtle


def _incidental(sign: str, planted: bool, subtle: bool) -> bool:
    """Whether a trip may show the benign sign ``sign`` (a key of :data:`spec.BENIGN`) drawn at
    its base rate: every benign trip may; a planted one too (the load rides in an ordinary
    shipment, with that shipment's ordinary signs), except a subtle case a strong sign
    (:data:`spec.STRONG`: it shows none) and any planted load an empty box without booking."""
    if not planted:
        return True
    return sign != "empty_without_booking" and not (subtle and sign in spec.STRONG)


def _trip(rng: random.Random, side: random.Random, names: _Names, receivers: list[str], call: SimCall, day: int,
          i: int) -> SimTrip:
    planted = rng.random() < spec.PLANTED_SHARE
    method, given, subtle = "", (), False
    if planted:
        method, given, subtle = _given(rng)
    # benign signs, drawn for every trip: a planted load rides in an ordinary shipment, which shows
    # them as often as any other (but a subtle case no strong one, and no load becomes an empty box)
    b = {k: rng.random() < p and _incidental(k, planted, subtle) for k, p in spec.BENIGN.items()}
    dry_reefer = side.random() < spec.BENIGN_EXTRA["reefer_dry_goods"]
    relayed = side.random() < spec.BENIGN_EXTRA["risk_origin_listed_hub"]
    if "empty_without_booking" in given or b["empty_without_booking"]:
        return _empty(rng, call, day, i, planted, method, given)
    origin = _pick(rng, spec.ORIGINS)
    if "risk_origin" in given and origin not in spec.HIGH_RISK_ORIGINS:
        origin = rng.choice(spec.HIGH_RISK_ORIGINS)
    risk_origin = origin in spec.HIGH_RISK_ORIGINS
    hub = None
    if "listed_hub" in given or (not risk_origin and b["listed_hub_transshipment"]):
        hub = rng.choice(spec.LISTED_HUBS) if origin not in spec.LISTED_HUBS else None
    elif rng.random() < 0.2:
        hub = rng.choice(spec.OTHER_HUBS)
    hub_rng = rng
    if risk_origin and relayed and hub not in spec.LISTED_HUBS and origin not in spec.LISTED_HUBS:
        hub_rng = side if hub is None else rng  # the hub's times from the stream that added it
        hub = side.choice(spec.LISTED_HUBS)
    cover = "cover" in given or rng.random() < (spec.COVER_SHARE_RISK_ORIGIN if risk_origin else spec.COVER_SHARE_OTHER)
    hs, description, perishable = rng.choice(spec.COVER_LOADS if cover else spec.GENERAL)
    reefer = perishable or "reefer" in given
    iso_code = "45R1" if reefer else rng.choice(["22G1", "45G1", "42G1"])
    if dry_reefer and not reefer:  # dry goods in a (non-operating) reefer box
        iso_code = side.choice(["45R1", "22R1"])
    container = _container(rng, ["MSC", "MAE", "CMA", "HLX", "ONE", "EGH", "TGH", "SIM"])
    arrival = call.arrival
    discharged = arrival + timedelta(hours=rng.uniform(2, 20))
    transit = timedelta(days=rng.uniform(12, 30))
    loaded = arrival - transit
    seal = f"SL{rng.randrange(10**7):07d}"
    reseal = "reseal" in given or b["reseal"]
    later_seal = f"SL{rng.randrange(10**7):07d}" if reseal else seal
    doc_ref = f"SIMBL{day:03d}{i:05d}"
    booking = f"SIMBK{day:03d}{i:05d}"
    ev = lambda code, when, port, seals, kind="EQUIPMENT": TripEvent(  # noqa: E731
        kind, code, "ACT", when, port, vessel_imo=call.imo, seals=seals, iso_equipment_code=iso_code, empty=False,
        received_at=received(when))
    events = [ev("GTIN", loaded - timedelta(days=rng.uniform(1, 4)), origin, (seal,)), ev("LOAD", loaded, origin, (seal,))]
    if hub:
        at_hub = loaded + transit * hub_rng.uniform(0.2, 0.4)
        events += [ev("DISC", at_hub, hub, (seal,)),
                   ev("LOAD", at_hub + timedelta(days=hub_rng.uniform(1, 4)), hub, (later_seal,))]
    events.append(ev("DISC", discharged, spec.DESTINATION, (later_seal,)))
    quick = "quick_pickup" in given or b["quick_pickup_perishable" if perishable else "quick_pickup_other"]
    gate_out = discharged + (timedelta(hours=rng.uniform(1, 5.5)) if quick else timedelta(hours=rng.uniform(8, 120)))
    if "terminal_moves" in given or b["terminal_moves"]:
        span = (gate_out - discharged) / 5
        events += [ev(code, discharged + span * (k + 1), spec.DESTINATION, ()) for k, code in enumerate(["PICK", "DROP", "PICK"])]
    events.append(ev("GTOT", gate_out, spec.DESTINATION, (later_seal,)))
    new = "new_consignee" in given or b["new_consignee"]
    consignee = names.company("BE") if new else rng.choice(receivers)
    mass = round(rng.uniform(8_000, 26_000), 0)
    vgm_off = "mass_gap" in given or b["mass_gap"]
    cargo = mass * (1 + rng.choice([-1, 1]) * rng.uniform(0.06, 0.2)) if vgm_off else mass * rng.uniform(0.99, 1.01)
    tare = spec.TARE_KG[iso_code]  # the VGM weighs the packed box (SOLAS VI/2); the document states the cargo
    weighed = loaded - timedelta(hours=12)  # after the gate-in (at least a day before loading)
    events.append(TripEvent("VGM", "VGM", "ACT", weighed, origin, verified_gross_mass_kg=round(cargo + tare, 0),
                            received_at=received(weighed), tare_kg=tare))
    to_order = "to_order" in given or b["to_order"]
    parties = [TripParty("shipper", names.company(origin[:2]), country=origin[:2]), TripParty("consignee", consignee, country="BE")]
    if not to_order:
        parties.append(TripParty("notify party", consignee, country="BE"))
    freight = "A" if ("cash_freight" in given or b["cash_freight"]) else rng.choice(["PRE", "COL"])
    issued = loaded + timedelta(hours=rng.uniform(2, 30))
    doc = TripDocument(doc_ref, "TRD", received(issued), to_order, freight, origin, spec.DESTINATION, tuple(parties),
                       (hs,), (description,), mass, (seal,), "")
    documents = [doc]
    if "late_party_change" in given or b["late_party_change"]:
        other = names.company("NL")
        changed = tuple(TripParty(p.role, other if p.role in ("consignee", "notify party") else p.name, p.address, p.country)
                        for p in parties)
        amended = loaded + transit * rng.uniform(0.5, 0.9)
        documents.append(TripDocument(doc_ref, "TRD", received(amended), to_order, freight, origin, spec.DESTINATION, changed,
                                      (hs,), (description,), mass, (seal,), ""))
        consignee = other
    events.sort(key=lambda e: e.event_time)
    trip = SimTrip(container, iso_code, doc_ref, booking, call, discharged, events, documents, consignee,
                   planted, method, given, subtle)
    if "ais_gap" in given and not _has_gap(call):
        _track(rng, call, gap=True)  # the vessel went dark before arrival: every box on it shows it
    return trip


def _has_gap(call: SimCall) -> bool:
    fixes = [f.observed_at for f in call.track]
    return any((b - a) > timedelta(hours=12) for a, b in zip(fixes, fixes[1:]))


def _empty(rng: random.Random, call: SimCall, day: int, i: int, planted: bool, method: str,
           given: tuple[str, ...]) -> SimTrip:
    """An empty container gated in at the port with no booking (a Trojan box when planted)."""
    container = _container(rng, ["SIM", "TGH", "CMA"])
    when = call.arrival + timedelta(hours=rng.uniform(0, 20))
    gate_in = TripEvent("EQUIPMENT", "GTIN", "ACT", when, spec.DESTINATION, iso_equipment_code="45G1", empty=True,
                        received_at=received(when))
    bare = SimCall("", "", "", "", "", call.arrival)
    return SimTrip(container, "45G1", "", "", bare, when, [gate_in], [], "", planted, method, given, False)


def trip_facts(traffic: Traffic, trip: SimTrip, as_of: datetime) -> TripFacts:
    """The facts of ``trip`` as known at ``as_of``: what was received by then, the consignee's
    history from every document received by then, its vessel's track before arrival."""
    events = tuple(e for e in trip.events if e.received_at is None or e.received_at <= as_of)
    docs = tuple(d for d in trip.documents if d.received_at <= as_of)
    history = None
    latest = max(docs, key=lambda d: d.received_at, default=None)
    party = latest.party("consignee") if latest else None
    if party is not None:
        seen = traffic.sightings.get(name_key(party.name), [])
        seen = seen[:bisect_right(seen, (as_of, "\uffff"))]
        first = seen[0][0] if seen else None
        history = PartyHistory(party.name, first, len({ref for _, ref in seen} - {trip.document_ref}))
    arrival = next((e.event_time for e in reversed(events) if e.event_type == "DISC"), None)
    track: tuple[VesselFix, ...] = ()
    if arrival is not None and trip.call.imo:
        start = arrival - timedelta(days=7)
        known = received_before(as_of)
        track = tuple(f for f in trip.call.track if start <= f.observed_at <= arrival and f.observed_at < known)
    key = TripKey(trip.container, trip.document_ref, trip.call.voyage) if trip.document_ref else TripKey(trip.container, "", "")
    return TripFacts(key, as_of, events, docs, history, track)


def inspect_history(traffic: Traffic, seed: int) -> None:
    """Simulated inspections of past trips: :data:`spec.INSPECTED_SHARE` of trips, a quarter at
    random and the rest among trips from high-risk origins; a planted trip inspected is a seizure
    with probability :data:`spec.DETECTION`."""
    rng = random.Random(seed * 31 + 5)
    risky = [t for t in traffic.trips if any(e.unlocode in spec.HIGH_RISK_ORIGINS for e in t.events)]
    n = round(spec.INSPECTED_SHARE * len(traffic.trips))
    chosen = set(map(id, rng.sample(traffic.trips, round(n * spec.RANDOM_INSPECTION_SHARE))))
    chosen |= set(map(id, rng.sample(risky, min(len(risky), n - len(chosen)))))
    for t in traffic.trips:
        if id(t) in chosen:
            t.inspected = True
            t.seizure = t.planted and rng.random() < spec.DETECTION
