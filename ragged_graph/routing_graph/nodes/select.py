"""`select`: the model (and host) that should answer, with its fallback chain; and whether the
ensemble answers instead of that model alone (the ``ensemble:`` policy and the request's
mode), with the models of its other roles."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.registry.cards import Tier
from ragged_graph.routing.ensemble import ensemble_wanted
from ragged_graph.routing.query_text import document_text
from ragged_graph.routing_graph.convert import (
    assessment_from_state,
    context_of,
    message_text,
    options_from,
    persona_from_state,
    task_from_state,
    with_variant,
)
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY
from ragged_graph.routing_graph.report import session_of
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
        options = with_variant(options_from(context), state.get("experiment"))
        required = (config.get("configurable") or {}).get(REQUIRED_CAPABILITIES_KEY)
        if required:
            options = options.with_capabilities(frozenset(required))
        if options.session_id is None:
            options = replace(options, session_id=session_of(config))
        persona = persona_from_state(state["persona"])
        documents = state.get("documents") or []
        # The privacy guard sees all that the model would: every message, every document.
        texts = [message_text(message) for message in state.get("messages") or []]
        privacy = router.screen(
            [state["query"], *texts],
            documents,
            local_only=options.local_only or persona.local_only,
        )
        prepared = router.prepare(
            state["query"], [document_text(document) for document in documents]
        )
        decision = router.select(
            prepared,
            task_from_state(state["task"]),
            assessment_from_state(state["complexity"]),
            persona,
            options,
            privacy=privacy,
            domain=router.recognise_domain([state["query"], *texts], documents),
        )
        decided = decision.model_dump(mode="json")
        # The decision goes on the traced graph run (a no-op without a tracer).
        redact = redacts(router.config.tracing, local_only=decision.local_only)
        trace_decision(config, decided, redact=redact)
        ensemble = None
        settings = router.config.ensemble
        wanted, why = ensemble_wanted(
            settings,
            mode=context.ensemble,
            persona=decision.persona,
            tier=Tier(decision.tier),
            complexity=decision.complexity,
            single_only=_single_only(config),
        )
        if wanted:
            plan = router.plan_ensemble(
                prepared,
                decision,
                reason=why,
                rewrite=settings.rewrite,
                escalate=settings.escalate,
            )
            ensemble = plan.to_state()
        return {
            "decision": decided,
            "chain": [decision.model, *decision.fallbacks],
            "position": 0,
            "target": {
                "model": decision.model,
                "host": decision.host,
                "base_url": decision.base_url,
            },
            "tried_hosts": [],
            "ensemble": ensemble,
        }

    return select


def _single_only(config: RunnableConfig) -> str | None:
    """What makes one model answer whatever the ensemble policy, if anything."""
    options = (config.get("configurable") or {}).get(CALL_OPTIONS_KEY)
    if options is None:
        return None
    if options.tools:
        return "tools are bound"
    if options.schema is not None:
        return "a structured-output schema is set"
    return None
