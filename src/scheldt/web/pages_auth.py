"""Signing in and out of the workbench."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.api.deps import SESSION_COOKIE
from scheldt.api.routes_admin import sign_in_request, session_cookie
from scheldt.errors import AuthError, ScheldtError
from scheldt.web.context import PageDep, check_form, check_origin, safe_next
from scheldt.web.render import error_page, render
from scheldt.workflows import accounts

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The workbench opens on the risk queue."""
    return RedirectResponse("/queue", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str = "/queue", lost: str = "") -> HTMLResponse:
    """The sign-in form; ``lost``: the session had ended when a form was sent, which was not saved."""
    return render(request, "sign_in.html", None, next=safe_next(next), username="", error=None, lost=lost == "1")


@router.post("/sign-in", response_model=None)
def sign_in(request: Request, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
            next: Annotated[str, Form()] = "/queue") -> Response:
    """Check the password, set the session cookie and go where the user was heading; a refusal
    shows the form again with the username kept and one message for every kind of failure."""
    target = safe_next(next)
    name = username.strip()[:64]
    try:
        check_origin(request)
        if not name or not password or len(password) > 1024:
            raise AuthError("sign-in", "give your username and password")
        secret, _ = sign_in_request(request, name, password)
    except ScheldtError as exc:
        return render(request, "sign_in.html", None, exc.status, next=target, username=name, error=exc, lost=False)
    response = RedirectResponse(target, status_code=303)
    session_cookie(response, secret, accounts.SESSION_HOURS * 3600, request.url.scheme == "https")
    return response


@router.post("/sign-out", response_model=None)
def sign_out(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "") -> Response:
    """End the session (it is revoked in the store, not only forgotten by the browser)."""
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    accounts.sign_out(ctx.uow, ctx.principal, ctx.now)
    ctx.audit("sign-out", "user", ctx.principal.username)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
