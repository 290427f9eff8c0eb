"""`persona`: the request's preferences. First the A/B experiment variant it is in, if any
(:mod:`~ragged_graph.routing_graph.nodes.experiment`), whose overrides stand for the
request's own settings; then the persona's rules adjust the tier complexity calls for.
Assigning may read the registry (see ``may_read_registry``): the graph then runs the node in a
thread in async runs."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.routing_graph.convert import (
    assessment_from_state,
    context_of,
    options_from,
    persona_to_state,
    task_from_state,
    with_variant,
)
from ragged_graph.routing_graph.nodes.experiment import assign_variant
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_persona"]


def make_persona(provide: ServicesProvider) -> Any:
    def persona(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        context = context_of(runtime)
        router = provide(context).router
        variant = assign_variant(state, config, context, router)
        outcome = router.personalise(
            router.prepare(state["query"], state.get("documents")),
            task_from_state(state["task"]),
            assessment_from_state(state["complexity"]),
            with_variant(options_from(context), variant),
        )
        return {"experiment": variant, "persona": persona_to_state(outcome)}

    return persona
