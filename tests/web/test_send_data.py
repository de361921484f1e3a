"""The workbench's "Send data" page: a shipping line sends a file of its own shipping data and
reads what became of each record (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

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
    stale = c.post("/send-data", data={"csrf": "stale"}, files={"file": ("x.json", b'{"events": []}')})
    assert stale.status_code == 403 and "reload the page" in stale.text
    empty = c.post("/send-data", data={"csrf": csrf_token(c.cookies["scheldt_session"])},
                   files={"file": ("x.json", b"")})
    assert empty.status_code == 400 and "the file is empty" in empty.text
    with store.uow() as uow:
        assert uow.supplied_files.recent("terminal-2", None, 5) == []
