"""Personas: who the user is, and how that changes the tier a query calls for.

A persona is named in the config under ``personas:``. This step checks the name and hands
on the tier complexity calls for; persona rules that adjust it come with the persona schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from ragged_graph.config import RouterConfig
from ragged_graph.errors import UnknownPersonaError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.classifier import TaskClassification
from ragged_graph.routing.complexity import ComplexityAssessment

__all__ = ["PersonaOutcome", "apply_persona", "check_persona", "known_personas"]


@dataclass(frozen=True, kw_only=True)
class PersonaOutcome:
    """The tier after the persona step."""

    persona: str | None
    """The persona applied, if any."""
    tier: Tier
    """The tier the query calls for after the persona's rules."""
    rule: str | None = None
    """The rule that changed the tier, if one did."""


def known_personas(config: RouterConfig) -> tuple[str, ...]:
    return tuple(sorted(config.personas))


def check_persona(config: RouterConfig, name: str) -> None:
    """Raise :class:`UnknownPersonaError` unless ``name`` is a defined persona."""
    if name not in config.personas:
        raise UnknownPersonaError(name, known_personas(config))


def apply_persona(
    config: RouterConfig,
    persona: str | None,
    *,
    task: TaskClassification,
    assessment: ComplexityAssessment,
) -> PersonaOutcome:
    """The tier ``persona`` gives a query of ``task`` assessed as ``assessment``."""
    if persona is not None:
        check_persona(config, persona)
    return PersonaOutcome(persona=persona, tier=assessment.tier)
