"""Moving the routing steps' results in and out of the graph's JSON-like state."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage
from langgraph.runtime import Runtime

from ragged_graph.errors import InvalidRequestError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.classifier import TaskClassification
from ragged_graph.routing.complexity import ComplexityAssessment
from ragged_graph.routing.personas import PersonaOutcome
from ragged_graph.routing.router import RouteOptions
from ragged_graph.routing_graph.state import Context, State

__all__ = [
    "assessment_from_state",
    "assessment_to_state",
    "context_of",
    "message_text",
    "options_from",
    "persona_from_state",
    "persona_to_state",
    "query_of",
    "task_from_state",
    "task_to_state",
    "with_variant",
]


def context_of(runtime: Runtime[Context]) -> Context:
    context = runtime.context
    if context is None:
        return Context()
    if isinstance(context, dict):  # a server may hand the context over as plain JSON
        return Context(**context)
    return context


def options_from(context: Context) -> RouteOptions:
    return RouteOptions(
        persona=context.persona,
        model=context.model,
        tier=_tier(context.tier),
        local_only=context.local_only,
        cost_limit=context.cost_limit,
        latency_limit=context.latency_limit,
        optimise=context.optimise,
        session_id=context.session_id,
    )


def with_variant(options: RouteOptions, experiment: Mapping[str, Any] | None) -> RouteOptions:
    """``options`` with the A/B variant's overrides (the state's ``experiment``) applied."""
    overrides = dict((experiment or {}).get("overrides") or {})
    if not overrides:
        return options
    if "tier" in overrides:
        overrides["tier"] = _tier(overrides["tier"])
    return dataclasses.replace(options, **overrides)


def _tier(name: str | None) -> Tier | None:
    if name is None:
        return None
    try:
        return Tier(name)
    except ValueError:
        allowed = ", ".join(tier.value for tier in Tier)
        raise InvalidRequestError(
            f"unknown tier {name!r} in the context; use one of {allowed}"
        ) from None


def message_text(message: BaseMessage) -> str:
    """The text of a message, whatever shape its content has."""
    return str(message.text)


def query_of(state: State) -> str:
    """The query of this run: a conversation ending in a human message asks that message;
    otherwise ``query``, else the last human message (a tool loop ends in tool results).
    In a thread, ``query`` may be left over from an earlier run while a new turn appends a
    human message, so the message wins."""
    messages = state.get("messages") or []
    query: str | None = None
    if messages and isinstance(messages[-1], HumanMessage):
        query = message_text(messages[-1])
    else:
        query = state.get("query")
        if query is None:
            # A tool loop ends in tool results: the question is the last human message.
            human = [m for m in messages if isinstance(m, HumanMessage)]
            query = message_text(human[-1]) if human else None
    if query is None or not query.strip():
        raise InvalidRequestError(
            "the request has no query: pass a non-empty `query` or a human message in `messages`"
        )
    return query


# Field by field rather than dataclasses.asdict, which deep-copies and costs more than the
# routing step itself on the hot path.
_TASK_FIELDS = tuple(field.name for field in dataclasses.fields(TaskClassification))
_PERSONA_FIELDS = tuple(
    field.name for field in dataclasses.fields(PersonaOutcome) if field.name != "known"
)


def task_to_state(task: TaskClassification) -> dict[str, Any]:
    data = {name: getattr(task, name) for name in _TASK_FIELDS}
    data["task_type"] = str(task.task_type)
    return data


def task_from_state(data: dict[str, Any]) -> TaskClassification:
    return TaskClassification(**data)


def assessment_to_state(assessment: ComplexityAssessment) -> dict[str, Any]:
    return {
        "score": assessment.score,
        "tier": assessment.tier.value,
        "breakdown": dict(assessment.breakdown),
        "task_prior": assessment.task_prior,
        "reason": assessment.reason,
    }


def assessment_from_state(data: dict[str, Any]) -> ComplexityAssessment:
    return ComplexityAssessment(**{**data, "tier": Tier(data["tier"])})


def persona_to_state(outcome: PersonaOutcome) -> dict[str, Any]:
    data = {name: getattr(outcome, name) for name in _PERSONA_FIELDS}
    data["tier"] = outcome.tier.value
    return data


def persona_from_state(data: dict[str, Any]) -> PersonaOutcome:
    fields: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
    }
    fields["tier"] = Tier(data["tier"])
    return PersonaOutcome(**fields)
