"""The ensemble as plain Python: when it runs, and what each role asks of its model.

The ensemble answers a request with several models, each in a role:

- ``rewriter``: a fast, general model rewrites (expands) the query; the primary answers the
  rewrite, which is also handed back for retrieval in a RAG chain;
- ``primary``: the model normal routing chose;
- ``verifier``: a quality-tier model (the best available one when there is none), other than
  the primary when possible, checks the answer against the query and the retrieved context
  and returns a verdict: accept, revise (with a refined answer) or reject;
- ``escalation``: on a reject, the best quality model other than the primary answers.

:func:`ensemble_wanted` is the policy (config ``ensemble:`` and the request's mode);
:func:`role_request` is what a role asks of selection, which then chooses the role's model
and its fallback chain as for any request
(:meth:`~ragged_graph.routing.router.Router.plan_ensemble`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ragged_graph.config import EnsembleMode, EnsembleSettings
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.selection import SelectionRequest
from ragged_graph.routing.task_types import TaskType
from ragged_graph.routing.tokens import ANSWER_TOKEN_RESERVE

__all__ = [
    "EnsemblePlan",
    "Role",
    "RoleChoice",
    "ensemble_wanted",
    "role_request",
]


class Role(StrEnum):
    """A model's part in answering a request."""

    REWRITER = "rewriter"
    PRIMARY = "primary"
    VERIFIER = "verifier"
    ESCALATION = "escalation"


@dataclass(frozen=True, kw_only=True)
class RoleChoice:
    """The model chosen for one role, with its fallback chain."""

    role: Role
    """The role."""
    model: str
    """The model chosen for it."""
    provider: str
    """Its provider."""
    model_tier: Tier
    """Its tier."""
    fallbacks: tuple[str, ...] = ()
    """Models to try next, in order, if it fails."""
    reason: str = ""
    """Why it was chosen."""

    @property
    def chain(self) -> list[str]:
        """The model, then its fallbacks."""
        return [self.model, *self.fallbacks]

    def to_state(self) -> dict[str, Any]:
        """As plain JSON-like data, for the graph's state."""
        return {
            "role": self.role.value,
            "model": self.model,
            "provider": self.provider,
            "model_tier": self.model_tier.value,
            "fallbacks": list(self.fallbacks),
            "reason": self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class EnsemblePlan:
    """Why the ensemble runs for a request, and the models of its roles besides the primary."""

    reason: str
    """Why the ensemble runs."""
    rewriter: RoleChoice | None = None
    """The rewriter; None when rewriting is off."""
    verifier: RoleChoice | None = None
    """The verifier."""
    escalation: RoleChoice | None = None
    """The model a rejected answer goes to; None when escalation is off or no model other
    than the primary qualifies."""

    def to_state(self) -> dict[str, Any]:
        """As plain JSON-like data, for the graph's state."""
        roles = (self.rewriter, self.verifier, self.escalation)
        return {
            "reason": self.reason,
            "models": {choice.role.value: choice.to_state() for choice in roles if choice},
        }


def ensemble_wanted(
    settings: EnsembleSettings,
    *,
    mode: EnsembleMode,
    persona: str | None,
    tier: Tier,
    complexity: float,
    single_only: str | None = None,
) -> tuple[bool, str]:
    """Whether the ensemble answers, and why (or why not).

    ``single_only`` names what makes one model answer whatever the policy (tools bound, a
    structured-output schema); an explicit ``always`` does not override it.
    """
    if single_only is not None:
        return False, f"one model answers: {single_only}"
    if mode == "always":
        return True, "the request asked for the ensemble"
    if mode == "never":
        return False, "the request asked for one model"
    if not settings.enabled:
        return False, "the ensemble is not enabled (ensemble.enabled)"
    if settings.personas and persona not in settings.personas:
        return False, f"persona {persona or 'none'} is not one of ensemble.personas"
    if settings.tiers and tier not in settings.tiers:
        return False, f"the {tier.value} tier is not one of ensemble.tiers"
    if complexity < settings.min_complexity:
        return False, (
            f"complexity {complexity:.1f} is below ensemble.min_complexity "
            f"{settings.min_complexity:g}"
        )
    met = [f"complexity {complexity:.1f}"]
    if settings.personas:
        met.insert(0, f"persona {persona}")
    if settings.tiers:
        met.insert(0, f"{tier.value} tier")
    return True, "the ensemble policy holds: " + ", ".join(met)


def role_request(
    role: Role,
    *,
    task_type: str,
    required_context: int,
    question_tokens: int,
    local_only: bool,
    primary: str,
) -> SelectionRequest:
    """What ``role`` asks of selection for a request of ``task_type``.

    The rewriter needs only a fast, general model that holds the question; the verifier and
    the escalation a quality-tier one for the task (selection's tier penalties give the best
    available when no quality model fits), other than the ``primary`` when another
    qualifies. The verifier reads the answer too, so it needs room for it.
    """
    if role is Role.REWRITER:
        return SelectionRequest(
            task_type=TaskType.QUERY_REWRITING,
            tier=Tier.FAST,
            required_context=question_tokens + ANSWER_TOKEN_RESERVE,
            local_only=local_only,
            prefer_fast=True,
        )
    if role is Role.VERIFIER:
        return SelectionRequest(
            task_type=task_type,
            tier=Tier.QUALITY,
            required_context=required_context + ANSWER_TOKEN_RESERVE,
            local_only=local_only,
            avoided_models=(primary,),
        )
    if role is Role.ESCALATION:
        return SelectionRequest(
            task_type=task_type,
            tier=Tier.QUALITY,
            required_context=required_context,
            local_only=local_only,
            avoided_models=(primary,),
        )
    raise ValueError(f"the {role.value} role is chosen by normal routing")
