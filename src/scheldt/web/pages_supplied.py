"""The "Send data" page of shipping lines and terminals: send a file of their own shipping data
(DCSA Track & Trace events, DCSA transport documents, UN/EDIFACT) and read what became of it
and of the files sent before (:mod:`scheldt.api.routes_supplied` for the API); make and stop the
organisation's DCSA Track & Trace 2.2 feeds (:mod:`scheldt.workflows.tnt_feeds`; the API's
``/api/v1/dcsa/tnt/v2/feeds``), a new feed's secret shown once, on the page the form answers with.

The form's file is read only once the sender is known to be signed in, from this workbench
(Origin) and allowed to send: an attack review's unsigned client made the server take in 60 MB
before it was sent to the sign-in page.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from scheldt.api.deps import check_origin
from scheldt.api.paging import decode_id, encode
from scheldt.api.routes_dcsa import listed_feeds, made_feed
from scheldt.api.routes_supplied import Spool, as_json, gates, in_slot, receiving, store_file
from scheldt.domain.access import Permission, Principal
from scheldt.errors import InputError, ScheldtError
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form, page_context
from scheldt.web.render import error_page, refused, render
from scheldt.workflows import tnt_feeds
from scheldt.workflows.supplied import SUPPLIED_FORMATS

router = APIRouter(include_in_schema=False)

#: Files listed on the page at a time, newest first.
RECENT_FILES = 30
_CHUNK = 1 << 20


def _page(request: Request, ctx: PageCtx, status: int = 200, before: int | None = None, **state: Any) -> HTMLResponse:
    ctx.require(Permission.SUPPLY_DATA)
    files = ctx.uow.supplied_files.recent(ctx.principal.organisation.id, before, RECENT_FILES + 1)
    older = encode(files[RECENT_FILES - 1]["id"]) if len(files) > RECENT_FILES else None
    files = files[:RECENT_FILES]
    ctx.audit("read", "shipping-data-list", f"{len(files)} files")
    feeds = listed_feeds(request, ctx)
    state = {"shown": None, "error": None, "typed_format": "auto", "made": None, "feed_error": None} | state
    return render(request, "send_data.html", ctx, status, files=[as_json(f) for f in files], older=older,
                  formats=SUPPLIED_FORMATS, feeds=feeds, max_feeds=tnt_feeds.MAX_FEEDS, **state)


@router.get("/send-data", response_class=HTMLResponse)
def send_data_page(request: Request, ctx: PageDep, file: str = "", before: str = "") -> HTMLResponse:
    """The form, the report of one file sent (``?file=ID``, the organisation's own), and the
    files sent lately (``?before=CURSOR``: older ones)."""
    try:
        shown = None
        if file:
            file_id = forms.whole(file[:12], "file")
            if file_id is None:
                raise InputError("file", "give a file's number")
            ctx.require(Permission.SUPPLY_DATA)
            shown = as_json(ctx.uow.supplied_files.get(ctx.principal.organisation.id, file_id))
            ctx.audit("read", "shipping-data", file_id)
        return _page(request, ctx, before=decode_id(before[:200] or None), shown=shown)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


def _may_send(request: Request) -> tuple[Principal | None, HTMLResponse | None]:
    """The signed-in sender, or the refusal page (audited) of one who may not send from here.
    Raises SignInRequired when no one is signed in."""
    with page_context(request) as ctx:
        try:
            check_origin(request)
            ctx.require(Permission.SUPPLY_DATA)
        except ScheldtError as exc:
            return None, error_page(request, ctx, exc)
        return ctx.principal, None


def _send(request: Request, upload: Any, csrf: Any, format: Any) -> Response:  # noqa: A002 - the form field's name
    """Read the form's file as the organisation's own shipping data, then show its report."""
    with page_context(request) as ctx:
        try:
            check_form(request, ctx, csrf if isinstance(csrf, str) else "")
        except ScheldtError as exc:
            return error_page(request, ctx, exc)
        typed = format[:32] if isinstance(format, str) and format else "auto"
        try:
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InputError("file", "choose a file to send")
            with Spool() as spool:
                while chunk := upload.file.read(_CHUNK):
                    spool.write(chunk)
                row = store_file(ctx, spool, upload.filename, typed)
        except ScheldtError as exc:
            return refused(request, ctx, exc, lambda e: _page(request, ctx, e.status, error=e, typed_format=typed))
        return RedirectResponse(f"/send-data?file={row['id']}", status_code=303)


@router.post("/send-data", response_model=None)
async def send_data(request: Request) -> Response:
    """Sign-in, origin and role first; then the form is read (its file spooled to disk) and the
    file is read into the store, one file at a time per server process."""
    principal, refusal = await in_slot(request, _may_send, request)
    if refusal is not None or principal is None:
        return refusal or Response(status_code=403)
    try:
        async with receiving(request, principal):
            form = await request.form(max_files=1, max_fields=8)
    except ClientDisconnect:  # the sender went away: nothing to answer, nothing kept
        return Response(status_code=400)
    try:
        async with gates(request.app).reading:
            return await in_slot(request, _send, request, form.get("file"), form.get("csrf"), form.get("format"))
    finally:
        await form.close()


def _feed_form_refusal(request: Request, ctx: PageCtx, csrf: str) -> HTMLResponse | None:
    """The refusal page (audited) of a feed form not from this workbench's session or from a user
    who may not send data, else None."""
    try:
        check_form(request, ctx, csrf)
        ctx.require(Permission.SUPPLY_DATA)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    return None


@router.post("/send-data/feeds", response_model=None)
def make_feed(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "") -> Response:
    """Make a DCSA Track & Trace 2.2 feed of the organisation (as ``POST /api/v1/dcsa/tnt/v2/feeds``)
    and answer with the page showing, this once, its callback URL, secret and the subscription
    body for the publisher (never redirected: the secret is in no URL and no later page)."""
    if (refusal := _feed_form_refusal(request, ctx, csrf)) is not None:
        return refusal
    try:
        made = made_feed(request, ctx)
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: _page(request, ctx, e.status, feed_error=e))
    return _page(request, ctx, made=made | {"subscription": json.dumps(made["subscription"], indent=2)})


@router.post("/send-data/feeds/stop", response_model=None)
def stop_feed(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "",
              id: Annotated[str, Form()] = "") -> Response:  # noqa: A002 - the form field's name
    """Stop one of the organisation's feeds (as ``DELETE /api/v1/dcsa/tnt/v2/feeds/{id}``): its
    callbacks are refused from now on; back to the page's list of feeds."""
    if (refusal := _feed_form_refusal(request, ctx, csrf)) is not None:
        return refusal
    try:
        feed = tnt_feeds.delete_feed(ctx.uow, ctx.principal, id, ctx.now)  # uncut: a longer id names no feed
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: _page(request, ctx, e.status, feed_error=e))
    ctx.audit("write", "tnt-feed", feed["id"], action="delete")
    return RedirectResponse("/send-data#tnt-feeds", status_code=303)
