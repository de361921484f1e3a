"""Jinja2 templates (autoescaped) and the small formatting filters the pages share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scheldt import __version__
from scheldt.api.errors import shown
from scheldt.domain.access import Permission
from scheldt.errors import REFUSALS, ForbiddenError, ScheldtError
from scheldt.web.context import PageCtx, rollback
from scheldt.web.forms import AMBIGUOUS_MASS

log = logging.getLogger(__name__)

TEMPLATES = files("scheldt.web").joinpath("templates")


def when(value: Any, with_time: bool = True) -> str:
    """A time as ``2026-01-01 10:32 UTC`` (from a datetime or an ISO 8601 text); a date as
    ``2026-01-01``; "" for nothing."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if with_time else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


#: The thousands separator of figures shown: a narrow no-break space (SI, ISO 80000-1), which no
#: one reads as a decimal mark. A comma was: a search team review read "1,000 kg" as 1 kg, as a
#: Belgian user writes decimals, and the mass field itself takes a decimal comma.
THOUSANDS = "\u202f"


def number(value: Any, digits: int = 1) -> str:
    """A number with thousands separators (:data:`THOUSANDS`) and ``digits`` decimals:
    ``12 345.6``; "" for nothing."""
    if value is None or value == "":
        return ""
    return f"{float(value):,.{digits}f}".replace(",", THOUSANDS)


def points(value: Any) -> str:
    """A reason's points with their sign and one decimal: ``+12.0``, ``-17.3`` (a profile review's
    negative model share read "+-17.3"); "" for nothing."""
    if value is None or value == "":
        return ""
    return f"{float(value):+,.1f}"


def mass(value: Any) -> str:
    """A mass in kg as recorded: grams below 1 kg (40 g, not 0.0 kg), else kg with up to three
    decimals and thousands separators (:data:`THOUSANDS`: 1.25 kg, 1 250 kg); "" for nothing."""
    if value is None or value == "":
        return ""
    kg = float(value)
    if kg < 1:
        return f"{kg * 1000:.3f}".rstrip("0").rstrip(".") + " g"
    return f"{kg:,.3f}".rstrip("0").rstrip(".").replace(",", THOUSANDS) + " kg"


def mass_field(value: Any) -> str:
    """A recorded mass in kg as a form field shows it to be sent again: the number as stored,
    with a trailing zero where it would read two ways (12.345 → ``12.3450``: the form refuses
    ``12.345`` as 12,345 kg with a thousands separator, and a search team correcting a note
    had its own recorded seizure refused); "" for nothing."""
    if value is None or value == "":
        return ""
    text = f"{float(value):.12g}"
    return text + "0" if AMBIGUOUS_MASS.fullmatch(text) else text


def percent(value: Any) -> str:
    """A fraction 0..1 as a percentage; an en dash for nothing."""
    return "–" if value is None else f"{100 * float(value):.0f} %"


def label(value: Any) -> str:
    """A code word as words: ``nothing_found`` → ``nothing found``."""
    return str(value or "").replace("_", " ")


#: Form fields as their forms label them, for error messages (an accessibility review: errors
#: named "drug_type" where the field reads "Drug").
FIELD_NAMES = {
    "drug_type": "Drug", "mass_kg": "Mass (kg)", "concealment": "Hidden", "method": "Method",
    "seals_found": "Seals found",
    "nii_image_ref": "Image reference",
    "verdict": "Image verdict", "result": "Result", "notes": "Notes", "reason": "Reason", "note": "Note",
    "tlp": "TLP", "sharing_group": "Sharing group", "recipients": "Recipients", "reliability": "Reliability",
    "credibility": "Credibility", "scanner_id": "Scanner", "selection": "Pick", "shift_date": "Date", "shift": "Shift",
    "trip_id": "Trip", "arrived_from": "Arrived from", "arrived_to": "Arrived to", "band": "Risk band",
    "port": "Port of loading", "status": "Status", "on_hold": "On hold", "container": "Container", "kind": "Work", "item_kind": "Kind of item",
    "seed": "Seed (training)", "done_at": "Done at", "left": "Box", "text": "Notice", "username": "Username",
    "password": "Password", "date": "Date",
}


def field_name(where: Any) -> str:
    """An error's ``where`` as the page names it: a form field by its label, anything else as it is."""
    text = str(where or "")
    return FIELD_NAMES.get(text.removeprefix("body.").removeprefix("query."), text)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=when, number=number, points=points, mass=mass, mass_field=mass_field, percent=percent,
                       label=label, field_name=field_name)
    env.globals.update(version=__version__, Permission=Permission)
    return env


ENV = _environment()


def render(request: Request, template: str, ctx: PageCtx | None, code: int = 200, **values: Any) -> HTMLResponse:
    """The page ``template`` filled with ``values``, the signed-in user (``me``), ``can`` (a
    permission check for showing links and forms), ``agency`` (True for a user of an agency,
    who sees customs' risk view; False for a shipping line or terminal, and before signing in),
    the form token and the path (for the menu), sent with HTTP status ``code``; a 429 for an
    ``error`` that says when to come back (TooManyAttempts) carries ``Retry-After``, as the
    API's does (a workbench review's sign-in lockout had none)."""
    error = values.get("error")
    if isinstance(error, ScheldtError) and shown(error) != (error.where, error.why):
        # a fault of the store, told without the store's address (host, port, database, user),
        # as the API tells it: an operator review's sign-in page showed it to anyone during an
        # outage; the address goes to the server log
        log.error("%s %s: %s", request.method, request.url.path, error)
        values["error"] = type(error)(*shown(error))
    page = ENV.get_template(template).render(
        me=ctx.principal if ctx else None, can=(ctx.principal.can if ctx else (lambda _p: False)),
        agency=ctx.agency if ctx else False, csrf=ctx.csrf if ctx else "", path=request.url.path, **values)
    retry_after = getattr(values.get("error"), "retry_after", None)
    headers = _HEADERS | {"Retry-After": str(retry_after)} if code == 429 and retry_after else _HEADERS
    return HTMLResponse(page, status_code=code, headers=headers)


def error_page(request: Request, ctx: PageCtx | None, exc: ScheldtError) -> HTMLResponse:
    """A refusal or missing thing as a page with its status, where and why. A request refused
    for what it asked, its role, a thing not the user's or against what is stored (400, 403,
    404, 409) is audited as ``denied``, as the API does, and nothing else it did is kept."""
    if ctx is not None and isinstance(exc, REFUSALS):
        rollback(ctx)
        ctx.pending.clear()
        ctx.audit("denied", "request", request.url.path, status=exc.status, where=exc.where)
    return render(request, "error.html", ctx, exc.status if 400 <= exc.status < 600 else 500, error=exc)


# Pages load scripts, styles, images and data from this server only; nothing is framed.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def refused(request: Request, ctx: PageCtx, exc: ScheldtError,
            show_form: Callable[[ScheldtError], HTMLResponse]) -> HTMLResponse:
    """The answer to a form the workflow refused: what it may have written is undone; a role
    that may not do this gets the refusal as a page of its own; any other refusal shows the
    form again (``show_form(exc)``) with the message beside it and what was typed, the refusal
    (400, 404, 409) audited as ``denied`` as :func:`error_page` does (an audit review: a refused
    hold, plan or share was filed only as a read of the trip)."""
    rollback(ctx)
    if isinstance(exc, ForbiddenError):
        return error_page(request, ctx, exc)
    if isinstance(exc, REFUSALS):
        ctx.pending.clear()
        ctx.audit("denied", "request", request.url.path, status=exc.status, where=exc.where)
    try:
        return show_form(exc)
    except ScheldtError as again:
        return error_page(request, ctx, again)
