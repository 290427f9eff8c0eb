"""How hard a query is: a 0-10 score with a breakdown by dimension, and the tier it calls for.

The score is a task prior plus a weighted sum of dimensions, each measured from 0 to 1::

    score = task_prior[task] + sum(weight[d] * value[d] for d in dimensions)    (clamped 0-10)

=================== ====== ===============================================================
dimension           weight what raises it
=================== ====== ===============================================================
reasoning_depth      +3.4  proofs, derivations, analysis, trade-offs, design, "why"
domain_specificity   +2.8  expert vocabulary (consensus, eigenvalue, GDPR, iambic...)
structure            +1.6  a multi-part instruction: clauses, lists, several questions
constraints          +1.4  requirements the answer must meet (exactly, preserving, strict)
output_detail        +1.6  asks for a long or thorough answer (comprehensive, with tests)
context_need         +1.2  retrieved documents to combine, contradictions to reconcile
volume               task  the amount of material to work through (see below)
brevity              -1.6  asks for a short answer (one sentence, TL;DR, quick)
=================== ====== ===============================================================

``volume`` matters by task: translating a long text is real work, finding the one fact a
long paste mentions is not, so its weight comes from :attr:`ComplexityWeights.volume_weights`.
Only the instruction counts for ``structure``: a long pasted paragraph makes a query long,
not hard. The weights above and the task priors were calibrated on the tuning split of the
golden set (:mod:`ragged_graph.learning.golden`); :data:`DEFAULT_WEIGHTS` holds them.

Tiers follow :class:`TierThresholds`: below ``fast_below`` fast, below ``balanced_below``
balanced, else quality (SPEC section 2: 3.5 and 7.0 by default).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ragged_graph.routing.classifier import (
    DocumentLike,
    PreparedQuery,
    TaskClassification,
    WeightedPatterns,
    prepare_query,
)
from ragged_graph.routing.task_types import TaskType

if TYPE_CHECKING:
    from ragged_graph.registry.cards import Tier

__all__ = [
    "DEFAULT_WEIGHTS",
    "DIMENSIONS",
    "ComplexityAnalyser",
    "ComplexityAssessment",
    "ComplexityWeights",
    "TierThresholds",
]

DIMENSIONS: Final = (
    "reasoning_depth",
    "domain_specificity",
    "structure",
    "constraints",
    "output_detail",
    "context_need",
    "volume",
    "brevity",
)
"""The dimensions of the breakdown, in the order they are reported."""


@cache
def _tiers() -> tuple[Tier, Tier, Tier]:
    # Imported on first use, not at module level: importing ragged_graph.registry imports
    # the config module, which imports TierThresholds from here.
    from ragged_graph.registry.cards import Tier

    return Tier.FAST, Tier.BALANCED, Tier.QUALITY


class TierThresholds(BaseModel):
    """Where the complexity score switches tiers."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    fast_below: float = Field(default=3.5, ge=0, le=10)
    """Scores below this call for the fast tier."""

    balanced_below: float = Field(default=7.0, ge=0, le=10)
    """Scores below this (and at least ``fast_below``) call for the balanced tier; the rest
    for quality."""

    @model_validator(mode="after")
    def _ordered(self) -> TierThresholds:
        if not self.fast_below < self.balanced_below:
            raise ValueError(
                f"fast_below ({self.fast_below}) must be less than balanced_below "
                f"({self.balanced_below})"
            )
        return self

    def tier_for(self, score: float) -> Tier:
        """The tier a complexity score calls for."""
        fast, balanced, quality = _tiers()
        if score < self.fast_below:
            return fast
        if score < self.balanced_below:
            return balanced
        return quality


class ComplexityWeights(BaseModel):
    """The calibrated numbers behind the score (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    dimension_weights: dict[str, float]
    """Points each dimension adds at its full value of 1 (``volume`` excepted)."""

    task_priors: dict[str, float]
    """Points every query of a task type starts with."""

    default_task_prior: float = Field(default=2.5, ge=0, le=10)
    """Starting points for task types without a prior (custom ones) or when none is given."""

    volume_weights: dict[str, float]
    """Points ``volume`` adds at its full value, by task type."""

    default_volume_weight: float = 1.0
    """``volume`` weight for task types missing from ``volume_weights``."""

    @model_validator(mode="after")
    def _known_dimensions(self) -> ComplexityWeights:
        unknown = set(self.dimension_weights) - set(DIMENSIONS)
        if unknown:
            raise ValueError(
                f"unknown complexity dimensions {sorted(unknown)}; expected some of {DIMENSIONS}"
            )
        return self


DEFAULT_WEIGHTS: Final = ComplexityWeights(
    dimension_weights={
        "reasoning_depth": 5.6,
        "domain_specificity": 4.7,
        "structure": 2.6,
        "constraints": 2.05,
        "output_detail": 3.6,
        "context_need": 1.65,
        "brevity": -1.6,
    },
    task_priors={
        TaskType.CODE_GENERATION: 3.35,
        TaskType.MATH: 3.1,
        TaskType.REASONING: 1.0,
        TaskType.SUMMARISATION: 2.25,
        TaskType.CREATIVE: 3.15,
        TaskType.EXTRACTION: 2.75,
        TaskType.TRANSLATION: 2.75,
        TaskType.QUERY_REWRITING: 3.0,
        TaskType.RAG_QUERY: 2.2,
        TaskType.GENERAL_QA: 2.25,
    },
    volume_weights={
        TaskType.TRANSLATION: 3.0,
        TaskType.SUMMARISATION: 2.25,
        TaskType.EXTRACTION: 0.6,
        TaskType.CODE_GENERATION: 1.1,
        TaskType.CREATIVE: 1.0,
        TaskType.GENERAL_QA: 0.3,
    },
    default_volume_weight=0.4,
)
"""Weights and priors calibrated on the golden set's tuning split."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ComplexityAssessment:
    """How hard a query is, why, and which tier that calls for."""

    score: float
    """Complexity from 0 (trivial) to 10 (hardest), rounded to two decimals."""

    tier: Tier
    """The tier the score calls for under the analyser's thresholds."""

    breakdown: Mapping[str, float]
    """Each dimension's value from 0 to 1 (see :data:`DIMENSIONS`)."""

    task_prior: float
    """The points the task type contributed before any dimension."""

    reason: str
    """The strongest contributions, in words."""


# --------------------------------------------------------------------------- dimension patterns

_REASONING_DEPTH: Final = WeightedPatterns(
    (
        (
            r"\b(?:prove|proof|derive|demonstrate that|show that|rigorous\w*|first principles|"
            r"justify\w*|critically|steelman|second[- ]order|trade-?offs?|implications|"
            r"root causes?|decision framework|scenarios|failure modes|threats? to validity|"
            r"apprais\w+|causal\w*|design(?:ing)? (?:a|an|the)|architect\w*|reason through|"
            r"think through|reconcil\w*|contradict\w*|evaluat\w+|assess\w*|"
            r"analy[sz](?:e|es|ed|ing|is)|"
            r"what would happen|consequences|strateg\w+|undecidable|deduction)\b",
            1.0,
        ),
        (r"\bstep[- ]by[- ]step\b|\bexplain (?:each|every|why|how|your)\b|\bwhy\b|\bwarum\b|"
         r"\bpourquoi\b|\bpor qué\b|\bperché\b|为什么|なぜ", 0.5),
        (
            r"\b(?:compare|comparison|versus|vs\.?|pros and cons|differences? between|"
            r"difference|explain|how does|how do (?!i\b)|plan|decide|should (?:i|we)|"
            r"considering|balancing|impact|effects? (?:of|on)|optimi[sz]\w*|diagnos\w*|"
            r"interpret\w*|in common|weigh\w*|decompose|is it better|better to|"
            r"worth it)\b",
            0.5,
        ),
        (r"\b(?:what if|how would|how should|could|would|whether)\b", 0.25),
        (r"\b(?:demuestra|démontre|beweise|analiza\w*|diseña\w*|analysier\w*)\b|证明|分析", 1.0),
    )
)

_DOMAIN_TERMS: Final = WeightedPatterns(
    tuple(
        (terms, 1.0)
        for terms in (
            # distributed systems and concurrency
            r"\b(?:distributed|consensus|byzantine|raft|paxos|crdts?|lock-free|wait-free|"
            r"linearizab\w*|serializab\w*|multi-region|active-active|failover)\b",
            r"\b(?:atomics?|memory ordering|memory model|concurren\w+|race conditions?|"
            r"fault[- ]toleran\w+|(?:byzantine )?faults?|"
            r"deadlocks?|mutex\w*|thread[- ]safe|multi-producer)\b",
            r"\b(?:partition\w*|replication|sharding|consistency|eventual consistency|"
            r"idempoten\w+|exactly-once|at-least-once|write-ahead|heartbeats?|leader election|"
            r"backoff|rate limit\w*)\b",
            r"\b(?:latency|throughput|p99|scalab\w+|occupancy|shared memory|simd|cuda|kernel)\b",
            r"\b(?:garbage collect\w*|write barriers?|bytecode|interpreter|parser|compiler|"
            r"tokenizer|closures|b-?tree|lru|o\(1\)|o\(n|big-o|np-hard|np-complete|halting)\b",
            r"\b(?:quicksort|quick sort|merge ?sort|heapsort|radix sort|dijkstra|a\*|"
            r"dynamic programming|hash tables?|red-black|time complexity|space complexity|"
            r"algorithms?|data structures?|recursion)\b",
            r"\b(?:microservices?|monolith|event sourcing|cqrs|cache invalidation|query plan|"
            r"transaction isolation|mvcc|load balanc\w+|cap theorem|spanner|redis)\b",
            r"\b(?:cryptograph\w*|public key|zero-knowledge|homomorphic|differential privacy|"
            r"oauth|tls|embedding|transformer|backprop\w*|gradient)\b",
            # mathematics
            r"\b(?:eigen\w*|integrals?|derivatives?|differential equations?|theorem|lemma|"
            r"abelian|group of order|topolog\w*|manifold|irrational|induction|"
            r"generating functions?)\b",
            r"\b(?:converg\w+|diverg\w+|completeness axiom|continuous function|compact|"
            r"bounded|monotone|measure theory|fourier|laplace|stochastic|markov|"
            r"real analysis|number theory|modular arithmetic|combinatori\w+|asymptotic\w*|"
            r"primes|harmonic series)\b",
            r"\b(?:bayes\w*|posterior|frequentist|hypothesis test\w*|p-values?|regression|"
            r"covariance|standard deviation|variance|probability|expected (?:number|value))\b",
            # economics, finance, policy
            r"\b(?:macroeconom\w*|inflation|monetary policy|fiscal|stagflation|labou?r supply|"
            r"land value tax|universal basic income|carbon border|carbon leakage|wto|tariffs?|"
            r"geopolit\w*|trade routes?|global trade)\b",
            r"\b(?:runway|churn|unit economics|valuation|discounted cash flow|hedg\w+|"
            r"bull case|bear case|liquidity|solvency|supply chains?|gross margin|guidance)\b",
            # law
            r"\b(?:gdpr|article \d+|statut\w+|liabilit\w+|indemn\w+|liquidated damages|"
            r"jurisdiction|civil law|common law|case law|tort|patent|claim scope|fiduciary|"
            r"compliance|regulatory|erasure|data protection|legal(?:ly)? (?:equivalent|"
            r"position|terminology)|exemptions?)\b",
            # medicine and science
            r"\b(?:clinical|pharmacolog\w*|adverse[- ]event|drug interactions?|contraindicat\w*|"
            r"confound\w*|randomi[sz]ed|meta-analys\w+|effect sizes?|cohort|placebo|"
            r"statistical validity|systematic[- ]review|mesh|emtree|epidemiolog\w*|"
            r"treatment-resistant|mechanisms?|who-umc|causality)\b",
            r"\b(?:crispr|genom\w+|protein folding|quantum|relativity|thermodynamic\w*|entropy|"
            r"electrolytes?|solid-state|semiconductor\w*|extinction|climate (?:model|change)|"
            r"sea levels?|longevity)\b",
            # humanities and craft
            r"\b(?:epistemolog\w*|ontolog\w*|metaphysic\w*|utilitarian\w*|kant\w*|"
            r"deontolog\w*|phenomenolog\w*|socratic|governance|alignment)\b",
            r"\b(?:iambic|pentameter|acrostic|villanelle|alexandrine|rhyme scheme|keigo|"
            r"register|unreliable narrator|subtext|foreshadowing|allusions?|literary|"
            r"refrains?|world-?building|character arcs?)\b",
        )
    ),
    count_distinct=True,
)

_CONSTRAINTS: Final = WeightedPatterns(
    (
        (r"\b(?:must|exactly|strict(?:ly)?|preserv\w+|faithful\w*|equivalent|legally|"
         r"correct under|follows? the form|o\(\w|thread[- ]safe|lock-free|idiomatic)\b", 0.6),
        (r"\b(?:without|keep(?:ing)? (?:it|the|every|code)|only|at least|at most|no more than|"
         r"under \d+|within \d+|consistent|typed|type hints|in the style of|that also|"
         r"as closely as|across multiple)\b", 0.4),
        (r"\b\d+ (?:lines|characters|syllables|words|minutes)\b|\b\d{3,} words\b", 0.6),
        (r"\b(?:each|every|all)\b", 0.3),
    )
)

_OUTPUT_DETAIL: Final = WeightedPatterns(
    (
        (r"\b(?:in detail|detailed|comprehensive|thorough\w*|in[- ]depth|exhaustive|"
         r"expert(?:-level)?|essay|report|chapters?|bible|full working|complete|full|"
         r"timeline|season|episodes?|screenplay|novel)\b", 1.0),
        (r"\b(?:outline|with tests|unit tests|tests|benchmark\w*|(?:in|as|into) a table|json|"
         r"explain (?:your|the|each|every|how|why)|and explain|discuss|document|structured|"
         r"examples?|bullet points|show the|step by step|translator'?s notes|quotes|"
         r"evidence|propose|draft)\b", 0.5),
        (r"\b(?:paragraphs?|overview|history of|story|what are (?:the|some)|tell me about)\b", 0.3),
        (
            r"\b(?:write|implement|build|create|make|generate)\b[^.?!\n]{0,40}\b(?:functions?|"
            r"class|component|program|script|app|service|tests?|parser|interpreter|kernel|"
            r"engine|queue|cache|tree)\b",
            0.5,
        ),
    )
)

_BREVITY: Final = WeightedPatterns(
    (
        (r"\b(?:one sentence|one line|one[- ]liner|one word|single word|tl;?dr|tldr|"
         r"in a nutshell|two sentences|yes or no|few words|\d+ words or less)\b", 1.0),
        (r"\b(?:briefly|brief|short|quick(?:ly)?|simple|simply|eli5|gist|tweet|captions?|"
         r"just|haiku|limerick|slogan|tagline|joke|names? for|command|(?:one|two|three|four|"
         r"\d) lines?)\b", 0.5),
        (r"\b(?:how do i|how to|how can i|what does)\b", 0.3),
    )
)

_SYNTHESIS: Final = WeightedPatterns(
    (
        (r"\b(?:across|between (?:these|the)|reconcil\w*|contradict\w*|conflicting|"
         r"disagree\w*|differ|compare|in common|both|each (?:study|document|source|report))\b",
         0.5),
        (r"\b(?:these|the) (?:two|three|four|\d+) (?:studies|documents|reports|sources|papers|"
         r"incidents)\b", 0.5),
    )
)

_ACRONYM: Final = re.compile(r"\b[A-Z][A-Z0-9]{1,6}\b")
_LIST_ITEM: Final = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+\S", re.MULTILINE)
_COMMON_ACRONYMS: Final = frozenset({"I", "OK", "US", "UK", "EU", "TV", "PM", "AM", "ID"})
_CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _saturate(raw: float, rate: float = 1.0) -> float:
    """Map an open-ended evidence count onto 0-1, with diminishing returns."""
    return 1.0 - math.exp(-rate * raw) if raw > 0 else 0.0


class ComplexityAnalyser:
    """Scores how hard a query is (0-10) and maps the score onto a tier.

    ``thresholds`` decide the tiers; ``weights`` the score (default: calibrated values).
    """

    __slots__ = ("_prior", "_thresholds", "_volume", "_weights")

    def __init__(
        self,
        thresholds: TierThresholds | None = None,
        *,
        weights: ComplexityWeights | None = None,
    ) -> None:
        self._thresholds = thresholds or TierThresholds()
        self._weights = weights or DEFAULT_WEIGHTS
        self._prior = self._weights.task_priors
        self._volume = self._weights.volume_weights

    @property
    def thresholds(self) -> TierThresholds:
        """The thresholds that map scores onto tiers."""
        return self._thresholds

    @property
    def weights(self) -> ComplexityWeights:
        """The weights and priors behind the score."""
        return self._weights

    def assess(
        self,
        query: str | PreparedQuery,
        *,
        task_type: str | TaskClassification | None = None,
        documents: Sequence[str | DocumentLike | object] | None = None,
    ) -> ComplexityAssessment:
        """Score ``query``; ``task_type`` (or a classification) selects the task prior."""
        prepared = query if isinstance(query, PreparedQuery) else prepare_query(query, documents)
        task = task_type.task_type if isinstance(task_type, TaskClassification) else task_type
        breakdown = self.breakdown(prepared)
        weights = self._weights
        prior = (
            self._prior.get(task, weights.default_task_prior)
            if task is not None
            else weights.default_task_prior
        )
        contributions: dict[str, float] = {}
        for dimension, value in breakdown.items():
            if dimension == "volume":
                weight = (
                    self._volume.get(task, weights.default_volume_weight)
                    if task is not None
                    else weights.default_volume_weight
                )
            else:
                weight = weights.dimension_weights.get(dimension, 0.0)
            contributions[dimension] = weight * value
        raw = prior + sum(contributions.values())
        score = round(min(10.0, max(0.0, raw)), 2)
        tier = self._thresholds.tier_for(score)
        return ComplexityAssessment(
            score=score,
            tier=tier,
            breakdown=MappingProxyType(breakdown),
            task_prior=prior,
            reason=_reason(score, tier, task, prior, contributions),
        )

    @staticmethod
    def breakdown(prepared: PreparedQuery) -> dict[str, float]:
        """Each dimension's value from 0 to 1 for a prepared query (rounded to 3 places)."""
        # Only the instruction counts: pasted material makes a query long, not hard (its
        # size is ``volume``).
        instruction = prepared.instruction
        reasoning = _REASONING_DEPTH.scan(instruction)
        domain = _DOMAIN_TERMS.scan(instruction)
        raw_instruction = prepared.text[: len(instruction)]
        acronyms = {a for a in _ACRONYM.findall(raw_instruction) if a not in _COMMON_ACRONYMS}
        domain += min(1.0, 0.3 * len(acronyms))

        words = instruction.count(" ") + 1 + len(_CJK.findall(instruction)) // 2
        questions = instruction.count("?") + instruction.count("？")
        structure_raw = (
            0.12 * instruction.count(",")
            + 0.15 * instruction.count(" and ")
            + 0.12 * instruction.count(";")
            + 0.3 * max(0, questions - 1)
            + 0.25 * len(_LIST_ITEM.findall(instruction))
            + words / 30.0
        )

        context_raw = 0.0
        document_chars = 0
        if prepared.documents:
            document_chars = sum(len(d) for d in prepared.documents)
            context_raw = 0.3 * (len(prepared.documents) - 1) + _SYNTHESIS.scan(instruction)

        values = {
            "reasoning_depth": _saturate(reasoning),
            "domain_specificity": _saturate(domain, 0.5),
            "structure": _saturate(structure_raw, 0.6),
            "constraints": _saturate(_CONSTRAINTS.scan(instruction)),
            "output_detail": _saturate(_OUTPUT_DETAIL.scan(instruction)),
            "context_need": _saturate(context_raw),
            "volume": _saturate((prepared.payload_chars + document_chars) / 600.0),
            "brevity": _saturate(_BREVITY.scan(instruction), 1.5),
        }
        return {dimension: round(value, 3) for dimension, value in values.items()}


def _reason(
    score: float, tier: Tier, task: str | None, prior: float, contributions: dict[str, float]
) -> str:
    strongest = sorted(
        ((d, c) for d, c in contributions.items() if abs(c) >= 0.05),
        key=lambda item: abs(item[1]),
        reverse=True,
    )[:3]
    parts = ", ".join(f"{dimension} {contribution:+.1f}" for dimension, contribution in strongest)
    prior_text = f"{task} prior {prior:.1f}" if task is not None else f"default prior {prior:.1f}"
    return f"complexity {score:.1f} -> {tier}: {prior_text}" + (f", {parts}" if parts else "")
