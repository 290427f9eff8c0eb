"""Predicting how well each model answers a query: one regularised logistic model per model.

:class:`QualityPredictor` learns, for every model named in the training data, the probability
that the model's answer to a query is good (its quality score, 0 to 1) from the query's
features (:class:`~ragged_graph.learning.features.QueryFeaturizer`). Quality scores between
0 and 1 are soft labels: a row counts as good with weight ``q`` and as bad with weight
``1 - q``, so the model fits the expected quality.

How the features are weighed:

- every column is standardised on the training data;
- the embedding block (``emb_*`` columns) is then multiplied by ``embedding_weight``
  (default ``1/sqrt(d)`` for ``d`` embedding columns, fixed a priori: the whole block then
  carries the prior weight of one feature, so hundreds of embedding columns cannot drown the
  dozen complexity and text features, while the block as a whole can still matter);
- the L2 strength ``C`` is chosen per model from ``regularisation_grid`` by an inner,
  query-grouped k-fold cross-validation on the training data (weighted log loss), so no
  choice ever looks at data the caller holds out.

Training uses scikit-learn; prediction is plain numpy over the stored coefficients, so a
saved predictor loads without scikit-learn's pickles and whatever its version.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

__all__ = ["DEFAULT_REGULARISATION_GRID", "QualityModelSettings", "QualityPredictor"]

DEFAULT_REGULARISATION_GRID: Final = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Inverse L2 strengths ``C`` the inner cross-validation chooses from."""

_EPSILON: Final = 1e-12


class QualityModelSettings(BaseModel):
    """How :class:`QualityPredictor` trains."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    embedding_weight: float | None = Field(default=None, gt=0)
    """Factor on the standardised embedding columns; None: ``1/sqrt(d)`` (see module doc)."""

    regularisation_grid: tuple[float, ...] = Field(
        default=DEFAULT_REGULARISATION_GRID, min_length=1
    )
    """Values of ``C`` (inverse L2 strength) to choose from; one value skips the inner CV."""

    inner_folds: int = Field(default=3, ge=2)
    """Folds of the inner cross-validation that chooses ``C``."""

    seed: int = 0
    """Seed of the inner folds' shuffle."""

    max_iterations: int = Field(default=2000, ge=10)
    """Iteration limit of the solver (lbfgs)."""


@dataclass(frozen=True, kw_only=True)
class _LinearModel:
    """One model's fitted predictor: sigmoid(standardised features . coef + intercept)."""

    coef: FloatArray
    intercept: float
    regularisation: float
    validation_log_loss: float | None


class QualityPredictor:
    """Per-model quality probabilities from query features (see the module docstring).

    Build it with :meth:`fit`; read it back with :meth:`from_arrays`.
    """

    def __init__(
        self,
        *,
        models: Sequence[str],
        feature_names: Sequence[str],
        mean: FloatArray,
        scale: FloatArray,
        column_weight: FloatArray,
        coefficients: FloatArray,
        intercepts: FloatArray,
        regularisation: Sequence[float],
        validation_log_loss: Sequence[float | None],
        training_rows: Mapping[str, int],
    ) -> None:
        import numpy as np

        width = len(feature_names)
        if len(models) == 0:
            raise ValueError("a quality predictor needs at least one model")
        shapes = {
            "mean": (np.shape(mean), (width,)),
            "scale": (np.shape(scale), (width,)),
            "column_weight": (np.shape(column_weight), (width,)),
            "coefficients": (np.shape(coefficients), (len(models), width)),
            "intercepts": (np.shape(intercepts), (len(models),)),
        }
        for name, (found, expected) in shapes.items():
            if tuple(found) != expected:
                raise ValueError(f"{name} has shape {tuple(found)}, expected {expected}")
        self.models: tuple[str, ...] = tuple(models)
        self.feature_names: tuple[str, ...] = tuple(feature_names)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.column_weight = np.asarray(column_weight, dtype=np.float64)
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        self.intercepts = np.asarray(intercepts, dtype=np.float64)
        self.regularisation = tuple(float(c) for c in regularisation)
        self.validation_log_loss = tuple(
            None if v is None else float(v) for v in validation_log_loss
        )
        self.training_rows = dict(training_rows)

    # ------------------------------------------------------------------------------ training

    @classmethod
    def fit(
        cls,
        features: FloatArray,
        models: Sequence[str],
        qualities: Sequence[float],
        feature_names: Sequence[str],
        *,
        groups: Sequence[int] | npt.NDArray[np.int64] | None = None,
        settings: QualityModelSettings | None = None,
    ) -> QualityPredictor:
        """Fit one predictor per distinct model.

        ``features[i]`` describes the query of training row ``i``, answered by ``models[i]``
        with quality ``qualities[i]`` (0 to 1). ``groups[i]`` identifies the query (rows of one
        query stay in one inner fold); default: identical feature rows form a group.
        """
        import numpy as np

        settings = settings or QualityModelSettings()
        matrix = np.asarray(features, dtype=np.float64)
        n = len(models)
        if matrix.ndim != 2 or matrix.shape[0] != n or len(qualities) != n:
            raise ValueError(
                f"features ({matrix.shape}), models ({n}) and qualities ({len(qualities)}) "
                "must describe the same rows"
            )
        if matrix.shape[1] != len(feature_names):
            raise ValueError(
                f"{matrix.shape[1]} feature columns but {len(feature_names)} feature names"
            )
        if not np.all(np.isfinite(matrix)):
            raise ValueError("features must be finite")
        quality = np.asarray(qualities, dtype=np.float64)
        if np.any((quality < 0) | (quality > 1)) or not np.all(np.isfinite(quality)):
            raise ValueError("qualities must lie between 0 and 1")
        if groups is None:
            _, group_ids = np.unique(matrix, axis=0, return_inverse=True)
            group_array = np.asarray(group_ids, dtype=np.int64).reshape(-1)
        else:
            group_array = np.asarray(groups, dtype=np.int64)

        mean = matrix.mean(axis=0)
        scale = matrix.std(axis=0)
        scale[scale < _EPSILON] = 1.0
        column_weight = np.ones(matrix.shape[1])
        embedding_columns = [i for i, name in enumerate(feature_names) if name.startswith("emb_")]
        if embedding_columns:
            weight = settings.embedding_weight or 1.0 / math.sqrt(len(embedding_columns))
            column_weight[embedding_columns] = weight
        design = (matrix - mean) / scale * column_weight

        names = sorted(set(models))
        model_array = np.asarray(models, dtype=object)
        fitted: list[_LinearModel] = []
        rows: dict[str, int] = {}
        for name in names:
            mask = model_array == name
            rows[name] = int(mask.sum())
            fitted.append(_fit_one(design[mask], quality[mask], group_array[mask], settings, name))
        return cls(
            models=names,
            feature_names=feature_names,
            mean=mean,
            scale=scale,
            column_weight=column_weight,
            coefficients=np.vstack([m.coef for m in fitted]),
            intercepts=np.asarray([m.intercept for m in fitted]),
            regularisation=[m.regularisation for m in fitted],
            validation_log_loss=[m.validation_log_loss for m in fitted],
            training_rows=rows,
        )

    # ---------------------------------------------------------------------------- prediction

    def predict(self, features: FloatArray) -> FloatArray:
        """Predicted quality (0 to 1) of every model for every row: shape (rows, models),
        columns in :attr:`models` order."""
        import numpy as np

        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[None, :]
        if matrix.shape[1] != len(self.feature_names):
            raise ValueError(
                f"got {matrix.shape[1]} feature columns, the predictor was trained on "
                f"{len(self.feature_names)}"
            )
        design = (matrix - self.mean) / self.scale * self.column_weight
        logits = design @ self.coefficients.T + self.intercepts
        result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))
        return result

    # --------------------------------------------------------------------------- persistence

    def to_arrays(self) -> dict[str, FloatArray]:
        """The numeric state, for an ``.npz`` file."""
        return {
            "mean": self.mean,
            "scale": self.scale,
            "column_weight": self.column_weight,
            "coefficients": self.coefficients,
            "intercepts": self.intercepts,
        }

    def describe(self) -> dict[str, object]:
        """The non-numeric state, for the JSON metadata."""
        return {
            "models": list(self.models),
            "feature_names": list(self.feature_names),
            "regularisation": list(self.regularisation),
            "validation_log_loss": list(self.validation_log_loss),
            "training_rows": dict(self.training_rows),
        }

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, FloatArray], description: Mapping[str, object]
    ) -> QualityPredictor:
        """The predictor :meth:`to_arrays` and :meth:`describe` describe.

        Raises ``KeyError``, ``TypeError`` or ``ValueError`` when a part is missing or malformed.
        """
        models = description["models"]
        feature_names = description["feature_names"]
        regularisation = description["regularisation"]
        losses = description["validation_log_loss"]
        rows = description["training_rows"]
        if not (
            isinstance(models, list)
            and isinstance(feature_names, list)
            and isinstance(regularisation, list)
            and isinstance(losses, list)
            and isinstance(rows, dict)
        ):
            raise TypeError("the predictor's description has fields of the wrong type")
        return cls(
            models=[str(m) for m in models],
            feature_names=[str(f) for f in feature_names],
            mean=arrays["mean"],
            scale=arrays["scale"],
            column_weight=arrays["column_weight"],
            coefficients=arrays["coefficients"],
            intercepts=arrays["intercepts"],
            regularisation=[float(c) for c in regularisation],
            validation_log_loss=[None if v is None else float(v) for v in losses],
            training_rows={str(k): int(v) for k, v in rows.items()},
        )


def _soft_labels(
    design: FloatArray, quality: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Rows as (features, label, weight): each row good with weight q, bad with weight 1-q."""
    import numpy as np

    good = quality > 0
    bad = quality < 1
    features = np.vstack([design[good], design[bad]])
    labels = np.concatenate([np.ones(good.sum(), dtype=np.int64), np.zeros(bad.sum(), np.int64)])
    weights = np.concatenate([quality[good], 1.0 - quality[bad]])
    return features, labels, weights


def _fit_one(
    design: FloatArray,
    quality: FloatArray,
    groups: npt.NDArray[np.int64],
    settings: QualityModelSettings,
    name: str,
) -> _LinearModel:
    """One model's logistic predictor, ``C`` chosen by query-grouped inner cross-validation."""
    import numpy as np

    mean_quality = float(np.clip(quality.mean(), 1e-6, 1 - 1e-6)) if len(quality) else 0.5
    constant = math.log(mean_quality / (1 - mean_quality))
    if len(quality) == 0 or np.all(quality == quality[0]):
        # Every answer equally good: nothing to separate, predict the constant.
        return _LinearModel(
            coef=np.zeros(design.shape[1]),
            intercept=constant,
            regularisation=0.0,
            validation_log_loss=None,
        )
    grid = settings.regularisation_grid
    best_c, best_loss = grid[0], None
    distinct_groups = np.unique(groups)
    if len(grid) > 1 and len(distinct_groups) >= 2 * settings.inner_folds:
        rng = np.random.default_rng(settings.seed)
        shuffled = rng.permutation(distinct_groups)
        fold_of_group = {int(g): i % settings.inner_folds for i, g in enumerate(shuffled)}
        folds = np.asarray([fold_of_group[int(g)] for g in groups])
        for c in grid:
            total, weight_sum = 0.0, 0.0
            for fold in range(settings.inner_folds):
                train, valid = folds != fold, folds == fold
                if len(np.unique(quality[train] > 0.5)) < 2:
                    continue
                coef, intercept = _logistic(design[train], quality[train], c, settings)
                probability = _sigmoid(design[valid] @ coef + intercept)
                probability = np.clip(probability, 1e-9, 1 - 1e-9)
                q = quality[valid]
                total += float(-(q * np.log(probability) + (1 - q) * np.log(1 - probability)).sum())
                weight_sum += len(q)
            if weight_sum and (best_loss is None or total / weight_sum < best_loss):
                best_c, best_loss = c, total / weight_sum
    coef, intercept = _logistic(design, quality, best_c, settings)
    del name
    return _LinearModel(
        coef=coef, intercept=intercept, regularisation=best_c, validation_log_loss=best_loss
    )


def _logistic(
    design: FloatArray, quality: FloatArray, c: float, settings: QualityModelSettings
) -> tuple[FloatArray, float]:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    features, labels, weights = _soft_labels(design, quality)
    if len(np.unique(labels)) < 2:
        mean_quality = float(np.clip(quality.mean(), 1e-6, 1 - 1e-6))
        return np.zeros(design.shape[1]), math.log(mean_quality / (1 - mean_quality))
    model = LogisticRegression(C=c, max_iter=settings.max_iterations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels, sample_weight=weights)
    coef = np.asarray(model.coef_[0], dtype=np.float64)
    return coef, float(model.intercept_[0])


def _sigmoid(logits: FloatArray) -> FloatArray:
    import numpy as np

    result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))
    return result
