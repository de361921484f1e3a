"""Shared STIX objects, sharing groups and the visibility policy as one indexed query.

:func:`visible_clause` is :func:`scheldt.domain.exchange.may_see` written as SQL over
``shared_object``: every reader (REST API, TAXII, federation relays, MISP export, carrier
notices) filters through it *before* paging, so a page never holds an object the requester may
not see and never silently shrinks. Pages are keyset ranges of the server-assigned ``seq``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Integer,
    String,
    Text,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from scheldt.domain.exchange import (
    DELETED_MARK,
    LOCAL_GROUP,
    Audience,
    Requester,
    Tlp,
    VersionFilter,
    version_key,
)
from scheldt.errors import ConflictError, NotFoundError
from scheldt.store.db import among, take_write_lock
from scheldt.store.models import (
    NodeAccountRow,
    NodeSecretRow,
    OrganisationRow,
    SharedObjectRecipientRow,
    SharedObjectRow,
    SharedWithdrawalRow,
    SharingGroupMemberRow,
    SharingGroupRow,
)
from scheldt.store.rows import aware, built_once, json_text
from scheldt.store.upsert import insert_ignore

_O = SharedObjectRow
_T = SharedObjectRow.__table__
_R = SharedObjectRecipientRow
#: Key of the PostgreSQL transaction-level advisory lock serialising writers of object versions
#: (see :meth:`ExchangeRepository.add_version`); nothing else uses it.
WRITE_LOCK_KEY = 0x5C4E_5EA2_0B1E_C750


@dataclass(frozen=True, slots=True)
class StoredObject:
    """A stored object version: ``seq`` (server order), STIX id and modified timestamp text,
    its audience and evaluation, the STIX object itself, provenance and when it was added."""

    seq: int
    stix_id: str
    modified: str
    stix_type: str
    spec_version: str
    kind: str
    tlp: str
    owner_org: str
    group_id: str | None
    handling_code: str
    reliability: str
    credibility: str
    valid_from: datetime | None
    valid_until: datetime | None
    revoked: bool
    object: dict[str, Any]
    source: str
    date_added: datetime
    deleted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ObjectText:
    """A stored object version as a page serves it: ``seq``, STIX id, ``modified`` (its version),
    spec version, when it was added (UTC), and the STIX object's JSON ``text`` as stored (not
    parsed: a TAXII page splices it into the envelope)."""

    seq: int
    stix_id: str
    modified: str
    spec_version: str
    date_added: datetime
    text: str


def _object_text(row: Any) -> ObjectText:
    return ObjectText(row[0], row[1], row[2], row[3], aware(row[4]), row[5])


def _stored(row: Any) -> StoredObject:
    """A version from its ORM object or its table row."""
    return StoredObject(row.seq, row.stix_id, row.modified, row.stix_type, row.spec_version, row.kind, row.tlp,
                        row.owner_org, row.group_id, row.handling_code, row.reliability, row.credibility,
                        aware(row.valid_from), aware(row.valid_until), row.revoked, row.object, row.source,
                        aware(row.date_added) or row.date_added, aware(row.deleted_at))


def requester_shape(r: Requester | None) -> tuple[bool, int, int, bool] | None:
    """What the form of :func:`visible_condition` depends on: agency or not, how many sharing
    groups the requester's organisation is in, how many it reads as a client, peer or not
    (None: the node itself)."""
    return None if r is None else (r.kind == "agency", len(r.groups), len(r.client_of_groups), r.peer)


def requester_values(r: Requester | None) -> dict[str, Any]:
    """The bind values of :func:`visible_condition` for ``r``."""
    if r is None:
        return {}
    values: dict[str, Any] = {"v_org": r.organisation_id, "v_user": r.username}
    values |= {f"v_g{k}": g for k, g in enumerate(sorted(r.groups))}
    return values | {f"v_c{k}": g for k, g in enumerate(sorted(r.client_of_groups))}


def _fixed(value: Any) -> Any:
    """A constant of the visibility policy (a TLP name, the local groups' prefix, OFFSET 0)
    written into the statement's text, not bound as a parameter. PostgreSQL can then plan a
    page statement once and reuse that plan (psycopg prepares a statement run five times;
    PostgreSQL keeps a generic plan when it costs no more than the plans made for each call's
    values): with the constants bound, the generic plan's estimate came out a little above the
    per-call one, so each first page was planned again: PostgreSQL's CPU a first page went from
    0.89-0.98 ms to 0.56-0.67 ms with the constants written (1,000 pages each way, in turn).
    Written when the statement is compiled, not rendered again at each run as a
    ``literal_execute`` parameter is (the constants are Scheldt's own, and organisation ids,
    which are ``[a-z0-9-]``: never a quote). Raises ValueError for a text with a quote."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    if "'" in value:
        raise ValueError(f"a policy constant with a quote: {value!r}")
    return literal_column(f"'{value}'", String)


def visible_condition(shape: tuple[bool, int, int, bool] | None, o: Any = _O,
                      values: dict[str, Any] | None = None) -> Any:
    """SQL condition on ``shared_object`` (or its alias ``o``): a requester of ``shape``
    (:func:`requester_shape`) may see the row. The requester's ids are bind parameters named
    as :func:`requester_values` names them, so one built condition serves every requester of
    a shape; with ``values``, they are bound to those values (under unique names)."""
    if shape is None:
        return true()

    def p(name: str) -> Any:
        return bindparam(name) if values is None else bindparam(name, values[name], unique=True)

    agency, n_groups, n_client_groups, peer = shape
    own = _own(o, p("v_org"))
    clear = o.tlp == _fixed(Tlp.CLEAR.value)
    green = and_(o.tlp == _fixed(Tlp.GREEN.value), true() if agency else false())
    member = and_(o.tlp.in_([_fixed(Tlp.AMBER.value), _fixed(Tlp.AMBER_STRICT.value)]),
                  o.group_id.in_([p(f"v_g{k}") for k in range(n_groups)])) if n_groups else false()
    client = and_(o.tlp == _fixed(Tlp.AMBER.value), o.group_id.in_([p(f"v_c{k}") for k in range(n_client_groups)])) \
        if n_client_groups else false()
    named = and_(_R.seq == o.seq, _R.organisation_id == p("v_org"))
    if not peer:
        named = and_(named, _R.username == p("v_user"))
    # OFFSET 0 keeps PostgreSQL from planning the EXISTS as a hashed subplan, which reads every
    # TLP:RED recipient row of the requester on every page (33 ms at 1,000,000 objects): it
    # probes the recipient's primary key for each TLP:RED row instead (PostgreSQL does not
    # turn an EXISTS with an OFFSET into a hashed ANY).
    red = and_(o.tlp == _fixed(Tlp.RED.value), select(_R.seq).where(named).offset(_fixed(0)).exists())
    return or_(own, clear, green, member, client, red)


def _own(o: Any, org: Any) -> Any:
    """SQL: the row is the requester organisation ``org``'s own (:func:`scheldt.domain.exchange.own_item`):
    but for a RED alert of a partner's RED entry, raised for the agency (in a local group), which
    only its named recipients see."""
    return and_(o.owner_org == org, or_(o.tlp != _fixed(Tlp.RED.value), o.group_id.is_(None),
                                        not_(o.group_id.startswith(_fixed(LOCAL_GROUP)))))


def visible_clause(r: Requester | None, o: Any = _O) -> Any:
    """SQL condition on ``shared_object`` (or its alias ``o``): the requester may see the row
    (None: the node itself). :func:`visible_condition` with ``r``'s values bound."""
    return visible_condition(requester_shape(r), o, requester_values(r))


def _scope(o: Any, group_id: str | None, community: bool) -> list[Any]:
    if group_id is not None:
        return [o.group_id == bindparam("scope_group")]
    if community:
        return [o.group_id.is_(None)]
    return []


def _no_visible_version(shape: tuple[bool, int, int, bool] | None, group_id: str | None, community: bool,
                        newer: bool, probed: bool = False) -> Any:
    """No other live version of the row's object the requester may see (in the same place) is
    newer (``newer``) / older than the row. ``probed``: written so that PostgreSQL probes it
    row by row (OFFSET 0 keeps it from becoming a join that reads every candidate version
    first), as a branch of :func:`_branch_page` needs to stop after its first rows."""
    o2 = aliased(SharedObjectRow)
    order = o2.modified_at > _O.modified_at if newer else o2.modified_at < _O.modified_at
    newer_one = select(o2.seq).where(o2.stix_id == _O.stix_id, o2.deleted_at.is_(None), order,
                                     visible_condition(shape, o2), *_scope(o2, group_id, community))
    return ~(newer_one.offset(_fixed(0)) if probed else newer_one).exists()


def version_condition(shape: tuple[bool, int, int, bool] | None, first: bool, last: bool, n_at: int,
                      group_id: str | None, community: bool, probed: bool = False) -> Any:
    """SQL condition on ``shared_object``: the row is a version a VersionFilter keeps (see
    VersionFilter; its times bound as ``at_0`` ...; requester as :func:`visible_condition`;
    ``probed`` as :func:`_no_visible_version`)."""
    parts = []
    if first:
        parts.append(_no_visible_version(shape, group_id, community, newer=False, probed=probed))
    if last:
        parts.append(_no_visible_version(shape, group_id, community, newer=True, probed=probed))
    if n_at:
        parts.append(_O.modified_at.in_([bindparam(f"at_{k}", type_=_T.c.modified_at.type) for k in range(n_at)]))
    if not parts:
        return false()
    return and_(_O.modified_at.is_not(None), or_(*parts))


#: Largest number of ids, types or versions a page statement is kept for (more: built per call).
_BUILT_MAX = 16


def _seq_at(t: Any) -> Any:
    """SQL: the seq of the newest version added at or before ``t`` (0 when none), read by one
    probe of ix_shared_object_date_added_seq. Versions added after ``t`` are exactly those with a
    greater seq, since date_added grows with seq (writers are serialised and each takes a
    date_added after every stored one: :meth:`ExchangeRepository._after_latest`). So an
    ``added_after`` page is a keyset range of seq like any other (no date_added condition, which
    would lead the planner back to the date_added index), its cost flat in how many versions are
    newer; filtering on date_added read every newer version and sorted them
    (23 ms a poll for the newest 1 % of 1,000,000 objects, benchmarks/taxii_load.py)."""
    newest = (select(_O.seq).where(_O.date_added <= t).order_by(_O.date_added.desc(), _O.seq.desc())
              .limit(1).scalar_subquery())
    return func.coalesce(newest, 0)


def _page_statement(key: tuple[Any, ...]) -> Any:
    """The page statement of ``key`` (see :meth:`ExchangeRepository.page`), every value bound:
    a collection's page for a carrier or terminal is :func:`_branch_page` (:func:`branched`),
    any other one filters the versions in ``seq`` order through :func:`visible_condition`."""
    (_name, shape, where, after, added_after, n_ids, n_types, n_spec, include_deleted, vshape, as_text, with_object,
     member, client, postgresql, org) = key
    group_id = "" if where == "group" else None
    text_column = cast(_O.object, Text) if with_object else literal("", Text)
    columns = (_O.seq, _O.stix_id, _O.modified, _O.spec_version, _O.date_added, text_column) if as_text else (_T,)
    limit = bindparam("limit", type_=Integer, literal_execute=True)

    def narrowed(stmt: Any, probed: bool = False) -> Any:
        if after:
            stmt = stmt.where(_O.seq > bindparam("after_seq"))
        if added_after:
            stmt = stmt.where(_O.seq > _seq_at(bindparam("added_after")))
        for n, column, prefix in ((n_ids, _O.stix_id, "id"), (n_types, _O.stix_type, "type"),
                                  (n_spec, _O.spec_version, "spec")):
            if n:
                stmt = stmt.where(column.in_([bindparam(f"{prefix}_{k}") for k in range(n)]))
        if not include_deleted:
            stmt = stmt.where(_O.deleted_at.is_(None))
        if vshape is not None:
            stmt = stmt.where(version_condition(shape, *vshape, group_id, where == "community", probed))
        return stmt.order_by(_O.seq).limit(limit)

    if branched(key):
        return _branch_page(shape, where == "community", member, client, columns, narrowed, limit, after, added_after,
                            postgresql, org)
    return narrowed(select(*columns).where(visible_condition(shape), *_scope(_O, group_id, where == "community")))


def branched(key: tuple[Any, ...]) -> bool:
    """Whether the page statement of ``key`` is :func:`_branch_page`: a page of one collection
    (a group's or the community's), not of given ids, for a requester other than an agency. An
    agency may see most of a collection (GREEN, its groups' AMBER and AMBER+STRICT), so reading
    the collection in ``seq`` order and filtering it finds a page quickly; a carrier or terminal
    sees little of it (CLEAR, its own, AMBER as a client)."""
    return key[1] is not None and not key[1][0] and bool(key[2]) and not key[5]


def _branch_page(shape: tuple[bool, int, int, bool], community: bool, member: bool, client: bool,
                 columns: tuple[Any, ...], narrowed: Callable[..., Any], limit: Any, after: bool,
                 added_after: bool, lateral: bool, org: str) -> Any:
    """A collection's page for a requester of ``shape`` other than an agency (a carrier or
    terminal: :func:`branched`) as the merge of one ordered branch per way
    :func:`visible_condition` lets a version through to it: its organisation's own versions,
    then others' CLEAR, AMBER (the collection's group is one the organisation is in,
    ``member``, or reads as a client, ``client``), AMBER+STRICT (``member``), and RED naming
    the requester. The branches are disjoint (every one but the first leaves out what the first
    takes); each reads its versions in ``seq`` order by an index that holds only them (migration
    0039) and stops at the page's size, and PostgreSQL merges them in order (a Merge Append) and
    stops at the page's size. So a page reads about the versions it serves, however few of the
    collection's versions the requester may see. The requester's organisation is written into
    the statement (:func:`_fixed`; one statement per organisation and shape), so that the
    generic plan PostgreSQL keeps for a statement run often knows how many versions it owns: with
    it bound, a forced generic plan read a terminal's own versions (none) through the whole
    table by the primary key (a review: 87 ms a page at 400,000 versions), and one chosen by
    PostgreSQL itself did so for a carrier owning one version in a thousand (6 ms against
    0.7). Filtering the collection in ``seq`` order read
    every version until a page was full: a carrier, which sees about one in seventy of the
    community's versions in issue 6's benchmark, cost PostgreSQL 5-7 ms a page at 20,000
    objects (pg_stat_statements; an agency's page 0.9 ms). At 1,000,000 objects a carrier's
    page took 3.6-7.4 ms in one process (database and Python, the median of 30 calls, first and
    later pages of both collections), merged 1.3-1.8 ms. The same versions as the policy gives
    (tests/store/test_exchange_policy.py); how much a page reads: tests/store/test_page_plans.py."""
    _agency, n_groups, n_client_groups, peer = shape
    here = _O.group_id.is_(None) if community else _O.group_id == bindparam("scope_group")
    others = _O.owner_org != _fixed(org)

    def tlp_is(level: Tlp) -> Any:
        return _O.tlp == _fixed(level.value)

    groups = [bindparam(f"v_g{k}") for k in range(n_groups)]
    client_groups = [bindparam(f"v_c{k}") for k in range(n_client_groups)]
    mine = _O.owner_org == _fixed(org)  # its own (own_item), written for the collection's kind
    branches = [mine if community else and_(mine, or_(_O.tlp != _fixed(Tlp.RED.value),
                                                      not_(_O.group_id.startswith(_fixed(LOCAL_GROUP))))),
                and_(tlp_is(Tlp.CLEAR), others)]
    if not community and (member or client):
        branches.append(and_(tlp_is(Tlp.AMBER), others, _O.group_id.in_(groups + client_groups)))
    if not community and member:
        branches.append(and_(tlp_is(Tlp.AMBER_STRICT), others, _O.group_id.in_(groups)))
    not_own_red = others if community else or_(others, _O.group_id.startswith(_fixed(LOCAL_GROUP)))
    if peer:  # any RED version naming one of its organisation's users: probed per RED version
        named = select(_R.seq).where(_R.seq == _O.seq, _R.organisation_id == bindparam("v_org")).offset(_fixed(0))
        branches.append(and_(tlp_is(Tlp.RED), not_own_red, named.exists()))
    ordered = [narrowed(select(*columns).where(condition, here), probed=True) for condition in branches]
    if not peer:
        ordered.append(_named_red(columns, narrowed, and_(tlp_is(Tlp.RED), not_own_red, here), limit, after,
                                  added_after, lateral, community))
    merged = union_all(*(b.subquery().select() for b in ordered)).subquery()
    return select(merged).order_by(merged.c.seq).limit(limit)


def _named_red(columns: tuple[Any, ...], narrowed: Callable[..., Any], condition: Any, limit: Any, after: bool,
               added_after: bool, lateral: bool, community: bool) -> Any:
    """The branch of :func:`_branch_page` of the RED versions naming the requester: read from
    its own recipient rows of the collection (``place``) in seq order
    (ix_shared_object_recipient_named), each version then found by its seq. On PostgreSQL
    (``lateral``) the version is a LATERAL subquery of the recipient row, so that no plan can
    turn the join around: a generic plan did, and read every RED version of the group to probe
    the requester's rows (59,200 of them, 480 ms, for a carrier's first page at 1,000,000
    objects). Without ``place`` it read the requester's recipient rows of every collection (a
    review: 20,000 of them, 42 ms a community page)."""
    place = _fixed("") if community else bindparam("scope_group")
    named = [_R.organisation_id == bindparam("v_org"), _R.username == bindparam("v_user"), _R.place == place]
    if after:
        named.append(_R.seq > bindparam("after_seq"))
    if added_after:
        named.append(_R.seq > _seq_at(bindparam("added_after")))
    if not lateral:
        return narrowed(select(*columns).select_from(_R).join(_O, _O.seq == _R.seq).where(condition, *named),
                        probed=True)
    version = narrowed(select(*columns).where(_O.seq == _R.seq, condition), probed=True).lateral()
    return select(_R.seq, *list(version.c)[1:]).select_from(_R).join(version, true()).where(*named).order_by(
        _R.seq).limit(limit)


#: Columns of an object version written by :meth:`ExchangeRepository._insert_postgresql`, and
#: the PostgreSQL type each is read as from the JSON rows (``object``: json, kept as sent).
_PG_ARRAYS = (("stix_id", "text"), ("modified", "text"), ("modified_at", "timestamptz"), ("stix_type", "text"),
              ("spec_version", "text"), ("kind", "text"), ("tlp", "text"), ("owner_org", "text"),
              ("group_id", "text"), ("handling_code", "text"), ("reliability", "text"), ("credibility", "text"),
              ("valid_from", "timestamptz"), ("valid_until", "timestamptz"), ("revoked", "bool"),
              ("object", "json"), ("source", "text"), ("date_added", "timestamptz"))
_PG_COLUMNS = [c for c, _t in _PG_ARRAYS]
#: What the table's column defaults give where a version leaves a column out.
_PG_DEFAULTS = {"handling_code": "", "reliability": "X", "credibility": "4", "revoked": False}
_PG_INSERT = (
    f"INSERT INTO shared_object ({', '.join(_PG_COLUMNS)}) "
    f"SELECT {', '.join(_PG_COLUMNS)} "
    f"FROM ROWS FROM (json_to_recordset(%s::json) AS ({', '.join(f'{c} {t}' for c, t in _PG_ARRAYS)})) "
    f"WITH ORDINALITY AS u({', '.join(_PG_COLUMNS)}, ord) ORDER BY ord "
    "RETURNING seq, stix_id, modified")


def _requester_statement() -> Any:
    """An organisation's kind and patron (``client_of``), whether user ``:username`` is one of
    its node accounts, with one row per sharing group membership of it or of its patron (one
    row of NULL membership when there is none)."""
    org, member = OrganisationRow.__table__.c, SharingGroupMemberRow.__table__.c  # table columns: no ORM layer
    account = NodeAccountRow.__table__.c
    node = exists().where(account.username == bindparam("username"), account.organisation_id == org.id)
    return (select(org.kind, org.client_of, node, member.organisation_id, member.group_id)
            .select_from(OrganisationRow.__table__)
            .outerjoin(SharingGroupMemberRow.__table__, or_(member.organisation_id == org.id, member.organisation_id == org.client_of))
            .where(org.id == bindparam("org_id")))


def tombstone(stix_type: str, stix_id: str, spec_version: str, modified: str) -> dict[str, Any]:
    """What a deleted version keeps of its content: its identity and
    :data:`~scheldt.domain.exchange.DELETED_MARK`."""
    return {"type": stix_type, "id": stix_id, "spec_version": spec_version, "modified": modified, DELETED_MARK: True}


class ExchangeRepository:
    """Sharing groups and shared object versions (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._locked: object | None = None

    def _serialise_writers(self) -> None:
        """On PostgreSQL, hold the writers' lock from here to the end of this transaction (once
        per transaction). Why: ``seq`` comes from a sequence, so without it a transaction that
        took seq 7 could commit after one that took seq 8, and a reader paging by seq (TAXII
        ``next``, federation pulls) that saw 8 would never see 7. With it, versions commit in
        seq order. SQLite lets one writer in at a time already."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        tx = self.session.get_transaction()
        if tx is not None and tx is self._locked:
            return
        self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        self._locked = self.session.get_transaction()

    def lock_writers(self) -> None:
        """Take the writers' lock now, until the end of this transaction (PostgreSQL; SQLite has
        one writer at a time), for work that reads the newest version of an object before
        writing the next one (a withdrawal, a re-shared seizure report): an attack review raced
        the two, and a withdrawn report came back to life. On SQLite the database write lock is
        taken now (its reads before the first write are not in the transaction)."""
        self._serialise_writers()
        if self.session.get_bind().dialect.name == "sqlite":
            take_write_lock(self.session, WRITE_LOCK_KEY, _T)

    def node_namespace(self, name: str, now: datetime) -> uuid.UUID:
        """This node's own random UUID called ``name`` (a uuid5 namespace for ids a partner must
        not be able to compute), made on first use and the same ever after; two writers asking
        at once get the same one (the first insert wins)."""
        insert_ignore(self.session, NodeSecretRow.__table__,
                      [{"name": name, "value": str(uuid.uuid4()), "created_at": now}])
        return uuid.UUID(self.session.scalar(select(NodeSecretRow.value).where(NodeSecretRow.name == name)))

    def node_secret(self, name: str) -> str:
        """The value of this node's secret ``name`` made by a migration (e.g. the TAXII cursor
        key, migration 0022). Raises NotFoundError when the store has none by that name."""
        value = self.session.scalar(select(NodeSecretRow.value).where(NodeSecretRow.name == name))
        if value is None:
            raise NotFoundError(f"node secret {name}", "missing: run `scheldt db upgrade`")
        return value

    # sharing groups
    def add_group(self, group_id: str, name: str, owner_org: str, members: Sequence[str], now: datetime) -> None:
        """Create a sharing group (its owner is a member). Raises ConflictError when the id is taken."""
        if self.session.get(SharingGroupRow, group_id) is not None:
            raise ConflictError("sharing group id", f"{group_id!r} already exists")
        self.session.add(SharingGroupRow(id=group_id, name=name, owner_org=owner_org, created_at=now))
        self.session.flush()
        for org in sorted({owner_org, *members}):
            self.session.add(SharingGroupMemberRow(group_id=group_id, organisation_id=org))
        self.session.flush()

    def groups_of(self, org_id: str) -> frozenset[str]:
        """Ids of the sharing groups an organisation is a member of."""
        return frozenset(self.session.scalars(select(SharingGroupMemberRow.group_id).where(
            SharingGroupMemberRow.organisation_id == org_id)))

    def group(self, group_id: str) -> dict[str, Any]:
        """One sharing group with its members, read in one query. Raises NotFoundError."""
        g, member = SharingGroupRow.__table__, SharingGroupMemberRow.__table__  # table columns: no ORM layer
        stmt = built_once("shared_object.group", lambda: select(
            g.c.id, g.c.name, g.c.owner_org, g.c.created_at, member.c.organisation_id).select_from(g).outerjoin(
            member, member.c.group_id == g.c.id).where(g.c.id == bindparam("group_id")))
        rows = self.session.execute(stmt, {"group_id": group_id}).all()
        if not rows:
            raise NotFoundError(f"sharing group {group_id}", "no such sharing group")
        first = rows[0]
        return {"id": first.id, "name": first.name, "owner_org": first.owner_org,
                "members": sorted(r.organisation_id for r in rows if r.organisation_id is not None),
                "created_at": aware(first.created_at)}

    def groups(self) -> list[dict[str, Any]]:
        """Every sharing group with its members, by id."""
        return [self.group(g) for g in self.session.scalars(select(SharingGroupRow.id).order_by(SharingGroupRow.id))]

    def requester(self, org_id: str, username: str, peer: bool | None = False) -> Requester:
        """The :class:`Requester` for a user of an organisation (its groups and its patron's),
        read in one query (every TAXII request asks). ``peer`` None: the user asks as a
        federation peer when it is a node account of an agency (``scheldt peer allow``), read in
        the same query. Raises NotFoundError for an unknown organisation."""
        rows = self.session.execute(built_once("shared_object.requester", _requester_statement),
                                    {"org_id": org_id, "username": username}).all()
        if not rows:
            raise NotFoundError(f"organisation {org_id}", "no such organisation")
        kind, patron, node = rows[0][0], rows[0][1], rows[0][2]
        own = frozenset(g for *_, member, g in rows if member == org_id)
        patrons = frozenset(g for *_, member, g in rows if patron and member == patron)
        if peer is None:
            peer = bool(node) and kind == "agency"
        return Requester(org_id, kind, patron, username, own, patrons, peer)

    # objects
    def add_version(self, values: dict[str, Any], recipients: Sequence[tuple[str, str]] = ()) -> int | None:
        """Store one object version (``values``: SharedObjectRow columns but seq). A version
        already stored (same STIX id and ``modified``) adds nothing: returns None; else its seq.
        Serialises writers of object versions until the transaction ends (PostgreSQL), so
        versions commit in ``seq`` order: a seq cursor misses nothing."""
        return self.add_versions([(values, recipients)])[0]

    def add_versions(self, versions: Sequence[tuple[dict[str, Any], Sequence[tuple[str, str]]]]) -> list[int | None]:
        """:meth:`add_version` for many versions at once: one query finds those already stored
        and one multi-row INSERT ... RETURNING adds the rest (``versions``: (values, named
        recipients) each). Returns, in order, the seq of each added version, None for one
        already stored (or repeated earlier in ``versions``): the same id and ``modified``
        instant (:func:`~scheldt.domain.exchange.version_key`), however the time is written."""
        if not versions:
            return []
        # before reading what is stored: on SQLite too (two `peer pull`s of one peer at once both
        # found the objects new, and the second failed on the unique key)
        self.lock_writers()
        keys = [(v["stix_id"], version_key(v["modified"])) for v, _ in versions]
        known: set[tuple[str, str]] = set()
        ids = sorted({k[0] for k in keys})
        for i in range(0, len(ids), 1000):
            known.update((sid, version_key(mod)) for sid, mod in self.session.execute(
                select(_O.stix_id, _O.modified).where(among(self.session, _O.stix_id, ids[i:i + 1000]))))
        fresh: list[int] = []
        for i, key in enumerate(keys):
            if key not in known:
                known.add(key)
                fresh.append(i)
        out: list[int | None] = [None] * len(versions)
        if not fresh:
            return out
        values = self._after_latest([versions[i][0] for i in fresh])
        if self.session.get_bind().dialect.name == "postgresql":
            rows = self._insert_postgresql(values)
        else:
            rows = self.session.execute(insert(_O).returning(_O.seq, sort_by_parameter_order=True),
                                        values).scalars().all()
        named = []
        for i, seq in zip(fresh, rows, strict=True):
            out[i] = seq
            place = versions[i][0].get("group_id") or ""
            named += [{"seq": seq, "organisation_id": o, "username": u, "place": place}
                      for o, u in sorted(set(versions[i][1]))]
        if named:
            self.session.execute(insert(_R), named)
        return out

    def stored_objects(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The STIX object stored for each (stix id, modified) of ``keys`` that is stored
        (deleted versions included), keyed as asked; a version is found whatever way its
        ``modified`` is written (:func:`~scheldt.domain.exchange.version_key`)."""
        wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for sid, mod in set(keys):
            wanted.setdefault((sid, version_key(mod)), []).append((sid, mod))
        out: dict[tuple[str, str], dict[str, Any]] = {}
        ids = sorted({k[0] for k in wanted})
        for i in range(0, len(ids), 1000):
            stmt = select(_O.stix_id, _O.modified, _O.object).where(among(self.session, _O.stix_id, ids[i:i + 1000]))
            for sid, mod, obj in self.session.execute(stmt):
                for asked in wanted.get((sid, version_key(mod)), []):
                    out[asked] = obj
        return out

    def _after_latest(self, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``values`` (in the order their seqs are given) with each ``date_added`` after every
        one stored and every one before it in ``values`` (by a microsecond where it is not), so
        date_added grows strictly with seq. Why: a TAXII client resuming by ``added_after`` (the
        last page's X-TAXII-Date-Added-Last) gets what was added strictly after that time, so
        it missed (1) a version committed after the page with an earlier time (a writer reads
        the clock before it takes the write lock, so one that read it later may commit first),
        and (2) the rest of an envelope whose versions all had one time (a review's envelope of
        3 objects, read by pages of 1: the second page was empty, ``more`` false). Called with
        the writers' lock held."""
        latest = aware(self.session.scalar(select(func.max(_O.date_added))))
        step = timedelta(microseconds=1)
        floor = None if latest is None else latest + step
        out = []
        for v in values:
            added = aware(v["date_added"])
            if floor is not None and added < floor:
                v, added = {**v, "date_added": floor}, floor
            out.append(v)
            floor = added + step
        return out

    def _insert_postgresql(self, values: list[dict[str, Any]]) -> list[int]:
        """Insert object versions on PostgreSQL as one ``INSERT ... SELECT FROM
        json_to_recordset`` of one JSON array of rows (:data:`_PG_INSERT`) and return their seqs
        in order, assigned in the order given. Why: SQLAlchemy's multi-row ``INSERT ... VALUES``
        is a new statement text for every envelope, longer than psycopg caches, so psycopg
        re-parses its placeholders each time; this text never changes. The rows go as one JSON
        text written by orjson in C, each object as its stored JSON text, where psycopg would
        escape every element of one array per column in Python (a sixth of the CPU of a TAXII
        Add Objects, benchmarks/taxii_load.py). Stores exactly the columns :meth:`add_versions`
        stores otherwise."""
        connection = self.session.connection().connection.driver_connection
        rows = [{c: v.get(c, _PG_DEFAULTS.get(c)) for c in _PG_COLUMNS} for v in values]
        for row in rows:
            row["object"] = orjson.Fragment(json_text(row["object"]))
        seqs = {(sid, mod): seq for seq, sid, mod in connection.execute(_PG_INSERT, [json_text(rows)]).fetchall()}
        return [seqs[(v["stix_id"], v["modified"])] for v in values]

    def recipients(self, seq: int) -> frozenset[tuple[str, str]]:
        """The named recipients of a TLP:RED object version."""
        return frozenset((o, u) for o, u in self.session.execute(select(_R.organisation_id, _R.username).where(_R.seq == seq)))

    def audience(self, obj: StoredObject) -> Audience:
        """Who a stored version is for (as :func:`scheldt.domain.exchange.may_see` takes it)."""
        return Audience(obj.owner_org, Tlp(obj.tlp), obj.group_id, self.recipients(obj.seq))

    def page(self, r: Requester | None, *, group_id: str | None = None, community: bool = False,
             after_seq: int | None = None, added_after: datetime | None = None, ids: Sequence[str] = (),
             types: Sequence[str] = (), limit: int = 100, include_deleted: bool = False,
             versions: VersionFilter | None = None, spec_versions: Sequence[str] = (),
             as_text: bool = False, with_object: bool = True) -> list[StoredObject] | list[ObjectText]:
        """Object versions the requester may see, in ``seq`` order, after ``after_seq``:
        in sharing group ``group_id`` (or, with ``community``, those without a group), added
        after ``added_after`` (UTC), with one of the STIX ``ids`` / ``types`` / ``spec_versions``
        when given, and only the versions ``versions`` keeps (None: every version). Every
        condition is in the one query, so a page is short only at the end of the list. Rows are
        read as plain rows (no ORM objects: a page holds up to ``limit`` of them); with
        ``as_text``, as :class:`ObjectText` (the object's JSON text as stored, not parsed), which
        costs a page of 100 objects about a third of the CPU; without ``with_object`` their
        ``text`` is empty and the objects are not read at all (a manifest needs none)."""
        where = "group" if group_id is not None else "community" if community else ""
        vshape = None if versions is None else (versions.first, versions.last, len(versions.at))
        member = r is not None and group_id in r.groups
        client = r is not None and group_id in r.client_of_groups
        connection = self.session.connection()
        key = ("shared_object.page", requester_shape(r), where, after_seq is not None, added_after is not None,
               len(ids), len(types), len(spec_versions), include_deleted, vshape, as_text, with_object, member, client,
               connection.dialect.name == "postgresql",
               r.organisation_id if r is not None and r.kind != "agency" else None)  # see _branch_page
        small = max(len(ids), len(types), len(spec_versions), len(versions.at) if versions else 0) <= _BUILT_MAX
        stmt = built_once(key, lambda: _page_statement(key)) if small else _page_statement(key)
        values = requester_values(r) | {"scope_group": group_id, "after_seq": after_seq, "added_after": added_after,
                                        "limit": limit}
        values |= {f"id_{k}": v for k, v in enumerate(ids)} | {f"type_{k}": v for k, v in enumerate(types)}
        values |= {f"spec_{k}": v for k, v in enumerate(spec_versions)}
        values |= {f"at_{k}": v for k, v in enumerate(versions.at if versions else ())}
        rows = connection.execute(stmt, values).all()
        return [_object_text(row) for row in rows] if as_text else [_stored(row) for row in rows]

    def versions(self, r: Requester | None, stix_id: str) -> list[StoredObject]:
        """Every visible, not deleted version of one object, oldest ``modified`` first."""
        stmt = select(_O).where(visible_clause(r), _O.stix_id == stix_id, _O.deleted_at.is_(None)).order_by(
            _O.modified, _O.seq)
        return [_stored(row) for row in self.session.scalars(stmt)]

    def sightings_of(self, r: Requester | None, stix_ids: Iterable[str]) -> dict[str, list[StoredObject]]:
        """The sightings the requester may see that answer one of ``stix_ids`` (their
        ``sighting_of_ref``): each sighting once, as its newest live version (not revoked, not
        deleted), oldest arrival first; keyed by the id they answer."""
        ids = sorted(set(stix_ids))
        newest: dict[str, StoredObject] = {}
        for i in range(0, len(ids), 1000):
            stmt = select(_O).where(visible_clause(r), _O.stix_type == "sighting", _O.deleted_at.is_(None),
                                    _O.object["sighting_of_ref"].as_string().in_(ids[i:i + 1000])).order_by(_O.seq)
            for row in self.session.scalars(stmt):  # arrival order: a later arrival may be an older version
                held = newest.get(row.stix_id)
                if held is None or row.modified >= held.modified:
                    newest[row.stix_id] = _stored(row)
        out: dict[str, list[StoredObject]] = {}
        for version in sorted(newest.values(), key=lambda v: v.seq):
            if not version.revoked:
                out.setdefault(str(version.object.get("sighting_of_ref")), []).append(version)
        return out

    def version_times(self, stix_ids: Iterable[str]) -> dict[str, list[tuple[datetime | None, bool, bool]]]:
        """Each stored version of each of ``stix_ids`` as (``modified`` time, revoked, deleted),
        read without the objects: STIX id → versions (ids without one left out)."""
        ids = sorted(set(stix_ids))
        out: dict[str, list[tuple[datetime | None, bool, bool]]] = {}
        for i in range(0, len(ids), 1000):
            stmt = select(_O.stix_id, _O.modified_at, _O.revoked, _O.deleted_at).where(
                among(self.session, _O.stix_id, ids[i:i + 1000]))
            for sid, at, revoked, deleted in self.session.execute(stmt):
                when = aware(at) if at is not None else None
                out.setdefault(sid, []).append((when, bool(revoked), deleted is not None))
        return out

    def recent(self, r: Requester | None, stix_types: Sequence[str], limit: int,
               before_seq: int | None = None, also_kind: str | None = None) -> list[StoredObject]:
        """Visible, not deleted versions of the STIX types ``stix_types`` (and of any type whose
        sharing kind is ``also_kind``, e.g. ``other``), newest arrival first (``seq``
        descending), before ``before_seq`` when given; at most ``limit``."""
        wanted = _O.stix_type.in_(list(stix_types)) if stix_types else false()
        if also_kind is not None:
            wanted = or_(wanted, _O.kind == also_kind)
        stmt = select(_O).where(visible_clause(r), _O.deleted_at.is_(None), wanted)
        if before_seq is not None:
            stmt = stmt.where(_O.seq < before_seq)
        return [_stored(row) for row in self.session.scalars(stmt.order_by(_O.seq.desc()).limit(limit))]

    def own_where(self, owner_org: str, kind: str, path: tuple[str, ...], value: str,
                  limit: int = 50) -> list[StoredObject]:
        """The organisation's own live versions of items of ``kind`` made on this node whose
        object holds ``value`` at the JSON ``path`` (e.g. an alert's trip), newest arrival first."""
        stmt = (select(_O).where(_O.owner_org == owner_org, _O.kind == kind, _O.source == "local",
                                 _O.deleted_at.is_(None), _O.object[path].as_string() == value)
                .order_by(_O.seq.desc()).limit(limit))
        return [_stored(row) for row in self.session.scalars(stmt)]

    def newest(self, stix_ids: Iterable[str]) -> dict[str, StoredObject]:
        """The newest live version (latest ``modified`` time, then ``seq``) of each of ``stix_ids``
        that has one, whoever may see it: STIX id → version. Deleted objects are left out."""
        ids = sorted(set(stix_ids))
        out: dict[str, StoredObject] = {}
        for i in range(0, len(ids), 1000):
            stmt = select(_O).where(among(self.session, _O.stix_id, ids[i:i + 1000]), _O.deleted_at.is_(None)).order_by(
                _O.stix_id, _O.modified_at.asc().nulls_first(), _O.seq)
            out.update((row.stix_id, _stored(row)) for row in self.session.scalars(stmt))
        return out

    def with_expired_version(self, stix_ids: Iterable[str], now: datetime) -> list[str]:
        """Those of ``stix_ids`` with a live version past its ``valid_until`` at ``now`` (UTC),
        sorted; read without the objects themselves."""
        ids = sorted(set(stix_ids))
        out: set[str] = set()
        for i in range(0, len(ids), 1000):
            out.update(self.session.scalars(select(_O.stix_id).where(
                among(self.session, _O.stix_id, ids[i:i + 1000]), _O.deleted_at.is_(None), _O.valid_until < now)))
        return sorted(out)

    def delete(self, stix_id: str, modified: str | None, now: datetime) -> int:
        """Mark an object (one version, or all) deleted at ``now`` (UTC), its content replaced by
        :func:`tombstone` (what the version said is gone; the row stays, so that its tombstone
        reaches whoever could read it, and a re-sent copy adds nothing). Returns how many
        versions. An exchange review found a withdrawn alert's consignee and reasons still in
        every node's database, and so in every backup."""
        stmt = select(_O.seq, _O.stix_type, _O.spec_version, _O.modified).where(
            _O.stix_id == stix_id, _O.deleted_at.is_(None))
        if modified is not None:
            stmt = stmt.where(_O.modified == modified)
        rows = self.session.execute(stmt).all()
        for seq, stix_type, spec_version, version in rows:
            self.session.execute(update(_O).where(_O.seq == seq).values(
                deleted_at=now, object=tombstone(stix_type, stix_id, spec_version, version)))
        return len(rows)

    def add_withdrawal(self, stix_id: str, organisation_id: str, actor: str, reason: str, now: datetime) -> None:
        """Record who withdrew the item ``stix_id`` (its main object), for which organisation,
        when (UTC) and why; kept for the organisation's own pages, never served to partners."""
        self.session.merge(SharedWithdrawalRow(stix_id=stix_id, organisation_id=organisation_id, actor=actor[:200],
                                               reason=reason, withdrawn_at=now))

    def withdrawal(self, stix_id: str) -> dict[str, Any] | None:
        """``{"organisation_id", "actor", "reason", "withdrawn_at"}`` of the item's withdrawal,
        or None (not withdrawn, or withdrawn before migration 0024)."""
        row = self.session.get(SharedWithdrawalRow, stix_id)
        if row is None:
            return None
        return {"organisation_id": row.organisation_id, "actor": row.actor, "reason": row.reason,
                "withdrawn_at": aware(row.withdrawn_at)}

    def local_alerts_naming(self, stix_id: str, groups: Sequence[str] | None = None) -> list[str]:
        """Ids of the live alerts this node raised in agencies' private groups (``local:<org>``;
        given ``groups``, in those only, read on the group index) whose objects mention
        ``stix_id`` (the watchlist entry whose match raised them, or a container number)."""
        stmt = (select(_O.stix_id).distinct()
                .where(_O.stix_type == "grouping", _O.source == "local", _O.deleted_at.is_(None),
                       _O.group_id.startswith("local:", autoescape=True) if groups is None
                       else _O.group_id.in_(groups),
                       cast(_O.object, Text).contains(stix_id, autoescape=True))
                .order_by(_O.stix_id))
        return list(self.session.scalars(stmt))

    def unknown_groups(self, source: str) -> dict[str, int]:
        """Sharing groups that live versions from ``source`` (e.g. ``peer:us``) name but this
        node does not define (a group is defined per node), with how many versions each: no one
        here but their owner reads them until the group is created."""
        stmt = (select(_O.group_id, func.count()).where(_O.source == source, _O.deleted_at.is_(None),
                                                        _O.group_id.is_not(None),
                                                        _O.group_id.not_in(select(SharingGroupRow.id)),
                                                        ~_O.group_id.startswith("local:", autoescape=True))
                .group_by(_O.group_id).order_by(_O.group_id))
        return {g: int(n) for g, n in self.session.execute(stmt)}

    def owners_naming_group(self, group_id: str) -> dict[str, int]:
        """Organisations whose live object versions name sharing group ``group_id``, with how
        many versions each (a partner can share into a group another node defines before, or
        without, this node defining it)."""
        stmt = (select(_O.owner_org, func.count()).where(_O.group_id == group_id, _O.deleted_at.is_(None))
                .group_by(_O.owner_org).order_by(_O.owner_org))
        return {org: int(n) for org, n in self.session.execute(stmt)}

    def count(self, r: Requester | None = None) -> int:
        """How many live object versions the requester may see."""
        return int(self.session.scalar(select(func.count()).select_from(_O).where(
            visible_clause(r), _O.deleted_at.is_(None))) or 0)

    def get_seqs(self, seqs: Sequence[int]) -> list[StoredObject]:
        """Stored versions by ``seq``, in ``seq`` order (unknown seqs left out)."""
        out: list[StoredObject] = []
        for i in range(0, len(seqs), 1000):
            rows = self.session.execute(select(_O).where(_O.seq.in_(list(seqs[i:i + 1000])))).scalars()
            out += [_stored(r) for r in rows]
        return sorted(out, key=lambda o: o.seq)

    def get_seq(self, seq: int) -> StoredObject:
        """One stored version by ``seq``. Raises NotFoundError."""
        row = self.session.get(SharedObjectRow, seq)
        if row is None:
            raise NotFoundError(f"object version {seq}", "no such object version")
        return _stored(row)
