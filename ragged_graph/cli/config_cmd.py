"""`ragged-graph config ...`: check configuration files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragged_graph.cli._output import console, load_cli_config, user_errors
from ragged_graph.registry.sources.builtin import BUILTIN_CARDS
from ragged_graph.registry.sources.config_file import ConfigFileSource

__all__ = ["app", "validate"]

app = typer.Typer(help="Check configuration files.", no_args_is_help=True)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="The YAML or TOML config file to check.")],
) -> None:
    """Check a config file; exit 2 naming each bad key if it is invalid."""
    config = load_cli_config(file)
    with user_errors():
        # Model overrides are checked against the cards they modify, as the registry will.
        known = {card.key: card for card in BUILTIN_CARDS}
        ConfigFileSource(config.models, source=config.source).cards(known)
    console.print(
        f"[green]ok[/]: {file} is a valid ragged_graph config "
        f"({len(config.models)} model entries, {len(config.personas)} personas)"
    )
