"""The audit log: hash chain, truncation caught by written-out heads, edits and deletions named by
seq, purging that keeps the chain verifiable, concurrent appenders (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, DateTime, Engine, bindparam, delete, text, update
from sqlalchemy.orm import Session

from scheldt.errors import InputError, NotFoundError
from scheldt.store.audit import (
    GENESIS,
    AuditLog,
    ChainHead,
    Problem,
    audit_payload,
    canonical_time,
    default_head_file,
    entry_hash,
    payload_digest,
    read_heads,
    read_latest_head,
)
from scheldt.store.db import unit_of_work
from scheldt.store.models import AuditEntryRow

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KINDS = ("read", "read", "write", "sign-in", "read", "export")
TABLE = AuditEntryRow.__table__


def payload_for(i: int) -> dict[str, Any]:
    return audit_payload(f"officer{i % 3}", f"org-{i % 2}", f"GET /api/v1/trips/{i}", "trip", str(i),
                         f"10.0.0.{i % 250}", {"fields": ["seal", "route"], "n": i})


def fill(engine: Engine, n: int, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> list[int]:
    """Append n entries (kinds cycling through KINDS) one minute apart; return their seqs."""
    seqs = []
    with unit_of_work(engine) as uow:
        base = uow.audit.count()
        for i in range(base, base + n):
            seqs.append(uow.audit.append(KINDS[i % len(KINDS)], f"org-{i % 2}", payload_for(i), start + i * step))
    return seqs


def verify(engine: Engine, head_file: Path | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    with unit_of_work(engine) as uow:
        return uow.audit.verify(head_file, **kw)


def raw(engine: Engine, sql: str, **params: Any) -> int:
    """Run one tampering statement outside the audit log; return the rows it touched."""
    stmt = text(sql)
    for name, value in params.items():  # typed as the columns are, so each dialect stores them its way
        if isinstance(value, dict):
            stmt = stmt.bindparams(bindparam(name, type_=JSON))
        elif isinstance(value, datetime):
            stmt = stmt.bindparams(bindparam(name, type_=DateTime(timezone=True)))
    with engine.begin() as conn:
        return conn.execute(stmt, params).rowcount


def test_appends_chain_entries_in_the_documented_canonical_form(engine: Engine) -> None:
    assert fill(engine, 30) == list(range(1, 31))
    with unit_of_work(engine) as uow:
        first, second = uow.audit.entries(0, 2)
    salt = first.payload_salt or ""
    digest = hashlib.sha256(salt.encode() + b"|" + orjson.dumps(payload_for(0), option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert len(salt) == 32 and int(salt, 16) >= 0 and salt != second.payload_salt
    assert (first.seq, first.kind, first.organisation_id, first.at, first.payload) == (1, "read", "org-0", T0, payload_for(0))
    assert first.payload_digest == digest and first.prev_hash == GENESIS
    text_form = f"{GENESIS}|1|2026-03-02T08:00:00.000000+00:00|read|org-0|{digest}"
    assert first.entry_hash == hashlib.sha256(text_form.encode()).hexdigest()
    assert second.prev_hash == first.entry_hash and second.at == T0 + timedelta(minutes=1)
    report = verify(engine)
    assert (report.ok, report.checked, report.last_seq, report.purged, report.problems) == (True, 30, 30, 0, [])
    assert verify(engine, batch=7).checked == 30  # keyset paging across batch boundaries


def test_listing_pages_and_filters_by_organisation(engine: Engine) -> None:
    fill(engine, 12)
    with unit_of_work(engine) as uow:
        assert [e.seq for e in uow.audit.entries(after_seq=4, limit=3)] == [5, 6, 7]
        assert [e.seq for e in uow.audit.entries(0, 100, organisation_id="org-1")] == [2, 4, 6, 8, 10, 12]
        assert uow.audit.entries(12, 10) == []
        head = uow.audit.head()
        assert head is not None and (head.seq, head.at) == (12, T0 + timedelta(minutes=11))
        with pytest.raises(InputError, match="outside 1..1000"):
            uow.audit.entries(0, 0)


def test_head_file_catches_deletion_of_the_newest_entries(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 45)
    heads = tmp_path / "audit" / "heads.jsonl"
    with unit_of_work(engine) as uow:
        written = uow.audit.write_head(heads, T0 + timedelta(hours=1))
        last = uow.audit.entries(44, 1)[0]
    assert json.loads(heads.read_text()) == {"seq": 45, "entry_hash": last.entry_hash,
                                             "at": "2026-03-02T09:00:00.000000+00:00"}
    assert (written.seq, written.entry_hash) == (45, last.entry_hash)
    assert verify(engine, heads).ok
    assert raw(engine, "DELETE FROM audit_entry WHERE seq > 40") == 5
    assert verify(engine).ok  # without a head, a shorter chain is still a consistent chain
    report = verify(engine, heads)
    assert not report.ok and report.last_seq == 40 and report.head == written
    assert [str(p) for p in report.problems] == [
        "entry 45: the chain ends at entry 40 but the head written out at 2026-03-02T09:00:00.000000+00:00 "
        "is entry 45 (truncated?)"]


def test_every_head_line_is_checked(engine: Engine, tmp_path: Path) -> None:
    heads = tmp_path / "heads.jsonl"
    with unit_of_work(engine) as uow:
        empty = uow.audit.write_head(heads, T0)
    assert (empty.seq, empty.entry_hash) == (0, GENESIS)
    assert verify(engine, heads).ok  # an empty log matches its empty head
    fill(engine, 5)
    with unit_of_work(engine) as uow:
        uow.audit.write_head(heads, T0 + timedelta(minutes=10))
    assert [json.loads(line)["seq"] for line in heads.read_text().splitlines()] == [0, 5]
    assert read_latest_head(heads).seq == 5  # type: ignore[union-attr]
    long = tmp_path / "long.jsonl"  # a file of years of heads is read from its end
    long.write_text("".join(ChainHead(n, "a" * 64, T0).line() for n in range(1, 2001)) + '{"seq": 20')
    assert long.stat().st_size > 128 * 1024
    assert read_latest_head(long) == read_heads(long)[0] == ChainHead(2000, "a" * 64, T0)
    raw(engine, "DELETE FROM audit_entry WHERE seq = 5")
    assert [p.seq for p in verify(engine, heads).problems] == [5]


def test_a_head_written_after_a_deletion_hides_nothing(engine: Engine, tmp_path: Path) -> None:
    """An operator review deleted the newest entry, then the server's next head named the entry
    before it, and verify (which read the latest head only) said "chain intact". A head is now
    not written over a cut chain, and verify checks every head line, and that none goes back."""
    fill(engine, 6)
    heads = tmp_path / "heads.jsonl"
    with unit_of_work(engine) as uow:
        uow.audit.write_head(heads, T0 + timedelta(hours=1))
    raw(engine, "DELETE FROM audit_entry WHERE seq = 6")
    with unit_of_work(engine) as uow, pytest.raises(InputError) as refused:
        uow.audit.write_head(heads, T0 + timedelta(hours=2))
    assert refused.value.where == str(heads) and refused.value.why.startswith(
        "the chain ends at entry 5, but the last head written here (2026-03-02T09:00:00.000000+00:00) names entry 6: "
        "the log was cut or rewritten since")
    assert [json.loads(line)["seq"] for line in heads.read_text().splitlines()] == [6]
    fill(engine, 1, start=T0 + timedelta(hours=3))  # a new entry 6: not the one the head named
    with unit_of_work(engine) as uow, pytest.raises(InputError, match="entry 6 is not as it was, but the last head"):
        uow.audit.write_head(heads, T0 + timedelta(hours=4))
    raw(engine, "DELETE FROM audit_entry WHERE seq = 6")
    with unit_of_work(engine) as uow:  # a head line written anyway (an older version, or by hand)
        entry5 = uow.audit.entries(4, 1)[0]
    with heads.open("a") as fh:
        fh.write(json.dumps({"seq": 5, "entry_hash": entry5.entry_hash, "at": "2026-03-02T10:00:00.000000+00:00"}) + "\n")
    assert [str(p) for p in verify(engine, heads).problems] == [
        "entry 6: the chain ends at entry 5 but the head written out at 2026-03-02T09:00:00.000000+00:00 is entry 6 "
        "(truncated?)",
        "entry 5: the head written out at 2026-03-02T10:00:00.000000+00:00 names this entry, after the one written "
        "at 2026-03-02T09:00:00.000000+00:00 named entry 6 (cut, then a head written?)"]


def test_edited_payload_in_the_middle_is_named(engine: Engine) -> None:
    fill(engine, 30)
    forged = payload_for(17) | {"actor": "someone-else"}
    assert raw(engine, "UPDATE audit_entry SET payload = :payload WHERE seq = 17", payload=forged) == 1
    assert [str(p) for p in verify(engine).problems] == ["entry 17: payload does not match its digest (edited?)"]
    # Forging the digest too (with the entry's own salt) moves the mismatch into the entry's hash.
    with unit_of_work(engine) as uow:
        salt = uow.audit.entries(16, 1)[0].payload_salt
    raw(engine, "UPDATE audit_entry SET payload_digest = :d WHERE seq = 17", d=payload_digest(forged, salt))
    assert [str(p) for p in verify(engine).problems] == ["entry 17: hash does not match its content (edited?)"]


@pytest.mark.parametrize(("column", "value"), [
    ("kind", "write"),
    ("organisation_id", "org-9"),
    ("at", datetime(2026, 3, 2, 8, 17, 0, 1, tzinfo=UTC)),  # one microsecond later
])
def test_edited_columns_break_the_entry_hash(engine: Engine, column: str, value: object) -> None:
    fill(engine, 30)
    raw(engine, f"UPDATE audit_entry SET {column} = :v WHERE seq = 18", v=value)
    report = verify(engine)
    assert report.problems == [Problem(18, "hash does not match its content (edited?)")]


def test_deleted_or_relinked_entries_are_named(engine: Engine) -> None:
    fill(engine, 30)
    raw(engine, "DELETE FROM audit_entry WHERE seq IN (17, 20, 21)")
    assert [str(p) for p in verify(engine).problems] == [
        "entry 17: missing: entry 17 is gone between entry 16 and entry 18 (deleted?)",
        "entry 20: missing: entries 20..21 are gone between entry 19 and entry 22 (deleted?)"]
    raw(engine, "UPDATE audit_entry SET entry_hash = :h WHERE seq = 24", h="ab" * 32)
    assert [str(p) for p in verify(engine).problems][2:] == [
        "entry 24: hash does not match its content (edited?)",
        "entry 25: prev_hash does not match entry 24 (deleted or reordered?)"]
    raw(engine, "DELETE FROM audit_entry WHERE seq < 3")
    assert str(verify(engine).problems[0]) == "entry 1: missing: entries 1..2 are gone between the start and entry 3 (deleted?)"


def test_a_rewritten_chain_is_caught_by_the_head(engine: Engine, tmp_path: Path) -> None:
    """Re-hashing every entry after an edit makes a consistent chain; only the head shows it."""
    fill(engine, 20)
    heads = tmp_path / "heads.jsonl"
    with unit_of_work(engine) as uow:
        uow.audit.write_head(heads, T0 + timedelta(hours=1))
        entries = uow.audit.entries(0, 100)
    prev = GENESIS
    with engine.begin() as conn:
        for e in entries:
            kind = "write" if e.seq == 10 else e.kind
            h = entry_hash(prev, e.seq, e.at, kind, e.organisation_id, e.payload_digest)
            conn.execute(update(TABLE).where(TABLE.c.seq == e.seq).values(kind=kind, prev_hash=prev, entry_hash=h))
            prev = h
    assert verify(engine).ok
    assert [str(p) for p in verify(engine, heads).problems] == [
        "entry 20: hash differs from the head written out at 2026-03-02T09:00:00.000000+00:00 (edited or rewritten?)"]


def test_purge_drops_old_payloads_and_keeps_the_chain_verifiable(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 12, start=T0 - timedelta(days=500))  # old: reads 1,2,5,7,8,11; writes 3,9
    fill(engine, 6, start=T0 - timedelta(days=10))  # recent
    heads = tmp_path / "heads.jsonl"
    with unit_of_work(engine) as uow:
        uow.audit.write_head(heads, T0)
    retention = {"read": timedelta(days=400), "sign-in": timedelta(days=90), "write": timedelta(days=3650)}
    with unit_of_work(engine) as uow:
        assert uow.audit.purge(retention, T0, "ops", "org-a", "scheldt audit purge") == (8, 19)  # 6 reads, 2 sign-ins
    with unit_of_work(engine) as uow:
        entries = {e.seq: e for e in uow.audit.entries(0, 100)}
    record = entries[19]
    assert (record.kind, record.at, record.payload["actor"], record.payload["details"]) == (  # type: ignore[index]
        "purge", T0, "ops", {"purged": 8, "retention_days": {"read": 400, "sign-in": 90, "write": 3650}})
    purged = sorted(s for s, e in entries.items() if e.payload is None)
    assert purged == [1, 2, 4, 5, 7, 8, 10, 11]
    assert all(entries[s].purged_at == T0 for s in purged)
    assert entries[3].payload == payload_for(2) and entries[3].purged_at is None  # a write: kept 10 years
    assert entries[6].payload == payload_for(5)  # an export: no retention given, kept
    assert entries[13].payload == payload_for(12)  # a recent read
    with engine.connect() as conn:  # SQL NULL, not a JSON null
        assert conn.execute(text("SELECT COUNT(*) FROM audit_entry WHERE payload IS NULL")).scalar() == 8
    report = verify(engine, heads, retention=retention)
    assert (report.ok, report.checked, report.purged) == (True, 19, 8)
    with unit_of_work(engine) as uow:  # already purged entries are left alone
        assert uow.audit.purge(retention, T0 + timedelta(seconds=1), "ops", "org-a", "again")[0] == 0
        # purge entries are never emptied: each is what verify judges its purge by (regression review)
        assert uow.audit.purge({"purge": timedelta(0)}, T0 + timedelta(days=1), "ops", "org-a", "again")[0] == 0
    assert verify(engine, retention=retention).ok


def test_a_purged_payload_cannot_be_confirmed_from_the_digest_left(engine: Engine) -> None:
    """An audit review: the digest kept after a purge was an unsalted hash of the payload, so
    hashing guesses (the store's users and containers in the payload's known shape) re-identified
    who read which container in under a second. Each entry's digest now takes a random salt,
    purged with the payload; an entry made before (no salt) still verifies as it did, and a salt
    taken away is caught."""
    fill(engine, 3, start=T0 - timedelta(days=500))  # read, read, write
    with unit_of_work(engine) as uow:
        before = uow.audit.entries(0, 10)
    assert all(e.payload_salt is not None and len(e.payload_salt) == 32 for e in before)
    assert [e.payload_digest == payload_digest(e.payload, e.payload_salt) != payload_digest(e.payload)
            for e in before if e.payload is not None] == [True, True, True]
    with unit_of_work(engine) as uow:
        assert uow.audit.purge({"read": timedelta(days=400)}, T0, "ops", "org-a", "scheldt audit purge")[0] == 2
        after = {e.seq: e for e in uow.audit.entries(0, 10)}
    assert [(after[s].payload, after[s].payload_salt) for s in (1, 2)] == [(None, None), (None, None)]
    guesses = [payload_for(i) for i in range(3)]  # the exact payloads: the best guess there is
    assert not {payload_digest(g) for g in guesses} & {after[1].payload_digest, after[2].payload_digest}
    assert verify(engine).ok
    # an entry made before salts (the last one, the purge's record, made the old way) verifies; a
    # salt taken away does not
    old = after[4]
    digest = payload_digest(old.payload)  # type: ignore[arg-type]
    raw(engine, "UPDATE audit_entry SET payload_salt = NULL, payload_digest = :d, entry_hash = :h WHERE seq = 4",
        d=digest, h=entry_hash(old.prev_hash, 4, old.at, old.kind, old.organisation_id, digest))
    assert verify(engine).ok
    fill(engine, 1)
    raw(engine, "UPDATE audit_entry SET payload_salt = NULL WHERE seq = 5")
    assert [p.why for p in verify(engine).problems] == ["payload does not match its digest (edited?)"]


def test_a_purge_recording_a_retention_shorter_than_configured_is_noted(engine: Engine) -> None:
    """An audit review appended a purge record saying "1 day" for reads (anyone who can write to
    the database can append to an unkeyed chain) and emptied a 5-day-old read that a head
    covered: verify said "intact" and nothing else, with 400 days configured. The chain is
    still whole (a retention shortened and lengthened again leaves the same trace), so it is a
    note for a person to confirm, once per purge and kind."""
    fill(engine, 7, start=T0 - timedelta(days=5))  # reads 1, 2, 5, 7; a write, a sign-in, an export
    with unit_of_work(engine) as uow:
        assert uow.audit.purge({"read": timedelta(days=1)}, T0, "ops", "org-a", "scheldt audit purge")[0] == 4
    report = verify(engine, retention={"read": timedelta(days=400)})
    assert report.ok and report.notes == [
        "the purge at 2026-03-02T08:00:00.000000+00:00 recorded a 1-day retention for kind 'read', shorter than the "
        "400 days configured now, and emptied entries the configured retention keeps (entry 1 the first): confirm "
        "the retention was 1 days then (a purge record appended by someone who can write to the database looks the "
        "same)"]
    assert verify(engine, retention={"read": timedelta(days=1)}).notes == []


def test_a_payload_emptied_and_dated_as_a_purge_is_reported(engine: Engine) -> None:
    """An oversight review emptied four entries and set their purged_at 401 days after them (the
    read retention): verify said "chain intact". A purge is recorded with its time and count."""
    fill(engine, 12, start=T0 - timedelta(days=30))
    retention = {"read": timedelta(days=400), "sign-in": timedelta(days=90), "export": timedelta(days=1)}
    raw(engine, "UPDATE audit_entry SET payload = NULL, purged_at = :t WHERE seq = 5", t=T0 + timedelta(days=400))
    raw(engine, "UPDATE audit_entry SET payload = NULL, purged_at = :t WHERE seq = 6", t=T0 - timedelta(days=20))
    with unit_of_work(engine) as uow:  # a real purge: one export entry (seq 6 is one too, emptied by hand)
        purged, record = uow.audit.purge({"export": timedelta(days=25)}, T0 - timedelta(days=1), "ops", "org-a", "p")
    problems = [str(p) for p in verify(engine, retention=retention).problems]
    assert purged == 1 and problems == [
        f"entry 6: payload purged at {canonical_time(T0 - timedelta(days=20))}, but no purge entry records a purge "
        "then (tampered?)",
        f"entry 5: payload purged at {canonical_time(T0 + timedelta(days=400))}, which is in the future (tampered?)"]
    raw(engine, "UPDATE audit_entry SET payload = NULL, purged_at = :t WHERE seq = 9", t=T0 - timedelta(days=1))
    assert f"entry {record}: this purge says it emptied 1 entries, but 2 carry its time" in " ".join(
        str(p) for p in verify(engine, retention=retention).problems)


def test_payloads_removed_outside_a_purge_are_reported(engine: Engine) -> None:
    fill(engine, 12, start=T0 - timedelta(days=30))
    raw(engine, "UPDATE audit_entry SET payload = NULL WHERE seq = 5")
    raw(engine, "UPDATE audit_entry SET payload = NULL, purged_at = :t WHERE seq IN (6, 7)", t=T0)
    when = canonical_time(T0)
    assert [str(p) for p in verify(engine).problems] == [
        "entry 5: payload is missing but the entry was never purged (deleted?)",
        f"entry 6: payload purged at {when}, but no purge entry records a purge then (tampered?)",
        f"entry 7: payload purged at {when}, but no purge entry records a purge then (tampered?)"]
    retention = {"read": timedelta(days=400), "sign-in": timedelta(days=90)}
    assert [str(p) for p in verify(engine, retention=retention).problems] == [
        "entry 5: payload is missing but the entry was never purged (deleted?)",
        "entry 6: payload purged but kind 'export' has no retention period (tampered?)",
        "entry 7: payload purged 29 days after the entry, before its 400-day retention ended (tampered?)",
        f"entry 6: payload purged at {when}, but no purge entry records a purge then (tampered?)",
        f"entry 7: payload purged at {when}, but no purge entry records a purge then (tampered?)"]


def in_two_threads(engine: Engine, rounds: int, append: Callable[[Any, str, int], None]) -> None:
    """Run ``append(uow, organisation, i)`` for i in range(rounds), each in a unit of work of its
    own, in two threads at once (organisations org-0 and org-1); raise the first error either had."""
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(rounds):
                with unit_of_work(engine) as uow:
                    append(uow, name, i)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"org-{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_appenders_make_one_gap_free_chain(engine: Engine) -> None:
    in_two_threads(engine, 40, lambda uow, name, i: uow.audit.append(
        "read", name, audit_payload(name, name, f"GET /x/{i}"), T0 + timedelta(seconds=i)))
    report = verify(engine)
    assert (report.ok, report.checked, report.last_seq) == (True, 80, 80)
    with unit_of_work(engine) as uow:
        assert len(uow.audit.entries(0, 100, organisation_id="org-0")) == 40


def test_append_and_commit_commits_its_entries_with_the_unit_of_work(engine: Engine) -> None:
    """The request path's last act: the entries and what the unit of work wrote before them are
    committed by the call (another session reads them before the block ends), each call's entries
    take consecutive seqs, and concurrent callers make one gap-free chain."""
    def append_two(uow: Any, name: str, i: int) -> None:
        seqs = uow.audit.append_and_commit([("read", name, audit_payload(name, name, f"GET /x/{i}")),
                                            ("write", name, audit_payload(name, name, f"POST /x/{i}"))],
                                           T0 + timedelta(seconds=i))
        assert seqs[1] == seqs[0] + 1

    in_two_threads(engine, 30, append_two)
    report = verify(engine)
    assert (report.ok, report.checked, report.last_seq) == (True, 120, 120)
    with unit_of_work(engine) as uow:
        listed = uow.audit.entries(0, 200, organisation_id="org-1")
    assert len(listed) == 60 and [e.kind for e in listed[:2]] == ["read", "write"]

    with unit_of_work(engine) as uow:
        first = uow.audit.append("export", "org-a", audit_payload("a", "org-a", "export"), T0)
        assert uow.audit.append_and_commit([], T0) == []
        assert uow.audit.append_and_commit([("read", "org-a", audit_payload("a", "org-a", "GET /y"))], T0) == [122]
        with unit_of_work(engine) as other:  # committed by the call, with the append before it
            assert [e.seq for e in other.audit.entries(120, 10)] == [first, 122]
    with unit_of_work(engine) as uow:  # a bad entry is refused before anything is sent
        with pytest.raises(InputError, match="not an audit kind"):
            uow.audit.append_and_commit([("read", "org-a", {}), ("guess", "org-a", {})], T0)
    assert verify(engine).last_seq == 122


def test_bad_appends_are_refused(engine: Engine) -> None:
    with unit_of_work(engine) as uow:
        with pytest.raises(InputError, match="no time zone"):
            uow.audit.append("read", "org-a", {}, datetime(2026, 1, 1))
        with pytest.raises(InputError, match="contains '\\|'"):
            uow.audit.append("read|write", "org-a", {}, T0)
        with pytest.raises(InputError, match="longer than 32"):
            uow.audit.append("r" * 33, "org-a", {}, T0)
        with pytest.raises(InputError, match="JSON object"):
            uow.audit.append("read", "org-a", ["a"], T0)  # type: ignore[arg-type]
        with pytest.raises(InputError, match="not writable as JSON"):
            uow.audit.append("read", "org-a", {1: "x"}, T0)  # type: ignore[dict-item]
        with pytest.raises(InputError, match="negative"):
            uow.audit.purge({"read": timedelta(days=-1)}, T0, "ops", "org-a", "p")
        # A payload orjson writes as text is stored in that form, so its digest re-verifies.
        seq = uow.audit.append("write", "org-a", {"when": T0 + timedelta(hours=2), "ok": True}, T0)
        assert uow.audit.entries(0, 1)[0].payload == {"when": "2026-03-02T10:00:00+00:00", "ok": True}
    assert seq == 1 and verify(engine).ok


def test_unreadable_head_files_are_errors(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 3)
    with pytest.raises(NotFoundError, match="no audit head file"):
        verify(engine, tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"seq": 1, "entry_hash": "' + "0" * 64 + '", "at": "2026-01-01T00:00:00+00:00"}\n{"seq": -1}\n')
    with pytest.raises(InputError) as caught:
        verify(engine, bad)
    assert caught.value.where == f"{bad}:2"
    bad.write_text('{"seq": 2, "entry_hash": "XYZ", "at": "2026-01-01T00:00:00+00:00"}\n')
    with pytest.raises(InputError, match="not 64 lower-case hex"):
        verify(engine, bad)
    assert default_head_file(Path("/data")) == Path("/data/audit/heads.jsonl")


def test_canonical_time_is_utc_with_microseconds() -> None:
    from datetime import timezone
    brussels = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_time(brussels) == "2026-03-02T08:00:00.000000+00:00"
    assert canonical_time(datetime(2026, 3, 2, 8, 0, 0, 5)) == "2026-03-02T08:00:00.000005+00:00"


# -- any single change to any entry is detected ------------------------------------------------

N_ENTRIES = 8
COLUMN_VALUES = {
    "seq": st.integers(1000, 2000),
    "at": st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)),
    "kind": st.text(st.characters(codec="utf-8", categories=("L", "N", "P")), max_size=32),
    "organisation_id": st.text(st.characters(codec="utf-8", categories=("L", "N", "P")), max_size=64),
    "payload": st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.one_of(st.integers(-10, 10), st.text(max_size=8)),
                                                    max_size=3)),
    "payload_digest": st.text("0123456789abcdef", min_size=64, max_size=64),
    "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
    "entry_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
}
TAMPERS = st.one_of(
    *[st.tuples(st.just(col), values) for col, values in COLUMN_VALUES.items()],
    st.tuples(st.just("delete"), st.none()),
)


def _same(column: str, old: Any, new: Any) -> bool:
    if column == "at":
        return canonical_time(old) == canonical_time(new)
    if column == "payload" and old is not None and new is not None:
        return payload_digest(old) == payload_digest(new)
    return bool(old == new)


@pytest.fixture
def chain_with_head(engine: Engine, tmp_path: Path) -> tuple[Engine, Path, dict[int, Any]]:
    fill(engine, N_ENTRIES)
    heads = tmp_path / "heads.jsonl"
    with unit_of_work(engine) as uow:
        uow.audit.write_head(heads, T0 + timedelta(days=1))
        entries = {e.seq: e for e in uow.audit.entries(0, 100)}
    return engine, heads, entries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, N_ENTRIES), tamper=TAMPERS)
def test_any_single_change_to_any_entry_is_detected(chain_with_head: tuple[Engine, Path, dict[int, Any]], seq: int,
                                                    tamper: tuple[str, Any]) -> None:
    engine, heads, entries = chain_with_head
    column, value = tamper
    if column != "delete":
        assume(not _same(column, getattr(entries[seq], column), value))
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            if column == "delete":
                conn.execute(delete(TABLE).where(TABLE.c.seq == seq))
            else:
                conn.execute(update(TABLE).where(TABLE.c.seq == seq).values({column: value}))
            with Session(bind=conn) as session:
                report = AuditLog(session).verify(heads, batch=3)
        finally:
            outer.rollback()
    assert not report.ok
    assert seq in {p.seq for p in report.problems}
    assert verify(engine, heads).ok  # rolled back: the next example starts from the intact chain
