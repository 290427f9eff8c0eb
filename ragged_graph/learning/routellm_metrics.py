"""RouteLLM's routing-quality metrics: the call/performance curve, APGR and CPT.

A weak/strong router gives every prompt a score (higher means "needs the strong model more")
and sends a prompt to the strong model when its score reaches a threshold. Sweeping the
threshold from above the highest score down to the lowest moves the share of strong calls
from 0 to 1 and traces a curve of accuracy against that share. RouteLLM
(``routellm/evals/benchmarks.py`` and ``evaluate.py``) judges a router by this curve:

- ``PGR(x) = (accuracy(x) - weak_accuracy) / (strong_accuracy - weak_accuracy)``, the share
  of the weak-to-strong accuracy gap recovered at strong-call share ``x``;
- ``APGR``, the area under PGR over ``x`` in [0, 1] by the trapezoidal rule (RouteLLM's
  ``(AUC - weak_auc) / (strong_auc - weak_auc)`` over the same points is the same number);
- ``CPT(p)``, the share of strong calls needed to reach ``PGR = p``, read off the curve by
  linear interpolation between its points (RouteLLM uses ``np.interp`` for this).

Ties: a threshold cannot split prompts with equal scores. A prompt goes to the strong model
when ``score >= threshold``, so every prompt of a tied group switches at once, as in
RouteLLM. The straight segment the curve draws across a tied group is exactly the expected
curve had the tie been broken at random.

Two sweeps are offered. ``EVERY_SCORE`` puts a threshold at every distinct score, giving the
exact curve. ``ROUTELLM_QUANTILES`` reproduces RouteLLM's evaluation literally: thresholds at
the 0, 1/b, ..., 1 quantiles of the scores (linear interpolation, like ``pd.qcut``; b = 10 by
default), strong when ``score >= threshold`` except at the top threshold, where it is
``score > threshold`` so the last point has no strong calls. RouteLLM's value approaches the
exact one as b grows; on the bundled data the two agree to about 0.001 APGR.

Accuracies are kept as integer counts so that PGR is exactly 0 with no strong calls and
exactly 1 with all of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_QUANTILE_BINS",
    "CurvePoint",
    "NoPerformanceGapError",
    "RoutingCurve",
    "ThresholdSweep",
    "average_performance_gap_recovered",
    "call_performance_threshold",
    "routing_curve",
    "sample_curve",
]

DEFAULT_QUANTILE_BINS = 10
"""RouteLLM's default ``--num-results``: ten quantile bins, eleven thresholds."""


class ThresholdSweep(StrEnum):
    """Which thresholds the call/performance curve is evaluated at."""

    EVERY_SCORE = "every_score"
    """A threshold at every distinct score: the exact curve, one point per tied group."""
    ROUTELLM_QUANTILES = "routellm_quantiles"
    """RouteLLM's own sweep: thresholds at evenly spaced quantiles of the scores."""


class NoPerformanceGapError(ValueError):
    """The weak and strong models are equally accurate, so PGR is undefined."""


class CurvePoint(BaseModel):
    """One point of the call/performance curve."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    strong_share: float = Field(ge=0.0, le=1.0)
    """Share of prompts sent to the strong model, 0 to 1."""

    accuracy: float = Field(ge=0.0, le=1.0)
    """Share of prompts answered correctly when routed this way."""

    pgr: float
    """Performance gap recovered: 0 at the weak model's accuracy, 1 at the strong model's."""


@dataclass(frozen=True, kw_only=True)
class RoutingCurve:
    """Accuracy against share of strong calls for one router on one set of prompts."""

    points: tuple[CurvePoint, ...]
    """Points ordered by ``strong_share``, from 0 (all weak) to 1 (all strong)."""

    weak_accuracy: float
    """Accuracy when every prompt goes to the weak model."""

    strong_accuracy: float
    """Accuracy when every prompt goes to the strong model."""

    sweep: ThresholdSweep
    """How the thresholds were chosen."""


def routing_curve(
    scores: Sequence[float],
    weak_correct: Sequence[bool],
    strong_correct: Sequence[bool],
    *,
    sweep: ThresholdSweep = ThresholdSweep.EVERY_SCORE,
    quantile_bins: int = DEFAULT_QUANTILE_BINS,
) -> RoutingCurve:
    """The call/performance curve of a router that gave each prompt ``scores[i]``.

    ``weak_correct[i]`` and ``strong_correct[i]`` say whether each model answered prompt
    ``i`` correctly. ``quantile_bins`` is used only by ``ROUTELLM_QUANTILES``.

    Raises ``ValueError`` for empty or mismatched inputs or non-finite scores, and
    ``NoPerformanceGapError`` when both models are equally accurate.
    """
    n = len(scores)
    if n == 0:
        raise ValueError("cannot build a routing curve from zero prompts")
    if len(weak_correct) != n or len(strong_correct) != n:
        raise ValueError(
            f"scores, weak_correct and strong_correct must be equally long; got "
            f"{n}, {len(weak_correct)} and {len(strong_correct)}"
        )
    for index, score in enumerate(scores):
        if not math.isfinite(score):
            raise ValueError(f"score of prompt {index} is {score!r}; scores must be finite")
    weak_count = sum(1 for correct in weak_correct if correct)
    strong_count = sum(1 for correct in strong_correct if correct)
    if weak_count == strong_count:
        raise NoPerformanceGapError(
            f"the weak and strong models are equally accurate ({weak_count}/{n} correct), "
            "so the performance gap recovered is undefined"
        )

    # Counts of correct answers at each share of strong calls, as (strong calls, correct).
    if sweep is ThresholdSweep.EVERY_SCORE:
        counts = _every_score_counts(scores, weak_correct, strong_correct, weak_count)
    else:
        if quantile_bins < 1:
            raise ValueError(f"quantile_bins must be at least 1, got {quantile_bins}")
        counts = _quantile_counts(scores, weak_correct, strong_correct, quantile_bins)

    gap = strong_count - weak_count
    points = tuple(
        CurvePoint(
            strong_share=strong_calls / n,
            accuracy=correct / n,
            pgr=(correct - weak_count) / gap,
        )
        for strong_calls, correct in counts
    )
    return RoutingCurve(
        points=points,
        weak_accuracy=weak_count / n,
        strong_accuracy=strong_count / n,
        sweep=sweep,
    )


def _every_score_counts(
    scores: Sequence[float],
    weak_correct: Sequence[bool],
    strong_correct: Sequence[bool],
    weak_count: int,
) -> list[tuple[int, int]]:
    """(strong calls, correct answers) after each tied group of scores, highest first."""
    order = sorted(range(len(scores)), key=lambda index: scores[index], reverse=True)
    counts = [(0, weak_count)]
    correct = weak_count
    position = 0
    while position < len(order):
        group_score = scores[order[position]]
        # Move the whole tied group to the strong model before recording a point.
        while position < len(order) and scores[order[position]] == group_score:
            index = order[position]
            correct += int(bool(strong_correct[index])) - int(bool(weak_correct[index]))
            position += 1
        counts.append((position, correct))
    return counts


def _quantile_counts(
    scores: Sequence[float],
    weak_correct: Sequence[bool],
    strong_correct: Sequence[bool],
    bins: int,
) -> list[tuple[int, int]]:
    """(strong calls, correct answers) at RouteLLM's quantile thresholds, fewest calls first."""
    ordered = sorted(scores)
    thresholds = [_linear_quantile(ordered, step / bins) for step in range(bins + 1)]
    counts: list[tuple[int, int]] = []
    for step, threshold in enumerate(thresholds):
        # RouteLLM uses ">" at the top threshold only, so the sweep ends with no strong calls.
        at_top = step == len(thresholds) - 1
        strong_calls = 0
        correct = 0
        for score, weak, strong in zip(scores, weak_correct, strong_correct, strict=True):
            goes_strong = score > threshold if at_top else score >= threshold
            strong_calls += goes_strong
            correct += bool(strong) if goes_strong else bool(weak)
        counts.append((strong_calls, correct))
    # Stable sort: duplicate thresholds give identical points, so their order is irrelevant.
    counts.sort(key=lambda pair: pair[0])
    return counts


def _linear_quantile(ordered: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of sorted values with linear interpolation (numpy's default)."""
    position = (len(ordered) - 1) * fraction
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    weight = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * weight


def average_performance_gap_recovered(curve: RoutingCurve) -> float:
    """APGR: the area under PGR against strong-call share, by the trapezoidal rule."""
    area = 0.0
    for left, right in pairwise(curve.points):
        area += (right.strong_share - left.strong_share) * (left.pgr + right.pgr) / 2
    return area


def call_performance_threshold(curve: RoutingCurve, target_pgr: float) -> float | None:
    """CPT: the smallest share of strong calls at which the curve reaches ``target_pgr``.

    The curve is read as straight lines between its points, so the answer may fall between
    two thresholds (RouteLLM interpolates the same way). None if the curve never gets there,
    which can only happen for a target above 1.
    """
    previous: CurvePoint | None = None
    for point in curve.points:
        if point.pgr >= target_pgr:
            if previous is None:
                return point.strong_share
            rise = point.pgr - previous.pgr
            run = point.strong_share - previous.strong_share
            return previous.strong_share + (target_pgr - previous.pgr) * run / rise
        previous = point
    return None


def sample_curve(curve: RoutingCurve, samples: int = 11) -> tuple[CurvePoint, ...]:
    """The curve read at ``samples`` evenly spaced strong-call shares from 0 to 1.

    Meant for reports: the exact curve has one point per distinct score.
    """
    if samples < 2:
        raise ValueError(f"samples must be at least 2, got {samples}")
    gap = curve.strong_accuracy - curve.weak_accuracy
    sampled: list[CurvePoint] = []
    for step in range(samples):
        share = step / (samples - 1)
        pgr = _pgr_at(curve.points, share)
        accuracy = curve.weak_accuracy + pgr * gap
        sampled.append(
            CurvePoint(strong_share=share, accuracy=min(max(accuracy, 0.0), 1.0), pgr=pgr)
        )
    return tuple(sampled)


def _pgr_at(points: Sequence[CurvePoint], share: float) -> float:
    """PGR at ``share`` on the straight lines between ``points`` (ordered by share)."""
    for left, right in pairwise(points):
        if left.strong_share <= share <= right.strong_share:
            run = right.strong_share - left.strong_share
            if run == 0:
                return right.pgr
            return left.pgr + (right.pgr - left.pgr) * (share - left.strong_share) / run
    # Only reachable through rounding at the ends: both sweeps span exactly 0 to 1.
    return points[0].pgr if share <= points[0].strong_share else points[-1].pgr
