"""`select`: the model (and host) that should answer, with its fallback chain."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.routing_graph.convert import (
    assessment_from_state,
    context_of,
    options_from,
    persona_from_state,
    task_from_state,
)
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State
from ragged_graph.telemetry.tracing import redacts, trace_decision

__all__ = ["REQUIRED_CAPABILITIES_KEY", "make_select"]

REQUIRED_CAPABILITIES_KEY = "ragged_graph_required_capabilities"
"""``configurable`` key: capabilities the caller needs (e.g. tools, when tools are bound)."""


def make_select(provide: ServicesProvider) -> Any:
    def select(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        context = context_of(runtime)
        router = provide(context).router
        options = options_from(context)
        required = (config.get("configurable") or {}).get(REQUIRED_CAPABILITIES_KEY)
        if required:
            options = options.with_capabilities(frozenset(required))
        persona = persona_from_state(state["persona"])
        decision = router.select(
            router.prepare(state["query"], state.get("documents")),
            task_from_state(state["task"]),
            assessment_from_state(state["complexity"]),
            persona,
            options,
        )
        decided = decision.model_dump(mode="json")
        # The decision goes on the traced graph run (a no-op without a tracer).
        redact = redacts(router.config.tracing, local_only=options.local_only or persona.local_only)
        trace_decision(config, decided, redact=redact)
        return {
            "decision": decided,
            "chain": [decision.model, *decision.fallbacks],
            "position": 0,
        }

    return select
