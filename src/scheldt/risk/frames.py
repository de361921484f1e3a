"""Column layout of the declaration and outcome tables the risk core works on (polars).

The store and the file readers both produce these frames, so training, scoring and evaluation
run the same code whatever the data came from.

Declarations frame: one row per declaration, columns :data:`DECLARATION_SCHEMA`.
Outcomes frame: one row per inspection outcome, columns :data:`OUTCOME_SCHEMA`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from scheldt.domain.declarations import Declaration, InspectionOutcome, PartyRole

DECLARATION_SCHEMA: dict[str, pl.DataType] = {
    "declaration_ref": pl.Utf8(),
    "filed_at": pl.Datetime("us", "UTC"),
    "hs_code": pl.Utf8(),
    "origin_country": pl.Utf8(),
    "departure_country": pl.Utf8(),
    "net_mass_kg": pl.Float64(),
    "value": pl.Float64(),
    "tax_rate_pct": pl.Float64(),
    "office_code": pl.Utf8(),
    "process_type": pl.Utf8(),
    "import_type": pl.Utf8(),
    "import_use": pl.Utf8(),
    "payment_type": pl.Utf8(),
    "transport_mode": pl.Utf8(),
    "tax_type": pl.Utf8(),
    "origin_indicator": pl.Utf8(),
    "declarant_id": pl.Utf8(),
    "importer_id": pl.Utf8(),
    "seller_id": pl.Utf8(),
    "courier_id": pl.Utf8(),
}

OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "declaration_ref": pl.Utf8(),
    "fraud": pl.Boolean(),
    "critical": pl.Boolean(),
    "received_at": pl.Datetime("us", "UTC"),
}

_PARTY_COLUMNS = {
    PartyRole.DECLARANT: "declarant_id",
    PartyRole.IMPORTER: "importer_id",
    PartyRole.SELLER: "seller_id",
    PartyRole.COURIER: "courier_id",
}


def declarations_frame(declarations: Iterable[Declaration]) -> pl.DataFrame:
    """Build a declarations frame from domain records (party ids empty when absent)."""
    rows = []
    for d in declarations:
        row = {k: getattr(d, k) for k in DECLARATION_SCHEMA if hasattr(d, k)}
        for role, column in _PARTY_COLUMNS.items():
            party = d.party(role)
            row[column] = party.party_id if party else ""
        rows.append(row)
    return conform_declarations(pl.DataFrame(rows, schema=DECLARATION_SCHEMA))


def outcomes_frame(outcomes: Iterable[InspectionOutcome]) -> pl.DataFrame:
    """Build an outcomes frame from domain records."""
    rows = [
        {
            "declaration_ref": o.declaration_ref,
            "fraud": o.fraud,
            "critical": o.critical,
            "received_at": o.received_at,
        }
        for o in outcomes
    ]
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def conform_declarations(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast to :data:`DECLARATION_SCHEMA`, fill missing text with "" and order the columns.

    Raises KeyError naming a missing column.
    """
    missing = [c for c in DECLARATION_SCHEMA if c not in frame.columns]
    if missing:
        raise KeyError(f"declarations frame lacks column(s) {missing}")
    exprs = []
    for name, dtype in DECLARATION_SCHEMA.items():
        col = pl.col(name).cast(dtype)
        if dtype == pl.Utf8():
            col = col.fill_null("")
        exprs.append(col.alias(name))
    return frame.select(exprs)


def duty_at_stake(declarations: pl.DataFrame) -> np.ndarray:
    """Duty at stake per row: value × tax rate / 100 (0 where the rate is unknown)."""
    return (declarations["value"] * declarations["tax_rate_pct"].fill_null(0.0) / 100.0).to_numpy()
