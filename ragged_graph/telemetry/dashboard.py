"""The dashboard: a Starlette app with charts over the routing history.

- ``GET /dashboard``: one HTML page; a small script in it fetches the JSON below and draws
  the charts as inline SVG (no external scripts, styles or fonts), each with a table of its
  numbers: traffic by model and by tier over time, latency p50/p95/p99 per model, error and
  fallback rates, errors and fallbacks over time, cost per model and over time, persona mix.
- ``GET /dashboard/api/metrics[?since=1h]``: the
  :class:`~ragged_graph.telemetry.timeseries.DashboardData` as JSON: ``metrics`` is exactly
  what ``ragged-graph analytics --json`` prints, ``series`` the requests over time.
  ``since`` reads like ``analytics --since``.

``app`` (module level) reads the history named by ``RAGGED_GRAPH_CONFIG`` (or the default
config) on its first request; ``langgraph.json``'s ``http.app`` serves it next to the
LangGraph API, and ``ragged-graph dashboard`` serves it on its own. Needs ``starlette`` (the
``dashboard`` extra).
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ragged_graph.config import RouterConfig, load_config
from ragged_graph.errors import RaggedGraphError
from ragged_graph.telemetry.metrics import parse_since
from ragged_graph.telemetry.store import HistoryStore, sqlite_file
from ragged_graph.telemetry.timeseries import (
    DashboardData,
    compute_dashboard,
    dashboard_from_rows,
)

__all__ = ["DASHBOARD_PATH", "METRICS_PATH", "HistorySource", "app", "create_app", "page_html"]

DASHBOARD_PATH = "/dashboard"
"""Where the page is served."""
METRICS_PATH = "/dashboard/api/metrics"
"""Where its data is served."""

_API_PLACEHOLDER = "{{API_URL}}"


@cache
def _page_template() -> str:
    return (
        resources.files("ragged_graph.telemetry")
        .joinpath("dashboard.html")
        .read_text(encoding="utf-8")
    )


def page_html(api_url: str = METRICS_PATH) -> str:
    """The dashboard page, fetching its data from ``api_url``."""
    return _page_template().replace(_API_PLACEHOLDER, html.escape(api_url, quote=True))


class HistorySource:
    """The history the dashboard reads: a config's ``history.url``, the config loaded from
    ``RAGGED_GRAPH_CONFIG`` (or the defaults) on first use when none is given."""

    def __init__(self, config: RouterConfig | str | os.PathLike[str] | None = None) -> None:
        self._config = config
        self._store: HistoryStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> HistoryStore:
        """The store (made, with the config loaded, on first use)."""
        with self._lock:
            if self._store is None:
                config = self._config
                if not isinstance(config, RouterConfig):
                    config = load_config(config)
                self._store = HistoryStore(config.history.url)
            return self._store

    def read(self, since: datetime | None = None) -> DashboardData:
        """The dashboard's data from ``since`` on; a SQLite file that does not exist yet is an
        empty history (reading creates no database, as with ``analytics``)."""
        store = self.store
        file = sqlite_file(store.url)
        if file is not None and not file.exists():
            return dashboard_from_rows([], since=since)
        return compute_dashboard(store, since)

    def close(self) -> None:
        """Close the store's connections."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def create_app(config: RouterConfig | str | os.PathLike[str] | None = None) -> Starlette:
    """The dashboard app over ``config``'s history (a config, a config file, or None for
    ``RAGGED_GRAPH_CONFIG`` or the defaults, read on the first request)."""
    source = HistorySource(config)

    # Plain functions: Starlette runs them in its thread pool, so reading the database
    # never blocks the event loop (which `langgraph dev` would report as an error).
    def dashboard(request: Request) -> Response:
        api_url = request.url_for("dashboard_metrics").path
        return HTMLResponse(page_html(api_url), headers={"Cache-Control": "no-store"})

    def metrics(request: Request) -> Response:
        from sqlalchemy.exc import SQLAlchemyError

        from ragged_graph.telemetry.writer import safe_url

        try:
            store = source.store
        except RaggedGraphError as exc:  # the config file cannot be read
            return _error(500, str(exc))
        text = request.query_params.get("since", "").strip()
        try:
            since = parse_since(text) if text else None
            data = source.read(since)
        except RaggedGraphError as exc:
            return _error(400, str(exc))
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            url = safe_url(store.url)
            return _error(503, f"cannot read the routing history at {url}: {cause}".strip())
        return JSONResponse(data.model_dump(mode="json"), headers={"Cache-Control": "no-store"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            source.close()

    return Starlette(
        routes=[
            Route(DASHBOARD_PATH, dashboard, methods=["GET"], name="dashboard"),
            Route(METRICS_PATH, metrics, methods=["GET"], name="dashboard_metrics"),
        ],
        lifespan=lifespan,
    )


app = create_app()
"""The dashboard over ``RAGGED_GRAPH_CONFIG``'s history (``langgraph.json``'s ``http.app``)."""
