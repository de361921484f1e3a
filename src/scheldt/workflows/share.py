"""Sharing use cases: share an alert, a seizure report or a watchlist entry, record feedback on
an alert, receive what partners share.

What is shared is stored on this node first (:func:`scheldt.workflows.sharing.ingest_objects`,
``source="local"``, owner = the acting principal's organisation), where the one visibility
policy serves it to the REST API, TAXII, federation peers and MISP export alike.

Watchlist entries, whoever shares them (this node or a partner), land in the watchlist store
party screening reads (list ``shared:<sharing group>``, or ``shared:community`` without one;
supplied by the organisation that made the entry; only entries every agency owning trips on
the node may see, since that store is one per node), and the stored container trips are screened
against them at once (:func:`receive_objects`): container numbers, seal ranges, routes and
addresses exactly (:mod:`scheldt.risk.watch_match`), party names with party screening
(:mod:`scheldt.risk.screening`). A match raises a local alert for the agency that owns the trip
(only when the policy lets that agency see the entry): TLP:AMBER+STRICT in the agency's private
group ``local:<organisation>`` (TLP:RED to its named users when the entry is RED), so no one
else sees it until an officer shares an alert of their own. Name matches also reach scores at
the next re-scoring (``watchlist_matches`` facts).

Errors: InputError for bad terms or values, NotFoundError for a trip, order or alert the
principal's organisation may not see, ForbiddenError without :attr:`Permission.SHARE`,
ConflictError for a scan order without a seizure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from scheldt.domain.access import Organisation, OrgKind, Permission, Principal, trip_scope
from scheldt.domain.audit import audit_payload
from scheldt.domain.exchange import (
    LOCAL_GROUP,
    Audience,
    Requester,
    Tlp,
    check_evaluation,
    may_see,
    parse_tlp,
    version_key,
)
from scheldt.domain.identifiers import container_number as iso6346_number
from scheldt.domain.identifiers import is_unlocode_shape
from scheldt.domain.trips import TripFacts, screened_parties, trip_facts_from_dict
from scheldt.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from scheldt.exchange.items import (
    NAME_KINDS,
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
    is_country,
)
from scheldt.exchange.misp import (
    DeletedItem,
    MarkingRefused,
    deleted_item,
    event_objects,
    item_event,
    read_each_event,
    stated_object,
)
from scheldt.exchange.objects import (
    NAMESPACE,
    SHARING_EXTENSION_ID,
    Sharing,
    StatedTerms,
    granular_levels,
    identity_id,
    marked_properties,
    sharing_of,
    stated_terms,
    stix_time,
    wider_than,
)
from scheldt.exchange.stix_mapping import (
    ALERT_EXTENSION_ID,
    SEIZURE_EXTENSION_ID,
    SEIZURE_TYPE,
    WATCH_EXTENSION_ID,
    from_stix,
    item_kind,
    items_in,
    part_ids,
    to_stix,
    watch_label,
)
from scheldt.risk.indicators import INDICATORS
from scheldt.risk.screening import DEFAULT_THRESHOLD, SHARED_PREFIX, WatchlistEntry, WatchlistIndex
from scheldt.risk.watch_match import match, trip_ports, trip_seals
from scheldt.workflows.accounts import require
from scheldt.workflows.screening import SCREENED_ROLES
from scheldt.workflows.sharing import MAX_OBJECTS, IngestReport, agency_only, ingest_objects, organisations_by_identity
from scheldt.workflows.trip_scoring import live_profile, trip_facts

#: Containers whose trips' facts are gathered at once while screening.
SCREEN_BATCH = 1_000
#: Name of this node's secret namespace of local alert ids (``node_secret``, migration 0017).
ALERT_ID_NAMESPACE = "local-alert-ids"
#: Name of this node's secret namespace of seizure report ids (one report per scan order).
SEIZURE_ID_NAMESPACE = "seizure-report-ids"
#: How many times one scan order's seizure report may be withdrawn and shared anew, and one
#: watchlist match's alert withdrawn and raised anew (:func:`_id_in_series`).
MAX_RESHARES = 100
_GROUP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_RECIPIENT = re.compile(r"^([a-z0-9][a-z0-9-]{1,63})/([a-z0-9][a-z0-9._-]{1,63})$")
_HS = re.compile(r"^[0-9]{2,10}$")
_SIZE_TYPE = re.compile(r"^[0-9A-Z]{4}$")
_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
_CODE = re.compile(r"[^a-z0-9_:.-]+")


@dataclass(frozen=True, slots=True)
class Terms:
    """Sharing terms as a request gives them (see :func:`sharing_terms`)."""

    tlp: str
    group: str | None = None
    handling_code: str = ""
    reliability: str | None = "X"  # None: as shared before (a seizure report), else X
    credibility: str | None = "4"
    recipients: tuple[str, ...] = ()
    valid_until: datetime | None = None


@dataclass
class Received:
    """What :func:`receive_objects` did: the ingest report, the watchlist entries landed in
    the watchlist store (STIX ids) and the local alerts their matches raised (STIX ids)."""

    report: IngestReport
    entries: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    #: items withdrawn (main objects' STIX ids): a MISP event whose Scheldt object its user deleted
    withdrawn: list[str] = field(default_factory=list)


def ms(t: datetime) -> datetime:
    """``t`` in UTC, to the millisecond (as STIX timestamps carry it)."""
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def check_group_id(group_id: str) -> str:
    """A sharing group id: 2-64 lower-case letters, digits or hyphens. Raises InputError."""
    if not _GROUP_ID.match(group_id or ""):
        raise InputError("sharing group id", f"{group_id!r} must be 2-64 lower-case letters, digits or hyphens")
    return group_id


def create_group(uow: Any, principal: Principal, group_id: str, name: str, members: Sequence[str],
                 now: datetime) -> dict[str, Any]:
    """Create a sharing group owned by the principal's organisation, the agency running this
    node, with ``members`` (existing organisations; the owner is always one). Raises
    ForbiddenError for a partner agency's user, InputError for a bad or taken id or an unknown
    member."""
    require(principal, Permission.SHARE)
    if not principal.host:
        # an attack review: a guest agency made a group of the id a third agency's objects were
        # pulled under (or would be), with itself as a member, read them, and kept the host from
        # defining it; the groups of a node mirror its partners' and are its agency's to define
        raise ForbiddenError("sharing group", f"{principal.organisation.id} is a partner agency on this node: its "
                             "sharing groups are defined by the agency that runs it (or its operator: scheldt group "
                             "create)")
    return create_group_as(uow, principal.organisation.id, group_id, name, members, now)


def create_group_as(uow: Any, owner_org: str, group_id: str, name: str, members: Sequence[str],
                    now: datetime) -> dict[str, Any]:
    """:func:`create_group` for the node itself (the command line): ``owner_org`` owns it."""
    check_group_id(group_id)
    if not name.strip() or len(name) > 200:
        raise InputError("sharing group name", "give a name of 1-200 characters")
    if _organisation(uow, owner_org, "owner").kind != OrgKind.AGENCY:
        raise InputError("owner", f"{owner_org} is not an agency: sharing groups are of agencies")
    for org in sorted(set(members)):
        if _organisation(uow, org, "members").kind != OrgKind.AGENCY:
            raise InputError("members", f"{org} is not an agency: a sharing group is of agencies, whose alerts carry "
                             "risk scores and reasons; a shipping line or terminal reads TLP:AMBER objects as a "
                             "client of its agency (scheldt org create ... --client-of AGENCY)")
    _refuse_outside_owners(uow, group_id, {owner_org, *members})
    uow.exchange.add_group(group_id, name.strip(), owner_org, sorted(set(members)), now)
    _take_up_entries(uow, group_id, now)
    return uow.exchange.group(group_id)


def _take_up_entries(uow: Any, group_id: str, now: datetime) -> list[str]:
    """Land the watchlist entries stored under ``group_id`` before the group was defined here
    (pulled from a partner node: read by no one until then) and screen the stored trips against
    them, as when they arrived (:func:`land_entries`, :func:`screen_trips`); a federation
    review's entry stayed out of the watchlist store, and matched nothing, after the group was
    made. Returns the ids of the alerts raised."""
    ids: set[str] = set()
    after = None
    while True:
        page = uow.exchange.page(None, group_id=group_id, types=["indicator"], after_seq=after, limit=EXPORT_PAGE,
                                 with_object=False)
        ids.update(o.stix_id for o in page)
        if len(page) < EXPORT_PAGE:
            break
        after = page[-1].seq
    holding = _live_entries([s for s in uow.exchange.newest(ids).values() if s.group_id == group_id], now)
    if not holding:
        return []
    land_entries(uow, holding, now)
    return screen_trips(uow, holding, now)


def _refuse_outside_owners(uow: Any, group_id: str, members: set[str]) -> None:
    """Refuse to define a group that stored objects of a non-member already name: its members
    would read what that organisation shared into a group of the same id on another node
    (a review: a US entry pulled into "be-nl" before the group was made here became readable
    by the Dutch analysts). Raises InputError naming the organisations."""
    outside = {org: n for org, n in uow.exchange.owners_naming_group(group_id).items() if org not in members}
    if outside:
        said = ", ".join(f"{n} from {org}" for org, n in outside.items())
        raise InputError("members", f"stored object versions already name sharing group {group_id!r} ({said}), "
                         f"shared into a group of that id on another node; add "
                         f"{' and '.join(outside)} as member(s) if the group is the same, or choose another id")


def groups_of(uow: Any, principal: Principal) -> list[dict[str, Any]]:
    """The sharing groups the principal's organisation is a member of, with their members."""
    require(principal, Permission.SHARE)
    mine = uow.exchange.groups_of(principal.organisation.id)
    return [g for g in uow.exchange.groups() if g["id"] in mine]


def _organisation(uow: Any, org_id: str, where: str) -> Organisation:
    try:
        return uow.accounts.organisation(org_id)
    except NotFoundError:
        raise InputError(where, f"no organisation {org_id!r}") from None


def sharing_terms(uow: Any, org_id: str, kind: str, terms: Terms, now: datetime, host: bool = False,
                  watch_kind: str = "") -> Sharing:
    """Check the terms an organisation shares an item under and make them :class:`Sharing`:
    a TLP 2.0 level; a sharing group the organisation is a member of (required for AMBER and
    AMBER+STRICT); for RED, named recipients ``organisation/username`` of existing
    organisations (and only for RED); reliability A/B/C/X and credibility 1-4; a handling code
    of at most 200 characters; validity from ``now`` to ``valid_until`` (after ``now``).
    ``host``: the organisation runs this node, so its recipients must be its active users here.
    ``watch_kind``: a watchlist entry's kind (entries for containers and seal ranges go to
    agencies only, as alerts do: :func:`scheldt.workflows.sharing.agency_only`).
    Raises InputError naming the term at fault."""
    tlp = parse_tlp(terms.tlp)
    reason = agency_only(kind, watch_kind)
    if reason is not None:
        _agencies_only(tlp, reason)
    reliability, credibility = check_evaluation(terms.reliability, terms.credibility)
    group = terms.group or None
    members: list[str] = []
    if group is not None:
        try:
            members = uow.exchange.group(group)["members"]
        except NotFoundError:
            raise InputError("sharing_group", f"no sharing group {group!r}") from None
        if org_id not in members:
            raise InputError("sharing_group", f"{org_id} is not a member of {group}")
    if tlp in (Tlp.AMBER, Tlp.AMBER_STRICT) and group is None:
        raise InputError("sharing_group", f"TLP:{tlp.value.upper()} is shared within a sharing group: name one")
    if group is not None and tlp in (Tlp.CLEAR, Tlp.GREEN):
        # a review's GREEN item "of be-us" was in no TAXII collection but be-us's, yet shown to
        # every agency in the workbench: GREEN and CLEAR are the community's, not a group's
        raise InputError("sharing_group", f"TLP:{tlp.value.upper()} reaches the whole community, not a sharing "
                         "group: leave the group out, or mark it AMBER+STRICT for the group's agencies")
    recipients = _recipients(uow, terms.recipients, agencies_only=reason is not None,
                             members=members if group is not None else None, host_org=org_id if host else "")
    if tlp == Tlp.RED and not recipients:
        raise InputError("recipients", "TLP:RED goes to named recipients only: give organisation/username")
    if tlp != Tlp.RED and recipients:
        raise InputError("recipients", f"only TLP:RED names recipients (this is TLP:{tlp.value.upper()})")
    if len(terms.handling_code) > 200:
        raise InputError("handling_code", "at most 200 characters")
    start = ms(now)
    until = ms(terms.valid_until) if terms.valid_until is not None else None
    if until is not None and until <= start:
        raise InputError("valid_until", "must be in the future")
    return Sharing(kind, tlp, group, terms.handling_code.strip(), reliability, credibility, recipients, start, until)


def _recipients(uow: Any, given: Sequence[str], agencies_only: bool = False,
                members: Sequence[str] | None = None, host_org: str = "") -> tuple[tuple[str, str], ...]:
    """``organisation/username`` recipients as pairs, of existing organisations; with
    ``agencies_only``, of agencies only (a review addressed a TLP:RED alert to a carrier's user,
    who read customs' score and reasons about another line's box); with ``members`` (the
    sharing group's), of those only; at ``host_org`` (the agency running this node, whose users
    this node holds), only its active users: a review's RED alert to a mistyped name reached
    no one, and would reach whoever was later given that name. Partners' users are not known
    here. Raises InputError at ``recipients.<i>``."""
    out = set()
    for i, text in enumerate(given):
        m = _RECIPIENT.match(str(text).strip())
        if not m:
            # what each part may be (a federation review's 'us-cbp/x' read as not of that form)
            raise InputError(f"recipients.{i}", f"{str(text)[:140]!r} is not organisation/username: an organisation "
                             "id of 2-64 lower-case letters, digits or '-', a username of 2-64 lower-case letters, "
                             "digits, '.', '_' or '-', each beginning with a letter or digit")
        org = _organisation(uow, m.group(1), f"recipients.{i}")
        if agencies_only and org.kind != OrgKind.AGENCY:
            raise InputError(f"recipients.{i}", f"{org.id} is a {org.kind.value}: this item goes to agencies only")
        if members is not None and org.id not in members:
            raise InputError(f"recipients.{i}", f"{org.id} is not a member of the sharing group named")
        if org.id == host_org and not _active_user_of(uow, m.group(2), org.id):
            raise InputError(f"recipients.{i}", f"{org.id} has no active user {m.group(2)!r} on this node")
        out.add((m.group(1), m.group(2)))
    return tuple(sorted(out))


def _active_user_of(uow: Any, username: str, org_id: str) -> bool:
    try:
        user = uow.accounts.user(username)
    except NotFoundError:
        return False
    return bool(user.active) and user.organisation_id == org_id


def _meta(org_id: str, stix_type: str, sharing: Sharing, now: datetime, stix_id: str | None = None) -> Meta:
    t = ms(now)
    return Meta(stix_id or f"{stix_type}--{uuid.uuid4()}", identity_id(org_id), t, t, sharing)


def publish(uow: Any, item: Item, owner_org: str, now: datetime) -> dict[str, Any]:
    """Store an item's STIX objects on this node (``source="local"``), land a watchlist entry
    and screen trips against it. Returns ``{"id", "kind", "tlp", "sharing_group", "objects"
    (STIX ids, main object first), "alerts" (local alerts a watchlist entry raised)}``. Raises
    InputError when an object is refused."""
    objects = to_stix(item)
    received = receive_objects(uow, objects, owner_org, "local", item.meta.sharing.group, now)
    if received.report.failed:
        where, why = received.report.failed[0]
        raise InputError(where, why)
    return {"id": item.meta.stix_id, "kind": item.meta.sharing.kind, "tlp": item.meta.sharing.tlp.value,
            "sharing_group": item.meta.sharing.group, "objects": [o["id"] for o in objects],
            "recipients": [f"{o}/{u}" for o, u in item.meta.sharing.recipients], "alerts": received.alerts}


# --- from a container trip ------------------------------------------------------------------------

def _clean(text: Any, limit: int) -> str:
    """Free text an officer typed, on one line, at most ``limit`` characters, NUL characters
    dropped (a review's NUL in a note was refused naming a STIX property it never saw)."""
    return " ".join(str(text or "").replace("\x00", " ").split())[:limit].strip()


def _locode(code: Any) -> str:
    code = str(code or "").strip().upper()
    return code if is_unlocode_shape(code) else ""


def trip_label(trip: dict[str, Any]) -> str:
    """A trip as partners read it: ``container / document / voyage`` (the parts it has)."""
    return _clean(" / ".join(str(x) for x in (trip["container_number"], trip.get("document_ref"), trip.get("voyage"))
                             if x), 300)


def _trip(uow: Any, principal: Principal, trip_id: int) -> tuple[dict[str, Any], dict[str, Any] | None, TripFacts | None]:
    """The trip (read model), its latest assessment and the facts it was computed from."""
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    assessment = uow.trip_assessments.get(trip["assessment_id"]) if trip.get("assessment_id") else None
    facts = trip_facts_from_dict(assessment["facts"]) if assessment else None
    return trip, assessment, facts


def trip_subjects(trip: dict[str, Any],
                  facts: TripFacts | None) -> tuple[Container | None, Consignment | None, VesselCall | None]:
    """The container, consignment (latest document version) and vessel call of a trip, with
    the values that pass the item checks (a malformed code is left out, text trimmed; a
    container number not shaped as ISO 6346 gives no container)."""
    events = sorted(facts.events, key=lambda e: e.event_time) if facts else []
    size = next((e.iso_equipment_code for e in reversed(events) if _SIZE_TYPE.match(e.iso_equipment_code or "")), "")
    seals = tuple(dict.fromkeys(_clean(s, 64) for s in (trip_seals(facts) if facts else []) if _clean(s, 64)))
    number = str(trip["container_number"])
    container = Container(number, size, seals) if _CONTAINER.match(number) else None
    doc = facts.latest_document() if facts else None
    ref = _clean(doc.document_ref if doc and doc.document_ref else trip.get("document_ref"), 128)
    consignment = None
    if ref:
        def name(role: str) -> str:
            party = next((p for p in (doc.parties if doc else ()) if p.role.replace("_", " ") == role), None)
            return _clean(party.name, 500) if party else ""
        consignment = Consignment(
            ref,
            "house" if doc is not None and doc.document_type == "HBL" else "master",
            _clean((doc.carrier_code if doc else "") or trip.get("carrier_code"), 16),
            _locode((doc.port_of_loading if doc else "") or trip.get("port_of_loading")),
            _locode((doc.port_of_discharge if doc else "") or trip.get("port_of_discharge")),
            name("shipper"), name("consignee"), name("notify party"),
            tuple(dict.fromkeys(c for c in (doc.hs_codes if doc else ()) if _HS.match(c))))
    imo = str(trip.get("vessel_imo") or "")
    vessel = None
    if re.fullmatch(r"[0-9]{7}", imo):
        arrival = trip.get("arrival_at")
        vessel = VesselCall(imo, "", _clean(facts.key.voyage if facts else trip.get("voyage"), 64),
                            _locode(trip.get("port_of_discharge")), ms(arrival) if arrival else None)
    return container, consignment, vessel


def _parties_of_interest(facts: TripFacts | None) -> tuple[Party, ...]:
    """The trip's parties that matched a watchlist entry, with address and country."""
    if facts is None:
        return ()
    doc = facts.latest_document()
    out: dict[tuple[str, str], Party] = {}
    for m in facts.watchlist_matches:
        party = next((p for p in (doc.parties if doc else ()) if p.name == m.party_name and p.role == m.role), None)
        country = (party.country if party else "").upper()
        out[(m.role, m.party_name)] = Party(_clean(m.party_name, 500), "company", _clean(m.role, 64),
                                            _clean(party.address if party else "", 1000),
                                            country if is_country(country) else "")
    return tuple(p for p in out.values() if p.name)


def _reasons(assessment: dict[str, Any] | None, extra: str) -> tuple[Reason, ...]:
    out = []
    for r in (assessment or {}).get("reasons") or []:
        code = _CODE.sub("_", str(r.get("indicator") or r.get("code") or "reason").lower())[:64] or "reason"
        text = _clean(r.get("evidence") or r.get("sentence") or r.get("text"), 4000)
        if text:
            out.append(Reason(code, text))
    if extra.strip():
        out.append(Reason("officer", _clean(extra, 4000)))
    return tuple(out)


def alerts_shared_about(uow: Any, principal: Principal, trip_id: int) -> list[dict[str, Any]]:
    """The alerts the organisation shared about one of its trips (newest first, each once as
    its newest version; a withdrawn alert names no trip any more; not its local watchlist-match
    alerts, which were not shared): ``{"id", "tlp", "group",
    "shared_at", "feedback"}``, so an officer sees what partners already have before sharing
    again (a review shared one trip three times); ``feedback``: the partners' sightings of it
    the user may read, ``{"id", "tlp", "from", "at"}`` each (``at``: when the partner made it,
    STIX timestamp text), oldest first. Raises NotFoundError for a trip the organisation does
    not own."""
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    versions = uow.exchange.own_where(principal.organisation.id, "alert", ("extensions", ALERT_EXTENSION_ID, "trip"),
                                      trip_label(trip))
    newest: dict[str, Any] = {}
    for v in versions:
        newest.setdefault(v.stix_id, v)
    # an agency's own watchlist-match alerts were never shared, and a partner's RED entry's is
    # read only by the users it names (a federation review: every officer saw on the trip page
    # that a RED alert existed, "shared from this trip")
    shared = [v for v in newest.values() if not v.revoked and not (v.group_id or "").startswith(LOCAL_GROUP)]
    # partners' feedback on them, as far as the officer may read it (a federation review: the
    # sightings sent back reached the exchange pages only, never the trip they were about)
    answers = uow.exchange.sightings_of(uow.exchange.requester(principal.organisation.id, principal.username),
                                        [v.stix_id for v in shared]) if shared else {}
    return [{"id": v.stix_id, "tlp": v.tlp, "group": v.group_id or "", "shared_at": v.date_added,
             "feedback": [{"id": f.stix_id, "tlp": f.tlp, "from": f.owner_org, "at": f.object.get("created", "")}
                          for f in answers.get(v.stix_id, [])]}
            for v in shared]


def watchlist_alerts_about(uow: Any, principal: Principal, trip_id: int, now: datetime) -> list[dict[str, Any]]:
    """The live local alerts watchlist matches raised on one of the organisation's trips (a
    partner's container, seal-range, route or company entry) that the user may read, by id:
    ``{"id", "title", "why", "tlp", "raised_at"}`` (``why``: each reason's words, one a line;
    ``raised_at``: STIX timestamp text). Live: not withdrawn, and not past its ``valid_until``
    at ``now`` (UTC; an alert is valid while its entry was: a sharing review's trip page listed
    the match of an entry that had expired and left the store). A carrier review: a partner's
    entry for a container raised an alert that only the exchange list showed; the trip's page
    and the queue said nothing of it. Raises NotFoundError for a trip the organisation does not
    own."""
    trip = uow.container_trips.get(trip_id, trip_scope(principal.organisation))
    label = trip_label(trip)
    ids = uow.exchange.local_alerts_naming(trip["container_number"], [f"{LOCAL_GROUP}{principal.organisation.id}"[:64]])
    requester = uow.exchange.requester(principal.organisation.id, principal.username)
    return [{"id": v.stix_id, "title": v.object.get("name", ""), "tlp": v.tlp, "raised_at": v.object.get("created", ""),
             "why": "\n".join(str(r.get("text", "")) for r in _alert_ext(v).get("reasons") or []
                              if isinstance(r, dict))}
            for v in uow.exchange.newest(ids).values()
            if not v.revoked and (v.valid_until is None or v.valid_until >= now)
            and _alert_ext(v).get("trip") == label and may_see(requester, _audience(uow, v))]


def _agencies_only(tlp: Tlp, what: str) -> None:
    """Refuse TLP:CLEAR and TLP:AMBER for an item no shipping line or terminal may read (CLEAR
    reaches everyone, AMBER the members' client companies too). Raises InputError naming ``tlp``."""
    if tlp in (Tlp.CLEAR, Tlp.AMBER):
        raise InputError("tlp", f"{what}, which no shipping line or terminal may read (TLP:CLEAR reaches everyone, "
                         "TLP:AMBER the members' client companies too): mark it GREEN (agencies), AMBER+STRICT (the "
                         "group's agencies) or RED")


def share_alert(uow: Any, principal: Principal, trip_id: int, terms: Terms, now: datetime,
                note: str = "") -> dict[str, Any]:
    """Share an alert about one of the organisation's container trips: its container,
    consignment, vessel call and watchlist-matched parties, with the reasons of its latest
    score (and the officer's ``note`` as one more reason). Returns what :func:`publish` returns.
    Raises InputError when the trip has no reasons and no note is given."""
    require(principal, Permission.SHARE)
    org = principal.organisation.id
    trip, assessment, facts = _trip(uow, principal, trip_id)
    reasons = _reasons(assessment, note)
    if not reasons:
        raise InputError("note", f"trip {trip_id} has no scored reasons: say why it is of interest")
    container, consignment, vessel = trip_subjects(trip, facts)
    score = float(assessment["score"]) if assessment else None
    title = f"Container {trip['container_number']}" + (f": risk score {round(score, 1):g} of 100" if score is not None else "")
    sharing = sharing_terms(uow, org, "alert", terms, now, principal.host)
    item = Alert(_meta(org, "grouping", sharing, now), title, reasons,
                 score if score is None or 0 <= score <= 100 else None, trip_label(trip), container, consignment, vessel,
                 _parties_of_interest(facts))
    uow.exchange.lock_writers()  # two identical requests at once: one alert
    same = _same_alert_shared(uow, principal, item)
    if same is not None:
        return same
    return publish(uow, item, org, now)


def _same_alert_shared(uow: Any, principal: Principal, item: Alert) -> dict[str, Any] | None:
    """What :func:`publish` returned for a live alert the organisation shared about the same
    trip that says the same as ``item`` (title, reasons, score, container, consignment, vessel
    call, parties) under the same terms (all but the time it was shared), with ``"already":
    True``; None when there is none. A request sent twice (a retry, a double click) shared the
    same alert twice, and partners counted two alerts."""
    org = principal.organisation.id
    requester = uow.exchange.requester(org, principal.username)
    for version in uow.exchange.own_where(org, "alert", ("extensions", ALERT_EXTENSION_ID, "trip"), item.trip):
        newest = uow.exchange.newest([version.stix_id]).get(version.stix_id)
        if newest is None or newest.revoked or newest.seq != version.seq:
            continue
        try:
            stored = from_stix([newest.object, *(v.object for v in parts_of(uow, requester, newest))], newest.stix_id,
                               newest.group_id)
        except InputError:
            continue
        if isinstance(stored, Alert) and _same_terms(stored.meta.sharing, item.meta.sharing) and replace(
                stored, meta=item.meta) == item:
            return {"id": newest.stix_id, "kind": "alert", "tlp": newest.tlp, "sharing_group": newest.group_id,
                    "objects": [o["id"] for o in to_stix(stored)],
                    "recipients": [f"{o}/{u}" for o, u in stored.meta.sharing.recipients], "alerts": [],
                    "already": True}
    return None


def _same_terms(a: Sharing, b: Sharing) -> bool:
    """Whether two sharing terms are the same but for when they start (``valid_from``)."""
    return replace(a, valid_from=None, recipients=tuple(sorted(a.recipients))) == replace(
        b, valid_from=None, recipients=tuple(sorted(b.recipients)))


def share_seizure_report(uow: Any, principal: Principal, order_id: int, terms: Terms, now: datetime,
                         description: str | None = None) -> dict[str, Any]:
    """Share the seizure a scan order of the organisation recorded: what, how much, where it
    was hidden, how the container was picked, when, the port of loading and origin country,
    with the trip's container, consignment and vessel call.

    One scan order has one report: sharing it again (new terms, a corrected record) makes a new
    version of the same STIX object, which partners take as replacing the earlier one, not a
    second seizure (a review counted one seizure twice at a partner). Once withdrawn
    (:func:`withdraw_item`), it is shared anew under a new id (STIX: a revoked object stays
    revoked). ``description`` None: a report shared before keeps its text (a regression review's
    re-share to change only the terms wiped it); so does its evaluation when ``terms`` give none
    (``reliability``/``credibility`` None). Raises ConflictError when the order recorded no
    seizure."""
    require(principal, Permission.SHARE)
    org = principal.organisation.id
    earlier = shared_seizure_report(uow, org, order_id, now)
    if terms.reliability is None or terms.credibility is None:  # not given: as shared before, else X4 (an
        # exchange review's re-marking dropped a report's evaluation from A1 to X4 without a word)
        terms = replace(terms, reliability=terms.reliability or (earlier.reliability if earlier else "X"),
                        credibility=terms.credibility or (earlier.credibility if earlier else "4"))
    sharing = sharing_terms(uow, org, "seizure-report", terms, now, principal.host)
    kept = str(earlier.object.get("description") or "") if earlier is not None else ""
    if description is None or (kept and description.strip() == report_text({"description": kept}).strip()):
        # the text as shared keeps its correction note: the workbench's form holds the text without
        # it (a regression review's re-marked report lost the note, and the next said 90 → 95 kg
        # under a text written at 100 kg)
        description = kept
    return _publish_seizure(uow, principal, order_id, sharing, _clean(description, 4000), now)


def _publish_seizure(uow: Any, principal: Principal, order_id: int, sharing: Sharing, description: str,
                     now: datetime) -> dict[str, Any]:
    """Publish (a new version of) the seizure report of a scan order under ``sharing``."""
    uow.exchange.lock_writers()  # before reading the newest version (a withdrawal may race it)
    org = principal.organisation.id
    order = uow.inspections.order(order_id, org)
    if order.get("status") == "cancelled":  # a regression review shared a withdrawn record anew
        raise ConflictError(f"scan order {order_id}", "is cancelled (a record withdrawn as of another box records "
                            "nothing of this trip)")
    if order.get("result") != "seizure":
        raise ConflictError(f"scan order {order_id}", f"recorded no seizure (result: {order.get('result') or 'none yet'})")
    trip, _, facts = _trip(uow, principal, order["trip_id"])
    container, consignment, vessel = trip_subjects(trip, facts)
    pol = _locode(trip.get("port_of_loading")) or (consignment.port_of_loading if consignment else "")
    # seized when the search found it: a correction of the record moved it (two reviews)
    seized_at = uow.inspections.searched_at(order_id) or order["updated_at"]
    seizure = Seizure(order["drug_type"], float(order["mass_kg"]), order["concealment"], order["selection"],
                      ms(seized_at), pol, pol[:2] if is_country(pol[:2]) else "", description,
                      order.get("method") or "", tuple(n for n in (order.get("seals_found") or "").split(", ") if n))
    stix_id, earlier = _seizure_report_id(uow, org, order_id, now)
    meta = _meta(org, SEIZURE_TYPE, sharing, now, stix_id)
    if earlier is not None:  # a new version: same created, a later modified
        created = _stix_datetime(earlier.object["created"])
        modified = max(ms(now), _stix_datetime(earlier.modified) + _ONE_MS)
        meta = Meta(stix_id, meta.created_by, created, modified, sharing)
    return publish(uow, SeizureReport(meta, seizure, container, consignment, vessel), org, now)


_ONE_MS = timedelta(milliseconds=1)


def _stix_datetime(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _seizure_report_id(uow: Any, org: str, order_id: int, now: datetime) -> tuple[str, Any]:
    """The STIX id of the scan order's seizure report (uuid5 in this node's secret namespace, so a
    partner cannot compute another's) and its newest stored version, or None before the first
    share; an id whose report was withdrawn is passed over. Raises ConflictError after
    :data:`MAX_RESHARES` withdrawals."""
    found = _id_in_series(uow, SEIZURE_TYPE, uow.exchange.node_namespace(SEIZURE_ID_NAMESPACE, now),
                          f"{org}/{order_id}", "/")
    if found is None:
        raise ConflictError(f"scan order {order_id}", f"its seizure report was withdrawn {MAX_RESHARES} times")
    return found


def _id_in_series(uow: Any, stix_type: str, namespace: uuid.UUID, key: str, sep: str) -> tuple[str, Any] | None:
    """The first STIX id of the series uuid5(``namespace``, ``key``), then ``key`` + ``sep`` + 1,
    + 2 ... (:data:`MAX_RESHARES` ids) whose newest stored version is not revoked, with that
    version (None: nothing stored under it yet); None when every one was withdrawn. An item
    withdrawn and made again (a seizure report shared after its withdrawal, an alert whose
    entry changed away from the trip and back) takes the next id: a revoked STIX object stays
    revoked."""
    for n in range(MAX_RESHARES):
        stix_id = f"{stix_type}--{uuid.uuid5(namespace, key + (f'{sep}{n}' if n else ''))}"
        newest = uow.exchange.newest([stix_id]).get(stix_id)
        if newest is None or not newest.revoked:
            return stix_id, newest
    return None


def shared_seizure_report(uow: Any, org: str, order_id: int, now: datetime) -> Any:
    """The newest stored version of the scan order's seizure report in force (shared, not
    withdrawn), or None."""
    return _seizure_report_id(uow, org, order_id, now)[1]


def follow_correction(uow: Any, principal: Principal, order_id: int, now: datetime) -> dict[str, Any] | None:
    """After a search record was corrected: the order's seizure report in force, if one was
    shared, follows the record. Still a seizure: a new version with the corrected values under
    the same terms and description; no longer one, or the record withdrawn (it was of another
    box): withdrawn (:func:`withdraw_item`). Done for
    the organisation whoever corrects (a search team member need not share). Returns what was
    done (``{"id", "action": "updated" | "withdrawn"}``) or None without a report."""
    org = principal.organisation.id
    uow.exchange.lock_writers()
    stored = shared_seizure_report(uow, org, order_id, now)
    if stored is None:
        return None
    order = uow.inspections.order(order_id, org)
    if order.get("result") != "seizure" or order.get("status") == "cancelled":
        what = "withdrawal" if order.get("status") == "cancelled" else "correction"
        _withdraw(uow, _agency_requester(uow, org), stored, f"{what} of scan order {order_id}", now,
                  principal.username)
        return {"id": stored.stix_id, "action": "withdrawn"}
    recipients = tuple(sorted(uow.exchange.recipients(stored.seq)))
    # a correction changes what was found, not how long the report holds (a review's expired
    # report came back valid for ever)
    sharing = Sharing("seizure-report", Tlp(stored.tlp), stored.group_id, stored.handling_code, stored.reliability,
                      stored.credibility, recipients, stored.valid_from or ms(now), stored.valid_until)
    written = [v.object for v in uow.exchange.versions(None, stored.stix_id)]
    description = corrected_description(written, order, now)
    _publish_seizure(uow, principal, order_id, sharing, description, now)
    return {"id": stored.stix_id, "action": "updated"}


#: The seizure facts a search record's correction may change, as a report names them.
_CORRECTED = (("drug_type", "drug"), ("mass_kg", "mass"), ("concealment", "hidden"), ("method", "method"))


def corrected_description(versions: list[dict[str, Any]], order: dict[str, Any], now: datetime) -> str:
    """The description of a seizure report (its stored STIX objects ``versions``, oldest first)
    after its scan order's search record was corrected to ``order``'s values: the officer's
    text with one note of what differs from the facts as they stood when that text was written
    (its first version), and when (UTC), so that a partner reading "212.5 kg behind the
    evaporator" above a corrected 198 kg sees which is current (a review: the first
    description stayed as written). One note only, the text cut to leave it room (a review's
    notes piled up past 4,000 characters, and the newest was cut off). A report without a
    description, or facts back as the text was written, keeps the text alone."""
    current = report_text(versions[-1]) if versions else ""
    cut = len(current) >= 4000 - _NOTE_ROOM  # a note's room may have cut its end
    written: dict[str, Any] = {}
    for v in reversed(versions):  # back to the first of the versions with this text (a re-share with
        # another text starts anew: a regression review's removed sentence came back)
        if not (report_text(v) == current or (cut and report_text(v).startswith(current))):
            break
        written = v
    text = report_text(written) or current
    # the facts the text was written for: those the note of that version says were corrected (a
    # report re-marked keeps its noted text, its earlier versions gone: an exchange review's note
    # said "mass 90 kg → 95 kg" below a text written at 100 kg), the others as that version has them
    before = _noted_before(str(written.get("description") or ""))
    was = {key: before.get(key, _seizure_value(key, written.get(key))) for key, _ in _CORRECTED}
    changed = [f"{label} {was[key]} → {_seizure_value(key, order.get(key))}"
               for key, label in _CORRECTED if was[key] != _seizure_value(key, order.get(key))]
    if not text or not changed:
        return text
    note = (f" [Corrected {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {', '.join(changed)}; the text before this note "
            "was written before the correction.]")
    return _clean(text, 4000 - len(note)) + note


def _noted_before(description: str) -> dict[str, str]:
    """The facts a description's correction note says were there before (key -> the value as
    :func:`_seizure_value` shows it); empty without a note."""
    note = _NOTE.search(description)
    if note is None:
        return {}
    found = {key: re.search(rf"(?:: |, ){label} (.+?) → ", note.group()) for key, label in _CORRECTED}
    return {key: m.group(1) for key, m in found.items() if m}


def report_text(report: dict[str, Any]) -> str:
    """A seizure report's description (its stored STIX object's) without the correction note
    :func:`corrected_description` added: the officer's own text."""
    return _NOTE.sub("", str(report.get("description") or ""))


#: The most room a correction note takes (three changed facts and the words around them).
_NOTE_ROOM = 400
#: The correction note :func:`corrected_description` adds at the end of a description.
_NOTE = re.compile(r" \[Corrected \d{4}-\d\d-\d\d \d\d:\d\d UTC: .*\]$")


def _seizure_value(key: str, value: Any) -> str:
    """A seizure fact as a correction note shows it: a mass in kg as recorded, without trailing
    zeros whether the store gave a float or a decimal (rounded to 6 figures, 1234.567 and
    1234.568 read the same, and the second correction had no note)."""
    if key == "mass_kg" and value is not None:
        text = repr(float(value))
        return f"{text[:-2] if text.endswith('.0') else text} kg"
    return str(value or "none")


def share_watchlist_entry(uow: Any, principal: Principal, kind: str, note: str, terms: Terms, now: datetime, *,
                          name: str = "", aliases: Sequence[str] = (), address: str = "", country: str = "",
                          container_number: str = "", seal_from: str = "", seal_to: str = "",
                          route: Sequence[str] = ()) -> dict[str, Any]:
    """Share a watchlist entry (see :class:`scheldt.exchange.items.WatchEntry` for what each
    kind takes); it lands in this node's watchlist store too and the trips are screened
    against it. The result (:func:`publish`'s) adds ``warnings``: a container number whose
    ISO 6346 check digit is wrong is shared as typed (a forged number is worth watching), and
    said. Raises InputError for values that do not fit the kind."""
    require(principal, Permission.SHARE)
    org = principal.organisation.id
    sharing = sharing_terms(uow, org, "watchlist-entry", terms, now, principal.host, kind)
    item = WatchEntry(_meta(org, "indicator", sharing, now), kind,
                      note.strip(), name.strip(), tuple(a.strip() for a in aliases), address.strip(),
                      country.strip().upper(), container_number.strip().upper(), seal_from.strip().upper(),
                      seal_to.strip().upper(), tuple(r.strip().upper() for r in route))
    uow.exchange.lock_writers()  # two identical requests at once: one entry
    same = _same_entry_shared(uow, principal, item)
    if same is not None:
        return same | {"warnings": _entry_warnings(item)}
    return publish(uow, item, org, now) | {"warnings": _entry_warnings(item)}


def _same_entry_shared(uow: Any, principal: Principal, item: WatchEntry) -> dict[str, Any] | None:
    """What :func:`publish` returned for a live watchlist entry the organisation shared that
    looks for the same (same pattern, note, name, aliases, address, country) under the same
    terms (all but the time it was shared), with ``"already": True``; None when there is none.
    A screening review's request sent twice shared two entries, each raising its own alert on
    the same trip."""
    org = principal.organisation.id
    pattern = to_stix(item)[0].get("pattern")
    if not isinstance(pattern, str):
        return None
    for version in uow.exchange.own_where(org, "watchlist-entry", ("pattern",), pattern):
        newest = uow.exchange.newest([version.stix_id]).get(version.stix_id)
        if newest is None or newest.revoked or newest.seq != version.seq:
            continue
        try:
            stored = from_stix([newest.object], newest.stix_id, newest.group_id)
        except InputError:
            continue
        if isinstance(stored, WatchEntry) and _same_terms(stored.meta.sharing, item.meta.sharing) and replace(
                stored, meta=item.meta) == item:
            return {"id": newest.stix_id, "kind": "watchlist-entry", "tlp": newest.tlp,
                    "sharing_group": newest.group_id, "objects": [o["id"] for o in to_stix(stored)],
                    "recipients": [f"{o}/{u}" for o, u in stored.meta.sharing.recipients], "alerts": [],
                    "already": True}
    return None


def _entry_warnings(item: WatchEntry) -> list[str]:
    """What an analyst should know of an entry that was shared as given: a container number
    with a wrong ISO 6346 check digit (it matches only boxes reported under that very number;
    a review's typo was shared without a word)."""
    if not item.container_number:
        return []
    _, flag = iso6346_number(item.container_number)
    return [] if flag is None else [f"container_number: {flag.why}; shared as typed: it matches only boxes "
                                    "reported under this very number"]


#: The TLP of feedback on an item marked with the key: no wider than agencies.
_FOR_AGENCIES = {Tlp.CLEAR: Tlp.GREEN, Tlp.AMBER: Tlp.AMBER_STRICT}


def record_sighting(uow: Any, principal: Principal, alert_stix_id: str, result: str, now: datetime, *,
                    count: int = 1, detail: str = "", recipients: Sequence[str] = (), reliability: str = "A",
                    credibility: str = "1") -> dict[str, Any]:
    """Record what the organisation did about an alert it can see (a STIX sighting of it), so
    the feedback flows back to the alert's originator: the sighting keeps the alert's sharing
    group and TLP, made no wider than agencies (CLEAR becomes GREEN, AMBER AMBER+STRICT: what an
    agency found is no shipping line's or terminal's to read; a sharing review's seizure result
    on an AMBER entry, naming another line's box and an informant, was read by a client carrier);
    for a TLP:RED alert it goes to the alert's recipients plus ``recipients``,
    which must name someone at the originating organisation. The evaluation defaults to A/1
    (the organisation's own inspection). Raises NotFoundError for an alert it may not see,
    ConflictError for a revoked one."""
    require(principal, Permission.SHARE)
    org = principal.organisation.id
    requester = uow.exchange.requester(org, principal.username)
    versions = uow.exchange.versions(requester, alert_stix_id)
    if not versions:
        raise NotFoundError(f"alert {alert_stix_id}", "no such shared object")
    alert = versions[-1]
    if alert.revoked:  # a new-user review's feedback on a withdrawn alert was accepted
        raise ConflictError(f"alert {alert_stix_id}", "was revoked by its originator: there is nothing to act on")
    named = _recipients(uow, recipients, agencies_only=True)
    if alert.tlp == Tlp.RED.value:
        had = set(uow.exchange.recipients(alert.seq))
        if not any(o == alert.owner_org for o, _ in named) and not any(o == alert.owner_org for o, _ in had):
            raise InputError("recipients", f"the alert is TLP:RED: name who at {alert.owner_org} receives the "
                             "feedback (organisation/username)")
        # a RED recipient may not pass the alert on: a sighting naming a third agency's officer
        # showed it the alert's id, its recipients and the seizure (access review)
        allowed = {alert.owner_org} | {o for o, _ in had}
        for i, (o, u) in enumerate(named):
            if o not in allowed:
                raise InputError(f"recipients.{i}", f"{o}/{u}: the alert is TLP:RED and {o} is not among its "
                                 f"recipients; feedback goes to {alert.owner_org} and the alert's recipients only")
        named = tuple(sorted(set(named) | had))
    elif named:
        raise InputError("recipients", f"only TLP:RED names recipients (the alert is TLP:{alert.tlp.upper()})")
    reliability, credibility = check_evaluation(reliability, credibility)
    until = alert.valid_until if alert.valid_until and alert.valid_until > ms(now) else None
    tlp = _FOR_AGENCIES.get(Tlp(alert.tlp), Tlp(alert.tlp))
    sharing = Sharing("sighting", tlp, alert.group_id, alert.handling_code, reliability, credibility,
                      named, ms(now), until)
    item = Sighting(_meta(org, "sighting", sharing, now), alert_stix_id, result, ms(now), (identity_id(org),),
                    count, _clean(detail, 4000))
    return publish(uow, item, org, now)


def withdraw_item(uow: Any, principal: Principal, stix_id: str, now: datetime, reason: str = "") -> dict[str, Any]:
    """Withdraw an item the organisation shared (alert, seizure report, watchlist entry or
    sighting, named by its main object's STIX id): its main object gets a new version with
    ``revoked: true`` that names no one (:func:`withdrawn_version`; STIX 2.1 §3.6: partners see
    the item withdrawn and feedback on it is refused); its earlier versions and its parts
    (container, consignment, vessel call, parties: the objects whose ids derive from the main
    id) are deleted on this node, leaving tombstones that peers follow (each reaches whoever
    could read that version), so no partner keeps the names it carried. ``reason`` (required)
    is for the audit log. Returns ``{"id", "revoked": "<modified of the revoked version>",
    "parts_deleted": [STIX ids]}``.

    Raises NotFoundError for an object the organisation may not see, ForbiddenError for
    another organisation's, InputError for an object that is not an item's main object,
    ConflictError for one already withdrawn or one that came from a peer (its own node
    withdraws it)."""
    require(principal, Permission.SHARE)
    org = principal.organisation.id
    uow.exchange.lock_writers()  # before reading the newest version (a re-share may race it)
    requester = uow.exchange.requester(org, principal.username)
    versions = uow.exchange.versions(requester, stix_id)
    if not versions:
        raise NotFoundError(f"shared item {stix_id[:100]}", "no such shared object")
    latest = versions[-1]
    if latest.owner_org != org:
        raise ForbiddenError(f"shared item {stix_id[:100]}", f"it is {latest.owner_org}'s: only its originator withdraws it")
    if latest.source.startswith("peer:"):  # its node would refuse the revocation from this one
        raise ConflictError(f"shared item {stix_id[:100]}", f"it came from {latest.source[5:]}: withdraw it on the "
                            "node it was shared from, and the withdrawal reaches this one")
    if item_kind(latest.object) is None:
        raise InputError("id", f"{stix_id[:100]} is not the main object of an alert, seizure report, watchlist "
                         "entry or sighting (withdraw the item it belongs to)")
    if latest.revoked:
        raise ConflictError(f"shared item {stix_id[:100]}", "was withdrawn already")
    why = _clean(reason, 500)
    if not why:  # a review withdrew with an empty reason: the audit log then said nothing
        raise InputError("reason", "say why it is withdrawn (kept in the audit log; partners are not told)")
    return _withdraw(uow, requester, latest, why, now, principal.username)


def _withdraw(uow: Any, requester: Requester | None, latest: Any, why: str, now: datetime, actor: str,
              source: str = "local") -> dict[str, Any]:
    """Revoke the stored main object ``latest`` with a version that names no one (stored as from
    ``source``), delete its earlier versions and its parts (see :func:`withdraw_item`; those
    ``requester`` may see, None: all), and record that ``actor`` (a username, ``system`` or
    ``misp``) withdrew it and why (:meth:`ExchangeRepository.add_withdrawal`). Raises
    ConflictError when the newest version is dated so late that no later revocation can be."""
    try:
        revoked = withdrawn_version(latest.object, stix_time(max(ms(now), _stix_datetime(latest.modified) + _ONE_MS)))
    except OverflowError:  # stored before versions dated far ahead were refused (a MISP review)
        raise ConflictError(f"shared item {latest.stix_id[:100]}", f"its newest version is dated {latest.modified}: "
                            "no later revocation can be dated") from None
    received = receive_objects(uow, [revoked], latest.owner_org, source, latest.group_id, now)
    if received.report.failed:
        where, problem = received.report.failed[0]
        raise InputError(where, problem)
    # earlier versions go too: a reader of an earlier marking (GREEN, then narrowed) would keep a
    # live copy and never see the revocation; their tombstones reach every reader of each one
    earlier = [v for v in uow.exchange.versions(requester, latest.stix_id) if v.modified != revoked["modified"]]
    parts = parts_of(uow, requester, latest)
    deleted = [(v.seq, v.stix_id, v.modified) for v in earlier + parts]
    for _, sid, modified in deleted:
        uow.exchange.delete(sid, modified, now)
    uow.taxii.add_deletions(deleted, f"withdraw: {why}", now)  # a withdrawn entry left the store on receipt
    uow.exchange.add_withdrawal(latest.stix_id, latest.owner_org, actor, why, now)
    return {"id": latest.stix_id, "revoked": revoked["modified"], "parts_deleted": sorted({v.stix_id for v in parts})}


#: Neutral STIX pattern of a withdrawn watchlist entry (STIX requires one; the entry's named whom).
WITHDRAWN_PATTERN = "[x-scheldt-withdrawn:value = 'withdrawn']"
#: What the revoked version of a withdrawn item keeps, per STIX type, beyond the common
#: properties and the object marking: what STIX requires, and facts that name no one.
_KEPT = {"grouping": ("context", "object_refs"),
         "indicator": ("pattern_type", "pattern_version", "valid_from", "valid_until"),
         "sighting": ("sighting_of_ref", "where_sighted_refs", "count", "first_seen", "last_seen", "labels"),
         SEIZURE_TYPE: ("drug_type", "mass_kg", "concealment", "selection", "seized_at", "port_of_loading",
                        "origin_country", "method")}
_COMMON = ("type", "spec_version", "id", "created", "modified", "created_by_ref", "object_marking_refs")
#: Kept even under a granular marking: what STIX requires (they name no one).
_REQUIRED = frozenset({*_COMMON, "context", "object_refs", "pattern_type", "valid_from", "sighting_of_ref"})
_TITLES = {"grouping": "Withdrawn alert", "indicator": "Withdrawn watchlist entry"}


def withdrawn_version(obj: dict[str, Any], modified: str) -> dict[str, Any]:
    """The revoked version (``revoked: true``, ``modified``) of a withdrawn item's main object
    ``obj``: its id, creator, marking and sharing terms, what STIX requires of its type and the
    facts that name no one; its title, description, reasons, trip, pattern and watchlist values
    (companies, addresses, containers) and references to its parts are left out, so the revoked
    version that partners keep names no one. A field under a granular marking is left out with
    its marking (the revoked version carries none): kept, it would reach readers the marking
    kept it from."""
    marked = marked_properties(obj.get("granular_markings"))  # a field under a stricter marking is left out with it
    out = {k: obj[k] for k in (*_COMMON, *_KEPT.get(obj["type"], ())) if k in obj and (k in _REQUIRED or k not in marked)}
    out.update(modified=modified, revoked=True)
    if obj["type"] in _TITLES:
        out["name"] = _TITLES[obj["type"]]
    if obj["type"] == "indicator":
        out["pattern"] = WITHDRAWN_PATTERN
    ext = obj.get("extensions") or {}
    kept_ext: dict[str, Any] = {k: v for k, v in ext.items() if k == SHARING_EXTENSION_ID}
    for k, v in ext.items():  # the markers that say which kind of item it was
        if k == SEIZURE_EXTENSION_ID:
            kept_ext[k] = v
        elif k == ALERT_EXTENSION_ID:  # reasons are required: one that says what happened
            kept_ext[k] = {"extension_type": "property-extension",
                           "reasons": [{"code": "withdrawn", "text": "Withdrawn by its originator."}]}
        elif k == WATCH_EXTENSION_ID:
            kept_ext[k] = {"extension_type": "property-extension",
                           **({"entry_kind": v["entry_kind"]} if isinstance(v, dict) and "entry_kind" in v else {})}
    if kept_ext:
        out["extensions"] = kept_ext
    return out


def parts_of(uow: Any, requester: Requester, main: Any) -> list[Any]:
    """The stored versions (``StoredObject``) of the parts of the item whose main object is the
    stored version ``main``: its container, consignment, vessel call and parties that its
    originator stored (:func:`scheldt.exchange.stix_mapping.part_ids`, of every version stored:
    a regression review's third party, named by an earlier version only, stayed), as
    ``requester`` may see them."""
    ids = part_ids(main.stix_id, main.object)
    for version in uow.exchange.versions(None, main.stix_id):
        if isinstance(version.object, dict):
            ids |= part_ids(main.stix_id, version.object)
    return [v for pid in sorted(uow.exchange.newest(ids))
            for v in uow.exchange.versions(requester, pid) if v.owner_org == main.owner_org]


# --- receiving -------------------------------------------------------------------------------------

def receive_objects(uow: Any, objects: list[Any], owner_org: str, source: str, default_group: str | None,
                    now: datetime) -> Received:
    """:func:`scheldt.workflows.sharing.ingest_objects`, then land the new watchlist entries
    among them and screen the trips against them (see the module docstring). Arguments as
    ``ingest_objects``; every way objects enter a node should come through here.

    Only an entry's newest stored version lands (an older version re-sent after a newer one
    changes nothing); where the newest version is revoked, expired or may no longer land
    (marking or sharing group changed), the entry leaves the store (:func:`withdraw_entries`)."""
    report = ingest_objects(uow, objects, owner_org, source, default_group, now)
    received = Received(report)
    indicators = {o["id"] for o in objects if isinstance(o, dict) and o.get("type") == "indicator"}
    watch_ids = {o["id"] for o in objects if isinstance(o, dict) and o.get("type") == "indicator"
                 and WATCH_EXTENSION_ID in (o.get("extensions") or {})}
    added = {s.seq: s for s in uow.exchange.get_seqs([seq for stix_id, _, seq in report.added if stix_id in watch_ids])}
    newest = uow.exchange.newest({s.stix_id for s in added.values()})
    entries = []
    for stored in (s for s in newest.values() if s.seq in added):
        if stored.stix_type != "indicator" or stored.kind != "watchlist-entry" or stored.revoked:
            continue
        try:
            entry = entry_of(stored)
        except InputError:
            continue  # an indicator that is not a Scheldt entry stays a STIX object only
        if not isinstance(entry, WatchEntry) or (entry.meta.sharing.valid_until or now) < now:
            continue
        entries.append((entry, stored))
    readers = _landing_readers(uow) if entries or indicators else []  # asked once per envelope
    if entries:
        received.entries = land_entries(uow, entries, now, readers)
        received.alerts = screen_trips(uow, entries, now)
    # every new indicator version: one that is no longer an entry takes its id out of the store
    withdraw_entries(uow, {sid for sid, _, _ in report.added if sid in indicators} - set(received.entries), now,
                     readers)
    _drop_versions_under_other_terms(uow, {sid for sid, _, _ in report.added}, now)
    return received


def _stored_terms(uow: Any, v: Any) -> StatedTerms:
    """The sharing terms of a stored version ``v`` (as stored, and its granular markings)."""
    return StatedTerms(Tlp(v.tlp), v.group_id, uow.exchange.recipients(v.seq), granular_levels(v.object))


def _drop_versions_under_other_terms(uow: Any, stix_ids: set[str], now: datetime) -> list[tuple[int, str, str]]:
    """Delete the earlier versions of ``stix_ids`` whose sharing terms (TLP, sharing group,
    RED recipients, granular markings) are not the newest version's, leaving tombstones for
    peers, and return them as (seq, id, modified). A federation review re-shared a GREEN
    seizure report as RED: a Dutch analyst kept reading the GREEN version as current, and got
    it in a MISP export; a regression review put a second property under a granular RED
    marking, and the earlier version served it to the whole community (``match[version]=all``)."""
    if not stix_ids:
        return []
    several = sorted(sid for sid, vs in uow.taxii.stored_versions(sorted(stix_ids)).items() if len(vs) > 1)
    deleted: list[tuple[int, str, str]] = []
    for sid in several:
        versions = uow.exchange.versions(None, sid)  # live ones, oldest first
        if len(versions) < 2 or versions[-1].revoked:  # a withdrawal deletes its own
            continue
        newest = versions[-1]
        terms = _stored_terms(uow, newest)
        deleted += [(v.seq, v.stix_id, v.modified) for v in versions[:-1] if v.owner_org == newest.owner_org
                    and _stored_terms(uow, v) != terms]
    for _, sid, modified in deleted:
        uow.exchange.delete(sid, modified, now)
    if deleted:
        uow.taxii.add_deletions(deleted, "re-marked: earlier versions under other sharing terms", now)
    return deleted


def withdraw_laxer_versions(uow: Any, refused: dict[str, Any], owner_org: str, only_from: str | None,
                            now: datetime, default_group: str | None = None) -> int:
    """Delete the live copies of ``refused``'s object owned by ``owner_org`` that reach readers
    ``refused`` (a newer version of it, refused here for its marking) does not
    (:func:`scheldt.exchange.objects.wider_than`: a laxer TLP; at the same level another
    sharing group, a recipient it no longer names, or a property it marks stricter; its terms
    read as :func:`scheldt.exchange.objects.stated_terms` with ``default_group``, the group of
    the collection it came in), leaving tombstones for peers and taking a watchlist entry out
    of the store; returns how many. A regression review's RED object re-sent to fewer
    recipients, an AMBER+STRICT one moved to a group not on this node, and a granular raise to
    RED were each refused and withdrew nothing.
    Copies are the versions received from a peer or a MISP import (those received from
    ``only_from`` alone, e.g. ``peer:<name>``, when given); versions made on this node (its
    workbench, API, or a liaison officer's TAXII post) are never a peer's to take back, as
    :func:`scheldt.exchange.federation.delete_copies` holds (a regression review's peer withdrew
    a version its organisation's liaison officer had posted here). Nothing when ``refused``
    names no TLP, or is not newer than every version of that owner. The originator's own node
    takes back every copy (another review's GREEN copy, relayed first, stayed when the
    originator raised it); a relay only those it gave (a relay withdrew a version pulled from
    the originator's own node).

    The originator's newest word on who may read the object is its refused version: a
    federation review's partner (medallion, which cannot name Scheldt recipients) raised an
    object from GREEN to RED, the RED version was refused for naming no recipient, and the
    GREEN one stayed readable by the whole community and relayed on."""
    terms, stix_id = stated_terms(refused, default_group), refused.get("id")
    if terms is None or not isinstance(stix_id, str):
        return 0
    newer = version_key(refused.get("modified") or refused.get("created") or "")
    versions = [v for v in uow.exchange.versions(None, stix_id) if v.owner_org == owner_org]
    if not versions or any(version_key(v.modified) >= newer for v in versions):
        return 0
    laxer = [(v.seq, v.stix_id, v.modified) for v in versions
             if _a_copy(v.source, only_from) and wider_than(_stored_terms(uow, v), terms)]
    for _, sid, modified in laxer:
        uow.exchange.delete(sid, modified, now)
    if laxer:
        uow.taxii.add_deletions(laxer, f"withdrawn: a newer version marked TLP:{terms.tlp.value.upper()} for fewer "
                                "readers was refused here", now)
        withdraw_entries(uow, {stix_id}, now)
    return len(laxer)


def _a_copy(source: str, only_from: str | None) -> bool:
    """Whether a version received from ``source`` is a copy :func:`withdraw_laxer_versions` may
    take back (from ``only_from`` when given, else from any peer or a MISP import)."""
    if only_from is not None:
        return source == only_from
    return source.startswith("peer:") or source == "misp"


#: Where a refusal of an object names its marking or the terms that go with it (RED's
#: recipients, AMBER's sharing group): only such a refusal of a newer version withdraws the
#: laxer ones (:func:`withdraw_laxer_versions`; a regression review's RED naming a recipient
#: unknown here withdrew nothing).
_MARKING_FIELDS = (".object_marking_refs:", ".granular_markings", ".extensions.recipients", ".extensions.sharing_group")


def refused_for_marking(label: str, why: str) -> bool:
    """Whether the refusal ``why`` of the object ``label`` (an ingest report's failure) names
    its marking (where it is refused is written before the first ``": "``)."""
    where = why.split(": ", 1)[0] + ":"
    return where.startswith(label) and any(f in where for f in _MARKING_FIELDS)


def withdraw_entries(uow: Any, stix_ids: Iterable[str], now: datetime,
                     readers: list[Requester] | None = None) -> list[str]:
    """Take out of the watchlist store the shared entries among ``stix_ids`` that no longer
    hold: deleted (no live version left), newest version revoked, no longer a watchlist entry
    (its originator made it a plain indicator), past its ``valid_until`` (UTC), or no longer
    allowed to land (:func:`land_entries`: its TLP or sharing group changed). The others are
    put (back) as their newest live version, so an entry whose newer version was deleted is
    in the store as the version that is newest again. Returns the ids of the entries taken out
    (those that were in the store).

    Called wherever an entry's versions change: :func:`receive_objects` (revocations and new
    markings from partners), TAXII Delete Object and the deletions a federation pull applies.
    ``readers``: :func:`_landing_readers`, when the caller has them already."""
    ids = set(stix_ids)
    if not ids:
        return []
    newest = uow.exchange.newest(ids)
    readers = _landing_readers(uow) if readers is None else readers
    stale = [i for i in sorted(ids) if (s := newest.get(i)) is None or s.revoked or not _is_entry(s)
             or (s.valid_until is not None and s.valid_until < now) or not _may_land(uow, s, readers)]
    gone = uow.watchlists.remove_shared(stale)
    lifted = _alerted_containers(uow, gone)  # the trips whose score the entries counted in
    # the alerts a withdrawn entry raised go with it (an attack review: they stayed, quoting it)
    _withdraw_raised_alerts(uow, [i for i in stale if (s := newest.get(i)) is None or s.revoked], now)
    holding = []
    for stored in (newest[i] for i in sorted(ids - set(stale))):
        try:
            entry = entry_of(stored)
        except InputError:
            continue
        if isinstance(entry, WatchEntry):
            holding.append((entry, stored))
    if holding:
        land_entries(uow, holding, now, readers)  # an entry already stored as this version is left as it is
    # scored again without them (a regression review: a withdrawn tip left its trip high in the
    # queue, its page no longer saying why)
    _rescore_matched(uow, lifted, now)
    return gone


def _alerted_containers(uow: Any, entry_ids: Iterable[str]) -> list[str]:
    """The containers of the trips on which the entries ``entry_ids`` raised local alerts (a
    match counted in a trip's score raises one: :func:`alert_threshold`)."""
    numbers = set()
    for entry_id in entry_ids:
        for alert in uow.exchange.newest(uow.exchange.local_alerts_naming(entry_id)).values():
            label = _alert_ext(alert).get("trip")
            if isinstance(label, str) and label:
                numbers.add(label.split(" / ")[0])
    return sorted(numbers)


def _withdraw_raised_alerts(uow: Any, entry_ids: Iterable[str], now: datetime,
                            still_matching: Mapping[str, set[str]] | None = None) -> None:
    """Withdraw (:func:`_withdraw`) the live local alerts that matches of the entries
    ``entry_ids`` raised: withdrawn or deleted entries, whose basis is gone; or, given
    ``still_matching`` (entry id → ids of its alerts whose trip matches the entry's new
    version), the alerts of a changed entry that its new version no longer raises (another
    name, container or route; or a marking the trip's agency may no longer see). An entry past
    its validity keeps the alerts it raised while valid. Each is audited for the agency that
    owns it (actor ``system``)."""
    for entry_id in entry_ids:
        for alert_id in uow.exchange.local_alerts_naming(entry_id):
            if still_matching is not None and alert_id in still_matching.get(entry_id, ()):
                continue
            alert = uow.exchange.newest([alert_id]).get(alert_id)
            if alert is None or alert.revoked or entry_id not in (alert.object.get("object_refs") or ()):
                continue
            why = (f"its watchlist entry {entry_id} was withdrawn" if still_matching is None else
                   f"its watchlist entry {entry_id} was changed and the trip no longer matches it")
            action = ("withdraw with its watchlist entry" if still_matching is None
                      else "withdraw: watchlist entry changed")
            _withdraw_alert(uow, alert, why, action, {"entry": entry_id}, now)


def _withdraw_alert(uow: Any, alert: Any, why: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """Withdraw (:func:`_withdraw`) the local alert ``alert`` (its newest stored version) for
    the agency that owns it and audit it for that agency (actor ``system``) with ``action``,
    ``why`` and ``details``."""
    out = _withdraw(uow, _agency_requester(uow, alert.owner_org), alert, why, now, "system")
    uow.audit.append("write", alert.owner_org, audit_payload(
        "system", alert.owner_org, action, "shared-withdrawal", alert.stix_id, "",
        {"reason": why, **details, "parts_deleted": out["parts_deleted"]}), now)


def sweep_expired_entries(uow: Any, now: datetime) -> list[str]:
    """Take out of the watchlist store the shared entries whose newest version is past its
    ``valid_until`` at ``now`` (UTC), so screening stops matching them when they expire rather
    than when a new version arrives; returns their ids. Run by ``scheldt serve`` every
    minute (job kind ``expire-shared-entries``). The trips whose score counted them are scored
    again, as when an entry is withdrawn (:func:`withdraw_entries`); the alerts they raised stay,
    valid until when the entries were (:func:`watchlist_alerts_about` no longer lists them)."""
    newest = uow.exchange.newest(uow.exchange.with_expired_version(uow.watchlists.shared_ids(), now))
    expired = [i for i, s in newest.items() if s.valid_until is not None and s.valid_until < now]
    gone = uow.watchlists.remove_shared(expired)
    _rescore_matched(uow, _alerted_containers(uow, gone), now)
    return gone


def entry_of(stored: Any) -> Any:
    """The Scheldt item a stored version stands for (a watchlist entry where it is one), read
    without the fields its granular markings keep for a narrower audience
    (:func:`without_marked_fields`: a note so marked reads :data:`WITHHELD`), so an entry whose
    note is kept back still screens, and its local alerts do not quote the note. A federation
    review's entry with a RED-marked note was listed "in force" and screened nothing. Raises
    InputError when it is no Scheldt item (or one needs a field that is marked).

    A Scheldt item without its description (a note, which Scheldt always writes) had it withheld
    on the way, by the partner node that served it (fields marked for a narrower audience than
    the pull are removed, their markings with them): it reads :data:`WITHHELD` too. An exchange
    review's partner entry with a RED-marked note landed on the peer without it and screened
    nothing there."""
    obj = without_marked_fields(stored.object)
    if "description" not in obj:
        obj = obj | {"description": WITHHELD}
    return from_stix([obj], stored.stix_id, stored.group_id)


def _is_entry(stored: Any) -> bool:
    """Whether a stored version is a Scheldt watchlist entry (as :func:`receive_objects` lands them)."""
    return (stored.stix_type == "indicator" and stored.kind == "watchlist-entry"
            and WATCH_EXTENSION_ID in (stored.object.get("extensions") or {}))


def stored_name(entry: WatchEntry) -> str:
    """The name an entry is stored under in the watchlist store (what it looks for)."""
    return {"company": entry.name, "person": entry.name, "address": entry.address,
            "container": entry.container_number, "seal-range": f"{entry.seal_from}-{entry.seal_to}",
            "route": " > ".join(entry.route)}[entry.kind]


def _audience(uow: Any, stored: Any) -> Audience:
    """Who a stored version is for; its named recipients are read only for TLP:RED, the one
    level :func:`scheldt.domain.exchange.may_see` reads them for (one query less per entry)."""
    tlp = Tlp(stored.tlp)
    recipients = uow.exchange.recipients(stored.seq) if tlp == Tlp.RED else frozenset()
    return Audience(stored.owner_org, tlp, stored.group_id, recipients)


def land_entries(uow: Any, entries: list[tuple[WatchEntry, Any]], now: datetime,
                 readers: list[Requester] | None = None) -> list[str]:
    """Put shared entries in the watchlist store: list ``shared:<group>`` (``shared:community``
    without a group), entry id = STIX id, supplied by the organisation that made the entry.

    The store is one per node and scoring screens every trip against all of it, showing the
    matches to every user of the trip's agency, so an entry lands only when every agency owning
    trips on this node may see it (every agency, while none owns any; on a node run by one
    agency: when that agency may), and a TLP:RED entry (for named users only) never does. An
    entry is in one list only: landing in its (new) group's list takes it out of any other. An
    entry that does not land still raises alerts for those who may see it
    (:func:`screen_trips`). Returns the ids of the entries landed. ``readers``:
    :func:`_landing_readers`, when the caller has them already."""
    orgs = organisations_by_identity(uow)
    readers = _landing_readers(uow) if readers is None else readers
    by_supplier: dict[str, list[WatchlistEntry]] = {}
    for entry, stored in entries:
        if not _may_land(uow, stored, readers):
            continue
        supplier = orgs.get(entry.meta.created_by, stored.owner_org)
        by_supplier.setdefault(supplier, []).append(WatchlistEntry(
            f"{SHARED_PREFIX}{stored.group_id or 'community'}"[:128], entry.meta.stix_id, stored_name(entry)[:500],
            entry.kind, entry.aliases, entry.address, entry.country, f"{stored.source} {entry.meta.stix_id}"))
    # an entry moved to another sharing group leaves its old group's list
    uow.watchlists.remove_shared_elsewhere({e.entry_id: e.list_name for rows in by_supplier.values() for e in rows})
    for supplier, rows in by_supplier.items():
        uow.watchlists.add(rows, supplier, now)
    return [e.entry_id for rows in by_supplier.values() for e in rows]


def _landing_readers(uow: Any) -> list[Requester]:
    """The agencies that must all be able to see an entry for it to land: those owning scored
    trips on this node, or every agency while none does."""
    agencies = [o for o in uow.accounts.organisations() if o.kind.value == "agency"]
    owning = [o for o in agencies if uow.container_trips.any_scored(trip_scope(o))]
    return [_agency_requester(uow, o.id) for o in owning or agencies]


def _may_land(uow: Any, stored: Any, readers: list[Requester]) -> bool:
    """Whether a stored entry version may be in the node's one watchlist store: not TLP:RED
    (named users only) and visible to every one of ``readers``."""
    audience = _audience(uow, stored)
    return audience.tlp != Tlp.RED and all(may_see(r, audience) for r in readers)


def _trips_to_screen(uow: Any, entries: list[tuple[WatchEntry, Any]], now: datetime) -> Any:
    """(read-model row, facts as known at ``now``) of the trips to screen, container batch by
    batch: only the listed containers' trips when every entry is a container number, else every
    stored container's (the fact gathering of a full re-score). Trips not scored yet (no row)
    are left to scoring."""
    if all(e.kind == "container" for e, _ in entries):
        numbers = sorted({e.container_number for e, _ in entries})
    else:
        numbers = uow.events.containers()
    for start in range(0, len(numbers), SCREEN_BATCH):
        for facts in trip_facts(uow, numbers[start:start + SCREEN_BATCH], now):
            row = uow.container_trips.by_key(facts.key)
            if row is not None:
                yield row, facts


def screen_trips(uow: Any, entries: list[tuple[WatchEntry, Any]], now: datetime) -> list[str]:
    """Screen stored trips against ``entries`` (with their stored versions) and raise a local
    alert per (trip, entry) match the trip's agency may see. A changed entry (a version later
    than its first: ``modified`` after ``created``) withdraws the live alerts its earlier
    versions raised on trips it no longer matches. The matched trips are scored again at
    ``now`` (:func:`_rescore_matched`). Returns the new alerts' ids."""
    names = WatchlistIndex(WatchlistEntry("", e.meta.stix_id, e.name, e.kind, e.aliases)
                           for e, _ in entries if e.kind in NAME_KINDS)
    by_id = {e.meta.stix_id: (e, s) for e, s in entries}
    raised = []
    matching: dict[str, set[str]] = {}
    threshold = alert_threshold(uow) if len(names) else 0.0
    matched: set[str] = set()
    for row, facts in _trips_to_screen(uow, entries, now):
        for entry_id, why, party in _hits(facts, entries, names, threshold):
            matched.add(facts.key.container_number)
            entry, stored = by_id[entry_id]
            alert = _local_alert(uow, row, facts, entry, stored, why, party, now)
            if alert is None:
                continue
            alert_id, new = alert
            matching.setdefault(entry_id, set()).add(alert_id)
            if new:
                raised.append(alert_id)
    changed = [e.meta.stix_id for e, _ in entries if e.meta.modified > e.meta.created]
    _withdraw_raised_alerts(uow, changed, now, still_matching=matching)
    _rescore_matched(uow, sorted(matched), now)
    return raised


def _rescore_matched(uow: Any, numbers: list[str], now: datetime) -> None:
    """Score the trips of containers ``numbers`` again at ``now`` (UTC), when a profile is live
    and in force: a watchlist entry that just landed is one of their facts (the party match
    indicator), and a carrier review's partner tip on a shipper raised an alert but left the
    trip's score, and the queue, as they were until someone ran ``trips score``. Trips whose
    facts the entry does not change keep their assessment (:func:`score_trips`)."""
    from scheldt.workflows.trip_scoring import score_with_live  # trip_scoring imports this module

    if numbers:
        score_with_live(uow, now, numbers)


def alert_watched_trips(uow: Any, watched: Sequence[WatchlistEntry], trips: Sequence[TripFacts],
                        now: datetime) -> list[str]:
    """Raise the local alert of each match of a trip just scored (its facts new or changed at
    ``now``, UTC) with one of ``watched``, the shared container, seal-range and route entries in
    the watchlist store (their newest stored versions, live and valid at ``now``), for the agency
    owning the trip when it may see the entry (:func:`_local_alert`: raised once), unless the
    agency dismissed that match's alert (:func:`_dismissed`: a regression review's dismissed
    match came back at the next scoring). :func:`screen_trips` screens the trips stored when an entry
    arrives; this, the trips that come after it (a federation review's entry for a box, shared
    before the box arrived, never flagged it). Only the entries that may match one of the trips
    (its container number, ports) are read from the exchange store (a regression review's 3,300
    entries made every scoring run 0.35 s slower). Returns the new alerts' ids."""
    numbers = {f.key.container_number for f in trips}
    ports = {p for f in trips for p in trip_ports(f)}
    candidates = [e.entry_id for e in watched if (e.name in numbers if e.kind == "container" else
                                                 set(e.name.split(" > ")) <= ports if e.kind == "route" else True)]
    entries = _live_entries(list(uow.exchange.newest(candidates).values()), now) if candidates else []
    by_id = {e.meta.stix_id: (e, s) for e, s in entries}
    raised = []
    for facts in trips if entries else ():
        hits = _hits(facts, entries, WatchlistIndex(()))
        row = uow.container_trips.by_key(facts.key) if hits else None
        agency = (row or {}).get("supplied_by") or ""
        for entry_id, why, party in hits if agency else ():
            if _dismissed(uow, f"watch-alert:{agency}:{entry_id}:{facts.key.label()}", now):
                continue
            entry, stored = by_id[entry_id]
            alert = _local_alert(uow, row, facts, entry, stored, why, party, now)  # type: ignore[arg-type]
            if alert is not None and alert[1]:
                raised.append(alert[0])
    return raised


def withdraw_regrouped_alerts(uow: Any, trips: Sequence[dict[str, Any]], now: datetime) -> list[str]:
    """Withdraw the live local alerts of ``trips`` (trip rows their container's events no longer
    make, just marked regrouped at ``now``, UTC) whose every watchlist entry raised the same
    agency a live alert on a trip of that box that is listed: the box's journey has it already
    (a federation review: a watched box whose trip was regrouped kept two alerts for one
    journey). An alert with no such twin stays, on the trip its page says was regrouped. Each is
    audited for its agency (actor ``system``). Returns the withdrawn alerts' ids."""
    withdrawn = []
    for number in sorted({t["container_number"] for t in trips}):
        gone = {trip_label(t) for t in trips if t["container_number"] == number}
        listed = {trip_label(t | {"container_number": number}) for t in uow.container_trips.of_container(number)}
        groups = sorted({f"{LOCAL_GROUP}{t['supplied_by']}"[:64] for t in trips
                         if t["container_number"] == number and t.get("supplied_by")})
        alerts = [a for a in uow.exchange.newest(uow.exchange.local_alerts_naming(number, groups)).values()
                  if not a.revoked and isinstance(_alert_ext(a).get("trip"), str)] if groups else []
        trip_of = {a.stix_id: _alert_ext(a)["trip"] for a in alerts}
        entries = {a.stix_id: {r for r in a.object.get("object_refs") or () if r.startswith("indicator--")}
                   for a in alerts}
        twins = {(a.owner_org, e) for a in alerts if trip_of[a.stix_id] in listed for e in entries[a.stix_id]}
        for a in alerts:
            if (trip_of[a.stix_id] in gone and entries[a.stix_id]
                    and all((a.owner_org, e) in twins for e in entries[a.stix_id])):
                _withdraw_alert(uow, a, f"trip {trip_of[a.stix_id]} is no longer one its box's events make; the "
                                "trip they make has this match's alert", "withdraw: trip regrouped",
                                {"trip": trip_of[a.stix_id]}, now)
                withdrawn.append(a.stix_id)
    return withdrawn


def _alert_ext(stored: Any) -> dict[str, Any]:
    """The Scheldt alert extension of a stored grouping version ({} when it has none)."""
    ext = (stored.object.get("extensions") or {}).get(ALERT_EXTENSION_ID)
    return ext if isinstance(ext, dict) else {}


def _dismissed(uow: Any, key: str, now: datetime) -> bool:
    """Whether the latest alert the match ``key`` (:func:`_match_alert_id`) raised was withdrawn
    by a person (the agency dismissed it), not by the node because its entry changed away from
    the trip (a regression review: a trip coming to match the entry's new version got no alert).
    Its ids are in this node's secret namespace: no partner can post under them."""
    namespace = uow.exchange.node_namespace(ALERT_ID_NAMESPACE, now)
    last = None
    for n in range(MAX_RESHARES):
        stix_id = f"grouping--{uuid.uuid5(namespace, key + (f':{n}' if n else ''))}"
        newest = uow.exchange.newest([stix_id]).get(stix_id)
        if newest is None or not newest.revoked:
            break
        last = stix_id
    withdrawal = uow.exchange.withdrawal(last) if last is not None else None
    return withdrawal is not None and withdrawal["actor"] != "system"


def _live_entries(versions: list[Any], now: datetime) -> list[tuple[WatchEntry, Any]]:
    """(entry, stored version) of each of the stored newest ``versions`` that is a Scheldt
    watchlist entry, not revoked, and valid at ``now`` (UTC)."""
    out = []
    for stored in versions:
        if stored.revoked or not _is_entry(stored):
            continue
        try:
            entry = entry_of(stored)
        except InputError:
            continue
        if isinstance(entry, WatchEntry) and (entry.meta.sharing.valid_until or now) >= now:
            out.append((entry, stored))
    return out


def alert_threshold(uow: Any) -> float:
    """The name-match score (0-100) from which a shared name entry raises an alert: the live
    profile's ``watchlist_match`` ``min_score``, from which the match counts in the trip's
    score (the indicator's default where no profile is live). An exchange review's entry for
    "Zame Distribution NV" raised alerts at screening's 85 on "Racebe Distribution NV" and
    "Vage Distribution Ltd" (86), matches the trips' scores never counted."""
    try:
        return float(live_profile(uow).context("watchlist_match").params["min_score"])
    except InputError:  # no profile is live
        return float(INDICATORS["watchlist_match"].params["min_score"])


def _hits(facts: TripFacts, entries: list[tuple[WatchEntry, Any]],
          names: WatchlistIndex, threshold: float = 0.0) -> list[tuple[str, str, Party | None]]:
    """(entry id, why, matched party) of each entry the trip matches; names at ``threshold``
    or above (:func:`alert_threshold`)."""
    out: list[tuple[str, str, Party | None]] = []
    for entry, _ in entries:
        if entry.kind in NAME_KINDS:
            continue
        hit = match(facts, entry.kind, container_number=entry.container_number, seal_from=entry.seal_from,
                    seal_to=entry.seal_to, route=entry.route, address=entry.address)
        if hit is not None:
            out.append((entry.meta.stix_id, hit.why, None))
    if len(names):
        seen = set()
        for party in screened_parties(facts.documents):
            if party.role.replace("_", " ") not in SCREENED_ROLES or not party.name.strip():
                continue
            for m in names.screen(party.name, max(threshold, DEFAULT_THRESHOLD)):
                if m.entry.entry_id not in seen:
                    seen.add(m.entry.entry_id)
                    why = f"the {party.role} {party.name} matches {m.matched_name} (score {m.score:.0f})"
                    out.append((m.entry.entry_id, why, Party(_clean(party.name, 500), "company", _clean(party.role, 64))))
    return out


def _agency_requester(uow: Any, org_id: str) -> Requester:
    """The agency that owns a trip, as a whole (any of its users named by a TLP:RED entry counts)."""
    try:
        return uow.exchange.requester(org_id, "", peer=True)
    except NotFoundError:
        return Requester(org_id, "agency", None, "", uow.exchange.groups_of(org_id), frozenset(), True)


def _local_alert(uow: Any, trip: dict[str, Any], facts: TripFacts, entry: WatchEntry, stored: Any, why: str,
                 party: Party | None, now: datetime) -> tuple[str, bool] | None:
    """Raise the local alert of one match, once: TLP:AMBER+STRICT in the agency's private group,
    or TLP:RED to the agency's users the entry names when the entry is RED. Returns (alert id,
    whether raised now): False when the match's alert is live already. None when the trip's
    agency may not see the entry, the trip has no agency, the alert could not be stored, or
    it was withdrawn too often (:func:`_match_alert_id`)."""
    agency = trip.get("supplied_by") or ""
    if not agency or not may_see(_agency_requester(uow, agency), _audience(uow, stored)):
        return None
    key = f"watch-alert:{agency}:{entry.meta.stix_id}:{facts.key.label()}"
    found = _match_alert_id(uow, agency, key, now)
    if found is None:
        return None
    s = entry.meta.sharing
    origin = organisations_by_identity(uow).get(entry.meta.created_by, stored.owner_org)
    group = f"sharing group {s.group}" if s.group else "the community"
    text = (f"{why}: watchlist entry '{watch_label(entry)}' shared by {origin} (TLP:{s.tlp.value.upper()}, {group}, "
            f"evaluation {s.reliability}{s.credibility}): {entry.note}")
    audience = _audience(uow, stored)
    named = tuple(sorted((o, u) for o, u in audience.recipients if o == agency))
    # a partner's RED entry names the agency's users who get the alert; the alert of an agency's
    # own RED entry stays with the agency itself, AMBER+STRICT (the new-user review's RED entry for
    # a US analyst was refused as "TLP:RED needs named recipients"; a regression review's entry
    # naming a colleague hid the alert from its author)
    red = audience.tlp == Tlp.RED and bool(named) and stored.owner_org != agency
    sharing = Sharing("alert", Tlp.RED if red else Tlp.AMBER_STRICT,
                      f"{LOCAL_GROUP}{agency}"[:64], "local use only", s.reliability, s.credibility,
                      named if red else (), ms(now),
                      s.valid_until if s.valid_until and s.valid_until > ms(now) else None)
    if found[1]:  # live: kept while it reaches whom the entry now names (a partner re-naming a RED
        # entry's recipients left the alert with the user no longer named: an exchange review)
        live = uow.exchange.newest([found[0]])[found[0]]
        if (live.tlp, uow.exchange.recipients(live.seq)) == (sharing.tlp.value, set(sharing.recipients)):
            return found[0], False
        _withdraw_alert(uow, live, f"its watchlist entry {entry.meta.stix_id} now names other recipients",
                        "withdraw: watchlist entry re-marked", {"entry": entry.meta.stix_id}, now)
        found = _match_alert_id(uow, agency, key, now)
        if found is None:
            return None
    alert_id = found[0]
    container, consignment, vessel = trip_subjects(trip, facts)
    item = Alert(_meta(agency, "grouping", sharing, now, alert_id), f"Watchlist match: container {trip['container_number']}",
                 (Reason("shared_watchlist", _clean(text, 4000)),), None, trip_label(trip), container,
                 consignment, vessel, (party,) if party else (), (entry.meta.stix_id,))
    report = ingest_objects(uow, to_stix(item), agency, "local", sharing.group, now)
    return (alert_id, True) if report.added else None


def _match_alert_id(uow: Any, agency: str, key: str, now: datetime) -> tuple[str, bool] | None:
    """(id, live) of the local alert of the match ``key`` (agency, entry, trip): the id of its
    live alert (True), or the id to raise it under (False); None when it was withdrawn
    :data:`MAX_RESHARES` times. The same match gives the same id here (raised once), an id no
    partner can compute (it could otherwise ask TAXII Add Objects whether such an alert
    exists); once withdrawn (its entry changed away from the trip), the next id of the series
    (:func:`_id_in_series`), so that the entry changed back raises it again."""
    # raised before migration 0017 under a public name: only an alert this node raised counts (a
    # partner can compute that name and post an object under it)
    before_0017 = f"grouping--{uuid.uuid5(NAMESPACE, key)}"
    if any(v.source == "local" and v.owner_org == agency and v.group_id == f"{LOCAL_GROUP}{agency}"[:64]
           and not v.revoked for v in uow.exchange.versions(None, before_0017)):
        return before_0017, True
    found = _id_in_series(uow, "grouping", uow.exchange.node_namespace(ALERT_ID_NAMESPACE, now), key, ":")
    return None if found is None else (found[0], found[1] is not None)


# --- MISP ----------------------------------------------------------------------------------------

#: Objects read from the store at once during an export.
EXPORT_PAGE = 500


def visible_rows(uow: Any, requester: Requester) -> Iterator[Any]:
    """Every live stored object version the requester may see, in server order, read page by page."""
    after = None
    while True:
        page = uow.exchange.page(requester, after_seq=after, limit=EXPORT_PAGE)
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].seq


#: What a MISP export says in place of a description under a granular marking: a MISP event
#: needs the note, and an exchange review's export left the whole watchlist entry out ("note: is
#: required") though TAXII served it without the description.
WITHHELD = "(withheld: marked for a narrower audience than the item)"


def without_marked_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without the top-level properties its granular markings select, nor the markings:
    a MISP event has no per-field marking, so a field marked stricter than its item would reach
    everyone the event reaches (a regression review's originator exported such a field). A
    description withheld reads :data:`WITHHELD`; an item missing another field it needs is left
    out (:func:`export_misp` says which). Language markings (``lang``) restrict no one: their
    fields stay, the markings go (a MISP event keeps no language per field)."""
    marked = marked_properties(obj.get("granular_markings"))
    if not marked:  # language markings only (or none): a MISP event keeps no language per field
        return {k: v for k, v in obj.items() if k != "granular_markings"} if obj.get("granular_markings") else obj
    out = {k: v for k, v in obj.items() if k not in marked and k != "granular_markings"}
    if "description" in marked:
        out["description"] = WITHHELD
    return out


def export_misp(uow: Any, requester: Requester) -> tuple[list[Any], list[tuple[str, str]]]:
    """MISP events (:mod:`scheldt.exchange.misp`) of every shared Scheldt item the requester may
    see (not an agency's local alerts), latest versions, and (id, why) of items left out:
    withdrawn (revoked) ones, the agency's local alerts, those that could not be exported (a
    field under a granular marking it needs, or changed by a tool that does not keep Scheldt's
    shape), and STIX objects that are no Scheldt item (sharing kind ``other``). Fields under
    granular markings are withheld (:func:`without_marked_fields`)."""
    orgs = organisations_by_identity(uow)
    visible: list[dict[str, Any]] = []
    withheld: dict[tuple[str, str], list[str]] = {}
    others: dict[str, str] = {}
    for row in visible_rows(uow, requester):
        if row.kind == "other":  # a partner's plain STIX object: not a Scheldt item (an exchange review
            others[row.stix_id] = row.stix_type  # found them neither exported nor listed as left out)
            continue
        obj = without_marked_fields(row.object)
        gone = sorted(set(row.object) - set(obj) - {"granular_markings", "description"})
        if gone:
            withheld[(obj["id"], str(obj.get("modified", "")))] = gone
        visible.append(obj)
    newest: dict[str, dict[str, Any]] = {}
    for obj in visible:  # arrival order: a later arrival may be an older version
        if obj["id"] not in newest or str(obj.get("modified", "")) > str(newest[obj["id"]].get("modified", "")):
            newest[obj["id"]] = obj
    withdrawn = sorted(i for i, o in newest.items() if o.get("revoked") is True and item_kind(o))
    left_out = set(withdrawn)
    items, failed = items_in([o for o in visible if o["id"] not in left_out])
    # said of the newest version, the one exported (an exchange review read an earlier version's reason)
    withheld_now = {i: withheld.get((i, str(o.get("modified", "")))) for i, o in newest.items()}
    failed = [(i, f"{', '.join(withheld_now[i] or ())} under a granular marking, which a MISP event cannot keep: "
               "left out" if withheld_now.get(i) else why) for i, why in failed]
    # an agency's own alerts raised by watchlist matches (group local:<agency>) are not shared
    # items: a review's export carried them, and the partner's import refused them; they are
    # listed as left out (a federation review found them missing from the list without a word)
    local = {i.meta.stix_id for i in items if (i.meta.sharing.group or "").startswith(LOCAL_GROUP)}
    items = [i for i in items if i.meta.stix_id not in local]
    return ([item_event(i, orgs) for i in items],
            [(i, "withdrawn (revoked): MISP has no revoked events, so it is left out") for i in withdrawn]
            + [(i, "a local alert of this agency (a watchlist match), not a shared item: left out")
               for i in sorted(local)]
            + failed
            + [(i, f"a plain STIX {t}, not a Scheldt item (MISP export carries Scheldt items): left out")
               for i, t in sorted(others.items())])


def member_of(uow: Any, org_id: str, group: str, where: str) -> None:
    """Raise InputError naming ``where`` unless ``group`` is a sharing group defined on this node
    with ``org_id`` among its members (a review imported events into a group that did not exist
    here, read by no one, and into groups the organisation was not in)."""
    try:
        members = uow.exchange.group(group)["members"]
    except NotFoundError:
        raise InputError(where, f"no sharing group {group[:64]!r} on this node (create it first)") from None
    if org_id not in members:
        raise InputError(where, f"{org_id} is not a member of sharing group {group[:64]!r}")


def red_held_here(uow: Any, recipients: Iterable[tuple[str, str]], where: str) -> None:
    """Raise InputError naming ``where`` unless one of a TLP:RED item's ``recipients``
    ((organisation, username) each) is a user of that organisation on this node. A federation
    review imported, by MISP, a RED alert named to a Dutch officer into the US node: held and
    served there, where no one it names works, and never withdrawn, since the US node's pulls
    may not see an item RED to others, so the originator's withdrawal never reached it."""
    named = sorted(recipients)
    for org, username in named:
        try:
            if uow.accounts.user(username).organisation_id == org:
                return
        except NotFoundError:
            continue
    shown = ", ".join(f"{o}/{u}" for o, u in named[:5]) + (" ..." if len(named) > 5 else "")
    raise InputError(where, f"TLP:RED to {shown}: none of them is a user on this node, so it is not kept here "
                     "(TLP:RED is for the people it names, and a withdrawal would not reach this copy)")


def import_misp(uow: Any, text: str | bytes, owner_org: str, now: datetime, default_group: str | None = None) -> Received:
    """Store the STIX objects of MISP events (JSON as MISP exports them) as coming from
    ``owner_org`` (``source="misp"``; ``default_group`` for events whose TLP needs a group and
    that name none), through :func:`receive_objects`. Events that cannot be read, that name
    a sharing group ``owner_org`` is not a member of on this node, or that are TLP:RED to no
    user of this node (:func:`red_held_here`) are reported as failed with their uuid (or place,
    ``events.1``, when unreadable) and why; the others are kept. A refusal for who may read
    an event withdraws the MISP copies for more readers (:func:`_event_objects`); an event whose
    Scheldt object was deleted in MISP withdraws that item (:func:`_withdraw_deleted`). Raises
    InputError when the text is not MISP JSON or ``default_group`` is not a group of
    ``owner_org`` here."""
    if default_group is not None:
        member_of(uow, owner_org, default_group, "--group")
    batches: list[list[dict[str, Any]]] = [[]]
    events, failed = read_each_event(text)
    deleted: list[tuple[str, DeletedItem]] = []  # events whose Scheldt object was deleted in MISP
    for event in events:
        gone = deleted_item(event)
        if gone is not None:
            deleted.append((str(event.uuid), gone))
            continue
        made, why = _event_objects(uow, event, owner_org, default_group, now)
        if why is not None:
            failed.append((f"event {event.uuid}", why))
            continue
        if len(made) > MAX_OBJECTS:
            failed.append((f"event {event.uuid}", f"makes {len(made):,} STIX objects, more than the {MAX_OBJECTS:,} "
                           "this node takes at once"))
            continue
        if len(batches[-1]) + len(made) > MAX_OBJECTS:
            batches.append([])
        batches[-1] += made
    # the events' objects name their group (default_group only where their TLP needs one); a
    # file of many events in batches of whole events (a review's 10,001 events were refused whole
    # as "at most 10,000 per envelope", while its own export has no such bound)
    received = Received(IngestReport())
    for batch in batches:
        one = receive_objects(uow, batch, owner_org, "misp", None, now)
        sent = {o["id"]: o for o in batch if isinstance(o.get("id"), str)}
        for i, (label, why) in enumerate(one.report.failed):  # refused for its marking, as _event_objects
            if label in sent and refused_for_marking(label, why) and (
                    laxer := _withdraw_laxer_copies(uow, sent[label], owner_org, now, default_group)):
                one.report.failed[i] = (label, f"{why}; {laxer} earlier version(s) imported from MISP for more "
                                               "readers are withdrawn here")
        received.report.added += one.report.added
        received.report.known += one.report.known
        received.report.failed += one.report.failed
        received.report.failed_versions += one.report.failed_versions
        received.entries += one.entries
        received.alerts += one.alerts
    for event_uuid, gone in deleted:
        try:
            why = _withdraw_deleted(uow, gone, owner_org, event_uuid, now, received)
        except (InputError, ConflictError) as exc:  # one that cannot be withdrawn costs only its event
            why = f"{exc.where}: {exc.why}"
        if why is not None:
            failed.append((f"event {event_uuid}", why))
    received.report.failed += failed
    received.report.failed_versions += [""] * len(failed)
    return received


def _event_objects(uow: Any, event: Any, owner_org: str, default_group: str | None,
                   now: datetime) -> tuple[list[dict[str, Any]], str | None]:
    """The STIX objects a MISP event (not deleted) stands for, checked as :func:`import_misp`
    takes them, or why it is refused. One refused for who may read it (its marking, group or
    recipients) is its originator's newest word on that, so the copies imported from MISP
    before that reach more readers are withdrawn (:func:`_withdraw_laxer_copies`; a MISP
    review's GREEN entry stayed when its RED version was refused), and the refusal says so."""
    made: list[dict[str, Any]] = []
    for_readers = False
    try:
        made = event_objects(event, default_group, owner_org)  # a review's event without Orgc was by "misp"
        made = [_created_as_stored(uow, o) if o.get("id") == f"note--{event.uuid}" else o for o in made]
        terms = [sharing_of(o, None) for o in made]
        for_readers = True
        for group in {t.group for t in terms} - {None}:
            member_of(uow, owner_org, str(group), f"event {event.uuid}")
        for red in {t.recipients for t in terms if t.tlp is Tlp.RED}:
            red_held_here(uow, red, f"event {event.uuid}")
    except InputError as exc:
        for_readers = for_readers or isinstance(exc, MarkingRefused) or exc.where in (
            "recipients", "sharing_group") or any(  # an item's terms (exchange.items.check_item), an object's
            f in f"{exc.where}:" for f in _MARKING_FIELDS)
        stated = made or [o for o in [stated_object(event, default_group)] if o is not None]
        laxer = sum(_withdraw_laxer_copies(uow, o, owner_org, now, default_group) for o in stated) if for_readers else 0
        return [], f"{exc.where}: {exc.why}" + (
            f"; {laxer} earlier version(s) imported from MISP for more readers are withdrawn here" if laxer else "")
    return made, None


def _withdraw_laxer_copies(uow: Any, refused: dict[str, Any], owner_org: str, now: datetime,
                           default_group: str | None) -> int:
    """:func:`withdraw_laxer_versions` of the copies imported from MISP, for a version of a MISP
    event refused for its readers, only when it names as its creator the one the stored
    versions name (a regression review's event of another agency, imported as the item's
    organisation, withdrew that organisation's entry), and whose newest version stored came from
    MISP too (one posted over TAXII after them reaches the same readers: withdrawing MISP's
    older copies changed nothing for them, yet the report said so); how many."""
    sid = refused.get("id")
    newest = uow.exchange.newest([sid]).get(sid) if isinstance(sid, str) else None
    if newest is None or newest.source != "misp" or str(refused.get("created_by_ref", "")).lower() != str(
            newest.object.get("created_by_ref", "")).lower():
        return 0
    return withdraw_laxer_versions(uow, refused, owner_org, "misp", now, default_group)


def _came(source: str) -> str:
    """How a version came, in words, from its ``source``."""
    if source.startswith("peer:"):
        return f"relayed by {source[5:]}"
    return "posted over TAXII" if source.startswith("taxii:") else "made on this node"


def _created_as_stored(uow: Any, note: dict[str, Any]) -> dict[str, Any]:
    """The note a foreign MISP event stands for (dated by the event's timestamp) with the
    ``created`` of its versions stored here, which STIX 2.1 §3.6 keeps across versions (a MISP
    review's two imports stored two creation times): that of the stored version of the same
    ``modified`` (a re-sent one is the same), else of the earliest one; the note as made when
    none is stored or that time is later than its ``modified``."""
    versions = [v for v in uow.exchange.versions(None, note["id"]) if isinstance(v.object, dict)]
    if not versions:
        return note
    key = version_key(note["modified"])
    same = [v for v in versions if version_key(v.modified) == key]
    created = (same[0] if same else min(versions, key=lambda v: version_key(v.modified))).object.get("created")
    return {**note, "created": created} if isinstance(created, str) and version_key(created) <= key else note


def _withdraw_deleted(uow: Any, gone: DeletedItem, owner_org: str, event_uuid: str, now: datetime,
                      received: Received) -> str | None:
    """Withdraw here (:func:`_withdraw`) the item whose Scheldt object the user of ``owner_org``'s
    MISP deleted in event ``event_uuid`` (the one way MISP withdraws it: a MISP review's entry
    imported by MISP never left the watchlist store), noting it in ``received``. Why not, when
    it is not withdrawn: the event is not that item's (its uuid, kind or creator organisation
    differ), no item of ``owner_org`` by that id is stored here, its newest version came
    another way than MISP (made on this node, posted over TAXII or relayed by a peer: withdrawn
    there, as :func:`withdraw_laxer_versions` takes back only MISP's copies), or the version
    deleted is not the newest (a stale deletion revokes nothing, as a revocation older than the
    newest version does not). One withdrawn already is ``known``."""
    sid = gone.stix_id
    if not sid or sid.partition("--")[2].lower() != event_uuid.lower():
        return f"its Scheldt object is deleted and names {sid[:100] or 'no stix-id'}, not the event's own item"
    uow.exchange.lock_writers()  # before reading the newest version, as withdraw_item does
    latest = uow.exchange.newest([sid]).get(sid)
    mine = latest is not None and latest.owner_org == owner_org and (
        latest.revoked or item_kind(latest.object) == gone.kind) and (  # a revoked version keeps no item extension
        str(latest.object.get("created_by_ref", "")).lower() == gone.creator.lower() != "")
    if latest is None or not mine:  # whose it is stays unsaid
        return (f"its Scheldt object {sid[:100]} is deleted in MISP, and no {gone.kind} of {owner_org} made by the "
                "event's creator (Orgc) is stored here by that id: nothing to withdraw, nothing imported")
    if latest.revoked:
        received.report.known.append((sid, latest.modified))
        return None
    if latest.source != "misp":
        return (f"{sid[:100]} was not imported from MISP here ({_came(latest.source)}): withdraw it the way it came, "
                "not by a MISP deletion")
    if not gone.modified or version_key(gone.modified) != version_key(latest.modified):
        return (f"the deleted version {gone.modified[:40] or '(no modified)'} of {sid[:100]} is not its newest here "
                f"({latest.modified}): a stale deletion withdraws nothing")
    done = _withdraw(uow, None, latest, f"deleted in MISP (event {event_uuid})", now, "misp", source="misp")
    revoked = uow.exchange.newest([sid])[sid]
    received.report.added.append((sid, done["revoked"], revoked.seq))
    received.withdrawn.append(sid)
    return None
