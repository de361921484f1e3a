"""One JSON error shape for every failure: ``{"error": {"status": 404, "where": ..., "why": ...}}``.

Scheldt's own errors carry where and why; request validation errors name the field path
(``body.mass_kg``) and pydantic's reason; anything unexpected is a 500 that says so without
internals (the traceback goes to the server log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheldt.errors import ScheldtError

log = logging.getLogger("scheldt.api")


def error_response(status: int, where: str, why: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The error body every failure uses."""
    return JSONResponse({"error": {"status": status, "where": where, "why": why}}, status_code=status, headers=headers)


def _location(loc: tuple[object, ...] | list[object]) -> str:
    return ".".join(str(p) for p in loc) or "request"


async def _scheldt(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScheldtError)
    status = exc.status if 400 <= exc.status < 600 else 500
    headers = ({"WWW-Authenticate": 'Bearer realm="scheldt"'} if status == 401
               else {"Retry-After": "5"} if status == 503 else None)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(status, exc.where, exc.why, headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = _location(first.get("loc", ()))
    why = str(first.get("msg", "invalid"))
    more = len(exc.errors()) - 1
    if more > 0:
        why += f" (and {more} more problem{'s' if more > 1 else ''})"
    return error_response(422, where, why)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return error_response(exc.status_code, request.url.path, str(exc.detail), getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, request.url.path, "internal error; the server log has the details")


def install(app: FastAPI) -> None:
    """Route every error through :func:`error_response`."""
    app.add_exception_handler(ScheldtError, _scheldt)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
