"""Shared items as MISP events (through PyMISP's data classes), and MISP events back as STIX.

For partners that run MISP. One Scheldt item (alert, watchlist entry, seizure report,
sighting) is one MISP event:

* the event's ``uuid`` is the UUID of the item's main STIX object, its creator organisation
  (``Orgc``) carries the UUID of the originator's STIX identity and its Scheldt id as name;
* the item's fields are MISP objects (UUIDs derived from the item's STIX id, so an unchanged
  item exports the same event): ``scheldt-<kind>`` (``scheldt-alert``,
  ``scheldt-watchlist-entry``, ``scheldt-seizure-report``, ``scheldt-sighting``) with the
  item's own values and its STIX id and times, and one object per part (``scheldt-container``,
  ``scheldt-consignment``, ``scheldt-vessel-call``, ``scheldt-seizure``, ``scheldt-reason``,
  ``scheldt-party``); each field is an attribute whose ``object_relation`` is the field name
  with hyphens (a list gives one attribute per value, in order); types ``text``, ``float``,
  ``counter``, ``datetime`` (STIX timestamp text);
* the sharing terms are tags: the TLP 2.0 tag of MISP's ``tlp`` taxonomy (``tlp:clear``,
  ``tlp:green``, ``tlp:amber``, ``tlp:amber+strict``, ``tlp:red``) and Scheldt machine tags
  ``scheldt:<term>=<JSON value>`` for the kind, handling code, reliability (A/B/C/X),
  credibility (1-4), sharing group, each RED recipient and the validity; the event's
  ``distribution`` follows the TLP (CLEAR: all communities, GREEN: connected communities,
  AMBER: this community, AMBER+STRICT and RED: your organisation only); MISP sharing groups are
  the receiving instance's own, so the Scheldt group travels as a tag.

Export (:func:`scheldt.workflows.share.export_misp`) goes through the one visibility policy: a
requester never gets an item it may not see, and TLP:RED items only when it is named. Import
(:func:`scheldt.workflows.share.import_misp`) turns Scheldt-shaped events back into the same STIX
objects (export → import loses nothing), and any other MISP event into one STIX ``note``
listing its attributes, marked with the strictest TLP its tags, its attributes' and objects'
tags and its MISP distributions ask for (0, your organisation only, and 4, a sharing group of
the sending instance, as AMBER+STRICT; AMBER+STRICT when nothing asks for any); a TLP:RED one
is refused, a MISP event names no recipients.
"""

from __future__ import annotations

import json
import types
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Union, get_args, get_origin, get_type_hints

from scheldt.domain.exchange import Tlp, parse_tlp
from scheldt.errors import InputError
from scheldt.exchange.items import (
    KIND_OF,
    Alert,
    Item,
    Meta,
    SeizureReport,
    WatchEntry,
    check_item,
)
from scheldt.exchange.objects import NAMESPACE, Sharing, identity_id, stix_time, with_sharing
from scheldt.exchange.stix_mapping import to_stix, watch_label

if TYPE_CHECKING:  # PyMISP (and requests under it: half a second) is loaded where events are made or read
    from pymisp import MISPEvent, MISPObject

TLP_TAGS: dict[Tlp, str] = {level: f"tlp:{level.value}" for level in Tlp}
#: MISP distribution levels by TLP (0 your organisation, 1 this community, 2 connected, 3 all).
DISTRIBUTION: dict[Tlp, int] = {Tlp.CLEAR: 3, Tlp.GREEN: 2, Tlp.AMBER: 1, Tlp.AMBER_STRICT: 0, Tlp.RED: 0}
TAG_PREFIX = "scheldt:"
_ITEM_CLASSES: dict[str, type] = {kind: cls for cls, kind in KIND_OF.items()}


# --- item → event ----------------------------------------------------------------------------------

class MarkingRefused(InputError):
    """A MISP event refused for the readers its marking asks for (one of its parts marked TLP:RED,
    or of distribution 0 without a sharing group): its originator's newest word on who may
    read it all the same (:func:`scheldt.workflows.share.import_misp` acts on it)."""


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _class_name(cls: type) -> str:
    return "scheldt-" + "".join(f"-{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("-")


def _nested(hint: Any) -> tuple[type | None, bool]:
    """(dataclass, many) when a field holds one or several dataclasses, else (None, False)."""
    if is_dataclass(hint):
        return hint, False
    args = get_args(hint)
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in args if is_dataclass(a)]
        return (inner[0], False) if inner else (None, False)
    if get_origin(hint) is tuple and args and is_dataclass(args[0]):
        return args[0], True
    return None, False


def _add(obj: MISPObject, relation: str, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, datetime):
        obj.add_attribute(relation, value=stix_time(value), type="datetime")
    elif isinstance(value, bool):
        obj.add_attribute(relation, value="true" if value else "false", type="boolean")
    elif isinstance(value, int):
        obj.add_attribute(relation, value=value, type="counter")
    elif isinstance(value, float):
        obj.add_attribute(relation, value=value, type="float")
    else:
        obj.add_attribute(relation, value=str(value), type="text")


def _objects(name: str, value: Any) -> list[MISPObject]:
    """``value``'s scalar fields as one MISP object named ``name``, then its nested parts."""
    from pymisp import MISPObject

    main = MISPObject(name, strict=False, standalone=False)
    parts: list[MISPObject] = []
    for f in fields(value):
        v = getattr(value, f.name)
        cls, many = _nested(get_type_hints(type(value))[f.name])
        if f.name == "meta":
            continue
        if cls is not None:
            for one in (v if many else (v,) if v is not None else ()):
                parts += _objects(_class_name(cls), one)
            continue
        for one in v if isinstance(v, tuple) else (v,):
            _add(main, _kebab(f.name), one)
    return [main, *parts]


def _tag(term: str, value: Any) -> str:
    return f"{TAG_PREFIX}{term}={json.dumps(value, ensure_ascii=False)}"


def _tags(kind: str, s: Sharing) -> list[str]:
    tags = [TLP_TAGS[s.tlp], _tag("kind", kind), _tag("reliability", s.reliability), _tag("credibility", s.credibility)]
    if s.handling_code:
        tags.append(_tag("handling-code", s.handling_code))
    if s.group:
        tags.append(_tag("sharing-group", s.group))
    tags += [_tag("recipient", f"{o}/{u}") for o, u in s.recipients]
    if s.valid_from:
        tags.append(_tag("valid-from", stix_time(s.valid_from)))
    if s.valid_until:
        tags.append(_tag("valid-until", stix_time(s.valid_until)))
    return tags


def _info(item: Item) -> str:
    if isinstance(item, Alert):
        return item.title
    if isinstance(item, WatchEntry):
        return f"Watchlist {watch_label(item)}"
    if isinstance(item, SeizureReport):
        s = item.seizure
        where = f" in {item.container.number}" if item.container else ""
        return f"Seizure of {s.mass_kg:g} kg {s.drug_type}{where}"
    return f"Feedback on {item.alert_id}: {item.result}"


def item_event(item: Item, organisations: Mapping[str, str] | None = None) -> MISPEvent:
    """One item as a MISP event (see the module docstring). ``organisations``: organisation id
    by STIX identity id, to name the creator organisation. Raises InputError for an invalid item."""
    from pymisp import MISPEvent, MISPOrganisation

    check_item(item)
    kind = KIND_OF[type(item)]
    m = item.meta
    event = MISPEvent()
    event.uuid = m.stix_id.split("--", 1)[1]
    event.info = _info(item)[:1000]
    event.date = m.created.date()
    event.analysis = 2
    event.threat_level_id = 2
    event.distribution = DISTRIBUTION[m.sharing.tlp]
    org = MISPOrganisation()
    org.uuid = m.created_by.split("--", 1)[1]
    org.name = (organisations or {}).get(m.created_by, m.created_by)
    event.Orgc = org
    for tag in _tags(kind, m.sharing):
        event.add_tag(tag)
    objs = _objects(f"scheldt-{kind}", item)
    for relation, value in (("stix-id", m.stix_id), ("created", m.created), ("modified", m.modified)):
        _add(objs[0], relation, value)
    for i, obj in enumerate(objs):
        _name_stably(obj, f"{m.stix_id}/{i}")
        event.add_object(obj)
    return event


def _name_stably(obj: MISPObject, key: str) -> None:
    """Give ``obj`` and its attributes UUIDs derived from ``key`` (the item's STIX id and the
    object's place), not random ones: an unchanged item exports the same event, so a MISP that
    receives it twice updates it instead of adding every object again (a review's two exports
    of an unchanged store differed in every object and attribute UUID)."""
    obj.uuid = str(uuid.uuid5(NAMESPACE, f"misp-object:{key}:{obj.name}"))
    for j, attribute in enumerate(obj.attributes):
        attribute.uuid = str(uuid.uuid5(NAMESPACE, f"misp-attribute:{key}:{j}:{attribute.object_relation}"))


def events_json(events: Iterable[MISPEvent]) -> str:
    """Events as MISP exports a search: ``{"response": [{"Event": {...}}, ...]}``."""
    return json.dumps({"response": [{"Event": json.loads(e.to_json())} for e in events]}, ensure_ascii=False, indent=1)


# --- event → item or STIX ------------------------------------------------------------------------------

def read_events(text: str | bytes) -> list[MISPEvent]:
    """MISP events from JSON as MISP exports them: one ``{"Event": ...}``, a list of them, or
    ``{"response": [...]}``. Raises InputError naming the first event that cannot be read
    (:func:`read_each_event`)."""
    events, refused = read_each_event(text)
    if refused:
        raise InputError(*refused[0])
    return events


def read_each_event(text: str | bytes) -> tuple[list[MISPEvent], list[tuple[str, str]]]:
    """The MISP events of ``text`` (as :func:`read_events`) that PyMISP reads, and (where, why)
    for each that it does not or that has no ``uuid``, where naming its place (``events.1``).
    One unreadable event does not cost the others (a review lost two good events to one bad
    date). An event without a uuid is refused: PyMISP makes up a random one, so the same event
    imported again was stored again; a uuid is read in its one lower-case form (an upper-case
    or braced uuid made a second copy of an event). Raises InputError when ``text`` is not JSON."""
    from pymisp import MISPEvent
    from pymisp.exceptions import PyMISPError

    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise InputError("misp json", f"not JSON: {exc}") from None
    except RecursionError:  # a review's [[[...]]] ended the command with a traceback
        raise InputError("misp json", "nested too deeply to read (a MISP event nests a few levels)") from None
    if isinstance(data, dict) and "response" in data:
        data = data["response"]
    raw = data if isinstance(data, list) else [data]
    events, refused = [], []
    for i, one in enumerate(raw):
        body = one.get("Event", one) if isinstance(one, dict) else one
        if isinstance(body, dict) and not body.get("uuid"):
            refused.append((f"events.{i}.uuid", "missing: an event needs its uuid, so that sending it again adds "
                            "nothing"))
            continue
        try:
            same = str(uuid.UUID(str(body["uuid"]))) if isinstance(body, dict) else ""
        except ValueError:
            refused.append((f"events.{i}.uuid", f"{str(body['uuid'])[:60]!r} is not a UUID"))
            continue
        bad_tag = _bad_tags(body, f"events.{i}") if isinstance(body, dict) else None
        if bad_tag is not None:
            refused.append(bad_tag)
            continue
        event = MISPEvent()
        try:
            event.load(body)
        except (PyMISPError, ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            # OverflowError: a timestamp beyond any date (a review's 1e20 lost the whole file)
            refused.append((f"events.{i}", f"not a MISP event: {exc}"))
            continue
        event.uuid = same  # one spelling: an upper-case or braced uuid was stored as another event
        events.append(event)
    return events, refused


def _bad_tags(body: dict[str, Any], where: str) -> tuple[str, str] | None:
    """(where, why) for the first ``Tag`` of the event ``body``, of one of its attributes or of
    an attribute of one of its objects that is not a list of tags each with a text ``name``, or
    None. PyMISP reads ``"Tag": "tlp:green"`` one character at a time, and a tag named 5 as
    none: a review's two such events were stored at the default TLP:AMBER+STRICT, unsaid."""
    places: list[tuple[str, Any]] = [(where, body)]
    for key in ("Attribute", "Object"):
        parts = body.get(key)
        if isinstance(parts, list):
            places += [(f"{where}.{key}.{j}", part) for j, part in enumerate(parts) if isinstance(part, dict)]
    for j, obj in enumerate(body.get("Object") if isinstance(body.get("Object"), list) else []):
        attributes = obj.get("Attribute") if isinstance(obj, dict) else None
        if isinstance(attributes, list):
            places += [(f"{where}.Object.{j}.Attribute.{k}", a) for k, a in enumerate(attributes) if isinstance(a, dict)]
    for at, part in places:
        tags = part.get("Tag")
        if tags is None:
            continue
        if not isinstance(tags, list):
            return f"{at}.Tag", f"a list of tags (objects with a name) was expected, found {type(tags).__name__}"
        for k, tag in enumerate(tags):
            if not isinstance(tag, dict) or not isinstance(tag.get("name"), str):
                return f"{at}.Tag.{k}", f"a tag is an object with a text name, found {str(tag)[:60]!r}"
    return None


#: MISP distribution levels that keep an event, object or attribute inside one organisation (0:
#: your organisation only) or inside a MISP sharing group of the sending instance (4), which a
#: Scheldt sharing group cannot stand for: read as TLP:AMBER+STRICT at least.
_CLOSED_DISTRIBUTIONS = {"0", "4"}


def _parts(event: MISPEvent) -> list[Any]:
    """The event's attributes, objects and objects' attributes (each may carry its own TLP tag
    and distribution)."""
    out: list[Any] = list(event.attributes)
    for o in event.objects:
        out += [o, *o.attributes]
    return out


#: Tags of MISP's tlp taxonomy that name no TLP level (tlp:ex:chr, the Chatham House rule;
#: tlp:unclear): read as no marking (a regression review's event was refused for one).
_NOT_A_LEVEL = ("tlp:ex:", "tlp:unclear")


def _tlp_of_tag(name: str) -> Tlp | None:
    """The TLP level a tag names, None for a tag that names none (not ``tlp:``, or one of
    :data:`_NOT_A_LEVEL`). Raises InputError for any other ``tlp:`` tag that is no TLP level, on
    the event or on a part of it (a regression review's attribute tagged "tlp: red" was
    shared at the event's GREEN when such tags on parts were read as no marking)."""
    low = name.lower()
    if not low.startswith("tlp:") or low.startswith(_NOT_A_LEVEL):
        return None
    return Tlp.CLEAR if low == "tlp:white" else parse_tlp(low, f"tag {name}")


def _strictest_marking(event: MISPEvent) -> list[tuple[Tlp, str, str]]:
    """The TLP levels the event's attributes and objects ask for, each with where and why: their
    own TLP tags, and AMBER+STRICT for a part (or the event) whose MISP distribution is closed
    (:data:`_CLOSED_DISTRIBUTIONS`). An importer review: an attribute tagged tlp:red (an
    informant's name) in a tlp:green event was shared as GREEN."""
    levels = []
    for part in _parts(event):
        tags = [t for t in (_tlp_of_tag(str(tag.name)) for tag in getattr(part, "tags", [])) if t]
        levels += [(t, _named(part), f"is tagged {_label(t)}") for t in tags]
    for part in [event, *_parts(event)]:
        if str(getattr(part, "distribution", "")) in _CLOSED_DISTRIBUTIONS:
            levels.append((Tlp.AMBER_STRICT, _named(part), f"has MISP distribution {part.distribution} (your "
                           "organisation only, or a sharing group of its instance)"))
    return levels


def _named(part: Any) -> str:
    """``attribute <uuid>``, ``object <uuid>``, ``event <uuid>``."""
    return f"{type(part).__name__.removeprefix('MISP').lower()} {getattr(part, 'uuid', '')}".strip()


def _label(level: Tlp) -> str:
    return f"TLP:{level.value.upper()}"


def _strictest(levels: list[tuple[Tlp, str, str]]) -> tuple[Tlp, str, str] | None:
    order = list(Tlp)
    return max(levels, key=lambda level: order.index(level[0])) if levels else None


def _tag_values(event: MISPEvent) -> tuple[Tlp | None, dict[str, list[Any]]]:
    """The event's TLP (the strictest its tags, its parts' tags and its distributions ask for;
    None when nothing does) and its Scheldt machine tags' values by term. Raises InputError."""
    levels = _strictest_marking(event)
    terms: dict[str, list[Any]] = {}
    for tag in event.tags:
        name = str(tag.name)
        level = _tlp_of_tag(name)
        if level is not None:
            levels.append((level, _named(event), f"is tagged {_label(level)}"))
        elif name.startswith(TAG_PREFIX) and "=" in name:
            term, _, value = name[len(TAG_PREFIX):].partition("=")
            try:
                terms.setdefault(term, []).append(json.loads(value))
            except ValueError:
                raise InputError(f"event {event.uuid} tag {name}", "the value is not JSON") from None
    strictest = _strictest(levels)
    return (strictest[0] if strictest else None), terms


def _utc(t: datetime) -> datetime:
    """``t`` in UTC; a time without a zone is taken as UTC, as :func:`_time` reads it."""
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _time(value: Any, where: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(where, f"{value!r} is not a time") from None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _one(terms: dict[str, list[Any]], term: str, default: Any = None) -> Any:
    values = terms.get(term) or [default]
    return values[0]


def _sharing(event: MISPEvent, kind: str, default_group: str | None) -> Sharing:
    tlp, terms = _tag_values(event)
    recipients = []
    for text in terms.get("recipient", []):
        org, _, user = str(text).partition("/")
        recipients.append((org, user))
    valid_from = _one(terms, "valid-from")
    valid_until = _one(terms, "valid-until")
    where = f"event {event.uuid}"
    tlp = tlp or Tlp.AMBER_STRICT
    # the default group is for events whose TLP needs one: a CLEAR or GREEN event put in it
    # would no longer reach the community (a review's GREEN events vanished from it)
    needs_group = tlp in (Tlp.AMBER, Tlp.AMBER_STRICT)
    return Sharing(kind, tlp, _one(terms, "sharing-group", default_group if needs_group else None),
                   str(_one(terms, "handling-code", "")), str(_one(terms, "reliability", "X")),
                   str(_one(terms, "credibility", "4")), tuple(recipients),
                   _time(valid_from, f"{where} valid-from") if valid_from else None,
                   _time(valid_until, f"{where} valid-until") if valid_until else None)


def _value(hint: Any, values: list[Any], where: str) -> Any:
    """Attribute values as a field of type ``hint`` wants them."""
    args = [a for a in get_args(hint) if a is not type(None)]
    base = args[0] if get_origin(hint) in (Union, types.UnionType) and args else hint
    if get_origin(hint) is tuple:
        return tuple(str(v) for v in values)
    if not values:
        return None if get_origin(hint) in (Union, types.UnionType) else {str: "", int: 0, float: 0.0}.get(base)
    v = values[0]
    try:
        if base is datetime:
            return _time(v, where)
        if base is float:
            return float(v)
        if base is int:
            return int(v)
    except (TypeError, ValueError):
        raise InputError(where, f"{v!r} is not a {base.__name__}") from None
    return str(v)


def _build(cls: type, main: MISPObject, rest: list[MISPObject], where: str, **given: Any) -> Any:
    """An instance of dataclass ``cls`` from its MISP object and the part objects in ``rest``
    (parts are taken from ``rest`` in order)."""
    values: dict[str, Any] = {}
    hints = get_type_hints(cls)
    for f in fields(cls):
        if f.name in given:
            values[f.name] = given[f.name]
            continue
        part, many = _nested(hints[f.name])
        if part is not None:
            name = _class_name(part)
            mine = [o for o in rest if o.name == name]
            built = [_build(part, o, [], f"{where}.{f.name}") for o in mine]
            values[f.name] = tuple(built) if many else (built[0] if built else None)
            continue
        attrs = [a.value for a in main.attributes if a.object_relation == _kebab(f.name) and not deleted(a)]
        values[f.name] = _value(hints[f.name], attrs, f"{where}.{f.name}")
    return cls(**values)


def deleted(part: Any) -> bool:
    """Whether a MISP attribute or object is soft-deleted (MISP's ``deleted``: true, or "1")."""
    flag = getattr(part, "deleted", False)
    return flag is True or str(flag).strip().lower() in ("1", "true")


def _main_object(event: MISPEvent) -> tuple[str, MISPObject] | None:
    """The kind and ``scheldt-<kind>`` object of the Scheldt item a MISP event carries (the first
    kind of :data:`_ITEM_CLASSES` it has), or None for an event without one."""
    by_kind = {o.name[len("scheldt-"):]: o for o in event.objects if o.name.startswith("scheldt-")}
    kind = next((k for k in _ITEM_CLASSES if k in by_kind), None)
    return None if kind is None else (kind, by_kind[kind])


def _creator_of(event: MISPEvent) -> str | None:
    """The STIX identity of a MISP event's creator organisation (its Orgc uuid,
    :func:`creator_identity`); "" when it names none, None when that is no UUID."""
    orgc = getattr(event, "Orgc", None)
    if orgc is None or not getattr(orgc, "uuid", None):
        return ""
    try:
        return creator_identity(orgc.uuid, "")
    except InputError:
        return None


@dataclass(frozen=True)
class DeletedItem:
    """What a MISP event whose Scheldt object its user deleted says of the item: the STIX id,
    kind, ``modified`` (as written; "" when not given) and creator identity (from the event's
    Orgc uuid; "" when none) of the version deleted."""

    stix_id: str
    kind: str
    modified: str
    creator: str


def deleted_item(event: MISPEvent) -> DeletedItem | None:
    """The item a MISP event carries when its user deleted the item's ``scheldt-<kind>`` object
    in MISP (MISP's soft deletion, the one way a MISP user withdraws it:
    :func:`scheldt.workflows.share.import_misp` checks it names that organisation's item and
    withdraws it), else None."""
    found = _main_object(event)
    if found is None or not deleted(found[1]):
        return None
    kind, main = found

    def value(relation: str) -> str:
        said = next((a.value for a in main.attributes if a.object_relation == relation), "")
        return stix_time(_utc(said)) if isinstance(said, datetime) else str(said)

    return DeletedItem(value("stix-id"), kind, value("modified"), _creator_of(event) or "")


def stated_object(event: MISPEvent, default_group: str | None = None) -> dict[str, Any] | None:
    """The main object of what a MISP event stands for (its item's, else its note's), reduced to
    what says who may read it: ``id``, ``modified``, its creator (``created_by_ref``, from the
    event's Orgc; "" without one) and the sharing terms its tags state
    (:func:`scheldt.exchange.objects.with_sharing`), unchecked. For an event refused before its
    objects could be made (a Scheldt event retagged TLP:RED in MISP, which names no
    recipients): its originator's newest word on its readers all the same. None when its tags
    cannot be read or it names no id."""
    found = _main_object(event)
    creator = _creator_of(event)
    if creator is None:
        return None
    if found is None:
        stamp = getattr(event, "timestamp", None)
        if not isinstance(stamp, datetime):
            return None
        stix_id, modified = f"note--{event.uuid}", stix_time(stamp.astimezone(UTC))
    else:
        values = {a.object_relation: a.value for a in found[1].attributes}
        stix_id, modified = str(values.get("stix-id") or ""), values.get("modified")
        modified = stix_time(_utc(modified)) if isinstance(modified, datetime) else str(modified or "")
    try:
        sharing = _sharing(event, found[0] if found else "other", default_group)
    except InputError:
        return None
    stated = {"id": stix_id, "modified": modified, "created_by_ref": creator}
    return with_sharing(stated, sharing) if stix_id and modified else None


def event_item(event: MISPEvent, default_group: str | None = None) -> Item | None:
    """The Scheldt item a MISP event carries, or None for an event without a ``scheldt-<kind>``
    object. Raises InputError when the item's values or terms do not pass its checks."""
    found = _main_object(event)
    if found is None:
        return None
    kind, main = found
    where = f"event {event.uuid}"

    def attr(relation: str) -> Any:
        found = [a.value for a in main.attributes if a.object_relation == relation and not deleted(a)]
        if not found:
            raise InputError(f"{where}.{relation}", "missing")
        return found[0]

    orgc = getattr(event, "Orgc", None)
    if orgc is None or not getattr(orgc, "uuid", None):
        raise InputError(f"{where}.Orgc", "a Scheldt event names its creator organisation's uuid")
    meta = Meta(str(attr("stix-id")), creator_identity(orgc.uuid, where), _time(attr("created"), f"{where}.created"),
                _time(attr("modified"), f"{where}.modified"), _sharing(event, kind, default_group))
    rest = [o for o in event.objects if o is not main and not deleted(o)]  # what MISP's users deleted stays out
    item = _build(_ITEM_CLASSES[kind], main, rest, where, meta=meta)
    return check_item(item)


def creator_identity(org_uuid: object, where: str) -> str:
    """The STIX identity id of a MISP event's creator organisation (its ``Orgc.uuid``), the UUID
    written the one way STIX writes it (lower case, hyphens): a MISP review's ``{02FDFE8D-…}``
    and ``02fdfe8d7fcd…`` forms of be-customs' UUID passed as organisations unknown here, and an
    importing agency's notes were stored naming the Belgians as their creator. Raises
    InputError naming ``where`` when it is no UUID."""
    try:
        return f"identity--{uuid.UUID(str(org_uuid).strip())}"
    except ValueError:
        raise InputError(f"{where}.Orgc.uuid", f"{str(org_uuid)[:60]!r} is not a UUID") from None


def foreign_note(event: MISPEvent, default_group: str | None, importer: str = "") -> dict[str, Any]:
    """A MISP event that is not a Scheldt item as one STIX note listing its attributes (and
    its objects' attributes), marked with the event's TLP; made by the event's creator
    organisation (its Orgc uuid), else by ``importer`` (the organisation it is imported as),
    else by one named after its Orgc's name. Raises InputError for bad terms."""
    lines = [f"{a.category} / {a.type}: {a.value}" for a in event.attributes if not deleted(a)]
    for o in event.objects:  # what MISP's users deleted is not shared on (a review's informant was)
        if not deleted(o):
            lines += [f"{o.name} / {a.object_relation or a.type}: {a.value}" for a in o.attributes if not deleted(a)]
    orgc = getattr(event, "Orgc", None)
    creator = (creator_identity(orgc.uuid, f"event {event.uuid}") if orgc is not None and getattr(orgc, "uuid", None)
               else identity_id(importer) if importer else identity_id(str(getattr(orgc, "name", "misp"))))
    stamp = getattr(event, "timestamp", None)
    when = stamp if isinstance(stamp, datetime) else datetime.combine(event.date, datetime.min.time(), UTC)
    when = when.astimezone(UTC)
    note = {"type": "note", "spec_version": "2.1", "id": f"note--{event.uuid}", "created_by_ref": creator,
            "created": stix_time(when), "modified": stix_time(when), "abstract": str(event.info)[:1000],
            "content": "\n".join(lines) or str(event.info), "object_refs": [creator],
            "external_references": [{"source_name": "misp", "external_id": str(event.uuid)}]}
    sharing = _sharing(event, "other", default_group)
    strictest = _strictest(_strictest_marking(event))
    if strictest and strictest[0] == sharing.tlp and (sharing.tlp is Tlp.RED or sharing.group is None):
        # marked by one of its parts more strictly than its own tags say: say which, and why it stops
        needs = ("named recipients, which a MISP event does not carry" if sharing.tlp is Tlp.RED
                 else "a sharing group (--group)")
        raise MarkingRefused(strictest[1], f"{strictest[2]}, so the whole event is {_label(sharing.tlp)}, which needs "
                         f"{needs}: not imported")
    return with_sharing(note, sharing)


def event_objects(event: MISPEvent, default_group: str | None = None, importer: str = "") -> list[dict[str, Any]]:
    """The STIX objects a MISP event stands for (see the module docstring); ``importer``: the
    organisation a foreign event is imported as (:func:`foreign_note`)."""
    item = event_item(event, default_group)
    return to_stix(item) if item is not None else [foreign_note(event, default_group, importer)]
