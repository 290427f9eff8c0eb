"""`classify`: what kind of task the query is."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.routing_graph.convert import context_of, query_of, task_to_state
from ragged_graph.routing_graph.report import started_now
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State

__all__ = ["make_classify"]


def make_classify(provide: ServicesProvider) -> Any:
    def classify(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        started = started_now(config)
        router = provide(context_of(runtime)).router
        query = query_of(state)
        task = router.classify(router.prepare(query, state.get("documents")))
        # A new run of a thread starts with no attempts of its own.
        return {"query": query, "task": task_to_state(task), "attempts": None, **started}

    return classify
