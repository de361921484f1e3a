"""Train the container-level model on recorded inspection outcomes; load the live one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np

from scheldt.domain.activations import rollback_target
from scheldt.domain.trips import TripFacts, trip_facts_from_dict
from scheldt.errors import InputError, NotFoundError
from scheldt.risk.backtest import as_decided
from scheldt.risk.indicators import INDICATORS, Context
from scheldt.risk.profiles import Reason, RiskProfile, evaluate, indicator_hits
from scheldt.risk.trip_model import (
    CONTRACT,
    TRIP_FEATURES,
    Blend,
    TripModel,
    calibrate,
    choose_model_weight,
    feature_words,
    trip_features,
)
from scheldt.settings import lightgbm_threads, model_artefact
from scheldt.workflows.backtest import INSPECTIONS
from scheldt.workflows.ports import UnitOfWork

TARGET = "trip-seizure"
MIN_INSPECTED = 100
MIN_SEIZURES = 5
VALID_SHARE = 0.2
MODEL_SENTENCE = "The container-level model's estimate from past inspections."


def contexts(profile: RiskProfile) -> dict[str, Context]:
    """Each indicator's context: the profile's for its indicators, defaults with the profile's
    lists for the rest (the model sees every indicator)."""
    return {n: profile.context(n) for n in INDICATORS}


@dataclass
class LiveTripModel:
    """A trip model version with its blend."""

    version: str
    model: TripModel
    blend: Blend


def live_trip_model(uow: UnitOfWork, threads: int | None = None) -> LiveTripModel | None:
    """The live container-level model, or None when none was trained."""
    try:
        row = uow.models.live(TARGET)
    except NotFoundError:
        return None
    return load_version(uow, row.version, threads)


def load_version(uow: UnitOfWork, version: str, threads: int | None = None) -> LiveTripModel:
    """A registered trip model version. Raises NotFoundError / ModelMismatchError."""
    row = uow.models.get(version)
    model = TripModel.load(model_artefact(row.artefact_path, row.version), lightgbm_threads(threads))
    blend = model.metadata_.get("blend", {})
    return LiveTripModel(version, model, Blend(blend.get("model_weight", 0.5), blend.get("a", -5.0), blend.get("b", 0.05)))


def assess(profile: RiskProfile, facts: TripFacts, live: LiveTripModel | None) -> tuple[float, float, list[Reason]]:
    """(score, profile points, reasons largest first) of a trip: the profile alone, or blended
    with the container model, whose part is one more reason naming its strongest features."""
    hits = indicator_hits(profile, facts)
    result = evaluate(profile, facts, hits)
    reasons = list(result.reasons)
    if live is None:
        return result.points, result.points, reasons
    row = np.array([trip_features(facts, contexts(profile), hits, profile.indicators)])
    p = float(live.model.predict(row)[0])
    score, model_part = live.blend.score(result.points, profile.max_points, p)
    reasons.append(Reason("container_model", MODEL_SENTENCE,
                          _model_evidence(live, row, p, result.points, score, model_part), model_part))
    reasons.sort(key=lambda r: (-r.points, r.indicator))
    return score, result.points, reasons


def _model_evidence(live: LiveTripModel, row: np.ndarray, p: float, points: float, score: float,
                    model_part: float) -> str:
    """The model's reason: its probability, how the score was made of it and of the profile's
    points (a review could not tell why 99 points and a model line of -16.7 made 43.9), and the
    features that moved it most, in words (it named code names, and a model of weight 0
    "pushing it up")."""
    blend = live.blend
    head = f"model {live.version}: P(seizure) {p:.3f}"
    if blend.model_weight == 0:
        return f"{head}, not counted (weight 0: on the validation days the profile alone ranked best)"
    p_profile = blend.profile_probability(points)
    how = (f"score {1 - blend.model_weight:g} × {100 * p_profile:.1f} (the profile's {points:g} points as a "
           f"probability, calibrated on inspected trips) + {blend.model_weight:g} × {100 * p:.1f} = {score:.1f}")
    contrib = live.model.contributions(row)[0][:-1]
    up = model_part >= 0  # the model's part raises the score, or (a low probability) lowers it
    strongest = sorted(range(len(contrib)), key=lambda i: -contrib[i] if up else contrib[i])[:3]
    named = ", ".join(f"{feature_words(TRIP_FEATURES[i])} {contrib[i]:+.2f}" for i in strongest
                      if (contrib[i] > 0) == up and contrib[i] != 0) or ("none above average" if up else
                                                                        "none below average")
    return f"{head}; {how}; {'pushing it up' if up else 'pulling it down'} (log-odds): {named}"


@dataclass(frozen=True)
class TrainingSet:
    """Inspected trips to learn from, in the order of the days they competed for a scan
    (:func:`scheldt.risk.backtest.as_decided`; then by trip label): (that day, facts, 1 for a
    seizure else 0), and the fingerprint naming exactly these rows and labels (SHA-256 over each
    trip's label line and the feature contract)."""

    rows: list[tuple[date, TripFacts, int]]
    fingerprint: str

    def lines(self) -> list[str]:
        """One ``"<trip label>|<label>"`` line per row, as the fingerprint hashes them."""
        return [f"{f.key.label()}|{label}" for _, f, label in self.rows]


def training_set(uow: UnitOfWork) -> TrainingSet:
    """The trips with a recorded inspection outcome (real inspections win over simulated ones)
    with their facts as known when their day's selection was made
    (:func:`scheldt.risk.backtest.as_decided`), as the live model meets them: a gate-out of the
    next days is not learnt as a sign the selection could have seen."""
    outcomes = uow.trip_outcomes.all(INSPECTIONS)
    rows = []
    for a in uow.trip_assessments.shown_per_trip():
        known = outcomes.get((a["container_number"], a["document_ref"], a["voyage"]))
        if known is not None and known[0]:
            # ordered by the day it competed, not when it was last scored: a re-score restamps
            # every trip at once, and a profile review's validation share became an alphabetical
            # slice of all days, so the same inspections gave another model and blend weight
            past = as_decided(trip_facts_from_dict(a["facts"]), a["scored_at"], known[1])
            rows.append((past.day, past.facts, int(known[1])))
    rows.sort(key=lambda r: (r[0], r[1].key.label()))
    lines = [f"{f.key.label()}|{label}" for _, f, label in rows]
    return TrainingSet(rows, hashlib.sha256("\n".join(lines).encode() + CONTRACT.encode()).hexdigest())


def train_trip_model(uow: UnitOfWork, profile: RiskProfile, models_dir: Path, now: datetime, seed: int = 0,
                     threads: int | None = None, min_inspected: int = MIN_INSPECTED, min_seizures: int = MIN_SEIZURES,
                     actor: str = "") -> dict[str, object]:
    """Fit the container model on the :func:`training_set`, the last :data:`VALID_SHARE` by
    the day each trip competed for a scan for early stopping, calibration and the blend weight; save, register and make
    it live (recorded as trained by ``actor``). Raises InputError below :data:`MIN_INSPECTED` inspected trips or
    :data:`MIN_SEIZURES` seizures."""
    data = training_set(uow)
    rows = data.rows
    positives = sum(r[2] for r in rows)
    if len(rows) < min_inspected or positives < min_seizures:
        raise InputError("trips train", f"{len(rows)} inspected trips with {positives} seizures; at least "
                         f"{min_inspected} and {min_seizures} are needed")
    ctx = contexts(profile)
    hits = [indicator_hits(profile, f) for _, f, _ in rows]
    X = np.array([trip_features(f, ctx, h, profile.indicators) for (_, f, _), h in zip(rows, hits)])
    y = np.array([r[2] for r in rows])
    points = np.array([evaluate(profile, f, h).points for (_, f, _), h in zip(rows, hits)])
    cut = int(len(rows) * (1 - VALID_SHARE))
    model = TripModel(seed, lightgbm_threads(threads)).fit(X[:cut], y[:cut], X[cut:], y[cut:])
    a, b = calibrate(points[:cut], y[:cut])
    weight = choose_model_weight(a + b * points[cut:], model.validation_raw_, y[cut:]) if model.validation_raw_ is not None else 0.5
    fingerprint = data.fingerprint
    # the profile whose indicators are its features, and the seed, in the name: either changed is
    # another model, never written over the one of that name (a declarations review's retraining
    # with another seed at a pinned clock replaced the live model in place)
    made_with = hashlib.sha256(f"{profile.label}\n{seed}".encode()).hexdigest()[:6]
    version = f"trip-{now:%Y%m%dT%H%M%S}-{fingerprint[:8]}-{made_with}"
    model.metadata_.update({"blend": {"model_weight": weight, "a": a, "b": b}, "profile": profile.label,
                            "fingerprint": fingerprint})
    directory = model.save(models_dir / version)
    metrics = {"rows": len(rows), "seizures": positives, "model_weight": weight, "trees": model.metadata_["trees"]}
    uow.models.register(version, TARGET, str(directory), fingerprint, CONTRACT, metrics, now, actor=actor)
    return {"version": version, **metrics}


def activate_trip_model(uow: UnitOfWork, version: str, actor: str, reason: str, now: datetime) -> bool:
    """Make an earlier container-model version live again by hand (recorded with who and why;
    trips are re-scored with it by the next ``scheldt trips score``). Returns whether it was
    switched: the version already live records nothing. Raises NotFoundError for an unknown
    version and InputError for a version of another model or a missing artefact."""
    uow.models.lock()  # before reading what is live: simultaneous switches each recorded one
    row = uow.models.get(version)
    if row.target != TARGET:
        raise InputError("model version", f"{version} is a {row.target} model, not a container-trip model")
    if not model_artefact(row.artefact_path, row.version).exists():
        raise InputError("model version", f"{version}: its artefact {row.artefact_path} is gone")
    if row.live:
        return False
    uow.models.activate(version, actor, reason, now)
    _show_live(uow)
    return True


def _show_live(uow: UnitOfWork) -> None:
    """Show the assessments already stored under the versions now live
    (:func:`scheldt.workflows.trip_scoring.show_live_versions`)."""
    from scheldt.workflows.trip_scoring import show_live_versions  # it scores with this module's models

    show_live_versions(uow)


def rollback_trip_model(uow: UnitOfWork, actor: str, reason: str, now: datetime) -> str:
    """Make the container-model version that was live before the current one live again
    (recorded as a rollback); repeated rollbacks walk further back. Returns its version.
    Raises ConflictError when there is nothing to roll back to."""
    uow.models.lock()  # before reading the log: two simultaneous rollbacks went back to one version
    previous = rollback_target(((a["action"], str(a["version"])) for a in uow.models.activations(TARGET)),
                               "model rollback", "no container model was ever made live",
                               "{version} is the first version made live; nothing to roll back to")
    uow.models.activate(previous, actor, reason, now, action="rollback")
    _show_live(uow)
    return previous
