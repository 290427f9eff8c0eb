"""Wiring the ensemble subgraph, and the routing graph's ``ensemble`` node that runs it.

::

    START -> rewriter -> invoke <-> fallback
    invoke --(primary answered)--> verifier --(accept, revise)--> finish -> END
                                            --(reject)--> escalate -> invoke
    invoke --(escalation answered)--> finish;  fallback --(escalation exhausted)--> finish

``invoke`` and ``fallback`` are the routing graph's own nodes (the same factories), so the
primary and the escalation are called, retried, moved to another host or model and recorded
exactly as a single model is. The subgraph has its own state
(:class:`~ragged_graph.routing_graph.ensemble.state.EnsembleState`): the ``ensemble`` node
maps the routing graph's state into it and its result back. Being a compiled graph that the
node calls, it streams (``stream(..., subgraphs=True)``) and LangGraph Studio draws it inside
the routing graph (``get_graph(xray=True)``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph._internal._runnable import RunnableCallable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from ragged_graph.routing_graph.ensemble.calls import RoleCaller
from ragged_graph.routing_graph.ensemble.nodes import (
    after_fallback,
    after_invoke,
    after_verifier,
    keep_primary_answer,
    make_escalate,
    make_finish,
    make_rewriter,
    make_verifier,
)
from ragged_graph.routing_graph.ensemble.state import EnsembleState
from ragged_graph.routing_graph.nodes.fallback import make_fallback
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY, CallOptions, make_invoke
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State
from ragged_graph.telemetry.tracing import with_attempts_traced

__all__ = ["ENSEMBLE_NODE_NAMES", "EnsembleGraph", "build_ensemble", "make_ensemble_node"]

EnsembleGraph = CompiledStateGraph[EnsembleState, Context, EnsembleState, EnsembleState]

ENSEMBLE_NODE_NAMES = ("rewriter", "invoke", "fallback", "verifier", "escalate", "finish")


def build_ensemble(provide: ServicesProvider) -> EnsembleGraph:
    """The compiled ensemble subgraph; ``provide`` gives each run its services."""
    caller = RoleCaller(provide)
    invoke, ainvoke = with_attempts_traced(*make_invoke(provide, report=False))
    builder = StateGraph(EnsembleState, context_schema=Context)
    # Plain functions (a worker thread in async runs): each reads the registry, whose refresh
    # is blocking HTTP; so the async ``invoke`` after each finds the inventory fresh.
    builder.add_node("rewriter", make_rewriter(provide, caller))
    builder.add_node("invoke", RunnableCallable(invoke, ainvoke, name="invoke", trace=False))
    builder.add_node("fallback", make_fallback(provide, exhausted=keep_primary_answer))
    builder.add_node("verifier", make_verifier(provide, caller))
    builder.add_node("escalate", make_escalate(provide))
    builder.add_node("finish", make_finish(provide))
    builder.add_edge(START, "rewriter")
    builder.add_edge("rewriter", "invoke")
    builder.add_conditional_edges("invoke", after_invoke, ["fallback", "verifier", "finish"])
    builder.add_conditional_edges("fallback", after_fallback, ["invoke", "finish"])
    builder.add_conditional_edges("verifier", after_verifier, ["escalate", "finish"])
    builder.add_edge("escalate", "invoke")
    builder.add_edge("finish", END)
    return builder.compile(name="ensemble")


def _ensemble_input(state: State) -> EnsembleState:
    """The routing graph's state, mapped into the ensemble's."""
    messages: list[AnyMessage] = list(state.get("messages") or []) or [HumanMessage(state["query"])]
    question = next(
        (message for message in reversed(messages) if isinstance(message, HumanMessage)), None
    )
    return {
        "messages": messages,
        "question": question,
        "query": state["query"],
        "documents": list(state.get("documents") or []),
        "persona": state.get("persona") or {},
        "decision": state["decision"],
        "experiment": state.get("experiment"),
        "started_at": state.get("started_at") or 0.0,
        "request_id": state.get("request_id") or "",
        "plan": state.get("ensemble") or {},
        "chain": list(state["chain"]),
        "position": 0,
        "target": state.get("target"),
        "tried_hosts": [],
    }


def _ensemble_output(out: Any) -> dict[str, Any]:
    """The ensemble's result, mapped back into the routing graph's state."""
    result = out["result"]
    message = result["message"]
    return {
        "messages": [message],
        "answer": str(message.text),
        "attempts": out.get("attempts") or [],
        "ensemble": result["ensemble"],
    }


def _ensemble_config(config: RunnableConfig) -> RunnableConfig:
    """The run's config for the subgraph: its answer is handed over whole, once verified, so
    no model call inside streams tokens to a relaying caller's writer."""
    configurable = dict(config.get("configurable") or {})
    options = configurable.get(CALL_OPTIONS_KEY)
    if isinstance(options, CallOptions) and options.stream_to_writer:
        configurable[CALL_OPTIONS_KEY] = CallOptions(
            stop=options.stop,
            model_options=options.model_options,
            max_retries=options.max_retries,
            relay=options.relay,
        )
    return {**config, "configurable": configurable}


def make_ensemble_node(ensemble: EnsembleGraph) -> RunnableCallable:
    """The routing graph's ``ensemble`` node: runs ``ensemble`` on the mapped state."""

    def run(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        out = ensemble.invoke(
            _ensemble_input(state), _ensemble_config(config), context=runtime.context
        )
        return _ensemble_output(out)

    async def arun(
        state: State, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        out = await ensemble.ainvoke(
            _ensemble_input(state), _ensemble_config(config), context=runtime.context
        )
        return _ensemble_output(out)

    return RunnableCallable(run, arun, name="ensemble", trace=False)
