"""`ragged-graph learn`: retrain the learned router on the routing history and feedback;
`ragged-graph learn-tasks`: train the learned task model on your labelled queries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    load_cli_config,
    print_json,
    user_errors,
)

__all__ = ["learn", "learn_tasks"]


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


def learn_tasks(
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help='A JSON Lines file of your labelled queries: {"query": ..., "task_type": ...,'
            ' "documents": [...]} (repeatable).',
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Where to save the model (default: task_model.json beside the "
            "learned router's file, learning.model_path).",
        ),
    ] = None,
    builtin_data: Annotated[
        bool,
        typer.Option(
            "--builtin-data/--no-builtin-data",
            help="Train on the shipped examples too (golden tune split and task corpus).",
        ),
    ] = True,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Train the learned task model (which reads queries the classifier's cues are unsure of)
    on your labelled queries and save it; point learning.task_model at the file to use it.
    Needs scikit-learn (the `learned` extra)."""
    from ragged_graph.errors import LearnedModelError
    from ragged_graph.learning.task_model_training import (
        default_training_examples,
        labelled_examples,
        load_labelled_queries,
        train_task_model,
    )

    router_config = load_cli_config(config)
    target = output or Path(router_config.learning.model_path).expanduser().with_name(
        "task_model.json"
    )
    with user_errors():
        examples = default_training_examples() if builtin_data else []
        for path in data or ():
            examples += labelled_examples(load_labelled_queries(path), source=str(path))
        try:
            model = train_task_model(examples)
        except ImportError as exc:
            raise LearnedModelError(
                target,
                f"cannot be trained without scikit-learn ({exc})",
                kind="task model",
                remedy='Install it: pip install "ragged-graph[learned]".',
            ) from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        model.save(target)
    summary = {
        "path": str(target),
        "examples": len(examples),
        "features": model.feature_count,
        "task_types": list(model.classes),
    }
    if as_json:
        print_json(summary)
        return
    typer.echo(
        f"trained on {len(examples)} examples ({model.feature_count} words and word pairs, "
        f"{len(model.classes)} task types); saved to {target}"
    )
    typer.echo(f"use it with, in the config:  learning: {{task_model: {target}}}")
