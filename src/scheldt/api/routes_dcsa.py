"""DCSA Track & Trace 3.0's Event Consumer endpoint: a shipping line's or terminal's own T&T
publisher pushes its events to ``POST /api/v1/dcsa/tnt/v3/events`` as they happen.

The request is DCSA TNT 3.0.0 ``PostEventsRequest`` (``{"events": [...]}``); the standard
leaves authentication out of its scope, and Scheldt takes an API token of one of the
organisation's ``carrier_security`` users. Each request is kept and read as a file the
organisation sent (:mod:`scheldt.api.routes_supplied`), and answered in the standard's terms:
``PostEventsResponse`` or ``PostEventsError`` (``feedbackElements``), with ``API-Version``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from scheldt.api.deps import CtxRouter
from scheldt.api.errors import refusal_headers, shown
from scheldt.api.routes_supplied import receive_file
from scheldt.errors import ScheldtError

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
