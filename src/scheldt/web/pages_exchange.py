"""Exchange with partner agencies in the workbench: the shared items a user may see (alerts,
watchlist entries, seizure reports, feedback), newest first; one item with its parts and
versions; withdrawing one's own item; and sharing an alert from a trip's page.

Reads go through the one visibility policy, as the REST API's ``/api/v1/shared`` and TAXII do;
every read and write is audited like theirs.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from scheldt.domain.access import Permission
from scheldt.errors import InputError, NotFoundError, ScheldtError
from scheldt.web import forms
from scheldt.web.context import PageCtx, PageDep, check_form, session_mark
from scheldt.web.pages_inspections import order_page
from scheldt.web.pages_trips import parse_trip_id, trip_page
from scheldt.web.render import error_page, refused, render
from scheldt.workflows import share
from scheldt.workflows.shared_views import KINDS, is_expired, item_page, recent_items, withdrawable

router = APIRouter(include_in_schema=False)

EXCHANGE_PAGE = 50
#: TLP levels an officer shares an alert under (an alert is never CLEAR or AMBER).
ALERT_TLPS = ("green", "amber+strict", "red")


def _requester(ctx: PageCtx) -> Any:
    return ctx.uow.exchange.requester(ctx.principal.organisation.id, ctx.principal.username)


#: The list's tabs, one per item kind.
KIND_NAMES = {"alert": "Alerts", "watchlist-entry": "Watchlist entries", "seizure-report": "Seizure reports",
              "sighting": "Feedback (sightings)", "other": "Other STIX objects"}


@router.get("/exchange", response_class=HTMLResponse)
def exchange(request: Request, ctx: PageDep, kind: str = "", before: str = "") -> HTMLResponse:
    """Shared items the user may see, newest first, one row per item (its newest version)."""
    try:
        ctx.require(Permission.READ_TRIPS)
        picked = forms.choice(kind[:20], "item_kind", KINDS)
        before_seq = forms.whole(before[:12], "before") if before else None
        rows, more = recent_items(ctx.uow, _requester(ctx), picked or "", EXCHANGE_PAGE, before_seq)
    except InputError as exc:  # the list's own filter at fault: said on the list (it was the jobs page's "Work")
        return render(request, "exchange.html", ctx, 400, rows=[], kinds=KINDS, kind="", next_url="",
                      kind_names=KIND_NAMES, expired=set(), error=exc)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    ctx.audit("read", "shared-object-list", f"{len(rows)} items", item_kind=picked or "any",
              ids=[r["id"] for r in rows])
    next_url = f"/exchange?{urlencode({'kind': picked or '', 'before': more})}" if more else ""
    return render(request, "exchange.html", ctx, rows=rows, kinds=KINDS, kind=picked or "", next_url=next_url,
                  kind_names=KIND_NAMES, error=None,
                  expired={r["id"] for r in rows if is_expired(r, ctx.now)})


#: What a share form did, as the item page it leads to says it.
SHARED_STATES = ("new", "already")


def _shared_mark(ctx: PageCtx, stix_id: str, state: str) -> str:
    """``state`` (:data:`SHARED_STATES`) with a mark of this session for ``stix_id``
    (:func:`~scheldt.web.context.session_mark`), so the item page says what this session's
    share did, and a link made by someone else says nothing."""
    return f"{state}.{session_mark(ctx, f'shared:{stix_id}:{state}')}"


def _shared_said(ctx: PageCtx, stix_id: str, shared: str) -> str | None:
    """The state :func:`_shared_mark` marked for this session, else None."""
    state = shared.partition(".")[0]
    if state not in SHARED_STATES or not hmac.compare_digest(shared, _shared_mark(ctx, stix_id, state)):
        return None
    return state


def _item(request: Request, ctx: PageCtx, stix_id: str, status: int = 200, error: ScheldtError | None = None,
          reason: str = "", shared: str = "") -> HTMLResponse:
    ctx.require(Permission.READ_TRIPS)
    page = item_page(ctx.uow, _requester(ctx), stix_id[:100])
    if page is None:
        raise NotFoundError(f"shared item {stix_id[:100]}", "no such shared item")
    ctx.audit("read", "shared-object", stix_id[:100], parts=len(page["parts"]))
    return render(request, "exchange_item.html", ctx, status, p=page, error=error, reason=reason,
                  expired=is_expired(page["row"], ctx.now), shared=_shared_said(ctx, stix_id[:100], shared[:40]),
                  may_withdraw=withdrawable(page["row"]) and ctx.principal.can(Permission.SHARE))


@router.get("/exchange/item", response_class=HTMLResponse)
def exchange_item(request: Request, ctx: PageDep, id: str = "",  # noqa: A002 - the query's name
                  shared: str = "") -> HTMLResponse:
    """One shared item: what it says, its terms, its parts and its versions; after a share form,
    whether it went out or was shared so already (``shared``: :func:`_shared_mark`)."""
    try:
        return _item(request, ctx, id, shared=shared)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)


@router.post("/exchange/item/withdraw", response_model=None)
def withdraw(request: Request, ctx: PageDep, csrf: Annotated[str, Form()] = "", id: Annotated[str, Form()] = "",  # noqa: A002
             reason: Annotated[str, Form()] = "") -> Response:
    """Withdraw one of the organisation's own items (see :func:`scheldt.workflows.share.withdraw_item`)."""
    try:
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    reason = reason.replace("\x00", "")[:500]
    try:
        out = share.withdraw_item(ctx.uow, ctx.principal, id[:100], ctx.now, reason)
        ctx.audit("write", "shared-withdrawal", out["id"], reason=reason, parts_deleted=out["parts_deleted"])
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: _item(request, ctx, id, e.status, error=e, reason=reason))
    return RedirectResponse(f"/exchange/item?{urlencode({'id': out['id']})}", status_code=303)


def _terms(typed: dict[str, str]) -> share.Terms:
    """The sharing terms a share form gives (``typed``: its fields as typed; recipients comma- or
    line-separated). Raises InputError for a TLP the workbench does not offer."""
    named = tuple(r.strip() for r in typed["recipients"].replace("\n", ",").split(",") if r.strip())
    return share.Terms(forms.choice(typed["tlp"], "tlp", ALERT_TLPS) or "", typed["sharing_group"].strip() or None,
                       "", typed["reliability"], typed["credibility"], named)


@router.post("/trips/{trip_id}/share", response_model=None)
def share_alert(request: Request, trip_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
                tlp: Annotated[str, Form()] = "", sharing_group: Annotated[str, Form()] = "",
                recipients: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
                reliability: Annotated[str, Form()] = "B", credibility: Annotated[str, Form()] = "2") -> Response:
    """Share an alert about the trip with partner agencies (its reasons, container, consignment,
    vessel call), under the terms chosen; then show it as partners will see it."""
    typed = {"tlp": tlp[:20], "sharing_group": sharing_group[:64], "recipients": recipients[:2000], "note": note,
             "reliability": reliability[:1], "credibility": credibility[:1]}
    return _share(request, ctx, csrf, lambda: parse_trip_id(trip_id), typed, "note", "shared-alert", "trip_id",
                  lambda tid, terms: share.share_alert(ctx.uow, ctx.principal, tid, terms, ctx.now, note),
                  lambda tid, e: trip_page(request, ctx, tid, e.status, share_error=e, share_form=typed))


def _share(request: Request, ctx: PageCtx, csrf: str, ident: Callable[[], int], typed: dict[str, str], text: str,
           what: str, key: str, publish: Callable[[int, share.Terms], dict[str, Any]],
           again: Callable[[int, ScheldtError], Response]) -> Response:
    """A share form's POST: the id of what is shared (``ident()``), the form's token, the
    ``typed[text]`` free text (at most 2,000 characters), then ``publish(id, terms)``, audited as
    a write of ``what`` naming the id as ``key`` (a read when it was shared so before), and the
    item shown as partners see it; a refused form shown again by ``again(id, error)`` with what
    was typed."""
    try:
        item = ident()
        check_form(request, ctx, csrf)
    except ScheldtError as exc:
        return error_page(request, ctx, exc)
    try:
        if len(typed[text]) > 2000:
            raise InputError(text, "at most 2,000 characters")
        out = publish(item, _terms(typed))
        ctx.audit("read" if out.get("already") else "write", what, out["id"], tlp=out["tlp"],  # already: as the API
                  sharing_group=out["sharing_group"], objects=len(out["objects"]), alerts=len(out["alerts"]),
                  recipients=out["recipients"], **{key: item}, **({"already": True} if out.get("already") else {}))
    except ScheldtError as exc:
        return refused(request, ctx, exc, lambda e: again(item, e))
    # said on the page it leads to (a web review could not tell whether partners got one alert or two)
    said = _shared_mark(ctx, out["id"], "already" if out.get("already") else "new")
    return RedirectResponse(f"/exchange/item?{urlencode({'id': out['id'], 'shared': said})}", status_code=303)


@router.post("/orders/{order_id}/share", response_model=None)
def share_seizure(request: Request, order_id: str, ctx: PageDep, csrf: Annotated[str, Form()] = "",
                  tlp: Annotated[str, Form()] = "", sharing_group: Annotated[str, Form()] = "",
                  recipients: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
                  reliability: Annotated[str, Form()] = "A", credibility: Annotated[str, Form()] = "1") -> Response:
    """Share the seizure a scan order recorded with partner agencies (what, how much, where it
    was hidden, the container, consignment and vessel call), or a new version of its report;
    then show it as partners will see it."""
    typed = {"tlp": tlp[:20], "sharing_group": sharing_group[:64], "recipients": recipients[:2000],
             "description": description, "reliability": reliability[:1], "credibility": credibility[:1]}
    return _share(request, ctx, csrf, lambda: forms.whole(order_id[:12], "order"), typed, "description",
                  "shared-seizure-report", "order_id",
                  lambda oid, terms: share.share_seizure_report(ctx.uow, ctx.principal, oid, terms, ctx.now,
                                                                description),
                  lambda oid, e: order_page(request, ctx, oid, e.status, share_error=e, share_form=typed))
