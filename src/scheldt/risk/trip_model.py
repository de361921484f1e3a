"""The container-level model: P(an inspection of this trip finds drugs), learnt from recorded
inspection outcomes of container trips (pure; LightGBM through :func:`risk.model.fit_booster`).

Features (:data:`TRIP_FEATURES`, contract version 3) are the strength of every indicator of the
live profile's indicator set plus facts an officer would look at: hours from discharge to
gate-out, transshipments, the consignee's earlier trips and age, VGM gap share (beyond the
box's tare: :func:`scheldt.risk.indicators.mass_gap_of`), reefer, HS
chapter, longest AIS silence before arrival, number of distinct seals, "to order"; and (v2) the
moves in the terminal since discharge so far (at scoring time only part of them may have
happened), hours from the last discharge to the moment
of scoring (how long a quick pick-up has had to show), and how many indicators fire (weak signs
in combination); v3 adds the indicator ``new_consignee_cover_load`` (the feature list follows the
registered indicators). Every feature is computed from the facts received by the moment of scoring.
Missing facts are NaN (LightGBM routes them). One score blends profile points and this
probability (:class:`Blend`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scheldt.domain.trips import TripFacts
from scheldt.errors import ConfigError, ModelMismatchError, NotFoundError
from scheldt.risk.indicators import INDICATORS, Context, CoverLoad, Hit, ListedPort, is_reefer, mass_gap_of
from scheldt.risk.model import DEFAULT_PARAMS, fit_booster, library_versions

if TYPE_CHECKING:
    import lightgbm as lgb

FACT_FEATURES = ("hours_to_gate_out", "transshipments", "consignee_prior_trips", "consignee_age_days",
                 "vgm_gap_share", "reefer", "hs_chapter", "ais_max_gap_hours", "distinct_seals", "to_order",
                 "terminal_moves", "hours_since_discharge", "indicators_fired")
_NAMES = tuple(sorted(INDICATORS))
#: Whether each indicator of :data:`_NAMES` reads a field real message formats carry.
_CARRIED = tuple(INDICATORS[n].carried for n in _NAMES)
TRIP_FEATURES = tuple(f"ind_{name}" for name in _NAMES) + FACT_FEATURES
CONTRACT = "trip-features-v3"
#: Equipment moves inside a terminal (DCSA codes) counted between discharge and gate-out.
TERMINAL_MOVES = ("PICK", "DROP", "STRP", "STUF", "RMVD")
#: Trip models learn from few positives: shallower trees, more regularisation than declarations.
TRIP_PARAMS: dict[str, Any] = {**DEFAULT_PARAMS, "num_leaves": 7, "min_data_in_leaf": 20, "learning_rate": 0.03}


def feature_words(name: str) -> str:
    """A feature of :data:`TRIP_FEATURES` as an officer reads it: ``ind_cover_load_commodity`` is
    "indicator cover load commodity", ``vgm_gap_share`` "VGM gap share"."""
    words = " ".join(_ACRONYMS.get(w, w) for w in name.removeprefix("ind_").split("_"))
    return f"indicator {words}" if name.startswith("ind_") else words


_ACRONYMS = {"vgm": "VGM", "ais": "AIS", "hs": "HS"}


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


def trip_features(trip: TripFacts, contexts: dict[str, Context], known: Mapping[str, Hit] | None = None,
                  ran: Collection[str] = ()) -> list[float]:
    """One row of :data:`TRIP_FEATURES` for ``trip``; ``contexts`` maps every indicator to the
    context it runs with (the live profile's lists and parameters; defaults for the others).
    ``known``: hits already computed with those same contexts (e.g. by the profile), keyed by
    indicator; ``ran``: indicators already run with them, so that one of them missing from
    ``known`` did not fire (e.g. the profile's indicators after :func:`profiles.indicator_hits`).
    The others are run here."""
    row = []
    for name in _NAMES:
        if known is not None and name in known:
            row.append(known[name].strength)
            continue
        if name in ran:
            row.append(0.0)
            continue
        hit = INDICATORS[name].check(trip, contexts[name])
        row.append(hit.strength if hit else 0.0)
    fired = sum(1 for v, carried in zip(row, _CARRIED) if v > 0 and carried)
    disc = [e for e in trip.events if e.event_type == "DISC" and e.classifier == "ACT"]
    gate = trip.gate_out_after(disc[-1].event_time) if disc else None
    hours = (gate.event_time - disc[-1].event_time).total_seconds() / 3600 if gate and disc else None
    doc = trip.latest_document()
    h = trip.consignee_history
    weighed = mass_gap_of(trip)
    gap = weighed.share if weighed is not None else None
    iso = next((e.iso_equipment_code for e in trip.events if e.iso_equipment_code), "")
    track = trip.vessel_track
    widest = trip.longest_track_gap(track[0].observed_at, track[-1].observed_at) if track else None
    ais_gap = widest[0].total_seconds() / 3600 if widest is not None else None
    last = disc[-1].event_time if disc else None
    moves = sum(1 for e in trip.events if last is not None and e.kind == "EQUIPMENT" and e.classifier == "ACT"
                and e.event_type in TERMINAL_MOVES and e.event_time > last and (gate is None or e.event_time < gate.event_time))
    chapter = doc.hs_codes[0][:2] if doc and doc.hs_codes else ""
    row += [
        _nan(hours), float(max(len(disc) - 1, 0)), _nan(h.prior_trips if h else None),
        _nan((trip.as_of - h.first_seen).days if h and h.first_seen else None), _nan(gap),
        1.0 if is_reefer(iso) else 0.0,
        _nan(int(chapter) if chapter.isdigit() else None),
        _nan(ais_gap), float(len({s for e in trip.events for s in e.seals})),
        _nan(None if doc is None or doc.to_order is None else float(doc.to_order)),
        float(moves), _nan((trip.as_of - last).total_seconds() / 3600 if last else None), float(fired),
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
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a data dir under a plain file, or not writable (operator review)
            raise ConfigError(str(directory), f"cannot write the model artefact here: {exc.strerror} "
                              "(check SCHELDT_DATA_DIR)") from None
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
        import lightgbm as lgb  # imported here, not at start-up (see scheldt.risk.model)

        return cls(int(meta.get("seed", 0)), threads, lgb.Booster(model_file=str(directory / "model.txt")), meta)


@dataclass(frozen=True, slots=True)
class Blend:
    """How profile points and the model's probability make one score, 0-100.

    Profile points are first put on the model's scale by a logistic calibration learnt on the
    same inspected trips, ``p_profile = sigmoid(a + b × points)``; the score is then the mixture
    of the two probabilities, ``score = 100 × ((1 - w) × p_profile + w × p_model)`` with
    ``w = model_weight``. A mixture lets either source raise a trip: where the model has seen
    few inspections (e.g. empty boxes gated in without a booking, rarely inspected in the
    past) and gives a low probability, strong profile evidence still ranks the trip high,
    where averaging in log-odds would let the model veto it. Without a live model the score is
    the profile points.
    """

    model_weight: float = 0.5
    a: float = -5.0
    b: float = 0.05

    def profile_probability(self, points: float) -> float:
        """``sigmoid(a + b × points)``: profile points as a probability of a seizure."""
        return _sigmoid(self.a + self.b * points)

    def score(self, points: float, max_points: float, probability: float | None) -> tuple[float, float]:
        """(score 0-100, the model's share of the score in points: the score minus
        100 × p_profile), both rounded to 4 decimals (most scores are below 1: the queue is
        ordered by them, so 2 decimals would tie many trips)."""
        if probability is None:
            return round(points, 4), 0.0
        p_profile = self.profile_probability(points)
        score = 100 * ((1 - self.model_weight) * p_profile + self.model_weight * min(max(probability, 0.0), 1.0))
        return round(score, 4), round(score - 100 * p_profile, 4)


BLEND_GRID = (0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)
#: The model weight taken unless a validation period shows another to be better beyond its noise
#: (:func:`choose_model_weight`): the equal mixture, where either source can raise a trip.
EQUAL_WEIGHT = 0.5
#: Bootstrap resamples of a validation period that measure that noise.
WEIGHT_RESAMPLES = 200
#: Below this many seizures in the validation period the equal mixture is kept outright: each
#: resample holds the same few seizures, so the bootstrap cannot see how much the choice owes to
#: which ones were caught (a review: with 1 seizure among 56 trips, equally informative sources
#: moved off 0.5 in 29 of 100 draws, to 0 or 1 in 22; with 10, in 1).
WEIGHT_MIN_SEIZURES = 10


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def choose_model_weight(profile_logit: np.ndarray, model_raw: np.ndarray, y: np.ndarray,
                        resamples: int = WEIGHT_RESAMPLES, seed: int = 0) -> float:
    """The model weight of the :class:`Blend` mixture of ``sigmoid(profile_logit)`` and
    ``sigmoid(model_raw)`` (both log-odds, shape (n,)) for the inspected trips of a validation
    period (later than training; ``y`` 0/1, shape (n,)), by average precision (AP).

    A form of the one-standard-error rule (Hastie, Tibshirani and Friedman, *The Elements of
    Statistical Learning*, 2nd ed., 2009, section 7.10.1; after Breiman et al., *Classification
    and Regression Trees*, 1984): the weight of :data:`BLEND_GRID` with the best AP is taken only
    when its AP exceeds the equal mixture's (:data:`EQUAL_WEIGHT`) by more than the standard
    error of its own AP, else the equal mixture. That standard error is the spread (standard
    deviation) of its AP over ``resamples`` bootstrap resamples of the validation trips, the
    seizures and the other trips resampled apart (each resample holds as many seizures), drawn
    with ``seed``. A validation period holds a few dozen seizures, and the best AP alone picked
    weights from 0.2 to 1.0 on runs of the same simulated traffic, while the catch at capacity
    barely moved with them (``benchmarks/targeting_simulated.py``). Returns
    :data:`EQUAL_WEIGHT` when ``y`` holds fewer than :data:`WEIGHT_MIN_SEIZURES` seizures, or
    only seizures."""
    from sklearn.metrics import average_precision_score

    if y.sum() < WEIGHT_MIN_SEIZURES or y.sum() == len(y):
        return EQUAL_WEIGHT
    p_profile, p_model = 1 / (1 + np.exp(-profile_logit)), 1 / (1 + np.exp(-model_raw))
    mixtures = [(1 - w) * p_profile + w * p_model for w in BLEND_GRID]
    aps = [average_precision_score(y, m) for m in mixtures]
    best, equal = int(np.argmax(aps)), BLEND_GRID.index(EQUAL_WEIGHT)
    if best == equal:
        return EQUAL_WEIGHT
    rng = np.random.default_rng(seed)
    seizures, others = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    resampled = []
    for _ in range(resamples):
        rows = np.concatenate([rng.choice(seizures, len(seizures)), rng.choice(others, len(others))])
        resampled.append(average_precision_score(y[rows], mixtures[best][rows]))
    return BLEND_GRID[best] if aps[best] - aps[equal] > float(np.std(resampled)) else EQUAL_WEIGHT


#: Profile points are calibrated in units of this many (the L2 penalty of the logistic fit then
#: weighs a slope per hundred points, the scale profiles are written in), with this inverse
#: penalty: on a month of simulated outcomes (145 seizures) it gives the raw fit's curve to within
#: a percent; on a handful of seizures it keeps the slope finite.
CALIBRATION_UNIT = 100.0
CALIBRATION_C = 10.0


def calibrate(points: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Logistic calibration of profile points (shape (n,)) to P(seizure) on inspected trips
    (``y`` 0/1): (a, b) of ``sigmoid(a + b × points)``.

    Fitted on points in hundreds (:data:`CALIBRATION_UNIT`), so the L2 penalty holds the slope
    where the seizures are few and all above every clean trip: fitted on raw points, a review's
    6 seizures among 361 inspections gave a = -43.8, b = 0.465, which put a trip of 62 points
    at P 3e-7 and 2,502 of 2,558 trips with indicators at a score of 0 (no longer ranked)."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=CALIBRATION_C).fit(points.reshape(-1, 1) / CALIBRATION_UNIT, y)
    return float(fit.intercept_[0]), float(fit.coef_[0, 0]) / CALIBRATION_UNIT
