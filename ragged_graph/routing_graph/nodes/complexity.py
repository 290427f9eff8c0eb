"""`complexity`: how hard the query is (0-10, by dimension) and the tier that calls for."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from ragged_graph.routing_graph.convert import (
    assessment_to_state,
    context_of,
    task_from_state,
)
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_complexity"]


def make_complexity(provide: ServicesProvider) -> Any:
    def complexity(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
        router = provide(context_of(runtime)).router
        prepared = router.prepare(state["query"], state.get("documents"))
        assessment = router.assess(prepared, task_from_state(state["task"]))
        return {"complexity": assessment_to_state(assessment)}

    return complexity
