"""A learned second opinion on the task type: a linear model over the instruction's words.

The cue tables of :mod:`~ragged_graph.routing.classifier` know the phrasings they were
written for; people who write differently often match no cue, or only a weak one. On 595
queries from four writers who had seen nothing of the router, the cues alone got 75% of
task types right and most misses had no decisive cue at all. This model, trained on labelled
queries, reads every word: multinomial logistic regression over TF-IDF weighted words and
word pairs of the instruction (sublinear counts, L2-normalised), as scikit-learn computes it.

It is pure Python over a small JSON file (``data/task_model.json``, read once, by the first
classifier built; about 40 ms): scoring a query is a dictionary look-up per word and word
pair, microseconds. Training
(scikit-learn) is :mod:`ragged_graph.learning.task_model_training`, run by
``scripts/train_task_model.py``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

from ragged_graph.routing.model_files import ModelFile

__all__ = [
    "MODEL_FORMAT",
    "TASK_MODEL_FILE",
    "TaskGuess",
    "TaskModel",
    "default_task_model",
    "load_task_model",
    "model_features",
]

MODEL_FORMAT: Final = 1
"""Version of the model file's layout."""


def model_features(tokens: Sequence[str]) -> list[str]:
    """The model's features of a query: its words and each pair of neighbouring words."""
    pairs = [f"{first} {second}" for first, second in pairwise(tokens)]
    return [*tokens, *pairs]


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskGuess:
    """The model's view of one query."""

    task_type: str
    """The most probable task type."""

    probability: float
    """Its probability, 0 to 1."""

    runner_up: str
    """The second most probable task type."""

    runner_up_probability: float
    """Its probability."""

    known_features: int
    """How many distinct words and word pairs of the query the model knows: its evidence."""


class TaskModel:
    """Task-type probabilities from a query's words (see the module docstring).

    ``features`` maps each known word or word pair to its inverse document frequency and
    its weight for each of ``classes``.
    """

    __slots__ = ("_classes", "_features", "_intercepts", "_scaled", "details")

    def __init__(
        self,
        *,
        classes: Sequence[str],
        intercepts: Sequence[float],
        features: Mapping[str, tuple[float, Sequence[float]]],
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if len(classes) < 2 or len(intercepts) != len(classes):
            raise ValueError("a task model needs two or more classes and one intercept each")
        for name, (_idf, weights) in features.items():
            if len(weights) != len(classes):
                raise ValueError(
                    f"feature {name!r} has {len(weights)} weights for {len(classes)} classes"
                )
        self._classes = tuple(classes)
        self._intercepts = tuple(float(value) for value in intercepts)
        self._features = {
            name: (float(idf), tuple(float(w) for w in weights))
            for name, (idf, weights) in features.items()
        }
        self._scaled = {
            name: (idf, tuple(idf * weight for weight in weights))
            for name, (idf, weights) in self._features.items()
        }
        self.details: Mapping[str, Any] = dict(details or {})
        """How the model was trained (data, sizes, settings), as stored in its file."""

    @property
    def classes(self) -> tuple[str, ...]:
        """The task types the model knows."""
        return self._classes

    @property
    def feature_count(self) -> int:
        """How many words and word pairs the model knows."""
        return len(self._features)

    def probabilities(self, tokens: Sequence[str]) -> dict[str, float] | None:
        """Each task type's probability for a query split into ``tokens`` (lowercase words);
        None when the model knows none of its words."""
        scored = self._softmax(tokens)
        return dict(zip(self._classes, scored[0], strict=True)) if scored is not None else None

    def guess(self, tokens: Sequence[str]) -> TaskGuess | None:
        """The two most probable task types; None when the model knows none of the query's
        words."""
        scored = self._softmax(tokens)
        if scored is None:
            return None
        found, known = scored
        # Of equal probabilities the first class wins; for the second, the best one is set
        # below any probability.
        best = found.index(max(found))
        others = [*found[:best], -1.0, *found[best + 1 :]]
        second = others.index(max(others))
        return TaskGuess(
            task_type=self._classes[best],
            probability=round(found[best], 3),
            runner_up=self._classes[second],
            runner_up_probability=round(found[second], 3),
            known_features=known,
        )

    def _softmax(self, tokens: Sequence[str]) -> tuple[list[float], int] | None:
        """The classes' probabilities and how many distinct features were known."""
        squares = 0.0
        rows: list[tuple[float, ...]] = []
        lookup = self._scaled.get
        for feature, count in Counter(model_features(tokens)).items():
            entry = lookup(feature)
            if entry is None:
                continue
            idf, row = entry
            if count == 1:
                squares += idf * idf
                rows.append(row)
            else:  # sublinear count: 1 + log(count) times the feature's value
                factor = 1.0 + math.log(count)
                squares += (factor * idf) ** 2
                rows.append(tuple(factor * weight for weight in row))
        if not rows:
            return None
        scale = 1.0 / math.sqrt(squares)
        # Rows are idf times the weights: each class's logit is one C-level sum of its column.
        logits = [
            intercept + scale * sum(column)
            for intercept, column in zip(self._intercepts, zip(*rows, strict=True), strict=True)
        ]
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return [e / total for e in exps], len(rows)

    # --------------------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        """The model as stored in its file."""
        return {
            "format": MODEL_FORMAT,
            "classes": list(self._classes),
            "intercepts": [round(value, 6) for value in self._intercepts],
            "features": {
                name: [round(idf, 5), *(round(w, 5) for w in weights)]
                for name, (idf, weights) in sorted(self._features.items())
            },
            "details": dict(self.details),
        }

    def save(self, path: Path | str) -> Path:
        """Write the model to ``path`` (JSON); returns the path."""
        target = Path(path)
        target.write_text(
            json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n",
            encoding="utf-8",
        )
        return target

    @classmethod
    def load(cls, path: Path | str) -> TaskModel:
        """Read a model file written by :meth:`save`."""
        return TASK_MODEL_FILE.load(path)


def _parse(data: Mapping[str, Any]) -> TaskModel:
    return TaskModel(
        classes=data["classes"],
        intercepts=data["intercepts"],
        features={name: (row[0], row[1:]) for name, row in dict(data["features"]).items()},
        details=data.get("details") or {},
    )


TASK_MODEL_FILE: Final = ModelFile(
    kind="task model",
    script="ragged-graph learn-tasks or scripts/train_task_model.py",
    format=MODEL_FORMAT,
    packaged="task_model.json",
    parse=_parse,
)
"""The task model's file: its format and where the shipped one is."""


def default_task_model() -> TaskModel:
    """The model shipped with the package (read once)."""
    return TASK_MODEL_FILE.shipped()


def load_task_model(setting: str | None) -> TaskModel | None:
    """The model a ``learning.task_model`` setting names: ``builtin``, a file path, or None."""
    return TASK_MODEL_FILE.from_setting(setting)
