"""Judging the learned router on RouteLLM's real routing data, by k-fold cross-validation.

Each prompt of a :class:`~ragged_graph.learning.routellm.RoutellmDataset` becomes two
training examples, the weak model's and the strong model's answer (quality 1 if correct,
else 0). :func:`evaluate_learned_router` hands a trainer to
:func:`~ragged_graph.learning.routellm.cross_validate`, which trains a
:class:`~ragged_graph.learning.learned_router.LearnedRouter` on four folds and scores the
fifth with its escalation score ``q(strong) - q(weak)``; APGR and CPT come from the same
metric code as every other router's.

Every prompt is featurised once up front (embedding, complexity breakdown, text stats): a
prompt's features do not depend on any label, so this is no leak, and it makes the folds
cheap. Everything learned (standardisation, coefficients, the choice of ``C`` by inner CV)
is learned inside each fold from its training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from langchain_core.embeddings import Embeddings

from ragged_graph.learning.features import QueryFeaturizer
from ragged_graph.learning.learned_router import (
    LearnedRouter,
    LearnedRouterSettings,
    TrainingExample,
)
from ragged_graph.learning.routellm import (
    STRONG_MODEL_COLUMN,
    WEAK_MODEL_COLUMN,
    RoutellmDataset,
    RouterEvaluation,
    ScoreFn,
    TrainRouter,
    cross_validate,
)
from ragged_graph.learning.routellm_metrics import DEFAULT_QUANTILE_BINS, ThresholdSweep

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "ROUTELLM_MODEL_COSTS",
    "evaluate_learned_router",
    "evaluation_embeddings",
    "learned_router_trainer",
    "routellm_training_examples",
    "train_on_routellm",
]

ROUTELLM_MODEL_COSTS: Final = {WEAK_MODEL_COLUMN: 1.0, STRONG_MODEL_COLUMN: 2.0}
"""The weak model is the cheap one; only the order matters."""


def evaluation_embeddings(kind: str, *, cache_dir: Path | None = None) -> Embeddings:
    """The embeddings ``eval routellm --router learned --embeddings KIND`` uses.

    ``minilm``: all-MiniLM-L6-v2 in-process, its vectors cached on disk under ``cache_dir``
    (default :func:`~ragged_graph.learning.embedding_cache.default_embedding_cache_dir`);
    raises ``ModuleNotFoundError`` saying what to install when it is missing. ``hashing``:
    :class:`~ragged_graph.learning.embeddings.HashingEmbeddings`, no model, no cache needed.
    """
    from ragged_graph.learning.embedding_cache import CachedEmbeddings
    from ragged_graph.learning.embeddings import HashingEmbeddings, MiniLMEmbeddings

    if kind == "hashing":
        return HashingEmbeddings()
    if kind == "minilm":
        model = MiniLMEmbeddings()
        model.resolve_model_path()  # fail now, with the install hint, if it is missing
        return CachedEmbeddings(model, cache_dir=cache_dir)
    raise ValueError(f"unknown embeddings {kind!r}; expected 'minilm' or 'hashing'")


def routellm_training_examples(dataset: RoutellmDataset) -> list[TrainingExample]:
    """Two examples per prompt: the weak and the strong model's correctness as quality."""
    examples: list[TrainingExample] = []
    for prompt, weak, strong in zip(
        dataset.prompts, dataset.weak_correct, dataset.strong_correct, strict=True
    ):
        examples.append(TrainingExample(query=prompt, model=WEAK_MODEL_COLUMN, quality=float(weak)))
        examples.append(
            TrainingExample(query=prompt, model=STRONG_MODEL_COLUMN, quality=float(strong))
        )
    return examples


def learned_router_trainer(
    featurizer: QueryFeaturizer,
    rows: dict[str, npt.NDArray[np.float64]],
    settings: LearnedRouterSettings | None = None,
    *,
    on_fit: Callable[[LearnedRouter], None] | None = None,
) -> TrainRouter:
    """A :data:`~ragged_graph.learning.routellm.TrainRouter` over precomputed feature rows.

    ``rows`` maps every prompt that will be trained on or scored to its feature row (made by
    ``featurizer``). ``on_fit`` sees each fold's router (for reports).
    """
    import numpy as np

    def fit(training: RoutellmDataset) -> ScoreFn:
        prompts = list(dict.fromkeys(training.prompts))
        position = {prompt: index for index, prompt in enumerate(prompts)}
        matrix = np.vstack([rows[prompt] for prompt in prompts])
        query_index: list[int] = []
        models: list[str] = []
        qualities: list[float] = []
        for prompt, weak, strong in zip(
            training.prompts, training.weak_correct, training.strong_correct, strict=True
        ):
            query_index += [position[prompt], position[prompt]]
            models += [WEAK_MODEL_COLUMN, STRONG_MODEL_COLUMN]
            qualities += [float(weak), float(strong)]
        router = LearnedRouter.fit_features(
            featurizer,
            matrix,
            query_index=query_index,
            models=models,
            qualities=qualities,
            settings=settings,
            model_costs=ROUTELLM_MODEL_COSTS,
        )
        if on_fit is not None:
            on_fit(router)

        # Score every prompt outside the training part in one batch on first use: the same
        # numbers as one at a time, without a neighbour search per call.
        scores: dict[str, float] = {}

        def score(prompt: str) -> float:
            if not scores:
                trained = set(prompts)
                held_out = [p for p in rows if p not in trained]
                if held_out:
                    batch = router.escalation_scores(np.vstack([rows[p] for p in held_out]))
                    scores.update(zip(held_out, (float(v) for v in batch), strict=True))
            if prompt not in scores:
                scores[prompt] = float(router.escalation_scores(rows[prompt][None, :])[0])
            return scores[prompt]

        return score

    return fit


def _featurize_dataset(
    dataset: RoutellmDataset, featurizer: QueryFeaturizer
) -> dict[str, npt.NDArray[np.float64]]:
    prompts = list(dict.fromkeys(dataset.prompts))
    matrix = featurizer.transform(prompts)
    return {prompt: matrix[index] for index, prompt in enumerate(prompts)}


def evaluate_learned_router(
    dataset: RoutellmDataset,
    embeddings: Embeddings | None,
    *,
    settings: LearnedRouterSettings | None = None,
    k: int = 5,
    seed: int = 0,
    name: str = "learned",
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
    on_fit: Callable[[LearnedRouter], None] | None = None,
) -> RouterEvaluation:
    """The learned router's APGR and CPT on ``dataset`` by ``k``-fold cross-validation
    (:func:`~ragged_graph.learning.routellm.cross_validate`, same folds as for any router)."""
    settings = settings or LearnedRouterSettings()
    featurizer = QueryFeaturizer(
        embeddings, use_complexity=settings.use_complexity, use_text=settings.use_text
    )
    rows = _featurize_dataset(dataset, featurizer)
    return cross_validate(
        dataset,
        learned_router_trainer(featurizer, rows, settings, on_fit=on_fit),
        k=k,
        seed=seed,
        name=name,
        sweep=sweep,
        quantile_bins=quantile_bins,
    )


def train_on_routellm(
    dataset: RoutellmDataset,
    embeddings: Embeddings | None,
    *,
    settings: LearnedRouterSettings | None = None,
) -> LearnedRouter:
    """A learned router trained on the whole of ``dataset`` (to save and use, not to judge)."""
    return LearnedRouter.fit(
        routellm_training_examples(dataset),
        embeddings,
        settings=settings,
        model_costs=ROUTELLM_MODEL_COSTS,
    )
