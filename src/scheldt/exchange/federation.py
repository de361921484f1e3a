"""Federation: pull what partner nodes share, by their server-assigned cursors (TAXII 2.1 client).

Each agency runs its own Scheldt node. ``scheldt peer add NAME URL --org ORG --user U`` registers a
partner's TAXII API root (or discovery URL) and the credential this node uses there; the job kind
``federation-pull`` (``scheldt serve`` runs it every ``SCHELDT_FEDERATION_PULL_EVERY_S`` seconds)
pulls every readable collection of every peer with taxii2-client:

* **New and changed objects, by the peer's cursor.** ``GET .../objects/?match[version]=all``
  so every version arrives (revocations ``revoked: true``, marking changes and corrections are
  new versions). A Scheldt peer returns ``next`` on every page, the last one too: an opaque
  server-assigned position that never expires, so the next pull resumes exactly there and an
  object relayed late with an old ``modified`` is still found. Other servers (medallion) give a
  ``next`` only within a walk and keep it a short while (medallion: 30 s, and only with the
  same filters): between pulls we resume by ``added_after`` = the last page's
  ``X-TAXII-Date-Added-Last`` (the peer's own date_added, also server-assigned), and when a
  remembered ``next`` is refused (400/404) we fall back to it. That resume asks from one
  microsecond before it (:func:`_just_before`): such servers give a whole envelope one
  date_added, and the rest of a group a walk was cut in must not be skipped. The state per
  remote collection is kept on the peer (``cursors``) in the same transaction as the page it
  covers, so a crash repeats at most one page, which adds nothing the second time.
* **De-duplication** by (id, modified): :func:`scheldt.workflows.sharing.ingest_objects` keys
  versions on it, so a version met twice (relayed by two peers, or our own coming back) adds
  nothing.
* **Provenance**: stored with ``source="peer:<name>"``. A peer speaks for its own organisation:
  an object is owned by the peer's organisation unless its ``created_by_ref`` names
  (:func:`scheldt.exchange.objects.identity_id`) another organisation known here. Such an object
  is a relay, and ``created_by_ref`` is not signed, so it is taken (owned by the organisation
  it names) only from a peer allowed to relay for that organisation (``scheldt peer add
  --relays ORG``, ``scheldt peer relays``); from any other peer it is refused, naming why. That
  holds for this node's own organisation too (its users may work on a partner's node, e.g. a
  liaison officer), and a relay never makes a new version of an object made here. A version
  already stored here passes either way (it adds nothing: our own coming back, say). Objects
  naming an organisation unknown here are owned by the peer's: that trust is the peer's, and a
  node that lets this one relay for such an organisation inherits it. A new version of an
  object owned here by another organisation is refused (only an originator versions its
  object). Tombstones from a peer delete only versions of organisations it speaks for.
* **Markings**: the partner's TLP markings and Scheldt's sharing extension (group, recipients,
  evaluation, validity) travel in the objects and are applied as they are; objects naming no
  sharing group get the local group whose id is the remote collection's alias, else the peer's
  ``default_group`` (the community collection: none), except TLP:GREEN and CLEAR objects, which
  reach the whole community and are kept there (one naming a group is refused). Objects land through
  :func:`scheldt.workflows.share.receive_objects`, so shared watchlist entries are screened.
* **Sightings** are objects like the others, so feedback flows back to the originator's node.
* **Deletions.** TAXII has no way to say an object was deleted, so two ways:

  - a Scheldt peer keeps a tombstone per deleted version with a growing id and serves those
    the puller may see at ``.../collections/{id}/deleted/`` (:mod:`scheldt.exchange.taxii`); the
    pull reads them after its own tombstone cursor and deletes its copies that came from that
    peer, leaving tombstones of its own, so a deletion travels on along the relay chain;
  - any other server (404 on that endpoint) is reconciled every
    ``SCHELDT_FEDERATION_RECONCILE_EVERY_S`` seconds: the manifests of all its collections are
    walked (``match[version]=all``), and versions stored from that peer which it no longer
    lists are deleted here (with tombstones). Only after every collection was walked in full,
    twice, both walks leaving the version out; never when the peer lists nothing at all
    (:func:`reconcile`).

Every page stored, every deletion and every pull (with what it found, or its error) is an audit
entry. Network errors end the peer's pull with ``last_error`` set; other peers go on.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlparse

import orjson
import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import _HTTPConnection
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Collection

from scheldt.domain.exchange import has_version
from scheldt.domain.urls import same_endpoint
from scheldt.errors import ConfigError, InputError, NotFoundError, ScheldtError
from scheldt.settings import get_settings
from scheldt.store.audit import audit_payload
from scheldt.store.db import UnitOfWork
from scheldt.store.peers import Peer
from scheldt.store.taxii import WITHDRAWAL
from scheldt.workflows.share import (
    member_of,
    receive_objects,
    refused_for_marking,
    withdraw_entries,
    withdraw_laxer_versions,
)
from scheldt.workflows.sharing import identity_named, organisations_by_identity
from scheldt.workflows.taxii import COMMUNITY, timestamp, version_time

log = logging.getLogger(__name__)

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
#: Objects asked per page (Scheldt serves up to 1000; other servers may send fewer).
PAGE = 500
#: Pages one collection's pull reads at most (a bound, so one pull ends).
MAX_PAGES = 10_000
#: The most a pulled object may weigh as JSON (bytes): what this node's own TAXII and API take
#: in one request (``scheldt.api.app.MAX_BODY_BYTES``). A federation review's peer served a
#: 3 MB object, stored and served on, which the node refuses from its own users.
MAX_OBJECT_BYTES = 1024 * 1024
#: Failures kept in a pull's report (the counts are complete).
FAILURES_KEPT = 20
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")

UowFactory = Callable[[], AbstractContextManager[UnitOfWork]]


def utcnow() -> datetime:
    """The real clock (a pull records when it really ran)."""
    return datetime.now(UTC)


# --- peers ---------------------------------------------------------------------------------------

def add_peer(uow: UnitOfWork, name: str, url: str, organisation_id: str, username: str, secret_kind: str,
             secret: str, default_group: str | None, now: datetime, relays_for: Sequence[str] = ()) -> Peer:
    """Register a peer (``scheldt peer add``). ``url``: its TAXII API root or discovery URL
    (http or https); ``organisation_id``: a local organisation its objects are attributed to;
    ``secret_kind``: ``password`` (HTTP Basic with ``username``) or ``token`` (Bearer);
    ``relays_for``: other local organisations whose objects it may relay (see the module
    docstring); ``default_group``: the local sharing group of its objects that name none, one
    the organisation is a member of. Raises InputError naming the bad value, NotFoundError for
    an unknown organisation."""
    if not _NAME.match(name):
        raise InputError("peer name", f"{name!r} must be 2-64 lower-case letters, digits or hyphens")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InputError("peer url", f"{url!r} is not an http(s) URL of a TAXII API root or discovery endpoint")
    if parsed.username is not None or parsed.password is not None:  # kept in the audit log and shown by peer list
        raise InputError("peer url", "may not carry credentials: give them with --password-stdin or --token-stdin")
    if "?" in url or "#" in url or "//" in parsed.path:  # a review's ".../scheldt/?" was stored as ".../scheldt/?/"
        raise InputError("peer url", "give the API root or discovery URL itself: no query, fragment or empty path "
                         "segment (//)")
    _check_credential(username, secret_kind, secret)
    _check_relays(uow, organisation_id, relays_for)
    if default_group is not None:  # its objects would all be refused there (regression review)
        member_of(uow, organisation_id, default_group, "--group")
    api_root = url if url.endswith("/") else url + "/"
    same = next((p for p in uow.peers.all() if same_endpoint(p.api_root, api_root) and p.name != name), None)
    if same is not None:  # a review added a partner twice: both pulled every round, splitting its objects
        raise InputError("peer url", f"{same.api_root} is peer {same.name}'s already; to rename it, `scheldt peer "
                         f"remove {same.name}` first (what was pulled from it stays, and the new name takes over its "
                         "withdrawals)")
    return uow.peers.add(name, api_root, organisation_id, username, secret_kind, secret, default_group, now,
                         tuple(relays_for))


def _check_credential(username: str, secret_kind: str, secret: str) -> None:
    if not secret:
        raise InputError(f"peer {secret_kind}", "empty")
    if secret_kind == "password" and not username:
        raise InputError("peer user", "HTTP Basic needs a username")


def set_credential(uow: UnitOfWork, name: str, username: str, secret_kind: str, secret: str) -> Peer:
    """Replace the credential this node signs in with at peer ``name`` (``scheldt peer
    credential``: the partner changed the password or issued a new token, or the sealing key
    was lost); its pull state is kept. Arguments as :func:`add_peer`. Raises NotFoundError for
    an unknown peer, InputError as :func:`add_peer`."""
    _check_credential(username, secret_kind, secret)
    return uow.peers.set_credential(name, username, secret_kind, secret)


def set_relays(uow: UnitOfWork, name: str, relays_for: Sequence[str]) -> Peer:
    """Replace the organisations peer ``name`` may relay for (``scheldt peer relays``). When it
    names one it did not before, the peer's pull starts over, so the objects refused until now
    arrive (versions already stored add nothing); else its pull state is kept. Raises
    NotFoundError for an unknown peer or organisation, InputError as :func:`add_peer`."""
    peer = uow.peers.get(name)
    _check_relays(uow, peer.organisation_id, relays_for)
    return uow.peers.set_relays(name, tuple(relays_for), start_over=bool(set(relays_for) - set(peer.relays_for)))


def _check_relays(uow: UnitOfWork, organisation_id: str, relays_for: Sequence[str]) -> None:
    """Raise InputError when a peer would speak for this node's own organisation, or relay for
    its own; NotFoundError for an unknown organisation."""
    local = get_settings().local_organisation
    if organisation_id == local:
        raise InputError("peer org", f"{organisation_id} is this node's own organisation: a peer speaks for another")
    uow.accounts.organisation(organisation_id)
    for org in relays_for:
        if org == organisation_id:
            raise InputError("peer relays", f"{org} is the peer's own organisation")
        uow.accounts.organisation(org)


# --- HTTP ----------------------------------------------------------------------------------------

class _Timeouts(HTTPAdapter):
    """A transport adapter giving every request a timeout (requests has none by default)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def send(self, request: Any, **kwargs: Any) -> Any:  # noqa: D102 - requests' signature
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout_s
        return super().send(request, **kwargs)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (a Scheldt API token, or another server's)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: Any) -> Any:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@dataclass
class _LastResponse:
    """Headers of the newest response on a connection (taxii2-client returns bodies only)."""

    headers: dict[str, str] = field(default_factory=dict)

    def hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.headers = dict(response.headers)
        return response


def connect(peer: Peer, timeout_s: float) -> tuple[_HTTPConnection, _LastResponse]:
    """A taxii2-client connection to ``peer`` (read with its secret) with a timeout on every
    request, and the holder of the last response's headers."""
    if peer.secret_kind == "password":
        conn = _HTTPConnection(peer.username, peer.secret, version="2.1")
    else:
        conn = _HTTPConnection(auth=BearerAuth(peer.secret), version="2.1")
    adapter = _Timeouts(timeout_s)
    conn.session.mount("http://", adapter)
    conn.session.mount("https://", adapter)
    last = _LastResponse()
    conn.session.hooks["response"].append(last.hook)
    return conn, last


def api_root_url(conn: _HTTPConnection, url: str) -> str:
    """The API root at ``url``: ``url`` itself, or, when it is a discovery endpoint (§4.1), its
    default API root (else its first)."""
    info = conn.get(url, headers={"Accept": TAXII_MEDIA_TYPE})
    if isinstance(info, dict) and "api_roots" in info:
        roots = info.get("api_roots") or []
        chosen = info.get("default") or (roots[0] if roots else None)
        if not chosen:
            raise InputError(f"peer {url}", "its discovery resource lists no API root")
        return urljoin(url, chosen)
    return url


# --- reports -------------------------------------------------------------------------------------

@dataclass
class CollectionReport:
    """What one remote collection gave: versions added, already stored, refused (id, why; the
    first :data:`FAILURES_KEPT`), local copies deleted, pages read."""

    collection: str
    added: int = 0
    known: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    deleted: int = 0
    pages: int = 0


@dataclass
class PullReport:
    """One pull of one peer: per collection, and its error ("" when it went well)."""

    peer: str
    collections: list[CollectionReport] = field(default_factory=list)
    reconciled: bool = False
    error: str = ""
    seconds: float = 0.0
    #: sharing groups the peer's stored objects name that this node does not define, with how
    #: many live versions each (no one here but their owner reads them)
    unknown_groups: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def added(self) -> int:
        return sum(c.added for c in self.collections)


def _audit(uow: UnitOfWork, kind: str, peer: Peer, what: str, details: dict[str, Any], now: datetime) -> None:
    org = get_settings().local_organisation
    uow.audit.append(kind, org, audit_payload("federation", org, f"federation pull {peer.name}", what, peer.name,
                                              "local", details), now)


# --- storing -------------------------------------------------------------------------------------

def _local_group(uow: UnitOfWork, peer: Peer, alias: str | None) -> str | None:
    """The sharing group of a remote collection's objects that name none (see module docstring)."""
    if alias == COMMUNITY:
        return None
    if alias:
        try:
            uow.exchange.group(alias)
            return alias
        except NotFoundError:
            pass
    return peer.default_group


def store_objects(uow: UnitOfWork, peer: Peer, objects: list[Any], group: str | None, now: datetime,
                  report: CollectionReport) -> None:
    """Store one page of a peer's objects (see the module docstring: provenance, owner, refusals)."""
    orgs = organisations_by_identity(uow)
    local = get_settings().local_organisation
    ids = [o["id"] for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)]
    stored = uow.taxii.stored_versions(ids) if ids else {}
    runs: list[tuple[str, list[Any]]] = []
    for obj in objects:
        owner = peer.organisation_id
        if isinstance(obj, dict) and (size := _json_size(obj)) > MAX_OBJECT_BYTES:
            _failed(report, str(obj.get("id")), f"{size:,} bytes as JSON, more than the {MAX_OBJECT_BYTES:,} this node "
                                                "takes in one request from its own users: refused")
            continue
        if isinstance(obj, dict):
            versions = stored.get(str(obj.get("id")), [])
            modified = str(obj.get("modified") or obj.get("created") or "")
            named = identity_named(obj, orgs)
            if named is not None and named != owner:
                # a version stored here already adds nothing (our own coming back, say)
                if not has_version(versions, modified) and (
                        named not in peer.relays_for or (named == local and _made_here(uow, str(obj.get("id"))))):
                    _failed(report, str(obj.get("id")), _not_its_own(peer, named, local, obj.get("type") == "identity"
                                                                     and not obj.get("created_by_ref")))
                    continue
                owner = named
            others = {o for o, _ in versions} - {owner}
            if versions and not has_version(versions, modified) and others:
                # whose it is stays unsaid: pull reports are read by users of other organisations
                _failed(report, str(obj.get("id")), "a new version of another organisation's object: only its "
                                                    "originator versions it")
                continue
        if runs and runs[-1][0] == owner:
            runs[-1][1].append(obj)
        else:
            runs.append((owner, [obj]))
    for owner, batch in runs:
        received = receive_objects(uow, batch, owner, f"peer:{peer.name}", group, now)
        report.added += len(received.report.added)
        report.known += len(received.report.known)
        refused = {o["id"]: o for o in batch if isinstance(o, dict) and isinstance(o.get("id"), str)}
        for label, why in received.report.failed:
            # the originator's own node takes back every copy of its object; a relay only its own
            only_from = None if owner == peer.organisation_id else f"peer:{peer.name}"
            withdrawn = (withdraw_laxer_versions(uow, refused[label], owner, only_from, now, group)
                         if label in refused and refused_for_marking(label, why) else 0)
            report.deleted += withdrawn
            _failed(report, label, why + (f"; its {withdrawn} earlier version(s) open to more readers are withdrawn "
                                          "here" if withdrawn else ""))


def _json_size(obj: dict[str, Any]) -> int:
    """``obj``'s size as JSON (bytes); 0 when orjson cannot write it (nested too deeply, an
    integer beyond 64 bits): the object's own checks refuse it then, naming why, and the rest of
    its page goes on (a regression review's object nested 300 levels deep failed its page, and
    every pull after stopped there)."""
    try:
        return len(orjson.dumps(obj))
    except (orjson.JSONEncodeError, TypeError, RecursionError):
        return 0


def _made_here(uow: UnitOfWork, stix_id: str) -> bool:
    """Whether this node made a version of ``stix_id`` (``source="local"``)."""
    return any(v.source == "local" for v in uow.exchange.versions(None, stix_id))


def _not_its_own(peer: Peer, named: str, local: str, identity: bool = False) -> str:
    """Why an object a peer sent, naming ``named`` as its creator (``identity``: being the
    identity object of ``named``), is refused."""
    what = f"the identity of {named}" if identity else f"created by {named} (created_by_ref)"
    if named == local and named in peer.relays_for:
        return (f"{what}, this node's own organisation, as a new version of an object made here: only this node "
                "versions those")
    return (f"{what}, and peer {peer.name} may not relay for {named} here: it speaks for {peer.organisation_id} "
            f"(scheldt peer relays {peer.name} {named})")


def _failed(report: CollectionReport, label: str, why: str) -> None:
    report.failed += 1
    if len(report.failures) < FAILURES_KEPT:
        report.failures.append((label[:200], why[:300]))


def delete_copies(uow: UnitOfWork, peer: Peer, versions: list[tuple[str, str | None]], now: datetime,
                  withdrawn: frozenset[str] = frozenset()) -> int:
    """Delete the live versions pulled from peers among ``(stix_id, modified)`` (``None``: every
    version), leaving tombstones so our own peers learn it, and takes watchlist entries whose
    last version went out of the watchlist store. Returns how many. Only versions of
    organisations ``peer`` speaks for (its own, those it may relay for) are deleted: copies it
    gave before it was limited to those stay. They are deleted whichever peer name they were
    pulled under: a federation review renamed a peer (removed, added again) and the partner's
    withdrawals no longer reached the copies pulled under the old name. Copies imported from a
    MISP export of the partner's (source ``misp``) are its copies too: a federation review's
    partner withdrew items the US node had first imported from MISP, and their earlier versions
    and parts stayed live there, names and reasons included. Versions posted here (TAXII, by a
    liaison officer) are not a peer's to delete. Those of ``withdrawn`` (ids the peer's
    tombstones say the withdrawal of an item deleted) are recorded so here too
    (:data:`scheldt.store.taxii.WITHDRAWAL`): they take no new version on this node either (a
    regression review's party of a withdrawn alert came back on the node that pulled the
    withdrawal)."""
    source = f"peer:{peer.name}"
    speaks_for = {peer.organisation_id, *peer.relays_for}
    gone: list[tuple[int, str, str]] = []
    for stix_id, modified in versions:
        for v in uow.exchange.versions(None, stix_id):
            if ((v.source.startswith("peer:") or v.source == "misp") and v.owner_org in speaks_for
                    and (modified is None or v.modified == modified)):
                uow.exchange.delete(v.stix_id, v.modified, now)
                gone.append((v.seq, v.stix_id, v.modified))
    if gone:
        plain = [g for g in gone if g[1] not in withdrawn]
        said = [g for g in gone if g[1] in withdrawn]
        for rows, how in ((plain, source), (said, f"{WITHDRAWAL} {source}")):
            if rows:
                uow.taxii.add_deletions(rows, how, now)
        withdraw_entries(uow, {stix_id for _, stix_id, _ in gone}, now)
    return len(gone)


# --- pulling -------------------------------------------------------------------------------------

def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _page_body(body: Any, key: str, what: str) -> tuple[list[Any], bool, str | None]:
    """(the items under ``key``, ``more``, ``next``) of a peer's TAXII envelope (or tombstone
    page) ``body``. Raises InputError naming ``what`` when it is not a JSON object with a list
    there (a federation review's peer answered ``[1,2,3]``: the pull of every peer stopped on an
    AttributeError; ``"objects": "nope"`` was read as four refused objects)."""
    if not isinstance(body, dict):
        raise InputError(what, f"the peer's answer is not a TAXII envelope: a JSON object was expected, "
                         f"found {_json_kind(body)}")
    items = body.get(key)
    if items is not None and not isinstance(items, list):
        raise InputError(what, f"the peer's answer is not a TAXII envelope: {key!r} should be a list, "
                         f"found {_json_kind(items)}")
    after = body.get("next")
    return items or [], bool(body.get("more")), after if isinstance(after, str) and after else None


def _json_kind(value: Any) -> str:
    """How JSON names the kind of ``value`` (an array, a string...)."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "true or false", type(None): "null"}
    return names.get(type(value), "a number")


def pull_collection(uow_factory: UowFactory, peer: Peer, coll: Collection, last: _LastResponse,
                    state: dict[str, Any]) -> CollectionReport:
    """Pull one remote collection's new object versions after the remembered cursor (module
    docstring), one transaction per page; returns what it stored. ``state`` is updated."""
    report = CollectionReport(coll.alias or coll.id)
    with uow_factory() as uow:
        group = _local_group(uow, peer, coll.alias)
    walk_after = None if state.get("next") else _just_before(state.get("added_after"))
    cursor = state.get("next")
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"version": "all"}
        if walk_after:
            kwargs["added_after"] = walk_after
        if cursor:
            kwargs["next"] = cursor
        try:
            envelope = coll.get_objects(limit=PAGE, **kwargs)
        except requests.HTTPError as exc:
            if cursor and _status(exc) in (400, 404, 410):
                # The peer forgot or refuses the remembered `next` (medallion keeps it 30 s):
                # resume from its date_added instead.
                cursor, walk_after = None, _just_before(state.get("added_after"))
                state["next"] = None
                continue
            raise
        headers = {k.lower(): v for k, v in last.headers.items()}
        objects, more, after = _page_body(envelope, "objects", f"collection {report.collection} objects")
        now = utcnow()
        new_state = dict(state)
        if headers.get("x-taxii-date-added-last"):
            new_state["added_after"] = headers["x-taxii-date-added-last"]
        new_state["next"] = after
        with uow_factory() as uow:
            before = (report.added, report.known, report.failed)
            if objects:
                store_objects(uow, peer, objects, group, now, report)
            uow.peers.set_cursor(peer.name, coll.id, new_state, peer.epoch)
            if objects:
                _audit(uow, "write", peer, "federation-page", {
                    "collection": report.collection, "received": len(objects), "added": report.added - before[0],
                    "known": report.known - before[1], "failed": report.failed - before[2],
                    "ids": [o.get("id") for o in objects if isinstance(o, dict)][:PAGE]}, now)
        state.clear()
        state.update(new_state)
        report.pages += 1
        if not more or not objects:
            break
        if after:
            cursor = after
        elif headers.get("x-taxii-date-added-last"):
            resume = _just_before(headers["x-taxii-date-added-last"])
            if resume == walk_after:
                # The whole page was one date_added and the peer gives no `next`: the rest of
                # that group cannot be asked for; go on after it rather than read it forever.
                log.warning("peer %s, collection %s: more than a page of objects added at %s and no "
                            "`next`; some of them may be missed", peer.name, report.collection,
                            headers["x-taxii-date-added-last"])
                resume = headers["x-taxii-date-added-last"]
            cursor, walk_after = None, resume
        else:
            break
    return report


def _just_before(date_added: str | None) -> str | None:
    """The instant one microsecond before a peer's ``date_added`` (TAXII timestamp text), so
    that ``added_after`` (which is exclusive) also returns the versions added at that same
    instant; the text as it is when it is not a timestamp, None for None.

    A walk resumed by date_added starts from the last stored page's ``X-TAXII-Date-Added-Last``.
    Other servers give many versions one date_added (medallion: all of one envelope), so a walk
    cut inside such a group (the peer failed, or forgot its ``next``) skipped the rest of it
    for good with an exclusive ``added_after``: a federation review lost 50 of 150 objects that
    way. The versions met again are known by (id, modified) and add nothing."""
    at = version_time(date_added) if date_added else None
    return date_added if at is None else timestamp(at - timedelta(microseconds=1))


def pull_tombstones(uow_factory: UowFactory, peer: Peer, conn: _HTTPConnection, coll: Collection,
                    state: dict[str, Any], report: CollectionReport) -> bool:
    """Read a Scheldt peer's tombstones of ``coll`` after the remembered cursor and delete our
    copies. Returns False when the peer has no such endpoint (not a Scheldt node)."""
    url = coll.url + "deleted/"
    cursor = state.get("deleted")
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"limit": PAGE}
        if cursor:
            params["next"] = cursor
        try:
            body = conn.get(url, headers={"Accept": TAXII_MEDIA_TYPE}, params=params)
        except requests.HTTPError as exc:
            if cursor and _status(exc) == 400:  # a cursor the peer no longer reads (its cursor
                cursor = None                     # key changed): read its tombstones again, from the start
                continue
            if _status(exc) in (404, 405, 406, 501):
                return False
            raise
        except TAXIIServiceException:
            return False
        listed, more, after = _page_body(body, "deleted", f"collection {report.collection} tombstones")
        items = [d for d in listed if isinstance(d, dict) and d.get("id")]
        now = utcnow()
        with uow_factory() as uow:
            n = delete_copies(uow, peer, [(str(d["id"]), str(d.get("version") or "") or None) for d in items], now,
                              frozenset(str(d["id"]) for d in items if d.get("withdrawn") is True))
            state["deleted"] = after or cursor
            state["tombstones"] = True
            uow.peers.set_cursor(peer.name, coll.id, state, peer.epoch)
            if n:
                _audit(uow, "write", peer, "federation-deletions", {
                    "collection": report.collection, "tombstones": len(items), "deleted": n,
                    "ids": [d["id"] for d in items][:PAGE]}, now)
        report.deleted += n
        cursor = state["deleted"]
        if not more or not items:
            break
    return True


def _manifest_versions(coll: Collection) -> set[tuple[str, datetime | str]]:
    """Every (id, version) a collection lists (manifest, ``match[version]=all``, walked in full).
    Raises InputError when the walk cannot be complete: a page that lists nothing yet says
    ``more`` (a federation review's peer answered one such page, and every object after it was
    deleted here for good), ``more`` without a ``next``, or a record that is not an object."""
    out: set[tuple[str, datetime | str]] = set()
    cursor = None
    for page in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"version": "all"}
        if cursor:
            kwargs["next"] = cursor
        records, more, cursor = _page_body(coll.get_manifest(limit=PAGE, **kwargs), "objects",
                                           f"collection {coll.id} manifest")
        for record in records:
            if not isinstance(record, dict):
                raise InputError(f"collection {coll.id} manifest", f"a manifest record is {_json_kind(record)}, "
                                 "not an object: the manifest cannot be trusted to say what was deleted")
            version = str(record.get("version") or "")
            out.add((str(record.get("id")), version_time(version) or version))
        if not more:
            return out
        if not records:
            raise InputError(f"collection {coll.id} manifest", f"page {page + 1} lists no version but says there "
                             "are more: the walk is cut short, so nothing is deleted")
        if not cursor:
            raise InputError(f"collection {coll.id}", "the manifest says more but gives no 'next' to go on")
    raise InputError(f"collection {coll.id}", f"manifest longer than {MAX_PAGES:,} pages")


def _listed(collections: list[Collection]) -> set[tuple[str, datetime | str]]:
    """Every (id, version) the ``collections`` list (:func:`_manifest_versions`, each in full)."""
    remote: set[tuple[str, datetime | str]] = set()
    for coll in collections:
        remote |= _manifest_versions(coll)
    return remote


def _listed_some(peer: Peer, collections: list[Collection], held: int) -> set[tuple[str, datetime | str]]:
    """:func:`_listed`; raises InputError when it is nothing at all while ``held`` versions
    pulled from ``peer`` are kept here (see :func:`reconcile`)."""
    remote = _listed(collections)
    if held and not remote:
        raise InputError(f"peer {peer.name}", f"its collections list no object at all, while {held:,} object "
                         "version(s) pulled from it are kept here: nothing is deleted (an account that lost its read "
                         "access sees empty collections too); ask the partner whether it withdrew everything")
    return remote


def reconcile(uow_factory: UowFactory, peer: Peer, collections: list[Collection]) -> int:
    """Delete the versions stored from ``peer`` that none of its collections lists any more (for
    peers without tombstones; see the module docstring). Returns how many were deleted.

    A deletion here is passed on to this node's own peers and cannot be undone by a later pull
    (the cursor is past the object), so one answer is not believed alone: the manifests are
    walked a second time, and only versions neither walk lists are deleted (a peer's passing
    fault costs nothing). Raises InputError, deleting nothing, when the peer lists no object
    at all while versions pulled from it are held here: an account that lost its read access,
    or a peer restored from an empty backup, looks the same as a peer that deleted everything,
    and a federation review's peer answering one empty manifest had every object pulled from
    it deleted."""
    with uow_factory() as uow:
        held = {(sid, version_time(mod) or mod) for _, sid, mod in uow.taxii.live_versions_from(f"peer:{peer.name}")}
    missing = held - _listed_some(peer, collections, len(held))
    if missing:
        missing -= _listed_some(peer, collections, len(held))  # asked again: only what both answers lack is gone
    now = utcnow()
    with uow_factory() as uow:
        ours = uow.taxii.live_versions_from(f"peer:{peer.name}")
        gone = [(sid, mod) for _, sid, mod in ours if (sid, version_time(mod) or mod) in missing]
        n = delete_copies(uow, peer, gone, now)
        if n:
            _audit(uow, "write", peer, "federation-reconcile", {"deleted": n, "ids": [s for s, _ in gone][:PAGE]}, now)
    return n


def pull_peer(uow_factory: UowFactory, name: str) -> PullReport:
    """Pull every collection ``name`` lets us read (see the module docstring) and record the
    pull on the peer and in the audit log. Never raises for the peer's own failures: they are
    the report's ``error`` and the peer's ``last_error``. Raises NotFoundError for no such peer."""
    settings = get_settings()
    began = time.monotonic()
    unsealed: ScheldtError | None = None  # a credential that cannot be unsealed is this peer's failure
    with uow_factory() as uow:
        try:
            peer = uow.peers.get(name, with_secret=True)
        except ConfigError as exc:
            peer, unsealed = uow.peers.get(name), exc
    report = PullReport(peer.name)
    try:
        if unsealed is not None:
            raise unsealed
        conn, last = connect(peer, settings.federation_timeout_s)
        try:
            resolved = api_root_url(conn, peer.api_root)
            _not_pulled_already(uow_factory, peer, resolved)
            root = ApiRoot(resolved, conn=conn)
            readable = [c for c in root.collections if c.can_read]
            states = {c.id: dict(peer.cursors.get(c.id) or {}) for c in readable}
            needs_reconcile = False
            for coll in readable:
                state = states[coll.id]
                creport = pull_collection(uow_factory, peer, coll, last, state)
                report.collections.append(creport)
                if state.get("tombstones") is not False:
                    if not pull_tombstones(uow_factory, peer, conn, coll, state, creport):
                        state["tombstones"] = False
                        with uow_factory() as uow:
                            uow.peers.set_cursor(peer.name, coll.id, state, peer.epoch)
                if state.get("tombstones") is False:
                    needs_reconcile = True
            if needs_reconcile and _reconcile_due(states, settings.federation_reconcile_every_s):
                deleted = reconcile(uow_factory, peer, readable)
                report.reconciled = True
                stamp = utcnow().isoformat()
                with uow_factory() as uow:
                    for coll in readable:
                        states[coll.id]["reconciled_at"] = stamp
                        uow.peers.set_cursor(peer.name, coll.id, states[coll.id], peer.epoch)
                if report.collections:
                    report.collections[0].deleted += deleted
        finally:
            conn.close()
    except (requests.RequestException, TAXIIServiceException, ScheldtError, ValueError, KeyError) as exc:
        report.error = _describe(exc)
    except Exception as exc:  # noqa: BLE001 - one peer's unforeseen answer must not stop the others' pulls
        log.exception("pulling peer %s failed", peer.name)
        report.error = f"unexpected failure (logged): {_describe(exc)}"
    report.seconds = round(time.monotonic() - began, 3)
    now = utcnow()
    with uow_factory() as uow:
        uow.peers.record_pull(peer.name, now, report.error)
        report.unknown_groups = uow.exchange.unknown_groups(f"peer:{peer.name}")  # said by peer pull / list
        if not _quiet(report, peer):
            _audit(uow, "read", peer, "federation-pull", {
                "collections": [{"collection": c.collection, "added": c.added, "known": c.known, "failed": c.failed,
                                 "deleted": c.deleted, "pages": c.pages} for c in report.collections],
                "reconciled": report.reconciled, "error": report.error, "seconds": report.seconds}, now)
    return report


def _not_pulled_already(uow_factory: UowFactory, peer: Peer, resolved: str) -> None:
    """Raise InputError when ``peer``'s URL is a discovery endpoint whose API root ``resolved``
    another peer pulls (registered by that root): a federation review added a partner again by
    its discovery URL, and both peers pulled it every round, splitting its objects' provenance
    (``peer add`` refuses the same URL given twice, but cannot tell where a discovery URL leads
    without asking the partner)."""
    if same_endpoint(resolved, peer.api_root):
        return
    with uow_factory() as uow:
        other = next((p for p in uow.peers.all() if p.name != peer.name and same_endpoint(p.api_root, resolved)), None)
    if other is not None:
        raise InputError("peer url", f"its discovery URL {peer.api_root} leads to the API root {resolved}, "
                         f"which peer {other.name} pulls already: nothing pulled (`scheldt peer remove {peer.name}`)")


def _quiet(report: PullReport, peer: Peer) -> bool:
    """A pull worth no audit entry: it found nothing and failed as the last one did. An
    oversight review counted 43,000 entries a day per peer (a pull every 2 s), drowning the
    reads of people; a pull that found, refused or deleted anything, or whose error changed,
    is recorded."""
    found = any(c.added or c.known or c.failed or c.deleted for c in report.collections) or report.reconciled
    return not found and report.error == (peer.last_error or "")


def _reconcile_due(states: dict[str, dict[str, Any]], every_s: float) -> bool:
    stamps = [s.get("reconciled_at") for s in states.values()]
    if not stamps or any(not s for s in stamps):
        return True
    try:
        oldest = min(datetime.fromisoformat(str(s)) for s in stamps)
    except ValueError:
        return True
    return (utcnow() - oldest).total_seconds() >= every_s


def _describe(exc: Exception) -> str:
    if isinstance(exc, ScheldtError):
        return f"{exc.where}: {exc.why}"
    status = _status(exc)
    if status is not None:
        response = getattr(exc, "response", None)
        detail = ""
        try:
            body = response.json() if response is not None else {}
            detail = str(body.get("description") or body.get("title") or "") if isinstance(body, dict) else ""
        except ValueError:
            detail = (response.text or "")[:200] if response is not None else ""
        url = getattr(getattr(exc, "request", None), "url", "") or ""
        return f"HTTP {status} from {url}" + (f": {detail}" if detail else "")
    return f"{type(exc).__name__}: {exc}"[:500]


def pull_all(uow_factory: UowFactory, name: str | None = None, *,
             names: Sequence[str] | None = None) -> dict[str, Any]:
    """Pull every peer (or the one called ``name``, or those called ``names``); the job kind
    ``federation-pull``'s result: ``{"peers": [report...], "added": n, "failed_peers":
    [names]}``. Raises NotFoundError for an unknown ``name``."""
    with uow_factory() as uow:
        asked = list(names) if names is not None else [name] if name else None
        for n in asked or ():
            uow.peers.get(n)  # NotFoundError for an unknown one
        names = asked if asked is not None else [p.name for p in uow.peers.all()]
    reports = [pull_peer(uow_factory, n) for n in names]
    return {"peers": [r.as_dict() for r in reports], "added": sum(r.added for r in reports),
            "failed_peers": [r.peer for r in reports if r.error]}

