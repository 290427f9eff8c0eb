"""`fallback`: after a failed call, move to the next model of the chain, or give up typed."""

from __future__ import annotations

from typing import Any

from ragged_graph.errors import AllModelsFailedError, FailedAttempt
from ragged_graph.routing_graph.state import State

__all__ = ["make_fallback"]


def make_fallback() -> Any:
    def fallback(state: State) -> dict[str, Any]:
        position = state.get("position", 0) + 1
        if position < len(state["chain"]):
            return {"position": position}
        failures = [
            FailedAttempt(
                model=attempt["model"],
                host=attempt["host"],
                code=attempt["error_code"] or "",
                message=attempt["error"] or "",
                latency_ms=attempt["latency_ms"],
            )
            for attempt in state.get("attempts", [])
            if not attempt["ok"]
        ]
        raise AllModelsFailedError(failures)

    return fallback
