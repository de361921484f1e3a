"""DCSA Track & Trace 2.2 feeds: a shipping line's or terminal's own T&T 2.2 publisher pushes its
events to this node as they happen.

DCSA T&T 2.2 pushes through subscriptions: the subscriber creates one at the publisher
(``POST /v2/event-subscriptions`` with a ``callbackUrl`` and a Base64 ``secret``), and the
publisher then POSTs each batch of events, a JSON array, to the callback URL with the header
``Notification-Signature: sha256=<hex>``: HMAC-SHA256 of the whole request body under the
secret's bytes (DCSA EVENT_DOMAIN, ``notificationSignature`` and ``secret``). The standard asks
the callback to answer 204.

Here a ``carrier_security`` user of the line or terminal makes a feed
(``POST /api/v1/dcsa/tnt/v2/feeds``): Scheldt draws a random id and a secret of
:data:`SECRET_BYTES` bytes and gives back, once, the callback URL and the secret, the body to
subscribe with at the publisher. Each signed callback is then read as a file that user sent
(:mod:`scheldt.workflows.supplied`: the same ownership rules, quarantine, re-scoring and
audit), so a feed can do no more than its user can. A feed stops when it is deleted, when its
user is disabled (which deletes it, as it revokes the user's sessions and tokens) or no longer
may send data; a stopped feed's callbacks get an unknown feed's answer (404), and are audited
as refused under the feed. T&T 2.2 signs no time, so a replayed request
cannot be told by its age: it is read again and, its events being stored already, adds nothing.

The unit of work is duck-typed (``uow.tnt_feeds``, ``uow.accounts``): workflows import no store code.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import uuid
from datetime import datetime
from typing import Any

from scheldt.domain.access import Permission, Principal
from scheldt.errors import AuthError, ConflictError, InputError, NotFoundError
from scheldt.workflows.accounts import require

#: Bytes of a feed's shared secret (256 bits, the HMAC-SHA256 block's half; DCSA gives no length).
SECRET_BYTES = 32
#: Active feeds one organisation may have (a line runs one publisher or a few).
MAX_FEEDS = 10
#: The signature type DCSA T&T 2.2 defines (``Notification-Signature: sha256=<hex>``).
SIGNATURE_TYPE = "sha256"
#: The name each callback's events are kept under (their record: ``GET /api/v1/shipping-data/{id}``).
FEED_FILE_NAME = "dcsa-tnt-v2-notification.json"


def _sender(principal: Principal) -> str:
    """The principal's organisation, when it may send data. Raises ForbiddenError otherwise."""
    require(principal, Permission.SUPPLY_DATA)
    return principal.organisation.id


def create_feed(uow: Any, principal: Principal, now: datetime,
                seal: Any) -> tuple[dict[str, Any], str]:
    """Make a feed for the principal (a ``carrier_security`` user of a shipping line or
    terminal): a random id (UUID 4) and secret (:data:`SECRET_BYTES` random bytes). Returns (the
    feed, the secret in Base64, as DCSA's ``secret`` is written); the secret is kept sealed
    (``seal``: the store's :func:`scheldt.store.sealing.seal_for`, given by the edge) and never
    shown again. Raises ForbiddenError for a principal that may not send data, AuthError when
    its user was disabled meanwhile, ConflictError beyond :data:`MAX_FEEDS` active feeds."""
    org = _sender(principal)
    uow.tnt_feeds.lock()  # before counting: simultaneous creates each counted the others' as absent
    # under the lock a disable takes too: a create racing a disable left a feed that came back
    # when the user was enabled again (a regression review)
    if not uow.accounts.user(principal.username).active:
        raise AuthError("credentials", "this user is disabled")
    if sum(f["active"] for f in feeds(uow, principal)) >= MAX_FEEDS:  # as the list counts them
        raise ConflictError("feeds", f"{org} has {MAX_FEEDS} active feeds; delete one it no longer uses first")
    secret = base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
    feed = uow.tnt_feeds.add(str(uuid.uuid4()), org, principal.username, seal(secret), now)
    return feed, secret


def feeds(uow: Any, principal: Principal | None, organisation: str | None = None) -> list[dict[str, Any]]:
    """The principal's organisation's feeds, deleted ones too; no secrets. ``active`` is false,
    and ``stopped`` says why, for a feed deleted or whose user may no longer send (its callbacks
    are refused as an unknown feed's). Without a principal (the node's operator), every
    organisation's, or ``organisation``'s."""
    out = []
    for feed in uow.tnt_feeds.of_organisation(_sender(principal) if principal is not None else organisation):
        why = _stopped(uow, feed)[1]
        shown = {k: v for k, v in feed.items() if k != "deleted_why"}  # said as "stopped"
        out.append(shown | {"active": not why} | ({"stopped": why} if why else {}))
    return out


def delete_feed(uow: Any, principal: Principal | None, feed_id: str, now: datetime) -> dict[str, Any]:
    """Stop one of the organisation's feeds (any organisation's, without a principal: the node's
    operator, e.g. when a line's secret leaked): its callbacks are refused from now on. Raises
    NotFoundError when there is no such active feed (of the principal's organisation). The
    feed's list then says who stopped it (``stopped``: "deleted by <user>", "stopped by the
    node's operator")."""
    if principal is not None:
        return uow.tnt_feeds.delete(feed_id, _sender(principal), now, f"deleted by {principal.username}")
    found = uow.tnt_feeds.get(feed_id)
    org = found[0]["organisation_id"] if found is not None else ""
    return uow.tnt_feeds.delete(feed_id, org, now, "stopped by the node's operator")


#: What a callback of a feed that is unknown or stopped is told (the same for both: a callback
#: URL may be held by a publisher's platform, which learns nothing of the line's accounts).
NO_FEED = ("no active DCSA Track & Trace feed has this id: make one with POST /api/v1/dcsa/tnt/v2/feeds and "
           "subscribe its callback URL at your publisher")


class FeedStopped(NotFoundError):
    """A callback of a feed that exists but is stopped (deleted, or its user gone, disabled or no
    longer allowed to send): answered as an unknown feed, and audited as refused under
    ``principal`` (the feed's user and organisation; ``credential`` ``"tnt-feed <id>"``)."""

    def __init__(self, principal: Principal) -> None:
        super().__init__("query.feed", NO_FEED)
        self.principal = principal


def _stopped(uow: Any, feed: dict[str, Any]) -> tuple[Principal, str]:
    """(the principal the feed's callbacks act as, why it is stopped or ""). Its user gone: a
    principal without roles."""
    organisation = uow.accounts.organisation(feed["organisation_id"])
    try:
        user = uow.accounts.user(feed["username"])
    except NotFoundError:
        return Principal(feed["username"], organisation, frozenset(), credential=f"tnt-feed {feed['id']}"), (
            f"its user {feed['username']} is gone")
    principal = Principal(user.username, organisation, frozenset(user.roles), credential=f"tnt-feed {feed['id']}")
    if feed["deleted_at"] is not None:  # who or what stopped it; stopped before revision 0036: not kept
        return principal, feed.get("deleted_why") or "deleted"
    if not user.active:
        return principal, f"its user {user.username} is disabled"
    if not principal.can(Permission.SUPPLY_DATA):
        return principal, f"its user {user.username} may no longer send data"
    return principal, ""


def feed_sender(uow: Any, feed_id: str, unseal: Any) -> tuple[Principal, bytes]:
    """(the principal a callback of feed ``feed_id`` acts as, the key its signature is checked
    with). The principal is the feed's user, ``credential`` ``"tnt-feed <id>"`` in the audit
    log; the key, the Base64 secret's bytes (``unseal``: the store's
    :func:`scheldt.store.sealing.unseal`). Raises NotFoundError for no such feed, FeedStopped
    (a NotFoundError, the same answer) for a stopped one (:func:`feeds` says why)."""
    found = uow.tnt_feeds.get(feed_id) if feed_id else None
    if found is None:
        raise NotFoundError("query.feed", NO_FEED)
    feed, stored = found
    principal, why = _stopped(uow, feed)
    if why:
        raise FeedStopped(principal)
    try:
        key = base64.b64decode(unseal(stored), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("query.feed", "the feed's stored secret is not Base64: make a new feed") from None
    return principal, key


def feed_principal(uow: Any, feed_id: str) -> Principal | None:
    """The principal feed ``feed_id``'s callbacks act as, live or stopped (to audit a callback
    refused before it was read), None for no such feed."""
    found = uow.tnt_feeds.get(feed_id) if feed_id else None
    return None if found is None else _stopped(uow, found[0])[0]


def feed_is_live(uow: Any, feed_id: str) -> bool:
    """Whether ``feed_id`` names a feed whose callbacks are taken (a publisher's check of its URL)."""
    found = uow.tnt_feeds.get(feed_id) if feed_id else None
    return found is not None and not _stopped(uow, found[0])[1]


def check_signature(header: str | None, key: bytes, body_mac: Any) -> None:
    """Check a callback's ``Notification-Signature`` header (``sha256=<hex>``, DCSA T&T 2.2)
    against ``body_mac``, an ``hmac`` object of SHA-256 under ``key`` fed the whole request body
    (compared in constant time). Raises AuthError saying what is wrong: no header, another
    signature type, not hexadecimal, or a signature that does not match (another secret, or a
    body changed on the way)."""
    if not header or not header.strip():
        raise AuthError("header.notification-signature", "missing: DCSA T&T 2.2 signs each callback with "
                        "Notification-Signature: sha256=<HMAC-SHA256 of the body under the feed's secret, in hex>")
    kind, sep, given = header.strip().partition("=")
    if not sep or kind.strip().lower() != SIGNATURE_TYPE:
        raise AuthError("header.notification-signature", f"{header.strip()[:20]!r}: give sha256=<hex>, the one "
                        "signature type DCSA T&T 2.2 defines")
    try:
        signature = bytes.fromhex(given.strip())
    except ValueError:
        raise AuthError("header.notification-signature", "the signature after sha256= is not hexadecimal") from None
    if not hmac.compare_digest(signature, body_mac.digest()):
        raise AuthError("header.notification-signature", "does not match the body: sign the exact bytes sent with "
                        "the feed's secret (its Base64 decoded), or make a new feed if the secret was lost")


def body_mac(key: bytes) -> Any:
    """A fresh ``hmac`` object (SHA-256 under ``key``) to feed a callback's body as it streams in."""
    return hmac.new(key, digestmod="sha256")
