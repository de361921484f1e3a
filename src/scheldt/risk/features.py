"""Feature encoding for declaration risk, with a stated contract.

:data:`FEATURE_NAMES` is the contract between this code and a saved model: a model artefact
stores the names it was trained on and refuses to load when they differ (``risk.model``).

Two kinds of features:

* **Declared facts**, known when the declaration is filed: codes (office, import type, tax type,
  ...) encoded through a vocabulary learned at training time, HS codes as numbers (so HS
  chapters and headings stay neighbours), mass in kg, value, tax rate, value per kg.
* **Past outcomes**: for each :class:`HistoryKey` (the same goods and value, the same product
  line, the same HS6 from the same origin, the same importer, ...) how many earlier inspections
  there were and what share found fraud and critical fraud. They are computed only from
  outcomes *received before* the moment of scoring (``as_of``), never from the row's own or any
  later outcome; NaN when there is no earlier inspection.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

#: Bump when the meaning of a feature changes without its name changing.
FEATURE_CONTRACT_VERSION = "1"

#: Coded fields: declared text codes mapped through a training-time vocabulary.
CODED_FIELDS = (
    "office_code",
    "process_type",
    "import_type",
    "import_use",
    "payment_type",
    "transport_mode",
    "departure_country",
    "origin_country",
    "tax_type",
    "origin_indicator",
)
NUMERIC_FEATURES = ("hs6", "hs4", "hs2", "tax_rate_pct", "net_mass_kg", "value", "unit_value")


@dataclass(frozen=True, slots=True)
class HistoryKey:
    """A grouping of declarations whose past outcomes say something about a new one."""

    name: str
    columns: tuple[str, ...]


HISTORY_KEYS = (
    HistoryKey("template", ("hs6", "value")),  # same goods at the same declared value
    HistoryKey("goods", ("hs6", "unit_value_key")),  # same product line (HS6 + unit value)
    HistoryKey("goods_origin", ("hs6", "unit_value_key", "origin_country")),
    HistoryKey("hs6", ("hs6",)),
    HistoryKey("hs6_origin", ("hs6", "origin_country")),
    HistoryKey("hs6_tax_type", ("hs6", "tax_type")),
    HistoryKey("importer", ("importer_id",)),
    HistoryKey("declarant", ("declarant_id",)),
    HistoryKey("seller", ("seller_id",)),
)
HISTORY_STATS = ("n", "fraud_rate", "critical_rate")

FEATURE_NAMES: tuple[str, ...] = (
    *CODED_FIELDS,
    *NUMERIC_FEATURES,
    *(f"{k.name}_{s}" for k in HISTORY_KEYS for s in HISTORY_STATS),
)


def feature_contract() -> str:
    """Hash of the feature names and contract version; recorded in every artefact."""
    text = FEATURE_CONTRACT_VERSION + "\n" + "\n".join(FEATURE_NAMES)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _keyed(declarations: pl.DataFrame) -> pl.DataFrame:
    """Add the derived columns that history keys and numeric features use."""
    return declarations.with_columns(
        pl.col("hs_code").str.slice(0, 6).alias("hs6"),
        pl.when(pl.col("net_mass_kg") > 0)
        .then(pl.col("value") / pl.col("net_mass_kg"))
        .otherwise(None)
        .alias("unit_value"),
    ).with_columns(pl.col("unit_value").round(3).alias("unit_value_key"))


def learn_vocabulary(declarations: pl.DataFrame) -> dict[str, list[str]]:
    """Sorted distinct values of each coded field; stored in the model artefact."""
    return {f: sorted(declarations[f].unique().drop_nulls().to_list()) for f in CODED_FIELDS}


def _history_events(outcomes_with_keys: pl.DataFrame, key: HistoryKey) -> pl.DataFrame:
    """Per key and receipt time: cumulative inspections, frauds and critical frauds."""
    cols = list(key.columns)
    return (
        outcomes_with_keys.group_by([*cols, "received_at"])
        .agg(
            pl.len().alias("n"),
            pl.col("fraud").cast(pl.Int64).sum().alias("f"),
            pl.col("critical").cast(pl.Int64).sum().alias("c"),
        )
        .sort("received_at")
        .with_columns(
            pl.col("n").cum_sum().over(cols).alias("cum_n"),
            pl.col("f").cum_sum().over(cols).alias("cum_f"),
            pl.col("c").cum_sum().over(cols).alias("cum_c"),
        )
        .select([*cols, "received_at", "cum_n", "cum_f", "cum_c"])
    )


def _stats(name: str) -> list[pl.Expr]:
    n = pl.col("cum_n").fill_null(0)
    return [
        n.cast(pl.Float64).alias(f"{name}_n"),
        pl.when(n > 0).then(pl.col("cum_f") / n).otherwise(None).alias(f"{name}_fraud_rate"),
        pl.when(n > 0).then(pl.col("cum_c") / n).otherwise(None).alias(f"{name}_critical_rate"),
    ]


class HistoryIndex:
    """Past-outcome counts per history key, for fast scoring at one point in time.

    Built once from the outcomes received before ``as_of`` (UTC); :meth:`features` then joins
    any number of declarations against it. Use :func:`history_features_asof` instead when every
    row has its own moment (training rows scored as of their filing time).
    """

    def __init__(self, history: pl.DataFrame, outcomes: pl.DataFrame, as_of: datetime) -> None:
        known = outcomes.filter(pl.col("received_at") < as_of)
        joined = _keyed(history).join(known, on="declaration_ref", how="inner")
        self.as_of = as_of
        self.outcome_count = joined.height
        self.tables = {
            key.name: joined.group_by(list(key.columns)).agg(
                pl.len().alias("cum_n"),
                pl.col("fraud").cast(pl.Int64).sum().alias("cum_f"),
                pl.col("critical").cast(pl.Int64).sum().alias("cum_c"),
            )
            for key in HISTORY_KEYS
        }

    def features(self, keyed: pl.DataFrame) -> pl.DataFrame:
        """History feature columns for ``keyed`` rows (output of ``_keyed``), in row order."""
        out = []
        for key in HISTORY_KEYS:
            table = self.tables[key.name]
            j = keyed.select(list(key.columns)).join(
                table, on=list(key.columns), how="left", maintain_order="left"
            )
            out.append(j.select(_stats(key.name)))
        return pl.concat(out, how="horizontal")


def history_features_asof(
    keyed: pl.DataFrame, history: pl.DataFrame, outcomes: pl.DataFrame, as_of_column: str
) -> pl.DataFrame:
    """History features where each row has its own moment ``keyed[as_of_column]`` (UTC).

    Only outcomes with ``received_at`` strictly before that moment count. Row order is kept.
    """
    events_base = _keyed(history).join(outcomes, on="declaration_ref", how="inner")
    rows = keyed.with_row_index("_row")
    out = []
    for key in HISTORY_KEYS:
        cols = list(key.columns)
        events = _history_events(events_base, key)
        j = (
            rows.select(["_row", *cols, as_of_column])
            .sort(as_of_column)
            .join_asof(
                events,
                left_on=as_of_column,
                right_on="received_at",
                by=cols,
                strategy="backward",
                allow_exact_matches=False,
                check_sortedness=False,
            )
            .sort("_row")
        )
        out.append(j.select(_stats(key.name)))
    return pl.concat(out, how="horizontal")


def encode(
    declarations: pl.DataFrame,
    vocabulary: dict[str, list[str]],
    *,
    history: pl.DataFrame,
    outcomes: pl.DataFrame,
    as_of: datetime | None = None,
    index: HistoryIndex | None = None,
) -> pl.DataFrame:
    """Encode ``declarations`` into the :data:`FEATURE_NAMES` columns (Float64), in row order.

    ``history`` and ``outcomes`` are the declarations and outcomes the past-outcome features
    come from. ``as_of`` (UTC) is the moment of scoring for every row; when None each row is
    scored as of its own ``filed_at`` (training and replay). ``index`` reuses a prebuilt
    :class:`HistoryIndex` (its ``as_of`` wins). Unknown codes become NaN.
    """
    keyed = _keyed(declarations)
    coded = [
        pl.col(f)
        .replace_strict(
            {v: i for i, v in enumerate(vocabulary[f])}, default=None, return_dtype=pl.Float64
        )
        .alias(f)
        for f in CODED_FIELDS
    ]
    hs = pl.col("hs6").cast(pl.Float64, strict=False)
    numeric = [
        hs.alias("hs6"),
        (hs // 100).alias("hs4"),
        (hs // 10_000).alias("hs2"),
        pl.col("tax_rate_pct"),
        pl.col("net_mass_kg"),
        pl.col("value"),
        pl.col("unit_value"),
    ]
    base = keyed.select(coded + numeric)
    if index is None and as_of is not None:
        index = HistoryIndex(history, outcomes, as_of)
    if index is not None:
        hist = index.features(keyed)
    else:
        hist = history_features_asof(keyed, history, outcomes, "filed_at")
    frame = pl.concat([base, hist], how="horizontal").cast(pl.Float64)
    return frame.select(FEATURE_NAMES)


def to_matrix(features: pl.DataFrame) -> np.ndarray:
    """The feature frame as a C-contiguous float64 matrix (NaN for missing)."""
    return np.ascontiguousarray(features.to_numpy(), dtype=np.float64)
