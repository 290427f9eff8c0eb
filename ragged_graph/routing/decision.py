"""`RoutingDecision`: what the router decided for one query, and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ragged_graph.registry.cards import Tier

__all__ = ["RoutingDecision"]


class RoutingDecision(BaseModel):
    """The router's decision for one query; travels with the answer.

    ``tier`` is the tier the query calls for (complexity, then persona rules), the same on
    every machine. Where memory or availability forces a model of another tier,
    ``model_tier`` says which and ``reason`` says why.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    model: str
    """The chosen model."""
    provider: str
    """The provider that serves it (``ollama``, ``anthropic``, ``openai``, ``embedded``)."""
    host: str | None = None
    """The Ollama host (by configured name) the request goes to; None for other providers."""
    base_url: str | None = None
    """That host's base URL."""
    tier: Tier
    """The tier the query calls for."""
    model_tier: Tier
    """The chosen model's own tier (differs from ``tier`` when the wanted tier had no fit)."""
    task_type: str
    """The task type the classifier settled on."""
    task_confidence: float = Field(ge=0, le=1)
    """How sure the classifier was (0-1)."""
    task_runner_up: str | None = None
    """The second most likely task type."""
    complexity: float = Field(ge=0, le=10)
    """The complexity score, 0-10."""
    complexity_breakdown: dict[str, float]
    """The complexity score by dimension."""
    persona: str | None = None
    """The persona the decision was made for."""
    persona_rule: str | None = None
    """The persona rule that changed the tier or model, if one did."""
    reason: str
    """A readable account of why this model was chosen."""
    fallbacks: list[str] = Field(default_factory=list)
    """Models to try next, in order, if the chosen one fails."""
    relaxations: list[str] = Field(default_factory=list)
    """Requirements that were relaxed because no model met them all."""
    required_context: int = Field(ge=0)
    """Estimated tokens the request needs (prompt, retrieved documents, answer)."""
    availability_assumed: bool = False
    """True when no model server answered and installed models were assumed."""
    explicit_model: bool = False
    """True when the caller named the model."""
    local_only: bool = False
    """True when only local models could be chosen: the persona or the call asked for it, or
    the privacy guard found something that must stay on this machine."""
    domain: str | None = None
    """The subject domain the request was recognised in, when a model serves it (its
    domain model then answers; see :mod:`ragged_graph.routing.domains`)."""
    privacy: list[str] = Field(default_factory=list)
    """What the privacy guard found in the request (``email``, ``phone``, ``card_number``,
    ``iban``, ``api_key``, ``token``, ``private_key``, ``password``, ``private_document``);
    any finding keeps it on local models. Scanned only while a cloud model could be chosen."""
    optimise: str = "quality"
    """What selection favoured: ``quality``, ``latency`` or ``cost``."""
    estimated_cost_usd: float | None = None
    """What the chosen model should cost for this request, in US dollars."""
    predicted_latency_ms: float | None = None
    """How long the chosen model should take to answer (a cold load included), in ms."""
    predicted_first_token_ms: float | None = None
    """How long until its first token, in ms."""
    cost_limit_usd: float | None = None
    """The cost limit applied: the request's ``cost_limit`` or a budget's remainder,
    whichever was tighter (None: none)."""
    latency_limit_s: float | None = None
    """The request's latency limit, in seconds (None: none)."""
