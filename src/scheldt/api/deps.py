"""Per-request context: one unit of work, the signed-in principal, the clock, and the audit trail.

A request is authenticated by ``Authorization: Bearer <API token>`` (machines) or by the
``scheldt_session`` cookie (the workbench). Its unit of work commits when the route returns
(``scope="function"``: before the response is sent, so a client that reads after a write sees
it), and the request's audit entries are appended in that same transaction: a write is never
stored without its audit entry, nor the other way round.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, get_type_hints
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from scheldt.domain.access import Permission, Principal, TripScope, trip_scope
from scheldt.errors import (
    REFUSALS,
    AuthError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    ScheldtError,
    TooManyAttempts,
)
from scheldt.store.db import UnitOfWork, unit_of_work
from scheldt.workflows.accounts import authenticate, check_sign_in_allowed, require, secret_hash

SESSION_COOKIE = "scheldt_session"


def utc_now() -> datetime:
    """The service clock (UTC). Audit entries, sessions and inspection records use real time;
    ``SCHELDT_NOW`` pins only scoring and replays."""
    return datetime.now(UTC)


def remote_address(request: Request) -> str:
    """The client's address as the server saw it: the connection's peer, or the address a
    proxy listed in ``SCHELDT_TRUSTED_PROXIES`` forwarded (:func:`scheldt.api.workers.proxy_options`)."""
    return request.client.host if request.client else ""


def check_origin(request: Request, what: str = "a form") -> None:
    """Refuse a request a page of another site made with this server's session cookie: when the
    browser sends ``Origin`` (every modern browser does on POST) it must name this server
    ("null", sent by sandboxed or privacy-minded pages, is refused). Raises ForbiddenError."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    # Host and port only: behind a proxy that ends TLS the scheme the server sees is http.
    if urlsplit(origin).netloc != request.url.netloc:
        raise ForbiddenError("origin", f"{what} from {origin[:100]!r} may not be posted here")


#: Methods that change nothing: a cookie-authenticated request with any other method must come
#: from this server's own pages (:func:`check_origin`).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def credential_secret(request: Request) -> tuple[str, tuple[str, ...]]:
    """The secret the request carries and which kinds of credential it may be."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), ("token", "session")
    return request.cookies.get(SESSION_COOKIE, ""), ("session",)


@dataclass
class Ctx:
    """What a route works with: the unit of work, who asks, when, and the audit entries to add."""

    uow: UnitOfWork
    principal: Principal
    now: datetime
    remote: str
    action: str
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def agency(self) -> bool:
        """True when the requester is of an agency (which sees risk scores and inspections)."""
        return self.principal.organisation.kind == "agency"

    def require_agency(self, what: str) -> None:
        """Raise ForbiddenError for a shipping line or terminal asking for customs' own view."""
        if not self.agency:
            raise ForbiddenError(what, "risk assessments and inspections are for agencies only")

    @property
    def scope(self) -> TripScope:
        """The trips the principal's organisation owns."""
        return trip_scope(self.principal.organisation)

    def require(self, permission: Permission) -> None:
        """Raise ForbiddenError unless the principal holds ``permission``."""
        require(self.principal, permission)

    def require_password_session(self, what: str) -> None:
        """Raise ForbiddenError for a request signed in with an API token: what ``what`` makes (a
        token, a user, a password, a user enabled again, a notice subscription) is a way in, or
        a way out for data, that would outlive the token's revocation, so it takes a session
        signed in with a password."""
        if self.principal.credential.startswith("token"):
            raise ForbiddenError("authorization", f"an API token cannot {what}: sign in with your password "
                                                  "(POST /api/v1/auth/sign-in) and use that session, so that a "
                                                  "leaked token makes nothing that outlives its revocation")

    def audit(self, kind: str, object_kind: str, object_id: object, **details: Any) -> None:
        """Record a read or write of ``object_kind`` ``object_id`` (added when the request commits)."""
        self.pending.append((kind, {"object_kind": object_kind, "object_id": str(object_id), "details": details}))


def flush_audit(uow: UnitOfWork, principal: Principal | None, org_id: str, remote: str, action: str,
                entries: list[tuple[str, dict[str, Any]]], now: datetime) -> None:
    """Append audit entries (who, organisation, what, when, from where, and the credential the
    principal signed in with: :attr:`Principal.credential`) to the chained log, and commit the
    unit of work with them (:meth:`scheldt.store.audit.AuditLog.append_and_commit`): call it as
    the unit of work's last act. An entry may name its own ``actor`` (a sign-in, before there is
    a principal)."""
    signed = {"credential": principal.credential} if principal is not None and principal.credential else {}
    actor = principal.username if principal else ""
    uow.audit.append_and_commit([(kind, org_id, {"actor": actor, "organisation": org_id, "action": action,
                                                 "remote_addr": remote, **signed, **what})
                                 for kind, what in entries], now)


def request_action(request: Request) -> str:
    """What a request did, for the audit log: method, path and query string (at most 1,000
    characters; an oversight review found a carrier's search for another line's container
    recorded as "GET /api/v1/trips", without the container)."""
    query = request.url.query
    method = request.scope.get("scheldt.method", request.method)  # a HEAD answered as a GET (HeadAsGet)
    return (f"{method} {request.url.path}" + (f"?{query}" if query else ""))[:1000]


def throttle_sign_ins(request: Request, now: datetime, action: str) -> int:
    """Refuse a password sign-in from an address with too many refused ones just before
    (:func:`scheldt.workflows.accounts.check_sign_in_allowed`), before the password is checked;
    the refusal is audited as ``denied`` in a transaction of its own. Returns how many were
    refused. Raises TooManyAttempts."""
    remote = remote_address(request)
    try:
        with unit_of_work(request.app.state.engine) as uow:
            return check_sign_in_allowed(uow, remote, now)
    except TooManyAttempts as exc:
        with unit_of_work(request.app.state.engine) as uow:
            flush_audit(uow, None, "", remote, action, [("denied", {"object_kind": "sign-in", "object_id": "",
                                                                    "details": {"status": 429, "why": exc.why}})], now)
        raise


#: Locks taken by addresses (striped by a hash of the address) around their password checks.
_PASSWORD_LOCKS = tuple(threading.Lock() for _ in range(64))


@contextmanager
def password_check(request: Request, now: datetime, action: str) -> Iterator[None]:
    """Around one password check and the audit of its outcome: :func:`throttle_sign_ins`, and,
    for an address with refused sign-ins in the window, one check at a time per address in this
    process, counted again once its turn comes; so, from its first refusal on, at most the limit
    plus one per other server process are checked (a first burst at a new address is counted as
    it comes, up to the database connections a process holds). An attack review's 8 parallel
    guesses had 24 passwords checked where 20 are allowed (each read the count before the
    others' failures were written). Raises TooManyAttempts."""
    if not throttle_sign_ins(request, now, action):
        yield
        return
    with _PASSWORD_LOCKS[hash(remote_address(request)) % len(_PASSWORD_LOCKS)]:
        throttle_sign_ins(request, now, action)
        yield


def audit_failed_sign_in(request: Request, now: datetime, username: str, action: str) -> None:
    """Audit a refused password as ``sign-in-failed`` in a transaction of its own: under the
    user's organisation and name (``actor``, as a refused token is filed under its owner) when
    the username is one, so an attack on an account is found with the rest of its entries (an
    audit review's search by actor missed the failed guesses); an unknown username is not
    written down, only its length (an oversight review found a password typed into the
    username field kept in the log)."""
    with unit_of_work(request.app.state.engine) as uow:
        try:
            org_id, named, details = uow.accounts.user(username).organisation_id, username, {}
        except NotFoundError:
            org_id, named, details = "", "", {"unknown_username_characters": len(username)}
        flush_audit(uow, None, org_id, remote_address(request), action, [("sign-in-failed", {
            "actor": named[:64], "object_kind": "user", "object_id": named[:64], "details": details})], now)


def audit_refused_token(request: Request, now: datetime, secret: str = "") -> None:
    """Audit an unknown, revoked or expired API token as ``sign-in-failed`` (never the secret),
    in a transaction of its own: an access review guessed TAXII passwords and tokens and the
    audit log showed nothing. A token known here (revoked, expired, its user disabled) is
    named by its credential (``"token 17"``) and its owner (``actor``), so what a leaked token
    still tried after its revocation is found with the rest of what it did."""
    with unit_of_work(request.app.state.engine) as uow:
        known = uow.accounts.credential_with_owner(secret_hash(secret)) if secret else None
        if known is None:
            org, what = "", {"object_kind": "api-token", "object_id": "", "details": {}}
        else:  # the owner's organisation: its administrators read what was tried with its token;
            # under its owner's name and its own kind (an operator review: a revoked token's and a
            # disabled user's session's attempts named no actor, and the session was an "api-token")
            cred, user, organisation = known
            org, what = organisation.id, {"actor": user.username,
                                          "object_kind": "session" if cred["kind"] == "session" else "api-token",
                                          "object_id": str(cred["id"]), "credential": f"{cred['kind']} {cred['id']}",
                                          "details": {}}
        flush_audit(uow, None, org, remote_address(request), request_action(request), [("sign-in-failed", what)], now)


def withdrawn_session(uow: UnitOfWork, secret: str) -> bool:
    """Whether ``secret`` is a workbench session that was withdrawn (signed out, revoked at a
    password reset, its user disabled), not one that merely ran out or was never made: such a
    cookie sent again is an attempt worth auditing (:func:`audit_refused_token`; an access
    review's stolen cookie replayed after sign-out left no trace, where a Bearer replay did)."""
    known = uow.accounts.credential_with_owner(secret_hash(secret)) if secret else None
    return known is not None and (known[0]["revoked_at"] is not None or not known[1].active)


def audit_denied(request: Request, principal: Principal, status: int, where: str, now: datetime) -> None:
    """Audit a request of a signed-in principal refused before its route did anything as
    ``denied`` (status and where), in a transaction of its own (an access review: a cross-site
    post with an officer's session, a 422 and a 415 left no trace)."""
    with unit_of_work(request.app.state.engine) as uow:
        flush_audit(uow, principal, principal.organisation.id, remote_address(request), request_action(request),
                    [("denied", {"object_kind": "request", "object_id": request.url.path,
                                 "details": {"status": status, "where": where}})], now)


NOT_SIGNED_IN = "not signed in: send a session cookie or 'Authorization: Bearer <token>'"
#: API paths called without credentials: signing in, and a DCSA Track & Trace 2.2 feed's callback
#: (``scheldt.api.routes_dcsa.TNT2_PATH``: signed with the feed's secret instead).
OPEN_PATHS = frozenset({"/api/v1/auth/sign-in", "/api/v1/dcsa/tnt/v2/notifications"})


def audit_if_signed_in(request: Request, status: int, where: str, now: datetime) -> None:
    """Audit as ``denied`` a request refused before routing (a body over its limit by its
    Content-Length, one that stalled) when its credentials name a user; nothing otherwise, and
    never raises (a regression review: a signed-in line's 413 and a stalled 408 left no trace)."""
    secret, kinds = credential_secret(request)
    if not secret:
        return
    try:
        with unit_of_work(request.app.state.engine) as uow:
            principal = authenticate(uow, secret, now, kinds, request.app.state.host_org)
        audit_denied(request, principal, status, where, now)
    except ScheldtError:  # unknown or expired credentials: a refusal like any anonymous one
        return


def refused_credentials(request: Request, status: int, where: str) -> AuthError | ForbiddenError | None:
    """For an API request refused before its route ran (``status``, ``where``: what was wrong
    with its fields): the error its credentials get instead (see :func:`_authenticated`; an
    API review got 422 answers naming the fields of a request that carried no credentials), or
    None when they are good, the refusal then audited under the principal (:func:`audit_denied`),
    or when the path is open to all."""
    if not request.url.path.startswith("/api/v1/") or request.url.path in OPEN_PATHS:
        return None
    now = utc_now()
    with unit_of_work(request.app.state.engine) as uow:
        try:
            principal = _authenticated(uow, request, now)
        except (AuthError, ForbiddenError) as exc:
            return exc
    audit_denied(request, principal, status, where, now)
    return None


def _authenticated(uow: UnitOfWork, request: Request, now: datetime) -> Principal:
    """Who sends the request. Raises AuthError without credentials or with unknown, revoked or
    expired ones (a refused token, and a withdrawn session, is audited), ForbiddenError for the
    workbench's session sent by another site's page (:func:`check_origin`; audited as denied)."""
    secret, kinds = credential_secret(request)
    if not secret:
        raise AuthError("credentials", NOT_SIGNED_IN)
    try:
        principal = authenticate(uow, secret, now, kinds, request.app.state.host_org)
    except AuthError:
        # a workbench session that ran out is no attempt; one signed out or revoked is
        if kinds != ("session",) or withdrawn_session(uow, secret):
            audit_refused_token(request, now, secret)
        raise
    if kinds == ("session",) and request.method not in SAFE_METHODS:
        # a review withdrew an alert by a text/plain POST from another origin, which the
        # browser sends without asking first, with the workbench's cookie
        try:
            check_origin(request, "a request with the workbench's session")
        except ForbiddenError as exc:
            audit_denied(request, principal, exc.status, exc.where, now)
            raise
    return principal


@contextmanager
def request_context(request: Request,
                    sender: Callable[[UnitOfWork, datetime], Principal] | None = None) -> Iterator[Ctx]:
    """The request's :class:`Ctx`: open a unit of work, authenticate (``sender(uow, now)`` when
    given: a request its credentials do not name, a DCSA feed's signed callback), and, when the block
    succeeds, append its audit entries and commit. A refusal from the block (:data:`REFUSALS`:
    400 for a field, 403, 404, 409 against what is stored, e.g. withdrawing what was withdrawn)
    rolls the work back and is audited as ``denied`` in a transaction of its own, then
    raised again (a review: 409s left no trace), and so is the 409 of a unique key another
    request took as this one committed (:func:`scheldt.store.db.unit_of_work`). Raises AuthError
    without credentials or with unknown, revoked or expired ones."""
    now = utc_now()
    ctx: Ctx | None = None
    try:
        with unit_of_work(request.app.state.engine) as uow:
            principal = sender(uow, now) if sender is not None else _authenticated(uow, request, now)
            ctx = Ctx(uow, principal, now, remote_address(request), request_action(request))
            try:
                yield ctx
            except REFUSALS as exc:
                uow.session.rollback()
                denied = exc
            else:
                flush_audit(uow, principal, principal.organisation.id, ctx.remote, ctx.action, ctx.pending, now)
                return
    except ConflictError as exc:  # raised by the commit: nothing of the request was kept
        if ctx is None:
            raise
        denied = exc
    # A refused request is audited too (who tried what), in a transaction of its own since the
    # request's work was rolled back.
    with unit_of_work(request.app.state.engine) as uow:
        flush_audit(uow, principal, principal.organisation.id, ctx.remote, ctx.action,
                    [("denied", {"object_kind": "request", "object_id": request.url.path,
                                 "details": {"status": denied.status, "where": denied.where}})], now)
    raise denied


def _context(request: Request) -> Iterator[Ctx]:
    with request_context(request) as ctx:
        yield ctx


CtxDep = Annotated[Ctx, Depends(_context, scope="function")]


def _run_in_context(request: Request, endpoint: Callable[..., Any], name: str, kwargs: dict[str, Any]) -> Any:
    with request_context(request) as ctx:
        return endpoint(**kwargs, **{name: ctx})


#: The parameter :func:`single_hop` adds for the request when the endpoint takes none.
_REQUEST = "_scheldt_request"


def single_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` (a plain function taking a :data:`CtxDep` parameter) as a coroutine that runs
    the whole request (unit of work, authentication, the endpoint, the audit entries, the
    commit) in one worker-thread call; other functions are returned as they are.

    Why: FastAPI runs a generator dependency's start and end and a plain endpoint as three
    separate thread-pool calls, each a hand-off between the event loop and a worker thread
    (about 0.5 ms of CPU per request together, benchmarks/api_load.py). The endpoint's other
    parameters (path, query, body, ``Response``) are declared and validated by FastAPI as before."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint
    hints = get_type_hints(endpoint, include_extras=True)
    names = [n for n, h in hints.items() if n != "return" and h == CtxDep]
    if len(names) != 1:
        return endpoint
    name = names[0]
    signature = inspect.signature(endpoint)
    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints.get(p.name, p.annotation))
              for p in signature.parameters.values() if p.name != name]
    # FastAPI gives the request to one parameter only: the endpoint's own, where it has one
    own = next((p.name for p in params if p.annotation is Request), None)
    if own is None:
        params.insert(0, inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    @functools.wraps(endpoint)
    async def hop(**kwargs: Any) -> Any:
        request = kwargs[own] if own is not None else kwargs.pop(_REQUEST)
        return await run_in_threadpool(_run_in_context, request, endpoint, name, kwargs)

    hop.__signature__ = signature.replace(parameters=params, return_annotation=hints.get("return", Any))  # type: ignore[attr-defined]
    del hop.__wrapped__  # FastAPI reads the signature above, not the endpoint's
    return hop


class CtxRouter(APIRouter):
    """An APIRouter whose plain endpoints taking a :data:`CtxDep` run in one worker-thread call
    each (:func:`single_hop`)."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, single_hop(endpoint), **kwargs)


#: A NUL character as JSON writes it: a \u0000 escape not itself escaped ("\\u0000" is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def refuse_nul(request: Request) -> None:
    """Refuse a JSON or form body holding a NUL character (U+0000) in any text, on every store
    alike: PostgreSQL cannot keep one in text and answered 400 while SQLite kept it (an API
    review; a workbench form, a regression review). Raises InputError (400, ``body``)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()  # read once (FastAPI has read it for the route's fields; it is kept)
        nul = any("\x00" in f"{k}{v}" for k, v in form.multi_items() if isinstance(v, str))
    else:
        nul = _JSON_NUL.search(await request.body()) is not None
    if nul:
        raise InputError("body", "a text in the request holds a NUL character (U+0000), which the store does not keep")


async def refuse_unknown_query(request: Request) -> None:
    """Refuse a query parameter the route does not take, as unknown body fields are: a filter
    misspelt or not offered (``?contianer=``, ``/scan-orders?trip_id=``) was dropped without a
    word and the whole list came back as if filtered (an inspection review). Raises FastAPI's
    RequestValidationError (422, ``query.<name>``), so the refusal is answered and audited as
    other field errors are."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    taken = getattr(route, _TAKEN, None)
    if taken is None:  # a route's parameters are read once, kept on the route, not on every request
        taken = frozenset(_query_names(dependant))
        setattr(route, _TAKEN, taken)
    unknown = sorted({k for k in request.query_params if k not in taken})
    if unknown:
        offered = ", ".join(sorted(taken)) or "none"
        raise RequestValidationError([{"type": "extra_forbidden", "loc": ("query", unknown[0][:60]),
                                       "msg": f"is not a query parameter of this request (it takes: {offered})",
                                       "input": request.query_params[unknown[0]][:60]}])


#: The attribute a route keeps its query parameter names in (:func:`refuse_unknown_query`).
_TAKEN = "_scheldt_query_names"


def _query_names(dependant: Any) -> set[str]:
    """The query parameter names a FastAPI dependant and its sub-dependencies declare."""
    names = {f.alias for f in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def audited_trips(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """What a trip list (the queue, a container's or a consignment's trips) served, for its audit
    entry: each trip's id and their container numbers (an access review: a carrier's list that
    showed a held box was not found by a search of the log for the box)."""
    return {"ids": [r["id"] for r in rows],
            "containers": sorted({r["container_number"] for r in rows if r.get("container_number")})}


def audited_rows(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """What a list read served, for its audit entry: each row's id, and the trips and container
    numbers of the rows (an access review's carrier read a hold on ONEU5001407 that the audit
    recorded as "1 holds", so a search of the log for the box found no such read)."""
    return {"ids": [r["id"] for r in rows], "trips": sorted({r["trip_id"] for r in rows if r.get("trip_id")}),
            "containers": sorted({r["container_number"] for r in rows if r.get("container_number")})}
