"""RouteLLM's curve, APGR and CPT on datasets small enough to work out by hand."""

from __future__ import annotations

import math

import pytest

from ragged_graph.learning.routellm_metrics import (
    NoPerformanceGapError,
    RoutingCurve,
    ThresholdSweep,
    average_performance_gap_recovered,
    call_performance_threshold,
    routing_curve,
    sample_curve,
)

# Four prompts: the weak model gets 0 and 1 right, the strong one 0, 2 and 3. Sending prompt
# i to the strong model changes the correct count by strong - weak: 0, -1, +1, +1.
WEAK = (True, True, False, False)
STRONG = (True, False, True, True)
# Highest score first: 2 (+1), 3 (+1), 1 (-1), 0 (0); correct counts 2, 3, 4, 3, 3.
SCORES = (0.1, 0.2, 0.9, 0.5)


def shares_and_pgrs(curve: RoutingCurve) -> list[tuple[float, float]]:
    return [(point.strong_share, point.pgr) for point in curve.points]


def test_exact_curve_steps_one_prompt_at_a_time_from_highest_score() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)

    # weak accuracy 2/4, strong 3/4, gap one prompt: PGR = correct - 2.
    assert shares_and_pgrs(curve) == [(0.0, 0.0), (0.25, 1.0), (0.5, 2.0), (0.75, 1.0), (1.0, 1.0)]
    assert [point.accuracy for point in curve.points] == [0.5, 0.75, 1.0, 0.75, 0.75]
    assert curve.weak_accuracy == 0.5
    assert curve.strong_accuracy == 0.75


def test_apgr_is_the_trapezoidal_area_under_pgr() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)

    # 0.25 * ((0+1)/2 + (1+2)/2 + (2+1)/2 + (1+1)/2) = 0.25 * 4.5
    assert average_performance_gap_recovered(curve) == pytest.approx(1.125)


def test_cpt_interpolates_linearly_to_the_first_crossing() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)

    # Crossing between (0, 0) and (0.25, 1): share = 0.25 * target.
    assert call_performance_threshold(curve, 0.5) == pytest.approx(0.125)
    assert call_performance_threshold(curve, 0.8) == pytest.approx(0.2)
    # Crossing between (0.25, 1) and (0.5, 2).
    assert call_performance_threshold(curve, 1.5) == pytest.approx(0.375)
    assert call_performance_threshold(curve, 0.0) == 0.0
    assert call_performance_threshold(curve, 2.5) is None


def test_pgr_is_exactly_zero_with_no_strong_calls_and_one_with_all() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)

    assert curve.points[0].pgr == 0.0
    assert curve.points[-1].pgr == 1.0


def test_tied_scores_move_together_and_draw_the_random_tie_break_line() -> None:
    # All scores equal: one jump from no strong calls to all of them, i.e. the straight line
    # random routing gives on average.
    curve = routing_curve([0.3] * 4, WEAK, STRONG)

    assert shares_and_pgrs(curve) == [(0.0, 0.0), (1.0, 1.0)]
    assert average_performance_gap_recovered(curve) == pytest.approx(0.5)
    assert call_performance_threshold(curve, 0.5) == pytest.approx(0.5)
    assert call_performance_threshold(curve, 0.8) == pytest.approx(0.8)


def test_a_tied_group_is_never_split() -> None:
    # weak right on 2 and 3, strong right on 0, 1 and 2; prompts 0 and 1 tie at the top.
    weak = (False, False, True, True)
    strong = (True, True, True, False)
    curve = routing_curve([1.0, 1.0, 0.0, 0.0], weak, strong)

    # (0, 0) -> both tied prompts at once (+2) -> the rest (0, -1).
    assert shares_and_pgrs(curve) == [(0.0, 0.0), (0.5, 2.0), (1.0, 1.0)]
    assert average_performance_gap_recovered(curve) == pytest.approx(0.5 + 0.75)
    assert call_performance_threshold(curve, 0.5) == pytest.approx(0.125)


def test_oracle_order_beats_reverse_order() -> None:
    helpful = [1.0 if s and not w else 0.0 for w, s in zip(WEAK, STRONG, strict=True)]
    harmful = [-score for score in helpful]

    best = average_performance_gap_recovered(routing_curve(helpful, WEAK, STRONG))
    worst = average_performance_gap_recovered(routing_curve(harmful, WEAK, STRONG))

    assert best > 0.5 > worst


def test_routellm_quantile_sweep_matches_its_thresholds() -> None:
    # Two bins: thresholds at the 0, 0.5 and 1 quantiles of [0.1, 0.2, 0.5, 0.9], i.e. 0.1,
    # 0.35 (halfway between 0.2 and 0.5) and 0.9. ">= 0.1" sends all four to the strong model
    # (3 correct), ">= 0.35" sends prompts 2 and 3 (4 correct), "> 0.9" sends none (2 correct).
    curve = routing_curve(
        SCORES, WEAK, STRONG, sweep=ThresholdSweep.ROUTELLM_QUANTILES, quantile_bins=2
    )

    assert shares_and_pgrs(curve) == [(0.0, 0.0), (0.5, 2.0), (1.0, 1.0)]
    # The coarser sweep skips the point at 0.25 share, so its area differs from the exact 1.125.
    assert average_performance_gap_recovered(curve) == pytest.approx(1.25)
    assert call_performance_threshold(curve, 0.5) == pytest.approx(0.125)


def test_quantile_sweep_with_many_bins_equals_the_exact_curve_area() -> None:
    # With one bin per prompt every quantile threshold lands on a score, so no point is missed.
    quantile = routing_curve(
        SCORES, WEAK, STRONG, sweep=ThresholdSweep.ROUTELLM_QUANTILES, quantile_bins=3
    )
    exact = routing_curve(SCORES, WEAK, STRONG)

    assert average_performance_gap_recovered(quantile) == pytest.approx(
        average_performance_gap_recovered(exact)
    )


def test_quantile_sweep_keeps_duplicate_thresholds_of_tied_scores() -> None:
    curve = routing_curve(
        [0.0, 0.0, 0.0, 1.0], WEAK, STRONG, sweep=ThresholdSweep.ROUTELLM_QUANTILES
    )

    assert curve.points[0].strong_share == 0.0
    assert curve.points[-1].strong_share == 1.0
    assert {point.strong_share for point in curve.points} == {0.0, 0.25, 1.0}


def test_sample_curve_reads_evenly_spaced_shares() -> None:
    curve = routing_curve(SCORES, WEAK, STRONG)

    sampled = sample_curve(curve, samples=5)

    assert [point.strong_share for point in sampled] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert [point.pgr for point in sampled] == [0.0, 1.0, 2.0, 1.0, 1.0]
    assert sampled[2].accuracy == pytest.approx(1.0)
    assert sample_curve(curve, samples=3)[1].pgr == 2.0


def test_equal_model_accuracy_makes_pgr_undefined() -> None:
    with pytest.raises(NoPerformanceGapError, match="equally accurate"):
        routing_curve([0.1, 0.2], [True, False], [False, True])


@pytest.mark.parametrize("bad_score", [math.nan, math.inf])
def test_non_finite_scores_are_rejected(bad_score: float) -> None:
    with pytest.raises(ValueError, match="prompt 1"):
        routing_curve([0.1, bad_score, 0.2, 0.3], WEAK, STRONG)


def test_mismatched_or_empty_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="equally long"):
        routing_curve([0.1, 0.2], WEAK, STRONG)
    with pytest.raises(ValueError, match="zero prompts"):
        routing_curve([], [], [])
