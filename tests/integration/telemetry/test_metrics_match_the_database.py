"""After a batch of requests with faults, the metrics equal what SQL over the table gives,
in SQLite and in PostgreSQL; `ragged-graph analytics --json` prints those same metrics."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ragged_graph.cli import app
from ragged_graph.telemetry.metrics import DIMENSIONS, GroupMetrics, HistoryMetrics, compute_metrics
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import OllamaServer
from tests.support.history import make_record, run_batch

pytestmark = pytest.mark.integration

AGGREGATES = """
SELECT {column} AS key,
       COUNT(*) AS requests,
       SUM(CASE WHEN outcome <> 'answered' THEN 1 ELSE 0 END) AS errors,
       SUM(CASE WHEN fallback_count > 0 THEN 1 ELSE 0 END) AS fallbacks,
       AVG(tokens_per_s) AS tokens_per_s,
       SUM(COALESCE(tokens_in, 0)) AS tokens_in,
       SUM(COALESCE(tokens_out, 0)) AS tokens_out,
       SUM(cost_usd) AS cost_usd
FROM routing_history
GROUP BY {column}
"""

POSTGRES_PERCENTILES = """
SELECT {column} AS key,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_token_ms) AS ttft_p50
FROM routing_history
GROUP BY {column}
"""


def _quantiles(values: list[float]) -> tuple[float, float, float] | tuple[None, None, None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return values[0], values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def sql_percentiles(store: HistoryStore, column: str) -> dict[Any, tuple[Any, ...]]:
    """p50, p95, p99 of latency and p50 of time to first token per group, by SQL."""
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            rows = connection.execute(text(POSTGRES_PERCENTILES.format(column=column)))
            return {row.key: (row.p50, row.p95, row.p99, row.ttft_p50) for row in rows}
        # SQLite has no percentile function: SQL orders the values, quantiles interpolates.
        ordered = connection.execute(
            text(f"SELECT {column} AS key, latency_ms, first_token_ms FROM routing_history")
        ).all()
    found: dict[Any, tuple[Any, ...]] = {}
    for key in {row.key for row in ordered}:
        latencies = sorted(row.latency_ms for row in ordered if row.key == key)
        firsts = sorted(
            row.first_token_ms
            for row in ordered
            if row.key == key and row.first_token_ms is not None
        )
        found[key] = (*_quantiles(latencies), _quantiles(firsts)[0])
    return found


def assert_group_matches(group: GroupMetrics, row: Any, total: int, cuts: tuple[Any, ...]) -> None:
    assert group.requests == row.requests
    assert group.share == pytest.approx(row.requests / total)
    assert group.error_rate == pytest.approx(row.errors / row.requests)
    assert group.fallback_rate == pytest.approx(row.fallbacks / row.requests)
    assert group.tokens_in == row.tokens_in
    assert group.tokens_out == row.tokens_out
    assert group.cost_usd == pytest.approx(row.cost_usd)
    if row.tokens_per_s is None:
        assert group.tokens_per_s is None
    else:
        assert group.tokens_per_s == pytest.approx(float(row.tokens_per_s))
    figures = (
        group.latency_p50_ms,
        group.latency_p95_ms,
        group.latency_p99_ms,
        group.first_token_p50_ms,
    )
    for ours, theirs in zip(figures, cuts, strict=True):
        if theirs is None:
            assert ours is None
        else:
            assert ours == pytest.approx(float(theirs))


def test_metrics_equal_sql_over_the_table(ollama_server: OllamaServer, history_url: str) -> None:
    sent = run_batch(ollama_server, history_url)
    store = HistoryStore(history_url)
    metrics = compute_metrics(store)
    assert metrics.requests == sent == store.count()
    assert 0 < metrics.overall.error_rate < 1
    assert 0 < metrics.overall.fallback_rate < 1
    for dimension in DIMENSIONS:
        with store.engine.connect() as connection:
            rows = {
                row.key: row
                for row in connection.execute(text(AGGREGATES.format(column=dimension)))
            }
        cuts = sql_percentiles(store, dimension)
        groups = getattr(metrics, f"by_{dimension}")
        assert {group.key for group in groups} == set(rows)
        for group in groups:
            assert_group_matches(group, rows[group.key], sent, cuts[group.key])
    store.close()


def _write_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "router.yaml"
    config.write_text(f"history:\n  url: '{url}'\n", encoding="utf-8")
    return config


def _without_until(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "until"}


def test_analytics_json_prints_the_metrics(
    ollama_server: OllamaServer, history_url: str, tmp_path: Path
) -> None:
    run_batch(ollama_server, history_url, rounds=1)
    config = _write_config(tmp_path, history_url)
    result = CliRunner().invoke(app, ["analytics", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    store = HistoryStore(history_url)
    expected = compute_metrics(store).model_dump(mode="json")
    store.close()
    assert _without_until(printed) == _without_until(expected)
    HistoryMetrics.model_validate(printed)


def test_analytics_since_leaves_older_requests_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    store = HistoryStore(url)
    now = datetime.now(UTC)
    store.insert(
        [make_record(i, time=now - timedelta(days=3)) for i in range(5)]
        + [
            make_record(10 + i, time=now - timedelta(minutes=5), model="gemma3:4b")
            for i in range(2)
        ]
    )
    store.close()
    config = _write_config(tmp_path, url)
    runner = CliRunner()
    everything = json.loads(
        runner.invoke(app, ["analytics", "--json", "--config", str(config)]).stdout
    )
    recent = json.loads(
        runner.invoke(app, ["analytics", "--json", "--since", "1h", "--config", str(config)]).stdout
    )
    assert everything["requests"] == 7
    assert recent["requests"] == 2
    assert [group["key"] for group in recent["by_model"]] == ["gemma3:4b"]
    iso = (now - timedelta(days=4)).date().isoformat()
    dated = runner.invoke(app, ["analytics", "--json", "--since", iso, "--config", str(config)])
    assert json.loads(dated.stdout)["requests"] == 7


def test_analytics_prints_a_table_per_dimension(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    run_batch(ollama_server, url, rounds=1)
    config = _write_config(tmp_path, url)
    result = CliRunner().invoke(app, ["analytics", "--config", str(config)], terminal_width=200)
    assert result.exit_code == 0, result.output
    for title in ("by chosen model", "by answered by", "by tier", "by persona", "by host"):
        assert title in result.stdout
    assert "llama3.2:3b" in result.stdout
    assert "requests (all time)" in result.stdout


def test_analytics_with_no_history_yet_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none' / 'h.sqlite3'}"
    config = _write_config(tmp_path, url)
    result = CliRunner().invoke(app, ["analytics", "--json", "--config", str(config)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["requests"] == 0
    assert not (tmp_path / "none").exists()


def test_analytics_explains_an_unreadable_since(tmp_path: Path) -> None:
    config = _write_config(tmp_path, f"sqlite:///{tmp_path / 'h.sqlite3'}")
    result = CliRunner().invoke(app, ["analytics", "--since", "last week", "--config", str(config)])
    assert result.exit_code == 2
    assert "--since" in result.output
