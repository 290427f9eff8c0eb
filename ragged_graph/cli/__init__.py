"""The `ragged-graph` command line."""

from __future__ import annotations

import typer

from ragged_graph.cli import config_cmd, eval_cmd, hardware_cmd, models_cmd, route_cmd

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
app.add_typer(config_cmd.app, name="config")
app.add_typer(eval_cmd.app, name="eval")


def main() -> None:
    app()
