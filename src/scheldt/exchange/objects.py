"""How sharing rules travel with a STIX 2.1 object, and how a stored object is served.

TLP travels as ``object_marking_refs`` to the OASIS TLP 2.0 marking definitions (per field:
``granular_markings`` with selectors). The rest travels in Scheldt's *sharing* property
extension (an STIX 2.1 extension-definition, :func:`sharing_extension_definition`):

    "extensions": {SHARING_EXTENSION_ID: {"extension_type": "property-extension",
        "kind": "alert", "handling_code": "H2", "reliability": "B", "credibility": "2",
        "sharing_group": "be-us-narcotics", "recipients": ["us-cbp/liaison"],
        "valid_from": "2026-03-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z"}}

An object without Scheldt's extension (from medallion, MISP, another tool) is stored with the
collection's sharing group, evaluation X/4 and the strictest TLP of its markings, or
AMBER+STRICT when it has none (nothing is shared wider than its sender said). A TLP:GREEN or
CLEAR object takes no collection's group: those markings reach the whole community, which is
where this node keeps them (one naming a group is refused by
:func:`scheldt.workflows.sharing.ingest_objects`).
"""

from __future__ import annotations

import copy
import functools
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scheldt.domain.exchange import (
    CREDIBILITY,
    ITEM_KINDS,
    RELIABILITY,
    TLP_BY_MARKING_ID,
    TLP_EXTENSION,
    TLP_MARKING_IDS,
    TLP_ORDER,
    Audience,
    Requester,
    Tlp,
    may_see,
    stix_timestamp,
    strictest,
    tlp_marking_definition,
)
from scheldt.errors import InputError

#: Namespace of Scheldt's deterministic STIX ids (uuid5).
NAMESPACE = uuid.UUID("3f0b7c2e-5a41-4c55-9d53-2f4f1b1c9a10")
SCHELDT_IDENTITY_ID = f"identity--{uuid.uuid5(NAMESPACE, 'scheldt-project')}"
SHARING_EXTENSION_ID = f"extension-definition--{uuid.uuid5(NAMESPACE, 'sharing-1.0')}"
EXTENSION_CREATED = "2026-11-30T00:00:00.000Z"
DEFAULT_TLP = Tlp.AMBER_STRICT
#: The markings that reach the whole community, never one sharing group.
COMMUNITY_TLPS = frozenset({Tlp.CLEAR, Tlp.GREEN})


@functools.lru_cache(maxsize=4096)
def identity_id(org_id: str) -> str:
    """The STIX identity id standing for a Scheldt organisation (the same on every node);
    remembered, as a TAXII envelope asks it for each of its objects."""
    return f"identity--{uuid.uuid5(NAMESPACE, 'organisation:' + org_id)}"


def scheldt_identity() -> dict[str, Any]:
    """The identity object that created Scheldt's extension definitions."""
    return {"type": "identity", "spec_version": "2.1", "id": SCHELDT_IDENTITY_ID, "created": EXTENSION_CREATED,
            "modified": EXTENSION_CREATED, "name": "Scheldt", "identity_class": "system"}


def sharing_extension_definition() -> dict[str, Any]:
    """The extension-definition of Scheldt's sharing property extension (see module docstring)."""
    return {"type": "extension-definition", "spec_version": "2.1", "id": SHARING_EXTENSION_ID,
            "created_by_ref": SCHELDT_IDENTITY_ID, "created": EXTENSION_CREATED, "modified": EXTENSION_CREATED,
            "name": "Scheldt sharing", "version": "1.0.0", "extension_types": ["property-extension"],
            "description": "Handling code, source reliability (A/B/C/X) and information credibility (1-4), "
                           "sharing group, TLP:RED named recipients (organisation/user) and validity period "
                           "of an object shared between law-enforcement agencies.",
            "schema": "Scheldt docs/stix-extensions.md#sharing (properties: kind, handling_code, reliability, "
                      "credibility, sharing_group, recipients, valid_from, valid_until)"}


@dataclass(frozen=True, slots=True)
class Sharing:
    """The sharing terms of one object version (times UTC)."""

    kind: str
    tlp: Tlp
    group: str | None
    handling_code: str = ""
    reliability: str = "X"
    credibility: str = "4"
    recipients: tuple[tuple[str, str], ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None


#: Longest sharing group id, organisation id and username a sharing extension may name (the
#: store's columns).
NAME_MAX = 64


def _time(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InputError(where, f"{str(value)[:40]!r} is not an ISO 8601 time (UTC from 0001 to 9999)") from None


def _name(value: Any) -> bool:
    """Whether ``value`` may name a sharing group, organisation or user: a printable string of
    1 to :data:`NAME_MAX` characters."""
    return isinstance(value, str) and 0 < len(value) <= NAME_MAX and value.isprintable()


def stix_time(t: datetime) -> str:
    """A STIX timestamp (UTC, millisecond precision, ``Z``)."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.astimezone(UTC).microsecond // 1000:03d}Z"


def tlp_level(ref: object) -> Tlp | None:
    """The TLP level a marking definition id stands for (TLP 2.0, or TLP 1.0 read as
    :data:`TLP1_LEVELS`), whatever the case of its UUID's letters (RFC 4122: read without regard
    to case; the stix2 library takes either), or None for another marking. A sharing review's
    TLP:RED marking written in capitals was no TLP: a field under it was served to the whole
    group, and an object marked with it taken as the default AMBER+STRICT."""
    if not isinstance(ref, str):
        return None
    key = ref.lower()
    return TLP_BY_MARKING_ID.get(key) or TLP1_LEVELS.get(key)


def tlp_of(obj: dict[str, Any]) -> Tlp | None:
    """The strictest TLP level in ``object_marking_refs``, or None without one: TLP 2.0 marking
    definitions, and STIX 2.1's TLP 1.0 ones (:data:`TLP1_LEVELS`, what the stix2 library's
    TLP_RED ... constants write) at the 2.0 level of the same name. A federation review's
    object marked TLP 1.0 RED beside TLP 2.0 CLEAR was served to a shipping terminal as CLEAR,
    and one marked TLP 1.0 RED alone was taken as the default AMBER+STRICT."""
    levels = [level for ref in obj.get("object_marking_refs") or []
              if (level := tlp_level(ref)) is not None]
    return strictest(levels) if levels else None


def sharing_of(obj: dict[str, Any], default_group: str | None, where: str = "object") -> Sharing:
    """The sharing terms an object carries (see the module docstring for the defaults).
    Raises InputError naming the property when a value is invalid."""
    extensions = obj.get("extensions") or {}
    ext = (extensions.get(SHARING_EXTENSION_ID) if isinstance(extensions, dict) else None) or {}
    if not isinstance(extensions, dict) or not isinstance(ext, dict):
        raise InputError(f"{where}.extensions", "Scheldt's sharing extension must be an object of sharing terms")
    kind = ext.get("kind") or ("sighting" if obj.get("type") == "sighting" else "other")
    if kind not in (*ITEM_KINDS, "other"):
        raise InputError(f"{where}.extensions.kind", f"{kind!r} is not one of {', '.join(ITEM_KINDS)}")
    reliability, credibility = str(ext.get("reliability", "X")), str(ext.get("credibility", "4"))
    if reliability not in RELIABILITY:
        raise InputError(f"{where}.extensions.reliability", f"{reliability!r} is not one of {', '.join(RELIABILITY)}")
    if credibility not in CREDIBILITY:
        raise InputError(f"{where}.extensions.credibility", f"{credibility!r} is not one of {', '.join(CREDIBILITY)}")
    recipients = []
    named = ext.get("recipients") or []
    if not isinstance(named, list):
        raise InputError(f"{where}.extensions.recipients", "give a list of organisation/username")
    for i, text in enumerate(named):
        org, sep, user = str(text).partition("/")
        if not sep or not _name(org) or not _name(user):
            raise InputError(f"{where}.extensions.recipients.{i}", f"{str(text)[:140]!r} is not organisation/username "
                             f"(each at most {NAME_MAX} printable characters)")
        recipients.append((org, user))
    tlp = tlp_of(obj) or DEFAULT_TLP
    if tlp == Tlp.RED and not recipients:
        raise InputError(f"{where}.object_marking_refs", "TLP:RED needs named recipients (extensions.recipients)")
    _check_granular(obj, tlp, where)
    # GREEN and CLEAR are the community's: a collection's or a peer's group is not theirs
    group = ext.get("sharing_group") or (default_group if tlp not in COMMUNITY_TLPS else None)
    if group is not None and not _name(group):
        raise InputError(f"{where}.extensions.sharing_group", f"{str(group)[:80]!r} is not a sharing group id (at most "
                         f"{NAME_MAX} printable characters)")
    if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and not group:
        raise InputError(f"{where}.extensions.sharing_group", f"TLP:{tlp.value.upper()} needs a sharing group")
    handling_code = str(ext.get("handling_code", ""))[:200]
    if "\x00" in handling_code:
        raise InputError(f"{where}.extensions.handling_code", "may not contain a NUL character")
    return Sharing(kind, tlp, group, handling_code, reliability, credibility,
                   tuple(recipients), _time(ext.get("valid_from"), f"{where}.extensions.valid_from"),
                   _time(ext.get("valid_until"), f"{where}.extensions.valid_until"))


#: What every object keeps under any granular marking: its identity, version, markings and
#: sharing terms (a reader without them could neither place nor honour what it got).
_ALWAYS_KEPT = frozenset({"type", "id", "spec_version", "created", "modified", "created_by_ref", "revoked",
                          "object_marking_refs", "granular_markings", "extensions"})


@functools.cache
def _stix2_class(stix_type: str) -> tuple[type | None, bool]:
    """The stix2 library's class of a STIX 2.1 type (None when it knows none), and whether the
    type is a cyber-observable (SCO). The library is loaded where one is first asked for."""
    from stix2.registry import STIX2_OBJ_MAPS

    maps = STIX2_OBJ_MAPS["2.1"]
    observable = maps["observables"].get(stix_type)
    return (observable or maps["objects"].get(stix_type)), observable is not None


@functools.cache
def kept_properties(stix_type: str) -> frozenset[str]:
    """The properties of a ``stix_type`` object no granular marking may withhold: those STIX 2.1
    requires of the type (as the stix2 library's classes say) and :data:`_ALWAYS_KEPT`."""
    cls, _ = _stix2_class(stix_type)
    required = {k for k, prop in getattr(cls, "_properties", {}).items() if prop.required}
    return frozenset(required | _ALWAYS_KEPT)


def _check_granular(obj: dict[str, Any], tlp: Tlp, where: str) -> None:
    """Refuse a granular TLP marking narrower than the object's own (``tlp``) over a property
    the object cannot go without (:func:`kept_properties`): readers of the object would get it
    without that property, which no STIX reader can parse (an exchange review's indicator whose
    pattern was marked RED inside an AMBER+STRICT object was served without a pattern). Raises
    InputError naming the marking."""
    order = list(Tlp)
    for i, gm in enumerate(obj.get("granular_markings") or []):
        level = tlp_level(gm.get("marking_ref", "") if isinstance(gm, dict) else "")
        if level is None or order.index(level) <= order.index(tlp):
            continue
        hit = sorted(selected_properties([gm]) & kept_properties(str(obj.get("type", ""))))
        if hit:
            raise InputError(f"{where}.granular_markings.{i}.selectors", f"{hit[0]} is required of every "
                             f"{str(obj.get('type'))[:60]} and cannot be marked TLP:{level.value.upper()} inside an "
                             f"object marked TLP:{tlp.value.upper()}: its readers would get the object without it "
                             f"(mark the whole object TLP:{level.value.upper()} instead)")


def with_sharing(obj: dict[str, Any], sharing: Sharing) -> dict[str, Any]:
    """A copy of ``obj`` carrying ``sharing``: the TLP marking ref and Scheldt's extension."""
    out = copy.deepcopy(obj)
    refs = [r for r in out.get("object_marking_refs") or [] if tlp_level(r) is None]
    out["object_marking_refs"] = [*refs, TLP_MARKING_IDS[sharing.tlp]]
    ext: dict[str, Any] = {"extension_type": "property-extension", "kind": sharing.kind,
                           "handling_code": sharing.handling_code, "reliability": sharing.reliability,
                           "credibility": sharing.credibility}
    if sharing.group:
        ext["sharing_group"] = sharing.group
    if sharing.recipients:
        ext["recipients"] = [f"{o}/{u}" for o, u in sharing.recipients]
    if sharing.valid_from:
        ext["valid_from"] = stix_time(sharing.valid_from)
    if sharing.valid_until:
        ext["valid_until"] = stix_time(sharing.valid_until)
    out.setdefault("extensions", {})[SHARING_EXTENSION_ID] = ext
    return out


#: Longest STIX id and type the store keeps (longer ones are refused, never cut: two cut ids
#: could be one).
ID_MAX, TYPE_MAX = 100, 64


#: The version time of an object STIX gives no ``modified`` nor ``created`` (marking and
#: extension definitions, cyber-observables): served as that version in manifests and filters.
UNVERSIONED = "1970-01-01T00:00:00.000Z"


def is_observable(stix_type: str) -> bool:
    """Whether ``stix_type`` is a STIX 2.1 cyber-observable (SCO) type the stix2 library knows
    (ipv4-addr, domain-name, file, url, ...)."""
    return _stix2_class(stix_type)[1]


def stored_values(obj: dict[str, Any], sharing: Sharing, owner_org: str, source: str, now: datetime) -> dict[str, Any]:
    """The ``shared_object`` columns of one object version. Raises InputError for an object
    without id, type or a version timestamp, or with an id or type longer than the store keeps."""
    for key, longest in (("id", ID_MAX), ("type", TYPE_MAX)):
        if not obj.get(key):
            raise InputError(f"object.{key}", "is required")
        if len(str(obj[key])) > longest:
            raise InputError(f"{str(obj['id'])[:100]}.{key}", f"{len(str(obj[key]))} characters; this node keeps "
                             f"{key}s of at most {longest}")
    modified = obj.get("modified") or obj.get("created")
    if not modified and (obj["type"] in ("marking-definition", "extension-definition")
                         or is_observable(str(obj["type"]))):
        # objects STIX gives no version (a cyber-observable is never modified: its id is made from
        # its values): one version, at a fixed time (an exchange review's ipv4-addr was refused)
        modified = UNVERSIONED
    if not modified:
        raise InputError(f"{obj['id']}.modified", "an object version needs modified (or created)")
    return {"stix_id": obj["id"][:100], "modified": str(modified)[:32], "modified_at": stix_timestamp(str(modified)),
            "stix_type": obj["type"][:64],
            "spec_version": str(obj.get("spec_version", "2.1"))[:8], "kind": sharing.kind, "tlp": sharing.tlp.value,
            "owner_org": owner_org, "group_id": sharing.group, "handling_code": sharing.handling_code,
            "reliability": sharing.reliability, "credibility": sharing.credibility, "valid_from": sharing.valid_from,
            "valid_until": sharing.valid_until, "revoked": bool(obj.get("revoked", False)), "object": obj,
            "source": source[:200], "date_added": now}


#: The TLP 1.0 marking definitions STIX 2.1 defines (§7.2.1.4; the stix2 library's TLP_WHITE ...
#: TLP_RED), read for per-field restrictions at the TLP 2.0 level of the same name (WHITE as
#: CLEAR). A partner's field under TLP 1.0 RED was served in full (attack review).
TLP1_LEVELS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}


def selected_properties(markings: Any) -> set[str]:
    """The top-level properties a list of STIX granular markings selects (STIX 2.1 §7.2.3
    selectors: top-level names and dotted or indexed paths, ``x.y`` and ``x.[0]`` select ``x``)."""
    return {str(s).split(".")[0].split("[")[0] for gm in markings or [] if isinstance(gm, dict)
            for s in gm.get("selectors") or []}


def marked_properties(markings: Any) -> set[str]:
    """The top-level properties a list of STIX granular markings puts under a data marking
    (``marking_ref``); a ``lang`` granular marking (STIX 2.1 §7.2.3: the language of a field)
    restricts no one (an exchange review's entry with a Dutch name was left out of a MISP export)."""
    return selected_properties([gm for gm in markings or [] if isinstance(gm, dict) and gm.get("marking_ref")])


def granular_levels(obj: dict[str, Any]) -> dict[str, Tlp]:
    """Top-level property → the strictest TLP level a granular marking of ``obj`` puts over it
    (TLP 2.0, or TLP 1.0 read as :data:`TLP1_LEVELS`); properties under none are absent, and a
    marking that is not a well-formed TLP one is passed over (this reads what an object says,
    it refuses nothing)."""
    levels: dict[str, Tlp] = {}
    markings = obj.get("granular_markings")
    for gm in markings if isinstance(markings, list) else []:
        level = tlp_level(gm.get("marking_ref")) if isinstance(gm, dict) else None
        selectors = gm.get("selectors") if isinstance(gm, dict) else None
        if level is None or not isinstance(selectors, list):
            continue
        for prop in selected_properties([{"selectors": [s for s in selectors if isinstance(s, str)]}]):
            held = levels.get(prop)
            levels[prop] = level if held is None else strictest([held, level])
    return levels


@dataclass(frozen=True)
class StatedTerms:
    """Who an object says may read it, read without refusing anything (:func:`stated_terms`):
    its TLP level, sharing group, the well-formed ``organisation/username`` recipients, and
    :func:`granular_levels`."""

    tlp: Tlp
    group: str | None
    recipients: frozenset[tuple[str, str]]
    granular: dict[str, Tlp]


def stated_terms(obj: dict[str, Any], default_group: str | None) -> StatedTerms | None:
    """The sharing terms ``obj`` states, as :func:`sharing_of` reads them (the sharing group
    defaulting to ``default_group`` below GREEN), but taking what is well formed and passing
    over the rest: for an object refused for its marking, whose terms are still its
    originator's newest word on who may read it. None when it names no TLP level."""
    tlp = tlp_of(obj)
    if tlp is None:
        return None
    extensions = obj.get("extensions")
    ext = extensions.get(SHARING_EXTENSION_ID) if isinstance(extensions, dict) else None
    ext = ext if isinstance(ext, dict) else {}
    named = ext.get("recipients") if isinstance(ext.get("recipients"), list) else []
    recipients = frozenset((org, user) for text in named if isinstance(text, str)
                           for org, sep, user in [text.partition("/")] if sep and _name(org) and _name(user))
    group = ext.get("sharing_group")
    group = (group if isinstance(group, str) and group else None) or (
        default_group if tlp not in COMMUNITY_TLPS else None)
    return StatedTerms(tlp, group, recipients, granular_levels(obj))


def property_level(terms: StatedTerms, prop: str) -> Tlp:
    """The TLP level a reader of an object under ``terms`` needs to see its property ``prop``."""
    level = terms.granular.get(prop)
    return terms.tlp if level is None else strictest([terms.tlp, level])


def wider_than(earlier: StatedTerms, newer: StatedTerms) -> bool:
    """Whether an earlier version under ``earlier`` reaches readers the originator's newer
    version under ``newer`` does not: a laxer TLP level; at the same level, another sharing
    group or a recipient the newer one no longer names; or a property the newer one puts under
    a stricter granular marking (whatever the object's levels: a review's AMBER version was kept
    when a GREEN one put its description under RED), or one it keeps RED for fewer recipients.
    An object at a stricter level is otherwise not wider (whatever its group)."""
    order = TLP_ORDER.index
    if order(earlier.tlp) < order(newer.tlp):
        return True
    if earlier.tlp == newer.tlp and (earlier.group != newer.group or not earlier.recipients <= newer.recipients):
        return True
    for prop in newer.granular:
        was, now = property_level(earlier, prop), property_level(newer, prop)
        if order(was) < order(now) or (was == now == Tlp.RED and not earlier.recipients <= newer.recipients):
            return True
    return False


def redact(obj: dict[str, Any], requester: Requester, audience: Audience) -> dict[str, Any]:
    """``obj`` as ``requester`` may see it: top-level properties under a granular TLP marking
    (TLP 2.0, or TLP 1.0 read as :data:`TLP1_LEVELS`) the requester may not see are removed
    (per-field restrictions; STIX 2.1 §7.2.3 selectors, top-level and dotted paths whose first
    part is top-level). The other granular markings (statements, ``lang``, TLP over fields left)
    keep their selectors of the fields left, and are dropped only when they select none: a review
    found a statement and a ``lang`` marking over a field still served dropped with a removed
    field's."""
    removed = set()
    for gm in obj.get("granular_markings") or []:
        level = tlp_level(gm.get("marking_ref", ""))
        if level is None:
            continue
        if not may_see(requester, Audience(audience.owner, level, audience.group, audience.recipients)):
            removed.update(selected_properties([gm]))
    if not removed:
        return obj
    out = {k: v for k, v in obj.items() if k not in removed}
    kept = []
    for gm in obj.get("granular_markings") or []:
        left = [s for s in gm.get("selectors") or [] if not selected_properties([{"selectors": [s]}]) & removed]
        if left:
            kept.append({**gm, "selectors": left})
    if kept:
        out["granular_markings"] = kept
    else:
        out.pop("granular_markings", None)
    return out


#: The word TLP 1.0's marking definitions give their level (``definition.tlp``).
_TLP1_WORDS = {Tlp.CLEAR: "white", Tlp.GREEN: "green", Tlp.AMBER: "amber", Tlp.RED: "red"}


#: What a standard TLP marking definition may hold: STIX 2.1 §7.2.1's properties of a marking
#: definition (those that say what it means are checked one by one), ``modified`` (OpenCTI
#: writes it) and custom ``x_`` properties, which no reader takes for the marking's meaning. A
#: ``description`` ("Publish freely") is refused: STIX gives a marking definition none, and a
#: person would read it (a regression review).
_STANDARD_MARKING_KEYS = frozenset({"type", "spec_version", "id", "created", "created_by_ref", "modified", "name",
                                    "definition_type", "definition", "extensions", "external_references",
                                    "object_marking_refs", "granular_markings"})


def check_standard_marking(obj: dict[str, Any], where: str) -> None:
    """Raise InputError when ``obj`` is a marking definition under the id of a standard TLP
    marking (TLP 2.0, FIRST's definitions as OASIS publishes them; TLP 1.0, STIX 2.1 §7.2.1.4)
    that says something else: another name, TLP level, definition type or statement, a TLP
    extension saying more, or a property a marking definition does not have (custom ``x_``
    properties and other extensions, which say nothing of the marking to a reader, pass: OpenCTI
    writes both). One leaving something out is the standard one written another way. A
    federation review's peer served "TLP:GREEN" as a statement "anyone" under the standard id;
    it was stored and served on to partners under that id (a regression review's, with the
    statement in a description, too)."""
    standard = _standard_tlp(obj)
    if standard is None:
        return
    level, tlp1 = standard
    word = _TLP1_WORDS.get(level, level.value) if tlp1 else level.value
    extensions = obj.get("extensions", {})
    ext = extensions.get(TLP_EXTENSION) if isinstance(extensions, dict) else None
    definition = obj.get("definition", {"tlp": word})
    extra = sorted(k for k in obj if k not in _STANDARD_MARKING_KEYS and not str(k).startswith("x_"))
    said = [(", ".join(extra)[:80] or "properties", not extra),
            ("name", "name" not in obj or (isinstance(obj["name"], str)
                                          and obj["name"] in {f"TLP:{word.upper()}", f"TLP:{level.value.upper()}"})),
            ("definition_type", obj.get("definition_type", "tlp") == "tlp"),
            ("definition", isinstance(definition, dict) and set(definition) == {"tlp"}
             and str(definition["tlp"]).lower() == word),
            ("extensions", isinstance(extensions, dict)
             and (ext is None or (isinstance(ext, dict) and set(ext) <= {"extension_type", "tlp_2_0"}
                                  and ext.get("tlp_2_0", level.value) == level.value)))]
    wrong = [name for name, same in said if not same]
    if wrong:
        raise InputError(f"{where}.{wrong[0]}", f"a marking definition under the id of the standard TLP:"
                         f"{word.upper()} ({'TLP 1.0' if tlp1 else 'TLP 2.0'}) marking that says something else "
                         f"({', '.join(wrong)}): refused, the standard definition is the only one under its id")


def _standard_tlp(obj: Any) -> tuple[Tlp, bool] | None:
    """(level, whether TLP 1.0) of a marking definition under a standard TLP id (any case of
    its UUID's letters), or None for any other object."""
    if not isinstance(obj, dict) or obj.get("type") != "marking-definition" or not isinstance(obj.get("id"), str):
        return None
    key = obj["id"].lower()
    if (level := TLP_BY_MARKING_ID.get(key)) is not None:
        return level, False
    return (TLP1_LEVELS[key], True) if key in TLP1_LEVELS else None


@functools.cache
def _tlp1_definitions() -> dict[str, dict[str, Any]]:
    """STIX 2.1's TLP 1.0 marking definitions as the stix2 library writes them, by id (the
    library loaded when first needed, as where shared items are written)."""
    import json

    import stix2.v21

    return {m.id: json.loads(m.serialize()) for m in (stix2.v21.TLP_WHITE, stix2.v21.TLP_GREEN,
                                                       stix2.v21.TLP_AMBER, stix2.v21.TLP_RED)}


#: A STIX timestamp (any case of T and Z, RFC 3339 allows both), its date, time and decimals.
_TIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?[Zz]")


def millisecond_times(obj: Any) -> Any:
    """``obj`` with its ``created`` and ``modified`` written to the millisecond when they are
    coarser (``2026-03-01T10:00:00Z`` as ``2026-03-01T10:00:00.000Z``), and with capital T and Z
    (``...t...z``, which RFC 3339 allows and stix2-validator refuses), the same instants; ``obj``
    itself when nothing changes. STIX 2.1 §3.2 requires both "precise to the nearest
    millisecond" and stix2-validator refuses a relayed object otherwise (a review: a partner's
    object timed to the second was stored and served on as sent); the stix2 library reads
    them so."""
    if not isinstance(obj, dict):
        return obj
    changed = {}
    for key in ("created", "modified"):
        value = obj.get(key)
        if isinstance(value, str) and (m := _TIME.fullmatch(value)):
            written = f"{m.group(1)}T{m.group(2)}.{(m.group(3) or '').ljust(3, '0')}Z"
            if written != value:
                changed[key] = written
    return {**obj, **changed} if changed else obj


def standard_marking(obj: Any) -> Any:
    """The standard definition for a marking definition under a standard TLP id (TLP 2.0 as
    OASIS publishes it, TLP 1.0 as STIX 2.1 gives it), whatever else ``obj`` carries (``x_``
    properties, other extensions, a ``modified``); ``obj`` itself for anything else. What
    :func:`check_standard_marking` lets pass is stored and served as the standard one: a
    marking definition is never versioned (STIX 2.1 §7.2.1), and a regression review's peer
    stored a "new version" of TLP:RED dated 2099 with an ``x_`` note "publish freely", served as
    the newest."""
    standard = _standard_tlp(obj)
    if standard is None:
        return obj
    level, tlp1 = standard
    return copy.deepcopy(_tlp1_definitions()[obj["id"].lower()]) if tlp1 else tlp_marking_definition(level)
