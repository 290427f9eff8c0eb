"""Continual learning: train the learned router on the routing history and its feedback.

Training examples are the routing records that carry both the query text (history
``query_text: store``) and a feedback score: ``(query, the model that answered, score)``.
:func:`retrain` holds out the newest share of them, fits a candidate router on the rest,
and replaces the saved router only if the candidate predicts the held-out scores better
(lower mean squared error of the predicted quality of the model that answered). Either
way the decision is logged and returned. ``ragged-graph learn`` runs it on demand;
``RaggedRouter.feedback`` runs it in the background after ``learning.retrain_after``
new pieces of feedback.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from ragged_graph.errors import LearnedModelError
from ragged_graph.telemetry.store import HistoryStore

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from ragged_graph.config import LearningSettings, RouterConfig
    from ragged_graph.learning.learned_router import LearnedRouter, TrainingExample

__all__ = [
    "RetrainOutcome",
    "examples_from_history",
    "feedback_since_training",
    "learning_embeddings",
    "prediction_error",
    "retrain",
    "retrain_in_background",
]

logger = logging.getLogger("ragged_graph.learning")

_MARGIN = 1e-4
"""How much lower the candidate's mean squared error must be to replace the saved router."""


class RetrainOutcome(BaseModel):
    """What one retraining did, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    replaced: bool
    """Whether the candidate replaced the saved router."""

    reason: str
    """Why, in words."""

    examples: int
    """Training examples found in the history."""

    held_out: int
    """How many of the newest examples judged the candidate against the current router."""

    candidate_error: float | None = None
    """The candidate's mean squared error on the held-out examples."""

    current_error: float | None = None
    """The current router's on the same examples; None when there was none (or unusable)."""

    path: str
    """The saved router's file."""


def examples_from_history(store: HistoryStore) -> list[TrainingExample]:
    """Training examples from ``store``: answered requests with query text and feedback,
    oldest first."""
    from ragged_graph.learning.learned_router import TrainingExample

    rows = store.rows(
        columns=["query_text", "answered_by", "model", "feedback", "complexity_breakdown"]
    )
    examples = []
    for row in rows:
        score, text = row["feedback"], row["query_text"]
        if score is None or not text or not math.isfinite(score):
            continue
        examples.append(
            TrainingExample(
                query=text,
                model=row["answered_by"] or row["model"],
                quality=min(1.0, max(0.0, float(score))),
                breakdown=row["complexity_breakdown"] or None,
            )
        )
    return examples


def prediction_error(router: LearnedRouter, examples: Sequence[TrainingExample]) -> float:
    """Mean squared error of ``router``'s predicted quality for the model that answered each
    example; models the router does not know count as a prediction of 0.5."""
    if not examples:
        raise ValueError("no examples to judge the router on")
    predicted = router.predict_features(
        router.featurize(
            [example.query for example in examples],
            [example.breakdown for example in examples],
        )
    )
    errors = [
        (scores.get(example.model, 0.5) - example.quality) ** 2
        for scores, example in zip(predicted, examples, strict=True)
    ]
    return sum(errors) / len(errors)


def retrain(
    store: HistoryStore,
    settings: LearningSettings,
    embeddings: Embeddings | None,
    *,
    force: bool = False,
) -> RetrainOutcome:
    """Fit a candidate on the history and replace the saved router if it does better.

    ``force`` replaces it whatever the comparison says (a first model, a changed feature
    set). Raises :class:`~ragged_graph.errors.LearnedModelError` when the history holds
    fewer than ``settings.min_examples`` examples.
    """
    from ragged_graph.learning.learned_router import LearnedRouter

    examples = examples_from_history(store)
    path = Path(settings.model_path).expanduser()
    if len(examples) < settings.min_examples:
        raise LearnedModelError(
            path,
            f"cannot be trained: the routing history holds {len(examples)} examples with "
            f"query text and feedback; at least {settings.min_examples} are needed",
            remedy="Set history.query_text: store and rate answers (RaggedRouter.feedback or "
            "`ragged-graph feedback`), then run `ragged-graph learn` again.",
        )
    held = max(1, int(len(examples) * settings.holdout_share))
    train, judge = examples[:-held], examples[-held:]
    candidate = LearnedRouter.fit(train, embeddings)
    candidate_error = prediction_error(candidate, judge)
    current_error: float | None = None
    if path.exists():
        try:
            current = LearnedRouter.load(path, embeddings)
            current_error = prediction_error(current, judge)
        except LearnedModelError as exc:
            logger.warning("the saved learned router cannot be compared: %s", exc)
    # A tie keeps the saved router: replacing it must be worth something.
    better = current_error is None or candidate_error + _MARGIN < current_error
    if force or better:
        final = LearnedRouter.fit(examples, embeddings)  # all of it, now it has earned its place
        final.metrics["held_out_error"] = candidate_error
        path.parent.mkdir(parents=True, exist_ok=True)
        final.save(path)
    if current_error is None:
        reason = "no usable saved router: the candidate was saved"
    elif better:
        reason = (
            f"the candidate beat the saved router ({candidate_error:.4f} < {current_error:.4f})"
        )
    elif force:
        reason = f"forced, although the saved router did as well ({current_error:.4f})"
    else:
        reason = (
            f"kept the saved router: the candidate did not beat it "
            f"({candidate_error:.4f} >= {current_error:.4f})"
        )
    outcome = RetrainOutcome(
        replaced=force or better,
        reason=reason,
        examples=len(examples),
        held_out=held,
        candidate_error=candidate_error,
        current_error=current_error,
        path=str(path),
    )
    logger.info("learned router retraining: %s", outcome.reason)
    return outcome


def learning_embeddings(config: RouterConfig) -> Embeddings:
    """The query embeddings ``config.learning`` names."""
    from ragged_graph.learning.embeddings import (
        HashingEmbeddings,
        MiniLMEmbeddings,
        ollama_embeddings,
    )

    settings = config.learning
    if settings.embeddings == "minilm":
        return MiniLMEmbeddings()
    if settings.embeddings == "ollama":
        hosts = config.providers.ollama.hosts
        base_url = hosts[0].base_url if hosts else None
        return ollama_embeddings(settings.ollama_embeddings_model, base_url=base_url)
    return HashingEmbeddings()


_retraining = threading.Lock()


def retrain_in_background(
    url: str, settings: LearningSettings, embeddings: Embeddings | None
) -> threading.Thread | None:
    """Start :func:`retrain` in a daemon thread unless one is running; None if one was.

    Failures (too few examples, an unreachable database) are logged, never raised.
    """
    if not _retraining.acquire(blocking=False):
        return None

    def run() -> None:
        store = HistoryStore(url)
        try:
            retrain(store, settings, embeddings)
        except Exception as exc:
            logger.warning("learned router retraining failed: %s", exc)
        finally:
            store.close()
            _retraining.release()

    thread = threading.Thread(target=run, name="ragged-graph-retrain", daemon=True)
    thread.start()
    return thread


def feedback_since_training(store: HistoryStore, settings: LearningSettings) -> int:
    """Feedback that arrived after the saved router was trained (all of it if none is)."""
    from ragged_graph.telemetry.feedback import FeedbackLog

    path = Path(settings.model_path).expanduser()
    since = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else None
    return FeedbackLog(store).count(since)
