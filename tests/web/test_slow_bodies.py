"""Clients that open requests and stall mid-body, against a real server (uvicorn on loopback,
SQLite: five request slots, as its connection pool). An attack review: five partial bodies sent
with a Content-Length held every slot and the node answered nothing, not even /healthz; five
unsigned uploads to the workbench's form did the same, each read to the end before the sign-in
check."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from scheldt.api import app as api_app
from tests.web.conftest import Server


@contextmanager
def stalled(server: Server, path: str, headers: str, n: int) -> Iterator[list[socket.socket]]:
    """``n`` connections each sending the head of a POST to ``path`` (a 100,000-byte body
    announced) and 10 bytes of its body, then nothing."""
    where = urlsplit(server.url)
    with ExitStack() as stack:
        socks = []
        for _ in range(n):
            s = stack.enter_context(socket.create_connection((where.hostname, where.port), timeout=10))
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Length: 100000\r\n{headers}\r\n"
                      .encode() + b"0123456789")
            socks.append(s)
        yield socks


def _answer(s: socket.socket) -> bytes:
    s.settimeout(10)
    return s.recv(4096)


@pytest.mark.parametrize(("path", "headers"), [
    ("/api/v1/auth/sign-in", "Content-Type: application/json\r\n"),
    ("/send-data", "Content-Type: multipart/form-data; boundary=x\r\n"),
])
def test_stalled_bodies_hold_no_slot_and_are_dropped_after_the_idle_time(
        server: Server, monkeypatch: pytest.MonkeyPatch, path: str, headers: str) -> None:
    monkeypatch.setattr(api_app, "BODY_IDLE_S", 4.0)
    with stalled(server, path, headers, 7) as socks:
        time.sleep(0.3)
        # answered while they stall (within 2 s, before their idle time runs out: not because
        # they were dropped)
        assert httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
        answers = [_answer(s) for s in socks]
    # a body that stopped coming: 408 after the idle time; an unsigned upload is sent to sign
    # in before its body is read (the workbench's form)
    expected = b"HTTP/1.1 408" if path.startswith("/api/") else b"HTTP/1.1 303"
    assert all(a.startswith(expected) for a in answers), answers[0][:200]
