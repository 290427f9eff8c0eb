"""Metrics from history rows: shares, percentiles, rates, cost, and reading `--since`."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ragged_graph.errors import InvalidRequestError
from ragged_graph.telemetry.metrics import (
    compute_metrics,
    metrics_from_rows,
    parse_since,
    percentile,
)
from ragged_graph.telemetry.store import HistoryStore, record_to_row
from tests.support.history import RecordFactory


@pytest.mark.parametrize(
    "values", [[1.0, 2.0], [3.0, 1.0, 2.0, 10.0, 7.5], [float(v) for v in range(101)]]
)
def test_percentiles_interpolate_like_postgres_percentile_cont(values: list[float]) -> None:
    # statistics.quantiles' "inclusive" method is the same linear interpolation.
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values))
    assert percentile(values, 0.95) == pytest.approx(cuts[94])
    assert percentile(values, 0.99) == pytest.approx(cuts[98])


def test_percentiles_of_one_value_and_of_none() -> None:
    assert percentile([5.0], 0.99) == 5.0
    assert percentile([], 0.5) is None


def test_groups_share_rates_and_sums(record_factory: RecordFactory) -> None:
    rows = [
        record_to_row(record_factory(0, model="a", latency_ms=10.0, cost_usd=0.5)),
        record_to_row(record_factory(1, model="a", latency_ms=30.0, fallback_count=1)),
        record_to_row(
            record_factory(
                2,
                model="b",
                latency_ms=50.0,
                outcome="ALL_MODELS_FAILED",
                answered_by=None,
                tokens_in=None,
                tokens_out=None,
                tokens_per_s=None,
                first_token_ms=None,
                persona=None,
            )
        ),
        record_to_row(record_factory(3, model="a", latency_ms=20.0, tokens_per_s=70.0)),
    ]
    metrics = metrics_from_rows(rows)
    assert metrics.requests == 4
    a, b = metrics.by_model
    assert (a.key, a.requests, a.share, b.key, b.requests, b.share) == ("a", 3, 0.75, "b", 1, 0.25)
    assert a.latency_p50_ms == 20.0
    assert a.fallback_rate == pytest.approx(1 / 3)
    assert a.error_rate == 0.0
    assert b.error_rate == 1.0
    assert a.tokens_per_s == pytest.approx((50 + 50 + 70) / 3)
    assert b.tokens_per_s is None
    assert b.first_token_p50_ms is None
    assert metrics.overall.cost_usd == pytest.approx(0.5)
    assert metrics.overall.tokens_out == 120
    assert metrics.overall.error_rate == 0.25
    # Requests without a persona or an answering model form their own group, listed last.
    assert [group.key for group in metrics.by_persona] == ["developer", None]
    assert [group.key for group in metrics.by_answered_by] == ["qwen2.5-coder:14b", None]


def test_no_history_gives_zero_requests_and_no_percentiles() -> None:
    metrics = metrics_from_rows([])
    assert metrics.requests == 0
    assert metrics.overall.latency_p50_ms is None
    assert metrics.by_model == []


def test_metrics_from_a_store_keep_only_the_period(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    now = datetime.now(UTC)
    store.insert(
        [record_factory(i, time=now - timedelta(hours=48 - i)) for i in range(3)]
        + [record_factory(10 + i, time=now - timedelta(minutes=10)) for i in range(2)]
    )
    assert compute_metrics(store).requests == 5
    assert compute_metrics(store, since=now - timedelta(hours=1)).requests == 2
    store.close()


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1.5h", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        ("2W", timedelta(weeks=2)),
    ],
)
def test_since_reads_durations_back_from_now(text: str, back: timedelta) -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since(text, now=now) == now - back


def test_since_reads_iso_dates_as_utc_unless_zoned() -> None:
    assert parse_since("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_since("2026-05-01T10:00:00+02:00") == datetime(2026, 5, 1, 8, tzinfo=UTC)


def test_an_unreadable_since_says_what_it_takes() -> None:
    with pytest.raises(InvalidRequestError, match="30m, 1h, 1d or 2w"):
        parse_since("yesterday")
