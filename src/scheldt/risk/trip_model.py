"""The container-level model: P(an inspection of this trip finds drugs), learnt from recorded
inspection outcomes of container trips (pure; LightGBM through :func:`risk.model.fit_booster`).

Features (:data:`TRIP_FEATURES`, contract version 1) are the strength of every indicator of the
live profile's indicator set plus facts an officer would look at: hours from discharge to
gate-out, transshipments, the consignee's earlier trips and age, VGM gap share, reefer, HS
chapter, longest AIS silence before arrival, number of distinct seals, "to order". Missing
facts are NaN (LightGBM routes them). One score blends profile points and this probability.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from scheldt.domain.trips import TripFacts
from scheldt.errors import ModelMismatchError, NotFoundError
from scheldt.risk.indicators import INDICATORS, Context, CoverLoad, Hit, ListedPort
from scheldt.risk.model import DEFAULT_PARAMS, fit_booster, library_versions

FACT_FEATURES = ("hours_to_gate_out", "transshipments", "consignee_prior_trips", "consignee_age_days",
                 "vgm_gap_share", "reefer", "hs_chapter", "ais_max_gap_hours", "distinct_seals", "to_order")
TRIP_FEATURES = tuple(f"ind_{name}" for name in sorted(INDICATORS)) + FACT_FEATURES
CONTRACT = "trip-features-v1"
#: Trip models learn from few positives: shallower trees, more regularisation than declarations.
TRIP_PARAMS: dict[str, Any] = {**DEFAULT_PARAMS, "num_leaves": 7, "min_data_in_leaf": 20, "learning_rate": 0.03}


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


def trip_features(trip: TripFacts, contexts: dict[str, Context], known: Mapping[str, Hit] | None = None) -> list[float]:
    """One row of :data:`TRIP_FEATURES` for ``trip``; ``contexts`` maps every indicator to the
    context it runs with (the live profile's lists and parameters; defaults for the others).
    ``known``: hits already computed with those same contexts (e.g. by the profile), keyed by
    indicator; the others are run here."""
    row = []
    for name in sorted(INDICATORS):
        if known is not None and name in known:
            row.append(known[name].strength)
            continue
        hit = INDICATORS[name].check(trip, contexts[name])
        row.append(hit.strength if hit else 0.0)
    disc = [e for e in trip.events if e.event_type == "DISC" and e.classifier == "ACT"]
    gate = trip.gate_out_after(disc[-1].event_time) if disc else None
    hours = (gate.event_time - disc[-1].event_time).total_seconds() / 3600 if gate and disc else None
    doc = trip.latest_document()
    h = trip.consignee_history
    vgm = next((e.verified_gross_mass_kg for e in reversed(trip.events) if e.verified_gross_mass_kg), None)
    gap = (vgm - doc.gross_mass_kg) / doc.gross_mass_kg if vgm and doc and doc.gross_mass_kg else None
    iso = next((e.iso_equipment_code for e in trip.events if e.iso_equipment_code), "")
    fixes = sorted(f.observed_at for f in trip.vessel_track)
    ais_gap = max(((b - a).total_seconds() / 3600 for a, b in zip(fixes, fixes[1:])), default=None)
    row += [
        _nan(hours), float(max(len(disc) - 1, 0)), _nan(h.prior_trips if h else None),
        _nan((trip.as_of - h.first_seen).days if h and h.first_seen else None), _nan(gap),
        1.0 if len(iso) == 4 and iso[2] == "R" else 0.0,
        _nan(int(doc.hs_codes[0][:2]) if doc and doc.hs_codes and doc.hs_codes[0][:2].isdigit() else None),
        _nan(ais_gap), float(len({s for e in trip.events for s in e.seals})),
        _nan(None if doc is None or doc.to_order is None else float(doc.to_order)),
    ]
    return row


def default_contexts(ports: list[ListedPort], covers: list[CoverLoad]) -> dict[str, Context]:
    """Contexts of every indicator with its default parameters and the given lists."""
    return {n: Context(dict(ind.params), ports, covers) for n, ind in INDICATORS.items()}


@dataclass
class TripModel:
    """LightGBM on :data:`TRIP_FEATURES`, labels 1 = seizure on inspection. ``threads`` is
    LightGBM's ``num_threads`` (set explicitly: 2-core machines)."""

    seed: int = 0
    threads: int = 2
    booster_: lgb.Booster | None = None
    metadata_: dict[str, Any] = field(default_factory=dict)
    validation_raw_: np.ndarray | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, X_valid: np.ndarray | None = None,
            y_valid: np.ndarray | None = None) -> TripModel:
        """Fit on ``X`` (n × len(TRIP_FEATURES)) and 0/1 ``y``; early stopping on a later period
        when ``X_valid`` holds at least one positive. Returns self."""
        params = {**TRIP_PARAMS, "seed": self.seed, "num_threads": self.threads, "deterministic": True,
                  "force_row_wise": True}
        has_valid = X_valid is not None and y_valid is not None and y_valid.any()
        fitted = fit_booster(params, X, y, X_valid if has_valid else None, y_valid if has_valid else None,
                             list(TRIP_FEATURES), self.threads)
        self.booster_ = fitted.booster
        self.validation_raw_ = fitted.valid_raw
        self.metadata_ = {"trees": fitted.best_iteration, "rows": int(len(y) + (len(y_valid) if has_valid else 0)),
                          "positives": int(y.sum() + (y_valid.sum() if has_valid else 0))}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """P(seizure on inspection), shape (n,). Raises NotFoundError before :meth:`fit`."""
        if self.booster_ is None:
            raise NotFoundError("trip model", "not fitted")
        return self.booster_.predict(X, num_threads=self.threads)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """TreeSHAP contributions in log-odds, shape (n, len(TRIP_FEATURES) + 1)."""
        if self.booster_ is None:
            raise NotFoundError("trip model", "not fitted")
        return self.booster_.predict(X, pred_contrib=True, num_threads=self.threads)

    def save(self, directory: Path) -> Path:
        """Write model.txt and artefact.json (feature contract, libraries) to ``directory``."""
        if self.booster_ is None:
            raise NotFoundError("trip model", "not fitted")
        directory.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(directory / "model.txt"))
        meta = {**self.metadata_, "contract": CONTRACT, "features": list(TRIP_FEATURES), "seed": self.seed,
                "params": TRIP_PARAMS, "libraries": library_versions()}
        (directory / "artefact.json").write_text(json.dumps(meta, indent=2, default=str))
        return directory

    @classmethod
    def load(cls, directory: Path, threads: int = 2) -> TripModel:
        """Read an artefact; raises NotFoundError when missing, ModelMismatchError when its
        features differ from this code's :data:`TRIP_FEATURES`."""
        if not (directory / "model.txt").is_file() or not (directory / "artefact.json").is_file():
            raise NotFoundError(str(directory), "no trip model artefact (model.txt, artefact.json) here")
        meta = json.loads((directory / "artefact.json").read_text())
        if tuple(meta.get("features", ())) != TRIP_FEATURES:
            raise ModelMismatchError(str(directory), "trip feature contract differs from this code; retrain")
        return cls(int(meta.get("seed", 0)), threads, lgb.Booster(model_file=str(directory / "model.txt")), meta)


@dataclass(frozen=True, slots=True)
class Blend:
    """How profile points and the model's probability make one score, 0-100.

    Profile points are first put on the model's scale by a logistic calibration learnt on the
    same inspected trips, ``p_profile = sigmoid(a + b × points)``; the two are then averaged in
    log-odds, ``score = 100 × sigmoid((1 - w) × logit(p_profile) + w × logit(p_model))`` with
    ``w = model_weight``. Without a live model the score is the profile points.
    """

    model_weight: float = 0.5
    a: float = -5.0
    b: float = 0.05

    def score(self, points: float, max_points: float, probability: float | None) -> tuple[float, float]:
        """(score 0-100, the model's share of the log-odds as points of the score)."""
        if probability is None:
            return round(points, 2), 0.0
        p = min(max(probability, 1e-6), 1 - 1e-6)
        profile_logit = self.a + self.b * points
        model_logit = math.log(p / (1 - p))
        mixed = (1 - self.model_weight) * profile_logit + self.model_weight * model_logit
        score = 100 / (1 + math.exp(-mixed))
        without_model = 100 / (1 + math.exp(-profile_logit))
        return round(score, 2), round(score - without_model, 2)


BLEND_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)


def choose_model_weight(profile_logit: np.ndarray, model_raw: np.ndarray, y: np.ndarray) -> float:
    """The model weight of :data:`BLEND_GRID` with the best average precision on a validation
    period (inspected trips of a later period than training); 0.5 when it has no positive."""
    from sklearn.metrics import average_precision_score

    if not 0 < y.sum() < len(y):
        return 0.5
    gains = [average_precision_score(y, (1 - w) * profile_logit + w * model_raw) for w in BLEND_GRID]
    return BLEND_GRID[int(np.argmax(gains))]


def calibrate(points: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Logistic calibration of profile points to P(seizure) on inspected trips: (a, b)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1.0).fit(points.reshape(-1, 1), y)
    return float(fit.intercept_[0]), float(fit.coef_[0, 0])
