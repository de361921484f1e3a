"""One JSON error shape for every failure: ``{"error": {"status": 404, "where": ..., "why": ...}}``.

Scheldt's own errors carry where and why; request validation errors name the field path
(``body.mass_kg``) and pydantic's reason, once the credentials are checked (a request without
good ones gets 401 whatever its fields); anything unexpected is a 500 that says so without
internals (the traceback goes to the server log).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheldt.api.deps import refused_credentials
from scheldt.errors import ConfigError, ScheldtError, StoreUnavailable
from scheldt.ingest.base import HUGE_DIGITS, has_huge_number

log = logging.getLogger("scheldt.api")


def error_response(status: int, where: str, why: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error body every failure uses."""
    return JSONResponse({"error": {"status": status, "where": where, "why": why}}, status_code=status, headers=headers)


def _location(loc: tuple[object, ...] | list[object]) -> str:
    return ".".join(str(p) for p in loc) or "request"


def shown(exc: ScheldtError) -> tuple[str, str]:
    """Where and why of ``exc`` as a client is told it: a fault of the store says so without
    the store's URL (host, port, database, user, file), which is the operator's and goes to the
    server log (a review read it, and a ?password=, in an anonymous sign-in's 503; another, in a
    TAXII 503 and so in a partner node's pull report)."""
    if isinstance(exc, ConfigError) and exc.where.startswith("database "):
        return "store", ("the database cannot be reached just now; try again" if isinstance(exc, StoreUnavailable)
                         else "the database cannot serve this request; the server log has the details")
    return exc.where, exc.why


def refusal_headers(exc: ScheldtError, status: int) -> dict[str, str]:
    """The headers of an error answer: the challenge of a 401, when to try again after a 503
    or a 429."""
    return ({"WWW-Authenticate": 'Bearer realm="scheldt"'} if status == 401
            else {"Retry-After": "5"} if status == 503
            else {"Retry-After": str(getattr(exc, "retry_after", 60))} if status == 429 else {})


async def _scheldt(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScheldtError)
    status = exc.status if 400 <= exc.status < 600 else 500
    headers = refusal_headers(exc, status) or None
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(status, *shown(exc), headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    status, where, why = _invalid(request, exc)
    # who may not ask learns nothing of the request's fields (API review); who may is audited
    refused = await run_in_threadpool(refused_credentials, request, status, where)
    if refused is not None:
        return await _scheldt(request, refused)
    return error_response(status, where, why)


def _invalid(request: Request, exc: RequestValidationError) -> tuple[int, str, str]:
    """Status, where and why of a request whose fields FastAPI refused."""
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = tuple(first.get("loc", ()))
    if first.get("type") == "json_invalid":  # it named the character offset as a field: "body.1"
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        return 422, "body", f"not valid JSON: {first.get('ctx', {}).get('error', 'decode error')}{at}"
    sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if loc == ("body",) and first.get("type") == "model_attributes_type" and not _json_type(sent):
        return 415, "content-type", (f"send the body as JSON (Content-Type: application/json), not "
                                     f"{sent[:100] or 'without a content type'}")
    why = str(first.get("msg", "invalid"))
    more = len(exc.errors()) - 1
    if more > 0:
        why += f" (and {more} more problem{'s' if more > 1 else ''})"
    return 422, _location(loc), why


async def _unparsed(request: Request) -> str:
    """Why FastAPI could not parse a body it did not call malformed JSON: bytes that are not
    UTF-8, a number of more digits than Python makes an integer of, or JSON nested deeper than
    Python's parser goes (an API review's 100,000 nested lists were called "not JSON text in
    UTF-8"; an attack review's 5,001-digit trip id was called nested too deeply)."""
    body = await request.body()
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "not JSON text in UTF-8"
    if has_huge_number(body):
        return f"holds a number of {HUGE_DIGITS:,} digits or more, which no field takes"
    return "JSON nested too deeply to read (lists and objects within each other; a request needs a few levels)"


def _json_type(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":  # FastAPI's, for bytes
        # that are not UTF-8 (an API review)
        refused = await run_in_threadpool(refused_credentials, request, 400, "body")
        if refused is not None:
            return await _scheldt(request, refused)
        return error_response(400, "body", await _unparsed(request))
    if exc.status_code == 405:
        allowed = allowed_methods(request.app.router.routes, request.url.path)
        return error_response(405, request.url.path, f"{request.method} is not answered here; this path answers "
                              f"{', '.join(allowed)}", {"Allow": ", ".join(allowed)})
    return error_response(exc.status_code, request.url.path, str(exc.detail), getattr(exc, "headers", None))


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """Every method some route among ``routes`` answers at ``path`` (RFC 9110 section 15.5.6:
    the Allow header of a 405 lists them all; Starlette named only the first route's, GET for a
    path that also takes POST), HEAD beside GET (:class:`scheldt.api.app.HeadAsGet`), sorted."""
    methods = _route_methods(routes, path)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _route_methods(routes: list[Any], path: str) -> set[str]:
    """The methods of the routes among ``routes`` (and the routers included in them) whose path
    pattern matches ``path``."""
    out: set[str] = set()
    for route in routes:
        pattern = getattr(route, "path_regex", None)
        if pattern is None:  # an included router: its own routes
            inner = getattr(route, "routes", None) or getattr(getattr(route, "original_router", None), "routes", None)
            out |= _route_methods(list(inner or ()), path)
        elif pattern.match(path):
            out |= set(getattr(route, "methods", None) or ())
    return out


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, request.url.path, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Route every error through :func:`error_response`."""
    app.add_exception_handler(ScheldtError, _scheldt)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
