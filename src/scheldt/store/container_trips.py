"""The container-trip read model: one row per trip with its owners' codes, route, latest score
and inspection state, kept up to date by scoring and by the inspection workflow.

Lists page by keyset on (score descending, id descending): a cursor is the last row's
(score, id), so a page never repeats or skips a row whose score did not change meanwhile, and
each owner's page is one index range scan (``ix_container_trip_carrier`` and its siblings).
Trips their container's events no longer make (``regrouped_at`` set, see
:meth:`ContainerTripRepository.mark_regrouped`) are left out of lists and counts; by id they
are still found.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, false, func, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from scheldt.domain.access import TripScope
from scheldt.domain.trips import TripFilter, TripKey
from scheldt.errors import NotFoundError
from scheldt.store.models import ContainerTripRow, TripAssessmentRow
from scheldt.store.rows import aware, built_once

__all__ = ["ContainerTripRepository", "TripFilter", "scope_clause"]  # TripFilter lives in the domain now

_T = ContainerTripRow.__table__
_SCORE_FIELDS = ("carrier_code", "terminal_code", "supplied_by", "port_of_loading", "port_of_discharge",
                 "vessel_imo", "arrival_at", "left_at", "assessment_id", "score", "risk_band", "top_reason",
                 "scored_at")


def _plain(row: Any) -> dict[str, Any]:
    out = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    for k in ("arrival_at", "scored_at", "left_at", "regrouped_at"):
        out[k] = aware(out[k])
    return out


def scope_clause(scope: TripScope | None) -> Any:
    """SQL condition: the trip belongs to ``scope`` (None: the node itself, everything)."""
    if scope is None:  # the node itself (CLI, jobs): everything
        return true()
    if not scope.values:
        return false()
    return _T.c[scope.column].in_(list(scope.values))


#: Filter fields of :class:`TripFilter` in a fixed order, with the comparison each makes.
_FILTERS = (("arrived_from", "arrival_at", ">="), ("arrived_to", "arrival_at", "<"),
            ("port_of_loading", "port_of_loading", "=="), ("risk_band", "risk_band", "=="),
            ("status", "status", "=="), ("container_number", "container_number", "=="),
            ("on_hold", "on_hold", "=="), ("document_ref", "document_ref", "=="))

def _scope_shape(scope: TripScope | None) -> tuple[str, int] | None:
    return None if scope is None else (scope.column, len(scope.values))


def _statement(order: str, scope: tuple[str, int] | None, filters: tuple[str, ...], after: bool) -> Any:
    """The list statement of one shape, with bind parameters for every value, built once
    (:func:`scheldt.store.rows.built_once`). ``order``: ``score`` (score, id descending), ``id`` (id
    descending) or ``get`` (one id); ``scope``: the owning column and how many codes;
    ``filters``: the :data:`_FILTERS` fields set; ``after``: with a keyset cursor."""
    return built_once(("container_trip", order, scope, filters, after),
                      lambda: _build_statement(order, scope, filters, after))


def _build_statement(order: str, scope: tuple[str, int] | None, filters: tuple[str, ...], after: bool) -> Any:
    conditions = [] if order == "get" else [_LISTED]
    if scope is not None:
        column, n = scope
        conditions.append(_T.c[column].in_([bindparam(f"scope_{k}") for k in range(n)]) if n else false())
    conditions += [_compare(column, op, bindparam(name)) for name, column, op in _FILTERS if name in filters]
    conditions += [_null_test(flag) for flag in filters if ":" in flag]
    stmt = select(_T).where(*conditions)
    if order == "get":
        stmt = stmt.where(_T.c.id == bindparam("trip_id"))
    elif order == "score":
        if after:
            stmt = stmt.where(or_(_T.c.score < bindparam("after_score"),
                                  and_(_T.c.score == bindparam("after_score"), _T.c.id < bindparam("after_id"))))
        stmt = stmt.order_by(_T.c.score.desc(), _T.c.id.desc()).limit(bindparam("limit"))
    else:
        if after:
            stmt = stmt.where(_T.c.id < bindparam("after_id"))
        stmt = stmt.order_by(_T.c.id.desc()).limit(bindparam("limit"))
    return stmt


#: Trip statuses of a scan order under way (planned, scanned): such a trip is not marked regrouped.
_UNDER_WAY = ("planned", "scanned")

#: Lists and counts show the trips their container's events make, not regrouped ones.
_LISTED = _T.c.regrouped_at.is_(None)


def _compare(column: str, op: str, value: Any) -> Any:
    """``column`` ``op`` ``value`` (op one of ``>=``, ``<``, ``==``) as SQL."""
    c = _T.c[column]
    return c >= value if op == ">=" else c < value if op == "<" else c == value


#: Yes/no filters of :class:`TripFilter` tested as a time column being set or not.
_SET_TIMES = (("left", "left_at"), ("arrived", "arrival_at"))


def _null_test(flag: str) -> Any:
    """``name:yes`` / ``name:no`` of :data:`_SET_TIMES` as SQL: its column is set, or not."""
    name, answer = flag.split(":")
    column = _T.c[dict(_SET_TIMES)[name]]
    return column.is_not(None) if answer == "yes" else column.is_(None)


def _params(scope: TripScope | None, where: TripFilter) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The set filter fields of ``where`` and the bind values of ``scope`` and ``where``."""
    values: dict[str, Any] = {} if scope is None else {f"scope_{k}": v for k, v in enumerate(scope.values)}
    filters = []
    for name, _column, _op in _FILTERS:
        value = getattr(where, name)
        if value is not None:
            filters.append(name)
            values[name] = value
    for name, _column in _SET_TIMES:  # part of the statement's shape: IS NULL takes no bind value
        if getattr(where, name) is not None:
            filters.append(f"{name}:{'yes' if getattr(where, name) else 'no'}")
    return tuple(filters), values


class ContainerTripRepository:
    """Container trips as lists and access checks see them (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update trips by (container_number, document_ref, voyage) with the score
        fields of :data:`_SCORE_FIELDS`; inspection status and holds are left as they are."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for start in range(0, len(rows), 1000):
            stmt = insert(_T).values(list(rows[start:start + 1000]))
            stmt = stmt.on_conflict_do_update(
                index_elements=["container_number", "document_ref", "voyage"],
                set_={k: stmt.excluded[k] for k in _SCORE_FIELDS})
            self.session.execute(stmt)

    def mark_regrouped(self, numbers: Sequence[str], live: set[tuple[str, str, str]], now: datetime) -> list[int]:
        """Mark ``regrouped_at`` = ``now`` (UTC) on the trips of containers ``numbers`` scored
        at or before ``now`` whose key (container, document reference, voyage) is not among
        ``live`` (the keys their events make as of ``now``), and clear the mark of those among
        ``live``. Such a leftover (a gate-out without reference placed on its trip once the
        discharge arrived; a retracted event that decided a key) stayed open "in port" in the
        queue. A trip on hold or with a scan order under way (status planned or scanned) is
        not marked while it is: the hold or order is work an officer must still see listed.
        Rows are kept, not deleted: on SQLite a deleted trip's id went to the next new
        trip of another box (the table has no AUTOINCREMENT), and bookmarks, audit entries and
        carrier notices name trips by id. Returns the ids newly marked."""
        unique = sorted(set(numbers))
        stale: list[int] = []
        revived: list[int] = []
        for start in range(0, len(unique), 500):
            rows = self.session.execute(
                select(_T.c.id, _T.c.container_number, _T.c.document_ref, _T.c.voyage, _T.c.regrouped_at,
                       _T.c.on_hold, _T.c.status)
                .where(_T.c.container_number.in_(unique[start:start + 500]), _T.c.scored_at <= now))
            for trip_id, number, ref, voyage, marked, on_hold, status in rows:
                if (number, ref, voyage) not in live and marked is None:
                    if not on_hold and status not in _UNDER_WAY:
                        stale.append(trip_id)
                elif (number, ref, voyage) in live and marked is not None:
                    revived.append(trip_id)
        for ids, value in ((stale, now), (revived, None)):
            for start in range(0, len(ids), 500):
                self.session.execute(update(_T).where(_T.c.id.in_(ids[start:start + 500])).values(regrouped_at=value))
        return stale

    def scored_alike_under(self, profile: str, model_version: str) -> list[dict[str, Any]]:
        """For each trip whose shown assessment is not under ``profile`` and ``model_version``
        but one stored under them has the same facts (key and facts hash): ``{"trip_id",
        "assessment_id", "score", "reasons", "scored_at"}`` of that one (UTC)."""
        shown, alike = TripAssessmentRow.__table__.alias("shown"), TripAssessmentRow.__table__.alias("alike")
        stmt = (select(_T.c.id, alike.c.id, alike.c.score, alike.c.reasons, alike.c.scored_at)
                .select_from(_T.join(shown, shown.c.id == _T.c.assessment_id).join(alike, and_(
                    alike.c.container_number == shown.c.container_number, alike.c.document_ref == shown.c.document_ref,
                    alike.c.voyage == shown.c.voyage, alike.c.facts_hash == shown.c.facts_hash,
                    alike.c.profile == profile, alike.c.model_version == model_version)))
                .where(alike.c.id != _T.c.assessment_id))
        return [{"trip_id": t, "assessment_id": a, "score": score, "reasons": reasons, "scored_at": aware(at)}
                for t, a, score, reasons, at in self.session.execute(stmt)]

    def show_assessments(self, shown: Sequence[dict[str, Any]]) -> None:
        """Point trips at other assessments of the same facts: each of ``shown`` is ``{"trip_id",
        "assessment_id", "score", "risk_band", "top_reason", "scored_at"}``; the summary stays."""
        names = ("assessment_id", "score", "risk_band", "top_reason", "scored_at")
        if shown:
            self.session.execute(
                update(_T).where(_T.c.id == bindparam("b_trip_id")).values({n: bindparam(f"b_{n}") for n in names}),
                [{"b_trip_id": s["trip_id"], **{f"b_{n}": s[n] for n in names}} for s in shown])

    def of_container(self, number: str, scope: TripScope | None = None) -> list[dict[str, Any]]:
        """The trips of container ``number`` that ``scope`` owns and its events make (not
        regrouped), newest first: ``[{"id", "document_ref", "voyage", "arrival_at"}]``."""
        rows = self.session.execute(
            select(_T.c.id, _T.c.document_ref, _T.c.voyage, _T.c.arrival_at)
            .where(_T.c.container_number == number, scope_clause(scope), _LISTED).order_by(_T.c.id.desc()).limit(50))
        return [dict(r._mapping) | {"arrival_at": aware(r.arrival_at)} for r in rows]

    def get(self, trip_id: int, scope: TripScope | None = None) -> dict[str, Any]:
        """One trip by id, if ``scope`` owns it. Raises NotFoundError otherwise (a trip the
        requester may not see does not exist for them)."""
        values = {} if scope is None else {f"scope_{k}": v for k, v in enumerate(scope.values)}
        stmt = _statement("get", _scope_shape(scope), (), False)
        row = self.session.execute(stmt, values | {"trip_id": trip_id}).first()
        if row is None:
            raise NotFoundError(f"trip {trip_id}", "no such container trip")
        return _plain(row)

    def assessment_ids(self, numbers: Sequence[str]) -> dict[tuple[str, str, str], int | None]:
        """The assessment each trip of the containers ``numbers`` shows now, by (container
        number, document reference, voyage)."""
        out: dict[tuple[str, str, str], int | None] = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), 500):
            out.update({(c, d, v): i for c, d, v, i in self.session.execute(
                select(_T.c.container_number, _T.c.document_ref, _T.c.voyage, _T.c.assessment_id)
                .where(_T.c.container_number.in_(unique[start:start + 500])))})
        return out

    def shown_assessment_ids(self) -> list[int]:
        """The assessment every trip of the read model shows (trips without one left out)."""
        return list(self.session.scalars(select(_T.c.assessment_id).where(_T.c.assessment_id.is_not(None))
                                         .order_by(_T.c.id)))

    def held(self, numbers: Sequence[str]) -> list[dict[str, Any]]:
        """The trips on hold of containers ``numbers`` (usually none: holds are few)."""
        unique, out = sorted(set(numbers)), []
        for start in range(0, len(unique), 500):
            out += [_plain(r) for r in self.session.execute(select(_T).where(
                _T.c.on_hold.is_(True), _T.c.container_number.in_(unique[start:start + 500])))]
        return out

    def by_key(self, key: TripKey) -> dict[str, Any] | None:
        """The trip with ``key``, or None."""
        row = self.session.execute(select(_T).where(
            _T.c.container_number == key.container_number, _T.c.document_ref == key.document_ref,
            _T.c.voyage == key.voyage)).first()
        return None if row is None else _plain(row)

    def page(self, scope: TripScope | None, where: TripFilter, after: tuple[float, int] | None,
             limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` trips ``scope`` owns matching ``where``, highest score first, after
        the cursor ``after`` = (score, id) of the previous page's last row."""
        filters, values = _params(scope, where)
        if after is not None:
            values["after_score"], values["after_id"] = after
        stmt = _statement("score", _scope_shape(scope), filters, after is not None)
        return [_plain(r) for r in self.session.execute(stmt, values | {"limit": limit})]

    def page_by_id(self, scope: TripScope | None, where: TripFilter, after_id: int | None,
                   limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` trips ``scope`` owns matching ``where``, newest first (by id), after
        the cursor ``after_id``: the order shipping lines and terminals get."""
        filters, values = _params(scope, where)
        if after_id is not None:
            values["after_id"] = after_id
        stmt = _statement("id", _scope_shape(scope), filters, after_id is not None)
        return [_plain(r) for r in self.session.execute(stmt, values | {"limit": limit})]

    def sample(self, scope: TripScope | None, where: TripFilter, n: int, rng: Any) -> list[dict[str, Any]]:
        """About ``n`` distinct trips drawn at random among those ``scope`` owns matching
        ``where`` (exploration picks): random points in the id range, each taking the first
        matching trip at or after it, so no full scan is needed. ``rng``: a ``random.Random``."""
        low, high = self.session.execute(select(func.min(_T.c.id), func.max(_T.c.id)).where(scope_clause(scope))).one()
        if low is None:
            return []
        found: dict[int, dict[str, Any]] = {}
        for _ in range(n * 4):
            if len(found) >= n:
                break
            start = rng.randint(low, high)
            row = self.session.execute(select(_T).where(scope_clause(scope), _LISTED, *self._conditions(where),
                                                        _T.c.id >= start).order_by(_T.c.id).limit(1)).first()
            if row is not None:
                found.setdefault(row.id, _plain(row))
        return list(found.values())

    @staticmethod
    def _conditions(where: TripFilter) -> list[Any]:
        return [_compare(column, op, getattr(where, name)) for name, column, op in _FILTERS
                if getattr(where, name) is not None] + [
                    _null_test(f"{name}:{'yes' if getattr(where, name) else 'no'}")
                    for name, _column in _SET_TIMES if getattr(where, name) is not None]

    def count(self, scope: TripScope | None, where: TripFilter) -> int:
        """How many trips ``scope`` owns match ``where``."""
        return int(self.session.scalar(select(func.count()).select_from(_T).where(
            scope_clause(scope), _LISTED, *self._conditions(where))) or 0)

    def scored_under_others(self, scope: TripScope | None, live: str) -> dict[str, int]:
        """How many listed trips ``scope`` owns show a score under a profile version other than
        ``live`` (``name@version``), per version: after a switch not followed by a re-score
        (``scheldt profile rollback --no-score``) the queue ranks scores of two weightings."""
        a = TripAssessmentRow.__table__
        stmt = (select(a.c.profile, func.count()).select_from(_T.join(a, a.c.id == _T.c.assessment_id))
                .where(scope_clause(scope), _LISTED, a.c.profile != live).group_by(a.c.profile))
        return {str(p): int(n) for p, n in self.session.execute(stmt)}

    def set_state(self, trip_id: int, *, status: str | None = None, on_hold: bool | None = None) -> None:
        """Record a trip's inspection status and/or hold flag."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if on_hold is not None:
            values["on_hold"] = on_hold
        if values:
            self.session.execute(update(_T).where(_T.c.id == trip_id).values(**values))

    def ids_for(self, keys: Sequence[TripKey]) -> dict[TripKey, int]:
        """Trip ids of ``keys`` that have a row."""
        out: dict[TripKey, int] = {}
        numbers = sorted({k.container_number for k in keys})
        wanted = set(keys)
        for start in range(0, len(numbers), 500):
            for r in self.session.execute(select(_T.c.id, _T.c.container_number, _T.c.document_ref, _T.c.voyage).where(
                    _T.c.container_number.in_(numbers[start:start + 500]))):
                key = TripKey(r.container_number, r.document_ref, r.voyage)
                if key in wanted:
                    out[key] = r.id
        return out

    def score_days(self, scope: TripScope | None) -> list[dict[str, Any]]:
        """Per day of latest scoring (UTC): trips, mean score and trips per risk band, oldest first."""
        day = func.date(_T.c.scored_at)
        stmt = (select(day, _T.c.risk_band, func.count(), func.avg(_T.c.score))
                .where(scope_clause(scope), _LISTED, _T.c.scored_at.is_not(None))
                .group_by(day, _T.c.risk_band).order_by(day))
        out: dict[str, dict[str, Any]] = {}
        for d, band, n, mean in self.session.execute(stmt):
            entry = out.setdefault(str(d), {"day": str(d), "trips": 0, "score_sum": 0.0, "high": 0, "medium": 0, "low": 0})
            entry["trips"] += n
            entry["score_sum"] += float(mean) * n
            entry[band] = n
        return [{k: v for k, v in e.items() if k != "score_sum"} | {"mean_score": round(e["score_sum"] / e["trips"], 2)}
                for e in out.values()]

    def any_scored(self, scope: TripScope | None) -> bool:
        """True when ``scope`` owns at least one scored trip (one index probe, whatever the
        number of trips)."""
        stmt = select(_T.c.id).where(scope_clause(scope), _T.c.scored_at.is_not(None)).limit(1)
        return self.session.execute(stmt).first() is not None

    def owned_pairs(self, scope: TripScope | None, refs: Sequence[str]) -> set[tuple[str, str]]:
        """(document reference, container number) of the trips ``scope`` owns under ``refs``."""
        out: set[tuple[str, str]] = set()
        for start in range(0, len(refs), 500):
            out.update((r, c) for r, c in self.session.execute(select(_T.c.document_ref, _T.c.container_number).where(
                scope_clause(scope), _T.c.document_ref.in_(list(refs[start:start + 500])))))
        return out
