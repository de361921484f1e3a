"""Who asks for a workbench page, in which unit of work, and the checks every form goes through.

A page works like an API request (:mod:`scheldt.api.deps`): one unit of work that commits when
the route returns, before the response is sent, with the request's audit entries appended in
the same transaction. It differs in two ways: a page needs a session cookie (never an API
token) and sends a browser that is not signed in to ``/sign-in?next=<the page>`` instead of a
401; and every form it posts carries a token tied to the session (:func:`csrf_token`), on top
of the cookie's ``SameSite=Lax`` and a check that the request's ``Origin`` is this server.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from scheldt.api.deps import (
    SAFE_METHODS,
    SESSION_COOKIE,
    Ctx,
    audit_refused_token,
    check_origin,
    flush_audit,
    remote_address,
    request_action,
    utc_now,
    withdrawn_session,
)
from scheldt.errors import AuthError, ForbiddenError, NotFoundError, ScheldtError
from scheldt.store.db import unit_of_work
from scheldt.workflows.accounts import authenticate


class SignInRequired(Exception):
    """The page needs a signed-in user; ``next_url`` is where to come back to."""

    def __init__(self, next_url: str, lost: bool = False) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        #: a form was sent and not saved (the session had ended): the sign-in page says so
        self.lost = lost


@dataclass
class PageCtx(Ctx):
    """A request's context (see :class:`scheldt.api.deps.Ctx`) plus the session's form token."""

    csrf: str = ""


def csrf_token(session_secret: str) -> str:
    """The token every form of a session carries: derived from the session's secret, which a
    page of another site cannot read, so it cannot forge a form that passes."""
    return hashlib.sha256(b"scheldt-workbench-form:" + session_secret.encode()).hexdigest()[:40]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server, never another site (``//host``,
    ``https://...``, backslashes); ``/queue`` otherwise."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/queue"
    return target[:500]


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _page_context(request: Request) -> Iterator[PageCtx]:
    now = utc_now()
    secret = request.cookies.get(SESSION_COOKIE, "")
    with unit_of_work(request.app.state.engine) as uow:
        sent = request.method not in SAFE_METHODS
        if not secret:
            raise SignInRequired(_here(request), sent)
        try:
            principal = authenticate(uow, secret, now, ("session",), request.app.state.host_org)
        except AuthError:
            if withdrawn_session(uow, secret):  # a stolen cookie tried after sign-out (an access review)
                audit_refused_token(request, now, secret)
            raise SignInRequired(_here(request), sent) from None
        ctx = PageCtx(uow, principal, now, remote_address(request), request_action(request),
                      csrf=csrf_token(secret))
        yield ctx
        flush_audit(uow, principal, principal.organisation.id, ctx.remote, ctx.action, ctx.pending, now)


@contextmanager
def page_context(request: Request) -> Iterator[PageCtx]:
    """A signed-in page's context for a route that cannot take :data:`PageDep`: one that must
    know its sender before it reads its body (a file upload). Raises SignInRequired."""
    yield from _page_context(request)


PageDep = Annotated[PageCtx, Depends(_page_context, scope="function")]
"""A signed-in page's context; not signed in: redirect to the sign-in page."""


def session_mark(ctx: PageCtx, what: str) -> str:
    """A mark of ``what`` by this session (16 hex digits of an HMAC keyed on its form token,
    which no one else knows), for a page a form redirects to to say what the form did: a link
    made by anyone else carries no valid mark and the page says nothing (a web review's
    ``?notices=999999`` had an officer read that 999,999 notices went out)."""
    return hmac.new(ctx.csrf.encode(), what.encode(), hashlib.sha256).hexdigest()[:16]


def check_form(request: Request, ctx: PageCtx, token: str) -> None:
    """Every signed-in form: same origin and the session's form token. Raises ForbiddenError."""
    check_origin(request)
    if not token or not hmac.compare_digest(token, ctx.csrf):
        raise ForbiddenError("form", "this form is stale or was not made by this workbench: reload the page and "
                             "try again")


def rollback(ctx: Ctx) -> None:
    """Undo what a refused form may have written before the workflow refused it, so nothing
    half-done is committed with the page that shows the error."""
    ctx.uow.session.rollback()


def install(app: FastAPI) -> None:
    """Send browsers that are not signed in to the sign-in page, then back."""

    async def _to_sign_in(request: Request, exc: Exception) -> RedirectResponse:
        assert isinstance(exc, SignInRequired)
        lost = "&lost=1" if exc.lost else ""  # an officer review's form, sent after sign-out, vanished unsaid
        return RedirectResponse(f"/sign-in?next={quote(exc.next_url, safe='')}{lost}", status_code=303)

    app.add_exception_handler(SignInRequired, _to_sign_in)
    json_errors = app.exception_handlers[StarletteHTTPException]

    async def _back_to_the_page(request: Request, exc: Exception) -> Response:
        # a review reloaded the address a refused form had posted to and got a JSON 405
        assert isinstance(exc, StarletteHTTPException)
        path = request.url.path
        if exc.status_code == 405 and request.method in ("GET", "HEAD") and not path.startswith(NOT_PAGES):
            return RedirectResponse(page_of_form(path), status_code=303)
        if (exc.status_code == 404 and request.method in ("GET", "HEAD") and not path.startswith(NOT_PAGES)
                and "text/html" in request.headers.get("accept", "")):
            # a mistyped workbench address showed a browser raw JSON (officer review)
            from scheldt.web.render import error_page  # render imports this module

            return error_page(request, None, NotFoundError(path[:200], "there is no such page in the workbench"))
        return await json_errors(request, exc)

    app.add_exception_handler(StarletteHTTPException, _back_to_the_page)
    api_errors = app.exception_handlers[ScheldtError]

    async def _as_a_page(request: Request, exc: Exception) -> Response:
        # a refusal before the page's own code ran (a NUL in a form's text) answered a browser
        # the API's JSON (regression review)
        assert isinstance(exc, ScheldtError)
        if request.url.path.startswith(NOT_PAGES):
            return await api_errors(request, exc)
        from scheldt.web.render import error_page  # render imports this module

        return error_page(request, None, exc)

    app.add_exception_handler(ScheldtError, _as_a_page)


#: Paths that are not workbench pages: their errors stay JSON.
NOT_PAGES = ("/api/", "/taxii2/", "/healthz", "/readyz", "/metrics", "/static/", "/docs-assets/", "/openapi.json")


def page_of_form(path: str) -> str:
    """The page a workbench form posting to ``path`` is on (``/trips/41/share`` → ``/trips/41``)."""
    parent = path.rstrip("/").rsplit("/", 1)[0] or "/"
    return {"/exchange/item": "/exchange"}.get(parent, parent)
