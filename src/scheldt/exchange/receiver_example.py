"""A receiver of Scheldt's carrier notices that a shipping line or terminal can run as it is or
copy: a small FastAPI app that checks every POST the way :mod:`scheldt.exchange.notify`
describes and keeps the notices it accepted.

Run it::

    python -m scheldt.exchange.receiver_example --secret-file secret.txt --port 8401 \\
        [--host 127.0.0.1] [--path /scheldt/notices] [--out notices.jsonl]

then subscribe ``https://<your host><path>`` with the same secret (at least 32 bytes; the
file's surrounding whitespace and final newline are ignored), e.g. through
``POST /api/v1/subscriptions`` of Scheldt. Put it behind your TLS-terminating proxy: Scheldt
sends to https callback URLs only, unless its operator allowed plain http.

Answers to ``POST <path>``:

- 401 when the timestamp or signature header is missing or malformed, the timestamp is more
  than 5 minutes from this machine's clock either way, or the HMAC-SHA256 signature does not
  match (compared in constant time with :func:`hmac.compare_digest`);
- 400 when the signed body is not a notice or its ``notice_id`` differs from the header;
- 409 when that notice id was accepted before (a replay, or Scheldt's retry after a lost answer);
- 413 for a body over :data:`MAX_BODY` bytes;
- 200 ``{"accepted": notice_id}`` otherwise; the notice is kept (``GET /notices`` lists them)
  and appended to ``--out`` as one JSON line.

Accepted notice ids are remembered for ``remember_s`` seconds (24 hours by default; at least
twice the timestamp tolerance, so no replay falls between the two checks) in memory, and with
``--out`` for good: the ids of the notices in that file are read back at start, so a notice
accepted before a restart is refused as a replay after it (a review replayed one within its
5 minutes after a restart, and it was accepted and written twice). Without ``--out`` a restart
forgets them: a real receiver keeps them in its own database.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from scheldt.errors import AuthError
from scheldt.exchange.notify import NOTICE_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, TOLERANCE_S, verify

#: Largest notice body read (bytes); Scheldt's notices are a few hundred bytes.
MAX_BODY = 64 * 1024
#: Default time (seconds) an accepted notice id is remembered.
REMEMBER_S = 24 * 3600
KINDS = ("hold", "release", "alert")


class SeenIds:
    """Notice ids accepted in the last ``remember_s`` seconds (thread-safe, in memory)."""

    def __init__(self, remember_s: float) -> None:
        self.remember_s = remember_s
        self._until: dict[str, float] = {}
        self._kept: frozenset[str] = frozenset()  # accepted before this process started
        self._lock = threading.Lock()

    def keep_for_good(self, notice_ids: set[str]) -> None:
        """Remember ``notice_ids`` (accepted before this process started) as long as it runs."""
        with self._lock:
            self._kept = frozenset(notice_ids)

    def add(self, notice_id: str, now_s: float) -> bool:
        """Remember ``notice_id``; False when it was already remembered (a replay)."""
        with self._lock:
            if len(self._until) > 10_000:
                self._until = {k: v for k, v in self._until.items() if v > now_s}
            until = self._until.get(notice_id)
            if notice_id in self._kept or until is not None and until > now_s:
                return False
            self._until[notice_id] = now_s + self.remember_s
            return True


def _refuse(status: int, where: str, why: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "where": where, "why": why}}, status_code=status)


def create_receiver(secret: str | bytes, *, path: str = "/scheldt/notices", tolerance_s: float = TOLERANCE_S,
                    remember_s: float = REMEMBER_S, out: Path | None = None,
                    clock: Callable[[], float] = time.time) -> FastAPI:
    """The receiver app for one shared ``secret``. ``tolerance_s``: how far (seconds) a
    timestamp may be from ``clock()`` (Unix seconds); ``out``: a JSON-lines file each accepted
    notice is appended to, whose notices' ids are refused as replays from the start (a line
    that is no notice, as a write cut by a crash leaves, is skipped). Accepted notices are also
    kept on ``app.state.notices``."""
    if len(secret.encode("utf-8") if isinstance(secret, str) else secret) < 32:
        raise ValueError("the shared secret must be at least 32 bytes")
    remember_s = max(remember_s, 2 * tolerance_s)
    app = FastAPI(title="Scheldt notice receiver (example)")
    app.state.notices = []
    seen = SeenIds(remember_s)
    if out is not None:
        seen.keep_for_good(accepted_ids(out))
        _end_the_last_line(out)
    write_lock = threading.Lock()

    @app.post(path)
    async def receive(request: Request) -> JSONResponse:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            return _refuse(413, "body", f"more than {MAX_BODY} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _refuse(413, "body", f"more than {MAX_BODY} bytes")
        now_s = clock()
        try:
            verify(secret, request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER), body,
                   now_s, tolerance_s)
        except AuthError as exc:
            return _refuse(401, exc.where, exc.why)
        try:
            notice = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _refuse(400, "body", "not JSON")
        if not isinstance(notice, dict) or not isinstance(notice.get("notice_id"), str) or not notice["notice_id"] \
                or notice.get("kind") not in KINDS:
            return _refuse(400, "body", "not a Scheldt notice (notice_id and kind hold/release/alert)")
        if request.headers.get(NOTICE_ID_HEADER) != notice["notice_id"]:
            return _refuse(400, NOTICE_ID_HEADER, "differs from the signed body's notice_id")
        if not seen.add(notice["notice_id"], now_s):
            return _refuse(409, "notice_id", f"{notice['notice_id']} was accepted already")
        app.state.notices.append(notice)
        if out is not None:
            with write_lock, out.open("ab") as fh:
                fh.write(orjson.dumps(notice) + b"\n")
        return JSONResponse({"accepted": notice["notice_id"]})

    @app.get("/notices")
    def notices() -> dict[str, Any]:
        """The notices accepted since start, oldest first."""
        return {"items": list(app.state.notices)}

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def accepted_ids(path: Path) -> set[str]:
    """The ``notice_id`` of every notice in the JSON-lines file ``path`` (none when it does not
    exist); lines that are not a JSON object with a string ``notice_id`` are skipped."""
    ids: set[str] = set()
    try:
        with path.open("rb") as fh:  # a line at a time: the file grows with every notice kept
            for line in fh:
                try:
                    notice = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(notice, dict) and isinstance(notice.get("notice_id"), str):
                    ids.add(notice["notice_id"])
    except FileNotFoundError:
        return ids
    return ids


def _end_the_last_line(path: Path) -> None:
    """End ``path``'s last line when a crash cut it short, so the next notice begins its own."""
    try:
        with path.open("rb+") as fh:
            if fh.seek(0, 2) > 0:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")
    except FileNotFoundError:
        return


def read_secret(path: Path) -> str:
    """The shared secret in ``path`` without surrounding whitespace. Raises SystemExit with a
    message when the file cannot be read or the secret is under 32 bytes."""
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SystemExit(f"--secret-file {path}: cannot read it: {exc}") from None
    if len(secret.encode("utf-8")) < 32:
        raise SystemExit(f"--secret-file {path}: the secret must be at least 32 bytes")
    return secret


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m scheldt.exchange.receiver_example",
                                     description="Receive and verify Scheldt's signed carrier notices.")
    parser.add_argument("--secret-file", type=Path, required=True, help="file holding the shared secret (>= 32 bytes)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--path", default="/scheldt/notices", help="callback path (default /scheldt/notices)")
    parser.add_argument("--out", type=Path, help="append each accepted notice to this JSON-lines file")
    args = parser.parse_args(argv)
    import uvicorn

    app = create_receiver(read_secret(args.secret_file), path=args.path, out=args.out)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
