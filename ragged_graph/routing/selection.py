"""Choosing a model: requirements per task, a scored choice, relaxation when nothing fits.

The candidates are the registry's: installed models (or every model, while availability is
unknown) that fit the memory budget. A candidate qualifies when it has the capabilities the
request requires and a context window that holds the request. Qualified candidates are
scored (higher is better):

=====================================  =========
tier equals the wanted tier            0
each tier above the wanted tier        -2.0
each tier below the wanted tier        -2.5
task specialisation (e.g. code)        +3.0
the task's capability, not specialised +1.0
a code/maths/reasoning specialist
used off its speciality                -1.0
loaded on a host now (no cold start)   +0.5
a model the persona prefers            +1.5
=====================================  =========

A specialist one tier away thus beats a generalist of the wanted tier (SPEC's priority:
task specialisation before complexity tier), but not two tiers away. Ties go to the larger
model when the wanted tier is balanced or quality and to the smaller one when it is fast,
then to the name, so the choice is deterministic for the same inputs.

Limits and optimisation (see :mod:`ragged_graph.routing.costs` and
:mod:`ragged_graph.routing.latency`): with a cost limit (the request's ``cost_limit`` or what
is left of a budget) or a latency limit, candidates whose estimate exceeds it are left out,
and the decision lists them; when every candidate exceeds it, the cheapest (or fastest) one
is kept and the relaxation recorded. ``optimise: latency`` ranks by predicted latency and
``optimise: cost`` by estimated cost, among candidates at most one tier below the wanted one,
the score breaking ties.

When no candidate qualifies, the required capabilities are dropped (recorded in the
decision). A request longer than every candidate's context window is not relaxed: Ollama
would silently cut the prompt, so it is a :class:`ContextOverflowError` that says how long
it is and what holds the most. With no candidates at all, :class:`NoModelAvailableError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ragged_graph.errors import ContextOverflowError, NoModelAvailableError
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot
from ragged_graph.routing.latency import LatencyPrediction
from ragged_graph.routing.task_types import TaskType

__all__ = [
    "TASK_REQUIREMENTS",
    "Estimate",
    "Optimise",
    "Selection",
    "SelectionRequest",
    "TaskRequirements",
    "handed_over",
    "requirements_for",
    "select_model",
    "with_note",
]

TIER_UP_PENALTY = 2.0
TIER_DOWN_PENALTY = 2.5
SPECIALISATION_BONUS = 3.0
CAPABILITY_BONUS = 1.0
LOADED_BONUS = 0.5
PREFERRED_BONUS = 1.5
# A code, maths or reasoning specialist is a poor pick for other work (R1-style reasoners are
# also slow): it loses this much off its own speciality.
OFF_SPECIALITY_PENALTY = 1.0
NARROW_SPECIALITIES = frozenset({Capability.CODE, Capability.MATHS, Capability.REASONING})
# With a low latency preference a loaded model saves a cold start worth a tier step.
FAST_LOADED_BONUS = 2.0
# With a low cost preference, a priced model loses this per dollar per million tokens.
PRICE_PENALTY_PER_DOLLAR = 0.2


@dataclass(frozen=True, kw_only=True)
class TaskRequirements:
    """What a task needs from a model."""

    required: frozenset[Capability] = frozenset()
    """Capabilities a model must have."""
    preferred: Capability | None = None
    """The specialisation that earns a bonus."""


TASK_REQUIREMENTS: Mapping[str, TaskRequirements] = {
    TaskType.CODE_GENERATION: TaskRequirements(preferred=Capability.CODE),
    TaskType.MATH: TaskRequirements(preferred=Capability.MATHS),
    TaskType.REASONING: TaskRequirements(preferred=Capability.REASONING),
    TaskType.SUMMARISATION: TaskRequirements(preferred=Capability.LONG_CONTEXT),
    TaskType.CREATIVE: TaskRequirements(preferred=Capability.CREATIVE),
    TaskType.EXTRACTION: TaskRequirements(),
    TaskType.TRANSLATION: TaskRequirements(preferred=Capability.MULTILINGUAL),
    TaskType.QUERY_REWRITING: TaskRequirements(),
    TaskType.RAG_QUERY: TaskRequirements(preferred=Capability.LONG_CONTEXT),
    TaskType.GENERAL_QA: TaskRequirements(),
}
_NO_REQUIREMENTS = TaskRequirements()


def requirements_for(
    task_type: str, extra: frozenset[Capability] = frozenset()
) -> TaskRequirements:
    """The requirements of ``task_type`` (custom tasks have none) plus ``extra`` capabilities."""
    base = TASK_REQUIREMENTS.get(task_type, _NO_REQUIREMENTS)
    if not extra:
        return base
    return TaskRequirements(required=base.required | extra, preferred=base.preferred)


Optimise = Literal["quality", "latency", "cost"]
"""What selection favours: the best fit (``quality``), the fastest answer, the cheapest."""


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """What one request would cost and how long it would take on one model."""

    cost_usd: float
    """Estimated cost in US dollars."""
    latency: LatencyPrediction
    """Predicted latency."""


@dataclass(frozen=True, kw_only=True)
class SelectionRequest:
    """Everything selection needs to know about one request."""

    task_type: str
    """The classified task."""
    tier: Tier
    """The tier the query calls for."""
    required_context: int
    """Estimated tokens for prompt, documents and answer."""
    required_capabilities: frozenset[Capability] = frozenset()
    """Capabilities beyond the task's (e.g. tools when tools are bound, vision for images)."""
    local_only: bool = False
    """Only models running on the user's own hardware."""
    specialised: bool = False
    """Only models specialised in the task (relaxed, and recorded, if none fits)."""
    preferred_models: tuple[str, ...] = ()
    """Models that earn :data:`PREFERRED_BONUS`."""
    avoided_models: tuple[str, ...] = ()
    """Models left out while any other qualifies."""
    prefer_fast: bool = False
    """Favour loaded and smaller models (a persona's low latency preference)."""
    prefer_cheap: bool = False
    """Favour free models over priced ones (a persona's low cost preference)."""
    optimise: Optimise = "quality"
    """What to favour among the qualified models."""
    cost_limit_usd: float | None = None
    """Leave out models whose estimated cost exceeds this (None: no limit)."""
    cost_limit_reason: str = ""
    """What set the cost limit (``cost limit $0.0100``, ``daily budget ...``), for reasons."""
    latency_limit_ms: float | None = None
    """Leave out models whose predicted latency exceeds this (None: no limit)."""
    estimates: Mapping[str, Estimate] | None = None
    """Cost and latency per candidate name; needed by limits and by the latency and cost
    modes (without them those are ignored)."""


@dataclass(frozen=True, kw_only=True)
class Selection:
    """The outcome of selection."""

    entry: RegistryEntry
    """The chosen model."""
    score: float
    """Its score."""
    reason: str
    """Why it won."""
    relaxations: tuple[str, ...] = ()
    """Requirements relaxed on the way."""
    ranked: tuple[RegistryEntry, ...] = field(default=())
    """Every qualified candidate, best first (the chosen one included)."""
    limited: tuple[str, ...] = ()
    """What the cost and latency limits left out, readable."""


def _can_chat(entry: RegistryEntry) -> bool:
    # Embedding models are installed like chat models but cannot answer.
    capabilities = entry.card.capabilities
    return Capability.EMBEDDING not in capabilities or Capability.GENERAL in capabilities


def _score(
    entry: RegistryEntry, request: SelectionRequest, requirements: TaskRequirements
) -> float:
    card = entry.card
    distance = card.tier.rank - request.tier.rank
    score = -distance * TIER_UP_PENALTY if distance > 0 else distance * TIER_DOWN_PENALTY
    preferred = requirements.preferred
    if preferred is not None and preferred in card.specialisations:
        score += SPECIALISATION_BONUS
    else:
        if preferred is not None and preferred in card.capabilities:
            score += CAPABILITY_BONUS
        if card.specialisations & NARROW_SPECIALITIES:
            score -= OFF_SPECIALITY_PENALTY
    if entry.loaded_on:
        score += FAST_LOADED_BONUS if request.prefer_fast else LOADED_BONUS
    if card.name in request.preferred_models:
        score += PREFERRED_BONUS
    if request.prefer_cheap:
        price = card.input_price_per_mtok + card.output_price_per_mtok
        score -= PRICE_PENALTY_PER_DOLLAR * price
    return score


def _rank(
    entries: Sequence[RegistryEntry], request: SelectionRequest, requirements: TaskRequirements
) -> list[tuple[float, RegistryEntry]]:
    # Bigger models for balanced and quality requests, smaller (faster) ones for fast.
    size_sign = 1.0 if request.tier is Tier.FAST or request.prefer_fast else -1.0
    scored = [(_score(entry, request, requirements), entry) for entry in entries]
    scored.sort(
        key=lambda pair: (-pair[0], size_sign * (pair[1].card.parameters_b or 0.0), pair[1].name)
    )
    estimates = request.estimates
    if request.optimise != "quality" and estimates is not None:
        floor = request.tier.rank - 1
        by_latency = request.optimise == "latency"

        def metric(pair: tuple[float, RegistryEntry]) -> tuple[bool, float]:
            entry = pair[1]
            estimate = estimates.get(entry.name)
            if estimate is None:
                value = float("inf")
            else:
                value = estimate.latency.total_ms if by_latency else estimate.cost_usd
            return entry.card.tier.rank < floor, value

        # Stable: the score's order breaks ties of the metric.
        scored.sort(key=metric)
    return scored


def _over(entry: RegistryEntry, request: SelectionRequest) -> tuple[bool, bool]:
    """Whether ``entry``'s estimate exceeds the (cost, latency) limits."""
    estimate = (request.estimates or {}).get(entry.name)
    if estimate is None:
        return False, False
    cost = request.cost_limit_usd is not None and estimate.cost_usd > request.cost_limit_usd
    slow = (
        request.latency_limit_ms is not None
        and estimate.latency.total_ms > request.latency_limit_ms
    )
    return cost, slow


def _within_limits(
    qualified: list[RegistryEntry],
    request: SelectionRequest,
    relaxations: list[str],
) -> tuple[list[RegistryEntry], tuple[str, ...]]:
    """``qualified`` without the models over the cost or latency limit, and what was left
    out; the cheapest (or fastest) model when every one is over."""
    if request.estimates is None or (
        request.cost_limit_usd is None and request.latency_limit_ms is None
    ):
        return qualified, ()
    estimates = request.estimates
    kept: list[RegistryEntry] = []
    too_costly: list[str] = []
    too_slow: list[str] = []
    for entry in qualified:
        cost, slow = _over(entry, request)
        estimate = estimates.get(entry.name)
        if cost and estimate is not None:
            too_costly.append(f"{entry.name} (est. ${estimate.cost_usd:.4f})")
        if slow and estimate is not None:
            too_slow.append(f"{entry.name} (predicted {estimate.latency.total_ms / 1000:.1f} s)")
        if not cost and not slow:
            kept.append(entry)
    notes: list[str] = []
    if too_costly:
        why = request.cost_limit_reason or f"cost limit ${request.cost_limit_usd:.4f}"
        notes.append(f"{why}: left out {', '.join(too_costly)}")
    if too_slow:
        limit_s = (request.latency_limit_ms or 0) / 1000
        notes.append(f"latency limit {limit_s:g} s: left out {', '.join(too_slow)}")
    if kept:
        return kept, tuple(notes)

    def fallback_key(entry: RegistryEntry) -> tuple[float, float]:
        estimate = estimates.get(entry.name)
        if estimate is None:
            return float("inf"), float("inf")
        cost = estimate.cost_usd if too_costly else 0.0
        return cost, estimate.latency.total_ms

    best = min(qualified, key=fallback_key)
    limits = " and ".join(
        name for name, hit in (("cost", too_costly), ("latency", too_slow)) if hit
    )
    relaxations.append(
        f"no model is within the {limits} limit; "
        f"{'the cheapest' if too_costly else 'the fastest'}, {best.name}, was kept"
    )
    return [best], tuple(notes)


def select_model(snapshot: RegistrySnapshot, request: SelectionRequest) -> Selection:
    """Choose the best candidate for ``request`` (see the module docstring for the rule)."""
    candidates = tuple(entry for entry in snapshot.candidates if _can_chat(entry))
    if request.local_only:
        candidates = tuple(entry for entry in candidates if entry.card.local)
    if not candidates:
        raise NoModelAvailableError(_why_no_candidates(snapshot, request.local_only))

    requirements = requirements_for(request.task_type, request.required_capabilities)
    relaxations: list[str] = []
    qualified = [
        entry
        for entry in candidates
        if requirements.required <= entry.card.capabilities
        and entry.card.context_window >= request.required_context
    ]
    if not qualified and requirements.required:
        missing = ", ".join(sorted(requirements.required))
        relaxations.append(f"no fitting model offers {missing}; capability requirement dropped")
        requirements = TaskRequirements(preferred=requirements.preferred)
        qualified = [e for e in candidates if e.card.context_window >= request.required_context]
    if not qualified:
        largest = max(entry.card.context_window for entry in candidates)
        raise ContextOverflowError(request.required_context, largest)

    qualified, limited = _within_limits(qualified, request, relaxations)
    qualified = _narrow(qualified, request, requirements, relaxations)
    ranked = _rank(qualified, request, requirements)
    score, best = ranked[0]
    return Selection(
        entry=best,
        score=score,
        reason=_explain(best, request, requirements, len(qualified)),
        relaxations=tuple(relaxations),
        ranked=tuple(entry for _, entry in ranked),
        limited=limited,
    )


def _narrow(
    qualified: list[RegistryEntry],
    request: SelectionRequest,
    requirements: TaskRequirements,
    relaxations: list[str],
) -> list[RegistryEntry]:
    """Apply a persona's avoid list and specialist demand, relaxing either if it empties."""
    if request.avoided_models:
        kept = [e for e in qualified if e.card.name not in request.avoided_models]
        if kept:
            qualified = kept
        else:
            relaxations.append("only avoided models qualify; using one of them")
    preferred = requirements.preferred
    if request.specialised and preferred is not None:
        specialists = [e for e in qualified if preferred in e.card.specialisations]
        if specialists:
            qualified = specialists
        else:
            relaxations.append(f"no fitting model is specialised in {preferred.value}")
    return qualified


def _explain(
    entry: RegistryEntry, request: SelectionRequest, requirements: TaskRequirements, pool: int
) -> str:
    card = entry.card
    parts = [f"{request.task_type} at {request.tier.value} tier"]
    if card.tier is request.tier:
        parts.append(f"{card.name} is a {card.tier.value}-tier model")
    else:
        parts.append(
            f"no better {request.tier.value}-tier fit, so {card.name} "
            f"({card.tier.value} tier) was chosen"
        )
    preferred = requirements.preferred
    if preferred is not None and preferred in card.specialisations:
        parts.append(f"specialised in {preferred.value}")
    if entry.loaded_on:
        parts.append(f"already loaded on {entry.loaded_on[0]}")
    if request.optimise != "quality" and request.estimates is not None:
        parts.append(f"optimised for {request.optimise}")
    parts.append(f"best of {pool} qualified candidate{'s' if pool != 1 else ''}")
    return "; ".join(parts)


def _why_no_candidates(snapshot: RegistrySnapshot, local_only: bool) -> str:
    if local_only:
        return "no local model is installed and within the memory budget"
    installed = [entry for entry in snapshot.entries if entry.installed]
    if snapshot.availability_known and not installed:
        return "no models are installed on any reachable Ollama host"
    return (
        f"no installed model fits the memory budget of {snapshot.budget.budget_gb:.1f} GB "
        f"({snapshot.budget.rule})"
    )


def with_note(selection: Selection, note: str) -> Selection:
    """``selection`` with ``note`` added to its reason."""
    return replace(selection, reason=f"{selection.reason}; {note}")


def handed_over(
    selection: Selection,
    fallbacks: Sequence[RegistryEntry],
    pick: RegistryEntry,
    reason: str,
    *,
    max_chain_length: int,
) -> tuple[Selection, tuple[RegistryEntry, ...]]:
    """``pick`` chosen instead of the rules' choice, which then heads the fallback chain."""
    chain = (selection.entry, *(entry for entry in fallbacks if entry.name != pick.name))
    return replace(selection, entry=pick, reason=reason), chain[:max_chain_length]
