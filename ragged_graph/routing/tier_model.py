"""A learned tier decision: which tier a query needs, from what the analyser measured.

The complexity analyser's score puts a query on a 0-10 scale, and the ``tiers:`` thresholds
turn it into a tier. Writers who label by the written tier definitions (SPEC section 2) draw
the lines elsewhere, and differently per task: on 595 queries from four such writers the
thresholds agreed with 63.7% of their tiers. This model learns the lines from labelled
queries: multinomial logistic regression over the analyser's dimensions, the task type, the
score and the query's length. Each writer's queries, judged by a model trained without them,
agree on 80.2%; on the golden holdout, tier accuracy goes from 72.5% to 77.8%.

It is opt-in (``learning.tier_model: builtin``): the persona rules were written, and their
golden cases labelled, against the thresholds' tiers, and with the model the persona cases'
tier accuracy falls from 93.5% to 74.2% on the holdout (from 87.9% to 79.3% on tune).

It is a few dozen multiplications per query, over a small JSON file
(``data/tier_model.json``, read once). Training (scikit-learn) is
:mod:`ragged_graph.learning.tier_model_training`, run by ``scripts/train_tier_model.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ragged_graph.registry.cards import Tier
from ragged_graph.routing.model_files import ModelFile
from ragged_graph.routing.task_types import TaskType

__all__ = [
    "TIER_MODEL_FILE",
    "TIER_MODEL_FORMAT",
    "TierGuess",
    "TierModel",
    "default_tier_model",
    "load_tier_model",
    "tier_features",
]

TIER_MODEL_FORMAT: Final = 1
"""Version of the model file's layout."""

_TASKS: Final = tuple(TaskType)


def tier_features(
    breakdown: Mapping[str, float], task_type: str, score: float, length: int
) -> dict[str, float]:
    """The model's inputs for one query: each complexity dimension (0 to 1), the task type
    one-hot (built-in types; a custom one is all zeros), the score over 10 and the log of the
    query's length in characters over 8."""
    features = {f"dim_{name}": float(value) for name, value in breakdown.items()}
    for task in _TASKS:
        features[f"task_{task.value}"] = 1.0 if task_type == task else 0.0
    features["score"] = score / 10.0
    features["log_length"] = math.log1p(length) / 8.0
    return features


@dataclass(frozen=True, kw_only=True, slots=True)
class TierGuess:
    """The model's view of one query."""

    tier: Tier
    """The most probable tier."""

    probability: float
    """Its probability, 0 to 1."""


class TierModel:
    """Tier probabilities from :func:`tier_features` (see the module docstring).

    Inputs are standardised with ``mean`` and ``scale`` (per feature, in ``feature_names``
    order) before the per-tier ``coefficients`` apply.
    """

    __slots__ = (
        "_coefficients",
        "_intercepts",
        "_mean",
        "_scale",
        "details",
        "feature_names",
        "tiers",
    )

    def __init__(
        self,
        *,
        tiers: Sequence[str],
        feature_names: Sequence[str],
        mean: Sequence[float],
        scale: Sequence[float],
        coefficients: Sequence[Sequence[float]],
        intercepts: Sequence[float],
        details: Mapping[str, Any] | None = None,
    ) -> None:
        width = len(feature_names)
        if len(tiers) < 2 or len(intercepts) != len(tiers) or len(coefficients) != len(tiers):
            raise ValueError("a tier model needs two or more tiers, each with its weights")
        if len(mean) != width or len(scale) != width or any(len(c) != width for c in coefficients):
            raise ValueError(f"every weight vector must have one value per feature ({width})")
        if any(value <= 0 for value in scale):
            raise ValueError("feature scales must be positive")
        self.tiers = tuple(Tier(name) for name in tiers)
        """The tiers the model chooses among."""
        self.feature_names = tuple(feature_names)
        """The inputs, in order (names of :func:`tier_features`)."""
        self._mean = tuple(float(v) for v in mean)
        self._scale = tuple(float(v) for v in scale)
        self._coefficients = tuple(tuple(float(w) for w in row) for row in coefficients)
        self._intercepts = tuple(float(v) for v in intercepts)
        self.details: Mapping[str, Any] = dict(details or {})
        """How the model was trained, as stored in its file."""

    def probabilities(self, features: Mapping[str, float]) -> dict[Tier, float]:
        """Each tier's probability; a feature the query lacks counts as 0."""
        standard = [
            (features.get(name, 0.0) - mean) / scale
            for name, mean, scale in zip(self.feature_names, self._mean, self._scale, strict=True)
        ]
        logits = [
            intercept + sum(w * x for w, x in zip(row, standard, strict=True))
            for intercept, row in zip(self._intercepts, self._coefficients, strict=True)
        ]
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {tier: e / total for tier, e in zip(self.tiers, exps, strict=True)}

    def guess(self, features: Mapping[str, float]) -> TierGuess:
        """The most probable tier (on a tie, the lower one)."""
        found = self.probabilities(features)
        best = max(self.tiers, key=lambda tier: (found[tier], -tier.rank))
        return TierGuess(tier=best, probability=round(found[best], 3))

    # --------------------------------------------------------------------------- persistence

    def to_json(self) -> dict[str, Any]:
        """The model as stored in its file."""
        return {
            "format": TIER_MODEL_FORMAT,
            "tiers": [tier.value for tier in self.tiers],
            "feature_names": list(self.feature_names),
            "mean": [round(v, 6) for v in self._mean],
            "scale": [round(v, 6) for v in self._scale],
            "coefficients": [[round(w, 6) for w in row] for row in self._coefficients],
            "intercepts": [round(v, 6) for v in self._intercepts],
            "details": dict(self.details),
        }

    def save(self, path: Path | str) -> Path:
        """Write the model to ``path`` (JSON); returns the path."""
        target = Path(path)
        target.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: Path | str) -> TierModel:
        """Read a model file written by :meth:`save`."""
        return TIER_MODEL_FILE.load(path)


def _parse(data: Mapping[str, Any]) -> TierModel:
    return TierModel(
        tiers=data["tiers"],
        feature_names=data["feature_names"],
        mean=data["mean"],
        scale=data["scale"],
        coefficients=data["coefficients"],
        intercepts=data["intercepts"],
        details=data.get("details") or {},
    )


TIER_MODEL_FILE: Final = ModelFile(
    kind="tier model",
    script="scripts/train_tier_model.py",
    format=TIER_MODEL_FORMAT,
    packaged="tier_model.json",
    parse=_parse,
)
"""The tier model's file: its format and where the shipped one is."""


def default_tier_model() -> TierModel:
    """The model shipped with the package (read once)."""
    return TIER_MODEL_FILE.shipped()


def load_tier_model(setting: str | None) -> TierModel | None:
    """The model a ``learning.tier_model`` setting names: ``builtin``, a file path, or None."""
    return TIER_MODEL_FILE.from_setting(setting)
