"""An A/B experiment's report from the routing history: figures per variant, tests, winner.

Per variant: requests, mean latency (Student's t interval) and median latency (order-
statistic interval), mean cost per request (t interval), fallback rate (share of requests
that tried more than one model, as `ragged-graph analytics` counts it; Wilson interval) and
mean feedback score over the rated requests (t interval). Every interval is 95 %.

Between every two variants, each metric is tested: Welch's t-test for latency, cost and
feedback, the two-proportion z-test for the fallback rate.

The winner, on the experiment's ``metric``: only once every configured variant has
``min_sample`` requests (rated requests for ``feedback``), and only the variant whose value
is best and which beats every other variant with p below ``alpha`` (multiplied by the
number of comparisons, Bonferroni's correction, when there are more than two variants).
Until then the report says how many more requests which variant needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ragged_graph.experiments.settings import METRICS, ExperimentMetric, ExperimentSettings
from ragged_graph.experiments.stats import (
    Interval,
    Significance,
    mean_interval,
    median_interval,
    two_proportion_z_test,
    welch_t_test,
    wilson_interval,
)

if TYPE_CHECKING:
    from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "CONFIDENCE",
    "REPORT_COLUMNS",
    "Comparison",
    "Estimate",
    "ExperimentReport",
    "VariantReport",
    "compute_experiment_report",
    "experiment_report",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

CONFIDENCE = 0.95
"""The confidence level of every interval in a report."""

REPORT_COLUMNS = (
    "time",
    "ab_variant",
    "outcome",
    "fallback_count",
    "latency_ms",
    "cost_usd",
    "feedback",
)
"""The history columns a report reads."""

_UNITS: Mapping[str, str] = {
    "feedback": "",
    "latency": " ms",
    "cost": " USD",
    "fallback_rate": "",
}


class Estimate(BaseModel):
    """A figure with its 95 % confidence interval."""

    model_config = _FROZEN

    value: float | None
    """The estimate; None when there is nothing to estimate from."""
    low: float | None
    """The interval's lower bound; None when the sample is too small for one."""
    high: float | None
    """The interval's upper bound; None when the sample is too small for one."""
    n: int
    """How many values it rests on."""

    @classmethod
    def of(cls, interval: Interval | None, n: int) -> Estimate:
        if interval is None:
            return cls(value=None, low=None, high=None, n=n)
        return cls(value=interval.estimate, low=interval.low, high=interval.high, n=n)


class VariantReport(BaseModel):
    """One variant's figures."""

    model_config = _FROZEN

    name: str
    """The variant."""
    configured: bool
    """Whether the config still defines it (False: only the history has it)."""
    weight_share: float | None
    """Its configured share of the traffic (its weight over all weights)."""
    requests: int
    """Requests assigned to it in the period."""
    share: float
    """Their share of the experiment's requests."""
    error_rate: float
    """Share of its requests that ended without an answer."""
    latency_ms: Estimate
    """Mean request latency."""
    latency_median_ms: Estimate
    """Median request latency."""
    cost_usd: Estimate
    """Mean cost per request."""
    cost_total_usd: float
    """Cost of all its requests."""
    fallback_rate: Estimate
    """Share of its requests that tried more than one model."""
    feedback: Estimate
    """Mean feedback score over its rated requests (``n``: how many were rated)."""
    sample: int
    """Its sample on the experiment's metric: requests, or rated requests for feedback."""
    needed: int
    """How many more it needs before a winner may be called (0: enough)."""


class Comparison(BaseModel):
    """One metric compared between two variants."""

    model_config = _FROZEN

    metric: ExperimentMetric
    """The metric compared."""
    first: str
    """One variant."""
    second: str
    """The other."""
    difference: float | None
    """``first``'s value minus ``second``'s (means, or rates for the fallback rate)."""
    test: Literal["welch_t", "two_proportion_z"]
    """Welch's t-test, or the two-proportion z-test."""
    statistic: float | None
    """t or z (positive when ``first``'s value is higher); None when not computable."""
    df: float | None
    """The t-test's degrees of freedom."""
    p_value: float | None
    """Two-sided p; None when a sample is too small (under 2 values for a t-test)."""


class ExperimentReport(BaseModel):
    """An experiment's report over one period of the history."""

    model_config = _FROZEN

    experiment: str
    """The experiment."""
    description: str | None
    """What it tests."""
    metric: ExperimentMetric
    """What decides the winner."""
    better: Literal["higher", "lower"]
    """Which direction of the metric is better."""
    alpha: float
    """The significance level."""
    min_sample: int
    """The sample every variant needs before a winner may be called."""
    confidence: float
    """The confidence level of the intervals."""
    since: AwareDatetime | None
    """Start of the period (None: the whole history)."""
    until: AwareDatetime
    """When the report was made."""
    requests: int
    """The experiment's requests in the period."""
    variants: list[VariantReport]
    """Per variant: the configured ones in config order, then any only the history has."""
    comparisons: list[Comparison]
    """Every metric between every two variants."""
    winner: str | None
    """The winning variant; None until one is called."""
    verdict: str
    """The winner and why, or why there is none yet."""


def _floats(rows: Iterable[Mapping[str, Any]], column: str) -> list[float]:
    return [float(row[column]) for row in rows if row[column] is not None]


def _fell_back(row: Mapping[str, Any]) -> bool:
    return bool(row["fallback_count"] and row["fallback_count"] > 0)


def _variant(
    name: str,
    rows: Sequence[Mapping[str, Any]],
    total: int,
    settings: ExperimentSettings,
) -> VariantReport:
    count = len(rows)
    latencies = _floats(rows, "latency_ms")
    costs = _floats(rows, "cost_usd")
    ratings = _floats(rows, "feedback")
    fallbacks = sum(_fell_back(row) for row in rows)
    weights = sum(variant.weight for variant in settings.variants.values())
    configured = settings.variants.get(name)
    sample = len(ratings) if settings.metric == "feedback" else count
    return VariantReport(
        name=name,
        configured=configured is not None,
        weight_share=configured.weight / weights if configured is not None else None,
        requests=count,
        share=count / total if total else 0.0,
        error_rate=sum(row["outcome"] != "answered" for row in rows) / count if count else 0.0,
        latency_ms=Estimate.of(mean_interval(latencies, CONFIDENCE), len(latencies)),
        latency_median_ms=Estimate.of(median_interval(latencies, CONFIDENCE), len(latencies)),
        cost_usd=Estimate.of(mean_interval(costs, CONFIDENCE), len(costs)),
        cost_total_usd=math.fsum(costs),
        fallback_rate=Estimate.of(wilson_interval(fallbacks, count, CONFIDENCE), count),
        feedback=Estimate.of(mean_interval(ratings, CONFIDENCE), len(ratings)),
        sample=sample,
        needed=max(0, settings.min_sample - sample) if configured is not None else 0,
    )


def _value(variant: VariantReport, metric: ExperimentMetric) -> float | None:
    estimate = {
        "feedback": variant.feedback,
        "latency": variant.latency_ms,
        "cost": variant.cost_usd,
        "fallback_rate": variant.fallback_rate,
    }[metric]
    return estimate.value


def _compare(
    metric: ExperimentMetric,
    first: tuple[str, Sequence[Mapping[str, Any]]],
    second: tuple[str, Sequence[Mapping[str, Any]]],
) -> Comparison:
    (name1, rows1), (name2, rows2) = first, second
    result: Significance | None
    difference: float | None = None
    if metric == "fallback_rate":
        test: Literal["welch_t", "two_proportion_z"] = "two_proportion_z"
        x1, x2 = sum(map(_fell_back, rows1)), sum(map(_fell_back, rows2))
        result = two_proportion_z_test(x1, len(rows1), x2, len(rows2))
        if rows1 and rows2:
            difference = x1 / len(rows1) - x2 / len(rows2)
    else:
        test = "welch_t"
        column = {"feedback": "feedback", "latency": "latency_ms", "cost": "cost_usd"}[metric]
        values1, values2 = _floats(rows1, column), _floats(rows2, column)
        result = welch_t_test(values1, values2)
        if values1 and values2:
            difference = math.fsum(values1) / len(values1) - math.fsum(values2) / len(values2)
    statistic = result.statistic if result is not None else None
    return Comparison(
        metric=metric,
        first=name1,
        second=name2,
        difference=difference,
        test=test,
        statistic=statistic if statistic is not None and math.isfinite(statistic) else None,
        df=result.df if result is not None else None,
        p_value=result.p_value if result is not None else None,
    )


def _shown(value: float | None, metric: ExperimentMetric) -> str:
    if value is None:
        return "n/a"
    if metric == "fallback_rate":
        return f"{value:.1%}"
    if metric == "cost":
        return f"{value:.6f}{_UNITS[metric]}"
    return f"{value:.4g}{_UNITS[metric]}"


def _judge(
    settings: ExperimentSettings,
    variants: Sequence[VariantReport],
    comparisons: Sequence[Comparison],
) -> tuple[str | None, str]:
    metric = settings.metric
    configured = [variant for variant in variants if variant.configured]
    lacking = [variant for variant in configured if variant.needed > 0]
    if lacking:
        what = "rated requests" if metric == "feedback" else "requests"
        first, *rest = lacking
        needs = [f"{first.needed} more {what} on variant {first.name}"]
        needs += [f"{variant.needed} more on variant {variant.name}" for variant in rest]
        return None, f"no winner yet: need {', '.join(needs)} (min_sample {settings.min_sample})"
    higher = METRICS[metric] == "higher"
    valued = [(variant, _value(variant, metric)) for variant in configured]
    ranked = [(variant, value) for variant, value in valued if value is not None]
    if len(ranked) < 2:
        return None, f"no winner: fewer than two variants have a {metric} figure"
    best, best_value = ranked[0]
    for variant, value in ranked[1:]:
        if (value > best_value) if higher else (value < best_value):
            best, best_value = variant, value
    rivals = [variant for variant in configured if variant.name != best.name]
    corrections = len(rivals)
    worst_p = 0.0
    for rival in rivals:
        found = next(
            comparison
            for comparison in comparisons
            if comparison.metric == metric
            and {comparison.first, comparison.second}
            == {
                best.name,
                rival.name,
            }
        )
        p_value = found.p_value if found.p_value is not None else 1.0
        worst_p = max(worst_p, min(1.0, p_value * corrections))
    corrected = " (Bonferroni-corrected)" if corrections > 1 else ""
    others = ", ".join(
        f"{_shown(_value(rival, metric), metric)} ({rival.name})" for rival in rivals
    )
    figures = f"{metric} {_shown(best_value, metric)} vs {others}"
    if worst_p < settings.alpha:
        return best.name, (
            f"variant {best.name} wins on {figures}; p = {worst_p:.3g} < {settings.alpha}"
            f"{corrected}"
        )
    return None, (
        f"no significant difference on {metric} yet: best is {best.name} with {figures}; "
        f"p = {worst_p:.3g} >= {settings.alpha}{corrected}"
    )


def experiment_report(
    name: str,
    settings: ExperimentSettings,
    rows: Iterable[Mapping[str, Any]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExperimentReport:
    """The report of experiment ``name`` over history ``rows`` (mappings with at least
    :data:`REPORT_COLUMNS`; rows of other experiments must already be left out)."""
    by_variant: dict[str, list[Mapping[str, Any]]] = {variant: [] for variant in settings.variants}
    unknown: dict[str, list[Mapping[str, Any]]] = {}
    total = 0
    for row in rows:
        variant = row["ab_variant"]
        if variant is None:
            continue
        total += 1
        (by_variant if variant in by_variant else unknown).setdefault(variant, []).append(row)
    groups = [*by_variant.items(), *sorted(unknown.items())]
    variants = [_variant(variant, members, total, settings) for variant, members in groups]
    metrics: tuple[ExperimentMetric, ...] = ("latency", "cost", "fallback_rate", "feedback")
    comparisons = [
        _compare(metric, groups[i], groups[j])
        for i in range(len(groups))
        for j in range(i + 1, len(groups))
        for metric in metrics
    ]
    winner, verdict = _judge(settings, variants, comparisons)
    return ExperimentReport(
        experiment=name,
        description=settings.description,
        metric=settings.metric,
        better="higher" if METRICS[settings.metric] == "higher" else "lower",
        alpha=settings.alpha,
        min_sample=settings.min_sample,
        confidence=CONFIDENCE,
        since=since,
        until=until or datetime.now(UTC),
        requests=total,
        variants=variants,
        comparisons=comparisons,
        winner=winner,
        verdict=verdict,
    )


def compute_experiment_report(
    store: HistoryStore,
    name: str,
    settings: ExperimentSettings,
    since: datetime | None = None,
) -> ExperimentReport:
    """The report of experiment ``name`` over the records in ``store`` from ``since`` on."""
    until = datetime.now(UTC)
    rows = store.rows(since, columns=REPORT_COLUMNS, where={"ab_experiment": name})
    return experiment_report(name, settings, rows, since=since, until=until)
