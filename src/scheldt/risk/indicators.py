"""Narcotics risk indicators over one container trip (pure).

Each indicator is a function ``(TripFacts, Context) -> Hit | None``. Its docstring's first line
is the sentence shown to the officer; :func:`indicator` records which reader and field feed it,
whether any real message format carries that field, and its parameters with defaults (a risk
profile may override them). A :class:`Hit` carries a strength in [0, 1] and the concrete
evidence, e.g. "loaded at ECGYE (Guayaquil), on the high-risk list since 2024-01-01".

Background and sources: ../shared/docs/domain-brief.md section 2.2 (indicator table; its row
number is given in each ``source``).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from normality import normalize

from scheldt.domain.trips import TripEvent, TripFacts, in_version_order, loaded_aboard_time, vessel_arrival_time


@dataclass(frozen=True, slots=True)
class Hit:
    """An indicator that fired: ``strength`` in [0, 1] (scaled by the profile weight) and the
    evidence as the officer reads it."""

    indicator: str
    strength: float
    evidence: str


@dataclass(frozen=True, slots=True)
class ListedPort:
    """A UN/LOCODE on a high-risk list from ``since`` (inclusive) to ``until`` (exclusive, None
    while still listed). A two-letter code lists every port of that country. ``grade`` in (0, 1]
    is the strength of a loading there: a port whose legitimate volume dwarfs its seizures (e.g.
    a large banana port) can be graded below one."""

    code: str
    name: str
    since: date
    until: date | None = None
    grade: float = 1.0

    def covers(self, unlocode: str, on: date) -> bool:
        """Whether ``unlocode`` is listed on ``on``."""
        hit = unlocode == self.code or (len(self.code) == 2 and unlocode[:2] == self.code)
        return hit and self.since <= on and (self.until is None or on < self.until)


@dataclass(frozen=True, slots=True)
class CoverLoad:
    """HS code prefix (2-6 digits) of a commodity used as a cover load, with its name."""

    prefix: str
    name: str


@dataclass(frozen=True, slots=True)
class Context:
    """What an indicator is evaluated with: its parameters (defaults merged with the
    profile's) and the profile's lists."""

    params: Mapping[str, Any]
    high_risk_ports: Sequence[ListedPort] = ()
    cover_loads: Sequence[CoverLoad] = ()
    _by_code: dict[str, tuple[ListedPort, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for p in self.high_risk_ports:  # list order kept within a code
            self._by_code[p.code] = (*self._by_code.get(p.code, ()), p)

    def listed(self, unlocode: str, on: date) -> ListedPort | None:
        """The high-risk list entry covering ``unlocode`` on ``on``, if any: the port's own entry
        before its country's (a review's CRMOB at grade 1.0 after "CR" at 0.8 was scored at
        0.8), then the first in list order."""
        if not unlocode:
            return None
        found = [p for p in self._by_code.get(unlocode, ()) if p.covers(unlocode, on)] or [
            p for p in self._by_code.get(unlocode[:2], ()) if p.covers(unlocode, on)]
        if len(found) > 1:
            order = {id(p): i for i, p in enumerate(self.high_risk_ports)}
            found.sort(key=lambda p: order[id(p)])
        return found[0] if found else None


Check = Callable[[TripFacts, Context], "Hit | None"]


@dataclass(frozen=True, slots=True)
class Indicator:
    """A registered indicator: ``feeds`` names the reader and field, ``carried`` is False when
    no real message format carries that field (the indicator then needs a national feed)."""

    name: str
    check: Check
    feeds: str
    source: str
    carried: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sentence(self) -> str:
        """The sentence shown to the officer (the check's docstring, first line)."""
        return (self.check.__doc__ or self.name).strip().splitlines()[0]


INDICATORS: dict[str, Indicator] = {}


def indicator(name: str, *, feeds: str, source: str, carried: bool = True,
              params: Mapping[str, Any] | None = None) -> Callable[[Check], Check]:
    """Register a check under ``name`` (see :class:`Indicator`)."""
    def register(check: Check) -> Check:
        INDICATORS[name] = Indicator(name, check, feeds, source, carried, dict(params or {}))
        return check
    return register


def _day(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC")


def _port(ctx: Context, code: str, on: date) -> str:
    listed = ctx.listed(code, on)
    return f"{code} ({listed.name})" if listed else code


def _on_the_list(listed: ListedPort) -> str:
    """"on the high-risk list since D", with the day its entry ends when it has one (a
    targeting review's Santos reason read as listed still, beside a box loaded after the end)."""
    return f"on the high-risk list since {listed.since}" + (f" (until {listed.until})" if listed.until else "")


def _loaded_ports(trip: TripFacts) -> list[tuple[str, date, str]]:
    """(UN/LOCODE, date, how) of where the box was loaded: actual LOAD events (first loading
    first), the documents' port of loading, and the port of loading bay plans give (BAPLIE
    LOC+9: a box known only from a vessel's bay plan has no other). A document's port of
    loading is read on the day of the box's actual loading there; its received date only stands
    in without one (a review's box loaded at CNSHA on 2025-12-05 read as "on the high-risk list
    since 2025-12-06" from its bill of lading received that day; a regression review's box
    brought by a feeder to its listed port of loading was not flagged when the feeder's day was
    taken)."""
    out: list[tuple[str, date, str]] = []
    loads = [e for e in trip.events if e.event_type == "LOAD" and e.classifier == "ACT" and e.unlocode]
    if loads:
        out.append((loads[0].unlocode, loads[0].event_time.date(), f"loaded {_day(loads[0].event_time)}"))
    doc = trip.latest_document()
    if doc and doc.port_of_loading:
        there = next((e for e in loads if e.unlocode == doc.port_of_loading), None)
        on = there.event_time.date() if there is not None else doc.received_at.date()
        out.append((doc.port_of_loading, on, f"port of loading on {doc.document_type} {doc.document_ref}"))
    # a bay plan's port of loading is where the box went onto that vessel: for the mother vessel
    # leaving a hub, the hub, a transshipment port and not where the box was loaded (a terminal
    # review's BAPLIE took it for the origin; a regression review's box then counted it twice)
    hubs = {e.unlocode for e in _transshipments(trip)}
    plans = [e for e in trip.events if e.kind == "STOWAGE" and e.classifier == "ACT" and e.port_of_loading
             and e.port_of_loading not in hubs]
    if plans:
        out.append((plans[0].port_of_loading, plans[0].event_time.date(),
                    f"port of loading on the bay plan of {plans[0].event_time:%Y-%m-%d}"
                    + (f" (vessel leaving {plans[0].unlocode})" if plans[0].unlocode else "")))
    return out


def _transshipments(trip: TripFacts) -> list[TripEvent]:
    """Actual discharges before the last one (the box was discharged and loaded again)."""
    discs = [e for e in trip.events if e.event_type == "DISC" and e.classifier == "ACT" and e.unlocode]
    doc = trip.latest_document()
    final = doc.port_of_discharge if doc and doc.port_of_discharge else (discs[-1].unlocode if discs else "")
    return [e for e in discs if e.unlocode != final]


@indicator("high_risk_port_of_loading", source="indicator table row 1",
           feeds="dcsa-documents/edifact CUSCAR port of loading; DCSA T&T LOAD event location; "
                 "edifact BAPLIE LOC+9 (bay plan)")
def high_risk_port_of_loading(trip: TripFacts, ctx: Context) -> Hit | None:
    """Loaded at a port on the high-risk list (at the strength of the port's grade on the list)."""
    for code, on, how in _loaded_ports(trip):
        listed = ctx.listed(code, on)
        if listed:
            graded = f", graded {listed.grade:g}" if listed.grade < 1 else ""
            return Hit("high_risk_port_of_loading", listed.grade,
                       f"{how}: {code} ({listed.name}), {_on_the_list(listed)}{graded}")
    return None


@indicator("high_risk_transshipment", source="indicator table rows 1 and 9",
           feeds="DCSA T&T DISC events before the final port of discharge (transshipment)")
def high_risk_transshipment(trip: TripFacts, ctx: Context) -> Hit | None:
    """Transshipped through a high-risk hub on the way (discharged and loaded again there)."""
    transshipments = _transshipments(trip)
    if not transshipments:
        return None
    ports = _loaded_ports(trip)
    loaded = {code for code, _, _ in ports}
    origin = next(((c, on) for c, on, _ in ports if ctx.listed(c, on)), None)
    for e in transshipments:
        listed = ctx.listed(e.unlocode, e.event_time.date())
        if listed and e.unlocode not in loaded:
            # a listed origin is high_risk_port_of_loading's; a listed hub after it is a second exposure
            also = f", after loading at {_port(ctx, *origin)}" if origin else ""
            return Hit("high_risk_transshipment", 1.0,
                       f"transshipped at {e.unlocode} ({listed.name}) {_day(e.event_time)}, "
                       f"{_on_the_list(listed)}{also}")
    return None


@indicator("cover_load_commodity", source="indicator table row 2",
           feeds="dcsa-documents consignment items HS codes; edifact CUSCAR/IFTMIN GID/PIA")
def cover_load_commodity(trip: TripFacts, ctx: Context) -> Hit | None:
    """Declared goods are a commodity often used as a cover load."""
    doc = trip.latest_document()
    for hs in doc.hs_codes if doc else ():
        cover = next((c for c in ctx.cover_loads if hs.startswith(c.prefix)), None)
        if cover:
            return Hit("cover_load_commodity", 1.0, f"HS {hs} ({cover.name}) on {doc.document_type} {doc.document_ref}")  # type: ignore[union-attr]
    return None


def is_reefer(iso_code: str) -> bool:
    """ISO 6346 size-type code of a reefer: type group R (e.g. 45R1, 22R1; legacy 4532)."""
    return len(iso_code) == 4 and (iso_code[2] == "R" or iso_code[2:4] in ("32", "33"))


@indicator("reefer_from_risk_origin", source="indicator table row 3",
           feeds="DCSA T&T equipment ISOEquipmentCode; BAPLIE EQD size-type code")
def reefer_from_risk_origin(trip: TripFacts, ctx: Context) -> Hit | None:
    """A reefer container from a high-risk origin (the machinery compartment is a known hiding place)."""
    code = next((e.iso_equipment_code for e in trip.events if e.iso_equipment_code), "")
    if not is_reefer(code):
        return None
    origin = next(((c, on) for c, on, _ in _loaded_ports(trip) if ctx.listed(c, on)), None)
    if origin is None:
        return None
    return Hit("reefer_from_risk_origin", 1.0, f"reefer container ({code}) from {_port(ctx, *origin)}")


#: HS chapters of goods shipped chilled or frozen: meat, fish, dairy, live plants and flowers,
#: vegetables, fruit and nuts, prepared meat and fish.
CHILLED_HS_CHAPTERS = frozenset({"02", "03", "04", "06", "07", "08", "16"})


@indicator("reefer_with_dry_goods", source="indicator table rows 2 and 3 (container type against the goods; inferred)",
           feeds="DCSA T&T equipment ISOEquipmentCode / BAPLIE EQD size-type code against the HS codes on the "
                 "transport document (dcsa-documents consignment items; edifact CUSCAR/IFTMIN GID/PIA)")
def reefer_with_dry_goods(trip: TripFacts, ctx: Context) -> Hit | None:
    """A reefer container declared with goods that need no cooling."""
    code = next((e.iso_equipment_code for e in trip.events if e.iso_equipment_code), "")
    doc = trip.latest_document()
    if not is_reefer(code) or doc is None or not doc.hs_codes:
        return None
    if any(hs[:2] in CHILLED_HS_CHAPTERS for hs in doc.hs_codes):
        return None
    goods = "HS " + ", ".join(doc.hs_codes) + (f" ({'; '.join(doc.descriptions)})" if doc.descriptions else "")
    return Hit("reefer_with_dry_goods", 1.0, f"reefer container ({code}) declared with {goods} on {doc.document_type} "
               f"{doc.document_ref}, goods that are not shipped chilled or frozen")


@indicator("new_consignee", source="indicator table row 5",
           feeds="consignee name on transport documents, history in the store",
           params={"first_seen_days": 90, "max_prior_trips": 2})
def new_consignee(trip: TripFacts, ctx: Context) -> Hit | None:
    """The consignee is new or thin: first seen recently, or few earlier shipments."""
    h = trip.consignee_history
    if h is None or not h.name:
        return None
    days = ctx.params["first_seen_days"]
    named_at = trip.consignee_named_at()  # how new it was when this trip named it, not at scoring time
    recent = h.first_seen is None or named_at - h.first_seen <= timedelta(days=days)
    thin = h.prior_trips <= ctx.params["max_prior_trips"]
    if not (recent or thin):
        return None
    seen = "never seen before" if h.first_seen is None else (
        f"first seen {h.first_seen:%Y-%m-%d} ({max((named_at - h.first_seen).days, 0)} days before this trip "
        "named it)")
    strength = 1.0 if recent and thin else 0.5
    return Hit("new_consignee", strength, f"consignee {h.name!r} {seen}, {h.prior_trips} earlier trip(s)")


@indicator("new_consignee_cover_load", source="indicator table rows 2 and 5; modus operandi 2.1 (cover loads via "
           "front companies)",
           feeds="consignee name on transport documents with its history in the store, and the HS codes on the "
                 "latest transport document (dcsa-documents consignment items; edifact CUSCAR/IFTMIN GID/PIA)",
           params={"first_seen_days": 90, "max_prior_trips": 2})
def new_consignee_cover_load(trip: TripFacts, ctx: Context) -> Hit | None:
    """A newly seen consignee with few earlier shipments imports a cover-load commodity (the front-company pattern)."""
    h = trip.consignee_history
    doc = trip.latest_document()
    if h is None or not h.name or doc is None:
        return None
    recent = h.first_seen is None or trip.consignee_named_at() - h.first_seen <= timedelta(
        days=ctx.params["first_seen_days"])
    if not recent or h.prior_trips > ctx.params["max_prior_trips"]:
        return None
    hs, cover = next(((hs, c) for hs in doc.hs_codes for c in ctx.cover_loads if hs.startswith(c.prefix)), ("", None))
    if cover is None:
        return None
    seen = "never seen before" if h.first_seen is None else f"first seen {h.first_seen:%Y-%m-%d}"
    return Hit("new_consignee_cover_load", 1.0, f"consignee {h.name!r} ({seen}, {h.prior_trips} earlier trip(s)) "
               f"imports HS {hs} ({cover.name}) on {doc.document_type} {doc.document_ref}")


@indicator("to_order_unknown_notify", source="indicator table row 5",
           feeds="dcsa-documents isToOrder and notify parties; edifact NAD+N1")
def to_order_unknown_notify(trip: TripFacts, ctx: Context) -> Hit | None:
    """A "to order" bill of lading with no known notify party."""
    doc = trip.latest_document()
    if doc is None or not doc.to_order:
        return None
    notify = doc.party("notify party")
    if notify is not None and notify.name.strip():
        return None
    return Hit("to_order_unknown_notify", 1.0, f"{doc.document_type} {doc.document_ref} is to order and names no notify party")


@indicator("seal_changed", source="indicator table row 4",
           feeds="seal numbers on dcsa-documents utilized equipment and DCSA T&T equipment events (SEL in EDIFACT)")
def seal_changed(trip: TripFacts, ctx: Context) -> Hit | None:
    """Seal numbers differ between the documents and the events, or a seal was replaced on the way."""
    documented = {_seal(s) for d in trip.documents for s in d.seals}
    sealed = [e for e in trip.events if e.classifier == "ACT" and e.seals]
    if not sealed:
        return None
    reference = documented or {_seal(s) for s in sealed[0].seals}
    for e in sealed:
        seal = next((s for s in e.seals if _seal(s) not in reference), None)
        if seal is not None:
            source = "the transport document" if documented else "the first event"
            shown = sorted({s for d in trip.documents for s in d.seals} if documented else sealed[0].seals)
            return Hit("seal_changed", 1.0, f"seal {seal} at {e.event_type} {e.unlocode} {_day(e.event_time)}, "
                       f"not the seal on {source} ({', '.join(shown)})")
    together = [{_seal(s) for s in d.seals} for d in trip.documents]
    return _replaced_in_transit(sealed, together)


@functools.lru_cache(maxsize=1 << 16)
def _seal(number: str) -> str:
    """A seal number as compared: upper case, without spaces and dashes ("ml-123 4" is ML1234)
    and without the zeros leading its digits ("ML001234" is ML1234: a sender that keeps seal
    numbers as numbers drops them; before, that box was flagged as resealed). Answers are kept
    (a day's trips compare 180,000 seal numbers, most of them several times)."""
    return _LEADING_ZEROS.sub("", "".join(number.replace("-", " ").split()).upper())


_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")


def _replaced_in_transit(sealed: list[TripEvent], together: list[set[str]]) -> Hit | None:
    """A seal replaced on the way: a seal first seen on a later event, on an event where a seal
    seen before it came is gone, unless one document version lists the two together (a box
    with a carrier's and a shipper's seal, each party's events naming its own: a regression
    review). Found also when the documents were amended to the new seal afterwards (a
    carrier-data review's box resealed at its hub no longer flagged once the B/L was
    amended), and when the new seal was put on beside the old one first. ``together``: each
    document version's seals (as :func:`_seal` compares them)."""
    first: dict[str, int] = {}
    shown: dict[str, str] = {}
    for i, e in enumerate(sealed):
        for s in e.seals:
            first.setdefault(_seal(s), i)
            shown.setdefault(_seal(s), s)
    for i, e in enumerate(sealed):
        now = {_seal(s) for s in e.seals}
        for new in sorted(n for n in now if first[n] > 0):
            gone = sorted(o for o, k in first.items() if k < first[new] and o not in now
                          and not any(new in seals and o in seals for seals in together))
            if gone:
                before = max((b for b in sealed[:i] if gone[0] in {_seal(s) for s in b.seals}),
                             key=lambda b: b.event_time)
                return Hit("seal_changed", 1.0, f"seal {shown[new]} at {e.event_type} {e.unlocode} "
                           f"{_day(e.event_time)}, replacing {', '.join(shown[g] for g in gone)} seen at "
                           f"{before.event_type} {before.unlocode} {_day(before.event_time)}")
    return None


#: Tare ranges (kg) of ISO 6346 size-type codes by length code (first character: 2 = 20 ft,
#: 4 = 40 ft, L = 45 ft) and type group (third: R reefer, T tank, P platform; others general
#: purpose), spanning the tares makers publish for such boxes. Scheldt's assumption, used only
#: when a VGM declaration does not give the box's tare.
TARE_RANGES_KG: dict[tuple[str, str], tuple[float, float]] = {
    ("2", ""): (1_800.0, 2_700.0), ("2", "R"): (2_700.0, 3_500.0), ("2", "T"): (2_800.0, 4_300.0),
    ("2", "P"): (2_200.0, 3_200.0), ("4", ""): (3_500.0, 4_300.0), ("4", "R"): (4_200.0, 5_200.0),
    ("4", "T"): (4_000.0, 6_000.0), ("4", "P"): (4_500.0, 6_000.0), ("L", ""): (4_200.0, 5_000.0),
    ("L", "R"): (4_800.0, 5_700.0),
}
#: Any container's tare range (kg) when its size-type code is not known.
ANY_TARE_KG = (1_800.0, 6_000.0)


def tare_range(iso_code: str) -> tuple[float, float]:
    """The tare range (kg) of a box of ISO 6346 size-type ``iso_code`` (:data:`TARE_RANGES_KG`)."""
    if len(iso_code) != 4:
        return ANY_TARE_KG
    group = iso_code[2] if iso_code[2] in "RTP" else ""
    return TARE_RANGES_KG.get((iso_code[0], group)) or TARE_RANGES_KG.get((iso_code[0], "")) or ANY_TARE_KG


@dataclass(frozen=True, slots=True)
class MassGap:
    """How far the verified gross mass (kg, the packed box) lies from the transport document's
    cargo gross mass (kg, without the box) plus the box's tare: ``gap`` kg beyond the tare
    (0 within a tare range), its ``share`` of the cargo mass, and the tare it allowed for,
    in words."""

    vgm: float
    declared: float
    gap: float
    share: float
    tare: str
    document: str


def mass_gap_of(trip: TripFacts) -> MassGap | None:
    """The trip's :class:`MassGap`, or None without a VGM or a declared cargo mass. The tare is
    the latest VGM declaration's when it gives one, else the range of the box's ISO size type
    (:func:`tare_range`). A carrier-data review: the VGM was compared with the cargo alone, so
    every honestly declared box showed a gap of its tare (2.2-4.8 t). The VGM is the latest
    given (a declaration, a bay plan, a terminal's report); the tare is the latest declaration's
    whatever came after it (a regression review: a terminal's report of the same VGM, which
    gives no tare, dropped the declared tare for the ISO range, and the gap with it)."""
    weighed = next((e for e in reversed(trip.events) if e.verified_gross_mass_kg), None)
    doc = trip.latest_document()
    declared = doc.gross_mass_kg if doc else None
    if weighed is None or not declared or doc is None:
        return None
    vgm = float(weighed.verified_gross_mass_kg or 0)
    declaration = next((e for e in reversed(trip.events) if e.kind == "VGM" and e.verified_gross_mass_kg), None)
    if declaration is not None and declaration.tare_kg:
        low = high = float(declaration.tare_kg)
        tare = f"{low:,.0f} kg tare (declared with the VGM)"
    else:
        iso = next((e.iso_equipment_code for e in trip.events if e.iso_equipment_code), "")
        low, high = tare_range(iso)
        owner = f"a {iso}'s" if iso else "a container's"
        tare = f"{owner} tare of {low:,.0f}-{high:,.0f} kg"
    gap = vgm - declared - high if vgm > declared + high else min(0.0, vgm - declared - low)
    return MassGap(vgm, declared, gap, gap / declared, tare, f"{doc.document_type} {doc.document_ref}")


@indicator("mass_gap", source="indicator table row 10 (noisy: use only in combination)",
           feeds="VGM declaration (dcsa-documents VGM, BAPLIE and COARRI/COPRAR/CODECO MEA+VGM) vs gross mass on the "
                 "transport document",
           params={"min_kg": 500.0, "min_share": 0.05})
def mass_gap(trip: TripFacts, ctx: Context) -> Hit | None:
    """The verified gross mass differs from the declared cargo mass plus the container's tare."""
    m = mass_gap_of(trip)
    if m is None or abs(m.gap) < ctx.params["min_kg"] or abs(m.gap) < ctx.params["min_share"] * m.declared:
        return None
    return Hit("mass_gap", min(1.0, abs(m.share) / 0.2),
               f"VGM {m.vgm:,.0f} kg vs {m.declared:,.0f} kg cargo on {m.document} and {m.tare} "
               f"({m.gap:+,.0f} kg, {m.share:+.0%})")


def _departure(trip: TripFacts) -> datetime | None:
    e = next((e for e in trip.events if e.classifier == "ACT" and e.event_type in ("DEPA", "LOAD")), None)
    return e.event_time if e else None


def _name_key(name: str) -> str:
    """A party name as compared between document versions: case, accents, punctuation and
    spacing left out (normality), legal forms kept. An attack review's re-sent B/L naming
    "Punosi  Fruit\u00a0NV" (two spaces, a no-break space) read as a consignee changed after
    departure."""
    return (normalize(name, lowercase=True, collapse=True) or "").replace(" ", "")


@indicator("late_party_change", source="indicator table row 11",
           feeds="consignee / notify party across transport document versions, received times")
def late_party_change(trip: TripFacts, ctx: Context) -> Hit | None:
    """The consignee or notify party was changed after the vessel left."""
    left = _departure(trip)
    if left is None:
        return None
    docs = in_version_order(trip.documents)
    for role in ("consignee", "notify party"):
        # each version against the one before it: a bill of lading is often first issued after
        # loading, so the version changed is compared with the previous one, not with one
        # received before departure
        named = [d for d in docs if d.party(role)]
        for old_doc, new_doc in zip(named, named[1:]):
            if new_doc.received_at <= left:
                continue
            old, new = old_doc.party(role).name, new_doc.party(role).name  # type: ignore[union-attr]
            if _name_key(old) != _name_key(new):
                return Hit("late_party_change", 1.0, f"{role} changed from {old!r} to {new!r} in the version received "
                           f"{_day(new_doc.received_at)}, after departure {_day(left)}")
    return None


@indicator("freight_paid_in_cash", source="indicator table row 12",
           feeds="method of payment on house bills of lading (DCSA eBL 3.0 houseBillOfLadings.methodOfPayment, "
                 "the ENS code list: A = cash); master documents carry only prepaid/collect")
def freight_paid_in_cash(trip: TripFacts, ctx: Context) -> Hit | None:
    """Freight was paid in cash."""
    doc = next((d for d in trip.documents if d.freight_payment.upper() in ("A", "CASH")), None)
    if doc is None:
        return None
    return Hit("freight_paid_in_cash", 1.0, f"freight method of payment {doc.freight_payment!r} (cash) "
               f"on {doc.document_type} {doc.document_ref}")


def _chilled_goods(trip: TripFacts) -> str:
    """The first HS code on the latest transport document of goods shipped chilled or frozen, or ""."""
    doc = trip.latest_document()
    return next((hs for hs in (doc.hs_codes if doc else ()) if hs[:2] in CHILLED_HS_CHAPTERS), "")


@indicator("quick_pickup", source="indicator table row 6",
           feeds="DCSA T&T DISC and GTOT equipment events (actual); HS codes on the transport document "
                 "(dcsa-documents consignment items) for perishable goods",
           params={"max_hours": 6.0, "perishable_strength": 0.2})
def quick_pickup(trip: TripFacts, ctx: Context) -> Hit | None:
    """Picked up unusually soon after discharge (counted less for perishable goods, which are collected fast)."""
    last = trip.last_discharge()
    gate = trip.gate_out_after(last.event_time) if last else None
    if last is None or gate is None:
        return None
    hours = (gate.event_time - last.event_time).total_seconds() / 3600
    if hours > ctx.params["max_hours"]:
        return None
    chilled = _chilled_goods(trip)
    strength = min(1.0, ctx.params["perishable_strength"]) if chilled else 1.0
    if strength <= 0:
        return None
    why = f"; perishable goods (HS {chilled}) are usually collected fast, counted at {strength:g}" if chilled else ""
    return Hit("quick_pickup", strength, f"gated out at {gate.unlocode or last.unlocode} {hours:.1f} h after discharge "
               f"({_day(last.event_time)} → {_day(gate.event_time)}){why}")


@indicator("terminal_moves", source="indicator table row 7",
           feeds="DCSA T&T equipment events at the terminal between discharge and gate-out", params={"max_moves": 2})
def terminal_moves(trip: TripFacts, ctx: Context) -> Hit | None:
    """Moved inside the terminal more often than needed between discharge and gate-out (in part while still there)."""
    last = trip.last_discharge()
    if last is None:
        return None
    start = last.event_time
    gate_out = trip.gate_out_after(start)
    gate = gate_out.event_time if gate_out else None
    moves = [e for e in trip.events if e.kind == "EQUIPMENT" and e.classifier == "ACT" and e.event_time > start
             and (gate is None or e.event_time < gate) and e.event_type in ("PICK", "DROP", "STRP", "STUF", "RMVD")]
    limit = ctx.params["max_moves"]
    kinds = ", ".join(f"{e.event_type} {e.event_time:%Y-%m-%d %H:%M} UTC" for e in moves[:5])
    if len(moves) > limit:
        return Hit("terminal_moves", 1.0, f"{len(moves)} moves in the terminal after discharge ({kinds})")
    if gate is not None or not moves:
        return None
    # still in the terminal: the moves so far count in part, as more may follow before gate-out
    strength = len(moves) / (limit + 1)
    return Hit("terminal_moves", strength, f"{len(moves)} move(s) in the terminal since discharge and not gated out "
               f"yet ({kinds}); more than {limit:g} count in full, so far counted at {strength:.2g}")


@indicator("empty_gate_in_without_booking", source="indicator table row 8",
           feeds="DCSA T&T GTIN events with emptyIndicatorCode EMPTY and their booking references")
def empty_gate_in_without_booking(trip: TripFacts, ctx: Context) -> Hit | None:
    """An empty container was gated in without a booking."""
    if trip.key.document_ref:
        return None
    gate_in = next((e for e in trip.events if e.event_type == "GTIN" and e.classifier == "ACT" and e.empty), None)
    if gate_in is None:
        return None
    return Hit("empty_gate_in_without_booking", 1.0,
               f"empty container gated in at {gate_in.unlocode} {_day(gate_in.event_time)} with no booking or document")


@indicator("ais_gap_before_arrival", source="indicator table row 14 (gaps are mostly innocent)",
           feeds="AIS positions of the trip's vessel (ais-nmea, ais-csv) before arrival",
           params={"window_days": 5.0, "min_gap_hours": 12.0})
def ais_gap_before_arrival(trip: TripFacts, ctx: Context) -> Hit | None:
    """The vessel went silent on AIS in the days before arrival.

    Silent between two fixes in the window before the box's arrival (it went silent in the
    window), or from its last fix until
    the vessel's actual arrival (ARRI) event (a maritime review's vessel went dark two days out
    and stayed dark: not flagged when only gaps between fixes counted). That last fix may lie
    before the window once the box was aboard (after its last LOAD event: a review's vessel dark
    for longer than the window was not flagged). Not until a box's discharge: a regression review
    found 130 of 230 boxes of one call flagged, the later the discharge the stronger. With no fix
    to measure from there is no coverage to judge by."""
    arrival = trip.arrival()
    if arrival is None or not trip.vessel_track:
        return None
    window = timedelta(days=ctx.params["window_days"])
    found = []
    # a silence that began before the window counts only until arrival (below): one that ended in
    # the window is an ocean crossing's coverage gap as often as not (counted whole, it cost the
    # simulated benchmark 14 of 236 boxes caught at 1 %)
    between = trip.longest_track_gap(arrival - window, arrival)
    if between is not None:
        found.append((*between, f"{(arrival - between[1]).days} days before arrival"))
    berthed = vessel_arrival_time(trip.events)
    if berthed is not None:
        loaded = loaded_aboard_time(trip.events, berthed)
        since = berthed - window if loaded is None else min(berthed - window, loaded)
        dark = trip.silence_until(since, berthed)
        if dark is not None:
            found.append((*dark, "until the vessel arrived (no fix since)"))
    if not found:
        return None
    gap, at, when = max(found, key=lambda f: f[0])  # the earlier found on a tie: a gap between fixes
    hours = gap.total_seconds() / 3600
    if hours < ctx.params["min_gap_hours"]:
        return None
    return Hit("ais_gap_before_arrival", min(1.0, hours / (4 * ctx.params["min_gap_hours"])),
               f"vessel AIS silent for {hours:.1f} h from {_day(at)}, {when}")


@indicator("watchlist_match", source="DESIGN.md (shared watchlist entries); indicator table row 5",
           feeds="shipper / consignee / notify party names and addresses, and the trip's vessel names, "
                 "screened against the watchlist store",
           params={"min_score": 90.0})
def watchlist_match(trip: TripFacts, ctx: Context) -> Hit | None:
    """A party, a party's address or the vessel matches a watchlist entry."""
    matches = [m for m in trip.watchlist_matches if m.score >= ctx.params["min_score"]]
    if not matches:
        return None
    m = max(matches, key=lambda m: m.score)
    return Hit("watchlist_match", m.score / 100,
               f"{m.role} {m.party_name!r} matches {m.entry_name!r} on {m.list_name} (entry {m.entry_id}, score {m.score:.0f})")


@indicator("vessel_loitering_before_arrival", source="indicator table row 14 (slow-down or loitering off a coast)",
           feeds="AIS positions and speeds of the trip's vessel (ais-nmea, ais-csv) before arrival",
           params={"window_days": 5.0, "max_knots": 3.0, "min_hours": 6.0, "skip_last_hours": 24.0,
                   "max_gap_hours": 3.0})
def vessel_loitering_before_arrival(trip: TripFacts, ctx: Context) -> Hit | None:
    """The vessel loitered at sea (barely moving for hours) in the days before arrival."""
    arrival = trip.arrival()
    if arrival is None:
        return None
    start = arrival - timedelta(days=ctx.params["window_days"])
    stop = arrival - timedelta(hours=ctx.params["skip_last_hours"])  # waiting at anchorage is normal
    longest, run_start, best, previous = 0.0, None, None, None
    # a run is of slow fixes seen one after another: a fix of unknown speed, a silence longer than
    # max_gap_hours, or a move between two slow fixes faster than max_knots ends it (a maritime
    # review's 300 nm covered in a 24 h silence counted as 30 h at 1 kn)
    for f in trip.track_between(start, stop):
        slow = f.speed_knots is not None and f.speed_knots <= ctx.params["max_knots"]
        if not slow:
            run_start = None
        elif run_start is None or previous is None or not _still(previous, f, ctx):
            run_start = f
        if slow and run_start is not None:
            hours = (f.observed_at - run_start.observed_at).total_seconds() / 3600
            if hours > longest:
                longest, best = hours, run_start
        previous = f
    if best is None or longest < ctx.params["min_hours"]:
        return None
    return Hit("vessel_loitering_before_arrival", min(1.0, longest / (4 * ctx.params["min_hours"])),
               f"vessel at {ctx.params['max_knots']:g} kn or less for {longest:.1f} h from {_day(best.observed_at)} "
               f"near {best.latitude:.2f}, {best.longitude:.2f}, {(arrival - best.observed_at).days} days before arrival")


def _still(a: Any, b: Any, ctx: Context) -> bool:
    """Whether the vessel stayed slow from fix ``a`` to fix ``b``: seen again within
    ``max_gap_hours`` and no further away than ``max_knots`` covers in between."""
    hours = (b.observed_at - a.observed_at).total_seconds() / 3600
    near = _nautical_miles(a, b) <= ctx.params["max_knots"] * max(hours, 0.0) + 0.1  # 0.1 nm: a fix's own scatter
    return hours <= ctx.params["max_gap_hours"] and near


def _nautical_miles(a: Any, b: Any) -> float:
    """Great-circle distance between two fixes (WGS 84 degrees) in nautical miles (haversine on a
    sphere of radius 3,440.065 nm, the mean Earth radius)."""
    la1, lo1, la2, lo2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 3440.065 * math.asin(min(1.0, math.sqrt(h)))


@indicator("gate_out_without_release", source="indicator table row 6", carried=False,
           feeds="customs release events (kind CUSTOMS_RELEASE) from a national release feed, e.g. the port "
                 "community system's release messages; no DCSA or UN/EDIFACT reader here produces them, so "
                 "the default profile leaves this indicator out")
def gate_out_without_release(trip: TripFacts, ctx: Context) -> Hit | None:
    """The container was gated out with no customs release recorded before it."""
    gate = next((e for e in trip.events if e.event_type == "GTOT" and e.classifier == "ACT"), None)
    if gate is None or trip.key.document_ref == "":
        return None
    released = any(e.kind == "CUSTOMS_RELEASE" and e.event_time <= gate.event_time for e in trip.events)
    if released:
        return None
    return Hit("gate_out_without_release", 1.0, f"gated out at {gate.unlocode} {_day(gate.event_time)} "
               "with no customs release recorded before it")
