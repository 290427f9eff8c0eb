"""The routing history over time, and everything the dashboard shows in one read.

:func:`series_from_rows` puts requests into time buckets of one width (a minute up to a
week, chosen so the period fits in at most :data:`MAX_BUCKETS`): per bucket, requests per
chosen model and per tier, errors, fallbacks, cost and latency p50/p95/p99.
:func:`compute_dashboard` reads the history once and returns the metrics
(:func:`~ragged_graph.telemetry.metrics.metrics_from_rows`, the very figures
``ragged-graph analytics`` prints) together with that series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ragged_graph.telemetry.metrics import (
    METRIC_COLUMNS,
    HistoryMetrics,
    metrics_from_rows,
    percentile,
)
from ragged_graph.telemetry.records import OUTCOME_ANSWERED
from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "BUCKET_WIDTHS_S",
    "MAX_BUCKETS",
    "DashboardData",
    "TimeBucket",
    "TimeSeries",
    "bucket_width",
    "compute_dashboard",
    "dashboard_from_rows",
    "series_from_rows",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

BUCKET_WIDTHS_S = (60, 300, 900, 3_600, 6 * 3_600, 86_400, 7 * 86_400)
"""The bucket widths to choose from, in seconds: 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 1 week."""

MAX_BUCKETS = 60
"""The most buckets a series has (unless even week-wide buckets need more)."""


class TimeBucket(BaseModel):
    """The requests that started in one time bucket."""

    model_config = _FROZEN

    start: AwareDatetime
    """The bucket's start (UTC, a whole multiple of its width since the epoch)."""
    requests: int
    """Requests that started in it."""
    by_model: dict[str, int]
    """Requests per chosen model (every model of the series, zeros included)."""
    by_tier: dict[str, int]
    """Requests per tier the query called for (every tier of the series, zeros included)."""
    errors: int
    """Requests that ended without an answer."""
    fallbacks: int
    """Requests that tried more than one model."""
    cost_usd: float
    """Cost, summed."""
    latency_p50_ms: float | None
    """Median request latency (None: no requests)."""
    latency_p95_ms: float | None
    """95th-percentile request latency."""
    latency_p99_ms: float | None
    """99th-percentile request latency."""


class TimeSeries(BaseModel):
    """Requests over time, in buckets of one width from the first request to the last."""

    model_config = _FROZEN

    bucket_s: int
    """The buckets' width in seconds."""
    models: list[str]
    """The chosen models, most requests first."""
    tiers: list[str]
    """The tiers, most requests first."""
    buckets: list[TimeBucket]
    """Oldest first, with no gaps (empty buckets included)."""


class DashboardData(BaseModel):
    """What the dashboard shows: the analytics metrics and the series, from one read."""

    model_config = _FROZEN

    metrics: HistoryMetrics
    """The same metrics as ``ragged-graph analytics --json``."""
    series: TimeSeries
    """Requests over time."""


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() // 1)


def bucket_width(first: datetime, last: datetime, max_buckets: int = MAX_BUCKETS) -> int:
    """The narrowest of :data:`BUCKET_WIDTHS_S` that covers ``first`` to ``last`` in at most
    ``max_buckets`` buckets; whole weeks beyond that."""
    start, end = _epoch(first), _epoch(last)
    for width in BUCKET_WIDTHS_S:
        if end // width - start // width + 1 <= max_buckets:
            return width
    week = BUCKET_WIDTHS_S[-1]
    weeks = 1
    while end // (week * weeks) - start // (week * weeks) + 1 > max_buckets:
        weeks += 1
    return week * weeks


def _ranked(counts: Mapping[str, int]) -> list[str]:
    return sorted(counts, key=lambda key: (-counts[key], key))


def _make_bucket(
    start: int, rows: Sequence[Mapping[str, Any]], models: Sequence[str], tiers: Sequence[str]
) -> TimeBucket:
    latencies = [float(row["latency_ms"]) for row in rows]
    by_model = dict.fromkeys(models, 0)
    by_tier = dict.fromkeys(tiers, 0)
    for row in rows:
        by_model[row["model"]] += 1
        by_tier[row["tier"]] += 1
    return TimeBucket(
        start=datetime.fromtimestamp(start, UTC),
        requests=len(rows),
        by_model=by_model,
        by_tier=by_tier,
        errors=sum(row["outcome"] != OUTCOME_ANSWERED for row in rows),
        fallbacks=sum(row["fallback_count"] > 0 for row in rows),
        cost_usd=sum(float(row["cost_usd"]) for row in rows),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        latency_p99_ms=percentile(latencies, 0.99),
    )


def series_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    bucket_s: int | None = None,
    max_buckets: int = MAX_BUCKETS,
) -> TimeSeries:
    """Requests over time from history rows (mappings with the table's columns).

    ``bucket_s`` fixes the buckets' width; by default :func:`bucket_width` chooses it.
    """
    chosen = list(rows)
    if bucket_s is not None and bucket_s < 1:
        raise ValueError(f"bucket_s must be at least 1, got {bucket_s}")
    if not chosen:
        return TimeSeries(bucket_s=bucket_s or BUCKET_WIDTHS_S[0], models=[], tiers=[], buckets=[])
    times = [_epoch(row["time"]) for row in chosen]
    first, last = min(times), max(times)
    width = bucket_s or bucket_width(
        datetime.fromtimestamp(first, UTC), datetime.fromtimestamp(last, UTC), max_buckets
    )
    model_counts: dict[str, int] = {}
    tier_counts: dict[str, int] = {}
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for row, moment in zip(chosen, times, strict=True):
        model_counts[row["model"]] = model_counts.get(row["model"], 0) + 1
        tier_counts[row["tier"]] = tier_counts.get(row["tier"], 0) + 1
        grouped.setdefault(moment // width * width, []).append(row)
    models, tiers = _ranked(model_counts), _ranked(tier_counts)
    starts = range(first // width * width, last // width * width + 1, width)
    return TimeSeries(
        bucket_s=width,
        models=models,
        tiers=tiers,
        buckets=[_make_bucket(start, grouped.get(start, []), models, tiers) for start in starts],
    )


def dashboard_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket_s: int | None = None,
) -> DashboardData:
    """The metrics and the series over the same history rows."""
    chosen = list(rows)
    return DashboardData(
        metrics=metrics_from_rows(chosen, since=since, until=until),
        series=series_from_rows(chosen, bucket_s=bucket_s),
    )


def compute_dashboard(
    store: HistoryStore, since: datetime | None = None, *, bucket_s: int | None = None
) -> DashboardData:
    """The dashboard's data over the records in ``store`` from ``since`` on (all when None),
    read once, so the charts and the figures agree."""
    until = datetime.now(UTC)
    rows = store.rows(since, columns=METRIC_COLUMNS)
    return dashboard_from_rows(rows, since=since, until=until, bucket_s=bucket_s)
