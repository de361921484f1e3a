"""A minimal ASGI app for tests/api/test_workers.py: answers every request with the id of the
process that served it and the client address it was given."""

from __future__ import annotations

import asyncio
import os
from typing import Any


def app_factory() -> Any:
    """The app: ``GET /`` -> ``{"client": "ADDRESS", "pid": N}`` (any path); ``/slow?S``
    answers after S seconds; ``/stix-check-processes`` -> ``{"pid": N, "processes": N}``, the
    worker's STIX check pool size."""
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/slow":
            await asyncio.sleep(float(scope["query_string"] or 5))
        body = b'{"client": "%s", "pid": %d}' % (scope["client"][0].encode(), os.getpid())
        if scope["path"] == "/stix-check-processes":
            from scheldt.exchange import stix_check  # imported here: stix2 takes a second to load

            body = b'{"pid": %d, "processes": %d}' % (os.getpid(), stix_check.pool_size())
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app
