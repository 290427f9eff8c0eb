"""`Router`: the whole decision as plain, fast Python, step by step.

The routing graph's nodes call these steps one each; :meth:`Router.decide` runs them all
at once for :func:`ragged_graph.route`, which needs no graph and no model server.

The embedded model (provider ``embedded``, see :mod:`ragged_graph.providers.embedded`),
when the registry has it, ends every fallback chain that it can serve; and when no Ollama
host answers, a request it can serve goes straight to it rather than to an assumed model.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ContextOverflowError, NoModelAvailableError
from ragged_graph.providers.embedded import EMBEDDED_PROVIDER
from ragged_graph.registry import ModelRegistry, build_registry
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.registry.hardware import HardwareProfile
from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot
from ragged_graph.routing.classifier import (
    DocumentLike,
    PreparedQuery,
    TaskClassification,
    TaskClassifier,
    prepare_query,
)
from ragged_graph.routing.complexity import ComplexityAnalyser, ComplexityAssessment
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.fallbacks import fallback_chain
from ragged_graph.routing.persona_files import persona_book
from ragged_graph.routing.personas import PersonaOutcome
from ragged_graph.routing.retrieved_context import split_retrieved_context
from ragged_graph.routing.selection import (
    Selection,
    SelectionRequest,
    requirements_for,
    select_model,
)
from ragged_graph.routing.tokens import estimate_request_tokens

__all__ = ["RouteOptions", "Router"]

Documents = Sequence[str | DocumentLike | object]
_Chosen = tuple[Selection, tuple[RegistryEntry, ...], str | None, str | None]
# Distinct selection keys are few (tasks x tiers x options); the bound only guards misuse.
_MEMO_LIMIT = 4096


@dataclass(frozen=True, kw_only=True)
class RouteOptions:
    """Per-request settings that steer a decision."""

    persona: str | None = None
    """The persona to decide for."""
    model: str | None = None
    """An explicit model: chosen whatever the query (it must be known to the registry)."""
    tier: Tier | None = None
    """A forced tier, instead of the one complexity and persona call for."""
    required_capabilities: frozenset[Capability] = frozenset()
    """Capabilities the request needs beyond its task's, e.g. tools when tools are bound."""
    local_only: bool = False
    """Only models on the user's own hardware."""

    def with_capabilities(self, capabilities: frozenset[Capability]) -> RouteOptions:
        return replace(self, required_capabilities=self.required_capabilities | capabilities)


class Router:
    """Decides which model answers a query. Thread-safe; build one and reuse it."""

    def __init__(
        self,
        config: RouterConfig | None = None,
        *,
        registry: ModelRegistry | None = None,
        profile: HardwareProfile | None = None,
    ) -> None:
        self.config = config if config is not None else RouterConfig()
        self.registry = (
            registry if registry is not None else build_registry(self.config, profile=profile)
        )
        self.personas = persona_book(self.config)
        self.classifier = TaskClassifier(self.config.tasks)
        self.analyser = ComplexityAnalyser(self.config.tiers)
        self._memo: dict[tuple[object, ...], _Chosen] = {}
        self._memo_snapshot: RegistrySnapshot | None = None
        self._windows: list[int] = []

    def close(self) -> None:
        self.registry.close()

    # The steps, in graph order.

    def prepare(self, query: str, documents: Documents | None = None) -> PreparedQuery:
        """Ready ``query`` for the steps; retrieved documents formatted into it are split out."""
        split = split_retrieved_context(query)
        if split.documents:
            return prepare_query(split.question, [*(documents or ()), *split.documents])
        return prepare_query(query, documents)

    def classify(self, prepared: PreparedQuery) -> TaskClassification:
        return self.classifier.classify(prepared, prepared.documents)

    def assess(self, prepared: PreparedQuery, task: TaskClassification) -> ComplexityAssessment:
        return self.analyser.assess(prepared, task_type=task)

    def personalise(
        self,
        prepared: PreparedQuery,
        task: TaskClassification,
        assessment: ComplexityAssessment,
        options: RouteOptions,
    ) -> PersonaOutcome:
        return self.personas.apply(
            options.persona,
            task=task,
            assessment=assessment,
            context_tokens=estimate_request_tokens(prepared),
            query=prepared.text,
        )

    def check_persona(self, name: str) -> None:
        """Raise :class:`UnknownPersonaError` (listing the known ones) unless ``name`` exists."""
        self.personas.get(name)

    def select(
        self,
        prepared: PreparedQuery,
        task: TaskClassification,
        assessment: ComplexityAssessment,
        persona: PersonaOutcome,
        options: RouteOptions,
    ) -> RoutingDecision:
        snapshot = self.registry.snapshot()
        wanted = options.tier or persona.tier
        required_context = estimate_request_tokens(prepared)
        request = SelectionRequest(
            task_type=task.task_type,
            tier=wanted,
            required_context=max(required_context, persona.min_context),
            required_capabilities=options.required_capabilities,
            local_only=options.local_only or persona.local_only,
            specialised=persona.specialised,
            preferred_models=persona.preferred_models,
            avoided_models=persona.avoided_models,
            prefer_fast=persona.prefer_fast,
            prefer_cheap=persona.prefer_cheap,
        )
        explicit = options.model is not None
        # A model the persona names ranks below an explicit one (priorities 1, 2 and 4).
        model = options.model if explicit else persona.model
        selection, fallbacks, host_name, base_url = self._chosen(
            snapshot, request, model, explicit=explicit
        )
        card = selection.entry.card
        reason = selection.reason
        if options.tier is not None:
            reason = f"tier forced to {options.tier.value}; {reason}"
        if persona.rule is not None:
            reason = f"{reason}; persona rule {persona.rule}"
        if not snapshot.availability_known and card.provider != EMBEDDED_PROVIDER:
            reason = f"{reason}; no model server answered, so installed models were assumed"
        # Every field comes from validated cards and results: skip re-validating on the hot path.
        return RoutingDecision.model_construct(
            model=card.name,
            provider=card.provider,
            host=host_name,
            base_url=base_url,
            tier=wanted,
            model_tier=card.tier,
            task_type=str(task.task_type),
            task_confidence=task.confidence,
            task_runner_up=task.runner_up,
            complexity=assessment.score,
            complexity_breakdown=dict(assessment.breakdown),
            persona=persona.persona,
            persona_rule=persona.rule,
            reason=reason,
            fallbacks=[entry.name for entry in fallbacks],
            relaxations=list(selection.relaxations),
            required_context=request.required_context,
            availability_assumed=not snapshot.availability_known,
            explicit_model=explicit,
        )

    def decide(
        self,
        query: str,
        *,
        documents: Documents | None = None,
        options: RouteOptions | None = None,
    ) -> RoutingDecision:
        """Every step at once: the decision for ``query``, without calling any model."""
        options = options or RouteOptions()
        prepared = self.prepare(query, documents)
        task = self.classify(prepared)
        assessment = self.assess(prepared, task)
        persona = self.personalise(prepared, task, assessment, options)
        return self.select(prepared, task, assessment, persona, options)

    def _chosen(
        self,
        snapshot: RegistrySnapshot,
        request: SelectionRequest,
        model: str | None,
        *,
        explicit: bool,
    ) -> _Chosen:
        """Selection, fallbacks and host for ``request``, memoised per registry snapshot.

        The outcome depends on the request only through the key below: the context need
        matters only through which context windows can hold it.
        """
        if snapshot is not self._memo_snapshot:
            self._memo = {}
            self._memo_snapshot = snapshot
            self._windows = sorted({entry.card.context_window for entry in snapshot.entries})
        fitting = bisect.bisect_left(self._windows, request.required_context)
        key = (
            request.task_type,
            request.tier,
            request.required_capabilities,
            request.local_only,
            request.specialised,
            request.preferred_models,
            request.avoided_models,
            request.prefer_fast,
            request.prefer_cheap,
            model,
            explicit,
            fitting if fitting < len(self._windows) else request.required_context,
        )
        chosen = self._memo.get(key)
        if chosen is None:
            embedded = _embedded_for(snapshot, request)
            selection = None
            if embedded is not None and model is None and not snapshot.availability_known:
                selection = _offline_selection(snapshot, request, embedded)
            if selection is None:
                selection = self._choose(snapshot, request, model, explicit=explicit)
            fallbacks = fallback_chain(
                selection.entry,
                selection.ranked,
                specialisation=requirements_for(request.task_type).preferred,
                max_length=self.config.fallbacks.max_chain_length,
            )
            if embedded is not None and embedded.name != selection.entry.name:
                # The model that needs no server is the last resort of every chain.
                others = tuple(entry for entry in fallbacks if entry.name != embedded.name)
                fallbacks = (*others, embedded)
            chosen = (selection, fallbacks, *self._host_for(snapshot, selection.entry))
            if len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = chosen
        return chosen

    def _choose(
        self,
        snapshot: RegistrySnapshot,
        request: SelectionRequest,
        model: str | None,
        *,
        explicit: bool,
    ) -> Selection:
        if model is None:
            return select_model(snapshot, request)
        entry = self.registry.get(model)
        try:
            ranked = select_model(snapshot, request).ranked
        except NoModelAvailableError:
            ranked = ()
        installed = entry.installed or not snapshot.availability_known
        note = "" if installed else " (not installed on any host: `ollama pull` it)"
        return Selection(
            entry=entry,
            score=0.0,
            reason=f"{'explicit' if explicit else 'persona'} model {entry.name} requested{note}",
            ranked=(entry, *(e for e in ranked if e.name != entry.name)),
        )

    def host_for(self, name: str) -> tuple[str | None, str | None]:
        """The (host name, base URL) to call ``name`` on, by :meth:`_host_for`'s rule."""
        return self._host_for(self.registry.snapshot(), self.registry.get(name))

    @staticmethod
    def _host_for(
        snapshot: RegistrySnapshot, entry: RegistryEntry
    ) -> tuple[str | None, str | None]:
        if entry.card.provider != "ollama" or not snapshot.hosts:
            return None, None
        # A host with the model loaded answers without a cold start; else one that has it.
        preferred = (*entry.loaded_on, *entry.installed_on)
        by_name = {inventory.host: inventory for inventory in snapshot.hosts}
        host = by_name[preferred[0]] if preferred else snapshot.hosts[0]
        return host.host, host.base_url


def _embedded_for(snapshot: RegistrySnapshot, request: SelectionRequest) -> RegistryEntry | None:
    """The embedded model, when it is a candidate able to serve ``request``."""
    required = requirements_for(request.task_type, request.required_capabilities).required
    for entry in snapshot.candidates:
        card = entry.card
        if card.provider == EMBEDDED_PROVIDER:
            fits = card.context_window >= request.required_context
            return entry if fits and required <= card.capabilities else None
    return None


def _offline_selection(
    snapshot: RegistrySnapshot, request: SelectionRequest, embedded: RegistryEntry
) -> Selection | None:
    """The embedded model chosen because no Ollama host answered (None if it cannot serve)."""
    only_embedded = snapshot.model_copy(update={"candidates": (embedded,)})
    try:
        selection = select_model(only_embedded, request)
    except (NoModelAvailableError, ContextOverflowError):
        return None
    reason = (
        f"no Ollama server answered, so the embedded model {embedded.name} answers "
        f"in-process; {selection.reason}"
    )
    return replace(selection, reason=reason)
