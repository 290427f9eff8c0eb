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
from ragged_graph.errors import InvalidRequestError

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
    from langsmith.utils import tracing_is_enabled

    from ragged_graph.telemetry.feedback import make_feedback, send_to_langsmith, store_feedback

    router_config = load_cli_config(config)
    with user_errors():
        rating = make_feedback(
            request_id, score=score, thumbs=thumbs, correction=correction, comment=comment
        )
        if not router_config.history.enabled:
            raise InvalidRequestError(
                "feedback is stored with the routing history, which is off: set "
                "history.enabled: true in the config"
            )
        matched = store_feedback(router_config.history.url, rating)
    sent = tracing_is_enabled() and send_to_langsmith(rating)
    if as_json:
        print_json(
            {
                "feedback": rating.model_dump(mode="json"),
                "matched_record": matched,
                "sent_to_langsmith": sent,
            }
        )
        return
    where = "with its routing record" if matched else "(no routing record with that id yet)"
    typer.echo(f"feedback on {rating.request_id} stored {where}")
    if sent:
        typer.echo("sent to LangSmith")
