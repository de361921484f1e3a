"""Receive and serve shared STIX objects under the one visibility policy.

:func:`ingest_objects` is how objects enter a node (TAXII POST, federation pull, MISP import,
a local share): each is parsed by the stix2 library (big envelopes on several cores:
:mod:`scheldt.exchange.stix_check`), its sharing terms read
(:mod:`scheldt.exchange.objects`), and stored as a version keyed on (id, modified), so a
re-sent or relayed version adds nothing. A bad object is reported with its id and why; the
others in the same envelope are kept. :func:`visible_objects` and :func:`served` are how
every reader gets them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import stix2.v21

from scheldt.domain.exchange import DELETED_MARK, Requester, Tlp, has_version, stix_timestamp, version_key
from scheldt.domain.facts import json_bytes
from scheldt.errors import InputError, NotFoundError
from scheldt.exchange.objects import (
    COMMUNITY_TLPS,
    Sharing,
    check_standard_marking,
    identity_id,
    millisecond_times,
    redact,
    sharing_of,
    standard_marking,
    stored_values,
)
from scheldt.exchange.stix_check import stix_problems
from scheldt.exchange.stix_mapping import (
    CONSIGNMENT_EXTENSION_ID,
    CONTAINER_EXTENSION_ID,
    VESSEL_CALL_EXTENSION_ID,
    WATCH_EXTENSION_ID,
    item_kind,
    part_ids,
)

#: How far after its arrival an object version may be dated (``modified``): a partner's clock
#: may run ahead, but a version dated in the far future can never be revoked or updated by its
#: originator (a review's 9999-12-31 entry was unrevocable; assumption: a day is ample skew).
MOST_AHEAD = timedelta(days=1)

#: Objects in one envelope, at most (TAXII servers announce a max content length; this bounds memory).
MAX_OBJECTS = 10_000
#: Deepest nesting of lists and objects in one STIX object (the store's JSON writer stops at 255;
#: STIX objects, extensions included, need a handful).
MAX_DEPTH = 64
#: A NUL character as JSON writes it (an escape not itself escaped: text "\\u0000" is not one).
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _depth(obj: Any) -> int:
    """How deeply lists and objects nest in ``obj`` (a scalar: 0), read level by level without
    recursion; stops counting past :data:`MAX_DEPTH` + 1."""
    depth, layer = 0, [obj]
    while depth <= MAX_DEPTH:
        containers = [v for v in layer if isinstance(v, (dict, list))]
        if not containers:
            break
        depth += 1
        layer = [c for v in containers for c in (v.values() if isinstance(v, dict) else v)]
    return depth


@dataclass
class IngestReport:
    """What happened to each object of an envelope: added (id, modified, seq), already stored
    (id, modified), failed (id or index, why), with the version each failure was about as its
    sender wrote it (``failed_versions``, "" when it names none; :meth:`fail`)."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    known: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    failed_versions: list[str] = field(default_factory=list)
    #: (STIX id, :func:`version_key`) → ``modified`` as sent (the store keeps it to the millisecond)
    sent: dict[tuple[str, str], str] = field(default_factory=dict)

    def as_sent(self, stix_id: str, modified: str) -> str:
        """``modified`` of a version of ``stix_id`` as its sender wrote it."""
        return self.sent.get((stix_id, version_key(modified)), modified)

    def fail(self, label: str, why: str, modified: str = "") -> None:
        """Record a failure of ``label``, about its version ``modified`` (as stored or sent)."""
        self.failed.append((label, why))
        self.failed_versions.append(self.as_sent(label, modified) if modified else "")


#: Types whose STIX 2.1 objects may leave out ``spec_version``: cyber observables (STIX 2.1
#: §6; the stix2 library's list) and bundles (which have none).
_SPEC_VERSION_OPTIONAL = frozenset({*stix2.v21.OBJ_MAP_OBSERVABLE, "bundle"})


def precheck_object(obj: Any, where: str) -> None:
    """The checks of a received object made before the stix2 library's
    (:func:`scheldt.exchange.stix_check.stix_problems`): a JSON object, STIX 2.1, nesting at
    most :data:`MAX_DEPTH` deep, extensions mapping ids to objects, no NUL character in a
    text, no other definition under a standard TLP marking's id
    (:func:`~scheldt.exchange.objects.check_standard_marking`). Raises InputError."""
    if not isinstance(obj, dict):
        raise InputError(where, "not a JSON object")
    if obj.get("spec_version", "2.1") != "2.1" and obj.get("type") not in ("bundle",):
        raise InputError(f"{where}.spec_version", f"{obj.get('spec_version')!r}: only STIX 2.1 is accepted")
    if "spec_version" not in obj and obj.get("type") not in _SPEC_VERSION_OPTIONAL:
        # served as 2.1 it broke partners' STIX 2.1 parsers (a federation review)
        raise InputError(f"{where}.spec_version", "missing: a STIX 2.1 object names its spec_version, '2.1' (one "
                         "without it is STIX 2.0)")
    if _depth(obj) > MAX_DEPTH:
        raise InputError(where, f"nests lists and objects more than {MAX_DEPTH} levels deep")
    extensions = obj.get("extensions", {})
    if not isinstance(extensions, dict) or not all(isinstance(e, dict) for e in extensions.values()):
        raise InputError(f"{where}.extensions", "must map extension ids to objects of properties")
    check_standard_marking(obj, where)
    try:
        raw = orjson.dumps(obj)
    except orjson.JSONEncodeError:  # a value JSON cannot write: named here, else by the stix2 library's checks
        raw = b""
        huge = _path_of(obj, where, lambda v: type(v) is int and not -(2**63) <= v < 2**64)
        if huge is not None:  # a STIX review's 2**64 came back as 1.8446744073709552e+19
            raise InputError(huge, "an integer beyond 64 bits, which JSON readers do not agree on (STIX integers "
                             "are 54-bit): not stored, as it would not come back as sent")
    # the plain search first: the pattern alone cost 28 us an object, 8 % of a TAXII ingest's CPU
    nul = b"\\u0000" in raw and _NUL.search(raw) is not None
    if nul:  # PostgreSQL text cannot hold it (an attack review's HTTP 500); refused on both stores
        raise InputError(_path_of(obj, where, lambda v: isinstance(v, str) and "\x00" in v) or where,
                         "holds a NUL character (U+0000), which the store does not keep")


def _path_of(value: Any, path: str, wrong: Callable[[Any], bool]) -> str | None:
    """The path of the first key or value in ``value`` (a parsed JSON value at ``path``) that is
    ``wrong``, breadth first; None if none is."""
    todo: list[tuple[Any, str]] = [(value, path)]
    while todo:
        v, at = todo.pop(0)
        if wrong(v):
            return at
        if isinstance(v, dict):
            for k, item in v.items():
                if wrong(k):
                    return f"{at}.{str(k).replace(chr(0), '?')[:80]}"
                todo.append((item, f"{at}.{k}"))
        elif isinstance(v, list):
            todo += [(item, f"{at}[{i}]") for i, item in enumerate(v)]
    return None


def _problems(objects: list[Any], labels: list[str]) -> dict[int, InputError]:
    """Why each refused object of an envelope is refused, by index: the structural checks
    here, then the stix2 library's on those that passed (over worker processes for a big
    envelope)."""
    problems: dict[int, InputError] = {}
    for i, obj in enumerate(objects):
        try:
            precheck_object(obj, labels[i])
        except InputError as exc:
            problems[i] = exc
    checked = [i for i in range(len(objects)) if i not in problems]
    for i, problem in zip(checked, stix_problems([objects[i] for i in checked]), strict=True):
        if problem is not None:
            problems[i] = InputError(labels[i], problem)
    return problems


class IdentityMap(dict[str, str]):
    """Identity id → organisation id, looked up whatever the case of the id's letters: a STIX
    identifier's UUID is read without regard to case (RFC 4122 §3), so ``identity--02FDFE8D-…``
    is be-customs as much as ``identity--02fdfe8d-…`` (a federation review's object naming an
    agency in capitals passed as "an organisation unknown here", was stored as its peer's, and
    a third node took it as the agency's own)."""

    def get(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        """The organisation of identity id ``key`` (any case), or ``default``."""
        return super().get(key.lower() if isinstance(key, str) else key, default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower() if isinstance(key, str) else key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)


def organisations_by_identity(uow: Any) -> IdentityMap:
    """The organisations known here by their STIX identity id
    (:func:`scheldt.exchange.objects.identity_id`): identity id (any case) → organisation id."""
    return IdentityMap({identity_id(o.id): o.id for o in uow.accounts.organisations()})


def identity_named(obj: dict[str, Any], creators: IdentityMap) -> str | None:
    """The organisation known here that ``obj`` speaks for: the one its ``created_by_ref``
    names, or, for an ``identity`` object, the one it is the identity of; None for neither."""
    named = creators.get(str(obj.get("created_by_ref") or ""))
    if named is None and obj.get("type") == "identity":
        named = creators.get(str(obj.get("id") or ""))
    return named


def _check_creator(obj: dict[str, Any], owner_org: str, creators: dict[str, str], where: str) -> None:
    """Raise InputError when ``obj``'s ``created_by_ref`` names an organisation known here
    (``creators``: identity id → organisation) other than ``owner_org``, the one it comes from,
    or when a sighting's ``where_sighted_refs`` (in Scheldt: the organisation that acted on the
    alert, shown to the alert's originator as who gave the feedback) names one, or when it is
    the identity object of one (a federation review's US node defined be-customs' identity, with
    a name asking for reports by e-mail, and it was relayed on as Belgian). No creator, or an
    identity that is no organisation here, passes; ids are compared whatever their case."""
    named = creators.get(str(obj.get("created_by_ref") or ""))
    if named is not None and named != owner_org:
        raise InputError(f"{where}.created_by_ref", f"names {named}, but the object comes from {owner_org}: an "
                         "organisation's objects are taken only from it, or from a peer allowed to relay for it")
    stands_for = creators.get(str(obj.get("id") or "")) if obj.get("type") == "identity" else None
    if stands_for is not None and stands_for != owner_org:
        raise InputError(f"{where}.id", f"is the identity of {stands_for}, but it comes from {owner_org}: an "
                         "organisation's identity is taken only from it, or from a peer allowed to relay for it")
    refs = obj.get("where_sighted_refs") if obj.get("type") == "sighting" else None
    for i, ref in enumerate(refs if isinstance(refs, list) else ()):
        acted = creators.get(str(ref))
        if acted is not None and acted != owner_org:
            raise InputError(f"{where}.where_sighted_refs[{i}]", f"names {acted}, but the sighting comes from "
                             f"{owner_org}: an organisation's feedback is taken only from it, or from a peer allowed "
                             "to relay for it")


#: Kinds of item no shipping line or terminal may read, whatever their marking, with what they
#: carry: never TLP:CLEAR or AMBER, and their TLP:RED names agencies' users only.
AGENCY_ITEMS = {
    "alert": "an alert carries the trip's risk score, reasons and parties",
    # a new-user review read a CLEAR seizure report, with shipper, consignee and how the box was
    # picked, as a carrier; inspections are customs' own
    "seizure-report": "a seizure report carries the inspection, how the box was picked and the trip's parties",
    # an exchange review: a carrier read an AMBER entry watching a competitor's container, and why
    "watchlist-entry:container": "a watchlist entry for a container names a shipping line's box customs watch",
    "watchlist-entry:seal-range": "a watchlist entry for a seal range points at the boxes customs watch",
}


def agency_only(kind: str, watch_kind: str = "") -> str | None:
    """What makes an item of ``kind`` (a watchlist entry's: of ``watch_kind``) one no shipping
    line or terminal may read (:data:`AGENCY_ITEMS`), or None when it is not one."""
    return AGENCY_ITEMS.get(f"{kind}:{watch_kind}" if kind == "watchlist-entry" else kind)


class _Terms:
    """What :func:`_check_terms` looks up, once per envelope: organisations' kinds and
    sharing groups' members (None: not known on this node)."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow
        self.kinds: dict[str, str | None] = {}
        self.members: dict[str, list[str] | None] = {}

    def kind(self, org_id: str) -> str | None:
        if org_id not in self.kinds:
            try:
                self.kinds[org_id] = self.uow.accounts.organisation(org_id).kind.value
            except NotFoundError:
                self.kinds[org_id] = None
        return self.kinds[org_id]

    def group_members(self, group: str) -> list[str] | None:
        if group not in self.members:
            try:
                self.members[group] = list(self.uow.exchange.group(group)["members"])
            except NotFoundError:
                self.members[group] = None
        return self.members[group]


#: Extensions only an alert's or a seizure report's parts carry (container, consignment, vessel call).
_PART_EXTENSIONS = frozenset({CONTAINER_EXTENSION_ID, CONSIGNMENT_EXTENSION_ID, VESSEL_CALL_EXTENSION_ID})


def _check_terms(obj: dict[str, Any], sharing: Sharing, terms: _Terms, where: str) -> None:
    """Refuse sharing terms no one on this node could set through the REST API, whatever way
    the object came (TAXII Add Objects, a peer, MISP): an alert or seizure report (by its
    declared kind or by what it is: a Scheldt container, consignment or vessel call is
    part of one) under TLP:CLEAR or AMBER, which reach shipping lines and
    terminals, or under TLP:RED naming a user of one; a TLP:RED object naming someone of an
    organisation outside its sharing group (where both are known here); a TLP:GREEN or CLEAR
    object naming a sharing group (those reach the whole community: a federation review's GREEN
    entry posted to a group's collection was kept "of be-us", in no collection a community
    member reads over TAXII yet shown to them elsewhere, and screened nothing). An access review posted
    a copy of a partner's alert as CLEAR over TAXII, and carriers read its risk score and
    reasons. Raises InputError naming the property."""
    # as the REST API refuses it (a federation review); a withdrawal names no one and shows
    # nothing, so one stored that way before this rule can still be withdrawn
    if sharing.group and sharing.tlp in COMMUNITY_TLPS and obj.get("revoked") is not True:
        raise InputError(f"{where}.extensions.sharing_group", f"TLP:{sharing.tlp.value.upper()} reaches the whole "
                         f"community, not the sharing group {sharing.group!r}: leave the group out, or mark it "
                         "AMBER+STRICT for the group's agencies")
    kind = item_kind(obj) or ("alert" if _PART_EXTENSIONS & set(obj.get("extensions") or {}) else sharing.kind)
    watched = ((obj.get("extensions") or {}).get(WATCH_EXTENSION_ID) or {}).get("entry_kind", "")
    reason = agency_only(kind, str(watched)) or agency_only(sharing.kind)
    if reason is not None and sharing.tlp in (Tlp.CLEAR, Tlp.AMBER):
        raise InputError(f"{where}.object_marking_refs", f"{reason}, which no shipping line or terminal "
                         f"may read: TLP:{sharing.tlp.value.upper()} reaches them; mark it GREEN, AMBER+STRICT or RED")
    members = terms.group_members(sharing.group) if sharing.group else None
    for i, (org, user) in enumerate(sharing.recipients):
        org_kind = terms.kind(org)
        if reason is not None and org_kind is not None and org_kind != "agency":
            raise InputError(f"{where}.extensions.recipients.{i}", f"{org}/{user}: {org} is a {org_kind}: this item "
                             "goes to agencies only")
        if members is not None and org_kind is not None and org not in members:
            raise InputError(f"{where}.extensions.recipients.{i}", f"{org}/{user}: {org} is not a member of the "
                             f"sharing group {sharing.group}")


def _check_member(sharing: Sharing, terms: _Terms, owner_org: str, where: str) -> None:
    """Raise InputError when ``sharing`` names a group this node defines without ``owner_org``
    (the organisation the object comes from) among its members: a federation review's partner
    node named a group of this node's it was not in (its own group of that name held it), and a
    third agency read the entry. A group this node does not define is left to the peer list's
    warning (no one here reads it until it is made)."""
    members = terms.group_members(sharing.group) if sharing.group else None
    if members is not None and owner_org not in members:
        raise InputError(f"{where}.extensions.sharing_group", f"{owner_org} is not a member of the sharing group "
                         f"{sharing.group} on this node: it cannot share into it")


def ingest_objects(uow: Any, objects: list[Any], owner_org: str, source: str, default_group: str | None,
                   now: datetime) -> IngestReport:
    """Store each object version (see the module docstring); a version already stored with the
    same content is ``known``, with other content ``failed`` (the first one received is kept).
    ``owner_org``: the organisation the objects come from (the requester of a TAXII POST, the peer of a pull); ``source``:
    provenance (``local``, ``taxii:<user>``, ``peer:<name>``); ``default_group``: the sharing
    group of objects that name none (the collection posted to). An object whose
    ``created_by_ref`` names another organisation known here than ``owner_org`` is refused
    (whatever way it came in: TAXII, a peer, MISP), so a stored object never claims a known
    creator other than its owner, and this node never serves such a claim on to its peers.
    Raises InputError when ``objects`` is not a list or holds more than :data:`MAX_OBJECTS`."""
    if not isinstance(objects, list):
        raise InputError("objects", "give a list of STIX objects")
    if len(objects) > MAX_OBJECTS:
        raise InputError("objects", f"{len(objects):,} objects; at most {MAX_OBJECTS:,} per envelope")
    report = IngestReport()
    labels = [str(obj.get("id", f"objects[{i}]")) if isinstance(obj, dict) else f"objects[{i}]"
              for i, obj in enumerate(objects)]
    written = [str(obj.get("modified") or obj.get("created") or "") if isinstance(obj, dict) else ""
               for obj in objects]
    report.sent = {(label, version_key(text)): text for label, text in zip(labels, written, strict=True) if text}
    problems = _problems(objects, labels)
    # what passed its checks under a standard TLP id is the standard definition, nothing more;
    # created and modified are kept to the millisecond at least (STIX 2.1 §3.2)
    objects = [obj if i in problems else standard_marking(millisecond_times(obj))
               for i, obj in enumerate(objects)]
    creators = organisations_by_identity(uow)
    terms = _Terms(uow)
    revoking = _newest_stored_of_revocations(uow, objects)
    arrived = max(now, datetime.now(UTC))  # a clock pinned in the past (SCHELDT_NOW) refuses no current version
    # the latest ``modified`` taken (no limit at the end of time)
    latest = arrived + MOST_AHEAD if arrived.replace(tzinfo=None) < datetime.max - MOST_AHEAD else None
    batch: list[tuple[dict[str, Any], tuple[tuple[str, str], ...]]] = []
    refused_unless_stored: list[tuple[dict[str, Any], InputError]] = []
    for i, label in enumerate(labels):
        try:
            if i in problems:
                raise problems[i]
            sharing = sharing_of(objects[i], default_group, label)
            _check_terms(objects[i], sharing, terms, label)
            values = stored_values(objects[i], sharing, owner_org, source, now)
        except InputError as exc:
            report.fail(label, f"{exc.where}: {exc.why}", written[i])
            continue
        try:
            _check_date(values, latest, arrived, written[i], label)
            _check_creator(objects[i], owner_org, creators, label)
            if not _withdraws(objects[i], values, revoking.get(label), sharing, owner_org):
                _check_member(sharing, terms, owner_org, label)
        except InputError as exc:  # refused, unless this very version is stored already
            refused_unless_stored.append((values, exc))
            continue
        batch.append((values, sharing.recipients))
    batch = _not_after_revocation(uow, batch, report)
    batch = _originators_only(uow, batch, owner_org, report)
    seqs = uow.exchange.add_versions(batch)
    known = [values for (values, _), seq in zip(batch, seqs, strict=True) if seq is None] + [
        values for values, _ in refused_unless_stored]
    stored = uow.exchange.stored_objects([(v["stix_id"], v["modified"]) for v in known]) if known else {}
    for (values, _), seq in zip(batch, seqs, strict=True):
        key = (values["stix_id"], values["modified"])
        if seq is not None:
            report.added.append((*key, seq))
        elif same_version(stored.get(key, values["object"]), values["object"]):
            report.known.append(key)
        else:  # a version is never changed: the one first received stays, and the clash is said
            report.fail(key[0], f"{key[0]}: version {key[1]} is already stored here with other content; the first "
                                "one received is kept (a new version needs a later modified)", key[1])
    for values, exc in refused_unless_stored:  # a re-sent copy of a version stored here adds nothing
        key = (values["stix_id"], values["modified"])
        if key in stored and same_version(stored[key], values["object"]):
            report.known.append(key)
        else:
            report.fail(key[0], f"{exc.where}: {exc.why}", key[1])
    return report


def _check_date(values: dict[str, Any], latest: datetime | None, arrived: datetime, written: str, label: str) -> None:
    """Raise InputError when a version that is no revocation (``values`` as stored) is dated
    (``modified``) after ``latest`` (:data:`MOST_AHEAD` after it ``arrived``): its originator
    could never revoke or update it. A revocation dated so is taken (a revoked object takes no
    later version anyway): it is how one stored dated ahead before this rule is withdrawn."""
    at = values["modified_at"]
    if at is not None and latest is not None and at > latest and not values["revoked"]:
        raise InputError(f"{label}.modified", f"{written[:40]} is more than a day after its arrival "
                         f"({arrived:%Y-%m-%dT%H:%M}Z): a version dated ahead could never be revoked or updated")


def _newest_stored_of_revocations(uow: Any, objects: list[Any]) -> dict[str, Any]:
    """The newest stored version of each of ``objects`` that is a revocation (``revoked:
    true``) of an object stored here: STIX id → stored version."""
    ids = {o["id"] for o in objects
           if isinstance(o, dict) and o.get("revoked") is True and isinstance(o.get("id"), str)}
    return uow.exchange.newest(ids) if ids else {}


def _withdraws(obj: dict[str, Any], values: dict[str, Any], stored: Any, sharing: Sharing, owner_org: str) -> bool:
    """Whether ``obj`` (``values``: as stored) is a revocation (``revoked: true``) from
    ``owner_org`` that withdraws ``stored`` (its object's newest stored version, or None): no
    older than it, under the same terms (the owner's own, in the same sharing group at the same
    TLP, not RED, whose recipients could change), so it narrows what is seen and never widens
    it. Such a withdrawal passes the membership check: an originator's withdrawal of what it
    shared before the group was made here was refused, and the item stayed live (regression
    review); a new version sent beside an older revocation of its id is not one (a later
    review's live content passed with it)."""
    stored_at = stix_timestamp(stored.modified) if stored is not None else None
    return (obj.get("revoked") is True and stored_at is not None and values["modified_at"] is not None
            and values["modified_at"] >= stored_at and stored.owner_org == owner_org
            and stored.group_id == sharing.group and stored.tlp == sharing.tlp.value and sharing.tlp != Tlp.RED)


def _originators_only(uow: Any, batch: list[tuple[dict[str, Any], Any]], owner_org: str,
                      report: IngestReport) -> list[tuple[dict[str, Any], Any]]:
    """``batch`` without new versions of objects whose stored versions are another
    organisation's: refused into ``report``, whatever way they came (TAXII Add Objects refused
    them already; a federation review re-marked a partner's AMBER+STRICT entry GREEN through a
    MISP import under its own name, and a third agency read it). A copy of a stored version
    passes on, and is counted as known."""
    stored = uow.taxii.stored_versions([v["stix_id"] for v, _ in batch]) if batch else {}
    kept = []
    for values, recipients in batch:
        versions = stored.get(values["stix_id"], [])
        others = {o for o, _ in versions} - {owner_org}
        if others and not has_version(versions, values["modified"]):
            report.fail(values["stix_id"], f"{values['stix_id']} is another organisation's object: only its originator "
                                           "makes new versions of it", values["modified"])
        else:
            kept.append((values, recipients))
    return kept


def _not_after_revocation(uow: Any, batch: list[tuple[dict[str, Any], Any]],
                          report: IngestReport) -> list[tuple[dict[str, Any], Any]]:
    """``batch`` without the versions that STIX 2.1 revocation (§3.6: a revoked object takes no
    later version) refuses, into ``report``, taken in order as if each came alone: a version
    later than a revocation of its object stored or taken before it (an attack review revived a
    withdrawn alert, names and all, by posting a later version; a review by sending its
    revocation and a later live version in one envelope), any new version of an object
    withdrawn here, a revocation too (revoked, its earlier versions' content deleted:
    :func:`scheldt.workflows.share.withdraw_item`; a fifth regression review's revoked copy of
    the original brought the names back), and a revocation older than a live version
    stored or taken before it (it would leave the object live but never updatable). An earlier
    version, the object's history as a peer relays it, is kept however envelopes or pages fall,
    and one envelope gives what its versions sent one by one would (regression reviews). A
    revocation refused as a clash (a stored live version, or an earlier one of the same time in
    ``batch``, with other content) revokes nothing. A copy of a stored version passes on."""
    ids = {v["stix_id"] for v, _ in batch}
    times = uow.exchange.version_times(ids) if ids else {}
    revoked_at: dict[str, Any] = {}
    newest_live: dict[str, Any] = {}
    for sid, versions in times.items():
        for at, revoked, deleted in versions:
            if at is not None and not deleted:
                _taken(revoked_at if revoked else newest_live, sid, at, revoked)
    withdrawn = {sid for sid in revoked_at if any(deleted for _, _, deleted in times[sid])}
    # the parts of a withdrawn item sent beside its main object (their versions deleted by the
    # withdrawal): refused with it (a MISP review's older and newer copies of a withdrawn alert
    # were refused, and its party's name came back in its parts)
    parts = {pid for v, _ in batch if v["stix_id"] in withdrawn for pid in part_ids(v["stix_id"], v["object"])}
    # and sent later, alone: deleted by the withdrawal (a regression review's party came back)
    gone = [sid for sid, versions in times.items() if versions and all(deleted for _, _, deleted in versions)]
    parts |= uow.taxii.deleted_by_withdrawal(gone) if gone else set()
    relevant = set(revoked_at) | {v["stix_id"] for v, _ in batch if v["revoked"]} | parts
    if not relevant:
        return batch
    stored = uow.exchange.stored_objects([(v["stix_id"], v["modified"]) for v, _ in batch if v["stix_id"] in relevant])
    seen: set[tuple[str, str]] = set()
    kept = []
    for values, recipients in batch:
        sid, key, at = values["stix_id"], (values["stix_id"], values["modified"]), values["modified_at"]
        first = (sid, version_key(key[1])) not in seen
        seen.add((sid, version_key(key[1])))
        if key in stored or not first or sid not in relevant:
            kept.append((values, recipients))  # a copy, or a clash with a version before it (add_versions says)
        elif sid in withdrawn:  # its content deleted here: no version brings it back, a revocation neither
            report.fail(sid, f"{sid}: withdrawn by its originator; a withdrawn object takes no other version (STIX 2.1 "
                             "revocation)", key[1])
        elif sid in parts:
            report.fail(sid, f"{sid}: a part of an item withdrawn by its originator; it takes no other version",
                        key[1])
        elif values["revoked"]:
            if at is not None and sid in newest_live and newest_live[sid] > at:
                report.fail(sid, f"{sid}: a revocation at {report.as_sent(*key)}, older than the object's newest "
                                 "version, revokes nothing (STIX 2.1: a revoked object takes no later version)", key[1])
                continue
            if at is not None:
                _taken(revoked_at, sid, at, True)
            kept.append((values, recipients))
        elif sid in revoked_at and (at is None or at > revoked_at[sid]):
            report.fail(sid, f"{sid}: revoked by its originator; a revoked object takes no other version (STIX 2.1 "
                             "revocation)", key[1])
        else:
            if at is not None:
                _taken(newest_live, sid, at, False)
            kept.append((values, recipients))
    return kept


def _taken(times: dict[str, Any], sid: str, at: Any, earliest: bool) -> None:
    """Keep in ``times`` the earliest (a revocation) or the latest (a live version) time of ``sid``."""
    times[sid] = at if sid not in times else (min if earliest else max)(times[sid], at)


#: Objects with fixed ids that every producer writes in its own way (TLP marking definitions,
#: extension definitions, identities): a re-sent version of one is the same version.
_SHARED_DEFINITIONS = frozenset({"marking-definition", "extension-definition", "identity"})


def same_version(stored: dict[str, Any], received: dict[str, Any]) -> bool:
    """Whether ``received`` is the same object version as ``stored`` (same id and modified):
    equal once written as the store writes JSON (NaN as null, say); or one of them is the other
    with properties under granular markings removed (a copy served to a reader who may not see
    them, relayed back); or a shared definition (:data:`_SHARED_DEFINITIONS`); or a version
    deleted here (its content is gone: :func:`scheldt.store.exchange.tombstone`), which a copy
    re-sent does not bring back."""
    if stored == received or received.get("type") in _SHARED_DEFINITIONS or stored.get(DELETED_MARK) is True:
        return True
    # a version stored before times were kept to the millisecond, or sent again coarser
    stored, received = millisecond_times(stored), millisecond_times(received)
    if stored == received:
        return True
    if "modified" in stored and received.get("modified") != stored["modified"] \
            and version_key(received.get("modified")) == version_key(stored["modified"]):
        received = {**received, "modified": stored["modified"]}  # the same time written another way
        if stored == received:
            return True
    written = orjson.loads(json_bytes(received))
    if stored == written:
        return True
    if "granular_markings" not in stored and "granular_markings" not in written:
        return False
    smaller, larger = sorted((stored, written), key=len)  # the markings list shrinks with the removal
    return all(k == "granular_markings" or (k in larger and larger[k] == v) for k, v in smaller.items())


def visible_objects(uow: Any, requester: Requester, **filters: Any) -> list[Any]:
    """Stored versions the requester may see (filters as ``ExchangeRepository.page``)."""
    return uow.exchange.page(requester, **filters)


def served(uow: Any, requester: Requester, stored: Any) -> dict[str, Any]:
    """A stored version as the requester may see it: fields under granular markings the
    requester may not see are removed."""
    if not stored.object.get("granular_markings"):
        return stored.object
    return redact(stored.object, requester, uow.exchange.audience(stored))
