"""Carrier notices: who is told about a container's hold, release or alert, and the
subscriptions shipping lines and terminals manage.

A notice about a container trip goes to every active subscription (asking for that kind) of
every shipping line or terminal that owns the trip by the rules of
:func:`scheldt.domain.access.trip_scope` (a carrier by the trip's ``carrier_code``, a terminal by
its ``terminal_code``), and to nobody else. Agencies do not subscribe: they see holds in
Scheldt itself. The pattern is DCSA Track & Trace's subscriptions (callback URL + shared secret);
the wire format and signing are in :mod:`scheldt.exchange.notify`.

A hold notice never says why: customs do not tell a carrier their reasons, so the text is
:data:`HOLD_TEXT`, whatever the officer wrote. An alert's text is sent as the caller gives it
and must be meant for the carrier.

Every queued notice is one audit entry of kind ``notice`` by the acting organisation. The unit
of work is duck-typed (``uow.container_trips``, ``uow.accounts``, ``uow.notifications``,
``uow.audit``): workflows import no store code.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scheldt.domain.access import Organisation, OrgKind, Permission, Principal, trip_scope
from scheldt.domain.audit import audit_payload
from scheldt.domain.trips import TripKey
from scheldt.domain.urls import same_endpoint
from scheldt.errors import ConfigError, ConflictError, ForbiddenError, InputError, NotFoundError
from scheldt.workflows.accounts import require

log = logging.getLogger(__name__)

KINDS = ("hold", "release", "alert")
#: What a hold notice says, whatever the officer's reason (customs do not tell why).
HOLD_TEXT = "Customs hold: the container may not leave the terminal (once discharged there) until customs release it."
#: What a release notice says.
RELEASE_TEXT = "Customs release: the customs hold on the container is lifted."
#: Notice body format version.
VERSION = 1
#: Least and most bytes of a shared secret (HMAC-SHA256 keys under 32 bytes are weaker than the hash).
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 32, 1024
URL_MAX = 2000
TEXT_MAX = 1000
#: Active subscriptions one organisation may have at once.
MAX_SUBSCRIPTIONS = 20
_OWNER_KINDS = (OrgKind.CARRIER, OrgKind.TERMINAL)


def _utc_text(now: datetime) -> str:
    if now.tzinfo is None:
        raise InputError("notice time", f"{now.isoformat()} has no time zone; give UTC")
    return now.astimezone(UTC).isoformat().replace("+00:00", "Z")


def notice_body(kind: str, trip: dict[str, Any], text: str, now: datetime, vessel_voyage: str = "",
                vessel_name: str = "", first_voyage: str = "") -> dict[str, Any]:
    """A notice's JSON body: a fresh ``notice_id`` (UUID 4), ``kind``, the trip's id here
    (``trip_id``: the receiver reads the trip at ``GET /api/v1/trips/{trip_id}``, and pairs a
    release with its hold by it), container number, document reference and voyage (the trip's
    key: its first voyage), the voyage of
    the vessel that brought the box when it differs (``vessel_voyage``: a transshipped box's
    mother vessel's, as the terminal's own discharge list names it; a terminal review's hold
    notices named only the feeder's voyage), ``text``, ``at`` (ISO 8601 UTC) and ``version``;
    and, when known, the box's vessel (``vessel_imo``, ``vessel_name``), its port of discharge
    (``port_of_discharge``, UN/LOCODE) and terminal (``terminal``, SMDG code): a shipping-line
    review's security team had to look the box up to know which call and terminal to tell. A
    trip keyed without a voyage (begun by a VGM declaration) gives ``first_voyage``, the first
    its events name (a regression review's hold notices said voyage "")."""
    body = {"notice_id": str(uuid.uuid4()), "kind": kind, "trip_id": int(trip["id"]),
            "container_number": str(trip["container_number"]),
            "document_ref": str(trip["document_ref"]), "voyage": str(trip["voyage"] or first_voyage), "text": text,
            "at": _utc_text(now), "version": VERSION}
    where = {"vessel_voyage": vessel_voyage if vessel_voyage != body["voyage"] else "",
             "vessel_imo": str(trip.get("vessel_imo") or ""), "vessel_name": vessel_name,
             "port_of_discharge": str(trip.get("port_of_discharge") or ""),
             "terminal": str(trip.get("terminal_code") or "")}
    return body | {k: v for k, v in where.items() if v}


def owners(organisations: Sequence[Organisation], trip: dict[str, Any]) -> list[Organisation]:
    """The shipping lines and terminals among ``organisations`` that own ``trip``."""
    return [o for o in organisations if o.kind in _OWNER_KINDS and trip_scope(o).owns(trip)]


def notify_trip(uow: Any, trip_id: int, kind: str, text: str, now: datetime, *, actor: str = "scheldt",
                actor_org: str = "", only_organisations: set[str] | None = None,
                only_subscription: int | None = None, at: datetime | None = None) -> list[int]:
    """Queue a ``kind`` notice about trip ``trip_id`` for every active subscription asking for
    ``kind`` of every organisation owning the trip (:func:`owners`), or only of
    ``only_organisations`` among them, or only for subscription ``only_subscription``; returns
    the notices' ids. The notice's ``at`` is ``at`` (UTC; when what it tells began, e.g. when a
    hold told to a new subscription was placed), else ``now``. Each is audited (kind
    ``notice``, by ``actor`` of ``actor_org``). Raises NotFoundError for an unknown trip,
    InputError for an unknown kind or an empty text."""
    if kind not in KINDS:
        raise InputError("notice kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    text = (text or "").replace("\r\n", "\n").strip()  # CRLF line breaks are line breaks (a review's were refused)
    if not text or len(text) > TEXT_MAX:
        raise InputError("notice text", f"give 1-{TEXT_MAX} characters")
    bad = next((c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0), None)
    if bad is not None:  # an API review's NUL went into the signed body a carrier's system parses
        raise InputError("notice text", f"holds the control character U+{ord(bad):04X}; write plain text (line "
                         "breaks and tabs are kept)")
    trip = uow.container_trips.get(trip_id)
    owning = {o.id for o in owners(uow.accounts.organisations(), trip)}
    if only_organisations is not None:
        owning &= only_organisations
    ids = []
    arrived: list[tuple[str, str, str]] = []  # the vessel's voyage and name, the first voyage: looked up once
    for sub in uow.notifications.active_subscriptions(sorted(owning)):
        if kind not in sub["kinds"] or sub["organisation_id"] not in owning:
            continue
        if only_subscription is not None and sub["id"] != only_subscription:
            continue
        if not arrived:
            from scheldt.workflows.trip_views import stored_trip, vessel_name, vessel_voyage  # the trip page's rules

            events, imo = stored_trip(uow, trip)[0], trip.get("vessel_imo") or ""
            first = next((e.get("export_voyage") or e.get("import_voyage") for e in sorted(
                events, key=lambda e: e["event_time"]) if not e.get("retracted_by")
                and (e.get("export_voyage") or e.get("import_voyage"))), "")
            arrived.append((vessel_voyage(imo, events), vessel_name(uow, imo, events) if imo else "", first))
        body = notice_body(kind, trip, text, at or now, *arrived[0])
        notice_id = uow.notifications.enqueue(sub["id"], kind, body, now)
        ids.append(notice_id)
        uow.audit.append("notice", actor_org, audit_payload(
            actor, actor_org, f"queue {kind} notice", "notice", str(notice_id), "",
            {"recipient": sub["organisation_id"], "subscription_id": sub["id"], "notice_id": body["notice_id"],
             "kind": kind, "trip_id": trip_id, "container_number": body["container_number"]}), now)
    return ids


def notify_hold(uow: Any, trip_id: int, now: datetime, actor: str = "scheldt", actor_org: str = "") -> list[int]:
    """Queue hold notices for the trip's owners, with the neutral :data:`HOLD_TEXT`."""
    return notify_trip(uow, trip_id, "hold", HOLD_TEXT, now, actor=actor, actor_org=actor_org)


def notify_new_owners_of_hold(uow: Any, before: dict[str, Any], now: datetime) -> list[int]:
    """A held trip's read-model row ``before`` its facts changed: queue the hold notice for
    the shipping lines and terminals that own the trip now and did not then (a carrier review:
    a box held before discharge was never notified to the terminal that then handled it, which
    later got a release for a hold it had not been told of). Returns the notices' ids."""
    trip = uow.container_trips.get(before["id"])
    if not trip["on_hold"]:
        return []
    organisations = uow.accounts.organisations()
    new = {o.id for o in owners(organisations, trip)} - {o.id for o in owners(organisations, before)}
    return notify_trip(uow, trip["id"], "hold", HOLD_TEXT, now, only_organisations=new) if new else []


def notify_release(uow: Any, trip_id: int, now: datetime, actor: str = "scheldt", actor_org: str = "") -> list[int]:
    """Queue release notices for the trip's owners, with :data:`RELEASE_TEXT`."""
    return notify_trip(uow, trip_id, "release", RELEASE_TEXT, now, actor=actor, actor_org=actor_org)


def notify_alert(uow: Any, trip_id: int, text: str, now: datetime, actor: str = "scheldt",
                 actor_org: str = "") -> list[int]:
    """Queue alert notices about a trip for its owners. ``text`` goes to the carrier as given:
    write it for them (no internal reasons, no sources)."""
    return notify_trip(uow, trip_id, "alert", text, now, actor=actor, actor_org=actor_org)


# subscriptions, as shipping lines and terminals manage them
def _subscriber(principal: Principal) -> str:
    require(principal, Permission.MANAGE_SUBSCRIPTIONS)
    if principal.organisation.kind not in _OWNER_KINDS:
        raise ForbiddenError(Permission.MANAGE_SUBSCRIPTIONS.value,
                             "only shipping lines and terminals subscribe to notices")
    return principal.organisation.id


def check_callback_url(url: str, allow_http: bool = False) -> str:
    """A callback URL: absolute https (or http when ``allow_http``), with a host, without
    credentials or fragment, at most :data:`URL_MAX` characters. Raises InputError."""
    url = (url or "").strip()
    if not url or len(url) > URL_MAX:
        raise InputError("callback_url", f"give an absolute URL of at most {URL_MAX} characters")
    odd = next((i for i, c in enumerate(url) if not "!" <= c <= "~"), None)
    if odd is not None:  # a carrier review's "https://x/\r\nX-Injected: 1" stopped every delivery round
        raise InputError("callback_url", f"character {odd + 1} is a space, a control character or not ASCII: "
                         "percent-encode the path, write an internationalised host name in its xn-- form")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InputError("callback_url", f"not a URL: {exc}") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise InputError("callback_url", f"must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise InputError("callback_url", "names no host")
    if not _host_name(parts.hostname):
        raise InputError("callback_url", f"{parts.hostname[:100]!r} is neither a host name (letters, digits and "
                         "hyphens in dot-separated labels) nor an IP address")
    if parts.username is not None or parts.password is not None:
        raise InputError("callback_url", "may not carry credentials; the shared secret signs every notice")
    if parts.fragment:
        raise InputError("callback_url", "may not have a #fragment")
    if port == 0:
        raise InputError("callback_url", "port 0 is not a port")
    if not allow_http and internal_host(parts.hostname):
        raise InputError("callback_url", f"{parts.hostname} is a loopback, private or link-local address; "
                         "notices go to the subscriber's public endpoint")
    return url


_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _host_name(host: str) -> bool:
    """True for an IP address (an IPv4 address as the C resolver reads it, ``1.2.3`` too; a
    zone only on an IPv6 address) or a DNS host name (RFC 1123 labels of at most 63 characters,
    253 in all, the last not all digits; one trailing dot allowed). ``exa%00mple.com``, ``-``,
    ``a..b``, ``999.1.1.1``, ``1.1.1.1.1`` and ``10.0.0.1%x`` are not (regression review: the
    last three were accepted, and no notice to them could ever be sent)."""
    if ":" in host:  # IPv6 (urlsplit gives it without its brackets), with a zone or not
        try:
            ipaddress.ip_address(host.split("%")[0])
            return True
        except ValueError:
            return False
    name = host.lower().removesuffix(".")
    if not 0 < len(name) <= 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        return False
    if not name.rsplit(".", 1)[-1].isdigit():
        return True
    try:  # all digits at the end: an IPv4 address or nothing
        socket.inet_aton(name)
        return True
    except OSError:
        return False


def internal_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback, private, link-local, reserved, multicast,
    shared (100.64.0.0/10) or otherwise non-global IP addresses (a subscriber must not point
    Scheldt at services inside the customs network).
    Host names are not resolved here; the delivery side connects only to what DNS gives. IPv4
    addresses are read as the C resolver reads them (``127.1``, ``2130706433``, ``0x7f.1`` are
    127.0.0.1; a trailing dot is ignored)."""
    host = host.lower().rstrip(".")
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # not is_global: also the carrier-grade NAT range 100.64.0.0/10, which is_private leaves out
    # on Python 3.11 (an access review subscribed https://100.64.0.1/)
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_unspecified
            or ip.is_multicast or not ip.is_global)


def check_secret(secret: str) -> str:
    """A shared secret of :data:`SECRET_MIN_BYTES` to :data:`SECRET_MAX_BYTES` UTF-8 bytes. Raises InputError."""
    size = len((secret or "").encode("utf-8"))
    if not SECRET_MIN_BYTES <= size <= SECRET_MAX_BYTES:
        raise InputError("secret", f"{size} bytes; give {SECRET_MIN_BYTES}-{SECRET_MAX_BYTES} bytes "
                         "(e.g. 32 random bytes as 64 hex digits)")
    return secret


def subscribe(uow: Any, principal: Principal, callback_url: str, secret: str, kinds: Sequence[str], now: datetime,
              *, allow_http: bool = False) -> dict[str, Any]:
    """Subscribe the principal's shipping line or terminal to ``kinds`` of notices (default all)
    at ``callback_url``, signed with ``secret``. Returns the subscription (never the secret).
    Raises ForbiddenError for a role or organisation that may not, InputError for a bad URL,
    secret or kind, ConflictError beyond :data:`MAX_SUBSCRIPTIONS` active subscriptions or for
    a URL an active subscription already receives one of ``kinds`` at."""
    org = _subscriber(principal)
    url = check_callback_url(callback_url, allow_http)
    check_secret(secret)
    chosen = list(dict.fromkeys(kinds or KINDS))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise InputError("kinds", f"{unknown[0]!r} is not one of {', '.join(KINDS)}")
    uow.notifications.lock()  # before reading what is active: simultaneous POSTs each saw none
    active = uow.notifications.subscriptions(org, active=True)
    same = next((s for s in active if same_endpoint(s["callback_url"], url) and set(s["kinds"]) & set(chosen)), None)
    if same is not None:  # an API review's retried POST doubled every notice, under two notice ids
        raise ConflictError("callback_url", f"subscription {same['id']} already sends {', '.join(same['kinds'])} "
                            "notices to this URL: each notice would go twice (give it a new secret with PUT "
                            f"/api/v1/subscriptions/{same['id']}/secret; delete it first to change its kinds)")
    if len(active) >= MAX_SUBSCRIPTIONS:
        raise ConflictError("subscriptions", f"{org} has {MAX_SUBSCRIPTIONS} active subscriptions; delete one first")
    with _sealing(f"subscription of {org}"):
        subscription = uow.notifications.add_subscription(org, url, secret, chosen, now)
    if "hold" in chosen:  # the holds already on its boxes (a hold is a state: a new subscriber must learn of it)
        _active_holds_to(uow, principal.organisation, subscription["id"], now)
    return subscription


def _active_holds_to(uow: Any, organisation: Organisation, subscription_id: int, now: datetime) -> None:
    """Queue a hold notice to subscription ``subscription_id`` for every trip ``organisation``
    owns that is on hold now and whose box has not left the port (a carrier review: a notice
    dead-lettered when its subscription was deleted could never reach the carrier, and a new
    subscription learnt nothing of the box; a later one was told "may not leave the terminal"
    of a box gone weeks before, since reused by another line). Each is audited as by the agency
    that placed the hold (it was by no organisation), and dated when the box's first hold in
    force was placed (a carrier review: dated when subscribing, two endpoints disagreed on when
    the box was held, and an old hold read as a new one)."""
    scope, after, first = trip_scope(organisation), None, {}
    while page := uow.inspections.scoped_holds(scope, active=True, after_id=after, limit=500):
        first |= {h["trip_id"]: h for h in page}  # pages go from the newest hold to the oldest
        after = page[-1]["id"]
    for trip_id, hold in sorted(first.items(), key=lambda item: item[1]["id"]):
        if uow.container_trips.get(trip_id).get("left_at") is None:
            notify_trip(uow, trip_id, "hold", HOLD_TEXT, now, actor_org=hold["organisation_id"],
                        only_subscription=subscription_id, at=hold["placed_at"])


def change_secret(uow: Any, principal: Principal, subscription_id: int, secret: str) -> dict[str, Any]:
    """Give one of the organisation's active subscriptions a new shared secret in place: its
    notices still to be sent, those waiting for a secret this node can unseal included, are
    signed with it (a carrier review could change a secret only by deleting the subscription,
    which dead-lettered its pending release and alert for good). Raises NotFoundError,
    InputError for a bad secret, ConflictError for a deleted subscription."""
    org = _subscriber(principal)
    check_secret(secret)
    with _sealing(f"secret of subscription {subscription_id}"):
        return uow.notifications.set_secret(subscription_id, org, secret)


@contextmanager
def _sealing(what: str) -> Iterator[None]:
    """Store a secret sealed with the node's key; a key that cannot seal it is logged for the
    operator under ``what`` and told the subscriber as a ConfigError naming no file or setting
    of the node (its path or setting is not the subscriber's business)."""
    try:
        yield
    except ConfigError as exc:
        log.error("%s not stored: %s: %s", what, exc.where, exc.why)
        raise ConfigError("subscription", "this node cannot keep the shared secret just now; its operator is told "
                                          "(the server's log): try again later") from None


def subscriptions(uow: Any, principal: Principal) -> list[dict[str, Any]]:
    """The principal's organisation's subscriptions, deleted ones included (``active`` false)."""
    return uow.notifications.subscriptions(_subscriber(principal))


def unsubscribe(uow: Any, principal: Principal, subscription_id: int, now: datetime) -> tuple[dict[str, Any], int]:
    """Delete one of the organisation's subscriptions; its undelivered notices go to the
    dead-letter list. Returns (subscription, notices moved). Raises NotFoundError."""
    return uow.notifications.deactivate(subscription_id, _subscriber(principal), now)


def notices(uow: Any, principal: Principal, status: str | None, after_id: int | None, limit: int) -> list[dict[str, Any]]:
    """The organisation's notices with their delivery state, newest first."""
    return uow.notifications.notices(_subscriber(principal), status=status, after_id=after_id, limit=limit)


def retry(uow: Any, principal: Principal, notification_id: int, now: datetime) -> dict[str, Any]:
    """Re-queue one of the organisation's dead notices for a new round of tries from ``now``
    (a deleted subscription's notice through the organisation's active one that receives its
    kind). Raises NotFoundError, or ConflictError when it is not dead, none receives it, or it
    is a hold or release notice that no longer tells the box's state (:func:`requeue`)."""
    return requeue(uow, notification_id, _subscriber(principal), now)


def requeue(uow: Any, notification_id: int, organisation_id: str | None, now: datetime) -> dict[str, Any]:
    """Re-queue a dead notice (of ``organisation_id``; any when None: the node's operator),
    unless it is a hold or release notice that would tell the system it goes to (its
    subscription's endpoint) what is no longer so or what it was told already: the box is not
    (or no longer) in the state it says, a later hold or release notice about the box reached
    (or is on its way to) that endpoint, or a notice of its kind did since the last opposite
    notice sent to any endpoint of the organisation (dead notices reached nothing). A
    shipping-line review: a dead release re-queued after a newer hold was delivered arrived
    last, so the box looked free; dead holds of deleted subscriptions re-queued after the hold
    had been delivered arrived as two more holds. Raises NotFoundError or ConflictError."""
    notice = uow.notifications.notice(notification_id, organisation_id)
    if notice["status"] == "dead":
        _still_owned(uow, notice)
    if notice["kind"] in ("hold", "release") and notice["status"] == "dead":
        _still_news(uow, notice)
    if notice["kind"] == "alert" and notice["status"] == "dead":
        _not_there_already(uow, notice)
    return uow.notifications.requeue(notification_id, organisation_id, now)


def _reach(uow: Any, notice: dict[str, Any]) -> set[int]:
    """The subscriptions (ids) whose system a dead ``notice`` re-queued would reach: the one it
    goes through and any other of its organisation, live or deleted, at the same endpoint."""
    to = uow.notifications.requeue_target(notice)
    subs = {s["id"]: s for s in uow.notifications.subscriptions(notice["organisation_id"])}
    return {i for i, s in subs.items() if i == to or same_endpoint(s["callback_url"], subs[to]["callback_url"])}


def _not_there_already(uow: Any, notice: dict[str, Any]) -> None:
    """Raise ConflictError when the alert of a dead alert notice reached (or is on its way to)
    the system the notice would be re-queued to: another copy of the same alert (queued at the
    same time with the same text, about the same box) for a subscription at that endpoint. Each
    subscription's copy has its own notice id, so a receiver cannot tell it has the alert: a
    notice review's dead copy of a deleted subscription, re-queued, arrived as a second alert."""
    body = notice["body"]
    box = (str(body.get("container_number", "")), str(body.get("document_ref", "")), str(body.get("voyage", "")))
    reach = _reach(uow, notice)
    copy = next((n for n in uow.notifications.about_box(notice["organisation_id"], ("alert",), *box)
                 if n["id"] != notice["id"] and n["status"] != "dead" and n["subscription_id"] in reach
                 and (n["body"].get("at"), n["body"].get("text")) == (body.get("at"), body.get("text"))), None)
    if copy is not None:
        raise ConflictError(f"notice {notice['id']}", f"the same alert about container {box[0]} went to that endpoint "
                            f"already (notice {copy['id']}, {copy['status']}, subscription {copy['subscription_id']})")


def owned_now(uow: Any, notice: dict[str, Any], organisations: Sequence[Organisation] | None = None) -> bool:
    """Whether the notice's organisation (``organisation_id``) owns the trip its body names
    (``trip_id``) now (:func:`owners`): a terminal owns a trip while the box is at its terminal.
    A trip its box's events no longer make (regrouped) is judged by the trip that holds most of
    its moves now, where its hold went (:func:`scheldt.workflows.trip_scoring.current_trip`).
    ``organisations``: every organisation, when the caller has them already. (A regression
    review: the trip looked up by the body's voyage, which is the trip's first event's where the
    trip's key has none, was not found, and a line's own hold notice went to the dead-letter
    list; later reviews' notices were judged on the box's newest trip, or on any trip of the
    box, not on where the hold had gone.)"""
    org = notice["organisation_id"]
    organisation = next((o for o in organisations or uow.accounts.organisations() if o.id == org), None)
    trip = notice_trip(uow, notice)
    if trip is not None and trip.get("regrouped_at") is not None:
        from scheldt.workflows.trip_scoring import current_trip  # (which imports this module)

        now_id = current_trip(uow, trip, datetime.now(UTC))
        trip = uow.container_trips.get(now_id) if now_id is not None else None
    return trip is not None and organisation is not None and bool(owners([organisation], trip))


def notice_trip(uow: Any, notice: dict[str, Any]) -> dict[str, Any] | None:
    """The stored trip a notice is about: the one its body names (``trip_id``; a notice from
    before bodies named it, by container number, document reference and voyage), or None."""
    body = notice["body"]
    try:
        return uow.container_trips.get(int(body["trip_id"]))
    except NotFoundError:
        return None
    except (KeyError, TypeError, ValueError):
        box = (str(body.get("container_number", "")), str(body.get("document_ref", "")), str(body.get("voyage", "")))
        return uow.container_trips.by_key(TripKey(*box))


def not_owned_why(notice: dict[str, Any]) -> str:
    """What is said of a notice whose organisation no longer owns its trip (:func:`owned_now`)."""
    return (f"{notice['organisation_id']} does not own the trip of container "
            f"{notice['body'].get('container_number', '')} now: notices go to a container's owners only")


def _still_owned(uow: Any, notice: dict[str, Any]) -> None:
    """Raise ConflictError unless the notice's organisation owns the trip it is about now
    (:func:`owned_now`). A carrier review re-queued a terminal's dead hold after the box was
    loaded aboard, and it was delivered to the terminal."""
    if not owned_now(uow, notice):
        raise ConflictError(f"notice {notice['id']}", not_owned_why(notice))


def _still_news(uow: Any, notice: dict[str, Any]) -> None:
    body, kind, org = notice["body"], notice["kind"], notice["organisation_id"]
    box = (str(body.get("container_number", "")), str(body.get("document_ref", "")), str(body.get("voyage", "")))
    what = f"notice {notice['id']}"
    trip = notice_trip(uow, notice)  # (a regression review: found by the body's voyage, a trip keyed without one
    held = bool(trip and trip["on_hold"])  # was "not on hold", and the line's dead hold could not be re-queued)
    if held != (kind == "hold"):
        state = "on hold" if held else "not on hold"
        raise ConflictError(what, f"is a {kind} notice and container {box[0]} is {state} now: it would tell {org} "
                                  "what is no longer so")
    # what reached the system it would go to: the subscription it goes through and any other, live
    # or deleted, at the same endpoint (regression reviews: a system whose last news was "held" was
    # refused its dead release for notices that only reached another system; a re-made
    # subscription's stale release was sent after the newer hold and release its system had got)
    reach = _reach(uow, notice)
    others = [n for n in uow.notifications.about_box(org, ("hold", "release"), *box) if n["id"] != notice["id"]]
    anywhere = [n for n in others if n["status"] != "dead"]  # sent, or on their way
    told = [n for n in anywhere if n["subscription_id"] in reach]
    opposite = next((n for n in told if n["id"] > notice["id"] and n["kind"] != kind), None)
    if opposite is not None:
        raise ConflictError(what, f"the {opposite['kind']} notice {opposite['id']} about container {box[0]} was queued "
                                  "after it to the same endpoint: re-sending this one would put an older state last")
    # told that state since the last opposite notice sent to any of its endpoints (a shipping line
    # may take holds and releases at two: a regression review's hold was refused after a release)
    since = [n for n in told if n["kind"] == kind and not any(o["kind"] != kind and o["id"] > n["id"]
                                                             for o in anywhere)]
    if since:
        raise ConflictError(what, f"{org} was sent the {kind} of container {box[0]} already (notice {since[-1]['id']}, "
                                  f"{since[-1]['status']}, subscription {since[-1]['subscription_id']})")
    later = [n for n in others if n["subscription_id"] in reach and n["id"] > notice["id"]]
    if later:
        raise ConflictError(what, f"a later {kind} notice about container {box[0]} was queued ({later[-1]['id']}, "
                                  f"{later[-1]['status']}): re-queue that one if it is still needed")
