"""``benchmarks/api_load.wait_ready``: the benchmarks start measuring only once every worker of
the server answers /readyz with 200. A regression review saw 200, 503, 200 from
`scheldt serve --workers 2` at start-up (each worker answers for itself, and the kernel hands
each new connection to one of them), and the benchmark began on the first 200."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import api_load  # noqa: E402


class Workers:
    """A stand-in for a server's workers behind one port: answers /readyz in turn from
    ``answers`` (one per connection, the last repeated), counting the requests."""

    def __init__(self, answers: list[int]) -> None:
        self.answers, self.asked = answers, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                status = outer.answers[min(outer.asked, len(outer.answers) - 1)]
                outer.asked += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def process() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_one_ready_worker_among_starting_ones_is_not_enough(process: subprocess.Popen[bytes], tmp_path: Path) -> None:
    workers = Workers([200, 503] * 10 + [200])  # the second worker ready after 20 answers
    try:
        api_load.wait_ready(workers.base, process, 30, tmp_path / "log")
    finally:
        workers.server.shutdown()
    assert workers.asked == 20 + api_load.READY_STREAK  # it went on until 20 in a row said 200


def test_a_node_that_never_gets_ready_is_given_up(process: subprocess.Popen[bytes], tmp_path: Path) -> None:
    (tmp_path / "log").write_text("worker 1 still starting\n")
    workers = Workers([200, 503])
    try:
        with pytest.raises(RuntimeError, match="not ready in 1 s: worker 1 still starting"):
            api_load.wait_ready(workers.base, process, 1, tmp_path / "log")
    finally:
        workers.server.shutdown()


def test_a_server_that_exits_is_said_at_once(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("address already in use\n")
    gone = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    gone.wait()
    with pytest.raises(RuntimeError, match="exited with 3: address already in use"):
        api_load.wait_ready("http://127.0.0.1:9", gone, 30, tmp_path / "log")
