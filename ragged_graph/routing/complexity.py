"""How hard a query is: a 0-10 score with a breakdown by dimension, and the tier it calls for.

The score is a task prior plus a weighted sum of dimensions, each measured from 0 to 1::

    score = task_prior[task] + sum(weight[d] * value[d] for d in dimensions)    (clamped 0-10)

=================== ====== ===============================================================
dimension           weight what raises it
=================== ====== ===============================================================
reasoning_depth      +4.45 proofs, derivations, analysis, trade-offs, design, "why"
domain_specificity   +3.75 expert vocabulary (consensus, eigenvalue, GDPR, iambic...)
structure            +3.5  a multi-part instruction: clauses, lists, several questions
output_detail        +3.5  asks for a long or thorough answer, or for a code artefact
constraints          +3.05 requirements the answer must meet (exactly, preserving, strict)
context_need         +2.15 several retrieved documents to combine, conflicts to reconcile
volume               task  the amount of material to work through (see below)
brevity              -1.25 asks for a short answer (one sentence, TL;DR, a haiku)
=================== ====== ===============================================================

Task priors run from 1.5 (reasoning, which its dimensions carry) to 3.15 (creative writing).
``volume`` matters by task: translating a long text is real work (3.15 at full volume),
summarising it less so (1.95), finding the one fact a long paste mentions is not
(extraction 0.6, general_qa 0.3); those two, and the 0.4 for tasks not listed, were fixed by
that reasoning rather than fitted.

Only the instruction counts for every dimension but ``volume``: a long pasted paragraph
makes a query long, not hard. The other weights and the task priors were fitted on the
tuning split of the golden set only (:mod:`ragged_graph.learning.golden`): ordinal hinge
loss on the tier bands (margin 0.3) plus an L2 pull (0.001) towards hand-set starting
values, minimised by coordinate descent, the regularisation chosen by 5-fold
cross-validation on that split (tier accuracy 0.90 out of fold). :data:`DEFAULT_WEIGHTS`
holds them.

Tiers follow :class:`TierThresholds`: below ``fast_below`` fast, below ``balanced_below``
balanced, else quality (SPEC section 2: 3.5 and 7.0 by default).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ragged_graph.routing.classifier import (
    Cue,
    CueIndex,
    DocumentLike,
    PreparedQuery,
    TaskClassification,
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
        weighted = [d for d in DIMENSIONS if d != "volume"]
        unknown = set(self.dimension_weights) - set(weighted)
        if unknown:
            raise ValueError(
                f"unknown complexity dimensions {sorted(unknown)} in dimension_weights; "
                f"expected some of {weighted} (volume is weighted by volume_weights)"
            )
        return self


DEFAULT_WEIGHTS: Final = ComplexityWeights(
    dimension_weights={
        "reasoning_depth": 4.45,
        "domain_specificity": 3.75,
        "structure": 3.5,
        "constraints": 3.05,
        "output_detail": 3.5,
        "context_need": 2.15,
        "brevity": -1.25,
    },
    task_priors={
        TaskType.CODE_GENERATION: 2.6,
        TaskType.MATH: 2.85,
        TaskType.REASONING: 1.5,
        TaskType.SUMMARISATION: 2.35,
        TaskType.CREATIVE: 3.15,
        TaskType.EXTRACTION: 2.4,
        TaskType.TRANSLATION: 2.65,
        TaskType.QUERY_REWRITING: 2.55,
        TaskType.RAG_QUERY: 2.0,
        TaskType.GENERAL_QA: 2.25,
    },
    volume_weights={
        TaskType.TRANSLATION: 3.15,
        TaskType.SUMMARISATION: 1.95,
        TaskType.CODE_GENERATION: 1.0,
        TaskType.CREATIVE: 0.95,
        TaskType.EXTRACTION: 0.6,
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

    breakdown: dict[str, float]
    """Each dimension's value from 0 to 1 (see :data:`DIMENSIONS`)."""

    task_prior: float
    """The points the task type contributed before any dimension."""

    reason: str
    """The strongest contributions, in words."""


# --------------------------------------------------------------------------- dimension patterns

_W = Cue.words

_EXPERT_VOCABULARY: Final = (
    # distributed systems and concurrency
    "distributed/consensus/byzantine/raft/paxos/crdt/crdts/linearizab*/"
    "serializab*/failover | lock/wait free | multi region | active active",
    "atomic/atomics/concurrency/concurrent/mutex/mutexes/deadlock/deadlocks/fault/"
    "faults | memory ordering/model | race condition/conditions"
    " | fault toleran* | thread safe | multi producer",
    "partition*/replication/sharding/consistency/idempoten*/heartbeat/heartbeats/"
    "backoff | eventual consistency | exactly once | at least once | write ahead"
    " | leader election | rate limit*",
    "latency/throughput/p99/scalab*/occupancy/simd/cuda/kernel | shared memory",
    "bytecode/interpreter/parser/compiler/tokenizer/closures/btree/lru/halting/backtracking/"
    "allocator/scheduler/jit/automaton/automata | regex engine | state machine"
    " | virtual machine | operating system | file system | query optimizer"
    " | garbage collect* | write barrier/barriers | b tree | big o | np hard/complete",
    "microservice/microservices/monolith/cqrs/mvcc/spanner/redis | event sourcing"
    " | cache invalidation | query plan | transaction isolation | load balanc*"
    " | cap theorem",
    "cryptograph*/homomorphic/oauth/tls/embedding/embeddings/transformer/"
    "backprop*/gradient | public key | zero knowledge | differential privacy",
    # mathematics
    "eigen*/integral/integrals/derivative/derivatives/theorem/lemma/abelian/"
    "topolog*/manifold/irrational/induction | differential equation/equations"
    " | group of order | generating function/functions",
    "converg*/diverg*/compact/bounded/monotone/fourier/laplace/stochastic/markov/"
    "combinatori*/asymptotic*/primes | completeness axiom | continuous function"
    " | measure theory | real analysis | number theory | modular arithmetic"
    " | harmonic series",
    "bayes*/posterior/frequentist/regression/covariance/variance/probability"
    " | hypothesis test* | p value/values | standard deviation"
    " | expected number/value",
    # economics, finance, policy
    "macroeconom*/inflation/fiscal/stagflation/wto/tariff/tariffs/geopolit*"
    " | monetary policy | labour/labor supply | land value tax"
    " | universal basic income | carbon border/leakage | trade routes | global trade",
    "runway/churn/valuation/liquidity/solvency/guidance/hedging | unit economics"
    " | discounted cash flow | bull/bear case | supply chain/chains | gross margin",
    # law
    "gdpr/statut*/liabilit*/indemn*/jurisdiction/tort/patent/fiduciary/compliance/"
    "regulatory/erasure/exemption/exemptions | liquidated damages"
    " | civil/common/case law | claim scope | data protection"
    " | legal/legally equivalent/position/terminology",
    # medicine and science
    "clinical/pharmacolog*/contraindicat*/confound*/randomi*/cohort/placebo/mesh/"
    "emtree/epidemiolog*/mechanism/mechanisms/causality | adverse event"
    " | drug interaction/interactions | meta analys* | effect size/sizes"
    " | statistical validity | systematic review | treatment resistant | who umc",
    "crispr/genom*/quantum/relativity/thermodynamic*/entropy/electrolyte/"
    "electrolytes/semiconductor*/extinction/longevity | protein folding"
    " | solid state | climate model/change | sea level/levels",
    # humanities and craft
    "epistemolog*/ontolog*/metaphysic*/utilitarian*/kant/kant's/deontolog*/"
    "phenomenolog*/socratic/governance/alignment",
    "iambic/pentameter/acrostic/villanelle/alexandrine/keigo/register/subtext/"
    "foreshadowing/allusion/allusions/literary/refrain/refrains/worldbuilding"
    " | rhyme scheme | unreliable narrator | world building | character arc/arcs",
)
"""Expert vocabulary by field; every distinct term found adds to domain_specificity."""


_DIMENSION_CUES: Final = CueIndex(
    {
        "reasoning_depth": (
            _W(
                "prove/proof/derive/rigorous*/justify*/critically/steelman/implications/"
                "scenarios/apprais*/causal*/architect*/reconcil*/contradict*/evaluat*/assess*/"
                "analyse/analyses/analysed/analysing/analysis/analyze/analyzes/analyzed/"
                "analyzing/consequences/strateg*/undecidable/deduction/tradeoff/tradeoffs"
                " | demonstrate/show that | first principles | second order | trade off/offs"
                " | root cause/causes | decision framework | failure modes"
                " | threat/threats to validity | design/designing a/an/the | reason through"
                " | think through | what would happen",
                1.0,
            ),
            _W(
                "why/warum/pourquoi/perché | por qué | step by step"
                " | explain each/every/why/how/your",
                0.5,
                key="why",
            ),
            Cue.substrings(("为什么", "なぜ"), 0.5, key="why"),
            _W(
                "compare/comparison/versus/vs/difference/differences/explain/plan/decide/"
                "considering/balancing/impact/optimis*/optimiz*/diagnos*/interpret*/weigh*/"
                "decompose"
                " | pros and cons | differences/difference between | how does | how do !i/you/we/u"
                " | should i/we | effect/effects of/on | in common | is it better | better to"
                " | worth it",
                0.5,
            ),
            _W("whether | what if", 0.25),
            _W("demuestra/démontre/beweise/analiza*/diseña*/analysier*", 1.0, key="foreign"),
            Cue.substrings(("证明", "分析"), 1.0, key="foreign"),
        ),
        "domain_specificity": (
            *(_W(spec, 1.0) for spec in _EXPERT_VOCABULARY),
            Cue.substrings(("o(1)", "o(n", "o(log"), 1.0),
            Cue.regex(r"\barticle \d+", 1.0, guard=("article",)),
            Cue.regex(r"[a-z]\s*\^\s*\d", 0.5, guard=("^",)),
            # Textbook vocabulary: specialised, but what a mid-sized model knows well.
            _W(
                "quicksort/mergesort/heapsort/dijkstra/algorithm/algorithms/recursion/tcp/udp/"
                "vaccine/vaccines/photosynthesis/capitalism/socialism/integrate/equation/"
                "equations/quadratic/gleichung/équation/ecuación/calculus"
                " | quick/merge/radix sort | dynamic programming | hash table/tables"
                " | red black | time/space complexity | data structure/structures"
                " | interest rate/rates | immune system",
                0.5,
            ),
        ),
        "constraints": (
            _W(
                "must/exactly/strict/strictly/preserv*/faithful*/equivalent/legally/idiomatic"
                " | correct under | follows/follow the form | thread safe | lock free",
                0.6,
                key="hard",
            ),
            Cue.substrings(("o(",), 0.6, key="hard"),
            _W(
                "without/only/consistent/typed | keep/keeping it/the/every/code | at least"
                " | at most | no more than | type hints | in the style of | that also"
                " | as closely as | across multiple",
                0.4,
                key="soft",
            ),
            Cue.regex(r"\b(?:under|within) \d", 0.4, guard=("<digit>",), key="soft"),
            Cue.regex(
                r"\b\d{1,9} (?:lines|characters|syllables|words|minutes)\b",
                0.6,
                guard=("<digit>",),
            ),
            _W("each/every", 0.25),
        ),
        "output_detail": (
            _W(
                "detailed/comprehensive/thorough*/exhaustive/expert/essay/report/chapter/"
                "chapters/bible/complete/full/timeline/season/episode/episodes/screenplay/novel"
                " | in detail | in depth | full working | expert level",
                1.0,
            ),
            _W(
                "outline/tests/benchmark*/json/discuss/document/structured/example/examples/"
                "quotes/evidence/propose/draft | with tests | unit tests | in/as/into a table"
                " | explain your/the/each/every/how/why | and explain | bullet points"
                " | show the | step by step | translator's/translator notes",
                0.5,
            ),
            _W(
                "paragraph/paragraphs/overview/story | history of | what are the/some"
                " | tell me about",
                0.3,
            ),
            Cue.near(
                "write/implement/build/create/make/generate",
                "function/functions/class/component/program/script/app/service/test/tests/"
                "parser/interpreter/kernel/engine/queue/cache/tree/workflow/pipeline/sort/"
                "dockerfile/makefile/endpoint/api/module | sql query",
                0.5,
                within=7,
                key="artifact",
            ),
            _W(
                "implement/implementiere/port/refactor/dockerfile/makefile | code up",
                0.5,
                key="artifact",
            ),
            Cue.substrings(("函数", "関数", "程序"), 0.5, key="artifact"),
        ),
        "brevity": (
            _W(
                "tldr | tl dr | one sentence/line/word | one liner | single word"
                " | in a nutshell | two sentences | yes or no | few words",
                1.0,
                key="terse",
            ),
            Cue.regex(r"\b\d{1,9} words or less\b", 1.0, guard=("words or less",), key="terse"),
            _W(
                "briefly/brief/short/quick/quickly/simple/simply/eli5/gist/tweet/caption/"
                "captions/just/haiku/limerick/slogan/tagline/joke/command/kurz/kurze/kurzen/"
                "kurzer/court/courte/corto/corta/breve"
                " | name/names for | one/two/three/four line/lines",
                0.5,
                key="short",
            ),
            Cue.regex(r"\b\d lines?\b", 0.5, guard=("<digit>",), key="short"),
            _W("how do i | how to | how can i | what does", 0.3),
        ),
        "synthesis": (
            _W(
                "across/reconcil*/contradict*/conflicting/disagree*/differ/compare/both"
                " | between these/the | in common | each study/document/source/report",
                0.5,
            ),
            _W("these/the two/three/four studies/documents/reports/sources/papers/incidents", 0.5),
        ),
    },
    count_distinct=("domain_specificity",),
)

_ACRONYM: Final = re.compile(r"\b[A-Z][A-Z0-9]{1,6}\b")
_LIST_ITEM: Final = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+\S", re.MULTILINE)
_SENTENCE_BREAKS: Final = ("\n", ". ", "! ", "? ", ": ")
_PREAMBLE_WEIGHT: Final = 0.15
_COMMON_ACRONYMS: Final = frozenset({"I", "OK", "US", "UK", "EU", "TV", "PM", "AM", "ID"})
_CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _clauses(text: str, words: int) -> float:
    """Evidence of a multi-part request: commas, conjunctions, semicolons and length."""
    return (
        0.12 * text.count(",") + 0.15 * text.count(" and ") + 0.12 * text.count(";") + words / 30.0
    )


def _structure(instruction: str, words: int, has_cjk: bool) -> float:
    """How many parts the request has.

    When the instruction ends in a question, that last sentence is the request and what
    comes before it is a preamble, which counts for less: "my friend and I argued about it
    at dinner, anyway: who painted the Mona Lisa?" asks one thing.
    """
    if has_cjk:
        words += len(_CJK.findall(instruction)) // 2
    questions = instruction.count("?") + instruction.count("？")
    extra_questions = 0.3 * max(0, questions - 1)
    closing = instruction.rstrip()
    if questions and closing.endswith(("?", "？")):
        cut = max(closing.rfind(b, 0, len(closing) - 1) for b in _SENTENCE_BREAKS)
        if cut > 0:
            ask = closing[cut:]
            ask_words = min(words, ask.count(" ") + 1)
            preamble = _clauses(closing[:cut], words - ask_words)
            return _clauses(ask, ask_words) + _PREAMBLE_WEIGHT * preamble + extra_questions
    return _clauses(instruction, words) + extra_questions


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
        _tiers()  # pay the one-off import of the Tier enum here, not on the first query
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
            breakdown=breakdown,
            task_prior=prior,
            reason=_reason(score, tier, task, prior, contributions),
        )

    @staticmethod
    def breakdown(prepared: PreparedQuery) -> dict[str, float]:
        """Each dimension's value from 0 to 1 for a prepared query (rounded to 3 places)."""
        # Only the instruction counts: pasted material makes a query long, not hard (its
        # size is ``volume``).
        instruction = prepared.instruction
        tokens = prepared.instruction_tokens
        cues = _DIMENSION_CUES.scan(
            instruction, tokens, has_digit=prepared.has_digit, has_cjk=prepared.has_cjk
        )

        def evidence(name: str) -> float:
            found = cues.get(name)
            return found.score if found is not None else 0.0

        raw_instruction = prepared.text[: len(instruction)]
        domain_cues = cues.get("domain_specificity")
        known = {m.text for m in domain_cues.matches} if domain_cues is not None else set()
        acronyms = {
            a
            for a in _ACRONYM.findall(raw_instruction)
            if a not in _COMMON_ACRONYMS and a.lower() not in known
        }
        domain = evidence("domain_specificity") + min(1.0, 0.3 * len(acronyms))

        structure_raw = _structure(instruction, len(tokens), prepared.has_cjk)
        structure_raw += 0.25 * len(_LIST_ITEM.findall(instruction))

        context_raw = 0.0
        document_chars = 0
        if prepared.documents:
            document_chars = sum(len(d) for d in prepared.documents)
            context_raw = 0.3 * (len(prepared.documents) - 1) + evidence("synthesis")

        values = {
            "reasoning_depth": _saturate(evidence("reasoning_depth")),
            "domain_specificity": _saturate(domain, 0.5),
            "structure": _saturate(structure_raw, 0.6),
            "constraints": _saturate(evidence("constraints")),
            "output_detail": _saturate(evidence("output_detail")),
            "context_need": _saturate(context_raw),
            "volume": _saturate((prepared.payload_chars + document_chars) / 600.0),
            "brevity": _saturate(evidence("brevity"), 1.5),
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
