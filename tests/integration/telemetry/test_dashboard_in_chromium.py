"""`ragged-graph dashboard` over a seeded history, loaded in headless Chromium.

For a SQLite file and for PostgreSQL, the command serves the page on a free port; Chromium
runs its script, which fetches the JSON and draws the charts. Every chart's table must hold
the seeded numbers (worked out here from the records, independently of the package) and
the numbers `ragged-graph analytics --json` prints; the page must report no JavaScript
errors; a screenshot is saved under the test's temporary folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from ragged_graph.cli import app as cli_app
from ragged_graph.telemetry import RoutingRecord
from ragged_graph.telemetry.store import HistoryStore
from tests.integration.graph.conftest import free_port
from tests.support.chromium import (
    DashboardDom,
    chromium_path,
    dump_dom,
    png_size,
    read_dashboard,
    screenshot,
)
from tests.support.history import DASHBOARD_START, dashboard_records, postgres_url

pytestmark = pytest.mark.integration

RAGGED_GRAPH = Path(sys.executable).with_name("ragged-graph")
STARTUP_TIMEOUT_S = 30.0
BUCKET_S = 300
"""30 requests 7 minutes apart: the dashboard picks 5-minute buckets."""


@dataclass(frozen=True)
class Dashboard:
    """A running `ragged-graph dashboard` over a seeded history."""

    url: str
    history_url: str
    config: Path
    records: list[RoutingRecord]
    work: Path


@contextlib.contextmanager
def _postgres_schema() -> Iterator[str]:
    base = postgres_url()
    schema = f"dash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def _serve(config: Path, log: Path) -> Iterator[str]:
    """`ragged-graph dashboard --port N --config FILE` until the block ends; its base URL."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RAGGED_GRAPH), "dashboard", "--port", str(port), "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while True:
                if process.poll() is not None:
                    pytest.fail(f"ragged-graph dashboard exited early:\n{log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{base}/dashboard").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"ragged-graph dashboard not up in time:\n{log.read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        _stop(process)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def dashboard(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Dashboard]:
    chromium_path()  # fail or skip before starting anything
    work = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    records = dashboard_records()
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            history_url = f"sqlite:///{work / 'history.sqlite3'}"
        else:
            history_url = stack.enter_context(_postgres_schema())
        store = HistoryStore(history_url)
        store.insert(records)
        store.close()
        config = work / "router.yaml"
        config.write_text(yaml.safe_dump({"history": {"url": history_url}}), encoding="utf-8")
        base = stack.enter_context(_serve(config, work / "dashboard.log"))
        yield Dashboard(
            url=f"{base}/dashboard",
            history_url=history_url,
            config=config,
            records=records,
            work=work,
        )


@pytest.fixture(scope="module")
def page(dashboard: Dashboard) -> DashboardDom:
    """The page as Chromium left it after its script ran."""
    dom = read_dashboard(dump_dom(dashboard.url, dashboard.work / "chromium"))
    assert dom.errors.strip() == "", dom.errors
    assert dom.state == "ready"
    return dom


def _analytics(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli_app, ["analytics", "--json", "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _value(cell: str) -> float | None:
    return None if cell == "" else float(cell)


def _bucket_key(record: RoutingRecord) -> str:
    start = int(record.time.timestamp()) // BUCKET_S * BUCKET_S
    return datetime.fromtimestamp(start, UTC).isoformat().replace("+00:00", "Z")


def _all_bucket_keys(records: list[RoutingRecord]) -> list[str]:
    first = int(records[0].time.timestamp()) // BUCKET_S * BUCKET_S
    last = int(records[-1].time.timestamp()) // BUCKET_S * BUCKET_S
    return [
        datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
        for t in range(first, last + 1, BUCKET_S)
    ]


def _quantiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def test_page_loads_without_errors_and_draws_every_chart(page: DashboardDom) -> None:
    charts = {
        "traffic-model",
        "traffic-tier",
        "latency",
        "rates",
        "incidents",
        "cost",
        "cost-time",
        "persona",
    }
    assert set(page.tables) == charts
    assert set(page.svg_marks) == charts
    assert all(count > 0 for count in page.svg_marks.values()), page.svg_marks


def test_traffic_charts_hold_the_seeded_requests_per_bucket(
    page: DashboardDom, dashboard: Dashboard
) -> None:
    records = dashboard.records
    keys = _all_bucket_keys(records)
    for chart, field in (("traffic-model", "model"), ("traffic-tier", "tier")):
        table = page.tables[chart]
        assert list(table) == keys  # every bucket, empty ones included, oldest first
        names = sorted({getattr(r, field) for r in records})
        for key in keys:
            members = [r for r in records if _bucket_key(r) == key]
            expected = {name: sum(getattr(r, field) == name for r in members) for name in names}
            assert {name: _value(v) for name, v in table[key].items()} == expected, key
    incidents = page.tables["incidents"]
    cost = page.tables["cost-time"]
    for key in keys:
        members = [r for r in records if _bucket_key(r) == key]
        assert _value(incidents[key]["errors"]) == sum(not r.answered for r in members)
        assert _value(incidents[key]["fallbacks"]) == sum(r.fallback_count > 0 for r in members)
        assert _value(cost[key]["cost_usd"]) == pytest.approx(sum(r.cost_usd for r in members))


def test_model_charts_hold_the_seeded_numbers_and_the_analytics_numbers(
    page: DashboardDom, dashboard: Dashboard
) -> None:
    analytics = {group["key"]: group for group in _analytics(dashboard.config)["by_model"]}
    records = dashboard.records
    assert set(page.tables["latency"]) == set(analytics) == {r.model for r in records}
    for model, group in analytics.items():
        mine = [r for r in records if r.model == model]
        p50, p95, p99 = _quantiles([r.latency_ms for r in mine])
        latency = page.tables["latency"][model]
        shown = (
            _value(latency["latency_p50_ms"]),
            _value(latency["latency_p95_ms"]),
            _value(latency["latency_p99_ms"]),
        )
        # Exactly what analytics prints, and what the seeded records give.
        assert shown == (group["latency_p50_ms"], group["latency_p95_ms"], group["latency_p99_ms"])
        assert shown == pytest.approx((p50, p95, p99))
        rates = page.tables["rates"][model]
        assert _value(rates["error_rate"]) == group["error_rate"]
        assert _value(rates["error_rate"]) == pytest.approx(
            sum(not r.answered for r in mine) / len(mine)
        )
        assert _value(rates["fallback_rate"]) == group["fallback_rate"]
        assert _value(rates["fallback_rate"]) == pytest.approx(
            sum(r.fallback_count > 0 for r in mine) / len(mine)
        )
        cost = _value(page.tables["cost"][model]["cost_usd"])
        assert cost == group["cost_usd"]
        assert cost == pytest.approx(sum(r.cost_usd for r in mine))


def test_persona_mix_and_summary_equal_the_analytics(
    page: DashboardDom, dashboard: Dashboard
) -> None:
    analytics = _analytics(dashboard.config)
    personas = page.tables["persona"]
    expected = {g["key"] or "": (g["requests"], g["share"]) for g in analytics["by_persona"]}
    shown = {key: (_value(row["requests"]), _value(row["share"])) for key, row in personas.items()}
    assert shown == expected
    assert {key: count for key, (count, _) in shown.items()} == {
        "": 10,
        "developer": 10,
        "writer": 10,
    }
    overall = analytics["overall"]
    assert _value(page.summary["requests"]) == analytics["requests"] == len(dashboard.records)
    for metric in (
        "error_rate",
        "fallback_rate",
        "latency_p50_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "cost_usd",
    ):
        assert _value(page.summary[metric]) == overall[metric], metric


def test_since_in_the_address_limits_the_period(dashboard: Dashboard) -> None:
    since = DASHBOARD_START + timedelta(minutes=70)  # records 10 to 29
    iso = since.isoformat().replace("+00:00", "Z")
    dom = read_dashboard(dump_dom(f"{dashboard.url}?since={iso}", dashboard.work / "since"))
    assert dom.errors.strip() == ""
    analytics = _analytics(dashboard.config, "--since", iso)
    assert _value(dom.summary["requests"]) == analytics["requests"] == 20
    traffic = dom.tables["traffic-model"]
    assert sum(_value(v) or 0 for row in traffic.values() for v in row.values()) == 20
    api = httpx.get(f"{dashboard.url}/api/metrics", params={"since": iso}).json()
    until = {"until"}
    assert {k: v for k, v in api["metrics"].items() if k not in until} == {
        k: v for k, v in analytics.items() if k not in until
    }


def test_a_bad_since_is_shown_on_the_page(dashboard: Dashboard) -> None:
    # The page's error box catches what goes wrong (and so would hold any script error).
    dom = read_dashboard(dump_dom(f"{dashboard.url}?since=someday", dashboard.work / "bad"))
    assert dom.state == "error"
    assert "cannot read --since 'someday'" in dom.errors


def test_screenshot_is_saved(dashboard: Dashboard, page: DashboardDom) -> None:
    shot = dashboard.work / "dashboard.png"
    screenshot(dashboard.url, shot, dashboard.work / "shot")
    assert shot.exists()
    assert png_size(shot) == (1280, 1600)
    # A blank page compresses to a few KB; eight drawn charts do not.
    assert shot.stat().st_size > 30_000, shot.stat().st_size
