"""`ragged-graph learn`: retrain the learned router on the routing history and feedback."""

from __future__ import annotations

from typing import Annotated

import typer

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    load_cli_config,
    print_json,
    user_errors,
)

__all__ = ["learn"]


def learn(
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace the saved router even if it does as well."),
    ] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Train a learned router on the history's queries and feedback; it replaces the saved
    one only if it predicts the newest feedback better. Exit 2 with too few examples."""
    from ragged_graph.learning.history_training import learning_embeddings, retrain
    from ragged_graph.telemetry.store import HistoryStore

    router_config = load_cli_config(config)
    with user_errors():
        embeddings = learning_embeddings(router_config)
        store = HistoryStore(router_config.history.url)
        try:
            outcome = retrain(store, router_config.learning, embeddings, force=force)
        finally:
            store.close()
    if as_json:
        print_json(outcome)
        return
    verdict = "replaced" if outcome.replaced else "kept"
    typer.echo(f"{verdict}: {outcome.reason}")
    typer.echo(
        f"{outcome.examples} examples, newest {outcome.held_out} held out; router at {outcome.path}"
    )
