"""Shared items as STIX 2.1 objects, and back, with Scheldt's own extension definitions.

STIX 2.1 (OASIS Standard, 2021) has no container, bill of lading, vessel call or seizure, so
Scheldt defines them as new SDOs through extension definitions (§7.3 Extension Definition,
``extension_types: ["new-sdo"]``), created by :data:`SCHELDT_IDENTITY_ID` with ids derived from
:data:`NAMESPACE`. Type names follow §3.1 (a-z, 0-9 and hyphens, 3-250 characters); they carry
no ``x-`` prefix, which belongs to the deprecated custom-object mechanism (§11.1): an object
defined by an extension declares itself through ``extensions: {<id>: {"extension_type":
"new-sdo"}}``, which is what stix2-validator's ``extensions-use`` check asks for. The
``scheldt-`` prefix keeps the names clear of future STIX types and of other producers' extensions.

============================  ===============================  ======================================
Scheldt                       STIX 2.1                          extension
============================  ===============================  ======================================
container                     ``scheldt-container`` (new SDO)  :data:`CONTAINER_EXTENSION_ID`
consignment / bill of lading  ``scheldt-consignment``          :data:`CONSIGNMENT_EXTENSION_ID`
vessel call                   ``scheldt-vessel-call``          :data:`VESSEL_CALL_EXTENSION_ID`
seizure report                ``scheldt-seizure`` (+ container, consignment, vessel call objects)
alert                         ``grouping`` (context ``suspicious-activity``, §4.6) whose
                              ``object_refs`` name the container, consignment, vessel call and
                              parties (``identity``; country as a ``location`` linked
                              ``located-at``); reasons in ``description`` for people and in the
                              alert property extension :data:`ALERT_EXTENSION_ID` for machines
watchlist entry               ``indicator`` (§4.7: something to look for, with ``valid_from`` /
                              ``valid_until`` for the validity) whose STIX pattern says what to
                              look for over Scheldt's types (a company on a consignment, a
                              container number, a seal range, a route as port calls joined by
                              ``FOLLOWEDBY``); the entry itself in :data:`WATCH_EXTENSION_ID`
sighting / feedback           ``sighting`` (§5.2) of the alert: ``where_sighted_refs`` the acting
                              organisation's identity, ``count``, ``description``, the result as
                              the label ``scheldt-result:<result>``
============================  ===============================  ======================================

Every object carries the item's sharing terms (:func:`scheldt.exchange.objects.with_sharing`:
TLP 2.0 marking ref, handling code, evaluation, sharing group, RED recipients, validity) and
``created_by_ref`` = the originating organisation's identity. The objects of one item other
than its main object get ids derived from the main id (uuid5 over ``<main id>/<role>``), so a
new version of an item versions its parts and two items never share a part.

:func:`from_stix` rebuilds an item and refuses (InputError) objects that would not come back
byte for byte from :func:`to_stix`: STIX → Scheldt → STIX loses nothing, or says what it
would lose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import stix2
from stix2.exceptions import STIXError
from stix2.properties import (
    DictionaryProperty,
    EnumProperty,
    FloatProperty,
    ListProperty,
    ReferenceProperty,
    StringProperty,
    TimestampProperty,
)
from stix2.v21 import CustomExtension, CustomObject

from scheldt.domain.exchange import TLP_BY_MARKING_ID, tlp_marking_definition
from scheldt.errors import InputError
from scheldt.exchange.items import (
    Alert,
    Consignment,
    Container,
    Item,
    Meta,
    Party,
    Reason,
    Seizure,
    SeizureReport,
    Sighting,
    VesselCall,
    WatchEntry,
    check_item,
)
from scheldt.exchange.objects import (
    EXTENSION_CREATED,
    NAMESPACE,
    SCHELDT_IDENTITY_ID,
    identity_id,
    scheldt_identity,
    sharing_extension_definition,
    sharing_of,
    stix_time,
    with_sharing,
)

CONTAINER_TYPE = "scheldt-container"
CONSIGNMENT_TYPE = "scheldt-consignment"
VESSEL_CALL_TYPE = "scheldt-vessel-call"
SEIZURE_TYPE = "scheldt-seizure"


def _extension_id(name: str) -> str:
    return f"extension-definition--{uuid.uuid5(NAMESPACE, name)}"


CONTAINER_EXTENSION_ID = _extension_id("container-1.0")
CONSIGNMENT_EXTENSION_ID = _extension_id("consignment-1.0")
VESSEL_CALL_EXTENSION_ID = _extension_id("vessel-call-1.0")
SEIZURE_EXTENSION_ID = _extension_id("seizure-1.0")
ALERT_EXTENSION_ID = _extension_id("alert-1.0")
WATCH_EXTENSION_ID = _extension_id("watchlist-entry-1.0")
#: Label prefix of a sighting's result.
RESULT_LABEL = "scheldt-result:"
ALERT_CONTEXT = "suspicious-activity"

_DEFINITIONS: dict[str, tuple[str, str, str]] = {
    # id: (name, extension type, description)
    CONTAINER_EXTENSION_ID: ("Scheldt container", "new-sdo",
                             "A freight container (scheldt-container): ISO 6346 number, ISO 6346 size-type code, "
                             "seal numbers on the trip."),
    CONSIGNMENT_EXTENSION_ID: ("Scheldt consignment", "new-sdo",
                               "A consignment under one bill of lading (scheldt-consignment): document number (the B/L "
                               "reference; STIX reserves names ending in _ref for references), "
                               "master or house bill, carrier code (SMDG / SCAC), ports of loading and discharge "
                               "(UN/LOCODE), shipper, consignee and notify party names, HS codes."),
    VESSEL_CALL_EXTENSION_ID: ("Scheldt vessel call", "new-sdo",
                               "A vessel's call at a port (scheldt-vessel-call): IMO number, vessel name, voyage, "
                               "UN/LOCODE, arrival time (UTC)."),
    SEIZURE_EXTENSION_ID: ("Scheldt seizure", "new-sdo",
                           "A drug seizure (scheldt-seizure): drug type, mass in kg, concealment, how the container "
                           "was selected (risk, exploration, manual), when, port of loading, origin country, and "
                           "the container, consignment and vessel call it was found with."),
    ALERT_EXTENSION_ID: ("Scheldt alert", "property-extension",
                         "On a grouping that is a Scheldt alert: its reasons (code and the officer's words), the "
                         "0-100 risk score and the container trip it is about."),
    WATCH_EXTENSION_ID: ("Scheldt watchlist entry", "property-extension",
                         "On an indicator that is a Scheldt watchlist entry: what it looks for (company, person, "
                         "address, container, seal range, route) and the values, as the pattern states them."),
}


# --- stix2 registrations: the library parses and checks these types and extensions -------------

@CustomObject(CONTAINER_TYPE, [
    ("number", StringProperty(required=True)),
    ("size_type", StringProperty()),
    ("seals", ListProperty(StringProperty)),
], extension_name=CONTAINER_EXTENSION_ID)
class ContainerSDO:
    """stix2 class of ``scheldt-container``."""


@CustomObject(CONSIGNMENT_TYPE, [
    ("document_number", StringProperty(required=True)),
    ("document_type", EnumProperty(["master", "house"], required=True)),
    ("carrier_code", StringProperty()),
    ("port_of_loading", StringProperty()),
    ("port_of_discharge", StringProperty()),
    ("shipper", StringProperty()),
    ("consignee", StringProperty()),
    ("notify_party", StringProperty()),
    ("hs_codes", ListProperty(StringProperty)),
], extension_name=CONSIGNMENT_EXTENSION_ID)
class ConsignmentSDO:
    """stix2 class of ``scheldt-consignment``."""


@CustomObject(VESSEL_CALL_TYPE, [
    ("imo", StringProperty()),
    ("vessel_name", StringProperty()),
    ("voyage", StringProperty()),
    ("unlocode", StringProperty()),
    ("arrival", TimestampProperty(precision="millisecond", precision_constraint="min")),
], extension_name=VESSEL_CALL_EXTENSION_ID)
class VesselCallSDO:
    """stix2 class of ``scheldt-vessel-call``."""


@CustomObject(SEIZURE_TYPE, [
    ("drug_type", StringProperty(required=True)),
    ("mass_kg", FloatProperty(required=True, min=0)),
    ("concealment", StringProperty(required=True)),
    ("selection", EnumProperty(["risk", "exploration", "manual"], required=True)),
    ("seized_at", TimestampProperty(required=True, precision="millisecond", precision_constraint="min")),
    ("port_of_loading", StringProperty()),
    ("origin_country", StringProperty()),
    ("description", StringProperty()),
    ("method", StringProperty()),
    ("seals_found", ListProperty(StringProperty)),
    ("container_ref", ReferenceProperty(valid_types=[CONTAINER_TYPE], spec_version="2.1")),
    ("consignment_ref", ReferenceProperty(valid_types=[CONSIGNMENT_TYPE], spec_version="2.1")),
    ("vessel_call_ref", ReferenceProperty(valid_types=[VESSEL_CALL_TYPE], spec_version="2.1")),
], extension_name=SEIZURE_EXTENSION_ID)
class SeizureSDO:
    """stix2 class of ``scheldt-seizure``."""


@CustomExtension(ALERT_EXTENSION_ID, [
    ("reasons", ListProperty(DictionaryProperty(spec_version="2.1"), required=True)),
    ("score", FloatProperty(min=0, max=100)),
    ("trip", StringProperty()),
])
class AlertExtension:
    """stix2 class of the alert property extension."""

    extension_type = "property-extension"


@CustomExtension(WATCH_EXTENSION_ID, [
    ("entry_kind", EnumProperty(["company", "person", "address", "container", "seal-range", "route"], required=True)),
    ("name", StringProperty()),
    ("aliases", ListProperty(StringProperty)),
    ("address", StringProperty()),
    ("country", StringProperty()),
    ("container_number", StringProperty()),
    ("seal_from", StringProperty()),
    ("seal_to", StringProperty()),
    ("route", ListProperty(StringProperty)),
])
class WatchExtension:
    """stix2 class of the watchlist-entry property extension."""

    extension_type = "property-extension"


# --- definitions ---------------------------------------------------------------------------------

def extension_definitions() -> list[dict[str, Any]]:
    """Scheldt's extension-definition objects (§7.3), the sharing one first."""
    out = [sharing_extension_definition()]
    for ext_id, (name, ext_type, description) in _DEFINITIONS.items():
        anchor = name.lower().replace("scheldt ", "").replace(" ", "-")
        out.append({"type": "extension-definition", "spec_version": "2.1", "id": ext_id,
                    "created_by_ref": SCHELDT_IDENTITY_ID, "created": EXTENSION_CREATED, "modified": EXTENSION_CREATED,
                    "name": name, "description": description, "version": "1.0.0", "extension_types": [ext_type],
                    "schema": f"Scheldt docs/stix-extensions.md#{anchor} (properties: module "
                              f"scheldt.exchange.stix_mapping)"})
    return out


def organisation_identity(org_id: str, name: str = "") -> dict[str, Any]:
    """The STIX identity of a Scheldt organisation (the same id on every node: ``identity_id``),
    naming the organisation id in an external reference."""
    return {"type": "identity", "spec_version": "2.1", "id": identity_id(org_id), "created": EXTENSION_CREATED,
            "modified": EXTENSION_CREATED, "name": name or org_id, "identity_class": "organization",
            "external_references": [{"source_name": "scheldt-organisation", "external_id": org_id}]}


def bundle(objects: Iterable[dict[str, Any]], organisations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A STIX bundle of ``objects`` with what a reader needs to resolve them: the OASIS TLP 2.0
    marking definitions they use, Scheldt's identity and extension definitions, and the
    identities of ``organisations`` (id → name) they name as creator or sighter."""
    objs = list(objects)
    refs = [ref for o in objs for ref in o.get("object_marking_refs") or []]
    refs += [g.get("marking_ref") for o in objs for g in o.get("granular_markings") or [] if isinstance(g, dict)]
    used = {ref.lower() for ref in refs if isinstance(ref, str) and ref.lower() in TLP_BY_MARKING_ID}
    named = {o.get("created_by_ref") for o in objs} | {r for o in objs for r in o.get("where_sighted_refs") or []}
    head: list[dict[str, Any]] = [tlp_marking_definition(TLP_BY_MARKING_ID[ref]) for ref in sorted(used)]
    head += [scheldt_identity(), *extension_definitions()]
    head += [organisation_identity(org, name) for org, name in sorted((organisations or {}).items())
             if identity_id(org) in named]
    seen = {o["id"] for o in objs}
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [o for o in head if o["id"] not in seen] + objs}


# --- building blocks -----------------------------------------------------------------------------

def part_id(main_id: str, stix_type: str, role: str) -> str:
    """The id of an item's part: ``<stix_type>--uuid5(NAMESPACE, "<main id>/<role>")``."""
    return f"{stix_type}--{uuid.uuid5(NAMESPACE, f'{main_id}/{role}')}"


def part_ids(main_id: str, main: dict[str, Any]) -> set[str]:
    """The ids an item's parts may have (:func:`part_id`), its main object being ``main`` (a
    STIX object): its container, consignment and vessel call, and identity, location and
    relationship of each party (at most one per reference of the main object)."""
    named = main.get("object_refs") if isinstance(main, dict) else None
    refs = (len(named) if isinstance(named, list) else 0) + 1
    ids = {part_id(main_id, t, role) for t, role in ((CONTAINER_TYPE, "container"), (CONSIGNMENT_TYPE, "consignment"),
                                                     (VESSEL_CALL_TYPE, "vessel-call"))}
    return ids | {part_id(main_id, t, f"party:{i}") for t in ("identity", "location", "relationship")
                  for i in range(refs)}


def _base(meta: Meta, stix_type: str, stix_id: str) -> dict[str, Any]:
    return {"type": stix_type, "spec_version": "2.1", "id": stix_id, "created_by_ref": meta.created_by,
            "created": stix_time(meta.created), "modified": stix_time(meta.modified)}


def _seals_found(value: Any) -> tuple[str, ...]:
    """A received report's ``seals_found`` (a list of seal numbers), at most 20 of 64 characters
    each, as a partner sent them; () for anything else."""
    return tuple(str(n)[:64] for n in value[:20]) if isinstance(value, list) else ()


def _put(obj: dict[str, Any], **values: Any) -> dict[str, Any]:
    """Set the values that are given (STIX omits optional properties rather than leaving them empty)."""
    for k, v in values.items():
        if v is not None and v != "" and v != () and v != []:
            obj[k] = list(v) if isinstance(v, tuple) else v
    return obj


def _finish(obj: dict[str, Any], meta: Meta) -> dict[str, Any]:
    """The object with the item's sharing terms (checked by :func:`to_stix`)."""
    return with_sharing(obj, meta.sharing)


def _check_stix(obj: dict[str, Any]) -> None:
    """Raise InputError unless the stix2 library takes ``obj`` as STIX 2.1 (no custom content)."""
    try:
        stix2.parse(obj, allow_custom=False, version="2.1")
    except (STIXError, ValueError, TypeError) as exc:
        raise InputError(obj["id"], f"not valid STIX 2.1: {exc}") from None


def _new_sdo(obj: dict[str, Any], ext_id: str) -> dict[str, Any]:
    obj["extensions"] = {ext_id: {"extension_type": "new-sdo"}}
    return obj


def _container(meta: Meta, c: Container) -> dict[str, Any]:
    obj = _base(meta, CONTAINER_TYPE, part_id(meta.stix_id, CONTAINER_TYPE, "container"))
    return _new_sdo(_put(obj, number=c.number, size_type=c.size_type, seals=c.seals), CONTAINER_EXTENSION_ID)


def _consignment(meta: Meta, c: Consignment) -> dict[str, Any]:
    obj = _base(meta, CONSIGNMENT_TYPE, part_id(meta.stix_id, CONSIGNMENT_TYPE, "consignment"))
    _put(obj, document_number=c.document_ref, document_type=c.document_type, carrier_code=c.carrier_code,
         port_of_loading=c.port_of_loading, port_of_discharge=c.port_of_discharge, shipper=c.shipper,
         consignee=c.consignee, notify_party=c.notify_party, hs_codes=c.hs_codes)
    return _new_sdo(obj, CONSIGNMENT_EXTENSION_ID)


def _vessel_call(meta: Meta, v: VesselCall) -> dict[str, Any]:
    obj = _base(meta, VESSEL_CALL_TYPE, part_id(meta.stix_id, VESSEL_CALL_TYPE, "vessel-call"))
    _put(obj, imo=v.imo, vessel_name=v.vessel_name, voyage=v.voyage, unlocode=v.unlocode,
         arrival=stix_time(v.arrival) if v.arrival else None)
    return _new_sdo(obj, VESSEL_CALL_EXTENSION_ID)


def _party(meta: Meta, p: Party, i: int) -> list[dict[str, Any]]:
    """The party's identity and, with a country, a location it is ``located-at``."""
    ident = _base(meta, "identity", part_id(meta.stix_id, "identity", f"party:{i}"))
    _put(ident, name=p.name, identity_class="organization" if p.kind == "company" else "individual",
         roles=(p.role,) if p.role else None, contact_information=p.address)
    if not p.country:
        return [ident]
    loc = _base(meta, "location", part_id(meta.stix_id, "location", f"party:{i}"))
    loc["country"] = p.country
    rel = _base(meta, "relationship", part_id(meta.stix_id, "relationship", f"party:{i}"))
    rel.update(relationship_type="located-at", source_ref=ident["id"], target_ref=loc["id"])
    return [ident, loc, rel]


def _parts(meta: Meta, container: Container | None, consignment: Consignment | None,
           vessel_call: VesselCall | None) -> list[dict[str, Any]]:
    out = []
    if container is not None:
        out.append(_container(meta, container))
    if consignment is not None:
        out.append(_consignment(meta, consignment))
    if vessel_call is not None:
        out.append(_vessel_call(meta, vessel_call))
    return out


def alert_description(a: Alert) -> str:
    """The alert's reasons (and score) in words, one reason a line."""
    lines = [f"- {r.text} ({r.code})" for r in a.reasons]
    if a.score is not None:
        lines.append(f"Risk score: {a.score:g} of 100")
    return "Reasons:\n" + "\n".join(lines)


def quote(text: str) -> str:
    """A STIX pattern string literal (STIX Patterning §9.2: backslash escapes ' and \\)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def watch_pattern(w: WatchEntry) -> str:
    """The STIX pattern saying what a watchlist entry looks for (see the module docstring)."""
    if w.kind in ("company", "person"):
        names = [w.name, *w.aliases]
        return "[" + " OR ".join(f"{CONSIGNMENT_TYPE}:{role} = {quote(n)}" for n in names
                                 for role in ("shipper", "consignee", "notify_party")) + "]"
    if w.kind == "address":
        return f"[location:street_address = {quote(w.address)}]"
    if w.kind == "container":
        return f"[{CONTAINER_TYPE}:number = {quote(w.container_number)}]"
    if w.kind == "seal-range":
        return (f"[{CONTAINER_TYPE}:seals[*] >= {quote(w.seal_from)} AND "
                f"{CONTAINER_TYPE}:seals[*] <= {quote(w.seal_to)}]")
    return " FOLLOWEDBY ".join(f"[{VESSEL_CALL_TYPE}:unlocode = {quote(code)}]" for code in w.route)


def watch_label(w: WatchEntry) -> str:
    """What a watchlist entry looks for, in a few words (``container MSCU1234566``)."""
    value = {"company": w.name, "person": w.name, "address": w.address, "container": w.container_number,
             "seal-range": f"{w.seal_from} to {w.seal_to}", "route": " > ".join(w.route)}[w.kind]
    return f"{w.kind} {value}"


# --- to STIX ---------------------------------------------------------------------------------------

def alert_to_stix(a: Alert) -> list[dict[str, Any]]:
    """An alert as a grouping and its parts (main object first). Raises InputError for an
    invalid alert."""
    m = a.meta
    parts = _parts(m, a.container, a.consignment, a.vessel_call)
    refs = [p["id"] for p in parts]
    for i, p in enumerate(a.parties):
        objs = _party(m, p, i)
        refs.append(objs[0]["id"])
        parts += objs
    main = _base(m, "grouping", m.stix_id)
    main.update(name=a.title, description=alert_description(a), context=ALERT_CONTEXT, object_refs=refs + list(a.related))
    main["extensions"] = {ALERT_EXTENSION_ID: _put({"extension_type": "property-extension",
                                                    "reasons": [{"code": r.code, "text": r.text} for r in a.reasons]},
                                                   score=a.score, trip=a.trip)}
    return [_finish(o, m) for o in (main, *parts)]


def watch_to_stix(w: WatchEntry) -> list[dict[str, Any]]:
    """A watchlist entry as an indicator."""
    m = w.meta
    main = _base(m, "indicator", m.stix_id)
    main.update(name=f"Watchlist {watch_label(w)}", description=w.note, pattern=watch_pattern(w), pattern_type="stix",
                pattern_version="2.1", valid_from=stix_time(m.sharing.valid_from or m.created))
    _put(main, valid_until=stix_time(m.sharing.valid_until) if m.sharing.valid_until else None)
    main["extensions"] = {WATCH_EXTENSION_ID: _put(
        {"extension_type": "property-extension", "entry_kind": w.kind}, name=w.name, aliases=w.aliases,
        address=w.address, country=w.country, container_number=w.container_number, seal_from=w.seal_from,
        seal_to=w.seal_to, route=w.route)}
    return [_finish(main, m)]


def seizure_to_stix(r: SeizureReport) -> list[dict[str, Any]]:
    """A seizure report as a ``scheldt-seizure`` and the objects it refers to."""
    m, s = r.meta, r.seizure
    parts = _parts(m, r.container, r.consignment, r.vessel_call)
    by_type = {p["type"]: p["id"] for p in parts}
    main = _base(m, SEIZURE_TYPE, m.stix_id)
    _put(main, drug_type=s.drug_type, mass_kg=float(s.mass_kg), concealment=s.concealment, selection=s.selection,
         seized_at=stix_time(s.seized_at), port_of_loading=s.port_of_loading, origin_country=s.origin_country,
         description=s.description, method=s.method, seals_found=s.seals_found,
         container_ref=by_type.get(CONTAINER_TYPE),
         consignment_ref=by_type.get(CONSIGNMENT_TYPE), vessel_call_ref=by_type.get(VESSEL_CALL_TYPE))
    return [_finish(o, m) for o in (_new_sdo(main, SEIZURE_EXTENSION_ID), *parts)]


def sighting_to_stix(s: Sighting) -> list[dict[str, Any]]:
    """A sighting of an alert by the organisation that acted on it."""
    m = s.meta
    main = _base(m, "sighting", m.stix_id)
    main.update(sighting_of_ref=s.alert_id, where_sighted_refs=list(s.where_sighted), count=s.count,
                first_seen=stix_time(s.seen_at), last_seen=stix_time(s.seen_at), labels=[RESULT_LABEL + s.result])
    _put(main, description=s.detail)
    return [_finish(main, m)]


def to_stix(item: Item, *, check: bool = True) -> list[dict[str, Any]]:
    """Any item as STIX 2.1 objects (dicts), its main object first, each checked by the stix2
    library (``check``). Raises InputError when the item does not pass
    :func:`scheldt.exchange.items.check_item` or an object is not valid STIX 2.1."""
    check_item(item)
    build = {Alert: alert_to_stix, WatchEntry: watch_to_stix, SeizureReport: seizure_to_stix,
             Sighting: sighting_to_stix}[type(item)]
    objects: list[dict[str, Any]] = build(item)  # type: ignore[operator]
    if check:
        for obj in objects:
            _check_stix(obj)
    return objects


# --- from STIX -------------------------------------------------------------------------------------

def _time(value: Any, where: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(where, f"{value!r} is not a STIX timestamp") from None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _meta(obj: dict[str, Any], default_group: str | None) -> Meta:
    where = str(obj.get("id", "object"))
    if not obj.get("created_by_ref"):
        raise InputError(f"{where}.created_by_ref", "a shared item names the organisation that made it")
    return Meta(where, obj["created_by_ref"], _time(obj.get("created"), f"{where}.created"),
                _time(obj.get("modified"), f"{where}.modified"), sharing_of(obj, default_group, where))


def _part(objects: Mapping[str, dict[str, Any]], ref: str, where: str) -> dict[str, Any]:
    if ref not in objects:
        raise InputError(where, f"refers to {ref}, which is not among the objects given")
    return objects[ref]


def _strs(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in obj.get(key) or ())


def _read_container(o: dict[str, Any]) -> Container:
    return Container(o.get("number", ""), o.get("size_type", ""), _strs(o, "seals"))


def _read_consignment(o: dict[str, Any]) -> Consignment:
    return Consignment(o.get("document_number", ""), o.get("document_type", ""), o.get("carrier_code", ""),
                       o.get("port_of_loading", ""), o.get("port_of_discharge", ""), o.get("shipper", ""),
                       o.get("consignee", ""), o.get("notify_party", ""), _strs(o, "hs_codes"))


def _read_vessel_call(o: dict[str, Any]) -> VesselCall:
    arrival = _time(o["arrival"], f"{o['id']}.arrival") if o.get("arrival") else None
    return VesselCall(o.get("imo", ""), o.get("vessel_name", ""), o.get("voyage", ""), o.get("unlocode", ""), arrival)


def _read_party(objects: Mapping[str, dict[str, Any]], main_id: str, ident: dict[str, Any], i: int) -> Party:
    loc = objects.get(part_id(main_id, "location", f"party:{i}"))
    roles = _strs(ident, "roles")
    return Party(ident.get("name", ""), "company" if ident.get("identity_class") == "organization" else "person",
                 roles[0] if roles else "", ident.get("contact_information", ""), loc.get("country", "") if loc else "")


def _subjects(objects: Mapping[str, dict[str, Any]], main_id: str, refs: Iterable[str]) -> dict[str, Any]:
    """The container, consignment, vessel call and parties among an item's refs; the other refs
    as ``related``."""
    found: dict[str, Any] = {"container": None, "consignment": None, "vessel_call": None, "parties": [], "related": []}
    readers = {part_id(main_id, CONTAINER_TYPE, "container"): ("container", _read_container),
               part_id(main_id, CONSIGNMENT_TYPE, "consignment"): ("consignment", _read_consignment),
               part_id(main_id, VESSEL_CALL_TYPE, "vessel-call"): ("vessel_call", _read_vessel_call)}
    for ref in refs:
        if ref in readers:
            name, read = readers[ref]
            found[name] = read(_part(objects, ref, main_id))
        elif ref == part_id(main_id, "identity", f"party:{len(found['parties'])}"):
            i = len(found["parties"])
            found["parties"].append(_read_party(objects, main_id, _part(objects, ref, main_id), i))
        else:
            found["related"].append(ref)
    return found


def alert_from_stix(main: dict[str, Any], objects: Mapping[str, dict[str, Any]], default_group: str | None = None) -> Alert:
    """The alert a Scheldt grouping stands for. Raises InputError for a grouping without
    Scheldt's alert extension or with parts missing."""
    ext = (main.get("extensions") or {}).get(ALERT_EXTENSION_ID)
    if main.get("type") != "grouping" or not isinstance(ext, dict):
        raise InputError(str(main.get("id")), "not a Scheldt alert (a grouping with the alert extension)")
    found = _subjects(objects, main["id"], main.get("object_refs") or [])
    reasons = tuple(Reason(str(r.get("code", "")), str(r.get("text", ""))) for r in ext.get("reasons") or [])
    return Alert(_meta(main, default_group), main.get("name", ""), reasons, ext.get("score"), ext.get("trip", ""),
                 found["container"], found["consignment"], found["vessel_call"], tuple(found["parties"]),
                 tuple(found["related"]))


def watch_from_stix(main: dict[str, Any], default_group: str | None = None) -> WatchEntry:
    """The watchlist entry a Scheldt indicator stands for. Raises InputError."""
    ext = (main.get("extensions") or {}).get(WATCH_EXTENSION_ID)
    if main.get("type") != "indicator" or not isinstance(ext, dict):
        raise InputError(str(main.get("id")), "not a Scheldt watchlist entry (an indicator with the entry extension)")
    return WatchEntry(_meta(main, default_group), str(ext.get("entry_kind", "")), main.get("description", ""),
                      ext.get("name", ""), _strs(ext, "aliases"), ext.get("address", ""), ext.get("country", ""),
                      ext.get("container_number", ""), ext.get("seal_from", ""), ext.get("seal_to", ""),
                      _strs(ext, "route"))


def seizure_from_stix(main: dict[str, Any], objects: Mapping[str, dict[str, Any]],
                      default_group: str | None = None) -> SeizureReport:
    """The seizure report a ``scheldt-seizure`` and its parts stand for. Raises InputError."""
    if main.get("type") != SEIZURE_TYPE:
        raise InputError(str(main.get("id")), f"not a {SEIZURE_TYPE}")
    where = main["id"]
    found = _subjects(objects, where, [main[k] for k in ("container_ref", "consignment_ref", "vessel_call_ref")
                                       if main.get(k)])
    seizure = Seizure(main.get("drug_type", ""), main.get("mass_kg", 0), main.get("concealment", ""),
                      main.get("selection", ""), _time(main.get("seized_at"), f"{where}.seized_at"),
                      main.get("port_of_loading", ""), main.get("origin_country", ""), main.get("description", ""),
                      main.get("method", ""), _seals_found(main.get("seals_found")))
    if found["related"]:
        raise InputError(where, f"refers to {found['related'][0]}, which is not one of its own parts")
    return SeizureReport(_meta(main, default_group), seizure, found["container"], found["consignment"],
                         found["vessel_call"])


def sighting_from_stix(main: dict[str, Any], default_group: str | None = None) -> Sighting:
    """The feedback a Scheldt sighting stands for (its result in a ``scheldt-result:`` label)."""
    where = str(main.get("id"))
    results = [lab[len(RESULT_LABEL):] for lab in main.get("labels") or [] if str(lab).startswith(RESULT_LABEL)]
    if main.get("type") != "sighting" or len(results) != 1:
        raise InputError(where, f"not a Scheldt sighting (a sighting with one {RESULT_LABEL} label)")
    return Sighting(_meta(main, default_group), main.get("sighting_of_ref", ""), results[0],
                    _time(main.get("first_seen"), f"{where}.first_seen"), _strs(main, "where_sighted_refs"),
                    main.get("count", 1), main.get("description", ""))


def _latest(objects: Iterable[Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for o in objects:
        if isinstance(o, dict) and isinstance(o.get("id"), str):
            known = out.get(o["id"])
            if known is None or str(o.get("modified", "")) > str(known.get("modified", "")):
                out[o["id"]] = o
    return out


def item_kind(obj: dict[str, Any]) -> str | None:
    """The item kind a main STIX object stands for (alert, watchlist-entry, seizure-report,
    sighting), or None for any other object (an item's part, a foreign object)."""
    ext = obj.get("extensions") or {}
    if obj.get("type") == "grouping" and ALERT_EXTENSION_ID in ext:
        return "alert"
    if obj.get("type") == "indicator" and WATCH_EXTENSION_ID in ext:
        return "watchlist-entry"
    if obj.get("type") == SEIZURE_TYPE:
        return "seizure-report"
    if obj.get("type") == "sighting" and any(str(lab).startswith(RESULT_LABEL) for lab in obj.get("labels") or []):
        return "sighting"
    return None


def from_stix(objects: Iterable[Any], stix_id: str | None = None, default_group: str | None = None) -> Item:
    """The item whose main object is ``stix_id`` (or the only main object among ``objects``),
    rebuilt from it and its parts (the latest version of each id given). ``default_group``:
    the sharing group of objects that name none (as :func:`scheldt.exchange.objects.sharing_of`).

    Raises InputError when there is no such object, when a part is missing, when the item does
    not pass its checks, or when the objects hold anything the item would not give back
    (a STIX → Scheldt → STIX round trip must lose nothing)."""
    by_id = _latest(objects)
    if stix_id is None:
        mains = [i for i, o in by_id.items() if item_kind(o)]
        if len(mains) != 1:
            raise InputError("objects", f"{len(mains)} Scheldt items among the objects; name the one to read")
        stix_id = mains[0]
    main = by_id.get(stix_id)
    if main is None:
        raise InputError(stix_id, "not among the objects given")
    kind = item_kind(main)
    readers = {"alert": lambda: alert_from_stix(main, by_id, default_group),
               "watchlist-entry": lambda: watch_from_stix(main, default_group),
               "seizure-report": lambda: seizure_from_stix(main, by_id, default_group),
               "sighting": lambda: sighting_from_stix(main, default_group)}
    if kind is None:
        raise InputError(stix_id, "not a Scheldt alert, watchlist entry, seizure report or sighting")
    item = readers[kind]()
    check_item(item)
    # The rebuilt objects must equal the given ones (_same), so the stix2 library would judge
    # them as it judges the given ones: no second check here (callers read stored objects,
    # which the library checked on receipt; it is most of the cost of landing an entry).
    _same(to_stix(item, check=False), by_id)
    return item


def _same(rebuilt: list[dict[str, Any]], given: Mapping[str, dict[str, Any]]) -> None:
    """Raise InputError naming the first object and property that would not come back as given."""
    for obj in rebuilt:
        original = given.get(obj["id"])
        if original is None:
            raise InputError(obj["id"], "part of the item, but not among the objects given")
        if original == obj:
            continue
        for key in sorted(set(obj) | set(original)):
            if obj.get(key) != original.get(key):
                raise InputError(f"{obj['id']}.{key}", "holds what a Scheldt item does not keep; it would be lost")


def items_in(objects: Iterable[Any], default_group: str | None = None) -> tuple[list[Item], list[tuple[str, str]]]:
    """Every Scheldt item among ``objects`` (latest versions), and (id, why) for main objects
    that could not be read."""
    by_id = _latest(objects)
    items: list[Item] = []
    failed: list[tuple[str, str]] = []
    for stix_id, obj in by_id.items():
        if item_kind(obj) is None:
            continue
        try:
            items.append(from_stix(by_id.values(), stix_id, default_group))
        except InputError as exc:
            failed.append((stix_id, f"{exc.where}: {exc.why}"))
    return items, failed
