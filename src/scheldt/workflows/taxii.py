"""TAXII 2.1 use cases over the unit of work (OASIS TAXII Version 2.1, OASIS Standard, 10 June
2021; section numbers below are that document's). The HTTP edge is :mod:`scheldt.exchange.taxii`.

**Collections** (§5.1, §5.2): one per sharing group the requester's organisation is a member of
(read and write), one per sharing group of the organisation it is a client of (read only: TLP:AMBER
reaches clients), and ``community`` (objects without a sharing group: CLEAR, GREEN, and RED to
named recipients; written by agencies). A collection's ``id`` is a UUID derived from the group id
(the same on every node, so peers map collections to their own groups); its ``alias`` is the group
id. Writing needs :attr:`~scheldt.domain.access.Permission.SHARE`; reading
:attr:`~scheldt.domain.access.Permission.READ_TRIPS` (every role has it).

**Access before paging.** Every list runs the one visibility policy as SQL
(``ExchangeRepository.page`` with the requester) before it is paged, so a page never holds an
object the requester may not see, and a page is short only at the end of the list. Every filter
(``match[version]`` first/last/timestamps among the versions the requester may see,
``match[spec_version]``, ids, types, ``added_after``) is part of that one query.

**Cursors** (§3.4): ``next`` is the server-assigned ``seq`` of the last object version of the
page, encrypted and authenticated with a key only this node holds (:class:`CursorCodec`): seqs
count every organisation's objects, so a partner reading plain seqs could count what it may not
see. It holds no state on the server, never expires, and names a position
rather than an offset, so versions added meanwhile are found later and none is skipped (on
PostgreSQL writers are serialised so seqs commit in order). It is returned on every non-empty
page, even the last (``more`` false), so a client resumes exactly where it stopped; an empty page
asked with ``next`` returns that same ``next``. ``added_after`` (date_added, exclusive) works too,
with the ``X-TAXII-Date-Added-First/Last`` headers.

**Deletion** (§5.7): only the originating organisation deletes its object versions (all of them,
unless ``match[version]`` narrows it). Each deleted version leaves a tombstone with a growing id,
served to peers by :func:`tombstones` (a Scheldt extension endpoint), so deletions propagate.

Errors: AuthError (401), ForbiddenError (403), NotFoundError (404), InputError (400), each with
where and why.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import stix2.v21
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from scheldt.domain.access import OrgKind, Permission, Principal
from scheldt.domain.exchange import LOCAL_GROUP, Requester, VersionFilter, has_version, stix_timestamp
from scheldt.errors import AuthError, ForbiddenError, InputError, NotFoundError, ScheldtError
from scheldt.exchange.objects import COMMUNITY_TLPS, NAMESPACE, SHARING_EXTENSION_ID, identity_id, tlp_of
from scheldt.exchange.stix_mapping import item_kind
from scheldt.workflows.share import parts_of, receive_objects, withdraw_entries
from scheldt.workflows.sharing import MAX_OBJECTS, served

#: Alias of the collection of objects without a sharing group.
COMMUNITY = "community"
#: Media type of the STIX content a collection holds (§5.2.1 media_types, §5.3.1 media_type).
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
#: Page size when the request gives no ``limit``, and the largest page served (§3.4).
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: Largest cursor position: object versions' ``seq`` and tombstones' ``id`` are 32-bit integers.
MAX_POSITION = 2**31 - 1
#: Passwords checked with argon2 are remembered (keyed by an HMAC of hash and password) for this
#: many users, so HTTP Basic clients paging through a collection do not pay argon2 on every page.
VERIFIED_CACHE = 1024


# --- collections ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def collection_id(alias: str) -> str:
    """The UUID of the collection of sharing group ``alias`` (or :data:`COMMUNITY`); the same on
    every Scheldt node."""
    return str(uuid.uuid5(NAMESPACE, "taxii-collection:" + alias))


@dataclass(frozen=True, slots=True)
class Collection:
    """A TAXII collection: ``group_id`` is the sharing group (None for the community one)."""

    id: str
    alias: str
    title: str
    description: str
    group_id: str | None
    can_read: bool
    can_write: bool

    def resource(self) -> dict[str, Any]:
        """The collection resource (§5.2.1)."""
        return {"id": self.id, "title": self.title, "description": self.description, "alias": self.alias,
                "can_read": self.can_read, "can_write": self.can_write, "media_types": [STIX_MEDIA_TYPE]}

    @property
    def where(self) -> dict[str, Any]:
        """The collection as ``ExchangeRepository.page`` filters take it."""
        return {"group_id": self.group_id} if self.group_id is not None else {"community": True}


def requester_of(uow: Any, principal: Principal) -> Requester:
    """The visibility policy's requester for a principal: a node account (``scheldt peer allow``)
    of an agency asks as a federation peer."""
    return uow.exchange.requester(principal.organisation.id, principal.username, peer=None)


def _require_read(principal: Principal) -> None:
    if not principal.can(Permission.READ_TRIPS):
        raise ForbiddenError("collections", "your roles do not let you read shared objects")


def _readable(principal: Principal, requester: Requester) -> list[tuple[str | None, bool]]:
    """(sharing group id, None for the community collection; whether the requester may add
    objects) of each collection the requester may read, community first, then by group id.
    Raises ForbiddenError for a principal without READ_TRIPS."""
    _require_read(principal)
    share = principal.can(Permission.SHARE)
    out: list[tuple[str | None, bool]] = [(None, share and principal.organisation.kind == OrgKind.AGENCY)]
    for group_id in sorted(requester.groups | requester.client_of_groups):
        if not group_id.startswith(LOCAL_GROUP):
            out.append((group_id, share and group_id in requester.groups))
    return out


_COMMUNITY_ABOUT = ("Objects shared without a sharing group: TLP:CLEAR (everyone), TLP:GREEN (agencies) and TLP:RED "
                    "to named recipients.")


def collections(uow: Any, principal: Principal, requester: Requester) -> list[Collection]:
    """The collections the requester may read, community first, then by alias. Raises
    ForbiddenError for a principal without READ_TRIPS."""
    out = []
    for group_id, can_write in _readable(principal, requester):
        if group_id is None:
            out.append(Collection(collection_id(COMMUNITY), COMMUNITY, "Community", _COMMUNITY_ABOUT, None, True,
                                  can_write))
            continue
        try:
            group = uow.exchange.group(group_id)
        except NotFoundError:
            continue
        # a client company reads the group's TLP:AMBER items, never who its members are (an
        # attack review found the member agencies listed to a carrier)
        about = (f"Sharing group {group_id}: {', '.join(group['members'])}." if group_id in requester.groups else
                 f"Sharing group {group_id}. You read its TLP:AMBER items as a client of an agency in it.")
        out.append(Collection(collection_id(group_id), group_id, group["name"], about, group_id, True, can_write))
    return out


def find_collection(uow: Any, principal: Principal, requester: Requester, key: str,
                    described: bool = False) -> Collection:
    """The collection with id or alias ``key`` among those the requester may read. Raises
    NotFoundError otherwise (another group's collection is not revealed). Without
    ``described`` its title and description are left empty and no sharing group is read: a
    list of objects, manifests or versions needs only the collection's scope and rights (the
    requester's groups exist: a membership names its group)."""
    if described:
        found = [c for c in collections(uow, principal, requester) if key in (c.id, c.alias)]
    else:
        found = [Collection(collection_id(alias), alias, "", "", group_id, True, can_write)
                 for group_id, can_write in _readable(principal, requester)
                 for alias in [COMMUNITY if group_id is None else group_id] if key in (collection_id(alias), alias)]
    if not found:
        raise NotFoundError(f"collection {key[:80]}", "no such collection, or not one you may read")
    return found[0]


# --- parameters ----------------------------------------------------------------------------------

def parse_timestamp(text: str, where: str) -> datetime:
    """A TAXII/STIX timestamp (RFC 3339 in UTC, ``Z``, any sub-second precision) as an aware
    UTC datetime. Raises InputError naming ``where``."""
    value = text.strip()
    try:
        if not value.endswith(("Z", "z")) or "T" not in value.upper():
            raise ValueError
        head, _, frac = value[:-1].partition(".")
        t = datetime.strptime(head.upper(), "%Y-%m-%dT%H:%M:%S")
        if frac:
            if not frac.isdigit():
                raise ValueError
            t = t.replace(microsecond=int(frac[:6].ljust(6, "0")))
    except ValueError:
        raise InputError(where, f"{text[:40]!r} is not a timestamp like 2026-03-01T12:00:00.000Z") from None
    return t.replace(tzinfo=UTC)


def timestamp(t: datetime) -> str:
    """An aware datetime as a TAXII timestamp with microseconds (``...T12:00:00.123456Z``)."""
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def version_time(modified: str) -> datetime | None:
    """A stored version text as a datetime, or None when it is not a timestamp."""
    return stix_timestamp(modified)


def parse_limit(text: str | None) -> int:
    """``limit`` (§3.4): a positive whole number; more than :data:`MAX_LIMIT` is served as
    :data:`MAX_LIMIT`. Raises InputError."""
    if text is None or text == "":
        return DEFAULT_LIMIT
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit() or not digits.lstrip("0"):
        raise InputError("limit", f"{text[:20]!r} is not a positive whole number")
    digits = digits.lstrip("0")
    return MAX_LIMIT if len(digits) > 9 else min(int(digits), MAX_LIMIT)


@dataclass(frozen=True, slots=True)
class CursorCodec:
    """Turns a position (an object version's ``seq``, a tombstone's id: 0 to :data:`MAX_POSITION`)
    into a ``next`` value and back: 12 bytes, URL-safe base64 (16 characters).

    Deterministic authenticated encryption in the SIV manner, from HMAC-SHA256 (RFC 2104) only:
    ``iv = HMAC(k1, position)[:8]``, ``ct = position XOR HMAC(k2, iv)[:4]``, cursor ``iv || ct``.
    Decoding recomputes the iv from the decrypted position and refuses a value whose iv does
    not match (a 64-bit tag), so a partner can neither read positions nor forge one. The same
    position always gives the same value (an empty page returns the ``next`` it was asked with).
    """

    iv_key: bytes
    stream_key: bytes

    @classmethod
    def from_secret(cls, secret: bytes) -> CursorCodec:
        """Both keys derived from the node's cursor secret (migration 0022)."""
        return cls(hmac.digest(secret, b"taxii-cursor-iv", "sha256"),
                   hmac.digest(secret, b"taxii-cursor-stream", "sha256"))

    def encode(self, position: int) -> str:
        """The ``next`` value after the object version (or tombstone) at ``position``."""
        plain = position.to_bytes(4, "big")
        iv = hmac.digest(self.iv_key, plain, "sha256")[:8]
        pad = hmac.digest(self.stream_key, iv, "sha256")[:4]
        return base64.urlsafe_b64encode(iv + bytes(a ^ b for a, b in zip(plain, pad))).decode()

    def decode(self, text: str | None, where: str = "next") -> int | None:
        """The position a ``next`` value names (None for none). Raises InputError, at ``where``,
        for a value this node did not give."""
        if not text:
            return None
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii")) if len(text) == 16 else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 12:
            raise InputError(where, f"not a {where!r} value this server gave")
        iv, sealed = raw[:8], raw[8:]
        pad = hmac.digest(self.stream_key, iv, "sha256")[:4]
        plain = bytes(a ^ b for a, b in zip(sealed, pad))
        position = int.from_bytes(plain, "big")
        if not hmac.compare_digest(hmac.digest(self.iv_key, plain, "sha256")[:8], iv) or position > MAX_POSITION:
            raise InputError(where, f"not a {where!r} value this server gave")
        return position


#: Name of the node secret the cursor keys come from (made by migration 0022).
CURSOR_SECRET = "taxii-cursor-key"
_CODECS: dict[str, CursorCodec] = {}
_CODECS_LOCK = threading.Lock()


def cursor_codec(uow: Any) -> CursorCodec:
    """This node's :class:`CursorCodec`, read from the store once per process and database."""
    where = str(uow.session.get_bind().url)
    codec = _CODECS.get(where)
    if codec is None:
        codec = CursorCodec.from_secret(bytes.fromhex(uow.exchange.node_secret(CURSOR_SECRET)))
        with _CODECS_LOCK:
            codec = _CODECS.setdefault(where, codec)
    return codec


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """``match[version]`` (§3.5.1): ``last`` (the default), ``first``, ``all`` and timestamps,
    any combination (a version matching one of them is kept)."""

    all: bool = False
    first: bool = False
    last: bool = True
    times: frozenset[datetime] = frozenset()

    @classmethod
    def parse(cls, values: list[str]) -> VersionMatch:
        """From the comma-separated values given (none: ``last``). Raises InputError."""
        items = [v.strip() for text in values for v in text.split(",") if v.strip()]
        if not items:
            return cls()
        times = frozenset(parse_timestamp(v, "match[version]") for v in items if v not in ("all", "first", "last"))
        return cls("all" in items, "first" in items, "last" in items, times)


ALL_VERSIONS = VersionMatch(all=True, last=False)


def split_values(values: list[str]) -> tuple[str, ...]:
    """Comma-separated filter values (``match[id]=a,b`` or repeated parameters), in order, unique."""
    seen: dict[str, None] = {}
    for text in values:
        for v in text.split(","):
            if v.strip():
                seen[v.strip()] = None
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Query:
    """Filters of a list (§3.4, §3.5): after cursor position ``after``, ``added_after`` (UTC,
    exclusive), ``ids``/``types`` (any of), versions, spec versions (any of), page size."""

    after: int | None = None
    added_after: datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: VersionMatch = field(default_factory=VersionMatch)
    spec_versions: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT


@dataclass
class Page:
    """Visible object versions in server order, whether more follow, and the cursor after them."""

    rows: list[Any]
    more: bool
    next: str | None


# --- reading -------------------------------------------------------------------------------------

def version_filter(v: VersionMatch) -> VersionFilter | None:
    """The store's filter for ``match[version]`` (None for ``all``)."""
    return None if v.all else VersionFilter(first=v.first, last=v.last, at=tuple(sorted(v.times)))


def select_versions(uow: Any, requester: Requester, coll: Collection, q: Query, as_text: bool = False,
                    with_object: bool = True) -> Page:
    """The page of visible object versions of ``coll`` matching ``q``, in ``seq`` order (see the
    module docstring: one query filters before paging, so the page is full unless it is the last).
    With ``as_text`` its rows are ``ObjectText`` (JSON text as stored) for :func:`object_texts`;
    without ``with_object`` that text is empty and not read (manifests)."""
    found = uow.exchange.page(requester, **coll.where, after_seq=q.after, added_after=q.added_after, ids=q.ids,
                              types=q.types, spec_versions=q.spec_versions, versions=version_filter(q.versions),
                              limit=q.limit + 1, as_text=as_text, with_object=with_object)
    more = len(found) > q.limit
    rows = found[:q.limit]
    codec = cursor_codec(uow)
    cursor = codec.encode(rows[-1].seq) if rows else (codec.encode(q.after) if q.after is not None else None)
    return Page(rows, more, cursor)


def require_object(uow: Any, requester: Requester, coll: Collection, stix_id: str) -> None:
    """Raise NotFoundError unless the requester may see some version of ``stix_id`` in ``coll``."""
    if not uow.exchange.page(requester, **coll.where, ids=[stix_id], limit=1, as_text=True, with_object=False):
        raise NotFoundError(f"object {stix_id[:100]}", "no such object in this collection, or not one you may see")


def object_texts(uow: Any, requester: Requester, rows: list[Any]) -> list[str]:
    """The STIX objects of ``rows`` (``ObjectText``) as JSON texts the requester may see: the
    stored text, unless the object has granular markings (its text names them): then the stored
    version as :func:`scheldt.workflows.sharing.served` gives it (fields under markings the
    requester may not see removed)."""
    marked = {o.seq: o for o in uow.exchange.get_seqs([r.seq for r in rows if '"granular_markings"' in r.text])}
    return [orjson.dumps(served(uow, requester, marked[r.seq])).decode() if r.seq in marked else r.text for r in rows]


def manifest_records(rows: list[Any]) -> list[dict[str, Any]]:
    """Manifest records (§5.3.1) of ``rows``."""
    return [{"id": r.stix_id, "date_added": timestamp(r.date_added), "version": r.modified,
             "media_type": f"application/stix+json;version={r.spec_version}"} for r in rows]


def date_added_range(rows: list[Any]) -> tuple[str, str] | None:
    """(X-TAXII-Date-Added-First, -Last) of a page: the date_added of its first and last rows."""
    if not rows:
        return None
    return timestamp(rows[0].date_added), timestamp(rows[-1].date_added)


# --- writing -------------------------------------------------------------------------------------

def _require_write(coll: Collection) -> None:
    if not coll.can_write:
        raise ForbiddenError(f"collection {coll.alias}", "you may read this collection but not write to it "
                             "(members of its sharing group with a sharing role write; agencies write to community)")


def _label(obj: Any, i: int) -> tuple[str, str]:
    if isinstance(obj, dict):
        return str(obj.get("id") or f"objects[{i}]")[:200], str(obj.get("modified") or obj.get("created") or "")
    return f"objects[{i}]", ""


def add_objects(uow: Any, principal: Principal, requester: Requester, coll: Collection, objects: Any,
                now: datetime) -> dict[str, Any]:
    """Add Objects (§5.4): store the envelope's objects as shared by the principal's organisation
    (``source="taxii:<user>"``, sharing group = the collection's unless an object names its own,
    which must then be this one) through :func:`scheldt.workflows.share.receive_objects`, and
    keep and return the status resource (§4.3.1; complete at once). An object that is a new
    version of another organisation's object is refused (only the originator versions an object);
    a version already stored counts as a success. Raises ForbiddenError without write access,
    InputError when ``objects`` is not a list or too long."""
    _require_write(coll)
    if not isinstance(objects, list):
        raise InputError("envelope.objects", "give a list of STIX objects")
    if len(objects) > MAX_OBJECTS:
        raise InputError("envelope.objects", f"{len(objects):,} objects; at most {MAX_OBJECTS:,} per request")
    org = principal.organisation.id
    failures: list[dict[str, str]] = []
    ids = [o["id"] for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)]
    stored = uow.taxii.stored_versions(ids) if ids else {}

    def seen(stix_id: str) -> bool:  # asked only for ids with another organisation's versions (rare)
        return bool(uow.exchange.page(requester, ids=[stix_id], limit=1, as_text=True, with_object=False))

    kept = []
    for i, obj in enumerate(objects):
        label, version = _label(obj, i)
        why = _refusal(obj, org, coll, stored.get(label, []), seen) or _unattributed(obj, principal)
        if why:
            failures.append({"id": label, "version": version, "message": why})
        else:
            kept.append(obj)
    received = receive_objects(uow, kept, org, f"taxii:{principal.username}", coll.group_id, now) if kept else None
    successes: list[dict[str, str]] = []
    if received is not None:
        # each version as the client wrote it (stored to the millisecond: a regression review's
        # client matched no status entry to its own objects, and a failure named another version)
        report = received.report
        successes += [{"id": sid, "version": report.as_sent(sid, mod), "message": "added"}
                      for sid, mod, _ in report.added]
        successes += [{"id": sid, "version": report.as_sent(sid, mod), "message": "already stored"}
                      for sid, mod in report.known]
        failures += [{"id": label, "version": version, "message": why}
                     for (label, why), version in zip(report.failed, report.failed_versions, strict=True)]
    status = {"id": str(uuid.uuid4()), "status": "complete", "request_timestamp": timestamp(now),
              "total_count": len(successes) + len(failures), "success_count": len(successes),
              "failure_count": len(failures), "pending_count": 0}
    if successes:
        status["successes"] = successes
    if failures:
        status["failures"] = failures
    uow.taxii.add_status(status["id"], org, principal.username, status, now)
    return status


def _unattributed(obj: dict[str, Any], principal: Principal) -> str:
    """Why an object a partner agency's user posts here must name its organisation as creator,
    or "": this node
    relays it to its peers, and a peer takes an object without ``created_by_ref`` as this
    node's own (a federation review's US object, posted on the Belgian node, became Belgian on
    the US node). This node's own users' objects are this node's."""
    org = principal.organisation.id
    named = obj.get("created_by_ref")
    if principal.host or str(named).lower() == identity_id(org) or obj.get("type") in _CREATOR_OPTIONAL:
        return ""
    # one naming no organisation known here went the same way (a regression review)
    said = "missing" if not named else f"{str(named)[:80]!r} is not {org}'s identity"
    return (f"created_by_ref: {said}: this node relays what {org} posts here to its peers, which take an object "
            f"without {org}'s creator as this node's; name {org}'s identity: \"created_by_ref\": "
            f"\"{identity_id(org)}\"")


#: Types that do not name a creator: cyber observables (STIX 2.1 §6 has no created_by_ref on them).
_CREATOR_OPTIONAL = frozenset(stix2.v21.OBJ_MAP_OBSERVABLE)


def _refusal(obj: Any, org: str, coll: Collection, versions: list[tuple[str, str]],
             seen: Callable[[str], bool]) -> str:
    """Why ``obj`` may not be added through this collection, or "" (ingest checks the rest; what
    has no id is refused here, so every failure it reports is named by the object's id).
    ``versions``: (owner, modified) of the stored versions of its id; ``seen(id)``: whether the
    requester may see one of them (else neither the owner nor which versions are stored is
    told: the answer is the same for every version; that the id is taken is, as it must be
    for a refusal)."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    if not isinstance(obj.get("id"), str) or not obj["id"]:
        return "an object needs an id"
    modified = str(obj.get("modified") or obj.get("created") or "")
    others = sorted({o for o, _ in versions} - {org})
    if others and not seen(obj["id"]):
        # whatever version it names, one answer: which versions are stored, and with what
        # content, is not told to a requester who may see none of them (a TAXII review read an
        # AMBER+STRICT object's exact version out of "already stored here with other content")
        return f"{obj['id']} is another organisation's object: only its originator makes new versions of it"
    if others and not has_version(versions, modified):
        return f"{obj['id']} is {others[0]}'s object: only its originator makes new versions of it"
    ext = (obj.get("extensions") or {}).get(SHARING_EXTENSION_ID) if isinstance(obj.get("extensions"), dict) else None
    named = ext.get("sharing_group") if isinstance(ext, dict) else None
    if named and named != coll.group_id:
        return (f"names sharing group {named!r}: post it to that group's collection, not to {coll.alias!r}")
    refs = obj.get("object_marking_refs")
    tlp = tlp_of(obj) if isinstance(refs, list) and all(isinstance(r, str) for r in refs) else None  # else ingest says
    if coll.group_id and not named and tlp in COMMUNITY_TLPS:  # it would land outside this collection
        return (f"TLP:{tlp.value.upper()} reaches the whole community, not the sharing group {coll.group_id!r}: post "
                "it to the community collection, or mark it AMBER+STRICT for the group's agencies")
    return ""


def delete_object(uow: Any, principal: Principal, requester: Requester, coll: Collection, stix_id: str,
                  versions: VersionMatch | None, spec_versions: tuple[str, ...], now: datetime) -> list[tuple[int, str, str]]:
    """Delete an Object (§5.7): the versions of ``stix_id`` in ``coll`` the requester may see,
    all of them unless ``versions`` narrows it; each leaves a tombstone for peers. Returns the
    ``(seq, stix_id, modified)`` deleted; when the last version of an item's main object goes,
    its parts go too (:func:`scheldt.workflows.share.parts_of`); a watchlist entry whose last version went leaves the
    watchlist store (:func:`scheldt.workflows.share.withdraw_entries`). Raises ForbiddenError without write access or when a
    version belongs to another organisation, NotFoundError when no version matches."""
    _require_write(coll)
    require_object(uow, requester, coll, stix_id)
    q = Query(ids=(stix_id,), versions=versions or ALL_VERSIONS, spec_versions=spec_versions, limit=MAX_LIMIT)
    rows: list[Any] = []
    while True:
        page = select_versions(uow, requester, coll, q)
        rows += page.rows
        if not page.more:
            break
        q = Query(after=cursor_codec(uow).decode(page.next), ids=q.ids, versions=q.versions,
                  spec_versions=q.spec_versions, limit=q.limit)
    if not rows:
        raise NotFoundError(f"object {stix_id[:100]}", "no version matches match[version] / match[spec_version]")
    foreign = sorted({r.owner_org for r in rows} - {principal.organisation.id})
    if foreign:
        raise ForbiddenError(f"object {stix_id[:100]}", f"it is {foreign[0]}'s object: only its originator deletes it")
    stored = uow.exchange.versions(requester, stix_id)
    deleted = [(r.seq, r.stix_id, r.modified) for r in rows]
    for _, sid, modified in deleted:
        uow.exchange.delete(sid, modified, now)
    if stored and item_kind(stored[-1].object) is not None and not uow.exchange.versions(requester, stix_id):
        # the item is gone: its parts go with it (a review deleted an alert and its container,
        # consignment and vessel call stayed readable by the whole community)
        parts = [(v.seq, v.stix_id, v.modified) for v in parts_of(uow, requester, stored[-1])]
        for _, sid, modified in parts:
            uow.exchange.delete(sid, modified, now)
        deleted += parts
    uow.taxii.add_deletions(deleted, f"taxii:{principal.username}", now)
    withdraw_entries(uow, [stix_id], now)
    return deleted


def tombstones(uow: Any, requester: Requester, coll: Collection, after: int | None, limit: int) -> Page:
    """Deleted versions of ``coll`` the requester may see, after cursor ``after`` (Scheldt's
    extension endpoint; rows are :class:`scheldt.store.taxii.Tombstone`)."""
    rows = uow.taxii.deletions(requester, **coll.where, after_id=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    codec = cursor_codec(uow)
    cursor = codec.encode(rows[-1].id) if rows else (codec.encode(after) if after is not None else None)
    return Page(rows, more, cursor)


def status(uow: Any, principal: Principal, status_id: str) -> dict[str, Any]:
    """Get Status (§4.3): the status resource of an Add Objects request of the principal's
    organisation. Raises NotFoundError."""
    return uow.taxii.status(status_id, principal.organisation.id)


# --- HTTP Basic ----------------------------------------------------------------------------------

_HASHER = PasswordHasher()
_DUMMY_HASH: list[str] = []
_VERIFIED: OrderedDict[str, None] = OrderedDict()
_VERIFIED_KEY = secrets.token_bytes(32)
_VERIFIED_LOCK = threading.Lock()


def _remembered(password_hash: str, password: str) -> str:
    return hmac.new(_VERIFIED_KEY, password_hash.encode() + b"\0" + password.encode(), hashlib.sha256).hexdigest()


def verify_password(uow: Any, username: str, password: str, host_org: str = "") -> Principal:
    """The principal whose username and password these are (HTTP Basic, RFC 7617), without
    opening a session; a host principal when its organisation is ``host_org``. Raises AuthError with one message for an unknown user, a wrong password
    and a disabled user (an unknown user costs an argon2 check too). A password checked once
    against a stored hash is remembered (an HMAC under a per-process key, at most
    :data:`VERIFIED_CACHE`) until that hash changes."""
    refused = AuthError("credentials", "unknown username or wrong password")
    try:
        user = uow.accounts.user(username)
    except ScheldtError:
        user = None
    stored = user.password_hash if user is not None and user.password_hash else ""
    key = _remembered(stored, password) if stored else ""
    with _VERIFIED_LOCK:
        known = bool(key) and key in _VERIFIED
        if known:
            _VERIFIED.move_to_end(key)
    if not known:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(_HASHER.hash(secrets.token_urlsafe(16)))
        try:
            _HASHER.verify(stored or _DUMMY_HASH[0], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise refused from None
        if not stored:
            raise refused
        with _VERIFIED_LOCK:
            _VERIFIED[key] = None
            while len(_VERIFIED) > VERIFIED_CACHE:
                _VERIFIED.popitem(last=False)
    if user is None or not user.active:
        raise refused
    organisation = uow.accounts.organisation(user.organisation_id)
    return Principal(user.username, organisation, frozenset(user.roles), credential="password",
                     host=bool(host_org) and organisation.id == host_org)
