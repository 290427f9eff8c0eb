"""`fallback`: after a failed call, move to the next model of the chain, or give up typed."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.errors import AllModelsFailedError, ErrorCode, FailedAttempt
from ragged_graph.routing_graph.convert import context_of
from ragged_graph.routing_graph.report import report_request
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_fallback"]


def make_fallback(provide: ServicesProvider) -> Any:
    def fallback(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        position = state.get("position", 0) + 1
        if position < len(state["chain"]):
            return {"position": position}
        attempts = state.get("attempts", [])
        report_request(
            provide(context_of(runtime)),
            state,
            config,
            attempts,
            outcome=str(ErrorCode.ALL_MODELS_FAILED),
        )
        failures = [
            FailedAttempt(
                model=attempt["model"],
                host=attempt["host"],
                code=attempt["error_code"] or "",
                message=attempt["error"] or "",
                latency_ms=attempt["latency_ms"],
            )
            for attempt in attempts
            if not attempt["ok"]
        ]
        raise AllModelsFailedError(failures)

    return fallback
