"""The dashboard's data: requests over time in buckets, and the metrics from the same read."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ragged_graph.telemetry.metrics import compute_metrics
from ragged_graph.telemetry.store import HistoryStore, record_to_row
from ragged_graph.telemetry.timeseries import (
    BUCKET_WIDTHS_S,
    bucket_width,
    compute_dashboard,
    series_from_rows,
)
from tests.support.history import DASHBOARD_START, RecordFactory, dashboard_records

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (timedelta(0), 60),
        (timedelta(minutes=59), 60),
        (timedelta(hours=2), 300),
        (timedelta(hours=10), 900),
        (timedelta(days=2), 3_600),
        (timedelta(days=10), 6 * 3_600),
        (timedelta(days=40), 86_400),
        (timedelta(days=300), 7 * 86_400),
    ],
)
def test_bucket_width_is_the_narrowest_that_fits(span: timedelta, width: int) -> None:
    assert bucket_width(T0, T0 + span) == width
    assert (T0 + span).timestamp() // width - T0.timestamp() // width + 1 <= 60


def test_bucket_width_beyond_weeks_takes_several_weeks() -> None:
    width = bucket_width(T0, T0 + timedelta(days=3 * 365))
    assert width % BUCKET_WIDTHS_S[-1] == 0
    assert width > BUCKET_WIDTHS_S[-1]


def test_empty_history_has_no_buckets() -> None:
    series = series_from_rows([])
    assert (series.buckets, series.models, series.tiers) == ([], [], [])


def test_buckets_count_models_tiers_errors_fallbacks_cost_and_latency() -> None:
    records = dashboard_records()
    series = series_from_rows([record_to_row(r) for r in records])
    # 30 requests 7 minutes apart span 203 minutes: 5-minute buckets.
    assert series.bucket_s == 300
    starts = [bucket.start for bucket in series.buckets]
    assert starts[0] == DASHBOARD_START
    assert all(b - a == timedelta(seconds=300) for a, b in itertools.pairwise(starts))
    assert len(series.buckets) == 203 // 5 + 1
    assert series.models == ["gpt-4o", "llama3.2:3b", "qwen2.5-coder:14b"]  # 10 each, by name
    assert series.tiers == ["balanced", "fast", "quality"]

    by_start = {bucket.start: bucket for bucket in series.buckets}
    expected: dict[datetime, list[int]] = {}
    for i, record in enumerate(records):
        start = datetime.fromtimestamp(record.time.timestamp() // 300 * 300, UTC)
        expected.setdefault(start, []).append(i)
    for start, bucket in by_start.items():
        members = [records[i] for i in expected.get(start, [])]
        assert bucket.requests == len(members)
        assert bucket.by_model == {
            model: sum(r.model == model for r in members) for model in series.models
        }
        assert bucket.by_tier == {
            tier: sum(r.tier == tier for r in members) for tier in series.tiers
        }
        assert bucket.errors == sum(not r.answered for r in members)
        assert bucket.fallbacks == sum(r.fallback_count > 0 for r in members)
        assert bucket.cost_usd == pytest.approx(sum(r.cost_usd for r in members))
        if members:
            latencies = [r.latency_ms for r in members]
            assert bucket.latency_p50_ms == pytest.approx(statistics.median(latencies))
        else:
            assert bucket.latency_p50_ms is None
    assert sum(b.requests for b in series.buckets) == len(records)
    totals: Counter[str] = Counter()
    for bucket in series.buckets:
        totals.update(bucket.by_model)
    assert totals == Counter(r.model for r in records)


def test_fixed_bucket_width(record_factory: RecordFactory) -> None:
    rows = [
        record_to_row(record_factory(0, time=T0, model="a")),
        record_to_row(record_factory(1, time=T0 + timedelta(hours=3, minutes=5), model="b")),
    ]
    series = series_from_rows(rows, bucket_s=3_600)
    assert [b.start for b in series.buckets] == [T0 + timedelta(hours=h) for h in range(4)]
    assert [b.requests for b in series.buckets] == [1, 0, 0, 1]
    assert series.buckets[1].latency_p99_ms is None
    with pytest.raises(ValueError, match="bucket_s"):
        series_from_rows(rows, bucket_s=0)


def test_compute_dashboard_reads_once_and_matches_the_analytics_metrics(tmp_path: Path) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    records = dashboard_records()
    store.insert(records)
    data = compute_dashboard(store)
    expected = compute_metrics(store)
    assert data.metrics.model_dump(exclude={"until"}) == expected.model_dump(exclude={"until"})
    assert data.metrics.requests == sum(b.requests for b in data.series.buckets) == 30

    since = DASHBOARD_START + timedelta(minutes=70)  # records 10 to 29
    recent = compute_dashboard(store, since)
    assert recent.metrics.since == since
    assert recent.metrics.requests == 20
    assert recent.series.buckets[0].start == since
    assert sum(b.requests for b in recent.series.buckets) == 20
    store.close()
