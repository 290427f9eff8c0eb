"""The learned router: predicts each model's answer quality for a query, then picks a model.

Trained from routing history, :class:`TrainingExample` records of (query, model, quality
score), it fits one quality predictor per model
(:class:`~ragged_graph.learning.quality_model.QualityPredictor`) over the query's embedding
(any LangChain ``Embeddings``: Ollama's in production), its complexity breakdown and cheap
text statistics (:class:`~ragged_graph.learning.features.QueryFeaturizer`).

:meth:`LearnedRouter.choose` then decides among the candidate models (anything with a
``name`` and a ``cost``; :func:`candidates_from_cards` makes them from registry cards) by one
of three :class:`LearnedStrategy`:

- ``threshold`` (default), RouteLLM's rule generalised: stay on the cheapest candidate unless
  the best predicted quality among the others beats it by at least the calibrated
  ``threshold``, then take the best one. The threshold is calibrated to a target share of
  escalated calls (``strong_share``) as a quantile of the escalation score over the training
  queries, or over any sample of unlabelled queries through :meth:`LearnedRouter.calibrate`;
- ``target_quality``: the cheapest candidate whose predicted quality reaches the target
  (the best predicted one when none does);
- ``utility``: the largest ``quality - cost_weight * cost``, costs rescaled to 0 (cheapest
  candidate) .. 1 (dearest), so ``cost_weight`` is the quality given up to pay the most.

Typical use::

    router = LearnedRouter.fit(examples, OllamaEmbeddings(model="nomic-embed-text"))
    router.save("learned-router.zip")
    ...
    router = LearnedRouter.load("learned-router.zip", embeddings)
    choice = router.choose(query, candidates_from_cards(cards), breakdown)
    choice.model, choice.predicted_quality, choice.reason

scikit-learn and numpy (the ``learned`` extra) are imported on first use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field

from ragged_graph.errors import LearnedModelError
from ragged_graph.learning.embeddings import embeddings_name
from ragged_graph.learning.features import QueryFeaturizer
from ragged_graph.learning.quality_model import QualityModelSettings, QualityPredictor

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ragged_graph.registry.cards import ModelCard

    FloatArray = npt.NDArray[np.float64]

__all__ = [
    "CostedModel",
    "LearnedCandidate",
    "LearnedChoice",
    "LearnedRouter",
    "LearnedRouterSettings",
    "LearnedStrategy",
    "TrainingExample",
    "candidates_from_cards",
    "card_cost",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainingExample:
    """One record of routing history: how well ``model`` answered ``query``."""

    query: str
    """The query as the router saw it."""

    model: str
    """The model that answered it."""

    quality: float
    """How good the answer was, from 0 (wrong or useless) to 1 (right); feedback scores,
    a judge's grade or exact-match correctness."""

    breakdown: Mapping[str, float] | None = None
    """The complexity breakdown the router computed for the query, if it was kept (computed
    again from the query when None)."""

    def __post_init__(self) -> None:
        if not self.query:
            raise ValueError("a training example needs a non-empty query")
        if not self.model:
            raise ValueError("a training example needs a model name")
        if not (0.0 <= self.quality <= 1.0) or math.isnan(self.quality):
            raise ValueError(f"quality must lie between 0 and 1, got {self.quality!r}")


@runtime_checkable
class CostedModel(Protocol):
    """A candidate for :meth:`LearnedRouter.choose`: a model name and what a call costs."""

    @property
    def name(self) -> str: ...

    @property
    def cost(self) -> float: ...


@dataclass(frozen=True, slots=True)
class LearnedCandidate:
    """A plain :class:`CostedModel`."""

    name: str
    cost: float


def card_cost(card: ModelCard, *, local_cost_per_million: float = 0.0) -> float:
    """A registry card's cost for the learned router: its price per million input plus output
    tokens (``local_cost_per_million`` for both on a local model), plus its size in billions of
    parameters / 1000, so that among free local models the bigger one counts as dearer."""
    from ragged_graph.routing.costs import prices_per_mtok

    price_in, price_out = prices_per_mtok(card, local_cost_per_million)
    size = card.parameters_b if card.parameters_b is not None else card.memory_gb
    return price_in + price_out + size / 1000.0


def candidates_from_cards(
    cards: Iterable[ModelCard], *, local_cost_per_million: float = 0.0
) -> list[LearnedCandidate]:
    """Candidates for :meth:`LearnedRouter.choose` from registry cards (see :func:`card_cost`)."""
    return [
        LearnedCandidate(card.name, card_cost(card, local_cost_per_million=local_cost_per_million))
        for card in cards
    ]


class LearnedStrategy(StrEnum):
    """How :meth:`LearnedRouter.choose` turns predicted qualities into a choice."""

    THRESHOLD = "threshold"
    """Escalate from the cheapest candidate only when the best other one is predicted to be
    better by the calibrated threshold (RouteLLM's rule)."""
    TARGET_QUALITY = "target_quality"
    """The cheapest candidate predicted to reach ``target_quality``."""
    UTILITY = "utility"
    """The largest predicted quality minus ``cost_weight`` times the rescaled cost."""


class LearnedRouterSettings(BaseModel):
    """How a :class:`LearnedRouter` trains and decides."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    quality_model: QualityModelSettings = QualityModelSettings()
    """How the per-model quality predictors are trained."""

    use_complexity: bool = True
    """Whether the complexity breakdown is a feature."""

    use_text: bool = True
    """Whether text statistics (length, quantities, ...) are features."""

    strategy: LearnedStrategy = LearnedStrategy.THRESHOLD
    """The default decision rule of :meth:`LearnedRouter.choose`."""

    strong_share: float = Field(default=0.5, ge=0.0, le=1.0)
    """Share of queries the ``threshold`` strategy should escalate past the cheapest model;
    the threshold is calibrated to it."""

    target_quality: float = Field(default=0.8, ge=0.0, le=1.0)
    """Predicted quality the ``target_quality`` strategy asks for."""

    cost_weight: float = Field(default=0.2, ge=0.0)
    """Quality the ``utility`` strategy gives up to go from the cheapest to the dearest."""


class LearnedChoice(BaseModel):
    """What :meth:`LearnedRouter.choose` decided, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    model: str
    """The chosen model."""

    strategy: LearnedStrategy
    """The rule that chose it."""

    predicted_quality: dict[str, float]
    """Predicted quality (0 to 1) of every candidate the router knows."""

    escalation_score: float | None = None
    """``threshold`` only: best predicted quality among the dearer candidates minus the
    cheapest one's."""

    threshold: float | None = None
    """``threshold`` only: the calibrated threshold the score was compared with."""

    unknown_candidates: tuple[str, ...] = ()
    """Candidates the router has no history for, so it did not consider them."""

    reason: str
    """The decision in words."""


class LearnedRouter:
    """Per-model quality predictions over query features, and a decision rule on top.

    Build it with :meth:`fit` (or :meth:`fit_features` when the feature matrix is at hand),
    or read it with :meth:`load`. See the module docstring.
    """

    def __init__(
        self,
        *,
        featurizer: QueryFeaturizer,
        predictor: QualityPredictor,
        settings: LearnedRouterSettings,
        model_costs: Mapping[str, float] | None = None,
        threshold: float = 0.0,
        calibration_queries: int = 0,
        embedding_model: str | None = None,
        embedding_dimension: int | None = None,
        trained_at: datetime | None = None,
        training_examples: int = 0,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        self.featurizer = featurizer
        self.predictor = predictor
        self.settings = settings
        self.model_costs: dict[str, float] = dict(model_costs or {})
        """Cost of each trained model, as given at training (orders candidates for calibration)."""
        self.threshold = threshold
        """The ``threshold`` strategy's calibrated threshold."""
        self.calibration_queries = calibration_queries
        """How many queries the threshold was calibrated on."""
        self.embedding_model = embedding_model
        self.embedding_dimension = embedding_dimension
        self.trained_at = trained_at or datetime.now(UTC)
        self.training_examples = training_examples
        self.metrics: dict[str, Any] = dict(metrics or {})
        """Free-form evaluation figures kept with the saved router (e.g. cross-validated APGR)."""

    # ------------------------------------------------------------------------------ training

    @classmethod
    def fit(
        cls,
        examples: Iterable[TrainingExample],
        embeddings: Embeddings | None,
        *,
        settings: LearnedRouterSettings | None = None,
        model_costs: Mapping[str, float] | None = None,
    ) -> LearnedRouter:
        """Train on routing history.

        ``embeddings`` embeds the queries (None: complexity and text features only).
        ``model_costs`` gives each model's cost (default: models ordered by their mean quality
        in the history, the best counted dearest); it decides which model is the cheap one
        when the threshold is calibrated on the training queries.
        """
        settings = settings or LearnedRouterSettings()
        rows = list(examples)
        if not rows:
            raise ValueError("cannot train a learned router on no examples")
        featurizer = QueryFeaturizer(
            embeddings, use_complexity=settings.use_complexity, use_text=settings.use_text
        )
        queries = list(dict.fromkeys(row.query for row in rows))
        position = {query: index for index, query in enumerate(queries)}
        breakdowns: list[Mapping[str, float] | None] = [None] * len(queries)
        for row in rows:
            if row.breakdown is not None:
                breakdowns[position[row.query]] = row.breakdown
        matrix = featurizer.transform(queries, breakdowns)
        return cls.fit_features(
            featurizer,
            matrix,
            query_index=[position[row.query] for row in rows],
            models=[row.model for row in rows],
            qualities=[row.quality for row in rows],
            settings=settings,
            model_costs=model_costs,
        )

    @classmethod
    def fit_features(
        cls,
        featurizer: QueryFeaturizer,
        matrix: FloatArray,
        *,
        query_index: Sequence[int],
        models: Sequence[str],
        qualities: Sequence[float],
        settings: LearnedRouterSettings | None = None,
        model_costs: Mapping[str, float] | None = None,
    ) -> LearnedRouter:
        """Train from a feature matrix that ``featurizer`` already made, one row per distinct
        query; training row ``i`` is query ``query_index[i]`` answered by ``models[i]`` with
        quality ``qualities[i]``. The threshold is calibrated on the training queries, each
        predicted as a new query would be (not among its own neighbours)."""
        import numpy as np

        settings = settings or LearnedRouterSettings()
        features = np.asarray(matrix, dtype=np.float64)
        index = np.asarray(query_index, dtype=np.int64)
        predictor = QualityPredictor.fit(
            features,
            index,
            models,
            qualities,
            featurizer.feature_names(),
            settings=settings.quality_model,
        )
        costs = dict(model_costs) if model_costs is not None else {}
        missing = [m for m in predictor.models if m not in costs]
        if missing:
            # Without costs, the model that did best in the history counts as the dearest.
            means = {
                name: float(
                    np.mean([q for m, q in zip(models, qualities, strict=True) if m == name])
                )
                for name in missing
            }
            for rank, name in enumerate(sorted(missing, key=lambda m: (means[m], m))):
                costs.setdefault(name, float(rank))
        router = cls(
            featurizer=featurizer,
            predictor=predictor,
            settings=settings,
            model_costs=costs,
            embedding_model=(
                embeddings_name(featurizer.embeddings) if featurizer.embeddings else None
            ),
            embedding_dimension=featurizer.embedding_dimension,
            training_examples=len(models),
        )
        training = predictor.training_predictions
        if training is not None and len(predictor.models) >= 2:
            # Each training query predicted as a new one would be (never its own neighbour),
            # so the share holds for new queries like them.
            router._calibrate_scores(router._escalation(training), settings.strong_share)
        else:
            router.calibrate_features(features)
        return router

    # ---------------------------------------------------------------------------- prediction

    @property
    def models(self) -> tuple[str, ...]:
        """The models the router can predict for (those in its training history)."""
        return self.predictor.models

    def featurize(
        self,
        queries: Sequence[str],
        breakdowns: Sequence[Mapping[str, float] | None] | None = None,
    ) -> FloatArray:
        """The feature rows of ``queries``, checked against what the router was trained on."""
        matrix = self.featurizer.transform(queries, breakdowns)
        if matrix.shape[1] != len(self.predictor.feature_names):
            raise LearnedModelError(
                None,
                f"the embeddings give {self.featurizer.embedding_dimension} dimensions, so "
                f"{matrix.shape[1]} features, but the router was trained on "
                f"{len(self.predictor.feature_names)} ({self.embedding_model}, "
                f"{self.embedding_dimension} dimensions)",
                remedy="Use the embedding model it was trained with, or retrain it.",
            )
        return matrix

    def predict_features(self, matrix: FloatArray) -> list[dict[str, float]]:
        """Predicted quality of every known model for each feature row."""
        predicted = self.predictor.predict(matrix)
        return [
            {model: float(value) for model, value in zip(self.models, row, strict=True)}
            for row in predicted
        ]

    def predict_qualities(
        self, query: str, breakdown: Mapping[str, float] | None = None
    ) -> dict[str, float]:
        """Predicted quality (0 to 1) of every known model for ``query``."""
        return self.predict_features(self.featurize([query], [breakdown]))[0]

    def escalation_scores(
        self, matrix: FloatArray, candidates: Sequence[str] | None = None
    ) -> FloatArray:
        """For each feature row: the best predicted quality among ``candidates`` (default: every
        known model) other than the cheapest, minus the cheapest one's. Higher means the query
        needs a dearer model more; for two models it is ``q(strong) - q(weak)``."""
        return self._escalation(self.predictor.predict(matrix), candidates)

    def _escalation(
        self, predicted: FloatArray, candidates: Sequence[str] | None = None
    ) -> FloatArray:
        """:meth:`escalation_scores` from predicted qualities (columns in :attr:`models` order)."""
        import numpy as np

        names = self._by_cost(candidates if candidates is not None else self.models)
        if len(names) < 2:
            raise ValueError("escalation needs at least two known candidates")
        column = {model: index for index, model in enumerate(self.models)}
        cheapest = predicted[:, column[names[0]]]
        others = predicted[:, [column[name] for name in names[1:]]]
        scores: FloatArray = np.max(others, axis=1) - cheapest
        return scores

    def escalation_score(self, query: str, breakdown: Mapping[str, float] | None = None) -> float:
        """:meth:`escalation_scores` of one query over every known model."""
        return float(self.escalation_scores(self.featurize([query], [breakdown]))[0])

    # --------------------------------------------------------------------------- calibration

    def calibrate(
        self,
        queries: Sequence[str],
        strong_share: float | None = None,
        breakdowns: Sequence[Mapping[str, float] | None] | None = None,
    ) -> float:
        """Set :attr:`threshold` so that ``strong_share`` of ``queries`` (default: the settings'
        share) would escalate past the cheapest model; returns the threshold.

        Needs no labels: a sample of recent real queries is the best calibration set.
        """
        return self.calibrate_features(self.featurize(queries, breakdowns), strong_share)

    def calibrate_features(self, matrix: FloatArray, strong_share: float | None = None) -> float:
        """:meth:`calibrate` from feature rows."""
        share = self.settings.strong_share if strong_share is None else strong_share
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"strong_share must lie between 0 and 1, got {share}")
        if len(self.models) < 2 or len(matrix) == 0:
            self.threshold = 0.0
            self.calibration_queries = len(matrix)
            return self.threshold
        return self._calibrate_scores(self.escalation_scores(matrix), share)

    def _calibrate_scores(self, escalation: FloatArray, share: float) -> float:
        """Set the threshold so that ``share`` of ``escalation`` scores reach it."""
        import numpy as np

        scores = np.sort(escalation)
        count = len(scores)
        escalate = round(share * count)
        if escalate <= 0:
            threshold = float(np.nextafter(scores[-1], np.inf))
        elif escalate >= count:
            threshold = float(scores[0])
        else:
            # The escalate-th highest score: exactly that many scores reach it (ties aside).
            threshold = float(scores[count - escalate])
        self.threshold = threshold
        self.calibration_queries = count
        self.settings = self.settings.model_copy(update={"strong_share": share})
        return threshold

    # ------------------------------------------------------------------------------ decision

    def choose(
        self,
        query: str,
        candidates: Sequence[CostedModel],
        breakdown: Mapping[str, float] | None = None,
        *,
        strategy: LearnedStrategy | str | None = None,
        target_quality: float | None = None,
        cost_weight: float | None = None,
    ) -> LearnedChoice:
        """Choose among ``candidates`` for ``query`` (see the module docstring).

        ``breakdown`` is the complexity breakdown the router already computed, if any.
        Candidates without history are left out and listed in the choice. Raises
        ``ValueError`` when no candidate is known to the router: let the rules decide then.
        """
        rule = LearnedStrategy(strategy) if strategy is not None else self.settings.strategy
        known = [c for c in candidates if c.name in self.predictor.models]
        unknown = tuple(c.name for c in candidates if c.name not in self.predictor.models)
        if not known:
            raise ValueError(
                f"none of the candidates {[c.name for c in candidates]} is known to the learned "
                f"router (it knows {list(self.models)}); choose by the rules instead"
            )
        qualities = self.predict_qualities(query, breakdown)
        predicted = {c.name: qualities[c.name] for c in known}
        ordered = sorted(known, key=lambda c: (c.cost, c.name))
        cheapest = ordered[0]
        best_quality = max(predicted.values())
        escalation: float | None = None
        threshold: float | None = None
        if rule is LearnedStrategy.THRESHOLD:
            threshold = self.threshold
            if len(ordered) == 1:
                chosen = cheapest
                reason = f"only {cheapest.name} is known to the learned router"
            else:
                rest = ordered[1:]
                best_other = max(rest, key=lambda c: (predicted[c.name], -c.cost))
                escalation = predicted[best_other.name] - predicted[cheapest.name]
                if escalation >= threshold:
                    chosen = best_other
                    reason = (
                        f"{best_other.name} predicted {predicted[best_other.name]:.2f} vs "
                        f"{cheapest.name} {predicted[cheapest.name]:.2f}: gap {escalation:+.3f} "
                        f"reaches the threshold {threshold:+.3f}"
                    )
                else:
                    chosen = cheapest
                    reason = (
                        f"{cheapest.name} predicted {predicted[cheapest.name]:.2f}; the best "
                        f"dearer model gains {escalation:+.3f}, under the threshold "
                        f"{threshold:+.3f}"
                    )
        elif rule is LearnedStrategy.TARGET_QUALITY:
            target = self.settings.target_quality if target_quality is None else target_quality
            clearing = [c for c in ordered if predicted[c.name] >= target]
            if clearing:
                chosen = clearing[0]
                reason = (
                    f"cheapest model predicted to reach quality {target:.2f}: "
                    f"{chosen.name} ({predicted[chosen.name]:.2f})"
                )
            else:
                chosen = max(ordered, key=lambda c: (predicted[c.name], -c.cost))
                reason = (
                    f"no model predicted to reach quality {target:.2f}; the best predicted is "
                    f"{chosen.name} ({best_quality:.2f})"
                )
        else:
            weight = self.settings.cost_weight if cost_weight is None else cost_weight
            low, high = ordered[0].cost, ordered[-1].cost
            span = high - low

            def utility(candidate: CostedModel) -> float:
                relative = (candidate.cost - low) / span if span > 0 else 0.0
                return predicted[candidate.name] - weight * relative

            chosen = max(ordered, key=lambda c: (utility(c), -c.cost))
            reason = (
                f"{chosen.name} has the best predicted quality less cost "
                f"({predicted[chosen.name]:.2f} - {weight:g} x rescaled cost = "
                f"{utility(chosen):.3f})"
            )
        if unknown:
            reason += f"; no history for {', '.join(unknown)}"
        return LearnedChoice(
            model=chosen.name,
            strategy=rule,
            predicted_quality=predicted,
            escalation_score=escalation,
            threshold=threshold,
            unknown_candidates=unknown,
            reason=reason,
        )

    def _by_cost(self, names: Iterable[str]) -> list[str]:
        """Known ``names``, cheapest first (by the costs given at training)."""
        known = [name for name in dict.fromkeys(names) if name in self.predictor.models]
        return sorted(known, key=lambda name: (self.model_costs.get(name, 0.0), name))

    # --------------------------------------------------------------------------- persistence

    def save(self, path: Path | str) -> Path:
        """Write the router to ``path`` (a versioned zip file; see
        :mod:`ragged_graph.learning.learned_store`)."""
        from ragged_graph.learning.learned_store import save_learned_router

        return save_learned_router(self, Path(path))

    @classmethod
    def load(cls, path: Path | str, embeddings: Embeddings | None) -> LearnedRouter:
        """Read a router :meth:`save` wrote; ``embeddings`` must be the model it was trained
        with. Raises :class:`~ragged_graph.errors.LearnedModelError` when it cannot be used."""
        from ragged_graph.learning.learned_store import load_learned_router

        return load_learned_router(Path(path), embeddings)
