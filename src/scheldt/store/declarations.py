"""Declarations, their parties and inspection outcomes: idempotent writes, frame reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import polars as pl
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from scheldt.domain.declarations import Declaration, InspectionOutcome
from scheldt.risk.frames import DECLARATION_SCHEMA, OUTCOME_SCHEMA, conform_declarations
from scheldt.store.models import DeclarationPartyRow, DeclarationRow, InspectionOutcomeRow
from scheldt.store.rows import aware
from scheldt.store.upsert import insert_ignore

_PARTY_COLUMNS = ("declarant", "importer", "seller", "courier")



class DeclarationRepository:
    """Reads and writes declarations, parties and outcomes in one session (never commits)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def stored_hashes(self, refs: Sequence[str]) -> dict[str, str]:
        """Content hash of each of ``refs`` already stored."""
        out: dict[str, str] = {}
        for start in range(0, len(refs), 5000):
            chunk = refs[start : start + 5000]
            stmt = select(DeclarationRow.declaration_ref, DeclarationRow.content_hash).where(
                DeclarationRow.declaration_ref.in_(chunk)
            )
            out.update(dict(self.session.execute(stmt).all()))
        return out

    def add_declarations(
        self, items: Sequence[tuple[Declaration, str, str]], supplied_by: str, received_at: datetime
    ) -> int:
        """Insert declarations given as ``(declaration, content_hash, source)``; skip known refs.

        Returns how many were new.
        """
        rows, party_rows = [], []
        for d, digest, source in items:
            rows.append(
                {
                    "declaration_ref": d.declaration_ref,
                    "filed_at": d.filed_at,
                    "hs_code": d.hs_code,
                    "origin_country": d.origin_country,
                    "departure_country": d.departure_country,
                    "net_mass_kg": d.net_mass_kg,
                    "value": d.value,
                    "currency": d.currency,
                    "office_code": d.office_code,
                    "process_type": d.process_type,
                    "import_type": d.import_type,
                    "import_use": d.import_use,
                    "payment_type": d.payment_type,
                    "transport_mode": d.transport_mode,
                    "tax_rate_pct": d.tax_rate_pct,
                    "tax_type": d.tax_type,
                    "origin_indicator": d.origin_indicator,
                    "bill_of_lading_ref": d.bill_of_lading_ref,
                    "container_numbers": " ".join(d.container_numbers),
                    "flags": [asdict(f) for f in d.flags],
                    "content_hash": digest,
                    "source": source,
                    "supplied_by": supplied_by,
                    "received_at": received_at,
                }
            )
            party_rows += [
                {"declaration_ref": d.declaration_ref, "role": p.role.value, "party_id": p.party_id, "name": p.name}
                for p in d.parties
            ]
        added = insert_ignore(self.session, DeclarationRow.__table__, rows)
        insert_ignore(self.session, DeclarationPartyRow.__table__, party_rows)
        return added

    def known_refs(self, refs: Sequence[str]) -> set[str]:
        """Which of ``refs`` are stored declarations."""
        return set(self.stored_hashes(refs))

    def filing_times(self, refs: Sequence[str]) -> dict[str, datetime]:
        """When each stored declaration among ``refs`` was filed (UTC)."""
        out: dict[str, datetime] = {}
        for start in range(0, len(refs), 5000):
            stmt = select(DeclarationRow.declaration_ref, DeclarationRow.filed_at).where(
                DeclarationRow.declaration_ref.in_(refs[start:start + 5000]))
            out.update({r: aware(at) for r, at in self.session.execute(stmt)})
        return out

    def stored_outcomes(self, refs: Sequence[str]) -> dict[str, tuple[bool, bool]]:
        """(fraud, critical) of the stored outcomes among ``refs``."""
        out: dict[str, tuple[bool, bool]] = {}
        for start in range(0, len(refs), 5000):
            chunk = refs[start : start + 5000]
            stmt = select(
                InspectionOutcomeRow.declaration_ref, InspectionOutcomeRow.fraud, InspectionOutcomeRow.critical
            ).where(InspectionOutcomeRow.declaration_ref.in_(chunk))
            out.update({r: (f, c) for r, f, c in self.session.execute(stmt)})
        return out

    def add_outcomes(
        self, items: Sequence[tuple[InspectionOutcome, str]], supplied_by: str, loaded_at: datetime
    ) -> int:
        """Insert outcomes given as ``(outcome, source)``; one outcome per declaration, first kept."""
        rows = [
            {
                "declaration_ref": o.declaration_ref,
                "fraud": o.fraud,
                "critical": o.critical,
                "received_at": o.received_at,
                "source": source,
                "supplied_by": supplied_by,
                "loaded_at": loaded_at,
            }
            for o, source in items
        ]
        return insert_ignore(self.session, InspectionOutcomeRow.__table__, rows)

    def declarations_frame(
        self,
        *,
        with_outcome: bool | None = None,
        filed_on: datetime | None = None,
        refs: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Declarations as a :data:`risk.frames.DECLARATION_SCHEMA` frame, ordered by filing time.

        ``with_outcome``: True only inspected, False only not yet inspected, None all.
        ``filed_on``: only declarations filed on that UTC day.
        """
        parties = {role: aliased(DeclarationPartyRow, name=f"p_{role}") for role in _PARTY_COLUMNS}
        cols = [getattr(DeclarationRow, c) for c in DECLARATION_SCHEMA if hasattr(DeclarationRow, c)]
        cols += [parties[r].party_id.label(f"{r}_id") for r in _PARTY_COLUMNS]
        stmt = select(*cols)
        for role, alias in parties.items():
            stmt = stmt.outerjoin(
                alias,
                and_(alias.declaration_ref == DeclarationRow.declaration_ref, alias.role == role),
            )
        if with_outcome is not None:
            has = select(InspectionOutcomeRow.declaration_ref).where(
                InspectionOutcomeRow.declaration_ref == DeclarationRow.declaration_ref
            ).exists()
            stmt = stmt.where(has if with_outcome else ~has)
        if filed_on is not None:
            day = filed_on.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
            stmt = stmt.where(DeclarationRow.filed_at >= day, DeclarationRow.filed_at < day + timedelta(days=1))
        if refs is not None:
            stmt = stmt.where(DeclarationRow.declaration_ref.in_(list(refs)))
        stmt = stmt.order_by(DeclarationRow.filed_at, DeclarationRow.declaration_ref)
        result = self.session.execute(stmt)
        names = list(result.keys())
        at = names.index("filed_at")
        data = [(*r[:at], aware(r[at]), *r[at + 1 :]) for r in result]
        frame = pl.DataFrame(data, schema={n: DECLARATION_SCHEMA[n] for n in names}, orient="row")
        return conform_declarations(frame)

    def outcomes_frame(self, received_before: datetime | None = None, loaded_by: datetime | None = None) -> pl.DataFrame:
        """Stored outcomes as a :data:`risk.frames.OUTCOME_SCHEMA` frame: those received before
        ``received_before`` and loaded into the store by ``loaded_by`` (UTC; a naive time, as SQLite
        hands back, is read as UTC), when given."""
        stmt = select(
            InspectionOutcomeRow.declaration_ref,
            InspectionOutcomeRow.fraud,
            InspectionOutcomeRow.critical,
            InspectionOutcomeRow.received_at,
        )
        if received_before is not None:
            stmt = stmt.where(InspectionOutcomeRow.received_at < received_before)
        if loaded_by is not None:
            stmt = stmt.where(InspectionOutcomeRow.loaded_at <= aware(loaded_by))
        rows = [(r, f, c, aware(t)) for r, f, c, t in self.session.execute(stmt)]
        return pl.DataFrame(rows, schema=OUTCOME_SCHEMA, orient="row")

    def linked_to(self, container_number: str, refs: Sequence[str],
                  supplied_by: str | None = None) -> list[dict[str, object]]:
        """Declarations naming this container or one of these bill-of-lading references; only
        those ``supplied_by`` supplied when given (an agency's own: a review read another
        agency's declarations on its trip's page)."""
        conditions = [DeclarationRow.container_numbers.contains(container_number)] if container_number else []
        if refs:
            conditions.append(DeclarationRow.bill_of_lading_ref.in_(list(refs)))
        if not conditions:
            return []
        stmt = select(DeclarationRow).where(or_(*conditions)).order_by(DeclarationRow.filed_at)
        if supplied_by is not None:
            stmt = stmt.where(DeclarationRow.supplied_by == supplied_by)
        rows = self.session.scalars(stmt)
        return [{"declaration_ref": r.declaration_ref, "filed_at": aware(r.filed_at), "hs_code": r.hs_code,
                 "bill_of_lading_ref": r.bill_of_lading_ref, "origin_country": r.origin_country} for r in rows
                if not container_number or container_number in r.container_numbers.split() or r.bill_of_lading_ref in refs]

    def counts(self) -> dict[str, int]:
        """Number of stored declarations and outcomes."""
        return {
            "declarations": self.session.scalar(select(func.count()).select_from(DeclarationRow)) or 0,
            "outcomes": self.session.scalar(select(func.count()).select_from(InspectionOutcomeRow)) or 0,
        }

