"""Build the FastAPI application: store, job runner, routes, workbench, error shape, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from scheldt import __version__
from scheldt.api import errors, routes_admin, routes_inspections, routes_jobs, routes_profiles, routes_trips
from scheldt.api.errors import error_response
from scheldt.settings import get_settings
from scheldt.store.db import open_store

#: Largest request body accepted (a risk profile's YAML is the biggest thing sent; 1 MiB).
MAX_BODY_BYTES = 1024 * 1024


async def _limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse bodies over :data:`MAX_BODY_BYTES` with 413, by Content-Length and, for chunked
    bodies, by reading at most that much."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            return error_response(400, "header.content-length", f"{length[:20]!r} is not a number of bytes")
        if int(length) > MAX_BODY_BYTES:
            return error_response(413, "body", f"{int(length):,} bytes; at most {MAX_BODY_BYTES:,}")
    elif request.method in ("POST", "PUT", "PATCH"):
        size = 0
        chunks = []
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return error_response(413, "body", f"more than {MAX_BODY_BYTES:,} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
        request._body = body  # noqa: SLF001 - hand the read body on to the route
    return await call_next(request)


def create_app(engine: Any = None, *, jobs: Any = None, workbench: bool = True) -> FastAPI:
    """The Scheldt API (and workbench). ``engine``: the store's SQLAlchemy engine (default: the
    settings' store, which must be migrated); ``jobs``: a started job runner to expose, or None."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "engine", None) is None:
            app.state.engine = open_store(get_settings().resolved_database_url)
        yield

    app = FastAPI(title="Scheldt", version=__version__, lifespan=lifespan,
                  description="Container targeting for customs, police and shipping lines: risk queue, container "
                              "trips, risk profiles, inspections, holds. Errors: {\"error\": {status, where, why}}.")
    app.state.engine = engine
    app.state.jobs = jobs
    errors.install(app)
    app.middleware("http")(_limit_body)
    for module in (routes_admin, routes_trips, routes_inspections, routes_profiles, routes_jobs):
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    if workbench:
        try:
            from scheldt.web import mount
        except ImportError:
            mount = None
        if mount is not None:
            mount(app)
    return app
