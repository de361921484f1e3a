"""Sign-in and sign-out, who am I, organisations, users and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from pydantic import ConfigDict, Field, StrictBool, StrictInt, field_validator

from scheldt.api.deps import (
    SESSION_COOKIE,
    CtxDep,
    CtxRouter,
    audit_failed_sign_in,
    credential_secret,
    flush_audit,
    password_check,
    remote_address,
    utc_now,
)
from scheldt.api.routes_inspections import Strict, unpadded
from scheldt.domain.access import Permission, permissions
from scheldt.domain.audit import AuditQuery
from scheldt.errors import AuthError, ForbiddenError, InputError, NotFoundError
from scheldt.store.db import unit_of_work
from scheldt.workflows import accounts

router = CtxRouter(prefix="/api/v1", tags=["organisations and users"])


#: A new password as sent: surrounding white space is refused, not dropped (an API review: a
#: password ending in a space was stored without it, and the user signed in through the API but
#: not through the workbench or TAXII, which take a password exactly as typed).
NewPassword = Annotated[str, unpadded("must not begin or end with a space (the other sign-in doors take a password "
                                      "exactly as typed)"),
                        Field(min_length=accounts.MIN_PASSWORD, max_length=1024)]


class SignIn(Strict):
    """A password is taken exactly as sent, as the workbench and TAXII take it; the username
    without surrounding spaces."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("username", mode="after")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give a username")
        return value.strip()


class OrganisationIn(Strict):
    id: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["agency", "carrier", "terminal"]
    carrier_codes: list[str] = Field(default_factory=list, max_length=50)
    terminal_codes: list[str] = Field(default_factory=list, max_length=50)
    client_of: str | None = Field(default=None, max_length=64,
                                  description="agency whose client a carrier or terminal is (reads its TLP:AMBER)")


class ClientOfIn(Strict):
    client_of: str | None = Field(max_length=64, description="the agency; null: nobody's client")


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64)
    organisation_id: str | None = Field(default=None, max_length=64, description="default: your own")
    display_name: str = Field(default="", max_length=200)
    roles: list[str] = Field(min_length=1, max_length=7)
    password: NewPassword


class ActiveIn(Strict):
    active: StrictBool = Field(description="false: the user's sessions and tokens stop working at once")
    reason: str = Field(min_length=1, max_length=2000)


class PasswordIn(Strict):
    password: NewPassword
    reason: str = Field(min_length=1, max_length=2000)


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    days: StrictInt = Field(default=90, ge=1, le=accounts.TOKEN_DAYS_MAX)


def _org(o: Any, client_of: str | None = None) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "kind": o.kind.value, "carrier_codes": list(o.carrier_codes),
            "terminal_codes": list(o.terminal_codes), "client_of": client_of}


def _user(u: Any) -> dict[str, Any]:
    return {"username": u.username, "organisation_id": u.organisation_id, "display_name": u.display_name,
            "roles": [r.value for r in u.roles], "active": u.active, "created_at": u.created_at.isoformat()}


def session_cookie(response: Response, secret: str, max_age_s: int, secure: bool) -> None:
    """Set the workbench's session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    response.set_cookie(SESSION_COOKIE, secret, max_age=max_age_s, httponly=True, samesite="lax", secure=secure,
                        path="/")


def sign_in_request(request: Request, username: str, password: str) -> tuple[str, Any]:
    """Check a password and open a session, auditing success and failure alike (a failure in
    its own transaction, so it is kept). Returns (secret, expiry). Raises AuthError, and
    TooManyAttempts for an address with too many refused sign-ins (:func:`password_check`)."""
    now = utc_now()
    engine = request.app.state.engine
    with password_check(request, now, "sign-in"):
        try:
            with unit_of_work(engine) as uow:
                secret, expires = accounts.sign_in(uow, username, password, now)
                user = uow.accounts.user(username)
                session = uow.accounts.credential(accounts.secret_hash(secret))["id"]
                # the session it opens: its later requests name it ("session N"), and lead back here
                flush_audit(uow, None, user.organisation_id, remote_address(request), "sign-in",
                            [("sign-in", {"actor": username, "credential": f"session {session}", "object_kind": "user",
                                          "object_id": username, "details": {}})], now)
                return secret, expires
        except AuthError:
            audit_failed_sign_in(request, now, username, "sign-in")
            raise


@router.post("/auth/sign-in", summary="Sign in with a password; sets the session cookie")
def sign_in(body: SignIn, request: Request, response: Response) -> dict[str, Any]:
    secret, expires = sign_in_request(request, body.username, body.password)
    session_cookie(response, secret, accounts.SESSION_HOURS * 3600, request.url.scheme == "https")
    return {"session": secret, "expires_at": expires.isoformat()}


@router.post("/auth/sign-out", summary="End the session this request signed in with (not an API token)")
def sign_out(ctx: CtxDep, request: Request, response: Response) -> dict[str, Any]:
    accounts.sign_out(ctx.uow, ctx.principal, ctx.now)
    ctx.audit("sign-out", "user", ctx.principal.username)
    if credential_secret(request)[1] == ("session",):  # the cookie was the credential: the browser drops it
        response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": True}


@router.get("/me", summary="Who is signed in, their organisation, roles and permissions")
def me(ctx: CtxDep) -> dict[str, Any]:
    p = ctx.principal
    ctx.audit("read", "user", p.username, view="me")  # every read is audited (an audit review: this one was not)
    return {"username": p.username, "organisation": _org(p.organisation, ctx.uow.accounts.clients_of().get(p.organisation.id)), "roles": sorted(p.roles),
            "permissions": sorted(x.value for x in permissions(p.roles) if p.can(x))}


@router.get("/organisations", summary="Organisations (administrators of an agency see all; others their own)")
def list_organisations(ctx: CtxDep) -> dict[str, Any]:
    patrons = ctx.uow.accounts.clients_of()
    ctx.audit("read", "organisations", "all" if ctx.principal.can(Permission.MANAGE_ORGANISATIONS) else "own")
    if ctx.principal.can(Permission.MANAGE_ORGANISATIONS):
        return {"items": [_org(o, patrons.get(o.id)) for o in ctx.uow.accounts.organisations()]}
    own = ctx.principal.organisation
    return {"items": [_org(own, patrons.get(own.id))]}


@router.post("/organisations", status_code=201, summary="Create an organisation")
def create_organisation(body: OrganisationIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.MANAGE_ORGANISATIONS)
    if body.client_of not in (None, ctx.principal.organisation.id):
        raise ForbiddenError("client_of", f"an administrator of {ctx.principal.organisation.id} makes organisations "
                             f"clients of {ctx.principal.organisation.id} only")
    org = accounts.create_organisation(ctx.uow, body.id, body.name, body.kind, body.carrier_codes, body.terminal_codes,
                                       ctx.now, body.client_of)
    ctx.audit("write", "organisation", org.id, action="create", client_of=body.client_of)
    return _org(org, body.client_of)


@router.put("/organisations/{org_id}/client-of", summary="Make a carrier or terminal an agency's client (TLP:AMBER)")
def set_client_of(org_id: str, body: ClientOfIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.MANAGE_ORGANISATIONS)
    own = ctx.principal.organisation.id
    current = ctx.uow.accounts.clients_of().get(org_id)
    if body.client_of not in (None, own):
        raise ForbiddenError("client_of", f"an administrator of {own} makes organisations clients of {own} only")
    if current not in (None, own):
        # a partner agency's administrators manage no organisations here (NODE_PERMISSIONS): the
        # operator does (an API review followed "only us-cbp's administrators" and was refused)
        raise ForbiddenError("client_of", f"{org_id} is a client of {current}: the node's operator changes that "
                             "(scheldt org client-of)")
    accounts.set_client_of(ctx.uow, org_id, body.client_of)
    ctx.audit("write", "organisation", org_id, action="client-of", client_of=body.client_of)
    return _org(ctx.uow.accounts.organisation(org_id), body.client_of)


@router.get("/users", summary="Users of your organisation (agency administrators: of any)")
def list_users(ctx: CtxDep, organisation_id: str | None = None) -> dict[str, Any]:
    ctx.require(Permission.MANAGE_USERS)
    org_id = _target_org(ctx, organisation_id)
    ctx.audit("read", "users", org_id)
    return {"items": [_user(u) for u in ctx.uow.accounts.users(org_id)]}


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: UserIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require(Permission.MANAGE_USERS)
    # an operator review: a leaked administrator's token made users that outlived its revocation
    ctx.require_password_session("create users")
    org_id = _target_org(ctx, body.organisation_id)
    user = accounts.create_user(ctx.uow, body.username, org_id, body.roles, body.password, ctx.now, body.display_name)
    ctx.audit("write", "user", user.username, action="create", roles=[r.value for r in user.roles])
    return _user(user)


@router.post("/tokens", status_code=201, summary="Make an API token for yourself (shown once; signed in with a "
                                                "password, not with another token)")
def create_token(body: TokenIn, ctx: CtxDep) -> dict[str, Any]:
    # an operator review: a leaked token minted a 730-day one that outlived its revocation
    ctx.require_password_session("make API tokens")
    made = accounts.new_token(ctx.uow, ctx.principal.username, body.name, body.days, ctx.now)
    ctx.audit("write", "token", made["id"], action="create", name=body.name)
    # its id and expiry too (an API review: revoking it took a GET /tokens to find the id)
    return made | {"days": body.days, "expires_at": made["expires_at"].isoformat()}


def _target_org(ctx: Any, org_id: str | None) -> str:
    """The organisation an administrator acts on: their own, or any for an agency's
    administrator (who may manage organisations). Raises NotFoundError otherwise."""
    own = ctx.principal.organisation.id
    if org_id is None or org_id == own:
        return own
    if not ctx.principal.can(Permission.MANAGE_ORGANISATIONS):
        raise NotFoundError(f"organisation {org_id}", "no such organisation")
    return ctx.uow.accounts.organisation(org_id).id


@router.get("/tokens", summary="Your API tokens (names and dates, never the secrets)")
def list_tokens(ctx: CtxDep) -> dict[str, Any]:
    user = ctx.uow.accounts.user(ctx.principal.username)
    ctx.audit("read", "tokens", ctx.principal.username)
    return {"items": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in t.items()}
                      for t in ctx.uow.accounts.tokens(user.id)]}


@router.delete("/tokens/{token_id}", summary="Revoke an API token: yours, or (administrators) of a user you manage")
def revoke_token(token_id: int, ctx: CtxDep) -> dict[str, Any]:
    owner = accounts.revoke_token(ctx.uow, ctx.principal, token_id, ctx.now)
    ctx.audit("write", "token", token_id, action="revoke", owner=owner)
    return {"revoked": token_id}


@router.get("/users/{username}/tokens", summary="A user's API tokens (administrators: of users they manage)")
def user_tokens(username: str, ctx: CtxDep) -> dict[str, Any]:
    tokens = accounts.user_tokens(ctx.uow, ctx.principal, username)
    ctx.audit("read", "tokens", username)
    return {"items": [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in t.items()} for t in tokens]}


@router.put("/users/{username}/active", summary="Disable or enable a user (administrators)")
def set_active(username: str, body: ActiveIn, ctx: CtxDep) -> dict[str, Any]:
    if body.active:  # disabling stays open to a token: incident response is scripted
        ctx.require_password_session("enable users")
    user, feeds = accounts.set_user_active(ctx.uow, ctx.principal, username, body.active, ctx.now)
    ctx.audit("write", "user", username, action="enable" if body.active else "disable", reason=body.reason,
              **({"feeds_stopped": feeds} if feeds else {}))
    return _user(user)


@router.put("/users/{username}/password", summary="Give a user a new password; their sessions end (administrators)")
def set_password(username: str, body: PasswordIn, ctx: CtxDep) -> dict[str, Any]:
    ctx.require_password_session("set passwords")
    user, ended = accounts.set_password(ctx.uow, ctx.principal, username, body.password, ctx.now)
    ctx.audit("write", "user", username, action="password", reason=body.reason, sessions_ended=ended)
    return _user(user) | {"sessions_ended": ended}


@router.get("/audit", summary="Search the audit log (administrators of the agency that runs this node)")
def search_audit(ctx: CtxDep, actor: Annotated[str, Query(max_length=64)] = "",
                 text: Annotated[str, Query(max_length=200, description="mentioned in the action, object or details "
                                                                        "(a container number, a trip id; any case)")] = "",
                 kind: Annotated[str, Query(max_length=32)] = "",
                 credential: Annotated[str, Query(max_length=40, description="signed in with this credential: "
                                                  "'token 17', 'session 42' or 'password' (exact)")] = "",
                 organisation: Annotated[str, Query(max_length=64)] = "",
                 since: datetime | None = None, until: datetime | None = None,
                 after: Annotated[int, Query(ge=0)] = 0,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Entries matching every filter, oldest first; ``next_after``: go on with ``after`` (null
    when the log was read to its end). An oversight review found no way to read the log through
    the service. The search is itself recorded."""
    ctx.require(Permission.READ_AUDIT)
    try:
        query = AuditQuery(kind, organisation, since, until, actor, text, credential)
    except ValueError as exc:
        raise InputError("query", str(exc)) from None
    entries, next_after = ctx.uow.audit.search(query, after, limit)
    ctx.audit("read", "audit", "", actor=actor, text=text, credential=credential, entry_kind=kind,
              organisation=organisation, since=query.since.isoformat() if query.since else None,
              until=query.until.isoformat() if query.until else None, found=len(entries))
    return {"entries": [e.as_dict() for e in entries], "next_after": next_after}
