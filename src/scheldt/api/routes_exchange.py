"""Sharing with partner agencies: sharing groups, alerts, seizure reports, watchlist entries,
feedback (sightings), and the shared objects a requester may see.

Sharing needs :attr:`Permission.SHARE` (targeting officers, analysts, liaison officers of an
agency). Reading shared objects needs only a sign-in: the one visibility policy (TLP 2.0 over
organisations, sharing groups and named recipients) decides what each requester gets, before
paging, and fields under granular markings it may not see are removed. Every read and write is
audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Response
from pydantic import AwareDatetime, BeforeValidator, Field, StrictInt

from scheldt.api.deps import CtxDep, CtxRouter
from scheldt.api.paging import MAX_LIMIT
from scheldt.api.routes_inspections import Strict
from scheldt.domain.access import Permission
from scheldt.exchange.items import RESULTS, WATCH_KINDS
from scheldt.workflows import share
from scheldt.workflows.sharing import served
from scheldt.workflows.taxii import cursor_codec

router = CtxRouter(prefix="/api/v1", tags=["exchange"])

def _tlp_name(value: Any) -> Any:
    """A TLP name as the README and the errors write it (``GREEN``, ``TLP:AMBER+STRICT``) in
    the form the schema lists (a docs review's ``"GREEN"`` was refused with 422)."""
    return value.strip().lower().removeprefix("tlp:") if isinstance(value, str) else value


TlpName = Annotated[Literal["clear", "green", "amber", "amber+strict", "red"], BeforeValidator(_tlp_name),
                    Field(description="TLP 2.0, in any case, with or without 'TLP:'")]
Text200 = Annotated[str, Field(max_length=200)]
Text500 = Annotated[str, Field(min_length=1, max_length=500)]


class GroupIn(Strict):
    id: str = Field(min_length=2, max_length=64, description="lower-case letters, digits, hyphens")
    name: str = Field(min_length=1, max_length=200)
    members: list[Annotated[str, Field(min_length=2, max_length=64)]] = Field(default_factory=list, max_length=500)


class TermsIn(Strict):
    """The sharing terms of an item (TLP 2.0; handling code; source reliability A/B/C/X and
    information credibility 1-4; sharing group; TLP:RED named recipients; end of validity)."""

    tlp: TlpName
    sharing_group: str | None = Field(default=None, max_length=64, description="required for amber and amber+strict")
    handling_code: str = Field(default="", max_length=200)
    reliability: Literal["A", "B", "C", "X"] = "X"
    credibility: Literal["1", "2", "3", "4"] = "4"
    recipients: list[Annotated[str, Field(max_length=130)]] = Field(
        default_factory=list, max_length=100, description="organisation/username; TLP:RED only")
    valid_until: AwareDatetime | None = Field(default=None, description="UTC; open when omitted")

    def terms(self) -> share.Terms:
        return share.Terms(self.tlp, self.sharing_group, self.handling_code, self.reliability, self.credibility,
                           tuple(self.recipients), self.valid_until)


class AlertIn(TermsIn):
    trip_id: StrictInt = Field(ge=1)
    note: str = Field(default="", max_length=2000, description="one more reason, in the officer's words")


class SeizureReportIn(TermsIn):
    order_id: StrictInt = Field(ge=1, description="a scan order that recorded a seizure")
    reliability: Literal["A", "B", "C", "X"] | None = Field(  # type: ignore[assignment]
        default=None, description="omitted: the report's evaluation when shared before, else X")
    credibility: Literal["1", "2", "3", "4"] | None = Field(  # type: ignore[assignment]
        default=None, description="omitted: the report's evaluation when shared before, else 4")
    description: str | None = Field(default=None, max_length=2000, description=(
        "what was found, in words; left out, a report shared before keeps its text (\"\" clears it)"))


class WatchEntryIn(TermsIn):
    kind: Literal[WATCH_KINDS]  # type: ignore[valid-type]
    note: str = Field(min_length=1, max_length=4000, description="the grounds for listing it")
    name: str = Field(default="", max_length=500)
    aliases: list[Text500] = Field(default_factory=list, max_length=50)
    address: str = Field(default="", max_length=1000)
    country: str = Field(default="", max_length=2, description="ISO 3166-1 alpha-2")
    container_number: str = Field(default="", max_length=11)
    seal_from: str = Field(default="", max_length=64)
    seal_to: str = Field(default="", max_length=64)
    route: list[Annotated[str, Field(min_length=5, max_length=5)]] = Field(default_factory=list, max_length=20,
                                                                            description="UN/LOCODEs in order")


class SightingIn(Strict):
    alert_id: str = Field(min_length=3, max_length=100, description="the alert's STIX id")
    result: Literal[RESULTS]  # type: ignore[valid-type]
    count: StrictInt = Field(default=1, ge=0, le=999_999_999)
    detail: str = Field(default="", max_length=4000)
    recipients: list[Annotated[str, Field(max_length=130)]] = Field(
        default_factory=list, max_length=100, description="for a TLP:RED alert: who at its originator gets this")
    reliability: Literal["A", "B", "C", "X"] = Field(default="A", description="A: the organisation's own inspection")
    credibility: Literal["1", "2", "3", "4"] = Field(default="1", description="1: confirmed by the inspection")


@router.get("/sharing-groups", summary="Sharing groups the organisation is a member of")
def list_groups(ctx: CtxDep) -> dict[str, Any]:
    groups = share.groups_of(ctx.uow, ctx.principal)
    ctx.audit("read", "sharing-group-list", f"{len(groups)} groups")
    return {"items": [g | {"created_at": g["created_at"].isoformat() if g["created_at"] else None} for g in groups]}


@router.post("/sharing-groups", status_code=201, summary="Create a sharing group (the organisation owns it)")
def create_group(body: GroupIn, ctx: CtxDep) -> dict[str, Any]:
    group = share.create_group(ctx.uow, ctx.principal, body.id, body.name, body.members, ctx.now)
    ctx.audit("write", "sharing-group", body.id, members=group["members"])
    return group | {"created_at": group["created_at"].isoformat() if group["created_at"] else None}


def _written(ctx: Any, what: str, out: dict[str, Any]) -> dict[str, Any]:
    # a RED item's disclosure is its recipients: they are in the entry (new-user review); one
    # shared before as it was (``already``) was written then, and is only read now
    ctx.audit("read" if out.get("already") else "write", what, out["id"], tlp=out["tlp"],
              sharing_group=out["sharing_group"], objects=len(out["objects"]), alerts=len(out["alerts"]),
              recipients=out["recipients"], **({"already": True} if out.get("already") else {}))
    return out


@router.post("/alerts", status_code=201, summary="Share an alert about one of the organisation's container trips",
             responses={200: {"description": "Shared before as it was (same trip, reasons, note and terms): that "
                                             "alert, with \"already\": true; nothing is written"}})
def share_alert(body: AlertIn, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """201 with the alert shared; 200 with the one shared before under the same terms (``"already": true``)."""
    out = share.share_alert(ctx.uow, ctx.principal, body.trip_id, body.terms(), ctx.now, body.note)
    if out.get("already"):
        response.status_code = 200  # nothing created (the last review found a 201 audited as a write)
    return _written(ctx, "shared-alert", out | {"trip_id": body.trip_id})


@router.post("/seizure-reports", status_code=201, summary="Share the seizure a scan order recorded")
def share_seizure(body: SeizureReportIn, ctx: CtxDep) -> dict[str, Any]:
    out = share.share_seizure_report(ctx.uow, ctx.principal, body.order_id, body.terms(), ctx.now, body.description)
    return _written(ctx, "shared-seizure-report", out | {"order_id": body.order_id})


@router.post("/watchlist-entries", status_code=201,
             summary="Share a watchlist entry (company, person, address, container, seal range, route)",
             responses={200: {"description": "Shared before as it was (same entry, note and terms): that entry, "
                                             "with \"already\": true; nothing is written"}})
def share_entry(body: WatchEntryIn, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """201 with the entry shared; 200 with the one shared before under the same terms (``"already": true``)."""
    out = share.share_watchlist_entry(
        ctx.uow, ctx.principal, body.kind, body.note, body.terms(), ctx.now, name=body.name, aliases=body.aliases,
        address=body.address, country=body.country, container_number=body.container_number,
        seal_from=body.seal_from, seal_to=body.seal_to, route=body.route)
    if out.get("already"):
        response.status_code = 200  # nothing created
    _written(ctx, "shared-watchlist-entry", out)
    # the alerts of other agencies the entry raised are theirs: naming them would tell the poster
    # which containers and companies those agencies have on file (attack review)
    org = ctx.principal.organisation.id
    return out | {"alerts": [a for a in out["alerts"]
                             if any(v.owner_org == org for v in ctx.uow.exchange.versions(None, a))]}


@router.post("/sightings", status_code=201, summary="Record what the organisation did about an alert (feedback)")
def record_sighting(body: SightingIn, ctx: CtxDep) -> dict[str, Any]:
    out = share.record_sighting(ctx.uow, ctx.principal, body.alert_id, body.result, ctx.now, count=body.count,
                                detail=body.detail, recipients=body.recipients, reliability=body.reliability,
                                credibility=body.credibility)
    return _written(ctx, "sighting", out | {"alert_id": body.alert_id, "result": body.result})


class WithdrawIn(Strict):
    """Required, as the OpenAPI document says (an API review: it was described as optional and
    then refused without a reason)."""

    reason: str = Field(min_length=1, max_length=500,
                        description="why, for the audit log (partners are not told)")


@router.post("/shared/{stix_id}/withdraw",
             summary="Withdraw an item the organisation shared: revoke it, delete its parts on every node")
def withdraw_item(stix_id: Annotated[str, Path(max_length=100, pattern=r"^[a-z0-9-]{1,60}--[0-9a-fA-F-]{36}$",
                                               description="the item's main STIX id, type--UUID")],
                  ctx: CtxDep, body: WithdrawIn) -> dict[str, Any]:
    """The item's main object gets a revoked version that names no one (partners see it
    withdrawn); its earlier versions and its parts (container, consignment, vessel call,
    parties) are deleted, and peers delete their copies. Only on the node it was shared from."""
    reason = body.reason
    out = share.withdraw_item(ctx.uow, ctx.principal, stix_id, ctx.now, reason)
    ctx.audit("write", "shared-withdrawal", stix_id, reason=reason, parts_deleted=out["parts_deleted"])
    return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


@router.get("/shared", summary="Shared STIX objects the requester may see, in arrival order")
def list_shared(ctx: CtxDep, cursor: Annotated[str | None, Query(max_length=200)] = None,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
                stix_type: Annotated[str | None, Query(alias="type", max_length=64, pattern=r"^[a-z0-9-]+$",
                                                       description="STIX type, e.g. grouping")] = None) -> dict[str, Any]:
    """Object versions (each with its sharing terms and provenance) after ``cursor``, oldest
    first; ``next_cursor`` continues the walk and stays valid as objects arrive. The cursor is
    sealed as TAXII's ``next`` is, and no item shows its store position: a partner counted the
    versions hidden from it between two it could see (an access review)."""
    ctx.require(Permission.READ_TRIPS)
    requester = ctx.uow.exchange.requester(ctx.principal.organisation.id, ctx.principal.username)
    codec = cursor_codec(ctx.uow)
    rows = ctx.uow.exchange.page(requester, after_seq=codec.decode(cursor, "cursor"),
                                 types=[stix_type] if stix_type else (), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{"id": r.stix_id, "type": r.stix_type, "modified": r.modified, "kind": r.kind, "tlp": r.tlp,
              "sharing_group": r.group_id, "owner": r.owner_org, "handling_code": r.handling_code,
              "reliability": r.reliability, "credibility": r.credibility, "valid_from": _iso(r.valid_from),
              "valid_until": _iso(r.valid_until), "source": r.source, "date_added": _iso(r.date_added),
              "object": served(ctx.uow, requester, r)} for r in rows]
    ctx.audit("read", "shared-object-list", f"{len(items)} objects", ids=[r.stix_id for r in rows])
    return {"items": items, "next_cursor": codec.encode(rows[-1].seq) if more else None}
