"""Where a shipping line's or terminal's own DCSA Track & Trace publisher pushes its events as
they happen.

- T&T 3.0's Event Consumer endpoint, ``POST /api/v1/dcsa/tnt/v3/events``: the request is DCSA
  TNT 3.0.0 ``PostEventsRequest`` (``{"events": [...]}``); the standard leaves authentication
  out of its scope, and Scheldt takes an API token of one of the organisation's
  ``carrier_security`` users. Answered in the standard's terms: ``PostEventsResponse`` or
  ``PostEventsError`` (``feedbackElements``), with ``API-Version``.
- T&T 2.2's subscriptions: the line makes a feed here (``POST /api/v1/dcsa/tnt/v2/feeds``: a
  callback URL and a secret, given once), subscribes it at its publisher, and the publisher
  POSTs each batch of events to ``/api/v1/dcsa/tnt/v2/notifications?feed=<id>`` signed with
  ``Notification-Signature`` (:mod:`scheldt.workflows.tnt_feeds`); answered 204.

Each request is kept and read as a file the organisation sent (:mod:`scheldt.api.routes_supplied`).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from scheldt.api.deps import Ctx, CtxDep, CtxRouter
from scheldt.api.errors import refusal_headers, shown
from scheldt.api.routes_supplied import as_json, in_slot, receive_file
from scheldt.errors import ScheldtError
from scheldt.store import sealing
from scheldt.store.db import unit_of_work
from scheldt.workflows import tnt_feeds

log = logging.getLogger("scheldt.api")

router = CtxRouter(prefix="/api/v1", tags=["shipping data"])

#: The DCSA Track & Trace version whose Event Consumer ``POST /events`` Scheldt implements.
TNT_VERSION = "3.0.0"
#: The name a pushed page of events is kept under (its record: ``GET /api/v1/shipping-data/{id}``).
TNT_PUSH_NAME = "dcsa-tnt-v3-events.json"
#: Where Scheldt's DCSA Track & Trace Event Consumer endpoint is.
TNT_PATH = "/api/v1/dcsa/tnt/v3/events"


@router.post(
    TNT_PATH.removeprefix(router.prefix),
    summary="DCSA Track & Trace 3.0 Event Consumer (POST /events): a shipping line's or terminal's "
            "publisher pushes its own events",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "properties": {"events": {"type": "array", "items": {"type": "object"}}}}}}}},
    responses={200: {"description": "PostEventsResponse: feedbackElements (ERROR per refused event, by "
                                    "propertyPath; WARN per kind of flag; INFO naming the file record)"},
               400: {"description": "PostEventsError: no event of the request could be kept"}})
async def receive_tnt_events(request: Request) -> Response:
    """DCSA Track & Trace 3.0's Event Consumer endpoint, so a line's or terminal's own T&T
    publisher sends its events here as they happen, unchanged: ``{"events": [...]}``
    (DCSA TNT 3.0.0 ``PostEventsRequest``), authenticated with an API token of one of its
    ``carrier_security`` users (authentication is out of the standard's scope). The page is
    kept and read as a file the organisation sent (``dcsa-tnt-v3-events.json``, listed by
    ``GET /api/v1/shipping-data``), under the same rules: events about other carriers'
    shipments, or elsewhere than at a terminal's facilities, are refused and quarantined, the
    rest kept; the same events sent again add nothing. The answer (``API-Version: 3.0.0``) is
    ``PostEventsResponse``: an ERROR feedback element per refused event (``propertyPath``
    ``$.events[i]...``, its message the reason), a WARN one per kind of flag on the events read
    (a code outside DCSA's lists, no classifier) and an INFO one naming the file's record; when
    no event could be kept, ``PostEventsError`` with status 400; any other refusal (401, 403,
    413, 429, 503) as ``PostEventsError`` with its status."""
    try:
        record = await receive_file(request, TNT_PUSH_NAME, "dcsa-events", every_refusal=True)
    except ScheldtError as exc:
        return tnt_error(exc)
    if isinstance(record, Response):
        return record
    return tnt_answer(record)


def tnt_answer(record: dict[str, Any]) -> Response:
    """The DCSA TNT 3.0 answer to a pushed page kept as ``record`` (a supplied file's record
    with its report listing every rejection): 200 ``PostEventsResponse``, or 400
    ``PostEventsError`` when events were sent and none was kept. Every refused event is named
    (a review's publisher was told of the first 500 of 600 and would have taken the other 100
    as delivered)."""
    report = record["report"]
    label = f"{record['organisation_id']}/{record['id']}/{record['name']}"
    feedback = [{"severity": "ERROR", "message": f"{r['field']}: {r['why']}" if r.get("field") else r["why"],
                 "propertyPath": _property_path(r["where"], label)} for r in report.get("rejections", [])]
    # read in a way the publisher may not expect (a code outside DCSA's lists, no classifier:
    # not counted as a move that happened; counted as read, refused or not): a review's
    # publisher was told nothing
    feedback += [{"severity": "WARN", "message": f"{kind['count']} event(s) flagged {code} ({kind['field']}), "
                  f"e.g.: {kind['example']}"} for code, kind in report.get("flag_kinds", {}).items()]
    feedback.append({"severity": "INFO", "message": f"kept as file {record['id']} of {record['organisation_id']} "
                     f"(GET /api/v1/shipping-data/{record['id']}): {record['accepted']} events accepted, "
                     f"{record['added']} new, {record['rejected']} refused"})
    status = 400 if record["accepted"] == 0 and record["rejected"] > 0 else 200
    return JSONResponse({"feedbackElements": feedback}, status_code=status, headers={"API-Version": TNT_VERSION})


def _property_path(where: str, label: str) -> str:
    """The JSONPath within the request of a rejection's ``where`` (``<label>$.events[3]...``);
    ``$`` for a rejection of the request as a whole."""
    path = where[len(label):] if where.startswith(label) else ""
    return path if path.startswith("$") else "$"


def tnt_error(exc: ScheldtError, status: int | None = None) -> Response:
    """A refusal as DCSA TNT 3.0 ``PostEventsError`` (one ERROR feedback element saying where
    and why) with the status (``exc``'s unless given) and headers the rest of the API gives it."""
    status = status or (exc.status if 400 <= exc.status < 600 else 500)
    where, why = shown(exc)
    headers = {"API-Version": TNT_VERSION} | refusal_headers(exc, status)
    if status >= 500:
        log.error("POST %s: %s", TNT_PATH, exc)
    return JSONResponse({"feedbackElements": [{"severity": "ERROR", "message": f"{where}: {why}",
                                               "propertyPath": "$"}]}, status_code=status, headers=headers)


# --- DCSA Track & Trace 2.2: feeds (subscriptions made at the line's publisher) ---------------

#: Where a DCSA T&T 2.2 publisher POSTs a feed's events (``?feed=<id>``: DCSA lets a callback
#: URL name its subscriber in its query).
TNT2_PATH = "/api/v1/dcsa/tnt/v2/notifications"
#: The DCSA Track & Trace version whose subscription callbacks Scheldt takes.
TNT2_VERSION = "2.2.0"
FeedId = Annotated[str, Query(max_length=36, description="the feed's id, as its callback URL gives it")]


def callback_url(request: Request, feed_id: str) -> str:
    """The URL a feed's publisher POSTs to: this node's address as the request reached it."""
    return f"{str(request.base_url).rstrip('/')}{TNT2_PATH}?feed={feed_id}"


@router.post("/dcsa/tnt/v2/feeds", status_code=201,
             summary="Make a DCSA Track & Trace 2.2 feed: a callback URL and a secret to subscribe at your publisher")
def create_feed(request: Request, ctx: CtxDep) -> dict[str, Any]:
    """A new feed of your organisation (you must be signed in with your password: a feed made
    with a leaked API token would outlive the token). The answer gives, once, the
    ``callback_url`` and the Base64 ``secret``, and ``subscription``: the body to POST to your
    publisher's ``/v2/event-subscriptions`` (add its filters as you need). Your publisher then
    sends each batch of events there, signed with the secret (``Notification-Signature``); each
    batch is kept as a file you sent (``GET /api/v1/shipping-data``), under the same rules as
    your uploads."""
    return made_feed(request, ctx)


@router.get("/dcsa/tnt/v2/feeds", summary="Your organisation's DCSA Track & Trace 2.2 feeds (secrets are never shown)")
def list_feeds(request: Request, ctx: CtxDep) -> dict[str, Any]:
    return {"items": listed_feeds(request, ctx)}


def made_feed(request: Request, ctx: Ctx) -> dict[str, Any]:
    """Make a feed of the signed-in user's organisation (a password session only) and audit it:
    the feed with its ``callback_url``, Base64 ``secret`` and the ``subscription`` body for the
    publisher (the API's answer; the workbench's Make a feed shows the same). Raises what
    :func:`scheldt.workflows.tnt_feeds.create_feed` raises, and ForbiddenError for a token."""
    ctx.require_password_session("make a DCSA feed")
    feed, secret = tnt_feeds.create_feed(ctx.uow, ctx.principal, ctx.now,
                                         lambda text: sealing.seal_for(ctx.uow.session, text))
    url = callback_url(request, feed["id"])
    ctx.audit("write", "tnt-feed", feed["id"], action="create")
    return as_json(feed) | {"callback_url": url, "secret": secret,
                              "subscription": {"callbackUrl": url, "secret": secret}}


def listed_feeds(request: Request, ctx: Ctx) -> list[dict[str, Any]]:
    """The organisation's feeds, audited (the API's list and the workbench's): no secrets; an
    active one's ``callback_url``."""
    rows = tnt_feeds.feeds(ctx.uow, ctx.principal)
    ctx.audit("read", "tnt-feed-list", f"{len(rows)} feeds")
    return [as_json(r) | ({"callback_url": callback_url(request, r["id"])} if r["active"] else {}) for r in rows]


@router.delete("/dcsa/tnt/v2/feeds/{feed_id}", summary="Stop a DCSA Track & Trace 2.2 feed: its callbacks are refused")
def delete_feed(feed_id: str, ctx: CtxDep) -> dict[str, Any]:
    feed = tnt_feeds.delete_feed(ctx.uow, ctx.principal, feed_id, ctx.now)
    ctx.audit("write", "tnt-feed", feed["id"], action="delete")
    return as_json(feed)


@router.post(
    TNT2_PATH.removeprefix(router.prefix), status_code=204,
    summary="DCSA Track & Trace 2.2 subscription callback: a feed's publisher POSTs its events, signed",
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "array", "items": {"type": "object"}}}}},
        "parameters": [{"name": "Notification-Signature", "in": "header", "required": True,
                        "schema": {"type": "string"}, "description": "sha256=<hex HMAC-SHA256 of the body>"}]},
    responses={204: {"description": "kept (GET the file named by the Link header for what became of each event)"},
               400: {"description": "no event could be kept: the file's record with its report"},
               401: {"description": "Notification-Signature missing or not matching"},
               404: {"description": "no active feed has this id"}})
async def receive_tnt2_notification(request: Request, feed: FeedId = "") -> Response:
    """DCSA Track & Trace 2.2's callback (the ``callbackUrl`` of an event subscription): the
    body is a JSON array of events, signed ``Notification-Signature: sha256=<hex>`` with the
    feed's secret. It is kept and read as a file the feed's user sent
    (``dcsa-tnt-v2-notification.json``): events about other carriers' shipments, or elsewhere
    than at a terminal's facilities, are refused and quarantined, the rest kept; the same
    events sent again add nothing. 204 when kept (``Link`` names the file's record, with its
    report); 400 with the record when events were sent and none could be kept; 401 for a
    missing or wrong signature; 404 for no active feed of that id."""
    record = await receive_file(request, tnt_feeds.FEED_FILE_NAME, "dcsa-events", feed=feed)
    if isinstance(record, Response):
        return record
    if record["accepted"] == 0 and record["rejected"] > 0:
        return JSONResponse(record, status_code=400, headers={"API-Version": TNT2_VERSION})
    return Response(status_code=204, headers={"API-Version": TNT2_VERSION,
                                              "Link": f'</api/v1/shipping-data/{record["id"]}>; rel="related"'})


@router.get(TNT2_PATH.removeprefix(router.prefix), status_code=204,
            summary="Whether a DCSA Track & Trace 2.2 feed's callback URL is live (as a publisher checks it)")
async def check_tnt2_callback(request: Request, feed: FeedId = "") -> Response:
    """204 when ``feed`` names an active feed, else 404, to GET and HEAD alike
    (:class:`scheldt.api.app.HeadAsGet`): a publisher may check a callback URL before taking a
    subscription."""
    def active() -> bool:
        with unit_of_work(request.app.state.engine) as uow:
            return tnt_feeds.feed_is_live(uow, feed)
    return Response(status_code=204 if await in_slot(request, active) else 404)
