"""The A/B statistics against reference figures.

The constants were computed with SciPy 1.17 (``scipy.stats.t``, ``scipy.special.betainc``,
``scipy.stats.ttest_ind(equal_var=False)``, ``scipy.stats.binomtest(...).proportion_ci(
method="wilson")``, ``scipy.stats.norm.sf``); where SciPy is installed, the last tests also
compare with it directly over random samples.
"""

from __future__ import annotations

import math
import random
import statistics

import pytest

from ragged_graph.experiments.stats import (
    mean_interval,
    median_interval,
    regularized_beta,
    student_t_cdf,
    student_t_ppf,
    two_proportion_z_test,
    welch_t_test,
    wilson_interval,
)

A = [12.1, 14.3, 11.8, 15.2, 13.7, 12.9, 14.8]
B = [15.9, 16.4, 14.2, 17.8, 15.1, 16.9, 18.2, 15.5]


def test_regularized_beta() -> None:
    assert regularized_beta(0.3, 2.5, 0.5) == pytest.approx(0.018927124071945658, rel=1e-12)
    assert regularized_beta(0.4, 10, 20) == pytest.approx(0.7853183897628262, rel=1e-12)
    assert regularized_beta(0.0, 2, 3) == 0.0
    assert regularized_beta(1.0, 2, 3) == 1.0


@pytest.mark.parametrize(
    ("t", "df", "expected"),
    [(2.0, 5, 0.9490302605850708), (-1.3, 2.5, 0.15024339463535416), (0.0, 7, 0.5)],
)
def test_student_t_cdf(t: float, df: float, expected: float) -> None:
    assert student_t_cdf(t, df) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 10, 2.228138851986274),
        (0.975, 1, 12.706204736174694),
        (0.995, 39, 2.707913183517662),
        (0.025, 10, -2.228138851986274),
    ],
)
def test_student_t_quantiles(p: float, df: float, expected: float) -> None:
    assert student_t_ppf(p, df) == pytest.approx(expected, rel=1e-10)


def test_the_t_interval_of_a_mean() -> None:
    interval = mean_interval(A)
    assert interval is not None
    assert interval.estimate == pytest.approx(statistics.fmean(A))
    assert interval.low == pytest.approx(12.321900619130185, rel=1e-10)
    assert interval.high == pytest.approx(14.763813666584104, rel=1e-10)
    assert mean_interval([]) is None
    single = mean_interval([3.0])
    assert single is not None
    assert (single.estimate, single.low, single.high) == (3.0, None, None)


def test_the_order_statistic_interval_of_a_median() -> None:
    # n = 10: P(Bin(10, 1/2) <= 1) = 11/1024 <= 0.025 < P(<= 2) = 56/1024, so the 2nd and
    # 9th smallest values bound the median (coverage 1 - 2 * 11/1024 = 97.9 %).
    values = [7.0, 1.0, 9.0, 3.0, 10.0, 2.0, 8.0, 4.0, 6.0, 5.0]
    interval = median_interval(values)
    assert interval is not None
    assert (interval.estimate, interval.low, interval.high) == (5.5, 2.0, 9.0)
    # n = 5 is too few for 95 % (P(Bin(5, 1/2) = 0) = 1/32 > 0.025).
    small = median_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert small is not None
    assert (small.low, small.high) == (None, None)
    # n = 6: 1/64 <= 0.025, so the extremes.
    six = median_interval([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert six is not None
    assert (six.low, six.high) == (1.0, 6.0)


def test_wilson_intervals() -> None:
    interval = wilson_interval(7, 40)
    assert interval is not None
    assert interval.estimate == 7 / 40
    assert interval.low == pytest.approx(0.08745413746035918, rel=1e-9)
    assert interval.high == pytest.approx(0.3194999033178771, rel=1e-9)
    none = wilson_interval(0, 12)
    assert none is not None
    assert none.low == 0.0
    assert none.high == pytest.approx(0.24249400665524085, rel=1e-9)
    assert wilson_interval(0, 0) is None


def test_welch_t_test() -> None:
    result = welch_t_test(A, B)
    assert result is not None
    assert result.statistic == pytest.approx(-3.913043195028277, rel=1e-10)
    assert result.df == pytest.approx(12.82244973913809, rel=1e-10)
    assert result.p_value == pytest.approx(0.001826426366483274, rel=1e-8)
    assert welch_t_test([1.0], B) is None


def test_welch_t_test_without_any_variance() -> None:
    same = welch_t_test([2.0, 2.0], [2.0, 2.0, 2.0])
    assert same is not None
    assert same.p_value == 1.0
    apart = welch_t_test([2.0, 2.0], [3.0, 3.0])
    assert apart is not None
    assert apart.p_value == 0.0
    assert apart.statistic == -math.inf


def test_two_proportion_z_test() -> None:
    result = two_proportion_z_test(30, 200, 18, 210)
    assert result is not None
    assert result.statistic == pytest.approx(2.0237466523808973, rel=1e-12)
    assert result.p_value == pytest.approx(0.04299622577082097, rel=1e-9)
    nothing = two_proportion_z_test(0, 50, 0, 60)
    assert nothing is not None
    assert nothing.p_value == 1.0
    assert two_proportion_z_test(1, 0, 1, 5) is None


def test_against_scipy_on_random_samples() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(20260115)
    for _ in range(50):
        first = [rng.lognormvariate(5, 0.4) for _ in range(rng.randint(2, 80))]
        second = [rng.lognormvariate(5.1, 0.6) for _ in range(rng.randint(2, 80))]
        ours = welch_t_test(first, second)
        theirs = scipy_stats.ttest_ind(first, second, equal_var=False)
        assert ours is not None
        assert ours.statistic == pytest.approx(float(theirs.statistic), rel=1e-9)
        assert ours.p_value == pytest.approx(float(theirs.pvalue), rel=1e-7, abs=1e-14)
        n = rng.randint(1, 500)
        k = rng.randint(0, n)
        wilson = wilson_interval(k, n)
        reference = scipy_stats.binomtest(k, n).proportion_ci(method="wilson")
        assert wilson is not None
        assert wilson.low == pytest.approx(float(reference.low), abs=1e-12)
        assert wilson.high == pytest.approx(float(reference.high), abs=1e-12)
