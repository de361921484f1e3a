"""Carrier subscriptions and the notices queued for them, with their delivery state.

A shipping line or terminal subscribes a callback URL and a shared secret (the pattern of DCSA
Track & Trace v2.2 / v3 event subscriptions: ``callbackUrl`` + ``secret``, the sender signs each
POST with it). Each notice to one subscription is one :class:`~scheldt.store.models.NotificationRow`:

- ``pending`` while it waits for a try (``next_attempt_at``, UTC);
- ``delivered`` once a try succeeded (``delivered_at``);
- ``dead`` after the last try failed (:attr:`RetryPolicy.max_tries`), or when its subscription
  was deleted before delivery: the dead-letter list, from which :meth:`requeue` takes it back.

A try that fails waits :meth:`RetryPolicy.delay_s` before the next: ``base * 2**(n-1)`` seconds
after the n-th failed try, at most ``cap`` (1 s, 2 s, 4 s ... with the defaults). The
repository never commits: the caller's unit of work does. Secrets are kept sealed with the
node's key (:mod:`scheldt.store.sealing`) and unsealed only by
:meth:`NotificationRepository.claim_due` (to sign); every other read leaves them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheldt.domain.urls import same_endpoint
from scheldt.errors import ConfigError, ConflictError, InputError, NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import NotificationRow, SubscriptionRow
from scheldt.store.rows import aware
from scheldt.store.sealing import seal_for, unseal

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATUSES = (PENDING, DELIVERED, DEAD)
#: Longest error text kept on a notice (characters).
ERROR_MAX = 500
#: Most rows one list call returns.
LIST_LIMIT_MAX = 1000
#: How the note of a notice put off because its subscription's secret could not be unsealed
#: begins (:data:`scheldt.exchange.notify.UNSIGNED_NOTE`): :meth:`NotificationRepository.release_signable`
#: finds such notices by it.
UNSIGNED_MARK = "not sent: this node cannot unseal"
#: PostgreSQL advisory lock serialising subscription changes (:meth:`NotificationRepository.lock`).
SUBSCRIPTION_LOCK_KEY = 0x5C4E_5AB5_C41B_E001

_S = SubscriptionRow
_N = NotificationRow


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how fast a notice is tried: at most ``max_tries`` tries; after the n-th
    failed try the next waits ``min(base_s * 2**(n-1), cap_s)`` seconds."""

    max_tries: int = 8
    base_s: float = 1.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise InputError("notice max tries", f"{self.max_tries} must be at least 1")
        if not (self.base_s > 0 and self.cap_s > 0):
            raise InputError("notice backoff", "base and cap must be positive numbers of seconds")

    def delay_s(self, failed_tries: int) -> float:
        """Seconds to wait after ``failed_tries`` (1, 2, ...) failed tries."""
        exponent = min(max(failed_tries, 1) - 1, 60)  # 2**60 s is past any cap; keeps the float finite
        return min(self.base_s * 2.0 ** exponent, self.cap_s)

    def schedule_s(self) -> list[float]:
        """The waits between the tries, in seconds (``max_tries - 1`` of them)."""
        return [self.delay_s(n) for n in range(1, self.max_tries)]


#: What a notice names of its trip.
_BOX_FIELDS = ("container_number", "document_ref", "voyage")


def _subscription(row: SubscriptionRow) -> dict[str, Any]:
    """A subscription as callers see it: never its secret."""
    return {"id": row.id, "organisation_id": row.organisation_id, "callback_url": row.callback_url,
            "kinds": list(row.kinds or []), "active": bool(row.active), "created_at": aware(row.created_at)}


def _notice(row: NotificationRow, organisation_id: str) -> dict[str, Any]:
    body = dict(row.body or {})
    return {"id": row.id, "notice_id": str(body.get("notice_id", "")), "subscription_id": row.subscription_id,
            "organisation_id": organisation_id, "kind": row.kind, "status": row.status, "attempts": row.attempts,
            # a delivered or dead-lettered notice is tried no more (an API review read a future try)
            "next_attempt_at": aware(row.next_attempt_at) if row.status == PENDING else None,
            "last_error": row.last_error,
            "created_at": aware(row.created_at), "delivered_at": aware(row.delivered_at), "body": body}


class NotificationRepository:
    """Subscriptions per organisation and the notice queue (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise subscription changes from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): take it before reading the active
        subscriptions a new one is checked against (a concurrency review's eight simultaneous
        POSTs of one URL made eight subscriptions, each notice sent eight times)."""
        take_write_lock(self.session, SUBSCRIPTION_LOCK_KEY, _S.__table__)

    # subscriptions
    def add_subscription(self, organisation_id: str, callback_url: str, secret: str, kinds: Sequence[str],
                         now: datetime) -> dict[str, Any]:
        """Store an active subscription, its secret sealed (:mod:`scheldt.store.sealing`); returns
        it without its secret."""
        sealed = seal_for(self.session, secret)
        row = SubscriptionRow(organisation_id=organisation_id, callback_url=callback_url, secret=sealed,
                              kinds=list(kinds), active=True, created_at=now)
        self.session.add(row)
        self.session.flush()
        return _subscription(row)

    def subscriptions(self, organisation_id: str, active: bool | None = None) -> list[dict[str, Any]]:
        """The organisation's subscriptions, oldest first; only active (or only deleted) ones
        when ``active`` is given."""
        stmt = select(_S).where(_S.organisation_id == organisation_id)
        if active is not None:
            stmt = stmt.where(_S.active.is_(active))
        return [_subscription(r) for r in self.session.scalars(stmt.order_by(_S.id))]

    def subscription(self, subscription_id: int, organisation_id: str) -> dict[str, Any]:
        """One subscription of the organisation. Raises NotFoundError (another organisation's
        subscription does not exist for the asker)."""
        row = self.session.get(_S, subscription_id)
        if row is None or row.organisation_id != organisation_id:
            raise NotFoundError(f"subscription {subscription_id}", "no such subscription")
        return _subscription(row)

    def set_secret(self, subscription_id: int, organisation_id: str, secret: str) -> dict[str, Any]:
        """Seal a new secret for one of the organisation's active subscriptions, in place: its
        pending notices are sent signed with it. Raises NotFoundError, or ConflictError for a
        deleted subscription."""
        if not self.subscription(subscription_id, organisation_id)["active"]:
            raise ConflictError(f"subscription {subscription_id}", "was deleted; subscribe again")
        self.session.execute(update(_S).where(_S.id == subscription_id).values(secret=seal_for(self.session, secret)))
        return self.subscription(subscription_id, organisation_id)

    def deactivate(self, subscription_id: int, organisation_id: str, now: datetime) -> tuple[dict[str, Any], int]:
        """Delete a subscription (kept, inactive, so its notices keep their history) and move
        its pending notices to the dead-letter list. Returns (subscription, notices moved).
        Raises NotFoundError."""
        self.subscription(subscription_id, organisation_id)
        self.session.execute(update(_S).where(_S.id == subscription_id).values(active=False))
        moved = self.session.execute(update(_N).where(_N.subscription_id == subscription_id, _N.status == PENDING)
                                     .values(status=DEAD, last_error=f"subscription deleted at {now.isoformat()}"))
        return self.subscription(subscription_id, organisation_id), int(moved.rowcount or 0)

    def active_subscriptions(self, organisation_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Active subscriptions of any of ``organisation_ids``, by id."""
        if not organisation_ids:
            return []
        stmt = select(_S).where(_S.organisation_id.in_(sorted(set(organisation_ids))), _S.active.is_(True))
        return [_subscription(r) for r in self.session.scalars(stmt.order_by(_S.id))]

    # the queue
    def enqueue(self, subscription_id: int, kind: str, body: dict[str, Any], now: datetime) -> int:
        """Queue a notice for its first try at ``now``; returns its id."""
        row = NotificationRow(subscription_id=subscription_id, kind=kind, body=body, status=PENDING, attempts=0,
                              next_attempt_at=now, last_error="", created_at=now, delivered_at=None)
        self.session.add(row)
        self.session.flush()
        return row.id

    def any_due(self, now: datetime) -> bool:
        """Whether a pending notice of an active subscription is due at ``now`` (UTC), or one put
        off for a secret that can now be unsealed (:meth:`release_signable`)."""
        stmt = (select(_N.id).join(_S, _S.id == _N.subscription_id)
                .where(_N.status == PENDING, _N.next_attempt_at <= now, _S.active.is_(True)).limit(1))
        return self.session.scalar(stmt) is not None or bool(self._signable_again(now))

    def release_signable(self, now: datetime) -> int:
        """Make due at ``now`` the pending notices put off because their subscription's secret
        could not be unsealed (their note begins with :data:`UNSIGNED_MARK`) whose secret can be
        unsealed now: the operator restored the node's key, or the subscriber gave a new secret.
        They had waited out the longest back-off (5 min by default) after the fix (a review).
        Returns how many."""
        subscriptions = self._signable_again(now)
        if not subscriptions:
            return 0
        done = self.session.execute(update(_N).where(*self._held_unsigned(now), _N.subscription_id.in_(subscriptions))
                                    .values(next_attempt_at=now))
        return int(done.rowcount or 0)

    def _held_unsigned(self, now: datetime) -> tuple[Any, ...]:
        return (_N.status == PENDING, _N.next_attempt_at > now,
                _N.last_error.startswith(UNSIGNED_MARK, autoescape=True))

    def _signable_again(self, now: datetime) -> list[int]:
        """Active subscriptions with notices put off for their secret, whose secret unseals now."""
        stmt = (select(_S.id, _S.secret).where(_S.active.is_(True), _S.id.in_(
            select(_N.subscription_id).where(*self._held_unsigned(now)).distinct())))
        out = []
        for subscription_id, secret in self.session.execute(stmt):
            try:
                unseal(secret)
            except ConfigError:
                continue
            out.append(subscription_id)
        return out

    def claim_due(self, now: datetime, limit: int, lease_s: float) -> list[dict[str, Any]]:
        """Up to ``limit`` pending notices due at ``now`` (oldest due first), each with its
        subscription's organisation, callback URL and secret (None, with the reason as
        ``secret_error``, when it cannot be unsealed), and hold them for ``lease_s``
        seconds (``next_attempt_at`` moves on by that much) so no other sender tries them
        meanwhile. A sender that dies mid-try leaves them to be tried again after the lease.
        On PostgreSQL rows another transaction is claiming are skipped (FOR UPDATE SKIP LOCKED)."""
        if limit < 1:
            return []
        stmt = (select(_N, _S.organisation_id, _S.callback_url, _S.secret)
                .join(_S, _S.id == _N.subscription_id)
                .where(_N.status == PENDING, _N.next_attempt_at <= now, _S.active.is_(True))
                .order_by(_N.next_attempt_at, _N.id).limit(limit).with_for_update(of=_N, skip_locked=True))
        out = []
        for row, org, url, secret in self.session.execute(stmt):
            try:
                clear, error = unseal(secret), ""
            except ConfigError as exc:  # the sealing key was lost or changed: this notice's try fails
                clear, error = None, f"{exc.where}: {exc.why}"
            out.append(_notice(row, org) | {"callback_url": url, "secret": clear, "secret_error": error})
        if out:
            self.session.execute(update(_N).where(_N.id.in_([n["id"] for n in out]))
                                 .values(next_attempt_at=now + timedelta(seconds=lease_s)))
        return out

    def mark_delivered(self, notification_id: int, now: datetime, note: str = "") -> dict[str, Any]:
        """Record a successful try: ``delivered`` at ``now``, one more attempt. ``note`` (e.g.
        "the receiver had it already") is kept as ``last_error``'s text."""
        row = self._row(notification_id)
        row.attempts += 1
        row.status = DELIVERED
        row.delivered_at = now
        row.last_error = note[:ERROR_MAX]
        self.session.flush()
        return self._as_dict(row)

    def pending_about(self, subscription_ids: Sequence[int], containers: Sequence[str], kinds: Sequence[str],
                      before_id: int) -> list[dict[str, Any]]:
        """The pending notices of ``kinds`` of those subscriptions about those container numbers,
        queued before notice ``before_id``, oldest first: ``{"id", "subscription_id",
        "container_number", "next_attempt_at"}`` (as stored, a lease included). One query, the
        container read from the notice's JSON body."""
        if not subscription_ids or not containers:
            return []
        box = _N.body["container_number"].as_string()
        stmt = (select(_N.id, _N.subscription_id, box, _N.next_attempt_at)
                .where(_N.status == PENDING, _N.kind.in_(list(kinds)), _N.subscription_id.in_(list(subscription_ids)),
                       box.in_(list(containers)), _N.id < before_id).order_by(_N.id))
        return [{"id": i, "subscription_id": sub, "container_number": number, "next_attempt_at": aware(at)}
                for i, sub, number, at in self.session.execute(stmt)]

    def about_box(self, organisation_id: str, kinds: Sequence[str], container_number: str,
                  document_ref: str, voyage: str) -> list[dict[str, Any]]:
        """The organisation's notices of ``kinds`` about one trip (its container number,
        document reference and voyage, as the notice names them), through any of its
        subscriptions, oldest first, every state."""
        stmt = (select(_N).join(_S, _S.id == _N.subscription_id)
                .where(_S.organisation_id == organisation_id, _N.kind.in_(list(kinds)),
                       _N.body["container_number"].as_string() == container_number).order_by(_N.id))
        box = (container_number, document_ref, voyage)
        return [_notice(row, organisation_id) for row in self.session.scalars(stmt)
                if tuple(str((row.body or {}).get(k, "")) for k in _BOX_FIELDS) == box]

    def requeue_target(self, notice: dict[str, Any]) -> int:
        """The subscription a dead ``notice`` is re-queued through: its own when active, else the
        organisation's active subscription that receives its kind, one at the same endpoint
        first (a carrier review deleted a subscription to change its secret, subscribed again,
        and its dead release and alert could not be re-queued). Raises ConflictError when none."""
        organisation_id = notice["organisation_id"]
        was = self.subscription(notice["subscription_id"], organisation_id)
        if was["active"]:
            return int(was["id"])
        taking = [s for s in self.subscriptions(organisation_id, active=True) if notice["kind"] in s["kinds"]]
        taking.sort(key=lambda s: not same_endpoint(s["callback_url"], was["callback_url"]))
        if not taking:
            raise ConflictError(f"notice {notice['id']}", f"its subscription was deleted and no active "
                                f"subscription of {organisation_id} receives {notice['kind']} notices: "
                                "subscribe again, then re-queue it")
        return int(taking[0]["id"])

    def postpone(self, notification_id: int, note: str, until: datetime) -> dict[str, Any]:
        """Put off a pending notice that could not be tried (not sent: its secret cannot be
        unsealed) until ``until``, with ``note`` as ``last_error``; the try is not counted, so
        the notice does not go to the dead-letter list while the node's operator restores the
        key (a review saw all eight tries used up in four minutes)."""
        row = self._row(notification_id)
        row.last_error = note[:ERROR_MAX]
        if row.status == PENDING:
            row.next_attempt_at = until
        self.session.flush()
        return self._as_dict(row)

    def mark_dead(self, notification_id: int, note: str, now: datetime) -> dict[str, Any]:
        """Move a pending notice to the dead-letter list without a try, ``note`` saying why
        (its organisation no longer owns the box, say); another status is kept."""
        row = self._row(notification_id)
        if row.status == PENDING:
            row.status = DEAD
            row.next_attempt_at = now
            row.last_error = note[:ERROR_MAX]
        self.session.flush()
        return self._as_dict(row)

    def mark_failed(self, notification_id: int, error: str, now: datetime, policy: RetryPolicy) -> dict[str, Any]:
        """Record a failed try at ``now``: one more attempt and the error; the notice is tried
        again after :meth:`RetryPolicy.delay_s`, or goes ``dead`` when that was its last try.
        A notice that is no longer pending (its subscription was deleted meanwhile) keeps its
        status."""
        row = self._row(notification_id)
        row.attempts += 1
        row.last_error = error[:ERROR_MAX]
        if row.status == PENDING:
            if row.attempts >= policy.max_tries:
                row.status = DEAD
                row.next_attempt_at = now
            else:
                row.next_attempt_at = now + timedelta(seconds=policy.delay_s(row.attempts))
        self.session.flush()
        return self._as_dict(row)

    # reading and the dead-letter list
    def notices(self, organisation_id: str | None, *, status: str | None = None, after_id: int | None = None,
                limit: int = 50) -> list[dict[str, Any]]:
        """The organisation's notices (every organisation's when ``organisation_id`` is None: the
        node's operator), newest first, of one ``status`` when given, after the id cursor
        ``after_id``. Raises InputError for an unknown status or a bad limit."""
        if status is not None and status not in STATUSES:
            raise InputError("status", f"{status!r} is not one of {', '.join(STATUSES)}")
        if not 1 <= limit <= LIST_LIMIT_MAX:
            raise InputError("limit", f"{limit} is outside 1..{LIST_LIMIT_MAX}")
        stmt = select(_N, _S.organisation_id).join(_S, _S.id == _N.subscription_id)
        if organisation_id is not None:
            stmt = stmt.where(_S.organisation_id == organisation_id)
        if status is not None:
            stmt = stmt.where(_N.status == status)
        if after_id is not None:
            stmt = stmt.where(_N.id < after_id)
        return [_notice(r, org) for r, org in self.session.execute(stmt.order_by(_N.id.desc()).limit(limit))]

    def notice(self, notification_id: int, organisation_id: str | None = None) -> dict[str, Any]:
        """One notice (of ``organisation_id`` when given). Raises NotFoundError."""
        row = self.session.get(_N, notification_id)
        sub = None if row is None else self.session.get(_S, row.subscription_id)
        if row is None or sub is None or (organisation_id is not None and sub.organisation_id != organisation_id):
            raise NotFoundError(f"notice {notification_id}", "no such notice")
        return _notice(row, sub.organisation_id)

    def requeue(self, notification_id: int, organisation_id: str | None, now: datetime) -> dict[str, Any]:
        """Take a dead notice (of ``organisation_id``; any when None: the node's operator) back
        into the queue for a full new round of tries from ``now``, through
        :meth:`requeue_target`. Raises NotFoundError, or ConflictError when it is not dead or no
        active subscription receives its kind."""
        notice = self.notice(notification_id, organisation_id)
        organisation_id = notice["organisation_id"]
        if notice["status"] != DEAD:
            raise ConflictError(f"notice {notification_id}", f"is {notice['status']}, only a dead notice is re-queued")
        to = self.requeue_target(notice)
        self.session.execute(update(_N).where(_N.id == notification_id, _N.status == DEAD).values(
            status=PENDING, attempts=0, next_attempt_at=now, subscription_id=to))
        return self.notice(notification_id, organisation_id)

    def _row(self, notification_id: int) -> NotificationRow:
        row = self.session.get(_N, notification_id)
        if row is None:
            raise NotFoundError(f"notice {notification_id}", "no such notice")
        return row

    def _as_dict(self, row: NotificationRow) -> dict[str, Any]:
        sub = self.session.get(_S, row.subscription_id)
        return _notice(row, sub.organisation_id if sub is not None else "")
