"""The tamper-evident audit log: append-only, hash-chained entries with heads written out elsewhere.

Every audited read or write is one :class:`~scheldt.store.models.AuditEntryRow`. Entries are
numbered 1, 2, 3... (``seq``) and each names the hash of the entry before it, so editing an entry
breaks its own hash, and deleting or reordering entries breaks the chain. Deleting the *newest*
entries leaves a shorter chain that is still consistent: that is caught by the chain head
(``seq`` and ``entry_hash`` of the newest entry) written out periodically to a JSON-lines file
outside the database (:meth:`AuditLog.write_head`), which :meth:`AuditLog.verify` compares with
the database, every head line of the file (a head never names an earlier entry than one before
it, and none is written while the last one names an entry the chain no longer holds as written).

Canonical forms (a verifier in another language needs exactly these):

- ``payload_digest`` = SHA-256 hex of ``payload_salt + "|" + orjson.dumps(payload,
  option=OPT_SORT_KEYS)`` (the salt as its 32 hex characters, ASCII; the payload as UTF-8 JSON,
  keys sorted, no whitespace), or of the JSON alone for an entry without ``payload_salt`` (made
  before migration 0037). The payload is normalised through that form when appended (values
  orjson cannot write natively are written as ``str(value)``), so the stored payload re-serialises
  to the same bytes. The salt is random (128 bits) per entry and is purged with the payload: an
  unsalted digest kept after a purge gave the payload away to anyone who guessed it (an audit
  review re-identified who read which container in under a second, from the users and boxes
  the store lists).
- ``entry_hash`` = SHA-256 hex of the UTF-8 text
  ``prev_hash|seq|at|kind|organisation_id|payload_digest`` where ``seq`` is decimal without
  padding, ``at`` is the UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (always six fraction
  digits), and ``kind`` and ``organisation_id`` may not contain ``|`` (so the text splits one way
  only). The first entry's ``prev_hash`` is 64 zeros (:data:`GENESIS`).
- A head line is ``{"seq": int, "entry_hash": hex, "at": ISO 8601 UTC}`` (``at`` is when it was
  written out; ``seq`` 0 with :data:`GENESIS` is an empty log).

Purging (:meth:`AuditLog.purge`) sets ``payload`` and ``payload_salt`` to SQL NULL and
``purged_at``; the hash covers ``payload_digest``, not the payload, so the chain still verifies
after a purge.

The repository never commits: the caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, insert, null, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheldt.domain.audit import AUDIT_KINDS, AuditQuery, audit_payload
from scheldt.errors import InputError, NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import AuditEntryRow
from scheldt.store.rows import aware

GENESIS = "0" * 64
# Key of the PostgreSQL transaction-level advisory lock serialising appends: an arbitrary positive
# 64-bit constant that every writer shares and nothing else in Scheldt uses.
APPEND_LOCK_KEY = 0x5C4E_1D7A_0D17_A0D1
KIND_MAX = 32
ORGANISATION_MAX = 64
VERIFY_BATCH = 5_000
MAX_PROBLEMS_KEPT = 1_000
LIST_LIMIT_MAX = 1_000


def default_head_file(data_dir: Path) -> Path:
    """Where heads are written out by default: ``<data_dir>/audit/heads.jsonl``."""
    return data_dir / "audit" / "heads.jsonl"


def canonical_payload(payload: Mapping[str, Any]) -> bytes:
    """``payload`` as canonical JSON bytes (keys sorted, no whitespace). Raises InputError when
    it cannot be written as JSON (keys that are not strings, integers beyond 64 bits)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str)
    except orjson.JSONEncodeError as exc:
        raise InputError("audit payload", f"not writable as JSON: {exc}") from None


def payload_digest(payload: Mapping[str, Any], salt: str | None = None) -> str:
    """SHA-256 hex of ``salt`` (32 hex characters), ``|`` and the canonical JSON of ``payload``;
    of the JSON alone without ``salt`` (see the module docstring)."""
    return _salted_digest(canonical_payload(payload), salt)


def _salted_digest(canonical: bytes, salt: str | None) -> str:
    return hashlib.sha256(canonical if salt is None else salt.encode("ascii") + b"|" + canonical).hexdigest()


def canonical_time(at: datetime) -> str:
    """``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; a naive value is taken as UTC (the
    SQLite store returns its UTC times naive)."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, seq: int, at: datetime, kind: str, organisation_id: str, digest: str) -> str:
    """SHA-256 hex of ``prev_hash|seq|at|kind|organisation_id|payload_digest`` (module docstring)."""
    body = "|".join((prev_hash, str(seq), canonical_time(at), kind, organisation_id, digest))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored entry; ``payload`` is None once purged (``purged_at`` says when), times UTC."""

    seq: int
    at: datetime
    kind: str
    organisation_id: str
    payload: dict[str, Any] | None
    payload_digest: str
    prev_hash: str
    entry_hash: str
    purged_at: datetime | None
    payload_salt: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready values (times as ISO 8601 text)."""
        return {"seq": self.seq, "at": self.at.isoformat(), "kind": self.kind, "organisation_id": self.organisation_id,
                "payload": self.payload, "payload_salt": self.payload_salt, "payload_digest": self.payload_digest,
                "prev_hash": self.prev_hash, "entry_hash": self.entry_hash,
                "purged_at": self.purged_at.isoformat() if self.purged_at else None}


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest entry of the chain as written out: its ``seq`` and ``entry_hash``; ``at`` is
    when the head was taken (UTC). ``seq`` 0 with GENESIS means the log was empty."""

    seq: int
    entry_hash: str
    at: datetime

    def line(self) -> str:
        """The head as one JSON line (with the newline)."""
        return orjson.dumps({"seq": self.seq, "entry_hash": self.entry_hash, "at": canonical_time(self.at)}).decode() + "\n"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the chain, found at entry ``seq``; printed as ``entry N: why``."""

    seq: int
    why: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.why}"


@dataclass
class AuditReport:
    """What :meth:`AuditLog.verify` found.

    ``checked``: entries read; ``last_seq``: the newest entry's seq (0 when empty); ``purged``:
    entries whose payload was purged; ``head``: the head compared with the database (None when no
    head file was given or it holds no head yet); ``problems``: the first ``MAX_PROBLEMS_KEPT``
    problems in chain order (the head check last); ``problem_count``: all of them; ``notes``:
    what is not a break of the chain but wants a person's look (a purge that recorded a
    retention shorter than the one configured now), once each.
    """

    checked: int = 0
    last_seq: int = 0
    purged: int = 0
    head: ChainHead | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    torn_head_lines: list[str] = field(default_factory=list)  # "path:line" of head lines cut short, skipped
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problem_count == 0

    def add(self, seq: int, why: str) -> None:
        """Record a problem at entry ``seq`` (kept if fewer than MAX_PROBLEMS_KEPT are)."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(Problem(seq, why))


#: Entries one :meth:`AuditLog.search` call reads at most (it says where to go on).
SEARCH_SCAN_MAX = 100_000



def _check_label(where: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise InputError(where, f"{value[:40]!r}... is longer than {limit} characters")
    if "|" in value:
        raise InputError(where, f"{value!r} contains '|', the hash's field separator")


_TABLE = AuditEntryRow.__table__
_COLUMNS = (AuditEntryRow.seq, AuditEntryRow.at, AuditEntryRow.kind, AuditEntryRow.organisation_id,
            AuditEntryRow.payload, AuditEntryRow.payload_digest, AuditEntryRow.prev_hash, AuditEntryRow.entry_hash,
            AuditEntryRow.purged_at, AuditEntryRow.payload_salt)


# One append on PostgreSQL: the head (or genesis), the next seq, and entry_hash exactly as
# entry_hash() computes it (prev_hash|seq|at|kind|organisation_id|payload_digest, SHA-256 hex of UTF-8).
_PG_APPEND = """
WITH last AS (SELECT seq, entry_hash FROM audit_entry ORDER BY seq DESC LIMIT 1),
head AS (SELECT coalesce((SELECT seq FROM last), 0) + 1 AS seq,
                coalesce((SELECT entry_hash FROM last), %(genesis)s::text) AS prev)
INSERT INTO audit_entry (seq, at, kind, organisation_id, payload, payload_salt, payload_digest, prev_hash,
                         entry_hash)
SELECT head.seq, %(at)s, %(kind)s::text, %(organisation_id)s::text, %(payload)s::json, %(salt)s::text,
       %(digest)s::text, head.prev,
       encode(sha256(convert_to(head.prev || '|' || head.seq::text || '|' || %(at_text)s::text || '|' || %(kind)s::text
                                || '|' || %(organisation_id)s::text || '|' || %(digest)s::text, 'UTF8')), 'hex')
FROM head
RETURNING seq
"""


@contextmanager
def _as_dbapi_error(statement: str) -> Iterator[None]:
    """Raise an error of the driver itself (the pipelined append uses psycopg directly) as
    SQLAlchemy wraps it, so the unit of work turns a lost connection into StoreUnavailable as it
    does for every other statement, not into an unexplained HTTP 500."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.seq, aware(row.at), row.kind, row.organisation_id, row.payload, row.payload_digest,
                      row.prev_hash, row.entry_hash, None if row.purged_at is None else aware(row.purged_at),
                      row.payload_salt)


@dataclass(frozen=True)
class _Entry:
    """One checked entry to append: its labels, time (aware), canonical payload, its salt and
    digest."""

    kind: str
    organisation_id: str
    at: datetime
    canonical: bytes
    salt: str
    digest: str


def _checked(kind: str, organisation_id: str, payload: Mapping[str, Any], at: datetime) -> _Entry:
    if at.tzinfo is None:
        raise InputError("audit entry at", f"{at.isoformat()} has no time zone; give UTC")
    _check_label("audit entry kind", kind, KIND_MAX)
    if kind not in AUDIT_KINDS:
        raise InputError("audit entry kind", f"{kind!r} is not an audit kind ({', '.join(AUDIT_KINDS)})")
    _check_label("audit entry organisation_id", organisation_id, ORGANISATION_MAX)
    if not isinstance(payload, Mapping):
        raise InputError("audit payload", f"a JSON object is needed, not {type(payload).__name__}")
    canonical = canonical_payload(payload)
    salt = secrets.token_hex(16)
    return _Entry(kind, organisation_id, aware(at), canonical, salt, _salted_digest(canonical, salt))


def _pipelined(session: Session) -> bool:
    """Whether appends go as one psycopg pipeline (PostgreSQL through psycopg)."""
    bind = session.get_bind()
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg"


class AuditLog:
    """The audit log over one session (commits only in :meth:`append_and_commit`; otherwise the
    caller's unit of work does)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- writing ---------------------------------------------------------------------------------

    def append(self, kind: str, organisation_id: str, payload: Mapping[str, Any], at: datetime) -> int:
        """Append one entry and return its seq (1 for the first entry).

        ``kind``: one of :data:`scheldt.domain.audit.AUDIT_KINDS` (``read``, ``write``,
        ``sign-in``...); ``organisation_id``: the acting organisation (at most 64 characters, may be
        empty); ``payload``: see :func:`audit_payload`; ``at``: timezone-aware time of the act.
        Safe with concurrent writers: on PostgreSQL a transaction-level advisory lock is held from
        reading the head until the caller's transaction ends; on SQLite the database write lock is
        taken first. Either way other appenders wait until this transaction commits: append as the
        last step of a unit of work to keep that wait short, or use :meth:`append_and_commit`.
        Raises InputError for a naive ``at``, an unknown kind, a label too long or containing
        ``|``, or a payload that is not a JSON object.
        """
        entry = _checked(kind, organisation_id, payload, at)
        if _pipelined(self.session):
            return self._append_postgresql([entry], commit=False)[0]
        return self._append_generic(entry)

    def append_and_commit(self, entries: Sequence[tuple[str, str, Mapping[str, Any]]], at: datetime) -> list[int]:
        """Append ``entries`` ((kind, organisation_id, payload) each, as :meth:`append` takes
        them) as the last act of the unit of work, commit its transaction, and return their seqs.

        On PostgreSQL (psycopg) the lock, the INSERTs and the COMMIT go to the server as one
        pipeline, so the append lock is held only while the server inserts and commits, never
        across a client round trip: with the commit sent apart, eight concurrent TAXII readers
        waited 6.9 ms a request on average for this lock (pg_stat_statements, issue 6's
        ``benchmarks/taxii_load.py``), since each holder kept it through its own Python time and
        the commit's round trip. Nothing may be written in the session afterwards (the unit of
        work's own commit then has nothing left to do). With no entries, nothing is done. Raises
        what :meth:`append` raises, before anything is sent.
        """
        checked = [_checked(kind, organisation_id, payload, at) for kind, organisation_id, payload in entries]
        if not checked:
            return []
        if _pipelined(self.session):
            return self._append_postgresql(checked, commit=True)
        seqs = [self._append_generic(entry) for entry in checked]
        self.session.commit()
        return seqs

    def _append_generic(self, entry: _Entry) -> int:
        self._lock_for_append()
        last = self.session.execute(select(AuditEntryRow.seq, AuditEntryRow.entry_hash)
                                    .order_by(AuditEntryRow.seq.desc()).limit(1)).first()
        seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.entry_hash)
        self.session.execute(insert(AuditEntryRow).values(
            seq=seq, at=entry.at, kind=entry.kind, organisation_id=entry.organisation_id,
            payload=orjson.loads(entry.canonical), payload_salt=entry.salt, payload_digest=entry.digest, prev_hash=prev,
            entry_hash=entry_hash(prev, seq, entry.at, entry.kind, entry.organisation_id, entry.digest)))
        return seq

    def _append_postgresql(self, entries: list[_Entry], commit: bool) -> list[int]:
        """:meth:`append` on PostgreSQL (psycopg) in one round trip: the advisory lock and an
        INSERT per entry that reads the head and computes ``entry_hash`` in SQL
        (:data:`_PG_APPEND`), and with ``commit`` the COMMIT, are sent together as a pipeline.
        PostgreSQL runs them in order, and each INSERT's snapshot is taken after the lock is
        granted, so it sees every entry committed before (and the ones before it in this
        transaction); the lock is then held only while the server inserts (and commits), with no
        client round trip in between, which keeps appenders from queueing behind each other's
        network and Python time. Stores exactly what the generic path stores (payload as its
        canonical JSON)."""
        self.session.flush()  # pending ORM writes go first, as an autoflush would, not under the lock
        connection = self.session.connection().connection.driver_connection
        with _as_dbapi_error("audit append"), connection.pipeline():
            connection.execute("SELECT pg_advisory_xact_lock(%(key)s)", {"key": APPEND_LOCK_KEY})
            cursors = [connection.execute(_PG_APPEND, {
                "at": e.at, "at_text": canonical_time(e.at), "kind": e.kind, "organisation_id": e.organisation_id,
                "payload": e.canonical.decode(), "salt": e.salt, "digest": e.digest, "genesis": GENESIS})
                for e in entries]
            if commit:
                connection.execute("COMMIT")
        return [int(cursor.fetchone()[0]) for cursor in cursors]

    def _lock_for_append(self) -> None:
        """Serialise appenders from here until the transaction ends, so two cannot take one seq
        (on SQLite the head read next is then the newest committed one)."""
        take_write_lock(self.session, APPEND_LOCK_KEY, _TABLE)

    def purge(self, retention: Mapping[str, timedelta], now: datetime, actor: str, organisation: str,
              action: str) -> tuple[int, int]:
        """Drop the payload of entries older than the retention of their kind and record the
        purge as an entry of kind ``purge`` at ``now`` (who, and how many it emptied: verify
        checks every purged payload against it); return (entries purged, seq of the record).

        ``retention``: kind -> how long its payloads are kept (kinds not named are kept for
        ever); an entry is purged when ``at < now - retention[kind]``. Sets ``payload`` to SQL NULL
        and ``purged_at`` to ``now``; already purged entries are left alone. Raises InputError for
        a negative retention or a naive ``now``.
        """
        purged = self._purge(retention, now)
        days = {kind: keep.days for kind, keep in sorted(retention.items())}
        seq = self.append("purge", organisation, audit_payload(actor, organisation, action, "audit", "", "local",
                                                               {"purged": purged, "retention_days": days}), now)
        return purged, seq

    def _purge(self, retention: Mapping[str, timedelta], now: datetime) -> int:
        if now.tzinfo is None:
            raise InputError("audit purge now", f"{now.isoformat()} has no time zone; give UTC")
        purged = 0
        for kind, keep in sorted(retention.items()):
            if kind == "purge":  # kept for ever: each records the retention verify judges its purge by
                continue
            if keep < timedelta(0):
                raise InputError(f"audit retention {kind}", f"{keep} is negative")
            result = self.session.execute(
                update(_TABLE).where(_TABLE.c.kind == kind, _TABLE.c.at < aware(now) - keep,
                                     _TABLE.c.purged_at.is_(None))
                .values(payload=null(), payload_salt=null(), purged_at=aware(now)))
            purged += result.rowcount or 0  # type: ignore[attr-defined]
        return purged

    def write_head(self, path: Path, at: datetime) -> ChainHead:
        """Append the current head (newest committed entry, or seq 0 for an empty log) as one JSON
        line to ``path`` (created with its folder) and fsync it; return it.

        ``at``: when the head is taken (UTC). Call it from a unit of work without appends of its
        own: a head naming an entry that is then rolled back would later read as truncation.
        Raises InputError when the file cannot be written.
        """
        current = self.head()
        head = ChainHead(current.seq, current.entry_hash, aware(at)) if current else ChainHead(0, GENESIS, aware(at))
        self._refuse_going_back(path, head)
        try:
            new_file = not path.exists()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a+", encoding="utf-8") as fh:
                if fh.tell() > 0:  # after a write torn by a crash, begin a line of its own
                    fh.seek(fh.tell() - 1)
                    if fh.read(1) != "\n":
                        fh.write("\n")
                fh.write(head.line())
                fh.flush()
                os.fsync(fh.fileno())
            if new_file:
                _fsync_dir(path.parent)
        except OSError as exc:
            raise InputError(str(path), f"cannot write the audit head: {exc.strerror}") from None
        return head

    def _refuse_going_back(self, path: Path, head: ChainHead) -> None:
        """Raise InputError when the last head written to ``path`` names an entry the chain no
        longer holds as written: a head written now would hide that deletion from a check of the
        latest head (an operator review deleted the newest entry, the server's next head named
        the one before, and verify said "chain intact")."""
        if not path.exists():
            return
        last = read_latest_head(path)
        if last is None or last.seq == 0:
            return
        stored = self.session.scalar(select(AuditEntryRow.entry_hash).where(AuditEntryRow.seq == last.seq))
        if stored == last.entry_hash:
            return
        what = (f"the chain ends at entry {head.seq}" if head.seq < last.seq
                else f"entry {last.seq} is {'gone' if stored is None else 'not as it was'}")
        raise InputError(str(path), f"{what}, but the last head written here ({canonical_time(last.at)}) names entry "
                         f"{last.seq}: the log was cut or rewritten since (see `scheldt audit verify`). No head is "
                         "written, so that stays visible; after restoring the store from a backup, move this file "
                         "aside (keep it) and write a new one")

    # -- reading ---------------------------------------------------------------------------------

    def failed_sign_ins_from(self, remote_addr: str, since: datetime) -> list[datetime]:
        """When the refused password sign-ins (``sign-in-failed`` entries naming no credential)
        from ``remote_addr`` at or after ``since`` happened, oldest first."""
        rows = self.session.scalars(
            select(AuditEntryRow.at).where(
                AuditEntryRow.kind == "sign-in-failed", AuditEntryRow.at >= since,
                AuditEntryRow.payload["remote_addr"].as_string() == remote_addr,
                AuditEntryRow.payload["object_kind"].as_string() == "user")
            .order_by(AuditEntryRow.at))
        return [aware(at) for at in rows]

    def head(self) -> ChainHead | None:
        """The newest entry as a ChainHead (``at`` is that entry's time), or None for an empty log."""
        row = self.session.execute(select(AuditEntryRow.seq, AuditEntryRow.entry_hash, AuditEntryRow.at)
                                   .order_by(AuditEntryRow.seq.desc()).limit(1)).first()
        return None if row is None else ChainHead(row.seq, row.entry_hash, aware(row.at))

    def count(self) -> int:
        """How many entries are stored."""
        return int(self.session.scalar(select(func.count()).select_from(AuditEntryRow)) or 0)

    def entries(self, after_seq: int = 0, limit: int = 100, organisation_id: str | None = None) -> list[AuditEntry]:
        """Up to ``limit`` (1..1000) entries with seq > ``after_seq``, oldest first, optionally of
        one organisation; page on with the last seq returned. Raises InputError for a bad limit."""
        if not 1 <= limit <= LIST_LIMIT_MAX:
            raise InputError("limit", f"{limit} is outside 1..{LIST_LIMIT_MAX}")
        query = select(*_COLUMNS).where(AuditEntryRow.seq > after_seq)
        if organisation_id is not None:
            query = query.where(AuditEntryRow.organisation_id == organisation_id)
        return [_entry(r) for r in self.session.execute(query.order_by(AuditEntryRow.seq).limit(limit))]

    def search(self, query: AuditQuery, after_seq: int = 0, limit: int = 100,
               scan: int = SEARCH_SCAN_MAX) -> tuple[list[AuditEntry], int | None]:
        """Up to ``limit`` (1..1000) entries matching ``query`` with seq > ``after_seq``, oldest
        first, and the seq to go on after (None when the log was read to its end). Kind,
        organisation and time are filtered in SQL; actor and text in Python over at most
        ``scan`` entries per call, so one call stays bounded on a log of millions. Raises
        InputError for a bad limit."""
        if not 1 <= limit <= LIST_LIMIT_MAX:
            raise InputError("limit", f"{limit} is outside 1..{LIST_LIMIT_MAX}")
        stmt = select(*_COLUMNS)
        if query.kind:
            stmt = stmt.where(AuditEntryRow.kind == query.kind)
        if query.organisation:
            stmt = stmt.where(AuditEntryRow.organisation_id == query.organisation)
        if query.since is not None:
            stmt = stmt.where(AuditEntryRow.at >= aware(query.since))
        if query.until is not None:
            stmt = stmt.where(AuditEntryRow.at < aware(query.until))
        found: list[AuditEntry] = []
        after, read = after_seq, 0
        while read < scan:
            rows = [_entry(r) for r in self.session.execute(
                stmt.where(AuditEntryRow.seq > after).order_by(AuditEntryRow.seq).limit(min(1000, scan - read)))]
            if not rows:
                return found, None
            for entry in rows:
                read += 1
                after = entry.seq
                if query.matches_payload(entry.payload):
                    found.append(entry)
                    if len(found) == limit:
                        return found, after
        return found, after

    def _recorded_retention(self) -> dict[datetime, dict[str, int]]:
        """The retention (kind -> days) each purge recorded, by the purge's time (UTC); purges
        whose payload was itself purged, or that recorded none, are left out."""
        out: dict[datetime, dict[str, int]] = {}
        rows = self.session.execute(
            select(AuditEntryRow.at, AuditEntryRow.payload).where(AuditEntryRow.kind == "purge"))
        for at, payload in rows:
            days = ((payload or {}).get("details") or {}).get("retention_days") if isinstance(payload, dict) else None
            if isinstance(days, dict):
                out[aware(at)] = {k: v for k, v in days.items() if isinstance(v, int) and not isinstance(v, bool)}
        return out

    def _stream(self, batch: int) -> Iterator[AuditEntry]:
        """Every entry, oldest first, read ``batch`` at a time (keyset paging on seq)."""
        after = None
        while True:
            query = select(*_COLUMNS).order_by(AuditEntryRow.seq).limit(batch)
            if after is not None:
                query = query.where(AuditEntryRow.seq > after)
            rows = [_entry(r) for r in self.session.execute(query)]
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq

    # -- verifying -------------------------------------------------------------------------------

    def verify(self, head_file: Path | None = None, retention: Mapping[str, timedelta] | None = None,
               batch: int = VERIFY_BATCH) -> AuditReport:
        """Check the whole chain, reading ``batch`` entries at a time; return what was found.

        Per entry: the payload (when not purged) matches ``payload_digest``; ``entry_hash`` matches
        the entry's content; ``prev_hash`` is the previous entry's hash (GENESIS for entry 1); no
        seq is missing. With ``head_file``, every head written out must name an entry that exists
        with that hash, and no head may name an earlier entry than a head before it. With
        ``retention`` (as for :meth:`purge`), a payload purged before its kind's retention ended
        is reported too. Raises NotFoundError when ``head_file`` does not
        exist and InputError when a line of it is not a head.
        """
        heads, torn = read_head_lines(head_file) if head_file is not None else ([], [])
        report = AuditReport(head=heads[-1] if heads else None, torn_head_lines=torn)
        named = {h.seq for h in heads if h.seq}
        hashes: dict[int, str] = {}  # seq named by a head -> that entry's hash in the database
        prev: AuditEntry | None = None
        purges = _Purges()
        recorded = self._recorded_retention() if retention is not None else {}
        for entry in self._stream(batch):
            report.checked += 1
            _check_entry(entry, prev, report, retention, recorded)
            purges.see(entry)
            if entry.seq in named:
                hashes[entry.seq] = entry.entry_hash
            prev = entry
        report.last_seq = prev.seq if prev else 0
        purges.check(report, datetime.now(UTC))
        _check_heads(heads, hashes, report)
        return report


class _Purges:
    """The purges the chain records (entries of kind ``purge``, each with the count it purged)
    against the purged entries found: an oversight review emptied entries and dated them as
    purged 401 days on, and verify said "chain intact". A payload is purged only by a purge
    that is recorded, at its very time, with its count, and never after now."""

    def __init__(self) -> None:
        self.recorded: dict[datetime, tuple[int, int | None]] = {}  # purge time -> (seq, count said)
        self.purged: dict[datetime, list[int]] = {}  # purge time -> seqs of the entries it emptied

    def see(self, entry: AuditEntry) -> None:
        if entry.kind == "purge":
            count = (entry.payload or {}).get("details", {}).get("purged") if entry.payload else None
            self.recorded[entry.at] = (entry.seq, count if isinstance(count, int) else None)
        if entry.payload is None and entry.purged_at is not None:
            self.purged.setdefault(entry.purged_at, []).append(entry.seq)

    def check(self, report: AuditReport, now: datetime) -> None:
        for at, seqs in sorted(self.purged.items()):
            when = canonical_time(at)
            if at > now:
                for seq in seqs:
                    report.add(seq, f"payload purged at {when}, which is in the future (tampered?)")
            elif at not in self.recorded:
                for seq in seqs:
                    report.add(seq, f"payload purged at {when}, but no purge entry records a purge then (tampered?)")
            elif (said := self.recorded[at][1]) is not None and said != len(seqs):
                report.add(self.recorded[at][0], f"this purge says it emptied {said} entries, but {len(seqs)} carry "
                                                 f"its time {when} (tampered?)")


def _check_entry(entry: AuditEntry, prev: AuditEntry | None, report: AuditReport,
                 retention: Mapping[str, timedelta] | None, recorded: Mapping[datetime, Mapping[str, int]]) -> None:
    """Add to ``report`` what is wrong with ``entry`` given the entry read before it."""
    expected_seq = 1 if prev is None else prev.seq + 1
    if entry.seq > expected_seq:
        before = "the start" if prev is None else f"entry {prev.seq}"
        missing = f"entry {expected_seq} is" if entry.seq == expected_seq + 1 else f"entries {expected_seq}..{entry.seq - 1} are"
        report.add(expected_seq, f"missing: {missing} gone between {before} and entry {entry.seq} (deleted?)")
    elif prev is None and entry.prev_hash != GENESIS:
        report.add(entry.seq, "the first entry's prev_hash is not the genesis hash (entries before it deleted?)")
    elif prev is not None and entry.prev_hash != prev.entry_hash:
        report.add(entry.seq, f"prev_hash does not match entry {prev.seq} (deleted or reordered?)")
    if entry.payload is not None:
        if payload_digest(entry.payload, entry.payload_salt) != entry.payload_digest:
            report.add(entry.seq, "payload does not match its digest (edited?)")
    elif entry.purged_at is None:
        report.add(entry.seq, "payload is missing but the entry was never purged (deleted?)")
    else:
        report.purged += 1
        _check_purge(entry, report, retention, recorded)
    if entry_hash(entry.prev_hash, entry.seq, entry.at, entry.kind, entry.organisation_id,
                  entry.payload_digest) != entry.entry_hash:
        report.add(entry.seq, "hash does not match its content (edited?)")


def _check_purge(entry: AuditEntry, report: AuditReport, retention: Mapping[str, timedelta] | None,
                 recorded: Mapping[datetime, Mapping[str, int]]) -> None:
    """Report a purge that came before the retention of the entry's kind ended: the retention
    the purge recorded (an operator review lengthened a retention, and every earlier lawful
    purge read as tampering), else, for a purge that recorded none, ``retention``."""
    if retention is None or entry.purged_at is None:
        return
    said = recorded.get(entry.purged_at)
    if said is not None:
        days = said.get(entry.kind)
        if days is None:
            report.add(entry.seq, f"payload purged by the purge at {canonical_time(entry.purged_at)}, which recorded "
                                  f"no retention for kind {entry.kind!r} (tampered?)")
        elif entry.purged_at - entry.at < timedelta(days=days):
            report.add(entry.seq, f"payload purged {(entry.purged_at - entry.at).days} days after the entry, before "
                                  f"the {days}-day retention its purge recorded ended (tampered?)")
        elif (keep := retention.get(entry.kind)) is not None and entry.purged_at - entry.at < keep:
            _note_short_purge(report, entry, entry.purged_at, days, keep)
        return
    keep = retention.get(entry.kind)
    if keep is None:
        report.add(entry.seq, f"payload purged but kind {entry.kind!r} has no retention period (tampered?)")
    elif entry.purged_at - entry.at < keep:
        report.add(entry.seq, f"payload purged {(entry.purged_at - entry.at).days} days after the entry, "
                              f"before its {keep.days}-day retention ended (tampered?)")


def _note_short_purge(report: AuditReport, entry: AuditEntry, purged_at: datetime, days: int, keep: timedelta) -> None:
    """Note (once per purge and kind) that the purge at ``purged_at`` of ``entry`` recorded a
    retention of ``days`` for its kind, shorter than ``keep`` configured now, and emptied
    entries the configured one keeps. Not a break of the chain: a retention shortened, then
    lengthened again, leaves the same trace. An audit review appended a forged purge record (an
    unkeyed chain lets anyone who can write to the database append), "1 day" for reads,
    emptying a 5-day-old read covered by a head; verify said "intact" and nothing else."""
    said = f"the purge at {canonical_time(purged_at)} recorded a {days}-day retention for kind {entry.kind!r}"
    if not any(n.startswith(said) for n in report.notes):
        report.notes.append(f"{said}, shorter than the {keep.days} days configured now, and emptied entries the "
                            f"configured retention keeps (entry {entry.seq} the first): confirm the retention was "
                            f"{days} days then (a purge record appended by someone who can write to the database "
                            "looks the same)")


def _check_heads(heads: list[ChainHead], hashes: Mapping[int, str], report: AuditReport) -> None:
    """Compare every head written out (oldest first) with the entry of its seq in the database
    (``hashes``: seq -> entry hash, for the seqs the heads name), each seq once: not only the
    latest head, which a head written after a deletion moved back (operator review)."""
    done: set[int] = set()
    highest: ChainHead | None = None
    for head in heads:
        if highest is not None and head.seq < highest.seq and head.seq not in done:
            report.add(head.seq, f"the head written out at {canonical_time(head.at)} names this entry, after the one "
                                 f"written at {canonical_time(highest.at)} named entry {highest.seq} (cut, then a "
                                 "head written?)")
        if highest is None or head.seq > highest.seq:
            highest = head
        if head.seq == 0 or head.seq in done:
            continue
        done.add(head.seq)
        _check_head(head, hashes.get(head.seq), report)


def _check_head(head: ChainHead, stored_hash: str | None, report: AuditReport) -> None:
    """Compare one head written out with the hash of the entry of that seq in the database."""
    when = canonical_time(head.at)
    if stored_hash is None:
        if report.last_seq < head.seq:
            report.add(head.seq, f"the chain ends at entry {report.last_seq} but the head written out at {when} "
                                 f"is entry {head.seq} (truncated?)")
        else:
            report.add(head.seq, f"missing, but the head written out at {when} names it (deleted?)")
    elif stored_hash != head.entry_hash:
        report.add(head.seq, f"hash differs from the head written out at {when} (edited or rewritten?)")


#: Bytes read from the end of a head file for its last head (a line is about 130).
_TAIL_BYTES = 64 * 1024


def read_latest_head(path: Path) -> ChainHead | None:
    """The last head line of ``path``, read from the file's end (None when it holds none): the
    file grows by a line every few minutes for years, and reading it whole before each write
    grew with it. Lines cut short are skipped as :func:`read_head_lines` skips them; raises as
    it does."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - _TAIL_BYTES))
            lines = fh.read().splitlines()
    except FileNotFoundError:
        raise NotFoundError(str(path), "no audit head file here (written by `scheldt audit head`)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the audit head file: {exc.strerror}") from None
    if size > _TAIL_BYTES:
        lines = lines[1:]  # the first may begin mid-line
    for raw in reversed(lines):
        if not raw.strip():
            continue
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        return _parse_head(raw, f"{path}: its last head line")
    return read_heads(path)[0] if size > _TAIL_BYTES else None


def read_heads(path: Path) -> tuple[ChainHead | None, list[str]]:
    """The last head line of ``path`` (None when the file holds none) and the torn lines, as
    :func:`read_head_lines` reads them."""
    heads, torn = read_head_lines(path)
    return (heads[-1] if heads else None), torn


def read_head_lines(path: Path) -> tuple[list[ChainHead], list[str]]:
    """Every head line of ``path``, in file order, and where lines cut short lie
    (``path:line``): a line that is not JSON at all is a write torn by a crash or a full disk
    and is skipped (an operator review found one such line stopped every later check). Raises
    NotFoundError when the file does not exist and InputError (``path:line``) when a JSON line
    is not ``{"seq": int >= 0, "entry_hash": 64 hex, "at": ISO time}``."""
    heads: list[ChainHead] = []
    torn: list[str] = []
    try:
        with path.open("rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    orjson.loads(raw)
                except orjson.JSONDecodeError:
                    torn.append(f"{path}:{number}")
                    continue
                heads.append(_parse_head(raw, f"{path}:{number}"))
    except FileNotFoundError:
        raise NotFoundError(str(path), "no audit head file here (written by `scheldt audit head`)") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the audit head file: {exc.strerror}") from None
    return heads, torn


def _parse_head(raw: bytes, where: str) -> ChainHead:
    try:
        data = orjson.loads(raw)
        seq, digest, at = data["seq"], data["entry_hash"], datetime.fromisoformat(data["at"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputError(where, f"not an audit head line ({type(exc).__name__}: {exc})") from None
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise InputError(where, f"seq {seq!r} is not a whole number >= 0")
    if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
        raise InputError(where, f"entry_hash {digest!r} is not 64 lower-case hex digits")
    return ChainHead(seq, digest, aware(at))


def _fsync_dir(folder: Path) -> None:
    """Make a new file's directory entry durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
