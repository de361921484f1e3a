"""Build the FastAPI application: store, job runner, routes, workbench, error shape, limits."""

from __future__ import annotations

import gc
import importlib.util
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheldt import __version__
from scheldt.api import (
    errors,
    metrics,
    openapi,
    routes_admin,
    routes_dcsa,
    routes_exchange,
    routes_inspections,
    routes_jobs,
    routes_notices,
    routes_profiles,
    routes_supplied,
    routes_trips,
)
from scheldt.api.deps import audit_if_signed_in, refuse_nul, refuse_unknown_query, utc_now
from scheldt.api.errors import error_response
from scheldt.errors import BodyTimeoutError, ScheldtError, TooLargeError
from scheldt.exchange import stix_check, taxii
from scheldt.risk import screening
from scheldt.settings import get_settings
from scheldt.store.db import import_repositories, open_store, store_answers
from scheldt.workflows import supplied

log = logging.getLogger("scheldt.api")

#: Largest request body accepted (a risk profile's YAML is the biggest thing sent; 1 MiB), but
#: for the paths of :data:`FILE_BODY_PATHS`.
MAX_BODY_BYTES = 1024 * 1024
#: Paths taking a whole file as their body, with their own limit: a shipping line's or terminal's
#: shipping data (:data:`scheldt.workflows.supplied.MAX_BYTES`; the workbench's form adds its
#: multipart framing).
FILE_BODY_PATHS = {"/api/v1/shipping-data": supplied.MAX_BYTES, routes_dcsa.TNT_PATH: supplied.MAX_BYTES,
                   routes_dcsa.TNT2_PATH: supplied.MAX_BYTES, "/send-data": supplied.MAX_BYTES + 64 * 1024}


#: Requests let through at once when the engine's pool does not say how many connections it has.
DEFAULT_REQUEST_SLOTS = 40


class HttpMiddleware:
    """A plain ASGI middleware of HTTP requests: anything else (lifespan) goes straight to the
    application; a subclass handles HTTP in :meth:`http`. No task or stream is added per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (``scope["type"]`` is ``"http"``)."""
        await self.app(scope, receive, send)


#: Seconds a request body may go without a byte arriving before the request is dropped (408):
#: a client that opens a request and stalls holds a connection, a stalled upload a reader's turn.
BODY_IDLE_S = 30.0


class BodyLimit(HttpMiddleware):
    """ASGI middleware reading request bodies before the application sees them: a body over
    :data:`MAX_BODY_BYTES` is refused with 413 (by its Content-Length, or once that much has
    come), one that stalls for :data:`BODY_IDLE_S` with 408, and the rest is handed on whole.
    So a body is read before a request slot (:class:`RequestSlots`) is taken: an attack
    review's five partial bodies sent with a Content-Length held every slot, and the node
    answered nothing, not even /healthz. The paths of :data:`FILE_BODY_PATHS` take their files
    as streams, each within its own limit and the same idle time (read by their routes, which
    take a slot only to touch the store). A plain ASGI middleware: it adds no task or stream per
    request."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"content-length"), None)
        most = FILE_BODY_PATHS.get(scope.get("path", ""), MAX_BODY_BYTES)
        if length is not None:
            if not length.isdigit():
                await _refusal(scope, 400, "header.content-length", f"{length[:20]!r} is not a number of bytes")(
                    scope, receive, send)
                return
            if int(length) > most:
                too_large = TooLargeError("body", f"{int(length):,} bytes; at most {most:,}")
                await _refused(scope, receive, send, too_large)
                return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
        elif most != MAX_BODY_BYTES:
            await self.app(scope, _guarded(receive, most), send)
        else:
            await self._whole(scope, receive, send)

    async def _whole(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body (at most :data:`MAX_BODY_BYTES`), then hand the request on with it."""
        chunks = []
        guarded = _guarded(receive, MAX_BODY_BYTES)
        while True:
            try:
                message = await guarded()
            except (TooLargeError, BodyTimeoutError) as exc:
                await _refused(scope, receive, send, exc)
                return
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


class HeadAsGet(HttpMiddleware):
    """ASGI middleware answering HEAD as GET without the body (RFC 9110 section 9.3.2: the
    same status and headers, Content-Length included), for every path that answers GET: an API
    review's health checks got 405 from every endpoint but /openapi.json. The request is handled
    (and audited, as HEAD: ``scope["scheldt.method"]``) as the GET would be."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET", "scheldt.method": "HEAD"}, receive, without_body)


#: Headers every answer carries unless it sets its own (the workbench's pages set a full policy,
#: scheldt.web.render): nothing of a trip, a party or a seizure fetched with a session cookie is
#: kept in a shared workstation's browser cache, no answer is sniffed as another type, and no page
#: (the API's /docs) is framed by another site (a security review found the API answers bare).
_GUARD_HEADERS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
                  (b"content-security-policy", b"frame-ancestors 'none'"))
#: Paths whose answers may be cached: the workbench's scripts, styles and libraries.
_CACHEABLE = ("/static/", "/docs-assets/")


class GuardHeaders(HttpMiddleware):
    """ASGI middleware adding :data:`_GUARD_HEADERS` an answer does not set itself (no
    ``Cache-Control`` under :data:`_CACHEABLE`)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cacheable = scope.get("path", "").startswith(_CACHEABLE)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                given = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in _GUARD_HEADERS
                            if name not in given and not (cacheable and name == b"cache-control")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, guarded)


def _refusal(scope: Scope, status: int, where: str, why: str) -> Response:
    """The error of a request refused before routing: TAXII's error resource under ``/taxii2/``
    (a TAXII client reads no other), DCSA's ``PostEventsError`` at the DCSA Track & Trace
    endpoint (a review's publisher got the API's body, without ``API-Version``), else the API's
    error body."""
    if scope.get("path", "").startswith(taxii.router.prefix + "/"):
        return taxii.taxii_error(status, where, why)
    if scope.get("path", "") == routes_dcsa.TNT_PATH:
        return routes_dcsa.tnt_error(ScheldtError(where, why), status)
    return error_response(status, where, why)


def _refusal_audit(path: str) -> Callable[[Request, int, str, datetime], None]:
    """How a request refused before routing is audited, by its path (as :func:`_refusal` picks
    its answer): under TAXII's credentials (HTTP Basic and ``Token`` too), under the feed a DCSA
    feed's callback names in its query (it carries no credentials), else under the API's."""
    if path.startswith(taxii.router.prefix + "/"):
        return taxii.audit_if_signed_in
    if path == routes_dcsa.TNT2_PATH:
        return routes_supplied.audit_feed_refusal
    return audit_if_signed_in


async def _refused(scope: Scope, receive: Receive, send: Send, exc: TooLargeError | BodyTimeoutError) -> None:
    """Answer a request refused for its body, audited when it names who sent it (:func:`_refusal_audit`)."""
    audit = _refusal_audit(scope.get("path", ""))
    await run_in_threadpool(audit, Request(scope), exc.status, exc.where, utc_now())
    await _refusal(scope, exc.status, exc.where, exc.why)(scope, receive, send)


def _guarded(receive: Receive, most: int) -> Receive:
    """``receive``, raising TooLargeError (413) once the body's bytes go over ``most`` and
    BodyTimeoutError (408) when nothing comes for :data:`BODY_IDLE_S`."""
    size = 0

    async def guarded() -> Message:
        nonlocal size
        try:
            with anyio.fail_after(BODY_IDLE_S):
                message = await receive()
        except TimeoutError:
            raise BodyTimeoutError("body", f"nothing of the body came for {BODY_IDLE_S:g} s") from None
        size += len(message.get("body", b""))
        if size > most:
            raise TooLargeError("body", f"more than {most:,} bytes")
        return message

    return guarded


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` as one message, then what ``receive`` gives (disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def request_slots(engine: Any) -> int:
    """How many requests may be in the application at once: the connections the engine's pool
    keeps open (its size), or :data:`DEFAULT_REQUEST_SLOTS` (the threadpool's size) when it has
    no such bound. Not the overflow too: an overflow connection is opened for one checkout and
    closed after it, so each request beyond the pool's size would start (and end) a database
    server process of its own, several times the cost of the request's queries."""
    size = getattr(getattr(engine, "pool", None), "size", None)
    if callable(size):
        return max(1, min(DEFAULT_REQUEST_SLOTS, size()))
    return DEFAULT_REQUEST_SLOTS


class RequestSlots(HttpMiddleware):
    """ASGI middleware letting at most :func:`request_slots` HTTP requests into the application
    at once; the others wait here, in the event loop, in arrival order.

    Why: a request holds a pooled connection from its dependency's start to its end, but runs
    its dependency and its route as separate threadpool calls. With more requests inside than
    the pool has connections, the threadpool fills with requests waiting for a connection while
    the requests holding the connections wait for a thread: every request stalls until pool
    checkouts time out (30 s each, one after another). Letting in no more requests than there
    are connections (and threads) rules that out; waiting costs nothing while slots are free."""

    def __init__(self, app: ASGIApp, slots: int | None = None) -> None:
        super().__init__(app)
        self.slots = slots
        self._semaphore: anyio.Semaphore | None = None

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._semaphore is None:
            engine = getattr(scope["app"].state, "engine", None) if "app" in scope else None
            self._semaphore = anyio.Semaphore(self.slots or request_slots(engine))
            if "app" in scope:
                scope["app"].state.request_slots = self._semaphore
        if scope.get("path", "") in FILE_BODY_PATHS:  # a file streams in first: its route takes a slot for the store
            await self.app(scope, receive, send)
            return
        async with self._semaphore:
            await self.app(scope, receive, send)


def freeze_startup_objects() -> None:
    """Collect once, then leave the objects made at start-up (modules, the libraries' tables,
    the app) out of later garbage collections (``gc.freeze``). Why: the service imports
    LightGBM, scikit-learn, SciPy and polars, and every full collection walked their millions
    of objects, stopping each worker for 100-280 ms a few times a minute under load: the
    99th-percentile latency of benchmarks/api_load.py was those pauses."""
    gc.collect()
    gc.freeze()


#: Swagger UI, installed from the npm registry by scripts/setup.sh (web/install.sh).
SWAGGER_UI = Path(str(files("scheldt").joinpath("web", "static", "vendor", "swagger-ui")))


def _offline_docs(app: FastAPI) -> None:
    """The API's interactive documentation at /docs, with Swagger UI served by this server:
    FastAPI's default loads it from a CDN, and a customs network without internet saw a blank
    page (officer review)."""
    if SWAGGER_UI.is_dir():
        app.mount("/docs-assets", StaticFiles(directory=str(SWAGGER_UI)), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_model=None)
    def docs() -> HTMLResponse | PlainTextResponse:
        if not SWAGGER_UI.is_dir():
            return PlainTextResponse("Swagger UI is not installed (scripts/setup.sh installs it with npm); the OpenAPI "
                                     "description is at /openapi.json", status_code=503)
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="Scheldt API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def _warm(done: threading.Event) -> None:
    """Name matching's tables built (:func:`scheldt.risk.screening.warm`) and
    :func:`scheldt.exchange.stix_check.warm`, then ``done`` set; also when it failed (logged):
    received objects are then checked as they come, and the node is as ready as it will be."""
    try:
        screening.warm()
        stix_check.warm()
    except Exception:
        log.exception("getting the STIX checks ready failed; they will start with the first envelope")
    finally:
        done.set()


def create_app(engine: Any = None, *, jobs: Any = None, workbench: bool = True, warm: bool = False,
               host_org: str | None = None) -> FastAPI:
    """The Scheldt API (and workbench). ``engine``: the store's SQLAlchemy engine (default: the
    settings' store, which must be migrated); ``jobs``: a started job runner to expose, or None;
    ``warm``: at start-up, get the STIX checks of received envelopes ready in a background
    thread (:func:`scheldt.exchange.stix_check.warm`; what ``scheldt serve`` does), ``/readyz``
    answering 503 until they are;
    ``host_org``: the agency that runs this node, whose users alone manage its profiles, models,
    jobs, organisations and audit log (default ``SCHELDT_LOCAL_ORGANISATION``)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "engine", None) is None:
            app.state.engine = open_store(get_settings().resolved_database_url)
        import_repositories()  # before the freeze: a request no longer imports one
        freeze_startup_objects()
        if warm:
            app.state.starting = threading.Event()
            threading.Thread(target=_warm, args=(app.state.starting,), name="scheldt-stix-warm", daemon=True).start()
        yield

    app = FastAPI(title="Scheldt", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Container targeting for customs, police and shipping lines: risk queue, container "
                              "trips, risk profiles, inspections, holds. Errors: {\"error\": {status, where, why}}.")
    app.state.engine = engine
    app.state.jobs = jobs
    app.state.starting = None  # with ``warm``: an Event set once the STIX checks are ready
    app.state.host_org = get_settings().local_organisation if host_org is None else host_org
    errors.install(app)
    app.add_middleware(RequestSlots)
    app.add_middleware(BodyLimit)  # a body is read (or refused) before a slot is taken
    app.add_middleware(GuardHeaders)
    app.add_middleware(HeadAsGet)  # outermost: a HEAD is a GET to everything inside
    # The TAXII 2.1 server at /taxii2/ (scheldt.exchange.taxii) first: routes are tried in order, each
    # by its pattern, and TAXII's pages are the busiest requests (issue 6's 8-client load); behind
    # the API's routes each of them was tried against every one of those first (0.14 ms a request).
    app.include_router(taxii.router)
    for module in (routes_admin, routes_trips, routes_inspections, routes_profiles, routes_jobs, routes_notices,
                   routes_exchange):
        app.include_router(module.router, dependencies=[Depends(refuse_nul), Depends(refuse_unknown_query)])
    # a whole file as the body, streamed to disk: not read whole for NULs (ingest quarantines a
    # record holding one, as it does from the command line)
    app.include_router(routes_supplied.router, dependencies=[Depends(refuse_unknown_query)])
    app.include_router(routes_dcsa.router, dependencies=[Depends(refuse_unknown_query)])
    app.include_router(metrics.router)
    openapi.install(app)

    _offline_docs(app)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness: the process answers (restart it when this fails)."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def ready() -> JSONResponse:
        """Readiness: the store answers a query too, else 503 (take the node out of rotation).
        An operator review's load balancer, watching /healthz, kept a node whose database was
        gone in rotation while every request answered 503. Also 503 while the STIX check
        processes of a warmed app are starting (their start-up took the first envelopes' CPU);
        each server process answers for its own (``--workers N``: one may be ready before another)."""
        if not store_answers(app.state.engine):
            return JSONResponse({"status": "unavailable", "why": "the database cannot be reached just now"}, 503)
        if app.state.starting is not None and not app.state.starting.is_set():
            return JSONResponse({"status": "starting", "why": "the STIX checks are still starting"}, 503)
        return JSONResponse({"status": "ok"})

    if workbench and importlib.util.find_spec("scheldt.web") is not None:
        from scheldt.web import mount

        mount(app)
    return app
