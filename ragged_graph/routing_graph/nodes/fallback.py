"""`fallback`: after a failed call, try the model on another host, then the next model of the
chain, or give up typed.

A model that failed on one host is tried on another host that has it (not cooling down,
chosen by the fleet rule, :mod:`ragged_graph.routing.fleet`) before the chain moves on: a
stopped or overloaded host does not cost the request its model. Failures that would repeat
on any host (the request was refused as sent) move on at once. Each try is an attempt of its
own, with its host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.errors import AllModelsFailedError, ErrorCode, FailedAttempt
from ragged_graph.routing_graph.convert import context_of
from ragged_graph.routing_graph.report import report_request
from ragged_graph.routing_graph.services import Services, ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_fallback", "next_target"]

# The model's own failures, wherever it runs: another host would refuse the same way.
_SAME_ON_EVERY_HOST = frozenset({str(ErrorCode.BAD_REQUEST)})

Exhausted = Callable[[State], dict[str, Any] | None]
"""What to do when the chain is exhausted: a state update to go on with, or None to fail."""


def next_target(state: State, services: Services) -> dict[str, Any] | None:
    """The state update that points ``invoke`` at the next try after a failed one: the same
    model on another host, else the next model of the chain on its best host; None when the
    chain is exhausted."""
    chain = state["chain"]
    position = state.get("position", 0)
    attempts = state.get("attempts") or []
    last = attempts[-1] if attempts else None
    router = services.router
    model = chain[position]
    if (
        last is not None
        and last["model"] == model
        and last["error_code"] not in _SAME_ON_EVERY_HOST
    ):
        tried = [*(state.get("tried_hosts") or ())]
        if last["host"] and last["host"] not in tried:
            tried.append(last["host"])
        others = [choice for choice in router.hosts_for(model, exclude=tried) if choice.available]
        if others:
            choice = others[0]
            target = {"model": model, "host": choice.host, "base_url": choice.base_url}
            return {"target": target, "tried_hosts": tried}
    position += 1
    if position >= len(chain):
        return None
    model = chain[position]
    host, base_url = router.host_for(model)
    return {
        "position": position,
        "target": {"model": model, "host": host, "base_url": base_url},
        "tried_hosts": [],
    }


def make_fallback(provide: ServicesProvider, *, exhausted: Exhausted | None = None) -> Any:
    """The node; ``exhausted`` may turn an exhausted chain into a state update (the ensemble
    keeps the primary's answer when its escalation fails) instead of the typed error."""

    def fallback(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        services = provide(context_of(runtime))
        step = next_target(state, services)
        if step is not None:
            return step
        if exhausted is not None:
            instead = exhausted(state)
            if instead is not None:
                return instead
        attempts = state.get("attempts", [])
        report_request(
            services,
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
