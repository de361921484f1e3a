"""The workbench's "Send data" page: a shipping line sends a file of its own shipping data and
reads what became of each record (on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from stdnum import iso6346

from scheldt.api.app import create_app
from scheldt.web.context import csrf_token
from tests.api.test_supplied import _document, _load
from tests.web.conftest import PASSWORD, Store


@pytest.fixture(scope="module")
def app(store: Store) -> FastAPI:
    return create_app(store.engine, host_org="be-customs")


def signed_in(app: FastAPI, username: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    assert c.post("/sign-in", data={"username": username, "password": PASSWORD, "next": "/queue"}).status_code == 303
    return c


def test_a_line_sends_a_file_and_reads_each_refusal_with_where_and_why(app: FastAPI, store: Store) -> None:
    carrier_b = signed_in(app, "carrier-b")
    sent = carrier_b.post("/send-data", data={"csrf": csrf_token(carrier_b.cookies["scheldt_session"])},
                          files={"file": ("bl.json", _document("SIMBWEB0001", "SIMB", "TGHU9876547"))})
    assert sent.status_code == 303, sent.text
    c = signed_in(app, "carrier")
    assert 'href="/send-data"' in c.get("/queue").text  # in the menu
    page = json.dumps({"events": [_load("w-own-1", "MSKU9070323", "SIMAWEB0001"),
                                  _load("w-theirs-1", "TGHU9876547", "SIMBWEB0001")]}).encode()
    r = c.post("/send-data", data={"csrf": csrf_token(c.cookies["scheldt_session"]), "format": "auto"},
               files={"file": ("C:\\exports\\tnt page.json", page)})
    assert r.status_code == 303, r.text
    file_id = int(r.headers["location"].rsplit("=", 1)[1])
    shown = c.get(r.headers["location"]).text
    assert f"File #{file_id}: tnt_page.json" in shown
    assert "<strong>1</strong> record(s) read, <strong>1</strong> new, <strong>1</strong> refused" in shown
    assert f"carrier-a/{file_id}/tnt_page.json$.events[1]" in shown
    assert "SIMBWEB0001, another carrier&#39;s document here" in shown
    assert f'<a href="/send-data?file={file_id}">#{file_id} tnt_page.json</a>' in shown
    # another organisation's file is not found; an agency's officer has no such page
    other = carrier_b.get(f"/send-data?file={file_id}")
    assert other.status_code == 404 and "no file of yours has this id" in other.text
    officer = signed_in(app, "officer")
    assert officer.get("/send-data").status_code == 403
    assert 'href="/send-data"' not in officer.get("/queue").text


def test_a_form_without_a_file_or_the_session_token_is_refused(app: FastAPI, store: Store) -> None:
    c = signed_in(app, "terminal")
    # a terminal is told what it may send: its moves, not transport documents (a new user's terminal
    # was invited to send bills of lading, and all 8 records it sent were refused)
    said = " ".join(re.sub(r"<[^>]+>", "", c.get("/send-data").text).split())
    assert "own moves of boxes at its terminal" in said and "transport documents (bookings, bills of lading" in said
    assert "DCSA transport documents (booking" not in said
    stale = c.post("/send-data", data={"csrf": "stale"}, files={"file": ("x.json", b'{"events": []}')})
    assert stale.status_code == 403 and "reload the page" in stale.text
    empty = c.post("/send-data", data={"csrf": csrf_token(c.cookies["scheldt_session"])},
                   files={"file": ("x.json", b"")})
    assert empty.status_code == 400 and "the file is empty" in empty.text
    with store.uow() as uow:
        assert uow.supplied_files.recent("terminal-2", None, 5) == []


def _form(c: TestClient, **fields: str) -> dict[str, str]:
    return {"csrf": csrf_token(c.cookies["scheldt_session"])} | fields


def test_a_line_makes_a_feed_on_the_page_reads_its_secret_once_and_stops_it(app: FastAPI, store: Store) -> None:
    """The page makes a DCSA T&T 2.2 feed as the API does: the answer shows its callback URL,
    its secret and the subscription body once (the secret signs a callback the feed takes, and
    is on no later page); the list shows it active, then stopped once its Stop is pressed, after
    which its callbacks get the unknown feed's 404. Audited; a stale form makes nothing."""
    c = signed_in(app, "carrier-b")
    assert "No feed made yet." in c.get("/send-data").text
    stale = c.post("/send-data/feeds", data={"csrf": "stale"})
    assert stale.status_code == 403 and "reload the page" in stale.text
    made = c.post("/send-data/feeds", data=_form(c))
    assert made.status_code == 200, made.text
    feed_id = re.search(r"<strong>Feed ([0-9a-f-]{36}) made\.</strong>", made.text).group(1)
    url = re.search(r'<code id="feed-callback">([^<]+)</code>', made.text).group(1)
    secret = re.search(r'<code id="feed-secret">([^<]+)</code>', made.text).group(1)
    assert url == f"http://testserver/api/v1/dcsa/tnt/v2/notifications?feed={feed_id}"
    assert len(base64.b64decode(secret)) == 32
    body = json.loads(re.search(r'<pre class="json" id="feed-subscription">([^<]+)</pre>', made.text).group(1)
                      .replace("&#34;", '"').replace("&amp;", "&"))
    assert body == {"callbackUrl": url, "secret": secret}
    # the secret on the page signs a callback the feed takes
    box = "SBBU123456" + iso6346.calc_check_digit("SBBU123456")
    events = json.dumps([_load("w-feed-1", box, "SIMBWEB0002")]).encode()
    mac = hmac.new(base64.b64decode(secret), events, hashlib.sha256).hexdigest()
    pushed = c.post(url.removeprefix("http://testserver"), content=events,
                    headers={"Content-Type": "application/json", "Notification-Signature": f"sha256={mac}"})
    assert pushed.status_code == 204, pushed.text
    longer = c.post("/send-data/feeds/stop", data=_form(c, id=feed_id + "-not-this-feed"))
    assert longer.status_code == 404  # a review: the page cut it to 36 characters and stopped the feed
    listed = c.get("/send-data").text
    assert secret not in listed and "#dcsa-tnt-v2-notification.json" not in listed
    row = re.search(rf"<tr><td class=\"small\">{feed_id}</td>.*?</tr>", listed, re.DOTALL).group(0)
    assert ">active<" in row and f"<code>{url.replace('&', '&amp;')}</code>" in row
    assert "dcsa-tnt-v2-notification.json" in listed  # the pushed batch, among the files sent
    stopped = c.post("/send-data/feeds/stop", data=_form(c, id=feed_id))
    assert stopped.status_code == 303 and stopped.headers["location"] == "/send-data#tnt-feeds"
    row = re.search(rf"<tr><td class=\"small\">{feed_id}</td>.*?</tr>", c.get("/send-data").text, re.DOTALL).group(0)
    assert "stopped" in row and "Stop</button>" not in row
    again = c.post(url.removeprefix("http://testserver"), content=events,
                   headers={"Content-Type": "application/json", "Notification-Signature": f"sha256={mac}"})
    assert again.status_code == 404
    assert c.post("/send-data/feeds/stop", data=_form(c, id=feed_id)).status_code == 404  # stopped already
    with store.uow() as uow:
        writes = [e.payload for e in uow.audit.entries(max(0, uow.audit.count() - 100), 100)
                  if e.payload.get("object_kind") == "tnt-feed" and e.payload.get("object_id") == feed_id]
        assert [w["details"]["action"] for w in writes] == ["create", "delete"]
        assert all(w["actor"] == "carrier-b" for w in writes)


def test_an_agency_officer_makes_no_feed_and_a_line_stops_no_other_lines_feed(app: FastAPI, store: Store) -> None:
    """Only a line's or terminal's data senders make feeds; a feed id of another organisation is
    not found, and that feed stays active."""
    officer = signed_in(app, "officer")
    assert officer.post("/send-data/feeds", data=_form(officer)).status_code == 403
    terminal = signed_in(app, "terminal")
    made = terminal.post("/send-data/feeds", data=_form(terminal))
    feed_id = re.search(r"<strong>Feed ([0-9a-f-]{36}) made\.</strong>", made.text).group(1)
    carrier = signed_in(app, "carrier")
    other = carrier.post("/send-data/feeds/stop", data=_form(carrier, id=feed_id))
    assert other.status_code == 404 and 'id="feed-error"' in other.text
    assert feed_id not in other.text.split('id="feed-list"')[1]  # the line's page lists only its own feeds
    assert "active<" in re.search(rf"<tr><td class=\"small\">{feed_id}</td>.*?</tr>",
                                  terminal.get("/send-data").text, re.DOTALL).group(0)
    with store.uow() as uow:
        denied = [e.payload for e in uow.audit.entries(max(0, uow.audit.count() - 20), 20) if e.kind == "denied"]
        assert [(d["actor"], d["object_id"], d["details"]["status"]) for d in denied[-2:]] == [
            ("officer", "/send-data/feeds", 403), ("carrier", "/send-data/feeds/stop", 404)]
