"""Predicting how well each model answers a query: one logistic model per model.

:class:`QualityPredictor` learns, for every model named in the training data, the probability
that the model's answer to a query is good (its quality score, 0 to 1). Its inputs per query:

- **neighbour qualities**, per model and per neighbourhood size ``k`` of a *scale set* such
  as (25, 100): the mean quality that model reached on the ``k`` training queries nearest to
  this one by cosine similarity of their embeddings (the semantic-router idea: how did each
  model fare on similar questions; a small ``k`` sees near-duplicates, a large one the
  topic). A training query is never its own neighbour. Only queries a model actually
  answered count for that model, so sparse history (each query answered by one model) works;
- the **dense features**: the complexity breakdown and text statistics
  (:class:`~ragged_graph.learning.features.QueryFeaturizer`), standardised.

The raw embedding is not a direct input of the logistic models: on RouteLLM's data it added
nothing over the neighbour qualities and hurt on MMLU (hundreds of weakly informative
columns). Quality scores between 0 and 1 are soft labels: a row counts as good with weight
``q`` and as bad with weight ``1 - q``.

The scale set and the L2 strength ``C`` are chosen together from
:class:`QualityModelSettings`' grids by an inner, query-grouped cross-validation on the
training data only (weighted log loss summed over the models): in each inner fold,
neighbours come from the inner training part alone. Rather than keep only the best
candidate, every candidate whose inner-CV loss is within one standard error of the best
one's (``average_within``; the error of the per-query paired difference) is kept and their
logits are averaged: where the inner CV cannot tell candidates apart, picking one of them
adds variance and no information. Since every candidate is a linear model over the same
standardised columns, the average is one linear model over the union of their scales (the
saved form does not change). No choice ever looks at data the caller holds out.

Training uses scikit-learn; prediction is numpy over the stored numbers (training embeddings,
per-model qualities, coefficients), so a saved predictor loads without pickles.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]

__all__ = [
    "DEFAULT_REGULARISATION_GRID",
    "DEFAULT_SCALE_GRID",
    "EMBEDDING_PREFIX",
    "NEIGHBOUR_PREFIX",
    "QualityModelSettings",
    "QualityPredictor",
]

DEFAULT_SCALE_GRID: Final = ((25,), (50,), (100,), (200,), (25, 100), (25, 100, 400))
"""Neighbourhood scale sets the inner cross-validation chooses from."""

DEFAULT_REGULARISATION_GRID: Final = (0.1, 1.0)
"""Inverse L2 strengths ``C`` the inner cross-validation chooses from."""

EMBEDDING_PREFIX: Final = "emb_"
"""Feature columns with this prefix are the embedding (used for neighbours only)."""

NEIGHBOUR_PREFIX: Final = "neighbours@"
"""Prefix of the neighbour-quality inputs' names (``neighbours@<k>:<model>``)."""

_EPSILON: Final = 1e-12
_CHUNK: Final = 1024


class QualityModelSettings(BaseModel):
    """How :class:`QualityPredictor` trains."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    scale_grid: tuple[tuple[int, ...], ...] = Field(default=DEFAULT_SCALE_GRID, min_length=1)
    """Neighbourhood scale sets to choose from: each a tuple of sizes ``k`` whose neighbour
    qualities are all inputs; a ``k`` beyond the history's size takes all of it."""

    regularisation_grid: tuple[float, ...] = Field(
        default=DEFAULT_REGULARISATION_GRID, min_length=1
    )
    """Values of ``C`` (inverse L2 strength) to choose from."""

    inner_folds: int = Field(default=3, ge=2)
    """Folds of the inner cross-validation that chooses scales and ``C`` (skipped when each
    grid has one value or there are too few queries)."""

    seed: int = 0
    """Seed of the inner folds' shuffle."""

    max_iterations: int = Field(default=2000, ge=10)
    """Iteration limit of the solver (lbfgs)."""

    average_within: float = Field(default=1.0, ge=0.0)
    """Candidates whose inner-CV log loss exceeds the best one's by at most this many standard
    errors (of the per-query paired difference) are all fitted and their logits averaged;
    0 keeps the best candidate only."""


@dataclass(frozen=True, slots=True)
class _History:
    """What each model scored on which training queries (one entry per query and model)."""

    queries: tuple[IntArray, ...]
    """Per model: indices into the training embeddings."""
    qualities: tuple[FloatArray, ...]
    """Per model: the mean quality reached on each of those queries."""


class QualityPredictor:
    """Per-model quality probabilities from query features (see the module docstring).

    Build it with :meth:`fit`; read it back with :meth:`from_arrays`.
    """

    def __init__(
        self,
        *,
        models: Sequence[str],
        feature_names: Sequence[str],
        scales: Sequence[int],
        regularisation: float,
        mean: FloatArray,
        scale: FloatArray,
        coefficients: FloatArray,
        intercepts: FloatArray,
        train_embeddings: npt.NDArray[Any] | None,
        history: _History | None,
        validation_log_loss: float | None = None,
        training_rows: Mapping[str, int] | None = None,
        members: Sequence[tuple[Sequence[int], float]] | None = None,
    ) -> None:
        import numpy as np

        if not models:
            raise ValueError("a quality predictor needs at least one model")
        self.models: tuple[str, ...] = tuple(models)
        self.feature_names: tuple[str, ...] = tuple(feature_names)
        """The featurizer's columns this predictor takes (embedding block first)."""
        self._embedding_columns = [
            i for i, n in enumerate(self.feature_names) if n.startswith(EMBEDDING_PREFIX)
        ]
        self._dense_columns = [
            i for i, n in enumerate(self.feature_names) if not n.startswith(EMBEDDING_PREFIX)
        ]
        uses_neighbours = bool(self._embedding_columns)
        self.scales: tuple[int, ...] = tuple(int(k) for k in scales) if uses_neighbours else ()
        """Neighbourhood sizes whose neighbour qualities are inputs (empty without embeddings)."""
        if uses_neighbours and (not self.scales or min(self.scales) < 1):
            raise ValueError("a predictor over embeddings needs neighbourhood sizes of 1 or more")
        width = len(self.models) * len(self.scales) + len(self._dense_columns)
        expected = {
            "mean": (width,),
            "scale": (width,),
            "coefficients": (len(self.models), width),
            "intercepts": (len(self.models),),
        }
        given = {
            "mean": mean,
            "scale": scale,
            "coefficients": coefficients,
            "intercepts": intercepts,
        }
        for name, shape in expected.items():
            if tuple(np.shape(given[name])) != shape:
                raise ValueError(f"{name} has shape {np.shape(given[name])}, expected {shape}")
        if uses_neighbours:
            if train_embeddings is None or history is None:
                raise ValueError("a predictor over embeddings needs its training embeddings")
            if train_embeddings.ndim != 2 or train_embeddings.shape[1] != len(
                self._embedding_columns
            ):
                raise ValueError(
                    f"training embeddings have shape {train_embeddings.shape}, expected "
                    f"(queries, {len(self._embedding_columns)})"
                )
            if len(history.queries) != len(self.models) or len(history.qualities) != len(
                self.models
            ):
                raise ValueError("the neighbour history must have one entry per model")
            for queries, qualities in zip(history.queries, history.qualities, strict=True):
                if len(queries) != len(qualities) or (
                    len(queries) and (queries.min() < 0 or queries.max() >= len(train_embeddings))
                ):
                    raise ValueError("the neighbour history points outside the embeddings")
        self.regularisation = float(regularisation)
        """``C`` of the logistic models (of the best candidate when several are averaged)."""
        self.members: tuple[tuple[tuple[int, ...], float], ...] = (
            tuple((tuple(int(k) for k in ks), float(c)) for ks, c in members)
            if members
            else ((self.scales, self.regularisation),)
        )
        """The (scales, ``C``) candidates whose logits the coefficients average, best first."""
        if uses_neighbours and any(not set(ks) <= set(self.scales) for ks, _ in self.members):
            raise ValueError("a member's neighbourhood sizes are not among the predictor's")
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        self.intercepts = np.asarray(intercepts, dtype=np.float64)
        self.train_embeddings = train_embeddings if uses_neighbours else None
        self.history = history if uses_neighbours else None
        self.validation_log_loss = validation_log_loss
        """Inner-CV log loss per row of the best scales and ``C`` (None: no inner CV)."""
        self.training_rows: dict[str, int] = dict(training_rows or {})
        self.training_predictions: FloatArray | None = None
        """After :meth:`fit`: the predicted qualities of the distinct training queries (in
        the order of their feature rows), each made as for a new query, without the query
        among its own neighbours. Not saved."""

    @property
    def input_names(self) -> list[str]:
        """Names of the logistic models' inputs: neighbour qualities, then dense features."""
        names = [f"{NEIGHBOUR_PREFIX}{k}:{m}" for m in self.models for k in self.scales]
        return names + [self.feature_names[i] for i in self._dense_columns]

    # ------------------------------------------------------------------------------ training

    @classmethod
    def fit(
        cls,
        features: FloatArray,
        query_index: Sequence[int] | IntArray,
        models: Sequence[str],
        qualities: Sequence[float],
        feature_names: Sequence[str],
        *,
        settings: QualityModelSettings | None = None,
    ) -> QualityPredictor:
        """Fit one predictor per distinct model.

        ``features`` holds one row per distinct training query (columns ``feature_names``,
        the embedding block named ``emb_*``). Training row ``i`` says that query
        ``query_index[i]`` was answered by ``models[i]`` with quality ``qualities[i]``.
        """
        import numpy as np

        settings = settings or QualityModelSettings()
        matrix = np.asarray(features, dtype=np.float64)
        index = np.asarray(query_index, dtype=np.int64)
        quality = np.asarray(qualities, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
            raise ValueError(
                f"features have shape {matrix.shape}, expected (queries, {len(feature_names)})"
            )
        if not (len(index) == len(models) == len(quality)) or len(index) == 0:
            raise ValueError("query_index, models and qualities must describe the same rows")
        if index.min() < 0 or index.max() >= len(matrix):
            raise ValueError("query_index points outside the feature rows")
        if not np.all(np.isfinite(matrix)):
            raise ValueError("features must be finite")
        if not np.all(np.isfinite(quality)) or np.any((quality < 0) | (quality > 1)):
            raise ValueError("qualities must lie between 0 and 1")

        names = sorted(set(models))
        model_of_row = np.asarray([names.index(m) for m in models], dtype=np.int64)
        embedding_columns = [
            i for i, n in enumerate(feature_names) if n.startswith(EMBEDDING_PREFIX)
        ]
        dense_columns = [
            i for i, n in enumerate(feature_names) if not n.startswith(EMBEDDING_PREFIX)
        ]
        dense = matrix[:, dense_columns]
        embeddings = _normalise(matrix[:, embedding_columns]) if embedding_columns else None
        history = _history(index, model_of_row, quality, len(names))

        scale_sets = [tuple(sorted(set(x))) for x in settings.scale_grid]
        grid = (
            [(k, c) for k in scale_sets for c in settings.regularisation_grid]
            if embeddings is not None
            else [((), c) for c in settings.regularisation_grid]
        )
        grid = list(dict.fromkeys(grid))
        queries_seen = np.unique(index)
        members, best_loss = [grid[0]], None
        if len(grid) > 1 and len(queries_seen) >= 4 * settings.inner_folds:
            members, best_loss = _inner_search(
                embeddings, dense, index, model_of_row, quality, history, grid, settings
            )
        # One linear model over the union of the members' scales: each member's coefficients
        # go to its own columns (the same column has the same standardisation in every
        # member), and the logits are averaged.
        scales = tuple(sorted({k for member_scales, _ in members for k in member_scales}))
        design = _design(embeddings, dense, history, scales, queries_seen, exclude_self=True)
        mean = design.mean(axis=0)
        scale = design.std(axis=0)
        scale[scale < _EPSILON] = 1.0
        standard = (design - mean) / scale
        position = np.full(len(matrix), -1, dtype=np.int64)
        position[queries_seen] = np.arange(len(queries_seen))
        coefficients = np.zeros((len(names), design.shape[1]))
        intercepts = np.zeros(len(names))
        neighbour_width = design.shape[1] - dense.shape[1]
        for member_scales, c in members:
            columns = [
                model * len(scales) + scales.index(k)
                for model in range(len(names))
                for k in (member_scales if neighbour_width else ())
            ] + list(range(neighbour_width, design.shape[1]))
            for model in range(len(names)):
                rows = model_of_row == model
                coef, intercept = _logistic(
                    standard[position[index[rows]]][:, columns],
                    quality[rows],
                    c,
                    settings.max_iterations,
                )
                coefficients[model, columns] += coef / len(members)
                intercepts[model] += intercept / len(members)
        predictor = cls(
            models=names,
            feature_names=feature_names,
            scales=scales,
            regularisation=members[0][1],
            mean=mean,
            scale=scale,
            coefficients=coefficients,
            intercepts=intercepts,
            train_embeddings=embeddings,
            history=history,
            validation_log_loss=best_loss,
            training_rows={n: int((model_of_row == i).sum()) for i, n in enumerate(names)},
            members=members,
        )
        predictor.training_predictions = _sigmoid(
            standard @ predictor.coefficients.T + predictor.intercepts
        )
        return predictor

    # ---------------------------------------------------------------------------- prediction

    def predict(self, features: FloatArray) -> FloatArray:
        """Predicted quality (0 to 1) of every model for every row of featurizer output:
        shape (rows, models), columns in :attr:`models` order."""
        import numpy as np

        matrix = np.asarray(features, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix[None, :]
        if matrix.shape[1] != len(self.feature_names):
            raise ValueError(
                f"got {matrix.shape[1]} feature columns, the predictor was trained on "
                f"{len(self.feature_names)}"
            )
        blocks = []
        if self.train_embeddings is not None and self.history is not None:
            queries = _normalise(matrix[:, self._embedding_columns])
            table = _neighbour_table(queries, self.train_embeddings, self.history, max(self.scales))
            blocks.append(_neighbour_means(table, self.scales))
        blocks.append(matrix[:, self._dense_columns])
        design = (np.hstack(blocks) - self.mean) / self.scale
        return _sigmoid(design @ self.coefficients.T + self.intercepts)

    # --------------------------------------------------------------------------- persistence

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The numeric state, for ``.npy`` files: float64, but the training embeddings
        (float32) and the history's query indices (int64)."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "mean": self.mean,
            "scale": self.scale,
            "coefficients": self.coefficients,
            "intercepts": self.intercepts,
        }
        if self.train_embeddings is not None and self.history is not None:
            arrays["train_embeddings"] = self.train_embeddings
            for i, (queries, qualities) in enumerate(
                zip(self.history.queries, self.history.qualities, strict=True)
            ):
                arrays[f"history_queries_{i}"] = queries
                arrays[f"history_qualities_{i}"] = qualities
        return arrays

    def describe(self) -> dict[str, object]:
        """The non-numeric state, for the JSON metadata."""
        return {
            "models": list(self.models),
            "feature_names": list(self.feature_names),
            "input_names": self.input_names,
            "neighbour_scales": list(self.scales),
            "regularisation": self.regularisation,
            "members": [
                {"neighbour_scales": list(ks), "regularisation": c} for ks, c in self.members
            ],
            "validation_log_loss": self.validation_log_loss,
            "training_rows": dict(self.training_rows),
        }

    @classmethod
    def from_arrays(
        cls, arrays: Mapping[str, npt.NDArray[Any]], description: Mapping[str, object]
    ) -> QualityPredictor:
        """The predictor :meth:`to_arrays` and :meth:`describe` describe.

        Raises ``KeyError``, ``TypeError`` or ``ValueError`` when a part is missing or malformed.
        """
        import numpy as np

        models = description["models"]
        feature_names = description["feature_names"]
        rows = description["training_rows"]
        scales = description["neighbour_scales"]
        regularisation = description["regularisation"]
        loss = description.get("validation_log_loss")
        listed = description.get("members")
        members: list[tuple[list[int], float]] = []
        if isinstance(listed, list):
            for entry in listed:
                if not (
                    isinstance(entry, dict)
                    and isinstance(entry.get("neighbour_scales"), list)
                    and all(isinstance(k, int) for k in entry["neighbour_scales"])
                    and isinstance(entry.get("regularisation"), int | float)
                ):
                    raise TypeError("the predictor's members have fields of the wrong type")
                members.append((list(entry["neighbour_scales"]), float(entry["regularisation"])))
        elif listed is not None:
            raise TypeError("the predictor's members must be a list")
        if not (
            isinstance(models, list)
            and isinstance(feature_names, list)
            and isinstance(rows, dict)
            and isinstance(scales, list)
            and all(isinstance(k, int) for k in scales)
            and isinstance(regularisation, int | float)
            and (loss is None or isinstance(loss, int | float))
        ):
            raise TypeError("the predictor's description has fields of the wrong type")
        stored = arrays.get("train_embeddings")
        embeddings = None if stored is None else np.asarray(stored, dtype=np.float32)
        history = None
        if embeddings is not None:
            history = _History(
                queries=tuple(
                    np.asarray(arrays[f"history_queries_{i}"]).astype(np.int64)
                    for i in range(len(models))
                ),
                qualities=tuple(
                    np.asarray(arrays[f"history_qualities_{i}"], dtype=np.float64)
                    for i in range(len(models))
                ),
            )
        return cls(
            models=[str(m) for m in models],
            feature_names=[str(f) for f in feature_names],
            scales=[int(k) for k in scales],
            regularisation=float(regularisation),
            mean=arrays["mean"],
            scale=arrays["scale"],
            coefficients=arrays["coefficients"],
            intercepts=arrays["intercepts"],
            train_embeddings=embeddings,
            history=history,
            validation_log_loss=None if loss is None else float(loss),
            training_rows={str(key): int(value) for key, value in rows.items()},
            members=members or None,
        )


# ------------------------------------------------------------------------------------ helpers


def _normalise(vectors: FloatArray) -> FloatArray:
    """Rows scaled to unit length (zero rows stay zero), as float32 to halve memory."""
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    result: FloatArray = (vectors / np.maximum(norms, _EPSILON)).astype(np.float32)
    return result


def _history(index: IntArray, model_of_row: IntArray, quality: FloatArray, models: int) -> _History:
    """Per model, the distinct queries it answered and its mean quality on each."""
    import numpy as np

    queries, qualities = [], []
    for model in range(models):
        rows = model_of_row == model
        ids, inverse = np.unique(index[rows], return_inverse=True)
        sums = np.bincount(inverse, weights=quality[rows], minlength=len(ids))
        counts = np.bincount(inverse, minlength=len(ids))
        queries.append(ids.astype(np.int64))
        qualities.append(sums / counts)
    return _History(queries=tuple(queries), qualities=tuple(qualities))


def _restrict(history: _History, allowed: npt.NDArray[np.bool_]) -> _History:
    """Only the entries of queries where ``allowed[query]`` holds."""
    keep = [allowed[q] for q in history.queries]
    return _History(
        queries=tuple(q[m] for q, m in zip(history.queries, keep, strict=True)),
        qualities=tuple(v[m] for v, m in zip(history.qualities, keep, strict=True)),
    )


def _top_neighbours(
    queries: FloatArray,
    pool: FloatArray,
    k: int,
    query_ids: IntArray | None = None,
    pool_ids: IntArray | None = None,
) -> IntArray:
    """For each query row, the positions in ``pool`` of its ``k`` most similar rows, most
    similar first. A pool row whose id equals the query's id is never returned (no query is
    its own neighbour). ``k`` must leave enough rows."""
    import numpy as np

    result = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), _CHUNK):
        stop = min(start + _CHUNK, len(queries))
        similarity = queries[start:stop] @ pool.T
        if query_ids is not None and pool_ids is not None:
            # Where a query is in the pool, knock it out (pool ids are sorted and distinct).
            ids = query_ids[start:stop]
            spot = np.minimum(np.searchsorted(pool_ids, ids), len(pool_ids) - 1)
            found = pool_ids[spot] == ids
            similarity[np.flatnonzero(found), spot[found]] = -np.inf
        if k < similarity.shape[1]:
            top = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(similarity.shape[1]), (stop - start, 1))
        order = np.argsort(-np.take_along_axis(similarity, top, axis=1), axis=1, kind="stable")
        result[start:stop] = np.take_along_axis(top, order, axis=1)
    return result


@dataclass(frozen=True, slots=True)
class _NeighbourTable:
    """Per model: each query row's nearest answered queries (most similar first), as their
    qualities; None where the model answered too few queries (``fallback`` then)."""

    qualities: tuple[FloatArray | None, ...]
    fallback: tuple[float, ...]


def _neighbour_table(
    queries: FloatArray,
    embeddings: FloatArray,
    history: _History,
    k: int,
    query_ids: IntArray | None = None,
) -> _NeighbourTable:
    """The ``k`` nearest answered queries of each query row, per model (fewer when the model
    answered fewer). ``query_ids`` (indices into ``embeddings``) keep each query out of its
    own neighbours."""
    cache: dict[bytes, IntArray] = {}
    tables: list[FloatArray | None] = []
    fallbacks: list[float] = []
    for ids, qualities in zip(history.queries, history.qualities, strict=True):
        fallbacks.append(float(qualities.mean()) if len(qualities) else 0.5)
        available = len(ids) - (1 if query_ids is not None else 0)
        take = min(k, available)
        if take <= 0:
            tables.append(None)
            continue
        key = ids.tobytes() + take.to_bytes(8, "little")
        if key not in cache:
            cache[key] = _top_neighbours(queries, embeddings[ids], take, query_ids, ids)
        tables.append(qualities[cache[key]])
    return _NeighbourTable(qualities=tuple(tables), fallback=tuple(fallbacks))


def _neighbour_means(table: _NeighbourTable, scales: Sequence[int]) -> FloatArray:
    """Columns ``neighbours@k:model`` (model-major): the mean over the first ``k`` neighbours."""
    import numpy as np

    columns: list[FloatArray] = []
    rows = next((len(t) for t in table.qualities if t is not None), 0)
    for qualities, fallback in zip(table.qualities, table.fallback, strict=True):
        for k in scales:
            if qualities is None:
                columns.append(np.full(rows, fallback))
            else:
                columns.append(qualities[:, :k].mean(axis=1))
    return np.column_stack(columns) if columns else np.empty((rows, 0))


def _design(
    embeddings: FloatArray | None,
    dense: FloatArray,
    history: _History,
    scales: Sequence[int],
    queries: IntArray,
    *,
    exclude_self: bool,
    table: _NeighbourTable | None = None,
) -> FloatArray:
    """The logistic models' inputs for the training queries ``queries`` (``table``: their
    neighbours, if already looked up)."""
    import numpy as np

    if embeddings is None or not scales:
        return dense[queries]
    if table is None:
        table = _neighbour_table(
            embeddings[queries],
            embeddings,
            history,
            max(scales),
            queries if exclude_self else None,
        )
    return np.hstack([_neighbour_means(table, scales), dense[queries]])


def _inner_search(
    embeddings: FloatArray | None,
    dense: FloatArray,
    index: IntArray,
    model_of_row: IntArray,
    quality: FloatArray,
    history: _History,
    grid: list[tuple[tuple[int, ...], float]],
    settings: QualityModelSettings,
) -> tuple[list[tuple[tuple[int, ...], float]], float | None]:
    """The (scales, C) of ``grid`` with the lowest query-grouped inner-CV log loss, first,
    followed by every other one within ``settings.average_within`` standard errors of it;
    and the best one's log loss per row."""
    import numpy as np

    queries = np.unique(index)
    rng = np.random.default_rng(settings.seed)
    fold_of_query = np.full(len(dense), -1, dtype=np.int64)
    fold_of_query[rng.permutation(queries)] = np.arange(len(queries)) % settings.inner_folds
    # Per grid point, the log loss of every training row when its query was held out.
    row_losses = {point: np.zeros(len(index)) for point in grid}
    models = len(history.queries)
    for fold in range(settings.inner_folds):
        in_train = (fold_of_query >= 0) & (fold_of_query != fold)
        train_queries = np.flatnonzero(in_train)
        valid_queries = np.flatnonzero(fold_of_query == fold)
        inner_history = _restrict(history, in_train)
        train_rows = in_train[index]
        valid_rows = (fold_of_query == fold)[index]
        position = np.full(len(dense), -1, dtype=np.int64)
        position[train_queries] = np.arange(len(train_queries))
        position[valid_queries] = np.arange(len(valid_queries))
        train_table = valid_table = None
        widest = max((max(k) for k, _ in grid if k), default=0)
        if embeddings is not None and widest:
            train_table = _neighbour_table(
                embeddings[train_queries], embeddings, inner_history, widest, train_queries
            )
            valid_table = _neighbour_table(
                embeddings[valid_queries], embeddings, inner_history, widest
            )
        for k in list(dict.fromkeys(k for k, _ in grid)):
            train_design = _design(
                embeddings,
                dense,
                inner_history,
                k,
                train_queries,
                exclude_self=True,
                table=train_table,
            )
            valid_design = _design(
                embeddings,
                dense,
                inner_history,
                k,
                valid_queries,
                exclude_self=False,
                table=valid_table,
            )
            mean = train_design.mean(axis=0)
            scale = train_design.std(axis=0)
            scale[scale < _EPSILON] = 1.0
            train_standard = (train_design - mean) / scale
            valid_standard = (valid_design - mean) / scale
            for c in [c for kk, c in grid if kk == k]:
                for model in range(models):
                    fit_rows = train_rows & (model_of_row == model)
                    test_rows = valid_rows & (model_of_row == model)
                    if not test_rows.any():
                        continue
                    coef, intercept = _logistic(
                        train_standard[position[index[fit_rows]]],
                        quality[fit_rows],
                        c,
                        settings.max_iterations,
                    )
                    p = np.clip(
                        _sigmoid(valid_standard[position[index[test_rows]]] @ coef + intercept),
                        1e-9,
                        1 - 1e-9,
                    )
                    q = quality[test_rows]
                    row_losses[(k, c)][test_rows] = -(q * np.log(p) + (1 - q) * np.log(1 - p))
    losses = {point: float(values.sum()) for point, values in row_losses.items()}
    best = min(grid, key=lambda point: losses[point])
    chosen = [best]
    if settings.average_within > 0:
        # The paired difference to the best candidate, summed per query (a query's rows
        # share its neighbours and fold, so they are not independent of each other).
        _, query_of_row = np.unique(index, return_inverse=True)
        for point in sorted(grid, key=lambda point: losses[point]):
            if point == best:
                continue
            per_query = np.bincount(query_of_row, weights=row_losses[point] - row_losses[best])
            error = float(per_query.std(ddof=1)) / math.sqrt(len(per_query))
            if float(per_query.mean()) <= settings.average_within * error:
                chosen.append(point)
    return chosen, losses[best] / len(index)


def _logistic(
    design: FloatArray, quality: FloatArray, c: float, max_iterations: int
) -> tuple[FloatArray, float]:
    """A logistic regression on soft labels: each row good with weight q, bad with 1-q."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    mean_quality = float(np.clip(quality.mean(), 1e-6, 1 - 1e-6)) if len(quality) else 0.5
    good, bad = quality > 0, quality < 1
    if not good.any() or not bad.any() or np.all(quality == quality[0]):
        # Nothing to separate: predict the mean quality for every query.
        return np.zeros(design.shape[1]), math.log(mean_quality / (1 - mean_quality))
    features = np.vstack([design[good], design[bad]])
    labels = np.concatenate([np.ones(int(good.sum())), np.zeros(int(bad.sum()))])
    weights = np.concatenate([quality[good], 1.0 - quality[bad]])
    model = LogisticRegression(C=c, max_iter=max_iterations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels, sample_weight=weights)
    return np.asarray(model.coef_[0], dtype=np.float64), float(model.intercept_[0])


def _sigmoid(logits: FloatArray) -> FloatArray:
    import numpy as np

    result: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))
    return result
