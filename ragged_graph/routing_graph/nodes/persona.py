"""`persona`: the user's persona adjusts the tier complexity calls for."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ragged_graph.routing_graph.convert import (
    assessment_from_state,
    context_of,
    options_from,
    persona_to_state,
    task_from_state,
    with_variant,
)
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_persona"]


def make_persona(provide: ServicesProvider) -> Any:
    def persona(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        context = context_of(runtime)
        router = provide(context).router
        outcome = router.personalise(
            router.prepare(state["query"], state.get("documents")),
            task_from_state(state["task"]),
            assessment_from_state(state["complexity"]),
            with_variant(options_from(context), state.get("experiment")),
        )
        return {"persona": persona_to_state(outcome)}

    return persona
