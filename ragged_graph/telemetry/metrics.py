"""Metrics over the routing history, per model, answering model, tier, persona and host.

Every figure is computed in Python from the table's rows (so SQLite and PostgreSQL give the
same numbers): request share, latency p50/p95/p99, time to first token p50, tokens per
second, error rate, fallback rate, tokens and cost. Percentiles interpolate linearly between
the two nearest values, as PostgreSQL's ``percentile_cont`` does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from ragged_graph.errors import InvalidRequestError
from ragged_graph.telemetry.records import OUTCOME_ANSWERED
from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "DIMENSIONS",
    "METRIC_COLUMNS",
    "GroupMetrics",
    "HistoryMetrics",
    "compute_metrics",
    "metrics_from_rows",
    "parse_since",
    "percentile",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

DIMENSIONS = ("model", "answered_by", "tier", "persona", "host")
"""The columns metrics are grouped by: the chosen model, the answering model, the tier the
query called for, the persona and the host that answered (or was tried last)."""

METRIC_COLUMNS = (
    "time",
    *DIMENSIONS,
    "outcome",
    "fallback_count",
    "latency_ms",
    "first_token_ms",
    "tokens_in",
    "tokens_out",
    "tokens_per_s",
    "cost_usd",
)
"""The columns the metrics (and the dashboard's time series) read from each row."""


class GroupMetrics(BaseModel):
    """The figures for one group of requests (one model, one tier, ... or all of them)."""

    model_config = _FROZEN

    key: str | None
    """The group's value (e.g. the model's name); None for requests without one (no
    persona, no answering model)."""
    requests: int
    """Requests in the group."""
    share: float
    """Their share of all requests in the period (0-1)."""
    latency_p50_ms: float | None
    """Median request latency, routing and fallbacks included."""
    latency_p95_ms: float | None
    """95th-percentile request latency."""
    latency_p99_ms: float | None
    """99th-percentile request latency."""
    first_token_p50_ms: float | None
    """Median time to the answer's first token (answered requests that streamed)."""
    tokens_per_s: float | None
    """Mean generation speed over the requests that reported one."""
    error_rate: float
    """Share of requests that ended without an answer."""
    fallback_rate: float
    """Share of requests that tried more than one model."""
    tokens_in: int
    """Prompt tokens, summed."""
    tokens_out: int
    """Generated tokens, summed."""
    cost_usd: float
    """Cost, summed."""


class HistoryMetrics(BaseModel):
    """Metrics over the history for one period."""

    model_config = _FROZEN

    since: AwareDatetime | None
    """Start of the period (None: the whole history)."""
    until: AwareDatetime
    """When the metrics were computed."""
    requests: int
    """Requests in the period."""
    overall: GroupMetrics
    """All requests together (``key`` is None)."""
    by_model: list[GroupMetrics]
    """Per model chosen by the router, most requests first."""
    by_answered_by: list[GroupMetrics]
    """Per model that answered (key None: requests no model answered)."""
    by_tier: list[GroupMetrics]
    """Per tier the query called for."""
    by_persona: list[GroupMetrics]
    """Per persona (key None: no persona)."""
    by_host: list[GroupMetrics]
    """Per host that answered, or was tried last."""


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` percentile (0-1) of ``values``, interpolated linearly; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _group(rows: Sequence[Mapping[str, Any]], key: str | None, total: int) -> GroupMetrics:
    count = len(rows)
    latencies = [float(row["latency_ms"]) for row in rows]
    first_tokens = [
        float(row["first_token_ms"]) for row in rows if row["first_token_ms"] is not None
    ]
    speeds = [float(row["tokens_per_s"]) for row in rows if row["tokens_per_s"] is not None]
    return GroupMetrics(
        key=key,
        requests=count,
        share=count / total if total else 0.0,
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        latency_p99_ms=percentile(latencies, 0.99),
        first_token_p50_ms=percentile(first_tokens, 0.50),
        tokens_per_s=sum(speeds) / len(speeds) if speeds else None,
        error_rate=(
            sum(row["outcome"] != OUTCOME_ANSWERED for row in rows) / count if count else 0.0
        ),
        fallback_rate=sum(row["fallback_count"] > 0 for row in rows) / count if count else 0.0,
        tokens_in=sum(row["tokens_in"] or 0 for row in rows),
        tokens_out=sum(row["tokens_out"] or 0 for row in rows),
        cost_usd=sum(float(row["cost_usd"]) for row in rows),
    )


def _grouped(rows: Sequence[Mapping[str, Any]], column: str) -> list[GroupMetrics]:
    groups: dict[str | None, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[column], []).append(row)
    total = len(rows)
    metrics = [_group(members, key, total) for key, members in groups.items()]
    return sorted(metrics, key=lambda group: (-group.requests, group.key is None, group.key or ""))


def metrics_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> HistoryMetrics:
    """Metrics over history rows (mappings with the table's columns)."""
    chosen = list(rows)
    return HistoryMetrics(
        since=since,
        until=until or datetime.now(UTC),
        requests=len(chosen),
        overall=_group(chosen, None, len(chosen)),
        by_model=_grouped(chosen, "model"),
        by_answered_by=_grouped(chosen, "answered_by"),
        by_tier=_grouped(chosen, "tier"),
        by_persona=_grouped(chosen, "persona"),
        by_host=_grouped(chosen, "host"),
    )


def compute_metrics(store: HistoryStore, since: datetime | None = None) -> HistoryMetrics:
    """Metrics over the records in ``store`` from ``since`` on (all when None)."""
    until = datetime.now(UTC)
    return metrics_from_rows(store.rows(since, columns=METRIC_COLUMNS), since=since, until=until)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS: Mapping[str, Callable[[float], timedelta]] = {
    "s": lambda n: timedelta(seconds=n),
    "m": lambda n: timedelta(minutes=n),
    "h": lambda n: timedelta(hours=n),
    "d": lambda n: timedelta(days=n),
    "w": lambda n: timedelta(weeks=n),
}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """A period's start: a duration back from now (``90s``, ``30m``, ``1h``, ``1d``, ``2w``)
    or an ISO 8601 date or time (UTC unless it names a zone)."""
    match = _DURATION.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2).lower()
        return (now or datetime.now(UTC)) - _UNITS[unit](amount)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidRequestError(
            f"cannot read --since {text!r}: use a duration such as 30m, 1h, 1d or 2w, or an "
            "ISO date or time such as 2025-01-31 or 2025-01-31T08:00:00+01:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
