"""`ragged-graph ab report` over a seeded routing history, in SQLite and in PostgreSQL.

The history is written through the real writer and store; every expected figure is computed
here from the seeded values, independently of :mod:`ragged_graph.experiments` (means and
deviations with :mod:`statistics`, the median interval with exact binomial sums over
fractions, Wilson and the z-test from their formulas with :class:`statistics.NormalDist`).
Student's t quantiles and Welch's p-values for these samples were computed with SciPy 1.17
(``scipy.stats.t.ppf``, ``scipy.stats.ttest_ind(equal_var=False)``) and are checked against
SciPy again where it is installed.
"""

from __future__ import annotations

import json
import math
import statistics
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from math import comb
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, Table, create_engine, insert
from typer.testing import CliRunner

from ragged_graph.cli import app
from ragged_graph.config import RouterConfig
from ragged_graph.experiments.report import ExperimentReport, compute_experiment_report
from ragged_graph.telemetry import HistoryWriter, RoutingRecord
from ragged_graph.telemetry.store import TABLE_NAME, HistoryStore, record_to_row, routing_history
from tests.support.history import make_record

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
CONTROL_N, CODER_N = 40, 45

T_975 = {19: 2.0930240544083087, 22: 2.0738730679040254, 39: 2.022690920036761}
T_975[44] = 2.0153675744437636
"""Student's t 97.5 % quantiles by degrees of freedom (SciPy)."""
WELCH_P = {
    "latency": 5.802581662201814e-05,
    "cost": 1.1476939276630468e-05,
    "feedback": 0.9114718047323662,
}
"""Welch's two-sided p between control and coder for the seeded samples (SciPy)."""


def control_latency(i: int) -> float:
    return 180 + ((i * 37) % 41) * 2.5


def coder_latency(i: int) -> float:
    return 160 + ((i * 53) % 47) * 2.0


def seeded() -> list[RoutingRecord]:
    """40 control and 45 coder requests of `coder-model`, 6 of another experiment, 6 in
    none, and 4 control requests from before `--since`."""
    records: list[RoutingRecord] = []

    def add(i: int, when: datetime, **fields: Any) -> None:
        records.append(make_record(i, time=when, request_id=f"r-{len(records)}", **fields))

    for i in range(CONTROL_N):
        add(
            i,
            START + timedelta(seconds=30 * i),
            ab_experiment="coder-model",
            ab_variant="control",
            latency_ms=control_latency(i),
            cost_usd=0.0002 * (1 + i % 3),
            fallback_count=1 if i % 8 == 0 else 0,
            feedback=3 + (i % 5) * 0.5 if i % 2 == 0 else None,
        )
    for i in range(CODER_N):
        add(
            i,
            START + timedelta(seconds=30 * i + 7),
            ab_experiment="coder-model",
            ab_variant="coder",
            model="qwen2.5-coder:7b",
            latency_ms=coder_latency(i),
            cost_usd=0.0001 * (1 + i % 4),
            fallback_count=1 if i % 15 == 0 else 0,
            feedback=3.5 + (i % 4) * 0.5 if i % 2 == 0 else None,
        )
    for i in range(6):
        add(i, START + timedelta(minutes=i), ab_experiment="other", ab_variant="control")
        add(i, START + timedelta(minutes=i, seconds=1), latency_ms=1.0)
    for i in range(4):
        add(
            i,
            START - timedelta(days=2, minutes=i),
            ab_experiment="coder-model",
            ab_variant="control",
            latency_ms=9999.0,
        )
    return records


def write_history(url: str) -> None:
    writer = HistoryWriter(url, flush_interval_s=0)
    for record in seeded():
        writer.record(record)
    assert writer.close(timeout=30)
    assert writer.stats.written == len(seeded())


def config_file(tmp_path: Path, url: str, *, min_sample: int = 30) -> Path:
    path = tmp_path / "router.yaml"
    path.write_text(
        f"""
history:
  url: '{url}'
experiments:
  coder-model:
    assign_by: session
    metric: latency
    min_sample: {min_sample}
    variants:
      control: {{weight: 1}}
      coder: {{weight: 1, model: "qwen2.5-coder:7b"}}
""",
        encoding="utf-8",
    )
    return path


# -- the figures, computed independently ------------------------------------------------


def t_interval(values: list[float]) -> tuple[float, float, float]:
    mean = statistics.fmean(values)
    half = T_975[len(values) - 1] * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def median_bounds(values: list[float]) -> tuple[float, float]:
    """The 95 % order-statistic interval: j the largest with P(Bin(n, 1/2) <= j - 1) <= 2.5 %."""
    n = len(values)
    ordered = sorted(values)
    j = 0
    while j < n // 2 and Fraction(sum(comb(n, i) for i in range(j + 1)), 2**n) <= Fraction(1, 40):
        j += 1
    return ordered[j - 1], ordered[n - j]


def wilson(successes: int, n: int) -> tuple[float, float]:
    z = statistics.NormalDist().inv_cdf(0.975)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def z_test_p(x1: int, n1: int, x2: int, n2: int) -> float:
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 2 * (1 - statistics.NormalDist().cdf(abs(z)))


def expected_samples() -> dict[str, dict[str, list[float]]]:
    return {
        "control": {
            "latency": [control_latency(i) for i in range(CONTROL_N)],
            "cost": [0.0002 * (1 + i % 3) for i in range(CONTROL_N)],
            "feedback": [3 + (i % 5) * 0.5 for i in range(CONTROL_N) if i % 2 == 0],
            "fallbacks": [float(i % 8 == 0) for i in range(CONTROL_N)],
        },
        "coder": {
            "latency": [coder_latency(i) for i in range(CODER_N)],
            "cost": [0.0001 * (1 + i % 4) for i in range(CODER_N)],
            "feedback": [3.5 + (i % 4) * 0.5 for i in range(CODER_N) if i % 2 == 0],
            "fallbacks": [float(i % 15 == 0) for i in range(CODER_N)],
        },
    }


def assert_report_figures(report: ExperimentReport) -> None:
    samples = expected_samples()
    assert report.requests == CONTROL_N + CODER_N
    assert [variant.name for variant in report.variants] == ["control", "coder"]
    for variant in report.variants:
        sample = samples[variant.name]
        assert variant.requests == len(sample["latency"])
        assert variant.share == pytest.approx(variant.requests / report.requests)
        for estimate, values in (
            (variant.latency_ms, sample["latency"]),
            (variant.cost_usd, sample["cost"]),
            (variant.feedback, sample["feedback"]),
        ):
            mean, low, high = t_interval(values)
            assert estimate.n == len(values)
            assert estimate.value == pytest.approx(mean, rel=1e-12)
            assert estimate.low == pytest.approx(low, rel=1e-9)
            assert estimate.high == pytest.approx(high, rel=1e-9)
        assert variant.latency_median_ms.value == statistics.median(sample["latency"])
        low, high = median_bounds(sample["latency"])
        assert (variant.latency_median_ms.low, variant.latency_median_ms.high) == (low, high)
        fell_back = int(sum(sample["fallbacks"]))
        assert variant.fallback_rate.value == pytest.approx(fell_back / variant.requests)
        low, high = wilson(fell_back, variant.requests)
        assert variant.fallback_rate.low == pytest.approx(low, rel=1e-9)
        assert variant.fallback_rate.high == pytest.approx(high, rel=1e-9)
        assert variant.cost_total_usd == pytest.approx(math.fsum(sample["cost"]))
    by_metric = {comparison.metric: comparison for comparison in report.comparisons}
    for metric, p_value in WELCH_P.items():
        assert (by_metric[metric].first, by_metric[metric].second) == ("control", "coder")
        assert by_metric[metric].p_value == pytest.approx(p_value, rel=1e-7)
    assert by_metric["fallback_rate"].p_value == pytest.approx(
        z_test_p(5, CONTROL_N, 3, CODER_N), rel=1e-9
    )


# -- the tests --------------------------------------------------------------------------


def test_the_seeded_constants_are_scipys() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    for df, quantile in T_975.items():
        assert float(scipy_stats.t.ppf(0.975, df)) == pytest.approx(quantile, rel=1e-12)
    samples = expected_samples()
    for metric, p_value in WELCH_P.items():
        found = scipy_stats.ttest_ind(
            samples["control"][metric], samples["coder"][metric], equal_var=False
        )
        assert float(found.pvalue) == pytest.approx(p_value, rel=1e-12)


def test_the_report_over_a_seeded_history_gives_the_right_figures(history_url: str) -> None:
    write_history(history_url)
    config = RouterConfig.model_validate(
        {
            "experiments": {
                "coder-model": {
                    "min_sample": 30,
                    "variants": {"control": {}, "coder": {"model": "qwen2.5-coder:7b"}},
                }
            }
        }
    )
    store = HistoryStore(history_url)
    try:
        report = compute_experiment_report(
            store,
            "coder-model",
            config.experiments["coder-model"],
            since=START - timedelta(hours=1),
        )
        everything = compute_experiment_report(
            store, "coder-model", config.experiments["coder-model"]
        )
    finally:
        store.close()
    assert_report_figures(report)
    assert report.winner == "coder"
    assert report.verdict.startswith("variant coder wins on latency")
    # Without --since, the four slow control requests from two days earlier count too.
    assert everything.variants[0].requests == CONTROL_N + 4


def test_ab_report_json_prints_the_same_report(history_url: str, tmp_path: Path) -> None:
    write_history(history_url)
    config = config_file(tmp_path, history_url)
    since = (START - timedelta(hours=1)).isoformat()
    result = CliRunner().invoke(
        app, ["ab", "report", "coder-model", "--json", "--since", since, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    report = ExperimentReport.model_validate(json.loads(result.stdout))
    assert_report_figures(report)
    assert report.winner == "coder"

    text = CliRunner().invoke(
        app, ["ab", "report", "coder-model", "--since", since, "--config", str(config)]
    )
    assert text.exit_code == 0, text.output
    assert "variant coder wins on latency" in text.stdout
    assert "control" in text.stdout
    assert "coder" in text.stdout


def test_no_winner_is_called_before_the_minimum_sample(history_url: str, tmp_path: Path) -> None:
    write_history(history_url)
    config = config_file(tmp_path, history_url, min_sample=50)
    since = (START - timedelta(hours=1)).isoformat()
    result = CliRunner().invoke(
        app, ["ab", "report", "coder-model", "--json", "--since", since, "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["winner"] is None
    assert data["verdict"] == (
        "no winner yet: need 10 more requests on variant control, 5 more on variant coder "
        "(min_sample 50)"
    )


def test_an_unknown_experiment_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'history.sqlite3'}")
    result = CliRunner().invoke(app, ["ab", "report", "coder", "--config", str(config)])
    assert result.exit_code == 2
    assert "unknown experiment 'coder'; known experiments: coder-model" in result.output
    assert "UNKNOWN_EXPERIMENT" in result.output
    assert not (tmp_path / "history.sqlite3").exists()


def test_ab_list_shows_the_experiments(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'history.sqlite3'}")
    result = CliRunner().invoke(app, ["ab", "list", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    [listed] = json.loads(result.stdout)
    assert listed["name"] == "coder-model"
    assert listed["status"] == "running"
    assert listed["variants"]["coder"]["model"] == "qwen2.5-coder:7b"
    text = CliRunner().invoke(app, ["ab", "list", "--config", str(config)])
    assert text.exit_code == 0, text.output
    assert "coder (50%: model=qwen2.5-coder:7b)" in text.stdout
    assert "control (50%: control)" in text.stdout


def test_a_history_table_from_before_the_experiment_columns_still_works(
    history_url: str,
) -> None:
    """A table made before ``ab_experiment``, ``ab_variant`` and ``feedback`` existed gets
    them added on first use; its old rows read back with None there."""
    new_columns = {"ab_experiment", "ab_variant", "feedback"}
    old = MetaData()
    old_table = Table(
        TABLE_NAME,
        old,
        *(
            Column(
                column.name,
                column.type,
                primary_key=column.primary_key,
                nullable=column.nullable,
            )
            for column in routing_history.columns
            if column.name not in new_columns
        ),
    )
    engine = create_engine(history_url)
    old.create_all(engine)
    row = record_to_row(make_record(1, request_id="old"))
    with engine.begin() as connection:
        connection.execute(
            insert(old_table), {k: v for k, v in row.items() if k not in new_columns}
        )
    engine.dispose()

    store = HistoryStore(history_url)
    try:
        store.insert(
            [make_record(2, request_id="new", ab_experiment="e", ab_variant="a", feedback=4.5)]
        )
        records = {record.request_id: record for record in store.records()}
        again = HistoryStore(history_url)
        again.create_schema()  # nothing left to add, nothing fails
        again.close()
    finally:
        store.close()
    assert (records["old"].ab_experiment, records["old"].ab_variant) == (None, None)
    assert records["old"].feedback is None
    assert (records["new"].ab_experiment, records["new"].ab_variant) == ("e", "a")
    assert records["new"].feedback == 4.5
