"""How hard a query is: a 0-10 score with a breakdown by dimension, and the tier it calls for.

The score is a task prior plus a weighted sum of dimensions, each measured from 0 to 1::

    raw   = task_prior[task] + sum(weight[d] * value[d] for d in dimensions)
    score = cap_score(raw)     # raw itself up to 7; above, compressed towards 10

=================== ====== ===============================================================
dimension           weight what raises it
=================== ====== ===============================================================
reasoning_depth      +4.25 proofs, derivations, analysis, trade-offs, design, "why"
domain_specificity   +3.85 expert vocabulary (consensus, eigenvalue, GDPR, iambic...)
structure            +3.7  a multi-part instruction: clauses, lists, several questions
output_detail        +3.0  asks for a long or thorough answer, or for a code artefact
constraints          +2.3  requirements the answer must meet (exactly, preserving, strict)
context_need         +2.1  several retrieved documents to combine, conflicts to reconcile
volume               task  the amount of material to work through (see below)
brevity              -1.45 asks for a short answer (one sentence, TL;DR, a haiku)
steps                +4.5  the reasoning steps a problem sets up: its clauses, and quantities
                           defined by others (half, twice, three times as many, remaining)
choices              +6.5  the answer options of a multiple-choice question to weigh: their
                           length, options combining others ("both", "I and III"), options
                           telling directions apart ("increases" / "decreases")
=================== ====== ===============================================================

Task priors run from 1.85 (reasoning, which its dimensions carry) to 3.05 (creative writing).
``volume`` matters by task: translating a long text is real work (3.35 at full volume),
summarising it less so (1.95), finding the one fact a long paste mentions is not
(extraction 0.6, general_qa 0.3); those two, and the 0.4 for tasks not listed, were fixed by
that reasoning rather than fitted.

Only the instruction counts for every dimension but ``volume``: a long pasted paragraph
makes a query long, not hard. The first eight weights and the task priors were fitted on
the tuning split of the golden set only (:mod:`ragged_graph.learning.golden`): ordinal
hinge loss on the tier bands (margin 0.3) plus an L2 pull (0.003) towards the previous
values, minimised by coordinate descent, the regularisation chosen by 5-fold
cross-validation on that split (783 cases without a persona, including the 220 blind-written
``b`` cases; tier accuracy 0.883 out of fold, 0.885 fitted). :data:`DEFAULT_WEIGHTS` holds
them. A bare "why" adds little depth (0.25 of a cue): "why is the sky blue" asks for a
well-known cause; school calculus (derivative, integral) and entropy count as textbook
vocabulary, not expert.

Problems. ``steps`` counts only for a problem: a multiple-choice question, or an
instruction that gives at least two quantities (a rambling preamble to a simple question
has clauses, not steps). A multiple-choice question (lettered options on their own lines
closing the query, as exam questions come) is scored as a problem, not as a request: the
question before the options is the instruction, all of it (the scenario of a law question
is the problem, not pasted material), except a passage its first line points at ("This
question refers to the following information."), which is material; its answer is one
letter, so ``structure``, ``constraints``, ``output_detail`` and ``brevity`` are 0, and
the options count in ``choices`` alone.

The ``steps`` and ``choices`` weights were fitted on RouteLLM's real routing data (GSM8K
and MMLU, see ``../shared/data/routellm``), as a weak/strong router: the mean APGR of the two
sets, on condition that the golden tune split's accuracy does not drop and that each set's
median score stays in the balanced band (APGR depends only on the order of scores, so that
anchor sets their scale); 5-fold cross-validated APGR 0.63 (GSM8K) and 0.60 (MMLU), where
prompt length alone gets 0.60 and 0.575. ``scripts/calibrate_complexity.py`` runs that fit
and prints the figures. The constants inside the two dimensions (points per clause, words
per unit of options, which option words count) were chosen while exploring that data.

Tiers follow :class:`TierThresholds`: below ``fast_below`` fast, below ``balanced_below``
balanced, else quality (SPEC section 2: 3.5 and 7.0 by default). Up to :data:`SCORE_KNEE`
(7) the score is the weighted sum itself; above, :func:`cap_score` compresses it towards 10
instead of clipping it, so that the hardest queries keep their order (a clip made them all
10, and a router cannot rank ties).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ragged_graph.routing.classifier import TaskClassification
from ragged_graph.routing.cues import Cue, CueIndex
from ragged_graph.routing.query_text import CJK, WORD, DocumentLike, PreparedQuery, prepare_query
from ragged_graph.routing.task_types import TaskType
from ragged_graph.routing.tier_model import TierModel, tier_features

if TYPE_CHECKING:
    from ragged_graph.registry.cards import Tier

__all__ = [
    "DEFAULT_WEIGHTS",
    "DIMENSIONS",
    "SCORE_KNEE",
    "ComplexityAnalyser",
    "ComplexityAssessment",
    "ComplexityWeights",
    "TierThresholds",
    "cap_score",
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
    "steps",
    "choices",
)
"""The dimensions of the breakdown, in the order they are reported."""

SCORE_KNEE: Final = 7.0
"""Up to this the score is the weighted sum itself; above it the sum is compressed towards 10
(see :func:`cap_score`)."""


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
        "reasoning_depth": 4.25,
        "domain_specificity": 3.85,
        "structure": 3.7,
        "constraints": 2.3,
        "output_detail": 3.0,
        "context_need": 2.1,
        "brevity": -1.45,
        "steps": 4.5,
        "choices": 6.5,
    },
    task_priors={
        TaskType.CODE_GENERATION: 2.55,
        TaskType.MATH: 2.85,
        TaskType.REASONING: 1.85,
        TaskType.SUMMARISATION: 2.2,
        TaskType.CREATIVE: 3.05,
        TaskType.EXTRACTION: 2.3,
        TaskType.TRANSLATION: 2.5,
        TaskType.QUERY_REWRITING: 2.55,
        TaskType.RAG_QUERY: 1.9,
        TaskType.GENERAL_QA: 2.35,
    },
    volume_weights={
        TaskType.TRANSLATION: 3.35,
        TaskType.SUMMARISATION: 1.95,
        TaskType.CODE_GENERATION: 1.1,
        TaskType.CREATIVE: 0.95,
        TaskType.EXTRACTION: 0.6,
        TaskType.GENERAL_QA: 0.3,
    },
    default_volume_weight=0.4,
)
"""Weights and priors calibrated on the golden set's tuning split; ``steps`` and ``choices`` on
RouteLLM's GSM8K and MMLU data (see the module docstring)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ComplexityAssessment:
    """How hard a query is, why, and which tier that calls for."""

    score: float
    """Complexity from 0 (trivial) to 10 (hardest), rounded to two decimals."""

    tier: Tier
    """The tier the query calls for: the learned tier model's, or without one the score's
    under the analyser's thresholds."""

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
    "eigen*/theorem/lemma/abelian/"
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
    "crispr/genom*/quantum/relativity/thermodynamic*/electrolyte/"
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
                # A bare "why" asks for a cause, often a well-known one ("why is the sky blue").
                0.25,
                key="why",
            ),
            Cue.substrings(("为什么", "なぜ"), 0.25, key="why"),
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
                "equations/quadratic/gleichung/équation/ecuación/calculus/derivative/derivatives/"
                "integral/integrals/entropy"
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
            # Guarded by the words they need, rarer than a digit.
            Cue.regex(r"\b(?:under|within) \d", 0.4, guard=("under ", "within "), key="soft"),
            Cue.regex(
                r"\b\d{1,9} (?:lines|characters|syllables|words|minutes)\b",
                0.6,
                guard=(" lines", " characters", " syllables", " words", " minutes"),
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
            Cue.regex(r"\b\d lines?\b", 0.5, guard=(" line",), key="short"),
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
        # Quantities defined by another one: each is a step a word problem makes you take.
        "relations": (
            _W(
                "half/halves/twice/double/triple/thrice/third/thirds/quarter/quarters/fourth/"
                "fifth/remaining/remainder/average/ratio/proportion/fraction"
                " | times as/more/the/what | more/less/fewer than | as many/much | rest of",
                1.0,
            ),
        ),
    },
    count_distinct=("domain_specificity", "relations"),
)

_ACRONYM: Final = re.compile(r"\b[A-Z][A-Z0-9]{1,6}\b")
_LIST_ITEM: Final = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-*•])[ \t]+\S", re.MULTILINE)
_SENTENCE_BREAKS: Final = ("\n", ". ", "! ", "? ", ": ")
_PREAMBLE_WEIGHT: Final = 0.15
_DOMAIN_RATE: Final = 0.5
_COMMON_ACRONYMS: Final = frozenset({"I", "OK", "US", "UK", "EU", "TV", "PM", "AM", "ID"})

# Problems: word problems and multiple-choice questions (``steps`` and ``choices``).
_NUMBER_WORDS: Final = frozenset(
    {
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "fifteen", "twenty", "thirty", "forty", "fifty", "sixty", "hundred",
        "thousand", "million", "dozen", "half", "twice", "double", "triple",
    }
)  # fmt: skip
_MIN_QUANTITIES: Final = 2
# A clause break: a comma, semicolon, sentence end or "and" before a word, or a line break.
# Breaks between numbers ("2, 4, 4, 5") list data; they are not steps.
_CLAUSE_BREAK: Final = re.compile(r"(?:[,;]|[.?!](?=\s)|\band\b)[ \t]*(?=[a-z(\"'])|\n")
_STEPS_PER_CLAUSE: Final = 0.25
_STEPS_RATE: Final = 0.25
# Lettered answer options on their own lines: "A. ...", "b) ...", "(c) ...".
_OPTION_LINE: Final = re.compile(r"^[ \t]*\(?([a-h])[.)][ \t]+(\w+|\S)", re.MULTILINE)
# Lettered lines that all open with one of these are tasks to do, not answers to choose from.
_TASK_VERBS: Final = frozenset(
    {
        "prove", "derive", "show", "explain", "write", "compute", "calculate", "describe",
        "discuss", "compare", "design", "implement", "outline", "summarise", "summarize",
        "translate", "draft", "solve", "evaluate", "analyse", "analyze", "find", "list",
    }
)  # fmt: skip
_ANSWER_CUE: Final = "answer"
# A first line that points at material to follow ("This question refers to the following
# information."): the lines between it and the question are that material.
_POINTS_AT_MATERIAL: Final = re.compile(
    r"\b(?:following|below|passage|excerpt|extract|information|text|read)\b"
)
_WORDS_PER_CHOICE_UNIT: Final = 40.0
# Options that combine others ("both", "I and III", "true, false") ask for several
# judgements; options that differ in a direction or degree ("increases", "lower") must be
# told apart by working out the effect, not by recognising a fact.
_COMBINED_OPTION: Final = re.compile(
    r"\b(?:both|neither|all of the above|none of the above|(?:i|ii|iii|iv)(?:,| and) "
    r"(?:ii|iii|iv)|true, false|false, true|true, true|false, false)\b"
)
_COMBINED_OPTION_WEIGHT: Final = 1.0
_COMPARED_OPTION: Final = re.compile(
    r"\b(?:increase[sd]?|decrease[sd]?|higher|lower|greater|smaller|larger|more|less|fewer"
    r"|than)\b"
)
_COMPARED_OPTION_WEIGHT: Final = 0.5
# What a multiple-choice question does not have: its answer is the letter of an option, so
# nothing is asked of its length, form or parts (the options are its parts, see choices).
_NOT_FOR_CHOICES: Final = ("structure", "constraints", "output_detail", "brevity")


def _acronym_count(text: str, known: set[str]) -> int:
    """How many distinct acronyms ``text`` holds, leaving out common ones and the expert terms
    already counted (``known``, lowercase)."""
    if text.islower():
        return 0  # no capitals, as many queries are typed: nothing to look for
    return len(
        {a for a in _ACRONYM.findall(text) if a not in _COMMON_ACRONYMS and a.lower() not in known}
    )


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
        words += len(CJK.findall(instruction)) // 2
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
    """Map an open-ended evidence count onto 0-1, with diminishing returns, rounded to three
    places as the breakdown reports it."""
    return round(1.0 - math.exp(-rate * raw), 3) if raw > 0 else 0.0


def cap_score(raw: float) -> float:
    """Map the weighted sum onto the 0-10 scale: unchanged up to :data:`SCORE_KNEE`, then
    approaching 10 without reaching it, rounded to two decimals.

    A hard clip at 10 would give every query past it the same score, and a router could
    not rank them; the soft cap keeps their order. Up to the knee (7, the default quality
    threshold) the score is the sum itself, so the default tiers are as a clip gives them.
    """
    if raw <= SCORE_KNEE:
        return round(max(0.0, raw), 2)
    span = 10.0 - SCORE_KNEE
    return round(min(9.99, SCORE_KNEE + span * (1.0 - math.exp(-(raw - SCORE_KNEE) / span))), 2)


def _find_options(lowered: str) -> tuple[int, int]:
    """Where the answer options of a multiple-choice question are in ``lowered``, or (-1, -1).

    Options are lines opening with the letters a, b, ... in order (``A.``, ``b)``, ``(c)``;
    at least two), and they close the query: after the last one only the rest of that
    option, or a closing ``Answer:`` line, may follow. The end excludes that line. Lettered
    lines that all open with a task verb ("a) Prove ...", "b) Derive ...") are parts of a
    request, not options.
    """
    if "\n" not in lowered:
        return -1, -1
    start, expected, last_end = -1, "", 0
    tasks = True
    for match in _OPTION_LINE.finditer(lowered):
        label = match.group(1)
        if label == "a":
            start, expected, tasks = match.start(), "b", True
        elif start >= 0 and label == expected:
            expected = chr(ord(label) + 1)
        else:
            start = -1
            continue
        tasks = tasks and match.group(2) in _TASK_VERBS
        last_end = match.end()
    if start <= 0 or expected < "c" or tasks:
        return -1, -1
    closing = lowered.rstrip()
    last_line = closing.rfind("\n", last_end)
    if last_line < 0:
        return start, len(closing)
    if closing.startswith(_ANSWER_CUE, last_line + 1):
        return start, last_line
    return -1, -1


def _question_spans(lowered: str, start: int) -> tuple[tuple[int, int], ...]:
    """The spans of the question before options at ``start``: all of it, or, when its
    first line points at material that follows (a passage to read), that line and the
    question's last line, the material between them left out."""
    first_break = lowered.find("\n", 0, start)
    last_break = lowered.rfind("\n", 0, start - 1)
    if 0 < first_break < last_break and _POINTS_AT_MATERIAL.search(lowered, 0, first_break):
        return (0, first_break + 1), (last_break + 1, start)
    return ((0, start),)


def _steps(statement: str, tokens: Sequence[str], relations: float, *, problem: bool) -> float:
    """Evidence of the reasoning steps a problem takes: its clauses and related quantities.

    Counted for problems only (a multiple-choice question, or a statement giving at least
    two quantities); a rambling preamble to a simple question has clauses but no steps.
    """
    if not problem:
        quantities = sum(1 for t in tokens if t[0].isdigit() or t in _NUMBER_WORDS)
        if quantities < _MIN_QUANTITIES:
            return 0.0
    return _STEPS_PER_CLAUSE * len(_CLAUSE_BREAK.findall(statement)) + relations


def _choices(options: str) -> float:
    """Evidence of the work of choosing an answer: the length of the options, and options
    that combine others or differ only in a direction or degree."""
    return (
        len(WORD.findall(options)) / _WORDS_PER_CHOICE_UNIT
        + _COMBINED_OPTION_WEIGHT * len(_COMBINED_OPTION.findall(options))
        + _COMPARED_OPTION_WEIGHT * len(_COMPARED_OPTION.findall(options))
    )


class ComplexityAnalyser:
    """Scores how hard a query is (0-10) and maps the score onto a tier.

    ``thresholds`` decide the tiers; ``weights`` the score (default: calibrated values).
    """

    __slots__ = ("_by_task", "_thresholds", "_tier_model", "_weights")

    def __init__(
        self,
        thresholds: TierThresholds | None = None,
        *,
        weights: ComplexityWeights | None = None,
        tier_model: TierModel | None = None,
    ) -> None:
        self._thresholds = thresholds or TierThresholds()
        self._tier_model = tier_model
        self._weights = weights or DEFAULT_WEIGHTS
        _tiers()  # pay the one-off import of the Tier enum here, not on the first query
        weights = self._weights
        known = {None, *weights.task_priors, *weights.volume_weights}
        self._by_task = {task: self._task_weights(task) for task in known}

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
        by_task = self._by_task.get(task)
        prior, dimension_weights = by_task if by_task is not None else self._task_weights(task)
        contributions = {
            dimension: dimension_weights[dimension] * value
            for dimension, value in breakdown.items()
        }
        score = cap_score(prior + sum(contributions.values()))
        tier = self._thresholds.tier_for(score)
        reason = _reason(score, tier, task, prior, contributions)
        if self._tier_model is not None:
            guess = self._tier_model.guess(
                tier_features(breakdown, task or "", score, prepared.length)
            )
            if guess.tier is not tier:
                reason = (
                    f"{reason}; the learned tier model reads {guess.tier} "
                    f"(p {guess.probability:.2f})"
                )
            tier = guess.tier
        return ComplexityAssessment(
            score=score, tier=tier, breakdown=breakdown, task_prior=prior, reason=reason
        )

    def _task_weights(self, task: str | None) -> tuple[float, dict[str, float]]:
        """The prior of ``task`` and each dimension's weight for it (``volume``'s depends on
        the task); worked out up front for the task types the weights name."""
        weights = self._weights
        if task is None:
            prior, volume = weights.default_task_prior, weights.default_volume_weight
        else:
            prior = weights.task_priors.get(task, weights.default_task_prior)
            volume = weights.volume_weights.get(task, weights.default_volume_weight)
        return prior, {
            dimension: volume
            if dimension == "volume"
            else weights.dimension_weights.get(dimension, 0.0)
            for dimension in DIMENSIONS
        }

    @property
    def tier_model(self) -> TierModel | None:
        """The learned tier model that decides the tier (None: the thresholds do)."""
        return self._tier_model

    @staticmethod
    def breakdown(prepared: PreparedQuery) -> dict[str, float]:
        """Each dimension's value from 0 to 1 for a prepared query (rounded to 3 places)."""
        # Only the instruction counts: pasted material makes a query long, not hard (its
        # size is ``volume``).
        instruction = prepared.instruction
        tokens = prepared.instruction_tokens
        raw_instruction = prepared.text[: len(instruction)]
        payload_chars = prepared.payload_chars
        options = ""
        start, end = _find_options(prepared.lowered)
        if start > 0:
            # A multiple-choice question: the question before the options is the
            # instruction, all of it (a scenario to reason about is the problem, not pasted
            # material), except a passage it points at; the options are weighed apart.
            spans = _question_spans(prepared.lowered, start)
            instruction = "".join(prepared.lowered[a:b] for a, b in spans)
            raw_instruction = "".join(prepared.text[a:b] for a, b in spans)
            tokens = tuple(WORD.findall(instruction))
            payload_chars = spans[-1][0] - spans[0][1] if len(spans) > 1 else 0
            options = prepared.lowered[start:end]
        cues = _DIMENSION_CUES.scan(
            instruction, tokens, has_digit=prepared.has_digit, has_cjk=prepared.has_cjk
        )
        # Each group's score, 0 where nothing matched.
        evidence = dict.fromkeys(_DIMENSION_CUES.names, 0.0)
        evidence.update((name, found.score) for name, found in cues.items())
        domain_cues = cues.get("domain_specificity")
        known = {m.text for m in domain_cues.matches} if domain_cues is not None else set()
        acronyms = _acronym_count(raw_instruction, known)
        domain = evidence["domain_specificity"] + min(1.0, 0.3 * acronyms)

        structure_raw = _structure(instruction, len(tokens), prepared.has_cjk)
        structure_raw += 0.25 * len(_LIST_ITEM.findall(instruction))

        context_raw = 0.0
        document_chars = 0
        if prepared.documents:
            document_chars = sum(len(d) for d in prepared.documents)
            context_raw = 0.3 * (len(prepared.documents) - 1) + evidence["synthesis"]

        steps_raw = _steps(instruction, tokens, evidence["relations"], problem=bool(options))
        values = {
            "reasoning_depth": _saturate(evidence["reasoning_depth"]),
            "domain_specificity": _saturate(domain, _DOMAIN_RATE),
            "structure": _saturate(structure_raw, 0.6),
            "constraints": _saturate(evidence["constraints"]),
            "output_detail": _saturate(evidence["output_detail"]),
            "context_need": _saturate(context_raw),
            "volume": _saturate((payload_chars + document_chars) / 600.0),
            "brevity": _saturate(evidence["brevity"], 1.5),
            "steps": _saturate(steps_raw, _STEPS_RATE),
            "choices": _saturate(_choices(options)) if options else 0.0,
        }
        if options:
            for dimension in _NOT_FOR_CHOICES:
                values[dimension] = 0.0
        return values


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
