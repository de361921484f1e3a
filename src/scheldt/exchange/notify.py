"""Carrier notices on the wire: how Scheldt signs a notice, how a receiver checks it, and the
delivery round that POSTs due notices to their subscribers' callback URLs.

The pattern is DCSA Track & Trace's event subscriptions (a subscriber registers a
``callbackUrl`` and a shared ``secret``; the publisher POSTs JSON to the URL and signs it with
the secret) with Stripe-style timestamped signatures against replay:

**Request.** ``POST <callback URL>`` with ``Content-Type: application/json`` and

- body: the notice as UTF-8 JSON, keys sorted, no whitespace (:func:`body_bytes`):
  ``{"at", "container_number", "document_ref", "kind", "notice_id", "text", "version", "voyage"}``
  and, where the box came on another vessel's voyage than its trip's first, ``vessel_voyage``
  (``kind`` hold / release / alert; ``at`` ISO 8601 UTC; ``version`` 1);
- ``X-Scheldt-Timestamp``: when it was signed, Unix time in whole seconds (UTC);
- ``X-Scheldt-Notice-Id``: the body's ``notice_id`` (a UUID), the same on every retry;
- ``X-Scheldt-Signature: v1=<hex>`` where ``<hex>`` = lower-case hex of HMAC-SHA256 (RFC 2104
  HMAC, FIPS 180-4 SHA-256) keyed with the subscription's secret (its UTF-8 bytes) over the
  bytes ``f"{timestamp}.".encode() + body`` (:func:`sign`). Several ``v1=`` values separated by
  commas are accepted by :func:`verify` (a receiver rotating secrets).

Every retry is signed afresh (new timestamp), with the same body and notice id.

**Receiver.** Check, in this order (:func:`verify`, then a replay check on the notice id):
the timestamp is within :data:`TOLERANCE_S` (5 minutes) of the receiver's clock, in either
direction (401 otherwise); the signature matches, compared in constant time (401); the body's
``notice_id`` equals the header (400); the notice id was not accepted before (409). Answer 2xx
when the notice is accepted. :mod:`scheldt.exchange.receiver_example` does all of it.

**Delivery.** A 2xx answer is a delivery. A 409 is too: only a receiver that verified the
signature and had already accepted that notice id answers it (a try whose 2xx answer was lost
on the way back); the notice is recorded delivered with that note. Anything else (another
status, a redirect, a timeout, a refused connection) is a failed try: the notice is tried
again after the backoff of :class:`~scheldt.store.notifications.RetryPolicy` and goes to the
dead-letter list after ``SCHELDT_NOTICE_MAX_TRIES`` tries. Each try is one audit entry of kind
``notice``. Sending happens outside any database transaction: due notices are claimed (leased)
in one short transaction, POSTed in parallel, and the outcomes recorded in another.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from scheldt import __version__
from scheldt.errors import AuthError, InputError, ScheldtError
from scheldt.settings import Settings, get_settings
from scheldt.store.audit import audit_payload
from scheldt.store.notifications import UNSIGNED_MARK, RetryPolicy
from scheldt.workflows.notices import internal_host, not_owned_why, owned_now

log = logging.getLogger("scheldt.notify")

TIMESTAMP_HEADER = "X-Scheldt-Timestamp"
SIGNATURE_HEADER = "X-Scheldt-Signature"
NOTICE_ID_HEADER = "X-Scheldt-Notice-Id"
SCHEME = "v1"
#: How far (seconds) a signed timestamp may be from the receiver's clock, either way.
TOLERANCE_S = 300
#: Threads POSTing notices at once in one delivery round.
SEND_THREADS = 8
#: Characters of a failed answer's body kept in the notice's error text.
ANSWER_EXCERPT = 200


def body_bytes(body: Mapping[str, Any]) -> bytes:
    """The notice as sent: UTF-8 JSON, keys sorted, no whitespace."""
    return orjson.dumps(dict(body), option=orjson.OPT_SORT_KEYS)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """Lower-case hex HMAC-SHA256 (RFC 2104) keyed with ``secret`` (text: its UTF-8 bytes)
    over ``f"{timestamp}.".encode() + body``; ``timestamp`` in Unix seconds."""
    return hmac.new(_key(secret), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str | bytes, notice_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers of one POST of ``body`` signed at ``timestamp`` (Unix seconds)."""
    return {"Content-Type": "application/json", "User-Agent": f"Scheldt/{__version__} notices",
            TIMESTAMP_HEADER: str(int(timestamp)), NOTICE_ID_HEADER: notice_id,
            SIGNATURE_HEADER: f"{SCHEME}={sign(secret, timestamp, body)}"}


def verify(secret: str | bytes, timestamp: str | None, signature: str | None, body: bytes, now_s: float,
           tolerance_s: float = TOLERANCE_S) -> int:
    """Check a received notice's timestamp and signature headers; returns the timestamp (Unix
    seconds). Raises AuthError (answer 401) when a header is missing or malformed, the
    timestamp is more than ``tolerance_s`` seconds from ``now_s`` (Unix seconds) either way,
    or no ``v1=`` signature matches (compared with :func:`hmac.compare_digest`)."""
    if not timestamp or not signature:
        raise AuthError("signature", f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    text = timestamp.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise AuthError(TIMESTAMP_HEADER, "not Unix time in whole seconds")
    ts = int(text)
    if ts < now_s - tolerance_s:
        raise AuthError(TIMESTAMP_HEADER, f"signed {int(now_s - ts)} s ago; at most {int(tolerance_s)} s is accepted")
    if ts > now_s + tolerance_s:
        raise AuthError(TIMESTAMP_HEADER, f"signed {int(ts - now_s)} s in the future; at most {int(tolerance_s)} s")
    expected = sign(secret, ts, body).encode()
    matched = False
    for part in signature.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.strip().lower().encode(), expected):
            matched = True  # no early exit: every candidate is compared
    if not matched:
        raise AuthError(SIGNATURE_HEADER, "does not match the body and timestamp")
    return ts


def retry_policy(settings: Settings | None = None) -> RetryPolicy:
    """The retry policy from ``SCHELDT_NOTICE_MAX_TRIES`` / ``_BACKOFF_BASE_S`` / ``_BACKOFF_CAP_S``."""
    s = settings or get_settings()
    return RetryPolicy(s.notice_max_tries, s.notice_backoff_base_s, s.notice_backoff_cap_s)


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: ``delivered``, the HTTP status (None when there was no answer),
    a note (the error, or why a non-2xx counts as delivered), when it ended (UTC)."""

    delivered: bool
    status_code: int | None
    note: str
    at: datetime
    started: bool = True  # False: the round ended before its POST began (nothing was sent)


def resolves_inside(url: str) -> bool:
    """True when the host of ``url`` resolves to a loopback, private, link-local or reserved
    address (:func:`scheldt.workflows.notices.internal_host`). A subscriber's host name that
    points inside the customs network would otherwise make the node probe it (an attack
    review used names resolving to 127.0.0.1). A name that does not resolve is False (the POST
    then fails as it would)."""
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return False
    return any(internal_host(str(info[4][0]).split("%")[0]) for info in infos)


def post_notice(client: httpx.Client, url: str, secret: str, body: Mapping[str, Any],
                clock: Callable[[], datetime], allow_internal: bool = False, timeout_s: float = 10.0) -> Attempt:
    """POST one notice, signed now, to ``url`` (no redirects followed) and say how it went; an
    answer's status is what counts (2xx, or 409 for a notice the receiver had already), and
    the body of a failure is read for ``timeout_s`` at most.
    Unless ``allow_internal`` (``SCHELDT_NOTICE_ALLOW_HTTP``, development), a host resolving to
    an internal address is not contacted (:func:`resolves_inside`). The name is resolved again
    by the connection, so a name whose answer changes in between is not caught."""
    if not allow_internal and resolves_inside(url):
        return Attempt(False, None, "the callback host resolves to a loopback, private or link-local address; "
                       "notices go to the subscriber's public endpoint", clock())
    data = body_bytes(body)
    headers = signed_headers(secret, str(body.get("notice_id", "")), data, int(clock().timestamp()))
    deadline = time.monotonic() + timeout_s
    try:
        # streamed: the status decides, so an answer's body is read only for a failure's excerpt,
        # and then no longer than the timeout (a review's callback answered 200 at once and sent
        # its body a byte every 2 s: the round, and every other subscriber's notice, waited 80 s)
        with client.stream("POST", url, content=data, headers=headers) as answer:
            status = answer.status_code
            excerpt = "" if 200 <= status < 300 or status == 409 else _excerpt(answer, deadline)
    except httpx.TimeoutException as exc:
        return Attempt(False, None, f"timed out ({type(exc).__name__})", clock())
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, UnicodeError) as exc:
        # InvalidURL is no HTTPError: a carrier review's URL with a line break stopped every round (all carriers)
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:ANSWER_EXCERPT], clock())
    if 200 <= status < 300:
        return Attempt(True, status, "", clock())
    if status == 409:
        return Attempt(True, status, "the receiver had accepted this notice already (409)", clock())
    return Attempt(False, status, f"HTTP {status}: {excerpt}".strip(), clock())


def _excerpt(answer: httpx.Response, deadline: float) -> str:
    """The start of an answer's body (at most :data:`ANSWER_EXCERPT` characters, on one line),
    read until ``deadline`` (``time.monotonic()``) at the latest."""
    got = b""
    for chunk in answer.iter_bytes():
        got += chunk
        if len(got) >= ANSWER_EXCERPT or time.monotonic() > deadline:
            break
    return got.decode("utf-8", "replace")[:ANSWER_EXCERPT].replace("\n", " ")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def deliver_due(uow_factory: Callable[[], AbstractContextManager[Any]], *, limit: int | None = None,
                policy: RetryPolicy | None = None, timeout_s: float | None = None,
                clock: Callable[[], datetime] = _utcnow, actor_org: str | None = None) -> dict[str, Any]:
    """One delivery round: claim up to ``limit`` due notices (default ``SCHELDT_NOTICE_BATCH``),
    POST them (``timeout_s`` each, default ``SCHELDT_NOTICE_TIMEOUT_S``; :data:`SEND_THREADS`
    at once), record each outcome with ``policy`` (default from the settings) and one audit entry
    of kind ``notice`` per try, by ``actor_org`` (default ``SCHELDT_LOCAL_ORGANISATION``).
    ``clock``: the real UTC clock (signatures need real time, never ``SCHELDT_NOW``).
    Returns counts: tried, delivered, failed (to be tried again), dead, and, when some notices
    were not sent (:func:`_not_sent`: no try counted, nothing audited), ``deferred`` (the round
    ended before their turn), ``unsigned`` (their secret cannot be unsealed) and ``waiting``
    (an earlier notice about the same container goes first: :func:`_behind_earlier`)."""
    settings = get_settings()
    policy = policy or retry_policy(settings)
    limit = settings.notice_batch if limit is None else limit
    timeout_s = settings.notice_timeout_s if timeout_s is None else timeout_s
    actor_org = settings.local_organisation if actor_org is None else actor_org
    if limit < 1 or not timeout_s > 0:
        raise InputError("notice delivery", "limit and timeout must be positive")
    # The lease covers the whole round: every batch of SEND_THREADS may take the full timeout.
    lease_s = timeout_s * math.ceil(limit / SEND_THREADS) + 30.0
    with uow_factory() as uow:
        uow.notifications.release_signable(clock())
        due = uow.notifications.claim_due(clock(), limit, lease_s)
        gone = _no_longer_owned(uow, due, clock(), actor_org)
        due = [n for n in due if n["id"] not in gone]
        behind = _behind_earlier(uow, due, clock())
    due = [n for n in due if n["id"] not in behind]
    report = {"tried": len(due), "delivered": 0, "failed": 0, "dead": 0} | ({"waiting": len(behind)} if behind else {})
    if gone:
        report["not_owned"] = len(gone)
    if not due:
        return report
    attempts = _post_all(due, timeout_s, clock, settings.notice_allow_http)
    with uow_factory() as uow:
        for notice, attempt in zip(due, attempts, strict=True):
            if not attempt.started:
                _not_sent(uow, notice, attempt, policy, report)
                continue
            if attempt.delivered:
                row = uow.notifications.mark_delivered(notice["id"], attempt.at, attempt.note)
            else:
                row = uow.notifications.mark_failed(notice["id"], attempt.note, attempt.at, policy)
            outcome = "delivered" if attempt.delivered else "dead" if row["status"] == "dead" else "failed"
            report[outcome] += 1
            if outcome == "dead":  # an operator alerts on these (an operator review found none logged)
                log.warning("notice %s (%s for %s, subscription %s) is dead after %s tries: %s", notice["id"],
                            notice["kind"], notice["organisation_id"], notice["subscription_id"], row["attempts"],
                            attempt.note)
            uow.audit.append("notice", actor_org, audit_payload(
                "notice delivery", actor_org, f"POST {notice['kind']} notice", "notice", str(notice["id"]), "local",
                {"recipient": notice["organisation_id"], "subscription_id": notice["subscription_id"],
                 "notice_id": notice["notice_id"], "kind": notice["kind"], "callback_url": notice["callback_url"],
                 "attempt": row["attempts"], "outcome": outcome, "status_code": attempt.status_code,
                 "error": "" if attempt.delivered else attempt.note,
                 "next_attempt_at": row["next_attempt_at"].isoformat() if outcome == "failed" else None}),
                attempt.at)
    return report


def _no_longer_owned(uow: Any, due: list[dict[str, Any]], now: datetime, actor_org: str) -> set[int]:
    """The ids of the claimed ``due`` notices whose organisation no longer owns the trip they
    are about (:func:`scheldt.workflows.notices.owned_now`), moved to the dead-letter list
    untried, each audited (kind ``notice``, outcome ``not owned``). A carrier review's terminal
    got a notice about a box loaded aboard since it was queued (its first try had failed)."""
    if not due:
        return set()
    organisations = uow.accounts.organisations()
    gone = set()
    for notice in due:
        try:
            if owned_now(uow, notice, organisations):
                continue
        except ScheldtError as exc:  # not known: sent as before the check, and the round goes on
            log.warning("notice %s: who owns its trip could not be told (%s: %s); sent", notice["id"], exc.where,
                        exc.why)
            continue
        gone.add(notice["id"])
        why = not_owned_why(notice)
        uow.notifications.mark_dead(notice["id"], f"not sent: {why}", now)
        log.warning("notice %s (%s for %s) is dead untried: %s", notice["id"], notice["kind"],
                    notice["organisation_id"], why)
        uow.audit.append("notice", actor_org, audit_payload(
            "notice delivery", actor_org, f"withdraw {notice['kind']} notice", "notice", str(notice["id"]), "local",
            {"recipient": notice["organisation_id"], "subscription_id": notice["subscription_id"],
             "notice_id": notice["notice_id"], "kind": notice["kind"], "outcome": "not owned", "error": why}), now)
    return gone


def _box(notice: Mapping[str, Any]) -> tuple[int, str]:
    return notice["subscription_id"], str(notice["body"].get("container_number", ""))


#: The notice kinds that tell a box's state: the last one a subscriber gets must be the latest.
#: The kinds of notice about one box that reach a subscription in the order they were queued:
#: all (a federation review's alert "present the box at scanner SC-1" arrived before the hold
#: queued before it).
_ORDERED = ("hold", "release", "alert")


def _behind_earlier(uow: Any, due: list[dict[str, Any]], now: datetime) -> set[int]:
    """The ids of the claimed ``due`` notices that wait for an earlier one
    about the same container to the same subscription (claimed before them in this round, or
    pending and not claimed, as when it failed and waits out its back-off), put off until after
    that one's next try: a subscriber gets the hold and release notices about one box in the
    order they were queued, alerts among them (:data:`_ORDERED`). A shipping-line review: a hold
    and a release sent in one round, in parallel, arrived release last for a box that was on
    hold."""
    behind: set[int] = set()
    states = sorted((n for n in due if n["kind"] in _ORDERED), key=lambda n: n["id"])
    if not states:
        return behind
    waiting = uow.notifications.pending_about(sorted({n["subscription_id"] for n in states}),
                                              sorted({_box(n)[1] for n in states}), _ORDERED, states[-1]["id"])
    first: dict[tuple[int, str], dict[str, Any]] = {}
    for p in waiting:  # the earliest pending of each box, claimed in this round or not
        first.setdefault((p["subscription_id"], p["container_number"]), p)
    for n in states:
        earlier = first.setdefault(_box(n), n)
        if earlier["id"] >= n["id"]:
            continue
        behind.add(n["id"])  # after the earlier one's try: this round's (its lease is no due time), or its next
        claimed = any(d["id"] == earlier["id"] for d in due)
        until = now if claimed else max(now, earlier["next_attempt_at"] or now)
        uow.notifications.postpone(n["id"], f"waits for notice {earlier['id']} about the same container, sent "
                                   "first", until)
    return behind


def _not_sent(uow: Any, notice: dict[str, Any], attempt: Attempt, policy: RetryPolicy,
              report: dict[str, Any]) -> None:
    """Record a notice the round did not send, neither counted as tried nor audited as a POST
    (regression reviews: a notice the round never started, then one whose secret could not be
    unsealed, were counted as failed tries and audited as POSTs never made). One whose secret
    cannot be unsealed waits the longest back-off for the key; one the round ended before keeps
    its place in the queue (its due time before the claim) and its last error."""
    if notice["secret"] is None:
        uow.notifications.postpone(notice["id"], attempt.note, attempt.at + timedelta(seconds=policy.cap_s))
        kind = "unsigned"
    else:
        uow.notifications.postpone(notice["id"], notice["last_error"] or attempt.note,
                                   notice["next_attempt_at"] or attempt.at)
        kind = "deferred"
    report["tried"] -= 1
    report[kind] = report.get(kind, 0) + 1


def _post_all(due: list[dict[str, Any]], timeout_s: float, clock: Callable[[], datetime],
              allow_internal: bool) -> list[Attempt]:
    """The attempt of each of ``due`` (in its order), :data:`SEND_THREADS` at once, started
    taking the organisations in turn, so one organisation's many slow callbacks do not occupy
    every thread before another's first notice. The round waits ``timeout_s`` per batch of them
    at most: a call still running then (a callback trickling its answer's headers, each byte
    within httpx's timeout, which is per read) counts as failed and its connection is closed;
    a call not begun by then is not started (``Attempt.started`` false)."""
    client = httpx.Client(timeout=timeout_s, follow_redirects=False)
    pool = ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(due)), thread_name_prefix="notice")
    futures: dict[int, Future[Attempt]] = {}
    try:
        for i in _in_turn(due):
            n = due[i]
            if n["secret"] is None:  # nothing to send: said at once, no thread taken
                futures[i] = Future()
                futures[i].set_result(_unsigned(n, clock))
                continue
            futures[i] = pool.submit(post_notice, client, n["callback_url"], n["secret"], n["body"], clock,
                                     allow_internal, timeout_s)
        wait(futures.values(), timeout=timeout_s * math.ceil(len(due) / SEND_THREADS) + 1.0)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # what has not begun will not
    try:
        return [_outcome(futures[i], timeout_s, clock) for i in range(len(due))]
    finally:
        client.close()  # ends a call still running: its connection is closed under it


def _in_turn(due: list[dict[str, Any]]) -> list[int]:
    """Indexes of ``due`` taking its organisations in turn (each one's first notice, then each
    one's second...), each organisation's notices in their order."""
    rank: dict[str, int] = {}
    keyed = []
    for i, n in enumerate(due):
        org = str(n.get("organisation_id", ""))
        keyed.append((rank.get(org, 0), i))
        rank[org] = rank.get(org, 0) + 1
    return [i for _, i in sorted(keyed)]


def _outcome(future: Future[Attempt], timeout_s: float, clock: Callable[[], datetime]) -> Attempt:
    if future.cancelled():
        return Attempt(False, None, "not sent: the delivery round ended before its turn (other subscribers' "
                       "callbacks were slow); it keeps its place in the queue", clock(), started=False)
    if future.done():
        return future.result()
    return Attempt(False, None, f"no answer within {timeout_s:g} s", clock())


#: The note of a notice that could not be signed (its subscription's secret cannot be unsealed),
#: with the subscription's id. The carrier reads it among its notices: it names no file or setting
#: of this node.
UNSIGNED_NOTE = (f"{UNSIGNED_MARK} the subscription's signing secret (its sealing key was changed "
                 "or lost); give the subscription a new secret (PUT /api/v1/subscriptions/{id}/secret), or ask the "
                 "node's operator to restore the key")


def _unsigned(notice: Mapping[str, Any], clock: Callable[[], datetime]) -> Attempt:
    """The outcome of a notice whose signing secret cannot be unsealed: not sent (the reason is
    logged); :func:`deliver_due` puts it off by the longest back-off without counting a try."""
    log.error("notice %s to subscription %s not sent: %s", notice["id"], notice["subscription_id"],
              notice.get("secret_error"))
    return Attempt(False, None, UNSIGNED_NOTE.format(id=notice["subscription_id"]), clock(), started=False)


def unix_now() -> float:
    """The real clock in Unix seconds (for :func:`verify`)."""
    return time.time()
