"""The routing graph's state, input and output schemas, and per-run context.

State values are plain JSON-like data (dicts, lists, strings, numbers), so checkpoints,
`langgraph dev` and LangGraph Studio can store and show them without custom serialisers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

# Not typing.TypedDict: before Python 3.12 pydantic cannot make JSON schemas from it, and
# `langgraph dev` / LangGraph Studio then get no input or output schema for the graph.
from typing_extensions import TypedDict

from ragged_graph.config import EnsembleMode

__all__ = [
    "AttemptRecord",
    "Context",
    "InputState",
    "OutputState",
    "State",
]

TierName = Literal["fast", "balanced", "quality"]


def add_attempts(
    current: list[AttemptRecord] | None, update: list[AttemptRecord] | None
) -> list[AttemptRecord]:
    """Attempts accumulate within a run; ``None`` (sent by ``classify``) starts a new run's
    list, so that a thread's later runs do not report earlier runs' attempts."""
    if update is None:
        return []
    return [*(current or []), *update]


class AttemptRecord(TypedDict):
    """One call to one model."""

    model: str
    """The model called."""
    host: str | None
    """The Ollama host it was called on."""
    ok: bool
    """Whether it answered."""
    error_code: str | None
    """The typed error's code when it did not."""
    error: str | None
    """The typed error's message when it did not."""
    latency_ms: float
    """Wall time of the call."""
    first_token_ms: float | None
    """Time to the first streamed token, when one arrived."""
    role: str | None
    """The call's role in an ensemble (``rewriter``, ``primary``, ``verifier``,
    ``escalation``); None when one model answers the request."""


class InputState(TypedDict, total=False):
    """What a caller gives the graph: messages, or a query; retrieved documents optionally."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation; the last human message is the query."""
    query: str
    """The query, for callers without messages."""
    documents: list[str]
    """Retrieved documents the answer should draw on."""


class OutputState(TypedDict, total=False):
    """What the graph hands back."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation with the answer appended."""
    answer: str
    """The answer's text."""
    decision: dict[str, Any]
    """The routing decision (:class:`~ragged_graph.RoutingDecision` as JSON)."""
    attempts: Annotated[list[AttemptRecord], add_attempts]
    """Every model call made, in order."""
    task: dict[str, Any]
    """The classification: task_type, confidence, runner_up, reason, scores."""
    complexity: dict[str, Any]
    """The complexity assessment: score, tier, breakdown, reason."""
    persona: dict[str, Any]
    """The persona step's outcome: persona, tier, rule."""
    experiment: dict[str, Any] | None
    """The A/B experiment the request is in: name, variant, assigned_by (session, user or
    request) and the overrides the variant applied; None when it is in none."""
    ensemble: dict[str, Any] | None
    """When the ensemble answered: why, each role's model, the rewritten query, the
    verifier's verdict and each role's attempts, latency and cost; None when one model did."""


class State(InputState, OutputState, total=False):
    """Everything the nodes share."""

    chain: list[str]
    """The models to try in order: the chosen one, then its fallbacks."""
    position: int
    """Index in ``chain`` of the model being tried."""
    started_at: float
    """When the run started (Unix time), for the routing history's latency."""
    request_id: str
    """The request's id (the run id the caller gave, else a new one), set by the first node:
    the A/B assignment and the routing record use the same one."""
    target: dict[str, Any] | None
    """Where the model at ``position`` is called: ``model``, ``host``, ``base_url`` (set by
    ``select`` and ``fallback`` by the fleet rule)."""
    tried_hosts: list[str]
    """Hosts already tried for the model at ``position``: a failing host's request goes to
    another host with the model before the chain moves on."""
    role: str | None
    """The role of the calls ``invoke`` makes now (inside the ensemble); None otherwise."""


@dataclass(kw_only=True)
class Context:
    """Per-run settings (LangGraph's ``context_schema``); all optional."""

    persona: str | None = None
    """The persona to route for."""
    model: str | None = None
    """Use this model, whatever the query."""
    tier: TierName | None = None
    """Force this tier instead of the one complexity calls for."""
    local_only: bool = False
    """Only use models that run on the user's own hardware."""
    config_path: str | None = None
    """A router config file; defaults to ``$RAGGED_GRAPH_CONFIG`` or the built-in defaults."""
    user_id: str | None = None
    """Who is asking, for A/B experiments assigned by user (else ``user_id`` in the run's
    configurable or metadata)."""
    ensemble: EnsembleMode = "auto"
    """``always``: answer with the ensemble (rewriter, primary, verifier); ``never``: with
    one model; ``auto``: as the config's ``ensemble:`` policy says."""
    cost_limit: float | None = None
    """The most this request may cost, in US dollars (the budgets apply too)."""
    latency_limit: float | None = None
    """The longest this request should take, in seconds, by prediction."""
    optimise: Literal["quality", "latency", "cost"] = "quality"
    """What selection favours: the best fit, the fastest answer or the cheapest."""
    session_id: str | None = None
    """The session, for the per-session budget (else ``session_id``, ``thread_id`` or
    ``conversation_id`` in the run's configurable or metadata)."""
