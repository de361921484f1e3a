"""Carrier notice subscriptions, the notices sent and the dead-letter list.

A shipping line's or terminal's ``carrier_security`` user subscribes a callback URL and a
shared secret (DCSA Track & Trace subscription style); Scheldt then POSTs signed hold, release
and alert notices about that organisation's own containers (:mod:`scheldt.exchange.notify` has
the wire format). The secret is given once, at creation, and never returned. Every list and
change is audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from scheldt.api.deps import CtxDep, CtxRouter
from scheldt.api.paging import MAX_LIMIT, decode_id, encode
from scheldt.api.routes_inspections import unpadded
from scheldt.settings import get_settings
from scheldt.workflows import notices

router = CtxRouter(prefix="/api/v1", tags=["notices"])

NoticeKind = Literal["hold", "release", "alert"]


#: A secret as sent: surrounding whitespace is refused, not dropped (a carrier review's secret
#: ending in a space was stored without it, and its receiver, signing with the secret it had
#: registered, rejected every notice).
Secret = Annotated[str, unpadded("the secret starts or ends with whitespace; send the exact secret your receiver "
                                 "signs with"), Field(
    min_length=1, max_length=notices.SECRET_MAX_BYTES, json_schema_extra={"writeOnly": True},
    description="shared HMAC-SHA256 key, 32 to 1,024 bytes as UTF-8, used exactly as sent; never shown again")]


class SubscriptionIn(BaseModel):
    """A new subscription; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    callback_url: str = Field(min_length=1, max_length=notices.URL_MAX,
                              description="https URL Scheldt POSTs notices to")
    secret: Secret
    kinds: list[NoticeKind] = Field(default_factory=lambda: list(notices.KINDS), min_length=1, max_length=3)


def _out(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its times as ISO 8601 UTC text."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


@router.get("/subscriptions", summary="The organisation's notice subscriptions (secrets are never shown)")
def list_subscriptions(ctx: CtxDep) -> dict[str, Any]:
    rows = notices.subscriptions(ctx.uow, ctx.principal)
    ctx.audit("read", "subscription-list", f"{len(rows)} subscriptions")
    return {"items": [_out(r) for r in rows]}


@router.post("/subscriptions", status_code=201, summary="Subscribe a callback URL to hold, release and alert notices")
def subscribe(body: SubscriptionIn, ctx: CtxDep) -> dict[str, Any]:
    # an access review: a leaked token subscribed a URL of its holder's that went on receiving the
    # carrier's hold and release notices after the token was revoked
    ctx.require_password_session("subscribe a callback URL")
    sub = notices.subscribe(ctx.uow, ctx.principal, body.callback_url, body.secret, body.kinds, ctx.now,
                            allow_http=get_settings().notice_allow_http)
    ctx.audit("write", "subscription", sub["id"], action="subscribe", callback_url=sub["callback_url"],
              kinds=sub["kinds"])
    return _out(sub)


class SecretIn(BaseModel):
    """A subscription's new shared secret; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    secret: Secret


@router.put("/subscriptions/{subscription_id}/secret",
            summary="Give a subscription a new shared secret; its notices still to be sent are signed with it")
def change_secret(subscription_id: int, body: SecretIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require_password_session("give a subscription a new secret")
    sub = notices.change_secret(ctx.uow, ctx.principal, subscription_id, body.secret)
    ctx.audit("write", "subscription", subscription_id, action="secret")
    return _out(sub)


@router.delete("/subscriptions/{subscription_id}", summary="Delete a subscription; undelivered notices go dead")
def unsubscribe(subscription_id: int, ctx: CtxDep) -> dict[str, Any]:
    sub, moved = notices.unsubscribe(ctx.uow, ctx.principal, subscription_id, ctx.now)
    ctx.audit("write", "subscription", subscription_id, action="unsubscribe", dead_lettered=moved)
    return _out(sub) | {"dead_lettered": moved}


def _page(ctx: Any, status: str | None, cursor: str | None, limit: int, what: str) -> dict[str, Any]:
    rows = notices.notices(ctx.uow, ctx.principal, status, decode_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", what, f"{len(rows)} notices", status=status)
    return {"items": [_out(r) for r in rows], "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.get("/notices", summary="Notices sent to the organisation, newest first, with their delivery state")
def list_notices(ctx: CtxDep, status: Literal["pending", "delivered", "dead"] | None = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict[str, Any]:
    return _page(ctx, status, cursor, limit, "notice-list")


@router.get("/notices/dead-letter", summary="Notices whose last try failed (or whose subscription was deleted)")
def dead_letter(ctx: CtxDep, cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict[str, Any]:
    return _page(ctx, "dead", cursor, limit, "notice-dead-letter")


@router.post("/notices/{notice_id}/retry", summary="Re-queue a dead notice for a new round of tries")
def retry(notice_id: int, ctx: CtxDep) -> dict[str, Any]:
    row = notices.retry(ctx.uow, ctx.principal, notice_id, ctx.now)
    ctx.audit("write", "notice", notice_id, action="retry", notice_id=row["notice_id"])
    return _out(row)
