"""A shipping line's DCSA Track & Trace 2.2 publisher pushes its events through a feed: the line
makes the feed here, subscribes its callback URL at its publisher, and each callback is signed
``Notification-Signature: sha256=<hex>`` (DCSA EVENT_DOMAIN: HMAC-SHA256 of the whole body under
the Base64 secret's bytes), on SQLite and PostgreSQL.

The callbacks are written here as a DCSA T&T 2.2 publisher sends them (a JSON array of events,
shaped as in tests/api/test_supplied.py); the signatures are computed here with the standard
library's hmac, independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from scheldt.api.deps import OPEN_PATHS
from scheldt.cli import app
from scheldt.domain.access import Principal
from scheldt.errors import AuthError
from scheldt.settings import get_settings
from scheldt.store.models import TntFeedRow, UserRow
from scheldt.store.sealing import stored_credentials
from scheldt.workflows import tnt_feeds
from scheldt.workflows.accounts import create_user, set_user_active
from tests.api.conftest import PASSWORD, Service
from tests.api.test_supplied import _document, _load, _post

FEEDS = "/api/v1/dcsa/tnt/v2/feeds"
CALLBACK = "/api/v1/dcsa/tnt/v2/notifications"


def _feed(service: Service, user: str = "carrier") -> dict[str, Any]:
    made = service.client.post(FEEDS, headers=service.signed_in(user))
    assert made.status_code == 201, made.text
    return made.json()


def _signed(secret: str, body: bytes) -> dict[str, str]:
    mac = hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Notification-Signature": f"sha256={mac}", "API-Version": "2.2.0",
            "Subscription-ID": "8fbdc2d8-57c8-48b9-a04b-18fd8ec1d809"}


def _callback(service: Service, feed: str, body: bytes, headers: dict[str, str]) -> Any:
    return service.client.post(CALLBACK, params={"feed": feed}, content=body, headers=headers)


def test_a_lines_tnt22_publisher_pushes_signed_events_through_its_feed(service: Service) -> None:
    """The feed gives its callback URL and secret once, with the body to subscribe with; a
    signed callback is kept as a file the line's user sent, under the same rules as an upload
    (another line's event refused, its own kept), answered 204 with the file named by Link;
    the same callback again adds nothing; a publisher's HEAD check of the URL is answered 204."""
    feed = _feed(service)
    assert feed["callback_url"] == f"http://testserver{CALLBACK}?feed={feed['id']}"
    assert feed["subscription"] == {"callbackUrl": feed["callback_url"], "secret": feed["secret"]}
    assert len(base64.b64decode(feed["secret"], validate=True)) == tnt_feeds.SECRET_BYTES == 32
    assert (feed["organisation_id"], feed["username"], feed["active"]) == ("carrier-a", "carrier", True)
    assert service.client.head(CALLBACK, params={"feed": feed["id"]}).status_code == 204
    assert _post(service, "carrier-b", _document("SIMBTEST0041", "SIMB", "TGHU9876547")).status_code == 201
    body = json.dumps([_load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a01", "MSKU9070323", "SIMATEST0041"),
                       _load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a02", "TGHU9876547", "SIMBTEST0041")]).encode()
    pushed = _callback(service, feed["id"], body, _signed(feed["secret"], body))
    assert (pushed.status_code, pushed.content, pushed.headers["api-version"]) == (204, b"", "2.2.0")
    file_id = int(pushed.headers["link"].split("/shipping-data/")[1].split(">")[0])
    kept = service.client.get(f"/api/v1/shipping-data/{file_id}", headers=service.as_("carrier")).json()
    assert (kept["name"], kept["username"], kept["format"], kept["accepted"], kept["added"], kept["rejected"]) == (
        "dcsa-tnt-v2-notification.json", "carrier", "dcsa-events", 1, 1, 1)
    [refused] = kept["report"]["rejections"]
    assert (refused["where"], refused["field"]) == (f"carrier-a/{file_id}/dcsa-tnt-v2-notification.json$[1]",
                                                    "documentReferences")
    again = _callback(service, feed["id"], body, _signed(feed["secret"], body))
    assert again.status_code == 204
    second = int(again.headers["link"].split("/shipping-data/")[1].split(">")[0])
    repeat = service.client.get(f"/api/v1/shipping-data/{second}", headers=service.as_("carrier")).json()
    assert (repeat["accepted"], repeat["added"], repeat["rejected"]) == (1, 0, 1)
    with service.uow() as uow:
        [load] = uow.events.for_containers(["MSKU9070323"])["MSKU9070323"]
        writes = [e for e in uow.audit.entries(0, uow.audit.count())
                  if (e.kind, e.payload["object_kind"]) == ("write", "shipping-data")]
        stored = uow.session.scalar(select(TntFeedRow.secret).where(TntFeedRow.id == feed["id"]))
        credentials = stored_credentials(uow.session)
    assert (load["supplied_by"], load["event_type"]) == ("carrier-a", "LOAD")
    # who sent each callback: the feed's user, through the feed (what a leaked secret did can be found)
    assert [(e.payload["actor"], e.payload["credential"]) for e in writes[-2:]] == [
        ("carrier", f"tnt-feed {feed['id']}")] * 2
    # the secret is kept sealed, and `scheldt secrets check` lists it
    assert stored.startswith("sealed:v1:") and feed["secret"] not in stored
    assert {"kind": "tnt-feed", "name": f"{feed['id']} of carrier-a", "status": "opens",
            "to_mend": "carrier-a deletes it, makes a new feed (POST /api/v1/dcsa/tnt/v2/feeds) and subscribes it "
                       "at its publisher"} in credentials


def test_a_callback_without_the_feeds_signature_is_refused_and_nothing_is_kept(service: Service) -> None:
    """No signature, another type, not hexadecimal, another secret's, or a body changed after
    signing: 401 saying why, nothing read, the attempt audited as denied under the feed; an
    unknown feed: 404."""
    feed = _feed(service)
    body = json.dumps([_load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a11", "CAIU1234561", "SIMATEST0042")]).encode()
    good = _signed(feed["secret"], body)
    other = base64.b64encode(b"k" * 32).decode()
    cases = {
        "missing": ({k: v for k, v in good.items() if k != "Notification-Signature"}, body),
        "md5": (good | {"Notification-Signature": "md5=" + good["Notification-Signature"][7:]}, body),
        "not hex": (good | {"Notification-Signature": "sha256=not-hex"}, body),
        "another secret": (_signed(other, body), body),
        "body changed": (good, body.replace(b"CAIU1234561", b"CAIU1234562")),
    }
    with service.uow() as uow:
        files_before = len(uow.supplied_files.recent("carrier-a", None, 100))
    answers = {name: _callback(service, feed["id"], sent, headers) for name, (headers, sent) in cases.items()}
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(cases, 401)
    whys = {name: a.json()["error"]["why"] for name, a in answers.items()}
    assert whys["missing"].startswith("missing: DCSA T&T 2.2 signs each callback with Notification-Signature")
    assert whys["md5"].startswith("'md5=")
    assert whys["not hex"] == "the signature after sha256= is not hexadecimal"
    assert whys["another secret"] == whys["body changed"] == (
        "does not match the body: sign the exact bytes sent with the feed's secret (its Base64 decoded), or make a "
        "new feed if the secret was lost")
    assert answers["md5"].json()["error"]["where"] == "header.notification-signature"
    unknown = _callback(service, "8fbdc2d8-57c8-48b9-a04b-18fd8ec1d809", body, good)
    assert unknown.status_code == 404 and unknown.json()["error"]["where"] == "query.feed"
    assert _callback(service, "", body, good).status_code == 404
    assert service.client.head(CALLBACK, params={"feed": "8fbdc2d8-57c8-48b9-a04b-18fd8ec1d809"}).status_code == 404
    with service.uow() as uow:
        assert len(uow.supplied_files.recent("carrier-a", None, 100)) == files_before
        assert uow.events.for_containers(["CAIU1234561", "CAIU1234562"]) == {"CAIU1234561": [], "CAIU1234562": []}
        denied = [e.payload for e in uow.audit.entries(0, uow.audit.count()) if e.kind == "denied"][-5:]
    assert [(d["actor"], d["credential"], d["details"]["status"]) for d in denied] == [
        ("carrier", f"tnt-feed {feed['id']}", 401)] * 5


def test_a_deleted_feed_or_a_disabled_user_stops_the_callbacks(service: Service) -> None:
    """Deleting a feed refuses its callbacks and its URL check (404); disabling its user deletes
    it (as the user's tokens are revoked: enabling the user again brings it back no more), and a
    user that may no longer send stops its feed. A stopped feed is answered as an unknown one,
    naming no account (a review: a caller without the secret was told the user's name, role
    and that it was disabled), is listed inactive saying who or what stopped it (a disabled
    user's feeds were listed as "deleted", as if the line had deleted them), and each refused
    callback is audited under the feed. No other organisation can delete a line's feed."""
    with service.uow() as uow:  # disabling revokes the user's tokens: not the module's shared "carrier"
        create_user(uow, "carrier-x", "carrier-a", ["carrier_security"], PASSWORD, datetime.now(UTC), "X")
    first, second, third = _feed(service), _feed(service), _feed(service, "carrier-x")
    body = json.dumps([_load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a21", "MSKU9070323", "SIMATEST0043")]).encode()
    assert service.client.delete(f"{FEEDS}/{first['id']}", headers=service.as_("carrier-b")).status_code == 404
    gone = service.client.delete(f"{FEEDS}/{first['id']}", headers=service.as_("carrier"))
    assert (gone.status_code, gone.json()["active"]) == (200, False)
    assert _callback(service, first["id"], body, _signed(first["secret"], body)).status_code == 404
    assert service.client.head(CALLBACK, params={"feed": first["id"]}).status_code == 404
    assert service.client.delete(f"{FEEDS}/{first['id']}", headers=service.as_("carrier")).status_code == 404
    with service.uow() as uow:
        user = uow.accounts.user("carrier")
        uow.session.execute(update(UserRow).where(UserRow.id == user.id).values(roles=["analyst"]))
    try:
        demoted = _callback(service, second["id"], body, {})  # no signature: told nothing of the account
        listed = {f["id"]: f for f in service.client.get(FEEDS, headers=service.as_("carrier-b")).json()["items"]}
        head = service.client.head(CALLBACK, params={"feed": second["id"]}).status_code
    finally:
        with service.uow() as uow:
            uow.session.execute(update(UserRow).where(UserRow.id == user.id).values(roles=["carrier_security"]))
    assert (demoted.status_code, demoted.json()["error"]) == (404, {
        "status": 404, "where": "query.feed", "why": tnt_feeds.NO_FEED})
    assert head == 404 and second["id"] not in listed  # carrier-b lists its own feeds only
    assert _callback(service, second["id"], body, _signed(second["secret"], body)).status_code == 204
    off = service.client.put("/api/v1/users/carrier-x/active", json={"active": False, "reason": "left the line"},
                             headers=service.as_("admin"))
    assert (off.status_code, off.json()["active"]) == (200, False), off.text
    with service.uow() as uow:  # the disabling names the feeds it stopped (a regression review: it did not)
        entry = [e.payload for e in uow.audit.entries(0, uow.audit.count())
                 if e.payload["object_kind"] == "user" and e.payload["object_id"] == "carrier-x"][-1]
        assert (entry["details"]["action"], entry["details"]["feeds_stopped"]) == ("disable", [third["id"]])
        again, stopped = set_user_active(uow, None, "carrier-x", True, datetime.now(UTC))
    assert (again.active, stopped) == (True, [])
    refused = _callback(service, third["id"], body, _signed(third["secret"], body))
    assert (refused.status_code, refused.json()["error"]["why"]) == (404, tnt_feeds.NO_FEED)
    mine = {f["id"]: f for f in service.client.get(FEEDS, headers=service.as_("carrier")).json()["items"]}
    assert [(mine[f["id"]]["active"], mine[f["id"]].get("stopped"), "callback_url" in mine[f["id"]], "secret" in
             mine[f["id"]]) for f in (first, second, third)] == [
        (False, "deleted by carrier", False, False), (True, None, True, False),
        (False, "its user carrier-x was disabled", False, False)]  # each says who or what stopped it
    with service.uow() as uow:
        denied = [e.payload for e in uow.audit.entries(0, uow.audit.count())
                  if e.kind == "denied" and e.payload.get("credential", "").startswith("tnt-feed")][-3:]
    assert [(d["actor"], d["credential"], d["details"]["status"]) for d in denied] == [
        ("carrier", f"tnt-feed {first['id']}", 404), ("carrier", f"tnt-feed {second['id']}", 404),
        ("carrier-x", f"tnt-feed {third['id']}", 404)]


def test_who_may_make_a_feed(service: Service) -> None:
    """A feed is a way in that outlives an API token: made only with a password session, by a
    user who may send shipping data (not an agency's officer), at most MAX_FEEDS active at once."""
    by_token = service.client.post(FEEDS, headers=service.as_("carrier"))
    assert (by_token.status_code, by_token.json()["error"]["where"]) == (403, "authorization")
    assert service.client.post(FEEDS, headers=service.signed_in("officer")).status_code == 403
    assert service.client.get(FEEDS, headers=service.as_("officer")).status_code == 403
    session = service.signed_in("carrier-b")
    active = sum(f["active"] for f in service.client.get(FEEDS, headers=session).json()["items"])
    made = [service.client.post(FEEDS, headers=session).status_code for _ in range(tnt_feeds.MAX_FEEDS - active + 1)]
    assert made == [201] * (tnt_feeds.MAX_FEEDS - active) + [409]
    assert service.client.post(FEEDS, headers=session).json()["error"]["why"] == (
        f"carrier-b has {tnt_feeds.MAX_FEEDS} active feeds; delete one it no longer uses first")


def test_a_callback_whose_every_event_is_refused_is_a_400_with_the_files_record(service: Service) -> None:
    """Nothing could be kept: the publisher is told so (400, the record listing why), not 204."""
    feed = _feed(service)
    assert _post(service, "carrier-b", _document("SIMBTEST0044", "SIMB", "TGHU9876547")).status_code == 201
    body = json.dumps([_load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a31", "TGHU9876547", "SIMBTEST0044")]).encode()
    answer = _callback(service, feed["id"], body, _signed(feed["secret"], body))
    assert answer.status_code == 400
    record = answer.json()
    assert (record["accepted"], record["rejected"], record["report"]["rejections"][0]["field"]) == (
        0, 1, "documentReferences")


def test_simultaneous_creates_keep_to_the_limit(service: Service) -> None:
    """A review: 14 simultaneous creates each counted fewer than MAX_FEEDS active feeds and
    made 12; creates are serialised before counting."""
    session = service.signed_in("terminal-3")
    with ThreadPoolExecutor(7) as pool:
        codes = list(pool.map(lambda _: service.client.post(FEEDS, headers=session).status_code,
                              range(tnt_feeds.MAX_FEEDS + 4)))
    active = [f for f in service.client.get(FEEDS, headers=session).json()["items"] if f["active"]]
    assert (sorted(codes), len(active)) == ([201] * tnt_feeds.MAX_FEEDS + [409] * 4, tnt_feeds.MAX_FEEDS)


def test_a_callback_refused_by_its_announced_size_is_audited_under_its_feed(service: Service) -> None:
    """A review: a callback over 64 MiB by its Content-Length (413) left no trace, where the same
    body streamed was audited; it names no credentials, so it is audited under the feed its
    query names (none for an unknown feed). A refused query is told so, not "not signed in"."""
    assert CALLBACK in OPEN_PATHS  # signed, not signed in
    feed = _feed(service)
    with service.uow() as uow:
        before = uow.audit.count()
    big = {"Content-Length": "70000000", "Content-Type": "application/json"}
    assert service.client.post(CALLBACK, params={"feed": feed["id"]}, content=b"x", headers=big).status_code == 413
    assert service.client.post(CALLBACK, params={"feed": "nothing-like-it"}, content=b"x",
                               headers=big).status_code == 413
    with service.uow() as uow:
        entries = uow.audit.entries(before, 10)
    assert [(e.kind, e.payload["actor"], e.payload["credential"], e.payload["details"]["status"])
            for e in entries] == [("denied", "carrier", f"tnt-feed {feed['id']}", 413)]
    too_long = service.client.post(CALLBACK, params={"feed": "x" * 37}, content=b"[]")
    assert too_long.status_code == 422, too_long.text
    with service.uow() as uow:  # it names no feed (every id is 36 long): no organisation's, not audited
        assert uow.audit.count() == before + 1


def test_a_feed_stopped_while_its_callback_arrives_is_audited_and_stopped_feeds_leave_room(service: Service) -> None:
    """Regression review: a callback whose feed was deleted while its body came was refused
    (404) with no trace; feeds stopped because their user may no longer send counted against
    the limit while listed inactive; a create racing the user's disabling left a feed that came
    back when the user was enabled again (the create now re-reads the user under the lock the
    disabling takes: here, a principal read before the disabling is refused)."""
    feed = _feed(service, "terminal")
    body = json.dumps([_load("8b5f0a52-4a43-4c1f-9b1e-6d3f2c1b0a41", "MSKU9070323", "SIMATEST0045")]).encode()

    def deleted_on_the_way() -> Any:  # the body's first read deletes the feed, as a DELETE in mid-body does
        with service.uow() as uow:
            uow.tnt_feeds.delete(feed["id"], "terminal-2", datetime.now(UTC), "deleted by terminal")
        yield body

    refused = service.client.post(CALLBACK, params={"feed": feed["id"]}, content=deleted_on_the_way(),
                                  headers=_signed(feed["secret"], body))
    assert (refused.status_code, refused.json()["error"]["why"]) == (404, tnt_feeds.NO_FEED)
    with service.uow() as uow:
        last = uow.audit.entries(uow.audit.count() - 1, 1)[0].payload
        assert uow.supplied_files.recent("terminal-2", None, 100) == []
    assert (last["actor"], last["credential"], last["details"]["status"]) == ("terminal", f"tnt-feed {feed['id']}",
                                                                            404)
    # a feed whose user may no longer send is listed inactive, and leaves room for a new one
    with service.uow() as uow:
        create_user(uow, "terminal-y", "terminal-2", ["carrier_security"], PASSWORD, datetime.now(UTC), "Y")
    session = service.signed_in("terminal")
    others = [f for f in service.client.get(FEEDS, headers=session).json()["items"] if f["active"]]
    for _ in range(tnt_feeds.MAX_FEEDS - len(others) - 1):
        assert service.client.post(FEEDS, headers=session).status_code == 201
    stopped = _feed(service, "terminal-y")
    with service.uow() as uow:
        uow.session.execute(update(UserRow).where(UserRow.username == "terminal-y").values(roles=[]))
    listed = {f["id"]: f for f in service.client.get(FEEDS, headers=session).json()["items"]}
    assert (listed[stopped["id"]]["active"], listed[stopped["id"]]["stopped"]) == (
        False, "its user terminal-y may no longer send data")
    assert service.client.post(FEEDS, headers=session).status_code == 201
    assert service.client.post(FEEDS, headers=session).status_code == 409
    # a principal read before its user was disabled makes no feed
    with service.uow() as uow:
        user = uow.accounts.user("terminal")
        principal = Principal(user.username, uow.accounts.organisation("terminal-2"), frozenset(user.roles))
        assert set_user_active(uow, None, "terminal", False, datetime.now(UTC))[1]  # its feeds, stopped
    try:
        with service.uow() as uow, pytest.raises(AuthError, match="this user is disabled"):
            tnt_feeds.create_feed(uow, principal, datetime.now(UTC), lambda text: text)
    finally:
        with service.uow() as uow:
            set_user_active(uow, None, "terminal", True, datetime.now(UTC))


def test_the_operator_lists_every_lines_feeds_and_stops_one(service: Service, settings_env: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`scheldt feeds list | stop`: the node's operator sees the feeds of every line (never a
    secret) and stops one at once (a line's secret leaked), audited; a stopped or unknown feed
    is an error saying so."""
    feed = _feed(service, "carrier")
    monkeypatch.setenv("SCHELDT_DATABASE_URL", service.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SCHELDT_LOCAL_ORGANISATION", "be-customs")
    get_settings.cache_clear()
    cli = CliRunner()
    listed = cli.invoke(app, ["feeds", "list", "--org", "carrier-a", "--json"])
    assert listed.exit_code == 0, listed.stderr
    [row] = [f for f in json.loads(listed.stdout)["items"] if f["id"] == feed["id"]]
    assert (row["organisation_id"], row["username"], row["active"]) == ("carrier-a", "carrier", True)
    assert feed["secret"] not in listed.stdout and "secret" not in row
    text = cli.invoke(app, ["feeds", "list", "--org", "carrier-a"]).stdout
    assert f"{feed['id']}  carrier-a        carrier          made " in text and text.rstrip().endswith("live")
    stopped = cli.invoke(app, ["feeds", "stop", feed["id"]])
    assert (stopped.exit_code, stopped.stdout) == (
        0, f"feed {feed['id']} of carrier-a stopped: its callbacks are refused from now on\n")
    body = b"[]"
    assert _callback(service, feed["id"], body, _signed(feed["secret"], body)).status_code == 404
    again = cli.invoke(app, ["feeds", "stop", feed["id"]])
    assert again.exit_code != 0 and "no active feed of carrier-a has this id" in again.stderr
    assert "no active feed has this id" in cli.invoke(app, ["feeds", "stop", "0" * 36]).stderr
    text = cli.invoke(app, ["feeds", "list", "--org", "carrier-a"]).stdout
    assert f"{feed['id']}  carrier-a" in text and "stopped (stopped by the node's operator)" in text
    mine = {f["id"]: f for f in service.client.get(FEEDS, headers=service.as_("carrier")).json()["items"]}
    assert mine[feed["id"]]["stopped"] == "stopped by the node's operator" and "deleted_why" not in mine[feed["id"]]
    assert cli.invoke(app, ["feeds", "list", "--org", "ghost"]).exit_code != 0
    with service.uow() as uow:
        done = [e for e in uow.audit.entries(0, uow.audit.count()) if e.payload["action"] == "scheldt feeds stop"]
    assert [(e.kind, e.payload["object_kind"], e.payload["object_id"]) for e in done] == [
        ("write", "tnt-feed", feed["id"])]


def test_a_callback_takes_its_feeds_receiving_turn_not_the_organisations(service: Service,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Left open last stop: a callback's body is received before its signature is checked, and
    it held the organisation's one receiving turn, so whoever held a leaked callback URL could
    stop the line's uploads (429). A callback now takes its feed's turn, an upload the
    organisation's (tests/api/test_supplied.py shows the two apart)."""
    from scheldt.api import routes_supplied as rs

    taken: list[tuple[str, str | None]] = []
    real = rs.receiving_turn

    def recording(app: Any, organisation: str, feed: str | None = None) -> Any:
        taken.append((organisation, feed))
        return real(app, organisation, feed)

    monkeypatch.setattr(rs, "receiving_turn", recording)
    feed = _feed(service, "terminal")
    assert _callback(service, feed["id"], b"[]", _signed(feed["secret"], b"[]")).status_code == 204
    sent = service.client.post("/api/v1/shipping-data?name=empty.json", content=b'{"events": []}',
                               headers=service.signed_in("terminal"))  # an earlier test's disabling revoked its token
    assert sent.status_code == 201, sent.text
    assert taken == [("terminal-2", feed["id"]), ("terminal-2", None)]
