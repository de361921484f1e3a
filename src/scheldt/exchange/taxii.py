"""The TAXII 2.1 server inside Scheldt (OASIS TAXII Version 2.1, OASIS Standard, 10 June 2021).

Endpoints (one API root, :data:`API_ROOT`; ``{c}`` is a collection's id or alias):

====================================================  ======  ====================================
``/taxii2/``                                          GET     Server Discovery (§4.1)
``/taxii2/scheldt/``                                  GET     API Root Information (§4.2)
``/taxii2/scheldt/status/{id}/``                      GET     Status of an Add Objects (§4.3)
``/taxii2/scheldt/collections/``                      GET     Collections (§5.1)
``/taxii2/scheldt/collections/{c}/``                  GET     Collection (§5.2)
``/taxii2/scheldt/collections/{c}/manifest/``         GET     Object Manifests (§5.3)
``/taxii2/scheldt/collections/{c}/objects/``          GET     Objects (§5.4)
``/taxii2/scheldt/collections/{c}/objects/``          POST    Add Objects (§5.5): 202 + status
``/taxii2/scheldt/collections/{c}/objects/{id}/``     GET     An Object (§5.6)
``/taxii2/scheldt/collections/{c}/objects/{id}/``     DELETE  Delete an Object (§5.7)
``/taxii2/scheldt/collections/{c}/objects/{id}/versions/``  GET  Object Versions (§5.8)
``/taxii2/scheldt/collections/{c}/deleted/``          GET     Tombstones (Scheldt extension, below)
====================================================  ======  ====================================

Filters (§3.4, §3.5): ``added_after``, ``limit`` (default 100, at most 1000), ``next``,
``match[id]``, ``match[type]``, ``match[version]`` (``last`` by default, ``first``, ``all``,
timestamps; comma-separated), ``match[spec_version]``. Lists carry ``X-TAXII-Date-Added-First``
and ``-Last`` (§3.4). What is served, and the cursor design, are in :mod:`scheldt.workflows.taxii`.

Media types (§1.6.8): responses are ``application/taxii+json;version=2.1``. A request's
``Accept`` must allow it (``application/taxii+json`` with version 2.1 or none, ``*/*``,
``application/*``, or no Accept header), else 406. Add Objects takes an envelope as
``application/taxii+json`` (version 2.1 or none) or a STIX bundle as ``application/stix+json``
(version 2.1 or none), else 415; collections list ``application/stix+json;version=2.1`` as their
media type and manifests name it per object. Errors are the error resource (§3.6.1): ``title``,
``description``, ``http_status`` (text) and ``details`` ``{where, why}``; a body over 1 MiB is
refused with 413 before it reaches here (the application's limit, announced as
``max_content_length``).

Authentication (§1.6.4): HTTP Basic with a Scheldt username and password (checked with argon2,
no session opened), or ``Authorization: Bearer <API token>`` (``Token <API token>`` too, as
taxii2-client's TokenAuth sends it). Without valid credentials: 401 with ``WWW-Authenticate``
challenges for both.

Audit: every request that reaches a resource appends an audit entry in the request's
transaction (``read`` with the STIX ids served, ``write`` with what was added or deleted);
refused ones (400, 403, 404, 409: :data:`scheldt.errors.REFUSALS`) are audited as ``denied`` in a
transaction of their own.

Tombstones (a Scheldt extension, for federation): ``GET .../collections/{c}/deleted/?next=&limit=``
returns ``{"more", "next", "deleted": [{"id", "version", "date_deleted"}]}``, the object versions
of the collection deleted on this node (by TAXII DELETE, or learnt from a peer) that the requester
may see, after the cursor; one deleted by the withdrawal of an item says ``"withdrawn": true``
(such an object takes no new version, on the peer too). Peers delete their copies
(:mod:`scheldt.exchange.federation`).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from scheldt.api.deps import (
    audit_denied,
    audit_failed_sign_in,
    audit_refused_token,
    flush_audit,
    password_check,
    remote_address,
    request_action,
    utc_now,
)
from scheldt.api.errors import allowed_methods, shown
from scheldt.domain.access import Principal
from scheldt.domain.exchange import Requester
from scheldt.errors import REFUSALS, AuthError, InputError, NotFoundError, ScheldtError
from scheldt.ingest.dcsa_events import has_long_digit_run
from scheldt.settings import get_settings
from scheldt.store.db import UnitOfWork, unit_of_work
from scheldt.workflows import taxii as t
from scheldt.workflows.accounts import authenticate

log = logging.getLogger("scheldt.taxii")

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
API_ROOT = "scheldt"
#: ``max_content_length`` announced (§4.2.1): the application's request body limit (1 MiB).
MAX_CONTENT_LENGTH = 1024 * 1024
CHALLENGES = ('Basic realm="scheldt-taxii", charset="UTF-8"', 'Bearer realm="scheldt-taxii"')
_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
           422: "Unprocessable Entity", 500: "Internal Server Error"}

router = APIRouter(prefix="/taxii2", tags=["TAXII 2.1"])


class NotAcceptableError(ScheldtError):
    """The request's Accept header allows no media type this endpoint serves."""

    status = 406


class UnsupportedMediaTypeError(ScheldtError):
    """The request body's Content-Type is not one this endpoint takes."""

    status = 415


# --- responses -----------------------------------------------------------------------------------

def taxii_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A TAXII resource as ``application/taxii+json;version=2.1``."""
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def taxii_error(status: int, where: str, why: str, retry_after: int = 60) -> Response:
    """The error resource (§3.6.1) for ``status``; a 401 carries the Basic and Bearer challenges,
    a 429 ``Retry-After`` (``retry_after`` seconds)."""
    body = {"title": _TITLES.get(status, "Error"), "description": f"{where}: {why}", "http_status": str(status),
            "details": {"where": where, "why": why}}
    response = taxii_response(body, status)
    if status == 429:  # a sign-in throttled (TooManyAttempts): when to come back
        response.headers["Retry-After"] = str(retry_after)
    if status == 401:
        for challenge in CHALLENGES:
            response.headers.append("WWW-Authenticate", challenge)
    return response


def _page_headers(rows: list[Any]) -> dict[str, str]:
    span = t.date_added_range(rows)
    return {"X-TAXII-Date-Added-First": span[0], "X-TAXII-Date-Added-Last": span[1]} if span else {}


# --- media types ---------------------------------------------------------------------------------

def _media_ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    """(type/subtype, parameters) of each media range of an Accept or Content-Type header."""
    out = []
    for part in header.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
        out.append((pieces[0].lower(), params))
    return out


def _version_ok(params: dict[str, str]) -> bool:
    return params.get("version", "2.1") == "2.1"


def check_accept(request: Request) -> None:
    """Raise NotAcceptableError unless the Accept header allows ``application/taxii+json;version=2.1``
    (§1.6.8; see the module docstring)."""
    header = request.headers.get("accept")
    if header is None or not header.strip():
        return
    for media, params in _media_ranges(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if media in ("*/*", "application/*") or (media == "application/taxii+json" and _version_ok(params)):
            return
    raise NotAcceptableError("header.accept", f"{header[:100]!r} does not accept {TAXII_MEDIA_TYPE}")


def check_characters(request: Request) -> None:
    """Raise InputError for a NUL character in the path or the query: no collection, object or
    status id, filter or cursor holds one (and PostgreSQL text cannot)."""
    if "\x00" in request.url.path:
        raise InputError("path", "contains a NUL character")
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        raise InputError("query", "contains a NUL character")


def read_posted_objects(content_type: str | None, body: bytes) -> list[Any]:
    """The objects of an Add Objects body: a TAXII envelope (``application/taxii+json``) or a
    STIX bundle (``application/stix+json``). Raises UnsupportedMediaTypeError (415) for another
    Content-Type, InputError (400) for a body that is not such a JSON object."""
    ranges = _media_ranges(content_type or "")
    media, params = ranges[0] if len(ranges) == 1 else ("", {})
    if media not in ("application/taxii+json", "application/stix+json") or not _version_ok(params):
        raise UnsupportedMediaTypeError("header.content-type", f"{(content_type or '')[:100]!r}: send a TAXII "
                                        f"envelope as {TAXII_MEDIA_TYPE} (or a STIX bundle as "
                                        "application/stix+json;version=2.1)")
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InputError("body", f"not JSON: {exc}") from None
    if has_long_digit_run(body):  # orjson reads integers beyond 64 bits as floats: read again, exactly
        try:  # (a STIX review's 2**64 came back as 1.8e19; such objects are refused)
            doc = json.loads(body)
        except RecursionError:  # nested deeper than Python's parser goes: refused for its depth anyway
            pass
    if not isinstance(doc, dict):
        raise InputError("body", "give a JSON object (a TAXII envelope or a STIX bundle)")
    if media == "application/stix+json" and doc.get("type") != "bundle":
        raise InputError("body.type", "an application/stix+json body must be a STIX bundle")
    objects = doc.get("objects")
    if not isinstance(objects, list):
        raise InputError("body.objects", "give the objects as a list")
    return objects


# --- authentication and the request context ------------------------------------------------------

def principal_of(uow: UnitOfWork, request: Request, now: datetime) -> Principal:
    """Who sends the request: HTTP Basic (RFC 7617) or a Bearer/Token API token. Raises AuthError."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        try:
            text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthError("header.authorization", "Basic credentials are not base64 of 'username:password'") from None
        username, sep, password = text.partition(":")
        if not sep or not username:
            raise AuthError("header.authorization", "Basic credentials are not 'username:password'")
        with password_check(request, now, request_action(request)):
            try:
                return t.verify_password(uow, username, password, request.app.state.host_org)
            except AuthError:
                audit_failed_sign_in(request, now, username, request_action(request))
                raise
    if scheme in ("bearer", "token") and value.strip():
        try:
            return authenticate(uow, value.strip(), now, ("token", "session"), request.app.state.host_org)
        except AuthError:
            audit_refused_token(request, now, value.strip())
            raise
    raise AuthError("credentials", "sign in with HTTP Basic (username and password) or 'Authorization: Bearer "
                    "<API token>'")


def audit_if_signed_in(request: Request, status: int, where: str, now: datetime) -> None:
    """:func:`scheldt.api.deps.audit_if_signed_in` for a TAXII request refused before routing
    (a body over its limit, one that stalled): its credentials may also be HTTP Basic or
    ``Token`` (:func:`principal_of`, which throttles and audits a wrong password). Audits the
    refusal as ``denied`` when they name a user; nothing otherwise; never raises (a review: a
    TAXII client's 413 with Basic or Token credentials left no trace)."""
    if not request.headers.get("authorization", "").strip():
        return
    try:
        with unit_of_work(request.app.state.engine) as uow:
            principal = principal_of(uow, request, now)
        audit_denied(request, principal, status, where, now)
    except ScheldtError:  # unknown or wrong credentials: refused like any anonymous request
        return


@dataclass
class TaxiiCtx:
    """What an endpoint works with: unit of work, principal, the policy's requester, the time,
    and the audit entries added when the request commits."""

    uow: UnitOfWork
    principal: Principal
    requester: Requester
    now: datetime
    remote: str
    action: str
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def audit(self, kind: str, object_kind: str, object_id: object, **details: Any) -> None:
        """Record a read or write (appended in the request's transaction)."""
        self.pending.append((kind, {"object_kind": object_kind, "object_id": str(object_id), "details": details}))

    def collection(self, key: str, described: bool = False) -> t.Collection:
        """A collection the requester may read (with its title and description when
        ``described``). Raises NotFoundError."""
        return t.find_collection(self.uow, self.principal, self.requester, key, described)


def _serve(request: Request, work: Callable[[TaxiiCtx], Response], check_media: bool = True) -> Response:
    """Authenticate, run ``work`` in one unit of work with its audit entries, and turn every
    failure into a TAXII error resource (refusals audited as ``denied``)."""
    now = utc_now()
    engine = request.app.state.engine
    action = request_action(request)
    try:
        with unit_of_work(engine) as uow:
            principal = principal_of(uow, request, now)
            ctx = TaxiiCtx(uow, principal, t.requester_of(uow, principal), now, remote_address(request), action)
            try:
                # the request's own checks are refusals of a signed-in user too, audited as such
                # (an audit review's 406, 415 and NUL 400s left no trace)
                if check_media:
                    check_accept(request)
                check_characters(request)
                response = work(ctx)
            except (*REFUSALS, NotAcceptableError, UnsupportedMediaTypeError) as exc:
                uow.session.rollback()
                denied = exc
            else:
                flush_audit(uow, principal, principal.organisation.id, ctx.remote, ctx.action, ctx.pending, now)
                return response
        with unit_of_work(engine) as uow:
            flush_audit(uow, principal, principal.organisation.id, ctx.remote, action,
                        [("denied", {"object_kind": "taxii", "object_id": request.url.path,
                                     "details": {"status": denied.status, "where": denied.where}})], now)
        raise denied
    except ScheldtError as exc:
        status = exc.status if 400 <= exc.status < 600 else 500
        if status >= 500:
            log.error("%s: %s", action, exc)
        return taxii_error(status, *shown(exc), getattr(exc, "retry_after", 60))
    except Exception:  # noqa: BLE001 - a TAXII client gets the error resource, the log the traceback
        log.exception("unexpected error on %s", action)
        return taxii_error(500, request.url.path, "internal error; the server log has the details")


def _root(api_root: str) -> None:
    if api_root != API_ROOT:
        raise NotFoundError(f"api root {api_root[:60]}", f"this server has one API root, {API_ROOT!r}")


def _query(uow: Any, request: Request, *, ids: bool = True, types: bool = True, versions: bool = True) -> t.Query:
    qp = request.query_params
    added_after = qp.get("added_after")
    return t.Query(after=t.cursor_codec(uow).decode(qp.get("next")),
                   added_after=t.parse_timestamp(added_after, "added_after") if added_after else None,
                   ids=t.split_values(qp.getlist("match[id]")) if ids else (),
                   types=t.split_values(qp.getlist("match[type]")) if types else (),
                   versions=t.VersionMatch.parse(qp.getlist("match[version]")) if versions else t.ALL_VERSIONS,
                   spec_versions=t.split_values(qp.getlist("match[spec_version]")),
                   limit=t.parse_limit(qp.get("limit")))


def objects_response(page: t.Page, texts: list[str]) -> Response:
    """The envelope (§3.7) of a page whose objects are JSON texts (:func:`t.object_texts`),
    spliced in without parsing them, with the X-TAXII-Date-Added headers."""
    head = orjson.dumps(_envelope(page, "objects", []))
    body = head[:-1] + b',"objects":[' + ",".join(texts).encode() + b"]}" if texts else head
    return Response(body, media_type=TAXII_MEDIA_TYPE, headers=_page_headers(page.rows))


def _envelope(page: t.Page, key: str, items: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"more": page.more}
    if page.next is not None:
        body["next"] = page.next
    if items:
        body[key] = items
    return body


# --- server information --------------------------------------------------------------------------

def _root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + f"/taxii2/{API_ROOT}/"


@router.get("/", summary="Server Discovery (TAXII 2.1 §4.1)")
async def discovery(request: Request) -> Response:
    """The discovery resource: this server's one API root, also its default."""
    def work(ctx: TaxiiCtx) -> Response:
        url = _root_url(request)
        ctx.audit("read", "taxii-discovery", "discovery")
        return taxii_response({"title": f"Scheldt TAXII 2.1 ({get_settings().local_organisation})",
                               "description": "Alerts, watchlist entries, seizure reports and sightings shared "
                                              "between customs and law-enforcement agencies (STIX 2.1).",
                               "default": url, "api_roots": [url]})
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/", summary="API Root Information (TAXII 2.1 §4.2)")
async def api_root_information(api_root: str, request: Request) -> Response:
    """The API root resource: title, versions, max_content_length."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        ctx.audit("read", "taxii-api-root", api_root)
        return taxii_response({"title": f"Scheldt ({get_settings().local_organisation})",
                               "description": "One collection per sharing group of your organisation, and community.",
                               "versions": [TAXII_MEDIA_TYPE], "max_content_length": MAX_CONTENT_LENGTH})
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/status/{status_id}/", summary="Get Status (TAXII 2.1 §4.3)")
async def get_status(api_root: str, status_id: str, request: Request) -> Response:
    """The status resource of an Add Objects request of your organisation (404 otherwise)."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        body = t.status(ctx.uow, ctx.principal, status_id)
        ctx.audit("read", "taxii-status", status_id)
        return taxii_response(body)
    return await run_in_threadpool(_serve, request, work)


# --- collections ---------------------------------------------------------------------------------

@router.get("/{api_root}/collections/", summary="Get Collections (TAXII 2.1 §5.1)")
async def get_collections(api_root: str, request: Request) -> Response:
    """The collections you may read (see :mod:`scheldt.workflows.taxii`)."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        found = t.collections(ctx.uow, ctx.principal, ctx.requester)
        ctx.audit("read", "taxii-collections", api_root, collections=[c.alias for c in found])
        return taxii_response({"collections": [c.resource() for c in found]})
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/", summary="Get a Collection (TAXII 2.1 §5.2)")
async def get_collection(api_root: str, collection: str, request: Request) -> Response:
    """One collection resource."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection, described=True)
        ctx.audit("read", "taxii-collection", c.alias)
        return taxii_response(c.resource())
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/manifest/", summary="Get Object Manifests (TAXII 2.1 §5.3)")
async def get_manifest(api_root: str, collection: str, request: Request) -> Response:
    """Manifest records of the visible object versions matching the filters, one page."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        page = t.select_versions(ctx.uow, ctx.requester, c, _query(ctx.uow, request), as_text=True, with_object=False)
        ctx.audit("read", "taxii-manifest", c.alias, count=len(page.rows), ids=[r.stix_id for r in page.rows],
                  next=page.next)
        return taxii_response(_envelope(page, "objects", t.manifest_records(page.rows)), headers=_page_headers(page.rows))
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/objects/", summary="Get Objects (TAXII 2.1 §5.4)")
async def get_objects(api_root: str, collection: str, request: Request) -> Response:
    """An envelope of the visible object versions matching the filters, one page."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        page = t.select_versions(ctx.uow, ctx.requester, c, _query(ctx.uow, request), as_text=True)
        ctx.audit("read", "taxii-objects", c.alias, count=len(page.rows), ids=[r.stix_id for r in page.rows],
                  next=page.next)
        return objects_response(page, t.object_texts(ctx.uow, ctx.requester, page.rows))
    return await run_in_threadpool(_serve, request, work)


@router.post("/{api_root}/collections/{collection}/objects/", summary="Add Objects (TAXII 2.1 §5.5)",
             status_code=202)
async def add_objects(api_root: str, collection: str, request: Request) -> Response:
    """Store the posted objects (an envelope, or a STIX bundle) and answer 202 with the status."""
    body = await request.body()

    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        objects = read_posted_objects(request.headers.get("content-type"), body)
        status = t.add_objects(ctx.uow, ctx.principal, ctx.requester, c, objects, ctx.now)
        ctx.audit("write", "taxii-add-objects", c.alias, status=status["id"], added=status["success_count"],
                  failed=status["failure_count"], ids=[s["id"] for s in status.get("successes", [])])
        return taxii_response(status, 202)
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/objects/{object_id}/", summary="Get an Object (TAXII 2.1 §5.6)")
async def get_object(api_root: str, collection: str, object_id: str, request: Request) -> Response:
    """An envelope of the visible versions of one object matching the filters (404 when none is visible)."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        t.require_object(ctx.uow, ctx.requester, c, object_id)
        q = _query(ctx.uow, request, ids=False, types=False)
        q = t.Query(q.after, q.added_after, (object_id,), (), q.versions, q.spec_versions, q.limit)
        page = t.select_versions(ctx.uow, ctx.requester, c, q, as_text=True)
        ctx.audit("read", "taxii-object", object_id, collection=c.alias, versions=[r.modified for r in page.rows])
        return objects_response(page, t.object_texts(ctx.uow, ctx.requester, page.rows))
    return await run_in_threadpool(_serve, request, work)


@router.delete("/{api_root}/collections/{collection}/objects/{object_id}/", summary="Delete an Object (TAXII 2.1 §5.7)")
async def delete_object(api_root: str, collection: str, object_id: str, request: Request) -> Response:
    """Delete your organisation's object (every version, unless match[version] narrows it)."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        qp = request.query_params
        versions = t.VersionMatch.parse(qp.getlist("match[version]")) if qp.getlist("match[version]") else None
        deleted = t.delete_object(ctx.uow, ctx.principal, ctx.requester, c, object_id, versions,
                                  t.split_values(qp.getlist("match[spec_version]")), ctx.now)
        ctx.audit("write", "taxii-delete-object", object_id, collection=c.alias, versions=[m for _, _, m in deleted])
        return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/objects/{object_id}/versions/",
            summary="Get Object Versions (TAXII 2.1 §5.8)")
async def get_object_versions(api_root: str, collection: str, object_id: str, request: Request) -> Response:
    """The versions of one object you may see, in arrival order (404 when none is visible)."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        t.require_object(ctx.uow, ctx.requester, c, object_id)
        q = _query(ctx.uow, request, ids=False, types=False, versions=False)
        q = t.Query(q.after, q.added_after, (object_id,), (), t.ALL_VERSIONS, q.spec_versions, q.limit)
        page = t.select_versions(ctx.uow, ctx.requester, c, q, as_text=True, with_object=False)
        versions = [r.modified for r in page.rows]
        ctx.audit("read", "taxii-object-versions", object_id, collection=c.alias, versions=versions)
        return taxii_response(_envelope(page, "versions", versions), headers=_page_headers(page.rows))
    return await run_in_threadpool(_serve, request, work)


@router.get("/{api_root}/collections/{collection}/deleted/", summary="Tombstones (Scheldt extension)")
async def get_tombstones(api_root: str, collection: str, request: Request) -> Response:
    """Object versions of the collection deleted on this node that you may see, after ``next``."""
    def work(ctx: TaxiiCtx) -> Response:
        _root(api_root)
        c = ctx.collection(collection)
        qp = request.query_params
        after = t.cursor_codec(ctx.uow).decode(qp.get("next"))
        page = t.tombstones(ctx.uow, ctx.requester, c, after, t.parse_limit(qp.get("limit")))
        items = [{"id": d.stix_id, "version": d.modified, "date_deleted": t.timestamp(d.deleted_at),
                  **({"withdrawn": True} if d.withdrawn else {})} for d in page.rows]
        ctx.audit("read", "taxii-tombstones", c.alias, count=len(items), ids=[d.stix_id for d in page.rows])
        return taxii_response(_envelope(page, "deleted", items))
    return await run_in_threadpool(_serve, request, work)


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                  include_in_schema=False)
async def not_an_endpoint(rest: str, request: Request) -> Response:
    """Anything else under /taxii2/: a path without its trailing slash is redirected (308); a
    known endpoint asked with another method is 405 naming the allowed ones; the rest is 404,
    all as TAXII error resources."""
    path = request.url.path
    if not path.endswith("/"):
        url = request.url.replace(path=path + "/")
        return RedirectResponse(str(url), status_code=308)
    # this router's own routes (it is included at the application's root), this one left out
    allowed = allowed_methods([r for r in router.routes if getattr(r, "endpoint", None) is not not_an_endpoint], path)
    if allowed:
        response = taxii_error(405, path, f"{request.method} is not allowed here; use {', '.join(allowed)}")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return taxii_error(404, path, "no such TAXII endpoint")
