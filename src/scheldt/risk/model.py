"""The learned declaration risk model: a scikit-learn-style wrapper around LightGBM.

``RiskModel().fit(X, y, X_valid, y_valid)`` trains with early stopping on a *later* validation
period (time-ordered, never shuffled), then refits on train + valid with the number of trees
early stopping chose. ``save``/``load`` write a versioned artefact directory::

    <dir>/model.txt        LightGBM text model (no pickle)
    <dir>/artefact.json    target, feature names + contract hash, vocabularies, library
                           versions, training-data fingerprint, validation metrics, parameters

Loading checks the artefact's feature names against :data:`features.FEATURE_NAMES` and raises
ModelMismatchError when they differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

import scheldt
from scheldt.errors import ModelMismatchError, NotFoundError
from scheldt.risk import features

TARGETS = ("fraud", "critical")

#: LightGBM parameters. Small, strongly regularised trees: on the KCS synthetic data's
#: train/valid split they rank goods never seen before (unseen value templates) better than
#: larger trees, at no cost on the rest (benchmarks/targeting_quality.py).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.02,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.5,
    "bagging_fraction": 0.7,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "verbose": -1,
}
MAX_TREES = 3000
EARLY_STOPPING_ROUNDS = 100
MIN_TREES = 50


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artefact depends on."""
    return {"scheldt": scheldt.__version__, "lightgbm": lgb.__version__, "numpy": np.__version__,
            "polars": pl.__version__}


@dataclass
class RiskModel:
    """Gradient-boosted trees predicting the probability that an inspection finds ``target``.

    Parameters follow scikit-learn conventions: set in the constructor, fitted state ends in
    ``_``. ``threads`` is LightGBM's ``num_threads`` (set explicitly: the machines have 2 cores).
    """

    target: str = "fraud"
    seed: int = 0
    threads: int = 2
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    booster_: lgb.Booster | None = None
    best_iteration_: int = 0
    feature_names_: tuple[str, ...] = ()
    vocabulary_: dict[str, list[str]] = field(default_factory=dict)
    metadata_: dict[str, Any] = field(default_factory=dict)
    validation_scores_: np.ndarray | None = None

    def _params(self) -> dict[str, Any]:
        return {**self.params, "seed": self.seed, "num_threads": self.threads,
                "deterministic": True, "force_row_wise": True}

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
    ) -> RiskModel:
        """Fit on ``X`` (n × len(FEATURE_NAMES)) and 0/1 labels ``y``; returns self.

        With a validation set (a later period), early stopping picks the number of trees and
        the final model is refitted on train + valid with that many trees.
        """
        if self.target not in TARGETS:
            raise ValueError(f"target {self.target!r} is not one of {TARGETS}")
        names = list(features.FEATURE_NAMES)
        params = self._params()
        if X_valid is not None and y_valid is not None and len(y_valid) and y_valid.any():
            train_set = lgb.Dataset(X, y, feature_name=names, free_raw_data=False)
            valid_set = lgb.Dataset(X_valid, y_valid, reference=train_set)
            probe = lgb.train(
                params, train_set, MAX_TREES, valid_sets=[valid_set],
                callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
            )
            self.best_iteration_ = max(probe.best_iteration, MIN_TREES)
            self.validation_scores_ = probe.predict(X_valid, num_iteration=probe.best_iteration,
                                                    num_threads=self.threads)
            X_all, y_all = np.vstack([X, X_valid]), np.concatenate([y, y_valid])
        else:
            self.best_iteration_ = 300
            X_all, y_all = X, y
        self.booster_ = lgb.train(
            params, lgb.Dataset(X_all, y_all, feature_name=names), self.best_iteration_
        )
        self.feature_names_ = tuple(names)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, 2): column 1 is P(target found on inspection)."""
        p = self.score(X)
        return np.column_stack([1.0 - p, p])

    def score(self, X: np.ndarray) -> np.ndarray:
        """P(target found on inspection) for each row of ``X``, shape (n,)."""
        if self.booster_ is None:
            raise RuntimeError("model is not fitted")
        return self.booster_.predict(X, num_threads=self.threads)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature contributions (TreeSHAP, log-odds), shape (n, n_features + 1).

        The last column is the expected value; the rest sum with it to the raw score.
        """
        if self.booster_ is None:
            raise RuntimeError("model is not fitted")
        return self.booster_.predict(X, pred_contrib=True, num_threads=self.threads)

    def save(self, directory: Path) -> Path:
        """Write the artefact to ``directory`` (created); returns it."""
        if self.booster_ is None:
            raise RuntimeError("model is not fitted")
        directory.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(directory / "model.txt"))
        meta = {
            **self.metadata_,
            "target": self.target,
            "seed": self.seed,
            "params": self.params,
            "best_iteration": self.best_iteration_,
            "feature_names": list(self.feature_names_),
            "feature_contract": features.feature_contract(),
            "vocabulary": self.vocabulary_,
            "libraries": library_versions(),
        }
        (directory / "artefact.json").write_text(json.dumps(meta, indent=2, default=str))
        return directory

    @classmethod
    def load(cls, directory: Path, threads: int = 2) -> RiskModel:
        """Read an artefact written by :meth:`save`.

        Raises NotFoundError when files are missing and ModelMismatchError when the artefact's
        feature names differ from this code's :data:`features.FEATURE_NAMES`.
        """
        meta_path = directory / "artefact.json"
        if not meta_path.is_file() or not (directory / "model.txt").is_file():
            raise NotFoundError(str(directory), "no model artefact (artefact.json, model.txt) here")
        meta = json.loads(meta_path.read_text())
        stored = tuple(meta.get("feature_names", ()))
        if stored != features.FEATURE_NAMES:
            missing = [f for f in features.FEATURE_NAMES if f not in stored]
            extra = [f for f in stored if f not in features.FEATURE_NAMES]
            raise ModelMismatchError(
                str(meta_path),
                "feature contract differs from this code "
                f"(artefact {meta.get('feature_contract')}, code {features.feature_contract()}; "
                f"missing from artefact: {missing or 'none'}; unknown to code: {extra or 'none'}"
                + ("; same names in another order" if not missing and not extra else "")
                + "): retrain with `scheldt train`",
            )
        model = cls(target=meta["target"], seed=meta.get("seed", 0), threads=threads,
                    params=meta.get("params", dict(DEFAULT_PARAMS)))
        model.booster_ = lgb.Booster(model_file=str(directory / "model.txt"))
        model.best_iteration_ = meta.get("best_iteration", 0)
        model.feature_names_ = stored
        model.vocabulary_ = meta.get("vocabulary", {})
        model.metadata_ = {k: v for k, v in meta.items() if k not in ("vocabulary",)}
        return model
