"""`ragged-graph feedback`: rate an answer by its request id, as RaggedRouter.feedback does."""

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

__all__ = ["feedback"]


def feedback(
    request_id: Annotated[
        str, typer.Argument(help="The rated request: the routing record's request_id.")
    ],
    score: Annotated[
        float | None, typer.Option("--score", help="How good the answer was, 0 to 1.")
    ] = None,
    thumbs: Annotated[
        bool | None, typer.Option("--up/--down", help="Thumbs up or down.", show_default=False)
    ] = None,
    correction: Annotated[
        str | None, typer.Option("--correction", help="What the answer should have been.")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Anything else.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Store feedback on an answer with its routing record (and send it to LangSmith when
    tracing is on). Exit 2 on invalid feedback or with the history off."""
    from ragged_graph.telemetry.feedback import make_feedback, submit_feedback

    router_config = load_cli_config(config)
    history = router_config.history
    with user_errors():
        rating = make_feedback(
            request_id, score=score, thumbs=thumbs, correction=correction, comment=comment
        )
        outcome = submit_feedback(history.url if history.enabled else None, rating)
    if as_json:
        print_json(
            {
                "feedback": rating.model_dump(mode="json"),
                "matched_record": outcome.matched_record,
                "sent_to_langsmith": outcome.sent_to_langsmith,
            }
        )
        return
    where = (
        "with its routing record"
        if outcome.matched_record
        else "(no routing record with that id yet)"
    )
    typer.echo(f"feedback on {rating.request_id} stored {where}")
    if outcome.sent_to_langsmith:
        typer.echo("sent to LangSmith")
