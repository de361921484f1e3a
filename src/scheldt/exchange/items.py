"""What Scheldt shares, as Scheldt knows it: alerts, watchlist entries, seizure reports and
sightings (plain dataclasses), and the checks each must pass before it is shared.

Every item has a :class:`Meta`: its STIX id (the id of its main STIX object), the STIX identity
of the organisation that made it (``identity_id(org)``, :mod:`scheldt.exchange.objects`), when
it was made and last changed (UTC, millisecond precision as STIX timestamps carry them), and its
sharing terms (:class:`scheldt.exchange.objects.Sharing`: TLP 2.0, handling code, source
reliability A/B/C/X, information credibility 1-4, sharing group, TLP:RED recipients,
validity). :mod:`scheldt.exchange.stix_mapping` maps items to STIX 2.1 objects and back.

Units: masses in kg; times UTC; ports as UN/LOCODEs; countries as ISO 3166-1 alpha-2 codes.
Check functions raise :class:`scheldt.errors.InputError` naming the field and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from scheldt import reference
from scheldt.domain.exchange import Tlp
from scheldt.domain.identifiers import is_unlocode_shape
from scheldt.domain.inspection import CONCEALMENTS, DRUG_TYPES, MAX_SEIZURE_KG
from scheldt.errors import InputError
from scheldt.exchange.objects import Sharing
from scheldt.risk.watch_match import split_seal

#: What a partner did about an alert (a sighting's result).
RESULTS = ("seizure", "irregularity", "nothing_found", "not_inspected")
#: What a watchlist entry looks for.
WATCH_KINDS = ("company", "person", "address", "container", "seal-range", "route")
#: Watchlist kinds screened as party names (the others are matched exactly: see
#: :mod:`scheldt.risk.watch_match`).
NAME_KINDS = ("company", "person")
DOCUMENT_TYPES = ("master", "house")
SELECTIONS = ("risk", "exploration", "manual")
PARTY_KINDS = ("company", "person")
MAX_NAME = 500
MAX_TEXT = 4000
_STIX_ID = re.compile(r"^[a-z][a-z0-9-]{1,98}[a-z0-9]--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_IMO = re.compile(r"^[0-9]{7}$")
_HS = re.compile(r"^[0-9]{2,10}$")
_CODE = re.compile(r"^[a-z0-9_:.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Meta:
    """Identity, origin, times (UTC) and sharing terms of one shared item."""

    stix_id: str
    created_by: str
    created: datetime
    modified: datetime
    sharing: Sharing


@dataclass(frozen=True, slots=True)
class Container:
    """A container: ISO 6346 number, ISO 6346 size-type code (``45G1``), seal numbers on this trip."""

    number: str
    size_type: str = ""
    seals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Consignment:
    """A consignment under one bill of lading: its reference, ``master`` or ``house`` bill,
    the carrier's SMDG liner code or SCAC, ports of loading and discharge, the shipper's,
    consignee's and notify party's names, and the goods' HS codes."""

    document_ref: str
    document_type: str = "master"
    carrier_code: str = ""
    port_of_loading: str = ""
    port_of_discharge: str = ""
    shipper: str = ""
    consignee: str = ""
    notify_party: str = ""
    hs_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VesselCall:
    """A vessel's call at a port: IMO number, name, voyage, UN/LOCODE, arrival (UTC)."""

    imo: str = ""
    vessel_name: str = ""
    voyage: str = ""
    unlocode: str = ""
    arrival: datetime | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A party of interest: a company or person, the role it plays (shipper, consignee, notify
    party...), its address and country."""

    name: str
    kind: str = "company"
    role: str = ""
    address: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why an alert was raised: a stable code (a risk indicator's name) and the officer's words."""

    code: str
    text: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A container, consignment, vessel or party of interest, with reasons. ``score`` is the
    0-100 risk score when the alert comes from scoring; ``trip`` names the container trip
    (``container / document / voyage``); ``related`` are other STIX objects it refers to
    (e.g. the watchlist entry that matched)."""

    meta: Meta
    title: str
    reasons: tuple[Reason, ...]
    score: float | None = None
    trip: str = ""
    container: Container | None = None
    consignment: Consignment | None = None
    vessel_call: VesselCall | None = None
    parties: tuple[Party, ...] = ()
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """Something to look for, with the grounds for listing it (``note``): a company or person
    (``name``, ``aliases``, ``address``, ``country``), an address (``address``, ``country``),
    a container number, a seal range (``seal_from`` to ``seal_to``: same prefix, numbers in
    between) or a route (UN/LOCODEs in the order the cargo passes them)."""

    meta: Meta
    kind: str
    note: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    address: str = ""
    country: str = ""
    container_number: str = ""
    seal_from: str = ""
    seal_to: str = ""
    route: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Seizure:
    """What was seized (drug type, mass in kg), where it was hidden, how the container was
    picked (risk, exploration, manual), when (UTC), the port of loading and the origin country,
    and how the drugs came to be in the box when the search team could tell (``method``: a
    :data:`scheldt.domain.inspection.METHODS` code, or a partner's own word; "" when not said),
    and the seal numbers read on the box at the search (``seals_found``)."""

    drug_type: str
    mass_kg: float
    concealment: str
    selection: str
    seized_at: datetime
    port_of_loading: str = ""
    origin_country: str = ""
    description: str = ""
    method: str = ""
    seals_found: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeizureReport:
    """A seizure and the container, consignment and vessel call it was found with."""

    meta: Meta
    seizure: Seizure
    container: Container | None = None
    consignment: Consignment | None = None
    vessel_call: VesselCall | None = None


@dataclass(frozen=True, slots=True)
class Sighting:
    """Feedback on an alert: the organisation(s) that acted (``where_sighted``: STIX identity
    ids), what came of it (one of :data:`RESULTS`), how many times, when (UTC), in words."""

    meta: Meta
    alert_id: str
    result: str
    seen_at: datetime
    where_sighted: tuple[str, ...]
    count: int = 1
    detail: str = ""


Item: TypeAlias = Alert | WatchEntry | SeizureReport | Sighting
KIND_OF: dict[type, str] = {Alert: "alert", WatchEntry: "watchlist-entry", SeizureReport: "seizure-report",
                            Sighting: "sighting"}


# --- checks ----------------------------------------------------------------------------------

def _text(value: str, where: str, limit: int = MAX_NAME, required: bool = False) -> None:
    if not isinstance(value, str):
        raise InputError(where, "must be text")
    if required and not value.strip():
        raise InputError(where, "is required")
    if len(value) > limit:
        raise InputError(where, f"{len(value):,} characters; at most {limit:,}")
    if value != value.strip():
        raise InputError(where, "has leading or trailing spaces")


def _aware(t: datetime | None, where: str) -> None:
    if t is not None and (t.tzinfo is None or t.utcoffset() is None or t.utcoffset().total_seconds() != 0):
        raise InputError(where, "must be a UTC time")
    if t is not None and t.microsecond % 1000:
        raise InputError(where, "STIX times carry milliseconds; round to the millisecond")


def _unlocode(code: str, where: str) -> None:
    if code and not is_unlocode_shape(code):
        raise InputError(where, f"{code!r} is not a UN/LOCODE (country + 3 letters or digits 2-9)")


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code in Scheldt's reference list (``XZ``, UN/LOCODE's
    code for installations in international waters, is not an ISO 3166 country)."""
    return bool(_COUNTRY.match(code)) and code != "XZ" and code in reference.country_names()


def _country(code: str, where: str) -> None:
    if code and not is_country(code):
        raise InputError(where, f"{code!r} is not an ISO 3166-1 alpha-2 country code")


def check_stix_id(value: str, where: str, types: tuple[str, ...] = ()) -> str:
    """A STIX identifier (``type--UUID``), of one of ``types`` when given. Raises InputError."""
    if not isinstance(value, str) or not _STIX_ID.match(value):
        raise InputError(where, f"{value!r} is not a STIX identifier (type--UUID)")
    if types and value.split("--")[0] not in types:
        raise InputError(where, f"{value!r} is not a {' or '.join(types)}")
    return value


def check_container_number(number: str, where: str = "container.number") -> str:
    """An ISO 6346-shaped container number (3-letter owner code, U/J/Z, 7 digits). A wrong
    check digit is accepted: Scheldt keeps such numbers as given and flags them."""
    if not isinstance(number, str) or not _CONTAINER.match(number):
        raise InputError(where, f"{number!r} is not an ISO 6346 container number (e.g. MSCU1234566)")
    return number


def check_meta(meta: Meta, kind: str, main_type: str) -> None:
    """The item's identity and terms: a ``main_type`` STIX id, an identity as creator, times in
    order, sharing terms of ``kind`` (RED with named recipients, AMBER and AMBER+STRICT with a
    sharing group) with a validity that ends after it starts."""
    check_stix_id(meta.stix_id, "id", (main_type,))
    check_stix_id(meta.created_by, "created_by", ("identity",))
    _aware(meta.created, "created")
    _aware(meta.modified, "modified")
    if meta.modified < meta.created:
        raise InputError("modified", "is before created")
    s = meta.sharing
    if s.kind != kind:
        raise InputError("sharing.kind", f"{s.kind!r} on a {kind}")
    if s.tlp == Tlp.RED and not s.recipients:
        raise InputError("recipients", "TLP:RED needs named recipients")
    if s.tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and not s.group:
        raise InputError("sharing_group", f"TLP:{s.tlp.value.upper()} needs a sharing group")
    _aware(s.valid_from, "valid_from")
    _aware(s.valid_until, "valid_until")
    start = s.valid_from or meta.created
    if s.valid_until is not None and s.valid_until <= start:
        raise InputError("valid_until", "must be after the start of validity")
    _text(s.handling_code, "handling_code", 200)


def check_container(c: Container, where: str = "container") -> None:
    """An ISO 6346 number, a 4-character size-type code when given, seal numbers as text."""
    check_container_number(c.number, f"{where}.number")
    if c.size_type and not re.match(r"^[0-9A-Z]{4}$", c.size_type):
        raise InputError(f"{where}.size_type", f"{c.size_type!r} is not an ISO 6346 size-type code (e.g. 45G1)")
    for i, s in enumerate(c.seals):
        _text(s, f"{where}.seals.{i}", 64, required=True)


def check_consignment(c: Consignment, where: str = "consignment") -> None:
    """A document reference, master or house, UN/LOCODE ports, HS codes of 2-10 digits."""
    _text(c.document_ref, f"{where}.document_ref", 128, required=True)
    if c.document_type not in DOCUMENT_TYPES:
        raise InputError(f"{where}.document_type", f"{c.document_type!r} is not master or house")
    _text(c.carrier_code, f"{where}.carrier_code", 16)
    _unlocode(c.port_of_loading, f"{where}.port_of_loading")
    _unlocode(c.port_of_discharge, f"{where}.port_of_discharge")
    for name in ("shipper", "consignee", "notify_party"):
        _text(getattr(c, name), f"{where}.{name}")
    for i, code in enumerate(c.hs_codes):
        if not _HS.match(code):
            raise InputError(f"{where}.hs_codes.{i}", f"{code!r} is not an HS code (2-10 digits)")


def check_vessel_call(v: VesselCall, where: str = "vessel_call") -> None:
    """An IMO number (7 digits) or a vessel name, a UN/LOCODE, a UTC arrival."""
    if not v.imo and not v.vessel_name:
        raise InputError(where, "give the vessel's IMO number or name")
    if v.imo and not _IMO.match(v.imo):
        raise InputError(f"{where}.imo", f"{v.imo!r} is not a 7-digit IMO number")
    _text(v.vessel_name, f"{where}.vessel_name", 200)
    _text(v.voyage, f"{where}.voyage", 64)
    _unlocode(v.unlocode, f"{where}.unlocode")
    _aware(v.arrival, f"{where}.arrival")


def check_party(p: Party, where: str = "party") -> None:
    """A name, company or person, a role, an address and an ISO country code."""
    _text(p.name, f"{where}.name", required=True)
    if p.kind not in PARTY_KINDS:
        raise InputError(f"{where}.kind", f"{p.kind!r} is not company or person")
    _text(p.role, f"{where}.role", 64)
    _text(p.address, f"{where}.address", 1000)
    _country(p.country, f"{where}.country")


def check_alert(a: Alert) -> Alert:
    """An alert with a title, at least one reason and at least one subject. Raises InputError."""
    check_meta(a.meta, "alert", "grouping")
    _text(a.title, "title", 300, required=True)
    if not a.reasons:
        raise InputError("reasons", "an alert needs at least one reason")
    for i, r in enumerate(a.reasons):
        if not _CODE.match(r.code):
            raise InputError(f"reasons.{i}.code", f"{r.code!r}: 1-64 lower-case letters, digits, _ : . -")
        _text(r.text, f"reasons.{i}.text", MAX_TEXT, required=True)
    if a.score is not None and not 0 <= a.score <= 100:
        raise InputError("score", f"{a.score} is not a 0-100 score")
    _text(a.trip, "trip", 300)
    if a.container is None and a.consignment is None and a.vessel_call is None and not a.parties:
        raise InputError("alert", "name a container, consignment, vessel call or party of interest")
    if a.container is not None:
        check_container(a.container)
    if a.consignment is not None:
        check_consignment(a.consignment)
    if a.vessel_call is not None:
        check_vessel_call(a.vessel_call)
    for i, p in enumerate(a.parties):
        check_party(p, f"parties.{i}")
    for i, ref in enumerate(a.related):
        check_stix_id(ref, f"related.{i}")
    return a


def check_watch_entry(w: WatchEntry) -> WatchEntry:
    """A watchlist entry whose fields fit its kind (see :class:`WatchEntry`). Raises InputError."""
    check_meta(w.meta, "watchlist-entry", "indicator")
    if w.kind not in WATCH_KINDS:
        raise InputError("kind", f"{w.kind!r} is not one of {', '.join(WATCH_KINDS)}")
    _text(w.note, "note", MAX_TEXT, required=True)
    _text(w.name, "name", required=w.kind in NAME_KINDS)
    for i, alias in enumerate(w.aliases):
        _text(alias, f"aliases.{i}", required=True)
    _text(w.address, "address", 1000, required=w.kind == "address")
    _country(w.country, "country")
    uses = {"company": {"name", "aliases", "address", "country"}, "person": {"name", "aliases", "address", "country"},
            "address": {"address", "country"}, "container": {"container_number"},
            "seal-range": {"seal_from", "seal_to"}, "route": {"route"}}[w.kind]
    for field in ("name", "aliases", "address", "country", "container_number", "seal_from", "seal_to", "route"):
        if field not in uses and getattr(w, field):
            raise InputError(field, f"a {w.kind} entry does not take {field}")
    if w.kind == "container":
        check_container_number(w.container_number, "container_number")
    if w.kind == "seal-range":
        _check_seal_range(w.seal_from, w.seal_to)
    if w.kind == "route":
        if len(w.route) < 2:
            raise InputError("route", "give at least two UN/LOCODEs, in the order the cargo passes them")
        for i, code in enumerate(w.route):
            if not is_unlocode_shape(code):
                raise InputError(f"route.{i}", f"{code!r} is not a UN/LOCODE")
    return w


def _check_seal_range(lo: str, hi: str) -> None:
    for where, seal in (("seal_from", lo), ("seal_to", hi)):
        _text(seal, where, 64, required=True)
        if seal != seal.upper() or split_seal(seal) is None:
            raise InputError(where, f"{seal!r}: an upper-case seal number ending in digits (e.g. SL000100)")
    (p1, n1), (p2, n2) = split_seal(lo), split_seal(hi)  # type: ignore[misc]
    if p1 != p2:
        raise InputError("seal_to", f"{hi!r} does not share the prefix {p1!r} of {lo!r}")
    if n2 < n1:
        raise InputError("seal_to", f"{hi!r} comes before {lo!r}")


#: Longest seizure method taken (characters): Scheldt's codes are shorter; a partner's own word fits.
MAX_METHOD = 64


def check_seizure(s: Seizure, where: str = "seizure") -> None:
    """A known drug type and concealment, 0 < mass ≤ 100,000 kg, a selection, a UTC time; a
    ``method`` of at most :data:`MAX_METHOD` characters (one of Scheldt's codes, or a partner's
    own word: a regression review's 20,000-character one filled the exchange list)."""
    if s.drug_type not in DRUG_TYPES:
        raise InputError(f"{where}.drug_type", f"{s.drug_type!r} is not one of {', '.join(DRUG_TYPES)}")
    if s.concealment not in CONCEALMENTS:
        raise InputError(f"{where}.concealment", f"{s.concealment!r} is not one of {', '.join(CONCEALMENTS)}")
    if s.selection not in SELECTIONS:
        raise InputError(f"{where}.selection", f"{s.selection!r} is not one of {', '.join(SELECTIONS)}")
    if isinstance(s.mass_kg, bool) or not isinstance(s.mass_kg, int | float) or not 0 < s.mass_kg <= MAX_SEIZURE_KG:
        raise InputError(f"{where}.mass_kg", f"{s.mass_kg!r} is not a mass in kg (0 to {MAX_SEIZURE_KG:,.0f})")
    _aware(s.seized_at, f"{where}.seized_at")
    _unlocode(s.port_of_loading, f"{where}.port_of_loading")
    _country(s.origin_country, f"{where}.origin_country")
    _text(s.description, f"{where}.description", MAX_TEXT)
    _text(s.method, f"{where}.method", MAX_METHOD)


def check_seizure_report(r: SeizureReport) -> SeizureReport:
    """A seizure with its container, consignment and vessel call when known. Raises InputError."""
    check_meta(r.meta, "seizure-report", "scheldt-seizure")
    check_seizure(r.seizure)
    if r.container is not None:
        check_container(r.container)
    if r.consignment is not None:
        check_consignment(r.consignment)
    if r.vessel_call is not None:
        check_vessel_call(r.vessel_call)
    return r


def check_sighting(s: Sighting) -> Sighting:
    """A sighting of an STIX object by at least one identity, with a result. Raises InputError."""
    check_meta(s.meta, "sighting", "sighting")
    check_stix_id(s.alert_id, "alert_id")
    if s.result not in RESULTS:
        raise InputError("result", f"{s.result!r} is not one of {', '.join(RESULTS)}")
    if not s.where_sighted:
        raise InputError("where_sighted", "name the organisation that acted")
    for i, ref in enumerate(s.where_sighted):
        check_stix_id(ref, f"where_sighted.{i}", ("identity",))
    if isinstance(s.count, bool) or not isinstance(s.count, int) or not 0 <= s.count <= 999_999_999:
        raise InputError("count", f"{s.count!r} is not 0 to 999,999,999 (STIX 2.1 sighting count)")
    _aware(s.seen_at, "seen_at")
    _text(s.detail, "detail", MAX_TEXT)
    return s


def check_item(item: Item) -> Item:
    """Check any item by its kind. Raises InputError."""
    checks = {Alert: check_alert, WatchEntry: check_watch_entry, SeizureReport: check_seizure_report,
              Sighting: check_sighting}
    return checks[type(item)](item)  # type: ignore[operator]
