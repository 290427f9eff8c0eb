"""`Router`: the whole decision as plain, fast Python, step by step.

The routing graph's nodes call these steps one each; :meth:`Router.decide` runs them all
at once for :func:`ragged_graph.route`, which needs no graph and no model server.

The embedded model (provider ``embedded``, see :mod:`ragged_graph.providers.embedded`),
when the registry has it, ends every fallback chain that it can serve. When no Ollama host
answers, a request goes straight to a model that needs none rather than to an assumed Ollama
model: the embedded model, or a cloud model where the request may leave the machine (the
usual scoring chooses between them: a hard query goes to the cloud, a private one stays).

Cost, latency and privacy (see :mod:`~ragged_graph.routing.costs`,
:mod:`~ragged_graph.routing.latency`, :mod:`~ragged_graph.routing.privacy`): when a cloud
model could be chosen, what the request would send is scanned for personal data and secrets,
and a request holding any (or a document marked private) goes to local models only, an
explicit cloud model included. A request's ``cost_limit`` and the budgets' remainder, its
``latency_limit`` and ``optimise`` mode steer selection through per-candidate estimates.
Every decision carries the chosen model's estimated cost and predicted latency.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ContextOverflowError, NoModelAvailableError
from ragged_graph.providers.embedded import EMBEDDED_PROVIDER
from ragged_graph.registry import ModelRegistry, build_registry
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.registry.hardware import HardwareProfile
from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot
from ragged_graph.routing.classifier import TaskClassification, TaskClassifier
from ragged_graph.routing.complexity import ComplexityAnalyser, ComplexityAssessment
from ragged_graph.routing.costs import (
    NO_COST_LIMIT,
    BudgetLimits,
    CostLimit,
    SpendLedger,
    cost_limit_for,
    is_priced,
    prices_per_mtok,
)
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.domains import DomainMatch, DomainSelector
from ragged_graph.routing.ensemble import EnsemblePlan, Role, RoleChoice, role_request
from ragged_graph.routing.fallbacks import fallback_chain
from ragged_graph.routing.fleet import NO_SIGNALS, HostChoice, HostSignals, choose_host, rank_hosts
from ragged_graph.routing.latency import (
    NO_STATS,
    LatencyRates,
    LatencyStats,
    expected_output_tokens,
    latency_rates,
)
from ragged_graph.routing.learned_strategy import LearnedStrategySelector
from ragged_graph.routing.persona_files import persona_book
from ragged_graph.routing.personas import PersonaOutcome
from ragged_graph.routing.privacy import NOTHING_FOUND, PrivacyScan, scan_request
from ragged_graph.routing.query_text import (
    DocumentLike,
    PreparedQuery,
    document_text,
    prepare_query,
)
from ragged_graph.routing.retrieved_context import split_retrieved_context
from ragged_graph.routing.selection import (
    Estimate,
    Optimise,
    Selection,
    SelectionRequest,
    requirements_for,
    select_model,
)
from ragged_graph.routing.task_model import load_task_model
from ragged_graph.routing.tier_model import load_tier_model
from ragged_graph.routing.tokens import (
    ANSWER_TOKEN_RESERVE,
    estimate_request_tokens,
    estimate_tokens,
)

__all__ = ["RouteOptions", "Router"]

Documents = Sequence[str | DocumentLike | object]
_Chosen = tuple[Selection, tuple[RegistryEntry, ...], str | None, str | None]
_Memoised = tuple[Selection, tuple[RegistryEntry, ...]]
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
    cost_limit: float | None = None
    """The most this request may cost, in US dollars (None: no limit but the budgets)."""
    latency_limit: float | None = None
    """The longest this request should take, in seconds, by prediction (None: no limit)."""
    optimise: Optimise = "quality"
    """What to favour: the best fit (``quality``), the fastest answer, or the cheapest."""
    session_id: str | None = None
    """The session the request belongs to, for the per-session budget."""
    max_tokens: int | None = None
    """The most tokens the answer may have (caps the expected output length)."""

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
        self.classifier = TaskClassifier(
            self.config.tasks, task_model=load_task_model(self.config.learning.task_model)
        )
        self.analyser = ComplexityAnalyser(
            self.config.tiers, tier_model=load_tier_model(self.config.learning.tier_model)
        )
        self.learned_strategy = LearnedStrategySelector(self.config)
        self.domains = DomainSelector(self.config.domains, self.config.fallbacks.max_chain_length)
        self._memo: dict[tuple[object, ...], _Memoised] = {}
        self._last_prepared: tuple[str, tuple[str, ...], PreparedQuery] | None = None
        self._memo_snapshot: RegistrySnapshot | None = None
        self._windows: list[int] = []
        self._cloud_possible = False
        self._priced_possible = False
        self._local_cost = self.config.local_cost_per_million
        self._cold_load_s_per_gb = self.config.latency.cold_load_s_per_gb
        budgets = self.config.budgets
        self.budgets = BudgetLimits(daily_usd=budgets.daily, per_session_usd=budgets.per_session)
        """The spend caps from the config's ``budgets:``."""
        self.spend = SpendLedger()
        """Spend today and per session (the history's baseline plus this process's)."""
        self.latency_stats: LatencyStats = NO_STATS
        """Learned speeds per model; replaced whole by the history's learner."""
        # Per model: (latency rates, input and output price per token), for the snapshot and
        # the learned stats they were worked out under.
        self._rates: dict[str, tuple[LatencyRates, float, float]] = {}
        self._rates_stats: LatencyStats | None = None
        self.host_signals: HostSignals = NO_SIGNALS
        """Live load and health of the Ollama hosts, for the host choice
        (:mod:`~ragged_graph.routing.fleet`); set by the services that call the models."""

    def close(self) -> None:
        self.registry.close()

    # The steps, in graph order.

    def prepare(self, query: str, documents: Documents | None = None) -> PreparedQuery:
        """Ready ``query`` for the steps; retrieved documents formatted into it are split out."""
        texts = tuple(document_text(document) for document in documents) if documents else ()
        last = self._last_prepared
        if last is not None and last[0] == query and last[1] == texts:
            return last[2]
        split = split_retrieved_context(query)
        if split.documents:
            prepared = prepare_query(split.question, [*texts, *split.documents])
        else:
            prepared = prepare_query(query, texts)
        # The graph's nodes each prepare their run's query: keeping the last one (immutable)
        # lets a run prepare it once. One tuple, replaced whole, so threads may share it.
        self._last_prepared = (query, texts, prepared)
        return prepared

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
        *,
        privacy: PrivacyScan | None = None,
        domain: DomainMatch | None = None,
    ) -> RoutingDecision:
        """The decision. ``privacy`` is the scan of everything the request sends (see
        :meth:`screen`); without it, the scanned part of the query and the documents are.
        ``domain`` is the request's subject domain, found by :meth:`recognise_domain` over
        everything the request sends (None: it is in none)."""
        snapshot = self.registry.snapshot()
        self._refresh(snapshot)
        wanted = options.tier or persona.tier
        required_context = estimate_request_tokens(prepared)
        asked_local = options.local_only or persona.local_only
        if privacy is None:
            privacy = self.screen([prepared.text], prepared.documents, local_only=asked_local)
        local_only = asked_local or privacy.found
        input_tokens = max(0, required_context - ANSWER_TOKEN_RESERVE)
        output_tokens = expected_output_tokens(
            str(task.task_type), input_tokens=input_tokens, max_tokens=options.max_tokens
        )
        limit = self._cost_limit(options)
        constrained = (
            (limit.limit_usd is not None and self._priced_possible)
            or options.latency_limit is not None
            or options.optimise != "quality"
        )
        estimates = (
            self._estimates(snapshot, local_only, input_tokens, output_tokens)
            if constrained
            else None
        )
        request = SelectionRequest(
            task_type=task.task_type,
            tier=wanted,
            required_context=max(required_context, persona.min_context),
            required_capabilities=options.required_capabilities,
            local_only=local_only,
            specialised=persona.specialised,
            preferred_models=persona.preferred_models,
            avoided_models=persona.avoided_models,
            prefer_fast=persona.prefer_fast,
            prefer_cheap=persona.prefer_cheap,
            optimise=options.optimise,
            cost_limit_usd=limit.limit_usd if estimates is not None else None,
            cost_limit_reason=limit.detail,
            latency_limit_ms=(
                options.latency_limit * 1000 if options.latency_limit is not None else None
            ),
            estimates=estimates,
        )
        explicit = options.model is not None
        # A model the persona names ranks below an explicit one (priorities 1, 2 and 4).
        model = options.model if explicit else persona.model
        refused = None
        if model is not None and local_only and not self.registry.get(model).card.local:
            # Nothing that must stay here goes to a cloud model, whoever named it.
            refused, model, explicit = model, None, False
        selection, fallbacks, host_name, base_url = self._chosen(
            snapshot, request, model, explicit=explicit, memo=estimates is None
        )
        rules_choice = selection.entry
        if model is None:
            refined = (
                self.domains.refine(snapshot, request, selection, fallbacks, domain)
                if domain is not None
                else None
            )
            if refined is not None:
                selection, fallbacks = refined
            else:
                domain = None
                if self.learned_strategy.active:
                    selection, fallbacks = self.learned_strategy.refine(
                        selection, fallbacks, query=prepared.text, breakdown=assessment.breakdown
                    )
            if selection.entry is not rules_choice:
                host_name, base_url = self._host_for(snapshot, selection.entry)
        else:
            domain = None  # a named model answers, whatever the domain
        card = selection.entry.card
        reason = selection.reason
        if options.tier is not None:
            reason = f"tier forced to {options.tier.value}; {reason}"
        if persona.rule is not None:
            reason = f"{reason}; persona rule {persona.rule}"
        if privacy.found:
            reason = f"{reason}; kept on local models: the request holds {privacy.describe()}"
        if refused is not None:
            reason = f"{reason}; {refused} is a cloud model, so it was not used"
        if limit.over_budget and estimates is not None:
            reason = f"{reason}; over budget ({limit.detail}), so only free models qualify"
        for note in selection.limited:
            reason = f"{reason}; {note}"
        if not snapshot.availability_known and card.local and card.provider != EMBEDDED_PROVIDER:
            reason = f"{reason}; no model server answered, so installed models were assumed"
        if estimates is not None and card.name in estimates:
            estimate = estimates[card.name]
            cost = estimate.cost_usd
            first_ms, total_ms = estimate.latency.first_token_ms, estimate.latency.total_ms
        else:
            cost, first_ms, total_ms = self._figures(selection.entry, input_tokens, output_tokens)
        # Validating is cheaper than model_construct here (pydantic-core's validator against
        # a Python loop over the 28 fields), and it checks the fields besides.
        return RoutingDecision(
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
            local_only=local_only,
            privacy=list(privacy.kinds),
            domain=domain.domain if domain is not None else None,
            optimise=options.optimise,
            estimated_cost_usd=cost,
            predicted_latency_ms=total_ms,
            predicted_first_token_ms=first_ms,
            cost_limit_usd=limit.limit_usd,
            latency_limit_s=options.latency_limit,
        )

    def recognise_domain(
        self, texts: Iterable[str], documents: Iterable[object] = ()
    ) -> DomainMatch | None:
        """The subject domain of a request (message texts and retrieved documents, whose
        collections count), among those some model serves; None if none."""
        snapshot = self.registry.snapshot()
        matcher = self.domains.matcher(snapshot)
        return matcher.match(texts, documents) if matcher.active else None

    def screen(
        self, texts: Iterable[str], documents: Iterable[object] = (), *, local_only: bool = False
    ) -> PrivacyScan:
        """The privacy scan of what a request sends (message texts and documents), when it
        matters: only while a cloud model could be chosen and the request is not local-only
        already (otherwise nothing is scanned, and nothing reported)."""
        if local_only:
            return NOTHING_FOUND
        snapshot = self.registry.snapshot()
        self._refresh(snapshot)
        if not self._cloud_possible:
            return NOTHING_FOUND
        return scan_request(texts, documents)

    def _cost_limit(self, options: RouteOptions) -> CostLimit:
        if options.cost_limit is None and not self.budgets.any:
            return NO_COST_LIMIT
        return cost_limit_for(options.cost_limit, self.budgets, self.spend, options.session_id)

    def _rates_for(self, entry: RegistryEntry) -> tuple[LatencyRates, float, float]:
        """``entry``'s latency rates and per-token prices, worked out once per snapshot."""
        stats = self.latency_stats
        if stats is not self._rates_stats:
            self._rates = {}
            self._rates_stats = stats
        rates = self._rates.get(entry.name)
        if rates is None:
            card = entry.card
            latency = latency_rates(
                card,
                speed=stats.speed_for(card),
                loaded=bool(entry.loaded_on) or card.provider != "ollama",
                cold_load_s_per_gb=self._cold_load_s_per_gb,
            )
            price_in, price_out = prices_per_mtok(card, self._local_cost)
            rates = (latency, price_in / 1_000_000, price_out / 1_000_000)
            self._rates[entry.name] = rates
        return rates

    def _figures(
        self, entry: RegistryEntry, input_tokens: int, output_tokens: int
    ) -> tuple[float, float, float]:
        """``(cost, first token ms, total ms)`` of a request on ``entry``'s model."""
        latency, price_in, price_out = self._rates_for(entry)
        first, total = latency.times_ms(input_tokens, output_tokens)
        cost = input_tokens * price_in + output_tokens * price_out
        return cost, round(first, 1), round(total, 1)

    def _estimate(self, entry: RegistryEntry, input_tokens: int, output_tokens: int) -> Estimate:
        latency, price_in, price_out = self._rates_for(entry)
        return Estimate(
            cost_usd=input_tokens * price_in + output_tokens * price_out,
            latency=latency.predict(input_tokens, output_tokens),
        )

    def _estimates(
        self, snapshot: RegistrySnapshot, local_only: bool, input_tokens: int, output_tokens: int
    ) -> dict[str, Estimate]:
        return {
            entry.name: self._estimate(entry, input_tokens, output_tokens)
            for entry in snapshot.candidates
            if entry.card.local or not local_only
        }

    def _refresh(self, snapshot: RegistrySnapshot) -> None:
        """Reset what is kept per registry snapshot when the snapshot changed."""
        if snapshot is self._memo_snapshot:
            return
        self._memo = {}
        self._rates = {}
        self._windows = sorted({entry.card.context_window for entry in snapshot.entries})
        self._cloud_possible = any(not entry.card.local for entry in snapshot.candidates)
        self._priced_possible = any(
            is_priced(entry.card, self._local_cost) for entry in snapshot.candidates
        )
        self._memo_snapshot = snapshot

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
        privacy = self.screen(
            [query], documents or (), local_only=options.local_only or persona.local_only
        )
        domain = self.recognise_domain([query], documents or ())
        return self.select(
            prepared, task, assessment, persona, options, privacy=privacy, domain=domain
        )

    def plan_ensemble(
        self,
        prepared: PreparedQuery,
        decision: RoutingDecision,
        *,
        reason: str,
        rewrite: bool = True,
        escalate: bool = True,
    ) -> EnsemblePlan:
        """The models of the ensemble's roles around ``decision``'s primary (see
        :mod:`~ragged_graph.routing.ensemble`), each with its fallback chain."""
        snapshot = self.registry.snapshot()
        question_tokens = estimate_tokens(prepared.length)

        def choose(role: Role) -> RoleChoice | None:
            request = role_request(
                role,
                task_type=decision.task_type,
                required_context=decision.required_context,
                question_tokens=question_tokens,
                local_only=decision.local_only,
                primary=decision.model,
            )
            try:
                selection, fallbacks, _host, _url = self._chosen(
                    snapshot, request, None, explicit=False
                )
            except (NoModelAvailableError, ContextOverflowError):
                return None
            if role is Role.ESCALATION and selection.entry.name == decision.model:
                return None  # no other model: asking the primary again would change nothing
            return RoleChoice(
                role=role,
                model=selection.entry.name,
                provider=selection.entry.card.provider,
                model_tier=selection.entry.card.tier,
                fallbacks=tuple(entry.name for entry in fallbacks),
                reason=selection.reason,
            )

        return EnsemblePlan(
            reason=reason,
            rewriter=choose(Role.REWRITER) if rewrite else None,
            verifier=choose(Role.VERIFIER),
            escalation=choose(Role.ESCALATION) if escalate else None,
        )

    def _chosen(
        self,
        snapshot: RegistrySnapshot,
        request: SelectionRequest,
        model: str | None,
        *,
        explicit: bool,
        memo: bool = True,
    ) -> _Chosen:
        """Selection, fallbacks and host for ``request``; the first two memoised per registry
        snapshot (unless ``memo`` is False: limits and estimates vary per request), the host
        chosen afresh, by the hosts' live load.

        The outcome depends on the request only through the key below: the context need
        matters only through which context windows can hold it.
        """
        self._refresh(snapshot)
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
        chosen = self._memo.get(key) if memo else None
        if chosen is None:
            embedded = _embedded_for(snapshot, request)
            selection = None
            if model is None and not snapshot.availability_known:
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
            chosen = (selection, fallbacks)
            if memo and len(self._memo) < _MEMO_LIMIT:
                self._memo[key] = chosen
        return (*chosen, *self._host_for(snapshot, chosen[0].entry))

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

    def host_for(
        self, name: str, *, exclude: Collection[str] = ()
    ) -> tuple[str | None, str | None]:
        """The (host name, base URL) to call ``name`` on, by the fleet rule
        (:mod:`~ragged_graph.routing.fleet`), leaving out the hosts in ``exclude``; with every
        host holding it excluded, ``(None, None)``."""
        return self._host_for(self.registry.snapshot(), self.registry.get(name), exclude=exclude)

    def hosts_for(self, name: str, *, exclude: Collection[str] = ()) -> tuple[HostChoice, ...]:
        """Every host ``name`` can be called on, best first, with what ranked each."""
        snapshot = self.registry.snapshot()
        entry = self.registry.get(name)
        return rank_hosts(snapshot, entry, self.host_signals, exclude=exclude)

    def _host_for(
        self, snapshot: RegistrySnapshot, entry: RegistryEntry, *, exclude: Collection[str] = ()
    ) -> tuple[str | None, str | None]:
        if entry.card.provider != "ollama" or not snapshot.hosts:
            return None, None
        if len(snapshot.hosts) == 1 and not exclude:
            # One host: whatever the ranking says (even cooling down), the call goes there.
            only = snapshot.hosts[0]
            return only.host, only.base_url
        choice = choose_host(snapshot, entry, self.host_signals, exclude=exclude)
        if choice is not None:
            return choice.host, choice.base_url
        if exclude:
            return None, None
        # Installed nowhere (an explicit model not pulled): the first host says so (404).
        first = snapshot.hosts[0]
        return first.host, first.base_url


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
    snapshot: RegistrySnapshot, request: SelectionRequest, embedded: RegistryEntry | None
) -> Selection | None:
    """The choice among models that need no Ollama host, because none answered: the embedded
    model and, unless the request must stay local, the cloud models (None if none serves)."""
    serverless = [embedded] if embedded is not None else []
    if not request.local_only:
        serverless += [entry for entry in snapshot.candidates if not entry.card.local]
    if not serverless:
        return None
    reachable = snapshot.model_copy(update={"candidates": tuple(serverless)})
    try:
        selection = select_model(reachable, request)
    except (NoModelAvailableError, ContextOverflowError):
        return None
    chosen = selection.entry
    how = (
        f"the embedded model {chosen.name} answers in-process"
        if embedded is not None and chosen.name == embedded.name
        else f"the cloud model {chosen.name} answers"
    )
    return replace(selection, reason=f"no Ollama server answered, so {how}; {selection.reason}")
