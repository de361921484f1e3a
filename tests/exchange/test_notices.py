"""Carrier notices end to end, on SQLite and PostgreSQL, with real HTTP on loopback.

- A receiver example (uvicorn in a thread) gets signed hold and release notices for its
  carrier's container and verifies them; the other carrier's receiver gets nothing.
- A carrier never receives another carrier's container: property-based over random trips,
  carrier/terminal codes and subscriptions, every queued notice's subscription belongs to an
  organisation owning the trip, and every such subscription gets one.
- The receiver rejects forged and replayed callbacks (wrong secret, altered body, old or future
  timestamp, missing or malformed headers, a replayed notice id): 401/409/400, never 2xx.
- An unreachable callback is retried with backoff, lands in the dead-letter list after the last
  try, is re-queued through the API and then delivered.
- Every queued notice and every try is in the audit log, and the chain verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, update
from typer.testing import CliRunner

from scheldt.api.app import create_app
from scheldt.cli import app
from scheldt.domain.access import Organisation, OrgKind, Principal, Role
from scheldt.domain.trips import TripKey
from scheldt.errors import AuthError, ConflictError, ForbiddenError, InputError
from scheldt.exchange.notify import (
    NOTICE_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    UNSIGNED_NOTE,
    body_bytes,
    deliver_due,
    sign,
    signed_headers,
    verify,
)
from scheldt.exchange.receiver_example import accepted_ids, create_receiver
from scheldt.jobs.kinds import KINDS, run_kind
from scheldt.settings import get_settings
from scheldt.store.db import unit_of_work
from scheldt.store.models import (
    ContainerTripRow,
    NotificationRow,
    OrganisationRow,
    SubscriptionRow,
)
from scheldt.store.notifications import RetryPolicy
from scheldt.workflows import inspections, notices
from scheldt.workflows.accounts import create_organisation, create_token, create_user

SECRET_A = "a" * 16 + "-carrier-a-shared-secret-0123456789"
SECRET_B = "b" * 16 + "-carrier-b-shared-secret-0123456789"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
SECRET_REASON = "intel report 7: cocaine in reefer, consignee on watchlist"


# --- loopback servers -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    app: FastAPI
    url: str

    @property
    def notices(self) -> list[dict[str, Any]]:
        return list(self.app.state.notices)


@contextmanager
def running(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, name=f"receiver-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the receiver did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def receiver(secret: str, port: int | None = None) -> Iterator[Receiver]:
    app = create_receiver(secret)
    with running(app, port) as base:
        yield Receiver(app, f"{base}/scheldt/notices")


# --- store set-up -----------------------------------------------------------------------------

def add_trip(uow: Any, container: str, carrier: str, terminal: str, doc: str = "", voyage: str = "V1") -> int:
    uow.container_trips.upsert([{
        "container_number": container, "document_ref": doc or f"BL-{container}", "voyage": voyage,
        "carrier_code": carrier, "terminal_code": terminal, "supplied_by": "be-customs", "port_of_loading": "ECGYE",
        "port_of_discharge": "BEANR", "vessel_imo": "9000001", "arrival_at": NOW, "assessment_id": None,
        "score": 0.5, "risk_band": "medium", "top_reason": "", "scored_at": NOW}])
    row = uow.container_trips.by_key(TripKey(container, doc or f"BL-{container}", voyage))
    assert row is not None
    return int(row["id"])


def seed(engine: Engine) -> dict[str, Any]:
    """be-customs (agency), carrier-a (SIMA), carrier-b (SIMB), terminal-1 (SIMT1); users and
    tokens; two trips: MSCU1234565 of SIMA and TGHU7654321 of SIMB, both at SIMT1."""
    now = datetime.now(UTC)
    with unit_of_work(engine) as uow:
        for org in (("be-customs", "Belgian Customs", "agency", [], []),
                    ("carrier-a", "Carrier A", "carrier", ["SIMA"], []),
                    ("carrier-b", "Carrier B", "carrier", ["SIMB"], []),
                    ("terminal-1", "Terminal 1", "terminal", [], ["SIMT1"])):
            create_organisation(uow, *org, now)
        tokens = {}
        for user, org, role in (("officer", "be-customs", "targeting_officer"),
                                ("carrier-a", "carrier-a", "carrier_security"),
                                ("carrier-b", "carrier-b", "carrier_security"),
                                ("terminal-1", "terminal-1", "carrier_security")):
            create_user(uow, user, org, [role], PASSWORD, now)
            tokens[user] = create_token(uow, user, "tests", 1, now)
        trip_a = add_trip(uow, "MSCU1234565", "SIMA", "SIMT1")
        trip_b = add_trip(uow, "TGHU7654321", "SIMB", "SIMT1")
        officer = Principal("officer", uow.accounts.organisation("be-customs"), frozenset({Role.TARGETING_OFFICER}))
    return {"tokens": tokens, "trip_a": trip_a, "trip_b": trip_b, "officer": officer}


def principal(engine: Engine, org_id: str) -> Principal:
    with unit_of_work(engine) as uow:
        return Principal(org_id, uow.accounts.organisation(org_id), frozenset({Role.CARRIER_SECURITY}))


def subscribe(engine: Engine, org_id: str, url: str, secret: str, kinds: tuple[str, ...] = notices.KINDS) -> int:
    with unit_of_work(engine) as uow:
        return int(notices.subscribe(uow, principal(engine, org_id), url, secret, list(kinds), datetime.now(UTC),
                                     allow_http=True)["id"])


def deliver(engine: Engine, **kw: Any) -> dict[str, Any]:
    return deliver_due(lambda: unit_of_work(engine), actor_org="be-customs", **kw)


def audit_entries(engine: Engine) -> list[Any]:
    with unit_of_work(engine) as uow:
        out, after = [], 0
        while True:
            page = uow.audit.entries(after_seq=after, limit=1000)
            if not page:
                return out
            out += page
            after = page[-1].seq


@pytest.fixture
def plain_settings(settings_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    monkeypatch.setenv("SCHELDT_NOTICE_ALLOW_HTTP", "true")
    monkeypatch.setenv("SCHELDT_NOTICE_TIMEOUT_S", "3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --- signing ----------------------------------------------------------------------------------

def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = body_bytes({"notice_id": "n-1", "kind": "hold", "b": 1})
    assert body == b'{"b":1,"kind":"hold","notice_id":"n-1"}'
    expected = hmac.new(SECRET_A.encode(), b"1772445600." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET_A, 1772445600, body) == expected
    headers = signed_headers(SECRET_A, "n-1", body, 1772445600)
    assert headers[SIGNATURE_HEADER] == f"v1={expected}" and headers[TIMESTAMP_HEADER] == "1772445600"
    assert headers[NOTICE_ID_HEADER] == "n-1"
    assert verify(SECRET_A, "1772445600", f"v0=zz, v1={expected}", body, 1772445600 + 299) == 1772445600
    for ts, sig, now_s in (("1772445600", f"v1={expected}", 1772445600 + 301),   # too old
                           ("1772445600", f"v1={expected}", 1772445600 - 301),   # too far ahead
                           ("1772445601", f"v1={expected}", 1772445600),          # other timestamp
                           ("1772445600", f"v1={expected[:-1]}0", 1772445600),    # other signature
                           ("1772445600", expected, 1772445600),                  # no scheme
                           ("-5", f"v1={expected}", 1772445600), ("", f"v1={expected}", 1772445600)):
        with pytest.raises(AuthError):
            verify(SECRET_A, ts, sig, body, now_s)


def test_backoff_doubles_to_its_cap() -> None:
    assert RetryPolicy(8, 1, 300).schedule_s() == [1, 2, 4, 8, 16, 32, 64]
    assert RetryPolicy(6, 2, 5).schedule_s() == [2, 4, 5, 5, 5]
    assert RetryPolicy(100, 1, 10).delay_s(1000) == 10


# --- the receiver refuses forgeries and replays -------------------------------------------------

def _post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str]) -> int:
    return client.post(url, content=body, headers=headers).status_code


def test_receiver_rejects_forged_and_replayed_callbacks() -> None:
    with receiver(SECRET_A) as rx, httpx.Client(timeout=5) as client:
        def notice(nid: str) -> bytes:
            return body_bytes({"notice_id": nid, "kind": "hold", "container_number": "MSCU1234565",
                               "document_ref": "BL-1", "voyage": "V1", "text": notices.HOLD_TEXT,
                               "at": "2026-03-02T10:00:00Z", "version": 1})

        now = int(time.time())
        body = notice("n-good")
        good = signed_headers(SECRET_A, "n-good", body, now)
        refused = {
            "wrong secret": _post(client, rx.url, body, signed_headers(SECRET_B, "n-good", body, now)),
            "altered body": _post(client, rx.url, body.replace(b"MSCU1234565", b"MSCU1234566"), good),
            "old timestamp": _post(client, rx.url, body, signed_headers(SECRET_A, "n-good", body, now - 301)),
            "future timestamp": _post(client, rx.url, body, signed_headers(SECRET_A, "n-good", body, now + 400)),
            "old timestamp re-labelled": _post(client, rx.url, body, good | {TIMESTAMP_HEADER: str(now - 10)}),
            "no signature": _post(client, rx.url, body, {k: v for k, v in good.items() if k != SIGNATURE_HEADER}),
            "no timestamp": _post(client, rx.url, body, {k: v for k, v in good.items() if k != TIMESTAMP_HEADER}),
            "malformed signature": _post(client, rx.url, body, good | {SIGNATURE_HEADER: "v1=not-hex"}),
            "signature of nothing": _post(client, rx.url, body, good | {
                SIGNATURE_HEADER: "v1=" + sign(SECRET_A, now, b"")}),
        }
        assert refused == {k: 401 for k in refused}
        assert rx.notices == []
        assert _post(client, rx.url, body, good) == 200
        assert _post(client, rx.url, body, good) == 409                      # the same request replayed
        later = signed_headers(SECRET_A, "n-good", body, now + 1)
        assert _post(client, rx.url, body, later) == 409                     # re-signed, same notice id
        other = notice("n-other")
        assert _post(client, rx.url, other, signed_headers(SECRET_A, "n-good", other, now)) == 400  # id mismatch
        assert [n["notice_id"] for n in rx.notices] == ["n-good"]

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(flip=st.integers(0, len(body) - 1), bit=st.integers(0, 7), skew=st.integers(-10_000, 10_000),
               secret=st.text(min_size=32, max_size=40))
        def forged(flip: int, bit: int, skew: int, secret: str) -> None:
            altered = bytearray(body)
            altered[flip] ^= 1 << bit
            attempts = [(bytes(altered), good)]                              # any bit of the body changed
            if secret != SECRET_A:
                attempts.append((body, signed_headers(secret, "n-good", body, now)))  # another key
            if abs(skew) > 300:
                attempts.append((body, signed_headers(SECRET_A, "n-good", body, int(time.time()) + skew)))
            for data, headers in attempts:
                assert _post(client, rx.url, data, headers) in (400, 401, 409)

        forged()
        assert [n["notice_id"] for n in rx.notices] == ["n-good"]


def test_the_receiver_refuses_a_replay_after_a_restart_with_its_out_file(tmp_path: Any) -> None:
    """A review: a notice replayed within its 5 minutes after the receiver restarted was accepted
    and written to --out a second time (accepted ids were in memory only). The ids in --out are
    read back at start; a line cut by a crash is skipped."""
    out = tmp_path / "notices.jsonl"
    body = body_bytes({"notice_id": "n-1", "kind": "hold", "text": "x"})
    headers = signed_headers(SECRET_A, "n-1", body, int(time.time()))
    answers = []
    for _ in range(2):  # the receiver started twice on the same --out file
        app = create_receiver(SECRET_A, out=out)
        with running(app) as base, httpx.Client(timeout=5) as client:
            answers += [_post(client, f"{base}/scheldt/notices", body, headers) for _ in range(2)]
        with out.open("ab") as fh:
            fh.write(b'{"notice_id": "n-tor')  # a write torn by a crash
    assert answers == [200, 409, 409, 409]
    assert [line for line in out.read_bytes().splitlines() if b'"n-1"' in line] == [body]
    # the next notice, after the torn line, is on a line of its own and read back as accepted
    other = body_bytes({"notice_id": "n-2", "kind": "release", "text": "y"})
    app = create_receiver(SECRET_A, out=out)
    with running(app) as base, httpx.Client(timeout=5) as client:
        assert _post(client, f"{base}/scheldt/notices", other, signed_headers(SECRET_A, "n-2", other,
                                                                              int(time.time()))) == 200
    assert accepted_ids(out) == {"n-1", "n-2"}


# --- holds and releases reach the owner's receiver, signed ---------------------------------------

def test_hold_and_release_reach_only_the_owning_carrier(engine: Engine, plain_settings: None) -> None:
    s = seed(engine)
    with receiver(SECRET_A) as rx_a, receiver(SECRET_B) as rx_b:
        sub_a = subscribe(engine, "carrier-a", rx_a.url, SECRET_A)
        subscribe(engine, "carrier-b", rx_b.url, SECRET_B)
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
        assert deliver(engine) == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0}
        with unit_of_work(engine) as uow:
            inspections.release_hold(uow, s["officer"], s["trip_a"], "scan clear", datetime.now(UTC))
        assert deliver(engine) == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0}
        assert deliver(engine)["tried"] == 0
        got = rx_a.notices
        assert [n["kind"] for n in got] == ["hold", "release"]
        assert {(n["trip_id"], n["container_number"], n["document_ref"], n["voyage"]) for n in got} == {
            (s["trip_a"], "MSCU1234565", "BL-MSCU1234565", "V1")}  # the trip, to read it and pair the two
        assert got[0]["text"] == notices.HOLD_TEXT and got[1]["text"] == notices.RELEASE_TEXT
        assert all("cocaine" not in str(n) and "scan clear" not in str(n) for n in got)  # customs' reasons stay in
        assert rx_b.notices == []
        with unit_of_work(engine) as uow:
            sent = uow.notifications.notices("carrier-a")
            assert [(n["kind"], n["status"], n["attempts"], n["subscription_id"]) for n in sent] == [
                ("release", "delivered", 1, sub_a), ("hold", "delivered", 1, sub_a)]
            assert uow.notifications.notices("carrier-b") == []
    entries = [e for e in audit_entries(engine) if e.kind == "notice"]
    queued = [e for e in entries if e.payload["action"].startswith("queue")]
    tried = [e for e in entries if e.payload["action"].startswith("POST")]
    assert [e.payload["details"]["kind"] for e in queued] == ["hold", "release"]
    assert all(e.organisation_id == "be-customs" and e.payload["actor"] == "officer" for e in queued)
    assert [(e.payload["details"]["outcome"], e.payload["details"]["recipient"]) for e in tried] == [
        ("delivered", "carrier-a"), ("delivered", "carrier-a")]
    assert {e.payload["details"]["notice_id"] for e in tried} == {n["notice_id"] for n in got}
    with unit_of_work(engine) as uow:
        assert uow.audit.verify().ok


def test_terminal_and_alert_notices_and_kinds_asked_for(engine: Engine, plain_settings: None) -> None:
    s = seed(engine)
    with receiver(SECRET_A) as rx_t, receiver(SECRET_B) as rx_b:
        subscribe(engine, "terminal-1", rx_t.url, SECRET_A, ("alert",))
        subscribe(engine, "carrier-b", rx_b.url, SECRET_B, ("hold", "alert"))
        carrier = principal(engine, "carrier-b")
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_b"], SECRET_REASON, datetime.now(UTC))
            # the officer's own action (a new-user review found alert notices were never sent)
            queued = inspections.send_notice(uow, s["officer"], s["trip_b"], "Expect a scan at the Deurganck scanner.",
                                             datetime.now(UTC))
            assert len(queued) == 2
            with pytest.raises(ForbiddenError):
                inspections.send_notice(uow, carrier, s["trip_b"], "x", datetime.now(UTC))
            # no control characters in the signed body a carrier's system parses (an API review's NUL)
            for text, code in (("a\x00b", "0000"), ("bell\x07", "0007"), ("c1\x85c1", "0085"), ("a\rb", "000D")):
                with pytest.raises(InputError, match=f"holds the control character U\\+{code}"):
                    inspections.send_notice(uow, s["officer"], s["trip_b"], text, datetime.now(UTC))
            # CRLF line breaks are line breaks (a regression review's were refused)
            assert len(inspections.send_notice(uow, s["officer"], s["trip_b"], "Gate 4.\r\nBring the seal.",
                                               datetime.now(UTC))) == 2  # the terminal and the line
        # one box's notices to one subscription go one a round, in the order queued
        assert [deliver(engine)["delivered"] for _ in range(4)] == [2, 2, 1, 0]
        assert [n["kind"] for n in rx_t.notices] == ["alert", "alert"]
        assert [n["kind"] for n in rx_b.notices] == ["hold", "alert", "alert"]
        assert [n["text"] for n in rx_b.notices if n["kind"] == "alert"] == [
            "Expect a scan at the Deurganck scanner.", "Gate 4.\nBring the seal."]
        assert {n["container_number"] for n in rx_t.notices + rx_b.notices} == {"TGHU7654321"}


# --- a carrier never receives another carrier's container ----------------------------------------

CODES = ("AAA", "BBB", "CCC")
TERMINALS = ("T1", "T2")

org_st = st.fixed_dictionaries({
    "kind": st.sampled_from(["carrier", "carrier", "terminal", "agency"]),
    "carrier_codes": st.sets(st.sampled_from(CODES), min_size=1, max_size=2),
    "terminal_codes": st.sets(st.sampled_from(TERMINALS), min_size=1, max_size=2),
    "subscriptions": st.lists(st.tuples(st.sets(st.sampled_from(notices.KINDS), min_size=1), st.booleans()),
                              min_size=1, max_size=3),
})
trip_st = st.tuples(st.sampled_from(CODES + ("",)), st.sampled_from(TERMINALS + ("",)),
                    st.sampled_from(notices.KINDS))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orgs=st.lists(org_st, min_size=2, max_size=6), trips=st.lists(trip_st, min_size=1, max_size=8))
def test_a_carrier_never_receives_another_carriers_container(engine: Engine, orgs: list[dict[str, Any]],
                                                           trips: list[tuple[str, str, str]]) -> None:
    with unit_of_work(engine) as uow:
        for table in (NotificationRow, SubscriptionRow, ContainerTripRow, OrganisationRow):
            uow.session.execute(delete(table))
    subs: dict[int, tuple[Organisation, set[str], bool]] = {}
    with unit_of_work(engine) as uow:
        for i, o in enumerate(orgs):
            kind = OrgKind(o["kind"])
            org = Organisation(f"org-{i}", f"Org {i}", kind,
                               tuple(sorted(o["carrier_codes"])) if kind == OrgKind.CARRIER else (),
                               tuple(sorted(o["terminal_codes"])) if kind == OrgKind.TERMINAL else ())
            uow.accounts.add_organisation(org, NOW)
            for kinds, active in o["subscriptions"]:
                sub = uow.notifications.add_subscription(org.id, f"https://org-{i}.example/cb", SECRET_A,
                                                         sorted(kinds), NOW)
                if not active:
                    uow.notifications.deactivate(sub["id"], org.id, NOW)
                subs[sub["id"]] = (org, set(kinds), active)
        trip_ids = [add_trip(uow, f"CONT{n:07d}", carrier, terminal) for n, (carrier, terminal, _) in enumerate(trips)]
    with unit_of_work(engine) as uow:
        for trip_id, (carrier, terminal, kind) in zip(trip_ids, trips, strict=True):
            text = notices.HOLD_TEXT if kind == "hold" else "a neutral text"
            queued = set(notices.notify_trip(uow, trip_id, kind, text, NOW))
            expected = {sid for sid, (org, kinds, active) in subs.items() if active and kind in kinds and (
                (org.kind == OrgKind.CARRIER and carrier in org.carrier_codes) or
                (org.kind == OrgKind.TERMINAL and terminal in org.terminal_codes))}
            got = {uow.notifications.notice(n)["subscription_id"] for n in queued}
            assert got == expected and len(queued) == len(expected)
            event("notices queued" if queued else "no owner subscribed")
            for n in queued:
                org = subs[uow.notifications.notice(n)["subscription_id"]][0]
                assert org.kind != OrgKind.AGENCY
                assert carrier in org.carrier_codes or terminal in org.terminal_codes
    # And as each organisation lists its notices: only containers it owns.
    with unit_of_work(engine) as uow:
        owned = {cid: (c, t) for cid, (c, t, _) in zip(
            (f"CONT{n:07d}" for n in range(len(trips))), trips, strict=True)}
        for i in range(len(orgs)):
            org = uow.accounts.organisation(f"org-{i}")
            for n in uow.notifications.notices(org.id, limit=1000):
                carrier, terminal = owned[n["body"]["container_number"]]
                assert carrier in org.carrier_codes or terminal in org.terminal_codes


# --- retries, backoff, dead letters, re-queue through the API ------------------------------------

class Clock:
    """The real clock moved on by hand (the backoff's waits without sleeping)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def test_unreachable_callback_is_retried_then_dead_lettered_then_requeued(engine: Engine, plain_settings: None,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    s = seed(engine)
    port = free_port()  # nothing listens there: every try is refused
    url = f"http://127.0.0.1:{port}/scheldt/notices"
    sub = subscribe(engine, "carrier-a", url, SECRET_A, ("hold",))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
    policy = RetryPolicy(max_tries=4, base_s=10, cap_s=15)
    clock = Clock()
    waits = []
    for expected_attempts in (1, 2, 3):
        tried_at = clock()
        assert deliver(engine, policy=policy, clock=clock) == {"tried": 1, "delivered": 0, "failed": 1, "dead": 0}
        with unit_of_work(engine) as uow:
            (n,) = uow.notifications.notices("carrier-a")
        assert n["status"] == "pending" and n["attempts"] == expected_attempts
        assert "ConnectError" in n["last_error"]
        waits.append((n["next_attempt_at"] - tried_at).total_seconds())
        assert deliver(engine, policy=policy, clock=clock)["tried"] == 0    # not due before its backoff
        clock.offset = n["next_attempt_at"] - datetime.now(UTC) + timedelta(milliseconds=50)
    assert [round(w) for w in waits] == [10, 15, 15]                       # 10 s, doubled to 20, capped at 15
    with caplog.at_level(logging.WARNING, logger="scheldt.notify"):
        assert deliver(engine, policy=policy, clock=clock) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1}
    # logged, for an operator to alert on (an operator review found the dead-letter move silent)
    [dead_line] = [r.getMessage() for r in caplog.records if r.name == "scheldt.notify"]
    assert dead_line.startswith(f"notice {n['id']} (hold for carrier-a, subscription {sub}) is dead after 4 tries: ")
    assert "ConnectError" in dead_line
    assert deliver(engine, policy=policy, clock=clock)["tried"] == 0

    client = TestClient(create_app(engine, workbench=False))
    as_a = {"Authorization": f"Bearer {s['tokens']['carrier-a']}"}
    as_b = {"Authorization": f"Bearer {s['tokens']['carrier-b']}"}
    dead = client.get("/api/v1/notices/dead-letter", headers=as_a).json()["items"]
    assert [(d["status"], d["attempts"], d["subscription_id"], d["body"]["container_number"]) for d in dead] == [
        ("dead", 4, sub, "MSCU1234565")]
    assert client.get("/api/v1/notices/dead-letter", headers=as_b).json()["items"] == []
    assert client.post(f"/api/v1/notices/{dead[0]['id']}/retry", headers=as_b).status_code == 404
    r = client.post(f"/api/v1/notices/{dead[0]['id']}/retry", headers=as_a)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["attempts"] == 0
    assert client.post(f"/api/v1/notices/{dead[0]['id']}/retry", headers=as_a).status_code == 409
    with receiver(SECRET_A, port) as rx:                                    # the carrier's receiver is back
        assert deliver(engine, policy=policy)["delivered"] == 1
        assert [n["notice_id"] for n in rx.notices] == [dead[0]["notice_id"]]
    listed = client.get("/api/v1/notices", headers=as_a).json()["items"]
    assert [(n["status"], n["attempts"]) for n in listed] == [("delivered", 1)]
    assert listed[0]["next_attempt_at"] is None  # tried no more (an API review read a try to come)
    assert client.get("/api/v1/notices/dead-letter", headers=as_a).json()["items"] == []

    entries = audit_entries(engine)
    tries = [e.payload["details"] for e in entries if e.kind == "notice" and e.payload["action"].startswith("POST")]
    assert [(t["attempt"], t["outcome"]) for t in tries] == [
        (1, "failed"), (2, "failed"), (3, "failed"), (4, "dead"), (1, "delivered")]
    assert sum(1 for e in entries if e.kind == "notice" and e.payload["action"] == "queue hold notice") == 1
    pulls = [e.payload for e in entries if e.kind == "read" and e.payload["object_kind"].startswith("notice")]
    assert len(pulls) == 4 and {p["actor"] for p in pulls} == {"carrier-a", "carrier-b"}
    assert any(e.kind == "write" and e.payload["object_kind"] == "notice" and e.payload["details"]["action"] == "retry"
               for e in entries)
    with unit_of_work(engine) as uow:
        assert uow.audit.verify().ok


def test_notices_about_one_box_go_in_order_and_one_no_longer_true_is_not_requeued(engine: Engine,
                                                                                    plain_settings: None) -> None:
    """A shipping-line review: a hold and a release of one box POSTed in one round, in parallel,
    arrived release last for a box on hold; a dead release re-queued after a newer hold was
    delivered last; dead holds of deleted subscriptions re-queued arrived as more holds."""
    s = seed(engine)
    port = free_port()  # nothing listens there at first
    url = f"http://127.0.0.1:{port}/scheldt/notices"
    first_sub = subscribe(engine, "carrier-a", url, SECRET_A, ("hold", "release"))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], "first", datetime.now(UTC))
        inspections.release_hold(uow, s["officer"], s["trip_a"], "cleared", datetime.now(UTC))
        inspections.place_hold(uow, s["officer"], s["trip_a"], "again", datetime.now(UTC))
    once = RetryPolicy(max_tries=1)
    # one notice about the box per round, in the order they were queued
    assert deliver(engine, policy=once) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1, "waiting": 2}
    with unit_of_work(engine) as uow:
        queued = sorted(uow.notifications.notices("carrier-a"), key=lambda n: n["id"])
    assert [(n["kind"], n["status"]) for n in queued] == [("hold", "dead"), ("release", "pending"), ("hold", "pending")]
    assert queued[2]["last_error"] == f"waits for notice {queued[0]['id']} about the same container, sent first"
    assert deliver(engine, policy=once) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1, "waiting": 1}
    assert deliver(engine, policy=once) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1}
    first, release, hold = (n["id"] for n in queued)
    client = TestClient(create_app(engine, workbench=False))
    as_a = {"Authorization": f"Bearer {s['tokens']['carrier-a']}"}
    refused = client.post(f"/api/v1/notices/{release}/retry", headers=as_a)
    assert refused.status_code == 409 and ("is a release notice and container MSCU1234565 is on hold now: it would "
                                           "tell carrier-a what is no longer so") in refused.text
    refused = client.post(f"/api/v1/notices/{first}/retry", headers=as_a)
    assert refused.status_code == 409 and f"a later hold notice about container MSCU1234565 was queued ({hold}, " \
                                          "dead): re-queue that one" in refused.text
    assert client.post(f"/api/v1/notices/{hold}/retry", headers=as_a).status_code == 200
    with receiver(SECRET_A, port) as rx:
        assert deliver(engine, policy=once)["delivered"] == 1
        # a new subscription is sent the hold again; deleted before it went, its copy is not re-sent
        other = subscribe(engine, "carrier-a", f"http://127.0.0.1:{free_port()}/n", SECRET_A, ("hold",))
        with unit_of_work(engine) as uow:
            notices.unsubscribe(uow, principal(engine, "carrier-a"), other, datetime.now(UTC))
            copy = max(n["id"] for n in uow.notifications.notices("carrier-a"))
        refused = client.post(f"/api/v1/notices/{copy}/retry", headers=as_a)
        assert refused.status_code == 409 and f"carrier-a was sent the hold of container MSCU1234565 already " \
                                              f"(notice {hold}, delivered, subscription {first_sub})" in refused.text
        assert [n["kind"] for n in rx.notices] == ["hold"]


def test_a_dead_notice_is_not_requeued_to_an_organisation_that_no_longer_owns_the_trip(engine: Engine,
                                                                                       plain_settings: None) -> None:
    """A carrier review: a terminal's hold went dead, the box was loaded aboard (its trip no
    longer at the terminal: the terminal no longer owns it), and the terminal re-queued the hold:
    it was signed and delivered. Notices go to a box's owners only."""
    s = seed(engine)
    subscribe(engine, "terminal-1", f"http://127.0.0.1:{free_port()}/n", SECRET_A, ("hold",))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], "first", datetime.now(UTC))
    assert deliver(engine, policy=RetryPolicy(max_tries=1)) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1}
    with unit_of_work(engine) as uow:
        [dead] = uow.notifications.notices("terminal-1")
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == s["trip_a"]).values(terminal_code=""))
    with unit_of_work(engine) as uow, pytest.raises(ConflictError) as refused:
        notices.retry(uow, principal(engine, "terminal-1"), dead["id"], datetime.now(UTC))
    assert refused.value.why == ("terminal-1 does not own the trip of container MSCU1234565 now: notices go to a "
                                 "container's owners only")


def test_a_pending_notice_is_not_sent_once_its_organisation_no_longer_owns_the_trip(
        engine: Engine, plain_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A carrier review: a terminal's hold failed its first try, the box was loaded aboard (the
    terminal no longer owns its trip), and the next try delivered it. It now goes to the
    dead-letter list untried, saying why, audited; the carrier, still an owner, gets its own.
    Another review's server pinned to a replay's day (SCHELDT_NOW) never ran the delivery job:
    notices are due on the real clock."""
    s = seed(engine)
    down = f"http://127.0.0.1:{free_port()}/n"  # nothing listens there
    sub_t = subscribe(engine, "terminal-1", down, SECRET_A, ("hold",))
    sub_c = subscribe(engine, "carrier-a", down, SECRET_B, ("hold",))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
    clock = Clock()
    assert deliver(engine, policy=RetryPolicy(base_s=0.01, cap_s=0.01), clock=clock) == {
        "tried": 2, "delivered": 0, "failed": 2, "dead": 0}
    time.sleep(0.05)  # both due again
    with unit_of_work(engine) as uow:
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == s["trip_a"]).values(terminal_code=""))
    monkeypatch.setenv("SCHELDT_NOW", "2021-04-22T06:00:00Z")
    get_settings.cache_clear()
    with unit_of_work(engine) as uow:
        assert not KINDS["deliver-notices"].idle(uow, {})  # the carrier's hold is due, on the real clock
    assert deliver(engine, policy=RetryPolicy(base_s=1, cap_s=1), clock=clock) == {
        "tried": 1, "delivered": 0, "failed": 1, "dead": 0, "not_owned": 1}
    with unit_of_work(engine) as uow:
        [terminal] = uow.notifications.notices("terminal-1")
        [carrier] = uow.notifications.notices("carrier-a")
    assert (terminal["subscription_id"], terminal["status"], terminal["attempts"]) == (sub_t, "dead", 1)
    assert terminal["last_error"] == ("not sent: terminal-1 does not own the trip of container MSCU1234565 now: "
                                      "notices go to a container's owners only")
    assert (carrier["subscription_id"], carrier["status"], carrier["attempts"]) == (sub_c, "pending", 2)
    [withdrawn] = [e for e in audit_entries(engine) if e.kind == "notice"
                   and e.payload["details"].get("outcome") == "not owned"]
    assert (withdrawn.payload["object_id"], withdrawn.payload["details"]["recipient"]) == (
        str(terminal["id"]), "terminal-1")


def test_an_owners_notice_is_judged_on_the_trip_it_names_not_on_its_voyage(engine: Engine,
                                                                           plain_settings: None) -> None:
    """A regression review: a trip begun by a VGM declaration is keyed without a voyage, and its
    notices name the voyage of its first event; ownership was looked up by container, document
    and that voyage, found no trip, and the line's own hold went to the dead-letter list untried.
    It is judged on the trip the notice names (``trip_id``)."""
    s = seed(engine)
    with unit_of_work(engine) as uow:
        trip = add_trip(uow, "OOLU1234567", "SIMA", "SIMT1", doc="BKG-OWN", voyage="")
    subscribe(engine, "carrier-a", f"http://127.0.0.1:{free_port()}/n", SECRET_A, ("hold",))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], trip, SECRET_REASON, datetime.now(UTC))
        [queued] = uow.notifications.notices("carrier-a")
        # as notice_body writes it when the trip's first event names voyage 225S
        uow.session.execute(update(NotificationRow).where(NotificationRow.id == queued["id"])
                            .values(body=queued["body"] | {"voyage": "225S"}))
    assert deliver(engine, policy=RetryPolicy(max_tries=1)) == {"tried": 1, "delivered": 0, "failed": 0, "dead": 1}
    # the line re-queues its own dead hold: the trip it names is on hold (its regression review:
    # looked up by the body's voyage, the box was "not on hold now")
    with unit_of_work(engine) as uow:
        notices.retry(uow, principal(engine, "carrier-a"), queued["id"], datetime.now(UTC))
    # (a regrouped trip: tests/workflows/test_trip_scoring.py, where trips are scored)


def test_a_dead_hold_of_a_second_subscription_is_requeued_though_the_first_got_it(engine: Engine,
                                                                                  plain_settings: None) -> None:
    """A regression review: a terminal's second system, down when the hold went, could not be
    sent it again because its first system had received it."""
    s = seed(engine)
    with receiver(SECRET_A) as rx:
        subscribe(engine, "carrier-a", rx.url, SECRET_A, ("hold",))
        second = subscribe(engine, "carrier-a", f"http://127.0.0.1:{free_port()}/n", SECRET_A, ("hold",))
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_a"], "first", datetime.now(UTC))
        assert deliver(engine, policy=RetryPolicy(max_tries=1)) == {"tried": 2, "delivered": 1, "failed": 0, "dead": 1}
    with unit_of_work(engine) as uow:
        [dead] = [n for n in uow.notifications.notices("carrier-a") if n["status"] == "dead"]
        again = notices.retry(uow, principal(engine, "carrier-a"), dead["id"], datetime.now(UTC))
    assert (dead["subscription_id"], again["status"], again["subscription_id"]) == (second, "pending", second)


def test_a_dead_release_is_requeued_to_its_system_unless_that_system_was_told_more_since(engine: Engine,
                                                                                          plain_settings: None) -> None:
    """Regression reviews: a dead release of a deleted subscription, re-queued through its
    replacement at the same endpoint, arrived after the newer hold and release that endpoint had
    received; and a system whose last news was "held" was refused its dead release because of
    notices that only reached another system. Delivery is set in the store, as it would end."""
    s = seed(engine)
    x, y = "http://127.0.0.1:9/x", "http://127.0.0.1:9/y"  # two systems of the shipping line

    def turn(action: Any, dead_at_y: bool = False) -> None:
        with unit_of_work(engine) as uow:
            action(uow, s["officer"], s["trip_a"], "r", datetime.now(UTC))
            newest = max(n["id"] for n in uow.notifications.notices("carrier-a"))
            uow.session.execute(update(NotificationRow).where(NotificationRow.status == "pending").values(
                status="delivered"))
            if dead_at_y:
                uow.session.execute(update(NotificationRow).where(NotificationRow.id == newest).values(status="dead"))

    def released_again_to_y(y_told_later: bool) -> Any:
        with unit_of_work(engine) as uow:
            uow.session.execute(delete(NotificationRow))
            uow.session.execute(delete(SubscriptionRow))
        subscribe(engine, "carrier-a", x, SECRET_A, ("hold", "release"))
        first_y = subscribe(engine, "carrier-a", y, SECRET_A, ("hold", "release"))
        turn(inspections.place_hold)
        turn(inspections.release_hold, dead_at_y=True)  # Y's release goes dead
        with unit_of_work(engine) as uow:
            [dead] = [n for n in uow.notifications.notices("carrier-a") if n["status"] == "dead"]
            if not y_told_later:
                notices.unsubscribe(uow, principal(engine, "carrier-a"), first_y, datetime.now(UTC))
        turn(inspections.place_hold)
        turn(inspections.release_hold)
        if y_told_later:
            with unit_of_work(engine) as uow:
                notices.unsubscribe(uow, principal(engine, "carrier-a"), first_y, datetime.now(UTC))
        subscribe(engine, "carrier-a", y, SECRET_A, ("hold", "release"))  # Y subscribed again
        with unit_of_work(engine) as uow:
            return notices.retry(uow, principal(engine, "carrier-a"), dead["id"], datetime.now(UTC))

    with pytest.raises(ConflictError, match=" was queued after it to the same endpoint: re-sending this one would put "
                                            "an older state last"):
        released_again_to_y(y_told_later=True)
    assert released_again_to_y(y_told_later=False)["status"] == "pending"  # Y's last news was "held"


def _ended(engine: Engine, s: dict[str, Any], *steps: tuple[Any, str]) -> None:
    """Each step's hold or release of trip_a, its notices then ended as ``status`` (delivered or
    dead), as a delivery round would end them."""
    for action, status in steps:
        with unit_of_work(engine) as uow:
            action(uow, s["officer"], s["trip_a"], "r", datetime.now(UTC))
            uow.session.execute(update(NotificationRow).where(NotificationRow.status == "pending").values(
                status=status))


def test_a_dead_hold_is_not_requeued_to_a_system_whose_last_news_was_held(engine: Engine,
                                                                          plain_settings: None) -> None:
    """A regression review: held (delivered), released (dead), held again (dead): the second hold
    was re-queued though the system still believed the box held; a dead release did not count
    as told."""
    s = seed(engine)
    subscribe(engine, "carrier-a", "http://127.0.0.1:9/y", SECRET_A, ("hold", "release"))
    _ended(engine, s, (inspections.place_hold, "delivered"), (inspections.release_hold, "dead"),
           (inspections.place_hold, "dead"))
    with unit_of_work(engine) as uow:
        first, _, again = sorted(n["id"] for n in uow.notifications.notices("carrier-a"))
        with pytest.raises(ConflictError, match=f"carrier-a was sent the hold of container MSCU1234565 already "
                                                f"\\(notice {first}, delivered"):
            notices.retry(uow, principal(engine, "carrier-a"), again, datetime.now(UTC))


def test_a_dead_alert_is_not_requeued_to_a_system_that_got_the_same_alert(engine: Engine,
                                                                         plain_settings: None) -> None:
    """A notice review: a line's alert reached system A and died at B; B was deleted and its dead
    copy re-queued went through A, which took it as a second alert (each copy has its own
    notice id). Another alert, or the copy re-queued to its own live system, still goes."""
    s = seed(engine)
    a = subscribe(engine, "carrier-a", "http://127.0.0.1:9/a", SECRET_A, ("alert",))
    b = subscribe(engine, "carrier-a", "http://127.0.0.1:9/b", SECRET_A, ("alert",))

    def alert(text: str) -> dict[int, int]:
        with unit_of_work(engine) as uow:
            queued = notices.notify_alert(uow, s["trip_a"], text, datetime.now(UTC))
            uow.session.execute(update(NotificationRow).where(NotificationRow.subscription_id == a,
                                                              NotificationRow.status == "pending").values(
                status="delivered"))
            uow.session.execute(update(NotificationRow).where(NotificationRow.status == "pending").values(
                status="dead"))
            return {n["subscription_id"]: n["id"] for n in uow.notifications.notices("carrier-a") if n["id"] in queued}

    first = alert("Vessel call moved to berth 1742.")
    with unit_of_work(engine) as uow:  # B still there: its own copy goes to it
        assert notices.retry(uow, principal(engine, "carrier-a"), first[b], datetime.now(UTC))["subscription_id"] == b
        uow.session.execute(update(NotificationRow).where(NotificationRow.id == first[b]).values(status="dead"))
        notices.unsubscribe(uow, principal(engine, "carrier-a"), b, datetime.now(UTC))
    with unit_of_work(engine) as uow, pytest.raises(
            ConflictError, match=f"the same alert about container MSCU1234565 went to that endpoint already "
                                 f"\\(notice {first[a]}, delivered, subscription {a}\\)"):
        notices.retry(uow, principal(engine, "carrier-a"), first[b], datetime.now(UTC))
    subscribe(engine, "carrier-a", "http://127.0.0.1:9/b", SECRET_A, ("alert",))  # B again: it never got it
    with unit_of_work(engine) as uow:
        assert notices.retry(uow, principal(engine, "carrier-a"), first[b], datetime.now(UTC))["status"] == "pending"


def test_a_dead_hold_is_requeued_when_a_release_went_to_another_endpoint_of_the_line(engine: Engine,
                                                                                     plain_settings: None) -> None:
    """A regression review: a shipping line taking holds and releases at two URLs; held
    (delivered), released (delivered), held again (dead): the hold was refused as sent already,
    and the line's last news stayed "released" for a held box."""
    s = seed(engine)
    subscribe(engine, "carrier-a", "http://127.0.0.1:9/sys/hold", SECRET_A, ("hold",))
    subscribe(engine, "carrier-a", "http://127.0.0.1:9/sys/release", SECRET_A, ("release",))
    _ended(engine, s, (inspections.place_hold, "delivered"), (inspections.release_hold, "delivered"),
           (inspections.place_hold, "dead"))
    with unit_of_work(engine) as uow:
        again = max(n["id"] for n in uow.notifications.notices("carrier-a"))
        assert notices.retry(uow, principal(engine, "carrier-a"), again, datetime.now(UTC))["status"] == "pending"


def test_the_operator_lists_every_subscribers_dead_notices_and_requeues_one(
        engine: Engine, store_url: str, plain_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scheldt notices list | retry`: the node's operator sees what fails for whom (each carrier
    saw only its own dead letters, the operator none) and re-queues a notice."""
    s = seed(engine)
    url = f"http://127.0.0.1:{free_port()}/scheldt/notices"  # nothing listens there
    sub_a = subscribe(engine, "carrier-a", url, SECRET_A, ("hold",))
    sub_b = subscribe(engine, "carrier-b", url, SECRET_B, ("hold",))
    with unit_of_work(engine) as uow:
        for trip in (s["trip_a"], s["trip_b"]):
            inspections.place_hold(uow, s["officer"], trip, SECRET_REASON, datetime.now(UTC))
    assert deliver(engine, policy=RetryPolicy(max_tries=1))["dead"] == 2
    monkeypatch.setenv("SCHELDT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    cli = CliRunner()

    listed = cli.invoke(app, ["notices", "list", "--status", "dead", "--json"])
    assert listed.exit_code == 0, listed.stderr
    dead = json.loads(listed.stdout)["items"]
    assert sorted((d["organisation_id"], d["subscription_id"], d["body"]["container_number"], d["attempts"])
                  for d in dead) == [("carrier-a", sub_a, "MSCU1234565", 1), ("carrier-b", sub_b, "TGHU7654321", 1)]
    assert all("ConnectError" in d["last_error"] for d in dead)
    text = cli.invoke(app, ["notices", "list", "--status", "dead", "--org", "carrier-b"]).stdout
    assert len(text.splitlines()) == 1 and " carrier-b " in text and " hold " in text and "ConnectError" in text
    assert cli.invoke(app, ["notices", "list", "--status", "delivered"]).stdout == "no notices in state delivered\n"
    # an organisation that does not exist is an error, as with every other --org (an operator review)
    ghost = cli.invoke(app, ["notices", "list", "--org", "ghost"])
    assert ghost.exit_code == 2 and "no such organisation" in ghost.stderr and ghost.stdout == ""
    # what a carrier's receiver answered is shown with its control characters as "?" (regression
    # review: a screen-clear and a carriage return overwrote the operator's list)
    with unit_of_work(engine) as uow:
        uow.session.execute(update(NotificationRow).where(NotificationRow.subscription_id == sub_b).values(
            last_error="HTTP 500: \x1b[2J\x1b]0;pwned\x07\rALL GOOD"))
    shown = cli.invoke(app, ["notices", "list", "--status", "dead", "--org", "carrier-b"]).stdout
    assert shown.endswith("last error: HTTP 500: ?[2J?]0;pwned??ALL GOOD\n") and "\x1b" not in shown

    of_a = next(d["id"] for d in dead if d["organisation_id"] == "carrier-a")
    done = cli.invoke(app, ["notices", "retry", str(of_a)])
    assert (done.exit_code, done.stdout) == (0, f"notice {of_a} of carrier-a re-queued through subscription {sub_a}\n")
    again = cli.invoke(app, ["notices", "retry", str(of_a)])
    assert again.exit_code == 2 and "is pending, only a dead notice is re-queued" in again.stderr
    with unit_of_work(engine) as uow:
        assert [(n["status"], n["attempts"]) for n in uow.notifications.notices("carrier-a")] == [("pending", 0)]
        assert [n["status"] for n in uow.notifications.notices("carrier-b")] == ["dead"]
    commands = [e.payload["action"] for e in audit_entries(engine) if e.payload.get("remote_addr") == "local"]
    assert commands.count("scheldt notices retry") == 1 and commands.count("scheldt notices list") == 4


def test_the_job_kind_delivers_and_a_409_counts_as_delivered(engine: Engine, plain_settings: None) -> None:
    s = seed(engine)
    with receiver(SECRET_A) as rx:
        subscribe(engine, "carrier-a", rx.url, SECRET_A)
        with unit_of_work(engine) as uow:
            (queued,) = notices.notify_alert(uow, s["trip_a"], "Vessel call moved to berth 1742.", datetime.now(UTC))
            body = uow.notifications.notice(queued)["body"]
        # The receiver accepted this notice before but its answer was lost: it answers 409.
        data = body_bytes(body)
        with httpx.Client() as c:
            assert c.post(rx.url, content=data, headers=signed_headers(
                SECRET_A, body["notice_id"], data, int(time.time()))).status_code == 200
        assert "deliver-notices" in KINDS
        result = run_kind("deliver-notices", lambda: unit_of_work(engine), {"limit": 10}, lambda f, m: None)
        assert result == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0}
        with unit_of_work(engine) as uow:
            n = uow.notifications.notice(queued)
        assert n["status"] == "delivered" and "409" in n["last_error"]
        assert len(rx.notices) == 1


# --- subscriptions through the API --------------------------------------------------------------

def signed_in(client: TestClient, users: Iterable[str]) -> dict[str, dict[str, str]]:
    """Headers of a password session of each user (what subscribing takes: an API token cannot)."""
    out = {}
    for user in users:
        made = client.post("/api/v1/auth/sign-in", json={"username": user, "password": PASSWORD})
        assert made.status_code == 200, made.text
        client.cookies.clear()
        out[user] = {"Authorization": f"Bearer {made.json()['session']}"}
    return out


def test_subscriptions_api(engine: Engine, plain_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    s = seed(engine)
    client = TestClient(create_app(engine, workbench=False))
    h = signed_in(client, s["tokens"])
    good = {"callback_url": "https://carrier-a.example/scheldt/notices", "secret": SECRET_A, "kinds": ["hold"]}
    assert client.post("/api/v1/subscriptions", json=good, headers=h["officer"]).status_code == 403
    # an access review: a leaked token subscribed its holder's URL, which went on receiving the
    # carrier's notices after the token was revoked; subscribing takes a password session
    by_token = client.post("/api/v1/subscriptions", json=good,
                           headers={"Authorization": f"Bearer {s['tokens']['carrier-a']}"})
    assert by_token.status_code == 403 and by_token.json()["error"]["why"].startswith(
        "an API token cannot subscribe a callback URL: sign in with your password")
    for bad, where in (({"secret": "x" * 31}, "secret"), ({"callback_url": "ftp://x.example/"}, "callback_url"),
                       ({"callback_url": "https://user:pw@x.example/"}, "callback_url"),
                       ({"callback_url": "/relative"}, "callback_url")):
        r = client.post("/api/v1/subscriptions", json=good | bad, headers=h["carrier-a"])
        assert r.status_code == 400 and r.json()["error"]["where"] == where, r.text
    assert client.post("/api/v1/subscriptions", json=good | {"kinds": ["seizure"]},
                       headers=h["carrier-a"]).status_code == 422
    assert client.post("/api/v1/subscriptions", json=good | {"extra": 1}, headers=h["carrier-a"]).status_code == 422
    # a node whose sealing key is broken says so to its operator, not where its key lives to a carrier
    # (a malformed SCHELDT_SECRETS_KEY stops the node at start; a key file is read when needed)
    from scheldt.store.sealing import key_path

    monkeypatch.delenv("SCHELDT_SECRETS_KEY")
    get_settings.cache_clear()
    key_path().parent.mkdir(parents=True, exist_ok=True)
    key_path().write_text("not-a-key\n")
    broken = client.post("/api/v1/subscriptions", json=good, headers=h["carrier-a"])
    assert broken.status_code == 500 and broken.json()["error"] == {
        "status": 500, "where": "subscription", "why": "this node cannot keep the shared secret just now; its "
                                                       "operator is told (the server's log): try again later"}
    key_path().unlink()
    r = client.post("/api/v1/subscriptions", json=good, headers=h["carrier-a"])
    assert r.status_code == 201, r.text
    created = r.json()
    assert SECRET_A not in r.text and "secret" not in created
    assert created["kinds"] == ["hold"] and created["active"] is True
    # a retried POST (an API review's): each notice would have gone twice, under two notice ids
    again = client.post("/api/v1/subscriptions", json=good, headers=h["carrier-a"])
    assert again.status_code == 409 and again.json()["error"] == {
        "status": 409, "where": "callback_url", "why": f"subscription {created['id']} already sends hold notices to "
                                                       "this URL: each notice would go twice (give it a new secret "
                                                       f"with PUT /api/v1/subscriptions/{created['id']}/secret; "
                                                       "delete it first to change its kinds)"}
    # nor the same endpoint spelt otherwise (a regression review: each of these got 201)
    for spelt in ("HTTPS://Carrier-A.example/scheldt/notices", "https://carrier-a.example:443/scheldt/notices",
                  "https://carrier-a.example/scheldt/notices?", "https://carrier-a.example/%73cheldt/notices/"):
        r = client.post("/api/v1/subscriptions", json=good | {"callback_url": spelt}, headers=h["carrier-a"])
        assert r.status_code == 409 and r.json()["error"]["where"] == "callback_url", (spelt, r.text)
    listed = client.get("/api/v1/subscriptions", headers=h["carrier-a"])
    assert [x["id"] for x in listed.json()["items"]] == [created["id"]] and SECRET_A not in listed.text
    assert client.get("/api/v1/subscriptions", headers=h["carrier-b"]).json()["items"] == []
    assert client.delete(f"/api/v1/subscriptions/{created['id']}", headers=h["carrier-b"]).status_code == 404
    # A hold queued for the subscription, then the subscription deleted: the notice is dead-lettered
    # and cannot be re-queued until the carrier subscribes again; then it goes through the new
    # subscription (a carrier review's re-queue was refused after it had subscribed again).
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
    r = client.delete(f"/api/v1/subscriptions/{created['id']}", headers=h["carrier-a"])
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["dead_lettered"] == 1
    (dead,) = client.get("/api/v1/notices/dead-letter", headers=h["carrier-a"]).json()["items"]
    assert "subscription deleted" in dead["last_error"]
    refused = client.post(f"/api/v1/notices/{dead['id']}/retry", headers=h["carrier-a"])
    assert refused.status_code == 409 and refused.json()["error"]["why"] == (
        "its subscription was deleted and no active subscription of carrier-a receives hold notices: subscribe "
        "again, then re-queue it")
    assert client.get("/api/v1/notices", params={"status": "pending"}, headers=h["carrier-a"]).json()["items"] == []
    renewed = client.post("/api/v1/subscriptions", json=good | {"secret": SECRET_A[::-1]}, headers=h["carrier-a"])
    assert renewed.status_code == 201, renewed.text
    # the renewed subscription is sent the hold on its boxes: the dead copy is not re-queued as well
    # (a shipping-line review received one hold three times)
    [told] = client.get("/api/v1/notices", params={"status": "pending"}, headers=h["carrier-a"]).json()["items"]
    assert (told["kind"], told["subscription_id"]) == ("hold", renewed.json()["id"])
    requeued = client.post(f"/api/v1/notices/{dead['id']}/retry", headers=h["carrier-a"])
    assert requeued.status_code == 409 and requeued.json()["error"]["why"] == (
        f"carrier-a was sent the hold of container MSCU1234565 already (notice {told['id']}, pending, subscription "
        f"{renewed.json()['id']})")
    assert client.delete(f"/api/v1/subscriptions/{renewed.json()['id']}", headers=h["carrier-a"]).status_code == 200
    # Plain http only when the operator allows it.
    monkeypatch.setenv("SCHELDT_NOTICE_ALLOW_HTTP", "false")
    get_settings.cache_clear()
    r = client.post("/api/v1/subscriptions", json=good | {"callback_url": "http://carrier-a.example/cb"},
                    headers=h["carrier-a"])
    assert r.status_code == 400 and r.json()["error"]["where"] == "callback_url"
    # Paging of the notice list.
    with unit_of_work(engine) as uow:
        sub = uow.notifications.add_subscription("carrier-a", "https://a.example/cb", SECRET_A, ["alert"],
                                                 datetime.now(UTC))
        for i in range(5):
            notices.notify_alert(uow, s["trip_a"], f"alert {i}", datetime.now(UTC))
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/notices", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=h["carrier-a"]).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # the dead hold, the hold the renewed subscription was told of, and the five alerts
    assert len(seen) == 7 == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert sub["kinds"] == ["alert"]
    assert client.get("/api/v1/notices", headers=h["carrier-b"]).json()["items"] == []


def test_receiver_example_runs_from_the_command_line(tmp_path: Any) -> None:
    import subprocess
    import sys

    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET_A + "\n", encoding="utf-8")
    out = tmp_path / "notices.jsonl"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "scheldt.exchange.receiver_example", "--secret-file",
                             str(secret_file), "--port", str(port), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(timeout=5) as client:
            while True:
                try:
                    if client.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "the receiver did not start"
                time.sleep(0.1)
            body = body_bytes({"notice_id": "cli-1", "kind": "release", "container_number": "MSCU1234565",
                               "document_ref": "BL-1", "voyage": "V1", "text": notices.RELEASE_TEXT,
                               "at": "2026-03-02T10:00:00Z", "version": 1})
            headers = signed_headers(SECRET_A, "cli-1", body, int(time.time()))
            assert client.post(f"{base}/scheldt/notices", content=body, headers=headers).status_code == 200
            assert client.post(f"{base}/scheldt/notices", content=body, headers=headers).status_code == 409
            forged = signed_headers(SECRET_B, "cli-1", body, int(time.time()))
            assert client.post(f"{base}/scheldt/notices", content=body, headers=forged).status_code == 401
        assert out.read_text(encoding="utf-8").count("cli-1") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    short = tmp_path / "short.txt"
    short.write_text("too short", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "scheldt.exchange.receiver_example", "--secret-file", str(short),
                           "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "at least 32 bytes" in done.stderr


def test_callbacks_to_internal_addresses_are_refused_in_production() -> None:
    from scheldt.workflows.notices import check_callback_url

    for url in ("https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://localhost:8443/x",
                "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://192.168.0.5/"):
        with pytest.raises(InputError, match="loopback, private or link-local"):
            check_callback_url(url)
    assert check_callback_url("https://notices.carrier.example/scheldt") == "https://notices.carrier.example/scheldt"
    assert check_callback_url("http://127.0.0.1:9/x", allow_http=True) == "http://127.0.0.1:9/x"


def test_callbacks_to_internal_addresses_in_other_spellings_are_refused_too() -> None:
    """The C resolver reads 2130706433, 127.1, 0x7f.1 and 017700000001 as 127.0.0.1 (and
    'localhost.' as localhost), so these reached loopback: a failed try's answer is shown to
    the subscriber, so a carrier could read services inside the customs network."""
    from scheldt.workflows.notices import check_callback_url

    for url in ("https://2130706433/hook", "https://127.1/hook", "https://0x7f.1/hook", "https://017700000001/",
                "https://10.1/x", "https://0/x", "https://localhost./x", "https://127.0.0.1./x",
                "https://2852039166/latest/meta-data"):
        with pytest.raises(InputError, match="loopback, private or link-local"):
            check_callback_url(url)
    assert check_callback_url("https://1.2.3/x") == "https://1.2.3/x"  # 1.2.0.3: public


def test_callbacks_to_shared_multicast_and_mapped_addresses_are_refused() -> None:
    """An access review subscribed https://100.64.0.1/ (carrier-grade NAT, which Python 3.11's
    is_private leaves out): a notice would have been sent inside a provider's network."""
    from scheldt.workflows.notices import check_callback_url

    for url in ("https://100.64.0.1/", "https://100.127.255.254/x", "https://224.0.0.1/x",
                "https://[::ffff:100.64.0.1]/x", "https://[::ffff:10.0.0.1]/x", "https://[ff02::1]/x"):
        with pytest.raises(InputError, match="loopback, private or link-local"):
            check_callback_url(url)
    assert check_callback_url("https://100.128.0.1/x") == "https://100.128.0.1/x"  # just past the shared range
    assert check_callback_url("https://[2001:4860:4860::8888]/x") == "https://[2001:4860:4860::8888]/x"


def test_a_callback_host_name_that_resolves_inside_is_not_contacted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names were not resolved: an attack review subscribed https://vm:18765/ (vm is 127.0.0.1
    on that machine) and read from the errors which internal ports answered. The resolver is
    replaced here so the test does not depend on this machine's names."""
    import socket

    from scheldt.exchange.notify import post_notice, resolves_inside

    answers = {"hooks.inside.example": "10.0.0.7", "hooks.carrier.example": "93.184.216.34"}

    def resolve(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "no such name")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    assert resolves_inside("https://hooks.inside.example/scheldt")
    assert not resolves_inside("https://hooks.carrier.example/scheldt")
    assert not resolves_inside("https://unknown.example/scheldt")  # fails at the POST, as before
    when = datetime(2026, 3, 2, tzinfo=UTC)
    with httpx.Client(timeout=1) as client:
        attempt = post_notice(client, "https://hooks.inside.example/scheldt", "s" * 32, {"notice_id": "n-1"},
                              lambda: when)
    assert (attempt.delivered, attempt.status_code) == (False, None)
    assert attempt.note == ("the callback host resolves to a loopback, private or link-local address; "
                            "notices go to the subscriber's public endpoint")


def test_a_new_subscription_learns_of_the_holds_already_on_its_boxes(engine: Engine, plain_settings: None) -> None:
    """A hold is a state: a carrier review's notice, dead-lettered when its subscription was
    deleted, could never reach the carrier again, and a new subscription heard nothing of it."""
    from scheldt.store.models import ContainerTripRow

    s = seed(engine)
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, NOW)  # no one subscribed yet
        # a held box that left the port since is not one "that may not leave the terminal" (a
        # carrier review's new subscription was told so of a box gone weeks before)
        inspections.place_hold(uow, s["officer"], s["trip_b"], SECRET_REASON, NOW)
        uow.session.execute(update(ContainerTripRow).where(ContainerTripRow.id == s["trip_b"]).values(
            left_at=NOW + timedelta(days=1)))
    before = len(audit_entries(engine))
    subscribe(engine, "carrier-a", "http://127.0.0.1:9/a", SECRET_A, ("hold", "release"))
    subscribe(engine, "carrier-b", "http://127.0.0.1:9/b", SECRET_B)  # its held box has left
    queued = [e for e in audit_entries(engine)[before:] if e.kind == "notice"]
    assert [(e.payload["organisation"], e.payload["details"]["recipient"]) for e in queued] == [
        ("be-customs", "carrier-a")]  # as by the agency that placed the hold (it was by none)
    subscribe(engine, "terminal-1", "http://127.0.0.1:9/t", SECRET_A, ("alert",))  # holds not asked for
    subscribe(engine, "terminal-1", "http://127.0.0.1:9/t2", SECRET_A, ("hold",))
    with unit_of_work(engine) as uow:
        got = {org: [(n["kind"], n["body"]["container_number"], n["body"]["text"])
                     for n in uow.notifications.notices(org)] for org in ("carrier-a", "carrier-b", "terminal-1")}
    assert got == {"carrier-a": [("hold", "MSCU1234565", notices.HOLD_TEXT)], "carrier-b": [],
                   "terminal-1": [("hold", "MSCU1234565", notices.HOLD_TEXT)]}
    # dated when the hold was placed, not when subscribing (a carrier review's two endpoints
    # disagreed on when the box was held)
    with unit_of_work(engine) as uow:
        assert {n["body"]["at"] for org in ("carrier-a", "terminal-1") for n in uow.notifications.notices(org)} == {
            "2026-03-02T10:00:00Z"}


def test_a_notice_whose_secret_cannot_be_unsealed_fails_alone(engine: Engine, plain_settings: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets are sealed with the node's key (scheldt.store.sealing). Under another key one
    subscription's secret cannot be unsealed: its notice is a failed try whose note tells the
    carrier what to do (naming no file of the node), and the other carrier's notice goes out."""
    from cryptography.fernet import Fernet

    s = seed(engine)
    with receiver(SECRET_A) as rx_a, receiver(SECRET_B) as rx_b:
        subscribe(engine, "carrier-a", rx_a.url, SECRET_A, ("hold",))
        monkeypatch.setenv("SCHELDT_SECRETS_KEY", Fernet.generate_key().decode())  # a key changed by mistake
        get_settings.cache_clear()
        subscribe(engine, "carrier-b", rx_b.url, SECRET_B, ("hold",))
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
            inspections.place_hold(uow, s["officer"], s["trip_b"], SECRET_REASON, datetime.now(UTC))
        before = len(audit_entries(engine))
        # not sent: neither a try nor a POST in the audit log (regression review)
        assert deliver(engine) == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0, "unsigned": 1}
        assert [e.payload["details"]["recipient"] for e in audit_entries(engine)[before:] if e.kind == "notice"] == [
            "carrier-b"]
        assert rx_a.notices == [] and [n["container_number"] for n in rx_b.notices] == ["TGHU7654321"]
        with unit_of_work(engine) as uow:
            (n,) = uow.notifications.notices("carrier-a")
        # not tried, so no try is used up while the key is restored: it waits the longest back-off
        assert (n["status"], n["attempts"], n["last_error"]) == ("pending", 0, UNSIGNED_NOTE.format(
            id=n["subscription_id"]))
        assert f"PUT /api/v1/subscriptions/{n['subscription_id']}/secret" in n["last_error"]  # not "{id}"
        wait = (n["next_attempt_at"] - datetime.now(UTC)).total_seconds()
        assert get_settings().notice_backoff_cap_s - 30 < wait <= get_settings().notice_backoff_cap_s
        # the mend: the carrier gives its subscription a new secret, in place, and the waiting
        # notice goes out signed with it (a carrier review could only delete and subscribe again,
        # which dead-lettered its pending release and alert for good)
        client = TestClient(create_app(engine, workbench=False))
        [sub_a] = client.get("/api/v1/subscriptions", headers={"Authorization": f"Bearer {s['tokens']['carrier-a']}"}
                             ).json()["items"]
        as_ = signed_in(client, s["tokens"])
        url = f"/api/v1/subscriptions/{sub_a['id']}/secret"
        by_token = client.put(url, json={"secret": SECRET_A},
                              headers={"Authorization": f"Bearer {s['tokens']['carrier-a']}"})
        assert by_token.status_code == 403 and "an API token cannot give a subscription a new secret" in by_token.text
        padded = client.put(url, json={"secret": SECRET_A + " "}, headers=as_["carrier-a"])
        assert padded.status_code == 422 and "starts or ends with whitespace" in padded.text
        assert client.put(url, json={"secret": SECRET_A}, headers=as_["carrier-b"]).status_code == 404
        assert client.put(url, json={"secret": "short"}, headers=as_["carrier-a"]).status_code == 400
        changed = client.put(url, json={"secret": SECRET_A}, headers=as_["carrier-a"])
        assert changed.status_code == 200 and SECRET_A not in changed.text, changed.text
        # due at once, not after the back-off it was put off by (a review waited 5 min)
        with unit_of_work(engine) as uow:
            assert uow.notifications.any_due(datetime.now(UTC))
        assert deliver(engine) == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0}
        assert [n["container_number"] for n in rx_a.notices] == ["MSCU1234565"]


def test_a_notice_put_off_for_a_lost_key_goes_out_once_the_key_is_restored(
        engine: Engine, plain_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator restores the node's sealing key (and restarts): the notices put off because
    their secret could not be unsealed are due at the next round, not after the longest back-off
    (5 min); while the key is still wrong they stay put off, and notices put off for another
    reason keep their time."""
    from cryptography.fernet import Fernet

    s = seed(engine)
    with receiver(SECRET_A) as rx_a:
        subscribe(engine, "carrier-a", rx_a.url, SECRET_A, ("hold",))
        key = os.environ["SCHELDT_SECRETS_KEY"]
        monkeypatch.setenv("SCHELDT_SECRETS_KEY", Fernet.generate_key().decode())  # a key changed by mistake
        get_settings.cache_clear()
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
        assert deliver(engine) == {"tried": 0, "delivered": 0, "failed": 0, "dead": 0, "unsigned": 1}
        with unit_of_work(engine) as uow:
            assert not uow.notifications.any_due(datetime.now(UTC))  # still the wrong key: nothing due
            assert uow.notifications.release_signable(datetime.now(UTC)) == 0
        assert deliver(engine) == {"tried": 0, "delivered": 0, "failed": 0, "dead": 0}
        monkeypatch.setenv("SCHELDT_SECRETS_KEY", key)  # restored
        get_settings.cache_clear()
        with unit_of_work(engine) as uow:
            assert uow.notifications.any_due(datetime.now(UTC))  # the schedule runs a round
            uow.session.execute(update(NotificationRow).values(last_error="no answer within 10 s"))
            assert not uow.notifications.any_due(datetime.now(UTC))  # a failed try keeps its back-off
            uow.session.execute(update(NotificationRow).values(last_error=UNSIGNED_NOTE))
        assert deliver(engine) == {"tried": 1, "delivered": 1, "failed": 0, "dead": 0}
        assert [n["container_number"] for n in rx_a.notices] == ["MSCU1234565"]


def test_a_callback_url_that_is_no_url_is_refused(plain_settings: None) -> None:
    """A carrier review subscribed these; the first stopped every delivery round of the node."""
    from scheldt.workflows.notices import check_callback_url

    for url, why in (("https://scheldt-test.invalid/\r\nX-Injected: 1", "character 30 is a space, a control character"),
                     ("http://x y/", "character 9 is a space"), ("http://\u0000/", "character 8 is a space"),
                     ("https://bücher.example/", "its xn-- form"),
                     ("http://exa%00mple.com/", "'exa%00mple.com' is neither a host name"),
                     ("http://-/", "'-' is neither a host name"), ("http://a..b/", "'a..b' is neither a host name"),
                     # a regression review: never deliverable, and accepted
                     ("https://10.0.0.1%25x/hook", "is neither a host name"),
                     ("https://127.0.0.1%25lo/hook", "is neither a host name"),
                     ("https://1.1.1.1.1/hook", "'1.1.1.1.1' is neither"), ("https://999.1.1.1/hook", "'999.1.1.1' is")):
        with pytest.raises(InputError, match=re.escape(why)):
            check_callback_url(url, allow_http=True)
    assert check_callback_url("https://xn--bcher-kva.example/a%20b?c=d") == "https://xn--bcher-kva.example/a%20b?c=d"
    assert check_callback_url("https://123.example/x") == "https://123.example/x"


def test_a_notice_to_a_stored_url_that_is_no_url_fails_alone(engine: Engine, plain_settings: None) -> None:
    """A subscription stored before the URL was checked (or by another version): its notice
    raised httpx.InvalidURL, no HTTPError, which ended the whole round, so no notice of any
    organisation went out (carrier review). Now that try fails alone and is retried later."""
    s = seed(engine)
    with receiver(SECRET_B) as rx_b:
        with unit_of_work(engine) as uow:
            uow.notifications.add_subscription("carrier-a", "https://scheldt-test.invalid/\r\nX-Injected: 1",
                                               SECRET_A, ["hold"], NOW)
        subscribe(engine, "carrier-b", rx_b.url, SECRET_B, ("hold",))
        with unit_of_work(engine) as uow:
            inspections.place_hold(uow, s["officer"], s["trip_a"], SECRET_REASON, datetime.now(UTC))
            inspections.place_hold(uow, s["officer"], s["trip_b"], SECRET_REASON, datetime.now(UTC))
        assert deliver(engine) == {"tried": 2, "delivered": 1, "failed": 1, "dead": 0}
        assert [n["container_number"] for n in rx_b.notices] == ["TGHU7654321"]
    with unit_of_work(engine) as uow:
        (n,) = uow.notifications.notices("carrier-a")
    assert (n["status"], n["attempts"]) == ("pending", 1) and n["last_error"].startswith("InvalidURL: ")


@contextmanager
def trickling(answer_head: bytes, drip: bytes, every_s: float = 0.5) -> Iterator[str]:
    """A callback on loopback that reads each request, sends ``answer_head`` at once and then
    ``drip`` a byte every ``every_s`` seconds (each byte within httpx's per-read timeout), to
    every connection at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(answer_head)
            for byte in drip:
                if stop.wait(every_s):
                    break
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    break

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_slow_callback_does_not_hold_up_another_subscribers_notice(engine: Engine, plain_settings: None) -> None:
    """A carrier review's callback answered 200 at once and sent its body a byte every 2 s: with
    a 3 s timeout (httpx's is per read) the round took 80 s, and a terminal's notice to a healthy
    receiver waited as long. The status counts (the body of a 2xx answer is not read), and a call
    that trickles its answer's headers past the timeout fails alone, the round ending without it. (3 s: with
    1 s a loaded machine's fresh clone once counted the healthy receiver's answer as failed too.)"""
    s = seed(engine)
    with trickling(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", b"x" * 40) as body_drip, \
            trickling(b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"y" * 120, every_s=0.25) as head_drip, \
            receiver(SECRET_B) as healthy:
        subscribe(engine, "carrier-a", body_drip, SECRET_A, ("hold", "release"))
        subscribe(engine, "carrier-b", healthy.url, SECRET_B, ("hold", "release"))
        with unit_of_work(engine) as uow:
            for trip in (s["trip_a"], s["trip_b"]):
                inspections.place_hold(uow, s["officer"], trip, SECRET_REASON, datetime.now(UTC))
        started = time.monotonic()
        assert deliver(engine, timeout_s=3.0) == {"tried": 2, "delivered": 2, "failed": 0, "dead": 0}
        assert time.monotonic() - started < 10  # the drip lasts 20 s
        assert [n["container_number"] for n in healthy.notices] == ["TGHU7654321"]
        with unit_of_work(engine) as uow:
            uow.session.execute(update(SubscriptionRow).where(SubscriptionRow.organisation_id == "carrier-a")
                                .values(callback_url=head_drip))
        with unit_of_work(engine) as uow:
            inspections.release_hold(uow, s["officer"], s["trip_a"], "cleared", datetime.now(UTC))
            inspections.release_hold(uow, s["officer"], s["trip_b"], "cleared", datetime.now(UTC))
        started = time.monotonic()
        assert deliver(engine, timeout_s=3.0) == {"tried": 2, "delivered": 1, "failed": 1, "dead": 0}
        assert time.monotonic() - started < 10  # the header drip lasts 30 s
        assert [n["kind"] for n in healthy.notices] == ["hold", "release"]
    with unit_of_work(engine) as uow:
        failed = [n for n in uow.notifications.notices("carrier-a") if n["status"] == "pending"]
    assert [n["last_error"] for n in failed] == ["no answer within 3 s"]


def test_notices_a_round_could_not_start_are_not_counted_as_tries(engine: Engine, plain_settings: None) -> None:
    """Regression review: one carrier's eight slow callbacks took every sending thread; the
    terminal's notice waited in the queue, was counted a failed try each round, audited as a
    POST never made, and dead-lettered unsent. Organisations now start in turn, and a notice
    the round ended before is due again with no try counted and nothing audited."""
    s = seed(engine)
    with unit_of_work(engine) as uow:
        trips = [add_trip(uow, container, "SIMA", "SIMT1") for container in
                 ("MSCU1000004", "MSCU1000010", "MSCU1000025", "MSCU1000030", "MSCU1000046", "MSCU1000051",
                  "MSCU1000067", "MSCU1000072")]
    with trickling(b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"y" * 120, every_s=0.25) as head_drip, \
            receiver(SECRET_B) as healthy:
        subscribe(engine, "carrier-a", head_drip, SECRET_A, ("hold",))
        subscribe(engine, "carrier-b", healthy.url, SECRET_B, ("hold",))
        with unit_of_work(engine) as uow:
            for trip in (s["trip_a"], *trips, s["trip_b"]):  # carrier-b's notice queued last
                inspections.place_hold(uow, s["officer"], trip, SECRET_REASON, datetime.now(UTC))
        before, round_began = len(audit_entries(engine)), datetime.now(UTC)
        # 8 threads: carrier-a's first, carrier-b's, then carrier-a's next six; carrier-b's done, its
        # thread takes carrier-a's eighth; the ninth never begins
        assert deliver(engine, timeout_s=1.0) == {"tried": 9, "delivered": 1, "failed": 8, "dead": 0, "deferred": 1}
        assert [n["container_number"] for n in healthy.notices] == ["TGHU7654321"]
    with unit_of_work(engine) as uow:
        pending = uow.notifications.notices("carrier-a", status="pending")
    assert sorted(n["attempts"] for n in pending) == [0] + [1] * 8
    [deferred] = [n for n in pending if n["attempts"] == 0]
    tried = [n for n in pending if n["attempts"] == 1]
    # it keeps its place: due before the notices tried and failed (a regression review's deferred
    # notices went behind their own organisation's retries, round after round)
    assert deferred["next_attempt_at"] < round_began < min(n["next_attempt_at"] for n in tried)
    assert deferred["last_error"].startswith("not sent: the delivery round ended before its turn")
    assert len([e for e in audit_entries(engine)[before:] if e.kind == "notice"]) == 9  # the POSTs made


def test_an_alert_notice_waits_for_the_hold_queued_before_it(engine: Engine, plain_settings: None) -> None:
    """A federation review: "present the box at scanner SC-1" reached the shipping line before
    the hold queued before it (alerts went as they came)."""
    s = seed(engine)
    subscribe(engine, "carrier-a", f"http://127.0.0.1:{free_port()}/n", SECRET_A, ("hold", "alert"))
    with unit_of_work(engine) as uow:
        inspections.place_hold(uow, s["officer"], s["trip_a"], "K9", datetime.now(UTC))
        inspections.send_notice(uow, s["officer"], s["trip_a"], "Present the box at scanner SC-1.", datetime.now(UTC))
    assert deliver(engine, policy=RetryPolicy(max_tries=1)) == {
        "tried": 1, "delivered": 0, "failed": 0, "dead": 1, "waiting": 1}
    with unit_of_work(engine) as uow:
        queued = sorted(uow.notifications.notices("carrier-a"), key=lambda n: n["id"])
    assert [(n["kind"], n["status"]) for n in queued] == [("hold", "dead"), ("alert", "pending")]
