"""The A/B experiment variant a request is in, if any: the first step of the ``persona`` node.

The request's key (its session or user, by the experiment's ``assign_by``) picks the
variant (:mod:`ragged_graph.experiments.assignment`); the ``persona`` and ``select`` nodes
apply the variant's overrides. A variant overrides the request's preferences (persona,
tier, model, local-only, optimise), so it is assigned where those are settled, in the
``persona`` node, rather than in a graph step of its own (a step costs ~0.1 ms per request
whether or not an experiment runs). The assignment goes on the traced run here; the routing
history and the answer's routing metadata take it from the state's ``experiment``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig

from ragged_graph.errors import UnknownModelError
from ragged_graph.experiments.assignment import active_experiment, assign, excluded
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph.report import SESSION_ID_KEYS, config_value, request_id_of
from ragged_graph.routing_graph.state import Context, State
from ragged_graph.telemetry.tracing import trace_experiment

__all__ = ["USER_ID_KEYS", "assign_variant", "may_read_registry"]

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


def may_read_registry(router: Router, context: Context) -> bool:
    """Whether assigning may read the registry (blocking HTTP when its cache is stale): a
    local-only request, and an active experiment with a variant that names a model."""
    if not router.config.experiments:
        return False
    found = active_experiment(router.config.experiments, datetime.now(UTC))
    if found is None or not any(v.model for v in found[1].variants.values()):
        return False
    return _local_only(router, context)


def assign_variant(
    state: State, config: RunnableConfig, context: Context, router: Router
) -> dict[str, Any] | None:
    """The state's ``experiment``: the active experiment's variant for this request, or None
    (no experiment, the request left out of it, or no key to assign by)."""
    experiments = router.config.experiments
    found = active_experiment(experiments, datetime.now(UTC)) if experiments else None
    if found is None:
        return None
    name, settings = found
    reason = excluded(
        settings,
        explicit=_explicit(context),
        local_only=_local_only(router, context),
        is_local=lambda model: _is_local(router, model),
    )
    if reason is not None:
        logger.debug("request left out of experiment %s: %s", name, reason)
        return None
    assignment = assign(
        name,
        settings,
        session_id=context.session_id or config_value(config, SESSION_ID_KEYS),
        user_id=context.user_id or config_value(config, USER_ID_KEYS),
        request_id=state.get("request_id") or request_id_of(config),
    )
    if assignment is None:
        return None
    trace_experiment(config, assignment.experiment, assignment.variant)
    return assignment.to_state()
