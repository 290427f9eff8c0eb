"""Wiring the routing graph: classify -> complexity -> persona -> select ->
invoke <-> fallback, or select -> ensemble (a subgraph: rewriter -> primary -> verifier) when
the ensemble policy says so.

The nodes only call into :mod:`ragged_graph.routing`; this module only connects them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph._internal._runnable import RunnableCallable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from ragged_graph.routing.router import Router
from ragged_graph.routing_graph.convert import context_of
from ragged_graph.routing_graph.ensemble import build_ensemble, make_ensemble_node
from ragged_graph.routing_graph.nodes import (
    make_classify,
    make_complexity,
    make_fallback,
    make_invoke,
    make_persona,
    make_select,
)
from ragged_graph.routing_graph.nodes.experiment import may_read_registry
from ragged_graph.routing_graph.nodes.invoke import last_attempt_failed
from ragged_graph.routing_graph.services import ServicesProvider, default_services
from ragged_graph.routing_graph.state import Context, InputState, OutputState, State
from ragged_graph.telemetry.tracing import with_attempts_traced

__all__ = ["RoutingGraph", "build_graph", "graph"]

RoutingGraph = CompiledStateGraph[State, Context, InputState, OutputState]

NODE_NAMES = (
    "classify",
    "complexity",
    "persona",
    "select",
    "invoke",
    "fallback",
    "ensemble",
)


def _both(func: Callable[..., Any], name: str) -> RunnableCallable:
    """A node that runs ``func`` inline in sync and async runs alike.

    The deciding nodes are fast, pure Python: a thread hop per node in async runs (LangGraph's
    default for sync functions) would cost more than the work itself. Not traced itself: the
    node's run (named after the node) is the one traces show, as for plain functions.
    """

    async def run_inline(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return RunnableCallable(func, run_inline, name=name, trace=False)


BlocksWhen = Callable[[Router, Context], bool]
"""Whether a node's work may do blocking I/O for this request (the router, the run's context)."""


def _inline_unless_blocking(
    func: Callable[..., Any], name: str, provide: ServicesProvider, may_block: BlocksWhen
) -> RunnableCallable:
    """A node that runs ``func`` inline in async runs, and in a thread when ``may_block``
    says it may do blocking I/O, which must not stall the event loop.

    Nearly every request runs inline, and a thread hop per request cost more than deciding.
    """

    async def run(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> Any:
        context = context_of(runtime)
        if may_block(provide(context).router, context):
            return await asyncio.to_thread(func, state, config, runtime)
        return func(state, config, runtime)

    return RunnableCallable(func, run, name=name, trace=False)


def _registry_stale(router: Router, _context: Context) -> bool:
    """Whether the registry's view of the Ollama hosts is due to be fetched again (blocking
    HTTP, up to the discovery timeout per host): once per ``discovery_ttl_s``, 30 s by
    default."""
    return not router.registry.is_fresh()


def _after_select(state: State) -> str:
    return "ensemble" if state.get("ensemble") else "invoke"


def _after_invoke(state: State) -> str:
    return "fallback" if last_attempt_failed(state) else END


def build_graph(provide: ServicesProvider = default_services) -> RoutingGraph:
    """The compiled routing graph; ``provide`` gives each run its router and chat models."""
    # The invoke node attaches its attempts to the graph's trace (a no-op without a tracer).
    invoke, ainvoke = with_attempts_traced(*make_invoke(provide))
    builder = StateGraph(
        State, context_schema=Context, input_schema=InputState, output_schema=OutputState
    )
    builder.add_node("classify", _both(make_classify(provide), "classify"))
    builder.add_node("complexity", _both(make_complexity(provide), "complexity"))
    # Inline, but in a thread when assigning an A/B variant may read the live Ollama
    # inventory (blocking HTTP).
    builder.add_node(
        "persona",
        _inline_unless_blocking(make_persona(provide), "persona", provide, may_read_registry),
    )
    builder.add_node(
        "select",
        _inline_unless_blocking(make_select(provide), "select", provide, _registry_stale),
    )
    builder.add_node("invoke", RunnableCallable(invoke, ainvoke, name="invoke", trace=False))
    # Not inline: choosing the next host or model reads the registry (its refresh is blocking
    # HTTP), which may be stale after a slow failure; async runs do it in a thread.
    builder.add_node("fallback", make_fallback(provide))
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "complexity")
    builder.add_edge("complexity", "persona")
    builder.add_edge("persona", "select")
    # The ensemble's own state and nodes live in its subgraph; this node maps state in and out.
    builder.add_node("ensemble", make_ensemble_node(build_ensemble(provide)))
    # Routing functions inline too: LangGraph runs a plain one in a thread in async runs, and
    # traces it as a run of its own.
    builder.add_conditional_edges(
        "select", _both(_after_select, "_after_select"), ["invoke", "ensemble"]
    )
    builder.add_edge("ensemble", END)
    builder.add_conditional_edges(
        "invoke", _both(_after_invoke, "_after_invoke"), ["fallback", END]
    )
    builder.add_edge("fallback", "invoke")
    return builder.compile(name="ragged_graph")


graph: RoutingGraph = build_graph()
"""The routing graph with the default services: the target of ``langgraph.json``."""
