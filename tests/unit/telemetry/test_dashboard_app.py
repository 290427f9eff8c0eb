"""The dashboard app in process (Starlette's test client): the page, its JSON, its errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from ragged_graph.config import RouterConfig
from ragged_graph.telemetry.dashboard import create_app
from ragged_graph.telemetry.metrics import compute_metrics
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.telemetry.timeseries import DashboardData
from tests.support.history import dashboard_records


@pytest.fixture
def history_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    store = HistoryStore(url)
    store.insert(dashboard_records())
    store.close()
    return url


@pytest.fixture
def client(history_url: str) -> Iterator[TestClient]:
    config = RouterConfig.model_validate({"history": {"url": history_url}})
    with TestClient(create_app(config)) as client:
        yield client


def test_page_is_self_contained_and_names_its_data(client: TestClient) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'data-api="/dashboard/api/metrics"' in page
    # Nothing loaded from elsewhere: no script or stylesheet URLs, no remote addresses.
    assert not re.search(r"<script[^>]+src=", page)
    assert "stylesheet" not in page
    assert "https://" not in page
    assert set(re.findall(r"http://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}
    for chart in ("traffic-model", "traffic-tier", "latency", "rates", "cost", "persona"):
        assert f'id="chart-{chart}"' in page


def test_metrics_json_holds_the_analytics_metrics_and_the_series(
    client: TestClient, history_url: str
) -> None:
    response = client.get("/dashboard/api/metrics")
    assert response.status_code == 200
    data = DashboardData.model_validate(response.json())
    store = HistoryStore(history_url)
    expected = compute_metrics(store)
    store.close()
    assert data.metrics.model_dump(exclude={"until"}) == expected.model_dump(exclude={"until"})
    assert data.series.bucket_s == 300
    assert sum(bucket.requests for bucket in data.series.buckets) == 30


def test_since_filters_and_a_bad_since_is_a_400(client: TestClient) -> None:
    recent = client.get("/dashboard/api/metrics", params={"since": "2026-01-15T10:10:00Z"})
    assert recent.json()["metrics"]["requests"] == 20
    bad = client.get("/dashboard/api/metrics", params={"since": "yesterday-ish"})
    assert bad.status_code == 400
    assert "cannot read --since 'yesterday-ish'" in bad.json()["error"]


def test_missing_sqlite_file_is_an_empty_history_and_stays_missing(tmp_path: Path) -> None:
    file = tmp_path / "none" / "history.sqlite3"
    config = RouterConfig.model_validate({"history": {"url": f"sqlite:///{file}"}})
    with TestClient(create_app(config)) as client:
        data = client.get("/dashboard/api/metrics").json()
    assert data["metrics"]["requests"] == 0
    assert data["series"]["buckets"] == []
    assert not file.parent.exists()


def test_unreadable_database_is_a_503_naming_it_without_password(tmp_path: Path) -> None:
    # A directory where the SQLite file should be: the database cannot be opened.
    folder = tmp_path / "history.sqlite3"
    folder.mkdir()
    config = RouterConfig.model_validate({"history": {"url": f"sqlite:///{folder}"}})
    with TestClient(create_app(config)) as client:
        response = client.get("/dashboard/api/metrics")
    assert response.status_code == 503
    assert "cannot read the routing history" in response.json()["error"]


def test_app_without_config_reads_ragged_graph_config(
    history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "router.yaml"
    config_file.write_text(yaml.safe_dump({"history": {"url": history_url}}), encoding="utf-8")
    monkeypatch.setenv("RAGGED_GRAPH_CONFIG", str(config_file))
    with TestClient(create_app()) as client:
        assert client.get("/dashboard/api/metrics").json()["metrics"]["requests"] == 30


def test_unreadable_config_is_a_500_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "router.yaml"
    config_file.write_text("history: [not, a, mapping]\n", encoding="utf-8")
    monkeypatch.setenv("RAGGED_GRAPH_CONFIG", str(config_file))
    with TestClient(create_app()) as client:
        assert client.get("/dashboard").status_code == 200
        response = client.get("/dashboard/api/metrics")
    assert response.status_code == 500
    assert "router.yaml" in response.json()["error"]
