"""Organisations, users, sign-in sessions and API tokens.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults, RFC 9106's
recommended second choice); sessions and tokens are random secrets (``secrets.token_urlsafe``,
256 bits) stored only as their SHA-256, so a copy of the database signs nobody in. Sessions
expire after :data:`SESSION_HOURS`; tokens after the days given when they are made.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from scheldt.domain.access import (
    NODE_PERMISSIONS,
    Organisation,
    OrgKind,
    Permission,
    Principal,
    Role,
    check_organisation,
    check_username,
    parse_roles,
)
from scheldt.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    ForbiddenError,
    InputError,
    NotFoundError,
    ScheldtError,
    TooManyAttempts,
)

SESSION_HOURS = 9  # one shift: the longest, the night the clocks go back (domain.inspection.shift_end)
TOKEN_DAYS_MAX = 730
MIN_PASSWORD = 12
_HASHER = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong username costs as long as a
    wrong password; made on first sign-in, not on import (it took 0.17 s of every command's start)."""
    return _HASHER.hash("not a password of anyone's")


def secret_hash(secret: str) -> str:
    """SHA-256 hex of a session or token secret, as stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_organisation(uow: Any, org_id: str, name: str, kind: str, carrier_codes: list[str],
                        terminal_codes: list[str], now: datetime, client_of: str | None = None) -> Organisation:
    """Create an organisation (see :mod:`scheldt.domain.access`), a client of the agency
    ``client_of`` when given (:func:`set_client_of`). Raises InputError naming the field when a
    value is invalid or the id is taken, NotFoundError for an unknown ``client_of``."""
    try:
        org_kind = OrgKind(kind)
    except ValueError:
        raise InputError("organisation kind", f"{kind!r} is not one of {', '.join(k.value for k in OrgKind)}") from None
    if any(o.id == org_id for o in uow.accounts.organisations()):  # said first (an operator review was told
        raise ConflictError("organisation id", f"{org_id!r} already exists")  # its carrier needed a liner code)
    org = check_organisation(Organisation(org_id, name.strip(), org_kind, tuple(c.strip().upper() for c in carrier_codes),
                                          tuple(c.strip().upper() for c in terminal_codes)))
    uow.accounts.lock()  # before reading whose the codes are: simultaneous creates each found them free
    _check_codes_free(uow, org)
    if client_of is not None:
        _check_patron(uow, org, client_of)
    uow.accounts.add_organisation(org, now)
    if client_of is not None:
        uow.accounts.set_client_of(org.id, client_of)
    return org


def _check_codes_free(uow: Any, org: Organisation) -> None:
    """Raise ConflictError when a carrier or terminal code of ``org`` is another shipping
    line's or terminal's: a code decides whose containers an organisation sees (an attack
    review made a second carrier with SIMA and read SIMA's trips and holds). A code an agency
    holds (stores made before agencies were refused codes) owns nothing and blocks no one."""
    for field, mine, theirs in (("carrier code", org.carrier_codes, lambda o: o.carrier_codes),
                                ("terminal code", org.terminal_codes, lambda o: o.terminal_codes)):
        for other in uow.accounts.organisations():
            taken = sorted(set(mine) & set(theirs(other)))
            if taken and other.id != org.id and other.kind != OrgKind.AGENCY:
                raise ConflictError(field, f"{', '.join(taken)} is already {other.id}'s: a code belongs to one "
                                 "organisation, which sees the containers under it")


def set_client_of(uow: Any, org_id: str, patron_id: str | None) -> None:
    """Make a shipping line or terminal a client of an agency (``patron_id``; None: of none).

    TLP 2.0 lets recipients of TLP:AMBER share it with their clients: a client organisation
    reads the AMBER items of its agency's sharing groups, never AMBER+STRICT or RED
    (:func:`scheldt.domain.exchange.may_see`). Raises NotFoundError for an unknown
    organisation, InputError when the patron is not an agency or the client is one."""
    org = uow.accounts.organisation(org_id)
    if patron_id is not None:
        _check_patron(uow, org, patron_id)
    uow.accounts.set_client_of(org.id, patron_id)


def _check_patron(uow: Any, org: Organisation, patron_id: str) -> None:
    patron = uow.accounts.organisation(patron_id)
    if patron.kind != OrgKind.AGENCY:
        raise InputError("client of", f"{patron_id} is a {patron.kind.value}: only an agency has clients")
    if org.kind == OrgKind.AGENCY:
        raise InputError("client of", f"{org.id} is an agency: agencies share through sharing groups, not as clients")


def carrier_owners(uow: Any) -> dict[str, str]:
    """Each shipping line's carrier code (SMDG liner code, SCAC; upper case) -> its organisation."""
    return {code.upper(): o.id for o in uow.accounts.organisations() for code in o.carrier_codes}


def unknown_local_organisation(uow: Any, local: str) -> str | None:
    """The store's organisations as listed (at most 8 named) when it has some and ``local`` (the
    ``SCHELDT_LOCAL_ORGANISATION`` setting) is none of them, else None: what is then loaded is
    recorded as supplied by an organisation no user belongs to, and no one sees it."""
    known = [o.id for o in uow.accounts.organisations()]
    if not known or local in known:
        return None
    return ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")


def require_local_organisation(uow: Any, local: str) -> None:
    """Raise ConfigError when ``local`` (``SCHELDT_LOCAL_ORGANISATION``) names no organisation of
    the store that has some (:func:`unknown_local_organisation`)."""
    shown = unknown_local_organisation(uow, local)
    if shown is not None:
        raise ConfigError("SCHELDT_LOCAL_ORGANISATION", f"{local!r} is not an organisation of this store ({shown}): "
                          "what is loaded or recorded would be by it, and no user would see it. Set it to this "
                          "node's agency")


def create_user(uow: Any, username: str, org_id: str, roles: list[str], password: str, now: datetime,
                display_name: str = "") -> Any:
    """Create a user with an argon2id password hash. Raises InputError for a bad username, an
    unknown organisation, roles its organisation may not give, a password under
    :data:`MIN_PASSWORD` characters or one that begins or ends with white space."""
    check_username(username)
    org = uow.accounts.organisation(org_id)
    parsed = parse_roles(roles, org.kind)
    _check_password(password)
    return uow.accounts.add_user(username, org.id, display_name or username, parsed, _HASHER.hash(password), now)


def _check_password(password: str) -> None:
    """Raise InputError for a password under :data:`MIN_PASSWORD` characters, holding a
    control character, or beginning or ending with white space."""
    if len(password) < MIN_PASSWORD:
        raise InputError("password", f"must be at least {MIN_PASSWORD} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in password):  # a NUL was taken (regression review)
        raise InputError("password", "must not hold a control character (a NUL, a tab, a line break)")
    if password != password.strip():
        raise InputError("password", "must not begin or end with a space (the API trims what it is given, so such "
                         "a user could sign in on one door and not the other)")


def set_password(uow: Any, principal: Principal | None, username: str, password: str, now: datetime) -> tuple[Any, int]:
    """Give a user a new password (a leaked one, a forgotten one: an operator review found no
    way to, and enabling a disabled user brought the leaked password back) and end the
    user's sessions, which were signed in with the old one; API tokens stay (each is revoked
    on its own). Returns the user and how many sessions ended. Raises ForbiddenError without
    the right to manage users, NotFoundError for a user the principal does not manage (unknown
    or not: one answer), InputError for a password :func:`create_user` would refuse."""
    user = _managed_user(uow, principal, username)
    _check_password(password)
    uow.accounts.set_password_hash(user.id, _HASHER.hash(password))
    return user, uow.accounts.revoke_all(user.id, now, kind="session")


def create_token(uow: Any, username: str, name: str, days: int, now: datetime) -> str:
    """Make an API token for a user, valid ``days`` (1-730) days; returns the secret, shown once."""
    return new_token(uow, username, name, days, now)["token"]


def new_token(uow: Any, username: str, name: str, days: int, now: datetime) -> dict[str, Any]:
    """Make an API token for a user, valid ``days`` (1-730) days: ``{"token" (the secret, shown
    once), "id" (to revoke it by), "name", "expires_at" (UTC)}``. Raises InputError for a bad
    ``days``, a name holding a control character or a disabled user, NotFoundError for an
    unknown user."""
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise InputError("days", f"{days} must be between 1 and {TOKEN_DAYS_MAX}")
    if any(not c.isprintable() for c in name):  # an attack review's line break forged a row of `token list`
        raise InputError("name", "must not hold a control character (a line break, a carriage return, an escape)")
    user = uow.accounts.user(username)
    if not user.active:  # it began to work once the user was enabled (operator review)
        raise InputError("username", f"{username} is disabled: enable the user first (`scheldt user enable`)")
    secret = "sct_" + secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    token_id = uow.accounts.add_credential(secret_hash(secret), "token", user.id, name or "api token", now, expires)
    return {"token": secret, "id": token_id, "name": name or "api token", "expires_at": expires}


#: What a user or token that is not the requester's to manage is called, whether it exists or
#: not: an attack review told existing usernames and token ids from unknown ones by the answer.
_NO_USER = "no such user of your organisation"
_NO_TOKEN = "no such token of yours or of a user you manage"


def _manages(principal: Principal | None, org_id: str) -> bool:
    """True when ``principal`` (None: the node's operator, on the command line) manages the
    users of organisation ``org_id``: an administrator of it, or of the host agency."""
    return principal is None or (principal.can(Permission.MANAGE_USERS) and (
        principal.organisation.id == org_id or principal.can(Permission.MANAGE_ORGANISATIONS)))


def _managed_user(uow: Any, principal: Principal | None, username: str) -> Any:
    """The user ``username`` when ``principal`` (None: the operator) manages it. Raises
    ForbiddenError without the right to manage users, NotFoundError otherwise (one answer,
    whether the user exists or not)."""
    if principal is not None:
        require(principal, Permission.MANAGE_USERS)
    try:
        user = uow.accounts.user(username)
    except NotFoundError:
        raise NotFoundError(f"user {username[:64]}", _NO_USER) from None
    if not _manages(principal, user.organisation_id):
        raise NotFoundError(f"user {username[:64]}", _NO_USER)
    return user


def set_user_active(uow: Any, principal: Principal | None, username: str, active: bool,
                    now: datetime) -> tuple[Any, list[str]]:
    """Disable (a departing officer, a leaked password) or enable a user. Disabling revokes
    every session and token of the user at once, and deletes its DCSA Track & Trace feeds, so
    enabling again brings none back; only
    the organisation that disabled a user (or the operator) enables it again; the last active
    administrator of an organisation is never disabled (rows locked: two administrators
    disabling each other at once cannot both succeed). Returns (the user, the ids of the DCSA
    feeds the disabling stopped, for the audit log: a regression review found them unnamed). Raises ForbiddenError
    without the right to manage users, NotFoundError for a user the principal does not manage
    (unknown or not: one answer), InputError for disabling oneself or the last administrator."""
    user = _managed_user(uow, principal, username)
    by = principal.organisation.id if principal is not None else None
    if active:
        if user.disabled_by and by is not None and by != user.disabled_by:
            raise ForbiddenError(f"user {username}", f"was disabled by {user.disabled_by}; only its administrators "
                                 "(or the node's operator) enable it again")
        uow.accounts.set_active(user.id, True)
        return uow.accounts.user(username), []
    if principal is not None and principal.username == username:
        raise InputError("username", "you cannot disable yourself (ask another administrator)")
    if Role.ADMINISTRATOR in user.roles and uow.accounts.active_administrators(user.organisation_id) == [username]:
        raise InputError("username", f"{username} is the last active administrator of {user.organisation_id}: "
                         "make another one first")
    uow.accounts.set_active(user.id, False, by)
    uow.accounts.revoke_all(user.id, now)
    stopped = uow.tnt_feeds.delete_of_user(username, now)  # its DCSA feeds too (scheldt.workflows.tnt_feeds)
    return uow.accounts.user(username), stopped


def revoke_token(uow: Any, principal: Principal | None, token_id: int, now: datetime) -> str:
    """Revoke API token ``token_id``: one's own, or, for an administrator, one of a user they
    manage (an operator review found no way to revoke an officer's leaked token). Returns the
    token owner's username. Raises NotFoundError for any other id (one answer, whether it
    exists or not), ConflictError when it was revoked already (its revocation time stays)."""
    owner_id = uow.accounts.credential_owner(token_id)
    owner = uow.accounts.user_by_id(owner_id) if owner_id is not None else None
    if owner is None or token_id not in {t["id"] for t in uow.accounts.tokens(owner.id)} or (
            (principal is None or principal.username != owner.username) and not _manages(principal, owner.organisation_id)):
        # the node's operator (no principal) manages every token: told plainly (an operator review)
        raise NotFoundError(f"token {token_id}", "no such token" if principal is None else _NO_TOKEN)
    revoked = uow.accounts.revoked_at(token_id)
    if revoked is not None:
        raise ConflictError(f"token {token_id}", f"was revoked already, at {revoked:%Y-%m-%d %H:%M:%S} UTC")
    uow.accounts.revoke(token_id, now)
    return owner.username


def user_tokens(uow: Any, principal: Principal | None, username: str) -> list[dict[str, Any]]:
    """The API tokens (never secrets) of a user the principal manages, or its own. Raises
    NotFoundError otherwise (one answer, whether the user exists or not)."""
    try:
        user = uow.accounts.user(username)
    except NotFoundError:
        raise NotFoundError(f"user {username[:64]}", _NO_USER) from None
    if not (principal is not None and principal.username == username) and not _manages(principal, user.organisation_id):
        raise NotFoundError(f"user {username[:64]}", _NO_USER)
    return uow.accounts.tokens(user.id)


#: Refused password sign-ins from one address within :data:`SIGN_IN_WINDOW` after which no
#: password from it is checked until the oldest of them leaves the window (a review found no
#: limit: guesses were bounded only by argon2's cost, which also ate the server's cores).
#: Counted per address, not per username, so a refusal says nothing of which usernames exist.
SIGN_IN_FAILURES_MAX = 20
SIGN_IN_WINDOW = timedelta(minutes=15)


def check_sign_in_allowed(uow: Any, remote_addr: str, now: datetime) -> int:
    """Raise TooManyAttempts when :data:`SIGN_IN_FAILURES_MAX` password sign-ins from
    ``remote_addr`` were refused within :data:`SIGN_IN_WINDOW` before ``now`` (from the audit
    log's ``sign-in-failed`` entries; an address-less request, a test client, is not counted);
    else return how many were."""
    if not remote_addr:
        return 0
    failures = uow.audit.failed_sign_ins_from(remote_addr, now - SIGN_IN_WINDOW)
    if len(failures) >= SIGN_IN_FAILURES_MAX:
        wait = failures[-SIGN_IN_FAILURES_MAX] + SIGN_IN_WINDOW - now
        seconds = int(wait.total_seconds()) + 1
        raise TooManyAttempts("sign-in", f"{len(failures)} refused sign-ins from this address in the last "
                              f"{int(SIGN_IN_WINDOW.total_seconds() // 60)} minutes: try again in "
                              f"{-(-seconds // 60)} minute(s)", seconds)
    return len(failures)


def sign_in(uow: Any, username: str, password: str, now: datetime) -> tuple[str, datetime]:
    """Check a password and open a session; returns (session secret, expiry UTC). Raises
    AuthError with the same message for an unknown user, a wrong password or a disabled user."""
    try:
        user = uow.accounts.user(username)
    except ScheldtError:
        user = None
    try:
        _HASHER.verify(user.password_hash if user is not None else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError("sign-in", "unknown username or wrong password") from None
    if user is None or not user.active:
        raise AuthError("sign-in", "unknown username or wrong password")
    if _HASHER.check_needs_rehash(user.password_hash):
        uow.accounts.set_password_hash(user.id, _HASHER.hash(password))
    secret = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=SESSION_HOURS)
    uow.accounts.add_credential(secret_hash(secret), "session", user.id, "web session", now, expires)
    return secret, expires


def authenticate(uow: Any, secret: str, now: datetime, kinds: tuple[str, ...] = ("session", "token"),
                 host_org: str = "") -> Principal:
    """The principal behind a session or token secret; a host principal when its organisation
    is ``host_org``, the agency running this node. Raises AuthError when the secret is unknown,
    revoked, expired, of another kind, or its user is disabled."""
    # One query for the credential, its user and their organisation: every request does this.
    found = uow.accounts.credential_with_owner(secret_hash(secret)) if secret else None
    if found is None or found[0]["kind"] not in kinds:
        raise AuthError("credentials", "not signed in (unknown session or token)")
    cred, user, organisation = found
    if cred["revoked_at"] is not None:
        raise AuthError("credentials", f"this {cred['kind']} was revoked")
    if cred["expires_at"] <= now:
        raise AuthError("credentials", f"this {cred['kind']} expired at {cred['expires_at']:%Y-%m-%d %H:%M} UTC")
    if not user.active:
        raise AuthError("credentials", "this user is disabled")
    return Principal(user.username, organisation, frozenset(user.roles),
                     host=bool(host_org) and organisation.id == host_org, credential=f"{cred['kind']} {cred['id']}")


def sign_out(uow: Any, principal: Principal, now: datetime) -> None:
    """Revoke the session ``principal`` signed in with (its :attr:`Principal.credential`,
    ``"session N"``): exactly the credential that authenticated the request. An API review sent
    one user's session as its Bearer header and another's as its cookie: the cookie's session was
    revoked and the caller stayed signed in; a script signing out with its API token lost the
    token. Raises InputError for a request signed in otherwise (an API token: revoke it as such)."""
    kind, _, number = principal.credential.partition(" ")
    if kind != "session" or not number.isdigit():
        raise InputError("authorization", "this request signed in with an API token, not a session; sign-out ends "
                         "sessions only (revoke a token with DELETE /api/v1/tokens/{id} or `scheldt token revoke`)")
    uow.accounts.revoke(int(number), now)


def require(principal: Principal, permission: Any) -> None:
    """Raise ForbiddenError unless ``principal`` holds ``permission``."""
    if not principal.can(permission):
        if permission in NODE_PERMISSIONS and not principal.host and principal.organisation.kind == OrgKind.AGENCY:
            raise ForbiddenError(str(permission.value), f"{principal.username} of {principal.organisation.id} may not "
                                 "do this: only the agency that runs this node manages its profiles, models, jobs, "
                                 "organisations and audit log")
        raise ForbiddenError(str(permission.value), f"{principal.username} ({', '.join(sorted(principal.roles))}) "
                             f"of {principal.organisation.id} may not do this")
