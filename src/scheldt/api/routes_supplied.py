"""Shipping data sent by shipping lines and terminals themselves (:mod:`scheldt.workflows.supplied`).

``POST /api/v1/shipping-data?name=FILE`` takes one file as the request body, as it is (any
Content-Type: a DCSA JSON page or document, a UN/EDIFACT interchange), streamed to a temporary
file and read as supplied by the sender's organisation; the answer (201) is the file's record
with its ingest report. ``GET /api/v1/shipping-data`` lists the organisation's files, newest
first; ``GET /api/v1/shipping-data/{id}`` gives one with its report. Only the sending
organisation sees its files. Every sending and every read is audited.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from scheldt.api.deps import Ctx, CtxDep, CtxRouter, audit_denied, request_context, utc_now
from scheldt.api.paging import MAX_LIMIT, decode_id, encode
from scheldt.domain.access import Permission, Principal
from scheldt.errors import AuthError, BodyTimeoutError, ScheldtError, TooLargeError, TooManyAttempts
from scheldt.store import sealing
from scheldt.store.db import unit_of_work
from scheldt.workflows import supplied, tnt_feeds

T = TypeVar("T")

router = CtxRouter(prefix="/api/v1", tags=["shipping data"])

def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A supplied file's record with its times as ISO 8601 UTC text."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


#: Files one server process receives at once; more wait their turn (before their bodies are read).
RECEIVING = 4
#: Seconds a file waits for a turn to be received before it is refused (429, Retry-After).
TURN_WAIT_S = 60.0
#: Seconds a file may take to come whole (64 MiB at 1 Mbit/s takes 9 minutes), else 408.
RECEIVE_S = 600.0


@dataclass
class _Gates:
    receiving: anyio.Semaphore
    reading: anyio.Lock
    senders: set[str] = field(default_factory=set)  # organisations whose file is being received


def gates(app: Any) -> _Gates:
    """The server process's turns for files: :data:`RECEIVING` received at once, one per
    organisation, and one read into the store at a time (ingest holds the store's ingest lock;
    on SQLite the whole store: a second upload read at the same time waited out the store's lock
    timeout and failed, an attack review)."""
    if getattr(app.state, "file_gates", None) is None:
        app.state.file_gates = _Gates(anyio.Semaphore(RECEIVING), anyio.Lock())
    return app.state.file_gates


@asynccontextmanager
async def receiving_turn(app: Any, organisation: str, feed: str | None = None) -> AsyncIterator[None]:
    """Hold one of the server process's turns to receive a file of ``organisation``, and limit
    the receiving to :data:`RECEIVE_S`. Raises TooManyAttempts (429) when the organisation is
    sending another file here, or no turn frees within :data:`TURN_WAIT_S`, and
    BodyTimeoutError (408) when the file does not come whole in time: a regression review's
    line trickled a byte every 10 s into four uploads and held every turn, so no other line
    could send. A DCSA feed's callback (``feed``: its id) is one batch at a time per feed, apart
    from the organisation's uploads: its body is received before its signature can be checked,
    so anyone holding a leaked callback URL could otherwise keep the whole organisation from
    sending; it blocks that feed only, which the line stops."""
    turns = gates(app)
    sender = organisation if feed is None else f"{organisation} feed {feed}"
    if sender in turns.senders:
        busy = f"{organisation} is sending another file" if feed is None else f"feed {feed} is sending another batch"
        raise TooManyAttempts("body", f"{busy} here: send the next once it is read", 30)
    turns.senders.add(sender)
    try:
        with anyio.move_on_after(TURN_WAIT_S) as waiting:
            await turns.receiving.acquire()
        if waiting.cancelled_caught:
            raise TooManyAttempts("body", "the node is receiving other files: try again shortly", 30)
        try:
            with anyio.fail_after(RECEIVE_S):
                yield
        except TimeoutError:
            raise BodyTimeoutError("body", f"the file did not come whole within {RECEIVE_S:g} s") from None
        finally:
            turns.receiving.release()
    finally:
        turns.senders.discard(sender)


@asynccontextmanager
async def receiving(request: Request, principal: Principal, feed: str | None = None) -> AsyncIterator[None]:
    """:func:`receiving_turn` for ``principal``'s organisation (or its DCSA ``feed``), a file
    refused as it came (413, 408, 429) audited as ``denied``."""
    try:
        async with receiving_turn(request.app, principal.organisation.id, feed):
            yield
    except (TooLargeError, BodyTimeoutError, TooManyAttempts) as exc:
        await in_slot(request, audit_denied, request, principal, exc.status, exc.where, utc_now())
        raise


async def in_slot(request: Request, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in a worker thread, holding one of the request slots
    (:class:`scheldt.api.app.RequestSlots`): the file paths stream their bodies outside a slot
    and take one only to touch the store."""
    slots = getattr(request.app.state, "request_slots", None)
    if slots is None:
        return await run_in_threadpool(work, *args)
    async with slots:
        return await run_in_threadpool(work, *args)


def _check_sender(request: Request, format: str) -> Principal:
    """Authenticate and refuse a sender that may not send, before its body is read."""
    with request_context(request) as ctx:
        supplied.check_sender(ctx.principal, 1, format)
        return ctx.principal


def _feed_sender(request: Request, feed: str, keys: list[bytes] | None = None) -> Callable[..., Principal]:
    """The ``sender`` of :func:`request_context` for a callback of DCSA feed ``feed``; the key
    its signature is checked with is appended to ``keys`` when given."""
    def sender(uow: Any, now: datetime) -> Principal:
        principal, key = tnt_feeds.feed_sender(uow, feed, sealing.unseal)
        if keys is not None:
            keys.append(key)
        return principal
    return sender


def audit_feed_refusal(request: Request, status: int, where: str, now: datetime) -> None:
    """Audit as ``denied`` a DCSA feed's callback refused before routing (a body over its limit by
    its Content-Length, one that stalled) under the feed its query names, live or stopped;
    nothing for no such feed, and never raises."""
    try:
        with unit_of_work(request.app.state.engine) as uow:
            principal = tnt_feeds.feed_principal(uow, request.query_params.get("feed", ""))
        if principal is not None:
            audit_denied(request, principal, status, where, now)
    except ScheldtError:
        return


def _check_feed(request: Request, feed: str, format: str) -> tuple[Principal, bytes]:
    """The principal a callback of DCSA feed ``feed`` acts as and the feed's signing key;
    refuse it (before its body is read) when the feed is unknown or stopped (a stopped one
    audited as denied under the feed)."""
    keys: list[bytes] = []
    with _stopped_feed_audited(request), request_context(request, _feed_sender(request, feed, keys)) as ctx:
        supplied.check_sender(ctx.principal, 1, format)
        return ctx.principal, keys[0]


@contextmanager
def _stopped_feed_audited(request: Request) -> Iterator[None]:
    """Audit as denied, under the feed, a callback refused because its feed is stopped (before
    its body came, or while it came: a regression review found no trace), then raise it on: a
    line's publisher calling a stopped feed is something customs can see."""
    try:
        yield
    except tnt_feeds.FeedStopped as exc:
        audit_denied(request, exc.principal, exc.status, exc.where, utc_now())
        raise


class Spool:
    """A file being received: written to a temporary file as it comes, its size and SHA-256
    counted; :meth:`write` raises TooLargeError (413) past
    :data:`scheldt.workflows.supplied.MAX_BYTES`. Use as a context manager: the temporary file
    is removed on leaving, whatever happened."""

    def __init__(self, mac: Any = None) -> None:
        fd, name = tempfile.mkstemp(prefix="scheldt-supplied-")
        self.path = Path(name)
        self._fh = os.fdopen(fd, "wb")
        self._digest = hashlib.sha256()
        self.mac = mac  # an ``hmac`` object fed the body too, when its signature is to be checked
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > supplied.MAX_BYTES:
            raise TooLargeError("body", f"more than {supplied.MAX_BYTES:,} bytes per file: split it")
        self._digest.update(chunk)
        if self.mac is not None:
            self.mac.update(chunk)
        self._fh.write(chunk)

    def done(self) -> str:
        """Close the file; its SHA-256 in hex."""
        self._fh.close()
        return self._digest.hexdigest()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)


def store_file(ctx: Ctx, spool: Spool, name: str, format: str, every_refusal: bool = False) -> dict[str, Any]:
    """Record the received file (``spool``, done) as the principal's organisation's, read it
    (:func:`scheldt.workflows.supplied.supply_file`; each fact's source and rejection name it
    ``<organisation>/<id>/<name>``) and audit the sending. Returns the file's record with its
    report (with ``every_refusal``, the report lists every rejection, not only the first ones
    the stored report keeps). Raises what the workflow raises (its sender and size checks first)."""
    digest = spool.done()
    name = supplied.file_name(name)
    org = ctx.principal.organisation.id
    file_id = ctx.uow.supplied_files.add(org, ctx.principal.username, ctx.now, name, digest, spool.size)
    report = supplied.supply_file(ctx.uow, ctx.principal, file_id, spool.path, name, format, ctx.now)
    ctx.audit("write", "shipping-data", file_id, name=name, sha256=digest, size_bytes=spool.size,
              format=report.format, accepted=report.accepted, added=report.added, rejected=report.rejected)
    record = as_json(ctx.uow.supplied_files.get(org, file_id))
    if every_refusal:
        record["report"] = supplied.report_of(report, most=report.rejected)
    return record


def _store(request: Request, spool: Spool, name: str, format: str, every_refusal: bool,
           feed: str | None = None) -> dict[str, Any]:
    with _stopped_feed_audited(request), request_context(
            request, _feed_sender(request, feed) if feed is not None else None) as ctx:
        return store_file(ctx, spool, name, format, every_refusal)


@router.post("/shipping-data", status_code=201,
             summary="Send your own shipping data (DCSA events or documents, UN/EDIFACT): one file as the body",
             openapi_extra={"requestBody": {"required": True, "description": "the file, as it is (any Content-Type)",
                                            "content": {"application/octet-stream": {
                                                "schema": {"type": "string", "format": "binary"}}}}})
async def send_shipping_data(
    request: Request,
    name: Annotated[str, Query(max_length=200, description="the file's name, kept with its record")] = "",
    format: Annotated[str, Query(max_length=32, description="auto (detect), dcsa-events, dcsa-documents or "
                                 "edifact")] = "auto",
) -> dict[str, Any]:
    """The file's record (id, name, received_at, sha256, size_bytes, format, counts) and its
    ``report``: rejections with where (``<organisation>/<id>/<name>`` and the line, JSON path
    or EDIFACT message and segment), field and why; flags by kind. Records of other carriers'
    shipments are refused and quarantined; the rest is kept; the same facts sent again add
    nothing."""
    return await receive_file(request, name, format)


async def receive_file(request: Request, name: str, format: str, every_refusal: bool = False,
                       feed: str | None = None) -> Any:
    """Authenticate the sender, stream the request's body to a temporary file in one of the
    receiving turns, then read it into the store in the reading turn (:func:`store_file`).
    With ``feed`` (a DCSA Track & Trace 2.2 feed's id), the sender is the feed's user and the
    body must carry the feed's ``Notification-Signature`` (:mod:`scheldt.workflows.tnt_feeds`):
    checked once the body is whole, before anything is stored; a bad one is audited as denied
    and raised (AuthError, 401). Returns the file's record, or an empty 400 when the sender went
    away midway."""
    if feed is None:
        principal, key = await in_slot(request, _check_sender, request, format), None
    else:
        principal, key = await in_slot(request, _check_feed, request, feed, format)
    with Spool(tnt_feeds.body_mac(key) if key is not None else None) as spool:
        try:
            async with receiving(request, principal, feed):
                async for chunk in request.stream():
                    spool.write(chunk)
        except ClientDisconnect:  # the sender went away: nothing to answer, nothing kept
            return Response(status_code=400)
        if key is not None:
            try:
                tnt_feeds.check_signature(request.headers.get("notification-signature"), key, spool.mac)
            except AuthError as exc:
                await in_slot(request, audit_denied, request, principal, exc.status, exc.where, utc_now())
                raise
        async with gates(request.app).reading:
            return await in_slot(request, _store, request, spool, name, format, every_refusal, feed)


@router.get("/shipping-data", summary="The files your organisation sent, newest first (reports left out)")
def list_shipping_data(ctx: CtxDep, cursor: Annotated[str | None, Query(max_length=200)] = None,
                       limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50) -> dict[str, Any]:
    ctx.require(Permission.SUPPLY_DATA)
    rows = ctx.uow.supplied_files.recent(ctx.principal.organisation.id, decode_id(cursor), limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    ctx.audit("read", "shipping-data-list", f"{len(rows)} files")
    return {"items": [as_json(r) for r in rows], "next_cursor": encode(rows[-1]["id"]) if more else None}


@router.get("/shipping-data/{file_id}", summary="One file your organisation sent, with its ingest report")
def get_shipping_data(file_id: int, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.SUPPLY_DATA)
    row = ctx.uow.supplied_files.get(ctx.principal.organisation.id, file_id)
    ctx.audit("read", "shipping-data", file_id)
    return as_json(row)
