"""`experiment`: the A/B experiment variant this request is in, if any.

The request's key (its session or user, by the experiment's ``assign_by``) picks the
variant (:mod:`ragged_graph.experiments.assignment`); the ``persona`` and ``select`` nodes
apply the variant's overrides. The assignment goes on the traced run here; the routing
history and the answer's routing metadata take it from the state.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.errors import UnknownModelError
from ragged_graph.experiments.assignment import active_experiment, assign, excluded
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph.convert import context_of
from ragged_graph.routing_graph.report import SESSION_ID_KEYS, config_value, request_id_of
from ragged_graph.routing_graph.services import ServicesProvider
from ragged_graph.routing_graph.state import Context, State
from ragged_graph.telemetry.tracing import trace_experiment

__all__ = ["USER_ID_KEYS", "make_experiment"]

logger = logging.getLogger("ragged_graph.experiments")

USER_ID_KEYS = ("user_id", "langgraph_auth_user_id")
"""``configurable`` or ``metadata`` keys naming the user, first found wins (after the
context's ``user_id``); LangGraph servers with authentication set the second."""


def _explicit(context: Context) -> frozenset[str]:
    """The routing settings the request set itself."""
    given = {
        "persona": context.persona is not None,
        "model": context.model is not None,
        "tier": context.tier is not None,
        "local_only": context.local_only,
        "optimise": context.optimise != "quality",
    }
    return frozenset(name for name, present in given.items() if present)


def _local_only(router: Router, context: Context) -> bool:
    if context.local_only:
        return True
    return context.persona is not None and router.personas.get(context.persona).local_only


def _is_local(router: Router, model: str) -> bool:
    try:
        return router.registry.get(model).card.local
    except UnknownModelError:
        return False


def _needs_registry(router: Router, context: Context) -> bool:
    """Whether assigning may read the registry (blocking HTTP when its cache is stale): a
    local-only request, and an active experiment with a variant that names a model."""
    found = active_experiment(router.config.experiments, datetime.now(UTC))
    if found is None or not any(v.model for v in found[1].variants.values()):
        return False
    return _local_only(router, context)


def make_experiment(provide: ServicesProvider) -> tuple[Any, Any]:
    """The node as a (sync, async) pair: the async one runs inline, unless it may have to
    read the registry, which it then does in a thread so as not to stall the event loop."""

    def experiment(
        state: State, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        context = context_of(runtime)
        router = provide(context).router
        experiments = router.config.experiments
        found = active_experiment(experiments, datetime.now(UTC)) if experiments else None
        if found is None:
            return {"experiment": None}
        name, settings = found
        reason = excluded(
            settings,
            explicit=_explicit(context),
            local_only=_local_only(router, context),
            is_local=lambda model: _is_local(router, model),
        )
        if reason is not None:
            logger.debug("request left out of experiment %s: %s", name, reason)
            return {"experiment": None}
        assignment = assign(
            name,
            settings,
            session_id=context.session_id or config_value(config, SESSION_ID_KEYS),
            user_id=context.user_id or config_value(config, USER_ID_KEYS),
            request_id=state.get("request_id") or request_id_of(config),
        )
        if assignment is None:
            return {"experiment": None}
        trace_experiment(config, assignment.experiment, assignment.variant)
        return {"experiment": assignment.to_state()}

    async def aexperiment(
        state: State, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        context = context_of(runtime)
        router = provide(context).router
        if router.config.experiments and _needs_registry(router, context):
            return await asyncio.to_thread(experiment, state, config, runtime)
        return experiment(state, config, runtime)

    return experiment, aexperiment
