"""`RoutingRecord`: one routed request as the history keeps it, and the query-privacy rule."""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "OUTCOME_ANSWERED",
    "AttemptSummary",
    "QueryPrivacy",
    "RoleSummary",
    "RoutingRecord",
    "query_fields",
]

OUTCOME_ANSWERED = "answered"
"""The ``outcome`` of a request that got an answer; any other outcome is an error code."""

QueryPrivacy = Literal["store", "hash", "omit"]
"""What the history keeps of a query: its text, a hash of it, or nothing."""

_FROZEN = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class AttemptSummary(BaseModel):
    """One call to one model during a request."""

    model_config = _FROZEN

    model: str
    """The model called."""
    host: str | None = None
    """The Ollama host (by configured name) it was called on."""
    ok: bool
    """Whether it answered."""
    error_code: str | None = None
    """The typed error's code when it did not."""
    error: str | None = None
    """The typed error's message when it did not."""
    latency_ms: float
    """Wall time of the call."""
    first_token_ms: float | None = None
    """Time from the call's start to its first token."""
    role: str | None = None
    """The call's role in an ensemble (``rewriter``, ``primary``, ``verifier``,
    ``escalation``); None when one model answered (and in records older than ensembles)."""


class RoleSummary(BaseModel):
    """One role of an ensemble-answered request: its calls, time and cost."""

    model_config = _FROZEN

    role: str
    """``rewriter``, ``primary``, ``verifier`` or ``escalation``."""
    model: str | None = None
    """The model that did the role's work; None when every model tried for it failed."""
    host: str | None = None
    """The host that model answered on (or, when none did, the last one tried)."""
    ok: bool
    """Whether a model did the role's work."""
    attempts: int = Field(default=0, ge=0)
    """Calls made for the role, failed ones included."""
    latency_ms: float = Field(default=0.0, ge=0)
    """Wall time of the role's calls, together."""
    tokens_in: int | None = None
    """Prompt tokens of the answering call."""
    tokens_out: int | None = None
    """Tokens it generated."""
    cost_usd: float = Field(default=0.0, ge=0)
    """What the role's answering call cost at the model card's prices (0 for local models)."""
    outcome: str | None = None
    """What came of it: the verifier's verdict (``accept``, ``revise``, ``reject``), or the
    error code the role ended with."""


class RoutingRecord(BaseModel):
    """One request: how it was routed, which models were tried, how it ended, what it cost."""

    model_config = _FROZEN

    time: AwareDatetime
    """When the request started (UTC)."""
    request_id: str = Field(min_length=1)
    """The run's id (the LangChain/LangGraph run id when there is one), to match traces."""
    session_id: str | None = None
    """The conversation or session the request belongs to, when the caller said."""
    persona: str | None = None
    """The persona the request was routed for."""
    task_type: str
    """The task type the classifier settled on."""
    task_confidence: float = Field(ge=0, le=1)
    """How sure the classifier was."""
    complexity: float = Field(ge=0, le=10)
    """The complexity score, 0-10."""
    complexity_breakdown: dict[str, float] = Field(default_factory=dict)
    """The complexity score by dimension."""
    tier: str
    """The tier the query called for."""
    model: str
    """The model the router chose first."""
    model_tier: str
    """That model's own tier."""
    provider: str
    """The provider of the chosen model."""
    reason: str = ""
    """Why the router chose it."""
    answered_by: str | None = None
    """The model that answered; None when none did."""
    host: str | None = None
    """The host that answered (or, when none did, the last one tried)."""
    attempts: tuple[AttemptSummary, ...] = ()
    """Every call made, in order, failed ones with their errors."""
    fallback_count: int = Field(default=0, ge=0)
    """How many models after the first were tried."""
    outcome: str
    """``answered``, or the error code the request ended with (e.g. ``ALL_MODELS_FAILED``)."""
    latency_ms: float = Field(ge=0)
    """Wall time of the whole request, routing included."""
    first_token_ms: float | None = None
    """Time from the request's start to the answer's first token."""
    tokens_in: int | None = None
    """Prompt tokens the answering model reported."""
    tokens_out: int | None = None
    """Tokens it generated."""
    tokens_per_s: float | None = None
    """Its generation speed (Ollama's own figure when it gives one)."""
    cost_usd: float = Field(default=0.0, ge=0)
    """What the answer cost at the model card's prices (0 for local models)."""
    query_text: str | None = None
    """The query, when the privacy setting is ``store``."""
    query_hash: str | None = None
    """A hex SHA-256 (or HMAC-SHA-256 with the configured salt) of the query, when ``hash``."""
    ab_experiment: str | None = None
    """The A/B experiment the request was in (see ``experiments:`` in the config)."""
    ab_variant: str | None = None
    """The experiment's variant (arm) the request was assigned to."""
    feedback: float | None = None
    """The user's rating of the answer, higher is better (the A/B report's feedback score;
    reserved: nothing sets it yet)."""
    roles: tuple[RoleSummary, ...] | None = None
    """Each role's calls, latency and cost when an ensemble answered (rewriter, primary,
    verifier, escalation, in order); None when one model did (and in older records)."""

    @property
    def answered(self) -> bool:
        """Whether a model answered."""
        return self.outcome == OUTCOME_ANSWERED


def query_fields(
    query: str | None, privacy: QueryPrivacy, salt: str | None = None
) -> tuple[str | None, str | None]:
    """``(query_text, query_hash)`` for a record, as ``privacy`` allows."""
    if query is None or privacy == "omit":
        return None, None
    if privacy == "store":
        return query, None
    data = query.encode("utf-8")
    if salt:
        return None, hmac.new(salt.encode("utf-8"), data, hashlib.sha256).hexdigest()
    return None, hashlib.sha256(data).hexdigest()
