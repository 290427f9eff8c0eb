"""`ragged-graph dashboard`: serve the routing-history dashboard on its own, with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from ragged_graph.cli._output import ConfigOption, console, exit_with, load_cli_config

__all__ = ["dashboard"]


def dashboard(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8765,
    config: ConfigOption = None,
) -> None:
    """Serve the dashboard (charts over the routing history that `history.url` names) at
    http://HOST:PORT/dashboard until interrupted."""
    try:
        import uvicorn

        from ragged_graph.telemetry.dashboard import DASHBOARD_PATH, create_app
    except ImportError as exc:
        exit_with(
            f"the dashboard needs {exc.name or 'starlette and uvicorn'}: "
            "pip install 'ragged-graph[dashboard]'",
            code=3,
        )
    router_config = load_cli_config(config)
    shown_host = f"[{host}]" if ":" in host else host
    console.print(
        f"dashboard at http://{shown_host}:{port}{DASHBOARD_PATH} (Ctrl+C stops it)",
        highlight=False,
        soft_wrap=True,
    )
    uvicorn.run(create_app(router_config), host=host, port=port, log_level="warning")
