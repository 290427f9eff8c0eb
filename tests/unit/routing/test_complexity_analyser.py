"""ComplexityAnalyser: SPEC examples, long-but-easy and short-but-hard, monotonicity, tiers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ragged_graph.registry.cards import Tier
from ragged_graph.routing.classifier import TaskClassifier
from ragged_graph.routing.complexity import (
    DEFAULT_WEIGHTS,
    DIMENSIONS,
    ComplexityAnalyser,
    ComplexityAssessment,
    ComplexityWeights,
    TierThresholds,
    cap_score,
)
from ragged_graph.routing.query_text import prepare_query
from ragged_graph.routing.task_types import TaskType

CANBERRA = (
    "Canberra is the capital city of Australia. It was created after the colonies federated, "
    "to serve as the seat of government, and it is the largest inland city. The site was "
    "picked in 1908 as a compromise between Sydney and Melbourne. It is an entirely planned "
    "city, designed by Walter Burley Griffin and Marion Mahony Griffin after an international "
    "competition, and building work began in 1913. The plan drew on the garden city movement "
    "and keeps large areas of natural bushland inside the city."
)


@pytest.fixture(scope="module")
def classifier() -> TaskClassifier:
    return TaskClassifier()


@pytest.fixture(scope="module")
def analyser() -> ComplexityAnalyser:
    return ComplexityAnalyser()


def assess(
    classifier: TaskClassifier,
    analyser: ComplexityAnalyser,
    query: str,
    documents: list[str] | None = None,
) -> ComplexityAssessment:
    prepared = prepare_query(query, documents)
    return analyser.assess(prepared, task_type=classifier.classify(prepared))


# --------------------------------------------------------------------------- SPEC examples


def test_spec_architecture_tradeoffs_are_quality(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    result = assess(
        classifier,
        analyser,
        "Analyse the architectural trade-offs between microservices and a monolith for a "
        "payments platform, considering consistency, latency, team structure and failure modes",
    )
    assert result.score > 7.0
    assert result.tier is Tier.QUALITY


def test_spec_quicksort_comparison_is_balanced_between_4_and_6(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    result = assess(classifier, analyser, "explain quicksort and compare it with mergesort")
    assert 4.0 <= result.score <= 6.0
    assert result.tier is Tier.BALANCED


def test_spec_what_is_paris_is_fast(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    assert assess(classifier, analyser, "What is Paris?").tier is Tier.FAST


# --------------------------------------------------------------------------- length is not hardness


@pytest.mark.parametrize(
    "query",
    [
        CANBERRA + "\n\nwhat is the capital mentioned here?",
        "I copied this from a book, it's long: "
        + CANBERRA
        + " "
        + CANBERRA
        + "\n\nwho designed the city?",
        "hey so i've been meaning to ask, my friend and i argued about it at dinner and we "
        "both got heated, she said one thing and i said another, anyway: what year did the "
        "berlin wall fall?",
    ],
    ids=["capital-mentioned-here", "who-designed", "rambling-chit-chat"],
)
def test_long_but_easy_scores_low(
    classifier: TaskClassifier, analyser: ComplexityAnalyser, query: str
) -> None:
    result = assess(classifier, analyser, query)
    assert result.score < 3.5, result.reason
    assert result.tier is Tier.FAST


@pytest.mark.parametrize(
    "query",
    [
        "Prove that there are infinitely many primes",
        "Design a distributed consensus protocol tolerant to byzantine faults",
        "Prove Fermat's little theorem",
    ],
)
def test_short_but_hard_scores_high(
    classifier: TaskClassifier, analyser: ComplexityAnalyser, query: str
) -> None:
    result = assess(classifier, analyser, query)
    assert result.score >= 7.0, result.reason
    assert result.tier is Tier.QUALITY


def test_a_bare_expert_code_request_scores_at_the_top_of_balanced(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    # Refitted on the larger tune split (with the b-cases), the weights put a six-word
    # request for an expert artefact just under the quality threshold; the golden cases
    # that spell the same task out (atomics, memory ordering, producers) are quality.
    result = assess(classifier, analyser, "Implement a lock-free queue in C++")
    assert result.score >= 6.5, result.reason
    longer = assess(
        classifier,
        analyser,
        "Implement a lock-free multi-producer multi-consumer queue in C++ using atomics, "
        "and explain the memory ordering you chose",
    )
    assert longer.tier is Tier.QUALITY, longer.reason


# --------------------------------------------------------------------------- monotonic sanity


def test_adding_depth_never_lowers_the_score(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    steps = [
        "compare postgres and mongodb",
        "compare postgres and mongodb for a small e-commerce site",
        "compare postgres and mongodb for a small e-commerce site, considering consistency "
        "and replication",
        "critically analyse the trade-offs between postgres and mongodb for a small e-commerce "
        "site, considering consistency, replication, sharding and failure modes, with a "
        "decision framework",
    ]
    scores = [analyser.assess(step, task_type=TaskType.REASONING).score for step in steps]
    assert scores == sorted(scores), scores
    assert scores[-1] - scores[0] >= 3.0


def test_asking_for_brevity_lowers_the_score(analyser: ComplexityAnalyser) -> None:
    plain = analyser.assess("explain how vaccines work", task_type=TaskType.REASONING)
    brief = analyser.assess(
        "explain how vaccines work in one sentence", task_type=TaskType.REASONING
    )
    assert brief.score < plain.score
    assert brief.breakdown["brevity"] > 0


def test_translating_more_text_is_harder(analyser: ComplexityAnalyser) -> None:
    sentence = analyser.assess("translate to french: good morning", task_type="translation")
    email = analyser.assess("translate to french: " + CANBERRA, task_type=TaskType.TRANSLATION)
    assert email.score > sentence.score
    assert email.breakdown["volume"] > sentence.breakdown["volume"]


def test_more_documents_to_reconcile_need_more_context(analyser: ComplexityAnalyser) -> None:
    one = analyser.assess("who founded it?", task_type=TaskType.RAG_QUERY, documents=["a"])
    many = analyser.assess(
        "reconcile the conflicting figures across these three reports",
        task_type=TaskType.RAG_QUERY,
        documents=["a", "b", "c"],
    )
    assert many.breakdown["context_need"] > one.breakdown["context_need"]


# --------------------------------------------------------------------------- problems

RAMBLING = (
    "hey so i've been meaning to ask, my friend and i argued about it at dinner and we both "
    "got heated, she said one thing and i said another, anyway: what year did the berlin wall "
    "fall?"
)


def test_quantities_defined_by_others_are_more_steps(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    plain = assess(
        classifier,
        analyser,
        "Tom has 12 apples. He gives 4 to Ann and buys 3 more. How many apples does he have now?",
    )
    related = assess(
        classifier,
        analyser,
        "Tom has 12 apples. He gives half of them to Ann and buys twice as many as he gave "
        "away. How many apples does he have now?",
    )
    assert 0.0 < plain.breakdown["steps"] < related.breakdown["steps"]
    assert plain.score < related.score


def test_a_preamble_without_quantities_is_not_steps(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    result = assess(classifier, analyser, RAMBLING)
    assert result.breakdown["steps"] == 0.0
    assert result.tier is Tier.FAST


def test_a_list_of_numbers_is_data_not_steps(analyser: ComplexityAnalyser) -> None:
    result = analyser.assess(
        "what's the standard deviation of 2, 4, 4, 4, 5, 5, 7, 9", task_type="math"
    )
    assert result.breakdown["steps"] == 0.0


def test_multiple_choice_options_are_weighed_in_choices(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    recall = assess(
        classifier,
        analyser,
        "Who designed Canberra?\nA. Walter Burley Griffin\nB. Lachlan Macquarie\n"
        "C. John Nash\nD. Le Corbusier\nAnswer:",
    )
    effects = assess(
        classifier,
        analyser,
        "If the demand for a good rises while its supply is unchanged, the equilibrium price\n"
        "A. increases and the quantity sold decreases\nB. increases and the quantity sold "
        "increases\nC. decreases and the quantity sold increases\nD. decreases and the "
        "quantity sold decreases\nAnswer:",
    )
    assert 0.0 < recall.breakdown["choices"] < effects.breakdown["choices"]
    assert recall.score < effects.score
    # The answer is a letter: nothing is asked of its length, form or parts.
    for dimension in ("structure", "constraints", "output_detail", "brevity"):
        assert effects.breakdown[dimension] == 0.0
    brief = assess(
        classifier,
        analyser,
        "Briefly, in one sentence: which is the largest planet?\nA. Mars\nB. Jupiter\n"
        "C. Venus\nD. Earth\nAnswer:",
    )
    assert brief.breakdown["brevity"] == 0.0


def test_lettered_tasks_are_not_answer_options(analyser: ComplexityAnalyser) -> None:
    result = analyser.assess(
        "Two exercises:\na) Prove that the square root of 2 is irrational\n"
        "b) Derive the quadratic formula",
        task_type="math",
    )
    assert result.breakdown["choices"] == 0.0


def test_options_must_close_the_query(analyser: ComplexityAnalyser) -> None:
    result = analyser.assess(
        "Compare these databases:\na. postgres\nb. mongodb\nc. sqlite\n"
        "Then recommend one for a small shop and explain the trade-offs.",
        task_type="reasoning",
    )
    assert result.breakdown["choices"] == 0.0


def test_a_passage_a_question_points_at_is_material(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    question = (
        "\nWho designed the city?\nA. Walter Burley Griffin and Marion Mahony Griffin\n"
        "B. Sydney and Melbourne\nC. The colonies\nD. An international competition\nAnswer:"
    )
    pointed = assess(
        classifier,
        analyser,
        "This question refers to the following information.\n" + CANBERRA + question,
    )
    scenario = assess(classifier, analyser, CANBERRA + question)
    assert pointed.breakdown["volume"] > 0.0
    assert scenario.breakdown["volume"] == 0.0
    assert pointed.breakdown["steps"] < scenario.breakdown["steps"]
    assert pointed.score < scenario.score


def test_scores_past_the_knee_keep_their_order() -> None:
    assert cap_score(-1.0) == 0.0
    assert cap_score(3.456) == 3.46
    assert cap_score(7.0) == 7.0
    above = [cap_score(raw) for raw in (7.5, 9.0, 11.0, 14.0)]
    assert above == sorted(above)
    assert len(set(above)) == len(above)
    assert all(7.0 < score < 10.0 for score in above)


# --------------------------------------------------------------------------- result shape


def test_breakdown_covers_every_dimension_within_0_and_1(
    classifier: TaskClassifier, analyser: ComplexityAnalyser
) -> None:
    result = assess(classifier, analyser, "Write a B-tree in Java with unit tests")
    assert tuple(result.breakdown) == DIMENSIONS
    assert all(0.0 <= value <= 1.0 for value in result.breakdown.values())
    assert 0.0 <= result.score <= 10.0
    assert result.score == round(result.score, 2)
    assert result.task_prior == DEFAULT_WEIGHTS.task_priors[TaskType.CODE_GENERATION]
    assert result.reason.startswith(f"complexity {result.score:.1f} -> {result.tier}")


def test_score_follows_the_documented_formula(analyser: ComplexityAnalyser) -> None:
    task = TaskType.TRANSLATION
    result = analyser.assess("translate this contract clause into German exactly", task_type=task)
    weights = DEFAULT_WEIGHTS
    expected = weights.task_priors[task] + sum(
        (weights.volume_weights[task] if d == "volume" else weights.dimension_weights[d]) * v
        for d, v in result.breakdown.items()
    )
    assert result.score == pytest.approx(cap_score(expected), abs=0.02)


def test_unknown_and_missing_task_types_use_the_default_prior(
    analyser: ComplexityAnalyser,
) -> None:
    custom = analyser.assess("review this clause", task_type="legal_review")
    none = analyser.assess("review this clause")
    assert custom.task_prior == none.task_prior == DEFAULT_WEIGHTS.default_task_prior


def test_custom_thresholds_move_the_tier() -> None:
    strict = ComplexityAnalyser(TierThresholds(fast_below=1.0, balanced_below=2.0))
    assert strict.assess("What is Paris?", task_type="general_qa").tier is Tier.QUALITY


def test_custom_weights_are_used() -> None:
    flat = DEFAULT_WEIGHTS.model_copy(
        update={"task_priors": {}, "default_task_prior": 0.0, "dimension_weights": {}}
    )
    result = ComplexityAnalyser(weights=flat).assess("Prove that 2 is prime", task_type="math")
    assert result.score == 0.0


def test_unknown_dimension_weight_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown complexity dimensions"):
        ComplexityWeights(dimension_weights={"vibes": 1.0}, task_priors={}, volume_weights={})


# --------------------------------------------------------------------------- thresholds


def test_default_thresholds_match_the_spec() -> None:
    thresholds = TierThresholds()
    assert (thresholds.fast_below, thresholds.balanced_below) == (3.5, 7.0)
    assert thresholds.tier_for(3.49) is Tier.FAST
    assert thresholds.tier_for(3.5) is Tier.BALANCED
    assert thresholds.tier_for(6.99) is Tier.BALANCED
    assert thresholds.tier_for(7.0) is Tier.QUALITY


@pytest.mark.parametrize(
    ("fast_below", "balanced_below"),
    [(5.0, 5.0), (6.0, 4.0), (-0.1, 5.0), (3.0, 10.1)],
)
def test_invalid_thresholds_are_rejected(fast_below: float, balanced_below: float) -> None:
    with pytest.raises(ValidationError):
        TierThresholds(fast_below=fast_below, balanced_below=balanced_below)


def test_thresholds_are_frozen_and_strict() -> None:
    thresholds = TierThresholds()
    with pytest.raises(ValidationError):
        thresholds.fast_below = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TierThresholds(fast=1.0)  # type: ignore[call-arg]


def test_edges_are_allowed() -> None:
    thresholds = TierThresholds(fast_below=0.0, balanced_below=10.0)
    assert thresholds.tier_for(0.0) is Tier.BALANCED
    assert thresholds.tier_for(10.0) is Tier.QUALITY
