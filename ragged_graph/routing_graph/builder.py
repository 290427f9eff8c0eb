"""Wiring the routing graph: classify -> complexity -> persona -> select -> invoke <-> fallback.

The nodes only call into :mod:`ragged_graph.routing`; this module only connects them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph._internal._runnable import RunnableCallable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from ragged_graph.routing_graph.nodes import (
    make_classify,
    make_complexity,
    make_fallback,
    make_invoke,
    make_persona,
    make_select,
)
from ragged_graph.routing_graph.nodes.invoke import last_attempt_failed
from ragged_graph.routing_graph.services import ServicesProvider, default_services
from ragged_graph.routing_graph.state import Context, InputState, OutputState, State
from ragged_graph.telemetry.tracing import with_attempts_traced

__all__ = ["RoutingGraph", "build_graph", "graph"]

RoutingGraph = CompiledStateGraph[State, Context, InputState, OutputState]

NODE_NAMES = ("classify", "complexity", "persona", "select", "invoke", "fallback")


def _both(func: Callable[..., Any], name: str) -> RunnableCallable:
    """A node that runs ``func`` inline in sync and async runs alike.

    The deciding nodes are fast, pure Python: a thread hop per node in async runs (LangGraph's
    default for sync functions) would cost more than the work itself. Not traced itself: the
    node's run (named after the node) is the one traces show, as for plain functions.
    """

    async def run_inline(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return RunnableCallable(func, run_inline, name=name, trace=False)


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
    builder.add_node("persona", _both(make_persona(provide), "persona"))
    # Not inline: selecting reads the live Ollama inventory (blocking HTTP, up to the discovery
    # timeout per host), which must not stall the event loop; async runs do it in a thread.
    builder.add_node("select", make_select(provide))
    builder.add_node("invoke", RunnableCallable(invoke, ainvoke, name="invoke", trace=False))
    builder.add_node("fallback", _both(make_fallback(provide), "fallback"))
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "complexity")
    builder.add_edge("complexity", "persona")
    builder.add_edge("persona", "select")
    builder.add_edge("select", "invoke")
    builder.add_conditional_edges("invoke", _after_invoke, ["fallback", END])
    builder.add_edge("fallback", "invoke")
    return builder.compile(name="ragged_graph")


graph: RoutingGraph = build_graph()
"""The routing graph with the default services: the target of ``langgraph.json``."""
