"""The report over history rows: figures per variant, the tests, and when a winner is called."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from ragged_graph.experiments.report import experiment_report
from ragged_graph.experiments.settings import ExperimentSettings
from ragged_graph.experiments.stats import student_t_ppf, two_proportion_z_test, welch_t_test


def settings(**fields: Any) -> ExperimentSettings:
    data: dict[str, Any] = {
        "variants": {"control": {"weight": 1}, "fast": {"weight": 1, "tier": "fast"}},
        "min_sample": 5,
    }
    data.update(fields)
    return ExperimentSettings.model_validate(data)


def row(
    variant: str | None,
    latency: float,
    *,
    cost: float = 0.0,
    fallbacks: int = 0,
    feedback: float | None = None,
    outcome: str = "answered",
) -> dict[str, Any]:
    return {
        "time": datetime(2026, 1, 15, tzinfo=UTC),
        "ab_variant": variant,
        "outcome": outcome,
        "fallback_count": fallbacks,
        "latency_ms": latency,
        "cost_usd": cost,
        "feedback": feedback,
    }


def rows_for(variant: str, latencies: Sequence[float], **fields: Any) -> list[dict[str, Any]]:
    return [row(variant, latency, **fields) for latency in latencies]


CONTROL = [200.0, 210.0, 190.0, 205.0, 195.0, 220.0, 185.0, 200.0]
FAST = [120.0, 130.0, 110.0, 125.0, 115.0, 140.0, 105.0, 120.0]


def test_figures_per_variant() -> None:
    rows = [
        *rows_for("control", CONTROL[:4], cost=0.002, fallbacks=1, feedback=4.0),
        *rows_for("control", CONTROL[4:], cost=0.004),
        *rows_for("fast", FAST, outcome="answered"),
        row("fast", 500.0, outcome="ALL_MODELS_FAILED"),
    ]
    report = experiment_report("exp", settings(), rows)
    control, fast = report.variants
    assert (control.name, fast.name) == ("control", "fast")
    assert report.requests == 17
    assert (control.requests, fast.requests) == (8, 9)
    assert control.share == pytest.approx(8 / 17)
    assert control.weight_share == 0.5
    assert fast.error_rate == pytest.approx(1 / 9)

    mean = statistics.fmean(CONTROL)
    half = student_t_ppf(0.975, 7) * statistics.stdev(CONTROL) / len(CONTROL) ** 0.5
    assert control.latency_ms.value == pytest.approx(mean)
    assert control.latency_ms.low == pytest.approx(mean - half)
    assert control.latency_ms.high == pytest.approx(mean + half)
    assert control.latency_ms.n == 8
    # n = 8: P(Bin(8, 1/2) <= 0) = 1/256 <= 0.025 < P(<= 1) = 9/256: 1st and 8th values.
    assert control.latency_median_ms.value == statistics.median(CONTROL)
    assert (control.latency_median_ms.low, control.latency_median_ms.high) == (185.0, 220.0)

    assert control.cost_usd.value == pytest.approx(0.003)
    assert control.cost_total_usd == pytest.approx(0.024)
    assert control.fallback_rate.value == 0.5
    assert control.feedback.value == 4.0
    assert control.feedback.n == 4
    assert fast.feedback.value is None
    assert fast.feedback.n == 0


def test_every_metric_is_tested_between_the_variants() -> None:
    rows = [
        *rows_for("control", CONTROL[:4], fallbacks=1),
        *rows_for("control", CONTROL[4:]),
        *rows_for("fast", FAST),
    ]
    report = experiment_report("exp", settings(), rows)
    by_metric = {comparison.metric: comparison for comparison in report.comparisons}
    assert set(by_metric) == {"latency", "cost", "fallback_rate", "feedback"}
    latency = by_metric["latency"]
    reference = welch_t_test(CONTROL, FAST)
    assert reference is not None
    assert (latency.first, latency.second, latency.test) == ("control", "fast", "welch_t")
    assert latency.difference == pytest.approx(statistics.fmean(CONTROL) - statistics.fmean(FAST))
    assert latency.p_value == pytest.approx(reference.p_value)
    fallback = by_metric["fallback_rate"]
    z = two_proportion_z_test(4, 8, 0, 8)
    assert z is not None
    assert fallback.test == "two_proportion_z"
    assert fallback.p_value == pytest.approx(z.p_value)
    assert fallback.difference == 0.5
    assert by_metric["feedback"].p_value is None  # nobody rated anything


def test_no_winner_before_the_minimum_sample() -> None:
    rows = [*rows_for("control", CONTROL), *rows_for("fast", FAST[:3])]
    report = experiment_report("exp", settings(min_sample=10), rows)
    assert report.winner is None
    assert report.verdict == (
        "no winner yet: need 2 more requests on variant control, 7 more on variant fast "
        "(min_sample 10)"
    )
    assert [variant.needed for variant in report.variants] == [2, 7]


def test_a_significant_difference_with_enough_requests_calls_the_winner() -> None:
    rows = [*rows_for("control", CONTROL), *rows_for("fast", FAST)]
    report = experiment_report("exp", settings(), rows)
    assert report.winner == "fast"
    assert report.verdict.startswith("variant fast wins on latency 120.6 ms vs 200.6 ms (control)")
    assert "< 0.05" in report.verdict


def test_no_winner_without_a_significant_difference() -> None:
    rows = [*rows_for("control", CONTROL), *rows_for("fast", [c + 1 for c in CONTROL])]
    report = experiment_report("exp", settings(), rows)
    assert report.winner is None
    assert report.verdict.startswith("no significant difference on latency yet: best is control")


def test_feedback_decides_when_it_is_the_metric_and_counts_rated_requests() -> None:
    rows = [
        *rows_for("control", CONTROL, feedback=3.0),
        *rows_for("fast", FAST[:3], feedback=4.0),
        *rows_for("fast", FAST[3:]),
    ]
    report = experiment_report("exp", settings(metric="feedback"), rows)
    assert report.winner is None
    assert report.verdict.startswith("no winner yet: need 2 more rated requests on variant fast")
    scores = [3.0, 4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 5.0]
    rated = [
        *(row("control", 100.0, feedback=s - 1.5) for s in scores),
        *(row("fast", 100.0, feedback=s) for s in scores),
    ]
    report = experiment_report("exp", settings(metric="feedback"), rated)
    assert report.better == "higher"
    assert report.winner == "fast"


def test_three_variants_need_to_beat_every_rival_after_bonferroni() -> None:
    three = settings(
        variants={"a": {}, "b": {"tier": "fast"}, "c": {"tier": "quality"}}, min_sample=8
    )
    middle = [(c + f) / 2 for c, f in zip(CONTROL, FAST, strict=True)]
    rows = [*rows_for("a", CONTROL), *rows_for("b", FAST), *rows_for("c", middle)]
    report = experiment_report("exp", three, rows)
    assert report.winner == "b"
    assert "Bonferroni" in report.verdict
    close = [f + 2 for f in FAST]
    rows = [*rows_for("a", CONTROL), *rows_for("b", FAST), *rows_for("c", close)]
    assert experiment_report("exp", three, rows).winner is None


def test_variants_only_the_history_has_are_shown_but_never_win() -> None:
    rows = [
        *rows_for("control", CONTROL),
        *rows_for("fast", FAST),
        *rows_for("retired", [10.0] * 8),
        row(None, 1.0),  # not in the experiment: ignored
    ]
    report = experiment_report("exp", settings(), rows)
    assert [variant.name for variant in report.variants] == ["control", "fast", "retired"]
    retired = report.variants[2]
    assert not retired.configured
    assert retired.weight_share is None
    assert retired.needed == 0
    assert report.requests == 24
    assert report.winner == "fast"


def test_an_empty_history_reports_zeros() -> None:
    report = experiment_report("exp", settings(), [])
    assert report.requests == 0
    assert all(variant.latency_ms.value is None for variant in report.variants)
    assert report.verdict.startswith("no winner yet: need 5 more requests on variant control")
    assert report.model_dump(mode="json")["variants"][0]["fallback_rate"]["value"] is None
