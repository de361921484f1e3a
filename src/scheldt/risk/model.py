"""The learned declaration risk model: a scikit-learn-style wrapper around LightGBM.

``RiskModel().fit(X, y, X_valid, y_valid)`` trains with early stopping on a *later* validation
period (time-ordered, never shuffled), then refits on train + valid with the number of trees
early stopping chose. ``save``/``load`` write a versioned artefact directory::

    <dir>/model.txt        LightGBM text model of the history model (no pickle)
    <dir>/model-declared.txt  LightGBM text model of the declared-facts model
    <dir>/artefact.json    target, feature names + contract hash, vocabularies, library
                           versions, training-data fingerprint, validation metrics, parameters

Loading checks the artefact's feature names against :data:`features.FEATURE_NAMES` and raises
ModelMismatchError when they differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

import scheldt
from scheldt.errors import ConfigError, ModelMismatchError, NotFoundError
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


# lightgbm and scikit-learn (over a second to import) are imported where a model is fitted or
# loaded, so that commands which use no model (``scheldt --help``, ingest, ...) start quickly.
if TYPE_CHECKING:
    import lightgbm as lgb


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artefact depends on."""
    import lightgbm as lgb

    return {"scheldt": scheldt.__version__, "lightgbm": lgb.__version__, "numpy": np.__version__,
            "polars": pl.__version__}


#: Features of the declared-facts model: what the declaration says, no past outcomes.
DECLARED_FEATURES = (*features.CODED_FIELDS, *features.NUMERIC_FEATURES)
#: Blend weights of the declared-facts model tried on the validation period.
BLEND_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


#: Column positions of :data:`DECLARED_FEATURES` in the full feature matrix.
DECLARED_INDEX = [features.FEATURE_NAMES.index(f) for f in DECLARED_FEATURES]


def _sigmoid(raw: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-raw))


@dataclass
class _Fitted:
    booster: lgb.Booster
    best_iteration: int
    valid_raw: np.ndarray | None


def fit_booster(params: dict[str, Any], X: np.ndarray, y: np.ndarray, X_valid: np.ndarray | None,
                y_valid: np.ndarray | None, names: list[str], threads: int) -> _Fitted:
    """One LightGBM booster the foundation's way: with a validation set (a later period),
    early stopping picks the number of trees (at least :data:`MIN_TREES`) and the booster is
    refitted on train + valid with that many; without one, 300 trees. ``params`` must set
    ``num_threads`` (the machines have 2 cores). Returns the booster, its number of trees and
    the validation raw scores (log-odds) of the early-stopping model, or None."""
    import lightgbm as lgb

    valid_raw = None
    if X_valid is not None and y_valid is not None:
        train_set = lgb.Dataset(X, y, feature_name=names, free_raw_data=False)
        valid_set = lgb.Dataset(X_valid, y_valid, reference=train_set)
        probe = lgb.train(
            params, train_set, MAX_TREES, valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        )
        best = max(probe.best_iteration, MIN_TREES)
        valid_raw = probe.predict(X_valid, num_iteration=best, raw_score=True, num_threads=threads)
        X, y = np.vstack([X, X_valid]), np.concatenate([y, y_valid])
    else:
        best = 300
    booster = lgb.train(params, lgb.Dataset(X, y, feature_name=names), best)
    return _Fitted(booster, best, valid_raw)


@dataclass
class RiskModel:
    """Gradient-boosted trees predicting the probability that an inspection finds ``target``.

    Two LightGBM models: the *history model* on every feature, and a *declared-facts model* on
    the declared facts alone (:data:`DECLARED_FEATURES`). For goods never inspected at this
    declared value (``template_n == 0``) the score blends the two in log-odds,
    ``(1 - w) × history + w × declared``; ``w`` (:data:`BLEND_GRID`) is the weight with the best
    average precision on such rows of the validation period. Past outcomes of coarser groups (the
    HS code, the importer) are learned mostly from goods seen before and generalise poorly to new
    ones; the declared-facts model has no such crutch. Blending in log-odds keeps the per-feature
    contributions exact (they are blended with the same weights).

    Parameters follow scikit-learn conventions: set in the constructor, fitted state ends in
    ``_``. ``threads`` is LightGBM's ``num_threads`` (set explicitly: the machines have 2 cores).
    """

    target: str = "fraud"
    seed: int = 0
    threads: int = 2
    params: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    booster_: lgb.Booster | None = None
    declared_booster_: lgb.Booster | None = None
    blend_weight_: float = 0.0
    best_iteration_: int = 0
    declared_best_iteration_: int = 0
    feature_names_: tuple[str, ...] = ()
    vocabulary_: dict[str, list[str]] = field(default_factory=dict)
    metadata_: dict[str, Any] = field(default_factory=dict)
    validation_scores_: np.ndarray | None = None

    def _params(self) -> dict[str, Any]:
        return {**self.params, "seed": self.seed, "num_threads": self.threads,
                "deterministic": True, "force_row_wise": True}

    def _fit_one(self, X: np.ndarray, y: np.ndarray, X_valid: np.ndarray | None,
                 y_valid: np.ndarray | None, names: list[str]) -> _Fitted:
        return fit_booster(self._params(), X, y, X_valid, y_valid, names, self.threads)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        X_valid: np.ndarray | None = None,
        y_valid: np.ndarray | None = None,
    ) -> RiskModel:
        """Fit on ``X`` (n × len(FEATURE_NAMES)) and 0/1 labels ``y``; returns self.

        With a validation set (a later period), early stopping picks the number of trees of each
        model, the blend weight is chosen on it, and the final models are refitted on train +
        valid with those numbers of trees.
        """
        if self.target not in TARGETS:
            raise ValueError(f"target {self.target!r} is not one of {TARGETS}")
        names = list(features.FEATURE_NAMES)
        declared = DECLARED_INDEX
        has_valid = X_valid is not None and y_valid is not None and len(y_valid) and y_valid.any()
        Xv, yv = (X_valid, y_valid) if has_valid else (None, None)
        full = self._fit_one(X, y, Xv, yv, names)
        decl = self._fit_one(X[:, declared], y, Xv[:, declared] if Xv is not None else None, yv,
                             list(DECLARED_FEATURES))
        self.booster_, self.best_iteration_ = full.booster, full.best_iteration
        self.declared_booster_, self.declared_best_iteration_ = decl.booster, decl.best_iteration
        self.blend_weight_ = 0.0
        if full.valid_raw is not None and decl.valid_raw is not None and Xv is not None and yv is not None:
            novel = self._novel(Xv)
            if 0 < yv[novel].sum() < novel.sum():
                from sklearn.metrics import average_precision_score

                gains = [
                    average_precision_score(yv[novel], (1 - w) * full.valid_raw[novel] + w * decl.valid_raw[novel])
                    for w in BLEND_GRID
                ]
                self.blend_weight_ = BLEND_GRID[int(np.argmax(gains))]
            self.validation_scores_ = _sigmoid(self._blend(full.valid_raw, decl.valid_raw, novel))
        self.feature_names_ = tuple(names)
        return self

    @staticmethod
    def _novel(X: np.ndarray) -> np.ndarray:
        """Rows whose goods were never inspected at this declared value."""
        return np.nan_to_num(X[:, features.FEATURE_NAMES.index("template_n")]) == 0

    def _blend(self, full: np.ndarray, declared: np.ndarray, novel: np.ndarray) -> np.ndarray:
        w = self.blend_weight_
        return np.where(novel, (1 - w) * full + w * declared, full)

    def _check(self) -> tuple[lgb.Booster, lgb.Booster]:
        if self.booster_ is None or self.declared_booster_ is None:
            raise RuntimeError("model is not fitted")
        return self.booster_, self.declared_booster_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, 2): column 1 is P(target found on inspection)."""
        p = self.score(X)
        return np.column_stack([1.0 - p, p])

    def raw_score(self, X: np.ndarray) -> np.ndarray:
        """Blended log-odds of the target for each row of ``X``, shape (n,)."""
        full, decl = self._check()
        raw = full.predict(X, raw_score=True, num_threads=self.threads)
        novel = self._novel(X)
        if self.blend_weight_ > 0 and novel.any():
            d = decl.predict(X[novel][:, DECLARED_INDEX], raw_score=True, num_threads=self.threads)
            raw[novel] = (1 - self.blend_weight_) * raw[novel] + self.blend_weight_ * d
        return raw

    def score(self, X: np.ndarray) -> np.ndarray:
        """P(target found on inspection) for each row of ``X``, shape (n,)."""
        return _sigmoid(self.raw_score(X))

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-feature contributions (TreeSHAP, log-odds), shape (n, n_features + 1).

        The last column is the expected value; the rest sum with it to :meth:`raw_score`.
        """
        full, decl = self._check()
        out = full.predict(X, pred_contrib=True, num_threads=self.threads)
        novel = self._novel(X)
        if self.blend_weight_ > 0 and novel.any():
            d = decl.predict(X[novel][:, DECLARED_INDEX], pred_contrib=True, num_threads=self.threads)
            mapped = np.zeros((int(novel.sum()), out.shape[1]))
            mapped[:, DECLARED_INDEX] = d[:, :-1]
            mapped[:, -1] = d[:, -1]
            out[novel] = (1 - self.blend_weight_) * out[novel] + self.blend_weight_ * mapped
        return out

    def save(self, directory: Path) -> Path:
        """Write the artefact to ``directory`` (created); returns it."""
        full, decl = self._check()
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a data dir under a plain file, or not writable (operator review)
            raise ConfigError(str(directory), f"cannot write the model artefact here: {exc.strerror} "
                              "(check SCHELDT_DATA_DIR)") from None
        full.save_model(str(directory / "model.txt"))
        decl.save_model(str(directory / "model-declared.txt"))
        meta = {
            **self.metadata_,
            "target": self.target,
            "seed": self.seed,
            "params": self.params,
            "best_iteration": self.best_iteration_,
            "declared_best_iteration": self.declared_best_iteration_,
            "blend_weight": self.blend_weight_,
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
        files = ("artefact.json", "model.txt", "model-declared.txt")
        if not all((directory / f).is_file() for f in files):
            raise NotFoundError(str(directory), f"no model artefact ({', '.join(files)}) here")
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
        import lightgbm as lgb

        model = cls(target=meta["target"], seed=meta.get("seed", 0), threads=threads,
                    params=meta.get("params", dict(DEFAULT_PARAMS)))
        model.booster_ = lgb.Booster(model_file=str(directory / "model.txt"))
        model.declared_booster_ = lgb.Booster(model_file=str(directory / "model-declared.txt"))
        model.best_iteration_ = meta.get("best_iteration", 0)
        model.declared_best_iteration_ = meta.get("declared_best_iteration", 0)
        model.blend_weight_ = float(meta.get("blend_weight", 0.0))
        model.feature_names_ = stored
        model.vocabulary_ = meta.get("vocabulary", {})
        model.metadata_ = {k: v for k, v in meta.items() if k not in ("vocabulary",)}
        return model
