"""Personas: who the user is, and how that changes where a query goes.

A persona is declarative data (never evaluated code), from three places, later ones winning
for the same name: the built-in persona files shipped with ragged_graph, the files in the
config's ``persona_dir`` (one YAML file per persona), and ``personas:`` in the config file.
A persona may ``extends:`` another and set only what differs.

How a persona changes a decision, highest priority first:

1. an explicit model (``model=``) beats everything a persona says;
2. a persona task override (``task_overrides: {code_generation: {tier: quality}}`` or
   ``{model: qwen2.5-coder:32b}``);
3. the task's specialisation (selection's bonus for e.g. a code model; see
   :mod:`ragged_graph.routing.selection`);
4. the complexity tier adjusted by the persona's tier rules: rules are checked in order and
   the first whose conditions all hold fires (upgrade, downgrade, set tier or set model);
5. the persona's default tier: when no rule fired, the tier leans one step towards it.

Preferred models earn a bonus in selection, avoided ones are left out while others qualify,
``min_context`` raises the context a model must hold, ``local_only`` keeps every request on
the user's own hardware, and ``response_style`` is handed to the model as a system message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ragged_graph.errors import UnknownPersonaError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.classifier import TaskClassification
from ragged_graph.routing.complexity import ComplexityAssessment
from ragged_graph.routing.language import detect_language
from ragged_graph.routing.task_types import validate_task_name

__all__ = [
    "Persona",
    "PersonaBook",
    "PersonaOutcome",
    "RuleAction",
    "RuleCondition",
    "TaskOverride",
    "TierRule",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
Preference = Literal["low", "balanced", "high"]


def _task_names(names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if names is not None:
        for name in names:
            validate_task_name(name)
    return names


class RuleCondition(BaseModel):
    """When a tier rule applies: every condition given must hold."""

    model_config = _STRICT

    task: tuple[str, ...] | None = None
    """The task type is one of these."""
    complexity_at_least: float | None = Field(default=None, ge=0, le=10)
    """The complexity score is at least this."""
    complexity_below: float | None = Field(default=None, ge=0, le=10)
    """The complexity score is below this."""
    context_tokens_at_least: int | None = Field(default=None, ge=0)
    """The request (prompt, documents, answer) needs at least this many tokens."""
    context_tokens_below: int | None = Field(default=None, ge=0)
    """The request needs fewer tokens than this."""
    language: tuple[str, ...] | None = None
    """The query's language is one of these: ``en``, ``fr``, ``de``, ``es``, ``it``, ``pt``,
    ``nl``, ``zh``, ``ja``, ``ko``, ``other``, or ``non_en`` for anything but English."""

    @field_validator("task")
    @classmethod
    def _known_task_names(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return _task_names(names)


class RuleAction(BaseModel):
    """What a tier rule does; exactly one field."""

    model_config = _STRICT

    upgrade: int | None = Field(default=None, ge=1, le=2)
    """Move this many tiers up."""
    downgrade: int | None = Field(default=None, ge=1, le=2)
    """Move this many tiers down."""
    set_tier: Tier | None = None
    """Use this tier."""
    set_model: str | None = Field(default=None, min_length=1)
    """Use this model."""

    @model_validator(mode="after")
    def _exactly_one(self) -> RuleAction:
        given = [name for name, value in self if value is not None]
        if len(given) != 1:
            raise ValueError(
                "a rule's `then` takes exactly one of upgrade, downgrade, set_tier, set_model"
                f" (got {', '.join(given) or 'none'})"
            )
        return self


class TierRule(BaseModel):
    """A persona's tier rule: when ``when`` holds, do ``then``."""

    model_config = _STRICT

    name: str = Field(min_length=1)
    """A name, recorded in decisions when the rule fires."""
    when: RuleCondition = Field(default_factory=RuleCondition)
    """The conditions (all must hold; none given means always)."""
    then: RuleAction
    """The action."""


class TaskOverride(BaseModel):
    """What a persona wants for one task type, whatever its complexity."""

    model_config = _STRICT

    tier: Tier | None = None
    """Use this tier."""
    model: str | None = Field(default=None, min_length=1)
    """Use this model."""
    specialised: bool = False
    """Insist on a model specialised in the task (relaxed, and recorded, if none fits)."""

    @model_validator(mode="after")
    def _tier_or_model(self) -> TaskOverride:
        if (self.tier is None) == (self.model is None):
            raise ValueError("a task override takes exactly one of tier or model")
        return self


class Persona(BaseModel):
    """A persona as written; every field optional so that ``extends`` can inherit it."""

    model_config = _STRICT

    description: str = ""
    """What the persona is for."""
    extends: str | None = None
    """Another persona whose settings this one starts from."""
    default_tier: Tier | None = None
    """The tier this persona leans towards when no rule fired."""
    rules: tuple[TierRule, ...] = ()
    """Tier rules, checked in order; the first that applies fires."""
    task_overrides: dict[str, TaskOverride] = Field(default_factory=dict)
    """Per task type: a tier or a model, whatever the complexity."""
    preferred_models: tuple[str, ...] = ()
    """Models that earn a bonus in selection."""
    avoided_models: tuple[str, ...] = ()
    """Models left out while any other qualifies."""
    min_context: int | None = Field(default=None, gt=0)
    """The context window (tokens) every chosen model must have at least."""
    local_only: bool = False
    """Only models running on the user's own hardware, whatever else is configured."""
    cost_preference: Preference = "balanced"
    """``low``: favour free and cheap models; ``high``: cost is no object."""
    latency_preference: Preference = "balanced"
    """``low``: favour fast and already loaded models; ``high``: waiting is fine."""
    response_style: str | None = None
    """Handed to the model as a system message, e.g. "Answer concisely"."""

    @field_validator("task_overrides")
    @classmethod
    def _known_task_names(cls, overrides: dict[str, TaskOverride]) -> dict[str, TaskOverride]:
        for name in overrides:
            validate_task_name(name)
        return overrides


@dataclass(frozen=True, kw_only=True)
class PersonaOutcome:
    """What the persona step decided."""

    persona: str | None
    """The persona applied, if any."""
    tier: Tier
    """The tier the query calls for after the persona."""
    rule: str | None = None
    """What changed the tier or model: ``rule NAME``, ``task override TASK`` or
    ``default tier TIER``."""
    model: str | None = None
    """A model the persona names for this query (task override or rule)."""
    specialised: bool = False
    """The persona insists on a task specialist."""
    preferred_models: tuple[str, ...] = ()
    """Models that earn a bonus in selection."""
    avoided_models: tuple[str, ...] = ()
    """Models left out while others qualify."""
    min_context: int = 0
    """Context window every candidate must have."""
    local_only: bool = False
    """Only local models."""
    prefer_fast: bool = False
    """Favour fast and loaded models."""
    prefer_cheap: bool = False
    """Favour free and cheap models."""
    response_style: str | None = None
    """System instruction for the model."""
    known: tuple[str, ...] = field(default=())
    """Every persona name (for messages)."""


def _shift(tier: Tier, steps: int) -> Tier:
    order = list(Tier)
    return order[max(0, min(len(order) - 1, tier.rank + steps))]


def _holds(
    condition: RuleCondition, task: str, score: float, context_tokens: int, language: str
) -> bool:
    if condition.task is not None and task not in condition.task:
        return False
    if condition.complexity_at_least is not None and score < condition.complexity_at_least:
        return False
    if condition.complexity_below is not None and score >= condition.complexity_below:
        return False
    if (
        condition.context_tokens_at_least is not None
        and context_tokens < condition.context_tokens_at_least
    ):
        return False
    if (
        condition.context_tokens_below is not None
        and context_tokens >= condition.context_tokens_below
    ):
        return False
    if condition.language is not None:
        wanted = set(condition.language)
        if language not in wanted and not ("non_en" in wanted and language != "en"):
            return False
    return True


class PersonaBook:
    """The resolved personas of a configuration (``extends`` applied), by name."""

    def __init__(
        self,
        personas: Mapping[str, Persona],
        *,
        sources: Mapping[str, str] | None = None,
        known_tasks: Collection[str] | None = None,
    ) -> None:
        self._raw = dict(personas)
        self._sources = dict(sources or {})
        if known_tasks is not None:
            self._check_tasks(frozenset(known_tasks))
        self._resolved = {name: self._resolve(name, ()) for name in self._raw}
        # Every outcome carries the names (for messages): sorted once, not per query. Without
        # a persona the outcome depends on the tier alone, so those are built once too.
        self._names = tuple(sorted(self._resolved))
        self._without_persona = {
            tier: PersonaOutcome(persona=None, tier=tier, known=self._names) for tier in Tier
        }

    def _where(self, name: str) -> str | None:
        return self._sources.get(name)

    def _check_tasks(self, known: frozenset[str]) -> None:
        from ragged_graph.errors import ConfigError, ConfigIssue

        listed = ", ".join(sorted(known))
        for name, persona in self._raw.items():
            issues = [
                ConfigIssue(key=f"task_overrides.{task}", problem=f"unknown task; known: {listed}")
                for task in persona.task_overrides
                if task not in known
            ]
            issues += [
                ConfigIssue(
                    key=f"rules.{index}.when.task",
                    problem=f"unknown task {task!r}; known: {listed}",
                )
                for index, rule in enumerate(persona.rules)
                for task in rule.when.task or ()
                if task not in known
            ]
            if issues:
                raise ConfigError(self._where(name) or f"<persona {name}>", issues)

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def get(self, name: str) -> Persona:
        try:
            return self._resolved[name]
        except KeyError:
            raise UnknownPersonaError(name, self.names) from None

    def _resolve(self, name: str, chain: Sequence[str]) -> Persona:
        from ragged_graph.errors import ConfigError, ConfigIssue

        persona = self._raw[name]
        if persona.extends is None:
            return persona
        if persona.extends == name or persona.extends in chain:
            cycle = " -> ".join([*chain, name, persona.extends])
            issue = ConfigIssue(key="extends", problem=f"cycle: {cycle}")
            raise ConfigError(self._where(name), [issue])
        if persona.extends not in self._raw:
            issue = ConfigIssue(
                key="extends",
                problem=f"extends unknown persona {persona.extends!r}; known: "
                + ", ".join(sorted(self._raw)),
            )
            raise ConfigError(self._where(name), [issue])
        parent = self._resolve(persona.extends, [*chain, name])
        own = persona.model_dump(exclude_unset=True, exclude={"extends"})
        return Persona.model_validate({**parent.model_dump(exclude={"extends"}), **own})

    def apply(
        self,
        name: str | None,
        *,
        task: TaskClassification,
        assessment: ComplexityAssessment,
        context_tokens: int,
        query: str,
    ) -> PersonaOutcome:
        """The tier (and model, if any) persona ``name`` gives this query."""
        if name is None:
            return self._without_persona[assessment.tier]
        persona = self.get(name)
        base = PersonaOutcome(
            persona=name,
            tier=assessment.tier,
            preferred_models=persona.preferred_models,
            avoided_models=persona.avoided_models,
            min_context=persona.min_context or 0,
            local_only=persona.local_only,
            prefer_fast=persona.latency_preference == "low",
            prefer_cheap=persona.cost_preference == "low",
            response_style=persona.response_style,
            known=self.names,
        )
        task_type = str(task.task_type)
        override = persona.task_overrides.get(task_type)
        if override is not None:
            return replace(
                base,
                tier=override.tier or assessment.tier,
                model=override.model,
                specialised=override.specialised,
                rule=f"task override {task_type}",
            )
        language = detect_language(query) if any(r.when.language for r in persona.rules) else ""
        for rule in persona.rules:
            if _holds(rule.when, task_type, assessment.score, context_tokens, language):
                action = rule.then
                tier = assessment.tier
                if action.upgrade:
                    tier = _shift(tier, action.upgrade)
                elif action.downgrade:
                    tier = _shift(tier, -action.downgrade)
                elif action.set_tier is not None:
                    tier = action.set_tier
                return replace(base, tier=tier, model=action.set_model, rule=f"rule {rule.name}")
        default = persona.default_tier
        if default is not None and default is not assessment.tier:
            step = 1 if default.rank > assessment.tier.rank else -1
            return replace(
                base, tier=_shift(assessment.tier, step), rule=f"default tier {default.value}"
            )
        return base
