"""Organisations, users and their credentials (sign-in sessions and API tokens)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from scheldt.domain.access import Organisation, OrgKind, Role
from scheldt.errors import ConflictError, NotFoundError
from scheldt.store.db import take_write_lock
from scheldt.store.models import CredentialRow, OrganisationRow, UserRow
from scheldt.store.rows import aware


def _org(row: OrganisationRow) -> Organisation:
    return Organisation(row.id, row.name, OrgKind(row.kind), tuple(row.carrier_codes or ()), tuple(row.terminal_codes or ()))


@dataclass(frozen=True, slots=True)
class StoredUser:
    """A user as stored: id, username, organisation id, display name, roles, password hash, active."""

    id: int
    username: str
    organisation_id: str
    display_name: str
    roles: tuple[Role, ...]
    password_hash: str
    active: bool
    created_at: datetime
    disabled_by: str | None = None


def _user(row: UserRow) -> StoredUser:
    return StoredUser(row.id, row.username, row.organisation_id, row.display_name, tuple(Role(r) for r in row.roles),
                      row.password_hash, row.active, aware(row.created_at) or row.created_at,
                      getattr(row, "disabled_by", None))


_OWNER_TABLES = (("c", CredentialRow.__table__), ("u", UserRow.__table__), ("o", OrganisationRow.__table__))
# A credential, its user and the user's organisation, every column labelled <table prefix>_<column>.
_CREDENTIAL_WITH_OWNER = (
    select(*(column.label(f"{prefix}_{column.name}") for prefix, table in _OWNER_TABLES for column in table.c))
    .select_from(CredentialRow.__table__)
    .join(UserRow.__table__, UserRow.__table__.c.id == CredentialRow.__table__.c.user_id)
    .join(OrganisationRow.__table__, OrganisationRow.__table__.c.id == UserRow.__table__.c.organisation_id)
    .where(CredentialRow.__table__.c.secret_hash == bindparam("secret_hash")))


#: PostgreSQL advisory lock serialising organisation creates (:meth:`AccountRepository.lock`).
LOCK_KEY = 0x5C4E_0A6C_C0DE_0001


class AccountRepository:
    """Organisations, users, credentials (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise organisation creates from here to the end of the transaction
        (:func:`scheldt.store.db.take_write_lock`): take it before reading the codes other
        organisations own (a regression review's two shipping lines made at once both got the
        carrier code SIMB, and each read the other's containers)."""
        take_write_lock(self.session, LOCK_KEY, OrganisationRow.__table__)

    # organisations
    def add_organisation(self, org: Organisation, now: datetime) -> None:
        """Store a new organisation. Raises ConflictError when the id is taken."""
        if self.session.get(OrganisationRow, org.id) is not None:
            raise ConflictError("organisation id", f"{org.id!r} already exists")
        self.session.add(OrganisationRow(id=org.id, name=org.name, kind=org.kind.value, carrier_codes=list(org.carrier_codes),
                                         terminal_codes=list(org.terminal_codes), created_at=now))
        self.session.flush()

    def organisation(self, org_id: str) -> Organisation:
        """One organisation. Raises NotFoundError."""
        row = self.session.get(OrganisationRow, org_id)
        if row is None:
            raise NotFoundError(f"organisation {org_id}", "no such organisation")
        return _org(row)

    def set_client_of(self, org_id: str, patron_id: str | None) -> None:
        """Record that ``org_id`` is a client of ``patron_id`` (None: of no one); both checked by
        the caller (:func:`scheldt.workflows.accounts.set_client_of`). Raises NotFoundError."""
        row = self.session.get(OrganisationRow, org_id)
        if row is None:
            raise NotFoundError(f"organisation {org_id}", "no such organisation")
        row.client_of = patron_id
        self.session.flush()

    def clients_of(self) -> dict[str, str]:
        """Organisation id → the organisation it is a client of, for those that are one."""
        stmt = select(OrganisationRow.id, OrganisationRow.client_of).where(OrganisationRow.client_of.is_not(None))
        return {i: c for i, c in self.session.execute(stmt)}

    def organisations(self) -> list[Organisation]:
        """Every organisation, by id."""
        return [_org(r) for r in self.session.scalars(select(OrganisationRow).order_by(OrganisationRow.id))]

    # users
    def add_user(self, username: str, org_id: str, display_name: str, roles: frozenset[Role], password_hash: str,
                 now: datetime) -> StoredUser:
        """Store a new user. Raises ConflictError when the username is taken."""
        if self.session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
            raise ConflictError("username", f"{username!r} already exists")
        row = UserRow(username=username, organisation_id=org_id, display_name=display_name,
                      roles=sorted(r.value for r in roles), password_hash=password_hash, active=True, created_at=now)
        self.session.add(row)
        self.session.flush()
        return _user(row)

    def user(self, username: str) -> StoredUser:
        """One user by username. Raises NotFoundError."""
        row = self.session.scalar(select(UserRow).where(UserRow.username == username))
        if row is None:
            raise NotFoundError(f"user {username}", "no such user")
        return _user(row)

    def user_by_id(self, user_id: int) -> StoredUser:
        """One user by id. Raises NotFoundError."""
        row = self.session.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"user {user_id}", "no such user")
        return _user(row)

    def users(self, org_id: str | None = None) -> list[StoredUser]:
        """Users, of one organisation when ``org_id`` is given, by username."""
        stmt = select(UserRow).order_by(UserRow.username)
        if org_id is not None:
            stmt = stmt.where(UserRow.organisation_id == org_id)
        return [_user(r) for r in self.session.scalars(stmt)]

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (after a re-hash with newer argon2 parameters)."""
        self.session.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))

    def set_active(self, user_id: int, active: bool, by_org: str | None = None) -> None:
        """Enable or disable a user (a disabled user's sessions and tokens stop working);
        ``by_org``: the organisation whose administrator disables it."""
        self.session.execute(update(UserRow).where(UserRow.id == user_id).values(
            active=active, disabled_by=None if active else by_org))

    def active_administrators(self, org_id: str) -> list[str]:
        """Usernames of the active administrators of ``org_id``, their rows locked until the
        transaction ends (PostgreSQL ``FOR UPDATE``; SQLite writes one at a time anyway), so
        two administrators disabling each other at once cannot both succeed."""
        rows = self.session.scalars(select(UserRow).where(UserRow.organisation_id == org_id, UserRow.active.is_(True))
                                    .order_by(UserRow.id).with_for_update())
        return [r.username for r in rows if "administrator" in (r.roles or [])]

    def revoke_all(self, user_id: int, now: datetime, kind: str | None = None) -> int:
        """Revoke every session and token of a user not revoked yet (``kind``: only the
        credentials of that kind, ``session`` or ``token``); returns how many."""
        where = [CredentialRow.user_id == user_id, CredentialRow.revoked_at.is_(None)]
        if kind is not None:
            where.append(CredentialRow.kind == kind)
        done = self.session.execute(update(CredentialRow).where(*where).values(revoked_at=now))
        return int(done.rowcount or 0)

    # credentials
    def add_credential(self, secret_hash: str, kind: str, user_id: int, name: str, now: datetime,
                       expires_at: datetime) -> int:
        """Store a session or token by the SHA-256 of its secret; returns its id."""
        row = CredentialRow(secret_hash=secret_hash, kind=kind, user_id=user_id, name=name, created_at=now,
                            expires_at=expires_at)
        self.session.add(row)
        self.session.flush()
        return row.id

    def credential(self, secret_hash: str) -> dict[str, Any] | None:
        """The credential with this secret hash, with its user's id, or None."""
        row = self.session.scalar(select(CredentialRow).where(CredentialRow.secret_hash == secret_hash))
        if row is None:
            return None
        return {"id": row.id, "kind": row.kind, "user_id": row.user_id, "name": row.name,
                "expires_at": aware(row.expires_at), "revoked_at": aware(row.revoked_at)}

    def credential_with_owner(self, secret_hash: str) -> tuple[dict[str, Any], StoredUser, Organisation] | None:
        """The credential with this secret hash (as :meth:`credential` gives it), its user and
        the user's organisation, read in one query of plain columns (no ORM objects: every
        request authenticates); None when there is no such credential."""
        row = self.session.execute(_CREDENTIAL_WITH_OWNER, {"secret_hash": secret_hash}).first()
        if row is None:
            return None
        values = row._mapping
        cred, user, org = ({column.name: values[f"{prefix}_{column.name}"] for column in table.c}
                           for prefix, table in _OWNER_TABLES)
        return ({"id": cred["id"], "kind": cred["kind"], "user_id": cred["user_id"], "name": cred["name"],
                 "expires_at": aware(cred["expires_at"]), "revoked_at": aware(cred["revoked_at"])},
                _user(SimpleNamespace(**user)), _org(SimpleNamespace(**org)))

    def revoked_at(self, credential_id: int) -> datetime | None:
        """When credential ``credential_id`` was revoked, or None."""
        return aware(self.session.scalar(select(CredentialRow.revoked_at).where(CredentialRow.id == credential_id)))

    def revoke(self, credential_id: int, now: datetime) -> None:
        """Revoke a session (sign-out) or a token."""
        self.session.execute(update(CredentialRow).where(CredentialRow.id == credential_id).values(revoked_at=now))

    def credential_owner(self, credential_id: int) -> int | None:
        """The user id of credential ``credential_id``, or None when there is none."""
        return self.session.scalar(select(CredentialRow.user_id).where(CredentialRow.id == credential_id))

    def tokens(self, user_id: int) -> list[dict[str, Any]]:
        """A user's API tokens (never their secrets), newest first."""
        rows = self.session.scalars(select(CredentialRow).where(
            CredentialRow.user_id == user_id, CredentialRow.kind == "token").order_by(CredentialRow.id.desc()))
        return [{"id": r.id, "name": r.name, "created_at": aware(r.created_at), "expires_at": aware(r.expires_at),
                 "revoked_at": aware(r.revoked_at)} for r in rows]
