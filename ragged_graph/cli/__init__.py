"""The `ragged-graph` command line."""

from __future__ import annotations

import os
import sys

import typer

from ragged_graph.cli import (
    ab_cmd,
    analytics_cmd,
    config_cmd,
    dashboard_cmd,
    eval_cmd,
    feedback_cmd,
    hardware_cmd,
    learn_cmd,
    models_cmd,
    route_cmd,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="ragged-graph",
    help="Route each query to the right local or cloud model, and inspect the router.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("route")(route_cmd.route)
app.command("ask")(route_cmd.ask)
app.command("models")(models_cmd.models)
app.command("hardware")(hardware_cmd.hardware)
app.command("analytics")(analytics_cmd.analytics)
app.command("dashboard")(dashboard_cmd.dashboard)
app.command("feedback")(feedback_cmd.feedback)
app.command("learn")(learn_cmd.learn)
app.command("learn-tasks")(learn_cmd.learn_tasks)
app.add_typer(config_cmd.app, name="config")
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(ab_cmd.app, name="ab")


def main() -> None:
    """The console script: typed errors exit 2 inside each command; anything else is a bug,
    reported in one line (set ``RAGGED_GRAPH_DEBUG=1`` for the traceback)."""
    try:
        app()
    except Exception as exc:
        if os.environ.get("RAGGED_GRAPH_DEBUG"):
            raise
        sys.stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc}\n"
            "This is a bug in ragged_graph: rerun with RAGGED_GRAPH_DEBUG=1 for the "
            "traceback and report it.\n"
        )
        sys.exit(1)
