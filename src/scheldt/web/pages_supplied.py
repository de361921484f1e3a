"""The "Send data" page of shipping lines and terminals: send a file of their own shipping data
(DCSA Track & Trace events, DCSA transport documents, UN/EDIFACT) and read what became of it
and of the files sent before (:mod:`scheldt.api.routes_supplied` for the API)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.api.routes_supplied import Spool, as_json, store_file
from scheldt.domain.access import Permission
from scheldt.errors import InputError, ScheldtError
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form
from scheldt.web.render import error_page, refused, render
from scheldt.workflows.supplied import SUPPLIED_FORMATS

router = APIRouter(include_in_schema=False)

#: Files listed on the page, newest first.
RECENT_FILES = 30
_CHUNK = 1 << 20


def _page(request: Request, ctx: PageCtx, status: int = 200, **state: Any) -> HTMLResponse:
    ctx.require(Permission.SUPPLY_DATA)
    files = ctx.uow.supplied_files.recent(ctx.principal.organisation.id, None, RECENT_FILES)
    ctx.audit("read", "shipping-data-list", f"{len(files)} files")
    state = {"shown": None, "error": None, "typed_format": "auto"} | state
    return render(request, "send_data.html", ctx, status, files=files, formats=SUPPLIED_FORMATS, **state)


@router.get("/send-data", response_class=HTMLResponse)
def send_data_page(request: Request, ctx: PageDep, file: str = "") -> HTMLResponse:
    """The form, the report of one file sent (``?file=ID``, the organisation's own) and the
    files sent lately."""
    try:
        shown = None
        if file:
            file_id = forms.whole(file[:12], "file")
            if file_id is None:
                raise InputError("file", "give a file's number")
            ctx.require(Permission.SUPPLY_DATA)
            shown = as_json(ctx.uow.supplied_files.get(ctx.principal.organisation.id, file_id))
            ctx.audit("read", "shipping-data", file_id)
        return _page(request, ctx, shown=shown)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/send-data", response_model=None)
def send_data(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "",
              format: Annotated[str, Form()] = "auto",  # noqa: A002 - the form field's name
              file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Read the file sent as the organisation's own shipping data, then show its report."""
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        if file is None or not file.filename:
            raise InputError("file", "choose a file to send")
        with Spool() as spool:
            while chunk := file.file.read(_CHUNK):
                spool.write(chunk)
            row = store_file(ctx, spool, file.filename, format[:32])
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: _page(request, ctx, e.status, error=e, typed_format=format[:32]))
    return RedirectResponse(f"/send-data?file={row['id']}", status_code=303)
